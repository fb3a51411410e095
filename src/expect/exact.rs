//! The exact exponential-family route (DESIGN §4): separate the log-density into data-only
//! statistics with parameter-dependent coefficients, `ℓ = Σ_k c_k(θ)·t_k(x) + r(θ) + h(x)`,
//! and solve the score identity `E[s] = 0` for the moments `m_k = E[t_k]`.
//!
//! The score is `s_j = Σ_k ∂_j c_k·t_k + ∂_j r`, so `E[s_j] = 0` reads
//! `Σ_k ∂_j c_k·m_k = −∂_j r`: `d` linear equations in the `K` unknown moments. When the
//! coefficient matrix has rank `K`, the moments are exact expressions in θ. Rank and pivots
//! are decided numerically at a few points inside the domains; elimination is symbolic along
//! those pivots. The route never recognizes named families: it works from the log-density,
//! in any parameterization.

use std::collections::BTreeMap;
use std::fmt;

use egg::{Id, Language, Symbol};
use nalgebra::DMatrix;

use crate::diff::derivative;
use crate::eval::{Env, eval_f64};
use crate::expr::{Builder, Expr, Op, Pretty, text};
use crate::model::{Domain, Model};
use crate::simplify::canon::canonicalize;
use crate::simplify::{Facts, simplest as tidy, simplify};

/// Why the exact route does not apply; the caller falls back to numeric expectations.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    /// A subexpression mixes data and parameters in a way that is not a sum of products
    /// of a parameter function and a data function.
    #[error("`{0}` couples the data and the parameters")]
    Couples(String),
    /// The separation grew beyond the term limit.
    #[error("the log-density expands into more than {0} terms")]
    TooLarge(usize),
    /// `E[s] = 0` does not determine the moments that the Fisher matrix needs.
    #[error(
        "the score identity gives {equations} independent equations for {statistics} statistics"
    )]
    Underdetermined {
        /// Rank of the coefficient matrix.
        equations: usize,
        /// Number of statistics.
        statistics: usize,
    },
    /// A coefficient or moment could not be evaluated at the sample points.
    #[error("the moment equations cannot be evaluated inside the domain: {0}")]
    Evaluation(String),
}

/// Most (statistic, coefficient) pairs the separation may produce.
pub const MAX_TERMS: usize = 512;

/// Largest tree size of a log-density the route attempts.
const MAX_INPUT: usize = 4_000;

/// Largest tree size of a log-density, before its canonical pass, that the route attempts.
/// The canonical pass works on trees, so a DAG of chained `let` definitions whose tree is
/// millions of nodes would take it minutes; canonicalizing rarely shrinks a tree this much.
const MAX_RAW_INPUT: usize = 16 * MAX_INPUT;

/// Relative size below which a singular value counts as zero when deciding the rank.
const RANK_TOL: f64 = 1e-9;

/// The separated log-density `ℓ = Σ_k c_k(θ)·t_k(x) + r(θ) + h(x)`.
#[derive(Debug, Clone)]
pub struct Separation {
    /// The data statistics `t_k` whose coefficients depend on θ, with those coefficients.
    pub stats: Vec<(Expr, Expr)>,
    /// `r(θ)`, the data-free part (constants included).
    pub rest: Expr,
    /// `h(x)`, the θ-free part that holds data (it does not affect the score, but the
    /// log-likelihood of observations includes `Σᵢ h(xᵢ)`).
    pub base: Expr,
}

/// The moments `m_k = E_θ[t_k(x)]` of the statistics, exact.
#[derive(Debug, Clone)]
pub struct Moments {
    /// The separation they belong to.
    pub separation: Separation,
    /// `m_k`, in the order of `separation.stats`.
    pub values: Vec<Expr>,
}

/// A monomial in data atoms: sorted (atom text, power) pairs; empty is the constant 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
struct Mono(Vec<(String, i32)>);

impl Mono {
    fn times(&self, other: &Mono) -> Mono {
        let mut out: BTreeMap<String, i32> = self.0.iter().cloned().collect();
        for (k, p) in &other.0 {
            *out.entry(k.clone()).or_insert(0) += p;
        }
        Mono(out.into_iter().filter(|(_, p)| *p != 0).collect())
    }

    fn inverse(&self) -> Mono {
        Mono(self.0.iter().map(|(k, p)| (k.clone(), -p)).collect())
    }
}

type Terms = Vec<(Mono, Expr)>;

/// The order in which pivots are preferred: fill-in, then expression size, then text.
type PivotKey = (usize, usize, String);

