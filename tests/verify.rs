//! Every closed form is verified against quadrature before it is called one (issue 10): a
//! wrong closed form is never printed as the answer, and every command checks the model as
//! `fisher eval` does.

mod common;

use common::run_args;
use fisher_geometry::{Expr, Model, Point, simplify};
use fisher_geometry::{Verification, verify};

fn model(src: &str) -> Model {
    Model::parse(src, "m").unwrap()
}

/// Writes a model to a temporary file for the command line, named after the test.
fn model_file(name: &str, src: &str) -> String {
    let dir = std::env::temp_dir().join(format!("fisher-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.model"));
    std::fs::write(&path, src).unwrap();
    path.to_string_lossy().into_owned()
}

fn json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run_args(args.iter().copied());
    let v = serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
    (code, v, err)
}

const CUBIC_MEAN: &str = "data x : real\nparam a : real\nparam b : positive\n\
    logp = -(x - 3*a^3)^2/(2*b) - ln(b)/2 - ln(2*pi)/2\n";

#[test]
fn a_wrong_closed_fisher_matrix_fails_verification() {
    let m = Model::builtin("gamma").unwrap();
    let d = simplify::derive(&m);
    let mut f = fisher_geometry::closed_form(&m).unwrap();
    assert!(verify::verify_fisher(&m, &d, &f, &[]).unwrap().passed());
    // F_rate,rate = shape/rate² made 0.1 % too large
    f.matrix[1][1] = &f.matrix[1][1] * &Expr::num(1.001);
    match verify::verify_fisher(&m, &d, &f, &[]).unwrap() {
        Verification::Failed(mm) => {
            assert_eq!(mm.what, "F[rate, rate]");
            assert!((mm.closed / mm.numeric - 1.001).abs() < 1e-9, "{mm}");
        }
        v => panic!("not rejected: {v:?}"),
    }
}

#[test]
fn a_wrong_closed_divergence_fails_verification() {
    let m = Model::builtin("poisson").unwrap();
    let mut kl = fisher_geometry::closed_kl(&m).unwrap();
    assert!(verify::verify_kl(&m, &kl, &[]).unwrap().passed());
    kl.expr = &kl.expr + &Expr::num(1e-3);
    assert!(matches!(
        verify::verify_kl(&m, &kl, &[]).unwrap(),
        Verification::Failed(_)
    ));
}

#[test]
fn a_wrong_jeffreys_density_fails_verification() {
    let m = Model::builtin("normal").unwrap();
    let f = fisher_geometry::closed_form(&m).unwrap();
    let sigma = Expr::sym("sigma");
    // the truth is √2/σ²
    let wrong = &Expr::num(2f64.sqrt()) / &sigma.pow(3);
    assert!(matches!(
        verify::verify_jeffreys(&m, &f, &wrong),
        Verification::Failed(_)
    ));
    let right = &Expr::num(2f64.sqrt()) / &sigma.pow(2);
    assert!(verify::verify_jeffreys(&m, &f, &right).passed());
}

