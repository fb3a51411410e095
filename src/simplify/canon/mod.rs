//! The canonical pass: a deterministic normal form that does most of the simplification
//! without search.
//!
//! Sums and products are flattened into n-ary forms, constants are folded (only where the
//! result reads exactly: `2·3 = 6`, `2^(−1) = 0.5`, never `ln 2` or `1/3` as a decimal), like
//! terms are collected (`2x + 3x → 5x`) and like powers too (`x·x² → x³`); `a − b` is
//! `a + (−1)·b`, `a/b` is `a·b^(−1)` and `√a` is `a^0.5`. Operands are ordered canonically
//! (names compare by their text, so the order never depends on interning). The input is
//! walked bottom-up over its nodes, so a sum of ten thousand terms costs no recursion, and a
//! node used once hands its sum or product over to its parent instead of copying it.
//!
//! The pass distributes nothing (`2(a + b)` stays), so it never grows an expression.
//!
//! The canonical type and the entry points live here; the work is split by concept:
//! `build` (from an expression, and calls), `arithmetic` (sums, products, powers and their
//! numeric helpers), `expand` (multiplying out), `together` (common denominators and
//! cancellation), `recollect` (binomials back from expanded sums) and `emit` (back to an
//! expression).

mod arithmetic;
mod build;
mod emit;
mod expand;
mod recollect;
mod together;

use std::cmp::Ordering;
use std::rc::Rc;

use egg::{Id, Language, Symbol};

use super::Facts;
use crate::expr::{Constant, Expr, FxHashMap, Op};
use emit::emit;

/// A name ordered by its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Name(Symbol);

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.as_str().cmp(other.0.as_str())
    }
}
impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A function symbol with its non-expression payload removed (the arguments live in
/// `C::Call`). Ordered by the operator's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Func(Op);

impl Ord for Func {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.info().name.cmp(other.0.info().name)
    }
}
impl PartialOrd for Func {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `(base, exponent)` pairs of a product.
type Factors = Vec<(Rc<C>, Rc<C>)>;

/// A canonical expression. The variant order is the canonical order of operands.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum C {
    Num(Constant),
    Sym(Name),
    Pi,
    Euler,
    /// `Σ coefᵢ·termᵢ + constant`, terms sorted, distinct, non-numeric, coefficients ≠ 0,
    /// each term neither a sum nor a product with a coefficient other than 1. Sums order
    /// before calls so that `(shape - 1)*ln(x)` reads coefficient first.
    Sum(Vec<(Rc<C>, Constant)>, Constant),
    Call(Func, Vec<Rc<C>>),
    /// `coef · Π baseᵢ^expᵢ`, bases sorted, distinct, non-numeric (except an unfolded
    /// numeric power such as `3^(−1)`), exponents ≠ 0; at least one factor.
    Prod(Constant, Vec<(Rc<C>, Rc<C>)>),
}

fn num(v: f64) -> C {
    C::Num(Constant::new(v))
}

impl C {
    fn value(&self) -> Option<f64> {
        match self {
            C::Num(c) => Some(c.value()),
            _ => None,
        }
    }
}

/// Returns the canonical form of `expr`. Facts license `(x^a)^b = x^(ab)` for positive `x`.
pub fn canonicalize(expr: &Expr, facts: &Facts) -> Expr {
    let ctx = Ctx::new(facts);
    emit(&ctx.build(expr))
}

/// The canonical form with products distributed over sums and small positive integer
/// powers of sums multiplied out: `σ³(μ²/σ³ + 1/σ) → μ² + σ²`. Used where cancellation
/// matters more than compactness (solving for moments); gives up distributing, and keeps
/// the product, when a result would exceed [`MAX_EXPANDED_TERMS`] terms.
pub fn expand(expr: &Expr, facts: &Facts) -> Expr {
    let ctx = Ctx::new(facts);
    let c = ctx.build(expr);
    emit(&Rc::new(ctx.expand_c(c)))
}

/// [`canonicalize`] now, [`Pair::together`] later if asked for: the canonical form is built
/// once for both.
pub(crate) struct Pair<'a> {
    ctx: Ctx<'a>,
    c: Rc<C>,
}

