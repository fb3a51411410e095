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

use nalgebra::{DMatrix, DVector};

use super::connection::{DerivativeScratch, christoffel_derivatives_into, inverse_metric, located};
use super::{GeometryError, describe};
use crate::info::{FieldDerivatives, FisherField};

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

/// Working memory of the right-hand side, reused at every stage: `F` and `∂F` (filled
/// without allocation on the closed-form route), the Cholesky factor and inverse of `F`, the
/// sums `A_ijl` and the symbols `Γᵏᵢⱼ`.
struct Work {
    f: DMatrix<f64>,
    df: Vec<DMatrix<f64>>,
    chol: DMatrix<f64>,
    inv: DMatrix<f64>,
    a: Vec<f64>,
    gamma: Vec<f64>,
    column: Vec<f64>,
    /// `∂F` flat.
    flat: Vec<f64>,
    /// `F`, `∂F`, `∂²F` for the tangents.
    second: FieldDerivatives,
    /// `∂_cΓᵏᵢⱼ`, `∂_cΓᵏᵢⱼ vⁱvʲ` and `Γᵏᵢⱼ vⁱ` for the tangents, and the working memory.
    dgamma: Vec<f64>,
    q: Vec<f64>,
    w: Vec<f64>,
    scratch: DerivativeScratch,
}

impl Work {
    fn new(n: usize) -> Work {
        Work {
            f: DMatrix::zeros(n, n),
            df: vec![DMatrix::zeros(n, n); n],
            chol: DMatrix::zeros(n, n),
            inv: DMatrix::zeros(n, n),
            a: vec![0.0; n * n * n],
            gamma: vec![0.0; n * n * n],
            column: vec![0.0; n],
            flat: vec![0.0; n * n * n],
            second: FieldDerivatives {
                f: DMatrix::zeros(n, n),
                df: Vec::new(),
                d2f: Vec::new(),
            },
            dgamma: vec![0.0; n * n * n * n],
            q: vec![0.0; n * n],
            w: vec![0.0; n * n],
            scratch: DerivativeScratch::new(n),
        }
    }

    /// `inv = F⁻¹` by Cholesky in place; false when `F` is not positive definite.
    #[inline(always)]
    fn invert(&mut self, n: usize) -> bool {
        let (f, l, inv, y) = (&self.f, &mut self.chol, &mut self.inv, &mut self.column);
        for j in 0..n {
            let mut d = f[(j, j)];
            for k in 0..j {
                d -= l[(j, k)] * l[(j, k)];
            }
            if !(d > 0.0 && d.is_finite()) {
                return false;
            }
            let d = d.sqrt();
            l[(j, j)] = d;
            for i in j + 1..n {
                let mut s = f[(i, j)];
                for k in 0..j {
                    s -= l[(i, k)] * l[(j, k)];
                }
                l[(i, j)] = s / d;
            }
        }
        // F⁻¹ = L⁻ᵀ L⁻¹, column by column: solve L y = e_c, then Lᵀ x = y
        for c in 0..n {
            for i in 0..n {
                let mut s = if i == c { 1.0 } else { 0.0 };
                for k in 0..i {
                    s -= l[(i, k)] * y[k];
                }
                y[i] = s / l[(i, i)];
            }
            for i in (0..n).rev() {
                let mut s = y[i];
                for k in i + 1..n {
                    s -= l[(k, i)] * inv[(k, c)];
                }
                inv[(i, c)] = s / l[(i, i)];
            }
        }
        inv.iter().all(|v| v.is_finite())
    }

    /// `Γᵏᵢⱼ` at `(k·n + i)·n + j` from `f`, `df` and `inv`.
    #[inline(always)]
    fn christoffel(&mut self, n: usize) {
        // ∂F flat, `∂_l F_ij` at `(l·n + i)·n + j` (each matrix is symmetric, so its
        // column-major storage is also row-major)
        let nn = n * n;
        for (l, d) in self.df.iter().enumerate() {
            self.flat[l * nn..(l + 1) * nn].copy_from_slice(d.as_slice());
        }
        let flat = &self.flat;
        for i in 0..n {
            for j in 0..n {
                for l in 0..n {
                    self.a[(i * n + j) * n + l] = flat[i * nn + j * n + l]
                        + flat[j * nn + i * n + l]
                        - flat[l * nn + i * n + j];
                }
            }
        }
        for k in 0..n {
            for i in 0..n {
                for j in i..n {
                    let mut v = 0.0;
                    for l in 0..n {
                        v += self.inv[(k, l)] * self.a[(i * n + j) * n + l];
                    }
                    v *= 0.5;
                    self.gamma[(k * n + i) * n + j] = v;
                    self.gamma[(k * n + j) * n + i] = v;
                }
            }
        }
    }
}

