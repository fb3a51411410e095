//! The Fisher information at a point, numerically, in its three forms
//! `E[s sᵀ] = Cov[s] = E[−∇²ℓ]`, with the checks that make the numbers trustworthy: the
//! density integrates to 1, the score has mean 0, and the log-density is twice
//! differentiable in θ (else the Hessian form is not the Fisher information).

use egg::{Language, Symbol};
use nalgebra::{DMatrix, DVector};
use num_dual::{DualNum, HyperDual64};

use crate::eval::{AccuracyError, Env, EvalError};
use crate::expect::{EndForms, ExpectError, PointIntegrand, Quadrature, complement_symbol};
use crate::expr::{Expr, Op, number, text};
use crate::model::{Model, Support};
use crate::simplify::{Derivatives, derive};

use super::closed_form;
use super::prepared::{FisherProblem, Order};
use super::verify::Verification;

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
        "the model could not be checked at any verification point ({reason}): a density that cannot be normalized has no Fisher information; `--no-verify` skips the checks"
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
    /// The point, in parameter order.
    pub at: Vec<(Symbol, f64)>,
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
    let e = &model.logp;
    let nodes = e.nodes();
    let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
    let smoothing = |k: &egg::Id| match &nodes[usize::from(*k)] {
        Op::Num(c) => {
            let k = c.value();
            k >= 3.0 || (k >= 2.0 && k.fract() == 0.0 && k % 2.0 == 0.0)
        }
        _ => false,
    };
    // abs nodes used only as the base of a smoothing power
    let mut uses = vec![(0usize, 0usize); nodes.len()]; // (all uses, smoothing uses)
    for n in nodes {
        for c in n.children() {
            uses[usize::from(*c)].0 += 1;
        }
        if let Op::Pow([b, k]) = n {
            if smoothing(k) {
                uses[usize::from(*b)].1 += 1;
            }
        }
    }
    nodes.iter().enumerate().find_map(|(i, n)| match n {
        Op::Abs([a]) | Op::Sign([a]) => {
            let smoothed = matches!(n, Op::Abs(_))
                && (matches!(&nodes[usize::from(*a)], Op::Pow([_, k]) if smoothing(k))
                    || (uses[i].0 > 0 && uses[i].0 == uses[i].1));
            let arg = e.subexpr(*a);
            (!smoothed && params.iter().any(|p| arg.contains(*p))).then(|| {
                let whole = Expr::apply(|ids| n.clone().map_children(|_| ids[0]), &[&arg]);
                text(&whole).to_string()
            })
        }
        _ => None,
    })
}

