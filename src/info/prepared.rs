//! The numeric Fisher problem, prepared once per model: the integrands of `F = E[s sᵀ]` (and
//! of its θ-derivatives, or of the other two forms) compiled together with the log-density,
//! so that each parameter point runs only the quadrature.
//!
//! The θ-derivatives of `F` are expectations too, differentiated under the integral (the
//! supports do not move with θ): with `p = e^ℓ`, `∂_l (p g) = p (∂_l g + s_l g)`, so
//!
//! - `∂_l F_jk = E[s_l s_j s_k + H_lj s_k + s_j H_lk]`,
//! - `∂_m ∂_l F_jk = E[s_m g_ljk + ∂_m g_ljk]` with `g_ljk` the integrand above and
//!   `∂_m g_ljk = H_ml s_j s_k + s_l H_mj s_k + s_l s_j H_mk + T_mlj s_k + H_lj H_mk
//!   + H_mj H_lk + s_j T_mlk` (`T` the third derivatives of `ℓ`).
//!
//! Every value comes from the same nodes as `F`, as do the checks `∫p = 1` and `E[s] = 0`:
//! the derivatives are exact derivatives of the quadrature sum for `F` on that node set, to
//! the accuracy the rule reached for them (they take part in its convergence test), never
//! finite differences.

use std::collections::HashMap;

use egg::Symbol;
use nalgebra::{DMatrix, DVector};

use crate::expect::{ExpectError, PreparedExpectations, Quadrature};
use crate::expr::{Expr, number};
use crate::model::Model;
use crate::simplify::Derivatives;

use super::types::{Forms, InfoError, NumericForms, describe_point, named_point};

/// What a [`FisherProblem`] integrates besides `E[s sᵀ]` and `E[s]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Nothing else: `F` alone.
    Value,
    /// `E[−∇²ℓ]`, for the three forms.
    Forms,
    /// `∂F/∂θ_l`.
    First,
    /// `∂F/∂θ_l` and `∂²F/∂θ_l∂θ_m`.
    Second,
}

/// The sums of one run of a [`FisherProblem`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FisherSums {
    /// `E[s sᵀ]`.
    pub outer: DMatrix<f64>,
    /// `E[s]`, checked to be 0.
    pub mean: DVector<f64>,
    /// `∫p`, checked to be 1.
    pub mass: f64,
    /// `E[−∇²ℓ]` ([`Order::Forms`]).
    pub negative_hessian: Option<DMatrix<f64>>,
    /// `∂F/∂θ_l` by `l` ([`Order::First`], [`Order::Second`]).
    pub df: Vec<DMatrix<f64>>,
    /// `∂²F/∂θ_l∂θ_m` by `l`, `m` ([`Order::Second`]).
    pub d2f: Vec<Vec<DMatrix<f64>>>,
}

impl FisherSums {
    /// The three forms and the checks.
    pub fn into_forms(self) -> NumericForms {
        let outer = self.outer;
        let covariance = &outer - &self.mean * self.mean.transpose();
        let negative_hessian = self.negative_hessian.unwrap_or_else(|| outer.clone());
        NumericForms {
            forms: Forms {
                outer_product: outer,
                covariance,
                negative_hessian,
            },
            mass: self.mass,
            mean_score: self.mean,
        }
    }
}

/// The upper-triangle index pairs `(j, k)`, `j ≤ k`, in row order.
pub(crate) fn pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n).flat_map(|j| (j..n).map(move |k| (j, k))).collect()
}

/// A symmetric matrix from its upper triangle in row order.
pub(crate) fn symmetric(n: usize, upper: &[f64]) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(n, n);
    for (&v, (j, k)) in upper.iter().zip(pairs(n)) {
        m[(j, k)] = v;
        m[(k, j)] = v;
    }
    m
}

/// The Fisher integrands of a model compiled once (see the module documentation).
#[derive(Debug)]
pub(crate) struct FisherProblem {
    prep: PreparedExpectations,
    params: Vec<Symbol>,
    order: Order,
}

