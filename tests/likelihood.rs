//! The two routes of the log-likelihood agree: by the sums of the sufficient statistics and
//! over the data in batches, on every built-in model the separation applies to, at random
//! data inside the supports and random θ inside the domains (fixed seeds). The batched route
//! is also checked against the log-density evaluated observation by observation.

use fisher_geometry::{
    Dataset, Domain, Env, FieldOptions, FisherField, Likelihood, LikelihoodError, LikelihoodRoute,
    Model, Support, eval_f64,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

/// The built-ins whose log-density separates into statistics (exponential families).
const SEPARABLE: &[&str] = &[
    "normal",
    "normal_var",
    "normal_info",
    "normal_natural",
    "normal_logsigma",
    "curved_normal",
    "lognormal",
    "poisson",
    "poisson_log",
    "exponential",
    "exponential_scale",
    "gamma",
    "gamma_mean",
    "gamma_scale",
    "beta",
    "bernoulli",
    "bernoulli_logit",
    "binomial",
    "geometric",
    "inverse_gaussian",
    "rayleigh",
    "bivariate_normal",
    "categorical3",
];

fn field(name: &str) -> FisherField {
    let m = Model::builtin(name).unwrap();
    let options = FieldOptions {
        verify: false,
        ..FieldOptions::default()
    };
    FisherField::with_options(&m, options).unwrap()
}

fn draw_data(m: &Model, n: usize, rng: &mut StdRng) -> Dataset {
    let z = Normal::new(0.0f64, 1.0).unwrap();
    let columns = m
        .data
        .iter()
        .map(|d| {
            (0..n)
                .map(|_| match d.support {
                    Support::Real => 2.0 * z.sample(rng) + 0.5,
                    Support::Positive => (0.7 * z.sample(rng)).exp(),
                    Support::Unit => 1.0 / (1.0 + (-z.sample(rng)).exp()),
                    Support::Binary => f64::from(rng.random_range(0..2u8)),
                    Support::Count => f64::from(rng.random_range(0..15u8)),
                    Support::Int(lo, hi) => rng.random_range(lo..=hi) as f64,
                })
                .collect()
        })
        .collect();
    Dataset::new(m, columns).unwrap()
}

fn draw_theta(m: &Model, rng: &mut StdRng) -> Vec<f64> {
    let z = Normal::new(0.0, 1.0).unwrap();
    m.params
        .iter()
        .map(|p| {
            let u: f64 = z.sample(rng);
            match p.domain {
                Domain::Real => u,
                Domain::Positive => (0.5 * u).exp(),
                Domain::Unit => 1.0 / (1.0 + (-u).exp()),
                Domain::Interval(lo, hi) => {
                    let (lo, hi) = (lo.value(), hi.value());
                    lo + (hi - lo) / (1.0 + (-u).exp())
                }
            }
        })
        .collect()
}

fn close(a: f64, b: f64, scale: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-10 * scale.max(1.0),
        "{what}: {a} vs {b} (scale {scale})"
    );
}

/// `Σ ln p(xᵢ; θ)` over every `every`-th row, row by row through the interpreter.
fn direct_sum(m: &Model, data: &Dataset, theta: &[f64], every: usize) -> f64 {
    let mut total = 0.0;
    for i in (0..data.len()).step_by(every) {
        let mut env: Env<f64> = m.consts.iter().copied().collect();
        for (d, c) in m.data.iter().zip(data.columns()) {
            env.insert(d.name, c[i]);
        }
        for (p, v) in m.params.iter().zip(theta) {
            env.insert(p.name, *v);
        }
        total += eval_f64(&m.logp, &env).unwrap();
    }
    total
}

