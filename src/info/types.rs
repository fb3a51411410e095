//! The types the Fisher computations share: errors, methods, the forms of `F` at a point,
//! the verdicts of verification, and small helpers on parameter points. They depend on no
//! other file of `info`, so every file can use them without a cycle.

use std::fmt;

use egg::Symbol;
use nalgebra::{DMatrix, DVector};

use crate::eval::{AccuracyError, Env, EvalError};
use crate::expect::{ExpectError, IntegrandError, kink_nodes};
use crate::expr::{number, text};
use crate::model::Model;

/// How many of the verification points must be checked (the quadrature may fail at some)
/// for a verdict.
pub const MIN_CHECKED: usize = 2;

pub use crate::model::Point;

/// A numeric divergence between two points and its estimated error, or why not.
pub type NumericKl = Result<(f64, f64), InfoError>;

/// Where a closed form and the numeric route disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The quantity: `F[a, b]`, `sqrt(det F)` or `D(p || q)`.
    pub what: String,
    /// The parameter point(s), `a=0.7, b=1.3`.
    pub at: String,
    /// The closed form's value there (NaN when it could not be evaluated).
    pub closed: f64,
    /// The numeric route's value.
    pub numeric: f64,
    /// The scaled discrepancy that exceeded [`crate::info::verify::VERIFY_TOL`].
    pub discrepancy: f64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {} by the closed form but {} by quadrature at {} (discrepancy {:.1e})",
            self.what,
            number(self.closed),
            number(self.numeric),
            self.at,
            self.discrepancy
        )
    }
}

/// The outcome of comparing a closed form with the numeric route.
#[derive(Debug, Clone, PartialEq)]
pub enum Verification {
    /// It agreed at every point where quadrature could check it.
    Verified {
        /// How many points were checked.
        points: usize,
        /// The largest scaled discrepancy seen.
        max_discrepancy: f64,
    },
    /// It disagreed: it must not be reported as the answer.
    Failed(Mismatch),
    /// Quadrature could not check it at enough points.
    Unchecked {
        /// Why not.
        reason: String,
        /// At how many points it was checked (fewer than [`MIN_CHECKED`]); 0 means
        /// quadrature failed everywhere, which usually means the model cannot be
        /// normalized.
        checked: usize,
        /// Whether every point that could not be checked was stopped by the budget of the
        /// verification quadrature ([`crate::info::verify::VERIFY_MAX_POINTS`]: many data
        /// variables), which says nothing about the model.
        budget: bool,
    },
    /// Verification was not asked for (`--no-verify`).
    Skipped,
}

impl Verification {
    /// Whether the closed form may be reported: verified, or not checked because the user
    /// asked so or quadrature could not.
    pub fn usable(&self) -> bool {
        !matches!(self, Verification::Failed(_))
    }

    /// Whether it was checked and agreed.
    pub fn passed(&self) -> bool {
        matches!(self, Verification::Verified { .. })
    }

    /// `"verified"`, `"failed"`, `"unchecked"` or `"skipped"`, as in the JSON output.
    pub fn status(&self) -> &'static str {
        match self {
            Verification::Verified { .. } => "verified",
            Verification::Failed(_) => "failed",
            Verification::Unchecked { .. } => "unchecked",
            Verification::Skipped => "skipped",
        }
    }

    /// Whether quadrature could check nothing at all: a model that cannot be normalized, or
    /// one the numeric route cannot handle. The commands refuse then (unless `--no-verify`).
    pub fn nothing_checked(&self) -> bool {
        matches!(
            self,
            Verification::Unchecked {
                checked: 0,
                budget: false,
                ..
            }
        )
    }

    /// One line for text output, without numbers that depend on rounding:
    /// "verified against quadrature at 3 points".
    pub fn describe(&self) -> String {
        match self {
            Verification::Verified { points, .. } => format!(
                "verified against quadrature at {points} point{}",
                if *points == 1 { "" } else { "s" }
            ),
            Verification::Failed(m) => format!("FAILED verification: {m}"),
            Verification::Unchecked { reason, .. } => {
                format!("not verified: quadrature could not check it ({reason})")
            }
            Verification::Skipped => "not verified (--no-verify)".to_string(),
        }
    }
}

