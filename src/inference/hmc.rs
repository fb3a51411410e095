//! Hamiltonian Monte Carlo on a density over ℝ^d ([`Target`]): Riemannian-manifold HMC with
//! the target's metric, and Euclidean HMC for comparison ([`sample`], [`Sampler`]).

use nalgebra::{DMatrix, DVector};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// A density on ℝ^d (unconstrained coordinates) for the samplers.
pub trait Target: Sync {
    /// d, the number of coordinates.
    fn dim(&self) -> usize;

    /// `ln π(y)` up to a constant, with its gradient written into `grad` (length d).
    ///
    /// # Errors
    ///
    /// Any reason the density cannot be evaluated at `y`.
    fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError>;

    /// The metric `G(y)` (symmetric positive definite, d × d) and its derivatives
    /// `dG[k] = ∂G/∂y_k`, for RMHMC.
    ///
    /// # Errors
    ///
    /// Any reason the metric cannot be evaluated at `y`; the default has no metric.
    fn metric(&self, y: &[f64]) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
        let _ = y;
        Err(TargetError("the target has no metric".to_owned()))
    }

    /// The metric `G(y)` alone, for the fixed-point iterations of the generalized leapfrog,
    /// which need no derivatives. The default calls [`Target::metric`]; a target that can
    /// skip the derivatives should.
    ///
    /// # Errors
    ///
    /// As [`Target::metric`].
    fn metric_value(&self, y: &[f64]) -> Result<DMatrix<f64>, TargetError> {
        Ok(self.metric(y)?.0)
    }
}

/// Why a target could not be evaluated (outside the domain, a NaN, a metric not positive
/// definite).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

/// The sampler of [`sample`].
///
/// **RMHMC** (Girolami & Calderhead 2011, "Riemann manifold Langevin and Hamiltonian Monte
/// Carlo methods", *J. R. Statist. Soc. B* 73(2), §4.2): the Hamiltonian
/// `H(y, p) = −ln π(y) + ½ ln det G(y) + ½ pᵀG(y)⁻¹p`, momentum drawn from `N(0, G(y))`
/// (through the Cholesky factor of G), and the generalized leapfrog, their eqs. (16)–(18):
///
/// ```text
/// p(τ + ε/2) = p(τ) − ε/2 ∇_y H(y(τ), p(τ + ε/2))                     implicit in p
/// y(τ + ε)   = y(τ) + ε/2 [G⁻¹(y(τ)) + G⁻¹(y(τ + ε))] p(τ + ε/2)      implicit in y
/// p(τ + ε)   = p(τ + ε/2) − ε/2 ∇_y H(y(τ + ε), p(τ + ε/2))            explicit
/// ∂H/∂y_k    = −∂_k ln π + ½ tr(G⁻¹ ∂_kG) − ½ pᵀG⁻¹(∂_kG)G⁻¹p
/// ```
///
/// The two implicit equations are solved by fixed-point iteration, started from the explicit
/// (Euler) guess, until an update moves no coordinate by more than
/// `fixed_point_tolerance · max(1, ‖·‖∞)`, within `fixed_point_iterations`; a trajectory
/// whose fixed point does not converge is rejected and counted
/// ([`ChainStats::fixed_point_failures`]). The implicit step in p costs no evaluation of the
/// target; each iteration of the step in y evaluates the metric once
/// ([`Target::metric_value`]).
///
/// **HMC**: the leapfrog with a diagonal mass matrix, `H = −ln π(y) + ½ pᵀM⁻¹p`; `M⁻¹` is
/// estimated during warm-up from the draws in Stan's windows (a 75-iteration initial buffer,
/// doubling windows from 25, a 50-iteration terminal buffer, scaled down for short warm-ups),
/// regularized as Stan, `M⁻¹ = n/(n + 5) · var + 10⁻³ · 5/(n + 5)`.
///
/// Both: a proposal is accepted with probability `min(1, exp(H₀ − H₁))`; an energy error
/// `H₁ − H₀` above 1000 (as Stan) or not finite is a divergence, rejected and counted; a target
/// that cannot be evaluated mid-trajectory (outside its domain, a metric not positive definite)
/// is a rejection, counted, never a failure. The step size starts from Hoffman & Gelman's
/// (2014, Algorithm 4) heuristic and is adapted during warm-up by their dual averaging
/// (§3.2.1, γ = 0.05, t₀ = 10, κ = 0.75, μ = ln 10ε₀) towards the target acceptance, then fixed
/// at the averaged value. Each transition integrates for a time drawn uniformly from
/// `[(1 − jitter)·T, T]`, in `⌈time/ε⌉` steps (at most `max_leapfrog_steps`).
///
/// Chains run in parallel (rayon), each with its own random stream derived from the seed and
/// the chain's index, so that the draws depend on the seed only, not on the thread count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampler {
    /// Riemannian-manifold HMC with the target's metric (Girolami & Calderhead 2011).
    #[default]
    Rmhmc,
    /// Euclidean HMC with a diagonal mass matrix adapted in warm-up.
    Hmc,
}

