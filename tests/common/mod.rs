//! Shared test helpers: the snapshot settings and the proptest strategies.
#![allow(dead_code)] // each test binary uses a subset

use fisher_geometry::Expr;
use fisher_geometry::eval::{Env, eval_f64};
use fisher_geometry::expr::{
    abs, cos, digamma, exp, lgamma, ln, log1p, polygamma, sigmoid, sin, sqrt, trigamma,
};
use proptest::prelude::*;

pub mod published;

/// Runs `f` with snapshots stored flat in the top-level `snapshots/` folder.
pub fn with_snapshot_settings(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(f);
}

/// The seed of every property test in CI: fixed, so a run never draws a fresh one and CI
/// cannot fail at random (issue 10). `PROPTEST_RNG_SEED=N` picks another seed and
/// `PROPTEST_CASES=N` another case count for longer local runs.
pub const PROPTEST_SEED: u64 = 0x0F15_4E12_0000_0010;

/// A proptest configuration with `cases` cases and the fixed [`PROPTEST_SEED`], unless the
/// environment asks for another seed or case count.
pub fn proptest_config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default(); // reads the PROPTEST_* variables
    if matches!(c.rng_seed, proptest::test_runner::RngSeed::Random) {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(PROPTEST_SEED);
    }
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

/// Longest random byte string fed to the parser.
pub const MAX_BYTES: usize = 300;
/// Longest random token sequence.
pub const MAX_TOKENS: usize = 60;
/// Depth of random expression trees.
pub const EXPR_DEPTH: u32 = 5;

/// Arbitrary bytes, lossily decoded as UTF-8.
pub fn arb_bytes_source() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..MAX_BYTES)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The tokens of the model language, some names and numbers, and a few broken pieces.
const VOCABULARY: &[&str] = &[
    "model",
    "const",
    "data",
    "param",
    "let",
    "logp",
    "real",
    "positive",
    "unit",
    "binary",
    "count",
    "int",
    "[",
    "]",
    ",",
    ":",
    "=",
    "+",
    "-",
    "*",
    "/",
    "^",
    "(",
    ")",
    "\n",
    "\n",
    "# c\n",
    "x",
    "mu",
    "sigma",
    "n",
    "pi",
    "e",
    "ln",
    "lgamma",
    "polygamma",
    "exp",
    "0",
    "1",
    "2.5",
    "1e-3",
    "1e",
    "1.2.3",
    ".5",
    "3x",
    "-7",
    "σ",
    "$",
    " ",
];

/// Sequences of tokens from the language's vocabulary joined by spaces.
pub fn arb_token_source() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..MAX_TOKENS)
        .prop_map(|t| t.join(" "))
}

/// Well-formed expressions over `x` and `y` as source text, fully parenthesized.
pub fn arb_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("y".to_string()),
        Just("pi".to_string()),
        Just("e".to_string()),
        (0u32..20).prop_map(|n| n.to_string()),
        (1u32..1000).prop_map(|n| format!("{}", f64::from(n) / 8.0)),
    ];
    leaf.prop_recursive(EXPR_DEPTH, 64, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(&["+", "-", "*", "/", "^"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} - {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}*{b}^-{a}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (
                proptest::sample::select(
                    &[
                        "exp", "ln", "sqrt", "sin", "cos", "abs", "sigmoid", "lgamma"
                    ][..]
                ),
                inner
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
        ]
    })
}

/// Depth of random expression trees built as `Expr` values.
pub const TREE_DEPTH: u32 = 4;

