//! Expectations over three or more data variables (the sparse-grid cubature) against closed
//! forms: products of independent normals (the Fisher matrix is the direct sum of the 1-D
//! ones), the same normals seen through a rotation (the integrand is no longer a product), a
//! gamma × beta × normal product (the maps of (0, ∞) and (0, 1)), a count beside two reals,
//! and the budget that bounds the cost.

mod common;

use common::run_args;
use fisher_geometry::Env;
use fisher_geometry::special::trigamma;
use fisher_geometry::{ExpectError, Quadrature, expectations};
use fisher_geometry::{Expr, Model, simplify};

/// The accuracy every smooth case must reach (DESIGN §4).
const ACCURACY: f64 = 1e-8;

/// `n` independent normals `x_k ~ N(m_k, s_k²)`, parameters `m1, s1, m2, s2, …`.
fn normals(n: usize) -> Model {
    let mut src = String::new();
    for k in 1..=n {
        src.push_str(&format!("data x{k} : real\n"));
    }
    for k in 1..=n {
        src.push_str(&format!("param m{k} : real\nparam s{k} : positive\n"));
    }
    let terms: Vec<String> = (1..=n)
        .map(|k| format!("-0.5*((x{k} - m{k})/s{k})^2 - ln(s{k}) - 0.5*ln(2*pi)"))
        .collect();
    src.push_str(&format!("logp = {}\n", terms.join(" + ")));
    Model::parse(&src, &format!("normals{n}")).unwrap()
}

/// Parameter values of [`normals`]: `m_k = 0.3k − 1`, `s_k = 0.5 + 0.4k`.
fn normal_point(n: usize) -> (Env<f64>, Vec<f64>) {
    let mut env = Env::new();
    let mut diag = Vec::new();
    for k in 1..=n {
        let (m, s) = (0.3 * k as f64 - 1.0, 0.5 + 0.4 * k as f64);
        env.insert(format!("m{k}").as_str().into(), m);
        env.insert(format!("s{k}").as_str().into(), s);
        // F_mm = 1/s², F_ss = 2/s²
        diag.extend([1.0 / (s * s), 2.0 / (s * s)]);
    }
    (env, diag)
}

/// The numeric `E[s sᵀ]` and `E[−∇²ℓ]` (packed upper triangles) with their reported errors,
/// checked against `want` to the accuracy the method reports, and that accuracy against
/// [`ACCURACY`].
fn check_fisher(model: &Model, at: &Env<f64>, want: &[Vec<f64>]) {
    let d = simplify::derive(model);
    let n = d.score.len();
    let mut gs: Vec<Expr> = Vec::new();
    let mut entries = Vec::new();
    for j in 0..n {
        for k in j..n {
            gs.push(&d.score[j] * &d.score[k]);
            entries.push((j, k, "E[s s^T]"));
        }
    }
    for j in 0..n {
        for k in j..n {
            gs.push(-&d.hessian[j][k]);
            entries.push((j, k, "E[-H]"));
        }
    }
    gs.extend(d.score.iter().cloned());
    let est = expectations(model, at, &gs, &Quadrature::default())
        .unwrap_or_else(|e| panic!("{}: {e}", model.name));
    assert!((est.mass - 1.0).abs() <= est.mass_error.max(1e-14) + 1e-12);
    assert!(est.mass_error <= ACCURACY, "∫p error {:e}", est.mass_error);
    let scale = |j: usize, k: usize| (want[j][j] * want[k][k]).sqrt();
    for (i, (j, k, form)) in entries.iter().enumerate() {
        let (got, err) = (est.values[i], est.errors[i]);
        let miss = (got - want[*j][*k]).abs();
        assert!(
            miss <= err + 1e-13 * scale(*j, *k),
            "{} {form}[{j}][{k}]: got {got:e}, want {:e}, off by {miss:e} beyond the reported error {err:e}",
            model.name,
            want[*j][*k]
        );
        assert!(
            err <= ACCURACY * scale(*j, *k),
            "{} {form}[{j}][{k}]: reported error {err:e}",
            model.name
        );
    }
    // E[s] = 0
    for j in 0..n {
        let i = entries.len() + j;
        assert!(
            est.values[i].abs() <= est.errors[i] + 1e-13 * scale(j, j).sqrt(),
            "{} E[s_{j}] = {:e}",
            model.name,
            est.values[i]
        );
    }
}

fn diagonal(d: &[f64]) -> Vec<Vec<f64>> {
    (0..d.len())
        .map(|i| {
            (0..d.len())
                .map(|j| if i == j { d[i] } else { 0.0 })
                .collect()
        })
        .collect()
}

