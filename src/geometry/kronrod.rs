//! Adaptive Gauss–Kronrod quadrature over an interval of a parameter or a path: the
//! one-parameter distance `∫√F dθ` and the length of the continuation path of shooting.

use super::GeometryError;

/// The Kronrod (15) nodes on `[−1, 1]` (the non-negative half), their weights, and the
/// weights of the Gauss (7) rule on the odd-indexed ones (QUADPACK's `qk15`; Piessens et al.,
/// *QUADPACK*, Springer 1983).
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// Subintervals allowed for one integral.
const MAX_INTERVALS: usize = 2000;

/// `(K15, |K15 − G7|)` over `[lo, hi]`.
fn kronrod(
    lo: f64,
    hi: f64,
    f: &mut impl FnMut(f64) -> Result<f64, GeometryError>,
) -> Result<(f64, f64), GeometryError> {
    let (c, h) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let centre = f(c)?;
    let (mut k, mut g) = (WGK[7] * centre, WG[3] * centre);
    for i in 0..7 {
        let s = f(c - h * XGK[i])? + f(c + h * XGK[i])?;
        k += WGK[i] * s;
        if i % 2 == 1 {
            g += WG[i / 2] * s;
        }
    }
    Ok((k * h, ((k - g) * h).abs()))
}

/// `∫ₗₒʰⁱ f` by globally adaptive Gauss–Kronrod to relative `rel`, with its error estimate;
/// `what` names the integral in the error.
pub(super) fn adaptive(
    what: &str,
    lo: f64,
    hi: f64,
    rel: f64,
    f: &mut impl FnMut(f64) -> Result<f64, GeometryError>,
) -> Result<(f64, f64), GeometryError> {
    let mut pieces = vec![(lo, hi, kronrod(lo, hi, f)?)];
    loop {
        let total: f64 = pieces.iter().map(|p| p.2.0).sum();
        let error: f64 = pieces.iter().map(|p| p.2.1).sum();
        if error <= rel * total.abs() || error == 0.0 {
            return Ok((total, error));
        }
        if pieces.len() >= MAX_INTERVALS {
            return Err(GeometryError::Integral {
                reason: format!(
                    "{what} did not reach relative {rel:e} in {MAX_INTERVALS} subintervals (estimate {:e})",
                    error / total.abs()
                ),
            });
        }
        let worst = pieces
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.2.1.total_cmp(&y.1.2.1))
            .map(|(i, _)| i)
            .expect("at least one piece");
        let (l, h, _) = pieces.swap_remove(worst);
        let m = 0.5 * (l + h);
        pieces.push((l, m, kronrod(l, m, f)?));
        pieces.push((m, h, kronrod(m, h, f)?));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 15-point Kronrod rule integrates polynomials of degree 3·7 + 1 = 22 exactly, and the
    /// adaptive rule reaches its tolerance on a peaked integrand.
    #[test]
    fn the_rules_integrate_what_they_should() {
        let mut poly = |x: f64| Ok(23.0 * x.powi(22) + 1.0);
        let (v, _) = kronrod(-1.0, 2.0, &mut poly).unwrap();
        let want = 2f64.powi(23) + 1.0 + 3.0; // [x²³ + x] from −1 to 2
        assert!((v - want).abs() < 1e-12 * want, "{v} {want}");
        // ∫₀¹⁰⁰ dx/(1 + x²) = atan(100), peaked at 0
        let mut peak = |x: f64| Ok(1.0 / (1.0 + x * x));
        let (v, e) = adaptive("a test", 0.0, 100.0, 1e-12, &mut peak).unwrap();
        assert!((v - 100f64.atan()).abs() < 1e-12, "{v} ± {e}");
    }
}
