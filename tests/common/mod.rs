//! Shared test helpers: the snapshot settings and the proptest strategies.
#![allow(dead_code)] // each test binary uses a subset

use proptest::prelude::*;

/// Runs `f` with snapshots stored flat in the top-level `snapshots/` folder.
pub fn with_snapshot_settings(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(f);
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
    use fisher_geometry::Expr;
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
