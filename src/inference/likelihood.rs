//! The log-likelihood of N observations, `ℓ(θ) = Σᵢ ln p(xᵢ; θ)`, with its gradient and
//! Hessian, by one of two routes:
//!
//! - **sufficient statistics**: where the score-identity separation applies (DESIGN §4),
//!   `ln p(x; θ) = Σ_k c_k(θ)·t_k(x) + r(θ) + h(x)`, so `ℓ(θ) = Σ_k c_k(θ)·T_k + N·r(θ) + H`
//!   with `T_k = Σᵢ t_k(xᵢ)` and `H = Σᵢ h(xᵢ)` summed once, in one pass over the data
//!   (parallel over cores for large N, compensated, in a fixed order so the sums do not
//!   depend on the thread count); every later evaluation is O(1) in N;
//! - **batched**: the compiled log-density, score and Hessian over the data, a chunk of rows
//!   at a time ([`Compiled::eval_batch`]), summed the same way.
//!
//! The sums of the first route can cancel where the second's do not (a normal whose data
//! sit at 10⁶ ± 1: `Σx² − 2μΣx + Nμ²` loses twelve digits). [`Likelihood::batched`] is
//! the reference a fit checks its answer with.

use egg::Symbol;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use crate::eval::{BatchScratch, CompensatedSum, Compiled, EvalError, Input, hoist};
use crate::expect::RouteError;
use crate::expect::exact::separate;
use crate::expr::Expr;
use crate::info::FisherField;
use crate::model::Model;

use super::data::Dataset;

/// Rows per chunk of a pass over the data: the unit of parallel work and of the fixed-order
/// reduction (so a sum is the same whatever the number of threads).
const CHUNK_ROWS: usize = 4096;

/// Rows from which a pass over the data runs in parallel.
const PARALLEL_ROWS: usize = 1 << 16;

/// The most memory the batched route spends on hoisted values (see [`Route::Batched`]):
/// beyond it they are recomputed at every evaluation.
const MAX_HOISTED_BYTES: usize = 1 << 30;

/// How a [`Likelihood`] evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikelihoodRoute {
    /// Through the sums of the separation's statistics: O(1) per evaluation.
    Sufficient,
    /// Over the data, in batches: O(N) per evaluation.
    Batched,
}

impl LikelihoodRoute {
    /// `"sufficient-statistics"` or `"batched"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LikelihoodRoute::Sufficient => "sufficient-statistics",
            LikelihoodRoute::Batched => "batched",
        }
    }
}

/// Why the log-likelihood could not be built or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LikelihoodError {
    /// The dataset is not of this model (its data variables differ).
    #[error("the data have columns {found}, the model `{model}` has data variables {expected}")]
    Mismatch {
        /// The model's name.
        model: String,
        /// Its data variables, comma-separated.
        expected: String,
        /// The dataset's, comma-separated.
        found: String,
    },
    /// The sufficient-statistics route was asked for and does not apply.
    #[error("the log-likelihood has no sufficient statistics: {0}")]
    NoStatistics(RouteError),
    /// The separated log-density does not equal the model's at an observation (a bug of the
    /// separation, caught before any sum is trusted).
    #[error(
        "the separated log-density is {separated} at observation {row} and {at}, the model's {direct}: the sufficient statistics are not used"
    )]
    SeparationMismatch {
        /// The observation, from 1.
        row: usize,
        /// θ.
        at: String,
        /// `r + Σ c_k t_k + h`.
        separated: f64,
        /// `ln p`.
        direct: f64,
    },
    /// A parameter vector of the wrong length or outside the domain.
    #[error("{0}")]
    Theta(String),
    /// An expression could not be compiled.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// The log-likelihood, its gradient or its Hessian is not finite at θ.
    #[error("the {what} of the log-likelihood is not finite at {at}{}", row.map(|r| format!(" (observation {r})")).unwrap_or_default())]
    NotFinite {
        /// `"value"`, `"gradient"` or `"Hessian"`.
        what: &'static str,
        /// θ, `name=value, …`.
        at: String,
        /// The first observation (from 1) where it is not, when known.
        row: Option<usize>,
    },
}

