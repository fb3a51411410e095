//! The Fisher information at a point, numerically, in its three forms
//! `E[s sᵀ] = Cov[s] = E[−∇²ℓ]`, with the checks that make the numbers trustworthy: the
//! density integrates to 1, the score has mean 0, and the log-density is twice
//! differentiable in θ (else the Hessian form is not the Fisher information).

use egg::Symbol;
use nalgebra::DMatrix;
use num_dual::{DualNum, HyperDual64};

use crate::eval::Env;
use crate::expect::{
    EndForms, ExpectError, IntegrandError, PointIntegrand, Quadrature, complement_symbol,
};
use crate::model::{Model, Support};
use crate::simplify::{Derivatives, derive};

use super::closed_form;
use super::prepared::{FisherProblem, Order};
pub use super::types::{
    FisherAt, Forms, HessianMethod, InfoError, KinkError, KlHessians, Method, NumericForms,
    non_smooth,
};
use super::types::{Point, describe_point, env_at, named_point, theta_of};

/// The Fisher information at `at` (every parameter, in any order).
///
/// ```
/// use fisher_geometry::{Model, Point, fisher_at};
/// let m = Model::builtin("cauchy")?;
/// let f = fisher_at(&m, &Point::parse(&m, "x0=0,gamma=2")?)?;
/// assert!((f.matrix[(0, 0)] - 0.125).abs() < 1e-9); // F = 1/(2γ²)
/// assert_eq!(f.method.as_str(), "numeric");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`InfoError`]: the density does not integrate to 1, the score does not have mean 0, a
/// value is not finite inside the support, or the quadrature did not reach its accuracy.
pub fn fisher_at(model: &Model, at: &Point) -> Result<FisherAt, InfoError> {
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
pub fn fisher_at_with(model: &Model, d: &Derivatives, at: &Point) -> Result<FisherAt, InfoError> {
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
    at: &Point,
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
pub fn kl_hessians(model: &Model, at: &Point) -> Result<KlHessians, InfoError> {
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
    at: &Point,
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
                method: HessianMethod::ClosedForm,
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
        self.duals.params = named_point(&model.param_names(), &theta).to_vec();
        let est = self.prep.at(&theta, &[], Some(&mut self.duals), &quad)?;
        mass_checked(&est)?;
        let forward = DMatrix::from_row_slice(n, n, &est.values[..n * n]);
        let reverse = DMatrix::from_row_slice(n, n, &est.values[n * n..]);
        Ok(KlHessians {
            forward,
            reverse,
            method: HessianMethod::Numeric,
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

    fn eval(&mut self, data: &[f64], out: &mut [f64]) -> Result<(), IntegrandError> {
        let complements: Vec<f64> = data.iter().map(|x| 1.0 - x).collect();
        self.eval_with_complements(data, &complements, out)
    }

    fn eval_with_complements(
        &mut self,
        data: &[f64],
        complements: &[f64],
        out: &mut [f64],
    ) -> Result<(), IntegrandError> {
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
                let lq = crate::eval::eval(logp, &self.env)?;
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
