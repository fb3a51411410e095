//! Maximum likelihood by Fisher scoring: the natural-gradient step
//! `θ ← θ + α (N F(θ))⁻¹ ∇ℓ(θ)` with a backtracking line search that keeps θ inside the
//! domains, `F` from the Fisher field and `ℓ` from [`Likelihood`]; standard errors from the
//! expected information `(N F(θ̂))⁻¹` and from the observed information `(−∇²ℓ(θ̂))⁻¹`; Wald
//! intervals.
//!
//! Convergence is measured by the standardized score `z = √(∇ℓᵀ (N F)⁻¹ ∇ℓ)`, the score-test
//! statistic: the estimate is within about `z` standard errors of the root of the likelihood
//! equations. A fit by sufficient statistics is confirmed by one pass over the data: where the
//! sums cancel (data far from 0 on their own scale), the scoring goes on over the data in
//! batches, and the report says so.
//!
//! Failures are errors, never an estimate: no maximum inside the domain (the iterates run to
//! a boundary while the likelihood keeps rising: all-zero Bernoulli data, one observation of
//! a normal), a singular Fisher matrix (a non-identifiable model), no convergence.

use nalgebra::{DMatrix, DVector};

use crate::info::{FisherField, InfoError};
use crate::model::{Domain, Model};

use super::data::Dataset;
use super::diagnostics::normal_quantile;
use super::likelihood::{Likelihood, LikelihoodError, LikelihoodRoute, LogLikelihood};

/// How [`fit`] runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// The level of the Wald intervals, in (0, 1). Default 0.95.
    pub level: f64,
    /// The most Fisher-scoring iterations. Default 500.
    pub max_iterations: usize,
    /// Converged when the standardized score `z` is at most this. Default 1e-10.
    pub tolerance: f64,
    /// The starting point (parameter order); default: the better of the domains' central
    /// values (0, 1, ½, the middle of an interval) and values scaled to the data.
    pub start: Option<Vec<f64>>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            level: 0.95,
            max_iterations: 500,
            tolerance: 1e-10,
            start: None,
        }
    }
}

/// The direction an iteration stepped along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StepRule {
    /// `(N F)⁻¹ ∇ℓ`, the natural gradient.
    FisherScoring,
    /// `(−∇²ℓ)⁻¹ ∇ℓ`, where the scoring step found no increase.
    Newton,
    /// `∇ℓ` scaled, where neither did.
    Gradient,
}

impl StepRule {
    /// `"fisher-scoring"`, `"newton"` or `"gradient"`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepRule::FisherScoring => "fisher-scoring",
            StepRule::Newton => "newton",
            StepRule::Gradient => "gradient",
        }
    }
}

/// A maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// θ̂, in parameter order.
    pub estimate: Vec<f64>,
    /// `ℓ(θ̂)`: by the sufficient statistics where their rounding bound is small, over the
    /// data otherwise.
    pub log_likelihood: f64,
    /// N.
    pub observations: usize,
    /// Iterations taken.
    pub iterations: usize,
    /// `|∇ℓ(θ̂)|` (Euclidean), by the route of [`Fit::log_likelihood`].
    pub score_norm: f64,
    /// The standardized score `√(∇ℓᵀ (N F)⁻¹ ∇ℓ)` at θ̂, the same way.
    pub standardized_score: f64,
    /// How many iterations used each step rule (only the rules used, in rule order).
    pub steps: Vec<(StepRule, usize)>,
    /// Why a step left Fisher scoring, or why the fit changed route; empty when neither.
    pub notes: Vec<String>,
    /// The route of the likelihood the scoring finished on.
    pub route: LikelihoodRoute,
    /// `F(θ̂)`, per observation.
    pub fisher: DMatrix<f64>,
    /// The observed information `−∇²ℓ(θ̂)`.
    pub observed_information: DMatrix<f64>,
    /// Standard errors `√diag((N F(θ̂))⁻¹)`.
    pub expected_se: Vec<f64>,
    /// Standard errors `√diag((−∇²ℓ(θ̂))⁻¹)`, or why there are none (the observed
    /// information is not positive definite at θ̂).
    pub observed_se: Result<Vec<f64>, String>,
    /// Where the scoring over the data started from the estimate on a subsample (the batched
    /// route, without `--from`, with many rows); `None` otherwise.
    pub warm_start: Option<WarmStart>,
    /// The level of [`Fit::intervals`].
    pub level: f64,
    /// Wald intervals `θ̂ ± z_{(1+level)/2} · expected_se`.
    pub intervals: Vec<(f64, f64)>,
}

