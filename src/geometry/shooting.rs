//! The logarithmic map by shooting: the initial velocity `v` of the geodesic from `a` that
//! ends at `b` at time 1, found by Newton's method on `exp_a(v) = b`. The Jacobian
//! `∂exp_a(v)/∂v` comes from the variational equation integrated alongside the geodesic
//! (dual numbers carried through the integrator, with the field's exact `∂²F`), and each
//! Newton step is damped until the residual falls. Far points are reached by continuation:
//! the target moves from `a` to `b` along the straight line in the unconstrained coordinates
//! of the domains (`ln σ` for a scale), each stage starting from the Euler predictor
//! `v(s) + Δs · J⁻¹ dθ/ds` of the previous stage (Allgower & Georg, *Introduction to
//! Numerical Continuation Methods*, SIAM 2003, ch. 2).
//!
//! A shot that does not converge is an error, never an approximate answer.

use nalgebra::{DMatrix, DVector};

use super::geodesic::exponential_map_with_jacobian;
use super::{Geodesic, GeodesicOptions, GeometryError, describe};
use crate::info::FisherField;

/// Accuracy and effort of the logarithmic map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShootingOptions {
    /// The integration of each geodesic.
    pub geodesic: GeodesicOptions,
    /// The residual `|exp_a(v) − b|`, measured in the Fisher metric at `b`, allowed relative
    /// to the distance.
    pub tol: f64,
    /// Newton iterations per continuation stage.
    pub max_iterations: usize,
    /// Continuation stages (targets between `a` and `b`).
    pub max_stages: usize,
}

impl Default for ShootingOptions {
    /// For a closed-form metric: integration to relative 1e-9, residual 1e-9 of the distance
    /// (distances to about 1e-10: 6e-11 for the gamma, 1e-10 for the beta in
    /// `benches/geometry.rs`).
    fn default() -> ShootingOptions {
        ShootingOptions {
            geodesic: GeodesicOptions {
                rel_tol: 1e-9,
                abs_tol: 1e-11,
                max_steps: 20_000,
            },
            tol: 1e-9,
            max_iterations: 30,
            max_stages: 60,
        }
    }
}

impl ShootingOptions {
    /// The options for `field`'s metric: [`ShootingOptions::default`] for a closed form; for
    /// a numeric one, whose entries are good to about 1e-9, integration to relative 1e-8 and
    /// a residual of 1e-8 of the distance (distances to about 1e-8).
    pub fn for_field(field: &FisherField) -> ShootingOptions {
        match field.method() {
            crate::info::Method::ClosedForm => ShootingOptions::default(),
            crate::info::Method::Numeric => ShootingOptions {
                geodesic: GeodesicOptions {
                    rel_tol: 1e-8,
                    abs_tol: 1e-10,
                    max_steps: 20_000,
                },
                tol: 1e-8,
                ..ShootingOptions::default()
            },
        }
    }
}

/// A converged shot: the geodesic from `a` to `b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shot {
    /// The initial velocity, `log_a(b)`.
    pub velocity: DVector<f64>,
    /// The geodesic with that velocity.
    pub geodesic: Geodesic,
    /// Its length `√(vᵀF(a)v)`, the Fisher–Rao distance from `a` to `b` (when the geodesic is
    /// minimizing, as the one found from the straight-segment start is between points that
    /// are not too far apart on a manifold of non-positive curvature).
    pub distance: f64,
    /// `|exp_a(v) − b|` in the Fisher metric at `b`.
    pub residual: f64,
    /// Newton iterations, over all stages.
    pub iterations: usize,
    /// Continuation stages (1: `b` was reached directly).
    pub stages: usize,
}

/// Why one Newton run stopped.
enum Miss {
    /// No convergence from this start: continuation may help.
    Retry(String),
    /// An error that no other start avoids.
    Fatal(GeometryError),
}

