//! Priors over a model's parameters for the statistics commands: a log density written in the
//! model language (`--prior 'ln(a*trigamma(a) - 1)/2 - ln(b)'`, up to a constant), or the
//! Jeffreys prior `ln √det F` of a closed-form Fisher matrix, as a formula. Either way the
//! prior is an expression, so its derivatives (to third order, for the metric derivatives of
//! Riemannian-manifold HMC) are symbolic.

use std::sync::OnceLock;

use egg::Symbol;

use crate::eval::{Compiled, EvalError};
use crate::expr::{Expr, Op};
use crate::info::FisherField;
use crate::model::{Model, ModelErrorKind, Span};

/// A prior that could not be read: what is wrong and where in its text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct PriorError {
    /// What went wrong.
    pub kind: ModelErrorKind,
    /// Where, as a byte range into the prior's text (`0..0` for a Jeffreys prior that does
    /// not exist).
    pub span: Span,
}

/// A log prior density over a model's parameters, up to an additive constant.
#[derive(Debug, Clone)]
pub struct Prior {
    /// `ln π(θ)`, constants substituted.
    expr: Expr,
    /// Where it came from: the text given, or `jeffreys`.
    source: String,
    params: Vec<Symbol>,
    /// By order 0…3, compiled on first use: the value, then the gradient, the Hessian's upper
    /// triangle, and the third derivatives `∂_j∂_k∂_l` for `j ≤ k ≤ l`.
    tapes: [OnceLock<Result<Compiled, EvalError>>; 4],
}

/// `ln π(θ)` with derivatives to the order asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorDerivatives {
    /// `ln π(θ)`.
    pub value: f64,
    /// `∂_j ln π` (order ≥ 1).
    pub gradient: Vec<f64>,
    /// `∂_j∂_k ln π`, full (order ≥ 2).
    pub hessian: Vec<Vec<f64>>,
    /// `∂_j∂_k∂_l ln π`, full (order 3).
    pub third: Vec<Vec<Vec<f64>>>,
}

impl Prior {
    /// The log density written in `text` over `model`'s parameters and constants.
    ///
    /// ```
    /// use fisher_geometry::{Model, Prior};
    /// let m = Model::builtin("poisson")?;
    /// let p = Prior::parse(&m, "2*ln(rate) - 3*rate")?; // a gamma(3, 3) prior, up to a constant
    /// assert!((p.log_density(&[1.5])? - (2.0 * 1.5f64.ln() - 4.5)).abs() < 1e-15);
    /// let e = Prior::parse(&m, "ln(rat)").unwrap_err();
    /// assert_eq!(e.span, 3..6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PriorError`] with the span of the offending text: a syntax error, an unknown name
    /// (a data variable among them), a wrong arity.
    pub fn parse(model: &Model, text: &str) -> Result<Prior, PriorError> {
        const PREFIX: &str = "let prior__ = ";
        let source = format!("{PREFIX}{text}");
        let back = |s: Span| {
            let f = |v: usize| v.saturating_sub(PREFIX.len()).min(text.len());
            f(s.start)..f(s.end)
        };
        let file = crate::parse::parse(&source).map_err(|e| PriorError {
            kind: ModelErrorKind::Parse(e.kind),
            span: back(e.span),
        })?;
        let ast = match file.decls.as_slice() {
            [decl] => match &decl.kind {
                crate::parse::DeclKind::Let(_, ast) => ast.clone(),
                _ => return Err(not_one(text)),
            },
            _ => return Err(not_one(text)),
        };
        let params = model.param_names();
        let consts: Vec<Symbol> = model.consts.iter().map(|(c, _)| *c).collect();
        let expr = crate::model::lower_expr(&ast, &params, &consts).map_err(|e| PriorError {
            kind: e.kind,
            span: back(e.span),
        })?;
        Ok(Prior::from_expr(model, expr, text.trim().to_string()))
    }

