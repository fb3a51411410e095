//! Multiple-precision pieces of [`eval_accurate`](super::eval_accurate): [`Wide`], a
//! non-negative `f64` with an `i64` exponent for error bounds beyond the range of `f64`, and
//! `ln|Γ|`, ψ and ψ⁽ⁿ⁾ on astro-float's `BigFloat`, each with a bound on its absolute error.
//!
//! The special functions shift the argument up by the recurrences
//! `ln Γ(x) = ln Γ(x + m) − ln|x (x+1) ⋯ (x+m−1)|` and
//! `ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + m) − (−1)ⁿ n! Σ_{k<m} (x + k)^−(n+1)` (DLMF 5.5.2, 5.15.5) until
//! `y = x + m` is at least the working precision in bits, then sum the asymptotic series
//! (DLMF 5.11.1 for `ln Γ`, 5.11.2 for ψ, 5.15.8 for ψ⁽ⁿ⁾, `n ≥ 1`) with the Bernoulli numbers
//! `B₂ₖ`. For real `y > 0` these series are enveloping: the error of a truncated sum is below
//! the first omitted term (DLMF 5.11.iii, 5.15.iii), which the bound counts twice. The
//! Bernoulli numbers come from the tangent numbers, integers computed exactly by the
//! algorithm of Brent and Harvey (2011, "Fast computation of Bernoulli, Tangent and Secant
//! numbers", §3), `B₂ₖ = (−1)^(k−1) 2k Tₖ / (2^(2k) (2^(2k) − 1))`.

use std::cmp::Ordering;
use std::sync::OnceLock;

use astro_float::{BigFloat, Consts, RoundingMode};

/// Rounding of every multiple-precision operation.
pub(super) const RM: RoundingMode = RoundingMode::ToEven;

/// The highest working precision, in bits, that the special functions support.
pub(super) const MAX_SPECIAL_BITS: usize = 4096;

/// Guard bits the special functions carry above the requested precision.
const GUARD: usize = 32;

/// Number of Bernoulli numbers `B₂, …, B₂ₖ` kept: at `y ≥ p` the series reaches `2^−(p+32)`
/// within 310 terms for `p ≤ 4096`.
const BERNOULLI_COUNT: usize = 330;

/// Precision of the exact tangent numbers `T₁ … T₃₃₀` (`T₃₃₀` has about 4 800 bits).
const TANGENT_BITS: usize = 6144;

/// Most negative argument the special functions shift up from (the shift is one term per unit).
pub(super) const MOST_NEGATIVE: f64 = -1e5;

/// `x` rounded to the nearest `f64`, saturating to ±∞ and flushing to 0 beyond its range.
pub(super) fn big_to_f64_saturating(x: &BigFloat) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.is_inf() {
        return if x.is_negative() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let Some((words, _, _, e, _)) = x.as_raw_parts() else {
        return f64::NAN;
    };
    let Some(&top) = words.last() else {
        return 0.0;
    };
    if top == 0 {
        return 0.0;
    }
    // `top as f64` rounds 64 bits to 53 to nearest even; a tie that the lower words break
    // upward is made to round up by setting a sticky bit
    let sticky = words[..words.len() - 1].iter().any(|w| *w != 0);
    let top = if sticky && top & 0x7ff == 0x400 {
        top | 1
    } else {
        top
    };
    let m = top as f64 / 2f64.powi(64);
    let e = i64::from(e).clamp(-3000, 3000) as i32;
    let half = e / 2;
    let v = m * 2f64.powi(half) * 2f64.powi(e - half);
    if x.is_negative() { -v } else { v }
}

/// A non-negative magnitude `m · 2^e` with `m = 0`, `m = ∞` or `½ ≤ m < 1`: an error bound whose
/// exponent does not overflow `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Wide {
    m: f64,
    e: i64,
}

