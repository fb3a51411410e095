//! Summary statistics of Markov chain draws of one scalar quantity ([`summarize`]): mean,
//! standard deviation, quantiles, rank-normalized split R̂ and bulk and tail effective
//! sample sizes (Vehtari et al. 2021).

/// Why draws cannot be summarized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiagnosticsError {
    /// No chains at all.
    #[error("there are no chains to summarize")]
    NoChains,
    /// A chain too short to split and to estimate an autocorrelation.
    #[error("chain {chain} has {found} draw(s); at least {MIN_DRAWS} are needed")]
    TooShort {
        /// The chain, from 0.
        chain: usize,
        /// Its number of draws.
        found: usize,
    },
    /// Chains of different lengths.
    #[error("chain {chain} has {found} draws, chain 0 has {expected}")]
    Ragged {
        /// The chain that differs, from 0.
        chain: usize,
        /// The length of chain 0.
        expected: usize,
        /// Its length.
        found: usize,
    },
    /// A draw that is NaN or infinite.
    #[error("chain {chain}, draw {draw}: {value} is not a finite number")]
    NotFinite {
        /// The chain, from 0.
        chain: usize,
        /// The draw, from 0.
        draw: usize,
        /// The value.
        value: f64,
    },
}

/// The fewest draws per chain [`summarize`] accepts (as ArviZ).
pub const MIN_DRAWS: usize = 4;

/// Posterior summary and convergence diagnostics of one scalar quantity over several chains;
/// see [`summarize`] for the definitions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean of all draws.
    pub mean: f64,
    /// Standard deviation of all draws (divisor S − 1).
    pub sd: f64,
    /// 5 % quantile (linear interpolation, R type 7).
    pub q05: f64,
    /// Median (linear interpolation, R type 7).
    pub q50: f64,
    /// 95 % quantile (linear interpolation, R type 7).
    pub q95: f64,
    /// Bulk effective sample size (rank-normalized split chains).
    pub ess_bulk: f64,
    /// Tail effective sample size (the 5 % and 95 % quantile indicators).
    pub ess_tail: f64,
    /// Rank-normalized split R̂, the larger of the bulk and the folded (tail) version; NaN
    /// when every draw is the same number (no variance to compare).
    pub rhat: f64,
}

