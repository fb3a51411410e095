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
//! The number of points is bounded by [`Quadrature::max_points`](crate::expect::Quadrature):
//! past it the expectation is refused with an error naming the dimension and the budget,
//! rather than returned with an accuracy it does not have.
//!
//! The files: [`laplace`] (the joint mode and the rotation), [`rules`] (the one-dimensional
//! rules of a coordinate), [`grid`] (the points of the grid and their terms) and [`refine`]
//! (the dimension-adaptive refinement).

mod grid;
mod laplace;
mod refine;
mod rules;

use std::collections::HashMap;

use grid::Grid;
use laplace::{mode, rotation};
use rules::Warp;

use super::prepared::Tape;
use super::problem::Problem;
use crate::expect::ExpectError;
use crate::expect::quadrature::Scaled;
use crate::model::Bijector;
use crate::model::Support;

/// Fewest data variables (continuous or discrete) for which the continuous ones at the end
/// of the declaration are integrated by the sparse grid rather than nested 1-D rules.
pub(super) const MIN_DIMENSION: usize = 3;

/// Finest level: steps down to `2^{−11}` in `t`.
const MAX_LEVEL: usize = 12;

/// Whether the variables `d, d+1, …` are integrated by the sparse grid: all of them are
/// continuous, at least two, and the whole integral has dimension [`MIN_DIMENSION`] or more.
pub(super) fn applies(supports: &[Support], d: usize) -> bool {
    let rest = &supports[d..];
    supports.len() >= MIN_DIMENSION
        && rest.len() >= 2
        && rest.iter().all(|s| s.bijector().is_some())
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
    let maps: Vec<Bijector> = p.supports[d..]
        .iter()
        .map(|s| s.bijector().unwrap_or(Bijector::Identity))
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