/// `x = m · 2^e` with `½ ≤ |m| < 1`, for finite non-zero `x`.
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    if exp == 0 {
        let (m, e) = frexp(x * 2f64.powi(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// `x · 2^e` without intermediate overflow for results in range.
fn ldexp(x: f64, e: i64) -> f64 {
    let e = e.clamp(-2200, 2200) as i32;
    let half = e / 2;
    x * 2f64.powi(half) * 2f64.powi(e - half)
}

impl Wide {
    /// Zero.
    pub(super) const ZERO: Wide = Wide { m: 0.0, e: 0 };
    /// Infinity: no bound.
    pub(super) const INF: Wide = Wide {
        m: f64::INFINITY,
        e: 0,
    };

    /// `|x|`; NaN becomes ∞.
    pub(super) fn from_f64(x: f64) -> Wide {
        if x.is_nan() || x.is_infinite() {
            return Wide::INF;
        }
        let (m, e) = frexp(x.abs());
        Wide { m, e }
    }

    /// `2^e`.
    pub(super) fn pow2(e: i64) -> Wide {
        Wide { m: 0.5, e: e + 1 }
    }

    /// `|x|`, rounded toward zero to 53 bits (callers add the relative slack they need).
    pub(super) fn from_big(x: &BigFloat) -> Wide {
        if x.is_nan() || x.is_inf() {
            return Wide::INF;
        }
        match x.as_raw_parts() {
            Some((words, _, _, e, _)) => match words.last() {
                Some(&top) if top != 0 => Wide {
                    m: top as f64 / 2f64.powi(64),
                    e: i64::from(e),
                },
                _ => Wide::ZERO,
            },
            None => Wide::INF,
        }
    }

    /// Whether this is zero.
    pub(super) fn is_zero(self) -> bool {
        self.m == 0.0
    }

    /// Whether this is finite.
    pub(super) fn is_finite(self) -> bool {
        self.m.is_finite()
    }

    fn norm(m: f64, e: i64) -> Wide {
        if m == 0.0 {
            return Wide::ZERO;
        }
        if !m.is_finite() {
            return Wide::INF;
        }
        let (m, k) = frexp(m.abs());
        Wide { m, e: e + k }
    }

    /// The product; `0 · ∞ = ∞` (a bound that is lost stays lost).
    pub(super) fn mul(self, o: Wide) -> Wide {
        if !self.is_finite() || !o.is_finite() {
            return Wide::INF;
        }
        Wide::norm(self.m * o.m, self.e + o.e)
    }

    /// The product with an `f64` factor `|k|`.
    pub(super) fn scale(self, k: f64) -> Wide {
        self.mul(Wide::from_f64(k))
    }

    /// The quotient; division by zero gives ∞.
    pub(super) fn div(self, o: Wide) -> Wide {
        if !self.is_finite() || !o.is_finite() || o.is_zero() {
            return if self.is_zero() && o.is_finite() && !o.is_zero() {
                Wide::ZERO
            } else {
                Wide::INF
            };
        }
        Wide::norm(self.m / o.m, self.e - o.e)
    }

    /// The sum.
    pub(super) fn add(self, o: Wide) -> Wide {
        if !self.is_finite() || !o.is_finite() {
            return Wide::INF;
        }
        if self.is_zero() {
            return o;
        }
        if o.is_zero() {
            return self;
        }
        let (big, small) = if self.e >= o.e { (self, o) } else { (o, self) };
        let d = big.e - small.e;
        if d > 1100 {
            // below the last bit of `big`: round the bound up by one ulp
            return Wide::norm(big.m * (1.0 + f64::EPSILON), big.e);
        }
        Wide::norm(big.m + ldexp(small.m, -d), big.e)
    }

    /// The value as an `f64`, ∞ above its range and 0 below.
    pub(super) fn to_f64(self) -> f64 {
        if !self.is_finite() {
            return f64::INFINITY;
        }
        if self.e > 1100 {
            return f64::INFINITY;
        }
        if self.e < -1200 {
            return 0.0;
        }
        ldexp(self.m, self.e)
    }

    /// The smaller of two bounds.
    pub(super) fn min_wide(self, o: Wide) -> Wide {
        if self <= o { self } else { o }
    }
}

impl PartialOrd for Wide {
    fn partial_cmp(&self, o: &Wide) -> Option<Ordering> {
        Some(match (self.is_finite(), o.is_finite()) {
            (false, false) => Ordering::Equal,
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            _ => match (self.is_zero(), o.is_zero()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => self.e.cmp(&o.e).then(self.m.total_cmp(&o.m)),
            },
        })
    }
}

/// `B₂, B₄, …` rounded to [`MAX_SPECIAL_BITS`] + 128 bits.
fn bernoulli() -> &'static [BigFloat] {
    static TABLE: OnceLock<Vec<BigFloat>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let n = BERNOULLI_COUNT;
        let p = TANGENT_BITS;
        // Brent & Harvey, TangentNumbers(n): all values stay integers below 2^TANGENT_BITS
        let mut t: Vec<BigFloat> = Vec::with_capacity(n + 1);
        t.push(BigFloat::from_u64(0, p));
        t.push(BigFloat::from_u64(1, p));
        for k in 2..=n {
            let prev = t[k - 1].mul(&BigFloat::from_u64((k - 1) as u64, p), p, RM);
            t.push(prev);
        }
        for k in 2..=n {
            for j in k..=n {
                let a = t[j - 1].mul(&BigFloat::from_u64((j - k) as u64, p), p, RM);
                let b = t[j].mul(&BigFloat::from_u64((j - k + 2) as u64, p), p, RM);
                t[j] = a.add(&b, p, RM);
            }
        }
        let q = MAX_SPECIAL_BITS + 128;
        (1..=n)
            .map(|k| {
                let four_k = BigFloat::from_u64(1, q).mul(
                    &BigFloat::from_u64(2, q).powi(2 * k, q, RM),
                    q,
                    RM,
                );
                let denom = four_k.mul(&four_k.sub(&BigFloat::from_u64(1, q), q, RM), q, RM);
                let num = t[k].mul(&BigFloat::from_u64(2 * k as u64, q), q, RM);
                let b = num.div(&denom, q, RM);
                if k % 2 == 1 { b } else { b.neg() }
            })
            .collect()
    })
}

