//! The ends of the unit supports: a quadrature node on (0, 1) carries its distance to 1
//! exactly (from the map's parameter), while `x` itself rounds to 1 near it. The
//! expressions read `1 − x` from a second input, the complement, and for points in the upper
//! half every form that would lose it to rounding is written in it ([`reflect`]); logs of
//! products of small factors are split so that they do not underflow ([`split_logs`]).

use egg::{Language, Symbol};

use crate::expr::{Builder, Expr, Op};
use crate::model::{Domain, Model, Support};

/// The name of the input that holds `1 − x` for a unit data variable `x` in the forms of
/// [`EndForms`] (a name no model can declare).
pub fn complement_symbol(x: Symbol) -> Symbol {
    complement_name(x)
}

/// An expression written for data points near the ends of the unit supports.
///
/// A quadrature node on (0, 1) carries its distance to 1 exactly (from the map's parameter,
/// not by subtraction), while `x` itself rounds to 1 within `1e-16` of it, where
/// `ln(1 − x^a)` would be `−∞`. The form for a data point reads `1 − x` from the input
/// [`complement_symbol`]`(x)`, and for each unit variable in the upper half (`1 − x < x`)
/// writes every subexpression that cancels near 1 in the complement
/// (`ln(1 − x^a) = ln(−expm1(a·log1p(−x̄)))`). The forms are exact rewrites of the
/// expression, one per combination of halves, made when first needed.
///
/// ```
/// use fisher_geometry::Model;
/// use fisher_geometry::{Env, eval_f64};
/// use fisher_geometry::{EndForms, complement_symbol};
/// let model = Model::parse(
///     "data x : unit\nparam a : positive\nparam b : positive\n\
///      logp = ln(a) + ln(b) + (a-1)*ln(x) + (b-1)*ln(1 - x^a)",
///     "kumaraswamy",
/// )?;
/// let mut forms = EndForms::new(&model, &model.logp);
/// let c = 1e-30; // x = 1 − 1e-30 rounds to 1
/// let form = forms.at(&[1.0], &[c]).clone();
/// let env = Env::new()
///     .with("x", 1.0)
///     .with(complement_symbol("x".into()), c)
///     .with("a", 2.0)
///     .with("b", 0.5);
/// let lp = eval_f64(&form, &env)?;
/// // ln 2 + ln 0.5 − 0.5·ln(1 − x²), with 1 − x² ≈ 2·1e-30
/// assert!((lp + 0.5 * (2e-30f64).ln()).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct EndForms {
    expr: Expr,
    /// `(data index, name)` of each unit variable.
    unit: Vec<(usize, Symbol)>,
    /// Names known positive.
    positive: Vec<Symbol>,
    forms: std::collections::HashMap<u64, Expr>,
}

impl EndForms {
    /// The forms of `expr` for the unit data variables of `model`.
    pub fn new(model: &Model, expr: &Expr) -> EndForms {
        let unit: Vec<(usize, Symbol)> = model
            .data
            .iter()
            .enumerate()
            .filter(|(_, d)| d.support == crate::model::Support::Unit)
            .map(|(j, d)| (j, d.name))
            .collect();
        let names: Vec<Symbol> = unit.iter().map(|(_, s)| *s).collect();
        EndForms {
            expr: use_complements(expr, &names),
            positive: positive_names(model),
            unit,
            forms: std::collections::HashMap::new(),
        }
    }

    /// The form for the data point `data` (in the model's data order) with
    /// `complements[j] = 1 − data[j]`.
    pub fn at(&mut self, data: &[f64], complements: &[f64]) -> &Expr {
        let upper = |j: usize| {
            complements
                .get(j)
                .zip(data.get(j))
                .is_some_and(|(c, x)| c < x)
        };
        let mask = self
            .unit
            .iter()
            .enumerate()
            .filter(|(_, (j, _))| upper(*j))
            .fold(0u64, |m, (b, _)| m | 1 << b);
        let (expr, unit, positive) = (&self.expr, &self.unit, &self.positive);
        self.forms.entry(mask).or_insert_with(|| {
            let names: Vec<Symbol> = unit
                .iter()
                .enumerate()
                .filter(|(b, _)| mask >> b & 1 == 1)
                .map(|(_, (_, s))| *s)
                .collect();
            split_logs(&reflect(expr, &names), positive)
        })
    }
}

