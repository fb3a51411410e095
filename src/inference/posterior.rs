//! The posterior of a model on its data as a [`Target`] of the samplers, in the unconstrained
//! coordinates `y` of the domain bijectors (`θ_i = f_i(y_i)`: identity on `real`, `e^y` on
//! `positive`, the logistic on `unit` and intervals):
//!
//! - `ln π(y) = ℓ(θ(y)) + ln p(θ(y)) + Σ_i ln |f_i'(y_i)|`, the likelihood from
//!   [`Likelihood`] (sufficient statistics where they exist: O(1) per evaluation), the prior
//!   an expression ([`Prior`]);
//! - the metric of Riemannian-manifold HMC, `G(θ) = N F(θ) − ∇²_θ ln p(θ)` (Girolami &
//!   Calderhead 2011, §5), carried to `y` as the tensor it is: `G_y = J G J` with
//!   `J = diag f_i'(y_i)`, and its derivatives
//!   `∂G_y/∂y_k = J'_k G J + J G J'_k + f_k' J (N ∂F/∂θ_k − ∂_k ∇² ln p) J`, `J'_k` the
//!   diagonal with `f_k''` at `k`: `∂F` from the Fisher field, exact; the prior's third
//!   derivatives symbolic.

use nalgebra::DMatrix;

use crate::info::FisherField;
use crate::model::Bijector;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::data::Dataset;
use super::diagnostics::{DiagnosticsError, Summary, summarize};
use super::fit::{FitOptions, fit_with};
use super::hmc::{SampleError, SampleOptions, Samples, Target, TargetError, sample};
use super::likelihood::Likelihood;
use super::prior::Prior;

/// `(θ, f'(y), f''(y))`, one entry per coordinate.
type MappedPoint = (Vec<f64>, Vec<f64>, Vec<f64>);

/// A model's posterior on its data (see the module documentation).
#[derive(Debug)]
pub struct Posterior<'a> {
    field: &'a FisherField,
    lik: &'a Likelihood,
    prior: &'a Prior,
    maps: Vec<Bijector>,
}

/// `(x, f'(y), f''(y))` of a bijector at `y`.
fn derivatives(map: Bijector, y: f64) -> (f64, f64, f64) {
    let (x, _, _) = map.point(y);
    match map {
        Bijector::Identity => (x, 1.0, 0.0),
        Bijector::Log => (x, x, x),
        Bijector::Above(_) => {
            let e = y.exp();
            (x, e, e)
        }
        Bijector::Below(_) => {
            let e = y.exp();
            (x, -e, -e)
        }
        Bijector::Logit => {
            let (u, v, _) = Bijector::Logit.point(y);
            (x, u * v, u * v * (v - u))
        }
        Bijector::Interval(lo, hi) => {
            let (u, v, _) = Bijector::Logit.point(y);
            let w = hi - lo;
            (x, w * u * v, w * u * v * (v - u))
        }
    }
}

impl<'a> Posterior<'a> {
    /// The posterior of `lik`'s data under `field`'s model with `prior`.
    pub fn new(field: &'a FisherField, lik: &'a Likelihood, prior: &'a Prior) -> Posterior<'a> {
        let maps = field
            .model()
            .params
            .iter()
            .map(|p| p.domain.bijector())
            .collect();
        Posterior {
            field,
            lik,
            prior,
            maps,
        }
    }

    /// `θ(y)`.
    pub fn theta(&self, y: &[f64]) -> Vec<f64> {
        self.maps
            .iter()
            .zip(y)
            .map(|(m, v)| m.point(*v).0)
            .collect()
    }

    /// `y(θ)`.
    pub fn unconstrained(&self, theta: &[f64]) -> Vec<f64> {
        self.maps
            .iter()
            .zip(theta)
            .map(|(m, v)| m.inverse(*v))
            .collect()
    }

    /// `θ(y)` with the bijectors' first and second derivatives at `y`.
    fn at(&self, y: &[f64]) -> Result<MappedPoint, TargetError> {
        let mut theta = Vec::with_capacity(y.len());
        let (mut d1, mut d2) = (Vec::with_capacity(y.len()), Vec::with_capacity(y.len()));
        for (m, v) in self.maps.iter().zip(y) {
            let (x, a, b) = derivatives(*m, *v);
            theta.push(x);
            d1.push(a);
            d2.push(b);
        }
        let model = self.field.model();
        for ((p, v), a) in model.params.iter().zip(&theta).zip(&d1) {
            if !p.domain.contains(*v) || *a == 0.0 || !a.is_finite() {
                return Err(TargetError(format!(
                    "y maps to {}={v} at the edge of the domain of `{}` ({})",
                    p.name, p.name, p.domain
                )));
            }
        }
        Ok((theta, d1, d2))
    }

    /// `G(θ) = N F − ∇² ln p` and, when asked, `∂G/∂θ_k`.
    fn metric_theta(
        &self,
        theta: &[f64],
        with_derivatives: bool,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
        let n = self.lik.len() as f64;
        let d = theta.len();
        let prior = self
            .prior
            .derivatives(theta, if with_derivatives { 3 } else { 2 })
            .map_err(|e| TargetError(format!("the prior: {e}")))?;
        let hess = DMatrix::from_fn(d, d, |j, k| prior.hessian[j][k]);
        if !with_derivatives {
            let f = self
                .field
                .at(theta)
                .map_err(|e| TargetError(e.to_string()))?;
            return Ok((f * n - hess, Vec::new()));
        }
        let fd = self
            .field
            .with_gradient(theta)
            .map_err(|e| TargetError(e.to_string()))?;
        let g = &fd.f * n - hess;
        let dg = (0..d)
            .map(|k| &fd.df[k] * n - DMatrix::from_fn(d, d, |i, j| prior.third[i][j][k]))
            .collect();
        Ok((g, dg))
    }
}

impl Target for Posterior<'_> {
    fn dim(&self) -> usize {
        self.maps.len()
    }

