//! Geodesics of the Fisher metric: the geodesic equation `θ̈ᵏ + Γᵏᵢⱼ θ̇ⁱ θ̇ʲ = 0` integrated
//! with error control, and the exponential map `exp_θ₀(v)`, the end of the geodesic from `θ₀`
//! with initial velocity `v` at time 1.
//!
//! The integrator is the Dormand–Prince 5(4) pair (Dormand & Prince, J. Comput. Appl. Math. 6,
//! 1980; Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.5), written here rather than taken
//! from an ODE crate because every stage must stay inside the parameter domains (a stage
//! outside is a rejected step, and a geodesic that keeps leaving is an error, never a wrong
//! endpoint), and because the shooting of the logarithmic map will carry dual numbers through
//! it. `Γ` comes from the field's exact `F` and `∂F` at every stage.

use nalgebra::DVector;

use super::{Christoffel, GeometryError, describe};
use crate::info::FisherField;

/// Accuracy and effort of one geodesic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeodesicOptions {
    /// Relative tolerance of each step.
    pub rel_tol: f64,
    /// Absolute tolerance of each step.
    pub abs_tol: f64,
    /// Most steps (accepted and rejected).
    pub max_steps: usize,
}

impl Default for GeodesicOptions {
    fn default() -> GeodesicOptions {
        GeodesicOptions {
            rel_tol: 1e-10,
            abs_tol: 1e-12,
            max_steps: 20_000,
        }
    }
}

/// A geodesic sampled at the accepted steps of the integrator.
#[derive(Debug, Clone, PartialEq)]
pub struct Geodesic {
    /// The times, from 0 to 1.
    pub times: Vec<f64>,
    /// `θ(t)` at each time.
    pub points: Vec<DVector<f64>>,
    /// `θ̇(t)` at each time.
    pub velocities: Vec<DVector<f64>>,
    /// Steps rejected by the error control or because a stage left the domain.
    pub rejected: usize,
}

impl Geodesic {
    /// The end point `θ(1)`.
    pub fn end(&self) -> &DVector<f64> {
        self.points.last().expect("a geodesic has its start point")
    }

    /// The length `∫₀¹ √(θ̇ᵀ F θ̇) dt`, which is constant along a geodesic: its value at the
    /// start, `√(vᵀ F(θ₀) v)`.
    ///
    /// # Errors
    ///
    /// The field's errors at the start.
    pub fn length(&self, field: &FisherField) -> Result<f64, GeometryError> {
        speed(field, &self.points[0], &self.velocities[0])
    }
}

/// `√(vᵀ F(θ) v)`.
fn speed(
    field: &FisherField,
    theta: &DVector<f64>,
    v: &DVector<f64>,
) -> Result<f64, GeometryError> {
    let f = field.at(theta.as_slice())?;
    Ok((v.transpose() * f * v)[(0, 0)].max(0.0).sqrt())
}

/// The Dormand–Prince 5(4) tableau (the system is autonomous, so the nodes `c` are not
/// needed): stages `a`, whose last row is the 5th-order weights `b` (so the last stage is the
/// next step's first), and the error weights `b − b̂`.
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
const E: [f64; 7] = [
    35.0 / 384.0 - 5179.0 / 57600.0,
    0.0,
    500.0 / 1113.0 - 7571.0 / 16695.0,
    125.0 / 192.0 - 393.0 / 640.0,
    -2187.0 / 6784.0 + 92097.0 / 339200.0,
    11.0 / 84.0 - 187.0 / 2100.0,
    -1.0 / 40.0,
];

/// Why a stage could not be evaluated.
enum Stage {
    /// The point is outside a domain: a smaller step may stay inside.
    Outside,
    /// Anything else stops the integration.
    Failed(GeometryError),
}

/// The geodesic equation as a first-order system in `y = (θ, θ̇)`.
fn rhs(field: &FisherField, y: &DVector<f64>, n: usize) -> Result<DVector<f64>, Stage> {
    let theta = y.rows(0, n);
    let inside = field
        .model()
        .params
        .iter()
        .zip(theta.iter())
        .all(|(p, v)| p.domain.contains(*v));
    if !inside {
        return Err(Stage::Outside);
    }
    let d = field
        .with_gradient(theta.as_slice())
        .map_err(|e| Stage::Failed(e.into()))?;
    let g = Christoffel::from_derivatives(&d).map_err(Stage::Failed)?;
    let v: Vec<f64> = y.rows(n, n).iter().copied().collect();
    let acc = g.acceleration(&v);
    let mut out = DVector::zeros(2 * n);
    out.rows_mut(0, n).copy_from_slice(&v);
    out.rows_mut(n, n).copy_from(&acc);
    if out.iter().all(|x| x.is_finite()) {
        Ok(out)
    } else {
        Err(Stage::Outside)
    }
}