/// The settings of [`sample`].
#[derive(Debug, Clone, PartialEq)]
pub struct SampleOptions {
    /// The sampler.
    pub sampler: Sampler,
    /// Number of chains (4).
    pub chains: usize,
    /// Warm-up iterations per chain, not kept (1000).
    pub warmup: usize,
    /// Kept draws per chain (1000).
    pub draws: usize,
    /// Seed of the random streams (0).
    pub seed: u64,
    /// The first guess of the step size (1); refined by Hoffman & Gelman's heuristic and
    /// adapted when there is a warm-up, used as it is otherwise.
    pub step_size: f64,
    /// The integration time T of a trajectory (2): `⌈T/ε⌉` leapfrog steps. In the metric's
    /// units (RMHMC) or the adapted mass's (HMC) a Gaussian target oscillates with period
    /// about 2π, so that T ≈ π/2 decorrelates and a T near 2π returns to the start.
    pub trajectory_length: f64,
    /// Each transition integrates for a time drawn uniformly from `[(1 − jitter)·T, T]`
    /// (0.5), against the periodicity of a fixed length; 0 keeps T.
    pub step_jitter: f64,
    /// The most leapfrog steps of a transition (1000), whatever the step size.
    pub max_leapfrog_steps: usize,
    /// The mean acceptance probability the step size adaptation aims at (0.8).
    pub target_acceptance: f64,
    /// The largest number of iterations of each implicit step of RMHMC (50; most converge in a few).
    pub fixed_point_iterations: usize,
    /// An implicit step has converged when an iteration moves no coordinate by more than
    /// this times `max(1, ‖·‖∞)` (1e-8).
    pub fixed_point_tolerance: f64,
    /// Whether HMC adapts a diagonal mass matrix in warm-up (true); otherwise M = I.
    pub adapt_mass: bool,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            sampler: Sampler::Rmhmc,
            chains: 4,
            warmup: 1000,
            draws: 1000,
            seed: 0,
            step_size: 1.0,
            trajectory_length: 2.0,
            step_jitter: 0.5,
            max_leapfrog_steps: 1000,
            target_acceptance: 0.8,
            fixed_point_iterations: 50,
            fixed_point_tolerance: 1e-8,
            adapt_mass: true,
        }
    }
}

/// Why [`sample`] could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// An option out of its range.
    #[error("option `{option}` = {value}: {reason}")]
    Option {
        /// The option's name.
        option: &'static str,
        /// Its value, as given.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// Not one initial point per chain.
    #[error("{chains} chain(s) need {chains} initial point(s), {found} given")]
    InitCount {
        /// The number of chains.
        chains: usize,
        /// The number of initial points.
        found: usize,
    },
    /// An initial point of the wrong dimension.
    #[error("the initial point of chain {chain} has {found} coordinate(s), the target has {dim}")]
    InitLength {
        /// The chain, from 0.
        chain: usize,
        /// The target's dimension.
        dim: usize,
        /// The point's length.
        found: usize,
    },
    /// The target cannot be evaluated at a chain's initial point.
    #[error("chain {chain} cannot start at its initial point: {source}")]
    Init {
        /// The chain, from 0.
        chain: usize,
        /// Why.
        source: TargetError,
    },
}

/// Counts and adapted settings of one chain. Counts without `warmup_` cover the kept
/// iterations only (as Stan reports divergences).
#[derive(Debug, Clone, PartialEq)]
pub struct ChainStats {
    /// The step size after warm-up, used for every kept draw.
    pub step_size: f64,
    /// The mean acceptance probability `min(1, exp(H₀ − H₁))` over the kept iterations.
    pub acceptance_rate: f64,
    /// Divergent transitions among the kept iterations.
    pub divergences: usize,
    /// Divergent transitions during warm-up.
    pub warmup_divergences: usize,
    /// Trajectories rejected because an implicit step did not converge (kept iterations).
    pub fixed_point_failures: usize,
    /// The same during warm-up.
    pub warmup_fixed_point_failures: usize,
    /// Trajectories rejected because the target could not be evaluated (kept iterations).
    pub target_errors: usize,
    /// The same during warm-up.
    pub warmup_target_errors: usize,
    /// Evaluations of `ln π` and its gradient, warm-up included.
    pub gradient_evaluations: u64,
    /// Evaluations of the metric (with or without derivatives), warm-up included.
    pub metric_evaluations: u64,
    /// HMC's diagonal inverse mass matrix after warm-up (ones without adaptation); empty for
    /// RMHMC.
    pub inverse_mass: Vec<f64>,
}

/// The draws of [`sample`] and how they were obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// `draws[c][i][k]`: coordinate k of draw i of chain c (warm-up excluded).
    pub draws: Vec<Vec<Vec<f64>>>,
    /// Per-chain counts and settings.
    pub chains: Vec<ChainStats>,
    /// Evaluations of `ln π` and its gradient, all chains, warm-up included.
    pub gradient_evaluations: u64,
    /// Evaluations of the metric, all chains, warm-up included.
    pub metric_evaluations: u64,
    /// Divergent transitions among the kept iterations, all chains.
    pub divergences: usize,
    /// Trajectories rejected for a fixed point that did not converge, kept iterations, all
    /// chains.
    pub fixed_point_failures: usize,
    /// Trajectories rejected for a target error, kept iterations, all chains.
    pub target_errors: usize,
}

