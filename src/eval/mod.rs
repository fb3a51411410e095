//! Numeric evaluation of an [`Expr`]: for `f64`, and generically for num-dual's dual numbers,
//! which give exact first, second and third derivatives; plus [`Compiled`], a flat instruction
//! tape for fast repeated `f64` evaluation of several expressions at once.
//!
//! ```
//! use fisher_geometry::Expr;
//! use fisher_geometry::eval::{Env, eval_f64, hessian};
//! use fisher_geometry::expr::ln;
//!
//! let (x, mu, sigma) = (Expr::sym("x"), Expr::sym("mu"), Expr::sym("sigma"));
//! // ℓ = −½((x − μ)/σ)² − ln σ
//! let logp = -0.5 * ((&x - &mu) / &sigma).pow(2) - ln(&sigma);
//! let env = Env::new().with("x", 1.0).with("mu", 0.0).with("sigma", 2.0);
//! let value = eval_f64(&logp, &env)?;
//! assert!((value - (-0.125 - 2f64.ln())).abs() < 1e-15);
//! let (_, grad, hess) = hessian(&logp, &["mu".into(), "sigma".into()], &env)?;
//! assert!((grad[0] - 0.25).abs() < 1e-15); // ∂ℓ/∂μ = (x − μ)/σ²
//! assert!((hess[(0, 0)] + 0.25).abs() < 1e-15); // ∂²ℓ/∂μ² = −1/σ²
//! # Ok::<(), fisher_geometry::eval::EvalError>(())
//! ```
//!
//! Evaluation is bottom-up over [`Expr::nodes`] (children before parents), never recursive, so
//! expressions of any depth evaluate without growing the stack. The semantics of the operators
//! are those of [`eval`]; [`Compiled`] follows them exactly.

mod accurate;
mod compiled;
mod mp;
pub use crate::special;

use std::fmt;

use egg::{Id, Language, Symbol};
use nalgebra::allocator::Allocator;
use nalgebra::{DMatrix, DVector, DefaultAllocator, Dim, OVector, SVector, U1};
use num_dual::{DualNum, DualVec, HyperHyperDual64};

use crate::expr::{Expr, Op};

pub use accurate::{
    ACCURACY, AccuracyError, Accurate, MAX_BITS, eval_accurate, eval_accurate_detailed,
    eval_multiprecision,
};
pub use compiled::{BatchScratch, Compiled, Input};

/// An error of numeric evaluation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A name in the expression has no value.
    #[error("unbound name `{name}`")]
    Unbound {
        /// The name.
        name: Symbol,
    },
    /// The order `n` of `polygamma(n, x)` is not a non-negative integer constant.
    #[error("the order of `polygamma` must be a non-negative integer constant, found `{order}`")]
    PolygammaOrder {
        /// The order as written.
        order: String,
    },
    /// The value is NaN or infinite; `expr` is the innermost subexpression where it became so
    /// (reported by [`eval_checked`] only).
    #[error("`{expr}` is not finite{}", fmt_bindings(.at))]
    NonFinite {
        /// The subexpression, in the model language.
        expr: String,
        /// Its value (NaN or ±∞).
        value: f64,
        /// The values of the names that occur in it, in sorted order.
        at: Vec<(Symbol, f64)>,
    },
    /// A slice passed to [`Compiled`] has the wrong length.
    #[error("expected {expected} {what}, found {found}")]
    Length {
        /// `"values"` or `"outputs"`.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
}

/// ` at a=1, b=2`, or nothing when there are no bindings.
fn fmt_bindings(at: &[(Symbol, f64)]) -> String {
    let list: Vec<String> = at
        .iter()
        .map(|(s, v)| format!("{s}={}", crate::expr::number(*v)))
        .collect();
    if list.is_empty() {
        String::new()
    } else {
        format!(" at {}", list.join(", "))
    }
}

