//! Shared test helpers: the snapshot settings and the proptest strategies.
#![allow(dead_code)] // each test binary uses a subset

use fisher_geometry::Expr;
use fisher_geometry::expr::{
    abs, cos, digamma, exp, lgamma, ln, log1p, polygamma, sigmoid, sin, sqrt, trigamma,
};
use fisher_geometry::{Env, eval_f64};
use proptest::prelude::*;

pub mod diag_normal;
pub mod published;

/// Runs the built `fisher` binary with `args` (the first is the program name, as in `argv`,
/// and is skipped), colour off; returns (exit code, stdout, stderr).
pub fn run_args<I, T>(args: I) -> (i32, String, String)
where
    I: IntoIterator<Item = T>,
    T: AsRef<std::ffi::OsStr>,
{
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fisher"))
        .args(args.into_iter().skip(1))
        .env("NO_COLOR", "1")
        .output()
        .expect("the `fisher` binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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

// Random models from family templates, for the differential test of the closed forms.

/// What a template's slot must hold for every θ in the declared domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Any real value.
    Real,
    /// A positive value.
    Positive,
    /// A value in (0, 1).
    Unit,
}

/// A family whose natural parameters are slots that the generator fills with random
/// expressions of the model parameters `a` (real), `b` (positive) and `c` (real).
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// The family, for messages.
    pub name: &'static str,
    /// `const` and `data` lines.
    pub head: &'static str,
    /// The `let` names of the slots, with what each must hold.
    pub slots: &'static [(&'static str, Slot)],
    /// The log-density in the slot names and the data.
    pub logp: &'static str,
    /// Whether the coefficients may be tiny or huge (1e-7 … 1e6): only where the numeric
    /// route copes with the resulting scales (normal, exponential, lognormal).
    pub wide: bool,
}

/// The templates of [`arb_template`].
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "normal (location, sd)",
        head: "data x : real",
        slots: &[("loc", Slot::Real), ("sd", Slot::Positive)],
        logp: "-0.5*((x - loc)/sd)^2 - ln(sd) - 0.5*ln(2*pi)",
        wide: true,
    },
    Template {
        name: "normal (location, variance)",
        head: "data x : real",
        slots: &[("loc", Slot::Real), ("var", Slot::Positive)],
        logp: "-(x - loc)^2/(2*var) - ln(var)/2 - ln(2*pi)/2",
        wide: true,
    },
    Template {
        name: "normal (location, sd 2)",
        head: "data x : real",
        slots: &[("loc", Slot::Real)],
        logp: "-(x - loc)^2/8 - ln(2) - ln(2*pi)/2",
        wide: true,
    },
    Template {
        name: "lognormal",
        head: "data x : positive",
        slots: &[("loc", Slot::Real), ("sd", Slot::Positive)],
        logp: "-ln(x) - ln(sd) - ln(2*pi)/2 - (ln(x) - loc)^2/(2*sd^2)",
        wide: false,
    },
    Template {
        name: "gamma (shape, rate)",
        head: "data x : positive",
        slots: &[("shape", Slot::Positive), ("rate", Slot::Positive)],
        logp: "shape*ln(rate) - lgamma(shape) + (shape - 1)*ln(x) - rate*x",
        wide: false,
    },
    Template {
        name: "gamma (shape, scale)",
        head: "data x : positive",
        slots: &[("shape", Slot::Positive), ("scale", Slot::Positive)],
        logp: "-shape*ln(scale) - lgamma(shape) + (shape - 1)*ln(x) - x/scale",
        wide: false,
    },
    Template {
        name: "exponential",
        head: "data x : positive",
        slots: &[("rate", Slot::Positive)],
        logp: "ln(rate) - rate*x",
        wide: true,
    },
    Template {
        name: "poisson",
        head: "data x : count",
        slots: &[("lam", Slot::Positive)],
        logp: "x*ln(lam) - lam - lgamma(x + 1)",
        wide: false,
    },
    Template {
        name: "beta",
        head: "data x : unit",
        slots: &[("pa", Slot::Positive), ("pb", Slot::Positive)],
        logp: "lgamma(pa + pb) - lgamma(pa) - lgamma(pb) + (pa - 1)*ln(x) + (pb - 1)*ln(1 - x)",
        wide: false,
    },
    Template {
        name: "binomial (n = 7)",
        head: "const n = 7\ndata x : int[0, n]",
        slots: &[("prob", Slot::Unit)],
        logp: "lgamma(n + 1) - lgamma(x + 1) - lgamma(n - x + 1) + x*ln(prob) + (n - x)*ln(1 - prob)",
        wide: false,
    },
    Template {
        name: "bernoulli",
        head: "data x : binary",
        slots: &[("prob", Slot::Unit)],
        logp: "x*ln(prob) + (1 - x)*ln(1 - prob)",
        wide: false,
    },
    Template {
        name: "negative binomial (r = 3)",
        head: "const r = 3\ndata x : count",
        slots: &[("prob", Slot::Unit)],
        logp: "lgamma(x + r) - lgamma(r) - lgamma(x + 1) + r*ln(1 - prob) + x*ln(prob)",
        wide: false,
    },
    Template {
        name: "inverse gaussian",
        head: "data x : positive",
        slots: &[("mean", Slot::Positive), ("shape", Slot::Positive)],
        logp: "ln(shape/(2*pi*x^3))/2 - shape*(x - mean)^2/(2*mean^2*x)",
        wide: false,
    },
    Template {
        name: "normal (location, sd) in two data",
        head: "data x1, x2 : real",
        slots: &[("loc", Slot::Real), ("sd", Slot::Positive)],
        logp: "-((x1 - loc)^2 + (x2 - loc)^2)/(2*sd^2) - 2*ln(sd) - ln(2*pi)",
        wide: false,
    },
    Template {
        name: "categorical on {0, 1, 2, 3} by Lagrange indicator polynomials",
        head: "data x : int[0, 3]",
        slots: &[("t1", Slot::Real), ("t2", Slot::Real), ("t3", Slot::Real)],
        logp: "t1*x*(x - 2)*(x - 3)/2 - t2*x*(x - 1)*(x - 3)/2 + t3*x*(x - 1)*(x - 2)/6 - ln(1 + exp(t1) + exp(t2) + exp(t3))",
        wide: false,
    },
    Template {
        name: "categorical on {0, 1, 2, 3} by Lagrange polynomials, probabilities",
        head: "data x : int[0, 3]",
        slots: &[("q1", Slot::Unit), ("q2", Slot::Unit)],
        logp: "-(x - 1)*(x - 2)*(x - 3)/6*ln((1 - q1)*(1 - q2)/2) + x*(x - 2)*(x - 3)/2*ln(q1*(1 - q2)/2) - x*(x - 1)*(x - 3)/2*ln((1 - q1)*q2/2) + x*(x - 1)*(x - 2)/6*ln(q1*q2/2)",
        wide: false,
    },
];

