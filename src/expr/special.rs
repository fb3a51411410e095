//! Special functions for `f64`: `ln|Γ(x)|`, the digamma function ψ, the trigamma function ψ₁
//! and the polygamma functions ψ⁽ⁿ⁾.
//!
//! Method, for positive arguments: shift the argument up by the recurrences
//! `ln Γ(x+1) = ln Γ(x) + ln x` and `ψ⁽ⁿ⁾(x+1) = ψ⁽ⁿ⁾(x) + (−1)ⁿ n! x^(−n−1)` until it is
//! large, then sum the asymptotic (Stirling / Euler–Maclaurin) series with the Bernoulli numbers
//! `B₂ₖ` (DLMF 5.11.1, 5.11.2, 25.11.43). Near the zeros of `ln Γ` at 1 and 2 the Taylor
//! series about 2 (DLMF 5.7.3) keeps the *relative* error small. Negative non-integer arguments
//! use the reflection formulas (DLMF 5.5.3, 5.15.6).
//!
//! Accuracy: about 1e-15 relative for `x > 0` (absolute near the zero of ψ at
//! `x ≈ 1.4616`), a few ulp more for `x < 0` where the functions are steep. At the poles
//! (`x = 0, −1, −2, …`) `lgamma` is `+∞` and the others are NaN; a NaN argument gives NaN.
//! None of these functions panics.

use std::f64::consts::PI;
use std::sync::LazyLock;

/// Euler–Mascheroni constant γ (DLMF 5.2.3).
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The highest polygamma order computed; above it `n!` overflows `f64` and the result is NaN.
pub const MAX_POLYGAMMA_ORDER: u32 = 170;

/// Bernoulli numbers `B₂, B₄, …, B₂₄` (DLMF Table 24.2.1).
const BERNOULLI_2K: [f64; 12] = [
    1.0 / 6.0,
    -1.0 / 30.0,
    1.0 / 42.0,
    -1.0 / 30.0,
    5.0 / 66.0,
    -691.0 / 2730.0,
    7.0 / 6.0,
    -3617.0 / 510.0,
    43867.0 / 798.0,
    -174611.0 / 330.0,
    854513.0 / 138.0,
    -236364091.0 / 2730.0,
];

/// Below this the argument of `lgamma` and `digamma` is shifted up before the asymptotic series.
const ASYMPTOTIC_FROM: f64 = 10.0;

/// Number of terms of the Taylor series of `ln Γ(2 + z)` used for `|z| ≤ 1/2`.
const LGAMMA_SERIES_TERMS: usize = 32;

/// Taylor coefficients of `ln Γ(2 + z) = (1 − γ) z + Σ_{k≥2} (−1)ᵏ (ζ(k) − 1)/k · zᵏ`
/// (DLMF 5.7.3 shifted by `ln Γ(2+z) = ln Γ(1+z) + ln(1+z)`), index `k`; `ζ(k) − 1 = ζ(k, 2)`.
static LGAMMA_SERIES: LazyLock<[f64; LGAMMA_SERIES_TERMS + 1]> = LazyLock::new(|| {
    let mut c = [0.0; LGAMMA_SERIES_TERMS + 1];
    c[1] = 1.0 - EULER_GAMMA;
    for (k, ck) in c.iter_mut().enumerate().skip(2) {
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        // k ≤ 32 fits every integer type involved.
        *ck = sign * hurwitz_zeta(k as u32, 2.0) / k as f64;
    }
    c
});

/// `ln|Γ(x)|`, the logarithm of the absolute value of the gamma function.
///
/// `ln Γ(x) ~ (x − ½) ln x − x + ½ ln 2π + Σₖ B₂ₖ / (2k(2k−1) x^(2k−1))` for large `x`;
/// for `x < 0`, `ln|Γ(x)| = ln π − ln|sin πx| − ln Γ(1 − x)`. Poles give `+∞`.
pub fn lgamma(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if is_pole(x) || x == f64::INFINITY {
        return f64::INFINITY;
    }
    if x < 0.0 {
        return PI.ln() - sin_pi(x).abs().ln() - lgamma(1.0 - x);
    }
    if x < 0.5 {
        // ln Γ(x) = ln Γ(2 + x) − ln(1 + x) − ln x
        return lgamma_near_two(x) - x.ln_1p() - x.ln();
    }
    if x < 1.5 {
        // ln Γ(x) = ln Γ(2 + (x − 1)) − ln x; x − 1 is exact here
        return lgamma_near_two(x - 1.0) - x.ln();
    }
    if x <= 2.5 {
        return lgamma_near_two(x - 2.0);
    }
    if x < ASYMPTOTIC_FROM {
        // ln Γ(x) = ln Γ(x − m) + ln((x − 1)(x − 2)…(x − m)), x − m ∈ [1.5, 2.5]; each x − j is exact
        let mut y = x;
        let mut prod = 1.0;
        while y > 2.5 {
            y -= 1.0;
            prod *= y;
        }
        return lgamma_near_two(y - 2.0) + prod.ln();
    }
    lgamma_stirling(x)
}