/// A numeric Fisher computation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InfoError {
    /// The expectations could not be computed or checked.
    #[error(transparent)]
    Expect(#[from] ExpectError),
    /// A closed-form expression could not be evaluated.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// Quadrature could not check the model at any of the verification points: the density
    /// cannot be normalized, or the numeric route cannot handle it.
    #[error(
        "the model could not be checked at any verification point ({reason}): either quadrature cannot handle it at those points, or its density cannot be normalized and has no Fisher information; `--no-verify` skips the checks"
    )]
    Unchecked {
        /// The first quadrature failure.
        reason: String,
    },
    /// `E[s] ≠ 0`: the log-density is not normalized for every θ, or its support is wrong.
    #[error(
        "the score has mean ({mean}) at {at}, not 0: the log-density is not a normalized density in its parameters, or its support does not match its declaration"
    )]
    ScoreMean {
        /// `E[s]`, formatted.
        mean: String,
        /// The point, `name=value, …`.
        at: String,
    },
    /// A quantity that is not defined for a model with a kink in θ.
    #[error(
        "{what} cannot be computed by differentiating under the integral: the log-density has a kink in the parameters at `{kink}`"
    )]
    NonSmooth {
        /// The kink, `abs(x - mu)`.
        kink: String,
        /// What was asked for.
        what: String,
    },
    /// A divergence below zero, which no divergence is.
    #[error(
        "the {} divergence D(p || q) = {} is negative, which a divergence never is: the model or its evaluation is wrong here",
        .method.as_str(),
        number(*.value)
    )]
    NegativeDivergence {
        /// The route that gave it.
        method: Method,
        /// The value.
        value: f64,
    },
    /// A compiled closed-form value is NaN or infinite.
    #[error("`{what}` is not finite at {at}")]
    NonFinite {
        /// The entry, `∂F[mu, sigma]/∂sigma`.
        what: String,
        /// The point, `name=value, …`.
        at: String,
    },
    /// A closed-form value could not be evaluated to [`crate::eval::ACCURACY`], or its true
    /// value is outside the range of `f64`.
    #[error("{}", accuracy_message(.what, .at, .source))]
    Accuracy {
        /// What was evaluated: `F[sigma2, sigma2]`.
        what: String,
        /// The point, `name=value, …`.
        at: String,
        /// Why.
        source: AccuracyError,
    },
    /// A numeric `F` (or its θ-derivatives) whose quadrature products fall outside the range
    /// where `f64` keeps its precision: the score of a parameter is far from order 1 there.
    #[error(
        "{what} at {at} cannot be computed by quadrature in f64: the score of `{param}` has E|s| = {:.1e}, so products of {degree} scores in the integrand {}, where f64 loses precision; rescale `{param}` (for example `{param} = 1e{}*b`) so that its score is of order 1",
        .mean_abs,
        if *.mean_abs < 1.0 { "fall below 1e-303" } else { "exceed 1e303" },
        -(.mean_abs.log10().round() as i64)
    )]
    OutOfRange {
        /// What was asked for: `F[a, a]`.
        what: String,
        /// The parameter.
        param: String,
        /// `E|s|` of the parameter, `> 0`.
        mean_abs: f64,
        /// How many scores multiply in the integrand (2 for `F`).
        degree: usize,
        /// The point, `name=value, …`.
        at: String,
    },
    /// The KL Hessians of a model with kinks in its data variable could not be integrated
    /// piece by piece between the kinks.
    #[error("unsupported: the KL divergence between the kinks at {at}: {error}")]
    Kinks {
        /// The parameter point, `name=value, …`.
        at: String,
        /// Why.
        error: KinkError,
    },
}

/// Why the kink-following quadrature of the KL Hessians failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KinkError {
    /// The integrand could not be evaluated, or is not finite, at a node.
    #[error(transparent)]
    Integrand(#[from] IntegrandError),
    /// The sums of a piece did not settle.
    #[error("the sums did not settle to relative {tol:e} in {halvings} halvings of the step")]
    NotSettled {
        /// The relative accuracy asked of every component.
        tol: f64,
        /// The halvings of the step tried.
        halvings: usize,
    },
}

/// `F[s, s] = 5.0e-601 at s=1e300 underflows f64`, or `F[s, s] at s=…: <reason>`.
fn accuracy_message(what: &str, at: &str, source: &AccuracyError) -> String {
    match source {
        AccuracyError::Underflow { value } => format!("{what} = {value} at {at} underflows f64"),
        AccuracyError::Overflow { value } => format!("{what} = {value} at {at} overflows f64"),
        other => format!("{what} at {at}: {other}"),
    }
}

