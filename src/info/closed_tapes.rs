//! The closed form of a Fisher field compiled: the upper triangle of `F`, and on first use
//! its symbolic θ-derivatives, as flat tapes ([`Compiled`]), with the helpers that move their
//! outputs into matrices.

use std::collections::HashMap;
use std::sync::OnceLock;

use egg::Symbol;

use crate::eval::Compiled;
use crate::expr::Expr;
use crate::model::Model;

use super::ClosedForm;
use super::prepared::pairs;
use super::types::InfoError;

/// The closed-form entries and their compiled tapes by derivative order.
#[derive(Debug)]
pub(crate) struct ClosedTapes {
    /// The upper triangle of `F`, the model's constants substituted.
    entries: Vec<Expr>,
    params: Vec<Symbol>,
    /// What the model declares about its names, for [`ClosedTapes::tidy`].
    facts: crate::simplify::Facts,
    tapes: [OnceLock<Result<Compiled, InfoError>>; 3],
    /// Where each output of the order-0 and order-1 tapes goes, [`ClosedTapes::targets`].
    targets: [OnceLock<Vec<Target>>; 2],
}

/// Where one output of a tape goes: matrix `block` (0 for `F`, `1 + l` for `∂_l F`), at the
/// two column-major positions `a` and `b` of entry `(j, k)` and of its mirror `(k, j)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub(crate) block: usize,
    pub(crate) a: usize,
    pub(crate) b: usize,
}

/// A value the compiled tape gives reliably: finite, and zero or well inside the normal range
/// of `f64` (an entry near `1e-300` may be the rounding of one that underflowed): `|v|` in
/// `[2^−963, 2^963)`, about `[1.6e-290, 6.2e289)`, read from the exponent bits alone.
#[inline]
pub(crate) fn plain(v: f64) -> bool {
    const LO: u64 = 1023 - 963;
    const HI: u64 = 1023 + 963;
    let exponent = (v.to_bits() >> 52) & 0x7ff;
    v == 0.0 || exponent.wrapping_sub(LO) < HI - LO
}

/// Relative accuracy the compiled `F` must reach; where its error scale says it may not, the
/// accurate evaluator computes it instead.
const FIELD_ACCURACY: f64 = 1e-10;

/// Whether an entry `v` of `F` whose error scale is `m` (its magnitude output: the error is
/// about `ε·m`) may have lost more than [`FIELD_ACCURACY`] in `f64`, with a margin of 64 for
/// the looseness of the scale and the special functions' own errors. `m` NaN (not
/// computable) counts as lossy; `m = 0` (an exact value) is not.
#[inline]
pub(crate) fn lossy(v: f64, m: f64) -> bool {
    let scaled = 64.0 * f64::EPSILON * m;
    scaled.is_nan() || scaled > FIELD_ACCURACY * v.abs()
}

/// `f'(u)` in `b` for the function node `node` of `b` of one argument, the node `u`: [`crate::diff::derivative`] of `f(t)` for a placeholder `t`, copied into `b`
/// with `t` read as `u`. `None` for a `polygamma` whose order is not a number.
fn derivative_at(
    b: &mut crate::expr::Builder,
    node: &crate::expr::Op,
    u: egg::Id,
) -> Option<egg::Id> {
    use crate::expr::{Builder, Op};
    use egg::Language;
    // No model name can hold a control character.
    let t = Symbol::from("\u{1}t");
    let mut f = Builder::default();
    let ts = f.sym(t);
    let root = match node {
        Op::Polygamma([k, _]) => {
            let order = b.value(*k)?;
            let k = f.num(order);
            f.node(Op::Polygamma([k, ts]))
        }
        other => f.node(other.clone().map_children(|_| ts)),
    };
    let d = crate::diff::derivative(&f.finish(root), t);
    let mut ids: Vec<egg::Id> = Vec::with_capacity(d.nodes().len());
    for n in d.nodes() {
        let id = match n {
            Op::Sym(s) if *s == t => u,
            _ => b.node(n.clone().map_children(|c| ids[usize::from(c)])),
        };
        ids.push(id);
    }
    Some(ids[usize::from(d.root())])
}

