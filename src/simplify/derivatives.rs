//! Simplified derivatives: the gradient, Hessian and mixed partials of an expression with
//! every entry simplified, and the score and Hessian of a model's log-density. Higher
//! derivatives differentiate the simplified lower ones, which keeps them small.

use egg::Symbol;

use super::{Facts, Simplified, StopReason, simplest, simplest_report, simplify, simplify_with};
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
    /// The entries that a budget left less simplified, in the order logp, score, Hessian
    /// (upper triangle); empty on every built-in model.
    pub fallbacks: Vec<Fallback>,
}

/// An entry of [`Derivatives`] that a budget left less simplified than the full search
/// would (see [`StopReason::fell_back`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    /// Which entry: `logp`, `score[θ]` or `hessian[θ, φ]`.
    pub entry: String,
    /// What the simplifier did instead.
    pub stop: StopReason,
    /// Tree size of the unsimplified entry (saturating at `usize::MAX`).
    pub before: usize,
    /// Tree size of the result.
    pub after: usize,
}

impl std::fmt::Display for Fallback {
    /// One line for a `note:`: which entry, what was done instead, and why.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = if self.before == usize::MAX {
            "more than 2^64".to_string()
        } else {
            self.before.to_string()
        };
        match &self.stop {
            StopReason::Shared { pieces, skipped } => {
                write!(
                    f,
                    "{} written out is a tree of {size} nodes, too large to simplify whole; \
                     it was simplified one shared subexpression at a time ({pieces} pieces",
                    self.entry
                )?;
                if *skipped > 0 {
                    write!(f, ", {skipped} of them by the canonical pass only")?;
                }
                write!(f, ") and may be less simplified")
            }
            _ => write!(
                f,
                "{} is a tree of {size} nodes, too large for the e-graph; only the canonical \
                 pass simplified it",
                self.entry
            ),
        }
    }
}

impl Fallback {
    /// The fallback of entry `entry()` (named only when there is one).
    fn of(entry: impl FnOnce() -> String, s: &Simplified) -> Option<Fallback> {
        s.stop.fell_back().then(|| Fallback {
            entry: entry(),
            stop: s.stop.clone(),
            before: s.before,
            after: s.after,
        })
    }
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
///
/// `let` definitions stay shared: an entry whose tree is larger than the e-graph's input
/// limit is simplified one shared subexpression at a time and reported in
/// [`Derivatives::fallbacks`].
pub fn derive(model: &crate::model::Model) -> Derivatives {
    let facts = Facts::of(model);
    let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
    let mut fallbacks = Vec::new();
    let s = simplify_with(&model.logp, &facts, super::Limits::default());
    fallbacks.extend(Fallback::of(|| "logp".to_string(), &s));
    let logp = s.expr;
    let mut score = Vec::with_capacity(params.len());
    for p in &params {
        let s = simplest_report(&derivative(&model.logp, *p), &facts);
        fallbacks.extend(Fallback::of(|| format!("score[{p}]"), &s));
        score.push(s.expr);
    }
    let d = params.len();
    // A score entry that does not mention θ_j has ∂/∂θ_j zero: such entries (most of them
    // when the parameters fall into blocks that never meet in a term) are not differentiated
    // or searched, only given the simplified zero.
    let zero = simplest_report(&Expr::num(0.0), &facts);
    let mut hessian = vec![vec![Expr::num(0.0); d]; d];
    for i in 0..d {
        for j in i..d {
            let s = if score[i].contains(params[j]) {
                simplest_report(&derivative(&score[i], params[j]), &facts)
            } else {
                zero.clone()
            };
            fallbacks.extend(Fallback::of(
                || format!("hessian[{}, {}]", params[i], params[j]),
                &s,
            ));
            hessian[j][i] = s.expr.clone();
            hessian[i][j] = s.expr;
        }
    }
    Derivatives {
        params,
        logp,
        score,
        hessian,
        fallbacks,
    }
}
