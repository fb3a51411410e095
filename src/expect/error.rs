//! The errors of numeric expectation, and the formatting of the numbers and points they
//! name.

use egg::Symbol;

use crate::eval::EvalError;

/// An error of numeric expectation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExpectError {
    /// `∫p` is not 1.
    #[error("log-density integrates to {} at {at}, not 1", significant(*.mass, 5))]
    NotNormalized {
        /// `∫p`.
        mass: f64,
        /// The parameter point, `mu=0, sigma=1`.
        at: String,
    },
    /// The requested accuracy was not reached.
    #[error(
        "could not reach relative accuracy {} for {what} at {at}: estimated error {}",
        crate::expr::number(*.tol),
        significant(*.achieved, 2)
    )]
    NotConverged {
        /// The quantity: `∫p` or `E[g]`.
        what: String,
        /// The estimated relative error reached.
        achieved: f64,
        /// The relative tolerance asked for.
        tol: f64,
        /// The parameter point.
        at: String,
    },
    /// The log-density or an integrand is NaN or infinite inside the declared support (for
    /// the log-density, `−∞` is a zero density and allowed).
    #[error("{what} is not finite at {point} (declared support {support}) with {params}: {detail}")]
    NotFinite {
        /// `log-density`, or the integrand in backticks.
        what: String,
        /// The data point, `x=-1`.
        point: String,
        /// The parameter point, `mu=0, sigma=1`.
        params: String,
        /// The declared supports of the data variables.
        support: String,
        /// The innermost subexpression that is not finite.
        detail: String,
    },
    /// A pointwise integrand ([`PointIntegrand`](super::PointIntegrand)) could not be
    /// evaluated, or gave a value that is not finite, inside the declared support.
    #[error("a pointwise integrand is not finite at {point} (declared support {support}): {error}")]
    Integrand {
        /// The data point, `x=-1`.
        point: String,
        /// The declared supports of the data variables.
        support: String,
        /// What the integrand reported, or which of its values is not finite.
        error: IntegrandError,
    },
    /// The quadrature could not resolve the density (the model may well be normalized): its
    /// mass was not found, or it is narrower than `f64` can resolve where it lies.
    #[error(
        "the quadrature could not resolve the density at {at} (not a fault of the model): {detail}"
    )]
    Unresolved {
        /// The parameter point.
        at: String,
        /// What failed.
        detail: String,
    },
    /// An evaluation error (an integrand naming an unknown variable, …).
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A name in the point is not a parameter of the model.
    #[error("`{name}` is not a parameter of the model")]
    UnknownParameter {
        /// The name.
        name: String,
    },
    /// A parameter has no value in the point.
    #[error("parameter `{name}` has no value")]
    MissingParameter {
        /// The name.
        name: String,
    },
    /// A parameter value lies outside its declared domain.
    #[error("parameter `{name}` = {value} is outside its domain {domain}")]
    OutsideDomain {
        /// The name.
        name: String,
        /// Its value, formatted.
        value: String,
        /// The declared domain.
        domain: String,
    },
    /// The expectation needs more evaluations than [`Quadrature::max_points`](super::Quadrature::max_points) allows.
    #[error(
        "the expectation over {dims} data variables at {at} needs more than {budget} evaluations (the budget `max_points`): {detail}"
    )]
    OverBudget {
        /// The number of data variables.
        dims: usize,
        /// The budget.
        budget: usize,
        /// The parameter point.
        at: String,
        /// Where the budget ran out, and the accuracy reached by then when known.
        detail: String,
    },
    /// Something this module does not handle.
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What and why.
        reason: String,
    },
}

/// Why an integrand given point by point (a [`PointIntegrand`](super::PointIntegrand), or
/// the integrand of a rule that sums over its own nodes) has no value at a data point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IntegrandError {
    /// An expression of the integrand could not be evaluated.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// Value `index` of those written at a point is NaN or infinite.
    #[error("value {index} is {}", crate::expr::number(*.value))]
    NotFiniteValue {
        /// Its position among the values written.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The integrand is NaN or infinite at a data point.
    #[error("the integrand is not finite at {}", assignments(.at))]
    NotFinite {
        /// The data point, each variable with its value.
        at: Vec<(Symbol, f64)>,
    },
}

/// A data point as `x = 1, y = 2`.
fn assignments(at: &[(Symbol, f64)]) -> String {
    at.iter()
        .map(|(n, v)| format!("{n} = {}", crate::expr::number(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `v` rounded to `digits` significant digits, printed by [`crate::expr::number`].
pub(super) fn significant(v: f64, digits: usize) -> String {
    let rounded = format!("{:.*e}", digits.saturating_sub(1), v)
        .parse::<f64>()
        .unwrap_or(v);
    crate::expr::number(rounded)
}

/// The point as `mu=0, sigma=1`, in parameter order.
pub(super) fn point_text(names: &[Symbol], values: &[f64]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={}", crate::expr::number(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}
