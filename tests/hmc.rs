//! The samplers of `inference::hmc` (RMHMC and HMC) on targets whose exact distribution is
//! known, their integrator (reversibility, volume, energy error of order ε²), their errors and
//! determinism; and `summarize` (rank-normalized R̂, bulk and tail ESS) against ArviZ.

use fisher_geometry::{
    DMatrix, SampleError, SampleOptions, Sampler, Samples, Target, TargetError, sample, summarize,
    trajectory,
};
use rand::{SeedableRng, rngs::Xoshiro256PlusPlus};
use rand_distr::{Distribution, StandardNormal};

/// A correlated 2-D Gaussian, mean (1, −2), standard deviations 1 and 2, correlation 0.9;
/// its metric is the constant precision matrix (dG = 0).
struct Gaussian;

const MEAN: [f64; 2] = [1.0, -2.0];
const COV: [[f64; 2]; 2] = [[1.0, 1.8], [1.8, 4.0]];

fn precision() -> DMatrix<f64> {
    DMatrix::from_row_slice(2, 2, &[COV[0][0], COV[0][1], COV[1][0], COV[1][1]])
        .try_inverse()
        .unwrap()
}

impl Target for Gaussian {
    fn dim(&self) -> usize {
        2
    }
    fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError> {
        let p = precision();
        let r = [y[0] - MEAN[0], y[1] - MEAN[1]];
        let pr = [
            p[(0, 0)] * r[0] + p[(0, 1)] * r[1],
            p[(1, 0)] * r[0] + p[(1, 1)] * r[1],
        ];
        grad[0] = -pr[0];
        grad[1] = -pr[1];
        Ok(-0.5 * (r[0] * pr[0] + r[1] * pr[1]))
    }
    fn metric(&self, _y: &[f64]) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
        Ok((precision(), vec![DMatrix::zeros(2, 2); 2]))
    }
}

/// The posterior of a normal's (μ, η = ln σ) from N = 10 observations with mean 1 and
/// `S = Σ(xᵢ − x̄)² = 9`, under the prior `p(μ, σ) ∝ 1/σ` (flat in (μ, η)):
/// `ln π = −Nη − (S + N(μ − x̄)²) e^{−2η}/2`, with the Fisher metric
/// `G = N·diag(e^{−2η}, 2)`, which depends on η. Exactly, `σ⁻² ~ Gamma((N − 1)/2, S/2)` and
/// `μ | σ ~ N(x̄, σ²/N)`, so `E μ = x̄`, `Var μ = S/(N(N − 3))`,
/// `E η = (ln(S/2) − ψ((N − 1)/2))/2`, `Var η = ψ₁((N − 1)/2)/4`.
struct LogScaleNormal;

const N: f64 = 10.0;
const XBAR: f64 = 1.0;
const S: f64 = 9.0;
/// `(ln 4.5 − ψ(4.5))/2` and `ψ₁(4.5)/4`, by SciPy 1.17.1 (`digamma`, `polygamma(1, ·)`).
const ETA_MEAN: f64 = 0.057_603_235_208_372_63;
const ETA_VAR: f64 = 0.062_181_275_759_752_59;
const MU_VAR: f64 = S / (N * (N - 3.0));

impl Target for LogScaleNormal {
    fn dim(&self) -> usize {
        2
    }
    fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError> {
        let (mu, eta) = (y[0], y[1]);
        let w = (-2.0 * eta).exp();
        let q = S + N * (mu - XBAR).powi(2);
        grad[0] = -N * (mu - XBAR) * w;
        grad[1] = -N + q * w;
        Ok(-N * eta - 0.5 * q * w)
    }
    fn metric(&self, y: &[f64]) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
        let w = (-2.0 * y[1]).exp();
        let g = DMatrix::from_row_slice(2, 2, &[N * w, 0.0, 0.0, 2.0 * N]);
        let d_eta = DMatrix::from_row_slice(2, 2, &[-2.0 * N * w, 0.0, 0.0, 0.0]);
        Ok((g, vec![DMatrix::zeros(2, 2), d_eta]))
    }
}

