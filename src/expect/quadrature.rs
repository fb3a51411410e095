//! The one-dimensional rules: the sinh-sinh double-exponential trapezoidal rule over ℝ with
//! level doubling, and outward summation over the integers with a ratio-test tail bound.
//!
//! Both work on a log-weighted integrand: at a point `y` the caller supplies `lw(y)` (the log
//! of the weight, `−∞` for zero) and values `f_k(y)`, and the rules compute
//! `∫ e^{lw(y)} f_k(y) dy` (or the sum) as `e^{c} · S_k` with a reference level `c` near the
//! largest `lw`, so that normalizing constants far outside the range of `f64` neither
//! overflow nor underflow. A caller that is itself an integral (nested integration) also
//! supplies `e_k(y)`, the absolute error of its `f_k(y)`; the rules integrate it alongside.

use super::ExpectError;

/// Values of the integrand at a batch of points: `lw[i]`, and per point `n_out` values
/// `f[i·n_out + k]` with their absolute errors `e[i·n_out + k]` (`e` empty when every value
/// is exact, as at plain points).
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub lw: Vec<f64>,
    pub f: Vec<f64>,
    pub e: Vec<f64>,
    /// `∫|p g|/∫p` of each entry when it is itself an inner integral (nested variables),
    /// so that cancellation inside (a conditional mean of 0) does not shrink the scale that
    /// the outer tolerance is relative to; empty for plain points (then `|f|`).
    pub a: Vec<f64>,
    /// Set by the caller: the evaluator may write `f` column by column.
    pub columns_welcome: bool,
    /// Set by the evaluator: `f` holds the value of output `k` at point `i` at `f[k·n + i]`
    /// (`n` points) instead of in rows; only plain points (`e` and `a` empty).
    pub by_column: bool,
}

impl Batch {
    /// Empties the values (the caller's [`Batch::columns_welcome`] stays).
    pub fn clear(&mut self) {
        self.lw.clear();
        self.f.clear();
        self.e.clear();
        self.a.clear();
        self.by_column = false;
    }
}

/// A batch evaluator: points, the reference level `c` (values at points with
/// `lw − c < NEGLIGIBLE` do not matter), and the batch to fill.
pub(super) type Evaluator<'a> = dyn FnMut(&[f64], f64, &mut Batch) -> Result<(), ExpectError> + 'a;

/// `lw − c` below this: the point's weight underflows to 0 in `f64`.
pub(super) const NEGLIGIBLE: f64 = -745.0;

/// The result of a rule: the integrals are `e^{log_scale} · values[k]`, with absolute errors
/// `e^{log_scale} · errors[k]` and `∫|e^{lw} f_k|` equal to `e^{log_scale} · l1[k]`.
#[derive(Debug, Clone)]
pub(super) struct Scaled {
    pub log_scale: f64,
    pub values: Vec<f64>,
    pub errors: Vec<f64>,
    pub l1: Vec<f64>,
    /// Whether each value reached its tolerance.
    pub converged: Vec<bool>,
}

impl Scaled {
    /// A zero integral (the weight vanishes everywhere).
    pub fn zero(n_out: usize) -> Scaled {
        Scaled {
            log_scale: f64::NEG_INFINITY,
            values: vec![0.0; n_out],
            errors: vec![0.0; n_out],
            l1: vec![0.0; n_out],
            converged: vec![true; n_out],
        }
    }
}

/// Accuracy demanded of one rule.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tol {
    /// Relative to `∫|e^{lw} f_k|`.
    pub rel: f64,
    /// Absolute, in the units of the integral.
    pub abs: f64,
    /// Maximum number of step halvings.
    pub max_level: usize,
    /// Maximum number of terms of a sum.
    pub max_terms: usize,
}

impl Tol {
    /// The tolerance for output `k` in the scaled units (`e^{−log_scale}` times the absolute).
    fn scaled(&self, l1: f64, log_scale: f64) -> f64 {
        let abs = if self.abs > 0.0 {
            self.abs * (-log_scale).exp()
        } else {
            0.0
        };
        // Rounding limits what any sum can reach: a few ulps of the absolute sum.
        let rel = self.rel.max(4.0 * f64::EPSILON);
        abs.max(rel * l1)
    }
}

