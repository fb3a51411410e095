//! Score and Hessian of the normal model at many data points, four ways: the five derived
//! expressions (`fisher derive normal`) compiled into one tape and evaluated point by point,
//! the same tape over the whole batch (`Compiled::eval_batch`), num-dual's `hessian` of a
//! plain generic closure, and the tree evaluator over `Dual2Vec` (`eval::hessian`).
//!
//! Run: `cargo bench --bench eval -- --warm-up-time 1 --measurement-time 3`; each benchmark
//! evaluates `POINTS` data points, so ns/point = time / `POINTS`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fisher_geometry::expr::ln;
use fisher_geometry::{BatchScratch, Compiled, Env, Input, hessian};
use fisher_geometry::{Expr, Model, simplify};
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
    // The score and Hessian as `fisher derive normal` prints them.
    let model = Model::builtin("normal").unwrap();
    let d = simplify::derive(&model);
    let exprs: Vec<Expr> = d
        .score
        .iter()
        .cloned()
        .chain([
            d.hessian[0][0].clone(),
            d.hessian[0][1].clone(),
            d.hessian[1][1].clone(),
        ])
        .collect();
    let vars = ["x".into(), "mu".into(), "sigma".into()];
    let compiled = Compiled::new(&exprs, &vars).unwrap();
    let (x, mu, sigma) = (Expr::sym("x"), Expr::sym("mu"), Expr::sym("sigma"));
    let logp_expr = -0.5 * ((&x - &mu) / &sigma).pow(2) - ln(&sigma) - 0.5 * ln(2.0 * Expr::pi());

    let mut group = c.benchmark_group("normal score+hessian");
    group.throughput(Throughput::Elements(POINTS as u64));

    group.bench_function("compiled tape, point by point", |b| {
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

    group.bench_function(
        "compiled tape, batch (x varying, mu and sigma uniform)",
        |b| {
            let mut scratch = BatchScratch::default();
            let mut out = vec![0.0; 5 * POINTS];
            let inputs = [
                Input::Varying(&xs),
                Input::Uniform(MU),
                Input::Uniform(SIGMA),
            ];
            b.iter(|| {
                compiled
                    .eval_batch(black_box(&inputs), &mut scratch, &mut out)
                    .unwrap();
                out[5 * POINTS - 1]
            })
        },
    );

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
