//! The Fisher field (issue 11): at random points inside the domains of every built-in model,
//! on both routes, `∂F/∂θ_l` and `∂²F/∂θ_l∂θ_m` equal central finite differences of `F` with
//! an error that falls like `h²`; the closed-form and numeric routes agree where both exist;
//! the batch form equals the pointwise one; a model with a kink in θ is refused derivatives
//! on the numeric route instead of getting wrong ones.

mod common;

use fisher_geometry::Model;
use fisher_geometry::Quadrature;
use fisher_geometry::{FieldOptions, FisherField, InfoError, Method};
use nalgebra::DMatrix;
use proptest::test_runner::TestRunner;

/// Built-ins whose log-density has a kink in θ.
const NON_SMOOTH: &[&str] = &["laplace"];

fn numeric_options() -> FieldOptions {
    FieldOptions {
        numeric_only: true,
        quadrature: Quadrature {
            rel_tol: 1e-12,
            ..Quadrature::default()
        },
        ..FieldOptions::default()
    }
}

/// A point inside the domains, from uniforms in (0, 1): real parameters in (−1.5, 1.5),
/// positive ones in (0.5, 3), bounded ones in the middle 60 % of their interval.
fn point(model: &Model, u: &[f64]) -> Vec<f64> {
    model
        .params
        .iter()
        .zip(u)
        .map(|(p, &u)| {
            let (lo, hi) = p.domain.bounds();
            match (lo.is_finite(), hi.is_finite()) {
                (true, true) => lo + (hi - lo) * (0.2 + 0.6 * u),
                (true, false) => lo + 0.5 + 2.5 * u,
                _ => 3.0 * u - 1.5,
            }
        })
        .collect()
}

/// The scale of entry `(j, k)`: `√(F_jj F_kk)`.
fn scale(f: &DMatrix<f64>, j: usize, k: usize) -> f64 {
    (f[(j, j)] * f[(k, k)]).abs().sqrt()
}

/// `F` at `theta + t·e_l`.
fn shifted(field: &FisherField, theta: &[f64], l: usize, t: f64) -> DMatrix<f64> {
    let mut th = theta.to_vec();
    th[l] += t;
    field.at(&th).unwrap_or_else(|e| panic!("F at {th:?}: {e}"))
}

/// Largest scaled error of the central difference of `F` in `θ_l` with step `h` against
/// `df`.
fn first_error(field: &FisherField, theta: &[f64], l: usize, h: f64, df: &DMatrix<f64>) -> f64 {
    let f = field.at(theta).unwrap();
    let (a, b) = (shifted(field, theta, l, h), shifted(field, theta, l, -h));
    let n = f.nrows();
    let mut worst: f64 = 0.0;
    for j in 0..n {
        for k in 0..n {
            let fd = (a[(j, k)] - b[(j, k)]) / (2.0 * h);
            worst = worst.max((fd - df[(j, k)]).abs() / scale(&f, j, k));
        }
    }
    worst
}

/// Largest scaled error of the central second difference of `F` in `θ_l, θ_m` with step `h`
/// against `d2f`.
fn second_error(
    field: &FisherField,
    theta: &[f64],
    (l, m): (usize, usize),
    h: f64,
    d2f: &DMatrix<f64>,
) -> f64 {
    let f = field.at(theta).unwrap();
    let at = |dl: f64, dm: f64| {
        let mut th = theta.to_vec();
        th[l] += dl;
        th[m] += dm;
        field.at(&th).unwrap()
    };
    let fd = if l == m {
        (at(h, 0.0) - &f * 2.0 + at(-h, 0.0)) / (h * h)
    } else {
        (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4.0 * h * h)
    };
    let n = f.nrows();
    let mut worst: f64 = 0.0;
    for j in 0..n {
        for k in 0..n {
            worst = worst.max((fd[(j, k)] - d2f[(j, k)]).abs() / scale(&f, j, k));
        }
    }
    worst
}

/// The differences fall like `h²` (or are already at the level of rounding `floor`).
fn second_order(e_h: f64, e_half: f64, floor: f64, what: &str) {
    assert!(
        e_half <= floor || e_half <= e_h / 2.5,
        "{what}: error {e_h:.3e} at h, {e_half:.3e} at h/2 (not O(h²))"
    );
}