/// One of [`TEMPLATES`].
pub fn arb_template() -> impl Strategy<Value = Template> {
    prop::sample::select(TEMPLATES)
}

/// A numeric coefficient as model text, positive: small integers, fractions, decimals, and
/// with `wide` tiny and huge magnitudes (`1e-7` … `1e6`).
pub fn arb_coef(wide: bool) -> impl Strategy<Value = String> {
    let int = (1u32..=9).prop_map(|n| n.to_string());
    let fraction = (1u32..=9, 2u32..=9).prop_map(|(p, q)| format!("{p}/{q}"));
    let decimal =
        prop::sample::select(&["0.5", "0.25", "1.5", "2.5", "0.1"][..]).prop_map(String::from);
    let extreme = prop::sample::select(&["1e-7", "3e-5", "2e-3", "1e3", "2.5e4", "1e6"][..])
        .prop_map(String::from);
    if wide {
        prop_oneof![4 => int, 2 => fraction, 1 => decimal, 2 => extreme].boxed()
    } else {
        prop_oneof![4 => int, 2 => fraction, 1 => decimal].boxed()
    }
}

/// A coefficient with a random sign, parenthesized when negative.
fn arb_signed_coef(wide: bool) -> impl Strategy<Value = String> {
    (arb_coef(wide), any::<bool>()).prop_map(|(c, neg)| if neg { format!("(-{c})") } else { c })
}

/// The names of the derived parameters for `n` model parameters: `a` real, `b` positive,
/// `c` real.
pub fn theta_names(n: usize) -> &'static [&'static str] {
    &["a", "b", "c"][..n]
}

/// A bounded linear argument of `exp`: `a/3`, `-b/2`, `(a - b)/4`.
fn arb_exp_arg(vars: &'static [&'static str]) -> impl Strategy<Value = String> {
    let v = prop::sample::select(vars);
    (v.clone(), v, 1u32..=4, 0u32..3).prop_map(|(x, y, m, form)| match form {
        0 => format!("{x}/{m}"),
        1 => format!("-{x}/{m}"),
        _ => format!("({x} - {y})/{m}"),
    })
}

