//! The KL Hessians of a model whose log-density has kinks in its data variable
//! (`|x − μ|`): differentiating under the integral misses them, so the divergence itself is
//! differentiated, with its integration pieces moving with the parameters.
//!
//! `D(θ‖θ') = ∫ p_θ (ℓ_θ − ℓ_θ')` is split at every root of an affine `abs`/`sign` argument of
//! `ℓ_θ` and `ℓ_θ'`. On each piece the integrand is smooth, with every `abs(u)` replaced by
//! `±u` and `sign(u)` by `±1` (the sign the piece gives it). With `θ' = θ + ε₁eⱼ + ε₂eₖ`
//! hyper-dual, the roots, the nodes and weights of each piece's rule, and the integrand are
//! all hyper-dual, so the `ε₁ε₂` part of the sum is the exact second derivative of the
//! divergence, including the terms from its moving breakpoints (Leibniz's rule). At `θ' = θ`
//! the kinks of `ℓ_θ` and `ℓ_θ'` coincide; they are ordered `ℓ_θ`'s first, which is the
//! one-sided limit from one side, and the divergence is twice differentiable there, so
//! either side gives its Hessian.
//!
//! Finite pieces use the tanh-sinh rule and half-lines the exp-sinh rule (scaled by the
//! standard deviation of the data), both trapezoidal sums whose step is halved until every
//! component of the hyper-dual sum has settled.

use egg::{Id, Language, Symbol};
use nalgebra::DMatrix;
use num_dual::{DualNum, HyperDual64};

use super::types::{HessianMethod, InfoError, KinkError, KlHessians};
use crate::eval::{Env, eval};
use crate::expect::{IntegrandError, Quadrature, affine_root, expectations, kink_nodes};
use crate::expr::{Builder, Expr, Op};
use crate::model::{Model, Support};

type D = HyperDual64;

/// Relative accuracy asked of every component of the pieces' sums.
const TOL: f64 = 1e-11;
/// Most halvings of the step.
const MAX_LEVEL: usize = 12;

/// A kink: an `abs`/`sign` node of `ℓ_θ` (`which = 0`) or `ℓ_θ'` (`which = 1`) whose argument
/// is affine in the data variable.
struct Kink {
    which: usize,
    node: usize,
    arg: Expr,
    /// The sign of the argument's slope in `x`.
    slope_sign: f64,
    /// The root at `θ' = θ`.
    root: f64,
}

/// The four components of a hyper-dual number.
fn parts(d: D) -> [f64; 4] {
    [d.re, d.eps1, d.eps2, d.eps1eps2]
}

