//! Minimum message length, Wallace & Freeman (1987) "MML87": for a model with `d` parameters
//! and N observations,
//!
//! `I(θ) = −ln h(θ) + ½ ln det(N F(θ)) − ln f(x|θ) + (d/2)(1 + ln κ_d)` nats,
//!
//! with `h` the normalized prior density, `F` the Fisher information per observation (from the
//! field: the derived closed form where it exists), and `κ_d` the normalized second moment of
//! the best known lattice quantizer in `d` dimensions. The MML87 estimate minimizes `I`
//! (it is not the MLE unless the prior is the Jeffreys prior, where `−ln h + ½ ln det(N F)`
//! does not depend on θ). AIC and BIC, at the MLE, are reported beside it.
//!
//! The prior is normalized here: the Jeffreys prior over a box or, where it is proper, over
//! the whole domain (geometry's normalizer); a prior given as an expression by quadrature over
//! the box or the domain. A prior that cannot be normalized is an error that says so.

use nalgebra::{DMatrix, DVector};

use crate::expect::integrate_log_weight;
use crate::geometry::{GeometryError, Properness, normalizer, properness, representable};
use crate::info::FisherField;
use crate::model::{Bijector, Model};

use super::data::Dataset;
use super::fit::{Fit, FitError, FitOptions, fit_with};
use super::likelihood::{Likelihood, LikelihoodError};
use super::prior::Prior;

/// `κ_d`, the normalized second moment of the best known lattice quantizer in `d`
/// dimensions: exact for `d = 1, 2, 3` (`1/12`, `5/(36√3)`, `19/(192·∛2)`), and from Conway &
/// Sloane, *Sphere Packings, Lattices and Groups* (3rd ed., 1999), Table 2.3, for `D₄`, `D₅*`,
/// `E₆*`, `E₇*`, `E₈`, `Λ₁₆` and `Λ₂₄`. `None` for the other dimensions.
pub fn lattice_constant(d: usize) -> Option<f64> {
    Some(match d {
        1 => 1.0 / 12.0,
        2 => 5.0 / (36.0 * 3f64.sqrt()),
        3 => 19.0 / (192.0 * 2f64.cbrt()),
        4 => 0.076_603_2,
        5 => 0.075_625_4,
        6 => 0.074_243_7,
        7 => 0.073_116_5,
        8 => 0.071_682_1,
        16 => 0.068_297_8,
        24 => 0.065_771_2,
        _ => return None,
    })
}

/// The prior of a message length.
#[derive(Debug, Clone)]
pub enum MmlPrior {
    /// The Jeffreys prior `√det F / Z`, over `bounds` (one `(lo, hi)` per parameter) or, with
    /// none, over the whole domain where it is proper.
    Jeffreys {
        /// The box, or `None` for the domain.
        bounds: Option<Vec<(f64, f64)>>,
    },
    /// A log density given as an expression, normalized by quadrature over `bounds` or the
    /// domain.
    Given {
        /// `ln π(θ)` up to a constant.
        prior: Box<Prior>,
        /// The box, or `None` for the domain.
        bounds: Option<Vec<(f64, f64)>>,
    },
}

/// The message length of one candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageLength {
    /// The model's name.
    pub model: String,
    /// `d`.
    pub params: usize,
    /// N.
    pub observations: usize,
    /// `I(θ̂_MML)` in nats.
    pub message_length: f64,
    /// The MML87 estimate, in parameter order.
    pub estimate: Vec<f64>,
    /// The first part, the assertion of θ̂: `−ln h + ½ ln det(N F) + (d/2) ln κ_d`.
    pub assertion: f64,
    /// The second part, the data given θ̂: `−ln f(x|θ̂) + d/2`.
    pub detail: f64,
    /// `ln Z`, the log normalizer of the prior.
    pub log_normalizer: f64,
    /// What the prior is: `jeffreys` or the expression given.
    pub prior: String,
    /// The maximum-likelihood fit (AIC and BIC are taken at its estimate).
    pub mle: Vec<f64>,
    /// `ln f(x|θ̂_MLE)`.
    pub max_log_likelihood: f64,
    /// `2d − 2 ln f(x|θ̂_MLE)`.
    pub aic: f64,
    /// `d ln N − 2 ln f(x|θ̂_MLE)`.
    pub bic: f64,
}

