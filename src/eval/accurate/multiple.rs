//! Step 2 of [`eval_accurate`](super::eval_accurate): the expression evaluated again in binary
//! floating point at 128, 256, …, [`MAX_BITS`] bits with the same running error bound, until
//! the bound meets [`ACCURACY`].

use astro_float::{BigFloat, Consts, Radix};
use egg::{Id, Language, Symbol};

use super::bound::Plain;
use super::mp::{
    Gamma, MOST_NEGATIVE, RM, SpecialError, Wide, big_to_f64_saturating, gamma_family,
};
use super::{
    ACCURACY, AccuracyError, Accurate, MAX_BITS, SAFETY, START_BITS, log_growth, power_growth,
    powi_steps, underflows,
};
use crate::eval::{Env, integer_exponent, polygamma_order};
use crate::expr::{Expr, Op};

/// One node of the multiple-precision pass.
struct Node {
    value: BigFloat,
    error: Wide,
}

/// Why a multiple-precision pass stopped at a node.
enum Stop {
    Undefined(usize),
    Range(usize),
}

/// `|x|` rounded up, as a bound.
pub(super) fn mag(x: &BigFloat) -> Wide {
    Wide::from_big(x).scale(1.0 + 4.0 * f64::EPSILON)
}

/// `ln|x|` as an `f64`.
fn ln_abs(x: &BigFloat) -> f64 {
    match x.as_raw_parts() {
        Some((words, _, _, e, _)) => {
            let top = words.last().copied().unwrap_or(0) as f64 / 2f64.powi(64);
            top.ln() + f64::from(e) * std::f64::consts::LN_2
        }
        None => f64::INFINITY,
    }
}

/// `x` printed with five significant digits: `5.0e-601`.
fn sci(x: &BigFloat, cc: &mut Consts) -> String {
    let mut short = x.clone();
    if short.set_precision(64, RM).is_err() {
        return "?".to_string();
    }
    let text = match short.format(Radix::Dec, RM, cc) {
        Ok(t) => t,
        Err(_) => return "?".to_string(),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (text.as_str(), 0),
    };
    let m: f64 = mantissa
        .chars()
        .take(20)
        .collect::<String>()
        .parse()
        .unwrap_or(f64::NAN);
    let normal = format!("{m:.4e}");
    let (digits, carry) = normal.split_once('e').unwrap_or((&normal, "0"));
    let carry: i64 = carry.parse().unwrap_or(0);
    let digits = digits.trim_end_matches('0');
    let digits = if digits.ends_with('.') {
        format!("{digits}0")
    } else {
        digits.to_string()
    };
    format!("{digits}e{}", exponent + carry)
}

/// The names of `expr.subexpr(id)` with their values.
fn bindings(expr: &Expr, id: usize, env: &Env<f64>) -> Vec<(Symbol, f64)> {
    expr.subexpr(Id::from(id))
        .symbols()
        .into_iter()
        .filter_map(|s| env.get(s).map(|v| (s, *v)))
        .collect()
}

fn subexpr_text(expr: &Expr, id: usize) -> String {
    crate::expr::text(&expr.subexpr(Id::from(id))).to_string()
}