/// Summarizes draws of one scalar quantity, `chains[c][i]` draw `i` of chain `c`: mean,
/// standard deviation, the 5/50/95 % quantiles, and the convergence diagnostics of Vehtari,
/// Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding, and
/// localization: an improved R̂ for assessing convergence of MCMC", *Bayesian Analysis*
/// 16(2), 667–718:
///
/// - **R̂** (their recommended one): the larger of the rank-normalized split-R̂ of the draws
///   (bulk) and of the draws folded about their median, `|x − median|` (tail). Each chain is
///   split in halves (the middle draw of an odd-length chain is left out), all draws are
///   replaced by the normal scores of their pooled ranks, `Φ⁻¹((r − 3/8)/(S + 1/4))` (average
///   ranks for ties, S the number of draws), and the classic
///   `R̂ = √(((n − 1)/n · W + B/n) / W)` is taken of the result.
/// - **bulk ESS**: the effective sample size of the same rank-normalized split chains, with the
///   autocorrelations combined across chains (as Stan's `ess_bulk`) and truncated by Geyer's
///   initial monotone sequence; `τ̂` is kept at least `1/log₁₀(S)`.
/// - **tail ESS**: the smaller of the effective sample sizes of the indicators `x ≤ q₀₅` and
///   `x ≤ q₉₅` (split chains, not rank-normalized).
///
/// The computations follow ArviZ (`az.rhat(method="rank")`, `az.ess(method="bulk")`,
/// `az.ess(method="tail")`) step for step, and `tests/hmc.rs` checks them against ArviZ to
/// 1e-8. Quantiles are the linear interpolation of the sorted draws at `(S − 1)·q` (R's type 7,
/// NumPy's default).
///
/// ```
/// use fisher_geometry::summarize;
/// // two chains stuck at different levels: R̂ far above 1
/// let a: Vec<f64> = (0..100).map(|i| (i as f64 * 0.7).sin()).collect();
/// let b: Vec<f64> = a.iter().map(|x| x + 5.0).collect();
/// let s = summarize(&[a, b])?;
/// assert!(s.rhat > 1.5);
/// # Ok::<(), fisher_geometry::DiagnosticsError>(())
/// ```
///
/// # Errors
///
/// No chains, a chain shorter than [`MIN_DRAWS`], chains of different lengths, or a draw that
/// is not finite.
pub fn summarize<C: AsRef<[f64]>>(chains: &[C]) -> Result<Summary, DiagnosticsError> {
    let chains: Vec<&[f64]> = chains.iter().map(AsRef::as_ref).collect();
    let Some(first) = chains.first() else {
        return Err(DiagnosticsError::NoChains);
    };
    let n = first.len();
    for (c, chain) in chains.iter().enumerate() {
        if chain.len() < MIN_DRAWS {
            return Err(DiagnosticsError::TooShort {
                chain: c,
                found: chain.len(),
            });
        }
        if chain.len() != n {
            return Err(DiagnosticsError::Ragged {
                chain: c,
                expected: n,
                found: chain.len(),
            });
        }
        if let Some((i, &v)) = chain.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DiagnosticsError::NotFinite {
                chain: c,
                draw: i,
                value: v,
            });
        }
    }
    let all: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let sd = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (all.len() - 1) as f64).sqrt();
    let mut sorted = all.clone();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| quantile_sorted(&sorted, q);
    let (q05, q50, q95) = (quantile(0.05), quantile(0.5), quantile(0.95));

    let split = split_chains(&chains);
    let z = rank_normalize(&split);
    let ess_bulk = ess(&z);
    let rhat_bulk = rhat(&z);
    let split_all: Vec<f64> = split.iter().flatten().copied().collect();
    let median = median(&split_all);
    let folded: Vec<Vec<f64>> = split
        .iter()
        .map(|c| c.iter().map(|x| (x - median).abs()).collect())
        .collect();
    let rhat_tail = rhat(&rank_normalize(&folded));
    let ess_tail = [q05, q95]
        .iter()
        .map(|&q| {
            let indicator: Vec<Vec<f64>> = chains
                .iter()
                .map(|c| c.iter().map(|&x| f64::from(u8::from(x <= q))).collect())
                .collect();
            let refs: Vec<&[f64]> = indicator.iter().map(Vec::as_slice).collect();
            ess(&split_chains(&refs))
        })
        .fold(f64::INFINITY, f64::min);
    Ok(Summary {
        mean,
        sd,
        q05,
        q50,
        q95,
        ess_bulk,
        ess_tail,
        rhat: rhat_bulk.max(rhat_tail),
    })
}

/// The linear-interpolation quantile (R type 7) of sorted values.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, 0.5)
}

/// Each chain cut into its first and last `⌊n/2⌋` draws.
fn split_chains(chains: &[&[f64]]) -> Vec<Vec<f64>> {
    let half = chains[0].len() / 2;
    let mut out: Vec<Vec<f64>> = chains.iter().map(|c| c[..half].to_vec()).collect();
    out.extend(chains.iter().map(|c| c[c.len() - half..].to_vec()));
    out
}

/// Every value replaced by the normal score of its rank among all values:
/// `Φ⁻¹((r − 3/8)/(S + 1/4))`, ties given their average rank.
fn rank_normalize(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut indexed: Vec<(f64, usize, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, chain)| chain.iter().enumerate().map(move |(i, &x)| (x, c, i)))
        .collect();
    indexed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let size = indexed.len() as f64;
    let mut out: Vec<Vec<f64>> = chains.iter().map(|c| vec![0.0; c.len()]).collect();
    let mut start = 0;
    while start < indexed.len() {
        let mut end = start + 1;
        while end < indexed.len() && indexed[end].0 == indexed[start].0 {
            end += 1;
        }
        // ranks start + 1 ..= end, averaged
        let rank = (start + 1 + end) as f64 / 2.0;
        let z = normal_quantile((rank - 0.375) / (size + 0.25));
        for &(_, c, i) in &indexed[start..end] {
            out[c][i] = z;
        }
        start = end;
    }
    out
}

