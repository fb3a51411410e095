//! Score and Hessian of the normal model at many data points, three ways: the five
//! hand-derived expressions compiled into one tape, num-dual's `hessian` of a plain generic
//! closure, and the tree evaluator over `Dual2Vec` (`eval::hessian`).
//!
//! Run: `cargo bench --bench eval -- --warm-up-time 1 --measurement-time 3`; each benchmark
//! evaluates `POINTS` data points, so ns/point = time / `POINTS`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fisher_geometry::Expr;
use fisher_geometry::eval::{Compiled, Env, hessian};
use fisher_geometry::expr::ln;
use nalgebra::SVector;
use num_dual::DualNum;

/// Number of data points per benchmark iteration.
const POINTS: usize = 1000;
const MU: f64 = 0.3;
const SIGMA: f64 = 1.7;

fn data() -> Vec<f64> {
    (0..POINTS)
        .map(|i| -3.0 + 6.0 * i as f64 / POINTS as f64)
        .collect()
}

/// ℓ(x; μ, σ) = −½((x − μ)/σ)² − ln σ − ½ ln 2π, generic over the dual type.
fn logp<D: DualNum<Primitive = f64> + Copy>(x: f64, mu: D, sigma: D) -> D {
    let z = (-mu + x) / sigma;
    z * z * -0.5 - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

fn bench(c: &mut Criterion) {
    let xs = data();
    let (x, mu, sigma) = (Expr::sym("x"), Expr::sym("mu"), Expr::sym("sigma"));
    let r = &x - &mu;
    let exprs = [
        &r / sigma.pow(2),                                   // s_μ = (x − μ)/σ²
        r.pow(2) / sigma.pow(3) - 1.0 / &sigma,              // s_σ = (x − μ)²/σ³ − 1/σ
        -1.0 / sigma.pow(2),                                 // H_μμ = −1/σ²
        -2.0 * &r / sigma.pow(3),                            // H_μσ = −2(x − μ)/σ³
        -3.0 * r.pow(2) / sigma.pow(4) + 1.0 / sigma.pow(2), // H_σσ = −3(x − μ)²/σ⁴ + 1/σ²
    ];
    let vars = ["x".into(), "mu".into(), "sigma".into()];
    let compiled = Compiled::new(&exprs, &vars).unwrap();
    let logp_expr = -0.5 * ((&x - &mu) / &sigma).pow(2) - ln(&sigma) - 0.5 * ln(2.0 * Expr::pi());

    let mut group = c.benchmark_group("normal score+hessian");
    group.throughput(Throughput::Elements(POINTS as u64));

    group.bench_function("compiled tape (5 exprs)", |b| {
        let mut scratch = Vec::new();
        let mut out = [0.0; 5];
        b.iter(|| {
            let mut acc = 0.0;
            for &xi in &xs {
                compiled
                    .eval_with(black_box(&[xi, MU, SIGMA]), &mut scratch, &mut out)
                    .unwrap();
                acc += out[4];
            }
            acc
        })
    });

    group.bench_function("num-dual hessian, closure", |b| {
        let theta = SVector::from([MU, SIGMA]);
        b.iter(|| {
            let mut acc = 0.0;
            for &xi in &xs {
                let (_, _, h) =
                    num_dual::hessian(|p: SVector<_, 2>| logp(xi, p[0], p[1]), black_box(&theta));
                acc += h[(1, 1)];
            }
            acc
        })
    });

    group.bench_function("tree eval over Dual2Vec (eval::hessian)", |b| {
        let params = ["mu".into(), "sigma".into()];
        b.iter(|| {
            let mut acc = 0.0;
            for &xi in &xs {
                let env = Env::new().with("x", xi).with("mu", MU).with("sigma", SIGMA);
                let (_, _, h) = hessian(&logp_expr, &params, black_box(&env)).unwrap();
                acc += h[(1, 1)];
            }
            acc
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
