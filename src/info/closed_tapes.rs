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

/// Whether an entry `v` of `F` whose error scale is `m` (its magnitude output) may have lost
/// more than [`FIELD_ACCURACY`] to cancellation in `f64`: the rounding is at most a few dozen
/// ulps of `m` (64 allowed). `m` NaN (not computable) counts as lossy; an exact zero
/// (`m = 0`: a zero factor) is not.
#[inline]
pub(crate) fn lossy(v: f64, m: f64) -> bool {
    let scaled = 64.0 * f64::EPSILON * m;
    scaled.is_nan() || scaled > FIELD_ACCURACY * v.abs()
}

/// The error scale `M(e)` of each expression, so that evaluating `e` in `f64` errs by about
/// `ε·M(e)` (a running error bound, written as expressions to compile beside `e`): numbers
/// and names are exact (`M = |v|`, the scale their sums round at), `M(a ± b) = M(a) + M(b)`,
/// `M(ab) = M(a)M(b)`, `M(a/b) = (M(a) + |a/b| M(b))/|b|`, and a function adds its own
/// rounding to the propagated error: `M(f(u)) = |f(u)| + |f'(u)| M(u)`. Where terms cancel,
/// `M(e)` stays the size of the terms while `e` falls: `ψ₁(b) − ψ₁(a + b)` at `b = 1e20` is
/// `2e-40` with `M ≈ 2e-20`. Built in one DAG, so shared parts are shared.
pub(crate) fn magnitudes(entries: &[Expr]) -> Vec<Expr> {
    use crate::expr::{Builder, Op};
    use egg::Language;
    let mut b = Builder::default();
    entries
        .iter()
        .map(|e| {
            let nodes = e.nodes();
            let mut val: Vec<egg::Id> = Vec::with_capacity(nodes.len());
            let mut mag: Vec<egg::Id> = Vec::with_capacity(nodes.len());
            for node in nodes {
                let v = b.node(node.clone().map_children(|c| val[usize::from(c)]));
                let m = |i: &egg::Id| mag[usize::from(*i)];
                let x = |i: &egg::Id| val[usize::from(*i)];
                let abs = |b: &mut Builder, id| b.unary(Op::Abs, id);
                // |f(u)| + |f'(u)|·M(u)
                let through = |b: &mut Builder, fu: egg::Id, dfu: egg::Id, mu: egg::Id| {
                    let (a, d) = (abs(b, fu), abs(b, dfu));
                    let p = b.mul(d, mu);
                    b.add(a, p)
                };
                let mv = match node {
                    Op::Num(c) => b.num(c.value().abs()),
                    Op::Pi | Op::Euler | Op::Sym(_) => abs(&mut b, v),
                    Op::Add([p, q]) | Op::Sub([p, q]) => b.add(m(p), m(q)),
                    Op::Mul([p, q]) => b.mul(m(p), m(q)),
                    Op::Div([p, q]) => {
                        let ratio = abs(&mut b, v);
                        let t = b.mul(ratio, m(q));
                        let num = b.add(m(p), t);
                        let den = abs(&mut b, x(q));
                        b.div(num, den)
                    }
                    Op::Neg([p]) | Op::Abs([p]) => m(p),
                    Op::Sign(_) => b.num(1.0),
                    Op::Pow([p, q]) => {
                        // |a^b| + |b a^(b−1)| M(a) (+ |a^b ln a| M(b) for a varying b)
                        let one = b.num(1.0);
                        let bm1 = b.sub(x(q), one);
                        let pw = b.pow(x(p), bm1);
                        let d = b.mul(x(q), pw);
                        let mut out = through(&mut b, v, d, m(p));
                        if b.value(x(q)).is_none() {
                            let l = b.unary(Op::Ln, x(p));
                            let dl = b.mul(v, l);
                            let dl = abs(&mut b, dl);
                            let t = b.mul(dl, m(q));
                            out = b.add(out, t);
                        }
                        out
                    }
                    Op::Polygamma([k, u]) => match b.value(x(k)) {
                        Some(order) => {
                            let k1 = b.num(order + 1.0);
                            let d = b.node(Op::Polygamma([k1, x(u)]));
                            through(&mut b, v, d, m(u))
                        }
                        None => b.num(f64::NAN),
                    },
                    Op::Ln([u]) => {
                        let one = b.num(1.0);
                        let d = b.div(one, x(u));
                        through(&mut b, v, d, m(u))
                    }
                    Op::Exp([u]) | Op::Expm1([u]) => {
                        let d = b.unary(Op::Exp, x(u));
                        through(&mut b, v, d, m(u))
                    }
                    Op::Sqrt([u]) => {
                        let two = b.num(2.0);
                        let t = b.mul(two, v);
                        let one = b.num(1.0);
                        let d = b.div(one, t);
                        through(&mut b, v, d, m(u))
                    }
                    Op::Log1p([u]) => {
                        let one = b.num(1.0);
                        let t = b.add(one, x(u));
                        let d = b.div(one, t);
                        through(&mut b, v, d, m(u))
                    }
                    Op::Lgamma([u]) => {
                        let d = b.unary(Op::Digamma, x(u));
                        through(&mut b, v, d, m(u))
                    }
                    Op::Digamma([u]) => {
                        let d = b.unary(Op::Trigamma, x(u));
                        through(&mut b, v, d, m(u))
                    }
                    Op::Trigamma([u]) => {
                        let two = b.num(2.0);
                        let d = b.node(Op::Polygamma([two, x(u)]));
                        through(&mut b, v, d, m(u))
                    }
                    Op::Sigmoid([u]) => {
                        let one = b.num(1.0);
                        let c = b.sub(one, v);
                        let d = b.mul(v, c);
                        through(&mut b, v, d, m(u))
                    }
                    Op::Sin([u]) => {
                        let d = b.unary(Op::Cos, x(u));
                        through(&mut b, v, d, m(u))
                    }
                    Op::Cos([u]) => {
                        let d = b.unary(Op::Sin, x(u));
                        through(&mut b, v, d, m(u))
                    }
                };
                val.push(v);
                mag.push(mv);
            }
            b.finish(mag[usize::from(e.root())])
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
