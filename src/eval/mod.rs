//! Numeric evaluation of an [`Expr`](crate::Expr): for `f64`, and generically for num-dual's
//! dual numbers, which give exact first, second and third derivatives; plus [`Compiled`], a flat
//! instruction tape for fast repeated `f64` evaluation of several expressions at once.
//!
//! ```
//! use fisher_geometry::Expr;
//! use fisher_geometry::{Env, eval_f64, hessian};
//! use fisher_geometry::expr::ln;
//!
//! let (x, mu, sigma) = (Expr::sym("x"), Expr::sym("mu"), Expr::sym("sigma"));
//! // ℓ = −½((x − μ)/σ)² − ln σ
//! let logp = -0.5 * ((&x - &mu) / &sigma).pow(2) - ln(&sigma);
//! let env = Env::new().with("x", 1.0).with("mu", 0.0).with("sigma", 2.0);
//! let value = eval_f64(&logp, &env)?;
//! assert!((value - (-0.125 - 2f64.ln())).abs() < 1e-15);
//! let (_, grad, hess) = hessian(&logp, &["mu".into(), "sigma".into()], &env)?;
//! assert!((grad[0] - 0.25).abs() < 1e-15); // ∂ℓ/∂μ = (x − μ)/σ²
//! assert!((hess[(0, 0)] + 0.25).abs() < 1e-15); // ∂²ℓ/∂μ² = −1/σ²
//! # Ok::<(), fisher_geometry::EvalError>(())
//! ```
//!
//! Evaluation is bottom-up over [`Expr::nodes`](crate::Expr::nodes) (children before parents),
//! never recursive, so expressions of any depth evaluate without growing the stack. The
//! semantics of the operators are those of [`eval`]; [`Compiled`] follows them exactly.
//!
//! The files: `env.rs` (the values of names, [`Env`]), `scalar.rs` (the number types,
//! [`Scalar`], with the special functions on dual numbers), `interpreter.rs` ([`eval`] and
//! [`eval_checked`], the operator semantics), `derivatives.rs` ([`gradient`], [`hessian`],
//! [`third_derivative`]), `compiled.rs` ([`Compiled`]), `sum.rs` (compensated sums over batches), `elementary.rs` (vectorized `ln` and `exp` for those sums), and `accurate/` ([`eval_accurate`]).

mod accurate;
mod compiled;
mod derivatives;
mod elementary;
mod env;
mod interpreter;
mod scalar;
mod sum;
pub(crate) use crate::special;
pub(crate) use sum::CompensatedSum;

use egg::Symbol;

pub use accurate::{
    ACCURACY, AccuracyError, Accurate, MAX_BITS, eval_accurate, eval_accurate_detailed,
    eval_multiprecision,
};
pub(crate) use compiled::hoist;
pub use compiled::{BatchScratch, Compiled, Input};
pub use derivatives::{gradient, hessian, third_derivative};
pub use env::Env;
pub use interpreter::{eval, eval_checked, eval_f64};
pub use scalar::Scalar;
// The operator semantics that `compiled.rs` and `accurate.rs` share with the interpreter.
use interpreter::{polygamma_order, polygamma_order_error};
use scalar::{integer_exponent, sign};

/// An error of numeric evaluation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A name in the expression has no value.
    #[error("unbound name `{name}`")]
    Unbound {
        /// The name.
        name: Symbol,
    },
    /// The order `n` of `polygamma(n, x)` is not a non-negative integer constant.
    #[error("the order of `polygamma` must be a non-negative integer constant, found `{order}`")]
    PolygammaOrder {
        /// The order as written.
        order: String,
    },
    /// The value is NaN or infinite; `expr` is the innermost subexpression where it became so
    /// (reported by [`eval_checked`] only).
    #[error("`{expr}` is not finite{}", fmt_bindings(.at))]
    NonFinite {
        /// The subexpression, in the model language.
        expr: String,
        /// Its value (NaN or ±∞).
        value: f64,
        /// The values of the names that occur in it, in sorted order.
        at: Vec<(Symbol, f64)>,
    },
    /// A slice passed to [`Compiled`] has the wrong length.
    #[error("expected {expected} {what}, found {found}")]
    Length {
        /// `"values"` or `"outputs"`.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
}

/// ` at a=1, b=2`, or nothing when there are no bindings.
fn fmt_bindings(at: &[(Symbol, f64)]) -> String {
    let list: Vec<String> = at
        .iter()
        .map(|(s, v)| format!("{s}={}", crate::expr::number(*v)))
        .collect();
    if list.is_empty() {
        String::new()
    } else {
        format!(" at {}", list.join(", "))
    }
}
