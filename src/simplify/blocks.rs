//! Sums of independent blocks: a sum whose terms fall into groups that share no name
//! (`Σ_i f_i(μ_i, σ_i, x_i)`, a diagonal normal's log-density) is simplified one group at a
//! time and the results are added up by the canonical pass.
//!
//! No rewrite rule relates terms without a common name except by merging them into one node
//! (`ln a + ln b = ln(ab)`), and an e-graph that may merge any subset of `n` independent
//! terms holds up to `2ⁿ` merged forms: eight independent `ln σ_i` took 60 ms and
//! thirty-two hit the node limit. Apart, each group costs what it costs alone, so the work
//! grows linearly with the number of groups. Terms free of parameters (`ln(2π)/2`, `x²/2`)
//! form one group of their own; named constants (`const n = 10`) join nothing. A sum splits
//! only when at least [`MIN_BLOCKS`] groups hold parameters: a sum of one block and data
//! terms (`h²/(2λ²) + 1/(2λ) − x²/2`) or of a few blocks (`ln(rate) + ln(x) − ψ(shape)`) is
//! searched whole as before.

use egg::{Id, Symbol};

use super::{Fact, Facts, Simplified, StopReason};
use crate::expr::{Builder, Expr, Op};

/// A sum splits when at least this many of its groups hold parameters. Fewer are searched
/// whole: the search is cheap for them (four `ln σ_i` take 3 ms, eight 60 ms), and the
/// merged forms it finds read well (`ln(rate) + ln(x) = ln(rate·x)`, the gamma's score).
pub const MIN_BLOCKS: usize = 4;

/// The groups of the top-level sum of `c` (a canonical expression) that share no name, each
/// as a sum of its terms in their order in `c`, the terms free of parameters (no name, or
/// data names only) last; `None` when fewer than [`MIN_BLOCKS`] groups mention a parameter
/// (a name that is neither data nor a named constant).
pub(crate) fn split(c: &Expr, facts: &Facts) -> Option<Vec<Expr>> {
    if !matches!(c.root_op(), Op::Add(_)) {
        return None;
    }
    let terms = terms(c);
    // union–find over the names, each term joined to its first name
    let mut names: Vec<Symbol> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut first: Vec<Option<usize>> = Vec::with_capacity(terms.len());
    for t in &terms {
        let mut head: Option<usize> = None;
        for s in c.subexpr(*t).symbols() {
            if matches!(facts.get(s), Some(Fact::Const(_))) {
                continue;
            }
            let i = match names.iter().position(|n| *n == s) {
                Some(i) => i,
                None => {
                    names.push(s);
                    parent.push(parent.len());
                    names.len() - 1
                }
            };
            match head {
                None => head = Some(find(&mut parent, i)),
                Some(h) => {
                    let (a, b) = (find(&mut parent, h), find(&mut parent, i));
                    parent[a.max(b)] = a.min(b);
                    head = Some(a.min(b));
                }
            }
        }
        first.push(head);
    }
    // groups in the order of their first term; the name-free terms after them
    let mut roots: Vec<usize> = Vec::new();
    let mut group: Vec<Option<usize>> = Vec::with_capacity(terms.len());
    for h in &first {
        group.push(h.map(|h| {
            let r = find(&mut parent, h);
            match roots.iter().position(|x| *x == r) {
                Some(g) => g,
                None => {
                    roots.push(r);
                    roots.len() - 1
                }
            }
        }));
    }
    // a group of data names only (`x²/2`) is free of the parameters: it joins the name-free
    // terms, and a sum that splits only into parameters and data stays whole
    let free = roots.len();
    let mut counts = vec![false; roots.len()];
    for (i, s) in names.iter().enumerate() {
        if !facts.is_data(*s) {
            let r = find(&mut parent, i);
            if let Some(g) = roots.iter().position(|x| *x == r) {
                counts[g] = true;
            }
        }
    }
    if counts.iter().filter(|c| **c).count() < MIN_BLOCKS {
        return None;
    }
    let mut members: Vec<Vec<Id>> = vec![Vec::new(); roots.len() + 1];
    for (t, g) in terms.iter().zip(&group) {
        let g = g.filter(|g| counts[*g]).unwrap_or(free);
        members[g].push(*t);
    }
    Some(
        members
            .into_iter()
            .filter(|m| !m.is_empty())
            .map(|m| {
                let mut b = Builder::default();
                let mut acc: Option<Id> = None;
                for t in m {
                    let id = b.copy(&c.subexpr(t));
                    acc = Some(match acc {
                        None => id,
                        Some(a) => b.node(Op::Add([a, id])),
                    });
                }
                let root = acc.unwrap_or_else(|| b.num(0.0));
                b.finish(root)
            })
            .collect(),
    )
}

