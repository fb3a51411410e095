//! The declarations of a model before checking, as a model file or the
//! [`model!`](crate::model!) macro states them: the input of [`Model::try_new`].

use egg::Symbol;

use super::Span;
#[cfg(doc)]
use super::types::Model;
use super::types::{Domain, Support};
use crate::expr::{Expr, Op};

/// A bound of an `int[LO, HI]` support before constants are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum IntBound {
    /// An integer.
    Int(i64),
    /// The name of a `const`.
    Const(Symbol),
    /// Anything else (only the `model!` macro can produce it; it is rejected).
    Invalid,
}

impl From<i64> for IntBound {
    fn from(v: i64) -> Self {
        IntBound::Int(v)
    }
}

impl From<i32> for IntBound {
    fn from(v: i32) -> Self {
        IntBound::Int(i64::from(v))
    }
}

impl From<&Expr> for IntBound {
    fn from(e: &Expr) -> Self {
        match e.root_op() {
            Op::Sym(s) => IntBound::Const(*s),
            _ => IntBound::Invalid,
        }
    }
}

/// The support of a data variable before constants are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum SupportDecl {
    /// A support without bounds (not [`Support::Int`]).
    Fixed(Support),
    /// `int[LO, HI]`.
    Int(IntBound, IntBound),
}

/// What one declaration declares (see [`Declaration`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `model NAME`
    Name(String),
    /// `const NAME = EXPR`
    Const(Symbol, Expr),
    /// `data NAME : SUPPORT`
    Data(Symbol, SupportDecl),
    /// `param NAME : DOMAIN`
    Param(Symbol, Domain),
    /// `let NAME = EXPR`
    Let(Symbol, Expr),
    /// `logp = EXPR`
    Logp(Expr),
}

/// One declaration of a model as a file or the [`model!`](crate::model!) macro states it,
/// before checking; the input of [`Model::try_new`].
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// What it declares.
    pub item: Item,
    /// The span of the declared name (of the keyword for `logp`).
    pub span: Span,
    /// The span of the value, support or domain.
    pub value_span: Span,
}

impl Declaration {
    /// A declaration without source positions.
    pub fn new(item: Item) -> Self {
        Declaration {
            item,
            span: 0..0,
            value_span: 0..0,
        }
    }

    /// `model NAME`.
    pub fn name(name: &str) -> Self {
        Declaration::new(Item::Name(name.to_string()))
    }

    /// `const NAME = VALUE`.
    pub fn constant(name: &str, value: impl Into<Expr>) -> Self {
        Declaration::new(Item::Const(Symbol::from(name), value.into()))
    }

    /// `data NAME : SUPPORT`.
    pub fn data(name: &str, support: SupportDecl) -> Self {
        Declaration::new(Item::Data(Symbol::from(name), support))
    }

    /// `param NAME : DOMAIN`.
    pub fn param(name: &str, domain: Domain) -> Self {
        Declaration::new(Item::Param(Symbol::from(name), domain))
    }

    /// `let NAME = VALUE`.
    pub fn define(name: &str, value: impl Into<Expr>) -> Self {
        Declaration::new(Item::Let(Symbol::from(name), value.into()))
    }

    /// `logp = VALUE`.
    pub fn logp(value: impl Into<Expr>) -> Self {
        Declaration::new(Item::Logp(value.into()))
    }
}