/// Step 2: increasing precision until the bound meets the tolerance.
pub(super) fn multiple(
    expr: &Expr,
    env: &Env<f64>,
    plain: &Plain,
) -> Result<Accurate, AccuracyError> {
    let mut cc = Consts::new().map_err(|_| AccuracyError::Range {
        expr: crate::expr::text(expr).to_string(),
        at: Vec::new(),
    })?;
    let root = usize::from(expr.root());
    let mut bits = START_BITS;
    let mut zero_before = false;
    loop {
        let nodes = match pass(expr, env, plain, bits, &mut cc) {
            Ok(n) => n,
            Err(Stop::Undefined(id)) => {
                return Err(AccuracyError::Undefined {
                    expr: subexpr_text(expr, id),
                    at: bindings(expr, id, env),
                });
            }
            Err(Stop::Range(id)) => {
                return Err(AccuracyError::Range {
                    expr: subexpr_text(expr, id),
                    at: bindings(expr, id, env),
                });
            }
        };
        let Node { value, error } = &nodes[root];
        if value.is_zero() {
            // Zero at two precisions in a row is taken as exact only once the bound also
            // says the true value is below what `f64` can hold: a zero may be the rounding of
            // an argument at this precision (`2 + 1e100` needs 333 bits, so
            // `ψ₁(b) − ψ₁(2 + b)` at `b = 1e100` is 0 at 128 and 256 bits, not 2e-200).
            let negligible = *error <= Wide::from_f64(f64::MIN_POSITIVE * f64::EPSILON);
            if error.is_zero() || (zero_before && negligible) {
                return Ok(Accurate {
                    value: 0.0,
                    rel_error: 0.0,
                    bits,
                });
            }
            zero_before = true;
        } else {
            zero_before = false;
            if error.scale(SAFETY) <= mag(value).scale(ACCURACY) {
                let rel_error = error.div(mag(value)).to_f64();
                // below 2^−1022 in magnitude: exponent ≤ −1022 in astro-float's 0.m·2^e
                let tiny = value.exponent().is_some_and(|e| e <= -1022);
                if tiny {
                    return Err(AccuracyError::Underflow {
                        value: sci(value, &mut cc),
                    });
                }
                let v = big_to_f64_saturating(value);
                if !v.is_finite() {
                    return Err(AccuracyError::Overflow {
                        value: sci(value, &mut cc),
                    });
                }
                return Ok(Accurate {
                    value: v,
                    rel_error,
                    bits,
                });
            }
        }
        if bits >= MAX_BITS {
            // the innermost node on a chain of nodes whose bounds exceed the tolerance
            let bad = |i: usize| {
                let n = &nodes[i];
                n.error.scale(SAFETY) > mag(&n.value).scale(ACCURACY)
            };
            let mut id = root;
            while let Some(c) = expr.nodes()[id]
                .children()
                .iter()
                .map(|c| usize::from(*c))
                .find(|c| bad(*c))
            {
                id = c;
            }
            let bound = error.div(mag(value)).to_f64();
            return Err(AccuracyError::Inaccurate {
                expr: subexpr_text(expr, id),
                at: bindings(expr, id, env),
                bound,
                bits,
            });
        }
        bits *= 2;
    }
}

