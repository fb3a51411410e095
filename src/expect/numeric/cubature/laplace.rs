//! The Laplace approximation at the joint mode of the cubature variables: the mode of
//! `q(y) = ln p(x(y)) + ln|dx/dy|` by damped Newton steps on its exact gradient and Hessian,
//! and the rotation `L` with `L Lᵀ = (−∇²q(m))^{−1}` that centres and scales the grid.

use nalgebra::{DMatrix, DVector};

use super::super::problem::Problem;
use crate::eval::Env;
use crate::expect::ExpectError;
use crate::model::Bijector;

/// The joint mode `m` of `q(y)` and `−∇²q(m)`.
pub(super) fn mode(
    p: &mut Problem<'_>,
    d: usize,
    fixed: &[(f64, f64)],
    maps: &[Bijector],
) -> Result<(DVector<f64>, DMatrix<f64>), ExpectError> {
    let dims = maps.len();
    let mut best: Option<(DVector<f64>, Local)> = None;
    // Start where every variable is at a probe of its map (x = 0, 1 or ½, then ±1, …).
    for k in 0..5 {
        let y = DVector::from_iterator(
            dims,
            maps.iter().map(|m| {
                let probes = m.probes();
                probes[k.min(probes.len() - 1)]
            }),
        );
        let v = local(p, d, fixed, maps, &y)?;
        if v.q.is_finite() && best.as_ref().is_none_or(|(_, b)| v.q > b.q) {
            best = Some((y, v));
        }
    }
    let Some((mut y, mut at)) = best else {
        return Ok((DVector::zeros(dims), DMatrix::identity(dims, dims)));
    };
    let mut radius: f64 = 1.0;
    for _ in 0..200 {
        if !at.g.iter().all(|v| v.is_finite()) || !at.h.iter().all(|v| v.is_finite()) {
            break;
        }
        let (mut step, newton) = ascent_step(&at);
        if newton && at.g.dot(&step) < 1e-20 {
            break;
        }
        let norm = step.norm();
        let clipped = norm > radius;
        if clipped {
            step *= radius / norm;
        }
        let mut moved = 0.0;
        let mut full = true;
        for _ in 0..60 {
            let mut yn = &y + &step;
            for (v, map) in yn.iter_mut().zip(maps) {
                let (lo, hi) = map.range();
                *v = v.clamp(lo, hi);
            }
            let v = local(p, d, fixed, maps, &yn)?;
            if v.q.is_finite() && v.q > at.q {
                moved = (&yn - &y).norm();
                (y, at) = (yn, v);
                break;
            }
            step /= 2.0;
            full = false;
        }
        if moved == 0.0 {
            break;
        }
        radius = if full && clipped {
            radius * 4.0
        } else {
            2.0 * moved
        };
    }
    Ok((y, -at.h))
}

/// `q`, its gradient and Hessian in `y`.
struct Local {
    q: f64,
    g: DVector<f64>,
    h: DMatrix<f64>,
}

/// [`Local`] at `y`, from the exact derivatives of the log-density in `x` (dual numbers) and
/// the maps: `∂ᵢq = ∂ᵢL xᵢ' + (ln xᵢ')'`, `∂ᵢⱼq = ∂ᵢⱼL xᵢ' xⱼ' + δᵢⱼ (∂ᵢL xᵢ'' + (ln xᵢ')'')`.
fn local(
    p: &Problem<'_>,
    d: usize,
    fixed: &[(f64, f64)],
    maps: &[Bijector],
    y: &DVector<f64>,
) -> Result<Local, ExpectError> {
    let dims = maps.len();
    let data = &p.model.data;
    let mut env: Env<f64> = p.model.consts.iter().copied().collect();
    for (par, v) in p.model.params.iter().zip(&p.params) {
        env.insert(par.name, *v);
    }
    for (var, v) in data.iter().zip(fixed) {
        env.insert(var.name, v.0);
    }
    let mut dx = Vec::with_capacity(dims);
    for (i, map) in maps.iter().enumerate() {
        let (x, _, lj) = map.point(y[i]);
        env.insert(data[d + i].name, x);
        dx.push(lj.exp());
    }
    let names: Vec<egg::Symbol> = data[d..].iter().map(|v| v.name).collect();
    let (l, lg, lh) = crate::eval::hessian(&p.model.logp, &names, &env)?;
    if l.is_nan() || l == f64::INFINITY {
        return Err(p.not_finite(None, &env_prefix(fixed, maps, y), last_x(maps, y)));
    }
    let mut q = l;
    let mut g = DVector::zeros(dims);
    let mut h = DMatrix::zeros(dims, dims);
    for i in 0..dims {
        let (qi, gi, hii) = maps[i].pull_back(y[i], (l, lg[i], lh[(i, i)]));
        q += qi - l;
        g[i] = gi;
        h[(i, i)] = hii;
        for j in 0..i {
            let v = lh[(i, j)] * dx[i] * dx[j];
            h[(i, j)] = v;
            h[(j, i)] = v;
        }
    }
    Ok(Local { q, g, h })
}

/// The outer values followed by the cubature variables but the last, as `fixed` is for
/// [`Problem::not_finite`].
fn env_prefix(fixed: &[(f64, f64)], maps: &[Bijector], y: &DVector<f64>) -> Vec<(f64, f64)> {
    let mut all = fixed.to_vec();
    for (i, map) in maps.iter().enumerate().take(maps.len() - 1) {
        let (x, c, _) = map.point(y[i]);
        all.push((x, c));
    }
    all
}

/// The value of the last cubature variable.
fn last_x(maps: &[Bijector], y: &DVector<f64>) -> f64 {
    maps[maps.len() - 1].point(y[maps.len() - 1]).0
}

/// An uphill step: Newton's `(−H)^{−1} g` when `−H` is positive definite (then `true`),
/// else `(−H + λI)^{−1} g` with the smallest shift `λ` (in powers of 10) that makes it so.
fn ascent_step(at: &Local) -> (DVector<f64>, bool) {
    let a = -&at.h;
    if let Some(ch) = a.clone().cholesky() {
        return (ch.solve(&at.g), true);
    }
    let size = a.diagonal().iter().fold(1e-12f64, |m, v| m.max(v.abs()));
    let mut lambda = 1e-8 * size;
    for _ in 0..40 {
        let shifted = &a + DMatrix::identity(a.nrows(), a.ncols()) * lambda;
        if let Some(ch) = shifted.cholesky() {
            return (ch.solve(&at.g), false);
        }
        lambda *= 10.0;
    }
    (at.g.clone(), false)
}

/// `L` with `L Lᵀ = (−H)^{−1}` (`L = R^{−T}` for `−H = R Rᵀ`) and `ln det L`; where `−H` is
/// not positive definite (a flat or non-smooth top), the diagonal scales `1/√(−Hᵢᵢ)`, or 1.
pub(super) fn rotation(neg_h: &DMatrix<f64>) -> (DMatrix<f64>, f64) {
    let n = neg_h.nrows();
    if let Some(ch) = neg_h.clone().cholesky() {
        let r = ch.l();
        if let Some(inv) = r.clone().try_inverse() {
            let log_det = -r.diagonal().iter().map(|v| v.ln()).sum::<f64>();
            if log_det.is_finite() {
                return (inv.transpose(), log_det);
            }
        }
    }
    let scales: Vec<f64> = (0..n)
        .map(|i| {
            let v = neg_h[(i, i)];
            if v > 0.0 && v.is_finite() {
                1.0 / v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let log_det = scales.iter().map(|s| s.ln()).sum();
    (DMatrix::from_diagonal(&DVector::from_vec(scales)), log_det)
}
