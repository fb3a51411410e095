//! Fisher balls: the sets at Fisher distance `r` from a centre `θ₀`, to second order, in a
//! plane of two parameters, beside the exact KL level sets they approximate (the seed's
//! missing figures, DESIGN §4).
//!
//! In the plane of the parameters `x` and `y` (every other parameter held fixed at its value
//! in `θ₀`), write `Δ = (θ_x − θ₀_x, θ_y − θ₀_y)` and `B` for the 2×2 block of `F(θ₀)` of
//! `x` and `y`. The **Fisher ball** is the ellipse `ΔᵀBΔ = r²`: the ball of the 2-D slice,
//! not the projection of the ball of all parameters. On it `D(θ‖θ₀) ≈ r²/2` (the seed's
//! "distance 0.1, KL about 0.01" is loose by that factor 2).
//!
//! The **KL level set** is `D(θ‖θ₀) = r²/2` exactly, with `p = θ` the point on the set and
//! `q = θ₀` the centre ([`KlField::kl`]`(θ, θ₀)`). It is found along rays from `θ₀`: ray `k`
//! runs through the ellipse point `θ₀ + r·B^{−1/2}u_k`, `u_k = (cos φ_k, sin φ_k)`, as
//! `θ(t) = θ₀ + t·B^{−1/2}u_k`, so the ellipse is at `t = r` on every ray, and the level set at
//! the root `t_k` of `D(θ(t)‖θ₀) = r²/2`, bracketed by doubling `t` and refined by Brent's
//! method. Near the centre `t_k/r → 1` with an error of order `r`.
//!
//! **Domains.** A ray that leaves the domain (σ → 0) does so at a finite `t`. The divergence
//! is never evaluated outside: the bracket approaches the boundary by halving the distance,
//! and if `D` stays below `r²/2` all the way, the level set is cut there ([`RayEnd::Boundary`],
//! the last point evaluated, inside the domain). The ellipse is clipped too: its points
//! outside the domain are dropped, and what is left comes in pieces.
//!
//! **Accuracy.** A closed-form divergence is evaluated to relative `10⁻¹²`, so the level set
//! is at `D = r²/2` to about that; a numeric one must estimate its error below `10⁻⁴·r²/2`
//! at every point evaluated, or the ball is refused ([`GeometryError::LevelSet`]) rather than
//! drawn from noise. Radii so small that the ball is lost in the rounding of `θ₀ + Δ` are
//! refused too.

use std::f64::consts::TAU;

use nalgebra::DMatrix;

use super::connection::located;
use super::{GeometryError, Whitening, describe};
use crate::info::{FisherField, KlField, Method};

/// The choices of [`FisherBall::at`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BallOptions {
    /// The Fisher radius `r` (the ellipse `ΔᵀBΔ = r²`, the level set `D = r²/2`).
    pub radius: f64,
    /// The number of rays along which the level set is found (at least 8).
    pub rays: usize,
    /// The number of points of the ellipse (at least 8).
    pub ellipse_points: usize,
}

impl Default for BallOptions {
    /// `r = 0.1`, the seed's radius; 96 rays; 192 ellipse points.
    fn default() -> BallOptions {
        BallOptions {
            radius: 0.1,
            rays: 96,
            ellipse_points: 192,
        }
    }
}

/// How a ray of the level set ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RayEnd {
    /// At the root of `D(θ(t)‖θ₀) = r²/2`.
    Level,
    /// Cut at the boundary of the domain: `D` stays below `r²/2` up to it; the point is the
    /// last one evaluated, inside the domain.
    Boundary,
}

/// One point of the KL level set: where its ray ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelPoint {
    /// The point in the plane, `(θ_x, θ_y)`.
    pub point: [f64; 2],
    /// The ray parameter `t` (the ellipse is at `t = r`).
    pub t: f64,
    /// `D(θ(t)‖θ₀)` there: `r²/2` at a root, less at a cut.
    pub kl: f64,
    /// How the ray ends.
    pub end: RayEnd,
}