/// The classic R̂ of equal-length chains, `√((B/W + n − 1)/n)`.
fn rhat(chains: &[Vec<f64>]) -> f64 {
    let n = chains[0].len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / n).collect();
    let within = chains
        .iter()
        .zip(&means)
        .map(|(c, m)| c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / chains.len() as f64;
    let between = n * sample_variance(&means);
    ((between / within + n - 1.0) / n).sqrt()
}

/// Variance with divisor `len − 1` (0 for a single value, as the single-chain ESS needs none).
fn sample_variance(values: &[f64]) -> f64 {
    let m = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0)
}

/// The effective sample size of equal-length chains (Vehtari et al. 2021, with Geyer's
/// initial positive and monotone sequences), autocovariances with divisor n, as ArviZ's `_ess`.
fn ess(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len();
    let n = chains[0].len();
    let size = (m * n) as f64;
    let (lo, hi) = chains
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    // numpy's float resolution, 1e-15: a constant quantity is as good as independent draws
    if hi - lo < 1e-15 {
        return size;
    }
    let centred: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| {
            let mean = c.iter().sum::<f64>() / n as f64;
            c.iter().map(|x| x - mean).collect()
        })
        .collect();
    // mean over chains of the lag-t autocovariance
    let acov = |t: usize| -> f64 {
        centred
            .iter()
            .map(|c| {
                c[..n - t]
                    .iter()
                    .zip(&c[t..])
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    / n as f64
            })
            .sum::<f64>()
            / m as f64
    };
    let nf = n as f64;
    let mean_var = acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / nf).collect();
        var_plus += sample_variance(&means);
    }
    let rho = |t: usize| 1.0 - (mean_var - acov(t)) / var_plus;
    let mut rho_hat = vec![0.0; n];
    let mut even = 1.0;
    rho_hat[0] = even;
    let mut odd = rho(1);
    rho_hat[1] = odd;
    // Geyer's initial positive sequence
    let mut t = 1;
    while t + 3 < n && even + odd > 0.0 {
        even = rho(t + 1);
        odd = rho(t + 2);
        if even + odd >= 0.0 {
            rho_hat[t + 1] = even;
            rho_hat[t + 2] = odd;
        }
        t += 2;
    }
    // t ≥ 1 always, and t ≥ 3 once the loop ran; max_t = t − 2 may be −1 (as in ArviZ, where
    // the sums below are then over empty and one-element slices)
    let max_t = t as isize - 2;
    if even > 0.0 {
        let i = (max_t + 1) as usize;
        rho_hat[i] = even;
    }
    // Geyer's initial monotone sequence
    let mut t = 1isize;
    while t <= max_t - 2 {
        let (t1, t2, t0, tm) = (
            (t + 1) as usize,
            (t + 2) as usize,
            t as usize,
            (t - 1) as usize,
        );
        if rho_hat[t1] + rho_hat[t2] > rho_hat[tm] + rho_hat[t0] {
            rho_hat[t1] = (rho_hat[tm] + rho_hat[t0]) / 2.0;
            rho_hat[t2] = rho_hat[t1];
        }
        t += 2;
    }
    let head = (max_t + 1) as usize;
    let tau = -1.0 + 2.0 * rho_hat[..head].iter().sum::<f64>() + rho_hat[head];
    let tau = tau.max(1.0 / size.log10());
    if rho_hat.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