/// Separates a model's log-density.
///
/// # Errors
///
/// [`RouteError::Couples`] naming the first subexpression that mixes data and parameters
/// other than additively and multiplicatively (`(x/λ)^k`, `ln(1 + (x − μ)²)`),
/// [`RouteError::TooLarge`] past [`MAX_TERMS`].
pub fn separate(model: &Model) -> Result<Separation, RouteError> {
    let facts = Facts::of(model);
    if model.logp.tree_size() > MAX_RAW_INPUT {
        return Err(RouteError::TooLarge(MAX_INPUT));
    }
    let logp = canonicalize(&model.logp, &facts);
    if logp.tree_size() > MAX_INPUT {
        return Err(RouteError::TooLarge(MAX_INPUT));
    }
    let data: Vec<Symbol> = model.data.iter().map(|d| d.name).collect();
    let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
    let mut has_data = Vec::with_capacity(logp.nodes().len());
    let mut has_param = Vec::with_capacity(logp.nodes().len());
    for node in logp.nodes() {
        let (d, p) = match node {
            Op::Sym(s) => (data.contains(s), params.contains(s)),
            _ => node.children().iter().fold((false, false), |(d, p), c| {
                (
                    d || has_data[usize::from(*c)],
                    p || has_param[usize::from(*c)],
                )
            }),
        };
        has_data.push(d);
        has_param.push(p);
    }
    let mut s = Separator {
        e: &logp,
        has_data,
        has_param,
        positive: facts.positive_nodes(&logp),
        atoms: BTreeMap::new(),
    };
    let terms = s.sep(logp.root())?;
    // Collect coefficients by monomial.
    let mut by_mono: BTreeMap<Mono, Vec<Expr>> = BTreeMap::new();
    for (m, c) in terms {
        by_mono.entry(m).or_default().push(c);
    }
    let mut stats = Vec::new();
    let mut rest = Expr::num(0.0);
    let mut base = Vec::new();
    for (mono, coefs) in by_mono {
        let coef = simplify(&sum(&coefs), &facts);
        let depends = params.iter().any(|p| coef.contains(*p));
        if mono.0.is_empty() {
            rest = coef;
        } else if depends {
            stats.push((s.statistic(&mono), coef));
        } else {
            // A data-only term with a θ-free coefficient is part of h(x): it does not affect
            // the score.
            base.push(coef * s.statistic(&mono));
        }
    }
    let base = simplify(&sum(&base), &facts);
    Ok(Separation { stats, rest, base })
}

fn sum(es: &[Expr]) -> Expr {
    let mut b = Builder::default();
    let mut acc = b.num(0.0);
    for e in es {
        let id = b.copy(e);
        acc = b.add(acc, id);
    }
    b.finish(acc)
}

struct Separator<'a> {
    e: &'a Expr,
    has_data: Vec<bool>,
    has_param: Vec<bool>,
    /// Per node: known positive ([`Facts::positive_nodes`]).
    positive: Vec<bool>,
    /// Atom text → atom expression.
    atoms: BTreeMap<String, Expr>,
}