/// `ln Γ(2 + z)` for `|z| ≤ 1/2` by its Taylor series.
fn lgamma_near_two(z: f64) -> f64 {
    let c = &*LGAMMA_SERIES;
    let mut acc = 0.0;
    for ck in c.iter().skip(1).rev() {
        acc = acc * z + ck;
    }
    acc * z
}

/// Stirling's series for `ln Γ(x)`, `x ≥ 10` (DLMF 5.11.1).
fn lgamma_stirling(x: f64) -> f64 {
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let mut sum = 0.0;
    let mut pow = inv; // x^(1−2k)
    for (k, b) in (1..=8).zip(BERNOULLI_2K) {
        let k = f64::from(k);
        sum += b / (2.0 * k * (2.0 * k - 1.0)) * pow;
        pow *= inv2;
    }
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + sum
}

/// The digamma function `ψ(x) = d/dx ln Γ(x)`.
///
/// `ψ(x) ~ ln x − 1/(2x) − Σₖ B₂ₖ / (2k x^(2k))` for large `x` (DLMF 5.11.2), reached by
/// `ψ(x) = ψ(x + 1) − 1/x`; for `x < 0`, `ψ(x) = ψ(1 − x) − π cot πx` (DLMF 5.5.4).
/// Poles give NaN.
pub fn digamma(x: f64) -> f64 {
    polygamma(0, x)
}

/// The trigamma function `ψ₁(x) = d²/dx² ln Γ(x) = Σ_{j≥0} 1/(x + j)²`.
///
/// For `x < 0`, `ψ₁(x) = π² / sin² πx − ψ₁(1 − x)`. Poles give NaN.
pub fn trigamma(x: f64) -> f64 {
    polygamma(1, x)
}

/// The polygamma function `ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ ln Γ(x)`; `ψ⁽⁰⁾ = ψ`, `ψ⁽¹⁾ = ψ₁`.
///
/// For `n ≥ 1`, `ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! ζ(n + 1, x)` with the Hurwitz zeta function summed by
/// Euler–Maclaurin (DLMF 25.11.12, 25.11.43). For `x < 0` the reflection formula
/// `ψ⁽ⁿ⁾(x) = (−1)ⁿ ψ⁽ⁿ⁾(1 − x) − πⁿ⁺¹ Pₙ(cot πx)` is used, from `dⁿ/dxⁿ` of
/// `ψ(1 − x) − ψ(x) = π cot πx`, with `P₀(c) = c`, `Pₖ₊₁(c) = −(1 + c²) Pₖ'(c)`.
/// Poles and orders above [`MAX_POLYGAMMA_ORDER`] give NaN.
pub fn polygamma(n: u32, x: f64) -> f64 {
    if x.is_nan() || is_pole(x) || n > MAX_POLYGAMMA_ORDER {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return if n == 0 { f64::INFINITY } else { 0.0 };
    }
    if x < 0.0 {
        let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
        let cot = cos_pi(x) / sin_pi(x);
        return sign * polygamma(n, 1.0 - x) - PI.powi(n as i32 + 1) * cot_poly(n, cot);
    }
    if n == 0 {
        return digamma_positive(x);
    }
    let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
    let factorial: f64 = (1..=n).map(f64::from).product();
    sign * factorial * hurwitz_zeta(n + 1, x)
}

