//! Expectations under the model, exact ([`exact`], the score-identity route of DESIGN §4)
//! and numeric: `E_θ[g(x; θ)] = ∫ p(x; θ) g(x; θ) dx`, with
//! `p = exp(logp)`, by quadrature over continuous data supports and summation over discrete
//! ones, nested for several data variables.
//!
//! ```
//! use fisher_geometry::{Model, simplify};
//! use fisher_geometry::Env;
//! use fisher_geometry::{Quadrature, expectations};
//!
//! let model = Model::builtin("normal")?;
//! let d = simplify::derive(&model);
//! let gs = [&d.score[1] * &d.score[1]]; // s_σ²
//! let at = Env::new().with("mu", 0.0).with("sigma", 2.0);
//! let est = expectations(&model, &at, &gs, &Quadrature::default())?;
//! assert!((est.values[0] - 0.5).abs() < 1e-9); // F_σσ = E[s_σ²] = 2/σ²
//! assert!((est.mass - 1.0).abs() < 1e-9); // ∫p = 1
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! How: each continuous variable is mapped to ℝ (`x = e^y` on (0, ∞), the logit on (0, 1)),
//! the mode and the curvature of the log-density there centre and scale a sinh-sinh
//! double-exponential rule (heavy tails, concentrated densities and endpoint singularities
//! all become double-exponentially decaying integrands), and the step is halved until two
//! levels agree; discrete supports are summed outward from the mode with a ratio-test tail
//! bound. Everything is weighted in log space, `exp(logp − logp(mode))`, so normalizing
//! constants far outside the range of `f64` are harmless. The module `numeric` has the details.
//!
//! Three or more data variables: nested rules would cost `n^d` points, so the continuous
//! variables declared last (at least two of them) are integrated together by a
//! dimension-adaptive sparse grid of the same double-exponential rules, centred and rotated
//! by the Laplace approximation at the joint mode (the module `cubature`); discrete variables
//! declared before them are summed outside it. Its error estimate goes into
//! [`Estimate::errors`] like any other, and every expectation is bounded by
//! [`Quadrature::max_points`] evaluations: past it, [`ExpectError::OverBudget`]. Long work
//! reports its progress to a [`Progress`] installed by [`with_progress`].

pub(crate) mod ends;
mod error;
pub(crate) mod exact;
mod kinks;
mod numeric;
mod progress;
mod quadrature;
pub(crate) use quadrature::integrate_log_weight;
mod types;

pub use ends::{EndForms, complement_symbol};
pub use error::{ExpectError, IntegrandError};
pub use exact::RouteError;
pub use progress::{Progress, with_progress};
pub use types::{Estimate, MAX_POINTS, PointIntegrand, Quadrature};

pub(crate) use kinks::{affine_root, kink_nodes};

use egg::Symbol;

use crate::eval::Env;
use crate::expr::Expr;
use crate::model::Model;

use error::{point_text, significant};
use numeric::{Prepared, Problem, Tape};
use progress::progress_begin;

/// The parameter values of `at` in matrix order, checked against the declared domains.
fn parameter_values(model: &Model, at: &Env<f64>) -> Result<Vec<f64>, ExpectError> {
    for (name, _) in at.iter() {
        if model.param_index(name).is_none() {
            return Err(ExpectError::UnknownParameter {
                name: name.to_string(),
            });
        }
    }
    model
        .params
        .iter()
        .map(|p| {
            let v = *at
                .get(p.name)
                .ok_or_else(|| ExpectError::MissingParameter {
                    name: p.name.to_string(),
                })?;
            if p.domain.contains(v) {
                Ok(v)
            } else {
                Err(outside_domain(p, v))
            }
        })
        .collect()
}

/// [`ExpectError::OutsideDomain`] for the value `v` of parameter `p`.
fn outside_domain(p: &crate::model::Param, v: f64) -> ExpectError {
    ExpectError::OutsideDomain {
        name: p.name.to_string(),
        value: crate::expr::number(v),
        domain: p.domain.to_string(),
    }
}