/// [`rhs_n`] with `n` and `m` constants for up to five parameters: the body is inlined into
/// each arm, so its many loops of length `n` are unrolled there (the loop overhead was most of
/// the cost for two parameters).
fn rhs(
    field: &FisherField,
    y: &DVector<f64>,
    n: usize,
    m: usize,
    work: &mut Work,
    out: &mut DVector<f64>,
    unit: &mut [f64],
) -> Result<(), Stage> {
    macro_rules! arms {
        ($($k:literal),*) => {
            match (n, m) {
                $(($k, 0) => rhs_n(field, y, $k, 0, work, out, unit),
                  ($k, $k) => rhs_n(field, y, $k, $k, work, out, unit),)*
                _ => rhs_n(field, y, n, m, work, out, unit),
            }
        };
    }
    arms!(1, 2, 3, 4, 5)
}

/// The geodesic equation as a first-order system in `y = (θ, θ̇, Θ, V)`, into `out`, with
/// the Fisher length unit `1/√F_ii` of each coordinate into `unit` (the scale of the error
/// control): with `m` tangent directions, `Θ` and `V` (each `n × m`, column-major) are the
/// derivatives of `θ` and `θ̇` along them, following the variational equation
/// `V̇ᵏ = −∂_cΓᵏᵢⱼ θ̇ⁱθ̇ʲ Θᶜ − 2 Γᵏᵢⱼ θ̇ⁱ Vʲ` (from the field's exact `∂²F`): forward-mode
/// dual numbers through the integrator, written out. Leaves `F` at `y` in `work.f`.
#[inline(always)]
fn rhs_n(
    field: &FisherField,
    y: &DVector<f64>,
    n: usize,
    m: usize,
    work: &mut Work,
    out: &mut DVector<f64>,
    unit: &mut [f64],
) -> Result<(), Stage> {
    let theta = &y.as_slice()[..n];
    let inside = field
        .model()
        .params
        .iter()
        .zip(theta)
        .all(|(p, v)| p.domain.contains(*v));
    if !inside {
        return Err(Stage::Outside);
    }
    let failed = |e: crate::info::InfoError| Stage::Failed(e.into());
    if m == 0 {
        field
            .with_gradient_into(theta, &mut work.f, &mut work.df)
            .map_err(failed)?;
    } else {
        field
            .with_derivatives_into(theta, &mut work.second)
            .map_err(failed)?;
        work.f.copy_from(&work.second.f);
        for (w, x) in work.df.iter_mut().zip(&work.second.df) {
            w.copy_from(x);
        }
    }
    if !work.invert(n) {
        let e = inverse_metric(&work.f, "the geodesic equation")
            .err()
            .unwrap_or_else(|| GeometryError::Geodesic {
                reason: "the Fisher matrix cannot be inverted".into(),
            });
        return Err(Stage::Failed(located(e, field, theta)));
    }
    work.christoffel(n);
    let g = &work.gamma;
    let v = &y.as_slice()[n..2 * n];
    for k in 0..n {
        out[k] = v[k];
        let mut s = 0.0;
        for i in 0..n {
            for j in 0..n {
                s += g[(k * n + i) * n + j] * v[i] * v[j];
            }
        }
        out[n + k] = -s;
    }
    if m > 0 {
        christoffel_derivatives_into(
            &work.second,
            &work.inv,
            n,
            &mut work.scratch,
            &mut work.dgamma,
        );
        let (dg, q, w) = (&work.dgamma, &mut work.q, &mut work.w);
        // q[c·n + k] = ∂_cΓᵏᵢⱼ vⁱvʲ; w[k·n + j] = Γᵏᵢⱼ vⁱ
        q.fill(0.0);
        w.fill(0.0);
        for k in 0..n {
            for i in 0..n {
                for j in 0..n {
                    w[k * n + j] += g[(k * n + i) * n + j] * v[i];
                    for c in 0..n {
                        q[c * n + k] += dg[((c * n + k) * n + i) * n + j] * v[i] * v[j];
                    }
                }
            }
        }
        let (th, vv) = (2 * n, 2 * n + n * m);
        for col in 0..m {
            for k in 0..n {
                out[th + col * n + k] = y[vv + col * n + k];
                let mut s = 0.0;
                for c in 0..n {
                    s += q[c * n + k] * y[th + col * n + c];
                    s += 2.0 * w[k * n + c] * y[vv + col * n + c];
                }
                out[vv + col * n + k] = -s;
            }
        }
    }
    if out.iter().all(|x| x.is_finite()) {
        for (i, u) in unit.iter_mut().enumerate() {
            *u = 1.0 / work.f[(i, i)].sqrt();
        }
        Ok(())
    } else {
        Err(Stage::Outside)
    }
}

