//! The Fisher–Rao distance between two members of a family, by the best route it has:
//!
//! - **one parameter**: `d = |∫ₐᵇ √F(θ) dθ|`, by adaptive Gauss–Kronrod (7, 15) quadrature in
//!   the unconstrained coordinate of the domain (the log for a positive parameter, the logit
//!   for a probability), so that `λ = 10⁻¹⁵⁰ … 10¹⁵⁰` is one smooth integral;
//! - **location–scale**: two parameters, a real `μ` and a positive `σ`, with a closed-form
//!   metric `F = [[a, c], [c, b]]/σ²` whose `σ²F` simplifies to constants (the normal, the
//!   logistic, the Gumbel, the Cauchy's, Student's, …). The change of coordinates
//!   `w = (μ + (c/a)σ)·√(a/b′)`, `b′ = b − c²/a`, makes it `b′ (dw² + dσ²)/σ²`, the hyperbolic
//!   half-plane scaled by `b′` (curvature `−1/b′`), so
//!   `d = √b′ · 2 asinh(|(w₁, σ₁) − (w₂, σ₂)| / (2√(σ₁σ₂)))` exactly, and its geodesics are
//!   half-circles centred on `σ = 0`;
//! - anything else: shooting ([`super::logarithmic_map`]), the length of the converged
//!   geodesic.

use nalgebra::DVector;
use serde::Serialize;

use super::kronrod;
use super::shooting::{ShootingOptions, check_ends, logarithmic_map};
use super::{GeometryError, describe};
use crate::expr::Expr;
use crate::info::{FisherField, Method};
use crate::model::Domain;
use crate::simplify::{Facts, simplest};

/// How a distance was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistanceMethod {
    /// The hyperbolic formula of a location–scale metric.
    LocationScale,
    /// `|∫√F dθ|` by quadrature, for one parameter.
    OneParameter,
    /// The length of the geodesic found by shooting.
    Shooting,
}

impl DistanceMethod {
    /// The label in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DistanceMethod::LocationScale => "location-scale",
            DistanceMethod::OneParameter => "one-parameter",
            DistanceMethod::Shooting => "shooting",
        }
    }
}

/// A Fisher–Rao distance.
#[derive(Debug, Clone, PartialEq)]
pub struct Distance {
    /// `d(a, b)`.
    pub value: f64,
    /// Its estimated absolute error.
    pub error: f64,
    /// The route.
    pub method: DistanceMethod,
    /// Points along the geodesic from `a` to `b` (both included).
    pub geodesic: Vec<DVector<f64>>,
    /// The shooting residual `|exp_a(v) − b|` in the Fisher metric at `b` (0 for the exact
    /// routes).
    pub residual: f64,
}

/// A location–scale metric `F = [[a, c], [c, b]]/σ²` in the order (location, scale), the
/// constants proved by simplification of the closed form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocationScale {
    /// The index of the location parameter.
    pub location: usize,
    /// The index of the scale parameter.
    pub scale: usize,
    /// `σ² F_μμ`.
    pub a: f64,
    /// `σ² F_σσ`.
    pub b: f64,
    /// `σ² F_μσ`.
    pub c: f64,
}

impl LocationScale {
    /// The location–scale form of `field`'s metric, if its closed form has one: two
    /// parameters, one real and one positive, and every `σ²F_ij` simplifying to a number.
    pub fn of(field: &FisherField) -> Option<LocationScale> {
        let closed = field.closed_form()?;
        let params = &field.model().params;
        if params.len() != 2 {
            return None;
        }
        let scale = params.iter().position(|p| p.domain == Domain::Positive)?;
        let location = 1 - scale;
        if params[location].domain != Domain::Real {
            return None;
        }
        let facts = Facts::of(field.model());
        let s = Expr::sym(params[scale].name.as_str());
        let s2 = &s * &s;
        let constant =
            |i: usize, j: usize| simplest(&(&closed.matrix[i][j] * &s2), &facts).as_num();
        let a = constant(location, location)?;
        let b = constant(scale, scale)?;
        let c = constant(location, scale)?;
        let reduced = b - c * c / a;
        (a > 0.0 && reduced > 0.0 && a.is_finite() && reduced.is_finite()).then_some(
            LocationScale {
                location,
                scale,
                a,
                b,
                c,
            },
        )
    }