/// Whether the tangent numbers behind [`bernoulli`] were exact (no rounding): a self-check.
#[cfg(test)]
pub(super) fn tangent_numbers_exact() -> bool {
    let b = bernoulli();
    // B₂ = 1/6, B₄ = −1/30 and |B₂ₖ| growing as 2(2k)!/(2π)^2k
    let q = MAX_SPECIAL_BITS + 128;
    let sixth = BigFloat::from_u64(1, q).div(&BigFloat::from_u64(6, q), q, RM);
    let b2_ok = b[0].sub(&sixth, q, RM).is_zero();
    let thirtieth = BigFloat::from_u64(1, q).div(&BigFloat::from_u64(30, q), q, RM);
    let b4_ok = b[1].add(&thirtieth, q, RM).is_zero();
    b2_ok && b4_ok && b.iter().all(|x| !x.is_nan() && !x.is_inf())
}

/// Which function of the gamma family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gamma {
    /// `ln|Γ(x)|`.
    Lgamma,
    /// `ψ⁽ⁿ⁾(x)`; `n = 0` is the digamma function.
    Psi(u32),
}

/// Why a special function has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SpecialError {
    /// The argument is a pole (`0, −1, −2, …`), or NaN.
    Pole,
    /// The argument is below [`MOST_NEGATIVE`] or the precision above [`MAX_SPECIAL_BITS`].
    OutOfRange,
}

fn big(x: u64, p: usize) -> BigFloat {
    BigFloat::from_u64(x, p)
}

/// `n!` at precision `p`.
fn factorial(n: u32, p: usize) -> BigFloat {
    (2..=u64::from(n)).fold(big(1, p), |acc, k| acc.mul(&big(k, p), p, RM))
}

