//! The presentation view of an expression shared by the text and LaTeX printers.
//!
//! Chains of `+`/`-` become signed sums, chains of `*`/`/` become fractions with numerator
//! and denominator factors, `a·b^(−k)` becomes `a/b^k`, and a numeric coefficient that is a
//! simple fraction (`0.5`) becomes a denominator (`x/2`). Chains are walked with loops, so
//! a sum of ten thousand terms does not deepen the recursion.

use egg::{Id, Language, Symbol};

use super::{Expr, Op};

/// A node of the presentation view.
#[derive(Debug, Clone)]
pub enum Pretty {
    /// A non-negative number.
    Num(f64),
    /// A name.
    Sym(Symbol),
    /// π.
    Pi,
    /// e.
    Euler,
    /// A sum of terms; `true` marks a subtracted term. At least two terms, or one negated.
    Sum(Vec<(bool, Pretty)>),
    /// `num / den` where both are lists of factors (an empty numerator is `1`).
    Frac(Vec<Pretty>, Vec<Pretty>),
    /// `base ^ exponent`.
    Pow(Box<Pretty>, Box<Pretty>),
    /// A function call by its operator; arguments in order.
    Call(Op, Vec<Pretty>),
}

impl Pretty {
    /// Builds the presentation view of `expr`.
    pub fn of(expr: &Expr) -> Pretty {
        of_id(expr, expr.root())
    }

    /// Number of nodes of the expression as printed: leaves, operators (`a - b + c` has
    /// two) and function calls.
    pub fn size(&self) -> usize {
        match self {
            Pretty::Num(_) | Pretty::Sym(_) | Pretty::Pi | Pretty::Euler => 1,
            Pretty::Sum(t) => t.len().max(2) - 1 + t.iter().map(|(_, p)| p.size()).sum::<usize>(),
            Pretty::Frac(n, d) => {
                let ops = n.len().saturating_sub(1)
                    + d.len().saturating_sub(1)
                    + usize::from(!d.is_empty());
                let n_size = if n.is_empty() {
                    1
                } else {
                    n.iter().map(Pretty::size).sum()
                };
                ops + n_size + d.iter().map(Pretty::size).sum::<usize>()
            }
            Pretty::Pow(b, x) => 1 + b.size() + x.size(),
            Pretty::Call(_, args) => 1 + args.iter().map(Pretty::size).sum::<usize>(),
        }
    }
}

fn of_id(e: &Expr, id: Id) -> Pretty {
    let (neg, p) = view(e, id);
    if neg { Pretty::Sum(vec![(true, p)]) } else { p }
}

/// The view of node `id` as (is negated, magnitude).
fn view(e: &Expr, id: Id) -> (bool, Pretty) {
    let nodes = e.nodes();
    match &nodes[usize::from(id)] {
        Op::Num(c) => {
            let v = c.value();
            let (neg, a) = (v < 0.0, v.abs());
            // A simple fraction reads as one: `1/2`, not `0.5`.
            match simple_fraction(a) {
                Some((p, q)) if q > 1.0 => (
                    neg,
                    Pretty::Frac(vec![Pretty::Num(p)], vec![Pretty::Num(q)]),
                ),
                _ => (neg, Pretty::Num(a)),
            }
        }
        Op::Sym(s) => (false, Pretty::Sym(*s)),
        Op::Pi => (false, Pretty::Pi),
        Op::Euler => (false, Pretty::Euler),
        Op::Add(_) | Op::Sub(_) => {
            let mut terms = Vec::new();
            collect_terms(e, id, false, &mut terms);
            (false, Pretty::Sum(terms))
        }
        Op::Neg([a]) => {
            let (neg, p) = view(e, *a);
            (!neg, p)
        }
        Op::Mul(_) | Op::Div(_) => product(e, id),
        Op::Pow([b, x]) => {
            if let Op::Num(c) = &nodes[usize::from(*x)] {
                if c.value() < 0.0 {
                    return product(e, id);
                }
            }
            (false, power(e, *b, *x))
        }
        op => {
            let args = op.children().iter().map(|c| of_id(e, *c)).collect();
            (false, Pretty::Call(op.clone(), args))
        }
    }
}

/// `b ^ x` with a non-negative or non-numeric exponent; `b^0.5` becomes `sqrt(b)`.
fn power(e: &Expr, b: Id, x: Id) -> Pretty {
    let base = of_id(e, b);
    match &e.nodes()[usize::from(x)] {
        Op::Num(c) if c.value() == 1.0 => base,
        Op::Num(c) if c.value() == 0.5 => Pretty::Call(Op::Sqrt([b]), vec![base]),
        _ => Pretty::Pow(Box::new(base), Box::new(of_id(e, x))),
    }
}