    /// `b′ = b − c²/a`: the metric is `b′` times the hyperbolic half-plane's.
    fn reduced(&self) -> f64 {
        self.b - self.c * self.c / self.a
    }

    /// The half-plane coordinates `(w, σ)` of `θ`.
    fn half_plane(&self, theta: &[f64]) -> (f64, f64) {
        let (mu, sigma) = (theta[self.location], theta[self.scale]);
        let w = (mu + self.c / self.a * sigma) * (self.a / self.reduced()).sqrt();
        (w, sigma)
    }

    /// `θ` from the half-plane coordinates.
    fn theta(&self, w: f64, sigma: f64) -> DVector<f64> {
        let mu = w * (self.reduced() / self.a).sqrt() - self.c / self.a * sigma;
        let mut theta = DVector::zeros(2);
        theta[self.location] = mu;
        theta[self.scale] = sigma;
        theta
    }

    /// The distance between `p` and `q` (in parameter order).
    pub fn distance(&self, p: &[f64], q: &[f64]) -> f64 {
        let ((w1, s1), (w2, s2)) = (self.half_plane(p), self.half_plane(q));
        // arccosh(1 + x) = 2 asinh(√(x/2)), accurate for small x; hypot and √σ₁√σ₂ keep it
        // representable from σ = 10⁻³⁰⁰ to 10³⁰⁰.
        let half_chord = (w1 - w2).hypot(s1 - s2) / (2.0 * s1.sqrt() * s2.sqrt());
        self.reduced().sqrt() * 2.0 * half_chord.asinh()
    }

    /// `k + 1` points of the geodesic from `p` to `q`, equally spaced in length.
    pub fn geodesic(&self, p: &[f64], q: &[f64], k: usize) -> Vec<DVector<f64>> {
        let ((w1, s1), (w2, s2)) = (self.half_plane(p), self.half_plane(q));
        let k = k.max(1);
        let t = |i: usize| i as f64 / k as f64;
        let ends = |i: usize| match i {
            0 => Some(DVector::from_column_slice(p)),
            i if i == k => Some(DVector::from_column_slice(q)),
            _ => None,
        };
        if (w1 - w2).abs() <= 1e-15 * w1.abs().max(w2.abs()) {
            // a vertical line: σ(t) = σ₁ (σ₂/σ₁)^t
            let ratio = (s2 / s1).ln();
            return (0..=k)
                .map(|i| {
                    ends(i).unwrap_or_else(|| {
                        self.theta(w1 + (w2 - w1) * t(i), s1 * (ratio * t(i)).exp())
                    })
                })
                .collect();
        }
        // a half-circle: w = c + R tanh u, σ = R / cosh u, u linear in length
        let centre = ((w2 - w1) * (w2 + w1) + (s2 - s1) * (s2 + s1)) / (2.0 * (w2 - w1));
        let radius = (w1 - centre).hypot(s1);
        let u = |w: f64, s: f64| ((w - centre) / s).asinh(); // sinh u = (w − c)/σ
        let (u1, u2) = (u(w1, s1), u(w2, s2));
        (0..=k)
            .map(|i| {
                ends(i).unwrap_or_else(|| {
                    let ui = u1 + (u2 - u1) * t(i);
                    self.theta(centre + radius * ui.tanh(), radius / ui.cosh())
                })
            })
            .collect()
    }
}

/// Relative accuracy of the one-parameter integral.
const ONE_PARAMETER_REL: f64 = 1e-12;

