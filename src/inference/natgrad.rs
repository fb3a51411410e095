//! Natural-gradient and plain-gradient ascent of the mean log-likelihood `ℓ(θ)/N`:
//!
//! - natural: `θ ← θ + α F(θ)⁻¹ ∇ℓ(θ)/N`, the steepest ascent in the Fisher metric, which
//!   does not depend on the parameterization to first order in α (the seed's point 2);
//! - plain: `θ ← θ + α ∇ℓ(θ)/N`, the steepest ascent in the Euclidean metric of the
//!   coordinates, which does.
//!
//! No line search and no clipping: the iterates are exactly those of the rule, and a step
//! that would leave the domain (or reach a point where ℓ is not finite) ends the path with
//! the reason, keeping the iterates before it.

use nalgebra::DVector;

use crate::info::{FisherField, InfoError};

use super::likelihood::{Likelihood, LikelihoodError};

/// The rule of a descent path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ascent {
    /// `θ ← θ + α F⁻¹ ∇ℓ/N`.
    Natural,
    /// `θ ← θ + α ∇ℓ/N`.
    Plain,
}

impl Ascent {
    /// `"natural"` or `"plain"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ascent::Natural => "natural",
            Ascent::Plain => "plain",
        }
    }
}

/// Why a step could not be taken at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    /// The learning rate is not a finite positive number.
    #[error("the learning rate must be a finite number greater than 0, found {0}")]
    Rate(f64),
    /// The likelihood failed at θ.
    #[error(transparent)]
    Likelihood(#[from] LikelihoodError),
    /// `F(θ)` failed.
    #[error("the Fisher matrix: {0}")]
    Fisher(#[from] InfoError),
    /// `F(θ)` is singular at θ.
    #[error("the Fisher matrix is singular at {0}: the natural gradient is not defined there")]
    Singular(String),
    /// The step leaves the domain or reaches a non-finite likelihood.
    #[error("the step from {from} leads to {to}, {why}")]
    Outside {
        /// θ.
        from: String,
        /// The next iterate.
        to: String,
        /// `outside the domain of `sigma``, `where the log-likelihood is not finite`.
        why: String,
    },
}

/// The iterates of an ascent from a start.
#[derive(Debug, Clone, PartialEq)]
pub struct AscentPath {
    /// The rule.
    pub rule: Ascent,
    /// The learning rate α.
    pub rate: f64,
    /// The iterates, the start first.
    pub points: Vec<Vec<f64>>,
    /// `ℓ` at each iterate.
    pub log_likelihood: Vec<f64>,
    /// Why the path stopped before the number of steps asked for.
    pub stopped: Option<String>,
}

/// One step of `rule` from θ with learning rate α: the next iterate.
///
/// # Errors
///
/// [`StepError`]: a bad rate, θ where ℓ or F fails, a singular F, a next iterate outside the
/// domain or where ℓ is not finite.
pub fn ascent_step(
    field: &FisherField,
    lik: &Likelihood,
    theta: &[f64],
    rate: f64,
    rule: Ascent,
) -> Result<Vec<f64>, StepError> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(StepError::Rate(rate));
    }
    let n = lik.len() as f64;
    let g = lik.gradient(theta)?.gradient / n;
    let direction: DVector<f64> = match rule {
        Ascent::Plain => g,
        Ascent::Natural => {
            let f = field.at(theta)?;
            f.cholesky()
                .map(|c| c.solve(&g))
                .filter(|d| d.iter().all(|v| v.is_finite()))
                .ok_or_else(|| StepError::Singular(describe(field, theta)))?
        }
    };
    let next: Vec<f64> = theta
        .iter()
        .zip(direction.iter())
        .map(|(t, d)| t + rate * d)
        .collect();
    let model = field.model();
    let outside = |why: String| StepError::Outside {
        from: describe(field, theta),
        to: describe(field, &next),
        why,
    };
    if let Some(p) = model
        .params
        .iter()
        .zip(&next)
        .find(|(p, v)| !p.domain.contains(**v))
    {
        return Err(outside(format!(
            "outside the domain of `{}` ({})",
            p.0.name, p.0.domain
        )));
    }
    if lik.value(&next).is_err() {
        return Err(outside(
            "where the log-likelihood is not finite".to_string(),
        ));
    }
    Ok(next)
}

/// `steps` steps of `rule` from `start` with learning rate α; the path ends early, with the
/// reason in [`AscentPath::stopped`], where a step cannot be taken.
///
/// # Errors
///
/// A bad rate, or a start where the first step cannot even be attempted (outside the domain,
/// ℓ or F failing there).
pub fn ascend(
    field: &FisherField,
    lik: &Likelihood,
    start: &[f64],
    steps: usize,
    rate: f64,
    rule: Ascent,
) -> Result<AscentPath, StepError> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(StepError::Rate(rate));
    }
    let first = lik.value(start)?;
    let mut path = AscentPath {
        rule,
        rate,
        points: vec![start.to_vec()],
        log_likelihood: vec![first],
        stopped: None,
    };
    for k in 1..=steps {
        let here = path.points.last().cloned().unwrap_or_default();
        match ascent_step(field, lik, &here, rate, rule) {
            Ok(next) => {
                path.log_likelihood.push(lik.value(&next)?);
                path.points.push(next);
            }
            Err(e @ (StepError::Outside { .. } | StepError::Singular(_))) => {
                path.stopped = Some(format!("step {k}: {e}"));
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(path)
}

fn describe(field: &FisherField, theta: &[f64]) -> String {
    crate::expr::assignments(field.model().params.iter().map(|p| p.name), theta)
}