/// `E_θ[g_k(x; θ)] = ∫ exp(logp(x; θ)) g_k(x; θ) dx` for each `g_k` (a sum over discrete
/// supports, nested over several data variables), with `∫ exp(logp)` alongside.
///
/// `at` binds every parameter (constants come from the model). The values are not divided
/// by the mass; use [`check_normalized`] first when the model might not be normalized.
///
/// ```
/// use fisher_geometry::Model;
/// use fisher_geometry::Env;
/// use fisher_geometry::{Quadrature, expectations};
/// let model = Model::builtin("poisson")?;
/// let x = fisher_geometry::Expr::sym("x");
/// let at = Env::new().with("rate", 3.0);
/// let est = expectations(&model, &at, &[x.pow(2)], &Quadrature::default())?;
/// assert!((est.values[0] - 12.0).abs() < 1e-8); // E[x²] = λ + λ²
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ExpectError::UnknownParameter`], [`ExpectError::MissingParameter`] and
/// [`ExpectError::OutsideDomain`] for a bad point; [`ExpectError::Eval`] for an integrand
/// with an unknown name; [`ExpectError::NotFinite`] where the log-density is NaN or `+∞`, or
/// an integrand is not finite where the density is positive, inside the declared support;
/// [`ExpectError::NotConverged`] when a value misses the tolerance of `q`;
/// [`ExpectError::Unsupported`] for a model without data or a mass beyond `f64`.
pub fn expectations(
    model: &Model,
    at: &Env<f64>,
    gs: &[Expr],
    q: &Quadrature,
) -> Result<Estimate, ExpectError> {
    expectations_impl(model, at, gs, None, q)
}

/// [`expectations`] of the compiled integrands `gs` followed by the values of `extra`:
/// `Estimate::values` holds `gs.len() + extra.len()` expectations.
///
/// The values of `extra` take part in the accuracy test like the others, and are computed
/// only where the density is not negligible (elsewhere they count as zero).
///
/// ```
/// use fisher_geometry::Model;
/// use fisher_geometry::Env;
/// use fisher_geometry::{IntegrandError, PointIntegrand, Quadrature, expectations_with};
/// /// `x³`, by a closure rather than an expression.
/// struct Cube;
/// impl PointIntegrand for Cube {
///     fn len(&self) -> usize { 1 }
///     fn eval(&mut self, data: &[f64], out: &mut [f64]) -> Result<(), IntegrandError> {
///         out[0] = data[0].powi(3);
///         Ok(())
///     }
/// }
/// let model = Model::builtin("normal")?;
/// let at = Env::new().with("mu", 1.0).with("sigma", 2.0);
/// let est = expectations_with(&model, &at, &[], &mut Cube, &Quadrature::default())?;
/// assert!((est.values[0] - 13.0).abs() < 1e-9); // μ³ + 3μσ²
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// Those of [`expectations`]; [`ExpectError::Integrand`] where `extra` fails or gives a
/// value that is not finite.
pub fn expectations_with(
    model: &Model,
    at: &Env<f64>,
    gs: &[Expr],
    extra: &mut dyn PointIntegrand,
    q: &Quadrature,
) -> Result<Estimate, ExpectError> {
    expectations_impl(model, at, gs, Some(extra), q)
}

fn expectations_impl(
    model: &Model,
    at: &Env<f64>,
    gs: &[Expr],
    extra: Option<&mut dyn PointIntegrand>,
    q: &Quadrature,
) -> Result<Estimate, ExpectError> {
    let params = parameter_values(model, at)?;
    if model.data.is_empty() {
        return Err(no_data());
    }
    let prep = Prepared::new(model, gs, &[])?;
    run(&prep, &params, &[], extra, q)
}

fn no_data() -> ExpectError {
    ExpectError::Unsupported {
        reason: "the model has no data variable to integrate over".to_string(),
    }
}

/// Expectations prepared once for a model and a list of integrands, then evaluated at any
/// number of parameter points: the compiled tapes (for both halves of every unit support),
/// the derivatives that locate the modes and the supports are made once; each point runs
/// only the mode search and the quadrature levels.
///
/// ```
/// use fisher_geometry::Model;
/// use fisher_geometry::{PreparedExpectations, Quadrature};
/// let model = Model::builtin("poisson")?;
/// let x = fisher_geometry::Expr::sym("x");
/// let prep = PreparedExpectations::new(&model, &[x.pow(2)], &[])?;
/// for rate in [0.5, 3.0, 40.0] {
///     let est = prep.at(&[rate], &[], None, &Quadrature::default())?;
///     assert!((est.values[0] - (rate + rate * rate)).abs() < 1e-8 * rate * rate);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PreparedExpectations {
    prep: Prepared,
}

impl std::fmt::Debug for PreparedExpectations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedExpectations")
            .field("model", &self.prep.model().name)
            .field("integrands", &self.prep.n_integrands())
            .finish()
    }
}

impl PreparedExpectations {
    /// Compiles the log-density of `model` and the integrands `gs`, which may name the data
    /// variables, the parameters, the model's constants and the extra inputs `extra_vars`
    /// (bound at each point like the parameters: the second point of a divergence).
    ///
    /// # Errors
    ///
    /// [`ExpectError::Eval`] for an integrand with an unknown name,
    /// [`ExpectError::Unsupported`] for a model without data.
    pub fn new(
        model: &Model,
        gs: &[Expr],
        extra_vars: &[Symbol],
    ) -> Result<PreparedExpectations, ExpectError> {
        if model.data.is_empty() {
            return Err(no_data());
        }
        Ok(PreparedExpectations {
            prep: Prepared::new(model, gs, extra_vars)?,
        })
    }