/// Collects the signed terms of an `+`/`-` chain, walking the left spine with a loop.
fn collect_terms(e: &Expr, id: Id, negate: bool, out: &mut Vec<(bool, Pretty)>) {
    let nodes = e.nodes();
    let mut rights = Vec::new();
    let mut cur = id;
    let mut neg = negate;
    loop {
        match &nodes[usize::from(cur)] {
            Op::Add([a, b]) => {
                rights.push((neg, *b));
                cur = *a;
            }
            Op::Sub([a, b]) => {
                rights.push((!neg, *b));
                cur = *a;
            }
            Op::Neg([a]) if matches!(nodes[usize::from(*a)], Op::Add(_) | Op::Sub(_)) => {
                neg = !neg;
                cur = *a;
            }
            _ => {
                let (n, p) = view(e, cur);
                push_term(out, neg ^ n, p);
                break;
            }
        }
    }
    for (neg, b) in rights.into_iter().rev() {
        if matches!(nodes[usize::from(b)], Op::Add(_) | Op::Sub(_)) {
            collect_terms(e, b, neg, out);
        } else {
            let (n, p) = view(e, b);
            push_term(out, neg ^ n, p);
        }
    }
}

fn push_term(out: &mut Vec<(bool, Pretty)>, neg: bool, p: Pretty) {
    match p {
        Pretty::Sum(inner) => out.extend(inner.into_iter().map(|(n, t)| (n ^ neg, t))),
        p => out.push((neg, p)),
    }
}

/// The view of a `*`/`/` chain as a signed fraction.
fn product(e: &Expr, id: Id) -> (bool, Pretty) {
    let mut num = Vec::new();
    let mut den = Vec::new();
    let mut coef = 1.0f64;
    let mut den_coef = 1.0f64;
    let mut neg = false;
    collect_factors(
        e,
        id,
        false,
        &mut num,
        &mut den,
        &mut coef,
        &mut den_coef,
        &mut neg,
    );
    if coef < 0.0 {
        neg = !neg;
        coef = -coef;
    }
    let ratio = coef / den_coef;
    let (p, q) = simple_fraction(ratio).unwrap_or((ratio, 1.0));
    if q != 1.0 {
        den.insert(0, Pretty::Num(q));
    }
    if p != 1.0 || (num.is_empty() && den.is_empty()) {
        num.insert(0, Pretty::Num(p));
    }
    if den.is_empty() && num.len() == 1 {
        return (neg, num.pop().unwrap_or(Pretty::Num(1.0)));
    }
    (neg, Pretty::Frac(num, den))
}

#[allow(clippy::too_many_arguments)] // the accumulators of one walk; a struct would only rename them
fn collect_factors(
    e: &Expr,
    id: Id,
    inverted: bool,
    num: &mut Vec<Pretty>,
    den: &mut Vec<Pretty>,
    coef: &mut f64,
    den_coef: &mut f64,
    neg: &mut bool,
) {
    let nodes = e.nodes();
    let mut rights = Vec::new();
    let mut cur = id;
    loop {
        match &nodes[usize::from(cur)] {
            Op::Mul([a, b]) => {
                rights.push((inverted, *b));
                cur = *a;
            }
            Op::Div([a, b]) => {
                rights.push((!inverted, *b));
                cur = *a;
            }
            _ => break,
        }
    }
    rights.push((inverted, cur));
    for (inv, f) in rights.into_iter().rev() {
        match &nodes[usize::from(f)] {
            Op::Mul(_) | Op::Div(_) => collect_factors(e, f, inv, num, den, coef, den_coef, neg),
            Op::Num(c) => {
                let v = c.value();
                if inv { *den_coef *= v } else { *coef *= v }
            }
            Op::Neg([a]) => {
                *neg = !*neg;
                collect_factors(e, *a, inv, num, den, coef, den_coef, neg);
            }
            Op::Pow([b, x]) if matches!(&nodes[usize::from(*x)], Op::Num(c) if c.value() < 0.0) => {
                let k = match &nodes[usize::from(*x)] {
                    Op::Num(c) => -c.value(),
                    _ => 1.0,
                };
                let base = of_id(e, *b);
                let p = if k == 1.0 {
                    base
                } else if k == 0.5 {
                    Pretty::Call(Op::Sqrt([*b]), vec![base])
                } else {
                    Pretty::Pow(Box::new(base), Box::new(Pretty::Num(k)))
                };
                if inv { num.push(p) } else { den.push(p) }
            }
            _ => {
                let (n, p) = view(e, f);
                if n {
                    *neg = !*neg;
                }
                match p {
                    Pretty::Num(v) => {
                        if inv {
                            *den_coef *= v
                        } else {
                            *coef *= v
                        }
                    }
                    Pretty::Frac(a, b) if !inv => {
                        num.extend(a);
                        den.extend(b);
                    }
                    Pretty::Frac(a, b) => {
                        num.extend(b);
                        den.extend(a);
                    }
                    p => {
                        if inv {
                            den.push(p)
                        } else {
                            num.push(p)
                        }
                    }
                }
            }
        }
    }
}

/// `v = p/q` with small positive integers `q ≤ 64` and an integer `p`, if exactly so in f64.
fn simple_fraction(v: f64) -> Option<(f64, f64)> {
    if !v.is_finite() {
        return None;
    }
    (1..=64).map(f64::from).find_map(|q| {
        let p = v * q;
        (p == p.round() && p.abs() < 1e15 && (p / q) == v).then_some((p, q))
    })
}