#[test]
fn three_independent_normals() {
    let (at, diag) = normal_point(3);
    check_fisher(&normals(3), &at, &diagonal(&diag));
}

#[test]
fn four_independent_normals() {
    let (at, diag) = normal_point(4);
    check_fisher(&normals(4), &at, &diagonal(&diag));
}

#[test]
fn five_independent_normals() {
    let (at, diag) = normal_point(5);
    check_fisher(&normals(5), &at, &diagonal(&diag));
}

/// Three independent normals in the coordinates `z = R x`, `R` the Householder reflection
/// `I − 2vvᵀ/|v|²` with `v = (1, 2, 2)` (orthogonal, `|det R| = 1`): in `x` the density is a
/// correlated normal, its integrands no product of one-variable factors, and its Fisher
/// matrix in `(m_k, s_k)` that of the independent normals.
#[test]
fn three_correlated_normals() {
    let rows = [
        "(7*x - 4*y - 4*z)/9",
        "(-4*x + y - 8*z)/9",
        "(-4*x - 8*y + z)/9",
    ];
    let terms: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let k = i + 1;
            format!("-0.5*(({r} - m{k})/s{k})^2 - ln(s{k}) - 0.5*ln(2*pi)")
        })
        .collect();
    let mut src = String::from("data x : real\ndata y : real\ndata z : real\n");
    for k in 1..=3 {
        src.push_str(&format!("param m{k} : real\nparam s{k} : positive\n"));
    }
    src.push_str(&format!("logp = {}\n", terms.join(" + ")));
    let model = Model::parse(&src, "rotated3").unwrap();
    let (at, diag) = normal_point(3);
    check_fisher(&model, &at, &diagonal(&diag));
}

/// `x ~ Gamma(k, β)`, `u ~ Beta(a, b)`, `z ~ N(m, 1)`: skewed factors on (0, ∞) and (0, 1).
/// Fisher matrices (Johnson, Kotz & Balakrishnan): gamma `[[ψ₁(k), −1/β], [−1/β, k/β²]]`,
/// beta `[[ψ₁(a) − ψ₁(a+b), −ψ₁(a+b)], [−ψ₁(a+b), ψ₁(b) − ψ₁(a+b)]]`, normal 1.
#[test]
fn gamma_beta_normal() {
    let src = "data x : positive\ndata u : unit\ndata z : real\n\
        param k : positive\nparam beta : positive\nparam a : positive\nparam b : positive\nparam m : real\n\
        logp = k*ln(beta) - lgamma(k) + (k - 1)*ln(x) - beta*x \
        + lgamma(a + b) - lgamma(a) - lgamma(b) + (a - 1)*ln(u) + (b - 1)*ln(1 - u) \
        - 0.5*(z - m)^2 - 0.5*ln(2*pi)";
    let model = Model::parse(src, "gamma_beta_normal").unwrap();
    let (k, beta, a, b) = (2.5, 0.7, 2.0, 3.5);
    let at = Env::new()
        .with("k", k)
        .with("beta", beta)
        .with("a", a)
        .with("b", b)
        .with("m", 0.4);
    let mut want = vec![vec![0.0; 5]; 5];
    want[0][0] = trigamma(k);
    want[0][1] = -1.0 / beta;
    want[1][0] = -1.0 / beta;
    want[1][1] = k / (beta * beta);
    let tab = trigamma(a + b);
    want[2][2] = trigamma(a) - tab;
    want[2][3] = -tab;
    want[3][2] = -tab;
    want[3][3] = trigamma(b) - tab;
    want[4][4] = 1.0;
    check_fisher(&model, &at, &want);
}

/// A count `n ~ Poisson(λ)` declared before two normals: the count is summed outside, the
/// sparse grid integrates the two reals inside. `F = diag(1/λ, 1/s₁², 2/s₁², 1/s₂², 2/s₂²)`.
#[test]
fn a_count_and_two_reals() {
    let src = "data n : count\ndata x1 : real\ndata x2 : real\n\
        param rate : positive\nparam m1 : real\nparam s1 : positive\nparam m2 : real\nparam s2 : positive\n\
        logp = n*ln(rate) - rate - lgamma(n + 1) \
        - 0.5*((x1 - m1)/s1)^2 - ln(s1) - 0.5*((x2 - m2)/s2)^2 - ln(s2) - ln(2*pi)";
    let model = Model::parse(src, "poisson_normals").unwrap();
    let (mut at, diag) = normal_point(2);
    at.insert("rate".into(), 3.2);
    let mut d = vec![1.0 / 3.2];
    d.extend(diag);
    check_fisher(&model, &at, &diagonal(&d));
}

