//! Simplification for presentation and speed: a deterministic canonical pass
//! ([`canonicalize`]), then bounded equality saturation with egg ([`saturate`]) guided by
//! domain facts ([`Facts`]), then the canonical pass again ([`simplify`], [`simplify_with`]
//! within [`Limits`]). Simplification never changes a value at a point inside the declared domains.
//! [`derive()`] gives a model's score and Hessian simplified this way.

pub(crate) mod analysis;
mod blocks;
pub(crate) mod canon;
pub(crate) mod cost;
mod derivatives;
pub(crate) mod egraph;
pub(crate) mod rules;
mod shared;

use std::collections::BTreeMap;

use egg::Symbol;

use crate::expr::{Expr, Op};
use crate::model::{Domain, Model, Support};

pub use canon::canonicalize;
pub use derivatives::{
    Derivatives, Fallback, derivative_simplified, derive, gradient, hessian, hessian_of_gradient,
    partial,
};
pub use egraph::saturate;

/// What the declarations say about a name, used as side conditions of rewrite rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fact {
    /// Any real number.
    Real,
    /// Strictly positive.
    Positive,
    /// In the open unit interval (0, 1).
    Unit,
    /// A non-negative integer (binary and count data, integer ranges starting at 0 or above).
    NonNegativeInteger,
    /// An integer (an integer range that reaches below 0).
    Integer,
    /// In the open interval `(lo, hi)`.
    Interval(f64, f64),
    /// A named constant with this value.
    Const(f64),
}

/// Facts about the names of one model. Without a fact, a name is any real number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    map: BTreeMap<Symbol, Fact>,
    /// The data variables, so that a difference reads `x - mu` rather than `mu - x`.
    data: std::collections::BTreeSet<Symbol>,
}

impl Facts {
    /// No facts: every name is any real number.
    pub fn none() -> Facts {
        Facts::default()
    }

    /// The facts declared by a model: parameter domains, data supports and constant values.
    pub fn of(model: &Model) -> Facts {
        let mut facts = Facts::none();
        for p in &model.params {
            let fact = match p.domain {
                Domain::Real => Fact::Real,
                Domain::Positive => Fact::Positive,
                Domain::Unit => Fact::Unit,
                Domain::Interval(lo, hi) => Fact::Interval(lo.value(), hi.value()),
            };
            facts.insert(p.name, fact);
        }
        for d in &model.data {
            facts.data.insert(d.name);
            let fact = match d.support {
                Support::Real => Fact::Real,
                Support::Positive => Fact::Positive,
                Support::Unit => Fact::Unit,
                Support::Binary | Support::Count => Fact::NonNegativeInteger,
                Support::Int(lo, _) if lo >= 0 => Fact::NonNegativeInteger,
                Support::Int(..) => Fact::Integer,
            };
            facts.insert(d.name, fact);
        }
        for (name, value) in &model.consts {
            facts.insert(*name, Fact::Const(*value));
        }
        facts
    }

    /// Records a fact about `name`.
    pub fn insert(&mut self, name: Symbol, fact: Fact) {
        self.map.insert(name, fact);
    }

    /// The fact about `name`, if any.
    pub fn get(&self, name: Symbol) -> Option<Fact> {
        self.map.get(&name).copied()
    }

    /// Whether `name` is a data variable.
    pub fn is_data(&self, name: Symbol) -> bool {
        self.data.contains(&name)
    }

    /// Whether `name` is known to be strictly positive.
    pub fn is_positive(&self, name: Symbol) -> bool {
        match self.get(name) {
            Some(Fact::Positive | Fact::Unit) => true,
            Some(Fact::Const(v)) => v > 0.0,
            // (lo, hi) with lo ≥ 0 excludes lo itself
            Some(Fact::Interval(lo, _)) => lo >= 0.0,
            _ => false,
        }
    }

    /// Whether `name` is known to be non-negative.
    pub fn is_nonnegative(&self, name: Symbol) -> bool {
        self.is_positive(name)
            || matches!(self.get(name), Some(Fact::NonNegativeInteger))
            || matches!(self.get(name), Some(Fact::Const(v)) if v >= 0.0)
    }

