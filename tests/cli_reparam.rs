//! `fisher reparam`: the text, JSON and LaTeX reports (LaTeX snapshotted; CI checks it with
//! KaTeX), `-o` writing a model that parses back to the same Fisher matrix, and clear errors
//! with a caret into `--new` or `--map`, with no file written.

mod common;

use common::{run_args, with_snapshot_settings};

fn run(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["fisher"];
    all.extend_from_slice(args);
    run_args(all)
}

const INFO: [&str; 6] = [
    "reparam",
    "normal",
    "--new",
    "h: real, lambda: positive",
    "--map",
    "mu = h/lambda, sigma = 1/sqrt(lambda)",
];

/// A fresh directory under the target folder for files a test writes.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn text_report_prints_map_logp_jacobian_pullback_and_the_check() {
    let (code, out, err) = run(&INFO);
    assert_eq!(code, 0, "{err}");
    for want in [
        "params  h : real, lambda : positive",
        "  mu    = h/lambda",
        "  sigma = 1/sqrt(lambda)",
        "logp = ",
        "[mu, h]",
        "det J = ",
        "pullback F = J^T F_old(g) J (closed-form)",
        "  [h, h]           = 1/lambda",
        "  [lambda, lambda] = (lambda + 2*h^2)/(2*lambda^3)",
        "derived directly (closed-form)",
        "symbolically (the difference simplifies to 0)",
        "matches_direct: true",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn json_has_the_contract_fields() {
    let mut args = INFO.to_vec();
    args.extend(["--format", "json"]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["params"], serde_json::json!(["h", "lambda"]));
    assert_eq!(v["map"]["mu"], "h/lambda");
    assert_eq!(v["map"]["sigma"], "1/sqrt(lambda)");
    assert_eq!(v["jacobian"][0][0], "1/lambda");
    assert_eq!(v["jacobian"][1][0], "0");
    assert_eq!(v["fisher"]["method"], "closed-form");
    assert_eq!(v["fisher"]["matrix"][0][0], "1/lambda");
    assert_eq!(v["fisher"]["matrix"][0][1], "-h/lambda^2");
    assert_eq!(v["direct"]["matrix"], v["fisher"]["matrix"]);
    assert_eq!(v["matches_direct"], true);
    assert_eq!(v["symbolic_difference_zero"], true);
    let points = v["checked_at"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    for p in points {
        let lambda = p["at"]["lambda"].as_f64().unwrap();
        let f = p["pullback"][0][0].as_f64().unwrap();
        assert!((f - 1.0 / lambda).abs() < 1e-12 / lambda, "{p}");
        assert!(p["old"]["sigma"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn numeric_route_reports_values_at_the_points() {
    let (code, out, err) = run(&[
        "reparam",
        "cauchy",
        "--new",
        "x0: real, log_gamma: real",
        "--map",
        "x0 = x0, gamma = exp(log_gamma)",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fisher"]["method"], "numeric");
    assert!(v["fisher"]["matrix"].is_null());
    assert_eq!(v["matches_direct"], true);
    // F_(log γ, log γ) = γ² · 1/(2γ²) = 1/2 at every point.
    for p in v["checked_at"].as_array().unwrap() {
        let f = p["pullback"][1][1].as_f64().unwrap();
        assert!((f - 0.5).abs() < 1e-8, "{p}");
    }
}

#[test]
fn latex_of_the_pullback() {
    let cases: [(&str, [&str; 6]); 3] = [
        ("normal_info", INFO),
        (
            "gamma_mean",
            [
                "reparam",
                "gamma",
                "--new",
                "shape: positive, mean: positive",
                "--map",
                "shape = shape, rate = shape/mean",
            ],
        ),
        (
            "cauchy_log_gamma",
            [
                "reparam",
                "cauchy",
                "--new",
                "x0: real, log_gamma: real",
                "--map",
                "x0 = x0, gamma = exp(log_gamma)",
            ],
        ),
    ];
    for (name, args) in cases {
        let mut args = args.to_vec();
        args.extend(["--format", "latex"]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{name}: {err}");
        // Numeric matrices (the Cauchy's, with quadrature noise off the diagonal) are not
        // snapshotted: only the formulas.
        let formulas: String = out
            .lines()
            .filter(|l| {
                !l.contains("\\mathbf{J}^{\\top} \\mathbf{F}_{\\theta} \\mathbf{J}(")
                    && !l.starts_with("\\mathbf{F}(x_{0} =")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        with_snapshot_settings(|| {
            insta::assert_snapshot!(format!("reparam_latex__{name}"), formulas);
        });
    }
}

#[test]
fn output_file_parses_back_and_gives_the_same_fisher_matrix() {
    let dir = scratch("reparam_output");
    let path = dir.join("normal_hl.model");
    let p = path.to_str().unwrap();
    let mut args = INFO.to_vec();
    args.extend(["-o", p, "--format", "json"]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(path.is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    // The file is a model for every command: its derived F is the pullback.
    let (code, derived, err) = run(&["derive", p, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(&derived).unwrap();
    assert_eq!(d["fisher"]["matrix"], v["fisher"]["matrix"], "{derived}");
    let model =
        fisher_geometry::Model::parse(&std::fs::read_to_string(&path).unwrap(), "m").unwrap();
    assert_eq!(model.param_names(), ["h".into(), "lambda".into()]);
    // The text report says where the model went; a second run replaces the file.
    let mut args = INFO.to_vec();
    args.extend(["-o", p]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with(&format!("\nwrote the new model to {p}\n")),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

/// Runs a refused reparameterization with `-o`: exit 1, the message on stderr, no file.
fn refused(new: &str, map: &str) -> String {
    let dir = scratch(&format!("reparam_refused_{:x}", {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (new, map).hash(&mut h);
        h.finish()
    }));
    let path = dir.join("out.model");
    let (code, out, err) = run(&[
        "reparam",
        "normal",
        "--new",
        new,
        "--map",
        map,
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{new} / {map}: {out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "a file was written"
    );
    err
}

#[test]
fn an_unknown_name_gets_a_caret_under_it_in_the_map() {
    let err = refused(
        "h: real, lambda: positive",
        "mu = h/lambda, sigma = 1/sqrt(lamda)",
    );
    assert!(
        err.contains("unknown name `lamda`; did you mean `lambda`?"),
        "{err}"
    );
    assert!(err.contains("--map:1:31"), "{err}");
    // The caret (ariadne puts it under the middle of the span) is under `lamda`.
    let text_line = err
        .lines()
        .find(|l| l.contains("sigma = 1/sqrt(lamda)"))
        .unwrap();
    let caret_line = err.lines().find(|l| l.contains('┬')).unwrap();
    let column = |line: &str, pat: &str| {
        line.chars().count() - line[line.find(pat).unwrap()..].chars().count()
    };
    let start = column(text_line, "lamda");
    assert_eq!(column(caret_line, "┬"), start + 2, "{err}");
    assert_eq!(column(caret_line, "─"), start, "{err}");
}

#[test]
fn errors_in_the_new_declarations_point_into_new() {
    let err = refused("x: real, lambda: positive", "mu = x, sigma = lambda");
    assert!(
        err.contains(
            "`x` is a data variable of the model: a new parameter needs a name of its own"
        ),
        "{err}"
    );
    assert!(err.contains("--new:1:1"), "{err}");
}

#[test]
fn a_missing_parameter_is_named() {
    let err = refused("h: real, lambda: positive", "mu = h/lambda");
    assert!(err.contains("the map has no equation for `sigma`"), "{err}");
}

#[test]
fn a_singular_map_and_a_map_out_of_the_domain_write_nothing() {
    let err = refused(
        "h: real, lambda: real",
        "mu = h + lambda, sigma = exp(h + lambda)",
    );
    assert!(
        err.contains("error: the map is not invertible at h="),
        "{err}"
    );
    let err = refused("h: real, s: real", "mu = h, sigma = s");
    assert!(err.contains("outside the domain of `sigma`"), "{err}");
}