fn no_progress(_: usize, _: usize) {}

fn options(sampler: Sampler, seed: u64) -> SampleOptions {
    SampleOptions {
        sampler,
        chains: 4,
        warmup: 500,
        draws: 1000,
        seed,
        ..SampleOptions::default()
    }
}

/// Checks that the draws of `f(y)` average to `exact` within 4.5 Monte Carlo standard errors,
/// `sd/√ESS` with the bulk ESS of the series `f(y)` itself.
fn check_expectation(samples: &Samples, what: &str, f: impl Fn(&[f64]) -> f64, exact: f64) {
    let series: Vec<Vec<f64>> = samples
        .draws
        .iter()
        .map(|c| c.iter().map(|y| f(y)).collect())
        .collect();
    let s = summarize(&series).unwrap();
    assert!(s.rhat < 1.02, "{what}: R̂ = {}", s.rhat);
    let error = 4.5 * s.sd / s.ess_bulk.sqrt();
    assert!(
        (s.mean - exact).abs() < error,
        "{what}: {} vs {exact} (± {error}, ESS {})",
        s.mean,
        s.ess_bulk
    );
}

/// The mean and variance of coordinate `k` against the exact ones ([`check_expectation`] of
/// `y_k` and of `(y_k − mean)²`).
fn check_moments(samples: &Samples, k: usize, mean: f64, var: f64) {
    check_expectation(samples, &format!("mean of y{k}"), |y| y[k], mean);
    check_expectation(
        samples,
        &format!("variance of y{k}"),
        |y| (y[k] - mean).powi(2),
        var,
    );
}

fn gaussian_inits() -> Vec<Vec<f64>> {
    vec![
        vec![0.0, 0.0],
        vec![2.0, -1.0],
        vec![1.0, -4.0],
        vec![-1.0, -3.0],
    ]
}

#[test]
fn hmc_samples_a_correlated_gaussian() {
    let s = sample(
        &Gaussian,
        &gaussian_inits(),
        &options(Sampler::Hmc, 1),
        &no_progress,
    )
    .unwrap();
    assert_eq!(s.draws.len(), 4);
    assert_eq!(s.draws[0].len(), 1000);
    assert_eq!(s.divergences, 0);
    assert_eq!(s.metric_evaluations, 0);
    check_moments(&s, 0, MEAN[0], COV[0][0]);
    check_moments(&s, 1, MEAN[1], COV[1][1]);
    check_expectation(
        &s,
        "covariance",
        |y| (y[0] - MEAN[0]) * (y[1] - MEAN[1]),
        COV[0][1],
    );
    for c in &s.chains {
        assert!((0.6..0.97).contains(&c.acceptance_rate), "{c:?}");
        // the adapted M⁻¹ estimates the marginal variances, 1 and 4
        assert!((c.inverse_mass[0] - 1.0).abs() < 0.5 && (c.inverse_mass[1] - 4.0).abs() < 2.0);
    }
}

#[test]
fn rmhmc_samples_a_correlated_gaussian_with_a_constant_metric() {
    let s = sample(
        &Gaussian,
        &gaussian_inits(),
        &options(Sampler::Rmhmc, 2),
        &no_progress,
    )
    .unwrap();
    assert_eq!(s.divergences, 0);
    assert_eq!(s.fixed_point_failures, 0);
    check_moments(&s, 0, MEAN[0], COV[0][0]);
    check_moments(&s, 1, MEAN[1], COV[1][1]);
    check_expectation(
        &s,
        "covariance",
        |y| (y[0] - MEAN[0]) * (y[1] - MEAN[1]),
        COV[0][1],
    );
}

/// A 2-D Gaussian with unit variances and correlation 0.99: a diagonal mass matrix cannot
/// undo it, the constant metric (the precision matrix) does.
struct Narrow;

const RHO: f64 = 0.99;

