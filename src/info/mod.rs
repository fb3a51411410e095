//! Fisher information: the closed form by the score-identity route, numerically otherwise;
//! its three forms; KL divergence.

pub(crate) mod check;
mod closed_tapes;
mod field;
mod fisher;
mod kinked;
mod kl;
mod kl_field;
pub(crate) mod numeric;
mod prepared;
mod types;
pub mod verify;

pub use field::{FieldDerivatives, FieldOptions, FisherField};
pub(crate) use fisher::determinant;
pub use fisher::{ClosedForm, MAX_JEFFREYS_BLOCK, closed_form, jeffreys};
pub use kl::{ClosedKl, closed_kl};
pub use kl_field::{Divergence, KlField, KlReport, kl_between};
pub use numeric::{
    FisherAt, Forms, HessianMethod, InfoError, KinkError, KlHessians, Method, NumericForms,
    fisher_at, kl_hessians,
};
pub(crate) use types::check_theta;
pub use verify::Verification;

use crate::expect::exact::RouteError;
use crate::expr::Expr;
use crate::model::Model;
use crate::simplify::Facts;
use crate::simplify::{Derivatives, derive};

/// Everything `fisher derive` reports: derivatives, the Fisher matrix in closed form when
/// the score-identity route applies (else why not), and the Jeffreys prior, each closed
/// form verified against quadrature ([`verify`]).
#[derive(Debug, Clone)]
pub struct Derivation {
    /// Simplified log-density, score and Hessian.
    pub derivatives: Derivatives,
    /// What the score-identity route gave: the closed-form Fisher matrix, or why the route
    /// does not apply. Use [`Derivation::closed`], which also requires verification.
    pub fisher: Result<ClosedForm, RouteError>,
    /// How the closed form was verified (`None` when the route does not apply).
    pub verification: Option<Verification>,
    /// `√det F` when `F` is in closed form and verified (up to 6×6 blocks).
    pub jeffreys: Option<Expr>,
    /// How the Jeffreys density was verified against `det F` (`None` without one).
    pub jeffreys_verification: Option<Verification>,
    /// Checks of the model (`∫p = 1`, `E[s] = 0`) that quadrature could not make, and why;
    /// `None` when they were made (or verification was skipped).
    pub skipped_checks: Option<String>,
}

impl Derivation {
    /// The closed-form Fisher matrix, if the route applies and it did not fail verification.
    pub fn closed(&self) -> Option<&ClosedForm> {
        let usable = self.verification.as_ref().is_none_or(Verification::usable);
        self.fisher.as_ref().ok().filter(|_| usable)
    }

    /// Why there is no closed form to report: the route's reason, or the failed
    /// verification.
    pub fn reason(&self) -> Option<String> {
        match (&self.fisher, &self.verification) {
            (Err(why), _) => Some(why.to_string()),
            (Ok(_), Some(Verification::Failed(m))) => {
                Some(format!("the closed form failed verification: {m}"))
            }
            _ => None,
        }
    }
}

/// Derives score, Hessian, Fisher matrix and Jeffreys prior of a model, and verifies the
/// closed forms against quadrature.
///
/// # Errors
///
/// An [`InfoError`] when quadrature shows the model is at fault: it does not integrate to 1,
/// its score does not have mean 0, or it is not finite inside its support.
pub fn derivation(model: &Model) -> Result<Derivation, InfoError> {
    derivation_opts(model, true)
}

/// [`derivation`], with verification optional (`verify = false` is `--no-verify`: no
/// quadrature at all, and the closed forms are reported unverified).
///
/// # Errors
///
/// As [`derivation`].
pub fn derivation_opts(model: &Model, verify: bool) -> Result<Derivation, InfoError> {
    let derivatives = derive(model);
    let fisher = closed_form(model);
    let mut skipped_checks = None;
    let verification = match (&fisher, verify) {
        (Ok(f), true) => Some(verify::verify_fisher(model, &derivatives, f, &[])?),
        (Ok(_), false) => Some(Verification::Skipped),
        (Err(_), true) => {
            skipped_checks = check_model(model, &derivatives)?;
            None
        }
        (Err(_), false) => None,
    };
    if let Some(v @ Verification::Unchecked { reason, .. }) = &verification {
        if v.nothing_checked() {
            return Err(InfoError::Unchecked {
                reason: reason.clone(),
            });
        }
        skipped_checks = Some(reason.clone());
    }
    let usable = verification.as_ref().is_none_or(Verification::usable);
    let closed = fisher.as_ref().ok().filter(|_| usable);
    let jeffreys = closed.and_then(|f| jeffreys(&f.matrix, &Facts::of(model)));
    let jeffreys_verification = match (closed, &jeffreys) {
        (Some(f), Some(j)) if verify => Some(verify::verify_jeffreys(model, f, j)),
        (Some(_), Some(_)) => Some(Verification::Skipped),
        _ => None,
    };
    let jeffreys = jeffreys.filter(|_| {
        jeffreys_verification
            .as_ref()
            .is_none_or(Verification::usable)
    });
    Ok(Derivation {
        derivatives,
        fisher,
        verification,
        jeffreys,
        jeffreys_verification,
        skipped_checks,
    })
}

/// The numeric checks of a model without a closed form: `∫p = 1` and `E[s] = 0` at the first
/// verification point where quadrature converges.
///
/// # Errors
///
/// An [`InfoError`] when a check fails (see [`verify::is_model_error`]), and
/// [`InfoError::Unchecked`] when quadrature converged at none of the points.
pub fn check_model(model: &Model, d: &Derivatives) -> Result<Option<String>, InfoError> {
    let mut reason = None;
    for at in verify::verification_points(model) {
        match numeric::numeric_forms(model, d, &at) {
            Ok(_) => return Ok(None),
            Err(e) if verify::is_model_error(&e) => return Err(e),
            Err(e) => {
                reason.get_or_insert_with(|| e.to_string());
            }
        }
    }
    Err(InfoError::Unchecked {
        reason: reason.unwrap_or_default(),
    })
}
