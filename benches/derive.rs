//! Parse + differentiate + simplify the score and Hessian of every built-in model.
//!
//! Run with `cargo bench --bench derive`. Target: under 5 ms per model.

use criterion::{Criterion, criterion_group, criterion_main};
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

criterion_group!(benches, derive_builtins);
criterion_main!(benches);