/// Checks the derivatives of `field` at `theta`: first ones against differences of `F` (from
/// `h = 1e-2·(1 + |θ_l|)`), second ones against second differences of `F` on the closed
/// route, and against differences of the exact first derivatives on the numeric one (whose
/// `F` carries quadrature error that second differences would amplify by `1/h²`).
fn check_derivatives(name: &str, field: &FisherField, theta: &[f64]) {
    let n = theta.len();
    let d = field
        .with_derivatives(theta)
        .unwrap_or_else(|e| panic!("{name} at {theta:?}: {e}"));
    let closed = field.method() == Method::ClosedForm;
    let floor = if closed { 1e-7 } else { 1e-6 };
    for l in 0..n {
        let h = 1e-2 * (1.0 + theta[l].abs());
        let what = format!("{name} ∂F/∂θ{l} at {theta:?} ({:?})", field.method());
        let (e1, e2) = (
            first_error(field, theta, l, h, &d.df[l]),
            first_error(field, theta, l, h / 2.0, &d.df[l]),
        );
        second_order(e1, e2, floor, &what);
        for m in l..n {
            let what = format!("{name} ∂²F/∂θ{l}∂θ{m} at {theta:?} ({:?})", field.method());
            let hm = 1e-2 * (1.0 + theta[l].abs().max(theta[m].abs()));
            if closed {
                let (e1, e2) = (
                    second_error(field, theta, (l, m), hm, &d.d2f[l][m]),
                    second_error(field, theta, (l, m), hm / 2.0, &d.d2f[l][m]),
                );
                second_order(e1, e2, 1e-5, &what);
            } else {
                let df_at = |t: f64| {
                    let mut th = theta.to_vec();
                    th[m] += t;
                    field.with_gradient(&th).unwrap().df[l].clone()
                };
                let err = |h: f64| {
                    let fd = (df_at(h) - df_at(-h)) / (2.0 * h);
                    let mut worst: f64 = 0.0;
                    for j in 0..n {
                        for k in 0..n {
                            let e = (fd[(j, k)] - d.d2f[l][m][(j, k)]).abs();
                            worst = worst.max(e / scale(&d.f, j, k));
                        }
                    }
                    worst
                };
                second_order(err(hm), err(hm / 2.0), floor, &what);
            }
        }
    }
}

/// Every built-in model with its closed-form field (where there is one) and its numeric one.
fn fields() -> Vec<(String, Model, Option<FisherField>, Option<FisherField>)> {
    Model::builtins()
        .iter()
        .map(|(name, _)| {
            let model = Model::builtin(name).unwrap();
            let closed = FisherField::new(&model)
                .ok()
                .filter(|f| f.method() == Method::ClosedForm);
            // More than two data variables: quadrature derivatives of every entry would take
            // too long for CI; their closed forms are checked.
            let numeric = (model.data.len() <= 2)
                .then(|| FisherField::with_options(&model, numeric_options()).unwrap());
            (name.to_string(), model, closed, numeric)
        })
        .collect()
}

#[test]
fn derivatives_equal_differences_of_f_on_both_routes() {
    let mut runner = TestRunner::new(common::proptest_config(2));
    let (mut n_closed, mut n_numeric) = (0, 0);
    for (name, model, closed, numeric) in fields() {
        n_closed += usize::from(closed.is_some());
        n_numeric += usize::from(numeric.is_some());
        let n = model.params.len();
        let strategy = proptest::collection::vec(0.0..1.0f64, n);
        runner
            .run(&strategy, |u| {
                let theta = point(&model, &u);
                if let Some(f) = &closed {
                    check_derivatives(&name, f, &theta);
                }
                match &numeric {
                    Some(f) if NON_SMOOTH.contains(&name.as_str()) => {
                        let e = f.with_derivatives(&theta).unwrap_err();
                        assert!(matches!(e, InfoError::NonSmooth { .. }), "{name}: {e}");
                    }
                    Some(f) => check_derivatives(&name, f, &theta),
                    None => {}
                }
                Ok(())
            })
            .unwrap();
    }
    // every built-in but the three-variable ones on the numeric route; most have closed forms
    assert!(
        n_closed >= 15 && n_numeric >= 20,
        "{n_closed} closed, {n_numeric} numeric"
    );
}

