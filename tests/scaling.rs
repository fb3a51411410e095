//! Derivation that scales (issue 11): a diagonal normal in `d` dimensions, `x_i ~ N(μ_i, s_i²)`
//! for `i = 1..d`, written as a sum of `d` normal log-densities (`2d` parameters). Its score,
//! Hessian and closed-form Fisher matrix are block-diagonal; these tests check them at
//! `d = 64` against the textbook `F = diag(1/s_i², 2/s_i²)` and, at a `d` small enough for
//! quadrature, against the numeric route. (The time and memory they take are measured by
//! `examples/diag_normal.rs` and `benches/derive.rs`, never asserted.)

mod common;

use egg::Symbol;
use fisher_geometry::{Env, eval_f64};
use fisher_geometry::{Model, Quadrature, simplify};

/// The diagonal normal in `d` dimensions (see `tests/common/diag_normal.rs`).
fn diag_normal(d: usize) -> Model {
    Model::parse(&common::diag_normal::diag_normal_source(d), "diag_normal").unwrap()
}

/// `μ_i = 0.3i − 1`, `s_i = 0.5 + 0.05i`, in parameter order.
fn point(d: usize) -> Vec<(Symbol, f64)> {
    let mus = (1..=d).map(|i| (format!("mu{i}"), 0.3 * i as f64 - 1.0));
    let ss = (1..=d).map(|i| (format!("s{i}"), 0.5 + 0.05 * i as f64));
    mus.chain(ss)
        .map(|(n, v)| (Symbol::from(n.as_str()), v))
        .collect()
}

fn env(at: &[(Symbol, f64)]) -> Env<f64> {
    let mut env = Env::new();
    for (n, v) in at {
        env.insert(*n, *v);
    }
    env
}

/// The textbook Fisher matrix at `at`: `F_μμ = 1/s²`, `F_ss = 2/s²`, zero elsewhere.
fn textbook(d: usize, at: &[(Symbol, f64)]) -> Vec<Vec<f64>> {
    let mut f = vec![vec![0.0; 2 * d]; 2 * d];
    for i in 0..d {
        let s = at[d + i].1;
        f[i][i] = 1.0 / (s * s);
        f[d + i][d + i] = 2.0 / (s * s);
    }
    f
}

#[test]
fn diagonal_normal_64_has_the_textbook_closed_form() {
    let d = 64;
    let model = diag_normal(d);
    let f = fisher_geometry::closed_form(&model).unwrap();
    assert_eq!(f.matrix.len(), 2 * d);
    // every statistic x_i and x_i² needs its moment
    assert_eq!(f.moments.len(), 2 * d);
    let at = point(d);
    let env = env(&at);
    let want = textbook(d, &at);
    for (j, row) in f.matrix.iter().enumerate() {
        for (l, e) in row.iter().enumerate() {
            if j == l {
                let got = eval_f64(e, &env).unwrap();
                let w = want[j][l];
                assert!(
                    (got - w).abs() <= 1e-14 * w,
                    "F[{j}][{l}] = {e} = {got}, want {w}"
                );
            } else {
                // not small: exactly zero, as an expression
                assert_eq!(e.as_num(), Some(0.0), "F[{j}][{l}] = {e}");
            }
        }
    }
    // and symbolically, as printed
    assert_eq!(f.matrix[0][0].to_string(), "1/s1^2");
    assert_eq!(f.matrix[2 * d - 1][2 * d - 1].to_string(), "2/s64^2");
}