impl Target for Narrow {
    fn dim(&self) -> usize {
        2
    }
    fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError> {
        let c = 1.0 / (1.0 - RHO * RHO);
        grad[0] = -c * (y[0] - RHO * y[1]);
        grad[1] = -c * (y[1] - RHO * y[0]);
        Ok(-0.5 * c * (y[0] * y[0] - 2.0 * RHO * y[0] * y[1] + y[1] * y[1]))
    }
    fn metric(&self, _y: &[f64]) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
        let c = 1.0 / (1.0 - RHO * RHO);
        let g = DMatrix::from_row_slice(2, 2, &[c, -c * RHO, -c * RHO, c]);
        Ok((g, vec![DMatrix::zeros(2, 2); 2]))
    }
}

/// The smaller bulk ESS of the two coordinates per evaluation of the gradient.
fn ess_per_gradient(s: &Samples) -> f64 {
    let ess = (0..2)
        .map(|k| summarize(&s.coordinate(k)).unwrap().ess_bulk)
        .fold(f64::INFINITY, f64::min);
    ess / s.gradient_evaluations as f64
}

#[test]
fn rmhmc_beats_hmc_per_gradient_on_a_narrow_gaussian() {
    let inits = vec![
        vec![0.5, 0.5],
        vec![-0.5, -0.5],
        vec![1.0, 1.0],
        vec![0.0, 0.0],
    ];
    let run = |sampler| {
        let s = sample(&Narrow, &inits, &options(sampler, 6), &no_progress).unwrap();
        check_moments(&s, 0, 0.0, 1.0);
        check_moments(&s, 1, 0.0, 1.0);
        ess_per_gradient(&s)
    };
    let (rmhmc, hmc) = (run(Sampler::Rmhmc), run(Sampler::Hmc));
    assert!(
        rmhmc > 5.0 * hmc,
        "ESS per gradient: RMHMC {rmhmc}, HMC {hmc}"
    );
}

#[test]
fn rmhmc_samples_a_position_dependent_metric() {
    let inits = vec![
        vec![1.0, 0.0],
        vec![0.5, 0.5],
        vec![1.5, -0.3],
        vec![1.0, 0.2],
    ];
    let s = sample(
        &LogScaleNormal,
        &inits,
        &options(Sampler::Rmhmc, 3),
        &no_progress,
    )
    .unwrap();
    // small σ (η ≪ 0) is a funnel: a rare divergence there is expected, and rejected
    assert!(s.divergences + s.target_errors <= 20, "{:?}", s.chains);
    assert!(s.fixed_point_failures <= 20, "{:?}", s.chains);
    assert!(s.metric_evaluations > s.gradient_evaluations);
    check_moments(&s, 0, XBAR, MU_VAR);
    check_moments(&s, 1, ETA_MEAN, ETA_VAR);
}

#[test]
fn hmc_samples_the_log_scale_normal() {
    let inits = vec![vec![1.0, 0.0]; 4];
    let s = sample(
        &LogScaleNormal,
        &inits,
        &options(Sampler::Hmc, 4),
        &no_progress,
    )
    .unwrap();
    check_moments(&s, 0, XBAR, MU_VAR);
    check_moments(&s, 1, ETA_MEAN, ETA_VAR);
}

fn tight() -> SampleOptions {
    SampleOptions {
        fixed_point_iterations: 200,
        fixed_point_tolerance: 1e-14,
        ..SampleOptions::default()
    }
}

#[test]
fn generalized_leapfrog_is_reversible() {
    let (y0, p0) = ([0.3, 0.4], [1.5, -2.0]);
    let o = tight();
    let fwd = trajectory(&LogScaleNormal, Sampler::Rmhmc, &y0, &p0, 0.05, 20, &o).unwrap();
    assert!(
        (fwd.y[0] - y0[0]).abs() > 0.05,
        "the trajectory moved: {:?}",
        fwd.y
    );
    let back_p: Vec<f64> = fwd.p.iter().map(|p| -p).collect();
    let back = trajectory(
        &LogScaleNormal,
        Sampler::Rmhmc,
        &fwd.y,
        &back_p,
        0.05,
        20,
        &o,
    )
    .unwrap();
    for k in 0..2 {
        assert!((back.y[k] - y0[k]).abs() < 1e-10, "y: {:?}", back.y);
        assert!((back.p[k] + p0[k]).abs() < 1e-10, "p: {:?}", back.p);
    }
}