impl Separator<'_> {
    fn sub(&self, id: Id) -> Expr {
        self.e.subexpr(id)
    }

    fn node(&self, id: Id) -> &Op {
        &self.e.nodes()[usize::from(id)]
    }

    fn couples(&self, id: Id) -> RouteError {
        RouteError::Couples(text(&self.sub(id)).to_string())
    }

    fn atom(&mut self, id: Id) -> Terms {
        let e = self.sub(id);
        let key = e.to_string();
        self.atoms.entry(key.clone()).or_insert(e);
        vec![(Mono(vec![(key, 1)]), Expr::num(1.0))]
    }

    fn statistic(&self, mono: &Mono) -> Expr {
        let mut b = Builder::default();
        let mut acc = b.num(1.0);
        for (key, p) in &mono.0 {
            let atom = self
                .atoms
                .get(key)
                .cloned()
                .unwrap_or_else(|| Expr::num(f64::NAN));
            let a = b.copy(&atom);
            let e = b.num(f64::from(*p));
            let f = b.pow(a, e);
            acc = b.mul(acc, f);
        }
        b.finish(acc)
    }

    fn sep(&mut self, id: Id) -> Result<Terms, RouteError> {
        let i = usize::from(id);
        if !self.has_data[i] {
            return Ok(vec![(Mono::default(), self.sub(id))]);
        }
        let node = self.node(id).clone();
        match node {
            Op::Sym(_) => Ok(self.atom(id)),
            Op::Add([a, b]) => {
                let mut t = self.sep(a)?;
                t.extend(self.sep(b)?);
                limit(t)
            }
            Op::Sub([a, b]) => {
                let mut t = self.sep(a)?;
                t.extend(negate(self.sep(b)?));
                limit(t)
            }
            Op::Neg([a]) => Ok(negate(self.sep(a)?)),
            Op::Mul([a, b]) => {
                let (x, y) = (self.sep(a)?, self.sep(b)?);
                product(&x, &y)
            }
            Op::Div([a, b]) => {
                let x = self.sep(a)?;
                let y = self.sep(b)?;
                let inv = inverse(&y).ok_or_else(|| self.couples(id))?;
                product(&x, &inv)
            }
            Op::Pow([a, b]) => {
                let n = match self.node(b) {
                    Op::Num(c) if c.value() == c.value().trunc() && c.value().abs() <= 16.0 => {
                        Some(c.value() as i32)
                    }
                    _ => None,
                };
                match n {
                    Some(n) if !self.has_data[usize::from(b)] => {
                        let base = self.sep(a)?;
                        power(&base, n).ok_or_else(|| self.couples(id))
                    }
                    _ if !self.has_param[i] => Ok(self.atom(id)),
                    _ => Err(self.couples(id)),
                }
            }
            Op::Ln([a]) if self.has_param[i] => self.split_ln(a).ok_or_else(|| self.couples(id)),
            _ if !self.has_param[i] => Ok(self.atom(id)),
            _ => Err(self.couples(id)),
        }
    }

    /// `ln(a)` for `a` a product/quotient/integer power of factors that are each data-only
    /// or parameter-only and known positive: `ln(x/λ) = ln x − ln λ`.
    fn split_ln(&mut self, a: Id) -> Option<Terms> {
        let mut factors: Vec<(Id, f64)> = Vec::new();
        let mut stack = vec![(a, 1.0)];
        while let Some((id, e)) = stack.pop() {
            match *self.node(id) {
                Op::Mul([x, y]) => stack.extend([(x, e), (y, e)]),
                Op::Div([x, y]) => stack.extend([(x, e), (y, -e)]),
                Op::Pow([x, y]) => match *self.node(y) {
                    Op::Num(c) if self.positive(x) => stack.push((x, e * c.value())),
                    _ => factors.push((id, e)),
                },
                Op::Sqrt([x]) if self.positive(x) => stack.push((x, e * 0.5)),
                _ => factors.push((id, e)),
            }
        }
        let mut out = Terms::new();
        for (id, e) in factors {
            let i = usize::from(id);
            if (self.has_data[i] && self.has_param[i]) || !self.positive(id) {
                return None;
            }
            let ln = Expr::apply(|ids| Op::Ln([ids[0]]), &[&self.sub(id)]);
            let coef = Expr::num(e);
            if self.has_data[i] {
                let key = ln.to_string();
                self.atoms.entry(key.clone()).or_insert(ln);
                out.push((Mono(vec![(key, 1)]), coef));
            } else {
                out.push((Mono::default(), coef * ln));
            }
        }
        Some(out)
    }

    /// Whether the subexpression is known positive from the declared domains.
    fn positive(&self, id: Id) -> bool {
        self.positive[usize::from(id)]
    }
}

fn negate(t: Terms) -> Terms {
    t.into_iter().map(|(m, c)| (m, -c)).collect()
}

fn limit(t: Terms) -> Result<Terms, RouteError> {
    if t.len() > MAX_TERMS {
        Err(RouteError::TooLarge(MAX_TERMS))
    } else {
        Ok(t)
    }
}

fn product(x: &Terms, y: &Terms) -> Result<Terms, RouteError> {
    if x.len().saturating_mul(y.len()) > MAX_TERMS {
        return Err(RouteError::TooLarge(MAX_TERMS));
    }
    Ok(x.iter()
        .flat_map(|(m1, c1)| y.iter().map(move |(m2, c2)| (m1.times(m2), c1 * c2)))
        .collect())
}

/// The reciprocal of a single term; `None` for a sum of several monomials.
fn inverse(t: &Terms) -> Option<Terms> {
    match t.as_slice() {
        [(m, c)] => Some(vec![(m.inverse(), 1.0 / c)]),
        _ => {
            // Several terms of one monomial (`2x + 3x`) still invert.
            let m = &t.first()?.0;
            if t.iter().all(|(k, _)| k == m) {
                let c = sum(&t.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>());
                Some(vec![(m.inverse(), 1.0 / c)])
            } else {
                None
            }
        }
    }
}

fn power(base: &Terms, n: i32) -> Option<Terms> {
    if n < 0 {
        return inverse(&power(base, -n)?);
    }
    let mut acc: Terms = vec![(Mono::default(), Expr::num(1.0))];
    for _ in 0..n {
        acc = product(&acc, base).ok()?;
    }
    Some(acc)
}

