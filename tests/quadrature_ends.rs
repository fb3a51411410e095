//! Quadrature that never touches the ends of the support: models on (0, 1) whose density
//! lives within `1e-16` of 1 (where `x` rounds to 1), and a Weibull whose mass reaches
//! `x = 1e-160` (where dual-number logarithms overflowed), against closed forms.

mod common;

use common::run_args;
use fisher_geometry::special::{digamma, trigamma};
use fisher_geometry::{FisherAt, fisher_at, kl_hessians};
use fisher_geometry::{Model, Point};
use nalgebra::DMatrix;

/// Kumaraswamy's law on (0, 1): density `a b x^(a−1) (1 − x^a)^(b−1)`.
const KUMARASWAMY: &str = "model kumaraswamy\ndata x : unit\nparam a : positive\n\
                           param b : positive\n\
                           logp = ln(a) + ln(b) + (a-1)*ln(x) + (b-1)*ln(1 - x^a)\n";

/// Dirichlet(α₁, α₂, α₃) by stick-breaking: `v₁ ~ Beta(α₁, α₂ + α₃)`, `v₂ ~ Beta(α₂, α₃)`,
/// the proportions `(v₁, (1 − v₁)v₂, (1 − v₁)(1 − v₂))`, and `ln(1 − v₁)` the Jacobian.
const DIRICHLET: &str = "model dirichlet_stick\ndata v1 : unit\ndata v2 : unit\n\
                         param a1 : positive\nparam a2 : positive\nparam a3 : positive\n\
                         logp = lgamma(a1 + a2 + a3) - lgamma(a1) - lgamma(a2) - lgamma(a3) + \
                         (a1 - 1)*ln(v1) + (a2 - 1)*ln((1 - v1)*v2) + \
                         (a3 - 1)*ln((1 - v1)*(1 - v2)) + ln(1 - v1)\n";

/// Asserts every form of `f` (and `∫p`) against `want`, entrywise relative to the scale
/// `√(F_jj F_kk)`.
fn assert_forms(f: &FisherAt, want: &DMatrix<f64>, what: &str) {
    assert!((f.mass - 1.0).abs() < 1e-8, "{what}: ∫p = {}", f.mass);
    let n = want.nrows();
    for (name, m) in [
        ("E[s s^T]", &f.forms.outer_product),
        ("Cov[s]", &f.forms.covariance),
        ("E[-H]", &f.forms.negative_hessian),
    ] {
        for j in 0..n {
            for k in 0..n {
                let scale = (want[(j, j)] * want[(k, k)]).sqrt();
                let err = (m[(j, k)] - want[(j, k)]).abs() / scale;
                assert!(
                    err < 1e-8,
                    "{what} {name}[{j}][{k}] = {:e}, want {:e}",
                    m[(j, k)],
                    want[(j, k)]
                );
            }
        }
    }
}

/// Jones (2009), "Kumaraswamy's distribution: A beta-type distribution with some
/// tractability advantages", Statistical Methodology 6:70–81, §3 (valid for b ≠ 2 by
/// continuity): with `Y = X^a ~ Beta(1, b)`,
/// `F_aa = (1 + b/(b−2)·((ψ(b) − ψ(2))² − (ψ₁(b) − ψ₁(2))))/a²`,
/// `F_ab = (ψ(2) − ψ(b+1))/(a(b−1))`, `F_bb = 1/b²`.
fn kumaraswamy_fisher(a: f64, b: f64) -> DMatrix<f64> {
    let d = digamma(b) - digamma(2.0);
    let aa = (1.0 + b / (b - 2.0) * (d * d - (trigamma(b) - trigamma(2.0)))) / (a * a);
    let ab = (digamma(2.0) - digamma(b + 1.0)) / (a * (b - 1.0));
    DMatrix::from_row_slice(2, 2, &[aa, ab, ab, 1.0 / (b * b)])
}

#[test]
fn kumaraswamy_with_b_below_1_matches_jones() -> Result<(), Box<dyn std::error::Error>> {
    // b < 1: the density is infinite at 1 and much of the mass lies where x rounds to 1
    // (P(1 − x < 1e-16) ≈ (a·1e-16)^b, 1e-8 at b = 0.5).
    let model = Model::parse(KUMARASWAMY, "kumaraswamy")?;
    for (a, b) in [(2.0, 0.5), (0.7, 0.3), (1.3, 0.5)] {
        let f = fisher_at(&model, &Point::new(&model, &[("a", a), ("b", b)])?)?;
        assert_forms(&f, &kumaraswamy_fisher(a, b), &format!("a={a}, b={b}"));
    }
    Ok(())
}

/// `F_ij = ψ₁(α_i) δ_ij − ψ₁(α₀)`, `α₀ = α₁ + α₂ + α₃` (the Dirichlet is an exponential
/// family with log-partition `Σ ln Γ(α_i) − ln Γ(α₀)`; e.g. Minka, "Estimating a Dirichlet
/// distribution", 2000, §1).
fn dirichlet_fisher(alpha: &[f64]) -> DMatrix<f64> {
    let t0 = trigamma(alpha.iter().sum());
    DMatrix::from_fn(alpha.len(), alpha.len(), |i, j| {
        if i == j { trigamma(alpha[i]) - t0 } else { -t0 }
    })
}

