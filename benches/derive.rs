//! Parse + differentiate + simplify the score and Hessian of every built-in model, and the
//! derivation of a diagonal normal as its dimension grows.
//!
//! Run with `cargo bench --bench derive`. Targets: under 5 ms per built-in model; the
//! diagonal normal's score, Hessian and closed-form Fisher matrix near-linear in `d`, within
//! 100 ms at `d = 64` (128 parameters). The bench repeats a derivation in one process, so
//! it measures the e-graph with the shapes it has already searched remembered
//! (`simplify::egraph`); one cold derivation per process is measured by
//! `/usr/bin/time -v target/release/examples/diag_normal 64`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fisher_geometry::{Model, simplify};

fn derive_builtins(c: &mut Criterion) {
    let mut group = c.benchmark_group("derive");
    for (name, source) in Model::builtins() {
        group.bench_function(name, |b| {
            b.iter(|| {
                let model =
                    Model::parse(std::hint::black_box(source), name).expect("built-in parses");
                simplify::derive(&model)
            })
        });
    }
    group.finish();
}

#[path = "../tests/common/diag_normal.rs"]
mod diag;
use diag::diag_normal_source as diag_normal;

/// Score, Hessian and closed-form Fisher matrix of the diagonal normal, `d = 4, 8, …, 64`.
fn derive_diag_normal(c: &mut Criterion) {
    let mut group = c.benchmark_group("diag_normal");
    group.sample_size(10);
    for d in [4, 8, 16, 32, 64] {
        let source = diag_normal(d);
        group.bench_with_input(BenchmarkId::from_parameter(d), &source, |b, source| {
            b.iter(|| {
                let model = Model::parse(std::hint::black_box(source), "diag_normal")
                    .expect("the diagonal normal parses");
                let derivatives = simplify::derive(&model);
                let fisher = fisher_geometry::closed_form(&model).expect("a closed form");
                (derivatives, fisher)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, derive_builtins, derive_diag_normal);
criterion_main!(benches);