/// `ℓ(θ)` with, as asked, its gradient and Hessian.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLikelihood {
    /// `ℓ(θ)`.
    pub value: f64,
    /// `∇ℓ(θ)` (empty when not asked for).
    pub gradient: DVector<f64>,
    /// `∇²ℓ(θ)` (0 × 0 when not asked for); the observed information is its negative.
    pub hessian: DMatrix<f64>,
}

/// The log-likelihood of a model on a dataset (see the module documentation).
#[derive(Debug, Clone)]
pub struct Likelihood {
    model: Model,
    params: Vec<Symbol>,
    n: usize,
    route: Route,
}

#[derive(Debug, Clone)]
enum Route {
    Sufficient {
        /// The statistics `t_k`, in the model language, for reports.
        statistics: Vec<Expr>,
        /// `T_k = Σᵢ t_k(xᵢ)`.
        totals: Vec<f64>,
        /// `H = Σᵢ h(xᵢ)`.
        base: f64,
        /// `Σᵢ |t_k(xᵢ)|`, the scale of the rounding of `T_k`.
        magnitudes: Vec<f64>,
        /// By order 0, 1, 2: outputs `r, c_1…c_K`, then (order ≥ 1) `∂_j r, ∂_j c_k` for each
        /// j, then (order 2) `∂_j∂_l r, ∂_j∂_l c_k` for each `j ≤ l`.
        tapes: [Compiled; 3],
    },
    Batched {
        /// The data variables' columns.
        columns: Vec<Vec<f64>>,
        /// The values of the instructions that depend on the data only (`ln x`, say), row
        /// by row, computed once ([`crate::eval::hoist`]); empty when there are none.
        hoisted: Vec<Vec<f64>>,
        /// By order 0, 1, 2: `ln p`, then the score, then the Hessian's upper triangle; the
        /// inputs are the data variables, the parameters, then the hoisted values.
        tapes: [Compiled; 3],
    },
}

/// The data columns, hoisted values and tapes of [`Route::Batched`].
type BatchedParts<'a> = (&'a [Vec<f64>], &'a [Vec<f64>], &'a [Compiled; 3]);

/// The upper-triangle pairs `(j, l)`, `j ≤ l`, row by row.
fn pairs(d: usize) -> Vec<(usize, usize)> {
    (0..d).flat_map(|j| (j..d).map(move |l| (j, l))).collect()
}

impl Likelihood {
    /// The log-likelihood of `data` under the field's model: by sufficient statistics where
    /// the separation applies and their sums are finite, in batches over the data otherwise.
    ///
    /// # Errors
    ///
    /// [`LikelihoodError::Mismatch`] when the data are not of this model, compile errors.
    pub fn new(field: &FisherField, data: &Dataset) -> Result<Likelihood, LikelihoodError> {
        match Likelihood::sufficient(field, data) {
            Err(
                LikelihoodError::NoStatistics(_)
                | LikelihoodError::NotFinite { .. }
                | LikelihoodError::SeparationMismatch { .. },
            ) => Likelihood::batched(field, data),
            other => other,
        }
    }

