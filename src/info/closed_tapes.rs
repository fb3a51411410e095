//! The closed form of a Fisher field compiled: the upper triangle of `F`, and on first use
//! its symbolic θ-derivatives, as flat tapes ([`Compiled`]), with the helpers that move their
//! outputs into matrices.

use std::collections::HashMap;
use std::sync::OnceLock;

use egg::Symbol;
use nalgebra::DMatrix;

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
}

/// Upper triangles up to this size (8 × 8) are returned through the stack.
pub(crate) const STACK_OUTPUTS: usize = 36;

/// Writes the upper triangle `values` into the symmetric `out`; whether every entry is
/// [`plain`].
pub(crate) fn fill_symmetric(out: &mut DMatrix<f64>, values: &[f64]) -> bool {
    let n = out.nrows();
    let mut fine = true;
    for (&v, (j, k)) in values.iter().zip(UpperPairs::new(n)) {
        fine &= plain(v);
        out[(j, k)] = v;
        out[(k, j)] = v;
    }
    fine
}

/// A value the compiled tape gives reliably: finite, and zero or well inside the normal range
/// of `f64` (an entry near `1e-300` may be the rounding of one that underflowed).
pub(crate) fn plain(v: f64) -> bool {
    v == 0.0 || (v.is_finite() && (1e-290..=1e290).contains(&v.abs()))
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
        }
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