#[test]
fn generalized_leapfrog_preserves_volume() {
    // the Jacobian of (y, p) ↦ (y', p') by central differences
    let x0 = [0.3, 0.4, 1.5, -2.0];
    let o = tight();
    let map = |x: &[f64]| -> Vec<f64> {
        let t = trajectory(
            &LogScaleNormal,
            Sampler::Rmhmc,
            &x[..2],
            &x[2..],
            0.05,
            10,
            &o,
        )
        .unwrap();
        [t.y, t.p].concat()
    };
    let h = 1e-5;
    let mut jac = DMatrix::zeros(4, 4);
    for j in 0..4 {
        let (mut up, mut down) = (x0, x0);
        up[j] += h;
        down[j] -= h;
        let (fu, fd) = (map(&up), map(&down));
        for i in 0..4 {
            jac[(i, j)] = (fu[i] - fd[i]) / (2.0 * h);
        }
    }
    let det = jac.determinant();
    assert!((det - 1.0).abs() < 1e-6, "det = {det}");
    // and the map is not the identity (a determinant of 1 by accident)
    assert!((jac[(0, 2)]).abs() > 0.01);
}

#[test]
fn energy_error_falls_like_the_square_of_the_step() {
    let (y0, p0) = ([0.3, 0.4], [1.5, -2.0]);
    for sampler in [Sampler::Rmhmc, Sampler::Hmc] {
        let errors: Vec<f64> = [0.04, 0.02, 0.01]
            .iter()
            .map(|&eps| {
                let steps = (0.8 / eps) as usize;
                let t =
                    trajectory(&LogScaleNormal, sampler, &y0, &p0, eps, steps, &tight()).unwrap();
                (t.energy_end - t.energy_start).abs()
            })
            .collect();
        for w in errors.windows(2) {
            let ratio = w[0] / w[1];
            assert!((3.5..4.5).contains(&ratio), "{sampler:?}: {errors:?}");
        }
    }
}

/// The posterior of a gamma's shape α and rate β from N = 1000 observations of gamma(50, 50)
/// (flat prior in (α, β)), in y = (ln α, ln β): shape and rate correlate near 0.99. Through
/// the sufficient statistics `Σxᵢ`, `Σ ln xᵢ`:
/// `ln π = N(α ln β − ln Γ(α)) + (α − 1)Σ ln x − βΣx + ln α + ln β` (the last two the
/// Jacobian). Its metric is the Fisher information of the N observations in y,
/// `G = N·[[α²ψ₁(α), −α], [−α, α]]`, with `∂G/∂ln α = N·[[2α²ψ₁ + α³ψ₂, −α], [−α, α]]` and
/// `∂G/∂ln β = 0`: not diagonal, not constant.
struct GammaPosterior {
    n: f64,
    sum: f64,
    sum_log: f64,
}

impl GammaPosterior {
    fn new() -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(50);
        let gamma = rand_distr::Gamma::new(50.0, 1.0 / 50.0).unwrap();
        let x: Vec<f64> = (0..1000).map(|_| gamma.sample(&mut rng)).collect();
        GammaPosterior {
            n: x.len() as f64,
            sum: x.iter().sum(),
            sum_log: x.iter().map(|x| x.ln()).sum(),
        }
    }
}