#[test]
fn diagonal_normal_64_derivatives_are_block_diagonal() {
    let d = 64;
    let model = diag_normal(d);
    let der = simplify::derive(&model);
    assert!(der.fallbacks.is_empty(), "{:?}", der.fallbacks);
    for i in 0..d {
        let n = i + 1;
        assert_eq!(der.score[i].to_string(), format!("(x{n} - mu{n})/s{n}^2"));
        assert_eq!(
            der.score[d + i].to_string(),
            format!("(x{n} - mu{n})^2/s{n}^3 - 1/s{n}")
        );
        assert_eq!(der.hessian[i][i].to_string(), format!("-1/s{n}^2"));
        assert_eq!(
            der.hessian[i][d + i].to_string(),
            format!("-2*(x{n} - mu{n})/s{n}^3")
        );
        assert_eq!(
            der.hessian[d + i][d + i].to_string(),
            format!("1/s{n}^2 - 3*(x{n} - mu{n})^2/s{n}^4")
        );
    }
    for j in 0..2 * d {
        for l in 0..2 * d {
            let same_block = j % d == l % d;
            if !same_block {
                assert_eq!(der.hessian[j][l].as_num(), Some(0.0), "H[{j}][{l}]");
            }
        }
    }
    // the log-density keeps its 64 blocks apart: no merged logarithms
    let logp = der.logp.to_string();
    assert!(logp.starts_with("-ln(s1) - ln(s10) - "), "{logp}");
    assert!(logp.contains(" - 32*ln(2*pi) - "), "{logp}");
    assert!(!logp.contains("ln(s1*"), "{logp}");
}

#[test]
fn diagonal_normal_closed_form_matches_the_numeric_route() {
    // eight blocks, split one block at a time; sixteen parameters over eight data variables
    let d = 8;
    let model = diag_normal(d);
    let f = fisher_geometry::closed_form(&model).unwrap();
    let at = point(d);
    let env = env(&at);
    // the numeric route alone, unverified: the three forms by quadrature
    let options = fisher_geometry::FieldOptions {
        verify: false,
        numeric_only: true,
        ..Default::default()
    };
    let field = fisher_geometry::FisherField::with_options(&model, options).unwrap();
    let named: Vec<(&str, f64)> = at.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let theta = fisher_geometry::Point::new(&model, &named)
        .unwrap()
        .values();
    let numeric = field.forms(&theta, &Quadrature::default()).unwrap();
    let want = textbook(d, &at);
    for j in 0..2 * d {
        for l in 0..2 * d {
            let closed = eval_f64(&f.matrix[j][l], &env).unwrap();
            let scale = (want[j][j] * want[l][l]).sqrt();
            for (form, m) in [
                ("E[s s^T]", &numeric.forms.outer_product),
                ("E[-H]", &numeric.forms.negative_hessian),
            ] {
                let miss = (closed - m[(j, l)]).abs();
                assert!(
                    miss <= 1e-8 * scale,
                    "{form}[{j}][{l}]: closed {closed:e}, numeric {:e}",
                    m[(j, l)]
                );
            }
        }
    }
    assert_eq!(f.matrix[d][d].to_string(), "2/s1^2");
}

/// Verification is bounded: over 32 data variables, `E[s sᵀ]` has 2,144 integrands, past the
/// budget (`verify::VERIFY_MAX_WORK`; verifying it took 48 s and 885 MB). The closed form is
/// then reported as not verified, with the reason, and the derivation is not refused as a
/// model that cannot be normalized; at d = 4 it is verified.
#[test]
fn verification_stays_within_its_budget() {
    use fisher_geometry::{FisherField, Verification, verify};
    let big = diag_normal(32);
    assert!(verify::too_large_to_verify(&big).is_some());
    let derivation = fisher_geometry::derivation(&big).unwrap();
    assert!(derivation.closed().is_some());
    match derivation.verification.as_ref().unwrap() {
        Verification::Unchecked { budget, reason, .. } => {
            assert!(*budget);
            assert!(reason.contains("verification budget"), "{reason}");
        }
        v => panic!("expected unchecked, got {v:?}"),
    }
    let field = FisherField::new(&big).unwrap();
    assert!(
        field
            .verification()
            .is_some_and(|v| !v.passed() && v.usable())
    );
    let small = diag_normal(4);
    assert!(verify::too_large_to_verify(&small).is_none());
    assert!(
        fisher_geometry::derivation(&small)
            .unwrap()
            .verification
            .unwrap()
            .passed()
    );
}
