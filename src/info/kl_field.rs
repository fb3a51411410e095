//! The KL divergence as a field over pairs of parameter points, everything symbolic done once
//! per model: the closed form derived and verified once, the numeric integrand
//! `ℓ(x; θ) − ℓ(x; θ')` compiled once with `θ'` as inputs, the checks `∫p = 1` made on the
//! same nodes as the divergence.
//!
//! ```
//! use fisher_geometry::{KlField, Method, Model};
//! let field = KlField::new(&Model::builtin("poisson")?)?;
//! let d = field.kl(&[2.0], &[3.0])?;
//! // D(λ‖λ') = λ ln(λ/λ') − λ + λ'
//! assert!((d.value - (2.0 * (2.0f64 / 3.0).ln() + 1.0)).abs() < 1e-14);
//! assert_eq!(d.method, Method::ClosedForm);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::OnceLock;

use egg::Symbol;

use crate::expect::Quadrature;
use crate::expect::exact::RouteError;
use crate::expr::Expr;
use crate::model::Model;

use super::prepared::{FisherProblem, KlProblem, Order};
use super::types::{InfoError, Method, check_theta, named_point, theta_of};
use super::verify::{self, NumericKl, Point, Verification};
use super::{ClosedKl, FieldOptions, closed_kl};

/// A divergence at two points and how it was computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Divergence {
    /// `D(p‖q)`.
    pub value: f64,
    /// The estimated absolute error of the numeric route (`None` for the closed form, which
    /// is evaluated to relative `1e-12`).
    pub error: Option<f64>,
    /// The route.
    pub method: Method,
}

/// `D(θ‖θ')` of a model at any two points (see the module documentation).
#[derive(Debug)]
pub struct KlField {
    model: Model,
    /// The parameter names, in parameter order.
    param_names: Vec<Symbol>,
    /// `None` when the closed form was not tried.
    closed_route: Option<Result<ClosedKl, RouteError>>,
    verification: Option<Verification>,
    options: FieldOptions,
    /// The numeric divergence at the verification pairs, computed once.
    verified_at: Vec<((Point, Point), NumericKl)>,
    numeric: OnceLock<Result<KlProblem, InfoError>>,
}

impl KlField {
    /// The divergence of `model`, its closed form verified.
    ///
    /// # Errors
    ///
    /// None today: a verification that cannot be made leaves the closed form unchecked, and
    /// the checks of the model are made where the divergence is asked for.
    pub fn new(model: &Model) -> Result<KlField, InfoError> {
        KlField::with_options(model, FieldOptions::default())
    }