    /// For every node of `expr`, whether it is known strictly positive from these facts by
    /// its syntax alone: positive numbers and names, `π`, `e`, `exp` and `sigmoid`, sums,
    /// products, quotients and powers of positive parts, and `c − u` with `c ≥ 1` and `u`
    /// in (0, 1). (The e-graph's sign analysis knows more; this is the cheap test used
    /// before simplifying, to split logs of products.)
    pub fn positive_nodes(&self, expr: &Expr) -> Vec<bool> {
        let nodes = expr.nodes();
        let mut positive: Vec<bool> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let p = |id: &egg::Id| positive[usize::from(*id)];
            let v = match node {
                Op::Num(c) => c.value() > 0.0,
                Op::Sym(s) => self.is_positive(*s),
                Op::Pi | Op::Euler | Op::Exp(_) | Op::Sigmoid(_) => true,
                Op::Mul([a, b]) | Op::Div([a, b]) | Op::Add([a, b]) => p(a) && p(b),
                Op::Pow([a, _]) | Op::Sqrt([a]) => p(a),
                Op::Sub([a, b]) => {
                    matches!(&nodes[usize::from(*a)], Op::Num(c) if c.value() >= 1.0)
                        && matches!(&nodes[usize::from(*b)], Op::Sym(s)
                            if self.get(*s) == Some(Fact::Unit))
                }
                _ => false,
            };
            positive.push(v);
        }
        positive
    }
}

/// Limits that bound the e-graph search; the defaults suit every built-in model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of egg iterations.
    pub iterations: usize,
    /// Maximum number of e-nodes.
    pub nodes: usize,
    /// Inputs larger than this many tree nodes skip the e-graph (canonical pass only).
    pub max_input: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            iterations: 12,
            nodes: 20_000,
            max_input: 2_000,
        }
    }
}

/// Why the e-graph search stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// No rule applies any more.
    Saturated,
    /// The iteration limit was reached.
    IterationLimit(usize),
    /// The node limit was reached.
    NodeLimit(usize),
    /// The input was larger than [`Limits::max_input`]; only the canonical pass ran.
    Skipped,
    /// The input's tree was larger than [`Limits::max_input`] nodes: it was simplified one
    /// shared subexpression at a time (`pieces` of them, `skipped` of which were still too
    /// large for the e-graph), without rewriting across them.
    Shared {
        /// How many pieces were simplified.
        pieces: usize,
        /// How many of them got the canonical pass only.
        skipped: usize,
    },
}

impl StopReason {
    /// Whether a budget made the result less simplified than an unbounded search would:
    /// the input skipped the e-graph or was simplified piecewise. (The iteration and node
    /// limits of the e-graph are reached on most inputs and only trim the search.)
    pub fn fell_back(&self) -> bool {
        matches!(self, StopReason::Skipped | StopReason::Shared { .. })
    }
}

/// The result of a simplification with its size before and after.
#[derive(Debug, Clone)]
pub struct Simplified {
    /// The simplified expression.
    pub expr: Expr,
    /// Why the e-graph search stopped.
    pub stop: StopReason,
    /// Tree size of the input.
    pub before: usize,
    /// Tree size of the output.
    pub after: usize,
}

/// The shorter (by printed size) of [`simplify`] and `simplify` after
/// bringing sums over a common denominator: `1/(p(1 − p)) + 1/p²`-style sums of fractions come out over one
/// denominator when that reads shorter, and stay apart otherwise.
///
/// The common-denominator form is a second candidate, searched with a smaller budget
/// ([`TOGETHER_NODES`] e-nodes): its expanded numerator is where the factoring rules grow
/// the e-graph fastest. It is not searched when it cannot win or would repeat the first
/// search: when the first result is a single leaf, when it has the same canonical form as
/// the input, or when it is more than [`TOGETHER_RATIO`] times the size of the first result.
pub fn simplest(expr: &Expr, facts: &Facts) -> Expr {
    simplest_report(expr, facts).expr
}

/// [`simplest`] with its stop reason and sizes. An input whose tree is larger than
/// [`Limits::max_input`] nodes is simplified one shared subexpression at a time (see
/// [`StopReason::Shared`]), each piece by the canonical pass and an e-graph search within
/// [`PIECE_LIMITS`], so that the work is bounded by its DAG size.
pub fn simplest_report(expr: &Expr, facts: &Facts) -> Simplified {
    if expr.tree_size() > Limits::default().max_input {
        let piece = |e: &Expr, f: &Facts| {
            simplify_canonical(canon::canonicalize(e, f), e.tree_size(), f, PIECE_LIMITS)
        };
        shared::simplify(expr, facts, Limits::default().max_input, piece)
    } else {
        simplest_piece(expr, facts, Limits::default())
    }
}

