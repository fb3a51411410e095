//! Simplification of expressions whose tree is much larger than their DAG.
//!
//! `let` definitions that reuse each other (`let t2 = t1*t1/(1 + t1^2)`, …) and their
//! derivatives are DAGs: each definition is stored once, but written out as a tree the
//! expression grows by a constant factor per line. The canonical pass and the e-graph work
//! on trees, so such an input is cut at its shared subexpressions: each piece, with the
//! pieces below it standing as opaque names, is simplified on its own, and the simplified
//! pieces are put back together as one DAG. Nothing is rewritten across a cut, so the result
//! is less simplified than a whole-tree search could make it, and the work is bounded by the
//! DAG size rather than the tree size. The cuts depend only on the input, so the result is
//! deterministic.

use std::collections::HashMap;

use egg::{Id, Language, Symbol};

use super::{Fact, Facts, Simplified, StopReason};
use crate::expr::{Builder, Expr, Op, cuts, piece};

/// A shared subexpression becomes a piece of its own when its tree, with the pieces below
/// it counted as one node each, has at least this many nodes; smaller shared parts are
/// simplified inside each piece that uses them.
pub const MIN_SHARED_PIECE: usize = 16;

/// A subexpression becomes a piece of its own, shared or not, when its tree (pieces below
/// counted as one node) reaches this many nodes, so that every piece is small enough for the
/// e-graph.
pub const MAX_PIECE: usize = 400;

/// The prefix of the names that stand for pieces while another piece is simplified. No model
/// name can hold a control character, so it never meets a real name.
const PLACEHOLDER: &str = "\u{1}piece";

/// How many times [`simplify`] cuts and simplifies: the cuts of the second round fall on
/// the simplified pieces of the first, so that parts that simplified to something small
/// (`t + 1` from a long form of it) meet their neighbours (`t + 1 - t` cancels).
pub const ROUNDS: usize = 2;

/// Simplifies `expr` one piece at a time with `simplify_piece`, which must not cut again,
/// in [`ROUNDS`] rounds; an intermediate result whose tree is at most `max_input` nodes is
/// simplified whole instead.
pub(crate) fn simplify(
    expr: &Expr,
    facts: &Facts,
    max_input: usize,
    simplify_piece: impl Fn(&Expr, &Facts) -> Simplified,
) -> Simplified {
    let before = expr.tree_size();
    let mut s = round(expr, facts, &simplify_piece);
    for _ in 1..ROUNDS {
        if s.expr.tree_size() <= max_input {
            let whole = simplify_piece(&s.expr, facts);
            return Simplified {
                before,
                stop: s.stop,
                ..whole
            };
        }
        let next = round(&s.expr, facts, &simplify_piece);
        s = Simplified {
            stop: match (s.stop, next.stop.clone()) {
                (
                    StopReason::Shared { pieces, skipped },
                    StopReason::Shared {
                        pieces: p,
                        skipped: k,
                    },
                ) => StopReason::Shared {
                    pieces: pieces + p,
                    skipped: skipped + k,
                },
                (_, stop) => stop,
            },
            ..next
        };
    }
    Simplified { before, ..s }
}

/// One round of [`simplify`]: cut, simplify every piece, put the pieces together.
///
/// A piece whose node is positive by [`Facts::positive_nodes`] stands as a positive name in
/// the pieces above it, so that `ln` and power rules still apply to it.
fn round(
    expr: &Expr,
    facts: &Facts,
    simplify_piece: &impl Fn(&Expr, &Facts) -> Simplified,
) -> Simplified {
    let before = expr.tree_size();
    let cut = cuts(expr, MIN_SHARED_PIECE, MAX_PIECE);
    let positive = facts.positive_nodes(expr);
    let mut facts = facts.clone();
    let mut names: Vec<Option<Symbol>> = vec![None; cut.len()];
    let mut index: HashMap<Symbol, usize> = HashMap::new();
    for (i, c) in cut.iter().enumerate() {
        if *c {
            let name = Symbol::from(format!("{PLACEHOLDER}{i}"));
            names[i] = Some(name);
            index.insert(name, i);
            if positive[i] {
                facts.insert(name, Fact::Positive);
            }
        }
    }
    let mut out = Builder::default();
    let mut result: Vec<Option<Id>> = vec![None; cut.len()];
    let mut pieces = 0usize;
    let mut skipped = 0usize;
    for i in 0..cut.len() {
        if !cut[i] {
            continue;
        }
        let p = piece(expr, i, &cut, &names);
        let s = simplify_piece(&p, &facts);
        pieces += 1;
        if s.stop == StopReason::Skipped {
            skipped += 1;
        }
        let mut ids: Vec<Id> = Vec::with_capacity(s.expr.nodes().len());
        for node in s.expr.nodes() {
            let id = match node {
                Op::Sym(name) if index.contains_key(name) => {
                    result[index[name]].unwrap_or_else(|| out.num(f64::NAN))
                }
                _ => {
                    let n = node.clone().map_children(|c| ids[usize::from(c)]);
                    out.node(n)
                }
            };
            ids.push(id);
        }
        result[i] = Some(ids[usize::from(s.expr.root())]);
    }
    let root = result[cut.len() - 1].unwrap_or_else(|| out.num(f64::NAN));
    let e = out.finish(root);
    let after = e.tree_size();
    Simplified {
        expr: e,
        stop: StopReason::Shared { pieces, skipped },
        before,
        after,
    }
}