impl Target for GammaPosterior {
    fn dim(&self) -> usize {
        2
    }
    fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError> {
        use fisher_geometry::special::{digamma, lgamma};
        let (alpha, beta) = (y[0].exp(), y[1].exp());
        let n = self.n;
        let lp = n * (alpha * y[1] - lgamma(alpha)) + (alpha - 1.0) * self.sum_log
            - beta * self.sum
            + y[0]
            + y[1];
        grad[0] = alpha * (n * (y[1] - digamma(alpha)) + self.sum_log) + 1.0;
        grad[1] = n * alpha - beta * self.sum + 1.0;
        if lp.is_finite() {
            Ok(lp)
        } else {
            Err(TargetError(format!("ln π is {lp} at {y:?}")))
        }
    }
    fn metric(&self, y: &[f64]) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
        use fisher_geometry::special::{polygamma, trigamma};
        let (alpha, n) = (y[0].exp(), self.n);
        let (t1, t2) = (trigamma(alpha), polygamma(2, alpha));
        let g = DMatrix::from_row_slice(
            2,
            2,
            &[n * alpha * alpha * t1, -n * alpha, -n * alpha, n * alpha],
        );
        let d_alpha = DMatrix::from_row_slice(
            2,
            2,
            &[
                n * (2.0 * alpha * alpha * t1 + alpha.powi(3) * t2),
                -n * alpha,
                -n * alpha,
                n * alpha,
            ],
        );
        Ok((g, vec![d_alpha, DMatrix::zeros(2, 2)]))
    }
}

#[test]
fn generalized_leapfrog_energy_error_is_second_order_with_a_full_metric_derivative() {
    let target = GammaPosterior::new();
    // near the mode, ln 50 ≈ 3.9; a momentum of typical size under G
    let (y0, p0) = ([3.9, 3.9], [30.0, -20.0]);
    let errors: Vec<f64> = [0.2, 0.1, 0.05]
        .iter()
        .map(|&eps| {
            let t = trajectory(
                &target,
                Sampler::Rmhmc,
                &y0,
                &p0,
                eps,
                (1.6 / eps) as usize,
                &tight(),
            )
            .unwrap();
            (t.energy_end - t.energy_start).abs()
        })
        .collect();
    for w in errors.windows(2) {
        assert!((3.5..4.5).contains(&(w[0] / w[1])), "{errors:?}");
    }
}

#[test]
fn rmhmc_and_hmc_agree_on_the_gamma_posterior_and_rmhmc_is_cheaper() {
    let target = GammaPosterior::new();
    let inits = vec![
        vec![3.9, 3.9],
        vec![3.8, 3.8],
        vec![4.0, 4.0],
        vec![3.9, 3.85],
    ];
    let r = sample(&target, &inits, &options(Sampler::Rmhmc, 7), &no_progress).unwrap();
    let h = sample(&target, &inits, &options(Sampler::Hmc, 7), &no_progress).unwrap();
    for k in 0..2 {
        let (sr, sh) = (
            summarize(&r.coordinate(k)).unwrap(),
            summarize(&h.coordinate(k)).unwrap(),
        );
        assert!(
            sr.rhat < 1.02 && sh.rhat < 1.05,
            "R̂ {} {}",
            sr.rhat,
            sh.rhat
        );
        // the two means within 4.5 combined Monte Carlo standard errors
        let se = (sr.sd.powi(2) / sr.ess_bulk + sh.sd.powi(2) / sh.ess_bulk).sqrt();
        assert!((sr.mean - sh.mean).abs() < 4.5 * se, "{sr:?} {sh:?}");
        assert!((sr.sd / sh.sd - 1.0).abs() < 0.15, "{sr:?} {sh:?}");
    }
    assert!(ess_per_gradient(&r) > 5.0 * ess_per_gradient(&h));
}

/// A 1-D target defined on y > 0 only.
struct HalfLine;

impl Target for HalfLine {
    fn dim(&self) -> usize {
        1
    }
    fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError> {
        if y[0] <= 0.0 {
            return Err(TargetError(format!("y = {} is not positive", y[0])));
        }
        // Gamma(3, 1): ln π = 2 ln y − y
        grad[0] = 2.0 / y[0] - 1.0;
        Ok(2.0 * y[0].ln() - y[0])
    }
}

