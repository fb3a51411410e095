//! Shared subexpressions: where a DAG is cut into pieces, the pieces themselves, and the
//! `let` form of a list of expressions ([`with_lets`]), which prints each large shared
//! subexpression once as a `let` line instead of once per use.

use std::collections::HashMap;

use egg::{Id, Language, RecExpr, Symbol};

use super::{Builder, Expr, Op};

/// Where `expr` is cut into pieces: `cut[i]` marks node `i`. A node is cut when it is not a
/// leaf and its tree, with the pieces below it counted as one node each, has at least
/// `min_shared` nodes and more than one parent, or at least `max_piece` nodes. The root is
/// always cut. Linear in the number of nodes.
pub fn cuts(expr: &Expr, min_shared: usize, max_piece: usize) -> Vec<bool> {
    let mut cut = cuts_with_refs(expr.nodes(), &refs(expr.nodes()), min_shared, max_piece);
    if let Some(last) = cut.last_mut() {
        *last = true;
    }
    cut
}

/// How many parents each node has.
fn refs(nodes: &[Op]) -> Vec<usize> {
    let mut refs = vec![0usize; nodes.len()];
    for node in nodes {
        for c in node.children() {
            refs[usize::from(*c)] += 1;
        }
    }
    refs
}

fn cuts_with_refs(nodes: &[Op], refs: &[usize], min_shared: usize, max_piece: usize) -> Vec<bool> {
    let mut cut = vec![false; nodes.len()];
    let mut size = vec![0usize; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        let s = node.children().iter().fold(1usize, |acc, c| {
            let k = usize::from(*c);
            acc.saturating_add(if cut[k] { 1 } else { size[k] })
        });
        size[i] = s;
        cut[i] = !node.is_leaf() && ((refs[i] >= 2 && s >= min_shared) || s >= max_piece);
    }
    cut
}

/// The piece of `expr` rooted at node `i`: its nodes down to the cut nodes below it
/// ([`cuts`]), each cut node `k` with a name replaced by the name `names[k]`.
///
/// # Panics
///
/// If `i` is not a node of `expr`, or `cut` and `names` are shorter than `i + 1`.
pub fn piece(expr: &Expr, i: usize, cut: &[bool], names: &[Option<Symbol>]) -> Expr {
    let nodes = expr.nodes();
    // The nodes of the piece: reachable from `i` without passing through another cut.
    let mut inside = vec![false; i + 1];
    inside[i] = true;
    for j in (0..=i).rev() {
        if !inside[j] || (j != i && cut[j] && names[j].is_some()) {
            continue;
        }
        for c in nodes[j].children() {
            inside[usize::from(*c)] = true;
        }
    }
    let mut b = Builder::default();
    let mut ids: HashMap<usize, Id> = HashMap::new();
    for j in 0..=i {
        if !inside[j] {
            continue;
        }
        let id = match names[j] {
            Some(name) if j != i && cut[j] => b.sym(name),
            _ => {
                let n = nodes[j].clone().map_children(|c| ids[&usize::from(c)]);
                b.node(n)
            }
        };
        ids.insert(j, id);
    }
    b.finish(ids[&i])
}

/// A list of expressions with their large shared subexpressions named: each `let` may use
/// the ones before it, and substituting them back in order gives the original expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct Lets {
    /// `let NAME = EXPR` definitions in dependency order.
    pub lets: Vec<(Symbol, Expr)>,
    /// The expressions, written with the names of `lets`.
    pub exprs: Vec<Expr>,
}

/// A shared subexpression is written as a `let` only if it prints with at least this many
/// nodes (names, numbers, operators, calls), the `let` names below it counted as one.
pub const MIN_LET_SIZE: usize = 8;

/// The text and LaTeX reports use `let` lines only when writing every expression out in full
/// would take more than this many tree nodes (every built-in model takes fewer).
pub const MIN_LETS_TREE: usize = 5_000;

/// JSON expressions stay self-contained strings unless writing them out in full would take
/// more than this many tree nodes (then they use a `lets` field).
pub const MIN_JSON_LETS_TREE: usize = 50_000;

/// Names the large shared subexpressions of `exprs` (across all of them), when writing them
/// out in full would take more than `min_tree` tree nodes and more than twice as many as the
/// `let` form; otherwise returns them as they are, with no `let`. New names are `v1`, `v2`,
/// … skipping every name for which `taken` is true. The work is linear in the number of
/// distinct nodes.
pub fn with_lets(exprs: &[&Expr], min_tree: usize, taken: impl Fn(&str) -> bool) -> Lets {
    let unchanged = || Lets {
        lets: Vec::new(),
        exprs: exprs.iter().map(|e| (*e).clone()).collect(),
    };
    let total = exprs
        .iter()
        .fold(0usize, |acc, e| acc.saturating_add(e.tree_size()));
    if total <= min_tree {
        return unchanged();
    }
    // All expressions in one hash-consed DAG, so that sharing across them counts.
    let mut b = Builder::default();
    let roots: Vec<Id> = exprs.iter().map(|e| b.copy(e)).collect();
    let all = Expr(RecExpr::from(b.rec.as_ref().to_vec()));
    let nodes = all.nodes();
    let mut refs = refs(nodes);
    for r in &roots {
        refs[usize::from(*r)] += 1;
    }
    let cut = cuts_with_refs(nodes, &refs, MIN_LET_SIZE, usize::MAX);
    // The printed size of the `let` form: each let and each expression once.
    let mut size = vec![0usize; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        size[i] = node.children().iter().fold(1usize, |acc, c| {
            let k = usize::from(*c);
            acc.saturating_add(if cut[k] { 1 } else { size[k] })
        });
    }
    let lets_size = (0..nodes.len())
        .filter(|i| cut[*i])
        .map(|i| size[i] + 1)
        .chain(roots.iter().map(|r| size[usize::from(*r)]))
        .fold(0usize, usize::saturating_add);
    if total <= lets_size.saturating_mul(2) {
        return unchanged();
    }
    let mut names: Vec<Option<Symbol>> = vec![None; nodes.len()];
    let mut counter = 0usize;
    let mut lets = Vec::new();
    for i in 0..nodes.len() {
        if !cut[i] {
            continue;
        }
        let name = loop {
            counter += 1;
            let candidate = format!("v{counter}");
            if !taken(&candidate) {
                break Symbol::from(candidate);
            }
        };
        lets.push((name, piece(&all, i, &cut, &names)));
        names[i] = Some(name);
    }
    let exprs = roots
        .iter()
        .map(|r| {
            let i = usize::from(*r);
            match names[i] {
                Some(name) => Expr::sym(name.as_str()),
                None => piece(&all, i, &cut, &names),
            }
        })
        .collect();
    Lets { lets, exprs }
}