/// The same with the count declared after the reals (and three of them): the nested rules
/// integrate the variables in declared order, so at each count the three reals nested 1-D
/// rules and the budget refused the model; the discrete variable now goes outermost and the
/// reals to the grid. A pointwise integrand (the KL Hessians of `fisher check`) still reads
/// the data point in declared order.
#[test]
fn a_count_declared_after_three_reals() {
    let src = "data x1 : real\ndata x2 : real\ndata x3 : real\ndata n : count\n\
        param m1 : real\nparam s1 : positive\nparam m2 : real\nparam s2 : positive\n\
        param m3 : real\nparam s3 : positive\nparam rate : positive\n\
        logp = n*ln(rate) - rate - lgamma(n + 1) \
        - 0.5*((x1 - m1)/s1)^2 - ln(s1) - 0.5*((x2 - m2)/s2)^2 - ln(s2) \
        - 0.5*((x3 - m3)/s3)^2 - ln(s3) - 1.5*ln(2*pi)";
    let model = Model::parse(src, "normals_poisson").unwrap();
    let (mut at, mut d) = normal_point(3);
    at.insert("rate".into(), 3.2);
    d.push(1.0 / 3.2);
    check_fisher(&model, &at, &diagonal(&d));
    let dir = std::env::temp_dir().join(format!("fisher-cubature-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A Cauchy among the reals: no closed-form divergence, so the KL Hessians are the
    // pointwise dual-number integrands, which agree with F only if they read x1, x2, x3, k
    // where they are.
    let src = "data x1 : real\ndata x2 : real\ndata x3 : real\ndata k : binary\n\
        param m : real\nparam s : positive\nparam p : unit\n\
        logp = -ln(pi) - ln(s) - ln(1 + ((x1 - m)/s)^2) - (x2 - m)^2/2 - (x3 + m)^2/8 \
        - ln(2*pi) - ln(2) + k*ln(p) + (1 - k)*ln(1 - p)";
    let path = dir.join("cauchy_normals_bernoulli.model");
    std::fs::write(&path, src).unwrap();
    let (code, out, err) = run_args(["fisher", "check", path.to_str().unwrap(), "--points", "2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("(dual numbers at the quadrature nodes)"),
        "{out}"
    );
    assert!(out.contains("all checks passed"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_small_budget_is_refused_naming_the_dimension_and_the_budget() {
    let (at, _) = normal_point(4);
    let q = Quadrature {
        max_points: 20,
        ..Quadrature::default()
    };
    let err = expectations(&normals(4), &at, &[], &q).unwrap_err();
    assert!(matches!(err, ExpectError::OverBudget { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("the expectation over 4 data variables at m1=-0.7, s1=0.9,"),
        "{text}"
    );
    assert!(
        text.contains("needs more than 20 evaluations (the budget `max_points`)"),
        "{text}"
    );
}

/// `fisher eval` on four data variables: the closed form and the numeric forms agree, and
/// nothing but the JSON reaches stdout.
#[test]
fn eval_on_four_variables() {
    let dir = std::env::temp_dir().join(format!("fisher-cubature-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("normals4.model");
    let src = "data x : real\ndata y : real\ndata z : real\ndata w : real\n\
        param a : real\nparam b : positive\nparam c : real\nparam d : real\n\
        logp = -0.5*(x - a)^2 - 0.5*((y - 1)/b)^2 - ln(b) - 0.5*(z - c)^2/4 - ln(2) \
        - 0.5*(w - d)^2 - 2*ln(2*pi)";
    std::fs::write(&path, src).unwrap();
    let (code, out, err) = run_args([
        "fisher",
        "eval",
        path.to_str().unwrap(),
        "--at",
        "a=0.3,b=1.5,c=-1,d=2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want = [1.0, 2.0 / 2.25, 0.25, 1.0];
    for (i, w) in want.iter().enumerate() {
        let f = v["forms"]["outer_product"][i][i].as_f64().unwrap();
        assert!((f - w).abs() <= 1e-9 * w, "F[{i}][{i}] = {f}, want {w}");
    }
    assert!(v["max_rel_discrepancy"].as_f64().unwrap() < 1e-8, "{v}");
    std::fs::remove_dir_all(&dir).unwrap();
}
