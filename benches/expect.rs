//! The numeric Fisher matrix `E[s sᵀ]` at one point, from the score expressions of
//! `simplify::derive`, at relative tolerance 1e-10 (results good to 1e-8), for the Cauchy and
//! Student-t (ν = 5) location-scale models, whose Fisher matrices have no closed form on the
//! score-identity route. Each iteration is one whole `expect::expectations` call: compiling the
//! integrands, locating the mode, and the quadrature.
//!
//! Also the two KL Hessians at `θ' = θ` by hyper-dual numbers at the quadrature nodes
//! (`info::kl_hessians`, the numeric route, with its normalization check).
//!
//! Run: `cargo bench --bench expect -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fisher_geometry::Env;
use fisher_geometry::{Expr, Model, simplify};
use fisher_geometry::{Quadrature, expectations};

/// `s_i s_j` for `j ≤ i`, the packed lower triangle of `s sᵀ`.
fn outer_products(model: &Model) -> Vec<Expr> {
    let s = simplify::derive(model).score;
    let mut gs = Vec::new();
    for i in 0..s.len() {
        for j in 0..=i {
            gs.push(&s[i] * &s[j]);
        }
    }
    gs
}

#[allow(clippy::print_stderr)] // a bench shows the values it times, with their errors
fn bench(c: &mut Criterion) {
    let cauchy = Model::parse(
        "data x : real\nparam x0 : real\nparam gamma : positive\n\
         logp = -ln(pi) - ln(gamma) - ln(1 + ((x - x0)/gamma)^2)",
        "cauchy",
    )
    .unwrap();
    let student = Model::parse(
        "const nu = 5\ndata x : real\nparam mu : real\nparam sigma : positive\n\
         logp = lgamma((nu + 1)/2) - lgamma(nu/2) - 0.5*ln(nu*pi) - ln(sigma) \
         - (nu + 1)/2*ln(1 + ((x - mu)/sigma)^2/nu)",
        "student_t",
    )
    .unwrap();
    let q = Quadrature {
        rel_tol: 1e-10,
        ..Quadrature::default()
    };
    let cases = [
        (
            "cauchy",
            &cauchy,
            Env::new().with("x0", 0.3).with("gamma", 1.7),
        ),
        (
            "student_t5",
            &student,
            Env::new().with("mu", 0.3).with("sigma", 1.7),
        ),
    ];
    let mut group = c.benchmark_group("numeric_fisher");
    for (name, model, at) in &cases {
        let gs = outer_products(model);
        let est = expectations(model, at, &gs, &q).unwrap();
        eprintln!(
            "{name}: F (packed) = {:?}, errors = {:?}, {} evaluations",
            est.values, est.errors, est.evaluations
        );
        group.bench_function(*name, |b| {
            b.iter(|| expectations(black_box(model), black_box(at), &gs, &q).unwrap())
        });
    }
    group.finish();
    let mut group = c.benchmark_group("numeric_kl_hessians");
    for (name, model, at) in &cases {
        let values: Vec<(&str, f64)> = model
            .params
            .iter()
            .map(|p| (p.name.as_str(), *at.get(p.name).unwrap()))
            .collect();
        let point = fisher_geometry::Point::new(model, &values).unwrap();
        group.bench_function(*name, |b| {
            b.iter(|| fisher_geometry::kl_hessians(black_box(model), &point).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
