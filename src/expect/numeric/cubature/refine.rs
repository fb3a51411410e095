//! The dimension-adaptive refinement of the sparse grid: contributions of the tensor
//! products of difference rules, added where they are largest until the active ones are
//! within the tolerance.

use std::collections::HashSet;

use super::super::problem::{Problem, over_budget};
use super::grid::Grid;
use super::rules::{RuleNode, for_each_node};
use crate::expect::ExpectError;
use crate::expect::error::point_text;
use crate::expect::quadrature::Scaled;

/// Points evaluated per call of the compiled tape.
const CHUNK: usize = 2048;

impl Grid {
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
    pub(super) fn refine(
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
