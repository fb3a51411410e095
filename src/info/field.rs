//! The Fisher field: `F(θ)` and its θ-derivatives at any point, with everything symbolic
//! done once per model (DESIGN §4, "The Fisher field").
//!
//! [`FisherField::new`] derives the score and Hessian, tries the closed form and verifies it
//! against quadrature ([`super::verify`]); then
//!
//! - on the closed-form route, the upper triangle of `F`, and on first use its symbolic
//!   θ-derivatives `∂F/∂θ_l` and `∂²F/∂θ_l∂θ_m`, are compiled into flat tapes
//!   ([`crate::eval::Compiled`]): a point costs one pass over the tape;
//! - on the numeric route, the quadrature problem (the compiled log-density and integrands,
//!   the maps of the supports, the derivatives that locate modes) is prepared once
//!   ([`crate::expect::PreparedExpectations`]); the θ-derivatives are expectations of exact
//!   derivatives of the integrands, on the same nodes as `F` (see the module `prepared`).
//!
//! ```
//! use fisher_geometry::{Model, FisherField};
//! let model = Model::builtin("normal")?;
//! let field = FisherField::new(&model)?;
//! let f = field.at(&[0.0, 2.0])?; // μ = 0, σ = 2
//! assert!((f[(1, 1)] - 0.5).abs() < 1e-15); // F_σσ = 2/σ²
//! let d = field.with_derivatives(&[0.0, 2.0])?;
//! assert!((d.df[1][(1, 1)] + 0.5).abs() < 1e-15); // ∂F_σσ/∂σ = −4/σ³
//! assert!((d.d2f[1][1][(1, 1)] - 0.75).abs() < 1e-15); // ∂²F_σσ/∂σ² = 12/σ⁴
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::sync::OnceLock;

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::expect::exact::RouteError;
use crate::expect::{ExpectError, Quadrature};
use crate::model::Model;
use crate::simplify::{Derivatives, derive};

use super::closed_tapes::{ClosedTapes, lossy, plain};
use super::prepared::{FisherProblem, FisherSums, Order, pairs, symmetric};
use super::types::{
    FisherAt, InfoError, Method, NumericForms, check_theta, describe_point, discrepancy,
    named_point, non_smooth, theta_of,
};
use super::verify::{self, Point, Verification};
use super::{ClosedForm, closed_form};

/// How a [`FisherField`] is built.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldOptions {
    /// Verify the closed form against quadrature at the verification points (`--no-verify`
    /// turns it off). Default on.
    pub verify: bool,
    /// With `verify`, a verification point where the model itself is at fault (it does not
    /// integrate to 1 there) is an error; without, it is skipped (a command asked about
    /// another point reports about that point). Default on.
    pub strict: bool,
    /// Use the numeric route even where a closed form exists. Default off.
    pub numeric_only: bool,
    /// The accuracy of the numeric route.
    pub quadrature: Quadrature,
}

impl Default for FieldOptions {
    fn default() -> Self {
        FieldOptions {
            verify: true,
            strict: true,
            numeric_only: false,
            quadrature: Quadrature::default(),
        }
    }
}

/// `F` with its first and second θ-derivatives at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDerivatives {
    /// `F(θ)`.
    pub f: DMatrix<f64>,
    /// `df[l] = ∂F/∂θ_l`.
    pub df: Vec<DMatrix<f64>>,
    /// `d2f[l][m] = ∂²F/∂θ_l∂θ_m` (empty from [`FisherField::with_gradient`]).
    pub d2f: Vec<Vec<DMatrix<f64>>>,
}

/// The Fisher information of a model as a field over θ (see the module documentation).
#[derive(Debug)]
pub struct FisherField {
    model: Model,
    derivatives: Derivatives,
    /// `None` when the closed form was not tried ([`FieldOptions::numeric_only`]).
    closed_form: Option<Result<ClosedForm, RouteError>>,
    verification: Option<Verification>,
    /// The verified closed form, compiled.
    closed: Option<ClosedTapes>,
    non_smooth: Option<String>,
    quadrature: Quadrature,
    options: FieldOptions,
    /// The open interval of each parameter's domain.
    bounds: Vec<(f64, f64)>,
    /// `E[s sᵀ]` at the verification points (at the accuracy of
    /// [`verify::verify_quadrature`]), computed once: every later check of the closed form
    /// at another point reuses them.
    verified_at: Vec<(Point, Result<DMatrix<f64>, InfoError>)>,
    /// The numeric problems, by [`Order`] (value, forms, first, second).
    numeric: [OnceLock<Result<FisherProblem, InfoError>>; 4],
}

