//! Symbolic differentiation: one match arm per operator, to any order.
//!
//! The derivative is built bottom-up over the nodes of the expression (forward mode), so
//! it needs no recursion however deep the expression is, and shared subexpressions are
//! differentiated once. Nodes that do not mention the variable are not visited (their
//! derivative is 0), and values are built only where a rule reads them, so a derivative by
//! one block's parameter of a sum of independent blocks costs that block. Nothing here
//! simplifies: simplified scores and Hessians
//! ([`crate::simplify::derive`]) differentiate the simplified lower derivatives.

use egg::{Id, Language, Symbol};

use crate::expr::{Builder, Expr, Op};

/// The derivative `∂expr/∂var`, unsimplified (only `0`/`1` identities are folded).
///
/// ```
/// use fisher_geometry::{Expr, derivative};
/// use fisher_geometry::expr::ln;
/// let sigma = Expr::sym("sigma");
/// let d = derivative(&ln(&sigma), "sigma".into());
/// assert_eq!(d.to_string(), "1/sigma"); // d/dσ ln σ = 1/σ
/// ```
pub fn derivative(expr: &Expr, var: Symbol) -> Expr {
    let nodes = expr.nodes();
    let n = nodes.len();
    // Which nodes mention `var`: the others have derivative 0 and are not visited, so that
    // the derivative of a sum of independent blocks by one block's parameter costs that
    // block, not the whole sum.
    let mut has = vec![false; n];
    for (i, node) in nodes.iter().enumerate() {
        has[i] = match node {
            Op::Sym(s) => *s == var,
            _ => node.children().iter().any(|c| has[usize::from(*c)]),
        };
    }
    // Which values the rules use: a node that mentions `var` and is not a sum, difference
    // or negation needs its own value and its children's (and a value needs its children's).
    let mut need = vec![false; n];
    for i in (0..n).rev() {
        need[i] = need[i]
            || (has[i] && !matches!(nodes[i], Op::Add(_) | Op::Sub(_) | Op::Neg(_) | Op::Sym(_)));
        if need[i] {
            for c in nodes[i].children() {
                need[usize::from(*c)] = true;
            }
        }
    }
    let mut b = Builder::default();
    let zero = b.num(0.0);
    let mut val: Vec<Id> = Vec::with_capacity(n);
    let mut der: Vec<Id> = Vec::with_capacity(n);
    for (i, node) in nodes.iter().enumerate() {
        // `zero` stands for a value no rule reads.
        let v = if need[i] {
            b.node(node.clone().map_children(|c| val[usize::from(c)]))
        } else {
            zero
        };
        if !has[i] {
            val.push(v);
            der.push(zero);
            continue;
        }
        let d = |c: &Id| der[usize::from(*c)];
        let vl = |c: &Id| val[usize::from(*c)];
        let dv = match node {
            Op::Num(_) | Op::Pi | Op::Euler | Op::Sign(_) => b.num(0.0),
            Op::Sym(s) => b.num(if *s == var { 1.0 } else { 0.0 }),
            Op::Add([x, y]) => b.add(d(x), d(y)),
            Op::Sub([x, y]) => b.sub(d(x), d(y)),
            Op::Neg([x]) => b.neg(d(x)),
            // (xy)' = x'y + xy'
            Op::Mul([x, y]) => {
                let l = b.mul(d(x), vl(y));
                let r = b.mul(vl(x), d(y));
                b.add(l, r)
            }
            // (x/y)' = x'/y − x y'/y²
            Op::Div([x, y]) => {
                let l = b.div(d(x), vl(y));
                let two = b.num(2.0);
                let y2 = b.pow(vl(y), two);
                let num = b.mul(vl(x), d(y));
                let r = b.div(num, y2);
                b.sub(l, r)
            }
            Op::Pow([x, y]) => {
                let (dx, dy) = (d(x), d(y));
                if b.value(dy) == Some(0.0) {
                    // (x^c)' = c x^(c−1) x'
                    let one = b.num(1.0);
                    let cm1 = b.sub(vl(y), one);
                    let p = b.pow(vl(x), cm1);
                    let cp = b.mul(vl(y), p);
                    b.mul(cp, dx)
                } else {
                    // (x^y)' = x^y (y' ln x + y x'/x)
                    let lnx = b.unary(Op::Ln, vl(x));
                    let t1 = b.mul(dy, lnx);
                    let yx = b.mul(vl(y), dx);
                    let t2 = b.div(yx, vl(x));
                    let s = b.add(t1, t2);
                    b.mul(v, s)
                }
            }
            // (ln x)' = x'/x
            Op::Ln([x]) => b.div(d(x), vl(x)),
            // (exp x)' = exp(x) x'
            Op::Exp([x]) => b.mul(v, d(x)),
            // (√x)' = x'/(2√x)
            Op::Sqrt([x]) => {
                let two = b.num(2.0);
                let den = b.mul(two, v);
                b.div(d(x), den)
            }
            // (log1p x)' = x'/(1 + x)
            Op::Log1p([x]) => {
                let one = b.num(1.0);
                let den = b.add(one, vl(x));
                b.div(d(x), den)
            }
            // (expm1 x)' = exp(x) x'
            Op::Expm1([x]) => {
                let f = b.unary(Op::Exp, vl(x));
                b.mul(f, d(x))
            }
            // (ln Γ(x))' = ψ(x) x'
            Op::Lgamma([x]) => {
                let f = b.unary(Op::Digamma, vl(x));
                b.mul(f, d(x))
            }
            // ψ'(x) = ψ₁(x)
            Op::Digamma([x]) => {
                let f = b.unary(Op::Trigamma, vl(x));
                b.mul(f, d(x))
            }
            // ψ₁'(x) = ψ⁽²⁾(x)
            Op::Trigamma([x]) => {
                let two = b.num(2.0);
                let f = b.node(Op::Polygamma([two, vl(x)]));
                b.mul(f, d(x))
            }
            // ψ⁽ⁿ⁾'(x) = ψ⁽ⁿ⁺¹⁾(x); the order is a constant (checked when the model is built)
            Op::Polygamma([k, x]) => {
                let one = b.num(1.0);
                let k1 = b.add(vl(k), one);
                let f = b.node(Op::Polygamma([k1, vl(x)]));
                b.mul(f, d(x))
            }
            // σ'(x) = σ(x)(1 − σ(x)) x'
            Op::Sigmoid([x]) => {
                let one = b.num(1.0);
                let c = b.sub(one, v);
                let s = b.mul(v, c);
                b.mul(s, d(x))
            }
            // |x|' = sign(x) x'
            Op::Abs([x]) => {
                let s = b.unary(Op::Sign, vl(x));
                b.mul(s, d(x))
            }
            // sin' = cos
            Op::Sin([x]) => {
                let c = b.unary(Op::Cos, vl(x));
                b.mul(c, d(x))
            }
            // cos' = −sin
            Op::Cos([x]) => {
                let s = b.unary(Op::Sin, vl(x));
                let ns = b.neg(s);
                b.mul(ns, d(x))
            }
        };
        val.push(v);
        der.push(dv);
    }
    b.finish(der[usize::from(expr.root())])
}