/// One multiple-precision pass at `p` bits.
fn pass(
    expr: &Expr,
    env: &Env<f64>,
    plain: &Plain,
    p: usize,
    cc: &mut Consts,
) -> Result<Vec<Node>, Stop> {
    let nodes = expr.nodes();
    let u = Wide::pow2(-(p as i64));
    let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
    let one = BigFloat::from_u64(1, 64);
    for (i, node) in nodes.iter().enumerate() {
        let x = |id: &Id| &out[usize::from(*id)].value;
        let ex = |id: &Id| out[usize::from(*id)].error;
        let kv = |id: &Id| plain.konst[usize::from(*id)].then(|| plain.value[usize::from(*id)]);
        // the relative error of an argument, as an f64 (∞ when not below 1)
        let rel = |id: &Id| ex(id).div(mag(x(id))).to_f64();
        let undefined = Err(Stop::Undefined(i));
        let (value, error): (BigFloat, Wide) = match node {
            Op::Num(c) => (BigFloat::from_f64(c.value(), p), Wide::ZERO),
            Op::Pi => {
                let v = cc.pi(p, RM);
                let e = mag(&v).mul(u);
                (v, e)
            }
            Op::Euler => {
                let v = one.exp(p, RM, cc);
                let e = mag(&v).mul(u);
                (v, e)
            }
            Op::Sym(s) => match env.get(*s) {
                Some(v) if v.is_finite() => (BigFloat::from_f64(*v, p), Wide::ZERO),
                Some(_) => return undefined,
                None => return Err(Stop::Undefined(i)),
            },
            Op::Add([a, b]) => {
                let v = x(a).add(x(b), p, RM);
                let e = ex(a).add(ex(b)).add(mag(&v).mul(u));
                (v, e)
            }
            Op::Sub([a, b]) => {
                let v = x(a).sub(x(b), p, RM);
                let e = ex(a).add(ex(b)).add(mag(&v).mul(u));
                (v, e)
            }
            Op::Mul([a, b]) => {
                let v = x(a).mul(x(b), p, RM);
                let e = mag(x(a))
                    .mul(ex(b))
                    .add(mag(x(b)).mul(ex(a)))
                    .add(ex(a).mul(ex(b)));
                // A product with an exact power of two (`−1·x`) is exact (the exponent range
                // is ±2³¹ bits).
                let exact = [(a, kv(a)), (b, kv(b))]
                    .iter()
                    .any(|(id, k)| ex(id).is_zero() && k.is_some_and(power_of_two));
                (v.clone(), if exact { e } else { e.add(mag(&v).mul(u)) })
            }
            Op::Div([a, b]) => {
                if x(b).is_zero() {
                    if ex(b).is_zero() {
                        return undefined;
                    }
                    (BigFloat::new(p), Wide::INF)
                } else {
                    let v = x(a).div(x(b), p, RM);
                    let rb = rel(b);
                    let e = if rb < 1.0 {
                        ex(a)
                            .add(mag(&v).mul(ex(b)))
                            .div(mag(x(b)).scale(1.0 - rb))
                            .add(mag(&v).mul(u))
                    } else {
                        Wide::INF
                    };
                    (v, e)
                }
            }
            Op::Pow([a, b]) => pow_node(x(a), ex(a), x(b), ex(b), kv(a), kv(b), p, u, cc)
                .ok_or(Stop::Undefined(i))?,
            Op::Neg([a]) => (x(a).neg(), ex(a)),
            Op::Abs([a]) => (x(a).abs(), ex(a)),
            Op::Sign([a]) => {
                let va = x(a);
                let s = if va.is_zero() {
                    0
                } else if va.is_negative() {
                    -1
                } else {
                    1
                };
                let certain = mag(va) > ex(a) || (va.is_zero() && ex(a).is_zero());
                (
                    BigFloat::from_i64(s, 64),
                    if certain { Wide::ZERO } else { Wide::INF },
                )
            }
            Op::Ln([a]) => {
                let va = x(a);
                let r = rel(a);
                if va.is_zero() && ex(a).is_zero() {
                    return undefined;
                }
                if r >= 1.0 {
                    (BigFloat::new(p), Wide::INF)
                } else if va.is_negative() {
                    return undefined;
                } else {
                    let v = va.ln(p, RM, cc);
                    let e = Wide::from_f64(log_growth(r)).add(mag(&v).mul(u));
                    (v, e)
                }
            }
            Op::Exp([a]) => {
                let v = x(a).exp(p, RM, cc);
                if v.is_inf() || v.is_nan() || v.is_zero() {
                    return Err(Stop::Range(i));
                }
                let e = mag(&v).mul(Wide::from_f64(ex(a).to_f64().exp_m1()).add(u));
                (v, e)
            }
            Op::Expm1([a]) => {
                // e^a − 1 at enough extra precision that the subtraction cancels nothing
                // that matters: |a| ≥ 2^(e−1) loses at most −e bits
                let va = x(a);
                if va.is_zero() {
                    (BigFloat::new(p), ex(a))
                } else {
                    let lost = va.exponent().map_or(0, |e| (-i64::from(e)).max(0) as usize);
                    let wp = p + lost + 80;
                    let ea = va.exp(wp, RM, cc);
                    if ea.is_inf() || ea.is_nan() {
                        return Err(Stop::Range(i));
                    }
                    let v = ea.sub(&one, p, RM);
                    let growth = mag(&ea).mul(Wide::from_f64(ex(a).to_f64().exp_m1()));
                    (v.clone(), growth.add(mag(&v).mul(u)))
                }
            }
            Op::Sqrt([a]) => {
                let va = x(a);
                if va.is_zero() && ex(a).is_zero() {
                    (BigFloat::new(p), Wide::ZERO)
                } else {
                    let r = rel(a);
                    if r >= 1.0 {
                        (BigFloat::new(p), Wide::INF)
                    } else if va.is_negative() {
                        return undefined;
                    } else {
                        let v = va.sqrt(p, RM);
                        let e = mag(&v).mul(Wide::from_f64(r).add(u));
                        (v, e)
                    }
                }
            }
            Op::Log1p([a]) => {
                let va = x(a);
                let tiny = va
                    .exponent()
                    .is_some_and(|e| i64::from(e) < -(p as i64) - 8);
                if va.is_zero() || tiny {
                    // log1p(a) = a (1 − a/2 + …): relative error |a|/2 < 2^−(p+8)
                    let e = ex(a).add(mag(va).mul(u));
                    (va.clone(), e)
                } else {
                    let t = va.add(&one, 2 * p + 80, RM);
                    let rt = ex(a).div(mag(&t)).to_f64();
                    if rt >= 1.0 {
                        (BigFloat::new(p), Wide::INF)
                    } else if !t.is_positive() {
                        return undefined;
                    } else {
                        let v = t.ln(p, RM, cc);
                        let e = Wide::from_f64(log_growth(rt)).add(mag(&v).mul(u));
                        (v, e)
                    }
                }
            }
            Op::Lgamma([a]) => special_node(Gamma::Lgamma, x(a), ex(a), p, cc, i)?,
            Op::Digamma([a]) => special_node(Gamma::Psi(0), x(a), ex(a), p, cc, i)?,
            Op::Trigamma([a]) => special_node(Gamma::Psi(1), x(a), ex(a), p, cc, i)?,
            Op::Polygamma([n, a]) => match polygamma_order(kv(n)) {
                Some(n) => special_node(Gamma::Psi(n), x(a), ex(a), p, cc, i)?,
                None => return undefined,
            },
            Op::Sigmoid([a]) => {
                let va = x(a);
                let q = p + 16;
                let v = if va.is_negative() {
                    let t = va.exp(q, RM, cc);
                    t.div(&t.add(&one, q, RM), q, RM)
                } else {
                    let t = va.neg().exp(q, RM, cc);
                    one.div(&t.add(&one, q, RM), q, RM)
                };
                if v.is_zero() || v.is_nan() || v.is_inf() {
                    return Err(Stop::Range(i));
                }
                let ea = ex(a).to_f64();
                let mut v = v;
                let _ = v.set_precision(p, RM);
                let e = if ea <= 1.0 {
                    let one_minus = one.sub(&v, q, RM);
                    mag(&v)
                        .mul(mag(&one_minus))
                        .scale(ea * (1.0 + ea) * 1.01)
                        .add(mag(&v).mul(u).scale(4.0))
                } else {
                    Wide::INF
                };
                (v, e)
            }
            Op::Sin([a]) => {
                let v = x(a).sin(p, RM, cc);
                let e = ex(a).add(mag(&v).mul(u));
                (v, e)
            }
            Op::Cos([a]) => {
                let v = x(a).cos(p, RM, cc);
                let e = ex(a).add(mag(&v).mul(u));
                (v, e)
            }
        };
        if value.is_nan() {
            return Err(Stop::Undefined(i));
        }
        if value.is_inf() || value.is_zero() && underflows(node, |id| !x_zero(&out, id)) {
            return Err(Stop::Range(i));
        }
        out.push(Node { value, error });
    }
    Ok(out)
}