/// The e-graph limits for each piece of an input simplified piecewise ([`StopReason::Shared`]):
/// such inputs have hundreds of pieces, so each gets a smaller search than a whole input, and
/// no common-denominator candidate (on a 20-line `let` chain that candidate made `derive`
/// take 4.7 s instead of 0.5 s).
pub const PIECE_LIMITS: Limits = Limits {
    iterations: 6,
    nodes: 4_000,
    max_input: 2_000,
};

/// [`simplest`] on an input small enough to be worked on as a tree; a sum of independent
/// blocks one block at a time (see [`blocks`]).
fn simplest_piece(expr: &Expr, facts: &Facts, limits: Limits) -> Simplified {
    let before = expr.tree_size();
    let pair = canon::Pair::new(expr, facts);
    let c = pair.canonical();
    if let Some(groups) = blocks::split(&c, facts) {
        let parts = groups
            .iter()
            .map(|g| {
                let pair = canon::Pair::new(g, facts);
                let c = pair.canonical();
                simplest_connected(pair, c, g.tree_size(), facts, limits)
            })
            .collect();
        return blocks::join(parts, before, facts);
    }
    simplest_connected(pair, c, before, facts, limits)
}

/// [`simplest_piece`] on an input whose canonical form `c` (of `pair`) does not split.
fn simplest_connected(
    pair: canon::Pair<'_>,
    c: Expr,
    before: usize,
    facts: &Facts,
    limits: Limits,
) -> Simplified {
    let size = |e: &Expr| crate::expr::Pretty::of(e).size();
    let first = simplify_canonical(c.clone(), before, facts, limits);
    let a = first.expr.clone();
    let size_a = size(&a);
    // Nothing prints shorter than one leaf, and over a common denominator a monomial is
    // itself (checked with the search on random monomials in the tests).
    if size_a <= 1 || is_monomial(&c) {
        return first;
    }
    // Multiplying a large input out over a common denominator is where the canonical pass
    // can grow without bound (issue 10: a gamma whose shape is a polynomial in θ took
    // minutes); such inputs keep the first result.
    if c.tree_size() > TOGETHER_MAX_INPUT {
        return first;
    }
    let t = canon::canonicalize(&pair.together(), facts);
    if t == c || t.tree_size() as f64 > TOGETHER_RATIO * a.tree_size() as f64 {
        return first;
    }
    let together_limits = Limits {
        nodes: limits.nodes.min(TOGETHER_NODES),
        ..limits
    };
    let second = simplify_canonical(t, before, facts, together_limits);
    if size(&second.expr) + TOGETHER_MARGIN <= size_a {
        second
    } else {
        first
    }
}

/// How much shorter (in printed nodes) the common-denominator candidate of [`simplest`] must
/// be to win: one fraction over a long denominator reads no better than a sum of two short
/// ones of nearly the same size (`1/σ² − 3(x − μ)²/σ⁴`, not `−(3(x − μ)² − σ²)/σ⁴`).
pub const TOGETHER_MARGIN: usize = 2;

/// The largest canonical input (tree nodes) for which [`simplest`] tries the
/// common-denominator candidate.
pub const TOGETHER_MAX_INPUT: usize = 600;

/// The e-node budget of the common-denominator candidate in [`simplest`]. On the built-in
/// models, every such candidate that wins needs fewer than 150 e-nodes; the ones that grow
/// to thousands (mixtures, the categorical) lose.
pub const TOGETHER_NODES: usize = 500;

/// [`simplest`] skips the common-denominator candidate when its canonical form has more than
/// this many times the tree size of the first result: such candidates cost time and, on
/// the built-in models, never win (every printed formula is the same with 2 as with 1.5;
/// the two-component mixture's derivatives take 6.8 ms with 2, 5.0 ms with 1.5).
pub const TOGETHER_RATIO: f64 = 1.5;

/// Simplifies with the default limits.
pub fn simplify(expr: &Expr, facts: &Facts) -> Expr {
    simplify_with(expr, facts, Limits::default()).expr
}

/// Simplifies: canonical pass, bounded e-graph search, canonical pass; a sum of
/// independent blocks one block at a time (four or more blocks that share no parameter).
///
/// An input whose tree is larger than `limits.max_input` nodes is simplified one shared
/// subexpression at a time (see [`StopReason::Shared`]).
pub fn simplify_with(expr: &Expr, facts: &Facts, limits: Limits) -> Simplified {
    let whole = |e: &Expr, f: &Facts| {
        simplify_canonical(canon::canonicalize(e, f), e.tree_size(), f, limits)
    };
    if expr.tree_size() > limits.max_input {
        return shared::simplify(expr, facts, limits.max_input, whole);
    }
    let c = canon::canonicalize(expr, facts);
    match blocks::split(&c, facts) {
        Some(groups) => {
            let parts = groups.iter().map(|g| whole(g, facts)).collect();
            blocks::join(parts, expr.tree_size(), facts)
        }
        None => simplify_canonical(c, expr.tree_size(), facts, limits),
    }
}