/// A few points inside the parameter domains (deterministic), with the constants bound.
pub fn sample_points(model: &Model) -> Vec<Env<f64>> {
    (0..3)
        .map(|i| {
            let mut env: Env<f64> = model.const_env().into_iter().collect();
            for (j, p) in model.params.iter().enumerate() {
                let t = f64::from(i as u32) + 0.37 * f64::from(j as u32);
                let v = match p.domain {
                    Domain::Real => 0.43 - 0.61 * t + 0.05 * t * t,
                    Domain::Positive => 0.9 + 0.47 * t,
                    Domain::Unit | Domain::Interval(..) => {
                        let (lo, hi) = p.domain.bounds();
                        lo + (hi - lo) * (0.23 + 0.17 * (t % 3.0))
                    }
                };
                env.insert(p.name, v);
            }
            env
        })
        .collect()
}

/// Relative size below which a value counts as zero against the magnitude of the terms it
/// combines ([`value_and_magnitude`]), about `4500ε`: above the rounding error of evaluating
/// an expression that is identically zero (a small multiple of `ε·mag`), and below the
/// relative size of a genuine value unless its evaluation has lost all but three digits (a
/// condition number `mag/|e|` beyond `10^12`). The magnitude is a first-order error bound,
/// so a value whose terms cancel only partly (`1 − P/(1 + P)` with `P ≈ 400`) keeps most
/// of its digits against it.
pub const ZERO_TOL: f64 = 1e-12;

/// Whether `e` is identically zero: the literal 0, or at every sample point a value that is
/// negligible against the magnitude of the terms it combines,
/// `|e| ≤ ZERO_TOL·mag(e)` (numerical zero-testing, DESIGN §4). A genuine value is never
/// zero however small it is (`2e-14` is not zero), and a value that is not finite is an
/// error, never zero.
///
/// # Errors
///
/// [`RouteError::Evaluation`] when `e` cannot be evaluated, or is not finite, at a point.
pub fn is_zero(e: &Expr, points: &[Env<f64>]) -> Result<bool, RouteError> {
    if e.as_num() == Some(0.0) {
        return Ok(true);
    }
    let mut zero = true;
    for p in points {
        let (v, mag) = value_and_magnitude(e, p)?;
        zero &= v.abs() <= ZERO_TOL * mag;
    }
    Ok(zero)
}

