//! From syntax tree to [`Model`]: parameters, data variables with their supports, constants,
//! and the log-density with every `let` inlined. [`ModelError`] carries the span of the
//! offending text. The `model!` macro declares the same thing in Rust.

use egg::Symbol;

use crate::expr::Expr;

/// The domain of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// The real line.
    Real,
    /// `(0, ∞)`.
    Positive,
    /// The open unit interval `(0, 1)`.
    Unit,
}

/// The support of a data variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Support {
    /// The real line.
    Real,
    /// `(0, ∞)`.
    Positive,
    /// The open interval `(0, 1)`.
    Unit,
    /// `{0, 1}`.
    Binary,
    /// `{0, 1, 2, …}`.
    Count,
    /// `{lo, …, hi}`.
    Int(i64, i64),
}

/// A parameter declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: Symbol,
    /// Its domain.
    pub domain: Domain,
}

/// A data-variable declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct DataVar {
    /// Its name.
    pub name: Symbol,
    /// Its support.
    pub support: Support,
}

/// A parsed, checked model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The model's name (`model NAME`, or the file stem).
    pub name: String,
    /// Parameters in matrix order.
    pub params: Vec<Param>,
    /// Data variables in declaration order.
    pub data: Vec<DataVar>,
    /// Constants with their values, in declaration order.
    pub consts: Vec<(Symbol, f64)>,
    /// `let` definitions as written (each may use earlier ones), in declaration order.
    pub lets: Vec<(Symbol, Expr)>,
    /// The log-density with every `let` inlined; constants stay as names.
    pub logp: Expr,
}