/// Whether the canonical expression `c` is a product of a number and integer powers of
/// names (canonical bases are distinct): `−2·σ^(−3)`, `6·μ·σ^(−4)`, `σ^(−2)`.
fn is_monomial(c: &Expr) -> bool {
    let nodes = c.nodes();
    if !matches!(c.root_op(), Op::Mul(_) | Op::Pow(_)) {
        return false;
    }
    let mut stack = vec![c.root()];
    while let Some(id) = stack.pop() {
        match &nodes[usize::from(id)] {
            Op::Mul([a, b]) => stack.extend([*a, *b]),
            Op::Num(_) | Op::Sym(_) => {}
            Op::Pow([b, e]) => {
                let base = matches!(nodes[usize::from(*b)], Op::Sym(_));
                let integer = matches!(nodes[usize::from(*e)], Op::Num(k)
                    if k.value() == k.value().trunc() && k.value().abs() <= 64.0);
                if !(base && integer) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

/// The e-graph search and the closing canonical pass on `c`, already canonical.
fn simplify_canonical(c: Expr, before: usize, facts: &Facts, limits: Limits) -> Simplified {
    let (e, stop) = if c.nodes().len() == 1 || is_monomial(&c) {
        // A leaf: no rule has a leaf as its left side, so the search would return it as is.
        // A monomial `k·Π vᵢ^nᵢ` in distinct names with integer powers: the rules rewrite
        // only products with a repeated base, a sum, a function or a fractional power, so
        // the search comes back with the same canonical form (checked on random monomials
        // in the tests); most of a block-diagonal model's coefficients and derivatives are
        // such monomials (`−2/σ³`, `6μ/σ⁴`).
        (canon::canonicalize(&c, facts), StopReason::Saturated)
    } else if c.tree_size() > limits.max_input {
        (c, StopReason::Skipped)
    } else {
        let (e, stop) = egraph::saturate(&c, facts, limits);
        (canon::canonicalize(&e, facts), stop)
    };
    let after = e.tree_size();
    Simplified {
        expr: e,
        stop,
        before,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Builder;

    /// The search on a monomial gives back its canonical form, and so does the common
    /// denominator, so [`simplify_canonical`] and [`simplest`] may skip them
    /// ([`is_monomial`]): random monomials over names of every kind of fact.
    #[test]
    fn the_search_leaves_monomials_as_they_are() {
        let mut facts = Facts::none();
        let names = [
            ("a", Fact::Real),
            ("b", Fact::Positive),
            ("u", Fact::Unit),
            ("n", Fact::Const(3.0)),
            ("k", Fact::NonNegativeInteger),
            ("w", Fact::Interval(-1.0, 1.0)),
        ];
        for (n, f) in names {
            facts.insert(n.into(), f);
        }
        facts.data.insert("x".into());
        let coefs = [1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, 6.0, -1.5, 0.25];
        // a fixed linear congruential sequence: deterministic cases
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % m
        };
        let mut checked = 0;
        for _ in 0..400 {
            let mut b = Builder::default();
            let mut acc = b.num(coefs[next(coefs.len() as u64) as usize]);
            let count = 1 + next(3) as usize;
            let mut used = Vec::new();
            for _ in 0..count {
                let all = ["a", "b", "u", "n", "k", "w", "x"];
                let name = all[next(all.len() as u64) as usize];
                if used.contains(&name) {
                    continue;
                }
                used.push(name);
                let s = b.sym(name.into());
                let e = next(9) as f64 - 4.0;
                let e = if e == 0.0 { 1.0 } else { e };
                let e = b.num(e);
                let p = b.pow(s, e);
                acc = b.mul(acc, p);
            }
            let c = canon::canonicalize(&b.finish(acc), &facts);
            if !is_monomial(&c) {
                continue;
            }
            let (searched, _) = egraph::saturate(&c, &facts, Limits::default());
            assert_eq!(
                canon::canonicalize(&searched, &facts),
                canon::canonicalize(&c, &facts),
                "{c}"
            );
            let together = canon::Pair::new(&c, &facts).together();
            assert_eq!(canon::canonicalize(&together, &facts), c, "{c}");
            checked += 1;
        }
        assert!(checked > 300, "{checked}");
    }
}