/// The KL Hessians of a model with one real data variable and kinks in it, or `None` when
/// the model is not of that kind (several data variables, a bounded or discrete support, an
/// `abs`/`sign` argument that is not affine in the data).
///
/// # Errors
///
/// [`InfoError::Kinks`] when a piece's sum does not settle, or the log-density cannot be
/// evaluated at a node; [`InfoError::Expect`] when the scale of the half-lines cannot be
/// computed.
pub(super) fn kl_hessians(
    model: &Model,
    at: &[(Symbol, f64)],
) -> Result<Option<KlHessians>, InfoError> {
    if model.data.len() != 1 || model.data[0].support != Support::Real {
        return Ok(None);
    }
    let x = model.data[0].name;
    let names: Vec<(Symbol, Symbol)> = model
        .params
        .iter()
        .map(|p| (p.name, Symbol::from(format!("{}__kl_q", p.name))))
        .collect();
    let rename: std::collections::HashMap<Symbol, Expr> = names
        .iter()
        .map(|(p, q)| (*p, Expr::sym(q.as_str())))
        .collect();
    let lp = model.logp.clone();
    let lq = lp.substitute(&rename);
    let values: Vec<f64> = model
        .params
        .iter()
        .map(|p| {
            at.iter()
                .find(|(s, _)| *s == p.name)
                .map(|(_, v)| *v)
                .unwrap_or(f64::NAN)
        })
        .collect();

    // The real environment at θ' = θ, to find and order the kinks.
    let mut real: Env<D> = model
        .consts
        .iter()
        .map(|(s, v)| (*s, D::from(*v)))
        .collect();
    for ((p, q), v) in names.iter().zip(&values) {
        real.insert(*p, D::from(*v));
        real.insert(*q, D::from(*v));
    }
    let mut kinks = Vec::new();
    for (which, e) in [&lp, &lq].into_iter().enumerate() {
        for k in kink_nodes(e) {
            if !k.depends_on(x) {
                continue;
            }
            let at_x = |t: f64| {
                let mut env = real.clone();
                env.insert(x, D::from(t));
                eval(&k.arg, &env).ok().map(|v| v.re)
            };
            let Some((root, slope)) = affine_root(at_x) else {
                return Ok(None);
            };
            kinks.push(Kink {
                which,
                node: k.node,
                arg: k.arg,
                slope_sign: slope.signum(),
                root,
            });
        }
    }
    if kinks.is_empty() {
        return Ok(None);
    }
    // Sorted by root; at a tie the kinks of ℓ_θ come before those of ℓ_θ' (a stable sort).
    let mut order: Vec<usize> = (0..kinks.len()).collect();
    order.sort_by(|a, b| kinks[*a].root.total_cmp(&kinks[*b].root));
    let mut position = vec![0; kinks.len()];
    for (pos, k) in order.iter().enumerate() {
        position[*k] = pos;
    }
    // Piece k lies above the kinks at sorted positions < k and below the others.
    let pieces: Vec<[Expr; 2]> = (0..=kinks.len())
        .map(|k| {
            let sign_of = |which: usize, node: usize| {
                kinks
                    .iter()
                    .zip(&position)
                    .find(|(kink, _)| kink.which == which && kink.node == node)
                    .map(|(kink, pos)| {
                        if *pos < k {
                            kink.slope_sign
                        } else {
                            -kink.slope_sign
                        }
                    })
            };
            [
                resolve(&lp, |node| sign_of(0, node)),
                resolve(&lq, |node| sign_of(1, node)),
            ]
        })
        .collect();

    // The length scale of the half-lines: the standard deviation of x under p_θ.
    let xe = Expr::sym(x.as_str());
    let m = expectations(
        model,
        &at.iter().copied().collect(),
        &[xe.clone(), &xe * &xe],
        &Quadrature::default(),
    )?;
    let scale = (m.values[1] - m.values[0] * m.values[0]).sqrt();
    let scale = if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    };

    let n = names.len();
    let mut forward = DMatrix::zeros(n, n);
    let mut reverse = DMatrix::zeros(n, n);
    for j in 0..n {
        for l in j..n {
            let mut env = real.clone();
            for (i, (_, q)) in names.iter().enumerate() {
                let mut d = D::from(values[i]);
                if i == j {
                    d.eps1 = 1.0;
                }
                if i == l {
                    d.eps2 = 1.0;
                }
                env.insert(*q, d);
            }
            let roots: Vec<D> = order
                .iter()
                .map(|&k| root(&kinks[k].arg, x, &env))
                .collect::<Result<_, _>>()?;
            let (mut fwd, mut rev) = (D::from(0.0), D::from(0.0));
            for (k, [p, q]) in pieces.iter().enumerate() {
                let lo = (k > 0).then(|| roots[k - 1]);
                let hi = roots.get(k).copied();
                let (f, r) = integrate(lo, hi, x, scale, |xv| {
                    let mut env = env.clone();
                    env.insert(x, xv);
                    let a = eval(p, &env).map_err(IntegrandError::from)?;
                    let b = eval(q, &env).map_err(IntegrandError::from)?;
                    Ok((a.exp() * (a - b), b.exp() * (b - a)))
                })
                .map_err(|error| InfoError::Kinks {
                    at: super::types::describe_point(at),
                    error,
                })?;
                fwd += f;
                rev += r;
            }
            forward[(j, l)] = fwd.eps1eps2;
            forward[(l, j)] = fwd.eps1eps2;
            reverse[(j, l)] = rev.eps1eps2;
            reverse[(l, j)] = rev.eps1eps2;
        }
    }
    Ok(Some(KlHessians {
        forward,
        reverse,
        method: HessianMethod::NumericKinks,
        valid: true,
    }))
}

/// The root `−a(0)/(a(1) − a(0))` of an affine argument, hyper-dual in `θ'`.
fn root(arg: &Expr, x: Symbol, env: &Env<D>) -> Result<D, InfoError> {
    let at = |t: f64| {
        let mut env = env.clone();
        env.insert(x, D::from(t));
        eval(arg, &env)
    };
    let (a0, a1) = (at(0.0)?, at(1.0)?);
    Ok(-a0 / (a1 - a0))
}