/// First step of the trapezoidal rule in `t`.
const H0: f64 = 0.5;
/// Largest `|t|`: `sinh(π/2 · sinh 6.5) ≈ 10^225`.
const T_MAX: f64 = 6.5;
/// Points whose terms are below this fraction of the largest term of every output at the
/// first level mark the ends of the range refined further (the decay beyond is
/// double-exponential), or below the relative tolerance times [`NEGLIGIBLE_MARGIN`] when that
/// is larger.
const NEGLIGIBLE_TERM: f64 = 1e-25;
/// How far below the tolerance a term beyond the refined range must be.
const NEGLIGIBLE_MARGIN: f64 = 1e-5;
/// The first level stops going outward where `lw − c0` falls below this.
const STOP: f64 = -800.0;
/// Levels always computed before the error estimate is trusted: the first halving, then only
/// as many as the tolerance needs. The estimate of a level is its change from the level
/// before, which overestimates its error once the rule converges (double-exponential rules
/// about square their error at each halving). Extrapolating from that (Bailey's and mpmath's
/// `10^max(D1²/D2, 2·D1)`) stops two levels earlier on the Cauchy, but claimed an error of
/// 8e-11 for a sum off by 3e-5 on a skewed gamma whose first levels had six nodes (the
/// changes of a rule before its asymptotic regime do not fall steadily), so it is not used.
const MIN_LEVEL: usize = 1;

/// The sinh-sinh substitution `u(t) = sinh(π/2 · sinh t)` and its derivative `u'(t)`.
fn node(t: f64) -> (f64, f64) {
    let half_pi = std::f64::consts::FRAC_PI_2;
    let a = half_pi * t.sinh();
    (a.sinh(), half_pi * t.cosh() * a.cosh())
}

/// Levels whose nodes are tabulated (`h = H0/2^level`); finer ones are computed.
const TABLED_LEVELS: usize = 8;

/// [`node`] at `t = i·H0/2^level`, from a table made once per level: every rule evaluates
/// the same nodes in `t`, only their centre and scale change with the parameters.
#[derive(Clone, Copy)]
struct Nodes {
    per: i64,
    half: i64,
    /// `None` beyond [`TABLED_LEVELS`].
    table: Option<&'static [(f64, f64)]>,
}

impl Nodes {
    fn new(level: usize) -> Nodes {
        static TABLES: [std::sync::OnceLock<Vec<(f64, f64)>>; TABLED_LEVELS + 1] =
            [const { std::sync::OnceLock::new() }; TABLED_LEVELS + 1];
        let per = 1i64 << level;
        let half = (T_MAX / H0).round() as i64 * per;
        let table = (level <= TABLED_LEVELS).then(|| {
            let t_of = |i: i64| i as f64 * H0 / per as f64;
            TABLES[level]
                .get_or_init(|| (-half..=half).map(|i| node(t_of(i))).collect())
                .as_slice()
        });
        Nodes { per, half, table }
    }

    /// `(u(t), u'(t))` at `t = i·H0/2^level`.
    #[inline]
    fn at(self, i: i64) -> (f64, f64) {
        match self.table {
            Some(table) if i.abs() <= self.half => table[(i + self.half) as usize],
            _ => node(i as f64 * H0 / self.per as f64),
        }
    }
}

/// Running sums of one rule: `S_k = h Σ terms`, `L1_k = h Σ |terms|`, `E_k = h Σ weight·e_k`.
#[derive(Debug, Default)]
struct Sums {
    s: Vec<f64>,
    l1: Vec<f64>,
    e: Vec<f64>,
}

impl Sums {
    fn new(n_out: usize) -> Sums {
        let mut sums = Sums::default();
        sums.reset(n_out);
        sums
    }

    /// Every sum back to 0, `n_out` of each.
    fn reset(&mut self, n_out: usize) {
        for v in [&mut self.s, &mut self.l1, &mut self.e] {
            v.clear();
            v.resize(n_out, 0.0);
        }
    }