/// Random expression trees over `a` (real) and `b` (positive), built with the library's
/// operator overloading and function builders. Functions with restricted domains get
/// arguments that are usually inside them; points outside are skipped by the tests.
pub fn arb_tree() -> impl Strategy<Value = fisher_geometry::Expr> {
    use fisher_geometry::expr as f;
    let leaf = prop_oneof![
        Just(Expr::sym("a")),
        Just(Expr::sym("b")),
        Just(Expr::pi()),
        (1u32..6).prop_map(|n| Expr::num(f64::from(n))),
        (1u32..16).prop_map(|n| Expr::num(f64::from(n) / 4.0)),
    ];
    leaf.prop_recursive(TREE_DEPTH, 48, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x + y),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x - y),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x * y),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x / y),
            (inner.clone(), -3i32..4).prop_map(|(x, k)| x.pow(k)),
            inner.clone().prop_map(|x| -x),
            inner.clone().prop_map(|x| f::exp(x / 4)),
            inner.clone().prop_map(|x| f::ln(x.pow(2) + 1)),
            inner
                .clone()
                .prop_map(|x| f::sqrt(x.pow(2) + Expr::sym("b"))),
            inner.clone().prop_map(|x| f::lgamma(x.pow(2) + 0.5)),
            inner.clone().prop_map(|x| f::digamma(x.pow(2) + 1)),
            inner.clone().prop_map(|x| f::trigamma(f::exp(x / 4))),
            inner.clone().prop_map(f::sigmoid),
            inner.clone().prop_map(f::sin),
            inner.clone().prop_map(f::cos),
            inner.clone().prop_map(|x| f::log1p(f::exp(x / 4))),
            (inner.clone(), inner).prop_map(|(x, y)| f::exp(f::ln(Expr::sym("b")) * y) * x),
        ]
    })
}

/// A point inside the domains of `arb_tree`'s names: `a` real, `b` positive.
pub fn point_in_domains() -> impl Strategy<Value = (f64, f64)> {
    (-2.0f64..2.0, 0.2f64..3.0)
}

// Strategies over `x`, `y`, `z` for the evaluation tests.

/// The variable names of generated expressions.
pub const VARS: [&str; 3] = ["x", "y", "z"];

/// Maximum depth of a generated tree.
pub const MAX_DEPTH: u32 = 6;

/// Target number of nodes of a generated tree.
pub const DESIRED_SIZE: u32 = 40;

/// Largest integer exponent `k` in generated powers `e ^ k` (and `−k`).
pub const MAX_INT_EXPONENT: i32 = 3;

/// Largest `|c|` of generated numeric literals, which are multiples of ½.
pub const MAX_LITERAL: f64 = 4.0;

/// Largest order `n` of generated `polygamma(n, e)`.
pub const MAX_POLYGAMMA_ORDER: u32 = 3;

/// A leaf: one of [`VARS`], a literal multiple of ½ in `[−MAX_LITERAL, MAX_LITERAL]`, or `pi`.
pub fn arb_leaf() -> impl Strategy<Value = Expr> {
    let halves = (2.0 * MAX_LITERAL) as i32;
    prop_oneof![
        4 => prop::sample::select(VARS.to_vec()).prop_map(Expr::sym),
        2 => (-halves..=halves).prop_map(|n| Expr::num(f64::from(n) / 2.0)),
        1 => Just(Expr::pi()),
    ]
}

/// A random expression tree over [`VARS`] using every operator of the language: arithmetic,
/// powers with constant integer exponents and with expression exponents, `exp`, `ln`,
/// `log1p`, `sqrt`, `sin`, `cos`, `sigmoid`, `abs`, `lgamma`, `digamma`, `trigamma` and
/// `polygamma(n, ·)` with `n ≤ MAX_POLYGAMMA_ORDER`. Values may be NaN or infinite at a given
/// point: callers `prop_assume!` finiteness.
pub fn arb_expr_tree() -> impl Strategy<Value = Expr> {
    arb_leaf().prop_recursive(MAX_DEPTH, DESIRED_SIZE, 2, |inner| {
        let pair = (inner.clone(), inner.clone());
        prop_oneof![
            3 => pair.clone().prop_map(|(a, b)| a + b),
            2 => pair.clone().prop_map(|(a, b)| a - b),
            3 => pair.clone().prop_map(|(a, b)| a * b),
            2 => pair.clone().prop_map(|(a, b)| a / b),
            2 => (inner.clone(), -MAX_INT_EXPONENT..=MAX_INT_EXPONENT)
                .prop_map(|(a, k)| a.pow(k)),
            1 => pair.prop_map(|(a, b)| a.pow(b)),
            1 => inner.clone().prop_map(|a| -a),
            1 => inner.clone().prop_map(exp),
            1 => inner.clone().prop_map(ln),
            1 => inner.clone().prop_map(log1p),
            1 => inner.clone().prop_map(sqrt),
            1 => inner.clone().prop_map(sin),
            1 => inner.clone().prop_map(cos),
            1 => inner.clone().prop_map(sigmoid),
            1 => inner.clone().prop_map(abs),
            1 => inner.clone().prop_map(lgamma),
            1 => inner.clone().prop_map(digamma),
            1 => inner.clone().prop_map(trigamma),
            1 => (0..=MAX_POLYGAMMA_ORDER, inner).prop_map(|(n, a)| polygamma(n, a)),
        ]
    })
}

