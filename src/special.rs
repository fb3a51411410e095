//! Special functions for `f64`: `ln|Γ(x)|`, the digamma function ψ, the trigamma function ψ₁
//! and the polygamma functions ψ⁽ⁿ⁾.
//!
//! Method, for positive arguments. `lgamma`, `digamma` and `trigamma` use the rational minimax
//! approximations of Boost.Math (John Maddock; `boost/math/special_functions/trigamma.hpp`,
//! `digamma.hpp` and `detail/lgamma_small.hpp`, Boost Software License 1.0) on short intervals,
//! written so that the zeros of `ln Γ` at 1 and 2 and of ψ at `x₀ ≈ 1.4616` are exact factors
//! and the relative error stays small there; above the intervals, `lgamma` and `digamma` shift
//! the argument by the recurrences `ln Γ(x+1) = ln Γ(x) + ln x`, `ψ(x+1) = ψ(x) + 1/x`, and from
//! 10 on sum the Stirling series with the Bernoulli numbers `B₂ₖ` (DLMF 5.11.1, 5.11.2).
//! `polygamma` of order `n ≥ 2` sums the Hurwitz zeta function by Euler–Maclaurin
//! (DLMF 25.11.43). Negative non-integer arguments use the reflection formulas (DLMF 5.5.3,
//! 5.15.6).
//!
//! Accuracy, measured against mpmath (`tests/special_reference.rs`, and 104 000 random arguments
//! by `tests/special_reference/random_check.py`): for `x > 0`, `lgamma`, `digamma` and
//! `trigamma` are within 4.5e-16 relative (about 2 ulp), also next to the zeros of `ln Γ` and ψ;
//! polygamma of order `n ≥ 2` about 1e-15. For `x < 0` the reflection formulas lose what the
//! cancellation between their terms loses: near the zeros of `ln|Γ|` and ψ the error is
//! absolute, about 1e-15 times the size of the terms. At the poles (`x = 0, −1, −2, …`) `lgamma`
//! is `+∞` and the others are NaN; a NaN argument gives NaN. None of these functions
//! panics, and none allocates except `polygamma` of order `n ≥ 2` at negative arguments.

use std::f64::consts::PI;

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

/// From here on `lgamma` and `digamma` sum their asymptotic series directly; eight terms leave
/// a relative error below 1e-17 at 10.
const ASYMPTOTIC_FROM: f64 = 10.0;

/// Number of terms of the asymptotic series of `lgamma` and `digamma`.
const ASYMPTOTIC_TERMS: usize = 8;

/// `B₂ₖ / (2k (2k − 1))`, `k = 1, 2, …`: `ln Γ(x) − Stirling = Σₖ B₂ₖ / (2k(2k−1) x^(2k−1))`
/// (DLMF 5.11.1).
const STIRLING_LGAMMA: [f64; ASYMPTOTIC_TERMS] = asymptotic_coefficients(true);

/// `B₂ₖ / 2k`, `k = 1, 2, …`: `ψ(x) ~ ln x − 1/(2x) − Σₖ B₂ₖ / (2k x^(2k))` (DLMF 5.11.2).
const STIRLING_DIGAMMA: [f64; ASYMPTOTIC_TERMS] = asymptotic_coefficients(false);

/// `B₂ₖ / (2k (2k − 1))` if `lgamma`, else `B₂ₖ / 2k`.
const fn asymptotic_coefficients(lgamma: bool) -> [f64; ASYMPTOTIC_TERMS] {
    let mut c = [0.0; ASYMPTOTIC_TERMS];
    let mut k = 0;
    while k < ASYMPTOTIC_TERMS {
        let two_k = 2.0 * (k + 1) as f64;
        let divisor = if lgamma { two_k * (two_k - 1.0) } else { two_k };
        c[k] = BERNOULLI_2K[k] / divisor;
        k += 1;
    }
    c
}

// Boost.Math's rational approximations, coefficients from the lowest power up, as printed in
// Boost rounded to `f64` (shortest round-trip form). Each set is named by its interval.