    /// The expectations at the parameter values `params` (in the model's parameter order,
    /// checked against the domains) with the extra inputs at `extra_values`, and the values
    /// of `extra` after those of the compiled integrands (as [`expectations_with`]).
    ///
    /// # Errors
    ///
    /// Those of [`expectations_with`]; [`ExpectError::Unsupported`] when the numbers of
    /// values do not match.
    pub fn at(
        &self,
        params: &[f64],
        extra_values: &[f64],
        extra: Option<&mut dyn PointIntegrand>,
        q: &Quadrature,
    ) -> Result<Estimate, ExpectError> {
        let model = self.prep.model();
        if params.len() != model.params.len() || extra_values.len() != self.prep.n_extra_vars() {
            return Err(ExpectError::Unsupported {
                reason: format!(
                    "{} parameter values and {} extra values given, {} and {} needed",
                    params.len(),
                    extra_values.len(),
                    model.params.len(),
                    self.prep.n_extra_vars()
                ),
            });
        }
        // The checks of `parameter_values` for a point that names every parameter once.
        for (p, &v) in model.params.iter().zip(params) {
            if !p.domain.contains(v) {
                return Err(outside_domain(p, v));
            }
        }
        run(&self.prep, params, extra_values, extra, q)
    }
}

fn run(
    prep: &Prepared,
    params: &[f64],
    extra_values: &[f64],
    extra: Option<&mut dyn PointIntegrand>,
    q: &Quadrature,
) -> Result<Estimate, ExpectError> {
    let model = prep.model();
    let gs = prep.integrands();
    // Formatted only for an error.
    let point = || point_text(&model.param_names(), params);
    progress_begin(model.data.len(), q.max_points);
    // The integrand's object lifetime shortened to that of `prep`.
    let extra = extra.map(|e| e as &mut dyn PointIntegrand);
    let mut problem = Problem::new(prep, params, extra_values, extra, q);
    let r = problem.integrate(0, &mut Vec::new(), Tape::Main, q.rel_tol)?;
    let factor = if r.log_scale == f64::NEG_INFINITY {
        0.0
    } else {
        r.log_scale.exp()
    };
    if !factor.is_finite() {
        return Err(ExpectError::Unsupported {
            reason: format!(
                "∫p exceeds the range of f64 at {} (ln ∫p ≈ {})",
                point(),
                significant(r.log_scale + r.values[0].ln(), 5)
            ),
        });
    }
    for (k, ok) in r.converged.iter().enumerate() {
        if !ok {
            let what = if k == 0 {
                "∫p".to_string()
            } else if let Some(g) = gs.get(k - 1) {
                format!("E[{g}]")
            } else {
                format!("the pointwise integrand {}", k - 1 - gs.len())
            };
            let scale = r.values[k].abs().max(r.l1[k] * f64::EPSILON);
            let achieved = r.errors[k] / scale;
            return Err(ExpectError::NotConverged {
                what,
                // NaN (sums that overflowed) reads as infinitely far off.
                achieved: if achieved.is_nan() {
                    f64::INFINITY
                } else {
                    achieved
                },
                tol: q.rel_tol,
                at: point(),
            });
        }
    }
    Ok(Estimate {
        values: r.values[1..].iter().map(|v| v * factor).collect(),
        errors: r.errors[1..].iter().map(|v| v * factor).collect(),
        l1: r.l1[1..].iter().map(|v| v * factor).collect(),
        mass: r.values[0] * factor,
        mass_error: r.errors[0] * factor,
        evaluations: problem.evaluations,
    })
}

/// `∫ exp(logp(x; θ)) dx` and its estimated absolute error.
///
/// # Errors
///
/// Those of [`expectations`].
pub fn normalization(
    model: &Model,
    at: &Env<f64>,
    q: &Quadrature,
) -> Result<(f64, f64), ExpectError> {
    let est = expectations(model, at, &[], q)?;
    Ok((est.mass, est.mass_error))
}

/// `∫ exp(logp(x; θ)) dx`, checked to be 1: within `max(1e-6, 100 × its estimated error)`.
///
/// ```
/// use fisher_geometry::Model;
/// use fisher_geometry::Env;
/// use fisher_geometry::{Quadrature, check_normalized};
/// // The normal density without its −ln(2π)/2: ∫p = √(2π).
/// let model = Model::parse(
///     "data x : real\nparam mu : real\nparam sigma : positive\n\
///      logp = -0.5*((x - mu)/sigma)^2 - ln(sigma)",
///     "unnormalized",
/// )?;
/// let at = Env::new().with("mu", 0.0).with("sigma", 1.0);
/// let err = check_normalized(&model, &at, &Quadrature::default()).unwrap_err();
/// assert_eq!(err.to_string(), "log-density integrates to 2.5066 at mu=0, sigma=1, not 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ExpectError::NotNormalized`], and those of [`expectations`].
pub fn check_normalized(model: &Model, at: &Env<f64>, q: &Quadrature) -> Result<f64, ExpectError> {
    let (mass, error) = normalization(model, at, q)?;
    if (mass - 1.0).abs() > (100.0 * error).max(1e-6) {
        let params = parameter_values(model, at)?;
        return Err(ExpectError::NotNormalized {
            mass,
            at: point_text(&model.param_names(), &params),
        });
    }
    Ok(mass)
}