/// The standard normal quantile `Φ⁻¹(p)`, Wichura's algorithm AS 241 (PPND16, *Applied
/// Statistics* 37, 1988): within 8e-16 relative (4 ulp) of mpmath on 3000 random p from
/// 1e-300 to 1 − 1e-16; `±∞` at 0 and 1, NaN outside [0, 1].
#[allow(clippy::excessive_precision)] // Wichura's coefficients as published, digit for digit
pub(crate) fn normal_quantile(p: f64) -> f64 {
    #[rustfmt::skip]
    const A: [f64; 8] = [
        3.387_132_872_796_366_608, 133.141_667_891_784_377_13, 1_971.590_950_306_551_442_7,
        13_731.693_765_509_461_125, 45_921.953_931_549_871_457, 67_265.770_927_008_700_853,
        33_430.575_583_588_128_105, 2_509.080_928_730_122_672_7,
    ];
    #[rustfmt::skip]
    const B: [f64; 8] = [
        1.0, 42.313_330_701_600_911_252, 687.187_007_492_057_908_95, 5_394.196_021_424_751_077_1,
        21_213.794_301_586_595_867, 39_307.895_800_092_710_610, 28_729.085_735_721_942_674,
        5_226.495_278_852_545_925_3,
    ];
    #[rustfmt::skip]
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34, 4.630_337_846_156_545_295_90, 5.769_497_221_460_691_405_50,
        3.647_848_324_763_204_605_04, 1.270_458_252_452_368_382_58, 0.241_780_725_177_450_611_770,
        0.022_723_844_989_269_184_583_4, 7.745_450_142_783_414_076_60e-4,
    ];
    #[rustfmt::skip]
    const D: [f64; 8] = [
        1.0, 2.053_191_626_637_758_821_87, 1.676_384_830_183_803_849_40,
        0.689_767_334_985_100_004_550, 0.148_103_976_427_480_074_590,
        0.015_198_666_563_616_457_204_3, 5.475_938_084_995_344_946_60e-4,
        1.050_750_071_644_416_843_64e-9,
    ];
    #[rustfmt::skip]
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_20, 5.463_784_911_164_114_369_90, 1.784_826_539_917_291_335_80,
        0.296_560_571_828_504_891_230, 0.026_532_189_526_576_123_093_1,
        0.001_242_660_947_388_078_438_57, 2.711_555_568_743_487_578_65e-5,
        2.010_334_399_292_288_132_70e-7,
    ];
    #[rustfmt::skip]
    const F: [f64; 8] = [
        1.0, 0.599_832_206_555_887_937_690, 0.136_929_880_922_735_805_310,
        0.014_875_361_290_850_615_025_0, 7.868_691_311_456_132_591_04e-4,
        1.846_318_317_510_054_681_80e-5, 1.421_511_758_316_445_888_70e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    fn ratio(num: &[f64; 8], den: &[f64; 8], x: f64) -> f64 {
        let horner = |c: &[f64; 8]| c.iter().rev().fold(0.0, |acc, &k| acc * x + k);
        horner(num) / horner(den)
    }
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * ratio(&A, &B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    if r == 0.0 {
        return if q < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let r = (-r.ln()).sqrt();
    let x = if r <= 5.0 {
        ratio(&C, &D, r - 1.6)
    } else {
        ratio(&E, &F, r - 5.0)
    };
    if q < 0.0 { -x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Φ⁻¹(p)` by mpmath 1.3 at 40 digits (`findroot(lambda x: ncdf(x) - p, …)` at the
    /// exact double p), rounded to the nearest double.
    #[test]
    fn normal_quantile_matches_mpmath() {
        #[rustfmt::skip]
        let cases = [
            (0.5, 0.0), (0.0125, -2.2414027276049455), (0.3, -0.5244005127080408),
            (0.075, -1.439531470938456), (0.9, 1.2815515655446006), (0.97, 1.8807936081512506),
            (0.999, 3.090232306167813), (1e-05, -4.264890793922825),
            (0.999999999, 5.9978070196016375), (1e-20, -9.262340089798407),
            (1e-100, -21.273453560965326), (3e-300, -37.017451537531635),
            (0.42, -0.20189347914185088), (0.0749, -1.4402382675279637),
            (0.2, -0.8416212335729142), (0.6, 0.2533471031357997), (0.05, -1.6448536269514726),
            (0.01, -2.326347874040841),
        ];
        for (p, want) in cases {
            let got = normal_quantile(p);
            assert!(
                (got - want).abs() <= 1e-15 * want.abs(),
                "{p}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn normal_quantile_ends() {
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan() && normal_quantile(f64::NAN).is_nan());
    }
}