/// Values of names: a small association list, since models have few names.
///
/// ```
/// use fisher_geometry::eval::Env;
/// let env = Env::new().with("mu", 0.0).with("sigma", 1.0);
/// assert_eq!(env.get("sigma".into()), Some(&1.0));
/// ```
#[derive(Clone, PartialEq)]
pub struct Env<D> {
    bindings: Vec<(Symbol, D)>,
}

impl<D> Default for Env<D> {
    fn default() -> Self {
        Env {
            bindings: Vec::new(),
        }
    }
}

impl<D: fmt::Debug> fmt::Debug for Env<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.bindings.iter().map(|(s, v)| (s.as_str(), v)))
            .finish()
    }
}

impl<D> Env<D> {
    /// An empty environment.
    pub fn new() -> Self {
        Env::default()
    }

    /// This environment with `name` bound to `value` (replacing an earlier binding).
    pub fn with(mut self, name: impl Into<Symbol>, value: D) -> Self {
        self.insert(name.into(), value);
        self
    }

    /// Binds `name` to `value`; returns the previous value, if any.
    pub fn insert(&mut self, name: Symbol, value: D) -> Option<D> {
        match self.bindings.iter_mut().find(|(s, _)| *s == name) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.bindings.push((name, value));
                None
            }
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: Symbol) -> Option<&D> {
        self.bindings
            .iter()
            .find(|(s, _)| *s == name)
            .map(|(_, v)| v)
    }

    /// The bindings in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Symbol, &D)> {
        self.bindings.iter().map(|(s, v)| (*s, v))
    }

    /// Number of bindings.
    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// Whether there are no bindings.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The same names with values mapped by `f`.
    pub fn map<E>(&self, mut f: impl FnMut(Symbol, &D) -> E) -> Env<E> {
        Env {
            bindings: self.bindings.iter().map(|(s, v)| (*s, f(*s, v))).collect(),
        }
    }
}

impl<D, S: Into<Symbol>> FromIterator<(S, D)> for Env<D> {
    fn from_iter<I: IntoIterator<Item = (S, D)>>(iter: I) -> Self {
        let mut env = Env::new();
        for (s, v) in iter {
            env.insert(s.into(), v);
        }
        env
    }
}

/// A number type the evaluator works in: `f64` or any num-dual dual number over `f64`, with the
/// special functions of the model language added.
///
/// The special functions of a dual number `x = a + d` (real part `a`, nilpotent part `d`) are
/// their Taylor series about `a`, `f(x) = Σ_{k=0}^{K} f⁽ᵏ⁾(a) dᵏ / k!` with `K = D::NDERIV`,
/// which is exact because `d^(K+1) = 0`: `K` is 0 for `f64`, 1 for `Dual64`/`DualVec`, 2 for
/// `Dual2`, `HyperDual` and `Dual2Vec`, 3 for `Dual3` and `HyperHyperDual`, and the sum of the
/// levels for nested types. The derivatives `f⁽ᵏ⁾` are polygamma functions: `ln Γ' = ψ`,
/// `ψ⁽ⁿ⁾' = ψ⁽ⁿ⁺¹⁾`. At a pole (`x = 0, −1, …`) the derivatives are not finite and the whole
/// dual number is NaN, its real part included (where `f64` evaluation gives `lgamma = +∞`).
///
/// ```
/// use fisher_geometry::eval::Scalar;
/// use num_dual::{Dual64, DualNum};
/// let x = Dual64::from(3.0).derivative();
/// let y = x.lgamma(); // d/dx ln Γ(x) = ψ(x)
/// assert!((y.eps - (1.5 - 0.5772156649015329)).abs() < 1e-15); // ψ(3) = 1 + 1/2 − γ
/// ```
pub trait Scalar: DualNum<Primitive = f64> {
    /// `ln|Γ(x)|`.
    fn lgamma(&self) -> Self;
    /// The digamma function `ψ(x) = (ln Γ)'(x)`.
    fn digamma(&self) -> Self;
    /// The trigamma function `ψ₁(x) = ψ'(x)`.
    fn trigamma(&self) -> Self;
    /// The polygamma function `ψ⁽ⁿ⁾(x)`, `ψ⁽⁰⁾ = ψ`.
    fn polygamma(&self, n: u32) -> Self;
    /// The logistic function `σ(x) = 1/(1 + e^(−x))`, computed as `e^x/(1 + e^x)` for `x < 0`
    /// so that it neither overflows nor loses precision.
    fn sigmoid(&self) -> Self;
    /// The sign of the real part (−1, 0 or 1; NaN for NaN) as a constant: its derivative is 0.
    fn sign(&self) -> Self;
}