impl Samples {
    /// The draws of coordinate `k`, one vector per chain (the input of
    /// [`crate::summarize`]).
    ///
    /// # Panics
    ///
    /// If `k` is not below the target's dimension.
    pub fn coordinate(&self, k: usize) -> Vec<Vec<f64>> {
        self.draws
            .iter()
            .map(|chain| chain.iter().map(|draw| draw[k]).collect())
            .collect()
    }
}

/// The end of one trajectory of [`trajectory`].
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// The final position.
    pub y: Vec<f64>,
    /// The final momentum.
    pub p: Vec<f64>,
    /// `H` at the start (without the constant `d/2 · ln 2π`).
    pub energy_start: f64,
    /// `H` at the end.
    pub energy_end: f64,
}

/// Why a trajectory stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrajectoryError {
    /// The target could not be evaluated on the way.
    #[error("the target cannot be evaluated: {0}")]
    Target(#[from] TargetError),
    /// An implicit step of the generalized leapfrog did not converge.
    #[error("the fixed-point iteration of leapfrog step {step} did not converge")]
    FixedPoint {
        /// The leapfrog step, from 1.
        step: usize,
    },
    /// A position or momentum of the wrong length.
    #[error("expected {dim} coordinates, found {found}")]
    Length {
        /// The target's dimension.
        dim: usize,
        /// The length given.
        found: usize,
    },
}

/// Integrates Hamilton's equations from `(y, p)` by `steps` leapfrog steps of size
/// `step_size`: the generalized leapfrog of RMHMC with the target's metric, or the leapfrog
/// of HMC with the identity mass. The fixed-point settings come from `options`. This is the
/// integrator of [`sample`], exposed to check it: reversible (negating the final momentum
/// and integrating again returns to the start) and volume preserving, with an energy error
/// of order ε².
///
/// # Errors
///
/// A target error on the way, an implicit step that does not converge, or vectors of the
/// wrong length.
pub fn trajectory(
    target: &impl Target,
    sampler: Sampler,
    y: &[f64],
    p: &[f64],
    step_size: f64,
    steps: usize,
    options: &SampleOptions,
) -> Result<Trajectory, TrajectoryError> {
    let dim = target.dim();
    for v in [y, p] {
        if v.len() != dim {
            return Err(TrajectoryError::Length {
                dim,
                found: v.len(),
            });
        }
    }
    let mut eval = Evaluator::new(target);
    let kinetic = match sampler {
        Sampler::Rmhmc => Kinetic::Riemann,
        Sampler::Hmc => Kinetic::Euclid(vec![1.0; dim]),
    };
    let fixed = FixedPoint::of(options);
    let start = eval.point(&DVector::from_column_slice(y), &kinetic)?;
    let p0 = DVector::from_column_slice(p);
    let energy_start = energy(&start, &p0, &kinetic);
    let (end, p1) = integrate(&mut eval, start, p0, step_size, steps, &kinetic, fixed)?;
    Ok(Trajectory {
        energy_end: energy(&end, &p1, &kinetic),
        y: end.y.as_slice().to_vec(),
        p: p1.as_slice().to_vec(),
        energy_start,
    })
}

