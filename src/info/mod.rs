//! Fisher information: the closed form by the score-identity route, numerically otherwise;
//! its three forms; KL divergence.

pub mod fisher;
mod kinked;
pub mod kl;
pub mod numeric;

pub use fisher::{ClosedForm, closed_form, jeffreys};
pub use kl::{ClosedKl, closed_kl};
pub use numeric::{
    FisherAt, Forms, InfoError, KlHessians, Method, fisher_at, kl_hessians, kl_numeric,
};

use crate::expect::exact::RouteError;
use crate::expr::Expr;
use crate::model::Model;
use crate::simplify::Facts;
use crate::simplify::{Derivatives, derive};

/// Everything `fisher derive` reports: derivatives, the Fisher matrix in closed form when
/// the score-identity route applies (else why not), and the Jeffreys prior.
#[derive(Debug, Clone)]
pub struct Derivation {
    /// Simplified log-density, score and Hessian.
    pub derivatives: Derivatives,
    /// The closed-form Fisher matrix, or why the route does not apply (then `F` is only
    /// available numerically, at a point).
    pub fisher: Result<ClosedForm, RouteError>,
    /// `√det F` when `F` is in closed form (up to 4 parameters).
    pub jeffreys: Option<Expr>,
}

/// Derives score, Hessian, Fisher matrix and Jeffreys prior of a model.
pub fn derivation(model: &Model) -> Derivation {
    let derivatives = derive(model);
    let fisher = closed_form(model);
    let jeffreys = fisher
        .as_ref()
        .ok()
        .and_then(|f| jeffreys(&f.matrix, &Facts::of(model)));
    Derivation {
        derivatives,
        fisher,
        jeffreys,
    }
}