#[test]
fn a_target_error_at_the_initial_point_names_the_chain() {
    let o = SampleOptions {
        sampler: Sampler::Hmc,
        chains: 2,
        ..SampleOptions::default()
    };
    let e = sample(&HalfLine, &[vec![1.0], vec![-1.0]], &o, &no_progress).unwrap_err();
    assert_eq!(
        e,
        SampleError::Init {
            chain: 1,
            source: TargetError("y = -1 is not positive".into())
        }
    );
    assert_eq!(
        e.to_string(),
        "chain 1 cannot start at its initial point: y = -1 is not positive"
    );
    // RMHMC needs a metric, which this target does not have
    let o = SampleOptions {
        chains: 1,
        ..SampleOptions::default()
    };
    let e = sample(&HalfLine, &[vec![1.0]], &o, &no_progress).unwrap_err();
    assert_eq!(
        e.to_string(),
        "chain 0 cannot start at its initial point: the target has no metric"
    );
}

#[test]
fn errors_mid_trajectory_are_rejections() {
    // HMC near the boundary of y > 0 steps outside now and then: counted, never a failure;
    // the draws still follow Gamma(3, 1) (mean 3, variance 3)
    let o = SampleOptions {
        sampler: Sampler::Hmc,
        seed: 5,
        warmup: 500,
        ..SampleOptions::default()
    };
    let s = sample(&HalfLine, &vec![vec![1.0]; 4], &o, &no_progress).unwrap();
    let warm: usize = s.chains.iter().map(|c| c.warmup_target_errors).sum();
    assert!(warm + s.target_errors > 0);
    assert!(s.draws.iter().flatten().all(|d| d[0] > 0.0));
    check_moments(&s, 0, 3.0, 3.0);
}

#[test]
fn fixed_points_that_do_not_converge_are_counted_and_rejected() {
    // with one iteration, an implicit step converges only if its first update is already
    // below the tolerance; at a fixed (no warm-up) step of 0.5 it never is: every trajectory
    // fails at its first step, is rejected, and the chains stay where they start
    let o = SampleOptions {
        fixed_point_iterations: 1,
        warmup: 0,
        draws: 30,
        step_size: 0.5,
        ..SampleOptions::default()
    };
    let inits = vec![vec![1.0, 0.0]; 4];
    let s = sample(&LogScaleNormal, &inits, &o, &no_progress).unwrap();
    assert_eq!(s.fixed_point_failures, 4 * 30);
    for c in &s.chains {
        assert_eq!((c.fixed_point_failures, c.step_size), (30, 0.5));
        assert_eq!(c.acceptance_rate, 0.0);
    }
    assert!(s.draws.iter().flatten().all(|d| d == &vec![1.0, 0.0]));
    assert_eq!(s.divergences + s.target_errors, 0);
}

#[test]
fn invalid_options_are_errors() {
    let o = |f: fn(&mut SampleOptions)| {
        let mut o = SampleOptions::default();
        f(&mut o);
        o
    };
    let inits = gaussian_inits();
    let cases: [(SampleOptions, &[Vec<f64>], &str); 5] = [
        (
            o(|o| o.chains = 0),
            &[],
            "option `chains` = 0: at least one chain is needed",
        ),
        (
            o(|o| o.draws = 0),
            &inits,
            "option `draws` = 0: at least one draw is needed",
        ),
        (
            o(|o| o.target_acceptance = 1.0),
            &inits,
            "option `target_acceptance` = 1: must be strictly between 0 and 1",
        ),
        (
            SampleOptions::default(),
            &inits[..3],
            "4 chain(s) need 4 initial point(s), 3 given",
        ),
        (
            SampleOptions::default(),
            &[vec![0.0, 0.0], vec![0.0], vec![0.0, 0.0], vec![0.0, 0.0]],
            "the initial point of chain 1 has 1 coordinate(s), the target has 2",
        ),
    ];
    for (options, inits, message) in cases {
        let e = sample(&Gaussian, inits, &options, &no_progress).unwrap_err();
        assert_eq!(e.to_string(), message);
    }
}

