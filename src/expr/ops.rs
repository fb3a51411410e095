//! Operator overloading and function builders on [`Expr`], used by the `model!` macro and by
//! library users who build expressions in Rust.
//!
//! Rust's `^` binds more loosely than `*`, so powers are written `x.pow(2)` (`x^2`).

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::{Expr, Op};

impl Expr {
    /// `self ^ exponent`.
    pub fn pow(&self, exponent: impl Into<Expr>) -> Expr {
        let exponent = exponent.into();
        Expr::apply(|ids| Op::Pow([ids[0], ids[1]]), &[self, &exponent])
    }
}

impl From<f64> for Expr {
    fn from(v: f64) -> Expr {
        Expr::num(v)
    }
}

impl From<i32> for Expr {
    fn from(v: i32) -> Expr {
        Expr::num(f64::from(v))
    }
}

impl From<&Expr> for Expr {
    fn from(e: &Expr) -> Expr {
        e.clone()
    }
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $variant:ident) => {
        impl<R: Into<Expr>> $trait<R> for Expr {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr {
                let rhs = rhs.into();
                Expr::apply(|ids| Op::$variant([ids[0], ids[1]]), &[&self, &rhs])
            }
        }
        impl<R: Into<Expr>> $trait<R> for &Expr {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr {
                let rhs = rhs.into();
                Expr::apply(|ids| Op::$variant([ids[0], ids[1]]), &[self, &rhs])
            }
        }
        impl $trait<Expr> for f64 {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                Expr::num(self).$method(rhs)
            }
        }
        impl $trait<&Expr> for f64 {
            type Output = Expr;
            fn $method(self, rhs: &Expr) -> Expr {
                Expr::num(self).$method(rhs)
            }
        }
        impl $trait<Expr> for i32 {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                Expr::from(self).$method(rhs)
            }
        }
        impl $trait<&Expr> for i32 {
            type Output = Expr;
            fn $method(self, rhs: &Expr) -> Expr {
                Expr::from(self).$method(rhs)
            }
        }
    };
}

binary_op!(Add, add, Add);
binary_op!(Sub, sub, Sub);
binary_op!(Mul, mul, Mul);
binary_op!(Div, div, Div);

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::apply(|ids| Op::Neg([ids[0]]), &[&self])
    }
}

impl Neg for &Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::apply(|ids| Op::Neg([ids[0]]), &[self])
    }
}

macro_rules! unary_fn {
    ($(#[$doc:meta])* $name:ident, $variant:ident) => {
        $(#[$doc])*
        pub fn $name(x: impl Into<Expr>) -> Expr {
            let x = x.into();
            Expr::apply(|ids| Op::$variant([ids[0]]), &[&x])
        }
    };
}

unary_fn!(
    /// Natural logarithm `ln(x)`.
    ln, Ln);
unary_fn!(
    /// Natural logarithm, the alias `log(x)`.
    log, Ln);
unary_fn!(
    /// `exp(x)`.
    exp, Exp);
unary_fn!(
    /// `sqrt(x)`.
    sqrt, Sqrt);
unary_fn!(
    /// `log1p(x) = ln(1 + x)`.
    log1p, Log1p);
unary_fn!(
    /// `expm1(x) = e^x − 1`, accurate for small `x`.
    expm1, Expm1);
unary_fn!(
    /// `lgamma(x) = ln Γ(x)`.
    lgamma, Lgamma);
unary_fn!(
    /// The digamma function ψ(x).
    digamma, Digamma);
unary_fn!(
    /// The trigamma function ψ₁(x).
    trigamma, Trigamma);
unary_fn!(
    /// The logistic function `sigmoid(x) = 1/(1 + exp(-x))`.
    sigmoid, Sigmoid);
unary_fn!(
    /// `abs(x)`.
    abs, Abs);
unary_fn!(
    /// `sin(x)`.
    sin, Sin);
unary_fn!(
    /// `cos(x)`.
    cos, Cos);

/// The polygamma function ψ⁽ⁿ⁾(x), `n` a non-negative integer.
pub fn polygamma(n: u32, x: impl Into<Expr>) -> Expr {
    let x = x.into();
    let n = Expr::num(f64::from(n));
    Expr::apply(|ids| Op::Polygamma([ids[0], ids[1]]), &[&n, &x])
}