/// Why a message length could not be computed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MmlError {
    /// No lattice constant for this dimension.
    #[error(
        "no lattice constant κ_{0} is tabulated (d = 1 to 8, 16 and 24 are): the MML87 message length of a model with {0} parameters is not computed"
    )]
    Dimension(usize),
    /// The prior cannot be normalized.
    #[error("the prior cannot be normalized{}: {reason}", if *.over_domain { " over the whole domain (give a box with --box NAME=LO..HI,...)" } else { " over the box" })]
    Normalize {
        /// Why.
        reason: String,
        /// Whether it was tried over the whole domain.
        over_domain: bool,
    },
    /// A box that does not fit the model.
    #[error("{0}")]
    Box(String),
    /// The estimate lies outside the box, where the prior is 0.
    #[error(
        "the estimate {at} lies outside the box of the prior, where the prior density is 0: widen the box"
    )]
    OutsideBox {
        /// The estimate.
        at: String,
    },
    /// The fit failed.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// The likelihood failed.
    #[error(transparent)]
    Likelihood(#[from] LikelihoodError),
    /// The geometry (normalizer, `F`) failed.
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    /// The minimization of the message length did not converge.
    #[error("the message length could not be minimized: {0}")]
    NotConverged(String),
}

/// The MML87 message length of `field`'s model on `data` with `prior`.
///
/// # Errors
///
/// [`MmlError`]: a dimension without a lattice constant, a prior that cannot be normalized,
/// a box that does not fit, a fit that fails, an estimate outside the box.
pub fn message_length(
    field: &FisherField,
    data: &Dataset,
    prior: &MmlPrior,
) -> Result<MessageLength, MmlError> {
    let model = field.model();
    let d = model.params.len();
    let kappa = lattice_constant(d).ok_or(MmlError::Dimension(d))?;
    let lik = Likelihood::new(field, data)?;
    let mle: Fit = fit_with(field, &lik, data, &FitOptions::default())?;
    let n = lik.len() as f64;
    let bounds = match prior {
        MmlPrior::Jeffreys { bounds } | MmlPrior::Given { bounds, .. } => bounds.clone(),
    };
    if let Some(b) = &bounds {
        check_box(model, b)?;
    }
    let (log_z, source) = match prior {
        MmlPrior::Jeffreys { bounds } => (
            jeffreys_log_normalizer(field, bounds.as_deref())?,
            "jeffreys".to_string(),
        ),
        MmlPrior::Given { prior, bounds } => (
            given_log_normalizer(model, prior, bounds.as_deref())?,
            prior.source().to_string(),
        ),
    };
    let length = |theta: &[f64]| -> Result<(f64, f64, f64), MmlError> {
        let f = field.at(theta).map_err(GeometryError::from)?;
        let ln_det_f = ln_det(&f).ok_or_else(|| {
            MmlError::NotConverged(format!(
                "F is not positive definite at {}",
                describe(model, theta)
            ))
        })?;
        let ln_prior = match prior {
            MmlPrior::Jeffreys { .. } => 0.5 * ln_det_f,
            MmlPrior::Given { prior, .. } => prior
                .log_density(theta)
                .map_err(|e| MmlError::NotConverged(format!("the prior: {e}")))?,
        } - log_z;
        let ll = lik.value(theta)?;
        let assertion =
            -ln_prior + 0.5 * (d as f64 * n.ln() + ln_det_f) + 0.5 * d as f64 * kappa.ln();
        let detail = -ll + 0.5 * d as f64;
        Ok((assertion + detail, assertion, detail))
    };
    let estimate = match prior {
        // −ln h + ½ ln det(NF) is constant: the MLE minimizes I.
        MmlPrior::Jeffreys { .. } => mle.estimate.clone(),
        MmlPrior::Given { prior, .. } => minimize(field, &lik, prior, &mle.estimate, &length)?,
    };
    if let Some(b) = &bounds {
        if estimate
            .iter()
            .zip(b)
            .any(|(t, (lo, hi))| t <= lo || t >= hi)
        {
            return Err(MmlError::OutsideBox {
                at: describe(model, &estimate),
            });
        }
    }
    let (total, assertion, detail) = length(&estimate)?;
    debug_assert!((assertion + detail - total).abs() <= 1e-9 * total.abs().max(1.0));
    let ll = mle.log_likelihood;
    Ok(MessageLength {
        model: model.name.clone(),
        params: d,
        observations: lik.len(),
        message_length: total,
        estimate,
        assertion,
        detail,
        log_normalizer: log_z,
        prior: source,
        mle: mle.estimate.clone(),
        max_log_likelihood: ll,
        aic: 2.0 * d as f64 - 2.0 * ll,
        bic: d as f64 * n.ln() - 2.0 * ll,
    })
}

