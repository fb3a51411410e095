//! `ln` and `exp` over slices for the sums of [`Compiled::sum_batch`](super::Compiled): the
//! argument reduction and the polynomial are branch-free (bit operations and arithmetic
//! only), so that the loop vectorizes, and it is compiled for the widest SIMD the CPU has
//! (pulp's runtime dispatch: AVX2 where present). Values outside the main range (zero,
//! negative, subnormal, infinite, NaN for `ln`; `|x| ≥ 700` or NaN for `exp`) go to the
//! platform's `f64::ln` and `f64::exp` afterwards. The algorithms are fdlibm's (Sun
//! Microsystems, 1993, as in musl's `log.c` and `exp.c`), with an error below one ulp; the
//! tests compare them with the platform's functions over the whole range. The constants are
//! fdlibm's bit patterns (their decimal forms beside them). No FMA is used, so
//! every CPU computes the same bits.

const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 6.931_471_803_691_238_164_90e-1
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.908_214_929_270_587_700_02e-10
const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593); // 6.666_666_666_666_735_130e-1
const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04); // 3.999_999_999_940_941_908e-1
const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359); // 2.857_142_874_366_239_149e-1
const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af); // 2.222_219_843_214_978_396e-1
const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de); // 1.818_357_216_161_805_012e-1
const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f); // 1.531_383_769_920_937_332e-1
const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244); // 1.479_819_860_511_658_591e-1

/// `ln x` for a positive normal finite `x`, fdlibm's algorithm; anything for other `x`.
#[inline(always)]
fn ln_core(x: f64) -> f64 {
    let bits = x.to_bits();
    // x = 2^k · m with m in [√2/2, √2).
    let hx = (bits >> 32) + (0x3ff0_0000 - 0x3fe6_a09e);
    let e = (hx >> 20) & 0x7ff;
    // k = e − 1023, exactly, without an integer-to-float conversion.
    let dk =
        f64::from_bits(0x4330_0000_0000_0000 | (e + 2048)) - (4_503_599_627_370_496.0 + 3071.0);
    let hm = (hx & 0x000f_ffff) + 0x3fe6_a09e;
    let m = f64::from_bits((hm << 32) | (bits & 0xffff_ffff));
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// Whether [`ln_core`] applies: `x` positive, normal and finite.
#[inline(always)]
fn ln_in_range(x: f64) -> bool {
    (f64::MIN_POSITIVE..f64::INFINITY).contains(&x)
}

/// `dst[i] = ln(xs[i])`, within an ulp.
pub(crate) fn ln_slice(dst: &mut [f64], xs: &[f64]) {
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for (d, x) in dst.iter_mut().zip(xs) {
                *d = ln_core(*x);
            }
        },
    );
    for (d, x) in dst.iter_mut().zip(xs) {
        if !ln_in_range(*x) {
            *d = x.ln();
        }
    }
}

const INV_LN2: f64 = f64::from_bits(0x3ff7_1547_652b_82fe); // 1.442_695_040_888_963_387_00
const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e); // 1.666_666_666_666_660_190_37e-1
const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93); // -2.777_777_777_701_559_338_42e-3
const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c); // 6.613_756_321_437_934_361_17e-5
const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1); // -1.653_390_220_546_525_153_90e-6
const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0); // 4.138_136_797_057_238_460_39e-8

/// 2⁵² + 2⁵¹: adding it rounds a double of magnitude below 2⁵¹ to an integer.
const ROUND: f64 = 6_755_399_441_055_744.0;

/// `eˣ` for `|x| < 700`, fdlibm's algorithm with k = round(x / ln 2) throughout; anything
/// for other `x`.
#[inline(always)]
fn exp_core(x: f64) -> f64 {
    let t = x * INV_LN2 + ROUND;
    let kf = t - ROUND;
    // k in two's complement, from the low bits of t.
    let k = t.to_bits().wrapping_sub(ROUND.to_bits());
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // y · 2^k by the exponent bits: y is in [0.7, 1.5] and |k| ≤ 1010, so the result is
    // normal.
    f64::from_bits(y.to_bits().wrapping_add(k << 52))
}

