//! Prints, for every built-in model, the size (nodes as printed: leaves, operators, calls) of the score and Hessian before
//! and after simplification: `cargo run --release --example sizes`.
//!
//! "Before" is the raw symbolic derivative (the Hessian differentiates the raw score);
//! "after" is what `fisher derive` prints.

use fisher_geometry::Pretty;
use fisher_geometry::{Expr, Model, derivative, simplify};

/// Size of an expression as printed.
fn size(e: &Expr) -> usize {
    Pretty::of(e).size()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = String::from(
        "| model | score before | score after | Hessian before | Hessian after |\n| --- | ---: | ---: | ---: | ---: |\n",
    );
    for (name, _) in Model::builtins() {
        let model = Model::builtin(name)?;
        let params: Vec<_> = model.params.iter().map(|p| p.name).collect();
        let raw_score: Vec<_> = params.iter().map(|p| derivative(&model.logp, *p)).collect();
        let raw_hess: usize = raw_score
            .iter()
            .flat_map(|s| params.iter().map(move |p| size(&derivative(s, *p))))
            .sum();
        let d = simplify::derive(&model);
        let score_before: usize = raw_score.iter().map(size).sum();
        let score_after: usize = d.score.iter().map(size).sum();
        let hess_after: usize = d.hessian.iter().flatten().map(size).sum();
        out.push_str(&format!(
            "| {name} | {score_before} | {score_after} | {raw_hess} | {hess_after} |\n"
        ));
    }
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    Ok(())
}
