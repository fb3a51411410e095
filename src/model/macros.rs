//! The `model!` macro: a model declared in Rust with the lines of a model file.

/// Declares a [`Model`](crate::Model) in Rust, with the same lines as a model file ending in `;`, and
/// returns `Result<Model, ModelError>` from the same checks as [`Model::parse`](crate::Model::parse).
///
/// Each declared name is bound to a local `&Expr`, so the `const`, `let` and `logp`
/// right-hand sides are ordinary Rust expressions built with operator overloading and the
/// function builders of [`crate::expr`] (`ln`, `exp`, `lgamma`, …), which the macro
/// imports; `pi` and `e` are in scope too. Write powers as `.pow(2)`: Rust's `^` has the
/// wrong precedence. `int[LO, HI]` bounds are integers or declared constants.
///
/// ```
/// let m = fisher_geometry::model! {
///     model normal;
///     data x: real;
///     param mu: real;
///     param sigma: positive;
///     let z = (x - mu) / sigma;
///     logp = -0.5 * z.pow(2) - ln(sigma) - 0.5 * ln(2.0 * pi);
/// }?;
/// assert_eq!(m.param_names(), ["mu".into(), "sigma".into()]); // F = diag(1/σ², 2/σ²)
/// # Ok::<(), fisher_geometry::ModelError>(())
/// ```
///
/// A misspelled name does not compile:
///
/// ```compile_fail
/// let m = fisher_geometry::model! {
///     data x: real;
///     param sigma: positive;
///     logp = -x / sigam;
/// };
/// ```
///
/// # Errors
///
/// The errors of [`Model::try_new`](crate::Model::try_new): a parameter that does not occur in `logp`, a data
/// variable in a `const`, a repeated `logp`, … (with the empty span `0..0`).
#[macro_export]
macro_rules! model {
    ($($body:tt)*) => {{
        #[allow(unused_imports)]
        use $crate::expr::{
            abs, cos, digamma, exp, expm1, lgamma, ln, log, log1p, polygamma, sigmoid, sin, sqrt,
            trigamma,
        };
        #[allow(unused_imports)]
        use $crate::macro_support::{e, pi};
        $crate::__model_bind!($($body)*);
        let mut decls: ::std::vec::Vec<$crate::Declaration> = ::std::vec::Vec::new();
        $crate::__model_items!(decls; $($body)*);
        $crate::Model::try_new("model", &decls)
    }};
}

/// Binds each declared name of a `model!` body to a local `&Expr`.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_bind {
    () => {};
    (model $name:ident ; $($rest:tt)*) => { $crate::__model_bind!($($rest)*); };
    (logp = $v:expr ; $($rest:tt)*) => { $crate::__model_bind!($($rest)*); };
    (const $n:ident = $v:expr ; $($rest:tt)*) => {
        #[allow(unused_variables)]
        let $n = &$crate::Expr::sym(stringify!($n));
        $crate::__model_bind!($($rest)*);
    };
    (let $n:ident = $v:expr ; $($rest:tt)*) => {
        #[allow(unused_variables)]
        let $n = &$crate::Expr::sym(stringify!($n));
        $crate::__model_bind!($($rest)*);
    };
    (data $n:ident : int [ $lo:expr , $hi:expr ] ; $($rest:tt)*) => {
        #[allow(unused_variables)]
        let $n = &$crate::Expr::sym(stringify!($n));
        $crate::__model_bind!($($rest)*);
    };
    (data $n:ident : $s:ident ; $($rest:tt)*) => {
        #[allow(unused_variables)]
        let $n = &$crate::Expr::sym(stringify!($n));
        $crate::__model_bind!($($rest)*);
    };
    (param $n:ident : interval ( $lo:expr , $hi:expr ) ; $($rest:tt)*) => {
        #[allow(unused_variables)]
        let $n = &$crate::Expr::sym(stringify!($n));
        $crate::__model_bind!($($rest)*);
    };
    (param $n:ident : $d:ident ; $($rest:tt)*) => {
        #[allow(unused_variables)]
        let $n = &$crate::Expr::sym(stringify!($n));
        $crate::__model_bind!($($rest)*);
    };
}

