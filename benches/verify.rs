//! The cost of verifying closed forms against quadrature (issue 10: "at most a few
//! milliseconds"): `verify_fisher` (three numeric Fisher matrices) and `verify_kl` (three
//! numeric divergences) per built-in model with a closed form, derivation excluded.
//!
//! Run: `cargo bench --bench verify -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fisher_geometry::verify;
use fisher_geometry::{Model, simplify};

const MODELS: &[&str] = &[
    "normal",
    "gamma",
    "beta",
    "poisson",
    "negbinom",
    "categorical3",
    "bivariate_normal",
];

fn verification(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify closed F");
    for name in MODELS {
        let model = Model::builtin(name).expect("built-in");
        let d = simplify::derive(&model);
        let f = fisher_geometry::closed_form(&model).expect("closed form");
        group.bench_function(*name, |b| {
            b.iter(|| verify::verify_fisher(black_box(&model), &d, &f, &[]))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("verify closed KL");
    for name in MODELS {
        let model = Model::builtin(name).expect("built-in");
        let kl = fisher_geometry::closed_kl(&model).expect("closed KL");
        group.bench_function(*name, |b| {
            b.iter(|| verify::verify_kl(black_box(&model), &kl, &[]))
        });
    }
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
