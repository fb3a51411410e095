//! Fisher–Rao distance per pair (issue 12 targets: ≤ 1 ms for closed-form metrics at 1e-8,
//! ≤ 50 ms for numeric metrics at 1e-6; geomstats 2.8 takes 0.17 s per beta distance and
//! 0.06 s per gamma distance), with the accuracy of each route against a closed form or a
//! tighter reference, printed once before the timings.
//!
//! Run: `cargo bench --bench geometry -- --warm-up-time 1 --measurement-time 5`.
#![allow(clippy::print_stderr)] // the accuracy table

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fisher_geometry::{
    FisherField, GeodesicOptions, Model, ShootingOptions, distance, logarithmic_map,
};

/// `√2 arccosh(1 + ((Δμ)²/2 + (Δσ)²)/(2σ₁σ₂))`, scaled by `√(2b)` with μ stretched for a
/// location–scale `F = diag(a, b)/σ²`.
fn hyperbolic(a: f64, b: f64, p: [f64; 2], q: [f64; 2]) -> f64 {
    let x = (a / b * (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)) / (2.0 * p[1] * q[1]);
    b.sqrt() * (x + (x * (2.0 + x)).sqrt()).ln_1p()
}

/// A pair: model, a, b, and the reference distance (None: a tight shooting reference).
type Pair = (&'static str, Vec<f64>, Vec<f64>, Option<f64>);

fn pairs() -> Vec<Pair> {
    vec![
        (
            "normal",
            vec![0.0, 1.0],
            vec![1.0, 2.0],
            Some(hyperbolic(1.0, 2.0, [0.0, 1.0], [1.0, 2.0])),
        ),
        ("poisson", vec![1.0], vec![9.0], Some(4.0)),
        ("gamma", vec![1.0, 1.0], vec![3.0, 0.5], None),
        ("beta", vec![0.5, 0.5], vec![5.0, 2.0], None),
        (
            "normal_logsigma",
            vec![0.0, 0.0],
            vec![1.0, 2f64.ln()],
            Some(hyperbolic(1.0, 2.0, [0.0, 1.0], [1.0, 2.0])),
        ),
        (
            "cauchy",
            vec![0.0, 1.0],
            vec![1.0, 2.0],
            Some(hyperbolic(0.5, 0.5, [0.0, 1.0], [1.0, 2.0])),
        ),
        ("student_t5", vec![0.0, 1.0], vec![1.0, 2.0], None),
    ]
}

fn tight() -> ShootingOptions {
    ShootingOptions {
        geodesic: GeodesicOptions {
            rel_tol: 1e-13,
            abs_tol: 1e-15,
            max_steps: 100_000,
        },
        tol: 1e-12,
        ..ShootingOptions::default()
    }
}

fn distances(c: &mut Criterion) {
    let mut group = c.benchmark_group("distance per pair");
    group.sample_size(10);
    for (name, a, b, reference) in pairs() {
        let field = FisherField::new(&Model::builtin(name).expect("built-in")).expect("field");
        let options = ShootingOptions::for_field(&field);
        let d = distance(&field, &a, &b, options).expect("distance");
        let (want, what) = match reference {
            Some(r) => (r, "closed form"),
            None => (
                logarithmic_map(&field, &a, &b, tight())
                    .expect("reference")
                    .distance,
                "shooting at 1e-13",
            ),
        };
        eprintln!(
            "{name:16} {:14} metric {:11} d = {:.12}  relative error {:.1e} against the {what}",
            d.method.as_str(),
            field.method().as_str(),
            d.value,
            (d.value - want).abs() / want
        );
        group.bench_function(format!("{name} ({})", d.method.as_str()), |bench| {
            bench.iter(|| distance(&field, black_box(&a), black_box(&b), options))
        });
        if d.method.as_str() != "shooting" {
            group.bench_function(format!("{name} (shooting)"), |bench| {
                bench.iter(|| logarithmic_map(&field, black_box(&a), black_box(&b), options))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, distances);
criterion_main!(benches);