    /// The sufficient-statistics route.
    ///
    /// # Errors
    ///
    /// [`LikelihoodError::NoStatistics`] where the separation does not apply; as
    /// [`Likelihood::new`].
    pub fn sufficient(field: &FisherField, data: &Dataset) -> Result<Likelihood, LikelihoodError> {
        let model = field.model();
        check_columns(model, data)?;
        // The field's closed-form route separated the log-density already.
        let sep = match field.closed_form_route() {
            Some(Ok(closed)) => closed.separation.clone(),
            _ => separate(model).map_err(LikelihoodError::NoStatistics)?,
        };
        let consts = model
            .consts
            .iter()
            .map(|(s, v)| (*s, Expr::num(*v)))
            .collect();
        let params = model.param_names();
        let facts = crate::simplify::Facts::of(model);
        let tidy = |e: Expr| {
            let c = crate::simplify::canon::canonicalize(&e, &facts);
            if c.nodes().len() < e.nodes().len() {
                c
            } else {
                e
            }
        };
        // The θ-parts r, c_1…c_K and their derivatives.
        let mut parts = vec![sep.rest.substitute(&consts)];
        parts.extend(sep.stats.iter().map(|(_, c)| c.substitute(&consts)));
        let first: Vec<Vec<Expr>> = params
            .iter()
            .map(|p| {
                parts
                    .iter()
                    .map(|e| tidy(crate::diff::derivative(e, *p)))
                    .collect()
            })
            .collect();
        let mut order1 = parts.clone();
        order1.extend(first.iter().flatten().cloned());
        let mut order2 = order1.clone();
        for (j, l) in pairs(params.len()) {
            order2.extend(
                first[j]
                    .iter()
                    .map(|e| tidy(crate::diff::derivative(e, params[l]))),
            );
        }
        let tapes = [
            Compiled::new(&parts, &params)?,
            Compiled::new(&order1, &params)?,
            Compiled::new(&order2, &params)?,
        ];
        // One pass over the data: T_k, H, and Σ|t_k| for the rounding bound.
        let mut stat_exprs: Vec<Expr> = sep
            .stats
            .iter()
            .map(|(t, _)| t.substitute(&consts))
            .collect();
        stat_exprs.push(sep.base.substitute(&consts));
        let k = sep.stats.len();
        let names = model.data_names();
        let tape = Compiled::new(&stat_exprs, &names)?;
        let (sums, mut magnitudes) = column_sums(&tape, data.columns(), &[], &[], true)?;
        magnitudes.truncate(k);
        if let Some(j) = sums.iter().position(|s| !s.is_finite()) {
            return Err(LikelihoodError::NotFinite {
                what: "value",
                at: format!(
                    "the sum of the statistic `{}`",
                    crate::expr::text(&stat_exprs[j])
                ),
                row: None,
            });
        }
        check_separation(model, &parts, &stat_exprs[..=k], &tapes[0], data)?;
        Ok(Likelihood {
            model: model.clone(),
            params,
            n: data.len(),
            route: Route::Sufficient {
                statistics: sep.stats.iter().map(|(t, _)| t.clone()).collect(),
                totals: sums[..k].to_vec(),
                base: sums[k],
                magnitudes,
                tapes,
            },
        })
    }

    /// The batched route, over the data.
    ///
    /// # Errors
    ///
    /// As [`Likelihood::new`].
    pub fn batched(field: &FisherField, data: &Dataset) -> Result<Likelihood, LikelihoodError> {
        let model = field.model();
        check_columns(model, data)?;
        let consts = model
            .consts
            .iter()
            .map(|(s, v)| (*s, Expr::num(*v)))
            .collect();
        let d = field.derivatives();
        // Logs of products of positive factors split (`ln(x/λ) = ln x − ln λ`), so that the
        // parts in the data alone are hoisted out of the evaluations.
        let positive = crate::expect::ends::positive_names(model);
        let prepare = |e: &Expr| crate::expect::ends::split_logs(&e.substitute(&consts), &positive);
        let mut order0 = vec![prepare(&d.logp)];
        let mut order1 = order0.clone();
        order1.extend(d.score.iter().map(prepare));
        let mut order2 = order1.clone();
        order2.extend(
            pairs(d.params.len())
                .into_iter()
                .map(|(j, l)| prepare(&d.hessian[j][l])),
        );
        let params = model.param_names();
        let mut vars = model.data_names();
        vars.extend(&params);
        order0.truncate(1);
        let mut tapes = [
            Compiled::new(&order0, &vars)?,
            Compiled::new(&order1, &vars)?,
            Compiled::new(&order2, &vars)?,
        ];
        let columns = data.columns().to_vec();
        let mut hoisted = Vec::new();
        let names = model.data_names();
        // What depends on the data only, once per row, within a memory budget.
        if let Some(split) = hoist(&[&tapes[0], &tapes[1], &tapes[2]], &names) {
            let bytes = split.pre.n_outputs() * data.len() * std::mem::size_of::<f64>();
            if bytes <= MAX_HOISTED_BYTES {
                hoisted = column_values(&split.pre, &columns)?;
                let [a, b, c]: [Compiled; 3] = split
                    .mains
                    .try_into()
                    .expect("hoist returns one tape per tape given");
                tapes = [a, b, c];
            }
        }
        Ok(Likelihood {
            model: model.clone(),
            params,
            n: data.len(),
            route: Route::Batched {
                columns,
                hoisted,
                tapes,
            },
        })
    }

