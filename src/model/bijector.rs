//! The bijections between the real line and the domains of parameters and supports of data
//! variables: `x = f(y)` for an unconstrained `y ∈ ℝ`, its inverse, and the log-Jacobian
//! `ln |dx/dy|` with its derivative in `y`. Quadrature over a data variable integrates in
//! `y`; fitting, sampling and shooting work on the parameters in `y`.
//!
//! Every map is written once, generically over [`Scalar`] (so `f64` and every num-dual
//! number go through the same formula), and once more in `f64` as [`Bijector::point`],
//! which also returns `1 − x` without the cancellation that `1 − x` suffers where `x` is
//! near 1 (a unit variable at `y = 40`, where `x` rounds to 1 but `1 − x = e^{−40}/(1 +
//! e^{−40})`).

use crate::eval::Scalar;

use super::types::{Domain, Support};

/// A smooth increasing or decreasing bijection `x = f(y)` from the real line onto an open
/// interval, named by what `y` is as a function of `x`.
///
/// ```
/// use fisher_geometry::{Bijector, Domain};
/// let b = Domain::Positive.bijector(); // x = e^y
/// assert_eq!(b, Bijector::Log);
/// assert_eq!(b.forward(0.0), 1.0);
/// assert_eq!(b.log_jacobian(2.0), 2.0); // ln |dx/dy| = ln e^y = y
/// let (x, one_minus_x, _) = Bijector::Logit.point(40.0);
/// assert_eq!(x, 1.0); // rounded
/// assert!((one_minus_x / (-40f64).exp() - 1.0).abs() < 1e-15); // 1 − x = e^{−40}/(1 + e^{−40})
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bijector {
    /// `x = y` on ℝ.
    Identity,
    /// `x = e^y` onto `(0, ∞)`: `y = ln x`.
    Log,
    /// `x = σ(y) = 1/(1 + e^{−y})` onto `(0, 1)`: `y = ln(x/(1 − x))`.
    Logit,
    /// `x = lo + (hi − lo)·σ(y)` onto `(lo, hi)`, finite bounds with `lo < hi`: `y =
    /// ln((x − lo)/(hi − x))`.
    Interval(f64, f64),
    /// `x = c + e^y` onto `(c, ∞)`: `y = ln(x − c)`, the half-line above a kink at `c`.
    Above(f64),
    /// `x = c − e^y` onto `(−∞, c)`: `y = ln(c − x)`, the half-line below a kink at `c`.
    Below(f64),
}