/// `√(rᵀ F r)`.
fn norm(f: &DMatrix<f64>, r: &DVector<f64>) -> f64 {
    (r.transpose() * f * r)[(0, 0)].max(0.0).sqrt()
}

/// One geodesic with its Jacobian. Its failure (it leaves the domain, the integrator misses
/// its accuracy, or the field cannot be evaluated along it: the Cauchy's quadrature at
/// `γ = 10⁻⁷`) marks a bad velocity, which a shorter step or a nearer target may avoid; the
/// ends themselves were checked before.
fn shoot(
    field: &FisherField,
    a: &[f64],
    v: &DVector<f64>,
    options: &ShootingOptions,
) -> Result<(Geodesic, DMatrix<f64>), Miss> {
    exponential_map_with_jacobian(field, a, v.as_slice(), options.geodesic).map_err(|e| match e {
        GeometryError::Geodesic { reason } => Miss::Retry(reason),
        GeometryError::Length { .. } => Miss::Fatal(e),
        e => Miss::Retry(e.to_string()),
    })
}

/// Relative tolerance of the integration while the residual is large (inexact Newton: the
/// early iterations need only the direction of the step): at most this fine.
const LOOSE_REL: f64 = 1e-6;
/// The coarsest relative tolerance of the integration, while the residual is large.
const COARSEST_REL: f64 = 1e-3;
/// The integration's relative tolerance in the loose phase is this fraction of the relative
/// residual (between [`LOOSE_REL`] and [`COARSEST_REL`]): the error of the endpoint stays a
/// small part of the residual that the Newton step removes (the forcing term of an inexact
/// Newton method; Dembo, Eisenstat & Steihaug, SIAM J. Numer. Anal. 19, 1982).
const FORCING: f64 = 1e-3;
/// The residual, relative to the distance, at which the loose phase hands over.
const LOOSE_RESIDUAL: f64 = 1e-4;

/// What one Newton run tracks: the velocity, its geodesic, the residual, the Jacobian.
type Iterate = (DVector<f64>, Geodesic, f64, DMatrix<f64>);

/// `options` with the integration's relative tolerance `rel` (and absolute `rel/100`), never
/// finer than `options`'.
fn integration_at(options: &ShootingOptions, rel: f64) -> ShootingOptions {
    ShootingOptions {
        geodesic: GeodesicOptions {
            rel_tol: rel.max(options.geodesic.rel_tol),
            abs_tol: (rel * 1e-2).max(options.geodesic.abs_tol),
            ..options.geodesic
        },
        ..*options
    }
}