/// Whether node `id` of a pass is zero.
fn x_zero(out: &[Node], id: &Id) -> bool {
    out[usize::from(*id)].value.is_zero()
}

/// `a ^ b` with the semantics of [`eval`](crate::eval::eval); `None` where it is undefined.
#[allow(clippy::too_many_arguments)] // the two arguments, their bounds and constness, the context
fn pow_node(
    a: &BigFloat,
    ea: Wide,
    b: &BigFloat,
    eb: Wide,
    ka: Option<f64>,
    kb: Option<f64>,
    p: usize,
    u: Wide,
    cc: &mut Consts,
) -> Option<(BigFloat, Wide)> {
    let r = ea.div(mag(a)).to_f64();
    let lost = (BigFloat::new(p), Wide::INF);
    if let Some(n) = kb.and_then(integer_exponent) {
        if n == 0 {
            // a⁰ = 1 exactly, as `powi` has it, at a = 0 too
            return Some((BigFloat::from_u64(1, p), Wide::ZERO));
        }
        if a.is_zero() {
            if n < 0 {
                return if ea.is_zero() { None } else { Some(lost) };
            }
            // |(0 + δ)^n| ≤ ea^n
            let e = wide_powi(ea, n.unsigned_abs());
            return Some((BigFloat::new(p), e));
        }
        let q = p + 16;
        let mut v = a.powi(n.unsigned_abs() as usize, q, RM);
        if n < 0 {
            v = v.reciprocal(q, RM);
        }
        let _ = v.set_precision(p, RM);
        // the powering rounds at 2^−(p+16) per step, the final rounding at 2^−p
        let rounding = u.scale(1.0 + powi_steps(n) * 2f64.powi(-16));
        let e = mag(&v).mul(Wide::from_f64(power_growth(f64::from(n), r)).add(rounding));
        return Some((v, e));
    }
    if kb.is_none() && ka == Some(std::f64::consts::E) {
        let v = b.exp(p, RM, cc);
        if v.is_inf() || v.is_zero() {
            return Some(lost);
        }
        let e = mag(&v).mul(Wide::from_f64(eb.to_f64().exp_m1()).add(u));
        return Some((v, e));
    }
    // a constant non-integer exponent (`powf`) or `exp(b ln a)`: the same outside a = 0
    if a.is_zero() {
        let b_positive = b.is_positive() && mag(b) > eb;
        if ea.is_zero() && b_positive {
            return Some((BigFloat::new(p), Wide::ZERO));
        }
        if ea.is_zero() && !b.is_positive() && mag(b) > eb {
            return None;
        }
        return Some(lost);
    }
    if r >= 1.0 {
        return Some(lost);
    }
    if a.is_negative() {
        return None;
    }
    let v = a.pow(b, p, RM, cc);
    if v.is_inf() || v.is_zero() {
        return Some(lost);
    }
    let b_abs = big_to_f64_saturating(b).abs();
    let growth = b_abs * log_growth(r) + ln_abs(a).abs() * eb.to_f64();
    let e = mag(&v).mul(Wide::from_f64(growth.exp_m1()).add(u.scale(2.0)));
    Some((v, e))
}