/// `ln Γ(z) = (z−1)(z−2)(Y + P(z−1)/Q(z−1))` on `[1, 1.5]` (Boost `lgamma_small_imp`, 64-bit
/// set; max error at double precision 1.2e-17).
const LGAMMA_1_15: ([f64; 7], [f64; 7], f64) = (
    [
        0.04906224540690395,
        -0.09691175301595212,
        -0.4149833583594954,
        -0.4065671242119384,
        -0.1584135863906922,
        -0.024014982064857155,
        -0.0010034668769627955,
    ],
    [
        1.0,
        3.0234982984646304,
        3.4873958536072385,
        1.9141558827442668,
        0.5071377386143635,
        0.05770397226904519,
        0.001957681026011072,
    ],
    0.5281534194946289,
);

/// `ln Γ(z) = (z−1)(z−2)(Y + P(2−z)/Q(2−z))` on `[1.5, 2]` (Boost `lgamma_small_imp`; max error
/// at double precision 1.8e-17).
const LGAMMA_15_2: ([f64; 6], [f64; 7], f64) = (
    [
        -0.029232972183027003,
        0.14421626775719232,
        -0.14244039073863127,
        0.05428096940550536,
        -0.008505359768683364,
        0.0004311713426792973,
    ],
    [
        1.0,
        -1.5016935605448505,
        0.846973248876495,
        -0.22009515181499575,
        0.02558279715597587,
        -0.0010066679553914337,
        -8.271935218912905e-07,
    ],
    0.45201730728149414,
);

/// `ln Γ(z) = (z−2)(z+1)(Y + P(z−2)/Q(z−2))` on `[2, 3]` (Boost `lgamma_small_imp`; max error
/// at double precision 4.2e-18).
const LGAMMA_2_3: ([f64; 7], [f64; 8], f64) = (
    [
        -0.01803556856784494,
        0.02512664961998968,
        0.049410315156753225,
        0.0172491608709614,
        -0.0002594535632054381,
        -0.0005410098692152044,
        -3.245886498259485e-05,
    ],
    [
        1.0,
        1.962029871977952,
        1.4801966942423133,
        0.5413914320717209,
        0.09885042511280101,
        0.008213096746488934,
        0.00022493629192211576,
        -2.2335276320861708e-07,
    ],
    0.15896368026733398,
);

/// `ψ(z) = (z − x₀)(Y + P(z−1)/Q(z−1))` on `[1, 2]`, `x₀` the positive zero of ψ (Boost
/// `digamma_imp_1_2`, 53-bit set; max error at double precision 2.5e-17).
const DIGAMMA_1_2: ([f64; 6], [f64; 7], f64) = (
    [
        0.25479851061131553,
        -0.3255503118680449,
        -0.6503185377089651,
        -0.28919126444774784,
        -0.04525132144873906,
        -0.002071332116774595,
    ],
    [
        1.0,
        2.076711702373047,
        1.4606242909763516,
        0.43593529692665967,
        0.054151797245674226,
        0.0021284987017821146,
        -5.578984132167551e-07,
    ],
    0.9955816268920898,
);

/// The positive zero `x₀ = 1.4616321449683623…` of ψ (A&S 6.3.19) as an unevaluated sum of three
/// doubles, the first two short enough that `x − x₀` loses nothing near `x₀` (from Boost).
const DIGAMMA_ROOT: [f64; 3] = [
    1_569_415_565.0 / 1_073_741_824.0,
    381_566_830.0 / 1_073_741_824.0 / 1_073_741_824.0,
    9.016_312_093_258_695e-20,
];

/// `x² ψ₁(x) = C + P(x)/Q(x)` on `[1, 2]` (Boost `trigamma_prec`, 53-bit set; max error in this
/// form 3.7e-17).
const TRIGAMMA_1_2: ([f64; 6], [f64; 6], f64) = (
    [
        -1.1093280605946045,
        -3.831067447261932,
        -3.3703848401898284,
        0.2808057446798121,
        1.6638069578676165,
        0.6446838681910284,
    ],
    [
        1.0,
        3.453538966854115,
        4.520892698785143,
        2.701273417835153,
        0.6446879839978561,
        -2.0314516859987727e-07,
    ],
    2.109325408935547,
);