/// The name of the complement input of data variable `x`.
pub(super) fn complement_name(x: Symbol) -> Symbol {
    Symbol::from(format!("1 - {x}"))
}

/// `expr` with every `1 − x`, `1 + (−x)`, `(−x) + 1` for `x` in `vars` replaced by the
/// complement input (and `x − 1` by its negative), and `log1p(−x)` by `ln` of it (`−x` also as `(−1)·x`, the canonical
/// form the simplifier produces).
pub(super) fn use_complements(expr: &Expr, vars: &[Symbol]) -> Expr {
    if vars.is_empty() {
        return expr.clone();
    }
    let nodes = expr.nodes();
    let var_of = |id: egg::Id| match &nodes[usize::from(id)] {
        Op::Sym(s) if vars.contains(s) => Some(*s),
        _ => None,
    };
    let num = |id: egg::Id, v: f64| matches!(&nodes[usize::from(id)], Op::Num(c) if c.value() == v);
    let one = |id: egg::Id| num(id, 1.0);
    // `−x`, `(−1)·x` or `x·(−1)`
    let neg_var_of = |id: egg::Id| match &nodes[usize::from(id)] {
        Op::Neg([a]) => var_of(*a),
        Op::Mul([m, a]) if num(*m, -1.0) => var_of(*a),
        Op::Mul([a, m]) if num(*m, -1.0) => var_of(*a),
        _ => None,
    };
    let mut b = Builder::default();
    let mut ids = Vec::with_capacity(nodes.len());
    for node in nodes {
        let comp = match node {
            Op::Sub([a, x]) if one(*a) => var_of(*x),
            Op::Add([a, x]) if one(*a) => neg_var_of(*x),
            Op::Add([x, a]) if one(*a) => neg_var_of(*x),
            _ => None,
        };
        // `x − 1`, `x + (−1)`, `(−1) + x`
        let minus_one = |id: egg::Id| num(id, -1.0);
        let negated = match node {
            Op::Sub([x, a]) if one(*a) => var_of(*x),
            Op::Add([a, x]) if minus_one(*a) => var_of(*x),
            Op::Add([x, a]) if minus_one(*a) => var_of(*x),
            _ => None,
        };
        let id = if let Some(x) = comp {
            b.sym(complement_name(x))
        } else if let Some(x) = negated {
            let c = b.sym(complement_name(x));
            b.neg(c)
        } else if let Some(x) = match node {
            Op::Log1p([a]) => neg_var_of(*a),
            _ => None,
        } {
            let c = b.sym(complement_name(x));
            b.unary(Op::Ln, c)
        } else {
            b.node(node.clone().map_children(|c| ids[usize::from(c)]))
        };
        ids.push(id);
    }
    b.finish(ids[usize::from(expr.root())])
}

/// A term of a sum with its sign: `−t` and `(−1)·t` are `(false, t)`.
fn signed_term(nodes: &[Op], id: egg::Id) -> (bool, egg::Id) {
    let num = |id: egg::Id, v: f64| matches!(&nodes[usize::from(id)], Op::Num(c) if c.value() == v);
    match &nodes[usize::from(id)] {
        Op::Neg([a]) => (false, *a),
        Op::Mul([m, a]) if num(*m, -1.0) => (false, *a),
        Op::Mul([a, m]) if num(*m, -1.0) => (false, *a),
        _ => (true, id),
    }
}