impl<'a> Pair<'a> {
    /// Builds the canonical form of `expr`.
    pub(crate) fn new(expr: &Expr, facts: &'a Facts) -> Pair<'a> {
        let ctx = Ctx::new(facts);
        let c = ctx.build(expr);
        Pair { ctx, c }
    }

    /// `canonicalize(expr)`.
    pub(crate) fn canonical(&self) -> Expr {
        emit(&self.c)
    }

    /// The expanded form over a common denominator: a sum whose terms carry negative integer
    /// powers `bᵢ^(−pᵢ)` becomes `N·Π bᵢ^(−pᵢ)` with the numerator `N` expanded, so that
    /// `1/p + 1/(1 − p)` becomes `1/(p(1 − p))` and `1/((1 − p)p) + 1/p²` becomes
    /// `1/(p²(1 − p))`. Only the top-level sum is combined.
    pub(crate) fn together(self) -> Expr {
        let binomials = self.ctx.binomials(&self.c);
        let c = Rc::new(self.ctx.expand_c(self.c));
        let t = Rc::new(self.ctx.together_deep(c));
        emit(&Rc::new(self.ctx.recollect(t, &binomials)))
    }
}

/// Most terms a product may expand into before [`expand`] keeps it as a product.
pub const MAX_EXPANDED_TERMS: usize = 256;

struct Ctx<'a> {
    facts: &'a Facts,
    /// Terms that multiplying out may still produce in this pass ([`EXPANSION_BUDGET`]):
    /// each product stays below [`MAX_EXPANDED_TERMS`], but nested sums of products expand
    /// one inside the other, and without a total a few lines of model grow for minutes.
    budget: std::cell::Cell<usize>,
}

/// The most terms one [`expand`] or [`together`](Pair::together) may produce in all, and the most expansion
/// steps it may take; past it, products stay factored and quotients undivided (a less
/// expanded, equally correct form).
pub const EXPANSION_BUDGET: usize = 4_096;