/// The error scale `E(e)` of each expression, so that evaluating `e` in `f64` errs by about
/// `ε·E(e)`: a running error bound written as expressions, compiled beside `e`. Inputs and
/// numbers are exact (`E = 0`); each operation adds the rounding of its result and propagates
/// the errors of its operands: `E(a ± b) = E(a) + E(b) + |a ± b|`,
/// `E(ab) = |a|E(b) + |b|E(a) + |ab|`, `E(a/b) = (E(a) + |a/b|E(b))/|b| + |a/b|`,
/// `E(f(u)) = |f'(u)|E(u) + |f(u)|` (the derivative only where `u` is not exact). Where
/// terms cancel, `E(e)` stays the size of the terms while `e` falls: `ψ₁(b) − ψ₁(a + b)` at
/// `b = 1e20` is `2e-40` with `E ≈ 2e-20`. Built in one DAG, so shared parts are shared.
pub(crate) fn magnitudes(entries: &[Expr]) -> Vec<Expr> {
    use crate::expr::{Builder, Op};
    use egg::Language;
    let mut b = Builder::default();
    entries
        .iter()
        .map(|e| {
            let nodes = e.nodes();
            let mut val: Vec<egg::Id> = Vec::with_capacity(nodes.len());
            // `None`: exact (no error at all).
            let mut err: Vec<Option<egg::Id>> = Vec::with_capacity(nodes.len());
            for node in nodes {
                let mapped = node.clone().map_children(|c| val[usize::from(c)]);
                let v = b.node(mapped.clone());
                let x = |i: &egg::Id| val[usize::from(*i)];
                let er = |i: &egg::Id| err[usize::from(*i)];
                let abs = |b: &mut Builder, id| b.unary(Op::Abs, id);
                let plus = |b: &mut Builder, p: Option<egg::Id>, q: egg::Id| match p {
                    Some(p) => b.add(p, q),
                    None => q,
                };
                // |w|·E(u) (None when u is exact)
                let times = |b: &mut Builder, w: egg::Id, eu: Option<egg::Id>| {
                    eu.map(|eu| {
                        let aw = abs(b, w);
                        b.mul(aw, eu)
                    })
                };
                let sum = |b: &mut Builder, p: Option<egg::Id>, q: Option<egg::Id>| match (p, q) {
                    (Some(p), Some(q)) => Some(b.add(p, q)),
                    (p, None) => p,
                    (None, q) => q,
                };
                let rounded = |b: &mut Builder, prop: Option<egg::Id>| {
                    let r = abs(b, v);
                    Some(plus(b, prop, r))
                };
                let ev = match node {
                    Op::Num(_) | Op::Sym(_) => None,
                    Op::Pi | Op::Euler => rounded(&mut b, None),
                    Op::Add([p, q]) | Op::Sub([p, q]) => {
                        let prop = sum(&mut b, er(p), er(q));
                        rounded(&mut b, prop)
                    }
                    Op::Mul([p, q]) => {
                        let s1 = times(&mut b, x(p), er(q));
                        let s2 = times(&mut b, x(q), er(p));
                        let prop = sum(&mut b, s1, s2);
                        rounded(&mut b, prop)
                    }
                    Op::Div([p, q]) => {
                        let t = times(&mut b, v, er(q));
                        let prop = sum(&mut b, er(p), t).map(|n| {
                            let den = abs(&mut b, x(q));
                            b.div(n, den)
                        });
                        rounded(&mut b, prop)
                    }
                    Op::Neg([p]) | Op::Abs([p]) => er(p),
                    Op::Sign(_) => None,
                    Op::Pow([p, q]) => {
                        // |b a^(b−1)| E(a) + |a^b ln a| E(b) + |a^b|
                        let pa = er(p).map(|ea| {
                            let one = b.num(1.0);
                            let bm1 = b.sub(x(q), one);
                            let pw = b.pow(x(p), bm1);
                            let d = b.mul(x(q), pw);
                            let ad = abs(&mut b, d);
                            b.mul(ad, ea)
                        });
                        let pb = er(q).map(|eb| {
                            let l = b.unary(Op::Ln, x(p));
                            let dl = b.mul(v, l);
                            let dl = abs(&mut b, dl);
                            b.mul(dl, eb)
                        });
                        let prop = sum(&mut b, pa, pb);
                        rounded(&mut b, prop)
                    }
                    // |f'(u)| E(u) + |f(u)| for the functions of one argument `u` (the
                    // order of `polygamma` is a number, checked at load)
                    Op::Polygamma([_, u])
                    | Op::Ln([u])
                    | Op::Exp([u])
                    | Op::Expm1([u])
                    | Op::Sqrt([u])
                    | Op::Log1p([u])
                    | Op::Lgamma([u])
                    | Op::Digamma([u])
                    | Op::Trigamma([u])
                    | Op::Sigmoid([u])
                    | Op::Sin([u])
                    | Op::Cos([u]) => {
                        let prop = match er(u) {
                            Some(eu) => match derivative_at(&mut b, &mapped, x(u)) {
                                Some(d) => times(&mut b, d, Some(eu)),
                                None => Some(b.num(f64::NAN)),
                            },
                            None => None,
                        };
                        rounded(&mut b, prop)
                    }
                };
                val.push(v);
                err.push(ev);
            }
            match err[usize::from(e.root())] {
                Some(id) => b.finish(id),
                None => Expr::num(0.0),
            }
        })
        .collect()
}