    /// The route this likelihood evaluates by.
    pub fn route(&self) -> LikelihoodRoute {
        match self.route {
            Route::Sufficient { .. } => LikelihoodRoute::Sufficient,
            Route::Batched { .. } => LikelihoodRoute::Batched,
        }
    }

    /// N, the number of observations.
    pub fn len(&self) -> usize {
        self.n
    }

    /// The batched route's columns, hoisted values and tapes; `None` on the sufficient route.
    fn batched_parts(&self) -> Option<BatchedParts<'_>> {
        match &self.route {
            Route::Batched {
                columns,
                hoisted,
                tapes,
            } => Some((columns, hoisted, tapes)),
            Route::Sufficient { .. } => None,
        }
    }

    /// The likelihood of every `every`-th observation (the first, the `every + 1`-th, …), on
    /// the batched route with the same compiled tapes; `None` on the sufficient route (whose
    /// sums do not keep the rows) or for `every` 0.
    pub fn subsample(&self, every: usize) -> Option<Likelihood> {
        let (columns, hoisted, tapes) = self.batched_parts()?;
        if every == 0 {
            return None;
        }
        let strided = |cols: &[Vec<f64>]| -> Vec<Vec<f64>> {
            cols.iter()
                .map(|c| c.iter().step_by(every).copied().collect())
                .collect()
        };
        let columns = strided(columns);
        Some(Likelihood {
            model: self.model.clone(),
            params: self.params.clone(),
            n: columns.first().map_or(0, Vec::len),
            route: Route::Batched {
                columns,
                hoisted: strided(hoisted),
                tapes: tapes.clone(),
            },
        })
    }

    /// Whether there are no observations (never: a [`Dataset`] is not empty).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The sufficient statistics `t_k` with their totals `T_k` (sufficient route only).
    pub fn statistics(&self) -> Option<Vec<(Expr, f64)>> {
        match &self.route {
            Route::Sufficient {
                statistics, totals, ..
            } => Some(
                statistics
                    .iter()
                    .cloned()
                    .zip(totals.iter().copied())
                    .collect(),
            ),
            Route::Batched { .. } => None,
        }
    }

    /// A bound on the rounding error of each component of `∇ℓ(θ)` by the sufficient route,
    /// `16ε (N |∂_j r| + 2 Σ_k |∂_j c_k| Σᵢ|t_k(xᵢ)|)`: the sums `T_k` are compensated, so
    /// each carries at most about `ε Σᵢ|t_k(xᵢ)|` (one rounding of every term), and each
    /// product and the final sum a few more roundings of its own size. `None` on the
    /// batched route.
    ///
    /// # Errors
    ///
    /// As [`Likelihood::value`].
    pub fn gradient_rounding(
        &self,
        theta: &[f64],
    ) -> Result<Option<DVector<f64>>, LikelihoodError> {
        let Route::Sufficient {
            magnitudes, tapes, ..
        } = &self.route
        else {
            return Ok(None);
        };
        crate::info::check_theta(&self.model, theta)
            .map_err(|e| LikelihoodError::Theta(e.to_string()))?;
        let raw = tapes[1].eval(theta)?;
        let k = magnitudes.len();
        let n = self.n as f64;
        let d = self.params.len();
        let bound = DVector::from_fn(d, |j, _| {
            let block = &raw[(j + 1) * (k + 1)..(j + 2) * (k + 1)];
            let terms: f64 = block[1..]
                .iter()
                .zip(magnitudes)
                .map(|(c, m)| 2.0 * c.abs() * m)
                .sum();
            16.0 * f64::EPSILON * (n * block[0].abs() + terms)
        });
        if bound.iter().all(|v| v.is_finite()) {
            Ok(Some(bound))
        } else {
            Err(LikelihoodError::NotFinite {
                what: "gradient",
                at: self.describe(theta),
                row: None,
            })
        }
    }

    /// `ℓ(θ)`.
    ///
    /// # Errors
    ///
    /// [`LikelihoodError::Theta`] for θ outside the domain, [`LikelihoodError::NotFinite`].
    pub fn value(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        Ok(self.eval(theta, 0)?.value)
    }

    /// `ℓ(θ)` and `∇ℓ(θ)`.
    ///
    /// # Errors
    ///
    /// As [`Likelihood::value`].
    pub fn gradient(&self, theta: &[f64]) -> Result<LogLikelihood, LikelihoodError> {
        self.eval(theta, 1)
    }

    /// `ℓ(θ)`, `∇ℓ(θ)` and `∇²ℓ(θ)`.
    ///
    /// # Errors
    ///
    /// As [`Likelihood::value`].
    pub fn hessian(&self, theta: &[f64]) -> Result<LogLikelihood, LikelihoodError> {
        self.eval(theta, 2)
    }

    fn describe(&self, theta: &[f64]) -> String {
        crate::expr::assignments(self.params.iter().copied(), theta)
    }

    fn eval(&self, theta: &[f64], order: usize) -> Result<LogLikelihood, LikelihoodError> {
        crate::info::check_theta(&self.model, theta)
            .map_err(|e| LikelihoodError::Theta(e.to_string()))?;
        let d = self.params.len();
        let outputs = match &self.route {
            Route::Sufficient {
                totals,
                base,
                tapes,
                ..
            } => {
                let raw = tapes[order].eval(theta)?;
                let k = totals.len();
                // Each block: r, c_1…c_K → N·r + Σ c_k T_k (+ H for the value).
                let n = self.n as f64;
                raw.chunks(k + 1)
                    .enumerate()
                    .map(|(b, block)| {
                        let mut acc = CompensatedSum::default();
                        acc.add(n * block[0]);
                        for (c, t) in block[1..].iter().zip(totals) {
                            acc.add(c * t);
                        }
                        if b == 0 {
                            acc.add(*base);
                        }
                        acc.total()
                    })
                    .collect::<Vec<f64>>()
            }
            Route::Batched {
                columns,
                hoisted,
                tapes,
            } => {
                let uniform: Vec<Input<'_>> = theta.iter().map(|v| Input::Uniform(*v)).collect();
                column_sums(&tapes[order], columns, &uniform, hoisted, false)?.0
            }
        };
        let value = outputs[0];
        let gradient = if order >= 1 {
            DVector::from_column_slice(&outputs[1..=d])
        } else {
            DVector::zeros(0)
        };
        let mut hessian = DMatrix::zeros(0, 0);
        if order == 2 {
            hessian = DMatrix::zeros(d, d);
            for (i, (j, l)) in pairs(d).into_iter().enumerate() {
                hessian[(j, l)] = outputs[1 + d + i];
                hessian[(l, j)] = outputs[1 + d + i];
            }
        }
        let not_finite = |what| LikelihoodError::NotFinite {
            what,
            at: self.describe(theta),
            row: self.first_bad_row(theta),
        };
        if !value.is_finite() {
            return Err(not_finite("value"));
        }
        if gradient.iter().any(|v| !v.is_finite()) {
            return Err(not_finite("gradient"));
        }
        if hessian.iter().any(|v| !v.is_finite()) {
            return Err(not_finite("Hessian"));
        }
        Ok(LogLikelihood {
            value,
            gradient,
            hessian,
        })
    }

    /// The first observation where `ln p` is not finite at θ (batched route only; the
    /// sufficient route does not keep the data).
    fn first_bad_row(&self, theta: &[f64]) -> Option<usize> {
        let (columns, hoisted, tapes) = self.batched_parts()?;
        let (d, p) = (columns.len(), theta.len());
        let mut values: Vec<f64> = vec![0.0; d + p + hoisted.len()];
        values[d..d + p].copy_from_slice(theta);
        let mut scratch = Vec::new();
        let mut out = [0.0];
        (0..self.n)
            .find(|&i| {
                for (v, c) in values[..d].iter_mut().zip(columns) {
                    *v = c[i];
                }
                for (v, c) in values[d + p..].iter_mut().zip(hoisted) {
                    *v = c[i];
                }
                tapes[0].eval_with(&values, &mut scratch, &mut out).is_err() || !out[0].is_finite()
            })
            .map(|i| i + 1)
    }
}