impl<D: DualNum<Primitive = f64>> Scalar for D {
    fn lgamma(&self) -> Self {
        taylor(self, |k, a| match k {
            0 => special::lgamma(a),
            _ => special::polygamma(k - 1, a),
        })
    }

    fn digamma(&self) -> Self {
        taylor(self, special::polygamma)
    }

    fn trigamma(&self) -> Self {
        taylor(self, |k, a| special::polygamma(k.saturating_add(1), a))
    }

    fn polygamma(&self, n: u32) -> Self {
        taylor(self, |k, a| special::polygamma(k.saturating_add(n), a))
    }

    fn sigmoid(&self) -> Self {
        if self.re() >= 0.0 {
            (Self::one() + (-self.clone()).exp()).recip()
        } else {
            let e = self.exp();
            e.clone() / (Self::one() + e)
        }
    }

    fn sign(&self) -> Self {
        Self::from(sign(self.re()))
    }
}

/// `sign(x)`: −1, 0 or 1, NaN for NaN.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0 // 0 for ±0, NaN for NaN
    }
}

/// `f(x) = Σ_{k=0}^{K} f⁽ᵏ⁾(a) dᵏ / k!` with `a` the real part of `x`, `d = x − a` and
/// `K = D::NDERIV`, by Horner's rule; `deriv(k, a)` is `f⁽ᵏ⁾(a)`.
fn taylor<D: DualNum<Primitive = f64>>(x: &D, deriv: impl Fn(u32, f64) -> f64) -> D {
    let a = x.re();
    let order = u32::try_from(D::NDERIV).unwrap_or(u32::MAX);
    if order == 0 {
        return D::from(deriv(0, a));
    }
    let d = x.clone() - a;
    let mut factorial: f64 = (1..=order).map(f64::from).product();
    let mut acc = D::from(deriv(order, a) / factorial);
    for k in (0..order).rev() {
        factorial /= f64::from(k + 1);
        acc = acc * d.clone() + deriv(k, a) / factorial;
    }
    acc
}

/// `x^e` for a constant exponent: `powi` when `e` is an integer (so `(−2)^2 = 4`), else `powf`.
fn pow_const<D: DualNum<Primitive = f64>>(x: &D, e: f64) -> D {
    match integer_exponent(e) {
        Some(n) => x.powi(n),
        None => x.powf(e),
    }
}

/// `a^b = exp(b · ln a)` for a non-constant exponent `b`.
///
/// At `a = 0 < b` the value is 0 and so are the derivatives of orders below `b`
/// (`∂ᵇ(aᵇ) = aᵇ (ln a)ᵏ → 0`, `∂ₐᵏ aᵇ ∝ a^(b−k) → 0`): the result is exactly zero when the
/// base is constant or `b` exceeds the derivative order of `D`, `powi` for an integer `b`, and
/// otherwise `exp(b · ln a)`, whose derivatives are NaN (they are infinite).
fn pow_general<D: DualNum<Primitive = f64>>(a: &D, b: &D, base_is_constant: bool) -> D {
    if a.re() == 0.0 && b.re() > 0.0 {
        if base_is_constant || b.re() > D::NDERIV as f64 {
            return D::zero();
        }
        if let Some(n) = integer_exponent(b.re()) {
            return a.powi(n);
        }
    }
    (ln_dual(a) * b.clone()).exp()
}

