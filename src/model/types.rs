//! The checked model and its parts: [`Model`], [`Param`] with its [`Domain`], [`DataVar`] with
//! its [`Support`]; the queries on a model, and its printing in the model language.

use std::collections::HashMap;
use std::fmt;

use egg::Symbol;

use crate::expr::{Constant, Expr};

/// The domain of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// The real line.
    Real,
    /// `(0, ∞)`.
    Positive,
    /// The open unit interval `(0, 1)`.
    Unit,
    /// The open interval `(lo, hi)`, `interval(lo, hi)` in a model file (a correlation is
    /// `interval(-1, 1)`); finite bounds with `lo < hi`.
    Interval(Constant, Constant),
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

impl Model {
    /// The parameter names in matrix order.
    pub fn param_names(&self) -> Vec<Symbol> {
        self.params.iter().map(|p| p.name).collect()
    }

    /// The data-variable names in declaration order.
    pub fn data_names(&self) -> Vec<Symbol> {
        self.data.iter().map(|d| d.name).collect()
    }

    /// The index of a parameter in matrix order.
    pub fn param_index(&self, name: Symbol) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// The value of a constant.
    pub fn const_value(&self, name: Symbol) -> Option<f64> {
        self.consts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }

    /// The values of all constants, keyed by name (collect it into an [`Env`](crate::eval::Env) for
    /// [`eval_f64`](crate::eval::eval_f64)).
    pub fn const_env(&self) -> HashMap<Symbol, f64> {
        self.consts.iter().copied().collect()
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Real => f.write_str("real"),
            Domain::Positive => f.write_str("positive"),
            Domain::Unit => f.write_str("unit"),
            Domain::Interval(lo, hi) => write!(
                f,
                "interval({}, {})",
                crate::expr::number(lo.value()),
                crate::expr::number(hi.value())
            ),
        }
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Support::Real => f.write_str("real"),
            Support::Positive => f.write_str("positive"),
            Support::Unit => f.write_str("unit"),
            Support::Binary => f.write_str("binary"),
            Support::Count => f.write_str("count"),
            Support::Int(lo, hi) => write!(f, "int[{lo}, {hi}]"),
        }
    }
}

impl fmt::Display for Model {
    /// Prints the model in the model language: name, constants (as values), data,
    /// parameters, `let`s as written, and `logp` with the `let`s inlined.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "model {}", self.name)?;
        for (n, v) in &self.consts {
            writeln!(f, "const {n} = {}", crate::expr::number(*v))?;
        }
        for d in &self.data {
            writeln!(f, "data {} : {}", d.name, d.support)?;
        }
        for p in &self.params {
            writeln!(f, "param {} : {}", p.name, p.domain)?;
        }
        for (n, e) in &self.lets {
            writeln!(f, "let {n} = {}", crate::expr::text(e))?;
        }
        writeln!(f, "logp = {}", crate::expr::text(&self.logp))
    }
}