/// `expr` for data points where each unit variable in `upper` lies in the upper half of
/// (0, 1), `x ≥ ½`: there `x` is `1 − x̄` with `x̄` the complement input (exact, from the
/// map), and every form that would lose `x̄` to the rounding of `x` to 1 is written in `x̄`.
///
/// Bottom-up, each node gets its value and, where one is known, an accurate expression for
/// `1 − value`: `x̄` for `x`; `−expm1(e·log1p(−c))` for `b^e` with `1 − b = c`;
/// `c/(1 + √b)` for `√b`; `−expm1(z)` for `exp(z)`; `c₁ + c₂ − c₁c₂` for a product. Then
/// `1 − t` (in any of its canonical spellings) becomes `1 − t`'s accurate form, `t − 1` its
/// negative, `s − t` becomes `c_t − c_s`, `ln t` becomes `log1p(−c)` and `log1p(−t)`
/// becomes `ln c`. So `ln(1 − x^a)` is `ln(−expm1(a·log1p(−x̄)))`, finite down to
/// `x̄ = 5e-324`, and `x^a ln(x)/(1 − x^a)` keeps its limit `−1/a`. The rewrites are exact
/// identities; a form not covered is evaluated as written, from `x = 1 − x̄`, no worse than
/// from `x` itself.
pub(super) fn reflect(expr: &Expr, upper: &[Symbol]) -> Expr {
    if upper.is_empty() {
        return expr.clone();
    }
    let nodes = expr.nodes();
    let mut b = Builder::default();
    // Per node: its rewritten id, and the accurate `1 − value` with whether the value tends
    // to 1 as the complements go to 0 (then it is inaccurate in itself near 1).
    let mut ids: Vec<egg::Id> = Vec::with_capacity(nodes.len());
    let mut om: Vec<Option<(egg::Id, bool)>> = Vec::with_capacity(nodes.len());
    let num = |id: egg::Id| match &nodes[usize::from(id)] {
        Op::Num(c) => Some(c.value()),
        _ => None,
    };
    for node in nodes {
        let id = |c: &egg::Id| ids[usize::from(*c)];
        // The complement of a child whose value tends to 1, or of any child.
        let near = |c: &egg::Id| om[usize::from(*c)].filter(|o| o.1).map(|o| o.0);
        let any = |c: &egg::Id| om[usize::from(*c)].map(|o| o.0);
        let (value, comp) = match node {
            Op::Sym(s) if upper.contains(s) => {
                let c = b.sym(complement_name(*s));
                let one = b.num(1.0);
                (b.sub(one, c), Some((c, true)))
            }
            Op::Pow([base, e]) if near(base).is_some() => {
                let c = near(base).unwrap_or(*base);
                let v = b.pow(id(base), id(e));
                let nc = b.neg(c);
                let l = b.unary(Op::Log1p, nc);
                let z = b.mul(id(e), l);
                let m = b.unary(Op::Expm1, z);
                (v, Some((b.neg(m), true)))
            }
            Op::Sqrt([a]) if near(a).is_some() => {
                let c = near(a).unwrap_or(*a);
                let v = b.unary(Op::Sqrt, id(a));
                let one = b.num(1.0);
                let den = b.add(one, v);
                (v, Some((b.div(c, den), true)))
            }
            Op::Exp([z]) => {
                let v = b.unary(Op::Exp, id(z));
                let m = b.unary(Op::Expm1, id(z));
                (v, Some((b.neg(m), false)))
            }
            Op::Mul([p, q]) if near(p).is_some() && near(q).is_some() => {
                let (cp, cq) = (near(p).unwrap_or(*p), near(q).unwrap_or(*q));
                let v = b.mul(id(p), id(q));
                let sum = b.add(cp, cq);
                let prod = b.mul(cp, cq);
                (v, Some((b.sub(sum, prod), true)))
            }
            Op::Ln([a]) if near(a).is_some() => {
                let nc = b.neg(near(a).unwrap_or(*a));
                (b.unary(Op::Log1p, nc), None)
            }
            Op::Log1p([a]) => match signed_term(nodes, *a) {
                (false, t) if any(&t).is_some() => (b.unary(Op::Ln, any(&t).unwrap_or(t)), None),
                _ => (b.unary(Op::Log1p, id(a)), None),
            },
            Op::Add([p, q]) | Op::Sub([p, q]) => {
                let (sp, tp) = signed_term(nodes, *p);
                let (sq, tq) = signed_term(nodes, *q);
                let sq = sq == matches!(node, Op::Add(_));
                // The sign of a term that is ±1.
                let unit_sign = |s: bool, t: egg::Id| match num(t) {
                    Some(1.0) => Some(s),
                    Some(-1.0) => Some(!s),
                    _ => None,
                };
                // ±1 beside ∓t, t with a known complement
                let one_and =
                    [(sp, tp, sq, tq), (sq, tq, sp, tp)]
                        .into_iter()
                        .find_map(|(su, u, st, t)| {
                            let one = unit_sign(su, u)?;
                            (one != st).then_some(())?;
                            Some((one, any(&t)?, t))
                        });
                if let Some((one_positive, c, t)) = one_and {
                    if one_positive {
                        // 1 − t = c, and 1 − (1 − t) = t
                        (c, Some((id(&t), false)))
                    } else {
                        // t − 1 = −c
                        (b.neg(c), None)
                    }
                } else if let (true, Some(cp), Some(cq)) = (sp != sq, near(&tp), near(&tq)) {
                    // s − t = (1 − t) − (1 − s)
                    let v = if sp { b.sub(cq, cp) } else { b.sub(cp, cq) };
                    (v, None)
                } else {
                    (
                        b.node(node.clone().map_children(|c| ids[usize::from(c)])),
                        None,
                    )
                }
            }
            _ => (
                b.node(node.clone().map_children(|c| ids[usize::from(c)])),
                None,
            ),
        };
        ids.push(value);
        om.push(comp);
    }
    b.finish(ids[usize::from(expr.root())])
}

