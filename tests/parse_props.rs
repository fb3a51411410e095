//! Properties of the parser: no input panics, nesting is bounded, long chains are loops,
//! and printing then re-parsing keeps the value.

mod common;

use fisher_geometry::expr::Op;

use fisher_geometry::ModelErrorKind;
use fisher_geometry::ParseErrorKind;
use fisher_geometry::{Env, eval_f64};
use fisher_geometry::{Expr, Model};
use proptest::prelude::*;

const HEADER: &str = "data x : real\nparam y : real\n";

fn too_deep(source: &str) -> bool {
    matches!(
        Model::parse(source, "deep"),
        Err(e) if e.kind == ModelErrorKind::Parse(ParseErrorKind::TooDeep)
    )
}

#[test]
fn deep_parentheses_are_an_error_not_an_overflow() {
    let n = 10_000;
    let src = format!("{HEADER}logp = {}x + y{}\n", "(".repeat(n), ")".repeat(n));
    assert!(too_deep(&src));
}

#[test]
fn deep_unary_minus_powers_and_calls_are_errors() {
    let n = 10_000;
    assert!(too_deep(&format!(
        "{HEADER}logp = {}x + y\n",
        "-".repeat(n)
    )));
    assert!(too_deep(&format!(
        "{HEADER}logp = x + y{}\n",
        "^x".repeat(n)
    )));
    let calls = format!(
        "{HEADER}logp = {}x + y{}\n",
        "exp(".repeat(n),
        ")".repeat(n)
    );
    assert!(too_deep(&calls));
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let n = 150;
    let src = format!("{HEADER}logp = {}x + y{}\n", "(".repeat(n), ")".repeat(n));
    assert!(Model::parse(&src, "m").is_ok());
}

#[test]
fn long_sum_parses() {
    let terms: Vec<String> = (0..10_000).map(|i| format!("{i}*x")).collect();
    let src = format!("{HEADER}logp = y + {}\n", terms.join(" + "));
    let m = Model::parse(&src, "sum").unwrap();
    assert!(m.logp.dag_size() > 10_000);
}