    /// The divergence with the choices of `options` (`strict` is not used: verification
    /// pairs where quadrature fails are skipped).
    ///
    /// # Errors
    ///
    /// As [`KlField::new`].
    pub fn with_options(model: &Model, options: FieldOptions) -> Result<KlField, InfoError> {
        let closed = (!options.numeric_only).then(|| closed_kl(model));
        let mut field = KlField {
            model: model.clone(),
            param_names: model.param_names(),
            closed_route: closed,
            verification: None,
            options,
            verified_at: Vec::new(),
            numeric: OnceLock::new(),
        };
        if !matches!(field.closed_route, Some(Ok(_))) {
            return Ok(field);
        }
        field.verification = Some(if field.options.verify {
            let q = verify::verify_quadrature();
            field.verified_at = verify::verification_pairs(model)
                .into_iter()
                .map(|(a, b)| {
                    let v = field.numeric_named(&a, &b, &q);
                    ((a, b), v)
                })
                .collect();
            field.verify_with(&[])?
        } else {
            Verification::Skipped
        });
        Ok(field)
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The closed form the field evaluates: derived and not failed verification.
    pub fn closed_form(&self) -> Option<&ClosedKl> {
        let usable = self.verification.as_ref().is_none_or(Verification::usable);
        match &self.closed_route {
            Some(Ok(kl)) if usable => Some(kl),
            _ => None,
        }
    }

    /// What the closed-form route gave before verification (`None`: not tried).
    pub fn closed_form_route(&self) -> Option<&Result<ClosedKl, RouteError>> {
        self.closed_route.as_ref()
    }

    /// How the closed form was verified (`None` without one).
    pub fn verification(&self) -> Option<&Verification> {
        self.verification.as_ref()
    }

    /// The route of [`KlField::kl`].
    pub fn method(&self) -> Method {
        if self.closed_form().is_some() {
            Method::ClosedForm
        } else {
            Method::Numeric
        }
    }

    /// The verification of the closed form at the pairs `known` (computed numerically now)
    /// and at the verification pairs (computed once by [`KlField::with_options`]).
    ///
    /// # Errors
    ///
    /// None today (see [`verify::verify_kl`]).
    pub fn verify_with(&self, known: &[(Point, Point)]) -> Result<Verification, InfoError> {
        let Some(Ok(kl)) = &self.closed_route else {
            return Ok(Verification::Skipped);
        };
        let q = verify::verify_quadrature();
        let mut numeric = |a: &Point, b: &Point| -> Result<(f64, f64), InfoError> {
            match self.verified_at.iter().find(|((x, y), _)| x == a && y == b) {
                Some((_, v)) => v.clone(),
                None => self.numeric_named(a, b, &q),
            }
        };
        verify::verify_kl_by(&self.model, kl, known, &mut numeric)
    }

    /// Checks the lengths and the domains of both points.
    fn check(&self, p: &[f64], q: &[f64]) -> Result<(), InfoError> {
        check_theta(&self.model, p)?;
        check_theta(&self.model, q)
    }

    /// `D(p‖q)`, `p` and `q` in parameter order: the verified closed form evaluated to
    /// relative `1e-12`, else quadrature to the field's accuracy.
    ///
    /// # Errors
    ///
    /// [`InfoError`]: a point outside the domains; the closed form outside the range of
    /// `f64` ([`InfoError::Accuracy`]); on the numeric route the density not integrating to
    /// 1 at `p`, a value that is not finite, or quadrature that did not converge.
    pub fn kl(&self, p: &[f64], q: &[f64]) -> Result<Divergence, InfoError> {
        self.check(p, q)?;
        match self.closed_form() {
            Some(kl) => Ok(Divergence {
                value: verify::closed_kl_at(
                    &self.model,
                    kl,
                    &named_point(&self.param_names, p),
                    &named_point(&self.param_names, q),
                )?,
                error: None,
                method: Method::ClosedForm,
            }),
            None => {
                let (value, error) = self.numeric(p, q, &self.options.quadrature)?;
                Ok(Divergence {
                    value,
                    error: Some(error),
                    method: Method::Numeric,
                })
            }
        }
    }

    /// `D(p‖q)` by quadrature to the accuracy of `quad`, and its estimated error, whatever
    /// the route of the field.
    ///
    /// # Errors
    ///
    /// As the numeric route of [`KlField::kl`].
    pub fn numeric(
        &self,
        p: &[f64],
        q: &[f64],
        quad: &Quadrature,
    ) -> Result<(f64, f64), InfoError> {
        self.check(p, q)?;
        let problem = self
            .numeric
            .get_or_init(|| KlProblem::new(&self.model))
            .as_ref()
            .map_err(Clone::clone)?;
        problem.run(p, q, quad)
    }

    /// [`KlField::numeric`] at named points (every parameter, in any order).
    pub(crate) fn numeric_named(
        &self,
        p: &[(Symbol, f64)],
        q: &[(Symbol, f64)],
        quad: &Quadrature,
    ) -> Result<(f64, f64), InfoError> {
        let (p, q) = (theta_of(&self.model, p)?, theta_of(&self.model, q)?);
        self.numeric(&p, &q, quad)
    }
}

/// Everything `fisher kl` reports.
#[derive(Debug, Clone)]
pub struct KlReport {
    /// The divergence.
    pub divergence: Divergence,
    /// The closed form, when it was used.
    pub expr: Option<Expr>,
    /// How the closed form was verified, here and at the verification pairs.
    pub verification: Option<Verification>,
    /// Checks that were skipped, and a closed form that failed verification.
    pub notes: Vec<String>,
}

/// `D(p‖q)` with the checks `fisher eval` makes at both points (`∫p = 1`, `E[s] = 0`, finite
/// inside the support; skipped with a note where quadrature cannot resolve a point), the
/// closed form verified at this pair and at the verification pairs (`verify = false` is
/// `--no-verify`: none of it), and a negative value refused.
///
/// # Errors
///
/// An [`InfoError`] when a check shows the model at fault, when it can be checked nowhere,
/// or when the divergence is negative.
pub fn kl_between(
    model: &Model,
    p: &Point,
    q: &Point,
    verify: bool,
) -> Result<KlReport, InfoError> {
    let mut notes = Vec::new();
    if verify {
        let d = crate::simplify::derive(model);
        let checks = FisherProblem::new(model, &d, Order::Forms)?;
        for (label, at) in [("p", p), ("q", q)] {
            let r =
                theta_of(model, at).and_then(|theta| checks.run(&theta, &Quadrature::default()));
            match r {
                Ok(_) => {}
                Err(e) if verify::is_model_error(&e) => return Err(e),
                Err(e) => notes.push(format!(
                    "the checks of the model at {label} were skipped: {e}"
                )),
            }
        }
    }
    let options = FieldOptions {
        verify,
        ..FieldOptions::default()
    };
    let field = KlField::with_options(model, options)?;
    let verification = match (field.closed_form_route(), verify) {
        (Some(Ok(_)), true) => Some(field.verify_with(&[(p.clone(), q.clone())])?),
        (Some(Ok(_)), false) => Some(Verification::Skipped),
        _ => None,
    };
    // Quadrature could check the model nowhere (not at p, q or any verification point):
    // refuse, as `fisher eval` does, rather than give a number about a density that may not
    // be normalizable.
    let nowhere = notes.len() == 2
        && verification
            .as_ref()
            .is_none_or(Verification::nothing_checked);
    if verify && nowhere {
        let reason = notes.first().cloned().unwrap_or_default();
        return Err(InfoError::Unchecked { reason });
    }
    let usable = verification.as_ref().is_none_or(Verification::usable);
    let (pv, qv) = (theta_of(model, p)?, theta_of(model, q)?);
    let closed = match field.closed_form_route() {
        Some(Ok(kl)) if usable => Some(kl),
        _ => None,
    };
    let (divergence, expr) = match closed {
        Some(kl) => {
            field.check(&pv, &qv)?;
            let value = verify::closed_kl_at(model, kl, p, q)?;
            let d = Divergence {
                value,
                error: None,
                method: Method::ClosedForm,
            };
            (d, Some(kl.expr.clone()))
        }
        None => {
            let (value, error) = field.numeric(&pv, &qv, &Quadrature::default())?;
            let d = Divergence {
                value,
                error: Some(error),
                method: Method::Numeric,
            };
            (d, None)
        }
    };
    // A divergence is never negative: a value below minus its accuracy is a wrong answer
    // (the closed form is evaluated to relative `ACCURACY`; the numeric one carries its error
    // estimate, rounding included).
    let slack = match divergence.error {
        Some(error) => 10.0 * error,
        None => crate::eval::ACCURACY * divergence.value.abs(),
    };
    if divergence.value < -slack {
        return Err(InfoError::NegativeDivergence {
            method: divergence.method,
            value: divergence.value,
        });
    }
    let mut divergence = divergence;
    if divergence.value < 0.0 && divergence.error.is_some() {
        notes.push(format!(
            "quadrature gave {}, which is 0 within its estimated error; a divergence is never negative, so 0 is reported",
            crate::expr::number(divergence.value)
        ));
        divergence.value = 0.0;
    }
    if let Some(v @ Verification::Failed(_)) = &verification {
        notes.push(format!(
            "the closed-form divergence {}; the numeric value is reported instead",
            v.describe()
        ));
    }
    Ok(KlReport {
        divergence,
        expr,
        verification,
        notes,
    })
}
