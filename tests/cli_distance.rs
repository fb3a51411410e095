//! `fisher distance`: the JSON contract of DESIGN §5 (`distance`, `method`, `geodesic`,
//! `residual`), the values against closed forms, the check of a formula against shooting,
//! LaTeX (snapshotted; CI checks it with KaTeX) and clear errors.

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

#[test]
fn distance_json_has_the_contract_fields() {
    // normal: √2 arccosh(1 + ((Δμ)²/2 + (Δσ)²)/(2σ₁σ₂)) (Atkinson & Mitchell 1981)
    let v = json(&[
        "distance",
        "normal",
        "--a",
        "mu=0,sigma=1",
        "--b",
        "mu=1,sigma=2",
        "--format",
        "json",
    ]);
    let want = 2f64.sqrt() * (1.0f64 + 1.5 / 4.0).acosh();
    assert!((v["distance"].as_f64().unwrap() - want).abs() < 1e-13);
    assert_eq!(v["method"], "location-scale");
    assert_eq!(v["metric"], "closed-form");
    assert_eq!(v["residual"], 0.0);
    let check = &v["check"];
    assert_eq!(check["method"], "shooting");
    assert!(check["discrepancy"].as_f64().unwrap() < 1e-8, "{check}");
    let g = v["geodesic"].as_array().unwrap();
    assert!(g.len() > 2);
    assert_eq!(g[0]["mu"], 0.0);
    assert_eq!(g[0]["sigma"], 1.0);
    assert_eq!(g[g.len() - 1]["mu"], 1.0);
    assert_eq!(g[g.len() - 1]["sigma"], 2.0);

    // a numeric metric, by shooting: the Cauchy's F = I/(2γ²)
    let v = json(&[
        "distance",
        "cauchy",
        "--a",
        "x0=0,gamma=1",
        "--b",
        "x0=1,gamma=2",
        "--format",
        "json",
    ]);
    let chord = 2f64.sqrt() / (2.0 * 2f64.sqrt());
    let want = 0.5f64.sqrt() * 2.0 * chord.asinh();
    assert!((v["distance"].as_f64().unwrap() - want).abs() < 1e-7 * want);
    assert_eq!(v["method"], "shooting");
    assert_eq!(v["metric"], "numeric");
    assert!(v["check"].is_null());
    assert!(v["residual"].as_f64().unwrap() < 1e-8);

    // one parameter: the exponential's |ln λ₁ − ln λ₂|
    let v = json(&[
        "distance",
        "exponential",
        "--a",
        "rate=0.5",
        "--b",
        "rate=8",
        "--format",
        "json",
    ]);
    assert!((v["distance"].as_f64().unwrap() - 16f64.ln()).abs() < 1e-12);
    assert_eq!(v["method"], "one-parameter");
}

