//! KL divergence `D(θ‖θ') = E_θ[ℓ(x; θ) − ℓ(x; θ')]`, in closed form on the score-identity
//! route: `D = Σ_k (c_k(θ) − c_k(θ'))·m_k(θ) + r(θ) − r(θ')`.

use std::collections::HashMap;

use egg::Symbol;

use crate::expect::exact::{RouteError, moments, separate};
use crate::expr::{Builder, Expr};
use crate::model::Model;
use crate::simplify::{Facts, simplest as tidy};

/// Suffix that names the parameters of the second argument `θ'`: `mu` → `mu_q`.
pub const Q_SUFFIX: &str = "_q";

/// A closed-form KL divergence between two members of a family.
#[derive(Debug, Clone)]
pub struct ClosedKl {
    /// `D(θ‖θ')` as an expression in the parameters (θ) and their `_q` copies (θ').
    pub expr: Expr,
    /// `(θ_j, θ'_j)` name pairs in parameter order.
    pub names: Vec<(Symbol, Symbol)>,
}

/// The name of parameter `p` in the second argument: `p_q`, or `p_q2`, `p_q3`, … if the
/// model already uses that name.
fn q_name(model: &Model, p: Symbol) -> Symbol {
    let taken = |s: &str| {
        model.params.iter().any(|x| x.name.as_str() == s)
            || model.data.iter().any(|x| x.name.as_str() == s)
            || model.consts.iter().any(|(x, _)| x.as_str() == s)
    };
    let base = format!("{}{Q_SUFFIX}", p.as_str());
    let mut name = base.clone();
    let mut k = 2;
    while taken(&name) {
        name = format!("{base}{k}");
        k += 1;
    }
    Symbol::from(name)
}

/// `D(θ‖θ')` in closed form.
///
/// ```
/// use fisher_geometry::{Model, info};
/// let kl = info::closed_kl(&Model::builtin("poisson")?)?;
/// // D(λ‖λ') = λ ln(λ/λ') − λ + λ'
/// assert_eq!(kl.expr.to_string(), "rate_q - rate - rate*(ln(rate_q) - ln(rate))");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A [`RouteError`] when the route does not apply or the moments are not determined.
pub fn closed_kl(model: &Model) -> Result<ClosedKl, RouteError> {
    let mut facts = Facts::of(model);
    let names: Vec<(Symbol, Symbol)> = model
        .params
        .iter()
        .map(|p| (p.name, q_name(model, p.name)))
        .collect();
    for (p, q) in &names {
        if let Some(f) = facts.get(*p) {
            facts.insert(*q, f);
        }
    }
    let to_q: HashMap<Symbol, Expr> = names
        .iter()
        .map(|(p, q)| (*p, Expr::sym(q.as_str())))
        .collect();
    let sep = separate(model)?;
    let m = moments(model, sep)?;
    let mut b = Builder::default();
    let r = b.copy(&m.separation.rest);
    let rq = b.copy(&m.separation.rest.substitute(&to_q));
    let mut acc = b.sub(r, rq);
    for ((_, c), mk) in m.separation.stats.iter().zip(&m.values) {
        let cp = b.copy(c);
        let cq = b.copy(&c.substitute(&to_q));
        let dc = b.sub(cp, cq);
        let mk = b.copy(mk);
        let t = b.mul(dc, mk);
        acc = b.add(acc, t);
    }
    let expr = tidy(&b.finish(acc), &facts);
    Ok(ClosedKl { expr, names })
}