/// Issue 10: the normal with mean 3a³ and variance b had F_aa = −351a⁴/(9b); the truth
/// (for a normal with mean m(a) and variance b, F_aa = m'(a)²/b, F_bb = 1/(2b²)) is
/// diag(81a⁴/b, 1/(2b²)).
#[test]
fn derive_reports_only_verified_closed_forms() {
    let path = model_file("cubic_mean", CUBIC_MEAN);
    let (code, v, err) = json(&["fisher", "derive", &path, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["fisher"]["method"], "closed-form");
    assert_eq!(v["fisher"]["verification"]["status"], "verified");
    assert_eq!(v["fisher"]["verification"]["points"], verify::VERIFY_POINTS);
    let m = model(CUBIC_MEAN);
    let f = fisher_geometry::closed_form(&m).unwrap();
    let at = Point::parse(&m, "a=0.7,b=1.3").unwrap();
    let closed = verify::closed_matrix(&m, &f.matrix, &at).unwrap();
    let (a, b) = (0.7f64, 1.3f64);
    assert!((closed[(0, 0)] / (81.0 * a.powi(4) / b) - 1.0).abs() < 1e-12);
    assert_eq!(closed[(0, 1)], 0.0);
    assert!((closed[(1, 1)] * 2.0 * b * b - 1.0).abs() < 1e-12);
    let (_, text, _) = run_args(["fisher", "derive", &path]);
    assert!(
        text.contains("method: closed-form (verified against quadrature at 3 points)"),
        "{text}"
    );
    // --no-verify says it did not verify
    let (_, text, _) = run_args(["fisher", "derive", &path, "--no-verify"]);
    assert!(text.contains("not verified (--no-verify)"), "{text}");
}

const UNNORMALIZED: &str = "data x : real\nparam mu : real\nparam sigma : positive\n\
    logp = -0.5*((x - mu)/sigma)^2 - ln(sigma)\n";

#[test]
fn every_command_rejects_an_unnormalized_density() {
    let path = model_file("unnormalized", UNNORMALIZED);
    for args in [
        vec!["fisher", "derive", &path],
        vec!["fisher", "eval", &path, "--at", "mu=0,sigma=1"],
        vec![
            "fisher",
            "kl",
            &path,
            "--p",
            "mu=0,sigma=1",
            "--q",
            "mu=1,sigma=2",
        ],
    ] {
        let (code, out, err) = run_args(args.iter().copied());
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(
            err.contains("log-density integrates to 2.5066"),
            "{args:?}: {err}"
        );
    }
}

/// The support is declared `positive`, but the density is a normal's on the whole line: it
/// integrates to about 1/2 at mu = 0, and the command says so rather than print a number.
#[test]
fn kl_rejects_a_wrong_support() {
    let src = "data x : positive\nparam mu : real\nparam sigma : positive\n\
        logp = -0.5*((x - mu)/sigma)^2 - ln(sigma) - 0.5*ln(2*pi)\n";
    let path = model_file("wrong_support", src);
    let (code, _, err) = run_args([
        "fisher",
        "kl",
        &path,
        "--p",
        "mu=0,sigma=1",
        "--q",
        "mu=1,sigma=2",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("integrates to 0.5"), "{err}");
}

/// `ln(mu)` with `mu : real` is NaN at the negative `mu` of the second argument.
#[test]
fn kl_names_a_subexpression_that_is_not_finite() {
    let src = "data x : real\nparam mu : real\n\
        logp = -0.5*(x - mu)^2 - 0.5*ln(2*pi) + 0*ln(mu)\n";
    let path = model_file("nan", src);
    let (code, out, err) = run_args(["fisher", "kl", &path, "--p", "mu=1", "--q", "mu=-1"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("ln(mu)") || err.contains("ln(mu_q)"), "{err}");
    assert!(!out.contains("nan"), "{out}");
}

#[test]
fn kl_reports_its_verification() {
    let (code, v, err) = json(&[
        "fisher",
        "kl",
        "gamma",
        "--p",
        "shape=2,rate=3",
        "--q",
        "shape=1.5,rate=1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["method"], "closed-form");
    assert_eq!(v["verification"]["status"], "verified");
    // the command's own pair and the three verification pairs
    assert_eq!(v["verification"]["points"], 4);
}

#[test]
fn check_refuses_zero_points() {
    let (code, out, err) = run_args(["fisher", "check", "normal", "--points", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("--points 0"), "{err}");
}

/// For `a < 0` the density below is not normalized (`a − |a| = 2a`); `check` reports each
/// failing point by its coordinates and goes on to the others.
#[test]
fn check_reports_a_failing_point_and_goes_on() {
    let src = "data x : real\nparam a : real\n\
        logp = -0.5*(x - a)^2 - 0.5*ln(2*pi) + a - abs(a)\n";
    let path = model_file("half_normalized", src);
    let (code, v, err) = json(&[
        "fisher", "check", &path, "--points", "8", "--seed", "3", "--format", "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 8);
    let mut failed = 0;
    for p in points {
        let a = p["at"]["a"].as_f64().unwrap();
        if a < 0.0 {
            failed += 1;
            assert_eq!(p["passed"], false, "{p}");
            let e = p["error"].as_str().unwrap();
            // (serde_json parses floats to within an ulp, so compare the leading digits)
            let digits = format!("a={a:.12}");
            assert!(e.contains(&digits[..digits.len() - 1]), "{e}");
        } else {
            assert!(p.get("error").is_none(), "{p}");
        }
    }
    assert!(failed > 0 && failed < 8, "{failed}");
}

#[test]
fn verification_points_are_finite_on_huge_intervals() {
    let m = model(
        "data x : real\nparam mu : interval(-1e308, 1e308)\n\
         logp = -0.5*(x - mu)^2 - 0.5*ln(2*pi)\n",
    );
    for at in verify::random_points(&m, 16, 7) {
        assert!(at[0].1.is_finite() && m.params[0].domain.contains(at[0].1));
    }
}

/// `p(x) = a/x` on (0, ∞) cannot be normalized; its "closed-form" divergence ln a − ln a'
/// is negative at a = 1, a' = 2. Every command refuses it rather than print a number.
#[test]
fn a_density_that_cannot_be_normalized_is_refused() {
    let path = model_file(
        "improper",
        "data x : positive\nparam a : positive\nlogp = ln(a) - ln(x)\n",
    );
    for args in [
        vec!["fisher", "derive", &path],
        vec!["fisher", "eval", &path, "--at", "a=1"],
        vec!["fisher", "kl", &path, "--p", "a=1", "--q", "a=2"],
    ] {
        let (code, out, err) = run_args(args.iter().copied());
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(
            err.contains("accuracy") || err.contains("normalized"),
            "{args:?}: {err}"
        );
    }
    // even unchecked, a negative divergence is never printed
    let (code, _, err) = run_args([
        "fisher",
        "kl",
        &path,
        "--p",
        "a=1",
        "--q",
        "a=2",
        "--no-verify",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("negative"), "{err}");
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/differential/{name}.model",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Three closed forms the differential test found exact in form but rounded in their float
/// coefficients (terms of 1e12 that cancel; a saturated sigmoid; a categorical whose F[u1, u1]
/// is 1e-4 of its terms): at the points where they
/// were off, `eval` never reports them; it falls back to quadrature and says why.
#[test]
fn closed_forms_that_lose_digits_are_not_reported() {
    for (name, at) in [
        (
            "cancellation_huge_location",
            "u1=-0.3102190662413762,u2=0.45935067706925503",
        ),
        ("cancellation_saturated_sigmoid", "u1=-1.043571464253845"),
        (
            "cancellation_categorical_lagrange",
            "u1=0.7557504522338578,u2=-0.32817015054573007,u3=-0.3557133243882775",
        ),
    ] {
        let path = fixture(name);
        let (code, v, err) = json(&["fisher", "eval", &path, "--at", at, "--format", "json"]);
        assert_eq!(code, 0, "{name}: {err}");
        let f = v["fisher"][0][0].as_f64().unwrap();
        let numeric = v["forms"]["outer_product"][0][0].as_f64().unwrap();
        assert!((f - numeric).abs() <= 1e-9 * numeric.abs(), "{name}: {v}");
        if v["method"] == "closed-form" {
            assert_eq!(v["verification"]["status"], "verified", "{name}");
        } else {
            assert_eq!(v["verification"]["status"], "failed", "{name}");
        }
    }
}

/// Models on which the closed-form route once ran for minutes finish: the gamma with a
/// polynomial shape is verified; the categorical (whose probabilities, as generated, sum to
/// 1/2) is refused as not normalized.
#[test]
fn models_that_took_minutes_finish() {
    let (code, v, err) = json(&[
        "fisher",
        "derive",
        &fixture("slow_gamma"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["fisher"]["verification"]["status"], "verified");
    let (code, _, err) = run_args(["fisher", "derive", &fixture("slow_categorical")]);
    assert_eq!(code, 1);
    assert!(err.contains("integrates to 0.5"), "{err}");
}

/// The KL divergence between Cauchy densities (Chyzak & Nielsen 2019, "A closed-form formula
/// for the Kullback–Leibler divergence between Cauchy distributions"):
/// `ln(((γ_p + γ_q)² + (x_p − x_q)²)/(4 γ_p γ_q))`.
fn cauchy_kl(p: (f64, f64), q: (f64, f64)) -> f64 {
    (((p.1 + q.1).powi(2) + (p.0 - q.0).powi(2)) / (4.0 * p.1 * q.1)).ln()
}

#[test]
fn numeric_divergences_between_nearly_equal_points_are_bounded_by_their_rounding() {
    // Between nearly equal points the divergence (≈ ½ δᵀFδ) is far below the rounding of
    // ℓ_p − ℓ_q at the nodes: quadrature could not reach any relative tolerance and the
    // command failed; then it printed −5.2e-17. Now it is the rounding-bounded value, never
    // negative, and the truth lies within its error.
    let m = fisher_geometry::Model::builtin("cauchy").unwrap();
    for (p, q) in [
        ((0.0, 1.0), (1e-9, 1.0)),
        ((0.0, 1.0), (0.0, 1.0)),
        ((0.0, 1.0), (1e-5, 1.00001)),
        ((0.3, 2.0), (0.3 + 1e-7, 2.0 - 1e-7)),
        ((0.0, 1.0), (1.0, 2.0)),
    ] {
        let pp = Point::new(&m, &[("x0", p.0), ("gamma", p.1)]).unwrap();
        let qq = Point::new(&m, &[("x0", q.0), ("gamma", q.1)]).unwrap();
        let r = fisher_geometry::kl_between(&m, &pp, &qq, true).unwrap();
        let d = &r.divergence;
        let error = d.error.expect("numeric");
        let truth = cauchy_kl(p, q);
        assert!(d.value >= 0.0, "{p:?} {q:?}: {}", d.value);
        assert!(
            (d.value - truth).abs() <= error.max(1e-10 * truth),
            "{p:?} {q:?}: {} ± {error} against {truth}",
            d.value
        );
        // The rounding bound is a few ulps of E|ℓ|, not more.
        assert!(error < 1e-10, "{p:?} {q:?}: error {error}");
    }
}
