//! The nested integration: variable by variable, the first outermost, each continuous one by
//! the sinh-sinh rule around the mode of its log-weight (split at the kinks of real
//! supports), each discrete one summed outward from its mode; the innermost evaluates the
//! tapes, the others integrate the inner variables at each of their nodes.

use egg::Symbol;

use super::cubature;
use super::prepared::Tape;
use super::problem::{Problem, SIGNIFICANT};
use crate::expect::ExpectError;
use crate::expect::error::significant;
use crate::expect::kinks::affine_root;
use crate::expect::quadrature::{self, Batch, NEGLIGIBLE, Scaled};
use crate::model::Bijector;
use crate::model::Support;

/// The sum of two integrals over adjacent pieces of a support.
fn combine(a: Scaled, b: Scaled) -> Scaled {
    let ls = a.log_scale.max(b.log_scale);
    if ls == f64::NEG_INFINITY {
        return a;
    }
    let (fa, fb) = ((a.log_scale - ls).exp(), (b.log_scale - ls).exp());
    let zip = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * fa + q * fb).collect();
    Scaled {
        log_scale: ls,
        values: zip(&a.values, &b.values),
        errors: zip(&a.errors, &b.errors),
        l1: zip(&a.l1, &b.l1),
        converged: a
            .converged
            .iter()
            .zip(&b.converged)
            .map(|(p, q)| *p && *q)
            .collect(),
    }
}

impl<'a> Problem<'a> {
    /// Roots in `x_d` of the affine arguments of `abs` and `sign` in the log-density and the
    /// integrands, with the parameters and the outer data variables fixed; arguments that
    /// are not affine in `x_d`, or involve inner data variables, give none.
    fn kinks(&self, d: usize, fixed: &[(f64, f64)]) -> Vec<f64> {
        let data = &self.model.data;
        let mut env = self.param_env();
        for (var, v) in data.iter().zip(fixed) {
            env.insert(var.name, v.0);
        }
        let x = data[d].name;
        let inner: Vec<Symbol> = data.iter().skip(d + 1).map(|v| v.name).collect();
        self.kinks
            .iter()
            .filter(|k| k.depends_on(x) && !inner.iter().any(|s| k.depends_on(*s)))
            .filter_map(|k| {
                let at = |t: f64| {
                    let mut env = env.clone();
                    env.insert(x, t);
                    crate::eval::eval_f64(&k.arg, &env).ok()
                };
                affine_root(at).map(|(root, _)| root)
            })
            .collect()
    }

    /// `∫ p · g_k` over the data variables `d, d+1, …` with `fixed` the values of the outer
    /// ones (and their complements), `output 0` being the mass.
    pub fn integrate(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
    ) -> Result<Scaled, ExpectError> {
        if cubature::applies(self.supports, d) {
            return cubature::integrate(self, d, fixed, tape, rel);
        }
        let support = self.supports[d];
        if let Some(map) = support.bijector() {
            return self.continuous(d, fixed, tape, rel, map);
        }
        match support {
            Support::Binary => self.discrete(d, fixed, tape, rel, 0, Some(1)),
            Support::Count => self.discrete(d, fixed, tape, rel, 0, None),
            Support::Int(lo, hi) => self.discrete(d, fixed, tape, rel, lo, Some(hi)),
            Support::Real | Support::Positive | Support::Unit => {
                unreachable!("a continuous support has a bijector")
            }
        }
    }

    /// Tolerance for the levels inside variable `d`: tighter, so that their errors summed by
    /// the outer rule stay within the outer tolerance.
    fn inner_rel(tape: Tape, rel: f64) -> f64 {
        match tape {
            Tape::Main => rel / 4.0,
            Tape::Locate => rel.max(1e-7),
        }
    }

