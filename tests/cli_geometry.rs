//! `fisher whiten`, `fisher curvature --at`: the JSON contract of DESIGN §5, the values against
//! known ones, LaTeX (snapshotted; CI checks it with KaTeX) and clear errors for bad points
//! and metrics that are not metrics.

mod common;

use common::run_args;

fn run(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["fisher"];
    all.extend_from_slice(args);
    run_args(all)
}

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn matrix(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn whiten_json_has_the_contract_fields_and_squares_to_f() {
    let v = json(&[
        "whiten",
        "gamma",
        "--at",
        "shape=2.5,rate=0.7",
        "--format",
        "json",
    ]);
    for field in ["at", "sqrt_fisher", "inverse_sqrt_fisher"] {
        assert!(v.get(field).is_some(), "missing `{field}`: {v}");
    }
    let (s, inv, f) = (
        matrix(&v["sqrt_fisher"]),
        matrix(&v["inverse_sqrt_fisher"]),
        matrix(&v["fisher"]),
    );
    for i in 0..2 {
        for j in 0..2 {
            let sq: f64 = (0..2).map(|k| s[i][k] * s[k][j]).sum();
            assert!(
                (sq - f[i][j]).abs() < 1e-12 * f[1][1].abs(),
                "{sq} vs {}",
                f[i][j]
            );
            let id: f64 = (0..2).map(|k| s[i][k] * inv[k][j]).sum();
            assert!((id - f64::from(u8::from(i == j))).abs() < 1e-12);
        }
        // symmetric
        assert_eq!(s[0][1], s[1][0]);
    }
    assert_eq!(v["method"], "closed-form");
}

#[test]
fn curvature_json_has_the_contract_fields() {
    let v = json(&[
        "curvature",
        "normal_var",
        "--at",
        "mu=0.4,sigma2=2.25",
        "--format",
        "json",
    ]);
    for field in [
        "method",
        "christoffel",
        "scalar_curvature",
        "gaussian_curvature",
    ] {
        assert!(v.get(field).is_some(), "missing `{field}`: {v}");
    }
    assert!((v["scalar_curvature"].as_f64().unwrap() + 1.0).abs() < 1e-12);
    assert!((v["gaussian_curvature"].as_f64().unwrap() + 0.5).abs() < 1e-12);
    // Γ[k][i][j], symmetric in i, j; for (μ, v = σ²), F = diag(1/v, 1/(2v²)):
    // Γ^μ_μv = −1/(2v), Γ^v_μμ = 1, Γ^v_vv = −1/v.
    let g = &v["christoffel"];
    let at = |k: usize, i: usize, j: usize| g[k][i][j].as_f64().unwrap();
    assert!((at(0, 0, 1) + 1.0 / 4.5).abs() < 1e-14);
    assert_eq!(at(0, 0, 1), at(0, 1, 0));
    assert!((at(1, 0, 0) - 1.0).abs() < 1e-14);
    assert!((at(1, 1, 1) + 1.0 / 2.25).abs() < 1e-14);
    // a numeric metric (the Cauchy: K = −2) and a one-parameter model (flat, no K)
    let c = json(&[
        "curvature",
        "cauchy",
        "--at",
        "x0=1,gamma=0.5",
        "--format",
        "json",
    ]);
    assert_eq!(c["method"], "numeric");
    assert!((c["gaussian_curvature"].as_f64().unwrap() + 2.0).abs() < 1e-7);
    let p = json(&["curvature", "poisson", "--at", "rate=3", "--format", "json"]);
    assert_eq!(p["scalar_curvature"], 0.0);
    assert!(p["gaussian_curvature"].is_null());
}

#[test]
fn latex_output_is_snapshotted() {
    let mut out = String::new();
    for args in [
        &[
            "curvature",
            "normal",
            "--at",
            "mu=0.3,sigma=2",
            "--format",
            "latex",
        ][..],
        &[
            "whiten",
            "normal",
            "--at",
            "mu=0.3,sigma=2",
            "--format",
            "latex",
        ][..],
        &[
            "curvature",
            "gamma",
            "--at",
            "shape=2.5,rate=0.7",
            "--format",
            "latex",
        ][..],
        &["curvature", "normal", "--format", "latex"][..],
        &["curvature", "gamma_mean", "--format", "latex"][..],
        &["curvature", "bernoulli", "--format", "latex"][..],
    ] {
        let (code, text, err) = run(args);
        assert_eq!(code, 0, "{err}");
        out.push_str(&text);
    }
    common::with_snapshot_settings(|| {
        insta::assert_snapshot!("geometry_latex", out);
    });
}

#[test]
fn bad_points_and_singular_metrics_are_refused() {
    for (args, want) in [
        (
            &["curvature", "normal", "--at", "mu=0,sigma=-1"][..],
            "outside the domain of `sigma`",
        ),
        (&["whiten", "normal", "--at", "mu=0"][..], "sigma"),
        (
            &["whiten", "normal", "--at", "mu=0,sigma=1,tau=2"][..],
            "`tau` is not a parameter",
        ),
        (&["curvature", "normal", "--at", "mu=x,sigma=1"][..], "mu=x"),
    ] {
        let (code, out, err) = run(args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // only a + b is identifiable: F is singular, which whiten and curvature say
    let dir = std::env::temp_dir().join(format!("fisher-geometry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("redundant.model");
    std::fs::write(
        &file,
        "data x : real\nparam a : real\nparam b : real\n\
         logp = -0.5*(x - a - b)^2 - 0.5*ln(2*pi)\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    for command in ["whiten", "curvature"] {
        let (code, out, err) = run(&[command, path, "--at", "a=0.5,b=1"]);
        assert_eq!(code, 1, "{command}: {out}");
        assert!(
            err.contains("not positive definite at a=0.5, b=1"),
            "{command}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn curvature_formulas_without_a_point() {
    let v = json(&["curvature", "normal_var", "--format", "json"]);
    assert_eq!(v["method"], "closed-form");
    assert_eq!(v["scalar_curvature"], "-1");
    assert_eq!(v["gaussian_curvature"], "-1/2");
    assert_eq!(v["christoffel"][1][0][0], "1");
    assert_eq!(v["christoffel"][0][0][1], v["christoffel"][0][1][0]);
    assert_eq!(v["checked_at"].as_array().unwrap().len(), 3);
    // no formula for a numeric metric or for five parameters: a clear refusal
    for (model, want) in [
        ("cauchy", "no verified closed form"),
        ("bivariate_normal", "5 parameters"),
    ] {
        let (code, out, err) = run(&["curvature", model]);
        assert_eq!(code, 1, "{model}: {out}");
        assert!(err.contains(want) && err.contains("--at"), "{model}: {err}");
    }
}

#[test]
fn jeffreys_json_and_errors() {
    let v = json(&["jeffreys", "bernoulli", "--format", "json"]);
    for field in ["jeffreys", "proper", "normalizer"] {
        assert!(v.get(field).is_some(), "missing `{field}`: {v}");
    }
    assert_eq!(v["jeffreys"], "1/(sqrt(p)*sqrt(1 - p))");
    assert_eq!(v["proper"], true);
    let z = v["normalizer"]["value"].as_f64().unwrap();
    assert!((z - std::f64::consts::PI).abs() <= v["normalizer"]["error"].as_f64().unwrap());
    let n = json(&["jeffreys", "normal", "--format", "json"]);
    assert_eq!(n["proper"], false);
    assert!(n["normalizer"].is_null());
    let b = json(&[
        "jeffreys",
        "normal",
        "--box",
        "sigma=1..2,mu=0..1",
        "--format",
        "json",
    ]);
    let z = b["normalizer"]["value"].as_f64().unwrap();
    assert!((z - 0.5f64.sqrt()).abs() < 1e-8, "{b}");
    for (bounds, want) in [
        ("mu=1..0,sigma=1..2", "not a bounded range"),
        ("mu=0..1,sigma=-1..2", "inside its domain (positive"),
        ("mu=0..1", "no range for the parameter `sigma`"),
        ("mu=0..1,tau=1..2", "`tau` is not a parameter"),
        ("mu=0..x,sigma=1..2", "`x` is not a number"),
        ("mu=0..1,mu=0..2,sigma=1..2", "given twice"),
    ] {
        let (code, out, err) = run(&["jeffreys", "normal", "--box", bounds]);
        assert_eq!(code, 1, "{bounds}: {out}");
        assert!(err.contains(want), "{bounds}: {err}");
    }
}