thread_local! {
    /// Working memory of the compiled tapes: the slots, then the outputs.
    static SCRATCH: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// [`crate::eval::Compiled::eval_each`] with working memory on the stack for a small tape (no allocation,
/// and no more zeroing than the tape needs), in [`SCRATCH`] otherwise.
fn eval_small(
    tape: &crate::eval::Compiled,
    theta: &[f64],
    sink: &mut impl FnMut(usize, f64),
) -> Result<(), crate::eval::EvalError> {
    match tape.len() {
        0..=16 => tape.eval_each(theta, &mut [0.0; 16], sink),
        17..=32 => tape.eval_each(theta, &mut [0.0; 32], sink),
        33..=64 => tape.eval_each(theta, &mut [0.0; 64], sink),
        65..=128 => tape.eval_each(theta, &mut [0.0; 128], sink),
        _ => SCRATCH.with_borrow_mut(|(slots, _)| {
            slots.resize(tape.len(), 0.0);
            tape.eval_each(theta, slots, sink)
        }),
    }
}

fn order_index(order: Order) -> usize {
    match order {
        Order::Value => 0,
        Order::Forms => 1,
        Order::First => 2,
        Order::Second => 3,
    }
}

impl FisherField {
    /// The field of `model`, verified.
    ///
    /// # Errors
    ///
    /// An [`InfoError`] when quadrature shows the model is at fault at a verification point
    /// (it does not integrate to 1, its score does not have mean 0), or when it could be
    /// checked at none of them.
    pub fn new(model: &Model) -> Result<FisherField, InfoError> {
        FisherField::with_options(model, FieldOptions::default())
    }

    /// The field with the choices of `options`.
    ///
    /// # Errors
    ///
    /// As [`FisherField::new`].
    pub fn with_options(model: &Model, options: FieldOptions) -> Result<FisherField, InfoError> {
        let derivatives = derive(model);
        let closed = (!options.numeric_only).then(|| closed_form(model));
        FisherField::from_parts(model, derivatives, closed, options)
    }

    /// The field from derivatives and a closed-form route already computed (as `fisher
    /// derive` has them; `None`: the closed form is not tried).
    ///
    /// # Errors
    ///
    /// As [`FisherField::new`].
    pub fn from_parts(
        model: &Model,
        derivatives: Derivatives,
        closed_form: Option<Result<ClosedForm, RouteError>>,
        options: FieldOptions,
    ) -> Result<FisherField, InfoError> {
        let mut field = FisherField {
            model: model.clone(),
            derivatives,
            closed_form,
            verification: None,
            closed: None,
            non_smooth: non_smooth(model),
            quadrature: options.quadrature.clone(),
            options,
            bounds: model.params.iter().map(|p| p.domain.bounds()).collect(),
            verified_at: Vec::new(),
            numeric: Default::default(),
        };
        if !matches!(field.closed_form, Some(Ok(_))) {
            return Ok(field);
        }
        let too_large = verify::too_large_to_verify(model);
        let verification = if field.options.verify && too_large.is_none() {
            let q = verify::verify_quadrature();
            field.verified_at = verify::verification_points(model)
                .into_iter()
                .map(|at| {
                    let numeric = theta_of(model, &at)
                        .and_then(|theta| Ok(field.problem(Order::Value)?.run(&theta, &q)?.outer));
                    (at, numeric)
                })
                .collect();
            let v = field.verify_with(&[], field.options.strict)?;
            if let Verification::Unchecked { reason, .. } = &v {
                if v.nothing_checked() && field.options.strict {
                    return Err(InfoError::Unchecked {
                        reason: reason.clone(),
                    });
                }
            }
            v
        } else if field.options.verify {
            // too large: `verify_with` says so
            field.verify_with(&[], false)?
        } else {
            Verification::Skipped
        };
        if let (true, Some(Ok(f))) = (verification.usable(), &field.closed_form) {
            field.closed = Some(ClosedTapes::new(model, f));
        }
        field.verification = Some(verification);
        Ok(field)
    }

    /// The verification of the closed form at the points of `known` (with their numeric
    /// matrices) and at the verification points, from [`Self::verified_at`].
    fn verify_with(
        &self,
        known: &[(Point, DMatrix<f64>)],
        strict: bool,
    ) -> Result<Verification, InfoError> {
        let Some(Ok(f)) = &self.closed_form else {
            return Ok(Verification::Skipped);
        };
        let mut numeric = |at: &Point| -> Result<DMatrix<f64>, InfoError> {
            self.verified_at
                .iter()
                .find(|(p, _)| p == at)
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| {
                    Err(InfoError::Unchecked {
                        reason: "not a verification point".to_string(),
                    })
                })
        };
        verify::verify_fisher_by(&self.model, f, known, strict, &mut numeric)
    }

    /// Everything `fisher eval` reports at a named point: the three forms by quadrature, the
    /// closed form when it exists (checked at this point too), their largest discrepancy and
    /// the checks `∫p = 1`, `E[s] = 0`. When the closed form disagrees with quadrature here
    /// or at a verification point, the numeric `E[s sᵀ]` is reported and
    /// [`FisherAt::verification`] says why.
    ///
    /// # Errors
    ///
    /// As [`FisherField::forms`]; [`InfoError::Accuracy`] when the closed form cannot be
    /// evaluated here.
    pub fn fisher_at(&self, at: &Point) -> Result<FisherAt, InfoError> {
        let theta = self.theta(at)?;
        let NumericForms {
            forms,
            mass,
            mean_score,
        } = self.forms(&theta, &self.quadrature)?;
        let mut verification = self.verification.clone();
        let (matrix, method) = match self.closed_form_route() {
            Some(Ok(f)) => {
                if self.options.verify {
                    let known = [(at.clone(), forms.outer_product.clone())];
                    verification = Some(self.verify_with(&known, false)?);
                }
                if verification.as_ref().is_none_or(Verification::usable) {
                    let at = named_point(&self.derivatives.params, &theta);
                    let closed = verify::closed_matrix(&self.model, &f.matrix, &at)?;
                    (closed, Method::ClosedForm)
                } else {
                    (forms.outer_product.clone(), Method::Numeric)
                }
            }
            _ => (forms.outer_product.clone(), Method::Numeric),
        };
        let mut candidates = vec![&forms.outer_product, &forms.covariance];
        if self.non_smooth.is_none() {
            candidates.push(&forms.negative_hessian);
        }
        let worst = candidates
            .iter()
            .map(|a| discrepancy(a, &matrix))
            .fold(0.0, f64::max);
        Ok(FisherAt {
            at: at.clone(),
            matrix,
            method,
            forms,
            max_rel_discrepancy: worst,
            non_smooth: self.non_smooth.clone(),
            mass,
            mean_score,
            verification,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The simplified log-density, score and Hessian.
    pub fn derivatives(&self) -> &Derivatives {
        &self.derivatives
    }

    /// What the closed-form route gave before verification (`None`: not tried).
    pub fn closed_form_route(&self) -> Option<&Result<ClosedForm, RouteError>> {
        self.closed_form.as_ref()
    }

    /// The closed form the field evaluates: derived and not failed verification.
    pub fn closed_form(&self) -> Option<&ClosedForm> {
        let derived = self.closed_form.as_ref().and_then(|r| r.as_ref().ok());
        self.closed.as_ref().and(derived)
    }

    /// How the closed form was verified (`None` without one).
    pub fn verification(&self) -> Option<&Verification> {
        self.verification.as_ref()
    }

    /// The route the field evaluates.
    pub fn method(&self) -> Method {
        if self.closed.is_some() {
            Method::ClosedForm
        } else {
            Method::Numeric
        }
    }

    /// `Some(subexpression)` when the log-density has a kink in θ (`abs(x - mu)`).
    pub fn non_smooth(&self) -> Option<&str> {
        self.non_smooth.as_deref()
    }

    /// The accuracy of the numeric route.
    pub fn quadrature(&self) -> &Quadrature {
        &self.quadrature
    }

    /// The number of parameters.
    pub fn dim(&self) -> usize {
        self.model.params.len()
    }

    /// The values of a named point (every parameter, in any order) in parameter order.
    ///
    /// # Errors
    ///
    /// [`InfoError::Expect`] for an unknown or missing parameter.
    pub fn theta(&self, at: &Point) -> Result<Vec<f64>, InfoError> {
        theta_of(&self.model, at)
    }

    /// The numeric problem of `order`, prepared on first use.
    fn problem(&self, order: Order) -> Result<&FisherProblem, InfoError> {
        self.numeric[order_index(order)]
            .get_or_init(|| FisherProblem::new(&self.model, &self.derivatives, order))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `θ` as a named point, for messages.
    fn describe(&self, theta: &[f64]) -> String {
        let at = named_point(&self.derivatives.params, theta);
        describe_point(&at)
    }

    /// Checks the length of `theta` and the domains.
    fn check(&self, theta: &[f64]) -> Result<(), InfoError> {
        let inside = theta.len() == self.bounds.len()
            && theta
                .iter()
                .zip(&self.bounds)
                .all(|(v, (lo, hi))| v > lo && v < hi);
        if inside {
            return Ok(());
        }
        check_theta(&self.model, theta)
    }

    /// `F(θ)`, `θ` in parameter order.
    ///
    /// # Errors
    ///
    /// [`InfoError`]: `θ` outside the domains; on the closed-form route an entry outside the
    /// range of `f64` ([`InfoError::Accuracy`]); on the numeric route the failures of
    /// quadrature and the checks `∫p = 1`, `E[s] = 0`.
    pub fn at(&self, theta: &[f64]) -> Result<DMatrix<f64>, InfoError> {
        let n = self.dim();
        let mut out = DMatrix::zeros(n, n);
        self.at_into(theta, &mut out)?;
        Ok(out)
    }

    /// [`FisherField::at`] into `out` (`n × n`; another shape is replaced by one): on the
    /// closed-form route no allocation, the entries computed straight into their places.
    ///
    /// # Errors
    ///
    /// As [`FisherField::at`].
    pub fn at_into(&self, theta: &[f64], out: &mut DMatrix<f64>) -> Result<(), InfoError> {
        self.check(theta)?;
        let n = self.dim();
        let Some(closed) = &self.closed else {
            *out = self
                .problem(Order::Value)?
                .run(theta, &self.quadrature)?
                .outer;
            return Ok(());
        };
        let tape = closed.tape(0)?;
        if out.shape() != (n, n) {
            *out = DMatrix::zeros(n, n);
        }
        let targets = closed.targets(0);
        let entries = out.as_mut_slice();
        let mut fine = true;
        let mut sink = |i: usize, v: f64| {
            // One output per entry of the upper triangle, then one magnitude per entry.
            match targets.get(i) {
                Some(t) => {
                    fine &= plain(v);
                    entries[t.a] = v;
                    entries[t.b] = v;
                }
                None => fine &= !lossy(entries[targets[i - targets.len()].a], v),
            }
        };
        eval_small(tape, theta, &mut sink)?;
        if !fine {
            // Non-finite, near the ends of the range of f64, or cancelled beyond the field's
            // accuracy: the accurate evaluator computes it, or says why it cannot
            // (underflow, overflow, a subexpression that is undefined).
            *out = self.accurate(theta)?;
        }
        Ok(())
    }

    /// The closed form at `θ` evaluated to relative `1e-12` ([`crate::eval::eval_accurate`]:
    /// more precision where `f64` cancels), as the commands print it.
    ///
    /// # Errors
    ///
    /// [`InfoError::Accuracy`] as [`super::verify::closed_matrix`]; on the numeric route, as
    /// [`FisherField::at`].
    pub fn accurate(&self, theta: &[f64]) -> Result<DMatrix<f64>, InfoError> {
        self.check(theta)?;
        match self.closed_form() {
            Some(f) => {
                let at = named_point(&self.derivatives.params, theta);
                verify::closed_matrix(&self.model, &f.matrix, &at)
            }
            None => self.at(theta),
        }
    }

    /// `F` and `∂F/∂θ_l` at `θ` ([`FieldDerivatives::d2f`] empty).
    ///
    /// # Errors
    ///
    /// As [`FisherField::at`]; [`InfoError::NonSmooth`] on the numeric route for a model
    /// with a kink in θ, where differentiating under the integral misses the kink.
    pub fn with_gradient(&self, theta: &[f64]) -> Result<FieldDerivatives, InfoError> {
        self.derivatives_of(theta, 1)
    }

    /// `F`, `∂F/∂θ_l` and `∂²F/∂θ_l∂θ_m` at `θ`.
    ///
    /// # Errors
    ///
    /// As [`FisherField::with_gradient`].
    pub fn with_derivatives(&self, theta: &[f64]) -> Result<FieldDerivatives, InfoError> {
        self.derivatives_of(theta, 2)
    }

    /// [`FisherField::with_gradient`] into `f` (`n × n`) and `df` (`n` matrices `n × n`;
    /// matrices of another shape are replaced): on the closed-form route no allocation, for
    /// the inner loops of geodesics and samplers.
    ///
    /// # Errors
    ///
    /// As [`FisherField::with_gradient`]; [`InfoError::Expect`] when `df` does not hold `n`
    /// matrices.
    pub fn with_gradient_into(
        &self,
        theta: &[f64],
        f: &mut DMatrix<f64>,
        df: &mut [DMatrix<f64>],
    ) -> Result<(), InfoError> {
        let n = self.dim();
        if df.len() != n {
            return Err(ExpectError::Unsupported {
                reason: format!("{} matrices given for the {n} derivatives of F", df.len()),
            }
            .into());
        }
        let Some(closed) = &self.closed else {
            let d = self.with_gradient(theta)?;
            *f = d.f;
            for (a, b) in df.iter_mut().zip(d.df) {
                *a = b;
            }
            return Ok(());
        };
        self.check(theta)?;
        let tape = closed.tape(1)?;
        if f.shape() != (n, n) {
            *f = DMatrix::zeros(n, n);
        }
        for d in df.iter_mut() {
            if d.shape() != (n, n) {
                *d = DMatrix::zeros(n, n);
            }
        }
        let targets = closed.targets(1);
        let start = closed.magnitude_start(tape.n_outputs());
        let mut fine = true;
        let mut bad = None;
        let mut sink = |i: usize, v: f64| {
            if i >= start {
                fine &= !lossy(f.as_slice()[targets[i - start].a], v);
                return;
            }
            let t = targets[i];
            let m = match t.block {
                0 => {
                    fine &= plain(v);
                    &mut *f
                }
                l => &mut df[l - 1],
            };
            if !v.is_finite() && bad.is_none() {
                bad = Some(i);
            }
            let entries = m.as_mut_slice();
            entries[t.a] = v;
            entries[t.b] = v;
        };
        eval_small(tape, theta, &mut sink)?;
        self.settle(closed, theta, bad, fine, f)
    }

    /// [`FisherField::with_derivatives`] into `out` (its matrices reshaped where they do not
    /// fit): on the closed-form route no allocation once `out` has its shape, for the inner
    /// loops of geodesic shooting and samplers.
    ///
    /// # Errors
    ///
    /// As [`FisherField::with_derivatives`].
    pub fn with_derivatives_into(
        &self,
        theta: &[f64],
        out: &mut FieldDerivatives,
    ) -> Result<(), InfoError> {
        let n = self.dim();
        let Some(closed) = &self.closed else {
            *out = self.with_derivatives(theta)?;
            return Ok(());
        };
        self.check(theta)?;
        let tape = closed.tape(2)?;
        let fit = |m: &mut DMatrix<f64>| {
            if m.shape() != (n, n) {
                *m = DMatrix::zeros(n, n);
            }
        };
        fit(&mut out.f);
        out.df.resize_with(n, || DMatrix::zeros(n, n));
        out.df.iter_mut().for_each(fit);
        out.d2f.resize_with(n, Vec::new);
        for row in &mut out.d2f {
            row.resize_with(n, || DMatrix::zeros(n, n));
            row.iter_mut().for_each(fit);
        }
        // The tape's outputs: the upper triangle of F, of each ∂_l F, then of each ∂_l∂_m F
        // for l ≤ m, every triangle and the pairs (l, m) in row order.
        let np = n * (n + 1) / 2;
        let pair = |mut e: usize| {
            let mut j = 0;
            while e >= n - j {
                e -= n - j;
                j += 1;
            }
            (j, j + e)
        };
        let (mut fine, mut bad) = (true, None);
        let start = closed.magnitude_start(tape.n_outputs());
        let FieldDerivatives { f, df, d2f } = out;
        let mut sink = |i: usize, v: f64| {
            let (block, (j, k)) = (i / np, pair(i % np));
            if i >= start {
                fine &= !lossy(f[(j, k)], v);
                return;
            }
            if !v.is_finite() && bad.is_none() {
                bad = Some(i);
            }
            let put = |m: &mut DMatrix<f64>| {
                m[(j, k)] = v;
                m[(k, j)] = v;
            };
            if block == 0 {
                fine &= plain(v);
                put(f);
            } else if block <= n {
                put(&mut df[block - 1]);
            } else {
                let (l, m) = pair(block - 1 - n);
                put(&mut d2f[l][m]);
                put(&mut d2f[m][l]);
            }
        };
        eval_small(tape, theta, &mut sink)?;
        self.settle(closed, theta, bad, fine, f)
    }

    /// The end of an evaluation into place: an output that was not finite is an error naming
    /// it; an `F` entry near the ends of the range of `f64` (`!fine`) has `F` evaluated again
    /// by the accurate evaluator.
    fn settle(
        &self,
        closed: &ClosedTapes,
        theta: &[f64],
        bad: Option<usize>,
        fine: bool,
        f: &mut DMatrix<f64>,
    ) -> Result<(), InfoError> {
        if let Some(i) = bad {
            return Err(InfoError::NonFinite {
                what: closed.output_name(&self.model, i),
                at: self.describe(theta),
            });
        }
        if !fine {
            *f = self.accurate(theta)?;
        }
        Ok(())
    }

    fn derivatives_of(&self, theta: &[f64], order: usize) -> Result<FieldDerivatives, InfoError> {
        self.check(theta)?;
        let n = self.dim();
        let Some(closed) = &self.closed else {
            if let Some(kink) = &self.non_smooth {
                return Err(InfoError::NonSmooth {
                    kink: kink.clone(),
                    what: "the θ-derivatives of F".to_string(),
                });
            }
            let o = if order == 1 {
                Order::First
            } else {
                Order::Second
            };
            let FisherSums { outer, df, d2f, .. } =
                self.problem(o)?.run(theta, &self.quadrature)?;
            return Ok(FieldDerivatives { f: outer, df, d2f });
        };
        let tape = closed.tape(order)?;
        let values = SCRATCH.with_borrow_mut(|(slots, values)| {
            values.resize(tape.n_outputs(), 0.0);
            tape.eval_with(theta, slots, values)?;
            Ok::<Vec<f64>, InfoError>(values.clone())
        })?;
        let start = closed.magnitude_start(values.len());
        let lost = (0..values.len() - start).any(|i| lossy(values[i], values[start + i]));
        let values = &values[..start];
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(InfoError::NonFinite {
                what: closed.output_name(&self.model, i),
                at: self.describe(theta),
            });
        }
        let np = n * (n + 1) / 2;
        let mut f = symmetric(n, &values[..np]);
        if lost || values[..np].iter().any(|v| !plain(*v)) {
            f = self.accurate(theta)?;
        }
        let df = (0..n)
            .map(|l| symmetric(n, &values[np * (1 + l)..np * (2 + l)]))
            .collect();
        let mut d2f = Vec::new();
        if order == 2 {
            d2f = vec![vec![DMatrix::zeros(n, n); n]; n];
            let mut at = np * (1 + n);
            for (l, m) in pairs(n) {
                let block = symmetric(n, &values[at..at + np]);
                at += np;
                d2f[m][l] = block.clone();
                d2f[l][m] = block;
            }
        }
        Ok(FieldDerivatives { f, df, d2f })
    }

    /// The three forms `E[s sᵀ]`, `Cov[s]`, `E[−∇²ℓ]` by quadrature at `θ`, with `∫p` and
    /// `E[s]`, to the accuracy of `q`.
    ///
    /// # Errors
    ///
    /// As the numeric route of [`FisherField::at`].
    pub fn forms(&self, theta: &[f64], q: &Quadrature) -> Result<NumericForms, InfoError> {
        self.check(theta)?;
        Ok(self.problem(Order::Forms)?.run(theta, q)?.into_forms())
    }

    /// [`FisherField::at`] at many points, in parallel over the cores.
    pub fn at_batch<T: AsRef<[f64]> + Sync>(
        &self,
        thetas: &[T],
    ) -> Vec<Result<DMatrix<f64>, InfoError>> {
        thetas.par_iter().map(|t| self.at(t.as_ref())).collect()
    }

    /// [`FisherField::with_derivatives`] at many points, in parallel over the cores.
    pub fn with_derivatives_batch<T: AsRef<[f64]> + Sync>(
        &self,
        thetas: &[T],
    ) -> Vec<Result<FieldDerivatives, InfoError>> {
        thetas
            .par_iter()
            .map(|t| self.with_derivatives(t.as_ref()))
            .collect()
    }
}