    /// Adds `weight · f` and `weight · e` of point `i` of `batch`.
    #[inline]
    fn add(&mut self, batch: &Batch, i: usize, weight: f64) {
        let n = self.s.len();
        if weight == 0.0 {
            return;
        }
        if batch.a.is_empty() && batch.e.is_empty() {
            // Plain points: exact values, their own scale.
            let row = &batch.f[i * n..(i + 1) * n];
            for ((s, l1), f) in self.s.iter_mut().zip(&mut self.l1).zip(row) {
                let t = weight * f;
                *s += t;
                *l1 += t.abs();
            }
            return;
        }
        for k in 0..n {
            let t = weight * batch.f[i * n + k];
            self.s[k] += t;
            self.l1[k] += match batch.a.get(i * n + k) {
                Some(a) => weight.abs() * a,
                None => t.abs(),
            };
            self.e[k] += weight.abs() * batch.e[i * n + k];
        }
    }

    /// [`Sums::add`] of every point `i` of `batch` with the weight `weights[i]`, in the same
    /// order: for plain points, four outputs at a time across the points (each sum still
    /// adds its terms point by point).
    fn add_weighted(&mut self, batch: &Batch, weights: &[f64]) {
        let n = self.s.len();
        if n == 0 {
            return;
        }
        if batch.by_column {
            let mut k = 0;
            while k + 4 <= n {
                self.add_columns::<4>(batch, weights, k);
                k += 4;
            }
            while k < n {
                self.add_columns::<1>(batch, weights, k);
                k += 1;
            }
            return;
        }
        if !(batch.a.is_empty() && batch.e.is_empty()) {
            for (i, &w) in weights.iter().enumerate() {
                self.add(batch, i, w);
            }
            return;
        }
        let mut k = 0;
        while k + 4 <= n {
            self.add_block::<4>(batch, weights, k);
            k += 4;
        }
        while k < n {
            self.add_block::<1>(batch, weights, k);
            k += 1;
        }
    }

    /// [`Sums::add_block`] of a batch [`Batch::by_column`].
    #[inline(always)]
    fn add_columns<const B: usize>(&mut self, batch: &Batch, weights: &[f64], k: usize) {
        let np = weights.len();
        let mut s: [f64; B] = std::array::from_fn(|j| self.s[k + j]);
        let mut l1: [f64; B] = std::array::from_fn(|j| self.l1[k + j]);
        let columns: [&[f64]; B] = std::array::from_fn(|j| &batch.f[(k + j) * np..][..np]);
        for (i, &w) in weights.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            for j in 0..B {
                let t = w * columns[j][i];
                s[j] += t;
                l1[j] += t.abs();
            }
        }
        self.s[k..k + B].copy_from_slice(&s);
        self.l1[k..k + B].copy_from_slice(&l1);
    }

    /// The plain terms of outputs `k..k + B` of every point.
    #[inline(always)]
    fn add_block<const B: usize>(&mut self, batch: &Batch, weights: &[f64], k: usize) {
        let n = self.s.len();
        let mut s: [f64; B] = std::array::from_fn(|j| self.s[k + j]);
        let mut l1: [f64; B] = std::array::from_fn(|j| self.l1[k + j]);
        for (row, &w) in batch.f.chunks_exact(n).zip(weights) {
            if w == 0.0 {
                continue;
            }
            let f = &row[k..k + B];
            for j in 0..B {
                let t = w * f[j];
                s[j] += t;
                l1[j] += t.abs();
            }
        }
        self.s[k..k + B].copy_from_slice(&s);
        self.l1[k..k + B].copy_from_slice(&l1);
    }

    /// Multiplies every sum by `a`.
    fn scale(&mut self, a: f64) {
        for v in self.s.iter_mut().chain(&mut self.l1).chain(&mut self.e) {
            *v *= a;
        }
    }
}

/// The working memory of one [`sinh_sinh`] rule, kept per thread between rules (a rule
/// nested inside another's evaluations takes one of its own): a rule runs once per data
/// variable and parameter point, and its buffers are the same size every time.
#[derive(Debug, Default)]
struct RuleWork {
    /// The points of one evaluation.
    batch: Batch,
    /// Every point of the first level.
    level0: Batch,
    /// `t`, `u'(t)` and `y` of the points of a level.
    ts: Vec<f64>,
    ws: Vec<f64>,
    ys: Vec<f64>,
    /// The weights `e^{lw − c} u'(t)` of the first level.
    weights: Vec<f64>,
    /// Per output: the largest term of the first level, the truncation at the ends, the
    /// change of the last level.
    largest: Vec<f64>,
    truncation: Vec<f64>,
    diff: Vec<f64>,
    sums: Sums,
    /// The sums of the new points of a level.
    fresh: Sums,
}

