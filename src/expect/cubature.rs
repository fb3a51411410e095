//! Cubature over several continuous data variables at once: a dimension-adaptive sparse grid
//! (Smolyak's construction, refined as Gerstner and Griebel do) built from the same sinh-sinh
//! double-exponential rules as the one-dimensional quadrature, in coordinates centred and
//! rotated by the Laplace approximation at the joint mode.
//!
//! Nested one-dimensional rules cost `n^d` points for `d` variables (`n` ≈ 50–100 per
//! variable, each with its own mode search): seconds for three variables, hours for four.
//! Here, with the continuous variables mapped to `y ∈ ℝ^d` (as in the 1-D rules), the mode
//! `m` of `q(y) = ln p(x(y)) + ln|dx/dy|` is found by damped Newton steps on the exact
//! gradient and Hessian (dual numbers), and `y = m + L u` with `L Lᵀ = (−∇²q(m))^{−1}`: for a
//! density close to a normal one the integrand in `u` is close to `e^{−|u|²/2}` times the
//! integrand, whatever the correlations. Each coordinate of `u` then has a nested family of
//! rules: level 0 is the Laplace point (`u = 0`, weight `√(2π)`), level `ℓ ≥ 1` the
//! trapezoidal rule with step `h = 2^{1−ℓ}` in `t`, `u = sinh(π/2 · sinh t)` (heavy tails and
//! skewed shapes decay double-exponentially in `t`). Writing `Δ_ℓ = Q_ℓ − Q_{ℓ−1}`, the
//! integral is `Σ_{k ∈ I} Δ_{k₁} ⊗ … ⊗ Δ_{k_d}` over a downward-closed set `I` of
//! multi-indices, grown one index at a time where the contributions are largest; the
//! contributions of the indices not yet refined (the active set) estimate the error, as the
//! change between levels does in one dimension. A product of independent factors costs
//! about the sum of its one-dimensional rules, not their product.
//!
//! The number of points is bounded by [`Quadrature::max_points`](super::super::Quadrature):
//! past it the expectation is refused with an error naming the dimension and the budget,
//! rather than returned with an accuracy it does not have.

use std::collections::{HashMap, HashSet};

use nalgebra::{DMatrix, DVector};

use super::super::quadrature::{NEGLIGIBLE, Scaled};
use super::super::{ExpectError, point_text};
use super::{Map, Problem, SIGNIFICANT, Tape};
use crate::eval::{Env, Input};
use crate::model::Support;

/// Fewest data variables (continuous or discrete) for which the continuous ones at the end
/// of the declaration are integrated by the sparse grid rather than nested 1-D rules.
pub(super) const MIN_DIMENSION: usize = 3;

/// A coordinate is [`Warp::Gauss`] when the log-weight along its axis through the mode is
/// `−u²/2` within this fraction near the mode (see `Grid::find_ranges`).
const GAUSS_LIKE: f64 = 0.1;
/// The Gauss–Hermite rules of levels `0, 1, …`: 1, 3, 5, 9, 17, 33 points.
const GAUSS_LEVELS: usize = 5;
/// A term below this fraction of the largest term of its output along an axis lies outside
/// the range the double-exponential rules cover (the decay beyond is double-exponential).
const NEGLIGIBLE_TERM: f64 = 1e-25;
/// Finest level: steps down to `2^{−11}` in `t`.
const MAX_LEVEL: usize = 12;
/// Points evaluated per call of the compiled tape.
const CHUNK: usize = 2048;

/// Whether the variables `d, d+1, …` are integrated by the sparse grid: all of them are
/// continuous, at least two, and the whole integral has dimension [`MIN_DIMENSION`] or more.
pub(super) fn applies(supports: &[Support], d: usize) -> bool {
    let rest = &supports[d..];
    supports.len() >= MIN_DIMENSION
        && rest.len() >= 2
        && rest
            .iter()
            .all(|s| matches!(s, Support::Real | Support::Positive | Support::Unit))
}

/// [`ExpectError::OverBudget`] for the expectation of `p`.
pub(super) fn over_budget(p: &Problem<'_>, detail: String) -> ExpectError {
    ExpectError::OverBudget {
        dims: p.supports.len(),
        budget: p.q.max_points,
        at: point_text(&p.model.param_names(), &p.params),
        detail,
    }
}

/// The rules of one coordinate of `u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Warp {
    /// Gauss–Hermite rules with `2^ℓ + 1` points at level `ℓ ≥ 1` (Golub–Welsch), for
    /// coordinates along which the density is close to normal: exact for a normal factor
    /// times a polynomial of degree `2^{ℓ+1} + 1`, which the score products of such a factor are.
    Gauss,
    /// The trapezoidal rule in `t` with step `2^{1−ℓ}` at level `ℓ ≥ 1`,
    /// `u = sinh(π/2 · sinh t)`: the double-exponential rule of the 1-D quadrature, for heavy
    /// tails and skewed shapes, which decay double-exponentially in `t`.
    Heavy,
}