/// A function of the gamma family at a multiple-precision argument `a` with error `ea`.
fn special_node(
    f: Gamma,
    a: &BigFloat,
    ea: Wide,
    p: usize,
    cc: &mut Consts,
    node: usize,
) -> Result<(BigFloat, Wide), Stop> {
    let lost = Ok((BigFloat::new(p), Wide::INF));
    if !ea.is_zero() {
        // first order needs the argument known to 10⁻³ of its distance to the nearest pole
        let dist = if a.is_positive() {
            mag(a)
        } else {
            let frac = a.sub(&a.floor(), 64, RM);
            let up = BigFloat::from_u64(1, 64).sub(&frac, 64, RM);
            mag(&frac).min_wide(mag(&up))
        };
        if ea.scale(1e3) > dist {
            return lost;
        }
    }
    if big_to_f64_saturating(a) < MOST_NEGATIVE {
        return Err(Stop::Range(node));
    }
    let (v, fe) = match gamma_family(f, a, p, cc) {
        Ok(r) => r,
        Err(SpecialError::Pole) => {
            return if ea.is_zero() {
                Err(Stop::Undefined(node))
            } else {
                lost
            };
        }
        Err(SpecialError::OutOfRange) => return Err(Stop::Range(node)),
    };
    let prop = if ea.is_zero() {
        Wide::ZERO
    } else {
        let df = match f {
            Gamma::Lgamma => Gamma::Psi(0),
            Gamma::Psi(n) => Gamma::Psi(n.saturating_add(1)),
        };
        match gamma_family(df, a, 64, cc) {
            Ok((d, de)) => mag(&d).add(de).mul(ea).scale(1.01),
            Err(_) => Wide::INF,
        }
    };
    Ok((v, fe.add(prop)))
}

/// Whether `v` is exactly `±2^k`.
fn power_of_two(v: f64) -> bool {
    v.is_normal() && v.to_bits() & ((1u64 << 52) - 1) == 0
}

/// `e^n` by squaring, in the arithmetic of the other bounds ([`Wide`], with the margin
/// [`SAFETY`] over their roundings).
fn wide_powi(e: Wide, mut n: u32) -> Wide {
    let (mut base, mut acc) = (e, Wide::from_f64(1.0));
    while n > 0 {
        if n & 1 == 1 {
            acc = acc.mul(base);
        }
        base = base.mul(base);
        n >>= 1;
    }
    acc
}