/// Draws from `target` by RMHMC or HMC (the algorithms: [`Sampler`]), one chain per
/// initial point, in parallel. `progress(chain, done)` is called from the chain's thread
/// after each of its `warmup + draws` iterations.
///
/// ```
/// use fisher_geometry::{DMatrix, SampleOptions, Target, TargetError, sample, summarize};
/// // N(3, 2²): ln π = −(y − 3)²/8, with its Fisher metric G = 1/4 (constant, dG = 0)
/// struct Normal;
/// impl Target for Normal {
///     fn dim(&self) -> usize { 1 }
///     fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError> {
///         grad[0] = -(y[0] - 3.0) / 4.0;
///         Ok(-(y[0] - 3.0).powi(2) / 8.0)
///     }
///     fn metric(&self, _: &[f64]) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
///         Ok((DMatrix::from_element(1, 1, 0.25), vec![DMatrix::zeros(1, 1)]))
///     }
/// }
/// let options = SampleOptions { warmup: 200, draws: 500, ..SampleOptions::default() };
/// let samples = sample(&Normal, &vec![vec![0.0]; 4], &options, &|_, _| ())?;
/// let s = summarize(&samples.coordinate(0))?;
/// assert!((s.mean - 3.0).abs() < 5.0 * 2.0 / s.ess_bulk.sqrt());
/// assert!(s.rhat < 1.05);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// Invalid options (no chains or draws, a step size, trajectory, acceptance or fixed-point
/// setting out of range), initial points that are not one per chain of the target's
/// dimension, or a target (or, for RMHMC, a metric) that cannot be evaluated at an initial
/// point — which chain, and why. Nothing that happens after the start is an error.
pub fn sample(
    target: &impl Target,
    inits: &[Vec<f64>],
    options: &SampleOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Samples, SampleError> {
    check_options(options)?;
    if inits.len() != options.chains {
        return Err(SampleError::InitCount {
            chains: options.chains,
            found: inits.len(),
        });
    }
    let dim = target.dim();
    let kinetic = match options.sampler {
        Sampler::Rmhmc => Kinetic::Riemann,
        Sampler::Hmc => Kinetic::Euclid(vec![1.0; dim]),
    };
    let mut starts = Vec::with_capacity(inits.len());
    for (chain, init) in inits.iter().enumerate() {
        if init.len() != dim {
            return Err(SampleError::InitLength {
                chain,
                dim,
                found: init.len(),
            });
        }
        let mut eval = Evaluator::new(target);
        let point = eval
            .point(&DVector::from_column_slice(init), &kinetic)
            .map_err(|source| SampleError::Init { chain, source })?;
        starts.push((point, eval.gradients, eval.metrics));
    }
    let results: Vec<(Vec<Vec<f64>>, ChainStats)> = starts
        .into_par_iter()
        .enumerate()
        .map(|(chain, (point, gradients, metrics))| {
            let mut eval = Evaluator::new(target);
            eval.gradients = gradients;
            eval.metrics = metrics;
            run_chain(&mut eval, point, chain, options, &kinetic, progress)
        })
        .collect();
    let mut samples = Samples {
        draws: Vec::with_capacity(results.len()),
        chains: Vec::with_capacity(results.len()),
        gradient_evaluations: 0,
        metric_evaluations: 0,
        divergences: 0,
        fixed_point_failures: 0,
        target_errors: 0,
    };
    for (draws, stats) in results {
        samples.gradient_evaluations += stats.gradient_evaluations;
        samples.metric_evaluations += stats.metric_evaluations;
        samples.divergences += stats.divergences;
        samples.fixed_point_failures += stats.fixed_point_failures;
        samples.target_errors += stats.target_errors;
        samples.draws.push(draws);
        samples.chains.push(stats);
    }
    Ok(samples)
}

fn check_options(o: &SampleOptions) -> Result<(), SampleError> {
    let bad = |option, value: String, reason| {
        Err(SampleError::Option {
            option,
            value,
            reason,
        })
    };
    if o.chains == 0 {
        return bad("chains", "0".into(), "at least one chain is needed");
    }
    if o.draws == 0 {
        return bad("draws", "0".into(), "at least one draw is needed");
    }
    if !(o.step_size.is_finite() && o.step_size > 0.0) {
        return bad(
            "step_size",
            o.step_size.to_string(),
            "must be positive and finite",
        );
    }
    if !(o.trajectory_length.is_finite() && o.trajectory_length > 0.0) {
        return bad(
            "trajectory_length",
            o.trajectory_length.to_string(),
            "must be positive and finite",
        );
    }
    if o.max_leapfrog_steps == 0 {
        return bad(
            "max_leapfrog_steps",
            "0".into(),
            "at least one step is needed",
        );
    }
    if !(0.0..1.0).contains(&o.step_jitter) {
        return bad(
            "step_jitter",
            o.step_jitter.to_string(),
            "must be in [0, 1)",
        );
    }
    if !(o.target_acceptance > 0.0 && o.target_acceptance < 1.0) {
        return bad(
            "target_acceptance",
            o.target_acceptance.to_string(),
            "must be strictly between 0 and 1",
        );
    }
    if o.fixed_point_iterations == 0 {
        return bad(
            "fixed_point_iterations",
            "0".into(),
            "at least one iteration is needed",
        );
    }
    if !(o.fixed_point_tolerance.is_finite() && o.fixed_point_tolerance > 0.0) {
        return bad(
            "fixed_point_tolerance",
            o.fixed_point_tolerance.to_string(),
            "must be positive and finite",
        );
    }
    Ok(())
}

/// The kinetic energy: Euclidean with a diagonal inverse mass, or the target's metric.
#[derive(Debug, Clone)]
enum Kinetic {
    Euclid(Vec<f64>),
    Riemann,
}

/// The metric at a point, factored: `G⁻¹`, `ln det G`, `∂_kG` and `tr(G⁻¹∂_kG)`.
#[derive(Debug, Clone)]
struct Geometry {
    cholesky_l: DMatrix<f64>,
    inverse: DMatrix<f64>,
    log_det: f64,
    derivatives: Vec<DMatrix<f64>>,
    traces: Vec<f64>,
}

/// A position with `ln π`, its gradient and (RMHMC) the metric there.
#[derive(Debug, Clone)]
struct Point {
    y: DVector<f64>,
    log_density: f64,
    gradient: DVector<f64>,
    geometry: Option<Geometry>,
}

#[derive(Debug, Clone, Copy)]
struct FixedPoint {
    iterations: usize,
    tolerance: f64,
}

impl FixedPoint {
    fn of(o: &SampleOptions) -> Self {
        FixedPoint {
            iterations: o.fixed_point_iterations,
            tolerance: o.fixed_point_tolerance,
        }
    }

    fn converged(&self, change: f64, value: &DVector<f64>) -> bool {
        change <= self.tolerance * value.amax().max(1.0)
    }
}

/// The target with counts of its evaluations.
struct Evaluator<'a, T: Target> {
    target: &'a T,
    gradients: u64,
    metrics: u64,
}

