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

use std::cmp::Ordering;
use std::rc::Rc;

use egg::{Id, Language, Symbol};

use super::Facts;
use crate::expr::{Builder, Constant, Expr, FxHashMap, Op};

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

/// The expanded form over a common denominator: a sum whose terms carry negative integer
/// powers `bᵢ^(−pᵢ)` becomes `N·Π bᵢ^(−pᵢ)` with the numerator `N` expanded, so that
/// `1/p + 1/(1 − p)` becomes `1/(p(1 − p))` and `1/((1 − p)p) + 1/p²` becomes
/// `1/(p²(1 − p))`. Only the top-level sum is combined.
pub fn together(expr: &Expr, facts: &Facts) -> Expr {
    let ctx = Ctx::new(facts);
    let c = ctx.build(expr);
    let binomials = ctx.binomials(&c);
    let t = Rc::new(ctx.together_deep(Rc::new(ctx.expand_c(c))));
    emit(&Rc::new(ctx.recollect(t, &binomials)))
}

/// [`canonicalize`] now, [`together`] later if asked for: the canonical form is built once
/// for both.
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

    /// `together(expr)`.
    pub(crate) fn together(self) -> Expr {
        let binomials = self.ctx.binomials(&self.c);
        let c = Rc::new(self.ctx.expand_c(self.c));
        let t = Rc::new(self.ctx.together_deep(c));
        emit(&Rc::new(self.ctx.recollect(t, &binomials)))
    }
}

/// A binomial `s·v + r` in which [`Ctx::recollect`] tries to write expanded sums: `v` a
/// name with coefficient `s = ±1`, `r` one term free of `v` (`x − x0`: `v = x`, `r = −x0`).
#[derive(Debug, Clone)]
struct Binomial {
    /// The binomial as a canonical sum.
    sum: Rc<C>,
    /// The name solved for, `v = s·(b − r)`.
    v: Symbol,
    /// The coefficient of `v`, ±1.
    s: f64,
    /// The other term, with its coefficient.
    r: Rc<C>,
}

/// Most binomials of an expression that [`Ctx::recollect`] tries on each sum.
const MAX_BINOMIALS: usize = 4;

/// Sums with more parts than this are not recollected (the shift expands them again).
const MAX_RECOLLECT_TERMS: usize = 24;

/// The name that stands for a binomial while a sum is rewritten in it. No model name can
/// hold a control character, so it never meets a real name.
const PLACEHOLDER: &str = "\u{1}binomial";

/// Most terms a product may expand into before [`expand`] keeps it as a product.
pub const MAX_EXPANDED_TERMS: usize = 256;

/// Largest integer power of a sum that [`expand`] multiplies out.
const MAX_EXPANDED_POWER: f64 = 6.0;

fn emit(root: &Rc<C>) -> Expr {
    let mut out = Emitter {
        b: Builder::default(),
        memo: FxHashMap::default(),
    };
    let id = out.emit(root);
    out.b.finish(id)
}

