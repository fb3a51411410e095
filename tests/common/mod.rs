//! Shared proptest strategies (`arb_*`) and helpers for the integration tests.
//!
//! Every generated expression uses the names [`VARS`] only. Operators with restricted domains
//! (`ln`, `sqrt`, `/`, `lgamma`, …) are included: a test evaluates first and discards points
//! where the value is not finite (`prop_assume!`), see [`env_at`] and [`eval_finite`].

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use fisher_geometry::Expr;
use fisher_geometry::eval::{Env, eval_f64};
use fisher_geometry::expr::{
    abs, cos, digamma, exp, lgamma, ln, log1p, polygamma, sigmoid, sin, sqrt, trigamma,
};
use proptest::prelude::*;

/// The variable names of generated expressions.
pub const VARS: [&str; 3] = ["x", "y", "z"];

/// Maximum depth of a generated tree.
pub const MAX_DEPTH: u32 = 6;

/// Target number of nodes of a generated tree.
pub const DESIRED_SIZE: u32 = 40;

/// Largest integer exponent `k` in generated powers `e ^ k` (and `−k`).
pub const MAX_INT_EXPONENT: i32 = 3;

/// Largest `|c|` of generated numeric literals, which are multiples of ½.
pub const MAX_LITERAL: f64 = 4.0;

/// Largest order `n` of generated `polygamma(n, e)`.
pub const MAX_POLYGAMMA_ORDER: u32 = 3;

/// A leaf: one of [`VARS`], a literal multiple of ½ in `[−MAX_LITERAL, MAX_LITERAL]`, or `pi`.
pub fn arb_leaf() -> impl Strategy<Value = Expr> {
    let halves = (2.0 * MAX_LITERAL) as i32;
    prop_oneof![
        4 => prop::sample::select(VARS.to_vec()).prop_map(Expr::sym),
        2 => (-halves..=halves).prop_map(|n| Expr::num(f64::from(n) / 2.0)),
        1 => Just(Expr::pi()),
    ]
}

/// A random expression tree over [`VARS`] using every operator of the language: arithmetic,
/// powers with constant integer exponents and with expression exponents, `exp`, `ln`,
/// `log1p`, `sqrt`, `sin`, `cos`, `sigmoid`, `abs`, `lgamma`, `digamma`, `trigamma` and
/// `polygamma(n, ·)` with `n ≤ MAX_POLYGAMMA_ORDER`. Values may be NaN or infinite at a given
/// point: callers `prop_assume!` finiteness.
pub fn arb_expr() -> impl Strategy<Value = Expr> {
    arb_leaf().prop_recursive(MAX_DEPTH, DESIRED_SIZE, 2, |inner| {
        let pair = (inner.clone(), inner.clone());
        prop_oneof![
            3 => pair.clone().prop_map(|(a, b)| a + b),
            2 => pair.clone().prop_map(|(a, b)| a - b),
            3 => pair.clone().prop_map(|(a, b)| a * b),
            2 => pair.clone().prop_map(|(a, b)| a / b),
            2 => (inner.clone(), -MAX_INT_EXPONENT..=MAX_INT_EXPONENT)
                .prop_map(|(a, k)| a.pow(k)),
            1 => pair.prop_map(|(a, b)| a.pow(b)),
            1 => inner.clone().prop_map(|a| -a),
            1 => inner.clone().prop_map(exp),
            1 => inner.clone().prop_map(ln),
            1 => inner.clone().prop_map(log1p),
            1 => inner.clone().prop_map(sqrt),
            1 => inner.clone().prop_map(sin),
            1 => inner.clone().prop_map(cos),
            1 => inner.clone().prop_map(sigmoid),
            1 => inner.clone().prop_map(abs),
            1 => inner.clone().prop_map(lgamma),
            1 => inner.clone().prop_map(digamma),
            1 => inner.clone().prop_map(trigamma),
            1 => (0..=MAX_POLYGAMMA_ORDER, inner).prop_map(|(n, a)| polygamma(n, a)),
        ]
    })
}

/// A point `(x, y, z)` with coordinates in `lo..hi`.
pub fn arb_point(lo: f64, hi: f64) -> impl Strategy<Value = [f64; 3]> {
    [lo..hi, lo..hi, lo..hi]
}

/// The environment binding [`VARS`] to `point`.
pub fn env_at(point: [f64; 3]) -> Env<f64> {
    VARS.iter().copied().zip(point).collect()
}

/// The value of `expr` at `point` if it evaluates and is finite.
pub fn eval_finite(expr: &Expr, point: [f64; 3]) -> Option<f64> {
    eval_f64(expr, &env_at(point))
        .ok()
        .filter(|v| v.is_finite())
}

/// Largest `|value|` of a subexpression accepted by [`all_tame`].
pub const MAX_INTERMEDIATE: f64 = 1e6;

/// Whether every subexpression of `expr` (not only its value) is finite and at most
/// [`MAX_INTERMEDIATE`] in magnitude at `point`: the precondition for comparing derivatives.
/// An infinite intermediate that the expression absorbs (`x^ln(0)`, `trigamma(lgamma(-1))`)
/// has no meaningful derivative, and a huge one (`x·y/(sin(pi)·y)`, with `sin(pi) ≈ 1e-16`)
/// makes the rounding of exact derivatives exceed any fixed tolerance.
pub fn all_tame(expr: &Expr, point: [f64; 3]) -> bool {
    (0..expr.nodes().len()).all(|i| {
        eval_finite(&expr.subexpr(egg::Id::from(i)), point)
            .is_some_and(|v| v.abs() <= MAX_INTERMEDIATE)
    })
}

/// A central difference `(f(t + h) − f(t − h))/2h` of `f` at `t`, and whether it is
/// trustworthy: the estimates with steps `h` and `h/2` agree to `1e−6` relative (they do not
/// near a singularity or a kink) and the rounding error `ε·|f|/h` is small (it is not when a
/// large term swamps the variation, `y + digamma(1e-16)`). `None` when not trustworthy.
pub fn central_difference(f: impl Fn(f64) -> Option<f64>, t: f64) -> Option<f64> {
    let h = 1e-4 * t.abs().max(1.0);
    let d = |h: f64| Some((f(t + h)? - f(t - h)?) / (2.0 * h));
    let (d1, d2) = (d(h)?, d(h / 2.0)?);
    // rounding error of the difference quotient: ε·|f|/h
    let scale = [t - h, t, t + h]
        .into_iter()
        .filter_map(&f)
        .fold(0.0, |m: f64, v| m.max(v.abs()));
    let rounding = f64::EPSILON * scale / h;
    let fine = d1.is_finite()
        && d2.is_finite()
        && (d1 - d2).abs() <= 1e-6 * (1.0 + d2.abs())
        && rounding <= 1e-7 * (1.0 + d2.abs());
    // Richardson extrapolation: the O(h²) error terms cancel
    fine.then_some((4.0 * d2 - d1) / 3.0)
}