    /// The Jeffreys prior `ln √det F(θ)` of the field's closed-form Fisher matrix; `None`
    /// when the matrix has no verified closed form (or its determinant is too large to
    /// expand), where the prior has no formula.
    pub fn jeffreys(field: &FisherField) -> Option<Prior> {
        let model = field.model();
        let closed = field.closed_form()?;
        field.verification().filter(|v| v.usable())?;
        let facts = crate::simplify::Facts::of(model);
        let root = crate::info::jeffreys(&closed.matrix, &facts)?;
        let ln = Expr::apply(|ids| Op::Ln([ids[0]]), &[&root]);
        let expr = crate::simplify::simplify(&ln, &facts);
        Some(Prior::from_expr(model, expr, "jeffreys".to_string()))
    }

    fn from_expr(model: &Model, expr: Expr, source: String) -> Prior {
        let consts = model
            .consts
            .iter()
            .map(|(s, v)| (*s, Expr::num(*v)))
            .collect();
        Prior {
            expr: expr.substitute(&consts),
            source,
            params: model.param_names(),
            tapes: Default::default(),
        }
    }

    /// The tape of `order` (see [`Prior::tapes`]).
    fn tape(&self, order: usize) -> Result<&Compiled, EvalError> {
        self.tapes[order]
            .get_or_init(|| {
                let d = self.params.len();
                let diff = |e: &Expr, j: usize| crate::diff::derivative(e, self.params[j]);
                let mut exprs = vec![self.expr.clone()];
                let first: Vec<Expr> = (0..d).map(|j| diff(&self.expr, j)).collect();
                if order >= 1 {
                    exprs.extend(first.iter().cloned());
                }
                // second[j][k - j] = ∂_j∂_k ln π for k ≥ j.
                let second: Vec<Vec<Expr>> = (0..d)
                    .map(|j| (j..d).map(|k| diff(&first[j], k)).collect())
                    .collect();
                if order >= 2 {
                    for row in &second {
                        exprs.extend(row.iter().cloned());
                    }
                }
                if order >= 3 {
                    for j in 0..d {
                        for k in j..d {
                            for l in k..d {
                                exprs.push(diff(&second[j][k - j], l));
                            }
                        }
                    }
                }
                Compiled::new(&exprs, &self.params)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `ln π(θ)` and its derivatives to `order` (0 to 3).
    ///
    /// # Errors
    ///
    /// [`EvalError::NonFinite`] when any of them is not finite at θ; compile errors.
    pub fn derivatives(&self, theta: &[f64], order: usize) -> Result<PriorDerivatives, EvalError> {
        let order = order.min(3);
        let out = self.tape(order)?.eval(theta)?;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(EvalError::NonFinite {
                expr: if i == 0 {
                    crate::expr::text(&self.expr).to_string()
                } else {
                    format!(
                        "a derivative of the prior {}",
                        crate::expr::text(&self.expr)
                    )
                },
                value: out[i],
                at: self
                    .params
                    .iter()
                    .copied()
                    .zip(theta.iter().copied())
                    .collect(),
            });
        }
        let d = self.params.len();
        let mut it = out.into_iter();
        let value = it.next().unwrap_or(f64::NAN);
        let gradient: Vec<f64> = if order >= 1 {
            it.by_ref().take(d).collect()
        } else {
            Vec::new()
        };
        let mut hessian = Vec::new();
        if order >= 2 {
            hessian = vec![vec![0.0; d]; d];
            let pairs: Vec<(usize, usize)> =
                (0..d).flat_map(|j| (j..d).map(move |k| (j, k))).collect();
            for (j, k) in pairs {
                let v = it.next().unwrap_or(f64::NAN);
                hessian[j][k] = v;
                hessian[k][j] = v;
            }
        }
        let mut third = Vec::new();
        if order >= 3 {
            third = vec![vec![vec![0.0; d]; d]; d];
            for j in 0..d {
                for k in j..d {
                    for l in k..d {
                        let v = it.next().unwrap_or(f64::NAN);
                        for (a, b, c) in [
                            (j, k, l),
                            (j, l, k),
                            (k, j, l),
                            (k, l, j),
                            (l, j, k),
                            (l, k, j),
                        ] {
                            third[a][b][c] = v;
                        }
                    }
                }
            }
        }
        Ok(PriorDerivatives {
            value,
            gradient,
            hessian,
            third,
        })
    }

    /// `ln π(θ)` as an expression in the parameters.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The text it was read from, or `jeffreys`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// `ln π(θ)`.
    ///
    /// # Errors
    ///
    /// [`EvalError`] when it cannot be evaluated; a value that is not finite is an error too
    /// ([`EvalError::NonFinite`]).
    pub fn log_density(&self, theta: &[f64]) -> Result<f64, EvalError> {
        // The compiled order-0 tape, cached: the normalizer's quadrature calls this at
        // every node.
        Ok(self.derivatives(theta, 0)?.value)
    }
}

fn not_one(text: &str) -> PriorError {
    PriorError {
        kind: ModelErrorKind::Parse(crate::parse::ParseErrorKind::Expected {
            expected: "one expression".to_string(),
            found: "more".to_string(),
        }),
        span: 0..text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Env, hessian, third_derivative};

    /// The symbolic derivatives of a prior equal num-dual's (second-order duals for the
    /// Hessian, third-order for `∂_j∂_k∂_l`), on the gamma's Jeffreys prior as written in
    /// DESIGN §5 and on the closed-form one derived from F.
    #[test]
    fn derivatives_match_num_dual() {
        let m = Model::builtin("gamma").unwrap();
        let field = FisherField::new(&m).unwrap();
        let priors = [
            Prior::parse(&m, "ln(shape*trigamma(shape) - 1)/2 - ln(rate)").unwrap(),
            Prior::jeffreys(&field).unwrap(),
        ];
        let params = m.param_names();
        for prior in &priors {
            for theta in [[0.7, 2.0], [3.5, 0.4]] {
                let env: Env<f64> = params.iter().copied().zip(theta).collect();
                let (v, g, h) = hessian(prior.expr(), &params, &env).unwrap();
                let d = prior.derivatives(&theta, 3).unwrap();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * (1.0 + b.abs());
                assert!(close(d.value, v));
                for j in 0..2 {
                    assert!(close(d.gradient[j], g[j]), "{} ∂{j}", prior.source());
                    for k in 0..2 {
                        assert!(close(d.hessian[j][k], h[(j, k)]));
                        for l in 0..2 {
                            let t = third_derivative(
                                prior.expr(),
                                [params[j], params[k], params[l]],
                                &env,
                            )
                            .unwrap();
                            assert!(close(d.third[j][k][l], t), "{j}{k}{l}");
                        }
                    }
                }
            }
        }
        // The two priors differ by a constant (ln √det F = ½ ln((a ψ₁(a) − 1)/b²)).
        let a = priors[0].log_density(&[1.3, 0.6]).unwrap()
            - priors[1].log_density(&[1.3, 0.6]).unwrap();
        let b = priors[0].log_density(&[4.0, 2.5]).unwrap()
            - priors[1].log_density(&[4.0, 2.5]).unwrap();
        assert!((a - b).abs() < 1e-12, "{a} {b}");
    }

    #[test]
    fn located_errors() {
        let m = Model::builtin("normal").unwrap();
        let e = Prior::parse(&m, "-ln(sigma) + x").unwrap_err();
        assert_eq!(e.span, 13..14, "{e}");
        let e = Prior::parse(&m, "-ln(sigma").unwrap_err();
        assert!(e.span.start <= 9, "{e} {:?}", e.span);
        let e = Prior::parse(&m, "").unwrap_err();
        assert_eq!(e.span, 0..0, "{e}");
    }
}