#[test]
fn closed_and_numeric_routes_agree() {
    for (name, model, closed, numeric) in fields() {
        let (Some(closed), Some(numeric)) = (closed, numeric) else {
            continue;
        };
        for u in [[0.3, 0.6, 0.2, 0.8, 0.5], [0.9, 0.1, 0.7, 0.4, 0.35]] {
            let theta = point(&model, &u);
            let (a, b) = (closed.at(&theta).unwrap(), numeric.at(&theta).unwrap());
            let n = a.nrows();
            for j in 0..n {
                for k in 0..n {
                    let e = (a[(j, k)] - b[(j, k)]).abs() / scale(&a, j, k);
                    assert!(e < 1e-9, "{name} F[{j},{k}] at {theta:?}: {a} vs {b}");
                }
            }
            let (da, db) = (
                closed.with_derivatives(&theta).unwrap(),
                numeric.with_derivatives(&theta).unwrap(),
            );
            for l in 0..n {
                let e = (&da.df[l] - &db.df[l]).amax() / a.amax();
                assert!(e < 1e-8, "{name} ∂F/∂θ{l} at {theta:?}: {e:e}");
            }
        }
    }
}

#[test]
fn the_batch_equals_the_pointwise_field() {
    for name in ["normal", "cauchy", "gamma"] {
        let model = Model::builtin(name).unwrap();
        let field = FisherField::new(&model).unwrap();
        let points: Vec<Vec<f64>> = (0..16)
            .map(|i| point(&model, &[f64::from(i) / 16.0, 1.0 - f64::from(i) / 17.0]))
            .collect();
        let batch = field.at_batch(&points);
        for (p, b) in points.iter().zip(&batch) {
            assert_eq!(
                b.as_ref().unwrap(),
                &field.at(p).unwrap(),
                "{name} at {p:?}"
            );
        }
        let derivatives = field.with_derivatives_batch(&points);
        for (p, d) in points.iter().zip(&derivatives) {
            assert_eq!(
                d.as_ref().unwrap(),
                &field.with_derivatives(p).unwrap(),
                "{name} at {p:?}"
            );
        }
        let outside: Vec<Vec<f64>> = vec![vec![0.0, -1.0]];
        assert!(field.at_batch(&outside)[0].is_err());
        assert!(field.with_derivatives_batch(&outside)[0].is_err());
    }
}

#[test]
fn points_outside_the_domains_are_refused() {
    let model = Model::builtin("normal").unwrap();
    for field in [
        FisherField::new(&model).unwrap(),
        FisherField::with_options(&model, numeric_options()).unwrap(),
    ] {
        let e = field.at(&[0.0, -1.0]).unwrap_err().to_string();
        assert!(e.contains("outside its domain"), "{e}");
        let e = field.with_derivatives(&[0.0]).unwrap_err().to_string();
        assert!(e.contains("1 values given for 2 parameters"), "{e}");
    }
}

#[test]
fn the_allocation_free_forms_equal_the_others() {
    for name in ["normal", "gamma", "cauchy", "bivariate_normal"] {
        let model = Model::builtin(name).unwrap();
        let field = FisherField::new(&model).unwrap();
        let n = model.params.len();
        let theta = point(&model, &[0.3, 0.6, 0.2, 0.8, 0.5]);
        let d = field.with_gradient(&theta).unwrap();
        assert!(d.d2f.is_empty());
        let mut f = DMatrix::zeros(n, n);
        let mut df = vec![DMatrix::zeros(n, n); n];
        field.with_gradient_into(&theta, &mut f, &mut df).unwrap();
        assert_eq!(f, d.f, "{name}");
        assert_eq!(df, d.df, "{name}");
        field.at_into(&theta, &mut f).unwrap();
        assert_eq!(f, field.at(&theta).unwrap(), "{name}");
        assert!(
            field
                .with_gradient_into(&theta, &mut f, &mut df[..1])
                .is_err()
        );
        // Matrices of the wrong shape are resized, not indexed out of bounds.
        let mut small = DMatrix::zeros(1, 1);
        field.at_into(&theta, &mut small).unwrap();
        assert_eq!(small, d.f, "{name}");
        let mut small_df = vec![DMatrix::zeros(1, 3); n];
        field
            .with_gradient_into(&theta, &mut small, &mut small_df)
            .unwrap();
        assert_eq!(small_df, d.df, "{name}");
        // F, ∂F, ∂²F into a reused value (empty, then of the wrong shape) equal the others
        let full = field.with_derivatives(&theta).unwrap();
        let mut into = fisher_geometry::FieldDerivatives {
            f: DMatrix::zeros(1, 1),
            df: Vec::new(),
            d2f: vec![vec![DMatrix::zeros(2, 1)]],
        };
        for _ in 0..2 {
            field.with_derivatives_into(&theta, &mut into).unwrap();
            assert_eq!(into, full, "{name}");
        }
    }
}

