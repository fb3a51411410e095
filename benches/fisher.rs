//! The Fisher information matrix: closed-form derivation per built-in model (parse, separate,
//! solve, simplify; target under 20 ms), and evaluation of a compiled closed-form matrix
//! (target under 50 ns per point for two-parameter models).
//!
//! Run: `cargo bench --bench fisher -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fisher_geometry::Compiled;
use fisher_geometry::Model;

fn derivation(c: &mut Criterion) {
    let mut group = c.benchmark_group("closed-form derivation");
    for (name, source) in Model::builtins() {
        let Ok(model) = Model::parse(source, name) else {
            continue;
        };
        if fisher_geometry::closed_form(&model).is_err() {
            continue;
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                let model = Model::parse(black_box(source), name).expect("built-in parses");
                fisher_geometry::closed_form(&model)
            })
        });
    }
    group.finish();
}

fn evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("compiled closed-form evaluation");
    for (name, source) in Model::builtins() {
        let Ok(model) = Model::parse(source, name) else {
            continue;
        };
        let Ok(f) = fisher_geometry::closed_form(&model) else {
            continue;
        };
        if model.params.len() != 2 {
            continue;
        }
        let entries = vec![
            f.matrix[0][0].clone(),
            f.matrix[0][1].clone(),
            f.matrix[1][1].clone(),
        ];
        let mut vars: Vec<_> = model.params.iter().map(|p| p.name).collect();
        vars.extend(model.consts.iter().map(|(n, _)| *n));
        let compiled = Compiled::new(&entries, &vars).expect("closed forms compile");
        let mut point: Vec<f64> = vec![0.7, 1.3];
        point.extend(model.consts.iter().map(|(_, v)| *v));
        group.bench_function(name, |b| {
            let mut scratch = Vec::new();
            let mut out = [0.0; 3];
            b.iter(|| {
                compiled
                    .eval_with(black_box(&point), &mut scratch, &mut out)
                    .expect("evaluates");
                out[2]
            })
        });
    }
    group.finish();
}

criterion_group!(benches, derivation, evaluation);
criterion_main!(benches);
