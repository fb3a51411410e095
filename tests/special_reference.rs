//! `lgamma`, `digamma` and `trigamma` against an independent oracle: mpmath's `loggamma`,
//! `digamma` and `psi(1, ·)` (`tests/special_reference/generate.py`), at 142 arguments from
//! 1e-300 to 1e300 that include every threshold of the piecewise schemes, with their neighbours,
//! the zeros of `ln Γ` and ψ, and negative non-integers. Then continuity across the thresholds.

use std::f64::consts::PI;

use fisher_geometry::special::{digamma, lgamma, polygamma, trigamma};

/// `(x, [(hi, lo) of ln|Γ(x)|, ψ(x), ψ₁(x)])`, the exact value being `hi + lo`.
type Row = (f64, [(f64, f64); 3]);

include!("special_reference/table.rs");

/// Bound on the relative error for `x > 0`: 2 ulp of 1 (`2 · 2⁻⁵²`); the measured worst is
/// below it.
const POSITIVE_TOL: f64 = 4.5e-16;

/// Bound for `x < 0`, relative to the sum of the magnitudes of the terms of the reflection
/// formula, which may cancel.
const NEGATIVE_TOL: f64 = 1e-15;

/// A special function of one real argument.
type Special = fn(f64) -> f64;

/// The three functions in the order of the table's columns.
const FUNCTIONS: [(&str, Special); 3] = [
    ("lgamma", lgamma),
    ("digamma", digamma),
    ("trigamma", trigamma),
];

/// `|got − (hi + lo)|`, computed without rounding away `lo`; 0 if both are the same infinity.
fn abs_error(got: f64, (hi, lo): (f64, f64)) -> f64 {
    if hi.is_infinite() {
        return if got == hi { 0.0 } else { f64::INFINITY };
    }
    ((got - hi) - lo).abs()
}

/// The terms of the reflection formula of function `column` at `x < 0`, in magnitude:
/// `ln π − ln|sin πx| − ln Γ(1 − x)`, `ψ(1 − x) − π cot πx`, `π²/sin² πx − ψ₁(1 − x)`.
fn reflection_scale(column: usize, x: f64) -> f64 {
    let s = (PI * x).sin();
    match column {
        0 => PI.ln() + s.abs().ln().abs() + lgamma(1.0 - x).abs(),
        1 => digamma(1.0 - x).abs() + (PI * (PI * x).cos() / s).abs(),
        _ => PI * PI / (s * s) + trigamma(1.0 - x),
    }
}

#[test]
fn table_covers_what_it_claims() {
    assert_eq!(TABLE.len(), 142);
    assert!(TABLE.iter().any(|r| r.0 == 1e-300) && TABLE.iter().any(|r| r.0 == 1e300));
    assert!(TABLE.iter().filter(|r| r.0 < 0.0).count() >= 10);
}

#[test]
fn positive_arguments_within_two_ulp_of_mpmath() {
    for (column, (name, f)) in FUNCTIONS.into_iter().enumerate() {
        let mut worst = (0.0, 0.0);
        for &(x, values) in TABLE.iter().filter(|r| r.0 > 0.0) {
            let want = values[column];
            let got = f(x);
            let err = if want.0 == 0.0 {
                // ln Γ(1) = ln Γ(2) = 0 exactly
                got.abs()
            } else {
                abs_error(got, want) / want.0.abs()
            };
            assert!(
                err <= POSITIVE_TOL,
                "{name}({x:e}) = {got:e}, mpmath {:e}, relative error {err:e}",
                want.0
            );
            if err > worst.0 {
                worst = (err, x);
            }
        }
        // the bound is not vacuous: somewhere the error is a visible fraction of it
        assert!(worst.0 > 0.0, "{name}: every value exact?");
    }
}

#[test]
fn negative_arguments_within_reflection_tolerance() {
    for (column, (name, f)) in FUNCTIONS.into_iter().enumerate() {
        for &(x, values) in TABLE.iter().filter(|r| r.0 < 0.0) {
            let want = values[column];
            let got = f(x);
            let scale = reflection_scale(column, x);
            let err = abs_error(got, want);
            assert!(
                err <= NEGATIVE_TOL * scale,
                "{name}({x:e}) = {got:e}, mpmath {:e}, error {err:e} vs scale {scale:e}",
                want.0
            );
        }
    }
}

#[test]
fn orders_zero_and_one_of_polygamma_are_digamma_and_trigamma() {
    for &(x, _) in TABLE {
        assert_eq!(polygamma(0, x).to_bits(), digamma(x).to_bits(), "x = {x:e}");
        assert_eq!(
            polygamma(1, x).to_bits(),
            trigamma(x).to_bits(),
            "x = {x:e}"
        );
    }
}

/// `x` moved by `k` units in the last place (`x > 0`).
fn ulps(x: f64, k: i64) -> f64 {
    f64::from_bits(x.to_bits().wrapping_add_signed(k))
}

/// Continuity across each threshold `t` of a piecewise scheme: for `a` and `b` `k` ulp either
/// side of `t`, `f(b) − f(a) = f'(t)(b − a) + ½f''(t)((b − t)² − (a − t)²)` up to the rounding
/// of the values and a negligible third-order term, so that a jump between the branches of more
/// than a few ulp fails. `d[0]`, `d[1]` are `f'` and `f''`.
fn assert_continuous(name: &str, f: Special, d: [Special; 2], thresholds: &[f64]) {
    for &t in thresholds {
        for k in [1, 2, 4, 16, 64, 256, 4096] {
            let (a, b) = (ulps(t, -k), ulps(t, k));
            let (fa, fb) = (f(a), f(b));
            // b − t and a − t are exact
            let slope = d[0](t) * (b - a) + 0.5 * d[1](t) * ((b - t).powi(2) - (a - t).powi(2));
            let jump = (fb - fa - slope).abs();
            let allowed = 4.0 * f64::EPSILON * (fa.abs() + fb.abs() + slope.abs());
            assert!(
                jump <= allowed,
                "{name} jumps at {t} (±{k} ulp): f(a) = {fa:e}, f(b) = {fb:e}, slope·Δ = {slope:e}"
            );
        }
    }
}

#[test]
fn continuous_across_thresholds() {
    // lgamma: ln Γ(1 + x) − ln x below 1, branches at 1.5 (and 0.5 below 1), 2, 3, shifts to 10
    assert_continuous(
        "lgamma",
        lgamma,
        [digamma, trigamma],
        &[0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 9.0, 10.0],
    );
    // digamma: ψ(1 + x) − 1/x below 1, [1, 2], one more shift at each integer up to 10
    assert_continuous(
        "digamma",
        digamma,
        [trigamma, |x| polygamma(2, x)],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
    );
    // trigamma: shift below 1, intervals [1, 2], [2, 4], [4, 1e10], the two-term tail above
    assert_continuous(
        "trigamma",
        trigamma,
        [|x| polygamma(2, x), |x| polygamma(3, x)],
        &[1.0, 2.0, 4.0, 1e10],
    );
}
