//! Shared subexpressions: where a DAG is cut into pieces, the pieces themselves, and the
//! `let` form of a list of expressions ([`with_named_lets`]), which prints each large shared
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
///
/// `known` are the model's own `let` definitions (each written out in full, in the form the
/// expressions use): a subexpression equal to one of them, used more than once
/// or large enough to be a `let` anyway, is printed under the model's name for it rather
/// than a new `v` name.
pub fn with_named_lets(
    exprs: &[&Expr],
    min_tree: usize,
    taken: impl Fn(&str) -> bool,
    known: &[(Symbol, Expr)],
) -> Lets {
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
    let len = b.rec.as_ref().len();
    // The known definitions join the same hash-consed DAG: one that is already a node of the
    // expressions gets that node's index; the nodes it adds (after `len`) are dropped.
    let mut known_at: HashMap<usize, Symbol> = HashMap::new();
    for (name, e) in known {
        let i = usize::from(b.copy(e));
        if i < len {
            known_at.entry(i).or_insert(*name);
        }
    }
    let all = Expr(RecExpr::from(b.rec.as_ref()[..len].to_vec()));
    let nodes = all.nodes();
    let mut refs = refs(nodes);
    for r in &roots {
        refs[usize::from(*r)] += 1;
    }
    let mut cut = cuts_with_refs(nodes, &refs, MIN_LET_SIZE, usize::MAX);
    for &i in known_at.keys() {
        if refs[i] >= 2 && !nodes[i].is_leaf() {
            cut[i] = true;
        }
    }
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
        let name = match known_at.get(&i) {
            Some(name) => *name,
            None => loop {
                counter += 1;
                let candidate = format!("v{counter}");
                if !taken(&candidate) {
                    break Symbol::from(candidate);
                }
            },
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::expr::ops::sin;

    /// `t1 = sin(a)`, `t_{k+1} = t_k·t_k + sin(t_k)`: a tree of about 3^n nodes, a DAG of
    /// about 4n.
    fn chain(n: usize) -> Expr {
        let mut t = sin(Expr::sym("a"));
        for _ in 1..n {
            t = &(&t * &t) + &sin(&t);
        }
        t
    }

    #[test]
    fn a_chain_is_cut_at_each_link() {
        let e = chain(12);
        assert!(e.tree_size() > 100_000 && e.dag_size() < 60);
        let cut = cuts(&e, 2, usize::MAX);
        // Each link below the root is shared by the product and the sine above it; the root
        // is always cut.
        assert_eq!(cut.iter().filter(|c| **c).count(), 12);
    }

    /// Expression `i` of `out` with its lets substituted back in order.
    fn inlined(out: &Lets, i: usize) -> Expr {
        let mut map: HashMap<Symbol, Expr> = HashMap::new();
        for (name, def) in &out.lets {
            let full = def.substitute(&map);
            map.insert(*name, full);
        }
        out.exprs[i].substitute(&map)
    }

    #[test]
    fn lets_substituted_back_give_the_expressions() {
        let (e, f) = (chain(14), chain(9));
        let out = with_named_lets(&[&e, &f], MIN_LETS_TREE, |n| n == "v2", &[]);
        assert!(!out.lets.is_empty());
        assert!(out.lets.iter().all(|(n, _)| n.as_str() != "v2"));
        assert_eq!(inlined(&out, 0), e);
        assert_eq!(inlined(&out, 1), f);
        let printed: usize = out
            .lets
            .iter()
            .map(|(_, d)| d.to_string().len())
            .chain(out.exprs.iter().map(|x| x.to_string().len()))
            .sum();
        assert!(printed < 2_000, "{printed}");
    }

    #[test]
    fn known_definitions_keep_their_names() {
        // `t = sin(a)` used by every link, and a name for a definition that does not occur.
        let e = chain(14);
        let t = sin(Expr::sym("a"));
        let known = [
            (Symbol::from("t"), t.clone()),
            (Symbol::from("absent"), sin(Expr::sym("b"))),
        ];
        let out = with_named_lets(&[&e], MIN_LETS_TREE, |_| false, &known);
        assert_eq!(out.lets[0], (Symbol::from("t"), t));
        assert!(out.lets.iter().all(|(n, _)| n.as_str() != "absent"));
        assert_eq!(inlined(&out, 0), e);
    }

    #[test]
    fn small_expressions_get_no_lets() {
        let e = chain(3);
        let out = with_named_lets(&[&e], MIN_LETS_TREE, |_| false, &[]);
        assert!(out.lets.is_empty());
        assert_eq!(out.exprs, vec![e]);
    }
}