/// Largest `|t|` of the double-exponential rules: `u = sinh(π/2 · sinh 6.5) ≈ 10^225`.
const T_MAX: f64 = 6.5;
/// Step in `t` of the search for their range.
const RANGE_STEP: f64 = 0.25;

/// The double-exponential substitution `u(t) = sinh(π/2 · sinh t)` and `u'(t)`.
fn node(t: f64) -> (f64, f64) {
    let half_pi = std::f64::consts::FRAC_PI_2;
    let a = half_pi * t.sinh();
    (a.sinh(), half_pi * t.cosh() * a.cosh())
}

/// The `n`-point Gauss–Hermite rule for `∫ f(u) du` with `f` close to `e^{−u²/2}`: nodes
/// `u_i`, the eigenvalues of the Jacobi matrix of the probabilists' Hermite polynomials
/// (off-diagonal `√k`), and weights `√(2π) v_{0i}² e^{u_i²/2}` from its eigenvectors.
fn gauss_hermite(n: usize) -> Vec<(f64, f64)> {
    let mut j = DMatrix::<f64>::zeros(n, n);
    for k in 1..n {
        let b = (k as f64).sqrt();
        j[(k, k - 1)] = b;
        j[(k - 1, k)] = b;
    }
    let eig = j.symmetric_eigen();
    let root = (2.0 * std::f64::consts::PI).sqrt();
    let mut rule: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let u = eig.eigenvalues[i];
            let v = eig.eigenvectors[(0, i)];
            (u, root * v * v * (u * u / 2.0).exp())
        })
        .collect();
    rule.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The middle node of an odd rule is 0 up to rounding; make it exactly 0 (shared by all).
    if n % 2 == 1 {
        rule[n / 2].0 = 0.0;
    }
    rule
}

/// `∫ p · g_k` over the continuous variables `d, d+1, …` (see [`applies`]) with `fixed` the
/// values of the outer ones, output 0 being the mass.
pub(super) fn integrate(
    p: &mut Problem<'_>,
    d: usize,
    fixed: &[(f64, f64)],
    tape: Tape,
    rel: f64,
) -> Result<Scaled, ExpectError> {
    let maps: Vec<Map> = p.supports[d..]
        .iter()
        .map(|s| match s {
            Support::Positive => Map::Log,
            Support::Unit => Map::Logit,
            _ => Map::Real,
        })
        .collect();
    let dims = maps.len();
    let (m, neg_h) = mode(p, d, fixed, &maps)?;
    let (l, log_det) = rotation(&neg_h);
    let mut grid = Grid {
        d,
        fixed: fixed.to_vec(),
        tape,
        n_out: p.n_out(tape),
        maps,
        m,
        l,
        c: 0.0,
        lo: vec![-1.0; dims],
        hi: vec![1.0; dims],
        warps: vec![Warp::Heavy; dims],
        heavy_only: false,
        bits: p.q.max_level.clamp(1, MAX_LEVEL) as i32 - 1,
        cache: HashMap::new(),
        terms: Vec::new(),
        rules: HashMap::new(),
    };
    // The reference level: the log-weight at the mode.
    let centre = vec![0.0; dims];
    let lw0 = grid.log_weights(p, &[centre])?[0];
    if !lw0.is_finite() {
        return Ok(Scaled::zero(grid.n_out));
    }
    grid.c = lw0;
    grid.find_ranges(p)?;
    match grid.refine(p, rel, lw0 + log_det) {
        // Gauss–Hermite rules on a coordinate that only looked normal near the mode: again
        // with double-exponential rules everywhere.
        Err(ExpectError::NotConverged { .. }) if grid.warps.contains(&Warp::Gauss) => {
            grid.heavy_only = true;
            grid.cache.clear();
            grid.terms.clear();
            grid.rules.clear();
            grid.find_ranges(p)?;
            grid.refine(p, rel, lw0 + log_det)
        }
        r => r,
    }
}

/// The joint mode `m` of `q(y)` and `−∇²q(m)`.
fn mode(
    p: &mut Problem<'_>,
    d: usize,
    fixed: &[(f64, f64)],
    maps: &[Map],
) -> Result<(DVector<f64>, DMatrix<f64>), ExpectError> {
    let dims = maps.len();
    let mut best: Option<(DVector<f64>, Local)> = None;
    // Start where every variable is at a probe of its map (x = 0, 1 or ½, then ±1, …).
    for k in 0..5 {
        let y = DVector::from_iterator(
            dims,
            maps.iter().map(|m| {
                let probes = m.probes();
                probes[k.min(probes.len() - 1)]
            }),
        );
        let v = local(p, d, fixed, maps, &y)?;
        if v.q.is_finite() && best.as_ref().is_none_or(|(_, b)| v.q > b.q) {
            best = Some((y, v));
        }
    }
    let Some((mut y, mut at)) = best else {
        return Ok((DVector::zeros(dims), DMatrix::identity(dims, dims)));
    };
    let mut radius: f64 = 1.0;
    for _ in 0..200 {
        if !at.g.iter().all(|v| v.is_finite()) || !at.h.iter().all(|v| v.is_finite()) {
            break;
        }
        let (mut step, newton) = ascent_step(&at);
        if newton && at.g.dot(&step) < 1e-20 {
            break;
        }
        let norm = step.norm();
        let clipped = norm > radius;
        if clipped {
            step *= radius / norm;
        }
        let mut moved = 0.0;
        let mut full = true;
        for _ in 0..60 {
            let mut yn = &y + &step;
            for (v, map) in yn.iter_mut().zip(maps) {
                let (lo, hi) = map.range();
                *v = v.clamp(lo, hi);
            }
            let v = local(p, d, fixed, maps, &yn)?;
            if v.q.is_finite() && v.q > at.q {
                moved = (&yn - &y).norm();
                (y, at) = (yn, v);
                break;
            }
            step /= 2.0;
            full = false;
        }
        if moved == 0.0 {
            break;
        }
        radius = if full && clipped {
            radius * 4.0
        } else {
            2.0 * moved
        };
    }
    Ok((y, -at.h))
}

