//! The kinks of an expression: its `abs` and `sign` nodes, found by one scan for every use
//! (the quadrature's cuts in the data, the kinks in θ of `info`, the moving pieces of the KL
//! Hessians), and where an affine argument crosses zero.

use std::collections::BTreeSet;

use egg::{Language, Symbol};

use crate::expr::{Expr, Op};

/// An `abs(u)` or `sign(u)` node of an expression: a kink (`abs`) or a jump (`sign`) where
/// `u` crosses zero.
#[derive(Debug, Clone)]
pub(crate) struct KinkNode {
    /// The index of the node in the expression's [`nodes`](Expr::nodes).
    pub node: usize,
    /// `sign(u)` rather than `abs(u)`.
    pub is_sign: bool,
    /// The argument `u`.
    pub arg: Expr,
    /// The names `u` depends on.
    pub names: BTreeSet<Symbol>,
    /// Whether a power makes the node twice differentiable where `u` crosses zero: `abs(u^k)`,
    /// or `abs(u)` used only as the base of `abs(u)^k`, for an even integer `k ≥ 2` or any
    /// `k ≥ 3` (`|u|³` has second derivative `6|u|`).
    pub smoothed: bool,
}

impl KinkNode {
    /// Whether the argument depends on `name`.
    pub fn depends_on(&self, name: Symbol) -> bool {
        self.names.contains(&name)
    }

    /// The node itself: `abs(u)` or `sign(u)`.
    pub fn expr(&self) -> Expr {
        Expr::apply(
            |ids| {
                if self.is_sign {
                    Op::Sign([ids[0]])
                } else {
                    Op::Abs([ids[0]])
                }
            },
            &[&self.arg],
        )
    }
}

/// Every `abs` and `sign` node of `expr`, in the order of its nodes.
pub(crate) fn kink_nodes(expr: &Expr) -> Vec<KinkNode> {
    let nodes = expr.nodes();
    if !nodes.iter().any(|n| matches!(n, Op::Abs(_) | Op::Sign(_))) {
        return Vec::new();
    }
    let smoothing = |k: &egg::Id| match &nodes[usize::from(*k)] {
        Op::Num(c) => {
            let k = c.value();
            k >= 3.0 || (k >= 2.0 && k.fract() == 0.0 && k % 2.0 == 0.0)
        }
        _ => false,
    };
    // (all uses, uses as the base of a smoothing power) of each node
    let mut uses = vec![(0usize, 0usize); nodes.len()];
    for n in nodes {
        for c in n.children() {
            uses[usize::from(*c)].0 += 1;
        }
        if let Op::Pow([b, k]) = n {
            if smoothing(k) {
                uses[usize::from(*b)].1 += 1;
            }
        }
    }
    nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let (Op::Abs([a]) | Op::Sign([a])) = n else {
                return None;
            };
            let is_sign = matches!(n, Op::Sign(_));
            let smoothed = !is_sign
                && (matches!(&nodes[usize::from(*a)], Op::Pow([_, k]) if smoothing(k))
                    || (uses[i].0 > 0 && uses[i].0 == uses[i].1));
            let arg = expr.subexpr(*a);
            Some(KinkNode {
                node: i,
                is_sign,
                names: arg.symbols(),
                arg,
                smoothed,
            })
        })
        .collect()
}

/// The root and slope of `a(t)` when it is affine with a non-zero slope (tested at `t` = 0,
/// 1, 2 to relative 1e-12): where `abs(a)` or `sign(a)` has its kink.
pub(crate) fn affine_root(a: impl Fn(f64) -> Option<f64>) -> Option<(f64, f64)> {
    let (a0, a1, a2) = (a(0.0)?, a(1.0)?, a(2.0)?);
    let slope = a1 - a0;
    let affine = ((a2 - a1) - slope).abs() <= 1e-12 * slope.abs().max(a0.abs()).max(1.0);
    let root = -a0 / slope;
    (affine && slope != 0.0 && root.is_finite()).then_some((root, slope))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(src: &str) -> Vec<KinkNode> {
        let model = crate::model::Model::parse(
            &format!("data x : real\nparam mu : real\nparam b : positive\nlogp = {src}"),
            "t",
        )
        .unwrap();
        kink_nodes(&model.logp)
    }

    #[test]
    fn the_scan_finds_each_node_with_its_names() {
        let ks = scan("-abs(x - mu)/b + 0.1*sign(x)");
        assert_eq!(ks.len(), 2);
        let abs = ks.iter().find(|k| !k.is_sign).unwrap();
        assert!(abs.depends_on("x".into()) && abs.depends_on("mu".into()));
        assert!(!abs.depends_on("b".into()));
        assert_eq!(crate::expr::text(&abs.expr()).to_string(), "abs(x - mu)");
        let sign = ks.iter().find(|k| k.is_sign).unwrap();
        assert_eq!(sign.names.len(), 1);
        assert_eq!(crate::expr::text(&sign.expr()).to_string(), "sign(x)");
        assert!(scan("-(x - mu)^2/b").is_empty());
    }

    #[test]
    fn powers_smooth_abs_but_not_sign() {
        let smoothed = |src: &str| scan(src).iter().all(|k| k.smoothed);
        assert!(smoothed("-abs(x - mu)^3/b"));
        assert!(smoothed("-abs((x - mu)^2)/b"));
        assert!(!smoothed("-abs(x - mu)^1.5/b"));
        assert!(!smoothed("-abs(x - mu)/b"));
        // used both smoothed and bare: a kink
        assert!(!smoothed("-abs(x - mu)^3/b - abs(x - mu)"));
        assert!(!smoothed("-sign(x - mu)^2/b"));
    }

    #[test]
    fn affine_arguments_have_roots() {
        assert_eq!(affine_root(|t| Some(2.0 * t - 3.0)), Some((1.5, 2.0)));
        assert_eq!(affine_root(|t| Some(t * t - 1.0)), None);
        assert_eq!(affine_root(|_| Some(1.0)), None);
    }
}