/// The value of `e` at `env` and its magnitude: the size of the terms it combines, such that
/// the rounding error of the value is a small multiple of `ε·mag`. A sum adds the
/// magnitudes of its terms (`A − B·C` has magnitude `|A| + |B·C|`), a product `a·b` has
/// `mag(a)·|b| + |a|·mag(b)`, a quotient `a/b` has `mag(a)/|b| + |a|·mag(b)/b²`, and a function `f(u)` has
/// `|f(u)| + |f′(u)|·mag(u)` (first-order propagation of the error in `u`). For an expression
/// without cancellation the magnitude is a small multiple of `|e|`; for one that cancels to
/// zero it is a small multiple of the size of what cancelled.
///
/// # Errors
///
/// [`RouteError::Evaluation`] when a name is unbound, or the value or its magnitude is not
/// finite.
pub fn value_and_magnitude(e: &Expr, env: &Env<f64>) -> Result<(f64, f64), RouteError> {
    use crate::eval::Scalar;
    use crate::special::polygamma;
    let nodes = e.nodes();
    let mut val: Vec<f64> = Vec::with_capacity(nodes.len());
    let mut mag: Vec<f64> = Vec::with_capacity(nodes.len());
    // whether the node is free of names (exponents are classified by it, as in `eval`)
    let mut constant: Vec<bool> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let v = |id: &Id| val[usize::from(*id)];
        let m = |id: &Id| mag[usize::from(*id)];
        let konst = |id: &Id| constant[usize::from(*id)];
        // `f(u)` with derivative `df`: value and first-order magnitude
        let apply = |u: &Id, f: f64, df: f64| (f, f.abs() + df.abs() * m(u));
        let (value, magnitude) = match node {
            Op::Num(c) => (c.value(), c.value().abs()),
            Op::Pi => (std::f64::consts::PI, std::f64::consts::PI),
            Op::Euler => (std::f64::consts::E, std::f64::consts::E),
            Op::Sym(s) => match env.get(*s) {
                Some(x) => (*x, x.abs()),
                None => {
                    return Err(RouteError::Evaluation(format!("`{s}` has no value")));
                }
            },
            Op::Add([a, b]) => (v(a) + v(b), m(a) + m(b)),
            Op::Sub([a, b]) => (v(a) - v(b), m(a) + m(b)),
            Op::Neg([a]) => (-v(a), m(a)),
            Op::Mul([a, b]) => (v(a) * v(b), m(a) * v(b).abs() + v(a).abs() * m(b)),
            Op::Div([a, b]) => {
                let q = v(a) / v(b);
                (q, m(a) / v(b).abs() + (q / v(b)).abs() * m(b))
            }
            Op::Pow([a, b]) if konst(b) => {
                let k = v(b);
                let p = if k.fract() == 0.0 && k.abs() <= f64::from(i32::MAX) {
                    v(a).powi(k as i32)
                } else {
                    v(a).powf(k)
                };
                let dp = if k == 0.0 {
                    0.0
                } else {
                    k * if (k - 1.0).fract() == 0.0 && (k - 1.0).abs() <= f64::from(i32::MAX) {
                        v(a).powi((k - 1.0) as i32)
                    } else {
                        v(a).powf(k - 1.0)
                    }
                };
                apply(a, p, dp)
            }
            Op::Pow([a, b]) => {
                let (x, y) = (v(a), v(b));
                let p = if x == 0.0 && y > 0.0 {
                    0.0
                } else {
                    (y * x.ln()).exp()
                };
                let dx = if x == 0.0 { 0.0 } else { y * p / x };
                let dy = if x == 0.0 { 0.0 } else { p * x.ln() };
                (p, p.abs() + dx.abs() * m(a) + dy.abs() * m(b))
            }
            Op::Ln([a]) => apply(a, v(a).ln(), 1.0 / v(a)),
            Op::Exp([a]) => {
                let x = v(a).exp();
                apply(a, x, x)
            }
            Op::Sqrt([a]) => {
                let x = v(a).sqrt();
                apply(a, x, 0.5 / x)
            }
            Op::Log1p([a]) => apply(a, v(a).ln_1p(), 1.0 / (1.0 + v(a))),
            Op::Expm1([a]) => apply(a, v(a).exp_m1(), v(a).exp()),
            Op::Lgamma([a]) => apply(a, Scalar::lgamma(&v(a)), Scalar::digamma(&v(a))),
            Op::Digamma([a]) => apply(a, Scalar::digamma(&v(a)), Scalar::trigamma(&v(a))),
            Op::Trigamma([a]) => apply(a, Scalar::trigamma(&v(a)), polygamma(2, v(a))),
            Op::Polygamma([n, a]) => {
                let order = v(n);
                if !(konst(n) && order >= 0.0 && order.fract() == 0.0 && order <= 64.0) {
                    return Err(RouteError::Evaluation(format!(
                        "`{}` is not a polygamma order",
                        text(&e.subexpr(*n))
                    )));
                }
                let order = order as u32;
                apply(a, polygamma(order, v(a)), polygamma(order + 1, v(a)))
            }
            Op::Sigmoid([a]) => {
                let s = Scalar::sigmoid(&v(a));
                apply(a, s, s * (1.0 - s))
            }
            Op::Abs([a]) => apply(a, v(a).abs(), 1.0),
            Op::Sign([a]) => apply(a, Scalar::sign(&v(a)), 0.0),
            Op::Sin([a]) => apply(a, v(a).sin(), v(a).cos()),
            Op::Cos([a]) => apply(a, v(a).cos(), v(a).sin()),
        };
        let is_const = match node {
            Op::Sym(_) => false,
            _ => node.children().iter().all(konst),
        };
        val.push(value);
        mag.push(magnitude);
        constant.push(is_const);
    }
    let root = usize::from(e.root());
    let (v, m) = (val[root], mag[root]);
    if !v.is_finite() || !m.is_finite() {
        return Err(RouteError::Evaluation(format!(
            "`{}` is not finite at {}",
            text(e),
            describe(e, env)
        )));
    }
    Ok((v, m))
}