impl<'a, T: Target> Evaluator<'a, T> {
    fn new(target: &'a T) -> Self {
        Evaluator {
            target,
            gradients: 0,
            metrics: 0,
        }
    }

    fn dim(&self) -> usize {
        self.target.dim()
    }

    fn point(&mut self, y: &DVector<f64>, kinetic: &Kinetic) -> Result<Point, TargetError> {
        let d = self.dim();
        let mut gradient = DVector::zeros(d);
        self.gradients += 1;
        let log_density = self
            .target
            .log_density(y.as_slice(), gradient.as_mut_slice())?;
        if !log_density.is_finite() {
            return Err(TargetError(format!(
                "ln π is {log_density}, not a finite number"
            )));
        }
        if let Some(k) = gradient.iter().position(|g| !g.is_finite()) {
            return Err(TargetError(format!(
                "component {k} of the gradient of ln π is {}, not a finite number",
                gradient[k]
            )));
        }
        let geometry = match kinetic {
            Kinetic::Euclid(_) => None,
            Kinetic::Riemann => {
                self.metrics += 1;
                let (g, dg) = self.target.metric(y.as_slice())?;
                Some(geometry(g, dg, d)?)
            }
        };
        Ok(Point {
            y: y.clone(),
            log_density,
            gradient,
            geometry,
        })
    }

    /// `G(y)⁻¹ v`, through the metric alone.
    fn solve_metric(
        &mut self,
        y: &DVector<f64>,
        v: &DVector<f64>,
    ) -> Result<DVector<f64>, TargetError> {
        self.metrics += 1;
        let g = self.target.metric_value(y.as_slice())?;
        let l = cholesky(g, self.dim())?;
        let mut out = v.clone();
        l.solve_lower_triangular_mut(&mut out);
        l.tr_solve_lower_triangular_mut(&mut out);
        Ok(out)
    }
}

/// The lower Cholesky factor of a metric, after checking its shape, finiteness and symmetry.
fn cholesky(g: DMatrix<f64>, d: usize) -> Result<DMatrix<f64>, TargetError> {
    if g.shape() != (d, d) {
        return Err(TargetError(format!(
            "the metric is {}×{}, expected {d}×{d}",
            g.nrows(),
            g.ncols()
        )));
    }
    if g.iter().any(|v| !v.is_finite()) {
        return Err(TargetError(
            "the metric has an entry that is not finite".to_owned(),
        ));
    }
    let scale = g.amax();
    for i in 0..d {
        for j in 0..i {
            if (g[(i, j)] - g[(j, i)]).abs() > 1e-10 * scale {
                return Err(TargetError(format!(
                    "the metric is not symmetric: G[{i},{j}] = {}, G[{j},{i}] = {}",
                    g[(i, j)],
                    g[(j, i)]
                )));
            }
        }
    }
    match g.cholesky() {
        Some(c) => Ok(c.unpack()),
        None => Err(TargetError(
            "the metric is not positive definite".to_owned(),
        )),
    }
}

fn geometry(g: DMatrix<f64>, dg: Vec<DMatrix<f64>>, d: usize) -> Result<Geometry, TargetError> {
    let l = cholesky(g, d)?;
    if dg.len() != d {
        return Err(TargetError(format!(
            "the metric has {} derivative(s), expected {d}",
            dg.len()
        )));
    }
    for (k, m) in dg.iter().enumerate() {
        if m.shape() != (d, d) {
            return Err(TargetError(format!(
                "∂G/∂y_{k} is {}×{}, expected {d}×{d}",
                m.nrows(),
                m.ncols()
            )));
        }
        if m.iter().any(|v| !v.is_finite()) {
            return Err(TargetError(format!(
                "∂G/∂y_{k} has an entry that is not finite"
            )));
        }
    }
    let log_det = 2.0 * l.diagonal().iter().map(|v| v.ln()).sum::<f64>();
    let mut inverse = DMatrix::identity(d, d);
    l.solve_lower_triangular_mut(&mut inverse);
    l.tr_solve_lower_triangular_mut(&mut inverse);
    let traces = dg
        .iter()
        .map(|m| inverse.component_mul(&m.transpose()).sum())
        .collect();
    Ok(Geometry {
        cholesky_l: l,
        inverse,
        log_det,
        derivatives: dg,
        traces,
    })
}

