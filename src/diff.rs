//! Symbolic differentiation: one match arm per operator, to any order.
//!
//! The derivative is built bottom-up over the nodes of the expression (forward mode), so
//! it needs no recursion however deep the expression is, and shared subexpressions are
//! differentiated once. Higher derivatives differentiate the simplified lower ones.

use egg::{Id, Language, Symbol};

use crate::expr::{Builder, Expr, Op};
use crate::simplify::{Facts, simplest, simplify};

/// The derivative `∂expr/∂var`, unsimplified (only `0`/`1` identities are folded).
///
/// ```
/// use fisher_geometry::{Expr, diff::derivative};
/// use fisher_geometry::expr::ln;
/// let sigma = Expr::sym("sigma");
/// let d = derivative(&ln(&sigma), "sigma".into());
/// assert_eq!(d.to_string(), "1/sigma"); // d/dσ ln σ = 1/σ
/// ```
pub fn derivative(expr: &Expr, var: Symbol) -> Expr {
    let mut b = Builder::default();
    let n = expr.nodes().len();
    let mut val: Vec<Id> = Vec::with_capacity(n);
    let mut der: Vec<Id> = Vec::with_capacity(n);
    for node in expr.nodes() {
        let v = b.node(node.clone().map_children(|c| val[usize::from(c)]));
        let d = |c: &Id| der[usize::from(*c)];
        let vl = |c: &Id| val[usize::from(*c)];
        let dv = match node {
            Op::Num(_) | Op::Pi | Op::Euler | Op::Sign(_) => b.num(0.0),
            Op::Sym(s) => b.num(if *s == var { 1.0 } else { 0.0 }),
            Op::Add([x, y]) => b.add(d(x), d(y)),
            Op::Sub([x, y]) => b.sub(d(x), d(y)),
            Op::Neg([x]) => b.neg(d(x)),
            // (xy)' = x'y + xy'
            Op::Mul([x, y]) => {
                let l = b.mul(d(x), vl(y));
                let r = b.mul(vl(x), d(y));
                b.add(l, r)
            }
            // (x/y)' = x'/y − x y'/y²
            Op::Div([x, y]) => {
                let l = b.div(d(x), vl(y));
                let two = b.num(2.0);
                let y2 = b.pow(vl(y), two);
                let num = b.mul(vl(x), d(y));
                let r = b.div(num, y2);
                b.sub(l, r)
            }
            Op::Pow([x, y]) => {
                let (dx, dy) = (d(x), d(y));
                if b.value(dy) == Some(0.0) {
                    // (x^c)' = c x^(c−1) x'
                    let one = b.num(1.0);
                    let cm1 = b.sub(vl(y), one);
                    let p = b.pow(vl(x), cm1);
                    let cp = b.mul(vl(y), p);
                    b.mul(cp, dx)
                } else {
                    // (x^y)' = x^y (y' ln x + y x'/x)
                    let lnx = b.unary(Op::Ln, vl(x));
                    let t1 = b.mul(dy, lnx);
                    let yx = b.mul(vl(y), dx);
                    let t2 = b.div(yx, vl(x));
                    let s = b.add(t1, t2);
                    b.mul(v, s)
                }
            }
            // (ln x)' = x'/x
            Op::Ln([x]) => b.div(d(x), vl(x)),
            // (exp x)' = exp(x) x'
            Op::Exp([x]) => b.mul(v, d(x)),
            // (√x)' = x'/(2√x)
            Op::Sqrt([x]) => {
                let two = b.num(2.0);
                let den = b.mul(two, v);
                b.div(d(x), den)
            }
            // (log1p x)' = x'/(1 + x)
            Op::Log1p([x]) => {
                let one = b.num(1.0);
                let den = b.add(one, vl(x));
                b.div(d(x), den)
            }
            // (ln Γ(x))' = ψ(x) x'
            Op::Lgamma([x]) => {
                let f = b.unary(Op::Digamma, vl(x));
                b.mul(f, d(x))
            }
            // ψ'(x) = ψ₁(x)
            Op::Digamma([x]) => {
                let f = b.unary(Op::Trigamma, vl(x));
                b.mul(f, d(x))
            }
            // ψ₁'(x) = ψ⁽²⁾(x)
            Op::Trigamma([x]) => {
                let two = b.num(2.0);
                let f = b.node(Op::Polygamma([two, vl(x)]));
                b.mul(f, d(x))
            }
            // ψ⁽ⁿ⁾'(x) = ψ⁽ⁿ⁺¹⁾(x); the order is a constant (checked when the model is built)
            Op::Polygamma([k, x]) => {
                let one = b.num(1.0);
                let k1 = b.add(vl(k), one);
                let f = b.node(Op::Polygamma([k1, vl(x)]));
                b.mul(f, d(x))
            }
            // σ'(x) = σ(x)(1 − σ(x)) x'
            Op::Sigmoid([x]) => {
                let one = b.num(1.0);
                let c = b.sub(one, v);
                let s = b.mul(v, c);
                b.mul(s, d(x))
            }
            // |x|' = sign(x) x'
            Op::Abs([x]) => {
                let s = b.unary(Op::Sign, vl(x));
                b.mul(s, d(x))
            }
            // sin' = cos
            Op::Sin([x]) => {
                let c = b.unary(Op::Cos, vl(x));
                b.mul(c, d(x))
            }
            // cos' = −sin
            Op::Cos([x]) => {
                let s = b.unary(Op::Sin, vl(x));
                let ns = b.neg(s);
                b.mul(ns, d(x))
            }
        };
        val.push(v);
        der.push(dv);
    }
    b.finish(der[usize::from(expr.root())])
}