#[test]
fn macro_equals_file_form() {
    let file = Model::builtin("normal").unwrap();
    let m = fisher_geometry::model! {
        model normal;
        data x: real;
        param mu: real;
        param sigma: positive;
        logp = -0.5 * ((x - mu) / sigma).pow(2) - ln(sigma) - 0.5 * ln(2.0 * pi);
    }
    .unwrap();
    assert_eq!(m.name, file.name);
    assert_eq!(m.params, file.params);
    assert_eq!(m.data, file.data);
    for (x, mu, sigma) in [(0.3, -1.0, 2.0), (1.5, 0.2, 0.7), (-4.0, 3.0, 1.1)] {
        let env = Env::new().with("x", x).with("mu", mu).with("sigma", sigma);
        let a = eval_f64(&m.logp, &env).unwrap();
        let b = eval_f64(&file.logp, &env).unwrap();
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn macro_with_consts_lets_and_int_support() {
    let m = fisher_geometry::model! {
        const n = 10;
        data k: int[0, n];
        data t: int[-1, 3];
        param p: unit;
        let q = 1 - p;
        logp = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * ln(p) + (n - k) * ln(q) + t * ln(p);
    }
    .unwrap();
    assert_eq!(m.const_value("n".into()), Some(10.0));
    assert_eq!(m.data[0].support, fisher_geometry::Support::Int(0, 10));
    assert_eq!(m.data[1].support, fisher_geometry::Support::Int(-1, 3));
    assert_eq!(m.lets.len(), 1);
    assert!(!m.logp.contains("q".into()));
}

#[test]
fn macro_interval_domain_equals_file_form() {
    let file = Model::builtin("bivariate_normal").unwrap();
    let m = fisher_geometry::model! {
        param rho: interval(-1, 1);
        param half: interval(0.5, 2.5);
        data x: real;
        logp = rho * x - half;
    }
    .unwrap();
    assert_eq!(m.params[0].domain, file.params[4].domain);
    assert_eq!(m.params[0].domain.to_string(), "interval(-1, 1)");
    assert!(m.params[1].domain.contains(0.6) && !m.params[1].domain.contains(2.5));
    let empty = fisher_geometry::model! {
        param rho: interval(1, -1);
        data x: real;
        logp = rho * x;
    };
    assert_eq!(
        empty.unwrap_err().to_string(),
        "invalid domain `interval(1, -1)` of `rho`: the bounds must be finite with the lower below the upper"
    );
}

#[test]
fn macro_runs_the_same_checks() {
    let unused = fisher_geometry::model! {
        data x: real;
        param mu: real;
        param tau: positive;
        logp = -(x - mu).pow(2);
    };
    assert_eq!(
        unused.unwrap_err().kind,
        ModelErrorKind::UnusedParam("tau".into())
    );
    let in_const = fisher_geometry::model! {
        data x: real;
        param mu: real;
        const c = 2 * x;
        logp = c * (x - mu);
    };
    assert!(matches!(
        in_const.unwrap_err().kind,
        ModelErrorKind::NotConstant { .. }
    ));
}

#[test]
fn suggestion_and_line_col() {
    let src = "data x : real\nparam sigma : positive\nlogp = x/sigam\n";
    let e = Model::parse(src, "m").unwrap_err();
    assert_eq!(e.to_string(), "unknown name `sigam`; did you mean `sigma`?");
    assert_eq!(e.line_col(src), (3, 10));
    assert_eq!(&src[e.span.clone()], "sigam");
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if a.is_nan() && b.is_nan() => true,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        (a, b) => a == b,
    }
}

fn logp_of(expr: &str) -> Option<Expr> {
    Model::parse(&format!("{HEADER}logp = x*y + {expr}\n"), "m")
        .ok()
        .map(|m| m.logp)
}

/// Whether `expr` has a subexpression of numbers alone that is not finite, which the model
/// loader rejects (`0/0`, `ln(0)`).
fn has_non_finite_constant(expr: &str) -> bool {
    matches!(
        Model::parse(&format!("{HEADER}logp = x*y + {expr}\n"), "m"),
        Err(e) if matches!(e.kind, fisher_geometry::ModelErrorKind::NotFinite { .. })
    )
}

proptest! {
    #![proptest_config(common::proptest_config(512))]

    /// `interval(LO, HI)` with any finite bounds, as printed: parses to exactly those bounds,
    /// and the model prints back to the same text; an empty interval is an error at the
    /// bounds.
    #[test]
    fn interval_domains_round_trip(a in -1e6f64..1e6, b in -1e6f64..1e6) {
        let (lo, hi) = (fisher_geometry::number(a.min(b)), fisher_geometry::number(a.max(b)));
        let src = format!("data x : real\nparam r : interval({lo}, {hi})\nlogp = r*x\n");
        match Model::parse(&src, "m") {
            Ok(m) => {
                prop_assert!(a != b);
                prop_assert_eq!(m.params[0].domain.bounds(), (a.min(b), a.max(b)));
                let printed = m.to_string();
                prop_assert!(printed.contains(&format!("param r : interval({lo}, {hi})")), "{}", printed);
                let again = Model::parse(&printed, "m").unwrap();
                prop_assert_eq!(again.params[0].domain, m.params[0].domain);
            }
            Err(e) => {
                prop_assert_eq!(a, b);
                prop_assert_eq!(&src[e.span.clone()], format!("{lo}, {hi}"));
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(src in common::arb_bytes_source()) {
        let _ = Model::parse(&src, "fuzz");
    }

    #[test]
    fn random_tokens_never_panic(src in common::arb_token_source()) {
        if let Err(e) = Model::parse(&src, "fuzz") {
            // Spans are on char boundaries and inside the source.
            // (the command line's code frames render any span: src/cli/diagnostic.rs)
            prop_assert!(src.get(e.span.clone()).is_some(), "{e:?}");
        }
    }

    #[test]
    fn print_then_parse_keeps_the_value(expr in common::arb_expr()) {
        prop_assume!(!has_non_finite_constant(&expr));
        let first = logp_of(&expr).expect("generated expressions are valid");
        let printed = fisher_geometry::text(&first).to_string();
        let again = Model::parse(&format!("{HEADER}logp = {printed}\n"), "m")
            .map_err(|e| format!("{printed}: {e}"))
            .unwrap()
            .logp;
        for (x, y) in [(0.7, 1.3), (-2.1, 0.4)] {
            let env = Env::new().with("x", x).with("y", y);
            let (a, b) = (eval_f64(&first, &env).ok(), eval_f64(&again, &env).ok());
            prop_assert!(close(a, b), "{expr} printed as {printed}: {a:?} vs {b:?}");
        }
    }
}

#[test]
fn non_finite_constants_print_so_that_they_parse_back() {
    // A product view folds `pi/0` into an infinite coefficient; it must still print as valid
    // syntax, which the model loader then rejects where it is written (issue 10: a non-finite
    // term is never simplified away).
    let (pi, zero) = (Expr::pi(), Expr::num(0.0));
    let div = |a: &Expr, b: &Expr| Expr::apply(|ids| Op::Div([ids[0], ids[1]]), &[a, b]);
    for expr in [-div(&pi, &zero), Expr::num(f64::NAN)] {
        let e = &(&Expr::sym("x") * &Expr::sym("y")) + &expr;
        let printed = fisher_geometry::text(&fisher_geometry::simplify::canonicalize(
            &e,
            &fisher_geometry::simplify::Facts::none(),
        ))
        .to_string();
        let src = format!("{HEADER}logp = {printed}\n");
        // valid syntax: the model loader rejects it at the value, not as a syntax error
        let err = Model::parse(&src, "m").unwrap_err();
        assert!(
            matches!(err.kind, fisher_geometry::ModelErrorKind::NotFinite { .. }),
            "{printed}: {err}"
        );
    }
}
