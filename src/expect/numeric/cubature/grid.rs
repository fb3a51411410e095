//! The state of one sparse-grid cubature: the rules of each coordinate, the points of the
//! grid (mapped from `u` to the data), their terms evaluated by the tapes and cached, and the
//! ranges and kinds of the rules found along the axes.

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector};

use super::super::prepared::Tape;
use super::super::problem::{Problem, SIGNIFICANT, over_budget};
use super::rules::{RANGE_STEP, RuleNode, T_MAX, Warp, gauss_hermite, node};
use crate::eval::Input;
use crate::expect::ExpectError;
use crate::expect::quadrature::NEGLIGIBLE;
use crate::model::Bijector;

/// A coordinate is [`Warp::Gauss`] when the log-weight along its axis through the mode is
/// `−u²/2` within this fraction near the mode (see `Grid::find_ranges`).
const GAUSS_LIKE: f64 = 0.1;

/// The Gauss–Hermite rules of levels `0, 1, …`: 1, 3, 5, 9, 17, 33 points.
const GAUSS_LEVELS: usize = 5;

/// A term below this fraction of the largest term of its output along an axis lies outside
/// the range the double-exponential rules cover (the decay beyond is double-exponential).
const NEGLIGIBLE_TERM: f64 = 1e-25;

/// The state of one sparse-grid cubature.
pub(super) struct Grid {
    /// First cubature variable.
    pub(super) d: usize,
    /// Values (and complements) of the outer variables.
    pub(super) fixed: Vec<(f64, f64)>,
    pub(super) tape: Tape,
    pub(super) n_out: usize,
    pub(super) maps: Vec<Bijector>,
    /// Mode in `y`.
    pub(super) m: DVector<f64>,
    /// `y = m + L u`.
    pub(super) l: DMatrix<f64>,
    /// Reference log-weight (at the mode).
    pub(super) c: f64,
    /// Range of `t` of each coordinate.
    pub(super) lo: Vec<f64>,
    pub(super) hi: Vec<f64>,
    /// The rules of each coordinate.
    pub(super) warps: Vec<Warp>,
    /// Never choose [`Warp::Gauss`] (after it failed to converge).
    pub(super) heavy_only: bool,
    /// Keys are `t · 2^bits`, integers at every level.
    pub(super) bits: i32,
    /// Point (keys per coordinate) → its index in `terms`.
    pub(super) cache: HashMap<Box<[i16]>, usize>,
    /// `n_out` terms `e^{lw − c} f_k` per point.
    pub(super) terms: Vec<f64>,
    /// Difference rules by (coordinate, level).
    pub(super) rules: HashMap<(usize, usize), Vec<RuleNode>>,
}

impl Grid {
    pub(super) fn dims(&self) -> usize {
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
    pub(super) fn max_level(&self, i: usize) -> usize {
        match self.warps[i] {
            Warp::Gauss => GAUSS_LEVELS,
            Warp::Heavy => self.bits as usize + 1,
        }
    }

    /// The difference rule `Δ_ℓ = Q_ℓ − Q_{ℓ−1}` of coordinate `i`.
    pub(super) fn delta(&mut self, i: usize, level: usize) -> Vec<RuleNode> {
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
    pub(super) fn log_weights(
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
    pub(super) fn evaluate(
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
        crate::expect::progress::progress_inc(n);
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
    pub(super) fn find_ranges(&mut self, p: &mut Problem<'_>) -> Result<(), ExpectError> {
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
            maps: vec![Bijector::Identity],
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
}