#[test]
fn the_same_seed_gives_the_same_draws_whatever_the_thread_count() {
    let o = SampleOptions {
        warmup: 100,
        draws: 50,
        seed: 11,
        ..SampleOptions::default()
    };
    let inits = vec![
        vec![1.0, 0.0],
        vec![0.5, 0.5],
        vec![1.5, -0.3],
        vec![1.0, 0.2],
    ];
    let a = sample(&LogScaleNormal, &inits, &o, &no_progress).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = one.install(|| sample(&LogScaleNormal, &inits, &o, &no_progress).unwrap());
    assert_eq!(a, b);
    let c = sample(
        &LogScaleNormal,
        &inits,
        &SampleOptions { seed: 12, ..o },
        &no_progress,
    )
    .unwrap();
    assert_ne!(a.draws, c.draws);
    // chains differ from one another
    assert_ne!(a.draws[0], a.draws[3]);
}

#[test]
fn progress_reports_every_iteration_of_every_chain() {
    let o = SampleOptions {
        sampler: Sampler::Hmc,
        warmup: 30,
        draws: 20,
        chains: 2,
        ..SampleOptions::default()
    };
    let calls = std::sync::Mutex::new(vec![0usize; 2]);
    let progress = |chain: usize, done: usize| {
        let mut c = calls.lock().unwrap();
        c[chain] += 1;
        assert_eq!(c[chain], done);
    };
    sample(&Gaussian, &gaussian_inits()[..2], &o, &progress).unwrap();
    assert_eq!(*calls.lock().unwrap(), vec![50, 50]);
}

// ---- diagnostics -------------------------------------------------------------------------

/// An AR(1) chain driven by a deterministic hash noise; the same formula in the Python
/// script that produced the reference numbers below.
fn ar_chain(c: usize, n: usize, phi: f64, shift: f64, rounded: bool) -> Vec<f64> {
    let mut x = 0.0;
    (0..n)
        .map(|i| {
            let e = ((i + 1) as f64 * 12.9898 + c as f64 * 78.233).sin() * 43758.5453;
            let e = e - e.floor() - 0.5;
            x = phi * x + e;
            let v = x + shift * c as f64;
            if rounded {
                (v * 10.0).round() / 10.0
            } else {
                v
            }
        })
        .collect()
}

/// `az.rhat(a, method="rank")`, `az.ess(a, method="bulk")`, `az.ess(a, method="tail")`, then
/// the mean, the standard deviation (ddof 1) and `np.quantile(a, [0.05, 0.5, 0.95])` of the
/// chains `a[c] = ar_chain(c, n, phi, shift, rounded)`, by ArviZ 0.23.4, NumPy 2.4.6,
/// SciPy 1.17.1. The script:
///
/// ```python
/// def chain(c, n, phi, shift, decimals=None):
///     x = 0.0; out = []
///     for i in range(n):
///         e = math.sin((i + 1) * 12.9898 + c * 78.233) * 43758.5453
///         e = e - math.floor(e) - 0.5
///         x = phi * x + e
///         v = x + shift * c
///         if decimals is not None:
///             v = round(v * 10.0) / 10.0
///         out.append(v)
///     return out
/// a = np.array([chain(c, n, phi, shift, dec) for c in range(m)])
/// print(az.rhat(a, method="rank"), az.ess(a, method="bulk"), az.ess(a, method="tail"),
///       a.mean(), a.ravel().std(ddof=1), np.quantile(a.ravel(), [0.05, 0.5, 0.95]))
/// ```
#[rustfmt::skip]
const ARVIZ: [(usize, usize, f64, f64, bool, [f64; 8]); 5] = [
    (4, 100, 0.5, 0.0, false, [1.0747598480161171, 75.42331235085926, 245.96103618515372, 0.01550525800536006, 0.3278744834888922, -0.546209697002275, 0.010746393859167258, 0.5492968282308273]),
    (4, 101, 0.9, 0.3, false, [1.687828044327272, 7.38172113261762, 13.540123253807682, 0.5106279242004452, 0.8721911880206404, -1.5297598127961711, 0.6126479750729004, 1.7857029555545272]),
    (2, 50, -0.3, 0.0, false, [0.9889173067004415, 200.0, 123.17990476847697, 0.02400456546345553, 0.2903588017167217, -0.4600055708995966, 0.025791729153417688, 0.45673812226237176]),
    (4, 100, 0.5, 0.0, true, [1.072940923329379, 84.57217185670126, 245.96103618515372, 0.016000000000000004, 0.3289597792144993, -0.5049999999999997, 0.0, 0.5049999999999955]),
    (3, 200, 0.95, 0.0, false, [1.136002805628838, 21.85832954475308, 14.955849198968702, 0.15096923408839003, 1.0274232066495994, -1.7538575825238412, 0.2905697612348327, 1.6512932305934547]),
];