impl Bijector {
    /// The open interval `(lo, hi)` that `x` ranges over, infinite where it is unbounded.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Bijector::Identity => (f64::NEG_INFINITY, f64::INFINITY),
            Bijector::Log => (0.0, f64::INFINITY),
            Bijector::Logit => (0.0, 1.0),
            Bijector::Interval(lo, hi) => (lo, hi),
            Bijector::Above(c) => (c, f64::INFINITY),
            Bijector::Below(c) => (f64::NEG_INFINITY, c),
        }
    }

    /// `x = f(y)`.
    pub fn forward<D: Scalar>(self, y: D) -> D {
        match self {
            Bijector::Identity => y,
            Bijector::Log => y.exp(),
            Bijector::Logit => y.sigmoid(),
            Bijector::Interval(lo, hi) => {
                let w = hi - lo;
                if w.is_finite() {
                    y.sigmoid() * w + lo
                } else {
                    // (−1e308, 1e308): the width overflows, the two weights do not
                    (-y.clone()).sigmoid() * lo + y.sigmoid() * hi
                }
            }
            Bijector::Above(c) => y.exp() + c,
            Bijector::Below(c) => -y.exp() + c,
        }
    }

    /// `y = f⁻¹(x)` (NaN or infinite outside [`bounds`](Self::bounds)). For
    /// [`Logit`](Self::Logit) near 1, where `x` has lost the distance to 1, use
    /// [`inverse_with_complement`](Self::inverse_with_complement).
    pub fn inverse<D: Scalar>(self, x: D) -> D {
        match self {
            Bijector::Identity => x,
            Bijector::Log => x.ln(),
            Bijector::Logit => x.ln() - (-x.clone()).ln_1p(),
            Bijector::Interval(lo, hi) => (x.clone() - lo).ln() - (-x + hi).ln(),
            Bijector::Above(c) => (x - c).ln(),
            Bijector::Below(c) => (-x + c).ln(),
        }
    }

    /// `y = f⁻¹(x)` from `x` and `1 − x` as [`point`](Self::point) gives them:
    /// `ln x − ln(1 − x)` for [`Logit`](Self::Logit), exact where `x` has rounded to 1;
    /// [`inverse`](Self::inverse) (which ignores `complement`) for the others.
    pub fn inverse_with_complement(self, x: f64, complement: f64) -> f64 {
        match self {
            Bijector::Logit => x.ln() - complement.ln(),
            _ => self.inverse(x),
        }
    }

    /// `ln |dx/dy|`: 0, `y`, `ln σ(y) + ln σ(−y) = −|y| − 2 ln(1 + e^{−|y|})`, and that plus
    /// `ln(hi − lo)` on an interval.
    pub fn log_jacobian<D: Scalar>(self, y: D) -> D {
        match self {
            Bijector::Identity => D::zero(),
            Bijector::Log | Bijector::Above(_) | Bijector::Below(_) => y,
            Bijector::Logit => logistic_log_jacobian(y),
            Bijector::Interval(lo, hi) => logistic_log_jacobian(y) + ln_width(lo, hi),
        }
    }

    /// `d/dy ln |dx/dy|`: 0, 1, and `σ(−y) − σ(y) = −tanh(y/2)` for the logistic maps.
    pub fn log_jacobian_grad<D: Scalar>(self, y: D) -> D {
        match self {
            Bijector::Identity => D::zero(),
            Bijector::Log | Bijector::Above(_) | Bijector::Below(_) => D::one(),
            Bijector::Logit | Bijector::Interval(..) => -(y * 0.5).tanh(),
        }
    }

    /// `(x, 1 − x, ln |dx/dy|)` at `y`. For [`Logit`](Self::Logit) both `x` and `1 − x` are
    /// computed from `e^{−|y|}` (the smaller as `e/(1 + e)`, the larger as `1/(1 + e)`), so
    /// each keeps its full relative accuracy at both ends; for the others `1 − x` is the
    /// plain difference.
    pub fn point(self, y: f64) -> (f64, f64, f64) {
        match self {
            Bijector::Identity => (y, 1.0 - y, 0.0),
            Bijector::Log => {
                let x = y.exp();
                (x, 1.0 - x, y)
            }
            Bijector::Logit => {
                let e = (-y.abs()).exp();
                let (small, large) = (e / (1.0 + e), 1.0 / (1.0 + e));
                let lj = -y.abs() - 2.0 * e.ln_1p();
                if y <= 0.0 {
                    (small, large, lj)
                } else {
                    (large, small, lj)
                }
            }
            Bijector::Interval(lo, hi) => {
                let (u, v, lj) = Bijector::Logit.point(y);
                let w = hi - lo;
                let x = if w.is_finite() {
                    lo + w * u
                } else {
                    lo * v + hi * u
                };
                (x, 1.0 - x, lj + ln_width(lo, hi))
            }
            Bijector::Above(c) => {
                let x = c + y.exp();
                (x, 1.0 - x, y)
            }
            Bijector::Below(c) => {
                let x = c - y.exp();
                (x, 1.0 - x, y)
            }
        }
    }

    /// A log-density and its first two derivatives carried from `x` to `y`: `(q, q', q'')`
    /// at `y` from `(L, L', L'')` at `x = f(y)`, where `q(y) = L(f(y)) + ln |f'(y)|` is the
    /// log-density of `y`. With `j = ln |f'|`, `q' = L'·f' + j'` and `q'' = L''·f'² + L'·f'' +
    /// j''`.
    pub fn pull_back(self, y: f64, l: (f64, f64, f64)) -> (f64, f64, f64) {
        let (x, c, lj) = self.point(y);
        let (l0, l1, l2) = l;
        match self {
            Bijector::Identity => l,
            // f' = f'' = x, j' = 1
            Bijector::Log => (l0 + lj, l1 * x + 1.0, l2 * x * x + l1 * x),
            // f' = (hi − lo)uv, f'' = (hi − lo)uv(v − u) with u = σ(y), v = 1 − u;
            // j' = v − u, j'' = −2uv
            Bijector::Interval(a, b) => {
                let (u, v, _) = Bijector::Logit.point(y);
                let w = b - a;
                let dx = w * u * v;
                (
                    l0 + lj,
                    l1 * dx + (v - u),
                    l2 * dx * dx + l1 * dx * (v - u) - 2.0 * u * v,
                )
            }
            // f' = f'' = ±e^y, j' = 1
            Bijector::Above(_) | Bijector::Below(_) => {
                let e = y.exp();
                let dx = if matches!(self, Bijector::Above(_)) {
                    e
                } else {
                    -e
                };
                (l0 + lj, l1 * dx + 1.0, l2 * dx * dx + l1 * dx)
            }
            // f' = xc, f'' = xc(c − x), j' = c − x, j'' = −2xc, with c = 1 − x
            Bijector::Logit => {
                let xc = x * c;
                (
                    l0 + lj,
                    l1 * xc + (c - x),
                    l2 * xc * xc + l1 * xc * (c - x) - 2.0 * xc,
                )
            }
        }
    }
}