/// `q`, its gradient and Hessian in `y`.
struct Local {
    q: f64,
    g: DVector<f64>,
    h: DMatrix<f64>,
}

/// [`Local`] at `y`, from the exact derivatives of the log-density in `x` (dual numbers) and
/// the maps: `∂ᵢq = ∂ᵢL xᵢ' + (ln xᵢ')'`, `∂ᵢⱼq = ∂ᵢⱼL xᵢ' xⱼ' + δᵢⱼ (∂ᵢL xᵢ'' + (ln xᵢ')'')`.
fn local(
    p: &Problem<'_>,
    d: usize,
    fixed: &[(f64, f64)],
    maps: &[Map],
    y: &DVector<f64>,
) -> Result<Local, ExpectError> {
    let dims = maps.len();
    let data = &p.model.data;
    let mut env: Env<f64> = p.model.consts.iter().copied().collect();
    for (par, v) in p.model.params.iter().zip(&p.params) {
        env.insert(par.name, *v);
    }
    for (var, v) in data.iter().zip(fixed) {
        env.insert(var.name, v.0);
    }
    let mut dx = Vec::with_capacity(dims);
    for (i, map) in maps.iter().enumerate() {
        let (x, _, lj) = map.point(y[i]);
        env.insert(data[d + i].name, x);
        dx.push(lj.exp());
    }
    let names: Vec<egg::Symbol> = data[d..].iter().map(|v| v.name).collect();
    let (l, lg, lh) = crate::eval::hessian(&p.model.logp, &names, &env)?;
    if l.is_nan() || l == f64::INFINITY {
        return Err(p.not_finite(None, &env_prefix(fixed, maps, y), last_x(maps, y)));
    }
    let mut q = l;
    let mut g = DVector::zeros(dims);
    let mut h = DMatrix::zeros(dims, dims);
    for i in 0..dims {
        let (qi, gi, hii) = maps[i].chain(y[i], (l, lg[i], lh[(i, i)]));
        q += qi - l;
        g[i] = gi;
        h[(i, i)] = hii;
        for j in 0..i {
            let v = lh[(i, j)] * dx[i] * dx[j];
            h[(i, j)] = v;
            h[(j, i)] = v;
        }
    }
    Ok(Local { q, g, h })
}

/// The outer values followed by the cubature variables but the last, as `fixed` is for
/// [`Problem::not_finite`].
fn env_prefix(fixed: &[(f64, f64)], maps: &[Map], y: &DVector<f64>) -> Vec<(f64, f64)> {
    let mut all = fixed.to_vec();
    for (i, map) in maps.iter().enumerate().take(maps.len() - 1) {
        let (x, c, _) = map.point(y[i]);
        all.push((x, c));
    }
    all
}

/// The value of the last cubature variable.
fn last_x(maps: &[Map], y: &DVector<f64>) -> f64 {
    maps[maps.len() - 1].point(y[maps.len() - 1]).0
}

/// An uphill step: Newton's `(−H)^{−1} g` when `−H` is positive definite (then `true`),
/// else `(−H + λI)^{−1} g` with the smallest shift `λ` (in powers of 10) that makes it so.
fn ascent_step(at: &Local) -> (DVector<f64>, bool) {
    let a = -&at.h;
    if let Some(ch) = a.clone().cholesky() {
        return (ch.solve(&at.g), true);
    }
    let size = a.diagonal().iter().fold(1e-12f64, |m, v| m.max(v.abs()));
    let mut lambda = 1e-8 * size;
    for _ in 0..40 {
        let shifted = &a + DMatrix::identity(a.nrows(), a.ncols()) * lambda;
        if let Some(ch) = shifted.cholesky() {
            return (ch.solve(&at.g), false);
        }
        lambda *= 10.0;
    }
    (at.g.clone(), false)
}