#[test]
fn summaries_match_arviz() {
    for (m, n, phi, shift, rounded, want) in ARVIZ {
        let chains: Vec<Vec<f64>> = (0..m)
            .map(|c| ar_chain(c, n, phi, shift, rounded))
            .collect();
        let s = summarize(&chains).unwrap();
        let got = [
            s.rhat, s.ess_bulk, s.ess_tail, s.mean, s.sd, s.q05, s.q50, s.q95,
        ];
        for (name, (g, w)) in [
            "rhat", "ess_bulk", "ess_tail", "mean", "sd", "q05", "q50", "q95",
        ]
        .iter()
        .zip(got.iter().zip(want))
        {
            // the rounded set's median is 0: absolute there
            let tol = 1e-8 * w.abs().max(1e-8);
            assert!(
                (g - w).abs() <= tol,
                "set ({m}, {n}, {phi}): {name} = {g}, ArviZ {w}"
            );
        }
    }
}

#[test]
fn independent_draws_have_ess_near_their_number_and_rhat_near_one() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let chains: Vec<Vec<f64>> = (0..4)
        .map(|_| (0..1000).map(|_| StandardNormal.sample(&mut rng)).collect())
        .collect();
    let s = summarize(&chains).unwrap();
    assert!(
        (s.ess_bulk / 4000.0 - 1.0).abs() < 0.1,
        "ESS {}",
        s.ess_bulk
    );
    assert!(
        (s.ess_tail / 4000.0 - 1.0).abs() < 0.15,
        "tail ESS {}",
        s.ess_tail
    );
    assert!(s.rhat < 1.01, "R̂ {}", s.rhat);
    assert!(s.mean.abs() < 0.06 && (s.sd - 1.0).abs() < 0.05);
    assert!((s.q05 + 1.645).abs() < 0.1 && (s.q95 - 1.645).abs() < 0.1);
    // the same draws, one chain shifted by 2: R̂ well above 1
    let mut shifted = chains.clone();
    shifted[2].iter_mut().for_each(|x| *x += 2.0);
    assert!(summarize(&shifted).unwrap().rhat > 1.1);
    // a chain of twice the spread: the folded R̂ sees it, the bulk one does not
    let mut wide = chains;
    wide[1].iter_mut().for_each(|x| *x *= 3.0);
    assert!(summarize(&wide).unwrap().rhat > 1.1);
}

#[test]
fn summarize_refuses_bad_chains() {
    let e = summarize::<Vec<f64>>(&[]).unwrap_err();
    assert_eq!(e.to_string(), "there are no chains to summarize");
    let e = summarize(&[vec![1.0, 2.0, 3.0]]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "chain 0 has 3 draw(s); at least 4 are needed"
    );
    let e = summarize(&[vec![1.0, 2.0, 3.0, 4.0], vec![1.0, 2.0, 3.0, 4.0, 5.0]]).unwrap_err();
    assert_eq!(e.to_string(), "chain 1 has 5 draws, chain 0 has 4");
    let e = summarize(&[vec![1.0, 2.0, f64::NAN, 4.0]]).unwrap_err();
    assert_eq!(e.to_string(), "chain 0, draw 2: NaN is not a finite number");
    // a constant quantity: ESS is the number of draws, as ArviZ
    let s = summarize(&[vec![2.0; 10], vec![2.0; 10]]).unwrap();
    assert_eq!((s.mean, s.sd, s.ess_bulk), (2.0, 0.0, 20.0));
}