/// A point `(x, y, z)` with coordinates in `lo..hi`.
pub fn arb_point(lo: f64, hi: f64) -> impl Strategy<Value = [f64; 3]> {
    [lo..hi, lo..hi, lo..hi]
}

/// The environment binding [`VARS`] to `point`.
pub fn env_at(point: [f64; 3]) -> Env<f64> {
    VARS.iter().copied().zip(point).collect()
}

/// The value of `expr` at `point` if it evaluates and is finite.
pub fn eval_finite(expr: &Expr, point: [f64; 3]) -> Option<f64> {
    eval_f64(expr, &env_at(point))
        .ok()
        .filter(|v| v.is_finite())
}

/// Largest `|value|` of a subexpression accepted by [`all_tame`].
pub const MAX_INTERMEDIATE: f64 = 1e6;

/// Whether every subexpression of `expr` (not only its value) is finite and at most
/// [`MAX_INTERMEDIATE`] in magnitude at `point`: the precondition for comparing derivatives.
/// An infinite intermediate that the expression absorbs (`x^ln(0)`, `trigamma(lgamma(-1))`)
/// has no meaningful derivative, and a huge one (`x·y/(sin(pi)·y)`, with `sin(pi) ≈ 1e-16`)
/// makes the rounding of exact derivatives exceed any fixed tolerance.
pub fn all_tame(expr: &Expr, point: [f64; 3]) -> bool {
    (0..expr.nodes().len()).all(|i| {
        eval_finite(&expr.subexpr(egg::Id::from(i)), point)
            .is_some_and(|v| v.abs() <= MAX_INTERMEDIATE)
    })
}

/// A central difference `(f(t + h) − f(t − h))/2h` of `f` at `t`, and whether it is
/// trustworthy: the estimates with steps `h` and `h/2` agree to `1e−6` relative (they do not
/// near a singularity or a kink) and the rounding error `ε·|f|/h` is small (it is not when a
/// large term swamps the variation, `y + digamma(1e-16)`). `None` when not trustworthy.
pub fn central_difference(f: impl Fn(f64) -> Option<f64>, t: f64) -> Option<f64> {
    let h = 1e-4 * t.abs().max(1.0);
    let d = |h: f64| Some((f(t + h)? - f(t - h)?) / (2.0 * h));
    let (d1, d2) = (d(h)?, d(h / 2.0)?);
    // rounding error of the difference quotient: ε·|f|/h
    let scale = [t - h, t, t + h]
        .into_iter()
        .filter_map(&f)
        .fold(0.0, |m: f64, v| m.max(v.abs()));
    let rounding = f64::EPSILON * scale / h;
    let fine = d1.is_finite()
        && d2.is_finite()
        && (d1 - d2).abs() <= 1e-6 * (1.0 + d2.abs())
        && rounding <= 1e-7 * (1.0 + d2.abs());
    // Richardson extrapolation: the O(h²) error terms cancel
    fine.then_some((4.0 * d2 - d1) / 3.0)
}