impl FisherProblem {
    /// Compiles the integrands of `order` from the simplified derivatives `d`.
    ///
    /// # Errors
    ///
    /// [`InfoError::Expect`] when the model has no data or an integrand cannot be compiled.
    pub fn new(model: &Model, d: &Derivatives, order: Order) -> Result<FisherProblem, InfoError> {
        let n = d.params.len();
        let (s, h) = (&d.score, &d.hessian);
        let pairs = pairs(n);
        let mut gs: Vec<Expr> = pairs.iter().map(|&(j, k)| &s[j] * &s[k]).collect();
        gs.extend(s.iter().cloned());
        if order == Order::Forms {
            gs.extend(pairs.iter().map(|&(j, k)| -&h[j][k]));
        }
        if matches!(order, Order::First | Order::Second) {
            // g_ljk = s_l s_j s_k + H_lj s_k + s_j H_lk
            let g1: Vec<Vec<Expr>> = (0..n)
                .map(|l| {
                    pairs
                        .iter()
                        .map(|&(j, k)| &s[l] * &s[j] * &s[k] + &h[l][j] * &s[k] + &s[j] * &h[l][k])
                        .collect()
                })
                .collect();
            gs.extend(g1.iter().flatten().cloned());
            if order == Order::Second {
                let mut third = Third::new(d);
                for (l, m) in self::pairs(n) {
                    for (p, &(j, k)) in pairs.iter().enumerate() {
                        let (tmlj, tmlk) = (third.get(m, l, j), third.get(m, l, k));
                        let dg = &h[m][l] * &s[j] * &s[k]
                            + &s[l] * &h[m][j] * &s[k]
                            + &s[l] * &s[j] * &h[m][k]
                            + &tmlj * &s[k]
                            + &h[l][j] * &h[m][k]
                            + &h[m][j] * &h[l][k]
                            + &s[j] * &tmlk;
                        gs.push(&s[m] * &g1[l][p] + dg);
                    }
                }
            }
        }
        Ok(FisherProblem {
            prep: PreparedExpectations::new(model, &gs, &[])?,
            params: d.params.clone(),
            order,
        })
    }

    /// The sums at `theta` (parameter order) to the accuracy of `q`, after the checks
    /// `∫p = 1` and `E[s] = 0` on the same nodes.
    ///
    /// # Errors
    ///
    /// [`InfoError`]: the point is outside the domains, the density does not integrate to 1,
    /// the score does not have mean 0, a value is not finite, or the quadrature did not
    /// converge.
    pub fn run(&self, theta: &[f64], q: &Quadrature) -> Result<FisherSums, InfoError> {
        let n = self.params.len();
        let est = self.prep.at(theta, &[], None, q)?;
        let at = || named_point(&self.params, theta);
        if (est.mass - 1.0).abs() > (100.0 * est.mass_error).max(1e-6) {
            return Err(ExpectError::NotNormalized {
                mass: est.mass,
                at: describe_point(&at()),
            }
            .into());
        }
        let v = &est.values;
        let np = n * (n + 1) / 2;
        let outer = symmetric(n, &v[..np]);
        let mean = DVector::from_column_slice(&v[np..np + n]);
        for j in 0..n {
            let scale = outer[(j, j)].abs().sqrt();
            if mean[j].abs() > 1e-6 * scale.max(1e-300) + 1e-12 {
                return Err(InfoError::ScoreMean {
                    mean: mean
                        .iter()
                        .map(|v| number(*v))
                        .collect::<Vec<_>>()
                        .join(", "),
                    at: describe_point(&at()),
                });
            }
        }
        self.in_range(theta, &est.l1[np..np + n])?;
        let mut rest = &v[np + n..];
        let mut take = |len: usize| {
            let (a, b) = rest.split_at(len);
            rest = b;
            a
        };
        let negative_hessian = (self.order == Order::Forms).then(|| symmetric(n, take(np)));
        let mut df = Vec::new();
        let mut d2f = Vec::new();
        if matches!(self.order, Order::First | Order::Second) {
            df = (0..n).map(|_| symmetric(n, take(np))).collect();
        }
        if self.order == Order::Second {
            d2f = vec![vec![DMatrix::zeros(n, n); n]; n];
            for (l, m) in pairs(n) {
                let block = symmetric(n, take(np));
                d2f[m][l] = block.clone();
                d2f[l][m] = block;
            }
        }
        Ok(FisherSums {
            outer,
            mean,
            mass: est.mass,
            negative_hessian,
            df,
            d2f,
        })
    }
}

/// Below this (above its inverse) the products of scores at the nodes lose precision in
/// `f64`: a typical product `E|s|^k` of 1e-303 leaves the nodes where the product is 1e-5 of
/// it among the subnormals (below 2.2e-308), and there precision falls with the value; above
/// 1e303 the nodes a few times the typical product overflow.
const RANGE: f64 = 1e-303;

impl FisherProblem {
    /// Checks that the products of scores in the integrands stay where `f64` is precise:
    /// with `E|s_j|` = `mean_abs[j]`, a product of `k` scores is about `E|s_j|^k` (`k` = 2 for
    /// `F`, 3 for `∂F`, 4 for `∂²F`). A score that is zero at every node (`E|s_j| = 0`, a
    /// parameter that drops out at this point) is exact.
    fn in_range(&self, theta: &[f64], mean_abs: &[f64]) -> Result<(), InfoError> {
        let degree = match self.order {
            Order::Value | Order::Forms => 2,
            Order::First => 3,
            Order::Second => 4,
        };
        for (j, &m) in mean_abs.iter().enumerate() {
            if m == 0.0 || !m.is_finite() {
                continue;
            }
            let log = degree as f64 * m.log10();
            if log.abs() > -RANGE.log10() {
                let name = self.params[j].as_str();
                let entry = format!("F[{name}, {name}]");
                return Err(InfoError::OutOfRange {
                    what: match self.order {
                        Order::Value | Order::Forms => entry,
                        _ => format!("the θ-derivatives of {entry}"),
                    },
                    param: name.to_string(),
                    mean_abs: m,
                    degree,
                    at: describe_point(&named_point(&self.params, theta)),
                });
            }
        }
        Ok(())
    }
}

