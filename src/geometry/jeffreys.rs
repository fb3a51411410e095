//! The Jeffreys prior `π(θ) ∝ √det F(θ)`: its density at a point, its normalizing constant
//! over a box, and whether it is proper on the whole domain.
//!
//! Integrals over parameters run in the unconstrained coordinates of the domain bijectors
//! (a box `(lo, hi)` by the scaled logit, `(0, ∞)` by the log, ℝ as it is), with the
//! log-Jacobians in the weight, by the nested sinh-sinh rules of the expectations.
//!
//! Properness is decided in those coordinates `y`: the prior `h(y) = √det F(θ(y)) |dθ/dy|`
//! is integrable only if it decays as `|y_d| → ∞`. Along each axis (the other coordinates at
//! 0) the slope of `ln h` between `|y_d| = 16` and `32` is measured: a slope above −10⁻³ (no
//! decay, as the normal's `1/σ²` as `σ → 0` or its flat `μ`) means improper; slopes below
//! −0.05 on every axis and side, and a converged integral over ℝⁿ, mean proper, with that
//! integral as the normalizer; anything else is reported as undecided.

use super::GeometryError;
use crate::expect::integrate_log_weight;
use crate::info::FisherField;
use crate::model::Bijector;

/// Relative accuracy of the normalizers. Not much finer is in reach: where a parameter rounds
/// onto an open end of its domain (`p = 1 − 10⁻¹⁷`) the Fisher matrix cannot be evaluated,
/// and the Bernoulli's prior has `2·10⁻⁸` of its mass there.
const REL: f64 = 1e-6;
/// Evaluations of `F` allowed for one normalizer.
const MAX_POINTS: usize = 400_000;
/// Slopes of `ln h` per unit of `y`: above this, no decay (improper).
const FLAT: f64 = -1e-3;
/// Below this on every axis, decay fast enough to try the integral.
const DECAYING: f64 = -0.05;

/// A normalizing constant with its estimated absolute error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalizer {
    /// `∫ √det F dθ`.
    pub value: f64,
    /// Its estimated absolute error.
    pub error: f64,
}

/// Whether the Jeffreys prior is proper on the whole domain.
#[derive(Debug, Clone, PartialEq)]
pub enum Properness {
    /// It integrates to `normalizer` over the whole domain.
    Proper {
        /// `∫ √det F dθ` over the domain.
        normalizer: Normalizer,
    },
    /// It does not: `√det F |dθ/dy|` does not decay along `direction`.
    Improper {
        /// Where the mass does not decay, `sigma → 0` or `mu → +∞`.
        direction: String,
    },
    /// Neither could be shown.
    Undecided {
        /// Why.
        reason: String,
    },
}

/// `√det F(θ)`, the unnormalized Jeffreys density at `θ`.
///
/// # Errors
///
/// The field's errors, and [`GeometryError::NotPositiveDefinite`] where `det F ≤ 0`.
pub fn jeffreys_density(field: &FisherField, theta: &[f64]) -> Result<f64, GeometryError> {
    Ok(log_density(field, theta)?.exp())
}

/// `ln √det F(θ)` from the Cholesky factor (`Σ ln L_ii`), which neither overflows nor
/// underflows where `det F` would.
fn log_density(field: &FisherField, theta: &[f64]) -> Result<f64, GeometryError> {
    let f = field.at(theta)?;
    match f.clone().cholesky() {
        Some(c) => Ok(c.l().diagonal().iter().map(|v| v.ln()).sum()),
        // Every entry at the bottom of the range of f64 (a categorical at η = 700): the
        // density has underflowed to 0, it is not a singular metric.
        None if f.amax() < 1e-290 => Ok(f64::NEG_INFINITY),
        None => Err(super::connection::located(
            GeometryError::NotPositiveDefinite {
                at: String::new(),
                eigenvalue: crate::expr::number(
                    f.symmetric_eigen()
                        .eigenvalues
                        .iter()
                        .copied()
                        .fold(f64::INFINITY, f64::min),
                ),
                what: "the Jeffreys density".to_string(),
            },
            field,
            theta,
        )),
    }
}

/// `ln h(y) = ln √det F(θ(y)) + Σ ln |dθ_d/dy_d|` and `θ(y)`.
fn log_weight(
    field: &FisherField,
    maps: &[Bijector],
    y: &[f64],
    theta: &mut [f64],
) -> Result<f64, GeometryError> {
    let mut lj = 0.0;
    for ((t, m), &yd) in theta.iter_mut().zip(maps).zip(y) {
        let (x, _, j) = m.point(yd);
        *t = x;
        lj += j;
    }
    Ok(log_density(field, theta)? + lj)
}

/// `∫ e^{ln h(y)} dy` over ℝⁿ for the coordinates `maps`.
fn integrate(field: &FisherField, maps: &[Bijector]) -> Result<Normalizer, GeometryError> {
    let n = maps.len();
    let mut theta = vec![0.0; n];
    let mut failure: Option<GeometryError> = None;
    let mut lw = |y: &[f64]| match log_weight(field, maps, y, &mut theta) {
        Ok(v) => v,
        // A point whose θ rounded onto the edge of a domain carries no mass; anything else
        // stops the integral with its error.
        Err(GeometryError::Info(crate::info::InfoError::Expect(
            crate::expect::ExpectError::OutsideDomain { .. },
        ))) => f64::NEG_INFINITY,
        Err(e) => {
            failure.get_or_insert(e);
            f64::NAN
        }
    };
    let ranges: Vec<(f64, f64)> = maps.iter().map(|m| representable(*m)).collect();
    let r = integrate_log_weight(&ranges, REL, MAX_POINTS, &mut lw);
    if let Some(e) = failure {
        return Err(e);
    }
    let r = r.map_err(|e| GeometryError::Info(e.into()))?;
    if !r.converged {
        return Err(GeometryError::Integral {
            reason: format!(
                "the rules did not reach relative {REL:e} within {} evaluations (estimate {:e})",
                r.evaluations, r.rel_error
            ),
        });
    }
    let value = r.log_value.exp();
    if !value.is_finite() || value == 0.0 {
        return Err(GeometryError::Integral {
            reason: format!(
                "the normalizer e^{} is outside the range of f64",
                r.log_value
            ),
        });
    }
    Ok(Normalizer {
        value,
        // The rules' estimate, and never below the accuracy asked for: the mass within
        // rounding distance of an open end is out of reach.
        error: value * r.rel_error.max(REL),
    })
}

