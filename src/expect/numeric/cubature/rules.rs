//! The one-dimensional rules of a coordinate of the sparse grid: Gauss–Hermite rules for
//! coordinates close to normal, the double-exponential trapezoidal rule otherwise; and the
//! odometer over their tensor products.

use nalgebra::DMatrix;

/// The rules of one coordinate of `u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Warp {
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
pub(super) const T_MAX: f64 = 6.5;

/// Step in `t` of the search for their range.
pub(super) const RANGE_STEP: f64 = 0.25;

/// The double-exponential substitution `u(t) = sinh(π/2 · sinh t)` and `u'(t)`.
pub(super) fn node(t: f64) -> (f64, f64) {
    let half_pi = std::f64::consts::FRAC_PI_2;
    let a = half_pi * t.sinh();
    (a.sinh(), half_pi * t.cosh() * a.cosh())
}

/// The `n`-point Gauss–Hermite rule for `∫ f(u) du` with `f` close to `e^{−u²/2}`: nodes
/// `u_i`, the eigenvalues of the Jacobi matrix of the probabilists' Hermite polynomials
/// (off-diagonal `√k`), and weights `√(2π) v_{0i}² e^{u_i²/2}` from its eigenvectors.
pub(super) fn gauss_hermite(n: usize) -> Vec<(f64, f64)> {
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

/// One node of a difference rule `Δ_ℓ`: its key (`t · 2^bits`), weight and `u`.
#[derive(Debug, Clone, Copy)]
pub(super) struct RuleNode {
    pub(super) key: i16,
    pub(super) weight: f64,
    pub(super) u: f64,
}

/// Calls `f` with every combination of one node per rule (an odometer, the last fastest).
pub(super) fn for_each_node(rules: &[Vec<RuleNode>], mut f: impl FnMut(&[RuleNode])) {
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
    use std::collections::HashSet;

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
