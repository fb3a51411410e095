//! Step 1 of [`eval_accurate`](super::eval_accurate): the expression evaluated once in `f64`,
//! every node with a bound on its absolute error (half an ulp per arithmetic operation, the
//! documented accuracy of each library function, and the propagated errors of its arguments).

use egg::{Id, Language};

use super::{AccuracyError, U, log_growth, power_growth, powi_steps, underflows};
use crate::eval::{
    Env, EvalError, integer_exponent, polygamma_order, polygamma_order_error, sign, special,
};
use crate::expr::{Expr, Op};

/// The `f64` pass: values, error bounds, and which nodes are constants (no name below them).
pub(super) struct Plain {
    pub(super) value: Vec<f64>,
    pub(super) error: Vec<f64>,
    pub(super) konst: Vec<bool>,
}

/// The `f64` logistic function, as [`Scalar::sigmoid`](crate::eval::Scalar::sigmoid) computes it.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

pub(super) fn plain(expr: &Expr, env: &Env<f64>) -> Result<Plain, AccuracyError> {
    let nodes = expr.nodes();
    let mut value: Vec<f64> = Vec::with_capacity(nodes.len());
    let mut error: Vec<f64> = Vec::with_capacity(nodes.len());
    let mut konst: Vec<bool> = Vec::with_capacity(nodes.len());
    const INF: f64 = f64::INFINITY;
    for node in nodes {
        let x = |id: &Id| value[usize::from(*id)];
        let ex = |id: &Id| error[usize::from(*id)];
        let kv = |id: &Id| konst[usize::from(*id)].then(|| value[usize::from(*id)]);
        let (v, e): (f64, f64) = match node {
            Op::Num(c) => (c.value(), 0.0),
            Op::Pi => (std::f64::consts::PI, U * std::f64::consts::PI),
            Op::Euler => (std::f64::consts::E, U * std::f64::consts::E),
            Op::Sym(s) => match env.get(*s) {
                Some(v) => (*v, 0.0),
                None => return Err(EvalError::Unbound { name: *s }.into()),
            },
            Op::Add([a, b]) => {
                let v = x(a) + x(b);
                (v, ex(a) + ex(b) + U * v.abs())
            }
            Op::Sub([a, b]) => {
                let v = x(a) - x(b);
                (v, ex(a) + ex(b) + U * v.abs())
            }
            Op::Mul([a, b]) => {
                let v = x(a) * x(b);
                let e = x(a).abs() * ex(b) + x(b).abs() * ex(a) + ex(a) * ex(b);
                // A product with an exact power of two (`−1·x`) is exact unless it leaves
                // the normal range.
                let exact = (exact_power_of_two(x(a), ex(a)) || exact_power_of_two(x(b), ex(b)))
                    && (v == 0.0 || v.is_normal());
                (v, if exact { e } else { e + U * v.abs() })
            }
            Op::Div([a, b]) => {
                let v = x(a) / x(b);
                let rb = ex(b) / x(b).abs();
                let e = if rb < 1.0 {
                    (ex(a) + v.abs() * ex(b)) / (x(b).abs() * (1.0 - rb)) + U * v.abs()
                } else {
                    INF
                };
                (v, e)
            }
            Op::Pow([a, b]) => {
                let (va, ea) = (x(a), ex(a));
                let r = ea / va.abs();
                match (kv(a), kv(b)) {
                    (_, Some(p)) => match integer_exponent(p) {
                        Some(n) => {
                            let v = va.powi(n);
                            let e = if n == 0 && va.is_finite() && ea.is_finite() {
                                0.0
                            } else if va == 0.0 {
                                zero_base_power(ea, f64::from(n))
                            } else {
                                v.abs() * (power_growth(f64::from(n), r) + powi_steps(n) * U)
                            };
                            (v, e)
                        }
                        None => {
                            let v = va.powf(p);
                            let e = if va == 0.0 {
                                zero_base_power(ea, p)
                            } else {
                                let growth = -p.abs() * (-r).ln_1p() + va.ln().abs() * ex(b);
                                v.abs() * (growth.exp_m1() + 2.0 * U)
                            };
                            (v, e)
                        }
                    },
                    (Some(base), None) if base == std::f64::consts::E => {
                        let v = x(b).exp();
                        (v, v.abs() * (ex(b).exp_m1() + 2.0 * U))
                    }
                    (_, None) => {
                        let vb = x(b);
                        if va == 0.0 && vb > 0.0 && ex(b) == 0.0 {
                            (0.0, zero_base_power(ea, vb))
                        } else if va == 0.0 && vb > 0.0 {
                            (0.0, if ea == 0.0 { 0.0 } else { INF })
                        } else {
                            let l = va.ln();
                            let v = (vb * l).exp();
                            let growth = if r < 1.0 {
                                -vb.abs() * (-r).ln_1p() + l.abs() * ex(b)
                            } else {
                                INF
                            };
                            let e =
                                v.abs() * (growth.exp_m1() + 3.0 * U * (vb * l).abs() + 2.0 * U);
                            (v, e)
                        }
                    }
                }
            }
            Op::Neg([a]) => (-x(a), ex(a)),
            Op::Abs([a]) => (x(a).abs(), ex(a)),
            Op::Sign([a]) => {
                let v = sign(x(a));
                let certain = x(a).abs() > ex(a) || (x(a) == 0.0 && ex(a) == 0.0);
                (v, if certain { 0.0 } else { INF })
            }
            Op::Ln([a]) => {
                let v = x(a).ln();
                (v, log_growth(ex(a) / x(a).abs()) + 2.0 * U * v.abs())
            }
            Op::Exp([a]) => {
                let v = x(a).exp();
                (v, v.abs() * (ex(a).exp_m1() + 2.0 * U))
            }
            Op::Expm1([a]) => {
                // d/da (e^a − 1) = e^a: the argument error grows by e^a (e^ea − 1)
                let v = x(a).exp_m1();
                (v, x(a).exp() * ex(a).exp_m1() + 2.0 * U * v.abs())
            }
            Op::Sqrt([a]) => {
                let v = x(a).sqrt();
                let e = if x(a) == 0.0 && ex(a) == 0.0 {
                    0.0
                } else {
                    let r = ex(a) / x(a).abs();
                    if r < 1.0 { v * (r + U) } else { INF }
                };
                (v, e)
            }
            Op::Log1p([a]) => {
                let v = x(a).ln_1p();
                let t = (1.0 + x(a)).abs();
                // 1 + a is not formed by ln_1p; its exact value differs from t by at most U·t
                (
                    v,
                    log_growth(ex(a) / t * (1.0 + 2.0 * U)) + 2.0 * U * v.abs(),
                )
            }
            Op::Lgamma([a]) => special_plain(x(a), ex(a), special::lgamma, special::digamma, 6.0),
            Op::Digamma([a]) => {
                special_plain(x(a), ex(a), special::digamma, special::trigamma, 6.0)
            }
            Op::Trigamma([a]) => special_plain(
                x(a),
                ex(a),
                special::trigamma,
                |t| special::polygamma(2, t),
                6.0,
            ),
            Op::Polygamma([n, a]) => match polygamma_order(kv(n)) {
                Some(n) => special_plain(
                    x(a),
                    ex(a),
                    |t| special::polygamma(n, t),
                    |t| special::polygamma(n.saturating_add(1), t),
                    16.0,
                ),
                None => return Err(polygamma_order_error(expr, *n).into()),
            },
            Op::Sigmoid([a]) => {
                let v = sigmoid(x(a));
                let ea = ex(a);
                let e = if ea <= 1.0 {
                    v * (1.0 - v) * ea * (1.0 + ea) * 1.01 + 4.0 * U * v
                } else {
                    INF
                };
                (v, e)
            }
            Op::Sin([a]) => {
                let v = x(a).sin();
                (v, ex(a) + 2.0 * U * v.abs())
            }
            Op::Cos([a]) => {
                let v = x(a).cos();
                (v, ex(a) + 2.0 * U * v.abs())
            }
        };
        // a zero or subnormal that is not exact (underflow) has no relative accuracy
        let lost = v != 0.0 && v.abs() < f64::MIN_POSITIVE
            || v == 0.0 && underflows(node, |id| value[usize::from(*id)] != 0.0);
        let e = if v.is_finite() && e >= 0.0 && !lost {
            e
        } else {
            INF
        };
        let is_const = match node {
            Op::Sym(_) => false,
            _ => node.children().iter().all(|c| konst[usize::from(*c)]),
        };
        value.push(v);
        error.push(e);
        konst.push(is_const);
    }
    Ok(Plain {
        value,
        error,
        konst,
    })
}