/// `x ψ₁(x) = 1 + P(1/x)/Q(1/x)` on `[2, 4]` (Boost `trigamma_prec`; max error 1.2e-17).
const TRIGAMMA_2_4: ([f64; 6], [f64; 6]) = (
    [
        -1.3803835004508848e-08,
        0.5000004915854026,
        1.6077979838469347,
        2.5645435828098253,
        2.0534873203680393,
        0.7456698111156592,
    ],
    [
        1.0,
        2.882278766237617,
        4.168166055409092,
        2.7853527819234465,
        0.7496767184804479,
        -0.0005706911241624681,
    ],
);

/// `x ψ₁(x) = 1 + P(1/x)/Q(1/x)` on `[4, ∞)` (Boost `trigamma_prec`; max error 6.9e-18).
const TRIGAMMA_4_INF: ([f64; 7], [f64; 7]) = (
    [
        6.894758194870125e-18,
        0.49999999999998973,
        1.0177274392923794,
        2.498208511343429,
        2.1921221359427596,
        1.5897035272532765,
        0.40154388356961734,
    ],
    [
        1.0,
        1.7021215452463931,
        4.4290431747556465,
        2.9745631894384923,
        2.3013614809773615,
        0.28360399799075753,
        0.022892987908906898,
    ],
);

/// Below this `ψ₁(x) = 1/x²` to double precision.
const TRIGAMMA_TINY: f64 = 1e-100;

/// Above this `ψ₁(x) = 1/x + 1/(2x²)` to within `1/(6x³)`, below 1e-20 relative.
const TRIGAMMA_LARGE: f64 = 1e10;

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
    if x < 1.0 {
        // ln Γ(x) = ln Γ(1 + x) − ln x, with (1 + x) − 1 = x exact
        return lgamma_one_two(x, x - 1.0) - x.ln();
    }
    if x <= 2.0 {
        // x − 1 and x − 2 are exact here
        return lgamma_one_two(x - 1.0, x - 2.0);
    }
    if x < 3.0 {
        return lgamma_two_three(x);
    }
    if x < ASYMPTOTIC_FROM {
        // ln Γ(x) = ln((x − 1)(x − 2)…(x − m)) + ln Γ(x − m), x − m ∈ [2, 3); each x − j is exact
        let mut y = x;
        let mut prod = 1.0;
        while y >= 3.0 {
            y -= 1.0;
            prod *= y;
        }
        return prod.ln() + lgamma_two_three(y);
    }
    lgamma_stirling(x)
}

/// `ln Γ(1 + t)` for `t ∈ [0, 1]`, given `t` and `t − 1`; the zeros at `t = 0, 1` are the factor
/// `t (t − 1)`.
fn lgamma_one_two(t: f64, t_minus_1: f64) -> f64 {
    let prefix = t * t_minus_1;
    if t <= 0.5 {
        let (p, q, y) = LGAMMA_1_15;
        prefix * y + prefix * rational(&p, &q, t)
    } else {
        let (p, q, y) = LGAMMA_15_2;
        prefix * y + prefix * rational(&p, &q, -t_minus_1)
    }
}

/// `ln Γ(z)` for `z ∈ [2, 3]`; the zero at 2 is the factor `z − 2`.
fn lgamma_two_three(z: f64) -> f64 {
    let (p, q, y) = LGAMMA_2_3;
    let zm2 = z - 2.0; // exact
    let prefix = zm2 * (z + 1.0);
    prefix * y + prefix * rational(&p, &q, zm2)
}

/// Stirling's series for `ln Γ(x)`, `x ≥ 10` (DLMF 5.11.1), as `x (ln x − 1) − ½ ln x + …` so
/// that it overflows only where `ln Γ` does.
fn lgamma_stirling(x: f64) -> f64 {
    /// ½ ln 2π
    const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;
    let inv = 1.0 / x;
    let ln = x.ln();
    x * (ln - 1.0) - 0.5 * ln + HALF_LN_2PI + inv * poly(&STIRLING_LGAMMA, inv * inv)
}

