//! How a continuous data variable is mapped to the real line for the one-dimensional rules
//! and the sparse grid: `x = y` on ℝ, `x = e^y` on (0, ∞), the logit on (0, 1), and the
//! half-lines and intervals between kinks; with the chain rule that carries the
//! log-weight's derivatives from `x` to `y`.

/// How a continuous variable is mapped to the real line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Map {
    /// `x = y`.
    Real,
    /// `x = e^y`.
    Log,
    /// `x = 1/(1 + e^{−y})`.
    Logit,
    /// `x = c + e^y`: the half-line above a kink at `c`.
    Above(f64),
    /// `x = c − e^y`: the half-line below a kink at `c`.
    Below(f64),
    /// `x = a + (b − a)/(1 + e^{−y})`: the interval between two kinks.
    Between(f64, f64),
}

impl Map {
    /// `(x, 1 − x, ln |dx/dy|)` at `y`.
    pub(super) fn point(self, y: f64) -> (f64, f64, f64) {
        match self {
            Map::Real => (y, 1.0 - y, 0.0),
            Map::Log => {
                let x = y.exp();
                (x, 1.0 - x, y)
            }
            Map::Logit => {
                let e = (-y.abs()).exp();
                let (small, large) = (e / (1.0 + e), 1.0 / (1.0 + e));
                let lj = -y.abs() - 2.0 * e.ln_1p();
                if y <= 0.0 {
                    (small, large, lj)
                } else {
                    (large, small, lj)
                }
            }
            Map::Above(c) => {
                let x = c + y.exp();
                (x, 1.0 - x, y)
            }
            Map::Below(c) => {
                let x = c - y.exp();
                (x, 1.0 - x, y)
            }
            Map::Between(a, b) => {
                let (u, _, lj) = Map::Logit.point(y);
                let x = a + (b - a) * u;
                (x, 1.0 - x, lj + (b - a).ln())
            }
        }
    }

    /// The range of `y` that keeps `x` finite and inside the support.
    pub(super) fn range(self) -> (f64, f64) {
        match self {
            Map::Real => (-1e300, 1e300),
            Map::Log | Map::Logit | Map::Above(_) | Map::Below(_) | Map::Between(..) => {
                (-700.0, 700.0)
            }
        }
    }

    /// Starting points for a second search when the log-weight is `−∞` at every one of
    /// [`Self::probes`]: every power of ten on ℝ (a normal at `μ = 1e300`), every tenth of the
    /// range of `y` on the mapped supports.
    pub(super) fn wide_probes(self) -> Vec<f64> {
        match self {
            Map::Real => (1..=308)
                .flat_map(|k| [10f64.powi(k), -(10f64.powi(k))])
                .chain((1..=307).flat_map(|k| [10f64.powi(-k), -(10f64.powi(-k))]))
                .collect(),
            _ => (-70..=70).map(|k| f64::from(k) * 10.0).collect(),
        }
    }

    /// Starting points for the mode search, in `y`.
    pub(super) fn probes(self) -> &'static [f64] {
        match self {
            Map::Real => &[0.0, 1.0, -1.0, 10.0, -10.0],
            // x = 1, 0.1, 10
            Map::Log | Map::Above(_) | Map::Below(_) => {
                &[0.0, -std::f64::consts::LN_10, std::f64::consts::LN_10]
            }
            // x = 0.5, 0.1, 0.9 (of the interval)
            Map::Logit | Map::Between(..) => {
                &[0.0, -2.197_224_577_336_219_6, 2.197_224_577_336_219_6]
            }
        }
    }

    /// `(q, q', q'')` in `y` from `(L, L', L'')` in `x`, with `q = L(x(y)) + ln x'(y)`.
    pub(super) fn chain(self, y: f64, l: (f64, f64, f64)) -> (f64, f64, f64) {
        let (x, c, lj) = self.point(y);
        let (l0, l1, l2) = l;
        match self {
            Map::Real => l,
            // x' = x'' = x, (ln x')' = 1
            Map::Log => (l0 + lj, l1 * x + 1.0, l2 * x * x + l1 * x),
            // x' = (b − a)uv, x'' = (b − a)uv(v − u) with u = σ(y), v = 1 − u;
            // (ln x')' = v − u, (ln x')'' = −2uv
            Map::Between(a, b) => {
                let (u, v, _) = Map::Logit.point(y);
                let w = b - a;
                let dx = w * u * v;
                (
                    l0 + lj,
                    l1 * dx + (v - u),
                    l2 * dx * dx + l1 * dx * (v - u) - 2.0 * u * v,
                )
            }
            // x' = x'' = ±e^y, (ln |x'|)' = 1
            Map::Above(_) | Map::Below(_) => {
                let e = y.exp();
                let dx = if matches!(self, Map::Above(_)) { e } else { -e };
                (l0 + lj, l1 * dx + 1.0, l2 * dx * dx + l1 * dx)
            }
            // x' = xc, x'' = xc(c − x), (ln x')' = c − x, (ln x')'' = −2xc
            Map::Logit => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logit_map_keeps_both_ends_exact() {
        // x = 1/(1 + e^{−y}); 1 − x is exact even where x rounds to 1.
        let (x, c, lj) = Map::Logit.point(50.0);
        assert_eq!(x, 1.0);
        assert!((c - (-50f64).exp()).abs() < 1e-35);
        assert!((lj - (-50.0 - 2.0 * (-50f64).exp().ln_1p())).abs() < 1e-12);
    }
}
