//! `fisher fit`, `fisher natgrad`, `fisher mml` as a user runs them: the JSON contract of
//! DESIGN §5, data from a file and from standard input, and errors with a non-zero exit.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::run_args;

fn run(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["fisher"];
    all.extend_from_slice(args);
    run_args(all)
}

fn run_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fisher"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A CSV file in the system's temporary folder, unique per test.
fn csv(name: &str, header: &str, values: &[f64]) -> String {
    let dir = std::env::temp_dir().join(format!("fisher-cli-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut text = format!("{header}\n");
    for v in values {
        text.push_str(&format!("{v:?}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Deterministic values spread like an exponential(1) (quantiles at (i + ½)/n).
fn exponential_quantiles(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| -(1.0 - (i as f64 + 0.5) / n as f64).ln())
        .collect()
}

#[test]
fn fit_json_contract_and_closed_form() {
    let xs = exponential_quantiles(400);
    let path = csv("fit_exponential.csv", "x", &xs);
    let (code, out, err) = run(&["fit", "exponential", &path, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for field in [
        "estimate",
        "std_error",
        "converged",
        "iterations",
        "log_likelihood",
    ] {
        assert!(v.get(field).is_some(), "missing `{field}`: {v}");
    }
    let mean = xs.iter().sum::<f64>() / 400.0;
    let rate = v["estimate"]["rate"].as_f64().unwrap();
    assert!((rate * mean - 1.0).abs() < 1e-10, "{rate}");
    let se = v["std_error"]["expected"]["rate"].as_f64().unwrap();
    assert!((se - rate / 20.0).abs() < 1e-9 * rate, "{se}");
    assert!(v["std_error"]["observed"]["rate"].as_f64().is_some());
    assert_eq!(v["converged"], true);
    assert_eq!(v["route"], "sufficient-statistics");
    // ℓ = N ln λ̂ − λ̂ Σx = N (ln λ̂ − 1).
    let ll = v["log_likelihood"].as_f64().unwrap();
    assert!((ll - 400.0 * (rate.ln() - 1.0)).abs() < 1e-9 * ll.abs());
}

#[test]
fn large_batched_fits_report_their_warm_start() {
    // 40 000 Cauchy quantiles: the batched route, warmed up on one row in 9.
    let n = 40_000;
    let xs: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.5 * (std::f64::consts::PI * ((i as f64 + 0.5) / n as f64 - 0.5)).tan())
        .collect();
    let path = csv("fit_cauchy_large.csv", "x", &xs);
    let (code, out, err) = run(&["fit", "cauchy", &path, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["route"], "batched", "{v}");
    assert_eq!(v["warm_start"]["every"], 9, "{v}");
    assert_eq!(v["warm_start"]["rows"], 4445, "{v}");
    assert!(v["warm_start"]["iterations"].as_u64().unwrap() >= 1, "{v}");
    // The quantiles sit symmetrically about 1, so the location's estimate is 1.
    let x0 = v["estimate"]["x0"].as_f64().unwrap();
    assert!((x0 - 1.0).abs() < 1e-9, "{x0}");
    let (code, text, err) = run(&["fit", "cauchy", &path]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("started from the estimate on one row in 9 (4445 rows,"),
        "{text}"
    );
    // A start given with --from is kept: no warm-up.
    let (code, out, err) = run(&[
        "fit",
        "cauchy",
        &path,
        "--from",
        "x0=0,gamma=1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["warm_start"], serde_json::Value::Null, "{v}");
}

#[test]
fn fit_reads_standard_input_and_reports_in_text() {
    let input = "x\n0\n3\n1\n2\n5\n";
    let (code, out, err) = run_stdin(&["fit", "poisson", "-"], input);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("5 observations from <stdin>"), "{out}");
    assert!(out.contains("rate       2.2"), "{out}");
    assert!(out.contains("95% Wald interval"), "{out}");
}

#[test]
fn fit_errors_exit_non_zero() {
    // All-zero Bernoulli data: no maximum inside the domain.
    let (code, out, err) = run_stdin(&["fit", "bernoulli", "-"], "x\n0\n0\n0\n0\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no maximum inside the domain") && err.contains("`p` → 0"),
        "{err}"
    );
    // A value outside the support, with its line and column.
    let (code, _, err) = run_stdin(&["fit", "exponential", "-"], "x\n1.5\n-2\n");
    assert_eq!(code, 1);
    assert!(err.contains("<stdin>: line 3, column `x`"), "{err}");
    // A missing file.
    let (code, _, err) = run(&["fit", "normal", "/nonexistent/data.csv"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/data.csv"), "{err}");
    // A bad level and a start outside the domain.
    let path = csv("fit_level.csv", "x", &[0.5, 1.5, 2.0]);
    let (code, _, err) = run(&["fit", "exponential", &path, "--level", "1.5"]);
    assert_eq!(code, 1);
    assert!(err.contains("level"), "{err}");
    let (code, _, err) = run(&["fit", "exponential", &path, "--from", "rate=-1"]);
    assert_ne!(code, 0);
    assert!(err.contains("rate"), "{err}");
}

#[test]
fn natgrad_json_and_figure() {
    let xs: Vec<f64> = exponential_quantiles(200)
        .iter()
        .map(|e| 1.0 + 2.0 * (e - 1.0))
        .collect();
    let path = csv("natgrad_normal.csv", "x", &xs);
    let svg = std::env::temp_dir().join(format!("fisher-natgrad-{}.svg", std::process::id()));
    let svg_s = svg.display().to_string();
    let (code, out, err) = run(&[
        "natgrad",
        "normal",
        &path,
        "--from",
        "mu=-2,sigma=0.8",
        "--steps",
        "12",
        "--lr",
        "0.1",
        "-o",
        &svg_s,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for field in ["natural", "plain", "log_likelihood"] {
        assert!(v.get(field).is_some(), "missing `{field}`: {v}");
    }
    assert_eq!(v["natural"].as_array().unwrap().len(), 13);
    assert_eq!(v["plain"].as_array().unwrap().len(), 13);
    let ll = v["log_likelihood"]["natural"].as_array().unwrap();
    assert!(ll.last().unwrap().as_f64().unwrap() > ll[0].as_f64().unwrap());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..50.min(text.len())]);
    assert!(text.contains("natural gradient, 12 steps"), "legend");
    let _ = std::fs::remove_file(&svg);
    // A one-parameter model cannot be drawn.
    let (code, _, err) = run(&[
        "natgrad",
        "poisson",
        &csv("natgrad_poisson.csv", "x", &[1.0, 2.0, 0.0]),
        "--from",
        "rate=1",
        "--steps",
        "3",
        "-o",
        &svg_s,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("one"), "{err}");
    assert!(!svg.exists());
}

#[test]
fn mml_json_contract() {
    let xs = exponential_quantiles(300);
    let path = csv("mml_exponential.csv", "x", &xs);
    let (code, out, err) = run(&[
        "mml",
        "exponential",
        "gamma",
        &path,
        "--box",
        "rate=0.01..50,shape=0.05..50",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v.get("candidates").is_some() && v.get("best").is_some(),
        "{v}"
    );
    let c = v["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 2);
    for cand in c {
        for field in ["model", "message_length", "aic", "bic"] {
            assert!(cand.get(field).is_some(), "missing `{field}`: {cand}");
        }
    }
    assert_eq!(v["best"], "exponential");
    // A candidate whose support does not fit the data is an error naming it.
    let bad = csv("mml_bad.csv", "x", &[0.5, 1.5]);
    let (code, _, err) = run(&[
        "mml",
        "exponential",
        "poisson",
        &bad,
        "--box",
        "rate=0.01..50",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("candidate `poisson`"), "{err}");
}

#[test]
fn sample_json_contract_and_draws_file() {
    let path = csv(
        "sample_poisson.csv",
        "x",
        &[2.0, 4.0, 3.0, 1.0, 5.0, 3.0, 2.0, 4.0],
    );
    let out_csv = std::env::temp_dir().join(format!("fisher-draws-{}.csv", std::process::id()));
    let out_s = out_csv.display().to_string();
    let args = [
        "sample",
        "poisson",
        &path,
        "--prior",
        "2*ln(rate) - 2*rate",
        "--chains",
        "2",
        "--draws",
        "200",
        "--warmup",
        "200",
        "--seed",
        "5",
        "-o",
        &out_s,
        "--format",
        "json",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for field in [
        "sampler",
        "summary",
        "draws",
        "chains",
        "gradient_evaluations",
        "divergences",
    ] {
        assert!(v.get(field).is_some(), "missing `{field}`: {v}");
    }
    for field in ["mean", "sd", "q05", "q50", "q95", "ess_bulk", "rhat"] {
        assert!(
            v["summary"]["rate"].get(field).is_some(),
            "missing `{field}`"
        );
    }
    assert_eq!(v["sampler"], "rmhmc");
    // Posterior gamma(3 + 24, 2 + 8): mean 2.7.
    let mean = v["summary"]["rate"]["mean"].as_f64().unwrap();
    assert!((mean - 2.7).abs() < 0.15, "{mean}");
    let text = std::fs::read_to_string(&out_csv).unwrap();
    assert!(text.starts_with("chain,draw,rate\n"));
    assert_eq!(text.lines().count(), 1 + 2 * 200);
    let _ = std::fs::remove_file(&out_csv);
    // The same seed gives the same report, byte for byte.
    let (_, again, _) = run(&args);
    assert_eq!(out, again);
    // An improper default prior is an error that asks for one.
    let (code, _, err) = run(&[
        "sample",
        "normal",
        &csv("sample_normal.csv", "x", &[0.1, 0.5, -0.3]),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("--prior"), "{err}");
}
