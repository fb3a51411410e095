//! Expectations under the model, exact ([`exact`], the score-identity route of DESIGN §4)
//! and numeric: `E_θ[g(x; θ)] = ∫ p(x; θ) g(x; θ) dx`, with
//! `p = exp(logp)`, by quadrature over continuous data supports and summation over discrete
//! ones, nested for several data variables.
//!
//! ```
//! use fisher_geometry::{Model, simplify};
//! use fisher_geometry::eval::Env;
//! use fisher_geometry::expect::{Quadrature, expectations};
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

pub mod exact;
mod numeric;
mod progress;

pub use progress::{Progress, with_progress};
use progress::{progress_begin, progress_inc};

pub(crate) use numeric::affine_root;
mod quadrature;

use egg::Symbol;

use crate::eval::{Env, EvalError};
use crate::expr::Expr;
use crate::model::Model;

use numeric::{Prepared, Problem, Tape};

/// Integrands given as a function of the data point, evaluated at every node of the
/// quadrature alongside the compiled ones (see [`expectations_with`]).
///
/// This is how dual numbers enter a numeric expectation: the function evaluates its
/// integrand over dual numbers and writes out their components, each of which is an
/// ordinary real integrand. Expectation is linear, so the expectation of a component is the
/// component of the expectation, for the very node set that the accuracy test accepted.
pub trait PointIntegrand {
    /// The number of values written per point.
    fn len(&self) -> usize;

    /// Whether there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the values at the data point `data` (in the model's data order) into `out`
    /// (of length [`len`](Self::len)); an error explains why it could not.
    ///
    /// # Errors
    ///
    /// A message saying what could not be evaluated.
    fn eval(&mut self, data: &[f64], out: &mut [f64]) -> Result<(), String>;

    /// [`eval`](Self::eval) with `complements[j] = 1 − data[j]`, exact where `data[j]` is a
    /// unit variable near 1 (where `data[j]` itself may have rounded to 1); integrands
    /// that can lose the distance to 1 (`ln(1 − x^a)`) override this and read it, for
    /// example through [`EndForms`]. By default the complements are ignored.
    ///
    /// # Errors
    ///
    /// As [`eval`](Self::eval).
    fn eval_with_complements(
        &mut self,
        data: &[f64],
        complements: &[f64],
        out: &mut [f64],
    ) -> Result<(), String> {
        let _ = complements;
        self.eval(data, out)
    }
}

/// The name of the input that holds `1 − x` for a unit data variable `x` in the forms of
/// [`EndForms`] (a name no model can declare).
pub fn complement_symbol(x: Symbol) -> Symbol {
    numeric::complement_name(x)
}

/// An expression written for data points near the ends of the unit supports.
///
/// A quadrature node on (0, 1) carries its distance to 1 exactly (from the map's parameter,
/// not by subtraction), while `x` itself rounds to 1 within `1e-16` of it, where
/// `ln(1 − x^a)` would be `−∞`. The form for a data point reads `1 − x` from the input
/// [`complement_symbol`]`(x)`, and for each unit variable in the upper half (`1 − x < x`)
/// writes every subexpression that cancels near 1 in the complement
/// (`ln(1 − x^a) = ln(−expm1(a·log1p(−x̄)))`). The forms are exact rewrites of the
/// expression, one per combination of halves, made when first needed.
///
/// ```
/// use fisher_geometry::Model;
/// use fisher_geometry::eval::{Env, eval_f64};
/// use fisher_geometry::expect::{EndForms, complement_symbol};
/// let model = Model::parse(
///     "data x : unit\nparam a : positive\nparam b : positive\n\
///      logp = ln(a) + ln(b) + (a-1)*ln(x) + (b-1)*ln(1 - x^a)",
///     "kumaraswamy",
/// )?;
/// let mut forms = EndForms::new(&model, &model.logp);
/// let c = 1e-30; // x = 1 − 1e-30 rounds to 1
/// let form = forms.at(&[1.0], &[c]).clone();
/// let env = Env::new()
///     .with("x", 1.0)
///     .with(complement_symbol("x".into()), c)
///     .with("a", 2.0)
///     .with("b", 0.5);
/// let lp = eval_f64(&form, &env)?;
/// // ln 2 + ln 0.5 − 0.5·ln(1 − x²), with 1 − x² ≈ 2·1e-30
/// assert!((lp + 0.5 * (2e-30f64).ln()).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct EndForms {
    expr: Expr,
    /// `(data index, name)` of each unit variable.
    unit: Vec<(usize, Symbol)>,
    /// Names known positive.
    positive: Vec<Symbol>,
    forms: std::collections::HashMap<u64, Expr>,
}

