//! `fisher eval`, `fisher kl`: the JSON contract of DESIGN §5 and clear errors for bad
//! points and bad models.

mod common;

use common::run_args;

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = run_args(args.iter().copied());
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn eval_json_has_the_contract_fields() {
    let v = json(&[
        "fisher",
        "eval",
        "gamma",
        "--at",
        "shape=2.5,rate=0.7",
        "--format",
        "json",
    ]);
    for field in ["at", "fisher", "method", "forms", "max_rel_discrepancy"] {
        assert!(v.get(field).is_some(), "missing `{field}`: {v}");
    }
    for form in ["outer_product", "covariance", "negative_hessian"] {
        assert!(v["forms"][form].is_array(), "missing form `{form}`");
    }
    assert_eq!(v["method"], "closed-form");
    assert_eq!(v["at"]["shape"], 2.5);
    // F_rate,rate = k/β²
    let f = v["fisher"][1][1].as_f64().unwrap();
    assert!((f - 2.5 / 0.49).abs() < 1e-12, "{f}");
    assert!(v["max_rel_discrepancy"].as_f64().unwrap() < 1e-8);
}

#[test]
fn eval_flags_a_model_that_is_not_twice_differentiable() {
    let v = json(&[
        "fisher",
        "eval",
        "laplace",
        "--at",
        "mu=0.3,b=1.5",
        "--format",
        "json",
    ]);
    assert_eq!(v["twice_differentiable"], false);
    assert_eq!(v["non_smooth_at"], "abs(x - mu)");
    // F = diag(1/b², 1/b²), while E[−H]_μμ = 0 is not the Fisher information.
    assert!((v["fisher"][0][0].as_f64().unwrap() - 1.0 / 2.25).abs() < 1e-9);
    assert!(v["forms"]["negative_hessian"][0][0].as_f64().unwrap().abs() < 1e-9);
    let (_, text, _) = run_args(["fisher", "eval", "laplace", "--at", "mu=0.3,b=1.5"]);
    assert!(text.contains("not twice differentiable"), "{text}");
}

#[test]
fn kl_json_closed_form_and_numeric() {
    let v = json(&[
        "fisher",
        "kl",
        "normal",
        "--p",
        "mu=0,sigma=1",
        "--q",
        "mu=1,sigma=2",
        "--format",
        "json",
    ]);
    assert_eq!(v["method"], "closed-form");
    // ln 2 + (1 + 1)/8 − ½
    let want = 2f64.ln() + 0.25 - 0.5;
    assert!((v["kl"].as_f64().unwrap() - want).abs() < 1e-14);
    // the closed form, in the model language and in LaTeX
    let expr = v["expr"].as_str().unwrap();
    assert!(expr.contains("sigma_q"), "{expr}");
    assert!(v["latex"].as_str().unwrap().contains("\\sigma_{q}"), "{v}");
    let v = json(&[
        "fisher",
        "kl",
        "cauchy",
        "--p",
        "x0=0,gamma=1",
        "--q",
        "x0=1,gamma=2",
        "--format",
        "json",
    ]);
    assert_eq!(v["method"], "numeric");
    assert!(v["latex"].is_null() && v["expr"].is_null(), "{v}");
    // Chyzak & Nielsen (2019): D = ln(((γ₁ + γ₂)² + (x₁ − x₂)²)/(4γ₁γ₂))
    let want = ((9.0f64 + 1.0) / 8.0).ln();
    assert!((v["kl"].as_f64().unwrap() - want).abs() < 1e-9, "{v}");
}

#[test]
fn bad_points_are_clear_errors() {
    for (at, needle) in [
        ("mu=0", "`sigma` has no value"),
        ("mu=0,sigma=-1", "outside the domain of `sigma`"),
        ("mu=0,sigam=1", "did you mean `sigma`"),
        ("mu=0,sigma=abc", "not a finite number"),
        ("mu=0,sigma", "not of the form `name=value`"),
        ("mu=0,mu=1,sigma=1", "given twice"),
    ] {
        let (code, out, err) = run_args(["fisher", "eval", "normal", "--at", at]);
        assert_eq!(code, 1, "{at}");
        assert!(out.is_empty());
        assert!(err.contains(needle), "{at}: {err}");
    }
}