/// A special function in `f64` with its bound: `ulps` half-ulps of its own, and the argument
/// error through the derivative `df`, for positive arguments known to 10⁻³ relative; else ∞
/// (the reflection formulas at negative arguments have only absolute accuracy).
fn special_plain(
    a: f64,
    ea: f64,
    f: impl Fn(f64) -> f64,
    df: impl Fn(f64) -> f64,
    ulps: f64,
) -> (f64, f64) {
    let v = f(a);
    if a.is_nan() || a <= 0.0 || ea > 1e-3 * a {
        return (v, f64::INFINITY);
    }
    let prop = if ea == 0.0 {
        0.0
    } else {
        df(a).abs() * ea * 1.01
    };
    (v, prop + ulps * U * v.abs())
}

/// Whether `v` with error `e` is exactly `±2^k`, so that multiplying by it rounds nothing.
fn exact_power_of_two(v: f64, e: f64) -> bool {
    e == 0.0 && v.is_normal() && v.to_bits() & ((1u64 << 52) - 1) == 0
}

/// The error of `a^p` at a zero base known to within `ea`: the value is exactly 0 and the true
/// one at most `ea^p` in magnitude for `p > 0`; a negative power has a pole there.
fn zero_base_power(ea: f64, p: f64) -> f64 {
    if ea == 0.0 {
        0.0
    } else if p > 0.0 {
        // never rounded down to 0, which would make a zero with an error look exact
        ea.powf(p).max(f64::from_bits(1))
    } else {
        f64::INFINITY
    }
}