impl EndForms {
    /// The forms of `expr` for the unit data variables of `model`.
    pub fn new(model: &Model, expr: &Expr) -> EndForms {
        let unit: Vec<(usize, Symbol)> = model
            .data
            .iter()
            .enumerate()
            .filter(|(_, d)| d.support == crate::model::Support::Unit)
            .map(|(j, d)| (j, d.name))
            .collect();
        let names: Vec<Symbol> = unit.iter().map(|(_, s)| *s).collect();
        EndForms {
            expr: numeric::use_complements(expr, &names),
            positive: numeric::positive_names(model),
            unit,
            forms: std::collections::HashMap::new(),
        }
    }

    /// The form for the data point `data` (in the model's data order) with
    /// `complements[j] = 1 − data[j]`.
    pub fn at(&mut self, data: &[f64], complements: &[f64]) -> &Expr {
        let upper = |j: usize| {
            complements
                .get(j)
                .zip(data.get(j))
                .is_some_and(|(c, x)| c < x)
        };
        let mask = self
            .unit
            .iter()
            .enumerate()
            .filter(|(_, (j, _))| upper(*j))
            .fold(0u64, |m, (b, _)| m | 1 << b);
        let (expr, unit, positive) = (&self.expr, &self.unit, &self.positive);
        self.forms.entry(mask).or_insert_with(|| {
            let names: Vec<Symbol> = unit
                .iter()
                .enumerate()
                .filter(|(b, _)| mask >> b & 1 == 1)
                .map(|(_, (_, s))| *s)
                .collect();
            numeric::split_logs(&numeric::reflect(expr, &names), positive)
        })
    }
}

/// The default budget of one expectation, [`Quadrature::max_points`].
pub const MAX_POINTS: usize = 2_000_000;

/// Accuracy and effort of numeric expectations.
///
/// A value is accepted when its estimated absolute error is at most
/// `max(abs_tol, rel_tol · ∫|p g|)`; the scale `∫|p g|` (rather than `|∫p g|`) keeps
/// expectations that vanish, like `E[s] = 0`, meaningful. Requests below a few ulps
/// (`4ε ≈ 9e-16`) are treated as `4ε`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quadrature {
    /// Relative tolerance (default `1e-10`, so that results are good to `1e-8` with margin).
    pub rel_tol: f64,
    /// Absolute tolerance (default 0: relative only).
    pub abs_tol: f64,
    /// Largest number of halvings of the double-exponential step `h = ½` (default 10).
    pub max_level: usize,
    /// Largest number of terms summed over a discrete support (default 1,000,000).
    pub max_terms: usize,
    /// Largest number of points at which one expectation evaluates the log-density and its
    /// integrands (default 2,000,000, a second or two); past it the expectation is refused
    /// with [`ExpectError::OverBudget`]. This bounds the cost of every command, whatever the
    /// number of data variables.
    pub max_points: usize,
}

impl Default for Quadrature {
    fn default() -> Self {
        Quadrature {
            rel_tol: 1e-10,
            abs_tol: 0.0,
            max_level: 10,
            max_terms: 1_000_000,
            max_points: MAX_POINTS,
        }
    }
}