/// Why a fit gave no estimate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// The likelihood rises toward a boundary of the domain.
    #[error(
        "the likelihood has no maximum inside the domain: it keeps increasing as `{param}` → {toward} (last iterate {at}, log-likelihood {log_likelihood})"
    )]
    NoInteriorMaximum {
        /// The parameter that runs to its boundary.
        param: String,
        /// The boundary (`0`, `1`, `∞`, `-∞`, a bound).
        toward: String,
        /// The last iterate.
        at: String,
        /// ℓ there.
        log_likelihood: f64,
    },
    /// The Fisher matrix is singular (not identifiable).
    #[error(
        "the Fisher matrix is singular at {at} (smallest/largest eigenvalue {ratio:e}): the model is not identifiable along {direction}"
    )]
    Singular {
        /// The point.
        at: String,
        /// λ_min / λ_max.
        ratio: f64,
        /// The eigenvector of the smallest eigenvalue, `0.71·mu - 0.71·nu`.
        direction: String,
    },
    /// No convergence within the iteration cap, or no step that increases ℓ.
    #[error(
        "Fisher scoring did not converge: {reason} after {iterations} iterations at {at} (standardized score {z:e})"
    )]
    NotConverged {
        /// What stopped it.
        reason: String,
        /// Iterations taken.
        iterations: usize,
        /// The last iterate.
        at: String,
        /// Its standardized score.
        z: f64,
    },
    /// Bad options.
    #[error("{0}")]
    Options(String),
    /// The likelihood could not be built or evaluated.
    #[error(transparent)]
    Likelihood(#[from] LikelihoodError),
    /// The Fisher matrix could not be evaluated.
    #[error("the Fisher matrix: {0}")]
    Fisher(#[from] InfoError),
}

/// Fits `field`'s model to `data` by maximum likelihood (see the module documentation).
///
/// # Errors
///
/// [`FitError`]: no interior maximum, a singular Fisher matrix, no convergence, a start
/// outside the domain, a likelihood or Fisher matrix that cannot be evaluated.
pub fn fit(field: &FisherField, data: &Dataset, options: &FitOptions) -> Result<Fit, FitError> {
    let lik = Likelihood::new(field, data)?;
    fit_with(field, &lik, data, options)
}

/// [`fit`] with a likelihood already built (its route chosen by the caller); `data` is the
/// dataset it was built from, for the final pass over the data.
///
/// # Errors
///
/// As [`fit`].
pub fn fit_with(
    field: &FisherField,
    lik: &Likelihood,
    data: &Dataset,
    options: &FitOptions,
) -> Result<Fit, FitError> {
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(FitError::Options(format!(
            "the level must be in (0, 1), found {}",
            options.level
        )));
    }
    let model = field.model();
    let mut warm_from = None;
    let start = match &options.start {
        Some(s) => {
            crate::info::check_theta(model, s)
                .map_err(|e| FitError::Options(format!("the starting point: {e}")))?;
            s.clone()
        }
        None => {
            let (start, warm) = warm_start(field, lik, data, options);
            warm_from = warm;
            start
        }
    };
    let mut scorer = Scorer::new(field, lik.len());
    let mut route = lik.route();
    let mut batched: Option<Likelihood> = None;
    // θ̂ and ℓ, ∇ℓ, ∇²ℓ there, over the likelihood the scoring finished on.
    let (mut theta, mut at) = match scorer.run(lik, start.clone(), options) {
        Ok(done) => done,
        // The sums' rounding can hide the rise of ℓ near the optimum: go on over the data.
        Err(FitError::NotConverged { reason, .. }) if route == LikelihoodRoute::Sufficient => {
            scorer.notes.push(format!(
                "by the sufficient statistics, {reason}: the scoring went on over the data in batches"
            ));
            let over = batched.insert(Likelihood::batched(field, data)?);
            route = LikelihoodRoute::Batched;
            let from = scorer.history.last().map_or(start, |(t, _)| t.clone());
            scorer.history.clear();
            scorer.run(over, from, options)?
        }
        Err(e) => return Err(e),
    };
    // Confirm over the data, unless the rounding bound of the sums' gradient is far inside
    // the tolerance (as it is unless the data sit far from 0 on their own scale); go on over
    // the data where the sums lost precision.
    let trusted = route == LikelihoodRoute::Sufficient
        && rounding_within(
            field,
            lik,
            &theta,
            scorer.n,
            0.1 * options.tolerance.max(1e-8),
        )?;
    if route == LikelihoodRoute::Sufficient && !trusted {
        let over = Likelihood::batched(field, data)?;
        let here = over.hessian(&theta)?;
        let z = scorer.standardized(&here.gradient, &theta)?;
        if z > options.tolerance.max(1e-8) {
            scorer.notes.push(format!(
                "the sums of the sufficient statistics lost precision (standardized score {z:.2e} over the data): the scoring went on over the data in batches"
            ));
            scorer.history.clear();
            let (t, a) = scorer.run(&over, theta, options)?;
            (theta, at) = (t, a);
            route = LikelihoodRoute::Batched;
        } else {
            at = here;
        }
    }
    let fisher = field.at(&theta)?;
    let n = scorer.n;
    let info = &fisher * n;
    let inverse = symmetric_inverse(&info).ok_or_else(|| scorer.singular(&theta, &info))?;
    let z = at.gradient.dot(&(&inverse * &at.gradient)).max(0.0).sqrt();
    let expected_se: Vec<f64> = (0..theta.len()).map(|j| inverse[(j, j)].sqrt()).collect();
    let observed = -&at.hessian;
    // A stationary point that is not a maximum (between two modes of a Cauchy likelihood, say).
    let eig = nalgebra::SymmetricEigen::new(observed.clone());
    let top = eig.eigenvalues.amax();
    if eig.eigenvalues.iter().any(|v| *v < -1e-8 * top) {
        return Err(FitError::NotConverged {
            reason: "the scoring converged to a stationary point that is not a maximum (the observed information has a negative eigenvalue there); try another start (`--from`)".to_string(),
            iterations: scorer.iterations,
            at: scorer.describe(&theta),
            z,
        });
    }
    let observed_se = match symmetric_inverse(&observed) {
        Some(inv) if (0..theta.len()).all(|j| inv[(j, j)] > 0.0) => {
            Ok((0..theta.len()).map(|j| inv[(j, j)].sqrt()).collect())
        }
        _ => Err("the observed information is not positive definite at the estimate".to_string()),
    };
    let q = normal_quantile(0.5 + options.level / 2.0);
    let intervals = theta
        .iter()
        .zip(&expected_se)
        .map(|(t, s)| (t - q * s, t + q * s))
        .collect();
    let mut steps: Vec<(StepRule, usize)> = Vec::new();
    for rule in [
        StepRule::FisherScoring,
        StepRule::Newton,
        StepRule::Gradient,
    ] {
        let k = scorer.steps.iter().filter(|r| **r == rule).count();
        if k > 0 {
            steps.push((rule, k));
        }
    }
    Ok(Fit {
        estimate: theta,
        log_likelihood: at.value,
        observations: lik.len(),
        iterations: scorer.iterations,
        score_norm: at.gradient.norm(),
        standardized_score: z,
        steps,
        notes: scorer.notes,
        route,
        fisher,
        observed_information: observed,
        expected_se,
        observed_se,
        level: options.level,
        intervals,
        warm_start: warm_from,
    })
}