fn describe(model: &Model, theta: &[f64]) -> String {
    crate::expr::assignments(model.params.iter().map(|p| p.name), theta)
}

/// `ln det` of a symmetric positive definite matrix, by Cholesky.
fn ln_det(m: &DMatrix<f64>) -> Option<f64> {
    let c = m.clone().cholesky()?;
    let v: f64 = c.l().diagonal().iter().map(|x| 2.0 * x.ln()).sum();
    v.is_finite().then_some(v)
}

fn check_box(model: &Model, bounds: &[(f64, f64)]) -> Result<(), MmlError> {
    if bounds.len() != model.params.len() {
        return Err(MmlError::Box(format!(
            "the box gives {} ranges for {} parameters",
            bounds.len(),
            model.params.len()
        )));
    }
    for (p, &(lo, hi)) in model.params.iter().zip(bounds) {
        let (dlo, dhi) = p.domain.bounds();
        if !(lo.is_finite() && hi.is_finite() && lo < hi && lo >= dlo && hi <= dhi) {
            return Err(MmlError::Box(format!(
                "the box {}={}..{} is empty, infinite or leaves the domain of `{}` ({})",
                p.name,
                crate::expr::number(lo),
                crate::expr::number(hi),
                p.name,
                p.domain
            )));
        }
    }
    Ok(())
}

fn jeffreys_log_normalizer(
    field: &FisherField,
    bounds: Option<&[(f64, f64)]>,
) -> Result<f64, MmlError> {
    let z = match bounds {
        Some(b) => normalizer(field, b).map_err(|e| MmlError::Normalize {
            reason: e.to_string(),
            over_domain: false,
        })?,
        None => match properness(field)? {
            Properness::Proper { normalizer } => normalizer,
            Properness::Improper { direction } => {
                return Err(MmlError::Normalize {
                    reason: format!("the Jeffreys prior is improper (no decay as {direction})"),
                    over_domain: true,
                });
            }
            Properness::Undecided { reason } => {
                return Err(MmlError::Normalize {
                    reason,
                    over_domain: true,
                });
            }
        },
    };
    Ok(z.value.ln())
}

