//! The Fisher field (issue 11 targets): closed-form F at one point (≤ 20 ns) and F + ∂F
//! (≤ 100 ns) for the two-parameter built-ins; numeric Cauchy and Student-t(5) F at relative
//! 1e-9 (≤ 5 µs per point, ≤ 1.5 µs per point over a batch of 1000 on all cores), F + ∂F
//! numeric (≤ 4× F alone).
//!
//! Run: `cargo bench --bench field -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fisher_geometry::Quadrature;
use fisher_geometry::{FieldOptions, FisherField};
use fisher_geometry::{Method, Model};
use nalgebra::DMatrix;

/// A point inside the domains of a built-in: 0.7 for real parameters, 1.3 for positive ones,
/// the middle of bounded ones.
fn point(model: &Model) -> Vec<f64> {
    model
        .params
        .iter()
        .map(|p| {
            let (lo, hi) = p.domain.bounds();
            match (lo.is_finite(), hi.is_finite()) {
                (true, true) => 0.6 * lo + 0.4 * hi,
                (true, false) => lo + 1.3,
                _ => 0.7,
            }
        })
        .collect()
}

fn closed(c: &mut Criterion) {
    let mut group = c.benchmark_group("field closed-form");
    for (name, _) in Model::builtins() {
        let model = Model::builtin(name).expect("built-in");
        if model.params.len() != 2 {
            continue;
        }
        let Ok(field) = FisherField::new(&model) else {
            continue;
        };
        if field.method() != Method::ClosedForm {
            continue;
        }
        let theta = point(&model);
        let mut out = DMatrix::zeros(2, 2);
        group.bench_function(format!("{name} F"), |b| {
            b.iter(|| field.at_into(black_box(&theta), &mut out))
        });
        let mut df = vec![DMatrix::zeros(2, 2); 2];
        group.bench_function(format!("{name} F+dF"), |b| {
            b.iter(|| field.with_gradient_into(black_box(&theta), &mut out, &mut df))
        });
    }
    group.finish();
}

fn numeric(c: &mut Criterion) {
    let mut group = c.benchmark_group("field numeric");
    let options = FieldOptions {
        quadrature: Quadrature {
            rel_tol: 1e-9,
            ..Quadrature::default()
        },
        ..FieldOptions::default()
    };
    for name in ["cauchy", "student_t5"] {
        let model = Model::builtin(name).expect("built-in");
        let field = FisherField::with_options(&model, options.clone()).expect("field");
        let theta = point(&model);
        group.bench_function(format!("{name} F"), |b| {
            b.iter(|| field.at(black_box(&theta)))
        });
        group.bench_function(format!("{name} F+dF"), |b| {
            b.iter(|| field.with_gradient(black_box(&theta)))
        });
        let batch: Vec<Vec<f64>> = (0..1000)
            .map(|i| {
                let t = f64::from(i) / 1000.0;
                theta.iter().map(|v| v * (0.5 + t)).collect()
            })
            .collect();
        group.bench_function(format!("{name} F batch of 1000"), |b| {
            b.iter(|| field.at_batch(black_box(&batch)))
        });
    }
    group.finish();
}

criterion_group!(benches, closed, numeric);
criterion_main!(benches);