/// Depth of the random expressions in one or two parameters.
pub const THETA_DEPTH: u32 = 2;

/// Depth of the random expressions in three parameters (the categorical's three logits),
/// kept shallow so that the symbolic elimination of three moments stays quick.
pub const THETA_DEPTH_3: u32 = 1;

fn theta_depth(vars: &[&str]) -> u32 {
    if vars.len() >= 3 {
        THETA_DEPTH_3
    } else {
        THETA_DEPTH
    }
}

/// A random real-valued expression in the parameters named by `vars` (see [`theta_names`]):
/// terms `c·a^k`, `c·exp(b/m)`, `c/(1 + a²)`, `ln b`, sums, differences, products and
/// multiples of them.
pub fn arb_real_expr(vars: &'static [&'static str], wide: bool) -> impl Strategy<Value = String> {
    let depth = theta_depth(vars);
    let v = prop::sample::select(vars);
    let leaf = prop_oneof![
        3 => v.clone().prop_map(String::from),
        3 => (arb_signed_coef(wide), v.clone(), 1u32..=4)
            .prop_map(|(c, x, k)| if k == 1 { format!("{c}*{x}") } else { format!("{c}*{x}^{k}") }),
        2 => (arb_signed_coef(wide), arb_exp_arg(vars)).prop_map(|(c, e)| format!("{c}*exp({e})")),
        1 => (arb_signed_coef(wide), v).prop_map(|(c, x)| format!("{c}/(1 + {x}^2)")),
        1 => arb_signed_coef(wide),
        1 => Just(if vars.contains(&"b") { "ln(b)" } else { "a" }.to_string()),
    ];
    leaf.prop_recursive(depth, 8, 2, move |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("{x} + {y}")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("{x} - ({y})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("({x})*({y})")),
            (arb_signed_coef(wide), inner).prop_map(|(c, x)| format!("{c}*({x})")),
        ]
    })
}

/// A random expression in the parameters named by `vars` that is positive for every θ in
/// the domains: `b^k`, `exp(·)`, squares plus a positive constant, `1/(1 + a²)`, sums,
/// products and positive multiples of them.
pub fn arb_positive_expr(
    vars: &'static [&'static str],
    wide: bool,
) -> impl Strategy<Value = String> {
    let has_b = vars.contains(&"b");
    let depth = theta_depth(vars);
    let leaf = prop_oneof![
        2 => (arb_coef(wide), -3i32..=3).prop_map(move |(c, k)| match (has_b, k) {
            (false, _) | (_, 0) => c,
            (true, 1) => format!("{c}*b"),
            (true, _) => format!("{c}*b^{k}"),
        }),
        3 => (arb_coef(wide), arb_exp_arg(vars)).prop_map(|(c, e)| format!("{c}*exp({e})")),
        2 => (arb_real_expr(vars, false), arb_coef(wide))
            .prop_map(|(r, c)| format!("({r})^2 + {c}")),
        1 => (arb_coef(wide), prop::sample::select(vars))
            .prop_map(|(c, x)| format!("{c}/(1 + {x}^2)")),
    ];
    leaf.prop_recursive(depth, 6, 2, move |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("{x} + {y}")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("({x})*({y})")),
            (arb_coef(wide), inner).prop_map(|(c, x)| format!("{c}*({x})")),
        ]
    })
}

/// A random expression in `vars` with values in (0, 1) for every θ.
pub fn arb_unit_expr(vars: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        arb_real_expr(vars, false).prop_map(|r| format!("sigmoid({r})")),
        arb_positive_expr(vars, false).prop_map(|p| format!("1/(1 + {p})")),
        arb_positive_expr(vars, false).prop_map(|p| format!("exp(-({p}))")),
        arb_positive_expr(vars, false).prop_map(|p| format!("({p})/(1 + {p})")),
    ]
}

/// A random expression for one slot.
pub fn arb_slot(slot: Slot, vars: &'static [&'static str], wide: bool) -> BoxedStrategy<String> {
    match slot {
        Slot::Real => arb_real_expr(vars, wide).boxed(),
        Slot::Positive => arb_positive_expr(vars, wide).boxed(),
        Slot::Unit => arb_unit_expr(vars).boxed(),
    }
}