/// The terms of the top-level sum of `c`, left to right (a canonical sum is a left-nested
/// chain of `+`, and no term is itself a sum).
fn terms(c: &Expr) -> Vec<Id> {
    let nodes = c.nodes();
    let mut out = Vec::new();
    let mut stack = vec![c.root()];
    while let Some(id) = stack.pop() {
        match &nodes[usize::from(id)] {
            Op::Add([a, b]) => stack.extend([*b, *a]),
            _ => out.push(id),
        }
    }
    out
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The sum of the simplified groups, through the canonical pass, with the sizes of the
/// whole: `before` is the tree size of the input; the stop reason is the first one that
/// fell back ([`StopReason::fell_back`]), else a limit that some group reached, else
/// [`StopReason::Saturated`].
pub(crate) fn join(parts: Vec<Simplified>, before: usize, facts: &Facts) -> Simplified {
    let mut b = Builder::default();
    let mut acc: Option<Id> = None;
    let mut stop = StopReason::Saturated;
    for p in &parts {
        let id = b.copy(&p.expr);
        acc = Some(match acc {
            None => id,
            Some(a) => b.add(a, id),
        });
        let rank = |s: &StopReason| match s {
            StopReason::Saturated => 0,
            StopReason::IterationLimit(_) | StopReason::NodeLimit(_) => 1,
            StopReason::Skipped | StopReason::Shared { .. } => 2,
        };
        if rank(&p.stop) > rank(&stop) {
            stop = p.stop.clone();
        }
    }
    let root = acc.unwrap_or_else(|| b.num(0.0));
    let expr = super::canon::canonicalize(&b.finish(root), facts);
    let after = expr.tree_size();
    Simplified {
        expr,
        stop,
        before,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    fn model(src: &str) -> (Expr, Facts) {
        let m = Model::parse(src, "t").unwrap();
        let f = Facts::of(&m);
        (super::super::canon::canonicalize(&m.logp, &f), f)
    }

    #[test]
    fn independent_terms_split_into_groups_and_free_terms_last() {
        let (c, f) = model(
            "data x : real\ndata y : real\ndata z : real\nparam a : real\nparam b : positive\n\
             param c : positive\nparam d : real\nparam g : positive\n\
             logp = -(x - a)^2/(2*b^2) - ln(b) - ln(2*pi)/2 - ln(c) - y*c - d^2 - ln(g) - z^2",
        );
        let groups: Vec<String> = split(&c, &f)
            .unwrap()
            .iter()
            .map(|g| g.to_string())
            .collect();
        // {a, b, x}, {c, y}, {d}, {g}, then ln(2π)/2 with the data-only z²
        assert_eq!(groups.len(), 5, "{groups:?}");
        for p in ["a", "b", "c", "d", "g"] {
            let holding = groups.iter().filter(|g| g.contains(p)).count();
            assert_eq!(holding, 1, "{p} in {groups:?}");
        }
        assert!(groups.iter().any(|g| g.contains('a') && g.contains('x')));
        assert!(groups.iter().any(|g| g.contains('c') && g.contains('y')));
        let free = &groups[4];
        assert!(free.contains("pi") && free.contains('z'), "{groups:?}");
    }

    #[test]
    fn connected_sums_and_few_blocks_do_not_split() {
        // every term meets the others through sigma (the constant alone is not a group)
        let (c, f) = model(
            "data x : real\nparam mu : real\nparam sigma : positive\n\
             logp = -(x - mu)^2/(2*sigma^2) - ln(sigma) - ln(2*pi)/2",
        );
        assert!(split(&c, &f).is_none());
        // one block of parameters beside a data term (the normal's score in natural form)
        let (c, f) = model(
            "data x : real\nparam h : real\nparam l : positive\n\
             logp = h^2/(2*l^2) + 1/(2*l) - x^2/2",
        );
        assert!(split(&c, &f).is_none());
        // fewer than MIN_BLOCKS blocks: the gamma's score, whose logs merge
        let (c, f) = model(
            "data x : positive\nparam shape : positive\nparam rate : positive\n\
             logp = ln(rate) + ln(x) - digamma(shape)",
        );
        assert!(split(&c, &f).is_none());
        // named constants join nothing: four blocks
        let (c, f) = model(
            "const n = 3\ndata x : count\nparam p : unit\nparam q : unit\nparam r : unit\n\
             param t : unit\nlogp = n*ln(p) + n*ln(q) + n*ln(r) + n*ln(t) + x*ln(1 - p)",
        );
        assert_eq!(split(&c, &f).map(|g| g.len()), Some(4));
    }
}
