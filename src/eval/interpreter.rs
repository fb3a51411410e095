//! The interpreter: [`eval`] of an expression in any [`Scalar`] type, bottom-up over its nodes,
//! and [`eval_checked`], which names the subexpression where a value stops being finite.

use egg::{Id, Language};

use super::scalar::{Scalar, ln_dual, pow_const, pow_general};
use super::{Env, EvalError};
use crate::expr::{Expr, Op};

/// The order of `polygamma` if `value` is a non-negative integer.
pub(super) fn polygamma_order(value: Option<f64>) -> Option<u32> {
    let v = value?;
    (v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
}

/// The values of all nodes of `expr`, children before parents.
fn eval_nodes<D: Scalar>(expr: &Expr, env: &Env<D>) -> Result<Vec<D>, EvalError> {
    let nodes = expr.nodes();
    let mut vals: Vec<D> = Vec::with_capacity(nodes.len());
    // Whether a node's value is a constant (no name below it): exponents and polygamma
    // orders are classified by it.
    let mut constant: Vec<bool> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let v = |id: &Id| &vals[usize::from(*id)];
        let konst = |id: &Id| constant[usize::from(*id)].then(|| vals[usize::from(*id)].re());
        let value = match node {
            Op::Num(c) => D::from(c.value()),
            Op::Pi => D::from(std::f64::consts::PI),
            Op::Euler => D::from(std::f64::consts::E),
            Op::Sym(s) => match env.get(*s) {
                Some(x) => x.clone(),
                None => return Err(EvalError::Unbound { name: *s }),
            },
            Op::Add([a, b]) => v(a).clone() + v(b),
            Op::Sub([a, b]) => v(a).clone() - v(b),
            Op::Mul([a, b]) => v(a).clone() * v(b),
            Op::Div([a, b]) => v(a).clone() / v(b),
            Op::Pow([a, b]) => match (konst(a), konst(b)) {
                (_, Some(e)) => pow_const(v(a), e),
                (Some(base), None) if base == std::f64::consts::E => v(b).exp(),
                (base, None) => pow_general(v(a), v(b), base.is_some()),
            },
            Op::Neg([a]) => -v(a).clone(),
            Op::Ln([a]) => ln_dual(v(a)),
            Op::Exp([a]) => v(a).exp(),
            Op::Sqrt([a]) => v(a).sqrt(),
            Op::Log1p([a]) => v(a).ln_1p(),
            Op::Expm1([a]) => v(a).exp_m1(),
            Op::Lgamma([a]) => v(a).lgamma(),
            Op::Digamma([a]) => v(a).digamma(),
            Op::Trigamma([a]) => v(a).trigamma(),
            Op::Polygamma([n, a]) => match polygamma_order(konst(n)) {
                Some(n) => v(a).polygamma(n),
                None => return Err(polygamma_order_error(expr, *n)),
            },
            Op::Sigmoid([a]) => v(a).sigmoid(),
            Op::Abs([a]) => v(a).abs(),
            Op::Sign([a]) => v(a).sign(),
            Op::Sin([a]) => v(a).sin(),
            Op::Cos([a]) => v(a).cos(),
        };
        let is_const = match node {
            Op::Sym(_) => false,
            _ => node.children().iter().all(|c| constant[usize::from(*c)]),
        };
        vals.push(value);
        constant.push(is_const);
    }
    Ok(vals)
}

pub(super) fn polygamma_order_error(expr: &Expr, order: Id) -> EvalError {
    EvalError::PolygammaOrder {
        order: crate::expr::text(&expr.subexpr(order)).to_string(),
    }
}

/// Evaluates `expr` with the names bound by `env`, in any [`Scalar`] type.
///
/// Semantics: `a ^ b` with a constant integer exponent is `powi` (so `(−2)^2 = 4`), with another
/// constant exponent `powf`, `e ^ b` is `exp(b)`, and otherwise `exp(b · ln a)` in every type,
/// `f64` included, so that a value does not depend on the number type (NaN for `a < 0`, 0 for
/// `a = 0 < b`);
/// `sigmoid(x) = 1/(1 + e^(−x))`;
/// `sign(x) ∈ {−1, 0, 1}` with derivative 0; `abs` has derivative `sign(x)` (and 1 at 0);
/// `polygamma(n, x)` needs a constant non-negative integer `n`. Domain errors (`ln(−1)`) give
/// NaN, as in `f64`; use [`eval_checked`] to find where.
///
/// # Errors
///
/// [`EvalError::Unbound`] for a name without a value, [`EvalError::PolygammaOrder`] for a bad
/// polygamma order.
pub fn eval<D: Scalar>(expr: &Expr, env: &Env<D>) -> Result<D, EvalError> {
    let mut vals = eval_nodes(expr, env)?;
    Ok(vals.swap_remove(usize::from(expr.root())))
}