/// An invertible map from a declared parameter onto a derived one: `(declared domain, the
/// derived parameter in terms of the declared one, written with {})`. `positive` asks for
/// maps onto (0, ∞), else onto ℝ.
pub fn arb_map(positive: bool) -> impl Strategy<Value = (&'static str, &'static str)> {
    const ONTO_REAL: &[(&str, &str)] = &[
        ("real", "{}"),
        ("real", "{}"),
        ("real", "2*{} - 1"),
        ("real", "{}^3 + {}"),
        ("real", "{}/3 + 1"),
        ("real", "{} + exp({})"),
        ("positive", "ln({})"),
    ];
    const ONTO_POSITIVE: &[(&str, &str)] = &[
        ("positive", "{}"),
        ("positive", "{}"),
        ("real", "exp({})"),
        ("real", "exp({}/2)"),
        ("real", "log1p(exp({}))"),
        ("positive", "{}^2"),
        ("positive", "1/{}"),
        ("positive", "3*{}"),
        ("positive", "sqrt({})"),
    ];
    prop::sample::select(if positive { ONTO_POSITIVE } else { ONTO_REAL })
}

/// A random model: a template, its slots filled, its parameters reparameterized.
#[derive(Debug, Clone)]
pub struct RandomModel {
    /// The template's family.
    pub family: &'static str,
    /// The model text.
    pub source: String,
    /// The declared parameters, in order, with their domains.
    pub params: Vec<(String, &'static str)>,
}

/// The declared parameter names: `u1`, `u2`, `u3`.
const DECLARED: [&str; 3] = ["u1", "u2", "u3"];

/// A random model from [`arb_template`]: one declared parameter per slot (at most 3), each
/// mapped by [`arb_map`] onto `a` (real), `b` (positive), `c` (real), the slots filled by
/// expressions in those.
pub fn arb_model() -> impl Strategy<Value = RandomModel> {
    arb_template().prop_flat_map(|t| {
        let n = t.slots.len().min(3);
        let vars = theta_names(n);
        let maps: Vec<_> = (0..n).map(|i| arb_map(i == 1)).collect();
        let slots: Vec<_> = t
            .slots
            .iter()
            .map(|(_, s)| arb_slot(*s, vars, t.wide))
            .collect();
        (maps, slots).prop_map(move |(maps, slots)| {
            let mut src = format!("model random\n{}\n", t.head);
            let mut params = Vec::new();
            for (i, (domain, _)) in maps.iter().enumerate() {
                src.push_str(&format!("param {} : {domain}\n", DECLARED[i]));
                params.push((DECLARED[i].to_string(), *domain));
            }
            for (i, (_, map)) in maps.iter().enumerate() {
                src.push_str(&format!(
                    "let {} = {}\n",
                    vars[i],
                    map.replace("{}", DECLARED[i])
                ));
            }
            for ((name, _), e) in t.slots.iter().zip(&slots) {
                src.push_str(&format!("let {name} = {e}\n"));
            }
            src.push_str(&format!("logp = {}\n", t.logp));
            RandomModel {
                family: t.name,
                source: src,
                params,
            }
        })
    })
}

/// Uniform numbers in (0, 1) from which the test places its points in the declared domains.
pub fn arb_unit_point() -> impl Strategy<Value = [f64; 3]> {
    [0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0]
}

/// Largest `|y|` of [`arb_unconstrained`]: `e^y` and the logistic tails stay normal numbers
/// (`e^{±700}` ≈ `1e±304`).
pub const MAX_UNCONSTRAINED: f64 = 700.0;
/// Largest magnitude of a bound or shift drawn by [`arb_bijector`].
pub const MAX_SHIFT: f64 = 1e6;

/// Every kind of [`Bijector`](fisher_geometry::Bijector), with intervals of widths
/// from `1e-3` to `1e6` and shifts in `±MAX_SHIFT`.
pub fn arb_bijector() -> impl Strategy<Value = fisher_geometry::Bijector> {
    use fisher_geometry::Bijector;
    let shift = -MAX_SHIFT..MAX_SHIFT;
    prop_oneof![
        Just(Bijector::Identity),
        Just(Bijector::Log),
        Just(Bijector::Logit),
        (shift.clone(), -3.0f64..6.0)
            .prop_map(|(lo, w)| Bijector::Interval(lo, lo + 10f64.powf(w))),
        shift.clone().prop_map(Bijector::Above),
        shift.prop_map(Bijector::Below),
    ]
}

/// An unconstrained coordinate `y`: mostly moderate (`|y| < 30`), sometimes out in the tails
/// (`|y| ≤ MAX_UNCONSTRAINED`), sometimes tiny (`|y| ≤ 1e-300`).
pub fn arb_unconstrained() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -30.0f64..30.0,
        2 => -MAX_UNCONSTRAINED..MAX_UNCONSTRAINED,
        1 => -1e-300f64..1e-300,
    ]
}