thread_local! {
    static RULE_POOL: std::cell::RefCell<Vec<RuleWork>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Most [`RuleWork`]s a thread keeps (one per level of nesting).
const RULE_POOL_SIZE: usize = 4;

/// `∫_ℝ e^{lw(y)} f_k(y) dy` by the sinh-sinh rule, `y = centre + scale · u(t)`,
/// `u(t) = sinh(π/2 · sinh t)`, as a trapezoidal sum in `t` with step `h = ½, ¼, …`.
///
/// Points with `y` outside `range` count as zero. The first level fixes the range of `t`
/// (where some term is not negligible, plus one step); each further level halves the step,
/// reusing the earlier points, and its change from the previous level is the error estimate
/// (double-exponential rules converge so fast that this overestimates the error of the finer
/// level). `c0` is the log-weight at the centre, the first reference level.
pub(super) fn sinh_sinh(
    centre: f64,
    scale: f64,
    range: (f64, f64),
    c0: f64,
    n_out: usize,
    tol: Tol,
    eval: &mut Evaluator<'_>,
) -> Result<Scaled, ExpectError> {
    let mut work = RULE_POOL.with_borrow_mut(Vec::pop).unwrap_or_default();
    let r = sinh_sinh_in(&mut work, centre, scale, range, c0, n_out, tol, eval);
    RULE_POOL.with_borrow_mut(|pool| {
        if pool.len() < RULE_POOL_SIZE {
            pool.push(work);
        }
    });
    r
}

/// [`sinh_sinh`] in the working memory `work`.
#[allow(clippy::too_many_arguments)] // those of `sinh_sinh`, and its working memory
fn sinh_sinh_in(
    work: &mut RuleWork,
    centre: f64,
    scale: f64,
    range: (f64, f64),
    c0: f64,
    n_out: usize,
    tol: Tol,
    eval: &mut Evaluator<'_>,
) -> Result<Scaled, ExpectError> {
    let RuleWork {
        batch,
        level0,
        ts,
        ws,
        ys,
        weights,
        largest,
        truncation,
        diff,
        sums,
        fresh,
    } = work;
    ts.clear();
    ws.clear();
    level0.clear();
    // Level 0: outward from the centre in both directions, a few points at a time, until
    // the log-weight is negligible (evaluating further out only meets overflow).
    let nodes0 = Nodes::new(0);
    let mut run = |tlist: &mut dyn Iterator<Item = i64>,
                   ts: &mut Vec<f64>,
                   ws: &mut Vec<f64>,
                   level0: &mut Batch|
     -> Result<bool, ExpectError> {
        ys.clear();
        for j in tlist {
            let t = j as f64 * H0;
            let (u, w) = nodes0.at(j);
            let y = centre + scale * u;
            if y.is_finite() && y >= range.0 && y <= range.1 {
                ts.push(t);
                ws.push(w);
                ys.push(y);
            }
        }
        if ys.is_empty() {
            return Ok(true);
        }
        batch.clear();
        batch.columns_welcome = false;
        eval(ys, c0, batch)?;
        level0.lw.extend_from_slice(&batch.lw);
        level0.f.extend_from_slice(&batch.f);
        level0.e.extend_from_slice(&batch.e);
        level0.a.extend_from_slice(&batch.a);
        let last = batch.lw[ys.len() - 1];
        // Stop when negligible (NaN never happens: `eval` reports it).
        Ok(last - c0 <= STOP)
    };
    run(&mut std::iter::once(0), ts, ws, level0)?;
    let steps = (T_MAX / H0).round() as i64;
    for dir in [1, -1] {
        let mut j = 1;
        while j <= steps {
            let end = (j + 3).min(steps);
            let mut tlist = (j..=end).map(|j| dir * j);
            if run(&mut tlist, ts, ws, level0)? {
                break;
            }
            j = end + 1;
        }
    }
    let first = &*level0;
    let c = first
        .lw
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(c0, f64::max);
    if !c.is_finite() {
        return Ok(Scaled::zero(n_out));
    }
    sums.reset(n_out);
    largest.clear();
    largest.resize(n_out, 0.0);
    weights.clear();
    weights.extend((0..ts.len()).map(|i| (first.lw[i] - c).exp() * ws[i]));
    sums.add_weighted(first, weights);
    for (i, &w) in weights.iter().enumerate() {
        for (k, l) in largest.iter_mut().enumerate() {
            *l = l.max((w * first.f[i * n_out + k]).abs());
        }
    }
    sums.scale(H0);
    let negligible = NEGLIGIBLE_TERM.max(tol.rel * NEGLIGIBLE_MARGIN);
    let significant = |i: usize| {
        (0..n_out).any(|k| {
            let t = (weights[i] * first.f[i * n_out + k]).abs();
            largest[k] > 0.0 && t > negligible * largest[k]
        })
    };
    // The smallest and largest `t` of a significant point.
    let mut sig: Option<(f64, f64)> = None;
    for (i, &t) in ts.iter().enumerate() {
        if significant(i) {
            sig = Some(sig.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
        }
    }
    let Some((sig_lo, sig_hi)) = sig else {
        return Ok(Scaled::zero(n_out));
    };
    // Where the march ended at the edge of `range` on a term above the tolerance, the
    // integral is truncated: `f64` cannot reach the rest of the mass (a beta density with
    // `a = 0.01` has `e^{−7}` of its mass below the smallest `f64`). The term is taken at the
    // edge itself, between the last nodes of the first level.
    truncation.clear();
    truncation.resize(n_out, 0.0);
    let outermost = [
        (0..ts.len()).max_by(|&i, &j| ts[i].total_cmp(&ts[j])),
        (0..ts.len()).min_by(|&i, &j| ts[i].total_cmp(&ts[j])),
    ];
    for (side, outer) in outermost.into_iter().enumerate() {
        let Some(outer) = outer else { continue };
        if ts[outer] == 0.0 || first.lw[outer] - c0 <= STOP {
            continue;
        }
        let edge = if side == 0 { range.1 } else { range.0 };
        let u = (edge - centre) / scale;
        let t = (u.asinh() / std::f64::consts::FRAC_PI_2).asinh();
        let mut at_edge = Batch::default();
        let weight = if t.abs() < T_MAX {
            eval(&[edge], c, &mut at_edge)?;
            (at_edge.lw[0] - c).exp() * node(t).1
        } else {
            // The edge is beyond the last node: that node is where the rule stops.
            at_edge
                .f
                .extend_from_slice(&first.f[outer * n_out..(outer + 1) * n_out]);
            weights[outer]
        };
        for (k, tr) in truncation.iter_mut().enumerate() {
            let term = H0 * (weight * at_edge.f[k]).abs();
            if term > tol.scaled(sums.l1[k], c + scale.ln()) {
                *tr += term;
            }
        }
    }
    let t_lo = (sig_lo - H0).max(-T_MAX);
    let t_hi = (sig_hi + H0).min(T_MAX);
    let log_scale = c + scale.ln();

    let mut h = H0;
    diff.clear();
    diff.resize(n_out, f64::INFINITY);
    for level in 1..=tol.max_level {
        h /= 2.0;
        ys.clear();
        ws.clear();
        // t = i·h for odd i strictly between t_lo and t_hi (multiples of H0)
        let per = 1i64 << level;
        let (i_lo, i_hi) = (
            (t_lo / H0).round() as i64 * per,
            (t_hi / H0).round() as i64 * per,
        );
        let nodes = Nodes::new(level);
        let mut i = i_lo + 1;
        while i < i_hi {
            let (u, w) = nodes.at(i);
            let y = centre + scale * u;
            if y.is_finite() && y >= range.0 && y <= range.1 {
                ys.push(y);
                ws.push(w);
            }
            i += 2;
        }
        batch.clear();
        batch.columns_welcome = true;
        eval(ys, c, batch)?;
        fresh.reset(n_out);
        weights.clear();
        weights.extend((batch.lw.iter().zip(&*ws)).map(|(lw, w)| (lw - c).exp() * w));
        fresh.add_weighted(batch, weights);
        for (k, dk) in diff.iter_mut().enumerate() {
            let s = 0.5 * sums.s[k] + h * fresh.s[k];
            *dk = (s - sums.s[k]).abs();
            sums.s[k] = s;
            sums.l1[k] = 0.5 * sums.l1[k] + h * fresh.l1[k];
            sums.e[k] = 0.5 * sums.e[k] + h * fresh.e[k];
        }
        let done = (0..n_out).all(|k| diff[k] <= tol.scaled(sums.l1[k], log_scale));
        if level >= MIN_LEVEL && done {
            break;
        }
    }
    let mut out = finish(log_scale, sums, diff, tol);
    for (k, t) in truncation.iter().enumerate() {
        if *t > 0.0 {
            out.errors[k] += t;
            out.converged[k] = false;
        }
    }
    Ok(out)
}

/// The result from the sums and the discretization error estimates.
fn finish(log_scale: f64, sums: &Sums, diff: &[f64], tol: Tol) -> Scaled {
    let n_out = sums.s.len();
    let converged = (0..n_out)
        .map(|k| {
            let t = tol.scaled(sums.l1[k], log_scale);
            diff[k] <= t && sums.e[k] <= t
        })
        .collect();
    Scaled {
        log_scale,
        values: sums.s.clone(),
        // Never below the rounding of the sum itself.
        errors: (0..n_out)
            .map(|k| diff[k] + sums.e[k] + 2.0 * f64::EPSILON * sums.l1[k])
            .collect(),
        l1: sums.l1.clone(),
        converged,
    }
}

/// Terms evaluated at once while summing outward.
const CHUNK: i64 = 32;

/// `Σ_{x=lo}^{hi} e^{lw(x)} f_k(x)` over the integers (`hi = None` for no upper bound), with
/// `c` the log-weight at the mode `mode`.
///
/// When the range has at most `max_terms` terms, every term is summed and the error is that
/// of the values alone. Otherwise the sum runs outward from the mode in both directions, a
/// chunk at a time, until at the end of each direction every output's last two terms
/// `a, b` have ratio `r = |b/a| < 1` and the geometric tail bound `|b| r/(1 − r)` is below a
/// hundredth of the tolerance; the bounds are added to the error estimates.
pub(super) fn sum_outward(
    lo: i64,
    hi: Option<i64>,
    mode: i64,
    c: f64,
    n_out: usize,
    tol: Tol,
    eval: &mut Evaluator<'_>,
) -> Result<Scaled, ExpectError> {
    if !c.is_finite() {
        return Ok(Scaled::zero(n_out));
    }
    let mut batch = Batch::default();
    let mut sums = Sums::new(n_out);
    let mut xs: Vec<f64> = Vec::new();
    let mut tails = vec![0.0; n_out];
    let mut run = |xs: &[f64], sums: &mut Sums, batch: &mut Batch| -> Result<(), ExpectError> {
        batch.clear();
        eval(xs, c, batch)?;
        for i in 0..xs.len() {
            sums.add(batch, i, (batch.lw[i] - c).exp());
        }
        Ok(())
    };
    let width = hi.map(|hi| hi.saturating_sub(lo).saturating_add(1));
    if let Some(w) = width.filter(|w| *w <= tol.max_terms as i64) {
        let hi = lo.saturating_add(w - 1);
        let mut x = lo;
        while x <= hi {
            let end = x.saturating_add(1023).min(hi);
            xs.clear();
            xs.extend((x..=end).map(|v| v as f64));
            run(&xs, &mut sums, &mut batch)?;
            x = end.saturating_add(1);
            if end == hi {
                break;
            }
        }
        let diff = vec![0.0; n_out];
        return Ok(finish(c, &sums, &diff, tol));
    }
    let mut terms = 0usize;
    let mut converged = true;
    // Upward from the mode, then downward from mode − 1.
    for up in [true, false] {
        let mut next = if up { Some(mode) } else { mode.checked_sub(1) };
        let mut chunk = CHUNK;
        while let Some(start) = next {
            if (up && hi.is_some_and(|h| start > h)) || (!up && start < lo) {
                break;
            }
            let end = if up {
                let e = start.saturating_add(chunk - 1);
                hi.map_or(e, |h| e.min(h))
            } else {
                start.saturating_sub(chunk - 1).max(lo)
            };
            xs.clear();
            if up {
                xs.extend((start..=end).map(|v| v as f64));
            } else {
                xs.extend((end..=start).rev().map(|v| v as f64));
            }
            run(&xs, &mut sums, &mut batch)?;
            terms += xs.len();
            let at_bound = if up {
                hi.is_some_and(|h| end >= h)
            } else {
                end <= lo
            };
            if at_bound {
                break;
            }
            next = if up {
                end.checked_add(1)
            } else {
                end.checked_sub(1)
            };
            // The tail beyond the last two terms of this chunk.
            let n = xs.len();
            let mut done = n >= 2;
            let mut side = vec![0.0; n_out];
            if done {
                let wa = (batch.lw[n - 2] - c).exp();
                let wb = (batch.lw[n - 1] - c).exp();
                for (k, side_k) in side.iter_mut().enumerate() {
                    let a = (wa * batch.f[(n - 2) * n_out + k]).abs();
                    let b = (wb * batch.f[(n - 1) * n_out + k]).abs();
                    let bound = if b == 0.0 {
                        0.0
                    } else if b < a {
                        let r = b / a;
                        b * r / (1.0 - r)
                    } else {
                        f64::INFINITY
                    };
                    *side_k = bound;
                    if bound > 0.01 * tol.scaled(sums.l1[k], c) {
                        done = false;
                    }
                }
            }
            if done {
                for k in 0..n_out {
                    tails[k] += side[k];
                }
                break;
            }
            if terms >= tol.max_terms || next.is_none() {
                converged = false;
                for k in 0..n_out {
                    tails[k] += side[k];
                }
                break;
            }
            chunk = (chunk * 2).min(1024);
        }
    }
    let mut out = finish(c, &sums, &tails, tol);
    if !converged {
        out.converged = vec![false; n_out];
    }
    Ok(out)
}

/// The result of [`integrate_log_weight`]: `∫ e^{lw} = e^{log_value}` with a relative error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogIntegral {
    /// The log of the integral (`−∞` for zero).
    pub log_value: f64,
    /// The estimated relative error.
    pub rel_error: f64,
    /// Whether every rule reached its tolerance.
    pub converged: bool,
    /// The points evaluated.
    pub evaluations: usize,
}

/// `∫ e^{lw(y)} dy` over the box `ranges` (one range of `y` per coordinate) by nested
/// sinh-sinh rules centred at `y = 0` (the integral over a parameter space mapped to ℝⁿ by
/// its bijectors, with the log-Jacobians in `lw`, the ranges keeping the mapped point
/// representable), to relative `rel`, with at most `max_points` evaluations of `lw`. `lw`
/// returns `−∞` where the weight is zero; a NaN is a point where it is undefined, which stops
/// the integration. Where the weight at the end of a range is not negligible, the result is
/// not converged.
pub(crate) fn integrate_log_weight(
    ranges: &[(f64, f64)],
    rel: f64,
    max_points: usize,
    lw: &mut dyn FnMut(&[f64]) -> f64,
) -> Result<LogIntegral, ExpectError> {
    struct Run<'a> {
        dims: usize,
        ranges: &'a [(f64, f64)],
        max_points: usize,
        evaluations: usize,
        converged: bool,
        lw: &'a mut dyn FnMut(&[f64]) -> f64,
    }
    impl Run<'_> {
        fn point(&mut self, y: &[f64]) -> Result<f64, ExpectError> {
            self.evaluations += 1;
            if self.evaluations > self.max_points {
                return Err(ExpectError::Unsupported {
                    reason: format!(
                        "the integral over {} parameters needs more than {} evaluations",
                        self.dims, self.max_points
                    ),
                });
            }
            let v = (self.lw)(y);
            if v.is_nan() || v == f64::INFINITY {
                return Err(ExpectError::Unsupported {
                    reason: "the integrand is not finite at a point of the parameter space"
                        .to_string(),
                });
            }
            Ok(v)
        }

        /// `ln ∫ e^{lw}` over coordinates `prefix.len()..`, with its relative error.
        fn level(&mut self, prefix: &mut Vec<f64>, rel: f64) -> Result<(f64, f64), ExpectError> {
            let d = prefix.len();
            let inner_rel = rel / 4.0;
            let at = |run: &mut Self, prefix: &mut Vec<f64>, y: f64| {
                prefix.push(y);
                let r = if d + 1 == run.dims {
                    run.point(prefix).map(|v| (v, 0.0))
                } else {
                    run.level(prefix, inner_rel)
                };
                prefix.pop();
                r
            };
            let range = self.ranges[d];
            let c0 = at(self, prefix, 0.0)?.0;
            let c0 = if c0.is_finite() { c0 } else { 0.0 };
            let tol = Tol {
                rel,
                abs: 0.0,
                max_level: 12,
                max_terms: 0,
            };
            let mut failure = None;
            let mut eval = |ys: &[f64], _c: f64, batch: &mut Batch| {
                for &y in ys {
                    match at(self, prefix, y) {
                        Ok((v, e)) => {
                            batch.lw.push(v);
                            batch.f.push(1.0);
                            if d + 1 < self.dims {
                                batch.e.push(e);
                            }
                        }
                        Err(err) => {
                            failure = Some(err.clone());
                            return Err(err);
                        }
                    }
                }
                Ok(())
            };
            let r = sinh_sinh(0.0, 1.0, range, c0, 1, tol, &mut eval);
            if let Some(e) = failure {
                return Err(e);
            }
            let r = r?;
            self.converged &= r.converged[0];
            let v = r.values[0];
            let positive = v > 0.0 && r.log_scale.is_finite();
            if !positive {
                return Ok((f64::NEG_INFINITY, 0.0));
            }
            Ok((r.log_scale + v.ln(), r.errors[0] / v))
        }
    }
    let dims = ranges.len();
    let mut run = Run {
        dims,
        ranges,
        max_points,
        evaluations: 0,
        converged: true,
        lw,
    };
    let (log_value, rel_error) = run.level(&mut Vec::with_capacity(dims), rel)?;
    Ok(LogIntegral {
        log_value,
        rel_error,
        converged: run.converged,
        evaluations: run.evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol() -> Tol {
        Tol {
            rel: 1e-12,
            abs: 0.0,
            max_level: 10,
            max_terms: 1000,
        }
    }

    #[test]
    fn sinh_sinh_integrates_a_gaussian_far_off_scale() {
        // ∫ e^{−(y−3)²/2} (1, y) dy = √(2π) (1, 3), with a poor guess of the scale.
        let mut eval = |ys: &[f64], _c: f64, b: &mut Batch| {
            for y in ys {
                b.lw.push(-0.5 * (y - 3.0) * (y - 3.0));
                b.f.extend([1.0, *y]);
                b.e.extend([0.0, 0.0]);
            }
            Ok(())
        };
        let r = sinh_sinh(3.0, 5.0, (-1e300, 1e300), 0.0, 2, tol(), &mut eval).unwrap();
        let root = (2.0 * std::f64::consts::PI).sqrt();
        let f = r.log_scale.exp();
        assert!((r.values[0] * f - root).abs() < 1e-12);
        assert!((r.values[1] * f - 3.0 * root).abs() < 1e-11);
        assert!(r.converged.iter().all(|c| *c));
    }

    #[test]
    fn outward_sum_of_a_geometric_series() {
        // Σ_{x≥0} 2^{−x} = 2, with the tail bound in the error.
        let mut eval = |xs: &[f64], _c: f64, b: &mut Batch| {
            for x in xs {
                b.lw.push(-x * std::f64::consts::LN_2);
                b.f.push(1.0);
                b.e.push(0.0);
            }
            Ok(())
        };
        let r = sum_outward(0, None, 0, 0.0, 1, tol(), &mut eval).unwrap();
        assert!((r.values[0] - 2.0).abs() <= r.errors[0] + 1e-15);
        assert!(r.errors[0] < 1e-12);
        let exact = sum_outward(0, Some(3), 0, 0.0, 1, tol(), &mut eval).unwrap();
        assert_eq!(exact.values[0], 1.875);
    }
}
