//! The mode search of one data variable: the log-weight `L_d` and its derivatives (the
//! log-density for the innermost variable, `ln ∫ p` over the inner ones otherwise), carried
//! to the mapped variable `y`, and safeguarded Newton steps to its maximum, with a scale from
//! the curvature there.

use super::prepared::Tape;
use super::problem::Problem;
use crate::expect::ExpectError;
use crate::model::Bijector;

impl<'a> Problem<'a> {
    /// `(L, L', L'')` of variable `d` at `x` (complement `cx`): the log-density and its
    /// derivatives in `x_d` for the innermost variable, else `ln ∫ p dx_{>d}` with
    /// `L' = E[∂ℓ]`, `L'' = E[∂²ℓ] + Var[∂ℓ]` under the inner variables. Derivatives are NaN
    /// for discrete variables.
    pub(super) fn log_weight(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        x: f64,
        cx: f64,
    ) -> Result<(f64, f64, f64), ExpectError> {
        let nan = f64::NAN;
        if d + 1 == self.supports.len() {
            self.eval_points(Tape::Locate, d, fixed, &[x], &[cx])?;
            let l = self.out[0];
            if l.is_nan() || l == f64::INFINITY {
                return Err(self.not_finite(None, fixed, x));
            }
            return Ok(match self.deriv[d] {
                Some(i) => (l, self.out[i], self.out[i + 1]),
                None => (l, nan, nan),
            });
        }
        fixed.push((x, cx));
        let r = self.integrate(d + 1, fixed, Tape::Locate, 1e-7);
        fixed.pop();
        let r = r?;
        let m0 = r.values[0];
        if !(m0 > 0.0 && r.log_scale.is_finite()) {
            return Ok((f64::NEG_INFINITY, nan, nan));
        }
        let l = r.log_scale + m0.ln();
        Ok(match self.deriv[d] {
            Some(i) => {
                let (e1, e2, e3) = (r.values[i] / m0, r.values[i + 1] / m0, r.values[i + 2] / m0);
                (l, e1, e2 + e3 - e1 * e1)
            }
            None => (l, nan, nan),
        })
    }

    /// [`Self::q_at`] at several points: for the innermost variable, in one batch.
    fn q_many(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Bijector,
        ys: &[f64],
    ) -> Result<Vec<(f64, f64, f64)>, ExpectError> {
        if d + 1 != self.supports.len() {
            return ys.iter().map(|&y| self.q_at(d, fixed, map, y)).collect();
        }
        let n = ys.len();
        let (xs, cs): (Vec<f64>, Vec<f64>) = ys
            .iter()
            .map(|&y| {
                let (x, c, _) = map.point(y);
                (x, c)
            })
            .unzip();
        self.eval_points(Tape::Locate, d, fixed, &xs, &cs)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let l = self.out[i];
            if l.is_nan() || l == f64::INFINITY {
                return Err(self.not_finite(None, fixed, xs[i]));
            }
            let l = match self.deriv[d] {
                Some(k) => (l, self.out[k * n + i], self.out[(k + 1) * n + i]),
                None => (l, f64::NAN, f64::NAN),
            };
            out.push(map.pull_back(ys[i], l));
        }
        Ok(out)
    }

    /// `(q, q', q'')` in the mapped variable `y`.
    fn q_at(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Bijector,
        y: f64,
    ) -> Result<(f64, f64, f64), ExpectError> {
        let (x, cx, _) = map.point(y);
        let l = self.log_weight(d, fixed, x, cx)?;
        Ok(map.pull_back(y, l))
    }

    /// The mode `m` of the mapped log-weight `q(y)`, a scale `s` and `q(m)`.
    ///
    /// Newton steps `−q'/q''` where `q'' < 0`, otherwise steps of the trust radius uphill; a
    /// step that does not increase `q` is halved. The scale is `1/√(−q''(m))`, or when the
    /// curvature is unusable, the distance at which `q` has dropped by 20 divided by `√40`
    /// (the two agree for a normal density).
    pub(super) fn locate(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Bijector,
    ) -> Result<(f64, f64, f64), ExpectError> {
        let (lo, hi) = map.range();
        let mut best: Option<(f64, (f64, f64, f64))> = None;
        let probes = map.probes();
        for (&y, v) in probes.iter().zip(self.q_many(d, fixed, map, probes)?) {
            if v.0.is_finite() && best.is_none_or(|(_, b)| v.0 > b.0) {
                best = Some((y, v));
            }
        }
        if best.is_none() {
            for y in map.wide_probes() {
                let v = self.q_at(d, fixed, map, y)?;
                if v.0.is_finite() && best.is_none_or(|(_, b)| v.0 > b.0) {
                    best = Some((y, v));
                }
            }
        }
        let Some((mut y, (mut q, mut g, mut h))) = best else {
            return Ok((0.0, 1.0, f64::NEG_INFINITY));
        };
        let mut radius: f64 = 1.0;
        for _ in 0..200 {
            let newton = h < 0.0 && h.is_finite() && g.is_finite();
            if newton && g * g / -h < 1e-20 {
                break;
            }
            if !g.is_finite() {
                break;
            }
            let mut step = if newton { -g / h } else { g.signum() * radius };
            let clipped = step.abs() > radius;
            if clipped {
                step = step.signum() * radius;
            }
            let mut moved = 0.0;
            let mut full = true;
            for _ in 0..80 {
                let yn = (y + step).clamp(lo, hi);
                let v = self.q_at(d, fixed, map, yn)?;
                if v.0.is_finite() && v.0 > q {
                    moved = yn - y;
                    y = yn;
                    (q, g, h) = v;
                    break;
                }
                step /= 2.0;
                full = false;
            }
            if moved == 0.0 {
                break;
            }
            // Grow the radius after a full step to it, else follow the step that worked.
            radius = if full && clipped {
                radius * 4.0
            } else {
                2.0 * moved.abs()
            };
        }
        let scale = if h < 0.0 && h.is_finite() {
            1.0 / (-h).sqrt()
        } else {
            self.drop_scale(d, fixed, map, y, q)?
        };
        Ok((y, scale, q))
    }

    /// `δ/√40` where `δ` is a distance from `m` at which `q` has dropped by about 20 on the
    /// side where it drops least.
    fn drop_scale(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Bijector,
        m: f64,
        qm: f64,
    ) -> Result<f64, ExpectError> {
        let (lo, hi) = map.range();
        let mut drop = |p: &mut Self, delta: f64| -> Result<f64, ExpectError> {
            let a = p.q_at(d, fixed, map, (m + delta).min(hi))?.0;
            let b = p.q_at(d, fixed, map, (m - delta).max(lo))?.0;
            let top = [a, b]
                .into_iter()
                .filter(|v| !v.is_nan())
                .fold(f64::NEG_INFINITY, f64::max);
            Ok(qm - top)
        };
        let mut delta = 1.0;
        if drop(self, delta)? < 20.0 {
            while delta < 1e300 && drop(self, delta * 2.0)? < 20.0 {
                delta *= 2.0;
            }
            delta *= 2.0;
        } else {
            while delta > 1e-300 && drop(self, delta / 2.0)? >= 20.0 {
                delta /= 2.0;
            }
        }
        Ok(delta / 40f64.sqrt())
    }
}