/// How the reported Fisher matrix was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The exact closed form, evaluated at the point.
    ClosedForm,
    /// Numeric expectation `E[s sᵀ]` at the point.
    Numeric,
}

impl Method {
    /// `"closed-form"` or `"numeric"`, as in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::ClosedForm => "closed-form",
            Method::Numeric => "numeric",
        }
    }
}

/// The three forms of the Fisher information at a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Forms {
    /// `E[s sᵀ]`.
    pub outer_product: DMatrix<f64>,
    /// `Cov[s] = E[s sᵀ] − E[s] E[s]ᵀ`.
    pub covariance: DMatrix<f64>,
    /// `E[−∇²ℓ]`.
    pub negative_hessian: DMatrix<f64>,
}

/// The Fisher information at one point, with its forms and checks.
#[derive(Debug, Clone, PartialEq)]
pub struct FisherAt {
    /// The point.
    pub at: Point,
    /// The reported matrix: the closed form when it exists, else `E[s sᵀ]`.
    pub matrix: DMatrix<f64>,
    /// How `matrix` was obtained.
    pub method: Method,
    /// The three forms, numerically.
    pub forms: Forms,
    /// Largest discrepancy between the valid forms (and the closed form), each entry scaled
    /// by `√(F_ii F_jj)`.
    pub max_rel_discrepancy: f64,
    /// `Some(subexpression)` when the log-density is not twice differentiable in θ
    /// (`abs(x - mu)`): the Hessian form is then left out of the discrepancy and is not the
    /// Fisher information.
    pub non_smooth: Option<String>,
    /// `∫p`, checked to be 1.
    pub mass: f64,
    /// `E[s]`, checked to be 0.
    pub mean_score: DVector<f64>,
    /// How the closed form was verified against quadrature (`None` when there is none).
    /// When verification failed, `matrix` is the numeric `E[s sᵀ]`.
    pub verification: Option<Verification>,
}

/// The first `abs(…)` or `sign(…)` in the log-density whose argument depends on a
/// parameter: there the log-density has a kink in θ. An `abs` that is smoothed by a power
/// is skipped: `abs(u^k)` and `abs(u)^k` are twice differentiable for an even integer
/// `k ≥ 2` or any `k ≥ 3` (`|u|³` has second derivative `6|u|`).
pub fn non_smooth(model: &Model) -> Option<String> {
    kink_nodes(&model.logp)
        .into_iter()
        .find(|k| !k.smoothed && model.params.iter().any(|p| k.depends_on(p.name)))
        .map(|k| text(&k.expr()).to_string())
}

/// `name=value, …` for messages.
pub fn describe_point(at: &[(Symbol, f64)]) -> String {
    let values: Vec<f64> = at.iter().map(|(_, v)| *v).collect();
    crate::expr::assignments(at.iter().map(|(n, _)| n), &values)
}

/// An environment binding the model's constants and the point.
pub fn env_at(model: &Model, at: &[(Symbol, f64)]) -> Env<f64> {
    let mut env: Env<f64> = model.const_env().into_iter().collect();
    for (n, v) in at {
        env.insert(*n, *v);
    }
    env
}

/// The three forms of the Fisher matrix by quadrature, with the checks `∫p = 1` and
/// `E[s] = 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericForms {
    /// `E[s sᵀ]`, `Cov[s]`, `E[−∇²ℓ]`.
    pub forms: Forms,
    /// `∫p`, checked to be 1.
    pub mass: f64,
    /// `E[s]`, checked to be 0.
    pub mean_score: DVector<f64>,
}

/// `θ` (parameter order) as a named point, for messages and the evaluators that take names.
pub fn named_point(params: &[Symbol], theta: &[f64]) -> Point {
    Point::from_checked(params.iter().copied().zip(theta.iter().copied()).collect())
}

