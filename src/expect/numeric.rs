//! Numeric expectations: nested quadrature and summation over the data supports.
//!
//! The data variables are integrated one at a time, the first outermost. For variable `d`
//! with the outer ones fixed, the integrand is the log-weight
//! `L_d(x_d) = ln ∫ p(x) dx_{>d}` (the log-density itself for the innermost variable) and the
//! conditional means of the integrands. A continuous variable is first moved to the whole
//! real line (`x = y` on ℝ, `x = e^y` on (0, ∞), `x = 1/(1 + e^{−y})` on (0, 1), the
//! log-Jacobian added to the log-weight); then the mode `m` of the log-weight in `y` is found
//! by safeguarded Newton steps and the scale `s = 1/√(−q''(m))` from the curvature there, and
//! the sinh-sinh rule runs in `u = (y − m)/s`. The derivatives of `L_d` for an outer variable
//! are expectations too: `L_d' = E[∂_d ℓ]` and `L_d'' = E[∂²_d ℓ] + Var[∂_d ℓ]` under the
//! inner variables, computed by the same nested integration.
//!
//! On (0, 1), `1 − x` cannot be represented near 1 (`Beta(a, 0.05)` has 8% of its mass within
//! `10^{−16}` of 1), so every `1 − x` in the expressions is replaced by a second input, the
//! complement, computed exactly as `1/(1 + e^{y})`.

use std::collections::HashMap;
use std::sync::OnceLock;

use egg::{Language, Symbol};

use super::quadrature::{self, Batch, NEGLIGIBLE, Scaled, Tol};

#[path = "cubature.rs"]
mod cubature;

/// `lw − c` above this: a non-finite integrand value is an error, not an overflow in a
/// negligible tail.
const SIGNIFICANT: f64 = -200.0;
use super::{ExpectError, PointIntegrand, Quadrature};
use crate::eval::{BatchScratch, Compiled, Env, EvalError, Input, eval_checked};
use crate::expr::{Builder, Expr, Op};
use crate::model::{Domain, Model, Support};

/// Which compiled expressions a nested integration integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tape {
    /// `logp` and the user's integrands.
    Main,
    /// `logp` and, per continuous data variable, `∂ℓ`, `∂²ℓ`, `(∂ℓ)²` (for locating modes).
    Locate,
}

/// How a continuous variable is mapped to the real line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Map {
    /// `x = y`.
    Real,
    /// `x = e^y`.
    Log,
    /// `x = 1/(1 + e^{−y})`.
    Logit,
    /// `x = c + e^y`: the half-line above a kink at `c`.
    Above(f64),
    /// `x = c − e^y`: the half-line below a kink at `c`.
    Below(f64),
    /// `x = a + (b − a)/(1 + e^{−y})`: the interval between two kinks.
    Between(f64, f64),
}

impl Map {
    /// `(x, 1 − x, ln |dx/dy|)` at `y`.
    fn point(self, y: f64) -> (f64, f64, f64) {
        match self {
            Map::Real => (y, 1.0 - y, 0.0),
            Map::Log => {
                let x = y.exp();
                (x, 1.0 - x, y)
            }
            Map::Logit => {
                let e = (-y.abs()).exp();
                let (small, large) = (e / (1.0 + e), 1.0 / (1.0 + e));
                let lj = -y.abs() - 2.0 * e.ln_1p();
                if y <= 0.0 {
                    (small, large, lj)
                } else {
                    (large, small, lj)
                }
            }
            Map::Above(c) => {
                let x = c + y.exp();
                (x, 1.0 - x, y)
            }
            Map::Below(c) => {
                let x = c - y.exp();
                (x, 1.0 - x, y)
            }
            Map::Between(a, b) => {
                let (u, _, lj) = Map::Logit.point(y);
                let x = a + (b - a) * u;
                (x, 1.0 - x, lj + (b - a).ln())
            }
        }
    }

    /// The range of `y` that keeps `x` finite and inside the support.
    fn range(self) -> (f64, f64) {
        match self {
            Map::Real => (-1e300, 1e300),
            Map::Log | Map::Logit | Map::Above(_) | Map::Below(_) | Map::Between(..) => {
                (-700.0, 700.0)
            }
        }
    }

    /// Starting points for a second search when the log-weight is `−∞` at every one of
    /// [`Self::probes`]: every power of ten on ℝ (a normal at `μ = 1e300`), every tenth of the
    /// range of `y` on the mapped supports.
    fn wide_probes(self) -> Vec<f64> {
        match self {
            Map::Real => (1..=308)
                .flat_map(|k| [10f64.powi(k), -(10f64.powi(k))])
                .chain((1..=307).flat_map(|k| [10f64.powi(-k), -(10f64.powi(-k))]))
                .collect(),
            _ => (-70..=70).map(|k| f64::from(k) * 10.0).collect(),
        }
    }