/// `name=value, …` for messages.
pub fn describe_point(at: &[(Symbol, f64)]) -> String {
    at.iter()
        .map(|(n, v)| format!("{n}={}", number(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An environment binding the model's constants and the point.
pub fn env_at(model: &Model, at: &[(Symbol, f64)]) -> Env<f64> {
    let mut env: Env<f64> = model.const_env().into_iter().collect();
    for (n, v) in at {
        env.insert(*n, *v);
    }
    env
}

/// The Fisher information at `at` (every parameter, in any order).
///
/// ```
/// use fisher_geometry::{Model, info};
/// let m = Model::builtin("cauchy")?;
/// let f = info::fisher_at(&m, &m.parse_point("x0=0,gamma=2")?)?;
/// assert!((f.matrix[(0, 0)] - 0.125).abs() < 1e-9); // F = 1/(2γ²)
/// assert_eq!(f.method.as_str(), "numeric");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`InfoError`]: the density does not integrate to 1, the score does not have mean 0, a
/// value is not finite inside the support, or the quadrature did not reach its accuracy.
pub fn fisher_at(model: &Model, at: &[(Symbol, f64)]) -> Result<FisherAt, InfoError> {
    let d = derive(model);
    fisher_at_with(model, &d, at)
}

/// [`fisher_at`] with derivatives already computed.
///
/// When the closed form exists, it is verified ([`super::verify::verify_fisher`]) at this
/// point and at the verification points; if it disagrees with quadrature anywhere, the
/// numeric `E[s sᵀ]` is reported instead and [`FisherAt::verification`] says why.
///
/// # Errors
///
/// As [`fisher_at`].
pub fn fisher_at_with(
    model: &Model,
    d: &Derivatives,
    at: &[(Symbol, f64)],
) -> Result<FisherAt, InfoError> {
    fisher_at_opts(model, d, at, true)
}

/// [`fisher_at_with`], with the verification of the closed form optional (`verify = false`
/// is `--no-verify`: the closed form is compared with the numeric forms at `at` only).
///
/// # Errors
///
/// As [`fisher_at`].
pub fn fisher_at_opts(
    model: &Model,
    d: &Derivatives,
    at: &[(Symbol, f64)],
    verify: bool,
) -> Result<FisherAt, InfoError> {
    let options = super::FieldOptions {
        verify,
        strict: false,
        ..super::FieldOptions::default()
    };
    let field =
        super::FisherField::from_parts(model, d.clone(), Some(closed_form(model)), options)?;
    field.fisher_at(at)
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

/// The three forms of `F` at `at` by quadrature, after checking that the density integrates
/// to 1 and the score has mean 0 there.
///
/// # Errors
///
/// As [`fisher_at`].
pub fn numeric_forms(
    model: &Model,
    d: &Derivatives,
    at: &[(Symbol, f64)],
) -> Result<NumericForms, InfoError> {
    numeric_forms_with(model, d, at, &Quadrature::default())
}

/// [`numeric_forms`] to the accuracy of `q`.
///
/// # Errors
///
/// As [`fisher_at`].
pub fn numeric_forms_with(
    model: &Model,
    d: &Derivatives,
    at: &[(Symbol, f64)],
    q: &Quadrature,
) -> Result<NumericForms, InfoError> {
    let theta = theta_of(model, at)?;
    let problem = FisherProblem::new(model, d, Order::Forms)?;
    Ok(problem.run(&theta, q)?.into_forms())
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

/// `D(p‖q) = E_p[ℓ(x; p) − ℓ(x; q)]` by numeric expectation, with its estimated error.
///
/// # Errors
///
/// As [`fisher_at`].
pub fn kl_numeric(
    model: &Model,
    p: &[(Symbol, f64)],
    q: &[(Symbol, f64)],
) -> Result<(f64, f64), InfoError> {
    kl_numeric_with(model, p, q, &Quadrature::default())
}

/// [`kl_numeric`] to the accuracy of `quad`.
///
/// # Errors
///
/// As [`fisher_at`].
pub fn kl_numeric_with(
    model: &Model,
    p: &[(Symbol, f64)],
    q: &[(Symbol, f64)],
    quad: &Quadrature,
) -> Result<(f64, f64), InfoError> {
    let options = super::FieldOptions {
        verify: false,
        numeric_only: true,
        ..super::FieldOptions::default()
    };
    super::KlField::with_options(model, options)?.numeric_named(p, q, quad)
}

/// The two KL Hessians at `θ' = θ` and how they were computed.
#[derive(Debug, Clone, PartialEq)]
pub struct KlHessians {
    /// `∇²_{θ'} D(θ‖θ')` at `θ' = θ`.
    pub forward: DMatrix<f64>,
    /// `∇²_{θ'} D(θ'‖θ)` at `θ' = θ`.
    pub reverse: DMatrix<f64>,
    /// `"closed-form"`: dual-number Hessians of the closed-form divergence; `"numeric"`:
    /// dual-number Hessians of the divergence integrands, summed over the quadrature nodes;
    /// `"numeric-kinks"`: the same with the pieces between the kinks of a non-smooth model
    /// moving with `θ'`.
    pub method: &'static str,
    /// Whether these are the Hessians of the divergence: false for a model with a kink in θ
    /// that the pieces cannot follow, where differentiating under the integral misses it.
    pub valid: bool,
}

/// The second derivatives of the KL divergence in either argument at `θ' = θ`, computed
/// from the divergence itself, never from `F`.
///
/// With a closed-form divergence `D(θ‖θ')`, num-dual Hessians of that expression in `θ` (with
/// `θ'` fixed) and in `θ'` (with `θ` fixed). Otherwise the divergences are numeric
/// expectations under `p_θ`: `D(θ‖θ') = E_θ[ℓ(θ) − ℓ(θ')]` and, reweighting by
/// `p_{θ'}/p_θ = e^Δ`, `D(θ'‖θ) = E_θ[e^Δ Δ]` with `Δ = ℓ(x; θ') − ℓ(x; θ)`. At every node of
/// the quadrature the integrand is evaluated with `θ'` as hyper-dual numbers
/// (`θ' = θ + ε₁eⱼ + ε₂eₖ`), and its `ε₁ε₂` parts are integrated: the exact second derivatives
/// of the quadrature sum for the divergence, on the node set that the accuracy test accepted
/// for them.
///
/// # Errors
///
/// As [`fisher_at`].
pub fn kl_hessians(model: &Model, at: &[(Symbol, f64)]) -> Result<KlHessians, InfoError> {
    kl_hessians_with(model, at, super::closed_kl(model).ok().as_ref())
}

/// [`kl_hessians`] with the closed-form divergence already derived (or `None` to use the
/// numeric route, as for a closed form that failed verification).
///
/// # Errors
///
/// As [`fisher_at`].
pub fn kl_hessians_with(
    model: &Model,
    at: &[(Symbol, f64)],
    closed: Option<&super::ClosedKl>,
) -> Result<KlHessians, InfoError> {
    KlHessianProblem::new(model)?.at(at, closed)
}

/// The numeric problem of [`kl_hessians`] prepared once per model: the log-density compiled
/// for the quadrature, the hyper-dual integrands written for the ends of the unit supports.
pub struct KlHessianProblem {
    model: Model,
    prep: crate::expect::PreparedExpectations,
    duals: KlDuals,
    kinked: bool,
}

impl std::fmt::Debug for KlHessianProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KlHessianProblem")
            .field("model", &self.model.name)
            .finish()
    }
}

impl KlHessianProblem {
    /// Prepares the problem.
    ///
    /// # Errors
    ///
    /// [`InfoError::Expect`] for a model without data.
    pub fn new(model: &Model) -> Result<KlHessianProblem, InfoError> {
        Ok(KlHessianProblem {
            model: model.clone(),
            prep: crate::expect::PreparedExpectations::new(model, &[], &[])?,
            duals: KlDuals::new(model, &[]),
            kinked: non_smooth(model).is_some(),
        })
    }

    /// [`kl_hessians_with`] at `at`.
    ///
    /// # Errors
    ///
    /// As [`fisher_at`].
    pub fn at(
        &mut self,
        at: &[(Symbol, f64)],
        closed: Option<&super::ClosedKl>,
    ) -> Result<KlHessians, InfoError> {
        let model = &self.model;
        let n = at.len();
        if let Some(kl) = closed {
            let mut env = env_at(model, at);
            for (p, q) in &kl.names {
                if let Some((_, v)) = at.iter().find(|(s, _)| s == p) {
                    env.insert(*q, *v);
                }
            }
            let ps: Vec<Symbol> = kl.names.iter().map(|(p, _)| *p).collect();
            let qs: Vec<Symbol> = kl.names.iter().map(|(_, q)| *q).collect();
            let (_, _, reverse) = crate::eval::hessian(&kl.expr, &ps, &env)?;
            let (_, _, forward) = crate::eval::hessian(&kl.expr, &qs, &env)?;
            return Ok(KlHessians {
                forward,
                reverse,
                method: "closed-form",
                valid: true,
            });
        }
        let theta = theta_of(model, at)?;
        let quad = Quadrature::default();
        let mass_checked = |est: &crate::expect::Estimate| {
            if (est.mass - 1.0).abs() > (100.0 * est.mass_error).max(1e-6) {
                return Err(InfoError::from(ExpectError::NotNormalized {
                    mass: est.mass,
                    at: describe_point(at),
                }));
            }
            Ok(())
        };
        if self.kinked {
            mass_checked(&self.prep.at(&theta, &[], None, &quad)?)?;
            if let Some(h) = super::kinked::kl_hessians(model, at)? {
                return Ok(h);
            }
        }
        self.duals.params = model
            .params
            .iter()
            .map(|p| p.name)
            .zip(theta.clone())
            .collect();
        let est = self.prep.at(&theta, &[], Some(&mut self.duals), &quad)?;
        mass_checked(&est)?;
        let forward = DMatrix::from_row_slice(n, n, &est.values[..n * n]);
        let reverse = DMatrix::from_row_slice(n, n, &est.values[n * n..]);
        Ok(KlHessians {
            forward,
            reverse,
            method: "numeric",
            valid: !self.kinked,
        })
    }
}

/// The `ε₁ε₂` parts of the divergence integrands `ℓ(θ) − ℓ(θ')` and `e^Δ Δ` with
/// `θ' = θ + ε₁eⱼ + ε₂eₖ` hyper-dual, for every `j, k`: the forward Hessian's entries in
/// row-major order, then the reverse one's.
struct KlDuals {
    /// The log-density, written for the halves of the unit supports.
    logp: EndForms,
    /// The complement inputs of the unit data variables, by data index.
    complements: Vec<Option<Symbol>>,
    env: Env<HyperDual64>,
    data: Vec<Symbol>,
    params: Vec<(Symbol, f64)>,
}

impl KlDuals {
    fn new(model: &Model, at: &[(Symbol, f64)]) -> KlDuals {
        let env = model
            .consts
            .iter()
            .map(|(s, v)| (*s, HyperDual64::from(*v)))
            .collect();
        KlDuals {
            logp: EndForms::new(model, &model.logp),
            complements: model
                .data
                .iter()
                .map(|d| (d.support == Support::Unit).then(|| complement_symbol(d.name)))
                .collect(),
            env,
            data: model.data_names(),
            params: at.to_vec(),
        }
    }
}

impl PointIntegrand for KlDuals {
    fn len(&self) -> usize {
        2 * self.params.len() * self.params.len()
    }

    fn eval(&mut self, data: &[f64], out: &mut [f64]) -> Result<(), String> {
        let complements: Vec<f64> = data.iter().map(|x| 1.0 - x).collect();
        self.eval_with_complements(data, &complements, out)
    }

    fn eval_with_complements(
        &mut self,
        data: &[f64],
        complements: &[f64],
        out: &mut [f64],
    ) -> Result<(), String> {
        let n = self.params.len();
        for (s, v) in self.data.iter().zip(data) {
            self.env.insert(*s, HyperDual64::from(*v));
        }
        for (s, c) in self.complements.iter().zip(complements) {
            if let Some(s) = s {
                self.env.insert(*s, HyperDual64::from(*c));
            }
        }
        let logp = self.logp.at(data, complements);
        for j in 0..n {
            for k in j..n {
                for (i, (s, v)) in self.params.iter().enumerate() {
                    let mut d = HyperDual64::from(*v);
                    if i == j {
                        d.eps1 = 1.0;
                    }
                    if i == k {
                        d.eps2 = 1.0;
                    }
                    self.env.insert(*s, d);
                }
                let lq = crate::eval::eval(logp, &self.env).map_err(|e| e.to_string())?;
                // ℓ(θ) is the real part of ℓ(θ') at θ' = θ.
                let delta = lq - lq.re;
                let forward = -lq;
                let reverse = delta.exp() * delta;
                for (m, (a, b)) in [(j, k), (k, j)].into_iter().enumerate() {
                    if m == 1 && j == k {
                        break;
                    }
                    out[a * n + b] = forward.eps1eps2;
                    out[n * n + a * n + b] = reverse.eps1eps2;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod smoothness_tests {
    use super::*;

    fn flag(logp: &str) -> Option<String> {
        let src = format!("data x : real\nparam mu : real\nlogp = {logp}\n");
        non_smooth(&Model::parse(&src, "m").unwrap())
    }

    #[test]
    fn kinks_in_theta_are_flagged_unless_a_power_smooths_them() {
        assert_eq!(flag("-abs(x - mu)").as_deref(), Some("abs(x - mu)"));
        assert_eq!(
            flag("-sign(x - mu)*(x - mu)").as_deref(),
            Some("sign(x - mu)")
        );
        // |u|^1.5 is only once differentiable at u = 0
        assert_eq!(flag("-abs(x - mu)^1.5").as_deref(), Some("abs(x - mu)"));
        // |u|³, |u³|, |u|² = u² are twice differentiable
        assert_eq!(flag("-abs(x - mu)^3"), None);
        assert_eq!(flag("-abs((x - mu)^3)"), None);
        assert_eq!(flag("-abs(x - mu)^2"), None);
        // a kink in the data only is no kink in θ
        assert_eq!(flag("-abs(x) - (x - mu)^2"), None);
        // used both smoothed and bare: still a kink
        assert_eq!(
            flag("-abs(x - mu)^3 - abs(x - mu)").as_deref(),
            Some("abs(x - mu)")
        );
    }
}