/// `e` with the `abs`/`sign` node at index `i` replaced by `s·u` / `s` where `sign(i) =
/// Some(s)`.
fn resolve(e: &Expr, sign: impl Fn(usize) -> Option<f64>) -> Expr {
    let nodes = e.nodes();
    let mut b = Builder::default();
    let mut ids: Vec<Id> = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let id = match (node, sign(i)) {
            (Op::Abs([a]), Some(s)) => {
                let c = b.num(s);
                b.mul(c, ids[usize::from(*a)])
            }
            (Op::Sign(_), Some(s)) => b.num(s),
            _ => b.node(node.clone().map_children(|c| ids[usize::from(c)])),
        };
        ids.push(id);
    }
    b.finish(ids[usize::from(e.root())])
}

/// `∫ f` over `(lo, hi)` (`None` is infinite) in the data variable `x` for a pair of
/// integrands: tanh-sinh on a finite piece, exp-sinh (length `scale`) on a half-line, and the
/// sum of the two half-lines from 0 on the whole line.
fn integrate(
    lo: Option<D>,
    hi: Option<D>,
    x: Symbol,
    scale: f64,
    mut f: impl FnMut(D) -> Result<(D, D), IntegrandError>,
) -> Result<(D, D), KinkError> {
    let half_pi = std::f64::consts::FRAC_PI_2;
    // (x(t), x'(t)) for each kind of piece
    let map = |t: f64| -> (D, D) {
        match (lo, hi) {
            (Some(a), Some(b)) => {
                let (c, w) = ((a + b) * 0.5, (b - a) * 0.5);
                let s = half_pi * t.sinh();
                let ch = s.cosh();
                (c + w * s.tanh(), w * (half_pi * t.cosh() / (ch * ch)))
            }
            (Some(a), None) => {
                let e = (half_pi * t.sinh()).exp();
                (
                    a + D::from(scale * e),
                    D::from(scale * half_pi * t.cosh() * e),
                )
            }
            (None, Some(b)) => {
                let e = (half_pi * t.sinh()).exp();
                (
                    b - D::from(scale * e),
                    D::from(scale * half_pi * t.cosh() * e),
                )
            }
            (None, None) => unreachable!("a piece has an end: there is at least one kink"),
        }
    };
    let t_max = if lo.is_some() && hi.is_some() {
        3.5
    } else {
        4.0
    };
    let mut previous: Option<[[f64; 4]; 2]> = None;
    for level in 1..=MAX_LEVEL {
        let h = 0.5f64.powi(level as i32);
        let steps = (t_max / h) as i64;
        let (mut sf, mut sr) = (D::from(0.0), D::from(0.0));
        let mut l1 = [[0.0f64; 4]; 2];
        for i in -steps..=steps {
            let t = i as f64 * h;
            let (xv, dx) = map(t);
            let (a, b) = f(xv)?;
            let (ta, tb) = (a * dx * h, b * dx * h);
            let (pa, pb) = (parts(ta), parts(tb));
            if !pa.iter().chain(&pb).all(|v| v.is_finite()) {
                // Far out on a half-line the density underflows while a factor of the
                // integrand may overflow: such a node contributes nothing. Anywhere else a
                // value that is not finite is an error.
                if xv.re.abs() > 1e12 * scale.max(1.0) {
                    continue;
                }
                return Err(IntegrandError::NotFinite {
                    at: vec![(x, xv.re)],
                }
                .into());
            }
            for k in 0..4 {
                l1[0][k] += pa[k].abs();
                l1[1][k] += pb[k].abs();
            }
            sf += ta;
            sr += tb;
        }
        let now = [parts(sf), parts(sr)];
        if let Some(prev) = previous {
            let settled = (0..2).all(|i| {
                (0..4).all(|k| (now[i][k] - prev[i][k]).abs() <= TOL * l1[i][k].max(1e-300))
            });
            if settled && level >= 3 {
                return Ok((sf, sr));
            }
        }
        previous = Some(now);
    }
    Err(KinkError::NotSettled {
        tol: TOL,
        halvings: MAX_LEVEL,
    })
}