/// Checks that `theta` has one value per parameter of `model`, each inside its domain.
///
/// # Errors
///
/// [`ExpectError::Unsupported`] for a wrong number of values, [`ExpectError::OutsideDomain`]
/// for a value outside its domain.
pub fn check_theta(model: &Model, theta: &[f64]) -> Result<(), InfoError> {
    let params = &model.params;
    if theta.len() != params.len() {
        return Err(ExpectError::Unsupported {
            reason: format!(
                "{} values given for {} parameters",
                theta.len(),
                params.len()
            ),
        }
        .into());
    }
    for (p, v) in params.iter().zip(theta) {
        if !p.domain.contains(*v) {
            return Err(ExpectError::OutsideDomain {
                name: p.name.to_string(),
                value: number(*v),
                domain: p.domain.to_string(),
            }
            .into());
        }
    }
    Ok(())
}

/// The values of `at` (every parameter, in any order) in the model's parameter order.
///
/// # Errors
///
/// [`ExpectError::UnknownParameter`] for a name that is not a parameter,
/// [`ExpectError::MissingParameter`] for a parameter without a value.
pub fn theta_of(model: &Model, at: &[(Symbol, f64)]) -> Result<Vec<f64>, InfoError> {
    if let Some((name, _)) = at.iter().find(|(s, _)| model.param_index(*s).is_none()) {
        return Err(ExpectError::UnknownParameter {
            name: name.to_string(),
        }
        .into());
    }
    model
        .params
        .iter()
        .map(|p| {
            at.iter()
                .find(|(s, _)| *s == p.name)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    ExpectError::MissingParameter {
                        name: p.name.to_string(),
                    }
                    .into()
                })
        })
        .collect()
}

/// Largest `|a_jk − b_jk| / √(|b_jj b_kk|)`: entries compared on the scale of the matrix,
/// so an entry that should be 0 is not divided by 0.
pub fn discrepancy(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let n = b.nrows();
    let mut worst: f64 = 0.0;
    for j in 0..n {
        for k in 0..n {
            let scale = (b[(j, j)] * b[(k, k)]).abs().sqrt().max(1e-300);
            worst = worst.max((a[(j, k)] - b[(j, k)]).abs() / scale);
        }
    }
    worst
}

/// How the KL Hessians were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HessianMethod {
    /// Dual-number Hessians of the closed-form divergence.
    ClosedForm,
    /// Dual-number Hessians of the divergence integrands, summed over the quadrature nodes.
    Numeric,
    /// The same, with the pieces between the kinks of a non-smooth model moving with `θ'`.
    NumericKinks,
}

impl HessianMethod {
    /// `"closed-form"`, `"numeric"` or `"numeric-kinks"`, as in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            HessianMethod::ClosedForm => "closed-form",
            HessianMethod::Numeric => "numeric",
            HessianMethod::NumericKinks => "numeric-kinks",
        }
    }

    /// How the text output says it.
    pub fn describe(self) -> &'static str {
        match self {
            HessianMethod::ClosedForm => "dual numbers on the closed-form divergence",
            HessianMethod::NumericKinks => "dual numbers, integration pieces moving with the kinks",
            HessianMethod::Numeric => "dual numbers at the quadrature nodes",
        }
    }
}

/// The two KL Hessians at `θ' = θ` and how they were computed.
#[derive(Debug, Clone, PartialEq)]
pub struct KlHessians {
    /// `∇²_{θ'} D(θ‖θ')` at `θ' = θ`.
    pub forward: DMatrix<f64>,
    /// `∇²_{θ'} D(θ'‖θ)` at `θ' = θ`.
    pub reverse: DMatrix<f64>,
    /// How they were computed.
    pub method: HessianMethod,
    /// Whether these are the Hessians of the divergence: false for a model with a kink in θ
    /// that the pieces cannot follow, where differentiating under the integral misses it.
    pub valid: bool,
}

#[cfg(test)]
mod kink_error_tests {
    use super::*;

    #[test]
    fn kink_errors_render_as_before() {
        // the messages of the `String` errors they replace
        let e = InfoError::Kinks {
            at: "mu=0, b=1".to_string(),
            error: KinkError::NotSettled {
                tol: 1e-11,
                halvings: 12,
            },
        };
        assert_eq!(
            e.to_string(),
            "unsupported: the KL divergence between the kinks at mu=0, b=1: the sums did not settle to relative 1e-11 in 12 halvings of the step"
        );
        let e = KinkError::from(IntegrandError::NotFinite {
            at: vec![(Symbol::from("x"), 3.5)],
        });
        assert_eq!(e.to_string(), "the integrand is not finite at x = 3.5");
    }
}