/// The distance of a one-parameter model, `|∫ₐᵇ √F dθ|`, in the domain's unconstrained
/// coordinate `y`: `∫ √F(θ(y)) |dθ/dy| dy`.
fn one_parameter(field: &FisherField, a: f64, b: f64) -> Result<Distance, GeometryError> {
    let map = field.model().params[0].domain.bijector();
    let (ya, yb) = (map.inverse(a), map.inverse(b));
    let (lo, hi) = (ya.min(yb), ya.max(yb));
    let mut f = |y: f64| -> Result<f64, GeometryError> {
        let (theta, _, log_jacobian) = map.point(y);
        let fisher = field.at(&[theta])?[(0, 0)];
        // √F |dθ/dy| without overflow: e^{(ln F)/2 + ln|dθ/dy|}
        let v = (0.5 * fisher.ln() + log_jacobian).exp();
        if v.is_finite() && fisher > 0.0 {
            Ok(v)
        } else {
            Err(GeometryError::NotPositiveDefinite {
                at: describe(field, &[theta]),
                eigenvalue: crate::expr::number(fisher),
                what: "the distance".into(),
            })
        }
    };
    let (value, error) = if lo == hi {
        (0.0, 0.0)
    } else {
        kronrod::adaptive("∫√F dθ", lo, hi, ONE_PARAMETER_REL, &mut f)?
    };
    const K: usize = 32;
    let geodesic = (0..=K)
        .map(|i| {
            let y = ya + (yb - ya) * i as f64 / K as f64;
            let x = match i {
                0 => a,
                K => b,
                _ => map.point(y).0,
            };
            DVector::from_element(1, x)
        })
        .collect();
    Ok(Distance {
        value,
        error: error.max(ONE_PARAMETER_REL * value),
        method: DistanceMethod::OneParameter,
        geodesic,
        residual: 0.0,
    })
}

/// The location–scale form of a closed-form metric in two parameters.
fn location_scale(field: &FisherField) -> Option<LocationScale> {
    (field.dim() == 2 && field.method() == Method::ClosedForm)
        .then(|| LocationScale::of(field))
        .flatten()
}

/// The route [`distance`] takes for `field`.
pub fn distance_method(field: &FisherField) -> DistanceMethod {
    if field.dim() == 1 {
        DistanceMethod::OneParameter
    } else if location_scale(field).is_some() {
        DistanceMethod::LocationScale
    } else {
        DistanceMethod::Shooting
    }
}

/// The Fisher–Rao distance from `a` to `b` (in parameter order), by the route of
/// [`distance_method`]; `options` are used by shooting.
///
/// ```
/// use fisher_geometry::{DistanceMethod, FisherField, Model, ShootingOptions, distance};
///
/// // Poisson: d = 2|√λ₁ − √λ₂|
/// let field = FisherField::new(&Model::builtin("poisson")?)?;
/// let d = distance(&field, &[1.0], &[9.0], ShootingOptions::default())?;
/// assert_eq!(d.method, DistanceMethod::OneParameter);
/// assert!((d.value - 4.0).abs() < 1e-10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`GeometryError::Length`] for points of the wrong length; the field's errors at the
/// points (a point outside the domain); [`GeometryError::Integral`] or
/// [`GeometryError::Shooting`] when the route fails.
pub fn distance(
    field: &FisherField,
    a: &[f64],
    b: &[f64],
    options: ShootingOptions,
) -> Result<Distance, GeometryError> {
    check_ends(field, a, b)?;
    if field.dim() == 1 {
        return one_parameter(field, a[0], b[0]);
    }
    match location_scale(field) {
        Some(ls) => {
            let value = ls.distance(a, b);
            Ok(Distance {
                value,
                error: 4.0 * f64::EPSILON * value,
                method: DistanceMethod::LocationScale,
                geodesic: ls.geodesic(a, b, 32),
                residual: 0.0,
            })
        }
        None => {
            let shot = logarithmic_map(field, a, b, options)?;
            Ok(Distance {
                value: shot.distance,
                error: shot.residual + options.geodesic.rel_tol * shot.distance,
                method: DistanceMethod::Shooting,
                geodesic: shot.geodesic.points,
                residual: shot.residual,
            })
        }
    }
}