/// `ln σ(y) + ln σ(−y) = −|y| − 2 ln(1 + e^{−|y|})`, which neither overflows nor cancels.
/// The two branches are one analytic function, so the derivatives of a dual `y` are exact
/// at `y = 0` too.
fn logistic_log_jacobian<D: Scalar>(y: D) -> D {
    let a = y.abs();
    let e = (-a.clone()).exp();
    -a - e.ln_1p() * 2.0
}

/// `ln(hi − lo)`, also where `hi − lo` overflows (`interval(-1e308, 1e308)`).
fn ln_width(lo: f64, hi: f64) -> f64 {
    let w = hi - lo;
    if w.is_finite() {
        w.ln()
    } else {
        (0.5 * hi - 0.5 * lo).ln() + std::f64::consts::LN_2
    }
}

impl Domain {
    /// The bijection from the real line onto the domain: `x = y` on `real`, `x = e^y` on
    /// `positive`, the logistic `x = 1/(1 + e^{−y})` on `unit`, and `lo + (hi − lo)/(1 +
    /// e^{−y})` on `interval(lo, hi)`.
    pub fn bijector(self) -> Bijector {
        match self {
            Domain::Real => Bijector::Identity,
            Domain::Positive => Bijector::Log,
            Domain::Unit => Bijector::Logit,
            Domain::Interval(lo, hi) => Bijector::Interval(lo.value(), hi.value()),
        }
    }
}

impl Support {
    /// The bijection from the real line onto a continuous support (as for
    /// [`Domain::bijector`]), `None` for a discrete one.
    pub fn bijector(self) -> Option<Bijector> {
        match self {
            Support::Real => Some(Bijector::Identity),
            Support::Positive => Some(Bijector::Log),
            Support::Unit => Some(Bijector::Logit),
            Support::Binary | Support::Count | Support::Int(..) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logit_keeps_both_ends_exact() {
        // x = 1/(1 + e^{−y}); 1 − x is exact even where x rounds to 1.
        let (x, c, lj) = Bijector::Logit.point(50.0);
        assert_eq!(x, 1.0);
        assert!((c - (-50f64).exp()).abs() < 1e-35);
        assert!((lj - (-50.0 - 2.0 * (-50f64).exp().ln_1p())).abs() < 1e-12);
    }

    #[test]
    fn wide_interval_stays_finite() {
        let b = Domain::interval(-1e308, 1e308).bijector();
        let (x, _, lj) = b.point(0.0);
        assert_eq!(x, 0.0);
        assert_eq!(b.forward(0.0), 0.0);
        // ln(hi − lo) + ln σ(0) + ln σ(0) = ln(2e308) − ln 4
        assert!((lj - (1e308f64.ln() - 2f64.ln())).abs() < 1e-12);
    }
}