#[test]
fn an_unnormalized_density_is_reported_with_its_integral() {
    let dir = std::env::temp_dir().join(format!("fisher-unnormalized-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("unnormalized.model");
    std::fs::write(&path, "data x : real\nparam mu : real\nparam sigma : positive\nlogp = -0.5*((x - mu)/sigma)^2 - ln(sigma)\n").unwrap();
    let (code, _, err) = run_args([
        "fisher",
        "eval",
        path.to_str().unwrap(),
        "--at",
        "mu=0,sigma=1",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("log-density integrates to 2.5066 at mu=0, sigma=1, not 1"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn laplace_kl_resolves_the_kink_of_the_second_argument() {
    // D(L(μ₁,b₁) ‖ L(μ₂,b₂)) = ln(b₂/b₁) + |μ₁ − μ₂|/b₂ + (b₁/b₂)·e^(−|μ₁ − μ₂|/b₁) − 1
    // (Gil, Alajaji & Linder, "Rényi divergence measures for commonly used univariate
    // continuous distributions", Information Sciences 249, 2013, Table 3, limit α → 1)
    for (m1, b1, m2, b2) in [(0.3f64, 1.6f64, 0.35f64, 1.7f64), (0.0, 1.0, 2.0, 0.5)] {
        let p = format!("mu={m1},b={b1}");
        let q = format!("mu={m2},b={b2}");
        let v = json(&[
            "fisher", "kl", "laplace", "--p", &p, "--q", &q, "--format", "json",
        ]);
        let d = (m1 - m2).abs();
        let want = (b2 / b1).ln() + d / b2 + b1 / b2 * (-d / b1).exp() - 1.0;
        let got = v["kl"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want.max(1e-3),
            "{p} ‖ {q}: {got} vs {want}"
        );
    }
}

/// A second non-smooth model, the asymmetric Laplace law of quantile regression: its Fisher
/// matrix is diag(τ(1−τ)/σ², 1/σ²) (Yu & Zhang, "A three-parameter asymmetric Laplace
/// distribution and its extension", Commun. Stat. Theory Methods 34 (2005); F_μμ =
/// E[(sign(x−μ) + 2τ − 1)²]/(4σ²) with P(x > μ) = 1 − τ), and `fisher check` verifies its KL
/// Hessians on integration pieces that move with the kink.
#[test]
fn asymmetric_laplace_kl_hessians_follow_the_kink() {
    let path = std::env::temp_dir().join(format!("ald-{}.model", std::process::id()));
    std::fs::write(
        &path,
        "const tau = 0.3\ndata x : real\nparam mu : real\nparam sigma : positive\n\
         logp = ln(tau*(1 - tau)) - ln(sigma) - (abs(x - mu) + (2*tau - 1)*(x - mu))/(2*sigma)\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let v = json(&[
        "fisher",
        "eval",
        file,
        "--at",
        "mu=0.5,sigma=2",
        "--format",
        "json",
    ]);
    let f = &v["fisher"];
    let want = [[0.3 * 0.7 / 4.0, 0.0], [0.0, 0.25]];
    for (j, row) in want.iter().enumerate() {
        for (k, w) in row.iter().enumerate() {
            let got = f[j][k].as_f64().unwrap();
            assert!((got - w).abs() < 1e-9, "F[{j}][{k}] = {got}, want {w}");
        }
    }
    assert_eq!(v["twice_differentiable"], false);
    let (code, out, err) = run_args(["fisher", "check", file, "--points", "2", "--format", "json"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    for p in report["points"].as_array().unwrap() {
        assert_eq!(p["kl_hessian"]["checked"], true, "{p:#}");
        assert_eq!(p["kl_hessian"]["method"], "numeric-kinks");
        assert!(p["kl_hessian"]["forward_discrepancy"].as_f64().unwrap() < 1e-8);
        assert!(p["kl_hessian"]["reverse_discrepancy"].as_f64().unwrap() < 1e-8);
    }
}
