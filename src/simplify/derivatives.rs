//! Simplified derivatives: the gradient, Hessian and mixed partials of an expression with
//! every entry simplified, and the score and Hessian of a model's log-density. Higher
//! derivatives differentiate the simplified lower ones, which keeps them small.

use egg::Symbol;

use super::{Facts, simplest, simplify};
use crate::diff::derivative;
use crate::expr::Expr;

/// The simplified derivative `∂expr/∂var` under the given facts.
pub fn derivative_simplified(expr: &Expr, var: Symbol, facts: &Facts) -> Expr {
    simplest(&derivative(expr, var), facts)
}

/// The gradient `(∂expr/∂v₁, …)` over `vars`, each entry simplified.
pub fn gradient(expr: &Expr, vars: &[Symbol], facts: &Facts) -> Vec<Expr> {
    vars.iter()
        .map(|v| derivative_simplified(expr, *v, facts))
        .collect()
}

/// The Hessian of `expr` over `vars`, each entry the simplified derivative of the simplified
/// gradient entry; symmetric by construction (the upper triangle is mirrored).
pub fn hessian(expr: &Expr, vars: &[Symbol], facts: &Facts) -> Vec<Vec<Expr>> {
    hessian_of_gradient(&gradient(expr, vars, facts), vars, facts)
}

/// The Hessian from an already simplified gradient.
pub fn hessian_of_gradient(grad: &[Expr], vars: &[Symbol], facts: &Facts) -> Vec<Vec<Expr>> {
    let d = vars.len();
    let mut h: Vec<Vec<Option<Expr>>> = vec![vec![None; d]; d];
    for i in 0..d {
        for j in i..d {
            let e = derivative_simplified(&grad[i], vars[j], facts);
            h[j][i] = Some(e.clone());
            h[i][j] = Some(e);
        }
    }
    h.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|e| e.unwrap_or_else(|| Expr::num(0.0)))
                .collect()
        })
        .collect()
}

/// The simplified mixed derivative `∂ⁿexpr/∂v₁…∂vₙ`, differentiating in the given order.
pub fn partial(expr: &Expr, vars: &[Symbol], facts: &Facts) -> Expr {
    let mut e = simplify(expr, facts);
    for v in vars {
        e = derivative_simplified(&e, *v, facts);
    }
    e
}

/// The derivatives of a model's log-density: score and Hessian, simplified under the
/// model's domain facts.
#[derive(Debug, Clone)]
pub struct Derivatives {
    /// Parameter names in matrix order.
    pub params: Vec<Symbol>,
    /// The simplified log-density.
    pub logp: Expr,
    /// `s_j = ∂ℓ/∂θ_j`.
    pub score: Vec<Expr>,
    /// `H_jk = ∂²ℓ/∂θ_j∂θ_k`.
    pub hessian: Vec<Vec<Expr>>,
}

/// Score and Hessian of a model's log-density.
///
/// ```
/// use fisher_geometry::{Model, simplify};
/// let model = Model::builtin("normal")?;
/// let d = simplify::derive(&model);
/// assert_eq!(d.score[0].to_string(), "(x - mu)/sigma^2"); // ∂ℓ/∂μ
/// assert_eq!(d.hessian[0][0].to_string(), "-1/sigma^2"); // ∂²ℓ/∂μ²
/// # Ok::<(), fisher_geometry::ModelError>(())
/// ```
pub fn derive(model: &crate::model::Model) -> Derivatives {
    let facts = Facts::of(model);
    let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
    let logp = simplify(&model.logp, &facts);
    let score = gradient(&model.logp, &params, &facts);
    let hessian = hessian_of_gradient(&score, &params, &facts);
    Derivatives {
        params,
        logp,
        score,
        hessian,
    }
}