/// The digamma function `ψ(x) = d/dx ln Γ(x)`.
///
/// `ψ(x) ~ ln x − 1/(2x) − Σₖ B₂ₖ / (2k x^(2k))` for large `x` (DLMF 5.11.2), reached from
/// `[1, 2]` by `ψ(x + 1) = ψ(x) + 1/x`; for `x < 0`, `ψ(x) = ψ(1 − x) − π cot πx` (DLMF 5.5.4).
/// Poles give NaN.
pub fn digamma(x: f64) -> f64 {
    if x > 0.0 {
        return digamma_positive(x);
    }
    if x.is_nan() || is_pole(x) {
        return f64::NAN;
    }
    digamma_positive(1.0 - x) - PI * (cos_pi(x) / sin_pi(x))
}

/// `ψ(x)` for `x > 0`, `+∞` included.
fn digamma_positive(x: f64) -> f64 {
    if x >= ASYMPTOTIC_FROM {
        let inv = 1.0 / x;
        let inv2 = inv * inv;
        return x.ln() - 0.5 * inv - inv2 * poly(&STIRLING_DIGAMMA, inv2);
    }
    if x < 1.0 {
        // ψ(x) = ψ(1 + x) − 1/x, with (1 + x) − 1 = x exact
        return digamma_one_two(x) - 1.0 / x;
    }
    // ψ(x) = ψ(x − m) + 1/(x − 1) + … + 1/(x − m), x − m ∈ [1, 2]; each x − j is exact
    let mut y = x;
    let mut acc = 0.0;
    while y > 2.0 {
        y -= 1.0;
        acc += 1.0 / y;
    }
    acc + digamma_one_two(y - 1.0)
}

/// `ψ(1 + t)` for `t ∈ [0, 1]`; the zero `x₀` of ψ is the factor `1 + t − x₀`, summed exactly
/// near it.
fn digamma_one_two(t: f64) -> f64 {
    let (p, q, y) = DIGAMMA_1_2;
    let [r0, r1, r2] = DIGAMMA_ROOT;
    let g = t + (1.0 - r0) - r1 - r2; // 1 − r0 is exact
    g * y + g * rational(&p, &q, t)
}

/// The trigamma function `ψ₁(x) = d²/dx² ln Γ(x) = Σ_{j≥0} 1/(x + j)²`.
///
/// For `x > 0`, rational approximations of `x² ψ₁(x)` on `[1, 2]` and of `x ψ₁(x)` in `1/x` on
/// `[2, 4]` and `[4, ∞)`, with `ψ₁(x) = ψ₁(x + 1) + 1/x²` below 1; for `x < 0`,
/// `ψ₁(x) = π² / sin² πx − ψ₁(1 − x)` (DLMF 5.15.6). Poles give NaN.
pub fn trigamma(x: f64) -> f64 {
    if x > 0.0 {
        return trigamma_positive(x);
    }
    if x.is_nan() || is_pole(x) {
        return f64::NAN;
    }
    let s = sin_pi(x);
    PI * PI / (s * s) - trigamma_positive(1.0 - x)
}

/// `ψ₁(x)` for `x > 0`, `+∞` included. Each branch has one division on its critical path; the
/// leading terms (`1/x²`, `C/x²`, `1/x`) are divided separately, in parallel, from the small
/// rational correction, so that the rounding of the correction hardly matters.
fn trigamma_positive(x: f64) -> f64 {
    let (p, q, c) = TRIGAMMA_1_2;
    if x < TRIGAMMA_TINY {
        // ψ₁(x) = 1/x² + ψ₁(1) + O(x) with ψ₁(1) = π²/6 below 1e-199 relative; no subnormal x²
        return 1.0 / x / x;
    }
    if x < 1.0 {
        // ψ₁(x) = 1/x² + ψ₁(z), z = 1 + x
        let z = x + 1.0;
        let z2 = z * z;
        return 1.0 / (x * x) + (c / z2 + poly(&p, z) / (poly(&q, z) * z2));
    }
    if x <= 2.0 {
        let x2 = x * x;
        return c / x2 + poly(&p, x) / (poly(&q, x) * x2);
    }
    // 1/x + P(1/x)/(Q(1/x) x), with P and Q reversed into polynomials in x
    if x <= 4.0 {
        let (p, q) = TRIGAMMA_2_4;
        return 1.0 / x + poly_reversed(&p, x) / (poly_reversed(&q, x) * x);
    }
    if x <= TRIGAMMA_LARGE {
        let (p, q) = TRIGAMMA_4_INF;
        return 1.0 / x + poly_reversed(&p, x) / (poly_reversed(&q, x) * x);
    }
    let inv = 1.0 / x;
    inv + 0.5 * inv * inv
}