    fn log_density(&self, y: &[f64], grad: &mut [f64]) -> Result<f64, TargetError> {
        let (theta, d1, _) = self.at(y)?;
        let l = self
            .lik
            .gradient(&theta)
            .map_err(|e| TargetError(e.to_string()))?;
        let p = self
            .prior
            .derivatives(&theta, 1)
            .map_err(|e| TargetError(format!("the prior: {e}")))?;
        let mut value = l.value + p.value;
        for (i, m) in self.maps.iter().enumerate() {
            value += m.log_jacobian(y[i]);
            grad[i] = (l.gradient[i] + p.gradient[i]) * d1[i] + m.log_jacobian_grad(y[i]);
        }
        if value.is_finite() && grad.iter().all(|v| v.is_finite()) {
            Ok(value)
        } else {
            Err(TargetError(format!(
                "the log posterior is not finite at {}",
                crate::expr::assignments(self.field.model().params.iter().map(|p| p.name), &theta)
            )))
        }
    }

    fn metric(&self, y: &[f64]) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), TargetError> {
        let (theta, d1, d2) = self.at(y)?;
        let (g, dg) = self.metric_theta(&theta, true)?;
        let d = y.len();
        let j = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&d1));
        let gy = &j * &g * &j;
        let dgy = (0..d)
            .map(|k| {
                let mut jk = DMatrix::zeros(d, d);
                jk[(k, k)] = d2[k];
                &jk * &g * &j + &j * &g * &jk + &j * &dg[k] * &j * d1[k]
            })
            .collect();
        Ok((gy, dgy))
    }

    fn metric_value(&self, y: &[f64]) -> Result<DMatrix<f64>, TargetError> {
        let (theta, d1, _) = self.at(y)?;
        let (g, _) = self.metric_theta(&theta, false)?;
        let j = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&d1));
        Ok(&j * &g * &j)
    }
}

/// Draws from a posterior, with their summaries, on the parameters' own scale.
#[derive(Debug, Clone)]
pub struct PosteriorDraws {
    /// What the sampler returned, in the unconstrained coordinates `y`.
    pub samples: Samples,
    /// `theta[c][i][k]`: parameter k of draw i of chain c.
    pub theta: Vec<Vec<Vec<f64>>>,
    /// Per parameter: mean, sd, quantiles, bulk ESS and R-hat of its draws.
    pub summary: Vec<Summary>,
    /// The chains' starting points, θ.
    pub inits: Vec<Vec<f64>>,
}