/// The simplified derivative `∂expr/∂var` under the given facts.
pub fn derivative_simplified(expr: &Expr, var: Symbol, facts: &Facts) -> Expr {
    simplest(&derivative(expr, var), facts)
}

/// The gradient `(∂expr/∂v₁, …)` over `vars`, each entry simplified.
pub fn gradient(expr: &Expr, vars: &[Symbol], facts: &Facts) -> Vec<Expr> {
    vars.iter()
        .map(|v| derivative_simplified(expr, *v, facts))
        .collect()
}

/// The Hessian of `expr` over `vars`, each entry the simplified derivative of the simplified
/// gradient entry; symmetric by construction (the upper triangle is mirrored).
pub fn hessian(expr: &Expr, vars: &[Symbol], facts: &Facts) -> Vec<Vec<Expr>> {
    hessian_of_gradient(&gradient(expr, vars, facts), vars, facts)
}

/// The Hessian from an already simplified gradient.
pub fn hessian_of_gradient(grad: &[Expr], vars: &[Symbol], facts: &Facts) -> Vec<Vec<Expr>> {
    let d = vars.len();
    let mut h: Vec<Vec<Option<Expr>>> = vec![vec![None; d]; d];
    for i in 0..d {
        for j in i..d {
            let e = derivative_simplified(&grad[i], vars[j], facts);
            h[j][i] = Some(e.clone());
            h[i][j] = Some(e);
        }
    }
    h.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|e| e.unwrap_or_else(|| Expr::num(0.0)))
                .collect()
        })
        .collect()
}

/// The simplified mixed derivative `∂ⁿexpr/∂v₁…∂vₙ`, differentiating in the given order.
pub fn partial(expr: &Expr, vars: &[Symbol], facts: &Facts) -> Expr {
    let mut e = simplify(expr, facts);
    for v in vars {
        e = derivative_simplified(&e, *v, facts);
    }
    e
}

/// The derivatives of a model's log-density: score and Hessian, simplified under the
/// model's domain facts.
#[derive(Debug, Clone)]
pub struct Derivatives {
    /// Parameter names in matrix order.
    pub params: Vec<Symbol>,
    /// The simplified log-density.
    pub logp: Expr,
    /// `s_j = ∂ℓ/∂θ_j`.
    pub score: Vec<Expr>,
    /// `H_jk = ∂²ℓ/∂θ_j∂θ_k`.
    pub hessian: Vec<Vec<Expr>>,
}

/// Score and Hessian of a model's log-density.
///
/// ```
/// use fisher_geometry::{Model, diff};
/// let model = Model::builtin("normal")?;
/// let d = diff::derive(&model);
/// assert_eq!(d.score[0].to_string(), "(x - mu)/sigma^2"); // ∂ℓ/∂μ
/// assert_eq!(d.hessian[0][0].to_string(), "-1/sigma^2"); // ∂²ℓ/∂μ²
/// # Ok::<(), fisher_geometry::ModelError>(())
/// ```
pub fn derive(model: &crate::model::Model) -> Derivatives {
    let facts = Facts::of(model);
    let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
    let logp = simplify(&model.logp, &facts);
    let score = gradient(&model.logp, &params, &facts);
    let hessian = hessian_of_gradient(&score, &params, &facts);
    Derivatives {
        params,
        logp,
        score,
        hessian,
    }
}