/// A Fisher ball and the KL level set beside it, in the plane of two parameters (see the
/// module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct FisherBall {
    /// The centre `θ₀`, every parameter, in parameter order.
    pub center: Vec<f64>,
    /// The parameter indices of the plane, `(x, y)`.
    pub plane: (usize, usize),
    /// The Fisher radius `r`.
    pub radius: f64,
    /// The 2×2 block `B` of `F(θ₀)` of the two parameters, `[[F_xx, F_xy], [F_yx, F_yy]]`.
    pub block: [[f64; 2]; 2],
    /// The ellipse `ΔᵀBΔ = r²` as polylines in the plane: one closed polyline (its first
    /// point repeated at the end) when the ellipse lies inside the domain, otherwise the
    /// pieces that do, each open.
    pub ellipse: Vec<Vec<[f64; 2]>>,
    /// The level set `D(θ‖θ₀) = r²/2`, one point per ray in the order of the angle `φ_k`.
    pub level_set: Vec<LevelPoint>,
    /// The route of the divergence.
    pub method: Method,
}

/// `n` values from `lo` to `hi`, both included and evenly spaced (one: the middle), for a grid
/// of centres; each is `(lo·(n − 1 − i) + hi·i)/(n − 1)`, so that `0.2..1` in 5 steps gives
/// `0.6`, not `0.6000000000000001`.
///
/// ```
/// use fisher_geometry::grid_centers;
/// assert_eq!(grid_centers(0.2, 1.0, 5), [0.2, 0.4, 0.6, 0.8, 1.0]);
/// assert_eq!(grid_centers(0.0, 1.0, 1), [0.5]);
/// assert!(grid_centers(-1.7e308, 1.7e308, 3).iter().all(|v| v.is_finite()));
/// ```
pub fn grid_centers(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![0.5 * lo + 0.5 * hi],
        _ => (0..n)
            .map(|i| {
                let (a, b) = ((n - 1 - i) as f64, i as f64);
                let m = (n - 1) as f64;
                if i == n - 1 {
                    hi
                } else {
                    let v = (lo * a + hi * b) / m;
                    // Near the ends of the range of f64 the sum overflows; weights first.
                    if v.is_finite() {
                        v
                    } else {
                        lo * (a / m) + hi * (b / m)
                    }
                }
            })
            .collect(),
    }
}

/// Checks that `plane` names two different parameters of a model with at least two.
fn check_plane(field: &FisherField, plane: (usize, usize)) -> Result<(), GeometryError> {
    let n = field.dim();
    if n < 2 {
        return Err(GeometryError::Plane(format!(
            "the model has {n} parameter, and a plane needs two"
        )));
    }
    let names = |i: usize| {
        field
            .model()
            .params
            .get(i)
            .map_or_else(|| format!("#{i}"), |p| p.name.to_string())
    };
    if plane.0 >= n || plane.1 >= n {
        return Err(GeometryError::Plane(format!(
            "parameter indices {} and {} for a model of {n} parameters",
            plane.0, plane.1
        )));
    }
    if plane.0 == plane.1 {
        return Err(GeometryError::Plane(format!(
            "`{}` is both axes: give two different parameters",
            names(plane.0)
        )));
    }
    Ok(())
}

/// The 2×2 block of `f` in the plane.
fn block_of(f: &DMatrix<f64>, (x, y): (usize, usize)) -> [[f64; 2]; 2] {
    [[f[(x, x)], f[(x, y)]], [f[(y, x)], f[(y, y)]]]
}

/// The whitening of the plane at `θ*` (every parameter, in parameter order): the symmetric
/// square root of the 2×2 block `B(θ*)` of `F(θ*)` of the two parameters of `plane`, centred
/// at `(θ*_x, θ*_y)`. Its local coordinates `η = B^{1/2}(θ*)((θ_x, θ_y) − (θ*_x, θ*_y))` are
/// the seed's equation (1) for the 2-D slice (the other parameters fixed): the Fisher ball
/// at `θ*` becomes the circle `|η| = r`.
///
/// ```
/// use fisher_geometry::{FisherField, Model, plane_whitening};
///
/// let field = FisherField::new(&Model::builtin("normal")?)?;
/// let w = plane_whitening(&field, &[0.0, 2.0], (0, 1))?;
/// let eta = w.to_local(&[0.5, 2.0]);
/// // F = diag(1/σ², 2/σ²): η₁ = Δμ/σ
/// assert!((eta[0] - 0.25).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`GeometryError::Plane`] for a bad plane; [`GeometryError::Info`] when `F(θ*)` cannot be
/// evaluated; [`GeometryError::NotPositiveDefinite`] when the block is no metric.
pub fn plane_whitening(
    field: &FisherField,
    theta: &[f64],
    plane: (usize, usize),
) -> Result<Whitening, GeometryError> {
    block_whitening(field, theta, plane).map(|(_, w)| w)
}

