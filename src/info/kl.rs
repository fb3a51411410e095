//! KL divergence `D(θ‖θ') = E_θ[ℓ(x; θ) − ℓ(x; θ')]`, in closed form on the score-identity
//! route: `D = Σ_k (c_k(θ) − c_k(θ'))·m_k(θ) + r(θ) − r(θ')`.

use std::collections::HashMap;

use egg::{Id, Language, Symbol};

use crate::expect::exact::{RouteError, moments, separate};
use crate::expr::{Builder, Expr, Op, Pretty};
use crate::model::Model;
use crate::simplify::canon::expand;
use crate::simplify::{Facts, simplest as tidy};

/// Suffix that names the parameters of the second argument `θ'`: `mu` → `mu_q`.
pub const Q_SUFFIX: &str = "_q";

/// A closed-form KL divergence between two members of a family.
#[derive(Debug, Clone)]
pub struct ClosedKl {
    /// `D(θ‖θ')` as an expression in the parameters (θ) and their `_q` copies (θ').
    pub expr: Expr,
    /// `(θ_j, θ'_j)` name pairs in parameter order.
    pub names: Vec<(Symbol, Symbol)>,
}

/// The name of parameter `p` in the second argument: `p_q`, or `p_q2`, `p_q3`, … if the
/// model already uses that name.
pub(crate) fn q_name(model: &Model, p: Symbol) -> Symbol {
    let taken = |s: &str| {
        model.params.iter().any(|x| x.name.as_str() == s)
            || model.data.iter().any(|x| x.name.as_str() == s)
            || model.consts.iter().any(|(x, _)| x.as_str() == s)
    };
    let base = format!("{}{Q_SUFFIX}", p.as_str());
    let mut name = base.clone();
    let mut k = 2;
    while taken(&name) {
        name = format!("{base}{k}");
        k += 1;
    }
    Symbol::from(name)
}

/// `D(θ‖θ')` in closed form.
///
/// ```
/// use fisher_geometry::{Model, closed_kl};
/// let kl = closed_kl(&Model::builtin("poisson")?)?;
/// // D(λ‖λ') = λ ln(λ/λ') − λ + λ'
/// assert_eq!(kl.expr.to_string(), "rate_q - rate - rate*(ln(rate_q) - ln(rate))");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A [`RouteError`] when the route does not apply or the moments are not determined.
pub fn closed_kl(model: &Model) -> Result<ClosedKl, RouteError> {
    let mut facts = Facts::of(model);
    let names: Vec<(Symbol, Symbol)> = model
        .params
        .iter()
        .map(|p| (p.name, q_name(model, p.name)))
        .collect();
    for (p, q) in &names {
        if let Some(f) = facts.get(*p) {
            facts.insert(*q, f);
        }
    }
    let to_q: HashMap<Symbol, Expr> = names
        .iter()
        .map(|(p, q)| (*p, Expr::sym(q.as_str())))
        .collect();
    let sep = separate(model)?;
    let m = moments(model, sep)?;
    let mut b = Builder::default();
    let r = b.copy(&m.separation.rest);
    let rq = b.copy(&m.separation.rest.substitute(&to_q));
    let mut acc = b.sub(r, rq);
    for ((_, c), mk) in m.separation.stats.iter().zip(&m.values) {
        let cp = b.copy(c);
        let cq = b.copy(&c.substitute(&to_q));
        let dc = b.sub(cp, cq);
        let mk = b.copy(mk);
        let t = b.mul(dc, mk);
        acc = b.add(acc, t);
    }
    let raw = b.finish(acc);
    // The two halves of the divergence mirror each other (`ln(2πσ²) − ln(2πσ'²)`,
    // `μ²(a + b)/2 − μ²a/2`): with logs of positive products split and products multiplied
    // out, their common parts cancel. The shortest of the three forms is kept.
    let split = split_logs(&raw, &facts);
    let candidates = [
        tidy(&raw, &facts),
        tidy(&split, &facts),
        tidy(&expand(&split, &facts), &facts),
    ];
    let size = |e: &Expr| Pretty::of(e).size();
    let expr = candidates
        .into_iter()
        .reduce(|best, e| if size(&e) < size(&best) { e } else { best })
        .unwrap_or_else(|| Expr::num(0.0));
    Ok(ClosedKl { expr, names })
}