/// The range of `y` whose image under `map` is a number strictly inside its bounds.
pub(crate) fn representable(map: Bijector) -> (f64, f64) {
    let (lo, hi) = map.bounds();
    let inside = |y: f64| {
        let x = map.point(y).0;
        x > lo && x < hi && x.is_finite()
    };
    let mut range = (-700.0, 700.0);
    // Bisect each end inward to the last y that maps inside (a few dozen evaluations).
    for end in [0, 1] {
        let outer = if end == 0 { range.0 } else { range.1 };
        if inside(outer) {
            continue;
        }
        let (mut good, mut bad) = (0.0, outer);
        for _ in 0..80 {
            let mid = 0.5 * (good + bad);
            if inside(mid) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        if end == 0 {
            range.0 = good;
        } else {
            range.1 = good;
        }
    }
    range
}

/// `∫ √det F dθ` over the box `bounds` (one `(lo, hi)` per parameter, inside its domain).
///
/// ```
/// use fisher_geometry::{FisherField, Model};
/// use fisher_geometry::normalizer;
///
/// let field = FisherField::new(&Model::builtin("poisson")?)?;
/// let z = normalizer(&field, &[(1.0, 4.0)])?;
/// assert!((z.value - 2.0).abs() < 1e-8); // ∫₁⁴ λ^{−1/2} dλ = 2
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`GeometryError::Box`] for a box that is empty or leaves a domain; the errors of the field;
/// [`GeometryError::Integral`] when the rules do not converge.
pub fn normalizer(field: &FisherField, bounds: &[(f64, f64)]) -> Result<Normalizer, GeometryError> {
    let params = &field.model().params;
    if bounds.len() != params.len() {
        return Err(GeometryError::Length {
            what: "box bounds",
            expected: params.len(),
            found: bounds.len(),
        });
    }
    for (p, &(lo, hi)) in params.iter().zip(bounds) {
        let (dlo, dhi) = p.domain.bounds();
        let finite = lo.is_finite() && hi.is_finite();
        if !finite || lo >= hi || lo < dlo || hi > dhi {
            return Err(GeometryError::Box {
                name: p.name.to_string(),
                lo: crate::expr::number(lo),
                hi: crate::expr::number(hi),
                domain: p.domain.to_string(),
            });
        }
    }
    let maps: Vec<Bijector> = bounds
        .iter()
        .map(|&(lo, hi)| Bijector::Interval(lo, hi))
        .collect();
    integrate(field, &maps)
}

/// Whether the Jeffreys prior of `field` is proper on the whole domain (see the module
/// documentation for how this is decided).
///
/// # Errors
///
/// The errors of the field at the probe points near the centre of the coordinates.
pub fn properness(field: &FisherField) -> Result<Properness, GeometryError> {
    let params = &field.model().params;
    let n = params.len();
    let maps: Vec<Bijector> = params.iter().map(|p| p.domain.bijector()).collect();
    let mut theta = vec![0.0; n];
    let mut worst = f64::NEG_INFINITY;
    for d in 0..n {
        for side in [1.0, -1.0] {
            let at = |t: f64, theta: &mut [f64]| {
                let mut y = vec![0.0; n];
                y[d] = side * t;
                log_weight(field, &maps, &y, theta)
                    .ok()
                    .filter(|v| v.is_finite())
            };
            let (Some(a), Some(b)) = (at(16.0, &mut theta), at(32.0, &mut theta)) else {
                return Ok(Properness::Undecided {
                    reason: format!(
                        "the Fisher matrix cannot be evaluated far out along {}",
                        direction(params[d].name.as_str(), maps[d], side)
                    ),
                });
            };
            let slope = (b - a) / 16.0;
            if slope > FLAT {
                return Ok(Properness::Improper {
                    direction: direction(params[d].name.as_str(), maps[d], side),
                });
            }
            worst = worst.max(slope);
        }
    }
    if worst > DECAYING {
        return Ok(Properness::Undecided {
            reason: format!(
                "√det F decays too slowly in the unconstrained coordinates (slope {worst:.3}) to tell"
            ),
        });
    }
    match integrate(field, &maps) {
        Ok(normalizer) => Ok(Properness::Proper { normalizer }),
        Err(e) => Ok(Properness::Undecided {
            reason: format!("the integral over the whole domain failed: {e}"),
        }),
    }
}

/// `sigma → 0`, `mu → +∞`, `p → 1`: where `y → side·∞` takes the parameter.
fn direction(name: &str, map: Bijector, side: f64) -> String {
    let (lo, hi) = map.bounds();
    let end = if side > 0.0 { hi } else { lo };
    let end = if end == f64::INFINITY {
        "+∞".to_string()
    } else if end == f64::NEG_INFINITY {
        "−∞".to_string()
    } else {
        crate::expr::number(end)
    };
    format!("{name} → {end}")
}