/// The block of `F(θ)` in the plane and its whitening.
fn block_whitening(
    field: &FisherField,
    theta: &[f64],
    plane: (usize, usize),
) -> Result<([[f64; 2]; 2], Whitening), GeometryError> {
    check_plane(field, plane)?;
    let f = field.at(theta)?;
    let b = block_of(&f, plane);
    let m = DMatrix::from_row_slice(2, 2, &[b[0][0], b[0][1], b[1][0], b[1][1]]);
    let w = Whitening::of_matrix(&m, &[theta[plane.0], theta[plane.1]])
        .map_err(|e| located(e, field, theta))?;
    Ok((b, w))
}

impl FisherBall {
    /// The Fisher ball of radius `options.radius` at `center` (every parameter, in parameter
    /// order) in the plane of the parameters `plane = (x, y)`, and its KL level set from
    /// `kl` (the same model as `field`).
    ///
    /// ```
    /// use fisher_geometry::{BallOptions, FisherBall, FisherField, KlField, Model};
    ///
    /// let model = Model::builtin("normal")?;
    /// let (field, kl) = (FisherField::new(&model)?, KlField::new(&model)?);
    /// let ball = FisherBall::at(&field, &kl, &[0.0, 1.0], (0, 1), &BallOptions::default())?;
    /// // D = r²/2 on the level set, and near the centre it hugs the ellipse
    /// assert!(ball.level_set.iter().all(|p| (p.kl - 0.005).abs() < 1e-12));
    /// assert!(ball.max_relative_gap() < 0.1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GeometryError::Radius`] for a radius that is not finite and positive, or so small
    /// that `r²/2` nears the bottom of the range of `f64` or the ball is below `10⁻⁹` of the
    /// centre's coordinates (lost to rounding); [`GeometryError::Plane`] for a one-parameter
    /// model, a bad plane, or too few rays or points;
    /// [`GeometryError::Info`] when `F(θ₀)` or a divergence cannot be evaluated (a centre
    /// outside the domains, say); [`GeometryError::NotPositiveDefinite`] when the block of
    /// `F(θ₀)` is no metric; [`GeometryError::LevelSet`] when `D` stays below `r²/2` along a
    /// ray that never leaves the domain, or when a numeric divergence is not accurate to
    /// `10⁻⁴` of `r²/2`.
    pub fn at(
        field: &FisherField,
        kl: &KlField,
        center: &[f64],
        plane: (usize, usize),
        options: &BallOptions,
    ) -> Result<FisherBall, GeometryError> {
        let r = options.radius;
        let radius_error = |reason: String| GeometryError::Radius {
            radius: crate::expr::number(r),
            reason,
        };
        if !(r.is_finite() && r > 0.0) {
            return Err(radius_error("not a finite number greater than 0".into()));
        }
        if r * r / 2.0 < MIN_LEVEL {
            return Err(radius_error(format!(
                "too small: the level r^2/2 is below {}",
                crate::expr::number(MIN_LEVEL)
            )));
        }
        if options.rays < 8 || options.ellipse_points < 8 {
            return Err(GeometryError::Plane(format!(
                "{} rays and {} ellipse points: a ball needs at least 8 of each",
                options.rays, options.ellipse_points
            )));
        }
        let (block, w) = block_whitening(field, center, plane)?;
        let inv = w.inverse_sqrt_fisher();
        // The half extents of the ellipse along the axes, r·√((B⁻¹)_ii) = r·|row i of B^{−1/2}|:
        // a ball much smaller than the centre's coordinates is lost to rounding in θ₀ + Δ.
        for (k, &i) in [plane.0, plane.1].iter().enumerate() {
            let extent = r * inv[(k, 0)].hypot(inv[(k, 1)]);
            let resolved = extent > RESOLUTION * center[i].abs(); // false for NaN
            if !resolved {
                return Err(radius_error(format!(
                    "too small to resolve at this centre: the ball reaches {} from `{}` = {}, below {} of it",
                    crate::expr::number(extent),
                    field.model().params[i].name,
                    crate::expr::number(center[i]),
                    crate::expr::number(RESOLUTION)
                )));
            }
        }
        let direction = |phi: f64| -> [f64; 2] {
            let (s, c) = phi.sin_cos();
            [
                inv[(0, 0)] * c + inv[(0, 1)] * s,
                inv[(1, 0)] * c + inv[(1, 1)] * s,
            ]
        };
        let params = &field.model().params;
        let domains = [params[plane.0].domain, params[plane.1].domain];
        let c = [center[plane.0], center[plane.1]];
        let inside = |p: [f64; 2]| domains[0].contains(p[0]) && domains[1].contains(p[1]);

        let m = options.ellipse_points;
        let ellipse_all: Vec<([f64; 2], bool)> = (0..m)
            .map(|j| {
                let d = direction(TAU * j as f64 / m as f64);
                let p = [c[0] + r * d[0], c[1] + r * d[1]];
                (p, inside(p))
            })
            .collect();
        let ellipse = pieces(&ellipse_all);

        let ray = Ray {
            kl,
            center,
            plane,
            domains,
            target: r * r / 2.0,
            radius: r,
        };
        let level_set = (0..options.rays)
            .map(|k| ray.level_point(direction(TAU * k as f64 / options.rays as f64)))
            .collect::<Result<Vec<_>, RayError>>()
            .map_err(|e| match e {
                RayError::Geometry(e) => e,
                RayError::Unbounded(t) => GeometryError::LevelSet {
                    at: describe(field, center),
                    reason: format!(
                        "D(theta || center) stays below r^2/2 = {} along a ray that stays inside the domain, up to t = {} (the ellipse is at t = {})",
                        crate::expr::number(r * r / 2.0),
                        crate::expr::number(t),
                        crate::expr::number(r)
                    ),
                },
                RayError::Inaccurate { theta, error } => GeometryError::LevelSet {
                    at: describe(field, center),
                    reason: format!(
                        "the numeric divergence at {} has an estimated error of {}, more than {} of the level r^2/2 = {}: take a larger radius",
                        describe(field, &theta),
                        crate::expr::number(error),
                        crate::expr::number(MAX_KL_ERROR),
                        crate::expr::number(r * r / 2.0)
                    ),
                },
            })?;
        Ok(FisherBall {
            center: center.to_vec(),
            plane,
            radius: r,
            block,
            ellipse,
            level_set,
            method: kl.method(),
        })
    }