#[test]
fn stick_breaking_dirichlet_matches_trigamma_form() -> Result<(), Box<dyn std::error::Error>> {
    // α₂ + α₃ < 1 piles v₁'s mass at 1 and α₃ < 1 piles v₂'s: (1 − v₁)·v₂ underflows.
    let model = Model::parse(DIRICHLET, "dirichlet_stick")?;
    for alpha in [[2.0, 0.5, 0.3], [0.4, 0.6, 0.5]] {
        let f = fisher_at(
            &model,
            &Point::new(
                &model,
                &[("a1", alpha[0]), ("a2", alpha[1]), ("a3", alpha[2])],
            )?,
        )?;
        assert_forms(&f, &dirichlet_fisher(&alpha), &format!("α = {alpha:?}"));
    }
    Ok(())
}

/// Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions, vol. 1, 2nd ed.,
/// ch. 21: in (k, λ), `F_kk = ((1 − γ)² + π²/6)/k²`, `F_kλ = −(1 − γ)/λ`, `F_λλ = k²/λ²`.
fn weibull_fisher(k: f64, lambda: f64) -> DMatrix<f64> {
    let g = 1.0 - 0.577_215_664_901_532_9;
    let pi2 = std::f64::consts::PI.powi(2);
    let kk = (g * g + pi2 / 6.0) / (k * k);
    let kl = -g / lambda;
    DMatrix::from_row_slice(2, 2, &[kk, kl, kl, k * k / (lambda * lambda)])
}

#[test]
fn weibull_with_small_shape_matches_closed_form_and_kl_hessians() {
    // At k = 0.4 the mass reaches x = 1e-160 (P(x < 1e-160) = 1 − e^{−(1e-160)^0.4} ≈ 4e-65
    // is tiny, but the log-weight there is within e^{−200} of the mode's): there a hyper-dual
    // ln(x/λ) had −1/(x/λ)² = −∞ in its second part, and the KL Hessians were NaN.
    let model = Model::builtin("weibull").unwrap();
    for (k, lambda) in [(0.4, 1.3), (0.2, 1.3), (0.38, 0.7)] {
        let at = Point::new(&model, &[("k", k), ("lambda", lambda)]).unwrap();
        let want = weibull_fisher(k, lambda);
        let f = fisher_at(&model, &at).unwrap();
        assert_forms(&f, &want, &format!("k={k}, lambda={lambda}"));
        let h = kl_hessians(&model, &at).unwrap();
        for (name, m) in [("forward", &h.forward), ("reverse", &h.reverse)] {
            let err = fisher_geometry::verify::discrepancy(m, &want);
            assert!(err < 1e-8, "k={k}: {name} KL Hessian off by {err:e}: {m}");
        }
    }
}

/// `fisher check FILE --points N --seed S --format json` on `src` written to a temporary file:
/// the exit code and the report.
fn check(src: &str, name: &str, points: &str, seed: &str) -> (i32, serde_json::Value) {
    let path = std::env::temp_dir().join(format!("{name}-{}.model", std::process::id()));
    std::fs::write(&path, src).unwrap();
    let file = path.to_str().unwrap();
    let args = ["fisher", "check", file, "--points", points, "--seed", seed];
    let (code, out, err) = run_args(args.into_iter().chain(["--format", "json"]));
    std::fs::remove_file(&path).ok();
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

/// Asserts that `fisher check` passed at every point, and returns the points.
fn passed(code: i32, report: &serde_json::Value) -> Vec<serde_json::Value> {
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["passed"], true, "{report:#}");
    report["points"].as_array().unwrap().clone()
}

#[test]
fn check_passes_on_kumaraswamy_and_stick_breaking_dirichlet() {
    // Seed 3: the second point has b = 0.43, which failed with "`ln(1 - x^a)` is not
    // finite at x=1".
    let (code, v) = check(KUMARASWAMY, "kumaraswamy", "2", "3");
    let points = passed(code, &v);
    assert!(points.iter().any(|p| p["at"]["b"].as_f64().unwrap() < 1.0));
    // Seed 1: every point failed with "`ln((1 - v1)*v2)` is not finite at v1=1, v2=1".
    let (code, v) = check(DIRICHLET, "dirichlet", "2", "1");
    passed(code, &v);
}

#[test]
fn check_passes_on_weibull_with_small_shape() {
    // Seed 48: k = 0.38, whose KL Hessians were NaN at x = 1e-165.
    let (code, out, err) = run_args([
        "fisher", "check", "weibull", "--points", "1", "--seed", "48", "--format", "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let points = passed(code, &v);
    assert!(points[0]["at"]["k"].as_f64().unwrap() < 0.4);
}

#[test]
fn an_unresolvable_location_is_a_quadrature_failure_not_an_unnormalized_model() {
    // N(1e300, 1): f64 has spacing 2e284 there, so no rule can resolve the density; this used
    // to read "log-density integrates to 0", blaming a normalized model.
    use fisher_geometry::Env;
    use fisher_geometry::{ExpectError, Quadrature, check_normalized};
    for (model, at) in [
        ("normal", Env::new().with("mu", 1e300).with("sigma", 1.0)),
        ("logistic", Env::new().with("mu", 1e300).with("s", 1.0)),
        ("normal", Env::new().with("mu", 1e308).with("sigma", 1.0)),
    ] {
        let model = Model::builtin(model).unwrap();
        let err = check_normalized(&model, &at, &Quadrature::default()).unwrap_err();
        assert!(matches!(err, ExpectError::Unresolved { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with("the quadrature could not resolve the density at mu=1e"),
            "{text}"
        );
    }
}