/// `f(x)` for `f` of the gamma family at precision `p`, and a bound on its absolute error.
///
/// # Errors
///
/// [`SpecialError::Pole`] at a pole, [`SpecialError::OutOfRange`] for an argument below
/// [`MOST_NEGATIVE`] or a precision above [`MAX_SPECIAL_BITS`].
pub(super) fn gamma_family(
    f: Gamma,
    x: &BigFloat,
    p: usize,
    cc: &mut Consts,
) -> Result<(BigFloat, Wide), SpecialError> {
    if x.is_nan() || x.is_inf() {
        return Err(SpecialError::Pole);
    }
    if p > MAX_SPECIAL_BITS {
        return Err(SpecialError::OutOfRange);
    }
    if (x.is_int() && !x.is_positive()) || x.is_zero() {
        return Err(SpecialError::Pole);
    }
    let q = p + GUARD;
    let u = Wide::pow2(-(q as i64));
    let threshold = p.max(32) as f64;
    let xf = big_to_f64_saturating(x);
    if xf < MOST_NEGATIVE {
        return Err(SpecialError::OutOfRange);
    }
    let m = if xf < threshold {
        (threshold - xf).ceil() as u64
    } else {
        0
    };
    // y = x + m, rounded to q + 64 bits: the error this makes is far below the bound below
    let y_q = x.add(&big(m, 64), q + 64, RM);
    let inv = big(1, q).div(&y_q, q, RM);
    let inv2 = inv.mul(&inv, q, RM);
    let ln_y = y_q.ln(q, RM, cc);
    let bern = bernoulli();
    // the asymptotic sum, the magnitude of its leading part, and the first omitted term
    let (asym, scale, tail, terms) = match f {
        Gamma::Lgamma => {
            let half = BigFloat::from_f64(0.5, q);
            let two_pi = cc.pi(q, RM).mul(&big(2, q), q, RM);
            let lead = y_q
                .sub(&half, q, RM)
                .mul(&ln_y, q, RM)
                .sub(&y_q, q, RM)
                .add(&two_pi.ln(q, RM, cc).mul(&half, q, RM), q, RM);
            let scale = Wide::from_big(&y_q.mul(&ln_y, q, RM)).add(Wide::from_big(&y_q));
            let stop = scale.mul(u);
            let mut sum = lead;
            let mut pw = inv.clone(); // y^−(2k−1)
            let mut tail = Wide::INF;
            let mut k = 0;
            while k < bern.len() {
                let two_k = 2 * (k as u64 + 1);
                let c = bern[k].div(&big(two_k * (two_k - 1), q), q, RM);
                let term = c.mul(&pw, q, RM);
                let w = Wide::from_big(&term);
                if w < stop {
                    tail = w;
                    break;
                }
                sum = sum.add(&term, q, RM);
                pw = pw.mul(&inv2, q, RM);
                k += 1;
            }
            (sum, scale, tail, k)
        }
        Gamma::Psi(0) => {
            let half_inv = inv.mul(&BigFloat::from_f64(0.5, q), q, RM);
            let lead = ln_y.sub(&half_inv, q, RM);
            let scale = Wide::from_big(&ln_y).add(Wide::from_big(&half_inv));
            let stop = scale.mul(u);
            let mut sum = lead;
            let mut pw = inv2.clone(); // y^−2k
            let mut tail = Wide::INF;
            let mut k = 0;
            while k < bern.len() {
                let two_k = 2 * (k as u64 + 1);
                let term = bern[k].div(&big(two_k, q), q, RM).mul(&pw, q, RM);
                let w = Wide::from_big(&term);
                if w < stop {
                    tail = w;
                    break;
                }
                sum = sum.sub(&term, q, RM);
                pw = pw.mul(&inv2, q, RM);
                k += 1;
            }
            (sum, scale, tail, k)
        }
        Gamma::Psi(n) => {
            // (−1)^(n+1) [ (n−1)!/yⁿ + n!/(2y^(n+1)) + Σₖ B₂ₖ (2k+n−1)!/((2k)! y^(2k+n)) ]
            let n_fact = factorial(n, q);
            let nm1_fact = factorial(n - 1, q);
            let y_n = inv.powi(n as usize, q, RM);
            let lead1 = nm1_fact.mul(&y_n, q, RM);
            let lead2 = n_fact
                .mul(&y_n, q, RM)
                .mul(&inv, q, RM)
                .div(&big(2, q), q, RM);
            let scale = Wide::from_big(&lead1);
            let stop = scale.mul(u);
            let mut sum = lead1.add(&lead2, q, RM);
            // r = (2k+n−1)!/(2k)!, k = 1: (n+1)!/2
            let mut r = factorial(n + 1, q).div(&big(2, q), q, RM);
            let mut pw = y_n.mul(&inv2, q, RM); // y^−(2k+n)
            let mut tail = Wide::INF;
            let mut k = 0;
            while k < bern.len() {
                let term = bern[k].mul(&r, q, RM).mul(&pw, q, RM);
                let w = Wide::from_big(&term);
                if w < stop {
                    tail = w;
                    break;
                }
                sum = sum.add(&term, q, RM);
                let kk = k as u64 + 1; // the term just added is k = kk
                let a = 2 * kk + u64::from(n);
                r = r.mul(&big(a * (a + 1), q), q, RM).div(
                    &big((2 * kk + 1) * (2 * kk + 2), q),
                    q,
                    RM,
                );
                pw = pw.mul(&inv2, q, RM);
                k += 1;
            }
            if n % 2 == 0 {
                sum = sum.neg();
            }
            (sum, scale, tail, k)
        }
    };
    if !tail.is_finite() {
        return Err(SpecialError::OutOfRange);
    }
    // the shift back down from y to x
    let mut shift_scale = Wide::ZERO;
    let value = if m == 0 {
        asym
    } else {
        match f {
            Gamma::Lgamma => {
                let mut prod = big(1, q);
                for k in 0..m {
                    let t = x.add(&big(k, 64), q, RM);
                    prod = prod.mul(&t, q, RM);
                }
                let ln_prod = prod.abs().ln(q, RM, cc);
                shift_scale = Wide::from_big(&ln_prod).add(Wide::from_f64(1.0));
                asym.sub(&ln_prod, q, RM)
            }
            Gamma::Psi(n) => {
                let mut sum = BigFloat::new(q);
                let mut abs_sum = BigFloat::new(q);
                for k in 0..m {
                    let t = x.add(&big(k, 64), q, RM);
                    let term = t.powi(n as usize + 1, q, RM).reciprocal(q, RM);
                    abs_sum = abs_sum.add(&term.abs(), q, RM);
                    sum = sum.add(&term, q, RM);
                }
                let n_fact = factorial(n, q);
                let shift = n_fact.mul(&sum, q, RM);
                shift_scale = Wide::from_big(&n_fact.mul(&abs_sum, q, RM));
                if n % 2 == 0 {
                    asym.sub(&shift, q, RM)
                } else {
                    asym.add(&shift, q, RM)
                }
            }
        }
    };
    if value.is_nan() || value.is_inf() {
        return Err(SpecialError::OutOfRange);
    }
    let mut rounded = value.clone();
    rounded
        .set_precision(p, RM)
        .map_err(|_| SpecialError::OutOfRange)?;
    // rounding in the sums and products: a few units of 2^−q per operation, on the scale of
    // the terms; the truncated series (twice its first omitted term); the final rounding
    let ops = (m as f64) + (terms as f64) * 4.0 + 64.0 + f64::from(n_of(f)) * 4.0;
    let err = u
        .mul(scale.add(shift_scale).add(Wide::from_f64(1.0)))
        .scale(ops)
        .add(tail.scale(2.0))
        .add(Wide::from_big(&rounded).mul(Wide::pow2(-(p as i64))));
    Ok((rounded, err))
}

fn n_of(f: Gamma) -> u32 {
    match f {
        Gamma::Lgamma => 0,
        Gamma::Psi(n) => n,
    }
}