/// Why a posterior could not be sampled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PosteriorError {
    /// The sampler refused.
    #[error(transparent)]
    Sample(#[from] SampleError),
    /// The draws could not be summarized.
    #[error(transparent)]
    Diagnostics(#[from] DiagnosticsError),
}

/// Samples the posterior of `lik`'s data (from `data`) under `field`'s model with `prior`.
/// The chains start near the maximum-likelihood estimate (or, where the fit fails, the
/// domains' central values), each displaced by up to one posterior standard deviation per
/// coordinate (from the metric there), drawn from `options.seed`.
///
/// # Errors
///
/// [`PosteriorError`]: the sampler's refusals (bad options, a chain that cannot start), draws
/// that cannot be summarized.
pub fn sample_posterior(
    field: &FisherField,
    lik: &Likelihood,
    data: &Dataset,
    prior: &Prior,
    options: &SampleOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<PosteriorDraws, PosteriorError> {
    let post = Posterior::new(field, lik, prior);
    let centre = fit_with(field, lik, data, &FitOptions::default())
        .map_or_else(|_| post.theta(&vec![0.0; post.dim()]), |f| f.estimate);
    let y0 = post.unconstrained(&centre);
    let spread: Vec<f64> = post
        .metric_value(&y0)
        .ok()
        .and_then(|g| g.cholesky())
        .map(|c| c.inverse().diagonal().iter().map(|v| v.sqrt()).collect())
        .unwrap_or_else(|| vec![0.1; y0.len()]);
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x5eed_1a17);
    let inits_y: Vec<Vec<f64>> = (0..options.chains)
        .map(|_| {
            y0.iter()
                .zip(&spread)
                .map(|(y, s)| y + s * (2.0 * rng.random::<f64>() - 1.0))
                .collect()
        })
        .collect();
    let samples = sample(&post, &inits_y, options, progress)?;
    let theta: Vec<Vec<Vec<f64>>> = samples
        .draws
        .iter()
        .map(|chain| chain.iter().map(|y| post.theta(y)).collect())
        .collect();
    let summary = (0..post.dim())
        .map(|k| {
            let chains: Vec<Vec<f64>> = theta
                .iter()
                .map(|c| c.iter().map(|t| t[k]).collect())
                .collect();
            summarize(&chains)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PosteriorDraws {
        samples,
        theta,
        summary,
        inits: inits_y.iter().map(|y| post.theta(y)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::Dataset;
    use crate::model::Model;

    /// The gradient of `ln π(y)` and the metric derivatives `∂G_y/∂y_k` equal central
    /// differences of `ln π` and of `G_y`, on the gamma (positive parameters: log maps) and
    /// the beta with a prior whose third derivatives do not vanish.
    #[test]
    fn derivatives_match_central_differences() {
        let cases = [
            (
                "gamma",
                vec![1.2, 0.7, 3.1, 2.2, 0.4],
                "ln(shape*trigamma(shape) - 1)/2 - ln(rate)",
                [0.3, -0.2],
            ),
            (
                "beta",
                vec![0.2, 0.55, 0.7, 0.35, 0.9],
                "ln(a) - a/3 + 2*ln(b) - b",
                [0.1, 0.5],
            ),
            (
                "normal",
                vec![0.2, -1.5, 0.7, 2.35, 0.9],
                "-mu^2/8 - 3*ln(sigma) - 1/sigma^2",
                [0.4, 0.1],
            ),
        ];
        for (name, xs, prior, y) in cases {
            let m = Model::builtin(name).unwrap();
            let field = FisherField::new(&m).unwrap();
            let data = Dataset::new(&m, vec![xs]).unwrap();
            let lik = Likelihood::new(&field, &data).unwrap();
            let prior = Prior::parse(&m, prior).unwrap();
            let post = Posterior::new(&field, &lik, &prior);
            let mut g = [0.0; 2];
            post.log_density(&y, &mut g).unwrap();
            let (gy, dgy) = post.metric(&y).unwrap();
            assert!(
                gy.clone().cholesky().is_some(),
                "{name}: G not positive definite"
            );
            let h = 1e-5;
            for k in 0..2 {
                let mut a = y;
                let mut b = y;
                a[k] += h;
                b[k] -= h;
                let mut scratch = [0.0; 2];
                let fd = (post.log_density(&a, &mut scratch).unwrap()
                    - post.log_density(&b, &mut scratch).unwrap())
                    / (2.0 * h);
                assert!(
                    (fd - g[k]).abs() < 1e-6 * (1.0 + g[k].abs()),
                    "{name} ∂{k}: {fd} vs {}",
                    g[k]
                );
                let dm =
                    (post.metric_value(&a).unwrap() - post.metric_value(&b).unwrap()) / (2.0 * h);
                let err = (&dm - &dgy[k]).amax();
                assert!(
                    err < 1e-6 * (1.0 + dgy[k].amax()),
                    "{name} ∂G/∂y{k}: {dm} vs {}",
                    dgy[k]
                );
            }
            // The round trip θ ↔ y.
            let back = post.unconstrained(&post.theta(&y));
            assert!((back[0] - y[0]).abs() < 1e-12 && (back[1] - y[1]).abs() < 1e-12);
        }
    }
}
