//! Derivatives with respect to named parameters by forward-mode dual numbers: [`gradient`],
//! [`hessian`] and [`third_derivative`].

use egg::Symbol;
use nalgebra::allocator::Allocator;
use nalgebra::{DMatrix, DVector, DefaultAllocator, Dim, OVector, SVector, U1};
use num_dual::{DualVec, HyperHyperDual64};

use super::{Env, EvalError, Scalar, eval};
use crate::expr::Expr;

/// The values of `params` in `env`, in order.
fn param_values(params: &[Symbol], env: &Env<f64>) -> Result<Vec<f64>, EvalError> {
    params
        .iter()
        .map(|p| env.get(*p).copied().ok_or(EvalError::Unbound { name: *p }))
        .collect()
}

/// `env` lifted to `D`, with `params[i]` bound to `x[i]`.
fn lift<D: Scalar>(env: &Env<f64>, params: &[Symbol], x: &[D]) -> Env<D> {
    env.map(|s, v| match params.iter().position(|p| *p == s) {
        Some(i) => x[i].clone(),
        None => D::from(*v),
    })
}

/// The value and the gradient `∂f/∂θᵢ` of `expr` with respect to `params`, at the point `env`
/// (which must bind every parameter), by forward-mode dual numbers (`num_dual::gradient`).
///
/// # Errors
///
/// Those of [`eval`]; [`EvalError::Unbound`] if a parameter has no value in `env`.
pub fn gradient(
    expr: &Expr,
    params: &[Symbol],
    env: &Env<f64>,
) -> Result<(f64, DVector<f64>), EvalError> {
    let theta = param_values(params, env)?;
    match theta.len() {
        1 => gradient_in(
            expr,
            params,
            env,
            SVector::<f64, 1>::from_column_slice(&theta),
        ),
        2 => gradient_in(
            expr,
            params,
            env,
            SVector::<f64, 2>::from_column_slice(&theta),
        ),
        3 => gradient_in(
            expr,
            params,
            env,
            SVector::<f64, 3>::from_column_slice(&theta),
        ),
        4 => gradient_in(
            expr,
            params,
            env,
            SVector::<f64, 4>::from_column_slice(&theta),
        ),
        _ => gradient_in(expr, params, env, DVector::from_vec(theta)),
    }
}

/// [`gradient`] with the dimension `N` (static for small counts, so that no dual number
/// allocates).
fn gradient_in<N: Dim>(
    expr: &Expr,
    params: &[Symbol],
    env: &Env<f64>,
    theta: OVector<f64, N>,
) -> Result<(f64, DVector<f64>), EvalError>
where
    DefaultAllocator: Allocator<N>,
{
    let (f, g) = num_dual::gradient(
        |x: OVector<DualVec<f64, N>, N>| eval(expr, &lift(env, params, x.as_slice())),
        &theta,
    )?;
    Ok((f, DVector::from_column_slice(g.as_slice())))
}

/// The value, gradient and Hessian `∂²f/∂θᵢ∂θⱼ` of `expr` with respect to `params` at the point
/// `env`, by second-order dual numbers (`num_dual::hessian`).
///
/// # Errors
///
/// Those of [`gradient`].
pub fn hessian(
    expr: &Expr,
    params: &[Symbol],
    env: &Env<f64>,
) -> Result<(f64, DVector<f64>, DMatrix<f64>), EvalError> {
    let theta = param_values(params, env)?;
    match theta.len() {
        1 => hessian_in(
            expr,
            params,
            env,
            SVector::<f64, 1>::from_column_slice(&theta),
        ),
        2 => hessian_in(
            expr,
            params,
            env,
            SVector::<f64, 2>::from_column_slice(&theta),
        ),
        3 => hessian_in(
            expr,
            params,
            env,
            SVector::<f64, 3>::from_column_slice(&theta),
        ),
        4 => hessian_in(
            expr,
            params,
            env,
            SVector::<f64, 4>::from_column_slice(&theta),
        ),
        _ => hessian_in(expr, params, env, DVector::from_vec(theta)),
    }
}