/// The geodesic of `field` from `θ₀` with initial velocity `v` over `t ∈ [0, 1]`.
///
/// The error control measures each coordinate in its Fisher length unit `1/√F_ii` at the
/// step (so `σ = 10⁻¹⁵⁰` is followed as accurately as `σ = 1`), relative `rel_tol`, absolute
/// `abs_tol` units.
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
    integrate(field, theta0, v0, options, false).map(|(g, _)| g)
}

/// [`exponential_map`] with the Jacobian `∂θ(1)/∂v` of its end with respect to the initial
/// velocity (the derivative of the discrete solution, its step sizes held fixed).
///
/// # Errors
///
/// Those of [`exponential_map`], and the field's errors for `∂²F`.
pub(super) fn exponential_map_with_jacobian(
    field: &FisherField,
    theta0: &[f64],
    v0: &[f64],
    options: GeodesicOptions,
) -> Result<(Geodesic, DMatrix<f64>), GeometryError> {
    integrate(field, theta0, v0, options, true).map(|(g, j)| (g, j.expect("tangents asked for")))
}

/// The integration behind [`exponential_map`], with the `n` tangents along the initial
/// velocity's components when `tangents` is set.
fn integrate(
    field: &FisherField,
    theta0: &[f64],
    v0: &[f64],
    options: GeodesicOptions,
    tangents: bool,
) -> Result<(Geodesic, Option<DMatrix<f64>>), GeometryError> {
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
    let m = if tangents { n } else { 0 };
    let size = 2 * n + 2 * n * m;
    let mut y = DVector::zeros(size);
    y.rows_mut(0, n).copy_from_slice(theta0);
    y.rows_mut(n, n).copy_from_slice(v0);
    for col in 0..m {
        // V(0) = I, Θ(0) = 0
        y[2 * n + n * m + col * n + col] = 1.0;
    }
    let fail = |reason: String| GeometryError::Geodesic { reason };
    let mut work = Work::new(n);
    // the slopes of the 7 stages (the last is the next step's first) and their units
    let mut k: Vec<DVector<f64>> = vec![DVector::zeros(size); 7];
    let mut units = vec![vec![0.0; n]; 7];
    match rhs(field, &y, n, m, &mut work, &mut k[0], &mut units[0]) {
        Ok(()) => {}
        Err(Stage::Failed(e)) => return Err(e),
        Err(Stage::Outside) => {
            // Outside at the start is the field's error (a point outside the domain).
            field.at(theta0)?;
            return Err(fail(
                "the geodesic equation is not finite at the start".into(),
            ));
        }
    }
    let mut geodesic = Geodesic {
        times: vec![0.0],
        points: vec![y.rows(0, n).into_owned()],
        velocities: vec![y.rows(n, n).into_owned()],
        rejected: 0,
    };
    let speed_of = |f: &DMatrix<f64>, v: &[f64]| -> f64 {
        let mut s = 0.0;
        for i in 0..n {
            for j in 0..n {
                s += v[i] * f[(i, j)] * v[j];
            }
        }
        s.max(0.0).sqrt()
    };
    let speed0 = speed_of(&work.f, v0);
    let speed_tol = (100.0 * options.rel_tol).max(1e-7);
    let (mut t, mut h) = (0.0f64, 0.05f64);
    let mut steps = 0;
    let mut ys = DVector::zeros(size);
    let mut y_new = DVector::zeros(size);
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
        let mut outside = false;
        for stage in 1..7 {
            ys.copy_from(&y);
            let (done, rest) = k.split_at_mut(stage);
            for (j, kj) in done.iter().enumerate() {
                let a = A[stage][j];
                if a != 0.0 {
                    ys.axpy(h * a, kj, 1.0);
                }
            }
            match rhs(field, &ys, n, m, &mut work, &mut rest[0], &mut units[stage]) {
                Ok(()) => {}
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
        // The 5th-order solution is the 7th stage's point; the error from the embedded pair,
        // on θ and θ̇ only (the tangents follow the steps chosen for the solution).
        y_new.copy_from(&y);
        for (j, &w) in A[6].iter().enumerate() {
            if w != 0.0 {
                y_new.axpy(h * w, &k[j], 1.0);
            }
        }
        let mut err = 0.0f64;
        for i in 0..2 * n {
            let e: f64 = (0..7).map(|j| E[j] * k[j][i]).sum::<f64>() * h;
            let unit = units[0][i % n] * if i < n { 1.0 } else { speed0 };
            let scale = options.abs_tol * unit + options.rel_tol * y[i].abs().max(y_new[i].abs());
            let r = if scale > 0.0 { (e / scale).abs() } else { 0.0 };
            err = err.max(if r.is_nan() { f64::INFINITY } else { r });
        }
        if err <= 1.0 {
            // The speed √(θ̇ᵀFθ̇) of a geodesic is constant: where it drifts, the solution is
            // running into the edge of the domain (the Bernoulli's reaches p = 1 at a finite
            // length) or has lost its accuracy, and its end would be wrong. `work.f` is `F`
            // at the 7th stage, which is `y_new`.
            let s = speed_of(&work.f, &y_new.as_slice()[n..2 * n]);
            if (s - speed0).abs() > speed_tol * speed0.max(f64::MIN_POSITIVE) {
                return Err(fail(format!(
                    "its speed drifts from {} to {} near t = {}, at {}: it runs into the edge of the parameter domain, or the integration lost its accuracy",
                    crate::expr::number(speed0),
                    crate::expr::number(s),
                    t + h,
                    describe(field, &y_new.as_slice()[..n]),
                )));
            }
            t += h;
            std::mem::swap(&mut y, &mut y_new);
            k.swap(0, 6);
            units.swap(0, 6);
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
    let jacobian = tangents.then(|| DMatrix::from_fn(n, n, |row, col| y[2 * n + col * n + row]));
    Ok((geodesic, jacobian))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// The Jacobian of the endpoint from the variational equation equals central differences
    /// of the endpoint in the initial velocity (the step sizes chosen by the error control
    /// differ between the perturbed runs, so the agreement is to the integration tolerance).
    #[test]
    fn the_endpoint_jacobian_matches_finite_differences() {
        let options = GeodesicOptions {
            rel_tol: 1e-12,
            abs_tol: 1e-14,
            max_steps: 20_000,
        };
        for (name, theta0, v0) in [
            ("normal", vec![0.3, 1.2], vec![1.5, 0.4]),
            ("gamma", vec![2.0, 1.5], vec![-0.7, 0.9]),
            ("beta", vec![1.5, 2.5], vec![0.8, -0.6]),
        ] {
            let field = FisherField::new(&Model::builtin(name).unwrap()).unwrap();
            let (g, jac) = exponential_map_with_jacobian(&field, &theta0, &v0, options).unwrap();
            let plain = exponential_map(&field, &theta0, &v0, options).unwrap();
            assert_eq!(
                g.end(),
                plain.end(),
                "{name}: the tangents change the solution"
            );
            let h = 1e-5;
            for col in 0..2 {
                let mut vp = v0.clone();
                let mut vm = v0.clone();
                vp[col] += h;
                vm[col] -= h;
                let ep = exponential_map(&field, &theta0, &vp, options).unwrap();
                let em = exponential_map(&field, &theta0, &vm, options).unwrap();
                for row in 0..2 {
                    let fd = (ep.end()[row] - em.end()[row]) / (2.0 * h);
                    let scale = jac.column(col).amax().max(1.0);
                    assert!(
                        (fd - jac[(row, col)]).abs() < 1e-5 * scale,
                        "{name}: ∂θ{row}/∂v{col} = {} by tangents, {fd} by differences",
                        jac[(row, col)]
                    );
                }
            }
        }
    }
}