/// Pushes one [`Declaration`](super::Declaration) per line of a `model!` body.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_items {
    ($d:ident;) => {};
    ($d:ident; model $name:ident ; $($rest:tt)*) => {
        $d.push($crate::Declaration::name(stringify!($name)));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; logp = $v:expr ; $($rest:tt)*) => {
        $d.push($crate::Declaration::logp($v));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; const $n:ident = $v:expr ; $($rest:tt)*) => {
        $d.push($crate::Declaration::constant(stringify!($n), $v));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; let $n:ident = $v:expr ; $($rest:tt)*) => {
        $d.push($crate::Declaration::define(stringify!($n), $v));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; data $n:ident : int [ $lo:expr , $hi:expr ] ; $($rest:tt)*) => {
        $d.push($crate::Declaration::data(
            stringify!($n),
            $crate::SupportDecl::Int(
                $crate::IntBound::from($lo),
                $crate::IntBound::from($hi),
            ),
        ));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; data $n:ident : $s:ident ; $($rest:tt)*) => {
        $d.push($crate::Declaration::data(
            stringify!($n),
            $crate::SupportDecl::Fixed($crate::__model_support!($s)),
        ));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; param $n:ident : interval ( $lo:expr , $hi:expr ) ; $($rest:tt)*) => {
        $d.push($crate::Declaration::param(
            stringify!($n),
            $crate::Domain::interval(f64::from($lo), f64::from($hi)),
        ));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; param $n:ident : $dom:ident ; $($rest:tt)*) => {
        $d.push($crate::Declaration::param(stringify!($n), $crate::__model_domain!($dom)));
        $crate::__model_items!($d; $($rest)*);
    };
}

/// A support keyword of a `model!` body.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_support {
    (real) => {
        $crate::Support::Real
    };
    (positive) => {
        $crate::Support::Positive
    };
    (unit) => {
        $crate::Support::Unit
    };
    (binary) => {
        $crate::Support::Binary
    };
    (count) => {
        $crate::Support::Count
    };
}

/// A domain keyword of a `model!` body.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_domain {
    (real) => {
        $crate::Domain::Real
    };
    (positive) => {
        $crate::Domain::Positive
    };
    (unit) => {
        $crate::Domain::Unit
    };
}

/// The constants `pi` and `e` as values that combine with [`Expr`](crate::Expr)s, `f64` and `i32` under
/// the arithmetic operators; the `model!` macro imports them.
#[doc(hidden)]
pub mod macro_support {
    #![allow(non_camel_case_types)] // named as written in model files
    use std::ops::{Add, Div, Mul, Neg, Sub};

    use crate::expr::Expr;

    /// π in a `model!` body.
    #[derive(Debug, Clone, Copy)]
    pub struct pi;

    /// Euler's number in a `model!` body.
    #[derive(Debug, Clone, Copy)]
    pub struct e;

    impl From<pi> for Expr {
        fn from(_: pi) -> Expr {
            Expr::pi()
        }
    }

    impl From<e> for Expr {
        fn from(_: e) -> Expr {
            Expr::e()
        }
    }

    macro_rules! constant_ops {
        ($t:ident: $($trait:ident $method:ident),*) => {
            $(
                impl<R: Into<Expr>> $trait<R> for $t {
                    type Output = Expr;
                    fn $method(self, rhs: R) -> Expr {
                        Expr::from(self).$method(rhs)
                    }
                }
                impl $trait<$t> for f64 {
                    type Output = Expr;
                    fn $method(self, rhs: $t) -> Expr {
                        Expr::num(self).$method(Expr::from(rhs))
                    }
                }
                impl $trait<$t> for i32 {
                    type Output = Expr;
                    fn $method(self, rhs: $t) -> Expr {
                        Expr::from(self).$method(Expr::from(rhs))
                    }
                }
            )*
            impl Neg for $t {
                type Output = Expr;
                fn neg(self) -> Expr {
                    -Expr::from(self)
                }
            }
            impl $t {
                /// `self ^ exponent`.
                pub fn pow(self, exponent: impl Into<Expr>) -> Expr {
                    Expr::from(self).pow(exponent)
                }
            }
        };
    }

    constant_ops!(pi: Add add, Sub sub, Mul mul, Div div);
    constant_ops!(e: Add add, Sub sub, Mul mul, Div div);
}