    /// The centre in the plane, `(θ₀_x, θ₀_y)`.
    pub fn center_in_plane(&self) -> [f64; 2] {
        [self.center[self.plane.0], self.center[self.plane.1]]
    }

    /// Whether the ellipse leaves the domain (and was clipped).
    pub fn ellipse_clipped(&self) -> bool {
        match self.ellipse.as_slice() {
            [one] => one.first() != one.last() || one.len() < 2,
            _ => true,
        }
    }

    /// How many rays of the level set are cut at the boundary of the domain.
    pub fn cut_rays(&self) -> usize {
        self.level_set
            .iter()
            .filter(|p| p.end == RayEnd::Boundary)
            .count()
    }

    /// The level set as a closed polyline (its first point repeated at the end); the points
    /// of cut rays lie along the boundary of the domain.
    pub fn level_polyline(&self) -> Vec<[f64; 2]> {
        let mut out: Vec<[f64; 2]> = self.level_set.iter().map(|p| p.point).collect();
        if let Some(first) = out.first().copied() {
            out.push(first);
        }
        out
    }

    /// `max_k |t_k/r − 1|` over the rays that end at a root: how far, in Fisher radii, the
    /// exact level set strays from the ellipse (0 when the quadratic picture is exact).
    pub fn max_relative_gap(&self) -> f64 {
        self.level_set
            .iter()
            .filter(|p| p.end == RayEnd::Level)
            .map(|p| (p.t / self.radius - 1.0).abs())
            .fold(0.0, f64::max)
    }
}