/// Whether the standardized rounding error of the sufficient route's gradient at θ,
/// bounded by `Σ_j b_j √((N F)⁻¹)_jj` (Cauchy–Schwarz on the bound `b` of
/// [`Likelihood::gradient_rounding`]), is at most `limit`.
fn rounding_within(
    field: &FisherField,
    lik: &Likelihood,
    theta: &[f64],
    n: f64,
    limit: f64,
) -> Result<bool, FitError> {
    let Some(bound) = lik.gradient_rounding(theta)? else {
        return Ok(false);
    };
    let info = field.at(theta)? * n;
    let Some(inverse) = symmetric_inverse(&info) else {
        return Ok(false);
    };
    let z: f64 = bound
        .iter()
        .enumerate()
        .map(|(j, b)| b * inverse[(j, j)].sqrt())
        .sum();
    Ok(z <= limit)
}

/// The warm-up of a fit on every `every`-th row (see [`Fit::warm_start`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmStart {
    /// The stride.
    pub every: usize,
    /// Rows in the subsample.
    pub rows: usize,
    /// Scoring iterations on it (not counted in [`Fit::iterations`]).
    pub iterations: usize,
}

/// The state of the scoring iterations.
struct Scorer<'a> {
    field: &'a FisherField,
    n: f64,
    steps: Vec<StepRule>,
    notes: Vec<String>,
    /// The iterates, for the diagnosis of a run to the boundary.
    history: Vec<(Vec<f64>, f64)>,
    iterations: usize,
}