/// The polygamma function `ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ ln Γ(x)`; `ψ⁽⁰⁾ = ψ`, `ψ⁽¹⁾ = ψ₁`.
///
/// Orders 0 and 1 are [`digamma`] and [`trigamma`]. For `n ≥ 2`,
/// `ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! ζ(n + 1, x)` with the Hurwitz zeta function summed by
/// Euler–Maclaurin (DLMF 25.11.12, 25.11.43). For `x < 0` the reflection formula
/// `ψ⁽ⁿ⁾(x) = (−1)ⁿ ψ⁽ⁿ⁾(1 − x) − πⁿ⁺¹ Pₙ(cot πx)` is used, from `dⁿ/dxⁿ` of
/// `ψ(1 − x) − ψ(x) = π cot πx`, with `P₀(c) = c`, `Pₖ₊₁(c) = −(1 + c²) Pₖ'(c)`.
/// Poles and orders above [`MAX_POLYGAMMA_ORDER`] give NaN.
pub fn polygamma(n: u32, x: f64) -> f64 {
    match n {
        0 => return digamma(x),
        1 => return trigamma(x),
        _ => {}
    }
    if x.is_nan() || is_pole(x) || n > MAX_POLYGAMMA_ORDER {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    if x < 0.0 {
        let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
        let cot = cos_pi(x) / sin_pi(x);
        return sign * polygamma(n, 1.0 - x) - PI.powi(n as i32 + 1) * cot_poly(n, cot);
    }
    let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
    let factorial: f64 = (1..=n).map(f64::from).product();
    sign * factorial * hurwitz_zeta(n + 1, x)
}

/// `c₀ + c₁x + … + c_{N−1}x^(N−1)` by Horner's rule.
#[inline(always)]
fn poly<const N: usize>(c: &[f64; N], x: f64) -> f64 {
    let mut acc = c[N - 1];
    for &ck in c[..N - 1].iter().rev() {
        acc = acc * x + ck;
    }
    acc
}

/// `x^(N−1) · poly(c, 1/x) = c₀x^(N−1) + … + c_{N−1}`, the reversed polynomial, by Horner's rule.
#[inline(always)]
fn poly_reversed<const N: usize>(c: &[f64; N], x: f64) -> f64 {
    let mut acc = c[0];
    for &ck in &c[1..] {
        acc = acc * x + ck;
    }
    acc
}

/// `P(x)/Q(x)`.
#[inline(always)]
fn rational<const P: usize, const Q: usize>(p: &[f64; P], q: &[f64; Q], x: f64) -> f64 {
    poly(p, x) / poly(q, x)
}

/// The Hurwitz zeta function `ζ(s, x) = Σ_{j≥0} (x + j)^(−s)` for an integer `s ≥ 2`, `x > 0`.
///
/// Sums the first terms until `x + N ≥ s + 14`, then the Euler–Maclaurin tail
/// `y^(1−s)/(s−1) + y^(−s)/2 + Σₖ B₂ₖ/(2k)! · s(s+1)…(s+2k−2) · y^(−s−2k+1)` (DLMF 25.11.43 with
/// `ζ(s, x) = Σ_{j<N} (x+j)^(−s) + ζ(s, x+N)`); twelve terms are accurate far beyond `f64`.
fn hurwitz_zeta(s: u32, x: f64) -> f64 {
    let sf = f64::from(s);
    // y^(−s) by s − 1 products of 1/y (s ≤ MAX_POLYGAMMA_ORDER + 1): rounding like `powi`'s
    // chain of products, without its call in the loop of direct terms
    let power = |y: f64| {
        let r = 1.0 / y;
        (1..s).fold(r, |p, _| p * r)
    };
    let mut sum = 0.0;
    let mut y = x;
    while y < sf + 14.0 {
        sum += power(y);
        y += 1.0;
    }
    let ys = power(y);
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