/// `expr` with the log of every product, quotient or power of factors known positive from
/// the facts written as a sum of logs: `ln(2πσ²) = ln 2 + ln π + 2 ln σ`.
fn split_logs(expr: &Expr, facts: &Facts) -> Expr {
    let nodes = expr.nodes();
    let positive = facts.positive_nodes(expr);
    let mut b = Builder::default();
    let mut ids: Vec<Id> = Vec::with_capacity(nodes.len());
    // ln of node `i`, split while its factors are positive.
    fn ln_of(i: usize, nodes: &[Op], positive: &[bool], ids: &[Id], b: &mut Builder) -> Id {
        let ix = |id: &Id| usize::from(*id);
        match &nodes[i] {
            Op::Mul([x, y]) if positive[ix(x)] && positive[ix(y)] => {
                let (lx, ly) = (
                    ln_of(ix(x), nodes, positive, ids, b),
                    ln_of(ix(y), nodes, positive, ids, b),
                );
                b.add(lx, ly)
            }
            Op::Div([x, y]) if positive[ix(x)] && positive[ix(y)] => {
                let (lx, ly) = (
                    ln_of(ix(x), nodes, positive, ids, b),
                    ln_of(ix(y), nodes, positive, ids, b),
                );
                b.sub(lx, ly)
            }
            Op::Pow([x, k]) if positive[ix(x)] => {
                let lx = ln_of(ix(x), nodes, positive, ids, b);
                b.mul(ids[ix(k)], lx)
            }
            Op::Sqrt([x]) if positive[ix(x)] => {
                let lx = ln_of(ix(x), nodes, positive, ids, b);
                let half = b.num(0.5);
                b.mul(half, lx)
            }
            Op::Exp([x]) => ids[ix(x)],
            _ => b.unary(Op::Ln, ids[i]),
        }
    }
    for node in nodes {
        let id = match node {
            Op::Ln([a]) => ln_of(usize::from(*a), nodes, &positive, &ids, &mut b),
            _ => b.node(node.clone().map_children(|c| ids[usize::from(c)])),
        };
        ids.push(id);
    }
    b.finish(ids[usize::from(expr.root())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simplify::Fact;

    #[test]
    fn logs_split_only_over_positive_factors() {
        let mut facts = Facts::none();
        facts.insert("s".into(), Fact::Positive);
        facts.insert("m".into(), Fact::Real);
        let e = |src: &str| {
            let m = Model::parse(
                &format!(
                    "data x : real\nparam s : positive\nparam m : real\nlogp = x*(s + m) + {src}"
                ),
                "t",
            )
            .unwrap();
            // the θ-only part: the log-density minus x·(s + m)
            let x = Expr::sym("x");
            let rest = &m.logp - &(&x * &(Expr::sym("s") + Expr::sym("m")));
            split_logs(&rest, &facts).to_string()
        };
        // ln(2πs²) = ln 2 + ln π + 2 ln s; ln(s/3) = ln s − ln 3; ln(exp(m)) = m
        assert_eq!(
            e("ln(2*pi*s^2)"),
            "x*(s + m) + ln(2) + ln(pi) + 2*ln(s) - x*(s + m)"
        );
        assert_eq!(e("ln(s/3)"), "x*(s + m) + ln(s) - ln(3) - x*(s + m)");
        // m may be negative: ln(m·s) stays whole
        assert_eq!(e("ln(m^2*s)"), "x*(s + m) + ln(m^2*s) - x*(s + m)");
    }
}