/// The runs of consecutive points inside the domain. A closed ellipse (every point inside)
/// is one polyline with its first point repeated; otherwise the runs, the one that wraps
/// around the start joined up.
fn pieces(points: &[([f64; 2], bool)]) -> Vec<Vec<[f64; 2]>> {
    if points.iter().all(|(_, inside)| *inside) {
        let mut all: Vec<[f64; 2]> = points.iter().map(|(p, _)| *p).collect();
        if let Some(first) = all.first().copied() {
            all.push(first);
        }
        return vec![all];
    }
    // Start just after a point outside, so that no run wraps around.
    let n = points.len();
    let start = points.iter().position(|(_, inside)| !inside).unwrap_or(0);
    let mut out = Vec::new();
    let mut run = Vec::new();
    for j in 1..=n {
        let (p, inside) = points[(start + j) % n];
        if inside {
            run.push(p);
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// Why a ray found no end.
enum RayError {
    /// The divergence could not be evaluated.
    Geometry(GeometryError),
    /// `D` stays below the target along a ray that never leaves the domain, up to this `t`.
    Unbounded(f64),
    /// The numeric divergence at `theta` has an estimated error too large against `r²/2`.
    Inaccurate {
        /// The point.
        theta: Vec<f64>,
        /// The estimated absolute error.
        error: f64,
    },
}

impl From<crate::info::InfoError> for RayError {
    fn from(e: crate::info::InfoError) -> RayError {
        RayError::Geometry(e.into())
    }
}

/// The rays of one ball.
struct Ray<'a> {
    kl: &'a KlField,
    center: &'a [f64],
    plane: (usize, usize),
    domains: [crate::model::Domain; 2],
    target: f64,
    radius: f64,
}

/// The smallest level `r²/2` (far above the range where `f64` loses digits).
const MIN_LEVEL: f64 = 1e-200;
/// The smallest extent of a ball relative to its centre's coordinates: below it, `θ₀ + Δ`
/// keeps too few digits of `Δ` for a divergence of order `|Δ|²`.
const RESOLUTION: f64 = 1e-9;
/// The largest estimated error of a numeric divergence relative to the level `r²/2`.
const MAX_KL_ERROR: f64 = 1e-4;

/// Doublings of `t` before a ray that stays inside the domain is given up.
const MAX_DOUBLINGS: usize = 60;
/// Halvings of the distance to the boundary before a ray is cut there.
const MAX_HALVINGS: usize = 60;

impl Ray<'_> {
    /// `θ(t)`, every parameter.
    fn theta(&self, d: [f64; 2], t: f64) -> Vec<f64> {
        let mut theta = self.center.to_vec();
        theta[self.plane.0] += t * d[0];
        theta[self.plane.1] += t * d[1];
        theta
    }

    /// Whether `θ(t)` lies inside both domains (in floating point, as it will be evaluated).
    fn inside(&self, d: [f64; 2], t: f64) -> bool {
        let theta = self.theta(d, t);
        self.domains[0].contains(theta[self.plane.0])
            && self.domains[1].contains(theta[self.plane.1])
    }

    /// `D(θ(t)‖θ₀) − r²/2`, and `D`.
    fn g(&self, d: [f64; 2], t: f64) -> Result<(f64, f64), RayError> {
        let theta = self.theta(d, t);
        let divergence = self.kl.kl(&theta, self.center)?;
        if let Some(error) = divergence.error {
            let accurate = error <= MAX_KL_ERROR * self.target; // false for NaN
            if !accurate {
                return Err(RayError::Inaccurate { theta, error });
            }
        }
        let kl = divergence.value;
        Ok((kl - self.target, kl))
    }

    /// The largest `t` for which the ray stays inside the domains in exact arithmetic
    /// (infinite when it never leaves them).
    fn boundary(&self, d: [f64; 2]) -> f64 {
        let mut t_max = f64::INFINITY;
        for (k, &i) in [self.plane.0, self.plane.1].iter().enumerate() {
            let (lo, hi) = self.domains[k].bounds();
            let c = self.center[i];
            if d[k] > 0.0 && hi.is_finite() {
                t_max = t_max.min((hi - c) / d[k]);
            } else if d[k] < 0.0 && lo.is_finite() {
                t_max = t_max.min((lo - c) / d[k]);
            }
        }
        t_max
    }

    /// Where the ray in direction `d` meets the level set, or the boundary.
    fn level_point(&self, d: [f64; 2]) -> Result<LevelPoint, RayError> {
        let t_max = self.boundary(d);
        let point = |t: f64| {
            [
                self.center[self.plane.0] + t * d[0],
                self.center[self.plane.1] + t * d[1],
            ]
        };
        // Bracket: g(lo) < 0 ≤ g(hi), by doubling from the ellipse's t = r.
        let (mut lo, mut g_lo) = (0.0, -self.target);
        let mut hi = self.radius;
        let mut bracket = None;
        for _ in 0..MAX_DOUBLINGS {
            if !(hi < t_max && self.inside(d, hi)) {
                break;
            }
            let (g, _) = self.g(d, hi)?;
            if g >= 0.0 {
                bracket = Some((hi, g));
                break;
            }
            (lo, g_lo) = (hi, g);
            hi *= 2.0;
        }
        if bracket.is_none() {
            if t_max.is_infinite() {
                return Err(RayError::Unbounded(lo));
            }
            // Approach the boundary by halving the distance to it, never evaluating outside.
            let mut last_kl = g_lo + self.target;
            for k in 1..=MAX_HALVINGS {
                let t = t_max - (t_max - lo) * 0.5f64.powi(k as i32);
                if !(t > lo && self.inside(d, t)) {
                    break;
                }
                let (g, kl) = self.g(d, t)?;
                if g >= 0.0 {
                    bracket = Some((t, g));
                    break;
                }
                (lo, g_lo, last_kl) = (t, g, kl);
            }
            if bracket.is_none() {
                return Ok(LevelPoint {
                    point: point(lo),
                    t: lo,
                    kl: last_kl,
                    end: RayEnd::Boundary,
                });
            }
        }
        let (hi, g_hi) = bracket.unwrap_or((hi, 0.0));
        let (t, g) = brent(|t| self.g(d, t).map(|(g, _)| g), (lo, g_lo), (hi, g_hi))?;
        Ok(LevelPoint {
            point: point(t),
            t,
            kl: g + self.target,
            end: RayEnd::Level,
        })
    }
}

/// Iterations of Brent's method before it stops at the best point so far (it converges in
/// far fewer: the bracket at least halves every few steps).
const MAX_BRENT: usize = 200;

/// The root of `g` in `[a, b]`, `g(a) < 0 ≤ g(b)`, by Brent's method (inverse quadratic
/// interpolation, secant and bisection; Brent, *Algorithms for Minimization without
/// Derivatives*, 1973, ch. 4), to the resolution of `f64`: the point of the final bracket with
/// the smaller `|g|`, and `g` there.
fn brent<E>(
    mut g: impl FnMut(f64) -> Result<f64, E>,
    (a0, ga): (f64, f64),
    (b0, gb): (f64, f64),
) -> Result<(f64, f64), E> {
    let (mut a, mut fa, mut b, mut fb) = (a0, ga, b0, gb);
    if fb == 0.0 {
        return Ok((b, fb));
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..MAX_BRENT {
        if (fb > 0.0) == (fc > 0.0) {
            (c, fc) = (a, fa);
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, fa) = (b, fb);
            (b, fb) = (c, fc);
            (c, fc) = (a, fa);
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + f64::MIN_POSITIVE;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            break;
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * m * s, 1.0 - s)
            } else {
                let q = fa / fc;
                let r = fb / fc;
                (
                    s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0)),
                    (q - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = g(b)?;
    }
    Ok(if fc.abs() < fb.abs() && (fb > 0.0) != (fc > 0.0) {
        (c, fc)
    } else {
        (b, fb)
    })
}

#[cfg(test)]
mod tests {
    use super::{brent, pieces};

    #[test]
    fn brent_finds_roots_to_the_resolution_of_f64() {
        let g = |t: f64| Ok::<f64, ()>(t * t - 2.0);
        let (t, _) = brent(g, (0.0, -2.0), (2.0, 2.0)).unwrap();
        assert!((t - 2f64.sqrt()).abs() <= 4.0 * f64::EPSILON, "{t}");
        let g = |t: f64| Ok::<f64, ()>((t - 0.3).powi(3));
        let (t, _) = brent(g, (0.0, -0.027), (1.0, 0.343)).unwrap();
        assert!((t - 0.3).abs() < 1e-5, "{t}");
    }

    #[test]
    fn pieces_join_the_run_across_the_start() {
        let pt = |i: usize, inside: bool| ([i as f64, 0.0], inside);
        let all: Vec<_> = (0..6).map(|i| pt(i, true)).collect();
        assert_eq!(pieces(&all).len(), 1);
        assert_eq!(pieces(&all)[0].len(), 7);
        // 0 1 inside, 2 3 outside, 4 5 inside: one run 4 5 0 1
        let cut: Vec<_> = (0..6).map(|i| pt(i, !(2..4).contains(&i))).collect();
        let p = pieces(&cut);
        assert_eq!(
            p,
            vec![vec![[4.0, 0.0], [5.0, 0.0], [0.0, 0.0], [1.0, 0.0]]]
        );
    }
}