/// Whether [`exp_core`] applies.
#[inline(always)]
fn exp_in_range(x: f64) -> bool {
    x.abs() < 700.0
}

/// `dst[i] = exp(xs[i])`, within an ulp.
pub(crate) fn exp_slice(dst: &mut [f64], xs: &[f64]) {
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for (d, x) in dst.iter_mut().zip(xs) {
                *d = exp_core(*x);
            }
        },
    );
    for (d, x) in dst.iter_mut().zip(xs) {
        if !exp_in_range(*x) {
            *d = x.exp();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance in ulps between two doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} {b}");
        a.to_bits().abs_diff(b.to_bits())
    }

    /// SplitMix64, for reproducible samples in [0, 1).
    fn uniform(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn ln_of(xs: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; xs.len()];
        ln_slice(&mut out, xs);
        out
    }

    fn exp_of(xs: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; xs.len()];
        exp_slice(&mut out, xs);
        out
    }

    #[test]
    fn ln_is_within_one_ulp_of_the_platform_over_the_whole_range() {
        let mut seed = 1;
        let mut xs = Vec::new();
        for _ in 0..400_000 {
            // Log-uniform over the normal range, and uniform near 1.
            xs.push((uniform(&mut seed) * 1416.0 - 708.0).exp());
            xs.push(0.5 + uniform(&mut seed));
        }
        xs.extend([
            1.0,
            2.0,
            0.5,
            f64::MIN_POSITIVE,
            f64::MAX,
            1.0 + f64::EPSILON,
            1.0 - f64::EPSILON / 2.0,
            std::f64::consts::E,
            std::f64::consts::SQRT_2,
            std::f64::consts::FRAC_1_SQRT_2,
        ]);
        let worst = xs
            .iter()
            .zip(ln_of(&xs))
            .map(|(x, l)| ulps(l, x.ln()))
            .max();
        assert!(worst <= Some(1), "{worst:?} ulps");
        assert_eq!(ln_of(&[1.0])[0], 0.0);
        // Outside the main range, the platform's values.
        let special = [0.0, -0.0, -1.0, 1e-310, 5e-324, f64::INFINITY, f64::NAN];
        for (x, l) in special.iter().zip(ln_of(&special)) {
            assert_eq!(l.to_bits(), x.ln().to_bits(), "{x}");
        }
    }

    #[test]
    fn exp_is_within_one_ulp_of_the_platform_over_the_whole_range() {
        let mut seed = 2;
        let mut xs = Vec::new();
        for _ in 0..400_000 {
            xs.push(uniform(&mut seed) * 1398.0 - 699.0);
            xs.push(uniform(&mut seed) * 2.0 - 1.0);
            xs.push((uniform(&mut seed) - 0.5) * 1e-9);
        }
        xs.extend([
            0.0,
            -0.0,
            699.99,
            -699.99,
            1e-300,
            -1e-300,
            0.5 * std::f64::consts::LN_2,
            1.0,
        ]);
        let worst = xs
            .iter()
            .zip(exp_of(&xs))
            .map(|(x, e)| ulps(e, x.exp()))
            .max();
        assert!(worst <= Some(1), "{worst:?} ulps");
        assert_eq!(exp_of(&[0.0, -0.0]), [1.0, 1.0]);
        let special = [
            700.0,
            -700.0,
            709.7,
            -745.0,
            -800.0,
            1e3,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for (x, e) in special.iter().zip(exp_of(&special)) {
            assert_eq!(e.to_bits(), x.exp().to_bits(), "{x}");
        }
    }

    #[test]
    fn slices_do_not_depend_on_their_length() {
        // The same value whether it sits in a long slice, a short one or alone.
        let xs: Vec<f64> = (0..1000)
            .map(|i| (f64::from(i) / 37.0 - 13.0).exp())
            .collect();
        let (long_ln, long_exp) = (ln_of(&xs), exp_of(&xs));
        for (i, x) in xs.iter().enumerate() {
            assert_eq!(ln_of(&[*x])[0].to_bits(), long_ln[i].to_bits());
            assert_eq!(exp_of(&[*x])[0].to_bits(), long_exp[i].to_bits());
        }
    }
}