/// A Cauchy whose location is `c·a`: `F[a, a] = c²/(2g²)` (the Cauchy's location
/// information `1/(2γ²)`, Johnson, Kotz & Balakrishnan, *Continuous Univariate
/// Distributions* 1, ch. 16), by the numeric route (no closed form exists).
fn scaled_cauchy(c: &str) -> Model {
    let text = format!(
        "data x : real\nparam a : real\nparam g : positive\nlogp = -ln(pi) - ln(g) - ln(1 + ((x - {c}*a)/g)^2)"
    );
    Model::parse(&text, "scaled_cauchy").expect("model")
}

#[test]
fn numeric_products_out_of_the_range_of_f64_are_refused_not_rounded_to_zero() {
    // E|s_a| ≈ 6e-171: s_a² underflows at every node, and F[a, a] came out as 0 with exit 0.
    let field = FisherField::new(&scaled_cauchy("1e-170")).expect("field");
    assert_eq!(field.method(), Method::Numeric);
    let err = field.at(&[1.0, 1.0]).expect_err("underflow");
    assert!(
        matches!(err, InfoError::OutOfRange { degree: 2, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("F[a, a] at a=1, g=1") && text.contains("a = 1e170*b"),
        "{text}"
    );
    // The θ-derivatives multiply three and four scores: refused sooner.
    let field = FisherField::new(&scaled_cauchy("1e-100")).expect("field");
    let err = field.with_derivatives(&[1.0, 1.0]).expect_err("underflow");
    assert!(
        matches!(err, InfoError::OutOfRange { degree: 4, .. }),
        "{err}"
    );
    // Within the range, the value is right: c²/(2g²) = 5e-201 at g = 1.
    let f = field.at(&[1.0, 1.0]).expect("F");
    assert!((f[(0, 0)] / 5e-201 - 1.0).abs() < 1e-9, "{}", f[(0, 0)]);
    assert!((f[(1, 1)] / 0.5 - 1.0).abs() < 1e-9, "{}", f[(1, 1)]);
}

#[test]
fn a_score_that_vanishes_at_every_node_is_an_exact_zero() {
    // Mean a²: at a = 0 the score in a is 0 everywhere and F[a, a] = 0 exactly.
    let model = Model::parse(
        "data x : real\nparam a : real\nparam s : positive\nlogp = -(x - a^2)^2/(2*s^2) - ln(s) - ln(2*pi)/2",
        "square_mean",
    )
    .expect("model");
    let field = FisherField::with_options(&model, numeric_options()).expect("field");
    let f = field.at(&[0.0, 1.5]).expect("F");
    assert_eq!(f[(0, 0)], 0.0);
    assert!(
        (f[(1, 1)] * 1.5 * 1.5 / 2.0 - 1.0).abs() < 1e-9,
        "{}",
        f[(1, 1)]
    );
}

#[test]
fn closed_form_entries_that_cancel_in_f64_are_evaluated_accurately() {
    // The beta's F[b, b] = ψ₁(b) − ψ₁(a + b): at a = 2 it is exactly 1/b² + 1/(b + 1)²
    // (ψ₁(x) − ψ₁(x + 1) = 1/x²). The compiled tape cancelled it to 0 at b = 1e20 and to
    // 1.3e-8 relative error at b = 1e8; every form of the field now falls back to the
    // accurate evaluator where the entry's error scale says f64 lost digits.
    let model = Model::builtin("beta").unwrap();
    let field = FisherField::new(&model).unwrap();
    for b in [1e5, 1e8, 1e12, 1e20, 1e100] {
        let want = 1.0 / (b * b) + 1.0 / ((b + 1.0) * (b + 1.0));
        let theta = [2.0, b];
        let mut f = DMatrix::zeros(2, 2);
        field.at_into(&theta, &mut f).unwrap();
        let g = field.with_gradient(&theta).unwrap();
        let d = field.with_derivatives(&theta).unwrap();
        let mut gi = DMatrix::zeros(2, 2);
        let mut dfi = vec![DMatrix::zeros(2, 2); 2];
        field.with_gradient_into(&theta, &mut gi, &mut dfi).unwrap();
        for (what, v) in [
            ("at", f[(1, 1)]),
            ("with_gradient", g.f[(1, 1)]),
            ("with_derivatives", d.f[(1, 1)]),
            ("with_gradient_into", gi[(1, 1)]),
        ] {
            assert!(
                (v / want - 1.0).abs() < 1e-12,
                "{what} at b = {b:e}: {v:e} against {want:e}"
            );
        }
    }
}
