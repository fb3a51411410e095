//! Inputs at the edges: long sums go through the whole pipeline in bounded time, deep
//! nesting is a clear error, and the command line turns every bad model into an error frame
//! with exit code 1, never a panic.

use fisher_geometry::cli::app::run_args;
use fisher_geometry::{Model, simplify};

#[test]
fn ten_thousand_term_sum_parses_differentiates_and_simplifies() {
    let terms: Vec<String> = (0..10_000)
        .map(|k| format!("{}*x*mu^2", k % 7 + 1))
        .collect();
    let src = format!(
        "data x : real\nparam mu : real\nlogp = {}\n",
        terms.join(" + ")
    );
    let model = Model::parse(&src, "long").unwrap();
    let d = simplify::derive(&model);
    // Σ c_k x μ² with Σ c_k = 40_000 - 3 (the pattern 1..7 repeated): ∂/∂μ = 2·39997·x·μ.
    let total: u32 = (0..10_000).map(|k| k % 7 + 1).sum();
    assert_eq!(d.score[0].to_string(), format!("{}*mu*x", 2 * total));
    assert_eq!(d.hessian[0][0].to_string(), format!("{}*x", 2 * total));
}

#[test]
fn ten_thousand_nested_parentheses_are_a_clear_error() {
    let src = format!(
        "data x : real\nparam mu : real\nlogp = {}x - mu{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let err = Model::parse(&src, "deep").unwrap_err();
    assert!(err.to_string().contains("nested too deeply"), "{err}");
}

#[test]
fn command_line_reports_bad_models_with_a_frame() {
    let dir = std::env::temp_dir().join(format!("fisher-robustness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "typo.model",
            "data x : real\nparam mu : real\nlogp = -(x - mu)^2 + sigam\n",
            "sigam",
        ),
        (
            "arity.model",
            "data x : real\nparam mu : real\nlogp = ln(x, mu)\n",
            "ln",
        ),
        ("nologp.model", "data x : real\nparam mu : real\n", "logp"),
    ];
    for (file, src, needle) in cases {
        let path = dir.join(file);
        std::fs::write(&path, src).unwrap();
        let (code, out, err) = run_args(["fisher", "derive", path.to_str().unwrap()]);
        assert_eq!(code, 1, "{file}");
        assert!(out.is_empty(), "{file}: nothing on stdout");
        assert!(err.contains(needle) && err.contains('│'), "{file}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ten_thousand_distinct_terms_stay_bounded() {
    // No like terms to collect: the e-graph is skipped above its input limit and the
    // canonical pass alone keeps every term.
    let terms: Vec<String> = (1..=10_000).map(|k| format!("sin({k}*mu)")).collect();
    let src = format!(
        "data x : real\nparam mu : real\nlogp = x*mu + {}\n",
        terms.join(" + ")
    );
    let model = Model::parse(&src, "wide").unwrap();
    let d = simplify::derive(&model);
    let printed = d.score[0].to_string();
    assert!(
        printed.starts_with("x + "),
        "{}",
        &printed[..80.min(printed.len())]
    );
    assert_eq!(printed.matches("cos(").count(), 10_000);
    assert_eq!(d.hessian[0][0].to_string().matches("sin(").count(), 10_000);
}