/// `ln a`, also where the real part `r` of `a` is below `1e-150` (or above `1e150`): there
/// num-dual's second derivative `−1/r²` overflows, and `−∞ · 0` makes the Hessian part NaN
/// (`ln(x/λ)` at `x = 1e-160` in the Weibull). Then `ln a = ln r + ln(a/r)` with `a/r` of
/// real part 1, exact in value and derivatives.
fn ln_dual<D: DualNum<Primitive = f64>>(a: &D) -> D {
    let r = a.re();
    if r > 0.0 && r.is_finite() && !(1e-150..=1e150).contains(&r) {
        (a.clone() / r).ln() + r.ln()
    } else {
        a.ln()
    }
}

/// `e` as an `i32` if it is an integer in range.
fn integer_exponent(e: f64) -> Option<i32> {
    (e.fract() == 0.0 && e.abs() <= f64::from(i32::MAX)).then_some(e as i32)
}

/// The order of `polygamma` if `value` is a non-negative integer.
fn polygamma_order(value: Option<f64>) -> Option<u32> {
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

fn polygamma_order_error(expr: &Expr, order: Id) -> EvalError {
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
    use num_dual::{
        Dual2_64, Dual3_64, Dual64, DualNum, DualSVec64, HyperDual64, HyperHyperDual64,
    };

    use super::*;
    use crate::expr::{lgamma, ln, polygamma, sqrt};

    /// The ten-line experiment: `NDERIV` is the highest derivative a type carries, and nested
    /// types add their levels.
    #[test]
    fn nderiv_is_the_derivative_order() {
        assert_eq!(<f64 as DualNum>::NDERIV, 0);
        assert_eq!(<Dual64 as DualNum>::NDERIV, 1);
        assert_eq!(<DualSVec64<3> as DualNum>::NDERIV, 1);
        assert_eq!(<Dual2_64 as DualNum>::NDERIV, 2);
        assert_eq!(<HyperDual64 as DualNum>::NDERIV, 2);
        assert_eq!(<Dual3_64 as DualNum>::NDERIV, 3);
        assert_eq!(<HyperHyperDual64 as DualNum>::NDERIV, 3);
        assert_eq!(<num_dual::Dual<Dual64> as DualNum>::NDERIV, 2);
        assert_eq!(<num_dual::HyperDual<Dual2_64> as DualNum>::NDERIV, 4);
    }

    #[test]
    fn special_functions_on_duals_carry_polygamma_derivatives() {
        let a = 2.7;
        let x = Dual3_64::from(a).derivative();
        let y = x.lgamma();
        assert_eq!(y.re, special::lgamma(a));
        assert_eq!(y.v1, special::digamma(a));
        assert_eq!(y.v2, special::trigamma(a));
        assert_eq!(y.v3, special::polygamma(2, a));
        // a nested type with four derivative levels: the fourth derivative of ψ is ψ⁽⁴⁾
        let h = num_dual::HyperDual::<Dual2_64>::from_re(Dual2_64::from(a).derivative())
            .derivative1()
            .derivative2();
        let z = h.digamma();
        // ∂ε₁∂ε₂ of the inner Dual2 part at order 2: ψ⁽³⁾ from ε₁ε₂, times the inner 2nd order
        assert!((z.eps1eps2.v2 - special::polygamma(4, a)).abs() < 1e-12);
        // a nested dual at a point that is not a multiple of the direction
        let w = num_dual::Dual::<Dual64>::new(Dual64::new(a, 1.0), Dual64::new(1.0, 0.0));
        let t = w.trigamma();
        assert!((t.eps.eps - special::polygamma(3, a)).abs() < 1e-12);
    }

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