impl<'a> Ctx<'a> {
    fn new(facts: &'a Facts) -> Ctx<'a> {
        Ctx {
            facts,
            budget: std::cell::Cell::new(EXPANSION_BUDGET),
        }
    }
}

/// Takes the value out of an `Rc` when this is the last reference, else clones it.
fn own(c: Rc<C>) -> C {
    Rc::try_unwrap(c).unwrap_or_else(|rc| (*rc).clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::simplify::Fact;

    /// The expression `src` over parameters `names` (all declared `unit`, so positive), as
    /// a `let` of a model (which needs a data variable).
    fn parse(names: &[&str], src: &str) -> (Expr, Facts) {
        let decls: String = names
            .iter()
            .map(|n| format!("param {n} : unit\n"))
            .collect();
        let model = format!("{decls}data x_ : real\nlet t_ = {src}\nlogp = t_ + x_\n");
        let m = Model::parse(&model, "t").unwrap();
        let mut f = Facts::none();
        for n in names {
            f.insert((*n).into(), Fact::Unit);
        }
        (m.lets[0].1.clone(), f)
    }

    #[test]
    fn canonical_forms() {
        for (names, input, expected) in [
            (&["x", "mu"][..], "x - (x - mu)", "mu"),
            (&["x"][..], "x*x^2/x", "x^2"),
            (&["a", "b"][..], "2*a + 3*a - b + b", "5*a"),
            (&["s"][..], "sqrt(s^2)", "s"),
            (
                &["s", "m"][..],
                "s^3*(m^2/s^3 + 1/s)",
                "s^3*(m^2/s^3 + 1/s)",
            ),
            // Numeric bases meet the coefficient (issue 10: `9^1` beside `135` made
            // `135·a⁴/b − 486·a⁴/(9b)` over a common denominator lose the factor 9).
            (&["a"][..], "27*a^3/9", "3*a^3"),
            (&["a", "b"][..], "135*a^4/b - 486*a^4/(9*b)", "81*a^4/b"),
            (&["a"][..], "1 - 9/9*a", "1 - a"),
            (&["a"][..], "a/3", "a/3"),
        ] {
            let (e, f) = parse(names, input);
            assert_eq!(canonicalize(&e, &f).to_string(), expected, "{input}");
        }
    }

    #[test]
    fn expanded_forms() {
        for (names, input, expected) in [
            // σ³(μ²/σ³ + 1/σ) = μ² + σ²
            (&["s", "m"][..], "s^3*(m^2/s^3 + 1/s)", "m^2 + s^2"),
            (&["a", "b"][..], "(a + b)^2 - a^2 - b^2", "2*a*b"),
            (&["a", "b"][..], "(a - b)*(a + b)", "a^2 - b^2"),
        ] {
            let (e, f) = parse(names, input);
            assert_eq!(expand(&e, &f).to_string(), expected, "{input}");
        }
    }

    #[test]
    fn common_denominator_keeps_numeric_bases() {
        let (e, f) = parse(&["a", "b"], "135*a^4/b - 486*a^4/(9*b)");
        let c = Ctx::new(&f);
        // `together` on the raw (unfolded) sum: 1215·a⁴ − 486·a⁴ over 9b.
        let t = emit(&Rc::new(c.together(c.build(&e))));
        let v = |e: &Expr| {
            let env = crate::eval::Env::new().with("a", 0.7).with("b", 1.3);
            crate::eval::eval_f64(e, &env).unwrap()
        };
        assert!((v(&t) - v(&e)).abs() < 1e-12 * v(&e).abs(), "{t}");
    }

    #[test]
    fn common_denominators() {
        for (names, input, expected) in [
            // Bernoulli: 1/p + 1/(1 − p) = 1/(p(1 − p))
            (&["p"][..], "1/p + 1/(1 - p)", "1/(p*(1 - p))"),
            // geometric: 1/((1 − p)p) + 1/p² = 1/(p²(1 − p))
            (&["p"][..], "1/((1 - p)*p) + 1/p^2", "1/(p^2*(1 - p))"),
            // the Bernoulli moment E[x] from E[s] = 0: (1/(1 − p))/(1/p + 1/(1 − p)) = p
            (&["p"][..], "(1/(1 - p))/(1/p + 1/(1 - p))", "p"),
        ] {
            let (e, f) = parse(names, input);
            assert_eq!(
                Pair::new(&e, &f).together().to_string(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn recollected_binomials() {
        for (names, input, expected) in [
            // the Cauchy score: the difference of the input survives the common denominator
            (
                &["x", "t", "g"][..],
                "2*(x - t)/(g^2*((x - t)^2/g^2 + 1))",
                "2*(x - t)/(g^2 + (x - t)^2)",
            ),
            // the Cauchy Hessian: x² + t² − g² − 2xt = (x − t)² − g²
            (
                &["x", "t", "g"][..],
                "2*(x - t)^2/(g^2 + (x - t)^2)^2 - 1/(g^2 + (x - t)^2)",
                "((x - t)^2 - g^2)/(g^2 + (x - t)^2)^2",
            ),
            // x + nx − m − mn = (n + 1)(x − m), the binomial taken from the input
            (
                &["x", "m", "n"][..],
                "(x + n*x - m - m*n)/(1 + (x - m)^2)",
                "(x - m)*(n + 1)/((x - m)^2 + 1)",
            ),
            // a completed square, found in the sum itself: m² + q² − 2mq = (m − q)²
            (
                &["m", "q", "s"][..],
                "(m^2 + q^2 - 2*m*q)/s + 1/s",
                "((q - m)^2 + 1)/s",
            ),
            // refused: `x` and `t` also occur in `ln(x + t)`, not only as polynomials in `x − t`
            (
                &["x", "t"][..],
                "(x - t)^2/t + ln(x + t)/t",
                "(ln(t + x) + t^2 + x^2 - 2*t*x)/t",
            ),
        ] {
            let (e, f) = parse(names, input);
            assert_eq!(
                Pair::new(&e, &f).together().to_string(),
                expected,
                "{input}"
            );
        }
    }
}