/// Like [`eval`], but a value that is not finite is an error naming the innermost subexpression
/// that produced it, with the values of its names: "`ln(sigma)` is not finite at sigma=-1".
///
/// Only the real part is checked, and only when it is not finite at the root: an infinite
/// intermediate that the expression absorbs (`1/exp(1000)`) is not an error.
///
/// # Errors
///
/// Those of [`eval`], and [`EvalError::NonFinite`].
pub fn eval_checked<D: Scalar>(expr: &Expr, env: &Env<D>) -> Result<D, EvalError> {
    let mut vals = eval_nodes(expr, env)?;
    let finite = |i: usize| vals[i].re().is_finite();
    let mut id = usize::from(expr.root());
    if finite(id) {
        return Ok(vals.swap_remove(id));
    }
    // Descend through non-finite children to a node whose children are all finite.
    let nodes = expr.nodes();
    while let Some(c) = nodes[id]
        .children()
        .iter()
        .map(|c| usize::from(*c))
        .find(|c| !finite(*c))
    {
        id = c;
    }
    let sub = expr.subexpr(Id::from(id));
    let at = sub
        .symbols()
        .into_iter()
        .filter_map(|s| env.get(s).map(|v| (s, v.re())))
        .collect();
    Err(EvalError::NonFinite {
        expr: crate::expr::text(&sub).to_string(),
        value: vals[id].re(),
        at,
    })
}

/// Evaluates `expr` in `f64`.
///
/// # Errors
///
/// Those of [`eval`].
pub fn eval_f64(expr: &Expr, env: &Env<f64>) -> Result<f64, EvalError> {
    eval(expr, env)
}

#[cfg(test)]
mod tests {
    use num_dual::Dual64;

    use super::*;
    use crate::expr::{ln, polygamma, sqrt};

    #[test]
    fn powers_with_negative_base_and_integer_exponent() -> Result<(), EvalError> {
        let x = Expr::sym("x");
        let env = Env::new().with("x", -2.0);
        assert_eq!(eval_f64(&x.pow(2), &env)?, 4.0);
        assert_eq!(eval_f64(&x.pow(-Expr::num(3.0)), &env)?, -0.125);
        let d = eval(
            &x.pow(3),
            &Env::new().with("x", Dual64::from(-2.0).derivative()),
        )?;
        assert_eq!((d.re, d.eps), (-8.0, 12.0)); // d/dx x³ = 3x²
        Ok(())
    }

    #[test]
    fn errors() {
        let x = Expr::sym("x");
        let env = Env::new().with("x", 1.0);
        assert_eq!(
            eval_f64(&(&x + Expr::sym("y")), &env).map_err(|e| e.to_string()),
            Err("unbound name `y`".to_string())
        );
        let bad = Expr::apply(|ids| Op::Polygamma([ids[0], ids[1]]), &[&x, &x]);
        assert_eq!(
            eval_f64(&bad, &env).map_err(|e| e.to_string()),
            Err(
                "the order of `polygamma` must be a non-negative integer constant, found `x`"
                    .to_string()
            )
        );
        assert!(eval_f64(&polygamma(2, &x), &env).is_ok());
    }

    #[test]
    fn checked_evaluation_names_the_culprit() {
        let sigma = Expr::sym("sigma");
        let e = 1.0 + ln(&sigma) * 2.0;
        let env = Env::new().with("sigma", -1.0);
        assert!(eval_f64(&e, &env).is_ok_and(f64::is_nan));
        let err = eval_checked(&e, &env).map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("`ln(sigma)` is not finite at sigma=-1".to_string())
        );
        // an absorbed infinity is fine
        let absorbed = 1.0 / crate::expr::exp(Expr::num(1000.0));
        assert_eq!(eval_checked(&absorbed, &Env::<f64>::new()), Ok(0.0));
        assert!(eval_checked(&sqrt(&sigma), &Env::new().with("sigma", 4.0)).is_ok());
    }

    #[test]
    fn deep_expressions_do_not_recurse() -> Result<(), EvalError> {
        let mut b = crate::expr::Builder::default();
        let x = b.sym("x".into());
        let mut acc = x;
        for _ in 0..100_000 {
            acc = b.node(Op::Sin([acc]));
        }
        let e = b.finish(acc);
        let v = eval_f64(&e, &Env::new().with("x", 1.0))?;
        assert!(v.is_finite());
        Ok(())
    }
}