/// `L` with `L Lᵀ = (−H)^{−1}` (`L = R^{−T}` for `−H = R Rᵀ`) and `ln det L`; where `−H` is
/// not positive definite (a flat or non-smooth top), the diagonal scales `1/√(−Hᵢᵢ)`, or 1.
fn rotation(neg_h: &DMatrix<f64>) -> (DMatrix<f64>, f64) {
    let n = neg_h.nrows();
    if let Some(ch) = neg_h.clone().cholesky() {
        let r = ch.l();
        if let Some(inv) = r.clone().try_inverse() {
            let log_det = -r.diagonal().iter().map(|v| v.ln()).sum::<f64>();
            if log_det.is_finite() {
                return (inv.transpose(), log_det);
            }
        }
    }
    let scales: Vec<f64> = (0..n)
        .map(|i| {
            let v = neg_h[(i, i)];
            if v > 0.0 && v.is_finite() {
                1.0 / v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let log_det = scales.iter().map(|s| s.ln()).sum();
    (DMatrix::from_diagonal(&DVector::from_vec(scales)), log_det)
}

/// One node of a difference rule `Δ_ℓ`: its key (`t · 2^bits`), weight and `u`.
#[derive(Debug, Clone, Copy)]
struct RuleNode {
    key: i16,
    weight: f64,
    u: f64,
}

/// The state of one sparse-grid cubature.
struct Grid {
    /// First cubature variable.
    d: usize,
    /// Values (and complements) of the outer variables.
    fixed: Vec<(f64, f64)>,
    tape: Tape,
    n_out: usize,
    maps: Vec<Map>,
    /// Mode in `y`.
    m: DVector<f64>,
    /// `y = m + L u`.
    l: DMatrix<f64>,
    /// Reference log-weight (at the mode).
    c: f64,
    /// Range of `t` of each coordinate.
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// The rules of each coordinate.
    warps: Vec<Warp>,
    /// Never choose [`Warp::Gauss`] (after it failed to converge).
    heavy_only: bool,
    /// Keys are `t · 2^bits`, integers at every level.
    bits: i32,
    /// Point (keys per coordinate) → its index in `terms`.
    cache: HashMap<Box<[i16]>, usize>,
    /// `n_out` terms `e^{lw − c} f_k` per point.
    terms: Vec<f64>,
    /// Difference rules by (coordinate, level).
    rules: HashMap<(usize, usize), Vec<RuleNode>>,
}

impl Grid {
    fn dims(&self) -> usize {
        self.maps.len()
    }

    /// The rule `Q_ℓ` of coordinate `i`: `(key, weight, u)`.
    fn rule(&self, i: usize, level: usize) -> Vec<RuleNode> {
        if level == 0 {
            let w = (2.0 * std::f64::consts::PI).sqrt();
            return vec![RuleNode {
                key: 0,
                weight: w,
                u: 0.0,
            }];
        }
        match self.warps[i] {
            Warp::Gauss => gauss_hermite((1 << level) + 1)
                .into_iter()
                .enumerate()
                .map(|(j, (u, weight))| RuleNode {
                    // Rules of different levels share only the node 0.
                    key: if u == 0.0 {
                        0
                    } else {
                        (1000 + 64 * level + j) as i16
                    },
                    weight,
                    u,
                })
                .collect(),
            Warp::Heavy => {
                let h = 2f64.powi(1 - level as i32);
                let first = (self.lo[i] / h).ceil() as i64;
                let last = (self.hi[i] / h).floor() as i64;
                (first..=last)
                    .map(|j| {
                        let t = j as f64 * h;
                        let (u, du) = node(t);
                        RuleNode {
                            key: (t * 2f64.powi(self.bits)).round() as i16,
                            weight: h * du,
                            u,
                        }
                    })
                    .collect()
            }
        }
    }

    /// The finest level of coordinate `i`.
    fn max_level(&self, i: usize) -> usize {
        match self.warps[i] {
            Warp::Gauss => GAUSS_LEVELS,
            Warp::Heavy => self.bits as usize + 1,
        }
    }

    /// The difference rule `Δ_ℓ = Q_ℓ − Q_{ℓ−1}` of coordinate `i`.
    fn delta(&mut self, i: usize, level: usize) -> Vec<RuleNode> {
        if let Some(r) = self.rules.get(&(i, level)) {
            return r.clone();
        }
        let mut nodes = self.rule(i, level);
        if level > 0 {
            for old in self.rule(i, level - 1) {
                match nodes.iter_mut().find(|n| n.key == old.key) {
                    Some(n) => n.weight -= old.weight,
                    None => nodes.push(RuleNode {
                        weight: -old.weight,
                        ..old
                    }),
                }
            }
        }
        self.rules.insert((i, level), nodes.clone());
        nodes
    }

    /// `(x, 1 − x)` per coordinate and `Σ ln|dx/dy|` at `u`, or `None` outside the ranges of
    /// the maps.
    fn point(&self, u: &[f64]) -> Option<(Vec<(f64, f64)>, f64)> {
        let mut xs = Vec::with_capacity(u.len());
        let mut lj = 0.0;
        for (i, map) in self.maps.iter().enumerate() {
            let y = self.m[i] + (0..u.len()).map(|j| self.l[(i, j)] * u[j]).sum::<f64>();
            let (lo, hi) = map.range();
            if !(y.is_finite() && y >= lo && y <= hi) {
                return None;
            }
            let (x, c, j) = map.point(y);
            xs.push((x, c));
            lj += j;
        }
        Some((xs, lj))
    }

    /// The log-weights `ln p + Σ ln|dx/dy|` at the points `us` (−∞ outside the maps).
    fn log_weights(
        &mut self,
        p: &mut Problem<'_>,
        us: &[Vec<f64>],
    ) -> Result<Vec<f64>, ExpectError> {
        let (lws, _) = self.evaluate(p, us)?;
        Ok(lws)
    }

    /// Evaluates the tape at the points `us`: their log-weights and `n_out` terms
    /// `e^{lw − c} f_k` each (zero where the weight is negligible); errors where the
    /// log-density is NaN or `+∞`, or (main tape) an integrand is not finite at a significant
    /// weight.
    fn evaluate(
        &mut self,
        p: &mut Problem<'_>,
        us: &[Vec<f64>],
    ) -> Result<(Vec<f64>, Vec<f64>), ExpectError> {
        let dims = self.dims();
        let n_out = self.n_out;
        let n_compiled = p.n_compiled(self.tape);
        if p.evaluations + us.len() > p.q.max_points {
            return Err(over_budget(
                p,
                format!("the sparse grid over {dims} continuous variables ran out of points"),
            ));
        }
        let mut lws = vec![f64::NEG_INFINITY; us.len()];
        let mut terms = vec![0.0; us.len() * n_out];
        // The points inside the maps, by coordinate.
        let mut inside = Vec::with_capacity(us.len());
        let mut cols = vec![Vec::with_capacity(us.len()); dims];
        let mut comps = vec![Vec::with_capacity(us.len()); dims];
        let mut ljs = Vec::with_capacity(us.len());
        for (i, u) in us.iter().enumerate() {
            if let Some((xs, lj)) = self.point(u) {
                inside.push(i);
                for (k, (x, c)) in xs.into_iter().enumerate() {
                    cols[k].push(x);
                    comps[k].push(c);
                }
                ljs.push(lj);
            }
        }
        let n = inside.len();
        if n == 0 {
            return Ok((lws, terms));
        }
        let n_data = p.supports.len();
        // Each point is evaluated by the tape of its halves (a unit variable with `1 − x < x`
        // is read through its complement), so points are grouped by that mask.
        let mut fixed_mask = 0u64;
        for (j, v) in self.fixed.iter().enumerate() {
            if let Some(b) = p.bit[j].filter(|_| v.1 < v.0) {
                fixed_mask |= 1 << b;
            }
        }
        let masks: Vec<u64> = (0..n)
            .map(|k| {
                let mut m = fixed_mask;
                for j in self.d..n_data {
                    let (x, c) = (cols[j - self.d][k], comps[j - self.d][k]);
                    if let Some(b) = p.bit[j].filter(|_| c < x) {
                        m |= 1 << b;
                    }
                }
                m
            })
            .collect();
        let mut groups: Vec<u64> = masks.clone();
        groups.sort_unstable();
        groups.dedup();
        let n_outputs = p.n_compiled(self.tape);
        p.out.clear();
        p.out.resize(n_outputs * n, 0.0);
        let mut buffer: Vec<f64> = Vec::new();
        for mask in groups {
            let members: Vec<usize> = (0..n).filter(|k| masks[*k] == mask).collect();
            let sub = |v: &[f64]| members.iter().map(|k| v[*k]).collect::<Vec<f64>>();
            let sub_cols: Vec<Vec<f64>> = cols.iter().map(|c| sub(c)).collect();
            let sub_comps: Vec<Vec<f64>> = comps.iter().map(|c| sub(c)).collect();
            let compiled = p.tapes.get(self.tape, mask)?;
            let mut inputs: Vec<Input<'_>> = Vec::with_capacity(compiled.vars().len());
            for j in 0..n_data {
                inputs.push(if j >= self.d {
                    Input::Varying(&sub_cols[j - self.d])
                } else {
                    Input::Uniform(self.fixed[j].0)
                });
            }
            for j in 0..n_data {
                if p.complement[j].is_some() {
                    inputs.push(if j >= self.d {
                        Input::Varying(&sub_comps[j - self.d])
                    } else {
                        Input::Uniform(self.fixed[j].1)
                    });
                }
            }
            inputs.extend(p.uniform.iter().map(|v| Input::Uniform(*v)));
            let m = members.len();
            buffer.clear();
            buffer.resize(n_outputs * m, 0.0);
            compiled.eval_batch(&inputs, &mut p.scratch[self.tape as usize], &mut buffer)?;
            for out_k in 0..n_outputs {
                for (i, k) in members.iter().enumerate() {
                    p.out[out_k * n + k] = buffer[out_k * m + i];
                }
            }
        }
        p.evaluations += n;
        super::super::progress_inc(n);
        let point_of = |k: usize| -> (Vec<(f64, f64)>, f64) {
            let mut prefix = self.fixed.clone();
            for j in 0..dims - 1 {
                prefix.push((cols[j][k], comps[j][k]));
            }
            (prefix, cols[dims - 1][k])
        };
        for (k, &i) in inside.iter().enumerate() {
            let lp = p.out[k];
            if lp.is_nan() || lp == f64::INFINITY {
                let (prefix, x) = point_of(k);
                return Err(p.not_finite(None, &prefix, x));
            }
            let lw = lp + ljs[k];
            lws[i] = lw;
            let matters = lw - self.c > NEGLIGIBLE;
            let significant = lw - self.c > SIGNIFICANT;
            let w = if matters { (lw - self.c).exp() } else { 0.0 };
            let row = &mut terms[i * n_out..(i + 1) * n_out];
            row[0] = w;
            for (out_k, slot) in row.iter_mut().enumerate().take(n_compiled).skip(1) {
                let v = p.out[out_k * n + k];
                if !v.is_finite() && significant && self.tape == Tape::Main {
                    let (prefix, x) = point_of(k);
                    return Err(p.not_finite(Some(out_k - 1), &prefix, x));
                }
                *slot = if matters && v.is_finite() { w * v } else { 0.0 };
            }
            if self.tape == Tape::Main && !p.extra_out.is_empty() {
                let (prefix, x) = point_of(k);
                let cx = comps[dims - 1][k];
                p.eval_extra(&prefix, (x, cx), matters, significant)?;
                for (slot, v) in row[n_compiled..].iter_mut().zip(&p.extra_out) {
                    *slot = w * v;
                }
            }
        }
        Ok((lws, terms))
    }

    /// The rules of each coordinate: [`Warp::Gauss`] where the log-weight along the axis of
    /// `u` through the mode is `−u²/2` within [`GAUSS_LIKE`] at `u = ±1.5, ±3, ±4.5` and
    /// falls at least as fast at `u = ±8, ±12, ±16`, else
    /// [`Warp::Heavy`] with the range of `t` where some output's term `e^{lw − c} |f_k| u'(t)`
    /// on the axis is above `NEGLIGIBLE_TERM` of its largest, widened by one step (and at
    /// least `[−1, 1]`, the nodes of level 1).
    fn find_ranges(&mut self, p: &mut Problem<'_>) -> Result<(), ExpectError> {
        let dims = self.dims();
        for i in 0..dims {
            let axis = |v: f64| {
                let mut u = vec![0.0; dims];
                u[i] = v;
                u
            };
            // Normal near the mode, and tails no heavier than normal farther out (where the
            // Gauss–Hermite nodes, |u| ≤ 10, do not reach).
            let near = [-4.5, -3.0, -1.5, 1.5, 3.0, 4.5];
            let far = [-16.0, -12.0, -8.0, 8.0, 12.0, 16.0];
            let us: Vec<Vec<f64>> = near.iter().chain(&far).map(|v| axis(*v)).collect();
            let lws = self.log_weights(p, &us)?;
            let drop = |lw: f64| self.c - lw;
            let gauss = !self.heavy_only
                && near.iter().zip(&lws).all(|(u, lw)| {
                    let want = u * u / 2.0;
                    (drop(*lw) - want).abs() <= GAUSS_LIKE * want
                })
                && far
                    .iter()
                    .zip(&lws[near.len()..])
                    .all(|(u, lw)| drop(*lw) >= (1.0 - GAUSS_LIKE) * u * u / 2.0);
            if gauss {
                self.warps[i] = Warp::Gauss;
                continue;
            }
            self.warps[i] = Warp::Heavy;
            let steps = (T_MAX / RANGE_STEP).round() as i32;
            let ts: Vec<f64> = (-steps..=steps)
                .map(|j| f64::from(j) * RANGE_STEP)
                .collect();
            let us: Vec<Vec<f64>> = ts.iter().map(|t| axis(node(*t).0)).collect();
            let (_, terms) = self.evaluate(p, &us)?;
            let n_out = self.n_out;
            let scaled = |j: usize, k: usize| (terms[j * n_out + k] * node(ts[j]).1).abs();
            let mut largest = vec![0.0f64; n_out];
            for j in 0..ts.len() {
                for (k, l) in largest.iter_mut().enumerate() {
                    *l = l.max(scaled(j, k));
                }
            }
            let sig: Vec<f64> = (0..ts.len())
                .filter(|&j| {
                    (0..n_out)
                        .any(|k| largest[k] > 0.0 && scaled(j, k) > NEGLIGIBLE_TERM * largest[k])
                })
                .map(|j| ts[j])
                .collect();
            let lo = sig.iter().copied().fold(0.0f64, f64::min) - RANGE_STEP;
            let hi = sig.iter().copied().fold(0.0f64, f64::max) + RANGE_STEP;
            self.lo[i] = lo.clamp(-T_MAX, -1.0);
            self.hi[i] = hi.clamp(1.0, T_MAX);
        }
        Ok(())
    }

    /// `Σ (Π weights) · terms` over the tensor grid of the difference rules of `index`:
    /// `n_out` signed sums, then `n_out` sums of `|terms|` (the same rule applied to
    /// `|p g_k|`, for the scale of the tolerance).
    fn contribution(
        &mut self,
        p: &mut Problem<'_>,
        index: &[usize],
    ) -> Result<Vec<f64>, ExpectError> {
        let dims = self.dims();
        let rules: Vec<Vec<RuleNode>> = (0..dims).map(|i| self.delta(i, index[i])).collect();
        let total: usize = rules.iter().map(Vec::len).product();
        // At least `total − (points so far)` of them are new.
        if total.saturating_sub(self.cache.len()) > p.q.max_points.saturating_sub(p.evaluations) {
            return Err(over_budget(
                p,
                format!(
                    "the sparse grid over {dims} continuous variables needs a tensor grid of {total} points"
                ),
            ));
        }
        // The points not yet evaluated.
        // (The nodes of one rule have distinct keys, so each point comes once.)
        let mut pending_keys: Vec<Box<[i16]>> = Vec::new();
        let mut pending_us: Vec<Vec<f64>> = Vec::new();
        let mut key: Vec<i16> = vec![0; dims];
        for_each_node(&rules, |nodes| {
            for (slot, n) in key.iter_mut().zip(nodes) {
                *slot = n.key;
            }
            if !self.cache.contains_key(key.as_slice()) {
                pending_keys.push(key.as_slice().into());
                pending_us.push(nodes.iter().map(|n| n.u).collect());
            }
        });
        for (keys, us) in pending_keys.chunks(CHUNK).zip(pending_us.chunks(CHUNK)) {
            let (_, terms) = self.evaluate(p, us)?;
            for (j, key) in keys.iter().enumerate() {
                let at = self.terms.len() / self.n_out;
                self.terms
                    .extend_from_slice(&terms[j * self.n_out..(j + 1) * self.n_out]);
                self.cache.insert(key.clone(), at);
            }
        }
        let n_out = self.n_out;
        let mut sums = vec![0.0; 2 * n_out];
        for_each_node(&rules, |nodes| {
            let mut w = 1.0;
            for (slot, n) in key.iter_mut().zip(nodes) {
                *slot = n.key;
                w *= n.weight;
            }
            let at = self.cache[key.as_slice()];
            let row = &self.terms[at * n_out..(at + 1) * n_out];
            for k in 0..n_out {
                sums[k] += w * row[k];
                sums[n_out + k] += w * row[k].abs();
            }
        });
        Ok(sums)
    }

    /// The dimension-adaptive refinement: from the index 0, repeatedly take the active index
    /// with the largest contribution (relative to the tolerance) and add its admissible
    /// forward neighbours, until the contributions of the active indices are within the
    /// tolerance of every output.
    fn refine(
        &mut self,
        p: &mut Problem<'_>,
        rel: f64,
        log_scale: f64,
    ) -> Result<Scaled, ExpectError> {
        let dims = self.dims();
        let n_out = self.n_out;
        let rel = rel.max(4.0 * f64::EPSILON);
        let abs = if p.q.abs_tol > 0.0 {
            p.q.abs_tol * (-log_scale).exp()
        } else {
            0.0
        };
        let mut total = vec![0.0; 2 * n_out];
        let mut old: HashSet<Vec<usize>> = HashSet::new();
        let mut active: Vec<(Vec<usize>, Vec<f64>)> = Vec::new();
        // Error left behind by indices that cannot be refined further (at the finest level).
        let mut stuck = vec![0.0; n_out];
        let zero = vec![0; dims];
        let c0 = self.contribution(p, &zero)?;
        add(&mut total, &c0);
        active.push((zero, c0));
        loop {
            let tol: Vec<f64> = (0..n_out)
                .map(|k| abs.max(rel * total[n_out + k].abs()))
                .collect();
            let mut err = stuck.clone();
            for (_, c) in &active {
                for k in 0..n_out {
                    err[k] += c[k].abs();
                }
            }
            // Every coordinate refined to level 2 at least before the estimate is trusted.
            let coarse = active.iter().any(|(ix, _)| ix.iter().sum::<usize>() < 2);
            let done = !coarse && (0..n_out).all(|k| err[k] <= tol[k]);
            if done || active.is_empty() {
                let converged: Vec<bool> = (0..n_out).map(|k| err[k] <= tol[k]).collect();
                if !done {
                    let worst = (0..n_out)
                        .map(|k| err[k] / total[n_out + k].abs().max(f64::MIN_POSITIVE))
                        .fold(0.0f64, f64::max);
                    return Err(not_converged(p, dims, worst, rel));
                }
                return Ok(Scaled {
                    log_scale,
                    values: total[..n_out].to_vec(),
                    errors: err,
                    l1: total[n_out..].iter().map(|v| v.abs()).collect(),
                    converged,
                });
            }
            let priority = |ix: &[usize], c: &[f64]| -> f64 {
                if ix.iter().sum::<usize>() < 2 {
                    return f64::INFINITY;
                }
                (0..n_out)
                    .map(|k| {
                        let a = c[k].abs();
                        if tol[k] > 0.0 {
                            a / tol[k]
                        } else if a > 0.0 {
                            f64::MAX
                        } else {
                            0.0
                        }
                    })
                    .fold(0.0f64, f64::max)
            };
            let pick = (0..active.len())
                .max_by(|&a, &b| {
                    priority(&active[a].0, &active[a].1)
                        .total_cmp(&priority(&active[b].0, &active[b].1))
                })
                .unwrap_or(0);
            let (ix, c) = active.swap_remove(pick);
            old.insert(ix.clone());
            for i in 0..dims {
                let mut next = ix.clone();
                next[i] += 1;
                if next[i] > self.max_level(i) {
                    for k in 0..n_out {
                        stuck[k] += c[k].abs();
                    }
                    continue;
                }
                let admissible = (0..dims).all(|j| {
                    next[j] == 0 || {
                        let mut back = next.clone();
                        back[j] -= 1;
                        old.contains(&back)
                    }
                });
                if admissible {
                    let cn = self.contribution(p, &next)?;
                    add(&mut total, &cn);
                    active.push((next, cn));
                }
            }
        }
    }
}

/// `total += c`, entry by entry.
fn add(total: &mut [f64], c: &[f64]) {
    for (t, v) in total.iter_mut().zip(c) {
        *t += v;
    }
}

/// [`ExpectError::NotConverged`] for a sparse grid that reached its finest level.
fn not_converged(p: &Problem<'_>, dims: usize, achieved: f64, rel: f64) -> ExpectError {
    ExpectError::NotConverged {
        what: format!("the sparse grid over {dims} data variables"),
        achieved: if achieved.is_nan() {
            f64::INFINITY
        } else {
            achieved
        },
        tol: rel,
        at: point_text(&p.model.param_names(), &p.params),
    }
}

/// Calls `f` with every combination of one node per rule (an odometer, the last fastest).
fn for_each_node(rules: &[Vec<RuleNode>], mut f: impl FnMut(&[RuleNode])) {
    if rules.iter().any(Vec::is_empty) {
        return;
    }
    let mut at = vec![0usize; rules.len()];
    let mut nodes: Vec<RuleNode> = rules.iter().map(|r| r[0]).collect();
    loop {
        f(&nodes);
        let mut i = rules.len();
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            at[i] += 1;
            if at[i] < rules[i].len() {
                nodes[i] = rules[i][at[i]];
                break;
            }
            at[i] = 0;
            nodes[i] = rules[i][0];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_rules_telescope_to_the_finest_rule() {
        let mut g = Grid {
            d: 0,
            fixed: Vec::new(),
            tape: Tape::Main,
            n_out: 1,
            maps: vec![Map::Real],
            m: DVector::zeros(1),
            l: DMatrix::identity(1, 1),
            c: 0.0,
            lo: vec![-2.0],
            hi: vec![2.5],
            warps: vec![Warp::Heavy],
            heavy_only: false,
            bits: 9,
            cache: HashMap::new(),
            terms: Vec::new(),
            rules: HashMap::new(),
        };
        // Σ_{ℓ ≤ 6} Δ_ℓ = Q_6, node by node.
        let mut weights: HashMap<i16, f64> = HashMap::new();
        for level in 0..=6 {
            for n in g.delta(0, level) {
                *weights.entry(n.key).or_default() += n.weight;
            }
        }
        for n in g.rule(0, 6) {
            assert!((weights[&n.key] - n.weight).abs() < 1e-12 * n.weight.abs().max(1.0));
        }
        // ∫ e^{−u²/2} du = √(2π) by Q_6 (h = 1/32).
        let q4: f64 = g
            .rule(0, 6)
            .iter()
            .map(|n| n.weight * (-n.u * n.u / 2.0).exp())
            .sum();
        assert!(
            (q4 - (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-10,
            "{q4}"
        );
    }

    #[test]
    fn gauss_hermite_rules_are_exact_for_normal_moments() {
        let root = (2.0 * std::f64::consts::PI).sqrt();
        for n in [3usize, 5, 9, 17, 33] {
            let rule = gauss_hermite(n);
            // ∫ u^{2k} e^{−u²/2} du = (2k − 1)!! √(2π), exact up to degree 2n − 1
            let mut double_factorial = 1.0;
            // (degree ≤ 16: the weights of the outermost nodes, from eigenvectors, carry
            // rounding that high moments magnify)
            for k in 0..n.min(9) {
                if k > 0 {
                    double_factorial *= (2 * k - 1) as f64;
                }
                let got: f64 = rule
                    .iter()
                    .map(|(u, w)| w * u.powi(2 * k as i32) * (-u * u / 2.0).exp())
                    .sum();
                let want = double_factorial * root;
                assert!(
                    (got - want).abs() <= 1e-11 * want,
                    "n={n} k={k}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_odometer_visits_every_combination_once() {
        let r = |n: usize| {
            (0..n)
                .map(|k| RuleNode {
                    key: k as i16,
                    weight: 1.0,
                    u: 0.0,
                })
                .collect::<Vec<_>>()
        };
        let mut seen = HashSet::new();
        for_each_node(&[r(2), r(3), r(4)], |nodes| {
            assert!(seen.insert(nodes.iter().map(|n| n.key).collect::<Vec<_>>()));
        });
        assert_eq!(seen.len(), 24);
    }
}