/// Numeric expectations `E_θ[g_k] = ∫ p g_k` with error estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// `∫ p(x; θ) g_k(x; θ) dx` for each `g_k` (not divided by the mass).
    pub values: Vec<f64>,
    /// The estimated absolute error of each value.
    pub errors: Vec<f64>,
    /// `∫ p(x; θ) dx`, computed alongside (1 for a normalized model).
    pub mass: f64,
    /// The estimated absolute error of `mass`.
    pub mass_error: f64,
    /// Points at which the compiled log-density and integrands were evaluated.
    pub evaluations: usize,
}

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
    #[error("{what} is not finite at {point} (declared support {support}): {detail}")]
    NotFinite {
        /// `log-density`, or the integrand in backticks.
        what: String,
        /// The data point, `x=-1`.
        point: String,
        /// The declared supports of the data variables.
        support: String,
        /// The innermost subexpression that is not finite.
        detail: String,
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
    /// The expectation needs more evaluations than [`Quadrature::max_points`] allows.
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

/// `v` rounded to `digits` significant digits, printed by [`crate::expr::number`].
fn significant(v: f64, digits: usize) -> String {
    let rounded = format!("{:.*e}", digits.saturating_sub(1), v)
        .parse::<f64>()
        .unwrap_or(v);
    crate::expr::number(rounded)
}

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
                Err(ExpectError::OutsideDomain {
                    name: p.name.to_string(),
                    value: crate::expr::number(v),
                    domain: p.domain.to_string(),
                })
            }
        })
        .collect()
}

/// The point as `mu=0, sigma=1`, in parameter order.
fn point_text(names: &[Symbol], values: &[f64]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={}", crate::expr::number(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `E_θ[g_k(x; θ)] = ∫ exp(logp(x; θ)) g_k(x; θ) dx` for each `g_k` (a sum over discrete
/// supports, nested over several data variables), with `∫ exp(logp)` alongside.
///
/// `at` binds every parameter (constants come from the model). The values are not divided
/// by the mass; use [`check_normalized`] first when the model might not be normalized.
///
/// ```
/// use fisher_geometry::Model;
/// use fisher_geometry::eval::Env;
/// use fisher_geometry::expect::{Quadrature, expectations};
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
/// use fisher_geometry::eval::Env;
/// use fisher_geometry::expect::{PointIntegrand, Quadrature, expectations_with};
/// /// `x³`, by a closure rather than an expression.
/// struct Cube;
/// impl PointIntegrand for Cube {
///     fn len(&self) -> usize { 1 }
///     fn eval(&mut self, data: &[f64], out: &mut [f64]) -> Result<(), String> {
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
/// Those of [`expectations`]; [`ExpectError::NotFinite`] also where `extra` fails or gives
/// a value that is not finite.
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
    run(&prep, params, Vec::new(), extra, q)
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
/// use fisher_geometry::expect::{PreparedExpectations, Quadrature};
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
        let env: Env<f64> = model
            .params
            .iter()
            .zip(params)
            .map(|(p, v)| (p.name, *v))
            .collect();
        let params = parameter_values(model, &env)?;
        run(&self.prep, params, extra_values.to_vec(), extra, q)
    }
}

fn run(
    prep: &Prepared,
    params: Vec<f64>,
    extra_values: Vec<f64>,
    extra: Option<&mut dyn PointIntegrand>,
    q: &Quadrature,
) -> Result<Estimate, ExpectError> {
    let model = prep.model();
    let gs = prep.integrands();
    let point = point_text(&model.param_names(), &params);
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
                "∫p exceeds the range of f64 at {point} (ln ∫p ≈ {})",
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
                at: point,
            });
        }
    }
    Ok(Estimate {
        values: r.values[1..].iter().map(|v| v * factor).collect(),
        errors: r.errors[1..].iter().map(|v| v * factor).collect(),
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
/// use fisher_geometry::eval::Env;
/// use fisher_geometry::expect::{Quadrature, check_normalized};
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