/// The upper-triangle pairs of an `n × n` matrix without allocating.
struct UpperPairs {
    n: usize,
    j: usize,
    k: usize,
}

impl UpperPairs {
    fn new(n: usize) -> UpperPairs {
        UpperPairs { n, j: 0, k: 0 }
    }
}

impl Iterator for UpperPairs {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.j >= self.n {
            return None;
        }
        let item = (self.j, self.k);
        self.k += 1;
        if self.k == self.n {
            self.j += 1;
            self.k = self.j;
        }
        Some(item)
    }
}

impl ClosedTapes {
    pub(crate) fn new(model: &Model, f: &ClosedForm) -> ClosedTapes {
        let consts: HashMap<Symbol, Expr> = model
            .consts
            .iter()
            .map(|(s, v)| (*s, Expr::num(*v)))
            .collect();
        let n = f.matrix.len();
        ClosedTapes {
            entries: pairs(n)
                .into_iter()
                .map(|(j, k)| f.matrix[j][k].substitute(&consts))
                .collect(),
            params: model.params.iter().map(|p| p.name).collect(),
            facts: crate::simplify::Facts::of(model),
            tapes: Default::default(),
            targets: Default::default(),
        }
    }

    /// Where the outputs of the tape of `order` 0 or 1 go ([`Target`]), in output order.
    pub(crate) fn targets(&self, order: usize) -> &[Target] {
        self.targets[order].get_or_init(|| {
            let n = self.params.len();
            (0..=order * n)
                .flat_map(|block| {
                    UpperPairs::new(n).map(move |(j, k)| Target {
                        block,
                        a: j + k * n,
                        b: k + j * n,
                    })
                })
                .collect()
        })
    }

    /// The tape of `F` (order 0), of `F, ∂F` (1) or of `F, ∂F, ∂²F` (2): the upper triangle
    /// of each, `∂_l` in order of `l`, `∂_l∂_m` for `l ≤ m`.
    pub(crate) fn tape(&self, order: usize) -> Result<&Compiled, InfoError> {
        self.tapes[order]
            .get_or_init(|| {
                let mut exprs = self.entries.clone();
                if order >= 1 {
                    let first: Vec<Vec<Expr>> = self
                        .params
                        .iter()
                        .map(|p| {
                            self.entries
                                .iter()
                                .map(|e| self.tidy(crate::diff::derivative(e, *p)))
                                .collect()
                        })
                        .collect();
                    exprs.extend(first.iter().flatten().cloned());
                    if order == 2 {
                        for (l, m) in pairs(self.params.len()) {
                            exprs.extend(
                                first[l]
                                    .iter()
                                    .map(|e| self.tidy(crate::diff::derivative(e, self.params[m]))),
                            );
                        }
                    }
                }
                // Last, the error scales of the entries of F (see `magnitudes`).
                exprs.extend(magnitudes(&self.entries));
                Ok(Compiled::new(&exprs, &self.params)?)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The index of the first of the magnitude outputs of a tape with `n_outputs` outputs:
    /// the last `n(n+1)/2`, one per entry of the upper triangle of `F`.
    pub(crate) fn magnitude_start(&self, n_outputs: usize) -> usize {
        let n = self.params.len();
        n_outputs - n * (n + 1) / 2
    }

    /// A derivative in canonical form when that is smaller (the derivative of a closed form is
    /// only evaluated, never printed, so the cheap canonical pass is enough).
    fn tidy(&self, e: Expr) -> Expr {
        let c = crate::simplify::canon::canonicalize(&e, &self.facts);
        if c.nodes().len() < e.nodes().len() {
            c
        } else {
            e
        }
    }

    /// A name for output `i` of the derivative tapes: `F[mu, sigma]`, `∂F[mu, sigma]/∂sigma`.
    pub(crate) fn output_name(&self, model: &Model, i: usize) -> String {
        let n = self.params.len();
        let np = n * (n + 1) / 2;
        let pairs = pairs(n);
        let name = |j: usize| model.params[j].name;
        let (j, k) = pairs[i % np];
        let entry = format!("F[{}, {}]", name(j), name(k));
        let block = i / np;
        if block == 0 {
            return entry;
        }
        if block <= n {
            return format!("∂{entry}/∂{}", name(block - 1));
        }
        let (l, m) = pairs[block - 1 - n];
        format!("∂²{entry}/∂{}∂{}", name(l), name(m))
    }
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn plain_values_are_finite_and_far_from_the_ends_of_the_range() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -2.5,
            1e-289,
            -1e-289,
            1e289,
            -1e289,
            2f64.powi(-963),
        ] {
            assert!(plain(v), "{v:e}");
        }
        for v in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e-300,
            -1e300,
            2f64.powi(963),
            2f64.powi(-964),
        ] {
            assert!(!plain(v), "{v:e}");
        }
    }
}