/// The observed information's view of a point (see [`Scorer::observed`]).
struct Observed {
    at: LogLikelihood,
    newton: Option<DVector<f64>>,
    z: f64,
}

/// Halvings of the step before a direction is given up.
const MAX_HALVINGS: usize = 60;

/// Iterations of monotone approach to a boundary that diagnose a maximum outside the domain.
const BOUNDARY_RUN: usize = 40;

/// The same, when the iterations could not go on (the likelihood or `F` stopped being
/// finite on the way to the boundary).
const FAILED_RUN: usize = 5;

impl<'a> Scorer<'a> {
    /// No iterations yet, for `n` observations.
    fn new(field: &'a FisherField, n: usize) -> Scorer<'a> {
        Scorer {
            field,
            n: n as f64,
            steps: Vec::new(),
            notes: Vec::new(),
            history: Vec::new(),
            iterations: 0,
        }
    }

    fn describe(&self, theta: &[f64]) -> String {
        crate::expr::assignments(self.field.model().params.iter().map(|p| p.name), theta)
    }

    fn singular(&self, theta: &[f64], info: &DMatrix<f64>) -> FitError {
        let eig = nalgebra::SymmetricEigen::new(info.clone());
        let (mut lo, mut hi) = (0, 0);
        for i in 0..eig.eigenvalues.len() {
            if eig.eigenvalues[i] < eig.eigenvalues[lo] {
                lo = i;
            }
            if eig.eigenvalues[i].abs() > eig.eigenvalues[hi].abs() {
                hi = i;
            }
        }
        let v = eig.eigenvectors.column(lo);
        let names = self.field.model().params.iter().map(|p| p.name);
        let direction = names
            .zip(v.iter())
            .filter(|(_, c)| c.abs() > 1e-3)
            .map(|(n, c)| format!("{c:+.2}·{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        FitError::Singular {
            at: self.describe(theta),
            ratio: eig.eigenvalues[lo] / eig.eigenvalues[hi].abs(),
            direction,
        }
    }

    /// `√(gᵀ (N F(θ))⁻¹ g)`.
    fn standardized(&self, g: &DVector<f64>, theta: &[f64]) -> Result<f64, FitError> {
        let info = self.field.at(theta)? * self.n;
        let inv = symmetric_inverse(&info).ok_or_else(|| self.singular(theta, &info))?;
        Ok(g.dot(&(&inv * g)).max(0.0).sqrt())
    }

    /// Fisher scoring from `theta` until the standardized score is within tolerance: the
    /// estimate, with ℓ, ∇ℓ and ∇²ℓ there.
    ///
    /// Each iteration needs ℓ and ∇ℓ, which the line search's first trial computes for the
    /// next one when it is accepted (one pass over the data per iteration on the batched
    /// route); the observed information only where the score is small enough to stop, and
    /// for a Newton step.
    fn run(
        &mut self,
        lik: &Likelihood,
        mut theta: Vec<f64>,
        options: &FitOptions,
    ) -> Result<(Vec<f64>, LogLikelihood), FitError> {
        let model = self.field.model();
        let mut stalled = 0;
        let mut carried: Option<LogLikelihood> = None;
        loop {
            let here = match carried.take() {
                Some(h) => h,
                None => lik
                    .gradient(&theta)
                    .map_err(|e| self.diagnose(&theta, e.to_string()))?,
            };
            let info = match self.field.at(&theta) {
                Ok(f) if f.iter().all(|v| v.is_finite()) => f * self.n,
                Ok(_) => return Err(self.diagnose(&theta, "F is not finite".to_string())),
                Err(e) => return Err(self.diagnose(&theta, e.to_string())),
            };
            let Some(inverse) = symmetric_inverse(&info) else {
                if self.near_boundary_run(FAILED_RUN).is_some() {
                    return Err(self.diagnose(&theta, "F is singular".to_string()));
                }
                return Err(self.singular(&theta, &info));
            };
            let g = &here.gradient;
            let scoring = &inverse * g;
            let z = g.dot(&scoring).max(0.0).sqrt();
            self.history.push((theta.clone(), here.value));
            // Converged when the score is small in the metric of the expected information and,
            // where it is positive definite, of the observed one too: at a boundary the
            // expected information can blow up (F = 1/(p(1 − p)) as p → 0) while the score
            // stays of order N.
            let mut second: Option<Observed> = None;
            if z <= options.tolerance {
                let o = self.observed(lik, &theta)?;
                if o.z <= options.tolerance {
                    return Ok((theta, o.at));
                }
                second = Some(o);
            }
            if self.iterations >= options.max_iterations {
                return Err(self.diagnose(
                    &theta,
                    format!("the iteration cap ({}) was reached", options.max_iterations),
                ));
            }
            if self.near_boundary_run(BOUNDARY_RUN).is_some() {
                return Err(self.diagnose(&theta, String::new()));
            }
            self.iterations += 1;
            // Scoring, then Newton, then the gradient (scaled to the scoring step's length).
            let mut moved = line_search(model, lik, &theta, here.value, g, &scoring, z)
                .map(|(next, at)| (StepRule::FisherScoring, next, at));
            if moved.is_none() {
                if second.is_none() {
                    second = Some(self.observed(lik, &theta)?);
                }
                if let Some(d) = second.as_ref().and_then(|o| o.newton.clone()) {
                    moved = line_search(model, lik, &theta, here.value, g, &d, z)
                        .map(|(next, at)| (StepRule::Newton, next, at));
                }
            }
            if moved.is_none() {
                let gradient = g * (scoring.norm() / g.norm().max(f64::MIN_POSITIVE));
                moved = line_search(model, lik, &theta, here.value, g, &gradient, z)
                    .map(|(next, at)| (StepRule::Gradient, next, at));
            }
            match moved {
                Some((rule, next, at)) => {
                    if rule != StepRule::FisherScoring && !self.steps.contains(&rule) {
                        self.notes.push(format!(
                            "at iteration {}, the Fisher-scoring step found no increase of the likelihood: {} step taken",
                            self.iterations,
                            rule.as_str()
                        ));
                    }
                    self.steps.push(rule);
                    if next == theta {
                        stalled += 1;
                    }
                    theta = next;
                    carried = at;
                }
                None => stalled = usize::MAX,
            }
            if stalled > 2 {
                // No direction increases ℓ: at a boundary the iterates have run to, or at the
                // rounding floor of ℓ, where a small score in both metrics is accepted.
                if self.near_boundary_run(FAILED_RUN).is_some() {
                    return Err(self.diagnose(&theta, String::new()));
                }
                if let Some((j, toward)) = pressed_to_bound(model, &theta, g) {
                    return Err(FitError::NoInteriorMaximum {
                        param: model.params[j].name.to_string(),
                        toward,
                        at: self.describe(&theta),
                        log_likelihood: here.value,
                    });
                }
                // θ may have moved (by steps that did not count as progress): the observed
                // information where the iterates stopped.
                let o = self.observed(lik, &theta)?;
                if z <= 1e-6 && o.newton.is_some() && o.z <= 1e-6 {
                    self.notes.push(format!(
                        "stopped at the rounding floor of the log-likelihood (standardized score {z:.2e})"
                    ));
                    return Ok((theta, o.at));
                }
                return Err(FitError::NotConverged {
                    reason: "no step increases the likelihood".to_string(),
                    iterations: self.iterations,
                    at: self.describe(&theta),
                    z,
                });
            }
        }
    }

    /// ℓ, ∇ℓ, ∇²ℓ at θ, the Newton step there where the observed information is positive
    /// definite, and the score's size in its metric (0 where it is not).
    fn observed(&self, lik: &Likelihood, theta: &[f64]) -> Result<Observed, FitError> {
        let at = lik
            .hessian(theta)
            .map_err(|e| self.diagnose(theta, e.to_string()))?;
        let newton = symmetric_inverse(&(-&at.hessian)).map(|m| m * &at.gradient);
        let z = newton
            .as_ref()
            .map_or(0.0, |d| at.gradient.dot(d).max(0.0).sqrt());
        Ok(Observed { at, newton, z })
    }

    /// A parameter that moved monotonically toward a boundary of its domain over the last
    /// `run` iterates, its distance to the bound shrinking geometrically, while
    /// ℓ rose: its index and the boundary.
    fn near_boundary_run(&self, run: usize) -> Option<(usize, String)> {
        let h = &self.history;
        if h.len() <= run {
            return None;
        }
        let recent = &h[h.len() - run - 1..];
        if recent.windows(2).any(|w| w[1].1 < w[0].1) {
            return None;
        }
        let model = self.field.model();
        for (j, p) in model.params.iter().enumerate() {
            let (lo, hi) = p.domain.bounds();
            let ends: [(f64, &str); 2] = [(lo, "low"), (hi, "high")];
            for (bound, side) in ends {
                let dist = |t: &[f64]| {
                    if bound.is_finite() {
                        (t[j] - bound).abs()
                    } else {
                        // Toward ±∞: the reciprocal of the distance from 0, on the side of the bound.
                        let v = t[j] * bound.signum();
                        if v > 0.0 { 1.0 / v } else { f64::INFINITY }
                    }
                };
                let shrinking = recent.windows(2).all(|w| {
                    let (a, b) = (dist(&w[0].0), dist(&w[1].0));
                    a.is_finite() && b <= 0.9 * a
                });
                if shrinking {
                    let toward = match (side, bound.is_finite()) {
                        (_, true) => crate::expr::number(bound).to_string(),
                        ("low", false) => "-∞".to_string(),
                        _ => "∞".to_string(),
                    };
                    return Some((j, toward));
                }
            }
        }
        None
    }

    /// The error for a run that could not go on: no interior maximum when the iterates ran to
    /// a boundary, otherwise no convergence for `reason`.
    fn diagnose(&self, theta: &[f64], reason: String) -> FitError {
        if let Some((j, toward)) = self.near_boundary_run(FAILED_RUN) {
            let (at, ll) = self
                .history
                .last()
                .cloned()
                .unwrap_or((theta.to_vec(), f64::NAN));
            return FitError::NoInteriorMaximum {
                param: self.field.model().params[j].name.to_string(),
                toward,
                at: self.describe(&at),
                log_likelihood: ll,
            };
        }
        FitError::NotConverged {
            reason,
            iterations: self.iterations,
            at: self.describe(theta),
            z: f64::NAN,
        }
    }
}

/// A parameter within a few rounding units of a finite bound of its domain, with the score
/// pushing it further (the likelihood still rises toward the bound when the iterates can
/// get no closer in `f64`): its index and the bound.
fn pressed_to_bound(model: &Model, theta: &[f64], g: &DVector<f64>) -> Option<(usize, String)> {
    model.params.iter().enumerate().find_map(|(j, p)| {
        let (lo, hi) = p.domain.bounds();
        let near = |b: f64| {
            b.is_finite()
                && (theta[j] - b).abs()
                    <= 64.0 * f64::EPSILON * b.abs().max(f64::MIN_POSITIVE.sqrt())
        };
        if near(lo) && g[j] < 0.0 {
            Some((j, crate::expr::number(lo).to_string()))
        } else if near(hi) && g[j] > 0.0 {
            Some((j, crate::expr::number(hi).to_string()))
        } else {
            None
        }
    })
}

/// The step `θ + α·dir` for the largest `α = 2⁻ᵏ` that stays inside the domains and raises
/// ℓ by the Armijo condition; near the optimum (where the predicted rise is below ℓ's
/// rounding), a step that does not lower ℓ beyond rounding. `None` if none does. With the
/// step, ℓ and ∇ℓ there when the first trial (α = 1, evaluated with its gradient, which the
/// next iteration needs) was taken.
fn line_search(
    model: &Model,
    lik: &Likelihood,
    theta: &[f64],
    value: f64,
    g: &DVector<f64>,
    dir: &DVector<f64>,
    z: f64,
) -> Option<(Vec<f64>, Option<LogLikelihood>)> {
    let slope = g.dot(dir);
    if slope.is_nan() || slope <= 0.0 {
        return None;
    }
    let rounding = 1e-12 * (1.0 + value.abs());
    let mut alpha = 1.0;
    for k in 0..MAX_HALVINGS {
        let next: Vec<f64> = theta
            .iter()
            .zip(dir.iter())
            .map(|(t, d)| t + alpha * d)
            .collect();
        let inside = model
            .params
            .iter()
            .zip(&next)
            .all(|(p, v)| p.domain.contains(*v));
        if inside {
            let first = if k == 0 {
                lik.gradient(&next).ok()
            } else {
                None
            };
            let (trial, at) = match first {
                Some(at) => (Ok(at.value), Some(at)),
                None => (lik.value(&next), None),
            };
            if let Ok(v) = trial {
                let armijo = v >= value + 1e-4 * alpha * slope;
                let flat = 0.5 * alpha * slope <= rounding && v >= value - rounding && z < 1e-3;
                if armijo || flat {
                    return Some((next, at));
                }
            }
        }
        alpha *= 0.5;
    }
    None
}

/// The inverse of a symmetric positive definite matrix by Cholesky; `None` if it is not
/// (numerically) positive definite: its condition number past 1e14.
fn symmetric_inverse(m: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    if m.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // Scale to unit diagonal so the test of definiteness does not depend on units.
    let d: Vec<f64> = (0..m.nrows()).map(|i| m[(i, i)]).collect();
    if d.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return None;
    }
    let s: Vec<f64> = d.iter().map(|v| 1.0 / v.sqrt()).collect();
    let scaled = DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] * s[i] * s[j]);
    let eig = nalgebra::SymmetricEigen::new(scaled.clone());
    let (lo, hi) = eig
        .eigenvalues
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(*v), hi.max(v.abs()))
        });
    if lo.is_nan() || lo <= 1e-14 * hi {
        return None;
    }
    let inv = scaled.cholesky()?.inverse();
    Some(DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
        inv[(i, j)] * s[i] * s[j]
    }))
}