/// The geodesic of `field` from `θ₀` with initial velocity `v` over `t ∈ [0, 1]`.
///
/// ```
/// use fisher_geometry::{FisherField, GeodesicOptions, Model, exponential_map};
///
/// // Poisson, F = 1/λ: √λ moves at constant speed, √λ(t) = √λ₀ + v t/(2√λ₀)
/// let field = FisherField::new(&Model::builtin("poisson")?)?;
/// let g = exponential_map(&field, &[4.0], &[2.0], GeodesicOptions::default())?;
/// assert!((g.end()[0] - 6.25).abs() < 1e-9); // (2 + 2/4)² = 6.25
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`GeometryError::Length`] for a velocity of the wrong length; the field's errors at `θ₀`;
/// [`GeometryError::Geodesic`] when the geodesic leaves the domain before `t = 1` or the
/// integrator cannot reach its accuracy within `options.max_steps`.
pub fn exponential_map(
    field: &FisherField,
    theta0: &[f64],
    v0: &[f64],
    options: GeodesicOptions,
) -> Result<Geodesic, GeometryError> {
    let n = field.dim();
    if theta0.len() != n || v0.len() != n {
        return Err(GeometryError::Length {
            what: "start point and velocity",
            expected: n,
            found: if theta0.len() != n {
                theta0.len()
            } else {
                v0.len()
            },
        });
    }
    let mut y = DVector::zeros(2 * n);
    y.rows_mut(0, n).copy_from_slice(theta0);
    y.rows_mut(n, n).copy_from_slice(v0);
    let fail = |reason: String| GeometryError::Geodesic { reason };
    let mut k0 = match rhs(field, &y, n) {
        Ok(k) => k,
        Err(Stage::Failed(e)) => return Err(e),
        Err(Stage::Outside) => {
            // Outside at the start is the field's error (a point outside the domain).
            field.at(theta0)?;
            return Err(fail(
                "the geodesic equation is not finite at the start".into(),
            ));
        }
    };
    let mut geodesic = Geodesic {
        times: vec![0.0],
        points: vec![y.rows(0, n).into_owned()],
        velocities: vec![y.rows(n, n).into_owned()],
        rejected: 0,
    };
    let speed0 = speed(field, &geodesic.points[0], &geodesic.velocities[0])?;
    let speed_tol = (100.0 * options.rel_tol).max(1e-7);
    let (mut t, mut h) = (0.0f64, 0.05f64);
    let mut steps = 0;
    while t < 1.0 {
        steps += 1;
        if steps > options.max_steps {
            return Err(fail(format!(
                "no accuracy {:e} within {} steps (reached t = {t})",
                options.rel_tol, options.max_steps
            )));
        }
        let remaining = 1.0 - t;
        if remaining <= 4.0 * f64::EPSILON {
            // t = 1 up to the rounding of the sum of the steps
            break;
        }
        h = h.min(remaining);
        if h < 1e-12 && h < remaining {
            return Err(fail(format!(
                "it leaves the parameter domain (or its equation stops being finite) near t = {t}, at {}",
                describe(field, y.rows(0, n).as_slice())
            )));
        }
        let mut k: Vec<DVector<f64>> = vec![k0.clone()];
        let mut outside = false;
        for a in &A[1..] {
            let mut ys = y.clone();
            for (j, kj) in k.iter().enumerate() {
                if a[j] != 0.0 {
                    ys.axpy(h * a[j], kj, 1.0);
                }
            }
            match rhs(field, &ys, n) {
                Ok(ks) => k.push(ks),
                Err(Stage::Outside) => {
                    outside = true;
                    break;
                }
                Err(Stage::Failed(e)) => return Err(e),
            }
        }
        if outside {
            geodesic.rejected += 1;
            h *= 0.25;
            continue;
        }
        // The 5th-order solution is the 7th stage's point; the error from the embedded pair.
        let mut y_new = y.clone();
        for (j, kj) in k.iter().take(6).enumerate() {
            if A[6][j] != 0.0 {
                y_new.axpy(h * A[6][j], kj, 1.0);
            }
        }
        let mut err = 0.0f64;
        for i in 0..2 * n {
            let e: f64 = (0..7).map(|j| E[j] * k[j][i]).sum::<f64>() * h;
            let scale = options.abs_tol + options.rel_tol * y[i].abs().max(y_new[i].abs());
            err = err.max((e / scale).abs());
        }
        if err <= 1.0 {
            // The speed √(θ̇ᵀFθ̇) of a geodesic is constant: where it drifts, the solution is
            // running into the edge of the domain (the Bernoulli's reaches p = 1 at a finite
            // length) or has lost its accuracy, and its end would be wrong.
            let theta_new = y_new.rows(0, n).into_owned();
            let v_new = y_new.rows(n, n).into_owned();
            let s = speed(field, &theta_new, &v_new)?;
            if (s - speed0).abs() > speed_tol * speed0.max(f64::MIN_POSITIVE) {
                return Err(fail(format!(
                    "its speed drifts from {} to {} near t = {}, at {}: it runs into the edge of the parameter domain, or the integration lost its accuracy",
                    crate::expr::number(speed0),
                    crate::expr::number(s),
                    t + h,
                    describe(field, theta_new.as_slice()),
                )));
            }
            t += h;
            y = y_new;
            k0 = k.swap_remove(6);
            geodesic.times.push(t);
            geodesic.points.push(y.rows(0, n).into_owned());
            geodesic.velocities.push(y.rows(n, n).into_owned());
        } else {
            geodesic.rejected += 1;
        }
        let factor = if err == 0.0 {
            5.0
        } else {
            (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
        };
        h *= factor;
    }
    Ok(geodesic)
}
