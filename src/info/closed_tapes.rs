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
                Ok(Compiled::new(&exprs, &self.params)?)
            })
            .as_ref()
            .map_err(Clone::clone)
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