    /// Starting points for the mode search, in `y`.
    fn probes(self) -> &'static [f64] {
        match self {
            Map::Real => &[0.0, 1.0, -1.0, 10.0, -10.0],
            // x = 1, 0.1, 10
            Map::Log | Map::Above(_) | Map::Below(_) => {
                &[0.0, -std::f64::consts::LN_10, std::f64::consts::LN_10]
            }
            // x = 0.5, 0.1, 0.9 (of the interval)
            Map::Logit | Map::Between(..) => {
                &[0.0, -2.197_224_577_336_219_6, 2.197_224_577_336_219_6]
            }
        }
    }

    /// `(q, q', q'')` in `y` from `(L, L', L'')` in `x`, with `q = L(x(y)) + ln x'(y)`.
    fn chain(self, y: f64, l: (f64, f64, f64)) -> (f64, f64, f64) {
        let (x, c, lj) = self.point(y);
        let (l0, l1, l2) = l;
        match self {
            Map::Real => l,
            // x' = x'' = x, (ln x')' = 1
            Map::Log => (l0 + lj, l1 * x + 1.0, l2 * x * x + l1 * x),
            // x' = (b − a)uv, x'' = (b − a)uv(v − u) with u = σ(y), v = 1 − u;
            // (ln x')' = v − u, (ln x')'' = −2uv
            Map::Between(a, b) => {
                let (u, v, _) = Map::Logit.point(y);
                let w = b - a;
                let dx = w * u * v;
                (
                    l0 + lj,
                    l1 * dx + (v - u),
                    l2 * dx * dx + l1 * dx * (v - u) - 2.0 * u * v,
                )
            }
            // x' = x'' = ±e^y, (ln |x'|)' = 1
            Map::Above(_) | Map::Below(_) => {
                let e = y.exp();
                let dx = if matches!(self, Map::Above(_)) { e } else { -e };
                (l0 + lj, l1 * dx + 1.0, l2 * dx * dx + l1 * dx)
            }
            // x' = xc, x'' = xc(c − x), (ln x')' = c − x, (ln x')'' = −2xc
            Map::Logit => {
                let xc = x * c;
                (
                    l0 + lj,
                    l1 * xc + (c - x),
                    l2 * xc * xc + l1 * xc * (c - x) - 2.0 * xc,
                )
            }
        }
    }
}

/// The compiled tapes of a problem, one pair (main, locate) per combination of halves of
/// the unit data variables: bit `j` of a mask set means unit variable `j` lies in the upper
/// half, where its expressions are [`reflect`]ed. Compiled when first needed (a model
/// without unit variables has the one mask 0), once, shared by every parameter point.
struct Halves {
    main: Vec<Expr>,
    locate: Vec<Expr>,
    vars: Vec<Symbol>,
    unit: Vec<Symbol>,
    /// Names known positive, for [`split_logs`].
    positive: Vec<Symbol>,
    compiled: Vec<OnceLock<Result<(Compiled, Compiled), ExpectError>>>,
    n_main: usize,
    n_locate: usize,
}

/// Most unit data variables a problem handles: their halves are `2^k` tapes.
const MAX_UNIT_VARIABLES: usize = 16;

impl Halves {
    fn new(
        main: Vec<Expr>,
        locate: Vec<Expr>,
        vars: Vec<Symbol>,
        unit: Vec<Symbol>,
        positive: Vec<Symbol>,
    ) -> Result<Halves, ExpectError> {
        if unit.len() > MAX_UNIT_VARIABLES {
            return Err(ExpectError::Unsupported {
                reason: format!(
                    "{} data variables on `unit` supports (at most {MAX_UNIT_VARIABLES})",
                    unit.len()
                ),
            });
        }
        let h = Halves {
            n_main: main.len(),
            n_locate: locate.len(),
            main,
            locate,
            compiled: (0..1usize << unit.len()).map(|_| OnceLock::new()).collect(),
            vars,
            unit,
            positive,
        };
        h.get(Tape::Main, 0)?;
        Ok(h)
    }

    fn get(&self, tape: Tape, mask: u64) -> Result<&Compiled, ExpectError> {
        let cell = self
            .compiled
            .get(mask as usize)
            .ok_or_else(|| ExpectError::Unsupported {
                reason: format!("no tape for the halves {mask:#b}"),
            })?;
        let pair = cell.get_or_init(|| {
            let upper: Vec<Symbol> = (0..self.unit.len())
                .filter(|j| mask >> j & 1 == 1)
                .map(|j| self.unit[j])
                .collect();
            let positive = &self.positive;
            let form = |es: &[Expr]| -> Vec<Expr> {
                es.iter()
                    .map(|e| split_logs(&reflect(e, &upper), positive))
                    .collect()
            };
            let main = Compiled::new(&form(&self.main), &self.vars)?;
            let locate = Compiled::new(&form(&self.locate), &self.vars)?;
            Ok((main, locate))
        });
        let (main, locate) = pair.as_ref().map_err(Clone::clone)?;
        Ok(match tape {
            Tape::Main => main,
            Tape::Locate => locate,
        })
    }
}

/// An expectation problem prepared once per model and list of integrands: the compiled
/// tapes (for every half of the unit variables), the derivatives that locate modes, the
/// supports. [`Problem`]s at any number of parameter points borrow it.
pub(super) struct Prepared {
    model: Model,
    gs: Vec<Expr>,
    /// Inputs after the parameters, bound per point like them (the second point of a
    /// divergence).
    extra_vars: Vec<Symbol>,
    supports: Vec<Support>,
    /// Input index of the complement `1 − x_d` of each unit data variable.
    complement: Vec<Option<usize>>,
    /// The bit of each unit data variable in the masks of [`Halves`].
    bit: Vec<Option<usize>>,
    /// The compiled tapes per half of the unit variables (see [`Halves`]).
    tapes: Halves,
    /// Output index in `locate` of `∂_d ℓ` (then `∂²_d ℓ`, `(∂_d ℓ)²`) per continuous variable.
    deriv: Vec<Option<usize>>,
    /// The log-density has `abs`/`sign` (a kink in x): real supports are split at the mode.
    kinked: bool,
}