/// Rows from which the batched route warms up on a subsample ([`warm_start`]).
const WARM_MIN_ROWS: usize = 1 << 15;

/// About how many rows the warm-up subsample has.
const WARM_ROWS: usize = 4096;

/// The start of the scoring without `--from`: [`default_start`], and on the batched route
/// with many rows, from there the scoring on every k-th row (about [`WARM_ROWS`] of them,
/// to a loose tolerance), whose estimate is within sampling error of θ̂ so that the
/// iterations over all the data only polish it. Any failure on the subsample (no interior
/// maximum there, say) falls back to the plain start, silently: the fit over the data
/// decides.
fn warm_start(
    field: &FisherField,
    lik: &Likelihood,
    data: &Dataset,
    options: &FitOptions,
) -> (Vec<f64>, Option<WarmStart>) {
    let model = field.model();
    let n = lik.len();
    let every = n / WARM_ROWS;
    let sub = match lik.subsample(every) {
        Some(sub) if n >= WARM_MIN_ROWS => sub,
        _ => return (default_start(model, lik, data.column(0)), None),
    };
    let x: Vec<f64> = data.column(0).iter().step_by(every).copied().collect();
    let start = default_start(model, &sub, &x);
    let mut scorer = Scorer::new(field, sub.len());
    let loose = FitOptions {
        tolerance: options.tolerance.max(1e-3),
        ..options.clone()
    };
    match scorer.run(&sub, start.clone(), &loose) {
        Ok((theta, _)) => (
            theta,
            Some(WarmStart {
                every,
                rows: sub.len(),
                iterations: scorer.iterations,
            }),
        ),
        Err(_) => (default_start(model, lik, data.column(0)), None),
    }
}