/// The names of `model` known positive: data on positive and unit supports, their
/// complements, parameters with positive and unit domains.
pub(crate) fn positive_names(model: &Model) -> Vec<Symbol> {
    let mut names = Vec::new();
    for d in &model.data {
        match d.support {
            Support::Positive => names.push(d.name),
            Support::Unit => names.extend([d.name, complement_name(d.name)]),
            _ => {}
        }
    }
    for p in &model.params {
        if matches!(p.domain, Domain::Positive | Domain::Unit) {
            names.push(p.name);
        }
    }
    names
}

/// `expr` with the log of every product, quotient or power whose factors have known signs
/// written as a sum of logs of their magnitudes: `ln((−x̄)·(−v̄)) = ln x̄ + ln v̄`, so that a
/// product of two small positive factors (`x̄ = 1e-200`, `v = 1e-150`) does not underflow
/// to `ln 0`. Signs: numbers, `positive` names, `exp`, `sigmoid`, and through `−`, `·`, `/`,
/// powers and square roots of positive bases, sums of positives.
pub(crate) fn split_logs(expr: &Expr, positive: &[Symbol]) -> Expr {
    /// `Some(true)` positive, `Some(false)` negative.
    fn signs(nodes: &[Op], positive: &[Symbol]) -> Vec<Option<bool>> {
        let mut sign: Vec<Option<bool>> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let s = |id: &egg::Id| sign[usize::from(*id)];
            let v = match node {
                Op::Num(c) if c.value() != 0.0 && !c.value().is_nan() => Some(c.value() > 0.0),
                Op::Sym(x) => positive.contains(x).then_some(true),
                Op::Pi | Op::Euler | Op::Exp(_) | Op::Sigmoid(_) => Some(true),
                Op::Neg([a]) => s(a).map(|p| !p),
                Op::Mul([a, b]) | Op::Div([a, b]) => s(a).zip(s(b)).map(|(p, q)| p == q),
                Op::Add([a, b]) => (s(a) == Some(true) && s(b) == Some(true)).then_some(true),
                Op::Pow([a, _]) | Op::Sqrt([a]) => (s(a) == Some(true)).then_some(true),
                _ => None,
            };
            sign.push(v);
        }
        sign
    }
    /// `ln |node i|`, split while its factors have known signs.
    fn ln_of(
        i: usize,
        nodes: &[Op],
        sign: &[Option<bool>],
        ids: &[egg::Id],
        b: &mut Builder,
    ) -> egg::Id {
        let ix = |id: &egg::Id| usize::from(*id);
        match &nodes[i] {
            Op::Mul([x, y]) | Op::Div([x, y]) if sign[ix(x)].is_some() && sign[ix(y)].is_some() => {
                let lx = ln_of(ix(x), nodes, sign, ids, b);
                let ly = ln_of(ix(y), nodes, sign, ids, b);
                if matches!(nodes[i], Op::Mul(_)) {
                    b.add(lx, ly)
                } else {
                    b.sub(lx, ly)
                }
            }
            Op::Neg([x]) if sign[ix(x)].is_some() => ln_of(ix(x), nodes, sign, ids, b),
            Op::Pow([x, k]) if sign[ix(x)] == Some(true) => {
                let lx = ln_of(ix(x), nodes, sign, ids, b);
                b.mul(ids[ix(k)], lx)
            }
            Op::Num(c) if sign[i] == Some(false) => b.num(c.value().abs().ln()),
            _ if sign[i] == Some(false) => {
                let n = b.neg(ids[i]);
                b.unary(Op::Ln, n)
            }
            _ => b.unary(Op::Ln, ids[i]),
        }
    }
    let nodes = expr.nodes();
    let sign = signs(nodes, positive);
    let mut b = Builder::default();
    let mut ids: Vec<egg::Id> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let id = match node {
            Op::Ln([a]) if sign[usize::from(*a)] == Some(true) => {
                ln_of(usize::from(*a), nodes, &sign, &ids, &mut b)
            }
            _ => b.node(node.clone().map_children(|c| ids[usize::from(c)])),
        };
        ids.push(id);
    }
    b.finish(ids[usize::from(expr.root())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complements_replace_one_minus_x() {
        let x = Expr::sym("x");
        let e = crate::expr::ln(1.0 - &x) + crate::expr::ln(&x);
        let r = use_complements(&e, &["x".into()]);
        assert!(r.contains(complement_name("x".into())));
        assert!(!r.nodes().iter().any(|n| matches!(n, Op::Sub(_))));
        // The canonical (−1)·x form of the simplifier too.
        let canon = crate::simplify::simplify(&e, &crate::simplify::Facts::default());
        assert!(use_complements(&canon, &["x".into()]).contains(complement_name("x".into())));
    }
}

#[cfg(test)]
mod end_tests {
    use super::*;
    use crate::eval::{Env, eval_f64};

    /// `expr` (in `x`) reflected for the upper half, at `x = 1 − c`.
    fn at_upper(src: &str, c: f64, a: f64) -> f64 {
        let model = Model::parse(
            &format!("data x : unit\nparam a : positive\nlogp = a + {src}"),
            "t",
        )
        .unwrap();
        let e = &model.logp - &Expr::sym("a");
        let x: Symbol = "x".into();
        let r = split_logs(
            &reflect(&use_complements(&e, &[x]), &[x]),
            &[x, complement_name(x), "a".into()],
        );
        let env = Env::new()
            .with("x", 1.0 - c)
            .with(complement_name(x), c)
            .with("a", a);
        eval_f64(&r, &env).unwrap()
    }

    #[test]
    fn reflected_forms_keep_the_distance_to_1() {
        let c = 1e-30;
        // ln(1 − x^a) = ln(a·c) + O(c)
        assert!((at_upper("ln(1 - x^a)", c, 2.5) - (2.5 * c).ln()).abs() < 1e-12);
        // the canonical spelling x^a − 1 and a product: ln((x^a − 1)(x − 1)) = ln(a c²)
        let v = at_upper("ln((x^a - 1)*(x - 1))", c, 2.5);
        assert!((v - (2.5 * c * c).ln()).abs() < 1e-12, "{v}");
        // x^a ln(x)/(1 − x^a) → −1/a
        let v = at_upper("x^a*ln(x)/(1 - x^a)", c, 2.5);
        assert!((v + 0.4).abs() < 1e-12, "{v}");
        // 1 − √x = c/2, 1 − x·x = 2c, 1 − exp(ln x) = c
        assert!((at_upper("ln(1 - sqrt(x))", c, 1.0) - (c / 2.0).ln()).abs() < 1e-12);
        assert!((at_upper("ln(1 - x*x)", c, 1.0) - (2.0 * c).ln()).abs() < 1e-12);
        assert!((at_upper("ln(1 - exp(ln(x)))", c, 1.0) - c.ln()).abs() < 1e-12);
        // the same rewrites are exact away from the end
        let (c, a): (f64, f64) = (0.3, 1.7);
        let plain = (1.0 - (1.0 - c).powf(a)).ln();
        assert!((at_upper("ln(1 - x^a)", c, a) - plain).abs() < 1e-14);
    }
}