/// `ln ∫ e^{ln π(θ)} dθ` over the box or the domain, in the unconstrained coordinates.
fn given_log_normalizer(
    model: &Model,
    prior: &Prior,
    bounds: Option<&[(f64, f64)]>,
) -> Result<f64, MmlError> {
    let maps: Vec<Bijector> = match bounds {
        Some(b) => b
            .iter()
            .map(|&(lo, hi)| Bijector::Interval(lo, hi))
            .collect(),
        None => model.params.iter().map(|p| p.domain.bijector()).collect(),
    };
    let over_domain = bounds.is_none();
    let ranges: Vec<(f64, f64)> = maps.iter().map(|m| representable(*m)).collect();
    let mut theta = vec![0.0; maps.len()];
    let mut lw = |y: &[f64]| {
        let mut lj = 0.0;
        for ((t, m), &yd) in theta.iter_mut().zip(&maps).zip(y) {
            let (x, _, j) = m.point(yd);
            *t = x;
            lj += j;
        }
        prior
            .log_density(&theta)
            .map_or(f64::NEG_INFINITY, |v| v + lj)
    };
    let r =
        integrate_log_weight(&ranges, 1e-8, 400_000, &mut lw).map_err(|e| MmlError::Normalize {
            reason: e.to_string(),
            over_domain,
        })?;
    if !r.converged || !r.log_value.is_finite() {
        return Err(MmlError::Normalize {
            reason: format!(
                "the quadrature did not converge (estimate e^{}, relative error {:e}, {} evaluations)",
                r.log_value, r.rel_error, r.evaluations
            ),
            over_domain,
        });
    }
    Ok(r.log_value)
}

/// The message length at θ with its two parts: `(total, assertion, detail)`.
type Length<'a> = dyn Fn(&[f64]) -> Result<(f64, f64, f64), MmlError> + 'a;

/// Minimizes the message length from the MLE by scoring-like steps
/// `θ ← θ − α (N F)⁻¹ ∇I` with `∇I = −∇ln π + ½ tr(F⁻¹ ∂F) − ∇ℓ`, backtracking on `I`.
fn minimize(
    field: &FisherField,
    lik: &Likelihood,
    prior: &Prior,
    start: &[f64],
    length: &Length<'_>,
) -> Result<Vec<f64>, MmlError> {
    let model = field.model();
    let n = lik.len() as f64;
    let d = start.len();
    let mut theta = start.to_vec();
    let mut current = length(&theta)?.0;
    for _ in 0..200 {
        let fd = field.with_gradient(&theta).map_err(GeometryError::from)?;
        let inv_f =
            fd.f.clone()
                .cholesky()
                .ok_or_else(|| MmlError::NotConverged("F is not positive definite".to_string()))?
                .inverse();
        let g_ll = lik.gradient(&theta)?.gradient;
        let g_prior = prior
            .derivatives(&theta, 1)
            .map_err(|e| MmlError::NotConverged(format!("the prior: {e}")))?
            .gradient;
        let grad = DVector::from_fn(d, |k, _| {
            let tr = (&inv_f * &fd.df[k]).trace();
            -g_prior[k] + 0.5 * tr - g_ll[k]
        });
        let step = -(&inv_f * &grad) / n;
        let z = (-grad.dot(&step)).max(0.0).sqrt();
        if z <= 1e-10 {
            return Ok(theta);
        }
        let mut alpha = 1.0;
        let mut moved = false;
        for _ in 0..60 {
            let next: Vec<f64> = theta
                .iter()
                .zip(step.iter())
                .map(|(t, s)| t + alpha * s)
                .collect();
            if model
                .params
                .iter()
                .zip(&next)
                .all(|(p, v)| p.domain.contains(*v))
            {
                if let Ok((v, _, _)) = length(&next) {
                    if v <= current {
                        moved = next != theta;
                        theta = next;
                        current = v;
                        break;
                    }
                }
            }
            alpha *= 0.5;
        }
        if !moved {
            if z <= 1e-6 {
                return Ok(theta);
            }
            return Err(MmlError::NotConverged(format!(
                "no step lowers it at {} (standardized gradient {z:.2e})",
                describe(model, &theta)
            )));
        }
    }
    Err(MmlError::NotConverged("200 iterations".to_string()))
}