/// A set-up expectation problem: the prepared tapes at one parameter point.
pub(super) struct Problem<'a> {
    model: &'a Model,
    gs: &'a [Expr],
    extra_vars: &'a [Symbol],
    supports: &'a [Support],
    complement: &'a [Option<usize>],
    bit: &'a [Option<usize>],
    /// Parameter values in matrix order.
    params: Vec<f64>,
    /// The values of the extra inputs ([`Prepared::extra_vars`]).
    extra_values: Vec<f64>,
    /// The uniform inputs of the tapes: `params` then `extra_values`.
    uniform: Vec<f64>,
    tapes: &'a Halves,
    /// Integrands evaluated point by point after those of `main` (main tape only).
    extra: Option<&'a mut dyn PointIntegrand>,
    /// Scratch for the data point (and its complements) and the values of `extra`.
    point: Vec<f64>,
    point_c: Vec<f64>,
    extra_out: Vec<f64>,
    deriv: &'a [Option<usize>],
    q: Quadrature,
    /// Working memory of the tapes, one per [`Tape`] (each caches its uniform pass), taken
    /// from [`POOL`] and given back on drop.
    scratch: [BatchScratch; 2],
    out: Vec<f64>,
    /// The data points of a level, their complements and log-Jacobians (reused).
    buffers: (Vec<f64>, Vec<f64>, Vec<f64>),
    /// Points at which a compiled expression was evaluated.
    pub evaluations: usize,
    kinked: bool,
}

/// The working memory of a [`Problem`], kept per thread between problems: the lanes of a tape
/// are tens of kilobytes, too much to allocate and clear at every parameter point.
#[derive(Default)]
struct Work {
    scratch: [BatchScratch; 2],
    out: Vec<f64>,
    buffers: (Vec<f64>, Vec<f64>, Vec<f64>),
}

thread_local! {
    static POOL: std::cell::RefCell<Vec<Work>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Most [`Work`]s a thread keeps (nested problems take one each).
const POOL_SIZE: usize = 4;

impl Drop for Problem<'_> {
    fn drop(&mut self) {
        let work = Work {
            scratch: std::mem::take(&mut self.scratch),
            out: std::mem::take(&mut self.out),
            buffers: std::mem::take(&mut self.buffers),
        };
        POOL.with_borrow_mut(|pool| {
            if pool.len() < POOL_SIZE {
                pool.push(work);
            }
        });
    }
}