/// Damped Newton on `exp_a(v) = target` from `v`, until the residual is at most `goal` times
/// the length. With `coarsest` above `options`' relative tolerance, each step's geodesics are
/// integrated to [`FORCING`] times the relative residual before the step, within `options`'
/// tolerance and `coarsest` (the first, before any residual is known, to `coarsest`);
/// otherwise to `options`' tolerance throughout.
#[allow(clippy::too_many_arguments)]
fn damped(
    field: &FisherField,
    a: &[f64],
    f_a: &DMatrix<f64>,
    f_t: &DMatrix<f64>,
    target: &DVector<f64>,
    mut v: DVector<f64>,
    options: &ShootingOptions,
    coarsest: f64,
    goal: f64,
    iterations: &mut usize,
) -> Result<Iterate, Miss> {
    let fine = options.geodesic.rel_tol;
    // the relative tolerance the current geodesic was integrated to
    let mut measured = coarsest.max(fine);
    let (mut g, mut jac) = shoot(field, a, &v, &integration_at(options, measured))?;
    let mut r = g.end() - target;
    let mut res = norm(f_t, &r);
    for _ in 0..options.max_iterations {
        let length = norm(f_a, &v);
        if res <= goal * length.max(f64::MIN_POSITIVE) {
            return Ok((v, g, res, jac));
        }
        *iterations += 1;
        let rel = (FORCING * res / length.max(f64::MIN_POSITIVE)).clamp(fine, coarsest.max(fine));
        let options = &integration_at(options, rel);
        let Some(dv) = jac.clone().lu().solve(&r) else {
            return Err(Miss::Retry(
                "the Jacobian of the endpoint is singular (a conjugate point)".into(),
            ));
        };
        let mut lambda = 1.0;
        loop {
            let v_try = &v - lambda * &dv;
            match shoot(field, a, &v_try, options) {
                Ok((g2, j2)) => {
                    let r2 = g2.end() - target;
                    let res2 = norm(f_t, &r2);
                    if res2 < res {
                        (v, g, jac, r, res, measured) = (v_try, g2, j2, r2, res2, rel);
                        break;
                    }
                }
                Err(Miss::Fatal(e)) => return Err(Miss::Fatal(e)),
                // the damped step left the domain: shorter
                Err(Miss::Retry(_)) => {}
            }
            lambda *= 0.5;
            if lambda < 1.0 / 64.0 && measured > rel {
                // The residual to beat was measured on a coarser geodesic, whose error may
                // have made it look smaller than any step can reach: measure it again, at
                // this step's tolerance, and step from there.
                (g, jac) = shoot(field, a, &v, options)?;
                r = g.end() - target;
                res = norm(f_t, &r);
                measured = rel;
                break;
            }
            if lambda < 1.0 / 64.0 {
                return Err(Miss::Retry(format!(
                    "no damped Newton step lowers the residual {} (at distance {})",
                    crate::expr::number(res),
                    crate::expr::number(length)
                )));
            }
        }
    }
    let length = norm(f_a, &v);
    if res <= goal * length.max(f64::MIN_POSITIVE) {
        return Ok((v, g, res, jac));
    }
    Err(Miss::Retry(format!(
        "the residual is still {} after {} Newton iterations",
        crate::expr::number(res),
        options.max_iterations
    )))
}

/// Newton's method on `exp_a(v) = target` from `v`: damped Newton on loosely integrated
/// geodesics down to a residual of [`LOOSE_RESIDUAL`], then the chord method at the full
/// accuracy (the Jacobian held, geodesics without tangents), falling back to damped Newton
/// at the full accuracy where the chord steps stop converging fast.
fn newton(
    field: &FisherField,
    a: &[f64],
    f_a: &DMatrix<f64>,
    target: &DVector<f64>,
    v: DVector<f64>,
    options: &ShootingOptions,
    iterations: &mut usize,
) -> Result<Iterate, Miss> {
    let f_t = field
        .at(target.as_slice())
        .map_err(|e| Miss::Fatal(e.into()))?;
    let loose = integration_at(options, LOOSE_REL);
    let goal = LOOSE_RESIDUAL.max(options.tol);
    let (mut v, _, _, jac) = damped(
        field,
        a,
        f_a,
        &f_t,
        target,
        v,
        &loose,
        COARSEST_REL,
        goal,
        iterations,
    )?;
    let lu = jac.clone().lu();
    let plain = |v: &DVector<f64>| -> Option<(Geodesic, f64)> {
        let g = super::exponential_map(field, a, v.as_slice(), options.geodesic).ok()?;
        let res = norm(&f_t, &(g.end() - target));
        Some((g, res))
    };
    if let Some((mut g, mut res)) = plain(&v) {
        for _ in 0..8 {
            if res <= options.tol * norm(f_a, &v).max(f64::MIN_POSITIVE) {
                return Ok((v, g, res, jac));
            }
            *iterations += 1;
            let Some(dv) = lu.solve(&(g.end() - target)) else {
                break;
            };
            let v_new = &v - dv;
            match plain(&v_new) {
                Some((g_new, res_new)) if res_new < 0.25 * res => {
                    (v, g, res) = (v_new, g_new, res_new);
                }
                _ => break,
            }
        }
    }
    damped(
        field,
        a,
        f_a,
        &f_t,
        target,
        v,
        options,
        options.geodesic.rel_tol,
        options.tol,
        iterations,
    )
}