/// Rows of the data on which [`check_separation`] compares the two forms of `ln p`.
const CHECKED_ROWS: usize = 8;

/// Checks the separation on the data it will sum: at the first [`CHECKED_ROWS`] rows and at a
/// few points inside the domains, `r(θ) + Σ_k c_k(θ) t_k(x) + h(x)` (`parts` = `r, c_k`,
/// `stats` = `t_k, h`) equals the model's `ln p(x; θ)` to 1e-9 of the size of its terms.
/// A mismatch (a bug of the separation) is an error, so that [`Likelihood::new`] falls back
/// to the data in batches rather than sum a wrong log-likelihood.
fn check_separation(
    model: &Model,
    parts: &[Expr],
    stats: &[Expr],
    theta_tape: &Compiled,
    data: &Dataset,
) -> Result<(), LikelihoodError> {
    let consts = model
        .consts
        .iter()
        .map(|(s, v)| (*s, Expr::num(*v)))
        .collect();
    let names = model.data_names();
    let params = model.param_names();
    let mut vars = names.clone();
    vars.extend(&params);
    let logp = Compiled::new(&[model.logp.substitute(&consts)], &vars)?;
    let stat_tape = Compiled::new(stats, &names)?;
    let k = parts.len() - 1;
    for env in crate::expect::exact::sample_points(model) {
        let theta: Vec<f64> = params
            .iter()
            .map(|p| env.get(*p).copied().unwrap_or(f64::NAN))
            .collect();
        let coefs = theta_tape.eval(&theta)?;
        for i in 0..data.len().min(CHECKED_ROWS) {
            let x: Vec<f64> = data.columns().iter().map(|c| c[i]).collect();
            let t = stat_tape.eval(&x)?;
            let mut values = x.clone();
            values.extend(&theta);
            let direct = logp.eval(&values)?[0];
            let mut sum = coefs[0] + t[k];
            let mut scale = coefs[0].abs() + t[k].abs();
            for j in 0..k {
                sum += coefs[1 + j] * t[j];
                scale += (coefs[1 + j] * t[j]).abs();
            }
            // Where ln p is not finite at a sample point, there is nothing to compare.
            if !direct.is_finite() || !sum.is_finite() {
                continue;
            }
            if (sum - direct).abs() > 1e-9 * scale.max(direct.abs()).max(1.0) {
                return Err(LikelihoodError::SeparationMismatch {
                    row: i + 1,
                    at: crate::expr::assignments(params.iter().copied(), &theta),
                    separated: sum,
                    direct,
                });
            }
        }
    }
    Ok(())
}