/// `H(y, p)` without the constant `d/2 · ln 2π`.
fn energy(point: &Point, p: &DVector<f64>, kinetic: &Kinetic) -> f64 {
    match (kinetic, &point.geometry) {
        (Kinetic::Euclid(inv_mass), _) => {
            -point.log_density + 0.5 * p.iter().zip(inv_mass).map(|(p, m)| p * p * m).sum::<f64>()
        }
        (Kinetic::Riemann, Some(g)) => {
            -point.log_density + 0.5 * g.log_det + 0.5 * p.dot(&(&g.inverse * p))
        }
        (Kinetic::Riemann, None) => f64::NAN,
    }
}

/// `∂H/∂y` at a point for momentum p (RMHMC).
fn energy_gradient(point: &Point, g: &Geometry, p: &DVector<f64>) -> DVector<f64> {
    let v = &g.inverse * p;
    DVector::from_iterator(
        point.y.len(),
        (0..point.y.len()).map(|k| {
            -point.gradient[k] + 0.5 * g.traces[k] - 0.5 * v.dot(&(&g.derivatives[k] * &v))
        }),
    )
}

/// `steps` leapfrog steps from `(start, p)`.
fn integrate<T: Target>(
    eval: &mut Evaluator<'_, T>,
    start: Point,
    mut p: DVector<f64>,
    eps: f64,
    steps: usize,
    kinetic: &Kinetic,
    fixed: FixedPoint,
) -> Result<(Point, DVector<f64>), TrajectoryError> {
    let mut point = start;
    for step in 1..=steps {
        match kinetic {
            Kinetic::Euclid(inv_mass) => {
                p += &point.gradient * (0.5 * eps);
                let mut y = point.y.clone();
                for k in 0..y.len() {
                    y[k] += eps * inv_mass[k] * p[k];
                }
                point = eval.point(&y, kinetic)?;
                p += &point.gradient * (0.5 * eps);
            }
            Kinetic::Riemann => {
                let (next, q) =
                    generalized_leapfrog(eval, &point, &p, eps, fixed).map_err(|e| match e {
                        TrajectoryError::FixedPoint { .. } => TrajectoryError::FixedPoint { step },
                        other => other,
                    })?;
                point = next;
                p = q;
            }
        }
    }
    Ok((point, p))
}