/// The sum of two integrals over adjacent pieces of a support.
fn combine(a: Scaled, b: Scaled) -> Scaled {
    let ls = a.log_scale.max(b.log_scale);
    if ls == f64::NEG_INFINITY {
        return a;
    }
    let (fa, fb) = ((a.log_scale - ls).exp(), (b.log_scale - ls).exp());
    let zip = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * fa + q * fb).collect();
    Scaled {
        log_scale: ls,
        values: zip(&a.values, &b.values),
        errors: zip(&a.errors, &b.errors),
        l1: zip(&a.l1, &b.l1),
        converged: a
            .converged
            .iter()
            .zip(&b.converged)
            .map(|(p, q)| *p && *q)
            .collect(),
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
pub(super) fn positive_names(model: &Model) -> Vec<Symbol> {
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
pub(super) fn split_logs(expr: &Expr, positive: &[Symbol]) -> Expr {
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

/// The root and slope of `a(t)` when it is affine with a non-zero slope (tested at `t` = 0,
/// 1, 2 to relative 1e-12): where `abs(a)` or `sign(a)` has its kink.
pub(crate) fn affine_root(a: impl Fn(f64) -> Option<f64>) -> Option<(f64, f64)> {
    let (a0, a1, a2) = (a(0.0)?, a(1.0)?, a(2.0)?);
    let slope = a1 - a0;
    let affine = ((a2 - a1) - slope).abs() <= 1e-12 * slope.abs().max(a0.abs()).max(1.0);
    let root = -a0 / slope;
    (affine && slope != 0.0 && root.is_finite()).then_some((root, slope))
}

impl Prepared {
    /// Compiles `logp` and `gs` (and the derivatives that locate modes); `gs` may name the
    /// data, the parameters, the model's constants and `extra_vars`.
    pub fn new(model: &Model, gs: &[Expr], extra_vars: &[Symbol]) -> Result<Prepared, ExpectError> {
        let consts: HashMap<Symbol, Expr> = model
            .consts
            .iter()
            .map(|(s, v)| (*s, Expr::num(*v)))
            .collect();
        let logp = model.logp.substitute(&consts);
        let unit: Vec<Symbol> = model
            .data
            .iter()
            .filter(|d| d.support == Support::Unit)
            .map(|d| d.name)
            .collect();
        let mut vars: Vec<Symbol> = model.data_names();
        let mut complement = vec![None; model.data.len()];
        let mut bit = vec![None; model.data.len()];
        for (d, var) in model.data.iter().enumerate() {
            if var.support == Support::Unit {
                bit[d] = Some(vars.len() - model.data.len());
                complement[d] = Some(vars.len());
                vars.push(complement_name(var.name));
            }
        }
        vars.extend(model.param_names());
        vars.extend_from_slice(extra_vars);
        // Every `1 − x` read from the complement input.
        let fix = |e: &Expr| use_complements(&e.substitute(&consts), &unit);
        let mut main_exprs = vec![fix(&logp)];
        main_exprs.extend(gs.iter().map(&fix));
        let mut locate_exprs = vec![fix(&logp)];
        let mut deriv = vec![None; model.data.len()];
        for (d, var) in model.data.iter().enumerate() {
            if matches!(
                var.support,
                Support::Real | Support::Positive | Support::Unit
            ) {
                deriv[d] = Some(locate_exprs.len());
                let d1 = crate::diff::derivative(&logp, var.name);
                let d2 = crate::diff::derivative(&d1, var.name);
                let sq = &d1 * &d1;
                locate_exprs.extend([fix(&d1), fix(&d2), fix(&sq)]);
            }
        }
        let positive = positive_names(model);
        let tapes = Halves::new(main_exprs, locate_exprs, vars, unit, positive)?;
        Ok(Prepared {
            model: model.clone(),
            gs: gs.to_vec(),
            extra_vars: extra_vars.to_vec(),
            supports: model.data.iter().map(|d| d.support).collect(),
            complement,
            bit,
            tapes,
            deriv,
            kinked: model
                .logp
                .nodes()
                .iter()
                .any(|n| matches!(n, Op::Abs(_) | Op::Sign(_))),
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The number of integrands `gs`.
    pub fn n_integrands(&self) -> usize {
        self.gs.len()
    }

    /// The integrands `gs`.
    pub fn integrands(&self) -> &[Expr] {
        &self.gs
    }

    /// The number of extra inputs.
    pub fn n_extra_vars(&self) -> usize {
        self.extra_vars.len()
    }
}

impl<'a> Problem<'a> {
    /// The problem `prep` at the parameter values `params` (in matrix order) and the values
    /// of its extra inputs.
    pub fn new(
        prep: &'a Prepared,
        params: Vec<f64>,
        extra_values: Vec<f64>,
        extra: Option<&'a mut dyn PointIntegrand>,
        q: &Quadrature,
    ) -> Problem<'a> {
        let mut uniform = params.clone();
        uniform.extend_from_slice(&extra_values);
        let work = POOL.with_borrow_mut(Vec::pop).unwrap_or_default();
        Problem {
            model: &prep.model,
            gs: &prep.gs,
            extra_vars: &prep.extra_vars,
            supports: &prep.supports,
            complement: &prep.complement,
            bit: &prep.bit,
            params,
            extra_values,
            uniform,
            tapes: &prep.tapes,
            extra_out: vec![0.0; extra.as_ref().map_or(0, |e| e.len())],
            extra,
            point: Vec::new(),
            point_c: Vec::new(),
            deriv: &prep.deriv,
            q: q.clone(),
            scratch: work.scratch,
            out: work.out,
            buffers: work.buffers,
            evaluations: 0,
            kinked: prep.kinked,
        }
    }

    /// An environment with the model's constants, the parameters and the extra inputs.
    fn param_env(&self) -> Env<f64> {
        let mut env: Env<f64> = self.model.consts.iter().copied().collect();
        for (p, v) in self.model.params.iter().zip(&self.params) {
            env.insert(p.name, *v);
        }
        for (s, v) in self.extra_vars.iter().zip(&self.extra_values) {
            env.insert(*s, *v);
        }
        env
    }

    /// Outputs of the compiled tape.
    fn n_compiled(&self, tape: Tape) -> usize {
        match tape {
            Tape::Main => self.tapes.n_main,
            Tape::Locate => self.tapes.n_locate,
        }
    }

    /// Outputs per point: the compiled ones, then (main tape) the pointwise ones.
    fn n_out(&self, tape: Tape) -> usize {
        match tape {
            Tape::Main => self.n_compiled(tape) + self.extra_out.len(),
            Tape::Locate => self.n_compiled(tape),
        }
    }

    fn tol(&self, rel: f64) -> Tol {
        Tol {
            rel,
            abs: self.q.abs_tol,
            max_level: self.q.max_level,
            max_terms: self.q.max_terms,
        }
    }

    /// Evaluates `tape` at points of the innermost variable `d` (`xs`, complements `cs`),
    /// the outer ones `fixed`, into `self.out` (output `k`, point `i` at `k·n + i`).
    ///
    /// Points are evaluated by the tape of their halves: a unit variable with `1 − x < x`
    /// is read through its complement (see [`reflect`]).
    fn eval_points(
        &mut self,
        tape: Tape,
        d: usize,
        fixed: &[(f64, f64)],
        xs: &[f64],
        cs: &[f64],
    ) -> Result<(), ExpectError> {
        let n = xs.len();
        let n_outputs = self.n_compiled(tape);
        if self.evaluations + n > self.q.max_points {
            return Err(cubature::over_budget(self, "nested quadrature".to_string()));
        }
        self.out.clear();
        self.out.resize(n_outputs * n, 0.0);
        self.evaluations += n;
        super::progress_inc(n);
        let mut mask = 0u64;
        for (j, v) in fixed.iter().enumerate() {
            if let Some(b) = self.bit[j].filter(|_| v.1 < v.0) {
                mask |= 1 << b;
            }
        }
        let Some(b) = self.bit[d] else {
            let mut out = std::mem::take(&mut self.out);
            let r = self.eval_group(tape, mask, d, fixed, xs, cs, &mut out);
            self.out = out;
            return r;
        };
        let upper = |i: usize| cs[i] < xs[i];
        let n_upper = (0..n).filter(|&i| upper(i)).count();
        if n_upper == 0 || n_upper == n {
            let mask = if n_upper == n { mask | 1 << b } else { mask };
            let mut out = std::mem::take(&mut self.out);
            let r = self.eval_group(tape, mask, d, fixed, xs, cs, &mut out);
            self.out = out;
            return r;
        }
        // Both halves: each group by its tape, scattered back in order.
        for half in [false, true] {
            let idx: Vec<usize> = (0..n).filter(|&i| upper(i) == half).collect();
            let gx: Vec<f64> = idx.iter().map(|&i| xs[i]).collect();
            let gc: Vec<f64> = idx.iter().map(|&i| cs[i]).collect();
            let mut out = vec![0.0; n_outputs * idx.len()];
            let m = if half { mask | 1 << b } else { mask };
            self.eval_group(tape, m, d, fixed, &gx, &gc, &mut out)?;
            let g = idx.len();
            for k in 0..n_outputs {
                for (i, &at) in idx.iter().enumerate() {
                    self.out[k * n + at] = out[k * g + i];
                }
            }
        }
        Ok(())
    }

    /// [`Self::eval_points`] for points that share the halves `mask`, into `out`.
    #[allow(clippy::too_many_arguments)] // the nesting state, passed down explicitly
    fn eval_group(
        &mut self,
        tape: Tape,
        mask: u64,
        d: usize,
        fixed: &[(f64, f64)],
        xs: &[f64],
        cs: &[f64],
        out: &mut [f64],
    ) -> Result<(), ExpectError> {
        let compiled = self.tapes.get(tape, mask)?;
        let n_data = self.supports.len();
        let mut inputs: Vec<Input<'_>> = Vec::with_capacity(compiled.vars().len());
        for j in 0..n_data {
            inputs.push(if j == d {
                Input::Varying(xs)
            } else {
                Input::Uniform(fixed.get(j).map_or(f64::NAN, |v| v.0))
            });
        }
        for j in 0..n_data {
            if self.complement[j].is_some() {
                inputs.push(if j == d {
                    Input::Varying(cs)
                } else {
                    Input::Uniform(fixed.get(j).map_or(f64::NAN, |v| v.1))
                });
            }
        }
        inputs.extend(self.uniform.iter().map(|v| Input::Uniform(*v)));
        compiled.eval_batch(&inputs, &mut self.scratch[tape as usize], out)?;
        Ok(())
    }

    /// Roots in `x_d` of the affine arguments of `abs` and `sign` in the log-density and the
    /// integrands, with the parameters and the outer data variables fixed; arguments that
    /// are not affine in `x_d`, or involve inner data variables, give none.
    fn kinks(&self, d: usize, fixed: &[(f64, f64)]) -> Vec<f64> {
        let data = &self.model.data;
        let mut env = self.param_env();
        for (var, v) in data.iter().zip(fixed) {
            env.insert(var.name, v.0);
        }
        let x = data[d].name;
        let inner: Vec<Symbol> = data.iter().skip(d + 1).map(|v| v.name).collect();
        let mut roots = Vec::new();
        for e in std::iter::once(&self.model.logp).chain(self.gs.iter()) {
            for node in e.nodes() {
                let (Op::Abs([a]) | Op::Sign([a])) = node else {
                    continue;
                };
                let arg = e.subexpr(*a);
                if !arg.contains(x) || inner.iter().any(|s| arg.contains(*s)) {
                    continue;
                }
                let at = |t: f64| {
                    let mut env = env.clone();
                    env.insert(x, t);
                    crate::eval::eval_f64(&arg, &env).ok()
                };
                if let Some((root, _)) = affine_root(at) {
                    roots.push(root);
                }
            }
        }
        roots
    }

    /// The error for a non-finite log-density (`which = None`) or integrand `which = Some(k)`
    /// at the data point `fixed` + `x` (the outer values and the value of variable `d`).
    fn not_finite(&self, which: Option<usize>, fixed: &[(f64, f64)], x: f64) -> ExpectError {
        let mut env = self.param_env();
        for (var, v) in self
            .model
            .data
            .iter()
            .zip(fixed.iter().map(|v| v.0).chain([x]))
        {
            env.insert(var.name, v);
        }
        let (what, expr) = match which {
            None => ("log-density".to_string(), &self.model.logp),
            Some(k) => (format!("`{}`", self.gs[k]), &self.gs[k]),
        };
        let detail = match eval_checked(expr, &env) {
            Err(EvalError::NonFinite { expr, .. }) => format!("`{expr}` is not finite"),
            Err(e) => e.to_string(),
            Ok(v) => format!("its value is {}", crate::expr::number(v)),
        };
        self.not_finite_at(what, fixed, x, detail)
    }

    /// [`ExpectError::Unresolved`] at this parameter point.
    fn unresolved(&self, detail: String) -> ExpectError {
        ExpectError::Unresolved {
            at: super::point_text(&self.model.param_names(), &self.params),
            detail,
        }
    }

    /// [`ExpectError::NotFinite`] for `what` at the data point `fixed` + `x`.
    fn not_finite_at(
        &self,
        what: String,
        fixed: &[(f64, f64)],
        x: f64,
        detail: String,
    ) -> ExpectError {
        let data = &self.model.data;
        let values: Vec<f64> = fixed.iter().map(|v| v.0).chain([x]).collect();
        let point = data
            .iter()
            .zip(&values)
            .map(|(var, v)| format!("{}={}", var.name, crate::expr::number(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        let support = data
            .iter()
            .map(|var| var.support.to_string())
            .collect::<Vec<_>>()
            .join(" × ");
        ExpectError::NotFinite {
            what,
            point,
            support,
            detail,
        }
    }

    /// `∫ p · g_k` over the data variables `d, d+1, …` with `fixed` the values of the outer
    /// ones (and their complements), `output 0` being the mass.
    pub fn integrate(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
    ) -> Result<Scaled, ExpectError> {
        if cubature::applies(self.supports, d) {
            return cubature::integrate(self, d, fixed, tape, rel);
        }
        match self.supports[d] {
            Support::Real => self.continuous(d, fixed, tape, rel, Map::Real),
            Support::Positive => self.continuous(d, fixed, tape, rel, Map::Log),
            Support::Unit => self.continuous(d, fixed, tape, rel, Map::Logit),
            Support::Binary => self.discrete(d, fixed, tape, rel, 0, Some(1)),
            Support::Count => self.discrete(d, fixed, tape, rel, 0, None),
            Support::Int(lo, hi) => self.discrete(d, fixed, tape, rel, lo, Some(hi)),
        }
    }

    /// Tolerance for the levels inside variable `d`: tighter, so that their errors summed by
    /// the outer rule stay within the outer tolerance.
    fn inner_rel(tape: Tape, rel: f64) -> f64 {
        match tape {
            Tape::Main => rel / 4.0,
            Tape::Locate => rel.max(1e-7),
        }
    }

    /// Fills `batch` for points `ys` of variable `d` (mapped by `map`, or integers for
    /// `map = None`).
    #[allow(clippy::too_many_arguments)] // the nesting state, passed down explicitly
    fn eval_level(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
        map: Option<Map>,
        ys: &[f64],
        c: f64,
        batch: &mut Batch,
    ) -> Result<(), ExpectError> {
        let n_out = self.n_out(tape);
        let n_compiled = self.n_compiled(tape);
        let n = ys.len();
        // Buffers reused from call to call (a nested call takes fresh ones).
        let (mut xs, mut cs, mut lj) = std::mem::take(&mut self.buffers);
        xs.clear();
        cs.clear();
        lj.clear();
        for &y in ys {
            let (x, cx, j) = map.map_or((y, 1.0 - y, 0.0), |m| m.point(y));
            xs.push(x);
            cs.push(cx);
            lj.push(j);
        }
        batch.clear();
        if d + 1 == self.supports.len() {
            self.eval_points(tape, d, fixed, &xs, &cs)?;
            for i in 0..n {
                let lp = self.out[i];
                if lp.is_nan() || lp == f64::INFINITY {
                    return Err(self.not_finite(None, fixed, xs[i]));
                }
                let lw = lp + lj[i];
                batch.lw.push(lw);
                batch.f.push(1.0);
                let matters = lw - c > NEGLIGIBLE;
                // Far out in a heavy tail an expression can overflow in f64 (`(x − x₀)⁴` at
                // x = 1e83) although its product with the density is negligible: a
                // non-finite g counts as an error only where the weight is within e^−200 of
                // the mode's, and contributes nothing beyond.
                let significant = lw - c > SIGNIFICANT;
                for k in 1..n_compiled {
                    let v = self.out[k * n + i];
                    if !v.is_finite() && significant {
                        if tape == Tape::Main {
                            return Err(self.not_finite(Some(k - 1), fixed, xs[i]));
                        }
                        batch.f.push(0.0);
                    } else {
                        batch.f.push(if matters && v.is_finite() { v } else { 0.0 });
                    }
                }
                if tape == Tape::Main && !self.extra_out.is_empty() {
                    self.eval_extra(fixed, (xs[i], cs[i]), matters, significant)?;
                    batch.f.extend_from_slice(&self.extra_out);
                }
                batch.e.extend(std::iter::repeat_n(0.0, n_out));
            }
        } else {
            let inner = Self::inner_rel(tape, rel);
            for i in 0..n {
                fixed.push((xs[i], cs[i]));
                let r = self.integrate(d + 1, fixed, tape, inner);
                fixed.pop();
                let r = r?;
                let m0 = r.values[0];
                if m0 > 0.0 && r.log_scale.is_finite() {
                    batch.lw.push(r.log_scale + m0.ln() + lj[i]);
                    batch.f.push(1.0);
                    batch.f.extend(r.values[1..].iter().map(|v| v / m0));
                    batch.e.extend(r.errors.iter().map(|v| v / m0));
                    batch.a.extend(r.l1.iter().map(|v| v / m0));
                } else {
                    batch.lw.push(f64::NEG_INFINITY);
                    batch.f.extend(std::iter::repeat_n(0.0, n_out));
                    batch.e.extend(std::iter::repeat_n(0.0, n_out));
                    batch.a.extend(std::iter::repeat_n(0.0, n_out));
                }
            }
        }
        self.buffers = (xs, cs, lj);
        Ok(())
    }

    /// The values of the pointwise integrands at the data point `fixed` + `x` into
    /// `self.extra_out`: zeros where the weight is negligible, an error where they fail or are
    /// not finite at a significant weight.
    fn eval_extra(
        &mut self,
        fixed: &[(f64, f64)],
        (x, cx): (f64, f64),
        matters: bool,
        significant: bool,
    ) -> Result<(), ExpectError> {
        self.extra_out.fill(0.0);
        if !matters {
            return Ok(());
        }
        let Some(extra) = self.extra.as_mut() else {
            return Ok(());
        };
        self.point.clear();
        self.point.extend(fixed.iter().map(|v| v.0));
        self.point.push(x);
        self.point_c.clear();
        self.point_c.extend(fixed.iter().map(|v| v.1));
        self.point_c.push(cx);
        self.evaluations += 1;
        let failure =
            match extra.eval_with_complements(&self.point, &self.point_c, &mut self.extra_out) {
                Err(detail) => Some(detail),
                Ok(()) => match self.extra_out.iter().position(|v| !v.is_finite()) {
                    Some(k) if significant => Some(format!(
                        "value {k} is {}",
                        crate::expr::number(self.extra_out[k])
                    )),
                    _ => None,
                },
            };
        if let Some(detail) = failure {
            let what = "a pointwise integrand".to_string();
            return Err(self.not_finite_at(what, fixed, x, detail));
        }
        for v in &mut self.extra_out {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
        Ok(())
    }

    /// `(L, L', L'')` of variable `d` at `x` (complement `cx`): the log-density and its
    /// derivatives in `x_d` for the innermost variable, else `ln ∫ p dx_{>d}` with
    /// `L' = E[∂ℓ]`, `L'' = E[∂²ℓ] + Var[∂ℓ]` under the inner variables. Derivatives are NaN
    /// for discrete variables.
    fn log_weight(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        x: f64,
        cx: f64,
    ) -> Result<(f64, f64, f64), ExpectError> {
        let nan = f64::NAN;
        if d + 1 == self.supports.len() {
            self.eval_points(Tape::Locate, d, fixed, &[x], &[cx])?;
            let l = self.out[0];
            if l.is_nan() || l == f64::INFINITY {
                return Err(self.not_finite(None, fixed, x));
            }
            return Ok(match self.deriv[d] {
                Some(i) => (l, self.out[i], self.out[i + 1]),
                None => (l, nan, nan),
            });
        }
        fixed.push((x, cx));
        let r = self.integrate(d + 1, fixed, Tape::Locate, 1e-7);
        fixed.pop();
        let r = r?;
        let m0 = r.values[0];
        if !(m0 > 0.0 && r.log_scale.is_finite()) {
            return Ok((f64::NEG_INFINITY, nan, nan));
        }
        let l = r.log_scale + m0.ln();
        Ok(match self.deriv[d] {
            Some(i) => {
                let (e1, e2, e3) = (r.values[i] / m0, r.values[i + 1] / m0, r.values[i + 2] / m0);
                (l, e1, e2 + e3 - e1 * e1)
            }
            None => (l, nan, nan),
        })
    }

    /// [`Self::q_at`] at several points: for the innermost variable, in one batch.
    fn q_many(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Map,
        ys: &[f64],
    ) -> Result<Vec<(f64, f64, f64)>, ExpectError> {
        if d + 1 != self.supports.len() {
            return ys.iter().map(|&y| self.q_at(d, fixed, map, y)).collect();
        }
        let n = ys.len();
        let (xs, cs): (Vec<f64>, Vec<f64>) = ys
            .iter()
            .map(|&y| {
                let (x, c, _) = map.point(y);
                (x, c)
            })
            .unzip();
        self.eval_points(Tape::Locate, d, fixed, &xs, &cs)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let l = self.out[i];
            if l.is_nan() || l == f64::INFINITY {
                return Err(self.not_finite(None, fixed, xs[i]));
            }
            let l = match self.deriv[d] {
                Some(k) => (l, self.out[k * n + i], self.out[(k + 1) * n + i]),
                None => (l, f64::NAN, f64::NAN),
            };
            out.push(map.chain(ys[i], l));
        }
        Ok(out)
    }

    /// `(q, q', q'')` in the mapped variable `y`.
    fn q_at(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Map,
        y: f64,
    ) -> Result<(f64, f64, f64), ExpectError> {
        let (x, cx, _) = map.point(y);
        let l = self.log_weight(d, fixed, x, cx)?;
        Ok(map.chain(y, l))
    }

    /// The mode `m` of the mapped log-weight `q(y)`, a scale `s` and `q(m)`.
    ///
    /// Newton steps `−q'/q''` where `q'' < 0`, otherwise steps of the trust radius uphill; a
    /// step that does not increase `q` is halved. The scale is `1/√(−q''(m))`, or when the
    /// curvature is unusable, the distance at which `q` has dropped by 20 divided by `√40`
    /// (the two agree for a normal density).
    fn locate(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Map,
    ) -> Result<(f64, f64, f64), ExpectError> {
        let (lo, hi) = map.range();
        let mut best: Option<(f64, (f64, f64, f64))> = None;
        let probes = map.probes();
        for (&y, v) in probes.iter().zip(self.q_many(d, fixed, map, probes)?) {
            if v.0.is_finite() && best.is_none_or(|(_, b)| v.0 > b.0) {
                best = Some((y, v));
            }
        }
        if best.is_none() {
            for y in map.wide_probes() {
                let v = self.q_at(d, fixed, map, y)?;
                if v.0.is_finite() && best.is_none_or(|(_, b)| v.0 > b.0) {
                    best = Some((y, v));
                }
            }
        }
        let Some((mut y, (mut q, mut g, mut h))) = best else {
            return Ok((0.0, 1.0, f64::NEG_INFINITY));
        };
        let mut radius: f64 = 1.0;
        for _ in 0..200 {
            let newton = h < 0.0 && h.is_finite() && g.is_finite();
            if newton && g * g / -h < 1e-20 {
                break;
            }
            if !g.is_finite() {
                break;
            }
            let mut step = if newton { -g / h } else { g.signum() * radius };
            let clipped = step.abs() > radius;
            if clipped {
                step = step.signum() * radius;
            }
            let mut moved = 0.0;
            let mut full = true;
            for _ in 0..80 {
                let yn = (y + step).clamp(lo, hi);
                let v = self.q_at(d, fixed, map, yn)?;
                if v.0.is_finite() && v.0 > q {
                    moved = yn - y;
                    y = yn;
                    (q, g, h) = v;
                    break;
                }
                step /= 2.0;
                full = false;
            }
            if moved == 0.0 {
                break;
            }
            // Grow the radius after a full step to it, else follow the step that worked.
            radius = if full && clipped {
                radius * 4.0
            } else {
                2.0 * moved.abs()
            };
        }
        let scale = if h < 0.0 && h.is_finite() {
            1.0 / (-h).sqrt()
        } else {
            self.drop_scale(d, fixed, map, y, q)?
        };
        Ok((y, scale, q))
    }

    /// `δ/√40` where `δ` is a distance from `m` at which `q` has dropped by about 20 on the
    /// side where it drops least.
    fn drop_scale(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        map: Map,
        m: f64,
        qm: f64,
    ) -> Result<f64, ExpectError> {
        let (lo, hi) = map.range();
        let mut drop = |p: &mut Self, delta: f64| -> Result<f64, ExpectError> {
            let a = p.q_at(d, fixed, map, (m + delta).min(hi))?.0;
            let b = p.q_at(d, fixed, map, (m - delta).max(lo))?.0;
            let top = [a, b]
                .into_iter()
                .filter(|v| !v.is_nan())
                .fold(f64::NEG_INFINITY, f64::max);
            Ok(qm - top)
        };
        let mut delta = 1.0;
        if drop(self, delta)? < 20.0 {
            while delta < 1e300 && drop(self, delta * 2.0)? < 20.0 {
                delta *= 2.0;
            }
            delta *= 2.0;
        } else {
            while delta > 1e-300 && drop(self, delta / 2.0)? >= 20.0 {
                delta /= 2.0;
            }
        }
        Ok(delta / 40f64.sqrt())
    }

    fn continuous(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
        map: Map,
    ) -> Result<Scaled, ExpectError> {
        let (m, s, qm) = self.locate(d, fixed, map)?;
        let n_out = self.n_out(tape);
        if !qm.is_finite() {
            if d == 0 && tape == Tape::Main {
                return Err(self.unresolved(
                    "the log-density is −∞ or NaN at every point the mode search tried, so \
                     the quadrature found no mass"
                        .to_string(),
                ));
            }
            return Ok(Scaled::zero(n_out));
        }
        // The rule places nodes at m + s·u: a width below the spacing of f64 at the mode
        // collapses them onto a few numbers (a normal with σ = 1 at μ = 1e308, where the
        // spacing is 2e292), and no sum over them is the integral.
        let spacing = (m.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
        if s < 1e3 * spacing || !s.is_finite() {
            let (x, _, _) = map.point(m);
            return Err(self.unresolved(format!(
                "near x = {} the density has width {} in the integration variable, \
                 below what the spacing of f64 there ({}) can resolve",
                crate::expr::number(x),
                super::significant(s, 3),
                super::significant(spacing, 3),
            )));
        }
        if self.kinked && map == Map::Real {
            // Kinks (Laplace's |x − μ|, and |x − μ'| in a KL integrand) at the mode and at
            // the roots of affine `abs`/`sign` arguments: each piece gets its own
            // double-exponential map, which resolves a corner at an endpoint.
            let mut cuts = self.kinks(d, fixed);
            cuts.push(m);
            cuts.sort_by(f64::total_cmp);
            cuts.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0));
            let pieces = cuts.len() + 1;
            let piece_rel = rel / pieces as f64;
            let mut total = self.continuous(d, fixed, tape, piece_rel, Map::Below(cuts[0]))?;
            for w in cuts.windows(2) {
                let part = self.continuous(d, fixed, tape, piece_rel, Map::Between(w[0], w[1]))?;
                total = combine(total, part);
            }
            let last = cuts[cuts.len() - 1];
            let part = self.continuous(d, fixed, tape, piece_rel, Map::Above(last))?;
            return Ok(combine(total, part));
        }
        let tol = self.tol(rel);
        let mut eval = |ys: &[f64], c: f64, batch: &mut Batch| {
            self.eval_level(d, fixed, tape, rel, Some(map), ys, c, batch)
        };
        quadrature::sinh_sinh(m, s, map.range(), qm, n_out, tol, &mut eval)
    }

    #[allow(clippy::too_many_arguments)] // the nesting state, passed down explicitly
    fn discrete(
        &mut self,
        d: usize,
        fixed: &mut Vec<(f64, f64)>,
        tape: Tape,
        rel: f64,
        lo: i64,
        hi: Option<i64>,
    ) -> Result<Scaled, ExpectError> {
        // The mode by pattern search: double the step uphill, then halve it.
        let mut lw = |p: &mut Self, x: i64| -> Result<f64, ExpectError> {
            Ok(p.log_weight(d, fixed, x as f64, 1.0 - x as f64)?.0)
        };
        let inside = |x: i64| x >= lo && hi.is_none_or(|h| x <= h);
        let mut x = lo;
        let mut lx = lw(self, x)?;
        let mut step: i64 = 1;
        for _ in 0..64 {
            let Some(y) = x.checked_add(step).filter(|y| inside(*y)) else {
                break;
            };
            let ly = lw(self, y)?;
            if ly > lx || (lx == f64::NEG_INFINITY && ly == lx) {
                (x, lx) = (y, ly);
                step = step.saturating_mul(2);
            } else {
                break;
            }
        }
        let mut iterations = 0;
        while step >= 1 && iterations < 10_000 {
            iterations += 1;
            let mut moved = false;
            for y in [x.checked_add(step), x.checked_sub(step)]
                .into_iter()
                .flatten()
            {
                if inside(y) {
                    let ly = lw(self, y)?;
                    if ly > lx {
                        (x, lx) = (y, ly);
                        moved = true;
                        break;
                    }
                }
            }
            if !moved {
                step /= 2;
            }
        }
        let n_out = self.n_out(tape);
        let tol = self.tol(rel);
        let mut eval = |ys: &[f64], c: f64, batch: &mut Batch| {
            self.eval_level(d, fixed, tape, rel, None, ys, c, batch)
        };
        quadrature::sum_outward(lo, hi, x, lx, n_out, tol, &mut eval)
    }
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

    #[test]
    fn logit_map_keeps_both_ends_exact() {
        // x = 1/(1 + e^{−y}); 1 − x is exact even where x rounds to 1.
        let (x, c, lj) = Map::Logit.point(50.0);
        assert_eq!(x, 1.0);
        assert!((c - (-50f64).exp()).abs() < 1e-35);
        assert!((lj - (-50.0 - 2.0 * (-50f64).exp().ln_1p())).abs() < 1e-12);
    }
}

#[cfg(test)]
mod end_tests {
    use super::*;
    use crate::eval::eval_f64;

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