/// Checks that the dataset's columns are the model's data variables.
fn check_columns(model: &Model, data: &Dataset) -> Result<(), LikelihoodError> {
    let names = model.data_names();
    if names.as_slice() != data.names() {
        let list = |s: &[Symbol]| {
            s.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(LikelihoodError::Mismatch {
            model: model.name.clone(),
            expected: list(&names),
            found: list(data.names()),
        });
    }
    Ok(())
}

/// `chunk(start, scratch)` for each chunk of rows starting at `starts`, in order: in
/// parallel (one scratch per worker) when there are `n ≥ PARALLEL_ROWS` rows.
fn over_chunks<T: Send>(
    starts: &[usize],
    n: usize,
    chunk: impl Fn(usize, &mut BatchScratch) -> Result<T, EvalError> + Sync,
) -> Result<Vec<T>, EvalError> {
    if n >= PARALLEL_ROWS {
        starts
            .par_iter()
            .map_init(BatchScratch::default, |scratch, &s| chunk(s, scratch))
            .collect()
    } else {
        let mut scratch = BatchScratch::default();
        starts.iter().map(|&s| chunk(s, &mut scratch)).collect()
    }
}

/// The value of each output of `tape` (over the `columns`) at each row, as columns: in
/// chunks of [`CHUNK_ROWS`], in parallel when there are many rows.
fn column_values(tape: &Compiled, columns: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, LikelihoodError> {
    let n = columns.first().map_or(0, Vec::len);
    let k = tape.n_outputs();
    let chunk = |start: usize, scratch: &mut BatchScratch| {
        let end = (start + CHUNK_ROWS).min(n);
        let inputs: Vec<Input<'_>> = columns
            .iter()
            .map(|c| Input::Varying(&c[start..end]))
            .collect();
        let mut out = vec![0.0; k * (end - start)];
        tape.eval_batch(&inputs, scratch, &mut out)?;
        Ok::<_, EvalError>(out)
    };
    let starts: Vec<usize> = (0..n).step_by(CHUNK_ROWS).collect();
    let parts = over_chunks(&starts, n, chunk)?;
    let mut out = vec![Vec::with_capacity(n); k];
    for (part, start) in parts.iter().zip(&starts) {
        let m = (start + CHUNK_ROWS).min(n) - start;
        for (j, col) in out.iter_mut().enumerate() {
            col.extend_from_slice(&part[j * m..(j + 1) * m]);
        }
    }
    Ok(out)
}

/// The sum over the rows of each output of `tape`, whose inputs are the `columns` (one value
/// per row), the `uniform` inputs, then the `tail` columns: compensated, chunk by chunk in a
/// fixed order ([`CHUNK_ROWS`]), the chunks in parallel when there are many rows; with
/// `magnitudes`, the plain sums of the outputs' absolute values too (else an empty vector).
fn column_sums(
    tape: &Compiled,
    columns: &[Vec<f64>],
    uniform: &[Input<'_>],
    tail: &[Vec<f64>],
    magnitudes: bool,
) -> Result<(Vec<f64>, Vec<f64>), LikelihoodError> {
    let n = columns.first().map_or(0, Vec::len);
    let k = tape.n_outputs();
    let chunk = |start: usize, scratch: &mut BatchScratch| {
        let end = (start + CHUNK_ROWS).min(n);
        let mut inputs: Vec<Input<'_>> = columns
            .iter()
            .map(|c| Input::Varying(&c[start..end]))
            .collect();
        inputs.extend_from_slice(uniform);
        inputs.extend(tail.iter().map(|c| Input::Varying(&c[start..end])));
        let mut sums = vec![CompensatedSum::default(); k];
        let mut mags = vec![0.0; if magnitudes { k } else { 0 }];
        tape.sum_batch(&inputs, scratch, &mut sums, &mut mags)?;
        Ok::<_, EvalError>((sums, mags))
    };
    let starts: Vec<usize> = (0..n).step_by(CHUNK_ROWS).collect();
    let partial = over_chunks(&starts, n, chunk)?;
    let mut total = vec![CompensatedSum::default(); k];
    let mut mags = vec![0.0; if magnitudes { k } else { 0 }];
    for (sums, m) in partial {
        for (t, p) in total.iter_mut().zip(&sums) {
            t.merge(p);
        }
        for (t, p) in mags.iter_mut().zip(m) {
            *t += p;
        }
    }
    Ok((total.iter().map(CompensatedSum::total).collect(), mags))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check of the separation catches a wrong one: `r(θ)` off by ½.
    #[test]
    fn a_wrong_separation_is_caught() {
        let m = Model::builtin("normal").unwrap();
        let sep = separate(&m).unwrap();
        let params = m.param_names();
        let data = Dataset::new(&m, vec![vec![0.3, -1.2, 2.5]]).unwrap();
        let mut stats: Vec<Expr> = sep.stats.iter().map(|(t, _)| t.clone()).collect();
        stats.push(sep.base.clone());
        for shift in [0.0, 0.5] {
            let mut parts = vec![&sep.rest + shift];
            parts.extend(sep.stats.iter().map(|(_, c)| c.clone()));
            let tape = Compiled::new(&parts, &params).unwrap();
            let r = check_separation(&m, &parts, &stats, &tape, &data);
            if shift == 0.0 {
                r.unwrap();
            } else {
                let e = r.unwrap_err();
                assert!(
                    matches!(e, LikelihoodError::SeparationMismatch { row: 1, .. }),
                    "{e}"
                );
            }
        }
    }
}