/// About how many rows [`default_start`] takes the data's mean and spread from.
const START_ROWS: usize = 4096;

/// The better (by ℓ) of two starting points: the domains' central values, and values scaled
/// to the first data column `x` (its mean for a real parameter, its spread for a positive
/// one, from evenly spaced rows of a large column).
fn default_start(model: &Model, lik: &Likelihood, x: &[f64]) -> Vec<f64> {
    let central: Vec<f64> = model
        .params
        .iter()
        .map(|p| central_value(p.domain))
        .collect();
    // One pass over about START_ROWS evenly spaced rows (a scale for the start needs no
    // more), shifted by the first value against cancellation.
    let every = (x.len() / START_ROWS).max(1);
    let n = x.len().div_ceil(every) as f64;
    let shift = x.first().copied().unwrap_or(0.0);
    let (s1, s2) = x.iter().step_by(every).fold((0.0, 0.0), |(a, b), v| {
        let d = v - shift;
        (a + d, b + d * d)
    });
    let mean = shift + s1 / n;
    let spread = (s2 / n - (s1 / n).powi(2)).max(0.0).sqrt();
    let scale = if spread > 0.0 && spread.is_finite() {
        spread
    } else {
        mean.abs().max(1.0)
    };
    let scaled: Vec<f64> = model
        .params
        .iter()
        .map(|p| match p.domain {
            Domain::Real if mean.is_finite() => mean,
            Domain::Positive => scale,
            d => central_value(d),
        })
        .collect();
    let value = |t: &[f64]| lik.value(t).unwrap_or(f64::NEG_INFINITY);
    if value(&scaled) > value(&central) {
        scaled
    } else {
        central
    }
}

fn central_value(domain: Domain) -> f64 {
    match domain {
        Domain::Real => 0.0,
        Domain::Positive => 1.0,
        Domain::Unit => 0.5,
        Domain::Interval(lo, hi) => 0.5 * (lo.value() + hi.value()),
    }
}
