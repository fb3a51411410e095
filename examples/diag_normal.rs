//! Derives the score, Hessian and closed-form Fisher matrix of a diagonal normal in `d`
//! dimensions (`2d` parameters), once, and reports the time taken:
//! `cargo run --release --example diag_normal -- 64` (under `/usr/bin/time -v` for the peak
//! memory). The figures of issue 11 (derivation that scales) are measured with it.
//!
//! The model is `x_i ~ N(mu_i, s_i²)` for `i = 1..d`, parameters `mu1..mud, s1..sd`, written as
//! a sum of `d` normal log-densities.

use std::time::Instant;

use fisher_geometry::{Model, simplify};

#[path = "../tests/common/diag_normal.rs"]
mod diag;
use diag::diag_normal_source as source;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let d: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(64);
    let start = Instant::now();
    let model = Model::parse(&source(d), "diag_normal")?;
    let derivatives = simplify::derive(&model);
    let derived = start.elapsed();
    let fisher = fisher_geometry::closed_form(&model)?;
    let total = start.elapsed();
    let nonzero = fisher
        .matrix
        .iter()
        .flatten()
        .filter(|e| e.as_num() != Some(0.0))
        .count();
    let out = format!(
        "d = {d}: {} parameters, derive {:.1} ms, closed form {:.1} ms, total {:.1} ms; \
         {} Hessian entries, {nonzero} non-zero Fisher entries\n",
        derivatives.params.len(),
        derived.as_secs_f64() * 1e3,
        (total - derived).as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        derivatives.hessian.len().pow(2),
    );
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    Ok(())
}