    /// Fills `batch` for points `ys` of variable `d` (mapped by `map`, or integers for
    /// `map = None`).
    #[allow(clippy::too_many_arguments)] // the nesting state, passed down explicitly
    fn eval_level(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
        map: Option<Bijector>,
        ys: &[f64],
        c: f64,
        batch: &mut Batch,
    ) -> Result<(), ExpectError> {
        let n_out = self.n_out(tape);
        let n_compiled = self.n_compiled(tape);
        let n = ys.len();
        // Buffers reused from call to call (a nested call takes fresh ones).
        let (mut xs, mut cs, mut lj) = std::mem::take(&mut self.buffers);
        xs.clear();
        cs.clear();
        lj.clear();
        match map.unwrap_or(Bijector::Identity) {
            // What `Bijector::Identity.point` gives, without a call per point.
            Bijector::Identity => {
                xs.extend_from_slice(ys);
                cs.extend(ys.iter().map(|y| 1.0 - y));
                lj.resize(n, 0.0);
            }
            map => {
                for &y in ys {
                    let (x, cx, j) = map.point(y);
                    xs.push(x);
                    cs.push(cx);
                    lj.push(j);
                }
            }
        }
        batch.clear();
        if d + 1 == self.supports.len() {
            self.eval_points(tape, d, fixed, &xs, &cs)?;
            let logp = &self.out[..n];
            if let Some(i) = logp
                .iter()
                .position(|lp| lp.is_nan() || *lp == f64::INFINITY)
            {
                return Err(self.not_finite(None, fixed, xs[i]));
            }
            batch.lw.extend(logp.iter().zip(&lj).map(|(lp, j)| lp + j));
            if batch.columns_welcome && n_out == n_compiled {
                return self.columns(tape, batch, fixed, &xs, c).map(|()| {
                    self.buffers = (xs, cs, lj);
                });
            }
            // Output 0 is the weight itself; then the compiled values, point by point, zero
            // where the weight underflows to 0 (there a value does not matter); zeros for
            // the pointwise values, filled in below.
            batch.f.resize(n * n_out, 0.0);
            let columns = &self.out[..n * n_compiled];
            let mut bad = false;
            for (i, (row, &lw)) in batch.f.chunks_exact_mut(n_out).zip(&batch.lw).enumerate() {
                let keep = lw - c > NEGLIGIBLE;
                row[0] = 1.0;
                for (k, slot) in row[1..n_compiled].iter_mut().enumerate() {
                    let v = columns[(k + 1) * n + i];
                    *slot = if keep && v.is_finite() { v } else { 0.0 };
                    // Far out in a heavy tail an expression can overflow in f64
                    // (`(x − x₀)⁴` at x = 1e83) although its product with the density is
                    // negligible: a non-finite g counts as an error only where the weight is
                    // within e^−200 of the mode's, and contributes nothing beyond.
                    bad |= !v.is_finite() && lw - c > SIGNIFICANT;
                }
            }
            if bad && tape == Tape::Main {
                if let Some(e) = self.first_not_finite(n_compiled, &batch.lw, c, fixed, &xs) {
                    return Err(e);
                }
            }
            if tape == Tape::Main && !self.extra_out.is_empty() {
                let n_extra = self.extra_out.len();
                for i in 0..n {
                    let lw = batch.lw[i];
                    let (matters, significant) = (lw - c > NEGLIGIBLE, lw - c > SIGNIFICANT);
                    self.eval_extra(fixed, (xs[i], cs[i]), matters, significant)?;
                    batch.f[(i + 1) * n_out - n_extra..(i + 1) * n_out]
                        .copy_from_slice(&self.extra_out);
                }
            }
        } else {
            let inner = Self::inner_rel(tape, rel);
            for i in 0..n {
                fixed.push((xs[i], cs[i]));
                let r = self.integrate(d + 1, fixed, tape, inner);
                fixed.pop();
                let r = r?;
                let m0 = r.values[0];
                if m0 > 0.0 && r.log_scale.is_finite() {
                    batch.lw.push(r.log_scale + m0.ln() + lj[i]);
                    batch.f.push(1.0);
                    batch.f.extend(r.values[1..].iter().map(|v| v / m0));
                    batch.e.extend(r.errors.iter().map(|v| v / m0));
                    batch.a.extend(r.l1.iter().map(|v| v / m0));
                } else {
                    batch.lw.push(f64::NEG_INFINITY);
                    batch.f.extend(std::iter::repeat_n(0.0, n_out));
                    batch.e.extend(std::iter::repeat_n(0.0, n_out));
                    batch.a.extend(std::iter::repeat_n(0.0, n_out));
                }
            }
        }
        self.buffers = (xs, cs, lj);
        Ok(())
    }