/// `ψ(x)` for `x > 0`.
fn digamma_positive(x: f64) -> f64 {
    let mut acc = 0.0;
    let mut y = x;
    while y < ASYMPTOTIC_FROM {
        acc -= 1.0 / y;
        y += 1.0;
    }
    let inv2 = 1.0 / (y * y);
    let mut sum = 0.0;
    let mut pow = inv2; // y^(−2k)
    for (k, b) in (1..=8).zip(BERNOULLI_2K) {
        sum += b / (2.0 * f64::from(k)) * pow;
        pow *= inv2;
    }
    acc + y.ln() - 0.5 / y - sum
}

/// The Hurwitz zeta function `ζ(s, x) = Σ_{j≥0} (x + j)^(−s)` for an integer `s ≥ 2`, `x > 0`.
///
/// Sums the first terms until `x + N ≥ s + 14`, then the Euler–Maclaurin tail
/// `y^(1−s)/(s−1) + y^(−s)/2 + Σₖ B₂ₖ/(2k)! · s(s+1)…(s+2k−2) · y^(−s−2k+1)` (DLMF 25.11.43 with
/// `ζ(s, x) = Σ_{j<N} (x+j)^(−s) + ζ(s, x+N)`); twelve terms are accurate far beyond `f64`.
fn hurwitz_zeta(s: u32, x: f64) -> f64 {
    let sf = f64::from(s);
    let si = s as i32; // s ≤ MAX_POLYGAMMA_ORDER + 1
    let mut sum = 0.0;
    let mut y = x;
    while y < sf + 14.0 {
        sum += y.powi(-si);
        y += 1.0;
    }
    let ys = y.powi(-si);
    let inv2 = 1.0 / (y * y);
    let mut tail = y * ys / (sf - 1.0) + 0.5 * ys;
    let mut poch = sf * ys / y; // s(s+1)…(s+2k−2) · y^(−s−2k+1) for k = 1
    let mut fact = 2.0; // (2k)!
    for (k, b) in (1..).zip(BERNOULLI_2K) {
        tail += b / fact * poch;
        let k = f64::from(k);
        poch *= (sf + 2.0 * k - 1.0) * (sf + 2.0 * k) * inv2;
        fact *= (2.0 * k + 1.0) * (2.0 * k + 2.0);
    }
    sum + tail
}

/// `Pₙ(c)` with `dⁿ/dxⁿ cot(πx) = πⁿ Pₙ(cot πx)`: `P₀(c) = c`, `Pₖ₊₁(c) = −(1 + c²) Pₖ'(c)`.
fn cot_poly(n: u32, c: f64) -> f64 {
    // Coefficients of P_k in powers of c; P_k has degree k + 1.
    let mut p = vec![0.0; n as usize + 2];
    p[1] = 1.0;
    for k in 0..n as usize {
        // derivative coefficients d_j = (j + 1) p_{j+1}, degree k
        let mut next = vec![0.0; p.len()];
        for j in 0..=k {
            let d = (j + 1) as f64 * p[j + 1];
            next[j] -= d;
            next[j + 2] -= d;
        }
        p = next;
    }
    p.iter().rev().fold(0.0, |acc, a| acc * c + a)
}

/// Whether `x` is a pole of Γ: zero or a negative integer (or −∞).
fn is_pole(x: f64) -> bool {
    x <= 0.0 && x == x.floor()
}

/// `x − 2·round(x/2)`, exact, in `[−1, 1]`.
fn reduce_two(x: f64) -> f64 {
    x - 2.0 * (0.5 * x).round()
}

/// `sin(πx)` with exact argument reduction, accurate near the zeros.
fn sin_pi(x: f64) -> f64 {
    let mut r = reduce_two(x);
    if r > 0.5 {
        r = 1.0 - r;
    } else if r < -0.5 {
        r = -1.0 - r;
    }
    (PI * r).sin()
}