/// Third derivatives `T_mlj = ∂³ℓ/∂θ_m∂θ_l∂θ_j`, one per sorted index triple, made when first
/// asked for.
struct Third<'a> {
    d: &'a Derivatives,
    memo: HashMap<[usize; 3], Expr>,
}

impl<'a> Third<'a> {
    fn new(d: &'a Derivatives) -> Third<'a> {
        Third {
            d,
            memo: HashMap::new(),
        }
    }

    fn get(&mut self, a: usize, b: usize, c: usize) -> Expr {
        let mut key = [a, b, c];
        key.sort_unstable();
        let d = self.d;
        self.memo
            .entry(key)
            .or_insert_with(|| {
                crate::diff::derivative(&d.hessian[key[1]][key[2]], d.params[key[0]])
            })
            .clone()
    }
}

/// The rounding of a log-density evaluated at a node, in ulps of its magnitude.
const KL_ROUNDING_ULPS: f64 = 64.0;

/// The numeric divergence `D(θ‖θ') = E_θ[ℓ(x; θ) − ℓ(x; θ')]` compiled once, `θ'` an input
/// like `θ` (named as in the closed form, `mu_q`).
#[derive(Debug)]
pub(crate) struct KlProblem {
    prep: PreparedExpectations,
    params: Vec<Symbol>,
}

impl KlProblem {
    /// Compiles the integrand.
    ///
    /// # Errors
    ///
    /// [`InfoError::Expect`] for a model without data.
    pub fn new(model: &Model) -> Result<KlProblem, InfoError> {
        let q_names: Vec<Symbol> = model
            .params
            .iter()
            .map(|p| super::kl::q_name(model, p.name))
            .collect();
        let to_q: HashMap<Symbol, Expr> = model
            .params
            .iter()
            .zip(&q_names)
            .map(|(p, q)| (p.name, Expr::sym(q.as_str())))
            .collect();
        let lq = model.logp.substitute(&to_q);
        let g = &model.logp - &lq;
        // ℓ_p and ℓ_q themselves, for the scale `E_p|ℓ_p| + E_p|ℓ_q|` of the rounding of
        // their difference at the nodes (the quadrature's `l1` of each).
        let gs = [g, model.logp.clone(), lq];
        Ok(KlProblem {
            prep: PreparedExpectations::new(model, &gs, &q_names)?,
            params: model.params.iter().map(|p| p.name).collect(),
        })
    }

    /// `D(p‖q)` and its estimated error, `p` and `q` in parameter order, after checking
    /// `∫p = 1` at `p` on the same nodes. The error bounds the rounding too: `ℓ_p − ℓ_q` at a
    /// node is a difference of terms of the size of `ℓ_p` and `ℓ_q`, so between nearly equal
    /// points the divergence is known only to [`KL_ROUNDING_ULPS`] ulps of
    /// `E_p|ℓ_p| + E_p|ℓ_q|`.
    ///
    /// # Errors
    ///
    /// [`InfoError`]: `p` outside the domains, the density not integrating to 1 there, a
    /// value that is not finite, quadrature that did not converge.
    pub fn run(&self, p: &[f64], q: &[f64], quad: &Quadrature) -> Result<(f64, f64), InfoError> {
        let est = match self.prep.at(p, q, None, quad) {
            // Between nearly equal points the divergence is far below the rounding of
            // `ℓ_p − ℓ_q` at the nodes, which no relative tolerance reaches: the scale of that
            // rounding from a coarse run, then the run again with it as absolute tolerance.
            Err(ExpectError::NotConverged { .. }) if quad.abs_tol == 0.0 => {
                let coarse = Quadrature {
                    rel_tol: quad.rel_tol.max(1e-6),
                    ..quad.clone()
                };
                let c = self.prep.at(p, q, None, &coarse)?;
                let floor = Quadrature {
                    abs_tol: KL_ROUNDING_ULPS * f64::EPSILON * (c.l1[1] + c.l1[2]),
                    ..quad.clone()
                };
                self.prep.at(p, q, None, &floor)?
            }
            other => other?,
        };
        if (est.mass - 1.0).abs() > (100.0 * est.mass_error).max(1e-6) {
            return Err(ExpectError::NotNormalized {
                mass: est.mass,
                at: describe_point(&named_point(&self.params, p)),
            }
            .into());
        }
        let rounding = KL_ROUNDING_ULPS * f64::EPSILON * (est.l1[1] + est.l1[2]);
        Ok((est.values[0], est.errors[0] + rounding))
    }
}