/// The length `∫₀¹ √(θ′ᵀ F(θ) θ′) ds` of a path `θ(s)` with derivative `θ′(s)`: an upper
/// bound on the distance between its ends.
fn path_length(
    field: &FisherField,
    path: &dyn Fn(f64) -> DVector<f64>,
    slope: &dyn Fn(f64) -> DVector<f64>,
) -> Result<f64, GeometryError> {
    let mut speed = |s: f64| -> Result<f64, GeometryError> {
        let f = field.at(path(s).as_slice())?;
        Ok(norm(&f, &slope(s)))
    };
    super::kronrod::adaptive("the length of the path", 0.0, 1.0, 1e-9, &mut speed).map(|r| r.0)
}

/// Checks that `a` and `b` are points of `field` (their lengths, and inside the domains);
/// returns `F(a)`.
pub(super) fn check_ends(
    field: &FisherField,
    a: &[f64],
    b: &[f64],
) -> Result<DMatrix<f64>, GeometryError> {
    for p in [a, b] {
        if p.len() != field.dim() {
            return Err(GeometryError::Length {
                what: "end point",
                expected: field.dim(),
                found: p.len(),
            });
        }
    }
    let f_a = field.at(a)?;
    field.at(b)?;
    Ok(f_a)
}

/// The logarithmic map: the geodesic from `a` to `b` by shooting (see the module
/// documentation), with `log_a(b)`, its length and the residual.
///
/// ```
/// use fisher_geometry::{FisherField, Model, ShootingOptions, logarithmic_map};
///
/// // normal (μ, σ): the Fisher–Rao distance is √2 arccosh(1 + ((Δμ)²/2 + (Δσ)²)/(2σ₁σ₂))
/// let field = FisherField::new(&Model::builtin("normal")?)?;
/// let shot = logarithmic_map(&field, &[0.0, 1.0], &[1.0, 2.0], ShootingOptions::default())?;
/// let exact = 2f64.sqrt() * (1.0f64 + (0.5 + 1.0) / 4.0).acosh();
/// assert!((shot.distance - exact).abs() < 1e-8 * exact);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`GeometryError::Length`] for points of the wrong length; the field's errors at `a` or
/// `b` (a point outside the domain); [`GeometryError::Shooting`] when Newton's method does
/// not converge even with continuation.
pub fn logarithmic_map(
    field: &FisherField,
    a: &[f64],
    b: &[f64],
    options: ShootingOptions,
) -> Result<Shot, GeometryError> {
    let n = field.dim();
    let f_a = check_ends(field, a, b)?;
    let b_vec = DVector::from_column_slice(b);
    let fail = |reason: String| GeometryError::Shooting {
        from: describe(field, a),
        to: describe(field, b),
        reason,
    };
    let mut iterations = 0;
    if a == b {
        let zero = DVector::zeros(n);
        let geodesic = super::exponential_map(field, a, zero.as_slice(), options.geodesic)?;
        return Ok(Shot {
            velocity: zero,
            geodesic,
            distance: 0.0,
            residual: 0.0,
            iterations,
            stages: 1,
        });
    }
    // The continuation path: the straight line from `a` to `b` in the unconstrained
    // coordinates of the domains (so every target is inside, and a scale parameter moves
    // geometrically), `θ(s) = f(y_a + s (y_b − y_a))`, with `dθ/ds = f′(y(s)) (y_b − y_a)`.
    let maps: Vec<_> = field
        .model()
        .params
        .iter()
        .map(|p| p.domain.bijector())
        .collect();
    let ya: Vec<f64> = maps.iter().zip(a).map(|(m, x)| m.inverse(*x)).collect();
    let dy: Vec<f64> = maps
        .iter()
        .zip(b)
        .zip(&ya)
        .map(|((m, x), y)| m.inverse(*x) - y)
        .collect();
    let path = |s: f64| -> DVector<f64> {
        if s == 1.0 {
            return b_vec.clone();
        }
        DVector::from_fn(n, |i, _| maps[i].point(ya[i] + s * dy[i]).0)
    };
    let path_slope = |s: f64| -> DVector<f64> {
        DVector::from_fn(n, |i, _| {
            let (_, _, log_jacobian) = maps[i].point(ya[i] + s * dy[i]);
            log_jacobian.exp() * dy[i]
        })
    };
    // The fraction reached, its velocity, and `dv/ds = J⁻¹ dθ/ds` there (the tangent of the
    // solution curve, for the next stage's predictor; `J = I` at `s = 0`).
    let (mut done, mut v_done) = (0.0f64, DVector::zeros(n));
    let mut slope = path_slope(0.0);
    let mut step = 1.0f64;
    let mut stages = 0;
    let mut last_miss = String::new();
    while stages < options.max_stages {
        stages += 1;
        let s = (done + step).min(1.0);
        let target = path(s);
        let guess = &v_done + (s - done) * &slope;
        match newton(field, a, &f_a, &target, guess, &options, &mut iterations) {
            Ok((v, geodesic, residual, jac)) => {
                if s == 1.0 {
                    let distance = norm(&f_a, &v);
                    // Any path is at least as long as the distance: a geodesic longer than the
                    // continuation path is not the shortest (past a conjugate point, on a
                    // model of positive curvature), and its length no distance.
                    if let Ok(bound) = path_length(field, &path, &path_slope)
                        && distance > bound * (1.0 + 1e-6)
                    {
                        return Err(fail(format!(
                            "the geodesic found has length {} but the straight path in the unconstrained coordinates only {}: it is not the shortest, so its length is not the distance (which is at most {})",
                            crate::expr::number(distance),
                            crate::expr::number(bound),
                            crate::expr::number(bound)
                        )));
                    }
                    return Ok(Shot {
                        velocity: v,
                        geodesic,
                        distance,
                        residual,
                        iterations,
                        stages,
                    });
                }
                slope = jac.lu().solve(&path_slope(s)).unwrap_or(slope);
                (done, v_done) = (s, v);
                step = (2.0 * step).min(1.0 - done);
            }
            Err(Miss::Fatal(e)) => return Err(e),
            Err(Miss::Retry(reason)) => {
                last_miss = reason;
                step *= 0.25;
                if step < 1e-4 {
                    break;
                }
            }
        }
    }
    Err(fail(format!(
        "after {stages} continuation stages, {:.4} of the way: {last_miss}",
        done
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// The bound of the guard: the length of a path is at least the distance, and equal to it
    /// when the path is a geodesic (the normal's vertical line, straight in `ln σ`).
    #[test]
    fn path_lengths_bound_the_distance() {
        let field = FisherField::new(&Model::builtin("normal").unwrap()).unwrap();
        // σ = e^s from 1 to e at μ = 0: length √2 (F_σσ = 2/σ²), the distance
        let vertical = |s: f64| DVector::from_vec(vec![0.0, s.exp()]);
        let vertical_slope = |s: f64| DVector::from_vec(vec![0.0, s.exp()]);
        let l = path_length(&field, &vertical, &vertical_slope).unwrap();
        assert!((l - 2f64.sqrt()).abs() < 1e-12, "{l}");
        // μ from 0 to 1 at σ = 1: length 1, above the distance √2 arccosh(1 + 1/4)
        let flat = |s: f64| DVector::from_vec(vec![s, 1.0]);
        let flat_slope = |_: f64| DVector::from_vec(vec![1.0, 0.0]);
        let l = path_length(&field, &flat, &flat_slope).unwrap();
        let d = logarithmic_map(&field, &[0.0, 1.0], &[1.0, 1.0], ShootingOptions::default())
            .unwrap()
            .distance;
        assert!((l - 1.0).abs() < 1e-12 && d < l, "{l} {d}");
        assert!((d - 2f64.sqrt() * 1.25f64.acosh()).abs() < 1e-9);
    }
}