/// `cos(πx)` with exact argument reduction, accurate near the zeros.
fn cos_pi(x: f64) -> f64 {
    let r = reduce_two(x).abs();
    if r < 0.25 {
        (PI * r).cos()
    } else {
        sin_pi(0.5 - r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apéry's constant ζ(3) (DLMF 25.6.1 context; OEIS A002117).
    const ZETA3: f64 = 1.202_056_903_159_594_3;

    fn assert_rel(got: f64, want: f64, tol: f64) {
        let err = (got - want).abs() / want.abs().max(f64::MIN_POSITIVE);
        assert!(err <= tol, "got {got:e}, want {want:e}, rel err {err:e}");
    }

    #[test]
    fn lgamma_published_values() {
        // Γ(1/2) = √π (DLMF 5.4.6); Γ(3/2) = √π/2; Γ(−1/2) = −2√π (DLMF 5.5.1)
        let sqrt_pi = PI.sqrt();
        assert_rel(lgamma(0.5), sqrt_pi.ln(), 1e-15);
        assert_rel(lgamma(1.5), (sqrt_pi / 2.0).ln(), 1e-14);
        assert_rel(lgamma(-0.5), (2.0 * sqrt_pi).ln(), 1e-15);
        // Γ(n) = (n − 1)!
        assert_eq!(lgamma(1.0), 0.0);
        assert_eq!(lgamma(2.0), 0.0);
        assert_rel(lgamma(3.0), 2f64.ln(), 1e-15);
        assert_rel(lgamma(10.0), 362_880f64.ln(), 1e-15);
        // ln Γ(100) = 359.13420536957539878 (A&S Table 6.4 style; Wolfram Alpha to 20 digits)
        assert_rel(lgamma(100.0), 359.134_205_369_575_4, 1e-15);
        // Near the zero at 1: ln Γ(1 + ε) = −γε + ζ(2)ε²/2 − … (DLMF 5.7.3)
        let eps = 2f64.powi(-26); // so that 1 + ε and 2 + ε are exact
        assert_rel(
            lgamma(1.0 + eps),
            -EULER_GAMMA * eps + PI * PI / 12.0 * eps * eps,
            1e-14,
        );
        // Near the zero at 2: ln Γ(2 + ε) = (1 − γ)ε + (ζ(2) − 1)ε²/2 − …
        assert_rel(
            lgamma(2.0 + eps),
            (1.0 - EULER_GAMMA) * eps + (PI * PI / 6.0 - 1.0) / 2.0 * eps * eps,
            1e-14,
        );
        // Small arguments: ln Γ(x) = −ln x − γx + O(x²)
        assert_rel(lgamma(1e-10), -(1e-10f64.ln()) - EULER_GAMMA * 1e-10, 1e-15);
        // Γ(−2.5) = −8√π/15
        assert_rel(lgamma(-2.5), (8.0 * sqrt_pi / 15.0).ln(), 1e-14);
    }

    #[test]
    fn lgamma_recurrence_across_branches() {
        // ln Γ(x + 1) − ln Γ(x) = ln x, checked on a grid that crosses every branch boundary
        let mut x = 0.01;
        while x < 40.0 {
            let lhs = lgamma(x + 1.0) - lgamma(x);
            assert!(
                (lhs - x.ln()).abs() <= 4e-15 * (1.0 + lgamma(x + 1.0).abs()),
                "x = {x}"
            );
            x += 0.137;
        }
    }

    #[test]
    fn lgamma_poles_and_nan() {
        assert_eq!(lgamma(0.0), f64::INFINITY);
        assert_eq!(lgamma(-3.0), f64::INFINITY);
        assert!(lgamma(f64::NAN).is_nan());
        assert_eq!(lgamma(f64::INFINITY), f64::INFINITY);
        assert!(digamma(-2.0).is_nan());
        assert!(trigamma(0.0).is_nan());
        assert!(polygamma(MAX_POLYGAMMA_ORDER + 1, 1.0).is_nan());
    }

    #[test]
    fn digamma_published_values() {
        // ψ(1) = −γ (DLMF 5.4.12); ψ(1/2) = −γ − 2 ln 2 (DLMF 5.4.13)
        assert_rel(digamma(1.0), -EULER_GAMMA, 1e-15);
        assert_rel(digamma(0.5), -EULER_GAMMA - 2.0 * 2f64.ln(), 1e-15);
        // ψ(n) = H_{n−1} − γ (DLMF 5.4.14)
        let h9: f64 = (1..10).map(|k| 1.0 / f64::from(k)).sum();
        assert_rel(digamma(10.0), h9 - EULER_GAMMA, 1e-15);
        // ψ(−1/2) = ψ(3/2) = 2 − γ − 2 ln 2 (recurrence DLMF 5.5.2); 3/2 is near the zero of
        // ψ, so the error is absolute there
        assert!((digamma(-0.5) - (2.0 - EULER_GAMMA - 2.0 * 2f64.ln())).abs() < 1e-15);
        // the positive zero x₀ = 1.4616321449683623… (A&S 6.3.19; DLMF 5.4.19)
        assert!(digamma(1.461_632_144_968_362_3).abs() < 1e-15);
        // large x: ψ(x) ≈ ln x − 1/(2x) − 1/(12x²)
        let x = 1e6;
        assert_rel(digamma(x), x.ln() - 0.5 / x - 1.0 / (12.0 * x * x), 1e-15);
    }

    #[test]
    fn polygamma_published_values() {
        // ψ₁(1) = π²/6, ψ₁(1/2) = π²/2 (DLMF 5.15.2, 5.15.3 with ζ(2) = π²/6)
        assert_rel(trigamma(1.0), PI * PI / 6.0, 1e-15);
        assert_rel(trigamma(0.5), PI * PI / 2.0, 1e-15);
        // ψ₂(1) = −2ζ(3), ψ₃(1) = 6ζ(4) = π⁴/15 (DLMF 5.15.2: ψ⁽ⁿ⁾(1) = (−1)ⁿ⁺¹ n! ζ(n+1))
        assert_rel(polygamma(2, 1.0), -2.0 * ZETA3, 1e-15);
        assert_rel(polygamma(3, 1.0), PI.powi(4) / 15.0, 1e-15);
        // ψ₂(1/2) = −14 ζ(3) (DLMF 5.15.3: ψ⁽ⁿ⁾(½) = (−1)ⁿ⁺¹ n! (2ⁿ⁺¹ − 1) ζ(n+1))
        assert_rel(polygamma(2, 0.5), -14.0 * ZETA3, 1e-15);
        // ψ₅(1) = 5! ζ(6) = 120 π⁶/945
        assert_rel(polygamma(5, 1.0), 120.0 * PI.powi(6) / 945.0, 1e-14);
        // ψ₁(−1/2) = π² / sin²(−π/2) − ψ₁(3/2) = π² − (π²/2 − 4) = π²/2 + 4
        assert_rel(trigamma(-0.5), PI * PI / 2.0 + 4.0, 1e-14);
        // ψ₂(−1/2) = ψ₂(1/2) + 2!·2³ = −14ζ(3) + 16 (recurrence)
        assert_rel(polygamma(2, -0.5), -14.0 * ZETA3 + 16.0, 1e-13);
        // order 0 and 1 agree with digamma and trigamma
        assert_eq!(polygamma(0, 3.7), digamma(3.7));
        assert_eq!(polygamma(1, 3.7), trigamma(3.7));
    }

    #[test]
    fn polygamma_recurrence() {
        // ψ⁽ⁿ⁾(x + 1) = ψ⁽ⁿ⁾(x) + (−1)ⁿ n! / xⁿ⁺¹ (DLMF 5.15.5), across the shift thresholds
        for n in 0..8u32 {
            let fact: f64 = (1..=n).map(f64::from).product();
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            for &x in &[0.3, 1.7, 4.2, 9.5, 15.9, 23.1, -0.7, -3.3] {
                let lhs = polygamma(n, x + 1.0);
                let rhs = polygamma(n, x) + sign * fact / x.powi(n as i32 + 1);
                let scale = polygamma(n, x).abs().max(lhs.abs());
                assert!((lhs - rhs).abs() <= 1e-13 * scale, "n = {n}, x = {x}");
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        // f'(x) ≈ (f(x+h) − f(x−h)) / 2h with error O(h²)
        let h = 1e-5;
        let fd = |f: &dyn Fn(f64) -> f64, x: f64| (f(x + h) - f(x - h)) / (2.0 * h);
        for &x in &[0.2, 0.9, 1.5, 2.3, 5.0, 11.0, 30.0, -0.4, -2.7] {
            assert_rel(fd(&lgamma, x), digamma(x), 1e-8);
            assert_rel(fd(&digamma, x), trigamma(x), 1e-8);
            assert_rel(fd(&trigamma, x), polygamma(2, x), 1e-8);
            for n in 2..6 {
                assert_rel(fd(&|y| polygamma(n, y), x), polygamma(n + 1, x), 1e-7);
            }
        }
    }
}