#[test]
fn text_names_the_route_and_its_check() {
    let (code, out, err) = run(&["distance", "poisson", "--a", "rate=1", "--b", "rate=9"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Fisher-Rao distance 4"), "{out}");
    assert!(out.contains("integral of sqrt(F)"), "{out}");
    assert!(out.contains("checked by shooting"), "{out}");
    // an extreme pair: the formula holds, shooting cannot follow ∂F to σ = 1e-150, and the
    // output says it was not checked
    let (code, out, err) = run(&[
        "distance",
        "normal",
        "--a",
        "mu=0,sigma=1e-150",
        "--b",
        "mu=0,sigma=1e150",
    ]);
    assert_eq!(code, 0, "{err}");
    // √2 ln(10³⁰⁰)
    assert!(out.contains("976.90412010908"), "{out}");
    assert!(out.contains("not checked"), "{out}");
}

#[test]
fn latex_output_is_snapshotted() {
    let mut out = String::new();
    for args in [
        &[
            "distance",
            "normal",
            "--a",
            "mu=0,sigma=1",
            "--b",
            "mu=1,sigma=2",
            "--format",
            "latex",
        ][..],
        &[
            "distance",
            "bernoulli",
            "--a",
            "p=0.2",
            "--b",
            "p=0.7",
            "--format",
            "latex",
        ][..],
    ] {
        let (code, text, err) = run(args);
        assert_eq!(code, 0, "{err}");
        out.push_str(&text);
    }
    common::with_snapshot_settings(|| {
        insta::assert_snapshot!("distance_latex", out);
    });
}

#[test]
fn bad_points_and_failed_shooting_are_errors() {
    for (args, want) in [
        (
            &[
                "distance",
                "normal",
                "--a",
                "mu=0,sigma=-1",
                "--b",
                "mu=0,sigma=1",
            ][..],
            "sigma",
        ),
        (
            &[
                "distance",
                "normal",
                "--a",
                "mu=0,sigma=1",
                "--b",
                "mu=0,tau=1",
            ][..],
            "tau",
        ),
        (
            &["distance", "normal", "--a", "mu=0", "--b", "mu=0,sigma=1"][..],
            "sigma",
        ),
        (
            &["distance", "poisson", "--a", "rate=abc", "--b", "rate=1"][..],
            "abc",
        ),
        // no formula for normal_var's metric, and shooting cannot follow its ∂²F (3/σ⁶ overflows at σ² = 1e-100): a refusal,
        // never a number
        (
            &[
                "distance",
                "normal_var",
                "--a",
                "mu=0,sigma2=1e-100",
                "--b",
                "mu=0,sigma2=1e100",
            ][..],
            "does not converge",
        ),
    ] {
        let (code, out, err) = run(args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn geodesic_draws_the_curve_over_fisher_balls() {
    let dir = std::env::temp_dir().join(format!("fisher-geodesic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("normal.svg");
    let path = file.to_str().unwrap();
    let v = json(&[
        "geodesic",
        "normal",
        "--a",
        "mu=-1,sigma=0.5",
        "--b",
        "mu=1.5,sigma=1",
        "-o",
        path,
        "--format",
        "json",
    ]);
    // the same distance as `fisher distance`
    let d = json(&[
        "distance",
        "normal",
        "--a",
        "mu=-1,sigma=0.5",
        "--b",
        "mu=1.5,sigma=1",
        "--format",
        "json",
    ]);
    assert_eq!(v["distance"], d["distance"]);
    assert_eq!(v["file"], path);
    assert_eq!(v["geodesic"], d["geodesic"]);
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    // the geodesic is drawn in its own colour (CurveStyle::Geodesic), with a legend entry
    assert!(svg.contains("geodesic, d = 3.048661"), "no legend entry");
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
    assert!(tree.size().width() > 100.0);
    // a bivariate normal: a plane of two of its five parameters, the others held at the
    // geodesic's midpoint
    let file5 = dir.join("bivariate.svg");
    let (code, out, err) = run(&[
        "geodesic",
        "bivariate_normal",
        "--a",
        "mu1=0,mu2=0,s1=1,s2=1,rho=0",
        "--b",
        "mu1=0.5,mu2=0.2,s1=1.5,s2=0.8,rho=0.3",
        "--x",
        "mu1",
        "--y",
        "rho",
        "-o",
        file5.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("held at the geodesic's midpoint"), "{out}");
    assert!(file5.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn geodesic_refuses_bad_arguments_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("fisher-geodesic-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.svg");
    let path = file.to_str().unwrap();
    let ab = ["--a", "mu=0,sigma=1", "--b", "mu=1,sigma=2"];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut v = vec!["geodesic", "normal"];
        v.extend_from_slice(&ab);
        v.extend_from_slice(extra);
        v.extend_from_slice(&["-o", path]);
        v
    };
    for (args, want) in [
        (
            vec![
                "geodesic", "poisson", "--a", "rate=1", "--b", "rate=2", "-o", path,
            ],
            "one parameter",
        ),
        (with(&["--x", "tau"]), "`tau` is not a parameter"),
        (with(&["--x", "mu", "--y", "mu"]), "both name `mu`"),
        (with(&["--radius", "-1"]), "--radius"),
        (with(&["--grid", "0x3"]), "grid"),
        (
            vec![
                "geodesic",
                "normal",
                "--a",
                "mu=0,sigma=-1",
                "--b",
                "mu=1,sigma=2",
                "-o",
                path,
            ],
            "sigma",
        ),
    ] {
        let (code, out, err) = run(&args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!file.exists(), "{args:?} left a file");
    }
    // an unwritable output
    let (code, _, err) = run(&[
        "geodesic",
        "normal",
        "--a",
        "mu=0,sigma=1",
        "--b",
        "mu=1,sigma=2",
        "-o",
        "/nonexistent-dir/x.svg",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot write"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