#[test]
fn sufficient_statistics_agree_with_batches() {
    let mut rng = StdRng::seed_from_u64(13);
    let mut compared = 0;
    for name in SEPARABLE {
        let f = field(name);
        let m = f.model().clone();
        for _ in 0..3 {
            let data = draw_data(&m, 257, &mut rng);
            let suff = Likelihood::new(&f, &data).unwrap();
            assert_eq!(suff.route(), LikelihoodRoute::Sufficient, "{name}");
            let batch = Likelihood::batched(&f, &data).unwrap();
            let theta = draw_theta(&m, &mut rng);
            let (a, b) = match (suff.hessian(&theta), batch.hessian(&theta)) {
                (Ok(a), Ok(b)) => (a, b),
                // e.g. categorical3 at a θ whose probabilities leave (0, 1): both refuse.
                (Err(_), Err(_)) => continue,
                (a, b) => panic!("{name} at {theta:?}: {a:?} vs {b:?}"),
            };
            compared += 1;
            let scale = a.value.abs();
            close(a.value, b.value, scale, &format!("{name} value"));
            let gscale = a.gradient.amax() + b.hessian.amax();
            for j in 0..theta.len() {
                close(
                    a.gradient[j],
                    b.gradient[j],
                    gscale,
                    &format!("{name} ∂{j}"),
                );
                for l in 0..theta.len() {
                    close(
                        a.hessian[(j, l)],
                        b.hessian[(j, l)],
                        b.hessian.amax(),
                        &format!("{name} ∂{j}∂{l}"),
                    );
                }
            }
            // The batched value is the sum of ln p over the observations.
            let direct = direct_sum(&m, &data, &theta, 1);
            close(b.value, direct, scale, &format!("{name} direct"));
        }
    }
    // Only the categorical's θ can leave its simplex; every other draw is compared.
    assert!(compared >= 3 * SEPARABLE.len() - 3, "{compared}");
}

#[test]
fn models_without_statistics_use_batches() {
    let mut rng = StdRng::seed_from_u64(5);
    for name in [
        "cauchy",
        "student_t5",
        "weibull",
        "logistic",
        "normal_mixture",
    ] {
        let f = field(name);
        let m = f.model().clone();
        let data = draw_data(&m, 50, &mut rng);
        let l = Likelihood::new(&f, &data).unwrap();
        assert_eq!(l.route(), LikelihoodRoute::Batched, "{name}");
        let e = Likelihood::sufficient(&f, &data).unwrap_err();
        assert!(matches!(e, LikelihoodError::NoStatistics(_)), "{name}: {e}");
        // The value is the sum of ln p over the rows (the parts in the data alone, such as
        // the weibull's ln x, computed once and reused), on the data and on every third row.
        let theta = draw_theta(&m, &mut rng);
        let (all, third) = (
            direct_sum(&m, &data, &theta, 1),
            direct_sum(&m, &data, &theta, 3),
        );
        close(l.value(&theta).unwrap(), all, all.abs(), name);
        let sub = l.subsample(3).unwrap();
        assert_eq!(sub.len(), 17, "{name}");
        close(sub.value(&theta).unwrap(), third, third.abs(), name);
    }
    // The sufficient route keeps no rows to subsample.
    let gamma = field("gamma");
    let suff = Likelihood::new(&gamma, &draw_data(gamma.model(), 9, &mut rng)).unwrap();
    assert_eq!(suff.route(), LikelihoodRoute::Sufficient);
    assert!(suff.subsample(2).is_none());
}

#[test]
fn large_data_in_parallel_chunks() {
    // 100 003 rows: past the parallel threshold, with a ragged last chunk.
    let mut rng = StdRng::seed_from_u64(99);
    let f = field("gamma");
    let data = draw_data(f.model(), 100_003, &mut rng);
    let suff = Likelihood::new(&f, &data).unwrap();
    let batch = Likelihood::batched(&f, &data).unwrap();
    let theta = [1.7, 0.8];
    let (a, b) = (
        suff.hessian(&theta).unwrap(),
        batch.hessian(&theta).unwrap(),
    );
    close(a.value, b.value, a.value.abs(), "value");
    for j in 0..2 {
        close(a.gradient[j], b.gradient[j], 1e5, "gradient");
    }
    // Deterministic: the same sums again.
    assert_eq!(suff.hessian(&theta).unwrap(), a);
    assert_eq!(
        Likelihood::batched(&f, &data)
            .unwrap()
            .hessian(&theta)
            .unwrap(),
        b
    );
}

#[test]
fn errors_are_reported() {
    let f = field("normal");
    let data = Dataset::new(f.model(), vec![vec![1.0, 2.0]]).unwrap();
    let l = Likelihood::new(&f, &data).unwrap();
    let e = l.value(&[0.0, -1.0]).unwrap_err();
    assert!(e.to_string().contains("sigma"), "{e}");
    let e = l.value(&[0.0]).unwrap_err();
    assert!(matches!(e, LikelihoodError::Theta(_)), "{e}");
    // Data of another model.
    let g = field("bivariate_normal");
    let e = Likelihood::new(&g, &data).unwrap_err();
    assert!(matches!(e, LikelihoodError::Mismatch { .. }), "{e}");
}