    /// The rest of [`Self::eval_level`] for the innermost variable with `batch` wanted by
    /// column ([`Batch::by_column`]): `f` from the columns of the tape's values at the `n`
    /// points `xs`, zero where the weight underflows to 0, with the error for a non-finite
    /// value where the weight is significant.
    fn columns(
        &self,
        tape: Tape,
        batch: &mut Batch,
        fixed: &[(f64, f64)],
        xs: &[f64],
        c: f64,
    ) -> Result<(), ExpectError> {
        let n = xs.len();
        let n_compiled = self.n_compiled(tape);
        batch.by_column = true;
        if n == 0 {
            return Ok(());
        }
        batch.f.resize(n * n_compiled, 0.0);
        let (weight, rest) = batch.f.split_at_mut(n);
        weight.fill(1.0);
        let mut bad = false;
        let values = &self.out[n..n * n_compiled];
        for (dst, src) in rest.chunks_exact_mut(n).zip(values.chunks_exact(n)) {
            for ((d, &v), &lw) in dst.iter_mut().zip(src).zip(&batch.lw) {
                // As the rows of `eval_level`.
                *d = if lw - c > NEGLIGIBLE && v.is_finite() {
                    v
                } else {
                    0.0
                };
                bad |= !v.is_finite() && lw - c > SIGNIFICANT;
            }
        }
        if bad && tape == Tape::Main {
            if let Some(e) = self.first_not_finite(n_compiled, &batch.lw, c, fixed, xs) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// The error for the first integrand value, in the order of the columns, that is not
    /// finite at a point whose weight `lw` is significant (within `e^−200` of `c`), if any.
    fn first_not_finite(
        &self,
        n_compiled: usize,
        lw: &[f64],
        c: f64,
        fixed: &[(f64, f64)],
        xs: &[f64],
    ) -> Option<ExpectError> {
        let n = xs.len();
        for k in 1..n_compiled {
            let column = &self.out[k * n..(k + 1) * n];
            let first =
                (column.iter().zip(lw)).position(|(v, lw)| !v.is_finite() && lw - c > SIGNIFICANT);
            if let Some(i) = first {
                return Some(self.not_finite(Some(k - 1), fixed, xs[i]));
            }
        }
        None
    }

    fn continuous(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
        map: Bijector,
    ) -> Result<Scaled, ExpectError> {
        let (m, s, qm) = self.locate(d, fixed, map)?;
        let n_out = self.n_out(tape);
        if !qm.is_finite() {
            if d == 0 && tape == Tape::Main {
                return Err(self.unresolved(
                    "the log-density is −∞ or NaN at every point the mode search tried, so \
                     the quadrature found no mass"
                        .to_string(),
                ));
            }
            return Ok(Scaled::zero(n_out));
        }
        // The rule places nodes at m + s·u: a width below the spacing of f64 at the mode
        // collapses them onto a few numbers (a normal with σ = 1 at μ = 1e308, where the
        // spacing is 2e292), and no sum over them is the integral.
        let spacing = (m.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
        if s < 1e3 * spacing || !s.is_finite() {
            let (x, _, _) = map.point(m);
            return Err(self.unresolved(format!(
                "near x = {} the density has width {} in the integration variable, \
                 below what the spacing of f64 there ({}) can resolve",
                crate::expr::number(x),
                significant(s, 3),
                significant(spacing, 3),
            )));
        }
        if self.kinked && map == Bijector::Identity {
            // Kinks (Laplace's |x − μ|, and |x − μ'| in a KL integrand) at the mode and at
            // the roots of affine `abs`/`sign` arguments: each piece gets its own
            // double-exponential map, which resolves a corner at an endpoint.
            let mut cuts = self.kinks(d, fixed);
            cuts.push(m);
            cuts.sort_by(f64::total_cmp);
            cuts.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0));
            let pieces = cuts.len() + 1;
            let piece_rel = rel / pieces as f64;
            let mut total = self.continuous(d, fixed, tape, piece_rel, Bijector::Below(cuts[0]))?;
            for w in cuts.windows(2) {
                let part =
                    self.continuous(d, fixed, tape, piece_rel, Bijector::Interval(w[0], w[1]))?;
                total = combine(total, part);
            }
            let last = cuts[cuts.len() - 1];
            let part = self.continuous(d, fixed, tape, piece_rel, Bijector::Above(last))?;
            return Ok(combine(total, part));
        }
        let tol = self.tol(rel);
        let mut eval = |ys: &[f64], c: f64, batch: &mut Batch| {
            self.eval_level(d, fixed, tape, rel, Some(map), ys, c, batch)
        };
        quadrature::sinh_sinh(m, s, map.range(), qm, n_out, tol, &mut eval)
    }

    #[allow(clippy::too_many_arguments)] // the nesting state, passed down explicitly
    fn discrete(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
        lo: i64,
        hi: Option<i64>,
    ) -> Result<Scaled, ExpectError> {
        // The mode by pattern search: double the step uphill, then halve it.
        let mut lw = |p: &mut Self, x: i64| -> Result<f64, ExpectError> {
            Ok(p.log_weight(d, fixed, x as f64, 1.0 - x as f64)?.0)
        };
        let inside = |x: i64| x >= lo && hi.is_none_or(|h| x <= h);
        let mut x = lo;
        let mut lx = lw(self, x)?;
        let mut step: i64 = 1;
        for _ in 0..64 {
            let Some(y) = x.checked_add(step).filter(|y| inside(*y)) else {
                break;
            };
            let ly = lw(self, y)?;
            if ly > lx || (lx == f64::NEG_INFINITY && ly == lx) {
                (x, lx) = (y, ly);
                step = step.saturating_mul(2);
            } else {
                break;
            }
        }
        let mut iterations = 0;
        while step >= 1 && iterations < 10_000 {
            iterations += 1;
            let mut moved = false;
            for y in [x.checked_add(step), x.checked_sub(step)]
                .into_iter()
                .flatten()
            {
                if inside(y) {
                    let ly = lw(self, y)?;
                    if ly > lx {
                        (x, lx) = (y, ly);
                        moved = true;
                        break;
                    }
                }
            }
            if !moved {
                step /= 2;
            }
        }
        let n_out = self.n_out(tape);
        let tol = self.tol(rel);
        let mut eval = |ys: &[f64], c: f64, batch: &mut Batch| {
            self.eval_level(d, fixed, tape, rel, None, ys, c, batch)
        };
        quadrature::sum_outward(lo, hi, x, lx, n_out, tol, &mut eval)
    }
}
