//! The special functions of `expr::special` on their own: `trigamma`, `digamma` and `lgamma`
//! at a few typical arguments (one call per iteration), and over a sweep of `SWEEP` arguments
//! spaced logarithmically over `[0.1, 100]` (ns/call = time / `SWEEP`). The closed-form Fisher
//! matrices of the gamma and beta models spend most of their time in `trigamma`.
//!
//! Run: `cargo bench --bench special -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fisher_geometry::special::{digamma, lgamma, trigamma};

/// Arguments timed one by one: small, near 1 and 2, mid-range, large.
const ARGS: [f64; 6] = [0.3, 1.3, 2.7, 5.5, 30.0, 1e4];

/// A special function of one real argument.
type Special = fn(f64) -> f64;

/// Number of arguments in the sweep over `[0.1, 100]`.
const SWEEP: usize = 1000;

fn sweep() -> Vec<f64> {
    (0..SWEEP)
        .map(|i| 0.1 * 1000f64.powf(i as f64 / (SWEEP - 1) as f64))
        .collect()
}

fn bench(c: &mut Criterion) {
    let functions: [(&str, Special); 3] = [
        ("trigamma", trigamma),
        ("digamma", digamma),
        ("lgamma", lgamma),
    ];
    let xs = sweep();
    for (name, f) in functions {
        let mut group = c.benchmark_group(format!("special {name}"));
        for x in ARGS {
            group.bench_with_input(BenchmarkId::from_parameter(x), &x, |b, &x| {
                b.iter(|| f(black_box(x)))
            });
        }
        group.throughput(Throughput::Elements(SWEEP as u64));
        group.bench_function("sweep 0.1..100", |b| {
            b.iter(|| xs.iter().map(|&x| f(black_box(x))).sum::<f64>())
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