/// `name=value, …` for the names of `e`, for messages.
fn describe(e: &Expr, env: &Env<f64>) -> String {
    e.symbols()
        .into_iter()
        .filter_map(|s| {
            env.get(s)
                .map(|v| format!("{s}={}", crate::expr::number(*v)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Solves `E[s] = 0` for the moments of the statistics.
///
/// # Errors
///
/// [`RouteError::Underdetermined`] when the coefficient matrix `∂_j c_k` has rank below the
/// number of statistics at the sample points; [`RouteError::Evaluation`] when it cannot be
/// evaluated there.
pub fn moments(model: &Model, separation: Separation) -> Result<Moments, RouteError> {
    let facts = Facts::of(model);
    let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
    let k = separation.stats.len();
    let d = params.len();
    if k == 0 {
        return Ok(Moments {
            separation,
            values: Vec::new(),
        });
    }
    // A[j][k] = ∂_j c_k, b[j] = −∂_j r; an entry whose coefficient does not mention θ_j is
    // zero without differentiating (a diagonal normal's A is mostly such zeros).
    let zero = tidy(&Expr::num(0.0), &facts);
    let a: Vec<Vec<Expr>> = params
        .iter()
        .map(|p| {
            separation
                .stats
                .iter()
                .map(|(_, c)| {
                    if c.contains(*p) {
                        tidy(&derivative(c, *p), &facts)
                    } else {
                        zero.clone()
                    }
                })
                .collect()
        })
        .collect();
    let b: Vec<Expr> = params
        .iter()
        .map(|p| tidy(&-derivative(&separation.rest, *p), &facts))
        .collect();
    let points = sample_points(model);
    let numeric = |m: &[Vec<Expr>], env: &Env<f64>| -> Result<DMatrix<f64>, RouteError> {
        let mut out = DMatrix::zeros(m.len(), m.first().map_or(0, Vec::len));
        for (r, row) in m.iter().enumerate() {
            for (c, e) in row.iter().enumerate() {
                let v = match e.as_num() {
                    Some(v) => v,
                    None => {
                        eval_f64(e, env).map_err(|err| RouteError::Evaluation(err.to_string()))?
                    }
                };
                if !v.is_finite() {
                    return Err(RouteError::Evaluation(format!("`{e}` is not finite")));
                }
                out[(r, c)] = v;
            }
        }
        Ok(out)
    };
    // The equations and statistics fall into independent blocks (the connected components
    // of the non-zero pattern of A): the singular values of A are those of its blocks, so
    // rank and pivots are decided block by block, each against the largest singular value
    // of the whole matrix as before, at the cost of the blocks rather than of A.
    let blocks = Blocks::of(&a);
    let mut rank = k;
    for env in &points {
        let m = equilibrated(numeric(&a, env)?);
        let sv: Vec<f64> = blocks
            .all()
            .flat_map(|(rows, cols)| singular_values(&m, rows, cols))
            .collect();
        let top = sv.iter().cloned().fold(0.0, f64::max);
        let r = sv
            .iter()
            .filter(|s| **s > RANK_TOL * top.max(f64::MIN_POSITIVE))
            .count();
        rank = rank.min(r);
    }
    if rank < k || d < k {
        return Err(RouteError::Underdetermined {
            equations: rank.min(d),
            statistics: k,
        });
    }
    // Choose k rows (equations) greedily by numeric independence at the first point: a row
    // is taken when the rows taken so far and it have full rank together. Only the block of
    // the new row changes its singular values.
    let a0 = equilibrated(numeric(&a, &points[0])?);
    let mut rows: Vec<usize> = Vec::new();
    let mut taken: Vec<Vec<usize>> = vec![Vec::new(); blocks.count()];
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); blocks.count()];
    for r in 0..d {
        let block = blocks.of_row[r];
        let mut trial = taken[block].clone();
        trial.push(r);
        let sv = singular_values(&a0, &trial, &blocks.cols[block]);
        let top = values
            .iter()
            .enumerate()
            .filter(|(b, _)| *b != block)
            .flat_map(|(_, v)| v.iter())
            .chain(&sv)
            .cloned()
            .fold(0.0, f64::max);
        let independent = |v: &[f64]| {
            v.iter()
                .filter(|s| **s > RANK_TOL * top.max(f64::MIN_POSITIVE))
                .count()
        };
        let count: usize = values
            .iter()
            .enumerate()
            .map(|(b, v)| {
                if b == block {
                    independent(&sv)
                } else {
                    independent(v)
                }
            })
            .sum();
        if count == rows.len() + 1 {
            rows.push(r);
            taken[block] = trial;
            values[block] = sv;
        }
        if rows.len() == k {
            break;
        }
    }
    // Gauss–Jordan elimination with Markowitz pivoting, block by block: a pivot of one
    // block eliminates only in its own rows, and its choice depends only on its block, so
    // the blocks solve alone to the same moments as the whole system would.
    let mut values = vec![Expr::num(0.0); k];
    let mut solved = 0;
    let mut stalled = false;
    for (block, cols) in blocks.cols.iter().enumerate() {
        let mine: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|r| blocks.of_row[*r] == block)
            .collect();
        if cols.is_empty() {
            continue;
        }
        let m: Vec<Vec<Expr>> = mine
            .iter()
            .map(|r| cols.iter().map(|c| a[*r][*c].clone()).collect())
            .collect();
        let v: Vec<Expr> = mine.iter().map(|r| b[*r].clone()).collect();
        let (pivots, m, v) = eliminate(m, v, &points, &facts)?;
        solved += pivots.len();
        stalled |= pivots.len() < cols.len();
        for (r, c) in pivots {
            values[cols[c]] = tidy(&(&v[r] / &m[r][c]), &facts);
        }
    }
    if stalled {
        return Err(RouteError::Underdetermined {
            equations: solved,
            statistics: k,
        });
    }
    Ok(Moments { separation, values })
}

/// The pivots `(row, column)` of the system `m·moments = v` (rows: equations, columns:
/// statistics), with `m` and `v` reduced along them (Gauss–Jordan with Markowitz pivoting:
/// among the entries that are not numerically zero, the one whose row and column hold the
/// fewest other non-zeros, least fill-in, then the simplest expression; sparse systems, the
/// bivariate normal's, then solve nearly by substitution and the expressions stay small).
/// Fewer pivots than columns when the system runs out of non-zero candidates.
type Reduced = (Vec<(usize, usize)>, Vec<Vec<Expr>>, Vec<Expr>);

fn eliminate(
    mut m: Vec<Vec<Expr>>,
    mut v: Vec<Expr>,
    points: &[Env<f64>],
    facts: &Facts,
) -> Result<Reduced, RouteError> {
    let n = m.len();
    let k = m.first().map_or(0, Vec::len);
    let mut zero: Vec<Vec<bool>> = Vec::with_capacity(n);
    for row in &m {
        zero.push(
            row.iter()
                .map(|e| is_zero(e, points))
                .collect::<Result<_, _>>()?,
        );
    }
    let mut row_done = vec![false; n];
    let mut col_done = vec![false; k];
    let mut pivots: Vec<(usize, usize)> = Vec::with_capacity(k);
    // (printed size, text) of each entry, computed when first asked for and forgotten when
    // the entry changes: the pivot search asks for every candidate at every step.
    let mut labels: Vec<Vec<Option<(usize, String)>>> = vec![vec![None; k]; n];
    for _ in 0..k {
        // (Markowitz count, pivot size, pivot text) → (row, column)
        let mut best: Option<(PivotKey, (usize, usize))> = None;
        // the non-zeros of each remaining row and column, among the remaining ones
        let mut row_nnzs = vec![0usize; n];
        let mut col_nnzs = vec![0usize; k];
        for r in (0..n).filter(|r| !row_done[*r]) {
            for c in (0..k).filter(|c| !col_done[*c] && !zero[r][*c]) {
                row_nnzs[r] += 1;
                col_nnzs[c] += 1;
            }
        }
        for r in (0..n).filter(|r| !row_done[*r]) {
            for c in (0..k).filter(|c| !col_done[*c] && !zero[r][*c]) {
                let count = (row_nnzs[r] - 1) * (col_nnzs[c] - 1);
                let (size, text) = labels[r][c]
                    .get_or_insert_with(|| (Pretty::of(&m[r][c]).size(), m[r][c].to_string()));
                let better = best.as_ref().is_none_or(|((bc, bs, bt), _)| {
                    (count, *size, text.as_str()) < (*bc, *bs, bt.as_str())
                });
                if better {
                    best = Some(((count, *size, text.clone()), (r, c)));
                }
            }
        }
        let Some((_, (pr, pc))) = best else {
            break;
        };
        for r in 0..n {
            if r == pr || zero[r][pc] {
                continue;
            }
            let factor = tidy(&(&m[r][pc] / &m[pr][pc]), facts);
            for c in (0..k).filter(|c| !col_done[*c]) {
                if c == pc {
                    m[r][c] = Expr::num(0.0);
                    zero[r][c] = true;
                    labels[r][c] = None;
                    continue;
                }
                if zero[pr][c] {
                    continue;
                }
                labels[r][c] = None;
                let e = &m[r][c] - &factor * &m[pr][c];
                zero[r][c] = is_zero(&e, points)?;
                m[r][c] = if zero[r][c] {
                    Expr::num(0.0)
                } else {
                    tidy(&e, facts)
                };
            }
            v[r] = tidy(&(&v[r] - &factor * &v[pr]), facts);
        }
        row_done[pr] = true;
        col_done[pc] = true;
        pivots.push((pr, pc));
    }
    Ok((pivots, m, v))
}

/// The independent blocks of a coefficient matrix `A` (equations × statistics): the
/// connected components of the graph whose edges are its entries that are not the literal 0.
struct Blocks {
    /// The block of each row.
    of_row: Vec<usize>,
    /// The rows of each block, in increasing order.
    rows: Vec<Vec<usize>>,
    /// The columns of each block, in increasing order.
    cols: Vec<Vec<usize>>,
}

impl Blocks {
    fn of(a: &[Vec<Expr>]) -> Blocks {
        let d = a.len();
        let k = a.first().map_or(0, Vec::len);
        // union–find over rows 0..d and columns d..d+k
        let mut parent: Vec<usize> = (0..d + k).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for (j, row) in a.iter().enumerate() {
            for (c, e) in row.iter().enumerate() {
                if e.as_num() != Some(0.0) {
                    let (x, y) = (find(&mut parent, j), find(&mut parent, d + c));
                    parent[x.max(y)] = x.min(y);
                }
            }
        }
        let mut index: BTreeMap<usize, usize> = BTreeMap::new();
        let mut of = vec![0; d + k];
        for (i, slot) in of.iter_mut().enumerate() {
            let root = find(&mut parent, i);
            let next = index.len();
            *slot = *index.entry(root).or_insert(next);
        }
        let mut rows = vec![Vec::new(); index.len()];
        let mut cols = vec![Vec::new(); index.len()];
        for (i, b) in of.iter().enumerate() {
            if i < d {
                rows[*b].push(i);
            } else {
                cols[*b].push(i - d);
            }
        }
        of.truncate(d);
        Blocks {
            of_row: of,
            rows,
            cols,
        }
    }

    fn count(&self) -> usize {
        self.rows.len()
    }

    /// (rows, columns) of every block.
    fn all(&self) -> impl Iterator<Item = (&[usize], &[usize])> {
        self.rows
            .iter()
            .zip(&self.cols)
            .map(|(r, c)| (r.as_slice(), c.as_slice()))
    }
}

/// The singular values of the submatrix of `m` on `rows` × `cols` (none when either is
/// empty).
fn singular_values(m: &DMatrix<f64>, rows: &[usize], cols: &[usize]) -> Vec<f64> {
    if rows.is_empty() || cols.is_empty() {
        return Vec::new();
    }
    let sub = DMatrix::from_fn(rows.len(), cols.len(), |i, j| m[(rows[i], cols[j])]);
    sub.svd(false, false)
        .singular_values
        .iter()
        .cloned()
        .collect()
}

/// `m` with each column, then each row, scaled to largest entry 1 (zero ones left alone):
/// the rank is unchanged, and a statistic whose coefficient is tiny (`a/10^14`) beside
/// another's is not mistaken for a dependent one by the relative singular-value test.
fn equilibrated(mut m: DMatrix<f64>) -> DMatrix<f64> {
    for mut col in m.column_iter_mut() {
        let top = col.amax();
        if top > 0.0 {
            col /= top;
        }
    }
    for mut row in m.row_iter_mut() {
        let top = row.amax();
        if top > 0.0 {
            row /= top;
        }
    }
    m
}

impl fmt::Display for Separation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (t, c) in &self.stats {
            writeln!(f, "{t}: {c}")?;
        }
        write!(f, "r: {}", self.rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> Vec<Env<f64>> {
        [0.43, -0.13, 1.7]
            .iter()
            .map(|a| Env::new().with("a", *a).with("b", 0.9).with("x", 0.0))
            .collect()
    }

    fn expr(src: &str) -> Expr {
        let m = Model::parse(
            &format!("data x : real\nparam a : real\nparam b : positive\nlogp = x*(a + b) + {src}"),
            "t",
        )
        .unwrap();
        // the θ-only part (evaluated with x = 0, which adds nothing to the magnitude)
        &m.logp - &(&Expr::sym("x") * &(Expr::sym("a") + Expr::sym("b")))
    }

    #[test]
    fn zero_is_relative_to_the_terms_never_absolute() {
        // cancels exactly, or to rounding against its terms
        assert!(is_zero(&Expr::num(0.0), &points()).unwrap());
        assert!(is_zero(&expr("0.1*a + 0.2*a - 0.3*a"), &points()).unwrap());
        assert!(is_zero(&expr("exp(a)*exp(-a) - 1"), &points()).unwrap());
        assert!(is_zero(&expr("1e20*a^2 - (1e10*a)^2"), &points()).unwrap());
        // a genuine value is never zero, however small
        assert!(!is_zero(&expr("2e-14"), &points()).unwrap());
        assert!(!is_zero(&expr("2e-14*a^2"), &points()).unwrap());
        // a partial cancellation keeps its value: 1 − P/(1 + P) = 1/(1 + P)
        assert!(!is_zero(&expr("1 - 400*b/(1 + 400*b)"), &points()).unwrap());
    }

    #[test]
    fn a_value_that_is_not_finite_is_an_error_never_zero() {
        // inf ≤ 1e-12·(1 + inf) once counted as zero
        assert!(is_zero(&expr("exp(1e3*b)"), &points()).is_err());
        assert!(is_zero(&expr("ln(a - a)"), &points()).is_err());
        assert!(is_zero(&expr("sqrt(-b)"), &points()).is_err());
    }

    #[test]
    fn magnitude_is_the_size_of_what_cancelled() {
        let env = Env::new().with("a", 2.0).with("b", 0.5).with("x", 0.0);
        // A − B·C with A = B·C = 8: value 0, magnitude a small multiple of |A| + |B·C| = 16
        // (each operand counts once per operation that combined it: 32 + 16)
        let (v, m) = value_and_magnitude(&expr("a^3 - 4*a"), &env).unwrap();
        assert_eq!(v, 0.0);
        assert!((m - 48.0).abs() < 1e-12, "{m}");
        // no cancellation: a small multiple of the value
        let (v, m) = value_and_magnitude(&expr("a*b"), &env).unwrap();
        assert_eq!(v, 1.0);
        assert!((m - 2.0).abs() < 1e-12, "{m}");
    }
}