/// One step of Girolami & Calderhead's generalized leapfrog, eqs. (16)–(18).
fn generalized_leapfrog<T: Target>(
    eval: &mut Evaluator<'_, T>,
    point: &Point,
    p: &DVector<f64>,
    eps: f64,
    fixed: FixedPoint,
) -> Result<(Point, DVector<f64>), TrajectoryError> {
    let Some(g) = &point.geometry else {
        return Err(TargetError("the point has no metric".to_owned()).into());
    };
    let failed = TrajectoryError::FixedPoint { step: 0 };
    // (16): p½ = p − ε/2 ∂H/∂y(y, p½)
    let mut half = p.clone();
    let mut converged = false;
    for _ in 0..fixed.iterations {
        let next = p - energy_gradient(point, g, &half) * (0.5 * eps);
        let change = (&next - &half).amax();
        half = next;
        if fixed.converged(change, &half) {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(failed);
    }
    // (17): y' = y + ε/2 [G⁻¹(y) + G⁻¹(y')] p½
    let a = &g.inverse * &half;
    let mut y = &point.y + &a * eps;
    converged = false;
    for _ in 0..fixed.iterations {
        let b = eval.solve_metric(&y, &half)?;
        let next = &point.y + (&a + b) * (0.5 * eps);
        let change = (&next - &y).amax();
        y = next;
        if fixed.converged(change, &y) {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(failed);
    }
    // (18): p' = p½ − ε/2 ∂H/∂y(y', p½)
    let next = eval.point(&y, &Kinetic::Riemann)?;
    let Some(g) = &next.geometry else {
        return Err(TargetError("the point has no metric".to_owned()).into());
    };
    let q = &half - energy_gradient(&next, g, &half) * (0.5 * eps);
    Ok((next, q))
}

/// Hoffman & Gelman (2014) §3.2.1, dual averaging of `ln ε` towards an acceptance δ.
#[derive(Debug, Clone)]
struct DualAveraging {
    mu: f64,
    delta: f64,
    h_bar: f64,
    log_eps: f64,
    log_eps_bar: f64,
    m: f64,
}

impl DualAveraging {
    const GAMMA: f64 = 0.05;
    const T0: f64 = 10.0;
    const KAPPA: f64 = 0.75;

    fn new(eps: f64, delta: f64) -> Self {
        DualAveraging {
            mu: (10.0 * eps).ln(),
            delta,
            h_bar: 0.0,
            log_eps: eps.ln(),
            log_eps_bar: 0.0,
            m: 0.0,
        }
    }

    fn step_size(&self) -> f64 {
        self.log_eps.exp()
    }

    fn averaged(&self) -> f64 {
        self.log_eps_bar.exp()
    }

    fn update(&mut self, accept: f64) {
        self.m += 1.0;
        let w = 1.0 / (self.m + Self::T0);
        self.h_bar = (1.0 - w) * self.h_bar + w * (self.delta - accept);
        // bounded so that a chain that rejects everything cannot underflow ε to 0
        self.log_eps = (self.mu - self.m.sqrt() / Self::GAMMA * self.h_bar).clamp(-700.0, 700.0);
        let eta = self.m.powf(-Self::KAPPA);
        self.log_eps_bar = eta * self.log_eps + (1.0 - eta) * self.log_eps_bar;
    }
}

/// Running mean and variance (Welford).
#[derive(Debug, Clone)]
struct Welford {
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Welford {
    fn new(d: usize) -> Self {
        Welford {
            n: 0.0,
            mean: vec![0.0; d],
            m2: vec![0.0; d],
        }
    }

    fn add(&mut self, y: &DVector<f64>) {
        self.n += 1.0;
        for k in 0..y.len() {
            let delta = y[k] - self.mean[k];
            self.mean[k] += delta / self.n;
            self.m2[k] += delta * (y[k] - self.mean[k]);
        }
    }

    /// Stan's regularized variance, `n/(n + 5) · var + 10⁻³ · 5/(n + 5)`.
    fn regularized(&self) -> Vec<f64> {
        let n = self.n;
        self.m2
            .iter()
            .map(|m2| n / (n + 5.0) * (m2 / (n - 1.0)) + 1e-3 * 5.0 / (n + 5.0))
            .collect()
    }
}

/// The ends (exclusive iteration indices) of Stan's slow adaptation windows for a warm-up.
fn mass_windows(warmup: usize) -> Vec<usize> {
    if warmup < 20 {
        return Vec::new();
    }
    let (init, term, base) = buffers(warmup);
    let last = warmup - term;
    let mut ends = Vec::new();
    let (mut start, mut size) = (init, base);
    while start < last {
        let mut end = start + size;
        if end + 2 * size > last {
            end = last;
        }
        ends.push(end);
        start = end;
        size *= 2;
    }
    ends
}

/// The outcome of one transition.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// The proposal was evaluated; accepted or not with this probability.
    Proposed {
        accept: f64,
        accepted: bool,
    },
    Divergent,
    FixedPointFailure,
    TargetError,
}

impl Outcome {
    fn accept_probability(self) -> f64 {
        match self {
            Outcome::Proposed { accept, .. } => accept,
            _ => 0.0,
        }
    }
}

/// A momentum from `N(0, M)` (HMC, `M = diag(1/inv_mass)`) or `N(0, G(y))` (RMHMC).
fn draw_momentum(rng: &mut Xoshiro256PlusPlus, point: &Point, kinetic: &Kinetic) -> DVector<f64> {
    let d = point.y.len();
    let z = DVector::from_iterator(d, (0..d).map(|_| StandardNormal.sample(rng)));
    match (kinetic, &point.geometry) {
        (Kinetic::Euclid(inv_mass), _) => {
            DVector::from_iterator(d, z.iter().zip(inv_mass).map(|(z, m)| z / m.sqrt()))
        }
        (Kinetic::Riemann, Some(g)) => &g.cholesky_l * z,
        (Kinetic::Riemann, None) => z,
    }
}

/// One transition from `point`: a momentum, a trajectory, the Metropolis correction.
fn transition<T: Target>(
    eval: &mut Evaluator<'_, T>,
    rng: &mut Xoshiro256PlusPlus,
    point: &mut Point,
    eps: f64,
    steps: usize,
    kinetic: &Kinetic,
    fixed: FixedPoint,
) -> Outcome {
    let p = draw_momentum(rng, point, kinetic);
    let h0 = energy(point, &p, kinetic);
    let u: f64 = rng.random();
    match integrate(eval, point.clone(), p, eps, steps, kinetic, fixed) {
        Err(TrajectoryError::FixedPoint { .. }) => Outcome::FixedPointFailure,
        Err(_) => Outcome::TargetError,
        Ok((end, q)) => {
            let h1 = energy(&end, &q, kinetic);
            let error = h1 - h0;
            if !error.is_finite() || error > 1000.0 {
                return Outcome::Divergent;
            }
            let accept = (-error).exp().min(1.0);
            let accepted = u < accept;
            if accepted {
                *point = end;
            }
            Outcome::Proposed { accept, accepted }
        }
    }
}

/// Hoffman & Gelman (2014), Algorithm 4: doubles or halves ε until the acceptance
/// probability of one leapfrog step crosses ½.
fn reasonable_step_size<T: Target>(
    eval: &mut Evaluator<'_, T>,
    rng: &mut Xoshiro256PlusPlus,
    point: &Point,
    eps: f64,
    kinetic: &Kinetic,
    fixed: FixedPoint,
) -> f64 {
    let p = draw_momentum(rng, point, kinetic);
    let h0 = energy(point, &p, kinetic);
    let accept = |eval: &mut Evaluator<'_, T>, eps: f64| -> f64 {
        match integrate(eval, point.clone(), p.clone(), eps, 1, kinetic, fixed) {
            Ok((end, q)) => {
                let a = (h0 - energy(&end, &q, kinetic)).exp();
                if a.is_nan() { 0.0 } else { a }
            }
            Err(_) => 0.0,
        }
    };
    let mut eps = eps;
    let a = accept(eval, eps);
    let up = a > 0.5;
    for _ in 0..100 {
        let next = if up { eps * 2.0 } else { eps / 2.0 };
        let a = accept(eval, next);
        let crossed = if up { a <= 0.5 } else { a > 0.5 };
        if crossed {
            // going up, keep the last ε that still passed; going down, the first that passes
            return if up { eps } else { next };
        }
        eps = next;
        if !(1e-12..=1e12).contains(&eps) {
            break;
        }
    }
    eps
}

/// A random stream per (seed, chain), by SplitMix64 mixing.
fn chain_rng(seed: u64, chain: usize) -> Xoshiro256PlusPlus {
    fn splitmix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    Xoshiro256PlusPlus::seed_from_u64(splitmix(seed) ^ splitmix(splitmix(chain as u64)))
}

fn run_chain<T: Target>(
    eval: &mut Evaluator<'_, T>,
    mut point: Point,
    chain: usize,
    o: &SampleOptions,
    kinetic: &Kinetic,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (Vec<Vec<f64>>, ChainStats) {
    let d = eval.dim();
    let mut rng = chain_rng(o.seed, chain);
    let fixed = FixedPoint::of(o);
    let mut kinetic = kinetic.clone();
    let mut eps = o.step_size;
    if o.warmup > 0 {
        eps = reasonable_step_size(eval, &mut rng, &point, eps, &kinetic, fixed);
    }
    let mut adapt = DualAveraging::new(eps, o.target_acceptance);
    let windows = match kinetic {
        Kinetic::Euclid(_) if o.adapt_mass => mass_windows(o.warmup),
        _ => Vec::new(),
    };
    let (initial_buffer, _, _) = buffers(o.warmup);
    let last_window_end = windows.last().copied().unwrap_or(0);
    let mut welford = Welford::new(d);
    let mut draws = Vec::with_capacity(o.draws);
    let mut stats = ChainStats {
        step_size: eps,
        acceptance_rate: 0.0,
        divergences: 0,
        warmup_divergences: 0,
        fixed_point_failures: 0,
        warmup_fixed_point_failures: 0,
        target_errors: 0,
        warmup_target_errors: 0,
        gradient_evaluations: 0,
        metric_evaluations: 0,
        inverse_mass: Vec::new(),
    };
    let mut accept_sum = 0.0;
    for it in 0..o.warmup + o.draws {
        let warm = it < o.warmup;
        let step = if warm { adapt.step_size() } else { eps };
        let u: f64 = rng.random();
        let time = o.trajectory_length * (1.0 - o.step_jitter * u);
        let steps = ((time / step).ceil() as usize).clamp(1, o.max_leapfrog_steps);
        let outcome = transition(eval, &mut rng, &mut point, step, steps, &kinetic, fixed);
        let counts = match (outcome, warm) {
            (Outcome::Divergent, true) => Some(&mut stats.warmup_divergences),
            (Outcome::Divergent, false) => Some(&mut stats.divergences),
            (Outcome::FixedPointFailure, true) => Some(&mut stats.warmup_fixed_point_failures),
            (Outcome::FixedPointFailure, false) => Some(&mut stats.fixed_point_failures),
            (Outcome::TargetError, true) => Some(&mut stats.warmup_target_errors),
            (Outcome::TargetError, false) => Some(&mut stats.target_errors),
            (Outcome::Proposed { .. }, _) => None,
        };
        if let Some(c) = counts {
            *c += 1;
        }
        if warm {
            adapt.update(outcome.accept_probability());
            if it >= initial_buffer && it < last_window_end {
                welford.add(&point.y);
            }
            if windows.contains(&(it + 1)) {
                // a slow window is complete: its variance becomes M⁻¹, and the step size
                // starts again from the heuristic for the new metric
                if let Kinetic::Euclid(inv_mass) = &mut kinetic {
                    *inv_mass = welford.regularized();
                }
                welford = Welford::new(d);
                let guess = adapt.step_size();
                let fresh = reasonable_step_size(eval, &mut rng, &point, guess, &kinetic, fixed);
                adapt = DualAveraging::new(fresh, o.target_acceptance);
            }
            if it + 1 == o.warmup {
                eps = adapt.averaged();
            }
        } else {
            accept_sum += outcome.accept_probability();
            draws.push(point.y.as_slice().to_vec());
        }
        progress(chain, it + 1);
    }
    stats.step_size = eps;
    stats.acceptance_rate = accept_sum / o.draws as f64;
    stats.gradient_evaluations = eval.gradients;
    stats.metric_evaluations = eval.metrics;
    if let Kinetic::Euclid(inv_mass) = kinetic {
        stats.inverse_mass = inv_mass;
    }
    (draws, stats)
}

/// Stan's initial buffer, terminal buffer and first window for a warm-up.
fn buffers(warmup: usize) -> (usize, usize, usize) {
    let (init, term, base) = (75, 50, 25);
    if init + term + base > warmup {
        let init = warmup * 15 / 100;
        let term = warmup / 10;
        (init, term, warmup - init - term)
    } else {
        (init, term, base)
    }
}