/// [`hessian`] with the dimension `N`.
fn hessian_in<N: Dim>(
    expr: &Expr,
    params: &[Symbol],
    env: &Env<f64>,
    theta: OVector<f64, N>,
) -> Result<(f64, DVector<f64>, DMatrix<f64>), EvalError>
where
    DefaultAllocator: Allocator<N> + Allocator<U1, N> + Allocator<N, N>,
{
    let n = theta.len();
    let (f, g, h) = num_dual::hessian(
        |x: OVector<num_dual::Dual2Vec<f64, N>, N>| eval(expr, &lift(env, params, x.as_slice())),
        &theta,
    )?;
    Ok((
        f,
        DVector::from_column_slice(g.as_slice()),
        DMatrix::from_column_slice(n, n, h.as_slice()),
    ))
}

/// The third partial derivative `∂³f/∂θᵢ∂θⱼ∂θₖ` of `expr` along the names `dirs = [θᵢ, θⱼ, θₖ]`
/// (repeats allowed: `[a, a, b]` is `∂³f/∂a²∂b`) at the point `env`, by hyper-hyper-dual numbers
/// (`num_dual::third_partial_derivative_vec`).
///
/// # Errors
///
/// Those of [`eval`]; [`EvalError::Unbound`] if a direction has no value in `env`.
pub fn third_derivative(expr: &Expr, dirs: [Symbol; 3], env: &Env<f64>) -> Result<f64, EvalError> {
    let names: Vec<Symbol> = env.iter().map(|(s, _)| s).collect();
    let values: Vec<f64> = env.iter().map(|(_, v)| *v).collect();
    let index = |d: Symbol| {
        names
            .iter()
            .position(|s| *s == d)
            .ok_or(EvalError::Unbound { name: d })
    };
    let (i, j, k) = (index(dirs[0])?, index(dirs[1])?, index(dirs[2])?);
    let parts = num_dual::third_partial_derivative_vec(
        |x: &[HyperHyperDual64]| {
            let env: Env<HyperHyperDual64> = names.iter().copied().zip(x.iter().copied()).collect();
            eval(expr, &env)
        },
        &values,
        i,
        j,
        k,
    )?;
    Ok(parts.7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::lgamma;
    use crate::special;

    #[test]
    fn gradient_hessian_and_third_derivative() -> Result<(), EvalError> {
        // ℓ = lgamma(a) · b³: ∂a = ψ(a) b³, ∂²ab = 3ψ(a) b², ∂³aab = 3ψ₁(a) b²
        let (a, b) = (Expr::sym("a"), Expr::sym("b"));
        let e = lgamma(&a) * b.pow(3);
        let env = Env::new().with("a", 2.5).with("b", 1.5);
        let p: [Symbol; 2] = ["a".into(), "b".into()];
        let (f, g, h) = hessian(&e, &p, &env)?;
        let (f1, g1) = gradient(&e, &p, &env)?;
        assert_eq!((f, &g), (f1, &g1));
        let b3 = 1.5f64.powi(3);
        assert!((g[0] - special::digamma(2.5) * b3).abs() < 1e-14);
        assert!((h[(0, 1)] - 3.0 * special::digamma(2.5) * 2.25).abs() < 1e-14);
        assert!((h[(0, 0)] - special::trigamma(2.5) * b3).abs() < 1e-14);
        let t = third_derivative(&e, ["a".into(), "a".into(), "b".into()], &env)?;
        assert!((t - 3.0 * special::trigamma(2.5) * 2.25).abs() < 1e-13);
        // the dynamic path (five parameters) agrees with the static one
        let names = ["a", "b", "c", "d", "q"];
        let env5: Env<f64> = names.iter().map(|n| (*n, 1.25)).collect();
        let env5 = env5.with("a", 2.5).with("b", 1.5);
        let p5: Vec<Symbol> = names.iter().map(|n| Symbol::from(*n)).collect();
        let (_, g5, h5) = hessian(&e, &p5, &env5)?;
        assert!((g5[0] - g[0]).abs() < 1e-14 && (h5[(0, 1)] - h[(0, 1)]).abs() < 1e-14);
        assert_eq!(
            gradient(&e, &["zz".into()], &env),
            Err(EvalError::Unbound { name: "zz".into() })
        );
        Ok(())
    }
}