impl Ctx<'_> {
    /// Builds the canonical form bottom-up over the nodes of `expr`.
    fn build(&self, expr: &Expr) -> Rc<C> {
        let ctx = self;
        let nodes = expr.nodes();
        // How many parents still need each node: a node's value is moved into its last parent.
        let mut uses = vec![0usize; nodes.len()];
        for node in nodes {
            for c in node.children() {
                uses[usize::from(*c)] += 1;
            }
        }
        let mut slots: Vec<Option<Rc<C>>> = vec![None; nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            let mut take = |c: &Id| -> Rc<C> {
                let k = usize::from(*c);
                uses[k] -= 1;
                if uses[k] == 0 {
                    slots[k].take().unwrap_or_else(|| Rc::new(num(f64::NAN)))
                } else {
                    slots[k].clone().unwrap_or_else(|| Rc::new(num(f64::NAN)))
                }
            };
            let c = match node {
                Op::Num(v) => C::Num(*v),
                Op::Sym(s) => C::Sym(Name(*s)),
                Op::Pi => C::Pi,
                Op::Euler => C::Euler,
                Op::Add([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.add(a, b, 1.0)
                }
                Op::Sub([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.add(a, b, -1.0)
                }
                Op::Neg([a]) => {
                    let a = take(a);
                    ctx.scale(a, -1.0)
                }
                Op::Mul([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.mul(a, b)
                }
                Op::Div([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    let inv = ctx.pow(b, Rc::new(num(-1.0)));
                    ctx.mul(a, Rc::new(inv))
                }
                Op::Pow([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.pow(a, b)
                }
                Op::Sqrt([a]) => {
                    let a = take(a);
                    ctx.pow(a, Rc::new(num(0.5)))
                }
                op => {
                    let args: Vec<Rc<C>> = op.children().iter().map(&mut take).collect();
                    ctx.call(op, args)
                }
            };
            slots[i] = Some(Rc::new(c));
        }
        slots[usize::from(expr.root())]
            .take()
            .unwrap_or_else(|| Rc::new(num(f64::NAN)))
    }
}

struct Ctx<'a> {
    facts: &'a Facts,
    /// Terms that multiplying out may still produce in this pass ([`EXPANSION_BUDGET`]):
    /// each product stays below [`MAX_EXPANDED_TERMS`], but nested sums of products expand
    /// one inside the other, and without a total a few lines of model grow for minutes.
    budget: std::cell::Cell<usize>,
}

/// The most terms one [`expand`] or [`together`] may produce in all, and the most expansion
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

impl Ctx<'_> {
    /// Splits into (coefficient, term) with the term free of a numeric coefficient.
    fn split_coef(c: Rc<C>) -> (f64, Rc<C>) {
        let k = match &*c {
            C::Prod(k, _) if k.value() != 1.0 => k.value(),
            _ => return (1.0, c),
        };
        let (_, fs) = factors_of(c);
        (k, Rc::new(prod_from(1.0, fs)))
    }

    /// `a + s·b`.
    fn add(&self, a: Rc<C>, b: Rc<C>, s: f64) -> C {
        let (mut terms, mut constant) = match own(a) {
            C::Sum(t, k) => (t, k.value()),
            C::Num(k) => (Vec::new(), k.value()),
            other => {
                let (k, t) = Self::split_coef(Rc::new(other));
                (vec![(t, Constant::new(k))], 0.0)
            }
        };
        match own(b) {
            C::Sum(t, k) => {
                constant += s * k.value();
                for (term, coef) in t {
                    insert_term(&mut terms, term, s * coef.value());
                }
            }
            C::Num(k) => constant += s * k.value(),
            other => {
                let (k, t) = Self::split_coef(Rc::new(other));
                insert_term(&mut terms, t, s * k);
            }
        }
        sum_from(terms, constant)
    }

    /// `k·a`.
    fn scale(&self, a: Rc<C>, k: f64) -> C {
        self.mul(Rc::new(num(k)), a)
    }

    /// `a·b`.
    fn mul(&self, a: Rc<C>, b: Rc<C>) -> C {
        let (mut coef, mut factors) = factors_of(a);
        let (k2, f2) = factors_of(b);
        coef *= k2;
        if coef == 0.0 {
            return num(0.0);
        }
        for (base, exp) in f2 {
            self.insert_factor(&mut factors, base, exp);
        }
        let factors = self.primitive_sums(&mut coef, factors);
        prod_from(coef, factors)
    }

    /// Moves the numeric content of sums raised to integer powers into the coefficient,
    /// `(2 − 2ρ²)^(−3) = 2^(−3)·(1 − ρ²)^(−3)`, so that proportional sums meet as one base.
    fn primitive_sums(&self, coef: &mut f64, fs: Factors) -> Factors {
        if !fs.iter().any(|(b, _)| matches!(**b, C::Sum(..))) {
            return fs;
        }
        let mut out: Factors = Vec::with_capacity(fs.len());
        for (b, e) in fs {
            let y = e.value().filter(|y| *y == y.trunc());
            if let (C::Sum(terms, k), Some(y)) = (&*b, y) {
                let g = content(terms, k.value()).unwrap_or(1.0) * self.sign(terms, k.value());
                if g != 1.0 {
                    if let Some(gy) = fold_pow(g, y) {
                        *coef *= gy;
                        let terms = terms
                            .iter()
                            .map(|(t, c)| (t.clone(), Constant::new(c.value() / g)))
                            .collect();
                        let prim = Rc::new(C::Sum(terms, Constant::new(k.value() / g)));
                        self.insert_factor(&mut out, prim, e);
                        continue;
                    }
                }
            }
            self.insert_factor(&mut out, b, e);
        }
        out
    }

    /// The sign that makes a sum read the conventional way round: a data variable positive
    /// (`x - mu`, never `mu - x`), else the constant positive (`1 - p`), else the last term
    /// positive. Opposite sums (`t - x`, `x - t`) then meet as one base.
    fn sign(&self, terms: &[(Rc<C>, Constant)], constant: f64) -> f64 {
        let data = terms
            .iter()
            .find(|(t, _)| matches!(&**t, C::Sym(Name(s)) if self.facts.is_data(*s)));
        let lead = match (data, constant) {
            (Some((_, c)), _) => c.value(),
            (None, k) if k != 0.0 => k,
            _ => terms.last().map_or(1.0, |(_, c)| c.value()),
        };
        if lead < 0.0 { -1.0 } else { 1.0 }
    }

    /// Expands a canonical expression: sums raised to small positive integer powers in
    /// products are multiplied out, recursively through the terms of sums and the bases of
    /// positive powers; bases of negative powers (denominators) and function arguments keep
    /// their factored form.
    fn expand_c(&self, c: Rc<C>) -> C {
        // every call spends from the pass's budget; once it is gone, nothing more expands
        let left = self.budget.get();
        if left == 0 {
            return own(c);
        }
        self.budget.set(left - 1);
        match &*c {
            C::Sum(terms, k) => terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                let t = self.expand_c(Rc::new(self.scale(t.clone(), coef.value())));
                self.add(Rc::new(acc), Rc::new(t), 1.0)
            }),
            C::Prod(k, fs) => {
                let fs: Factors = fs
                    .iter()
                    .map(|(b, e)| {
                        let positive = e.value().is_some_and(|y| y >= 1.0);
                        if positive && matches!(**b, C::Sum(..)) {
                            (Rc::new(self.expand_c(b.clone())), e.clone())
                        } else {
                            (b.clone(), e.clone())
                        }
                    })
                    .collect();
                self.distribute(prod_from(k.value(), fs))
            }
            _ => own(c),
        }
    }

    /// Multiplies out the sums raised to small positive integer powers in a product.
    fn distribute(&self, c: C) -> C {
        let C::Prod(k, fs) = &c else { return c };
        let is_sum_power = |(b, e): &(Rc<C>, Rc<C>)| {
            matches!(**b, C::Sum(..))
                && e.value()
                    .is_some_and(|y| (1.0..=MAX_EXPANDED_POWER).contains(&y) && y == y.trunc())
        };
        if !fs.iter().any(is_sum_power) {
            return c;
        }
        // The number of terms the expansion produces, before collecting.
        let mut size = 1usize;
        for (b, e) in fs.iter().filter(|f| is_sum_power(f)) {
            let terms = match &**b {
                C::Sum(t, k) => t.len() + usize::from(k.value() != 0.0),
                _ => 1,
            };
            let y = e.value().unwrap_or(1.0) as u32;
            size = size.saturating_mul(terms.saturating_pow(y));
        }
        if size > MAX_EXPANDED_TERMS || size > self.budget.get() {
            return c;
        }
        self.budget.set(self.budget.get() - size);
        let rest: Factors = fs.iter().filter(|f| !is_sum_power(f)).cloned().collect();
        let mut acc: Vec<Rc<C>> = vec![Rc::new(prod_from(k.value(), rest))];
        for (b, e) in fs.iter().filter(|f| is_sum_power(f)) {
            let C::Sum(terms, constant) = &**b else {
                continue;
            };
            let mut parts: Vec<Rc<C>> = terms
                .iter()
                .map(|(t, k)| Rc::new(self.scale(t.clone(), k.value())))
                .collect();
            if constant.value() != 0.0 {
                parts.push(Rc::new(num(constant.value())));
            }
            for _ in 0..(e.value().unwrap_or(1.0) as u32) {
                acc = acc
                    .iter()
                    .flat_map(|a| parts.iter().map(move |p| (a.clone(), p.clone())))
                    .map(|(a, p)| Rc::new(self.mul(a, p)))
                    .collect();
            }
        }
        acc.into_iter()
            .fold(num(0.0), |sum, t| self.add(Rc::new(sum), t, 1.0))
    }

    /// Common denominators everywhere in sums and products: the bases of powers first (so
    /// `(1/p + 1/(1 − p))^(−1)` becomes `p(1 − p)`), then the terms of sums, then the sum.
    fn together_deep(&self, c: Rc<C>) -> C {
        match &*c {
            C::Sum(terms, k) => {
                let sum = terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                    let t = self.together_deep(Rc::new(self.scale(t.clone(), coef.value())));
                    self.add(Rc::new(acc), Rc::new(t), 1.0)
                });
                self.together(Rc::new(sum))
            }
            C::Prod(k, fs) => fs.iter().fold(num(k.value()), |acc, (b, e)| {
                let b = match &**b {
                    C::Sum(..) => Rc::new(self.together_deep(b.clone())),
                    _ => b.clone(),
                };
                let p = self.pow(b, e.clone());
                self.mul(Rc::new(acc), Rc::new(p))
            }),
            _ => own(c),
        }
    }

    /// The top-level sum of `c` over a common denominator (see [`together`]).
    fn together(&self, c: Rc<C>) -> C {
        let C::Sum(terms, _) = &*c else { return own(c) };
        // Bases with negative integer exponents, with the largest power seen.
        let mut den: Factors = Vec::new();
        for (t, _) in terms {
            let fs: &[(Rc<C>, Rc<C>)] = match &**t {
                C::Prod(_, fs) => fs,
                _ => &[],
            };
            for (b, e) in fs {
                let Some(y) = e.value().filter(|y| *y < 0.0 && *y == y.trunc()) else {
                    continue;
                };
                match den.binary_search_by(|(d, _)| d.as_ref().cmp(b)) {
                    Ok(i) => {
                        if den[i].1.value().is_some_and(|p| -y > p) {
                            den[i].1 = Rc::new(num(-y));
                        }
                    }
                    Err(i) => den.insert(i, (b.clone(), Rc::new(num(-y)))),
                }
            }
        }
        if den.is_empty() {
            return own(c);
        }
        // Each term times the denominator cancels its negative powers exactly (no
        // distribution yet, so `(1 − p)^(−1)·(1 − p)²` meets as one base), then expands.
        // Terms with no denominator that hold a function call (`ln σ`, `ψ(a)`) stay outside
        // the fraction; everything else goes over the common denominator.
        let outside = |t: &C| {
            let has_den = match t {
                C::Prod(_, fs) => fs.iter().any(|(_, e)| e.value().is_some_and(|y| y < 0.0)),
                _ => false,
            };
            let has_call = match t {
                C::Call(..) => true,
                C::Prod(_, fs) => fs.iter().any(|(b, _)| matches!(**b, C::Call(..))),
                _ => false,
            };
            !has_den && has_call
        };
        let d = Rc::new(prod_from(1.0, den.clone()));
        let mut numerator = match &*c {
            C::Sum(_, k) => num(k.value()),
            _ => num(0.0),
        };
        numerator = self.mul(Rc::new(numerator), d.clone());
        numerator = self.distribute(numerator);
        let mut rest = num(0.0);
        for (t, k) in terms {
            if outside(t) {
                rest = self.add(
                    Rc::new(rest),
                    Rc::new(self.scale(t.clone(), k.value())),
                    1.0,
                );
                continue;
            }
            let term = self.mul(self.scale(t.clone(), k.value()).into(), d.clone());
            numerator = self.add(Rc::new(numerator), Rc::new(self.distribute(term)), 1.0);
        }
        let inverse: Factors = den
            .into_iter()
            .map(|(b, p)| (b, Rc::new(num(-p.value().unwrap_or(1.0)))))
            .collect();
        let fraction = self.mul(Rc::new(numerator), Rc::new(prod_from(1.0, inverse)));
        let fraction = self.cancel(fraction);
        self.add(Rc::new(rest), Rc::new(fraction), 1.0)
    }

    /// The binomials of `c` ([`Binomial`]), in canonical order, at most [`MAX_BINOMIALS`]:
    /// the differences such as `x − x0` that the expanded common-denominator form loses.
    fn binomials(&self, c: &Rc<C>) -> Vec<Binomial> {
        fn walk(c: &Rc<C>, seen: &mut std::collections::BTreeSet<Rc<C>>) {
            if seen.len() > 4 * MAX_BINOMIALS {
                return;
            }
            match &**c {
                C::Sum(terms, k) => {
                    if terms.len() == 2 && k.value() == 0.0 {
                        seen.insert(c.clone());
                    }
                    terms.iter().for_each(|(t, _)| walk(t, seen));
                }
                C::Prod(_, fs) => fs.iter().for_each(|(b, e)| {
                    walk(b, seen);
                    walk(e, seen);
                }),
                C::Call(_, args) => args.iter().for_each(|a| walk(a, seen)),
                _ => {}
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        walk(c, &mut seen);
        seen.into_iter()
            .filter_map(|b| self.binomial(b))
            .take(MAX_BINOMIALS)
            .collect()
    }

    /// `b` as a [`Binomial`], solved for its data name if it has one, else for its first
    /// name with coefficient ±1.
    fn binomial(&self, b: Rc<C>) -> Option<Binomial> {
        let C::Sum(terms, k) = &*b else { return None };
        if terms.len() != 2 || k.value() != 0.0 {
            return None;
        }
        let solvable = |i: usize| match &*terms[i].0 {
            C::Sym(Name(v)) if terms[i].1.value().abs() == 1.0 => {
                (!mentions(&terms[1 - i].0, *v)).then_some(*v)
            }
            _ => None,
        };
        let i = (0..2)
            .filter(|i| solvable(*i).is_some())
            .min_by_key(|i| !solvable(*i).is_some_and(|v| self.facts.is_data(v)))?;
        let v = solvable(i)?;
        let (r, kr) = &terms[1 - i];
        Some(Binomial {
            v,
            s: terms[i].1.value(),
            r: Rc::new(self.scale(r.clone(), kr.value())),
            sum: b.clone(),
        })
    }

    /// The binomials whose squares a sum holds expanded: `a·u² + a·v² ∓ 2a·u·v` gives `u ∓ v`.
    fn squares(&self, terms: &[(Rc<C>, Constant)]) -> Vec<Binomial> {
        let coef = |t: &C| {
            terms
                .iter()
                .find(|(x, _)| x.as_ref() == t)
                .map(|(_, k)| k.value())
        };
        let square_of = |t: &C| match t {
            C::Prod(k, fs) if k.value() == 1.0 && fs.len() == 1 && fs[0].1.value() == Some(2.0) => {
                match &*fs[0].0 {
                    C::Sym(Name(u)) => Some(*u),
                    _ => None,
                }
            }
            _ => None,
        };
        let names: Vec<(Symbol, f64)> = terms
            .iter()
            .filter_map(|(t, k)| square_of(t).map(|u| (u, k.value())))
            .collect();
        let mut out = Vec::new();
        for (i, (u, a)) in names.iter().enumerate() {
            for (v, b) in &names[i + 1..] {
                if a != b {
                    continue;
                }
                let (su, sv) = (Rc::new(C::Sym(Name(*u))), Rc::new(C::Sym(Name(*v))));
                let uv = self.mul(su.clone(), sv.clone());
                let Some(m) = coef(&uv) else { continue };
                // a·u² + a·v² + m·u·v is a·(u + s·v)² + … with s = m/(2a) = ±1.
                let s = m / (2.0 * a);
                if s.abs() != 1.0 {
                    continue;
                }
                let sum = self.add(su.clone(), sv.clone(), s);
                if let Some(b) = self.binomial(Rc::new(sum)) {
                    out.push(b);
                }
            }
        }
        out
    }

    /// Writes the sums of `c` in the binomials `bs` (and in the binomials whose squares they
    /// hold expanded) where that makes them shorter: `γ² + x² + x0² − 2x·x0` becomes
    /// `γ² + (x − x0)²`, `x + νx − μ − μν` becomes `(1 + ν)(x − μ)`. The inverse of
    /// [`Ctx::expand_c`] for the binomials that the expansion multiplied out.
    fn recollect(&self, c: Rc<C>, bs: &[Binomial]) -> C {
        match &*c {
            C::Sum(terms, k) => {
                let sum = terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                    let t = self.recollect(t.clone(), bs);
                    self.add(
                        Rc::new(acc),
                        Rc::new(self.scale(Rc::new(t), coef.value())),
                        1.0,
                    )
                });
                self.recollect_sum(Rc::new(sum), bs)
            }
            C::Prod(k, fs) => fs.iter().fold(num(k.value()), |acc, (b, e)| {
                let mut b = match &**b {
                    C::Sum(..) | C::Prod(..) | C::Call(..) => {
                        Rc::new(self.recollect(b.clone(), bs))
                    }
                    _ => b.clone(),
                };
                let mut acc = Rc::new(acc);
                // `(a/2 − b/2)·c = (a − b)·c/2`
                if let (Some(g), Some(1.0), true) = (unit_content(&b), e.value(), fs.len() > 1) {
                    b = Rc::new(self.scale(b, 1.0 / g));
                    acc = Rc::new(self.scale(acc, g));
                }
                self.mul(acc, Rc::new(self.pow(b, e.clone())))
            }),
            C::Call(f, args) => {
                let args = args
                    .iter()
                    .map(|a| Rc::new(self.recollect(a.clone(), bs)))
                    .collect();
                self.call(&f.0, args)
            }
            _ => own(c),
        }
    }

    /// One sum written in the binomial that shortens it most, if one does.
    fn recollect_sum(&self, sum: Rc<C>, bs: &[Binomial]) -> C {
        let C::Sum(terms, _) = &*sum else {
            return own(sum);
        };
        if terms.len() + 1 > MAX_RECOLLECT_TERMS {
            return own(sum);
        }
        let squares = self.squares(terms);
        let mut best = sum.clone();
        let mut best_size = size(&sum);
        for b in bs.iter().chain(&squares) {
            if !mentions(&sum, b.v) {
                continue;
            }
            if let Some(c) = self.in_binomial(&sum, b, bs) {
                let n = size(&c);
                if n < best_size {
                    best = Rc::new(c);
                    best_size = n;
                }
            }
        }
        own(best)
    }

    /// `sum` as a polynomial in the binomial `b`, `Σ_d c_d·b^d`, with `b`'s name `v` replaced
    /// by `s·(b − r)`, and each coefficient `c_d` recollected in turn (in the other
    /// binomials of `bs`); `None` when `v` occurs other than polynomially.
    fn in_binomial(&self, sum: &Rc<C>, b: &Binomial, bs: &[Binomial]) -> Option<C> {
        let name = Symbol::from(PLACEHOLDER);
        let t = Rc::new(C::Sym(Name(name)));
        let value = Rc::new(self.scale(Rc::new(self.add(t, b.r.clone(), -1.0)), b.s));
        let shifted = self.expand_c(Rc::new(self.substitute(sum, b.v, &value)));
        let poly = self.poly(&Rc::new(shifted), name)?;
        // The coefficients no longer hold `v`, so the recursion ends.
        let rest: Vec<Binomial> = bs.iter().filter(|x| x.v != b.v).cloned().collect();
        Some(poly.into_iter().fold(num(0.0), |acc, (d, coef)| {
            // A monomial common to the terms of a coefficient moves out: `s1 + ρ²s1 = s1(ρ² + 1)`.
            let coef = match self.monomial_content(&coef) {
                Some((common, reduced)) => Rc::new(self.mul(
                    Rc::new(prod_from(1.0, common)),
                    Rc::new(self.recollect_sum(Rc::new(reduced), &rest)),
                )),
                None => Rc::new(self.recollect_sum(coef, &rest)),
            };
            let power = self.pow(b.sum.clone(), Rc::new(num(d as f64)));
            let term = self.mul(coef, Rc::new(power));
            self.add(Rc::new(acc), Rc::new(term), 1.0)
        }))
    }

    /// `c` with the name `v` replaced by `value`.
    fn substitute(&self, c: &Rc<C>, v: Symbol, value: &Rc<C>) -> C {
        if !mentions(c, v) {
            return (**c).clone();
        }
        match &**c {
            C::Sym(_) => (**value).clone(),
            C::Sum(terms, k) => terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                let t = self.substitute(t, v, value);
                self.add(
                    Rc::new(acc),
                    Rc::new(self.scale(Rc::new(t), coef.value())),
                    1.0,
                )
            }),
            C::Prod(k, fs) => fs.iter().fold(num(k.value()), |acc, (b, e)| {
                let b = Rc::new(self.substitute(b, v, value));
                let e = Rc::new(self.substitute(e, v, value));
                self.mul(Rc::new(acc), Rc::new(self.pow(b, e)))
            }),
            C::Call(f, args) => {
                let args = args
                    .iter()
                    .map(|a| Rc::new(self.substitute(a, v, value)))
                    .collect();
                self.call(&f.0, args)
            }
            C::Num(_) | C::Pi | C::Euler => (**c).clone(),
        }
    }

    /// Cancels sums in a denominator that divide the numerator sum exactly:
    /// `(2 − 3ρ² + ρ⁴)/(1 − ρ²)² = (2 − ρ²)/(1 − ρ²)`.
    fn cancel(&self, c: C) -> C {
        let C::Prod(k, fs) = &c else { return c };
        let Some(ni) = fs
            .iter()
            .position(|(b, e)| matches!(**b, C::Sum(..)) && e.value() == Some(1.0))
        else {
            return c;
        };
        let mut numerator = fs[ni].0.clone();
        let mut rest: Factors = Vec::with_capacity(fs.len());
        // A factor common to every term of the numerator moves out of the sum:
        // `ρ²s₁² + s₁² = s₁²(ρ² + 1)`.
        if let Some((common, reduced)) = self.monomial_content(&numerator) {
            numerator = Rc::new(reduced);
            rest.extend(common);
        }
        for (i, (b, e)) in fs.iter().enumerate() {
            if i == ni {
                continue;
            }
            let mut power = e
                .value()
                .filter(|y| *y < 0.0 && *y == y.trunc())
                .unwrap_or(0.0);
            if matches!(**b, C::Sum(..)) {
                while power < 0.0 {
                    match self.divide(&numerator, b) {
                        Some(q) => {
                            numerator = Rc::new(q);
                            power += 1.0;
                        }
                        None => break,
                    }
                }
            }
            if power < 0.0 || e.value().is_none_or(|y| y >= 0.0 || y != y.trunc()) {
                let e = if power < 0.0 {
                    Rc::new(num(power))
                } else {
                    e.clone()
                };
                rest.push((b.clone(), e));
            }
        }
        let rest = Rc::new(prod_from(k.value(), rest));
        self.mul(numerator, rest)
    }

    /// The largest power product of names that divides every term of a sum (which has no
    /// constant), and the sum divided by it.
    fn monomial_content(&self, c: &Rc<C>) -> Option<(Factors, C)> {
        let C::Sum(terms, k) = &**c else { return None };
        if k.value() != 0.0 {
            return None;
        }
        let powers = |t: &C| -> Vec<(Symbol, f64)> {
            match t {
                C::Sym(Name(s)) => vec![(*s, 1.0)],
                C::Prod(_, fs) => fs
                    .iter()
                    .filter_map(|(b, e)| match (&**b, e.value()) {
                        (C::Sym(Name(s)), Some(y)) if y > 0.0 && y == y.trunc() => Some((*s, y)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut common = powers(&terms.first()?.0);
        for (t, _) in &terms[1..] {
            let p = powers(t);
            common = common
                .into_iter()
                .filter_map(|(s, y)| p.iter().find(|(q, _)| *q == s).map(|(_, z)| (s, y.min(*z))))
                .collect();
        }
        if common.is_empty() {
            return None;
        }
        let factors: Factors = common
            .iter()
            .map(|(s, y)| (Rc::new(C::Sym(Name(*s))), Rc::new(num(*y))))
            .collect();
        let inverse: Factors = common
            .iter()
            .map(|(s, y)| (Rc::new(C::Sym(Name(*s))), Rc::new(num(-y))))
            .collect();
        let reduced = self.expand_c(Rc::new(
            self.mul(c.clone(), Rc::new(prod_from(1.0, inverse))),
        ));
        Some((factors, reduced))
    }

    /// The exact quotient `n/b` of two sums as polynomials in one name of `b`, if the
    /// remainder is zero (coefficients may be any expressions free of that name).
    fn divide(&self, n: &Rc<C>, b: &Rc<C>) -> Option<C> {
        let C::Sum(bt, _) = &**b else { return None };
        let v = bt.iter().find_map(|(t, _)| match &**t {
            C::Sym(Name(s)) => Some(*s),
            C::Prod(_, fs) => fs.iter().find_map(|(f, _)| match &**f {
                C::Sym(Name(s)) => Some(*s),
                _ => None,
            }),
            _ => None,
        })?;
        let nb = self.poly(b, v)?;
        let mut nn = self.poly(n, v)?;
        let (db, lb) = nb.iter().next_back().map(|(d, c)| (*d, c.clone()))?;
        let inv_lb = Rc::new(self.pow(lb, Rc::new(num(-1.0))));
        let mut quotient: std::collections::BTreeMap<i64, Rc<C>> = Default::default();
        for _ in 0..64 {
            if self.budget.get() == 0 {
                return None;
            }
            let Some((dn, lead)) = nn.iter().next_back().map(|(d, c)| (*d, c.clone())) else {
                break;
            };
            if dn < db {
                return None;
            }
            let t = Rc::new(self.expand_c(Rc::new(self.mul(lead, inv_lb.clone()))));
            for (d, bc) in &nb {
                let at = d + dn - db;
                let prod = self.expand_c(Rc::new(self.mul(t.clone(), bc.clone())));
                let old = nn.remove(&at).unwrap_or_else(|| Rc::new(num(0.0)));
                let new = self.expand_c(Rc::new(self.add(old, Rc::new(prod), -1.0)));
                if new.value() != Some(0.0) {
                    nn.insert(at, Rc::new(new));
                }
            }
            quotient.insert(dn - db, t);
        }
        if !nn.is_empty() {
            return None;
        }
        let sym = Rc::new(C::Sym(Name(v)));
        Some(quotient.into_iter().fold(num(0.0), |acc, (d, c)| {
            let vd = self.pow(sym.clone(), Rc::new(num(d as f64)));
            let term = self.mul(c, Rc::new(vd));
            self.add(Rc::new(acc), Rc::new(term), 1.0)
        }))
    }

    /// A sum as a polynomial in the name `v`: power → coefficient free of `v`.
    fn poly(&self, c: &Rc<C>, v: Symbol) -> Option<std::collections::BTreeMap<i64, Rc<C>>> {
        let mut out: std::collections::BTreeMap<i64, Rc<C>> = Default::default();
        let mut push = |d: i64, coef: C| {
            let old = out.remove(&d).unwrap_or_else(|| Rc::new(num(0.0)));
            let new = self.add(old, Rc::new(coef), 1.0);
            if new.value() != Some(0.0) {
                out.insert(d, Rc::new(new));
            }
        };
        let terms: Vec<(Rc<C>, f64)> = match &**c {
            C::Sum(t, k) => {
                let mut v: Vec<(Rc<C>, f64)> =
                    t.iter().map(|(t, c)| (t.clone(), c.value())).collect();
                if k.value() != 0.0 {
                    v.push((Rc::new(num(1.0)), k.value()));
                }
                v
            }
            _ => vec![(c.clone(), 1.0)],
        };
        for (t, k) in terms {
            let (d, rest) = match &*t {
                C::Sym(Name(s)) if *s == v => (1, num(k)),
                C::Prod(pk, fs) => {
                    let mut d = 0;
                    let mut rest = Vec::new();
                    for (b, e) in fs {
                        match (&**b, e.value()) {
                            (C::Sym(Name(s)), Some(y)) if *s == v && y >= 0.0 && y == y.trunc() => {
                                d = y as i64;
                            }
                            _ => rest.push((b.clone(), e.clone())),
                        }
                    }
                    (d, prod_from(pk.value() * k, rest))
                }
                _ => (0, self.scale(t.clone(), k)),
            };
            if mentions(&rest, v) {
                return None;
            }
            push(d, rest);
        }
        Some(out)
    }

    fn insert_factor(&self, fs: &mut Vec<(Rc<C>, Rc<C>)>, base: Rc<C>, exp: Rc<C>) {
        match fs.binary_search_by(|(b, _)| b.as_ref().cmp(&base)) {
            Ok(i) => {
                let old = fs[i].1.clone();
                let e = self.add(old, exp, 1.0);
                if e.value() == Some(0.0) {
                    fs.remove(i);
                } else {
                    fs[i].1 = Rc::new(e);
                }
            }
            Err(i) => fs.insert(i, (base, exp)),
        }
    }

    /// `a^e`.
    fn pow(&self, a: Rc<C>, e: Rc<C>) -> C {
        match (a.value(), e.value()) {
            (_, Some(0.0)) => return num(1.0),
            (_, Some(1.0)) => return own(a),
            (Some(1.0), _) => return num(1.0),
            (Some(x), Some(y)) => {
                if let Some(v) = fold_pow(x, y) {
                    return num(v);
                }
                return C::Prod(Constant::new(1.0), vec![(a, e)]);
            }
            _ => {}
        }
        let int_exp = e.value().is_some_and(|y| y == y.trunc());
        match &*a {
            // (k Π bᵢ^eᵢ)^n = kⁿ Π bᵢ^(eᵢ n) for integer n; with a non-integer exponent only
            // when every factor is known positive.
            C::Prod(k, fs)
                if int_exp || (k.value() > 0.0 && fs.iter().all(|(b, _)| self.positive(b))) =>
            {
                let (k, fs) = (k.value(), fs.clone());
                let y = e.value();
                let mut out = Vec::with_capacity(fs.len());
                for (b, x) in fs {
                    let ex = self.mul(x, e.clone());
                    if ex.value() != Some(0.0) {
                        out.push((b, Rc::new(ex)));
                    }
                }
                let coef = match y {
                    Some(y) => fold_pow(k, y),
                    None => None,
                };
                match coef {
                    Some(c) => prod_from(c, out),
                    None if k == 1.0 => prod_from(1.0, out),
                    None => {
                        let kp = C::Prod(Constant::new(1.0), vec![(Rc::new(num(k)), e)]);
                        self.mul(Rc::new(kp), Rc::new(prod_from(1.0, out)))
                    }
                }
            }
            // (P·Q)^y = P^y·Q^y when P > 0, whatever the sign of Q (if P·Q ≥ 0 then Q ≥ 0):
            // pull the known-positive factors out, `√((k ψ₁(k) − 1)/β²) = √(k ψ₁(k) − 1)/β`.
            C::Prod(k, fs) if fs.iter().any(|(b, _)| self.positive(b)) => {
                let (pos, rest): (Factors, Factors) =
                    fs.iter().cloned().partition(|(b, _)| self.positive(b));
                let inner = if k.value() > 0.0 {
                    let p = self.pow(Rc::new(prod_from(k.value(), pos)), e.clone());
                    (p, prod_from(1.0, rest))
                } else {
                    let p = self.pow(Rc::new(prod_from(1.0, pos)), e.clone());
                    (p, prod_from(k.value(), rest))
                };
                let q = C::Prod(Constant::new(1.0), vec![(Rc::new(inner.1), e)]);
                self.mul(Rc::new(inner.0), Rc::new(q))
            }
            _ => C::Prod(Constant::new(1.0), vec![(a, e)]),
        }
    }

    /// Whether a canonical expression is known positive from the facts.
    fn positive(&self, c: &C) -> bool {
        match c {
            C::Num(k) => k.value() > 0.0,
            C::Sym(Name(s)) => self.facts.is_positive(*s),
            C::Pi | C::Euler => true,
            C::Call(Func(Op::Exp(_)), _) => true,
            C::Sum(t, k) => {
                k.value() >= 0.0
                    && !t.is_empty()
                    && t.iter().all(|(x, c)| c.value() > 0.0 && self.positive(x))
            }
            C::Prod(k, fs) => k.value() > 0.0 && fs.iter().all(|(b, _)| self.positive(b)),
            _ => false,
        }
    }

    fn call(&self, op: &Op, args: Vec<Rc<C>>) -> C {
        let x = args.first().and_then(|a| a.value());
        let folded = match (op, x) {
            (Op::Ln(_), Some(1.0)) => Some(0.0),
            (Op::Ln(_), _) if matches!(&*args[0], C::Euler) => Some(1.0),
            (Op::Exp(_), Some(0.0)) => Some(1.0),
            (Op::Log1p(_), Some(0.0)) => Some(0.0),
            (Op::Expm1(_), Some(0.0)) => Some(0.0),
            (Op::Lgamma(_), Some(v)) if v == 1.0 || v == 2.0 => Some(0.0),
            (Op::Sin(_), Some(0.0)) => Some(0.0),
            (Op::Cos(_), Some(0.0)) => Some(1.0),
            (Op::Sigmoid(_), Some(0.0)) => Some(0.5),
            (Op::Abs(_), Some(v)) => Some(v.abs()),
            (Op::Sign(_), Some(v)) if v != 0.0 => Some(v.signum()),
            (Op::Sign(_), Some(_)) => Some(0.0),
            _ => None,
        };
        if let Some(v) = folded {
            return num(v);
        }
        // ln(exp u) = u and exp(ln u)… only the first is unconditional.
        if let (Op::Ln(_), C::Call(Func(Op::Exp(_)), inner)) = (op, &*args[0]) {
            return (*inner[0]).clone();
        }
        C::Call(Func(op.clone()), args)
    }
}

/// The positive numeric content of a sum, if it is not 1: the gcd of its coefficients when
/// they are all integers, else the absolute constant when every coefficient divided by it
/// stays short.
fn content(terms: &[(Rc<C>, Constant)], constant: f64) -> Option<f64> {
    let coefs: Vec<f64> = terms
        .iter()
        .map(|(_, c)| c.value())
        .chain([constant])
        .collect();
    let integral = coefs.iter().all(|c| *c == c.trunc() && c.abs() < 1e12);
    let g = if integral {
        coefs.iter().fold(0u64, |g, c| gcd(g, c.abs() as u64)) as f64
    } else if constant != 0.0 {
        let g = constant.abs();
        let short = coefs.iter().all(|c| crate::expr::number(c / g).len() <= 6);
        if short { g } else { 1.0 }
    } else {
        1.0
    };
    (g > 0.0 && g != 1.0).then_some(g)
}

/// The fraction `1/n` (`2 ≤ n ≤ 64`, the least) by which every coefficient of a sum is an
/// integer multiple, if some coefficient is not an integer (`a/2 − b/2`: `1/2`;
/// `a − b/2`: `1/2`), so that the numerator of a fraction reads `(a − b)/2`, `(2a − b)/2`.
fn unit_content(c: &C) -> Option<f64> {
    let C::Sum(terms, k) = c else { return None };
    let coefs: Vec<f64> = terms
        .iter()
        .map(|(_, c)| c.value())
        .chain([k.value()])
        .filter(|c| *c != 0.0)
        .collect();
    if coefs.iter().all(|c| c.fract() == 0.0) {
        return None;
    }
    (2..=64u32).map(f64::from).find_map(|n| {
        coefs
            .iter()
            .all(|c| {
                let m = c * n;
                m.fract() == 0.0 && m.abs() < 1e6
            })
            .then_some(1.0 / n)
    })
}

/// Whether the name `v` occurs anywhere in `c`.
fn mentions(c: &C, v: Symbol) -> bool {
    match c {
        C::Sym(Name(s)) => *s == v,
        C::Num(_) | C::Pi | C::Euler => false,
        C::Sum(t, _) => t.iter().any(|(x, _)| mentions(x, v)),
        C::Prod(_, fs) => fs.iter().any(|(b, e)| mentions(b, v) || mentions(e, v)),
        C::Call(_, args) => args.iter().any(|a| mentions(a, v)),
    }
}

/// The printed size of a canonical expression, roughly: its names, numbers and operators.
fn size(c: &C) -> usize {
    match c {
        C::Num(_) | C::Sym(_) | C::Pi | C::Euler => 1,
        C::Call(_, args) => 1 + args.iter().map(|a| size(a)).sum::<usize>(),
        C::Sum(terms, k) => {
            let parts = terms.len() + usize::from(k.value() != 0.0);
            let coefs = terms.iter().filter(|(_, c)| c.value().abs() != 1.0).count();
            let inner: usize = terms.iter().map(|(t, _)| size(t)).sum();
            inner + 2 * coefs + usize::from(k.value() != 0.0) + parts.saturating_sub(1)
        }
        C::Prod(k, fs) => {
            let coef = if k.value().abs() == 1.0 { 0 } else { 2 };
            let inner: usize = fs
                .iter()
                .map(|(b, e)| {
                    size(b)
                        + if e.value() == Some(1.0) {
                            0
                        } else {
                            1 + size(e)
                        }
                })
                .sum();
            coef + inner + fs.len().saturating_sub(1)
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `x^y` for numbers when the result reads exactly: integer powers with an integer or a
/// short result (`2^(−1) = 0.5`), and exact integer roots (`4^0.5 = 2`).
fn fold_pow(x: f64, y: f64) -> Option<f64> {
    let v = x.powf(y);
    if !v.is_finite() {
        return None;
    }
    if y == y.trunc() && y >= 0.0 && v.abs() < 1e15 {
        return Some(v);
    }
    let short = crate::expr::number(v).len() <= 6;
    if y == y.trunc() && short {
        return Some(v);
    }
    if v == v.trunc() && v.powf(1.0 / y) == x {
        return Some(v);
    }
    None
}

/// `k·x^y` for numbers when it reads exactly: `x^y` folds ([`fold_pow`]), or `y` is a
/// negative integer and `k` divided by the integer `x^(−y)` is an integer or a short decimal
/// that multiplies back to `k` (`18·9^(−1) = 2`, `3·6^(−1) = 0.5`, but `1·3^(−1)` stays).
fn fold_scaled_pow(k: f64, x: f64, y: f64) -> Option<f64> {
    if let Some(v) = fold_pow(x, y) {
        let kv = k * v;
        return (kv.is_finite() && (v == v.trunc() || kv / v == k)).then_some(kv);
    }
    if y >= 0.0 || y != y.trunc() {
        return None;
    }
    let d = fold_pow(x, -y).filter(|d| *d == d.trunc() && *d != 0.0)?;
    let q = k / d;
    let exact = q * d == k && (q == q.trunc() || crate::expr::number(q).len() <= 6);
    exact.then_some(q)
}

/// Inserts `coef·term` into sorted distinct terms, adding coefficients of equal terms. A sum
/// of coefficients within rounding of zero relative to its operands (`6.25e9 − 6.25e9` off
/// by an ulp, `0.1 + 0.2 − 0.3`) is zero: left in, it becomes a wrong non-zero entry
/// (`4.8e-7·a³/b³` where `F_ab = 0`).
fn insert_term(terms: &mut Vec<(Rc<C>, Constant)>, term: Rc<C>, coef: f64) {
    if coef == 0.0 {
        return;
    }
    match terms.binary_search_by(|(t, _)| t.as_ref().cmp(&term)) {
        Ok(i) => {
            let old = terms[i].1.value();
            let c = old + coef;
            if c.abs() <= 8.0 * f64::EPSILON * (old.abs() + coef.abs()) {
                terms.remove(i);
            } else {
                terms[i].1 = Constant::new(c);
            }
        }
        Err(i) => terms.insert(i, (term, Constant::new(coef))),
    }
}

fn sum_from(mut terms: Vec<(Rc<C>, Constant)>, mut constant: f64) -> C {
    // A term that is a number once its coefficient is applied (`9·9^(−1)`) is constant.
    terms.retain(|(t, k)| match &**t {
        C::Prod(pk, fs)
            if fs
                .iter()
                .all(|(b, e)| b.value().is_some() && e.value().is_some()) =>
        {
            match prod_from(k.value() * pk.value(), fs.clone()) {
                C::Num(v) => {
                    constant += v.value();
                    false
                }
                _ => true,
            }
        }
        _ => true,
    });
    if terms.is_empty() {
        return num(constant);
    }
    if terms.len() == 1 && constant == 0.0 {
        let (t, k) = terms
            .into_iter()
            .next()
            .unwrap_or_else(|| (Rc::new(num(0.0)), Constant::new(1.0)));
        if k.value() == 1.0 {
            return own(t);
        }
        let (_, fs) = factors_of(t);
        return prod_from(k.value(), fs);
    }
    C::Sum(terms, Constant::new(constant))
}

/// (coefficient, factors) of a canonical expression.
fn factors_of(c: Rc<C>) -> (f64, Factors) {
    match &*c {
        C::Num(k) => (k.value(), Vec::new()),
        C::Prod(..) => match own(c) {
            C::Prod(k, fs) => (k.value(), fs),
            _ => (1.0, Vec::new()),
        },
        _ => (1.0, vec![(c, Rc::new(num(1.0)))]),
    }
}

fn prod_from(mut coef: f64, mut fs: Vec<(Rc<C>, Rc<C>)>) -> C {
    // A numeric base whose power reads exactly joins the coefficient (`9^1·135 = 1215`), so
    // a numeric factor is never left beside the coefficient where like terms would miss it.
    fs.retain(|(b, e)| match (b.value(), e.value()) {
        (Some(x), Some(y)) => match fold_scaled_pow(coef, x, y) {
            Some(v) => {
                coef = v;
                false
            }
            None => true,
        },
        _ => true,
    });
    if coef == 0.0 {
        return num(0.0);
    }
    if fs.is_empty() {
        return num(coef);
    }
    // A number times a single sum distributes: k(a + b) = ka + kb, so that like terms
    // across the parentheses meet (`x − (x − μ) = μ`).
    if coef != 1.0 && fs.len() == 1 && fs[0].1.value() == Some(1.0) {
        if let C::Sum(terms, k) = &*fs[0].0 {
            let terms = terms
                .iter()
                .map(|(t, c)| (t.clone(), Constant::new(coef * c.value())))
                .collect();
            return C::Sum(terms, Constant::new(coef * k.value()));
        }
    }
    if coef == 1.0 && fs.len() == 1 && fs[0].1.value() == Some(1.0) {
        let (b, _) = fs
            .into_iter()
            .next()
            .unwrap_or_else(|| (Rc::new(num(1.0)), Rc::new(num(1.0))));
        return own(b);
    }
    C::Prod(Constant::new(coef), fs)
}

/// Writes canonical expressions back as binary `Op` trees, left-nested, in display order:
/// positive terms, a positive constant, negative terms, a negative constant; factors with
/// the coefficient first.
struct Emitter {
    b: Builder,
    memo: FxHashMap<*const C, Id>,
}

impl Emitter {
    fn emit(&mut self, c: &Rc<C>) -> Id {
        let key = Rc::as_ptr(c);
        if let Some(id) = self.memo.get(&key) {
            return *id;
        }
        let id = self.emit_node(c);
        self.memo.insert(key, id);
        id
    }

    fn emit_node(&mut self, c: &C) -> Id {
        match c {
            C::Num(k) => self.b.node(Op::Num(*k)),
            C::Sym(Name(s)) => self.b.node(Op::Sym(*s)),
            C::Pi => self.b.node(Op::Pi),
            C::Euler => self.b.node(Op::Euler),
            C::Call(Func(op), args) => {
                let ids: Vec<Id> = args.iter().map(|a| self.emit(a)).collect();
                let mut i = 0;
                let node = op.clone().map_children(|_| {
                    let id = ids[i.min(ids.len() - 1)];
                    i += 1;
                    id
                });
                self.b.node(node)
            }
            C::Sum(terms, k) => {
                let k = k.value();
                let mut order: Vec<Option<&(Rc<C>, Constant)>> = Vec::new();
                // NaN coefficients and a NaN constant go with the positive ones, never dropped
                let first = |c: f64| c > 0.0 || c.is_nan();
                order.extend(terms.iter().filter(|(_, c)| first(c.value())).map(Some));
                if first(k) {
                    order.push(None);
                }
                order.extend(terms.iter().filter(|(_, c)| c.value() < 0.0).map(Some));
                if k < 0.0 {
                    order.push(None);
                }
                let mut acc: Option<Id> = None;
                for t in order {
                    let id = match t {
                        None => self.b.node(Op::Num(Constant::new(k))),
                        Some((term, coef)) => self.term(term, coef.value()),
                    };
                    acc = Some(match acc {
                        None => id,
                        Some(a) => self.b.node(Op::Add([a, id])),
                    });
                }
                acc.unwrap_or_else(|| self.b.node(Op::Num(Constant::new(0.0))))
            }
            C::Prod(k, fs) => self.product(k.value(), fs),
        }
    }

    fn term(&mut self, term: &Rc<C>, coef: f64) -> Id {
        if coef == 1.0 {
            return self.emit(term);
        }
        match &**term {
            C::Prod(k, fs) => self.product(coef * k.value(), fs),
            _ => {
                let k = self.b.node(Op::Num(Constant::new(coef)));
                let t = self.emit(term);
                self.b.node(Op::Mul([k, t]))
            }
        }
    }

    fn product(&mut self, coef: f64, fs: &[(Rc<C>, Rc<C>)]) -> Id {
        let mut acc: Option<Id> = None;
        if coef != 1.0 {
            acc = Some(self.b.node(Op::Num(Constant::new(coef))));
        }
        for (base, exp) in fs {
            let b = self.emit(base);
            let f = if exp.value() == Some(1.0) {
                b
            } else {
                let e = self.emit(exp);
                self.b.node(Op::Pow([b, e]))
            };
            acc = Some(match acc {
                None => f,
                Some(a) => self.b.node(Op::Mul([a, f])),
            });
        }
        acc.unwrap_or_else(|| self.b.node(Op::Num(Constant::new(coef))))
    }
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
            assert_eq!(together(&e, &f).to_string(), expected, "{input}");
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
            assert_eq!(together(&e, &f).to_string(), expected, "{input}");
        }
    }
}
