//! The operator table: every operator of the model language, described once.
//!
//! Differentiation (`diff`), evaluation (`eval`) and rendering (`render`) are exhaustive
//! `match`es over [`Op`], so a new operator fails to compile until every stage handles it.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use egg::Id;

/// A numeric literal: an `f64` with total order and hashing by bit pattern, so it can live in
/// an e-graph. `-0.0` is normalized to `0.0` and NaN is never constructed by the library.
#[derive(Debug, Clone, Copy)]
pub struct Constant(f64);

impl Constant {
    /// Wraps a finite value; `-0.0` becomes `0.0`.
    pub fn new(value: f64) -> Self {
        Constant(if value == 0.0 { 0.0 } else { value })
    }

    /// The value.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl PartialEq for Constant {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for Constant {}
impl PartialOrd for Constant {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Constant {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl Hash for Constant {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}
impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::number::fmt_number(self.0, f)
    }
}
impl FromStr for Constant {
    type Err = std::num::ParseFloatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<f64>().map(Constant::new)
    }
}

pub use lang::Op;

mod lang {
    // The variants are documented by the operator table, `Op::info`.
    #![allow(missing_docs)]
    use super::Constant;
    use egg::{Id, Symbol, define_language};

    define_language! {
        /// One node of an expression. Leaves are numbers, names and the constants `pi` and `e`;
        /// the rest are the arithmetic operators and the functions of the model language.
        pub enum Op {
            "pi" = Pi,
            "e" = Euler,
            "+" = Add([Id; 2]),
            "-" = Sub([Id; 2]),
            "*" = Mul([Id; 2]),
            "/" = Div([Id; 2]),
            "^" = Pow([Id; 2]),
            "neg" = Neg([Id; 1]),
            "ln" = Ln([Id; 1]),
            "exp" = Exp([Id; 1]),
            "sqrt" = Sqrt([Id; 1]),
            "log1p" = Log1p([Id; 1]),
            "expm1" = Expm1([Id; 1]),
            "lgamma" = Lgamma([Id; 1]),
            "digamma" = Digamma([Id; 1]),
            "trigamma" = Trigamma([Id; 1]),
            "polygamma" = Polygamma([Id; 2]),
            "sigmoid" = Sigmoid([Id; 1]),
            "abs" = Abs([Id; 1]),
            "sign" = Sign([Id; 1]),
            "sin" = Sin([Id; 1]),
            "cos" = Cos([Id; 1]),
            Num(Constant),
            Sym(Symbol),
        }
    }
}

/// How an operator is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixity {
    /// A number, a name, `pi` or `e`.
    Leaf,
    /// A binary infix operator with its binding power; `right` for right-associative `^`.
    Infix {
        /// Binding power: `+ -` 1, `* /` 2, `^` 4.
        prec: u8,
        /// Whether `a op b op c` groups as `a op (b op c)`.
        right: bool,
    },
    /// Unary minus, binding power 3 (so `-x^2` is `-(x^2)`).
    Prefix,
    /// A function call `name(args)`.
    Function,
}

/// The row of the operator table for one operator.
#[derive(Debug, Clone, Copy)]
pub struct OpInfo {
    /// The name in the model language (the symbol for infix operators).
    pub name: &'static str,
    /// Number of arguments.
    pub arity: usize,
    /// How it is written.
    pub fixity: Fixity,
    /// LaTeX for functions (`\ln`), or the infix symbol.
    pub latex: &'static str,
}

/// Binding power of `+` and `-`.
pub const PREC_ADD: u8 = 1;
/// Binding power of `*` and `/`.
pub const PREC_MUL: u8 = 2;
/// Binding power of unary minus.
pub const PREC_NEG: u8 = 3;
/// Binding power of `^`.
pub const PREC_POW: u8 = 4;

const fn infix(name: &'static str, prec: u8, right: bool, latex: &'static str) -> OpInfo {
    OpInfo {
        name,
        arity: 2,
        fixity: Fixity::Infix { prec, right },
        latex,
    }
}
const fn func(name: &'static str, arity: usize, latex: &'static str) -> OpInfo {
    OpInfo {
        name,
        arity,
        fixity: Fixity::Function,
        latex,
    }
}
const fn leaf(name: &'static str, latex: &'static str) -> OpInfo {
    OpInfo {
        name,
        arity: 0,
        fixity: Fixity::Leaf,
        latex,
    }
}

/// The functions callable in the model language, with their arity, in table order.
/// `log` is an alias of `ln`; `polygamma(n, x)` and `sign(x)` are extensions that derivatives
/// produce and that users may write too.
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("ln", 1),
    ("log", 1),
    ("exp", 1),
    ("sqrt", 1),
    ("log1p", 1),
    ("expm1", 1),
    ("lgamma", 1),
    ("digamma", 1),
    ("trigamma", 1),
    ("polygamma", 2),
    ("sigmoid", 1),
    ("abs", 1),
    ("sign", 1),
    ("sin", 1),
    ("cos", 1),
];

impl Op {
    /// The operator-table row of this operator.
    pub fn info(&self) -> OpInfo {
        match self {
            Op::Pi => leaf("pi", "\\pi"),
            Op::Euler => leaf("e", "e"),
            Op::Num(_) => leaf("", ""),
            Op::Sym(_) => leaf("", ""),
            Op::Add(_) => infix("+", PREC_ADD, false, "+"),
            Op::Sub(_) => infix("-", PREC_ADD, false, "-"),
            Op::Mul(_) => infix("*", PREC_MUL, false, "\\,"),
            Op::Div(_) => infix("/", PREC_MUL, false, "\\frac"),
            Op::Pow(_) => infix("^", PREC_POW, true, "^"),
            Op::Neg(_) => OpInfo {
                name: "-",
                arity: 1,
                fixity: Fixity::Prefix,
                latex: "-",
            },
            Op::Ln(_) => func("ln", 1, "\\ln"),
            Op::Exp(_) => func("exp", 1, "\\exp"),
            Op::Sqrt(_) => func("sqrt", 1, "\\sqrt"),
            Op::Log1p(_) => func("log1p", 1, "\\operatorname{log1p}"),
            Op::Expm1(_) => func("expm1", 1, "\\operatorname{expm1}"),
            Op::Lgamma(_) => func("lgamma", 1, "\\ln\\Gamma"),
            Op::Digamma(_) => func("digamma", 1, "\\psi"),
            Op::Trigamma(_) => func("trigamma", 1, "\\psi_{1}"),
            Op::Polygamma(_) => func("polygamma", 2, "\\psi"),
            Op::Sigmoid(_) => func("sigmoid", 1, "\\sigma"),
            Op::Abs(_) => func("abs", 1, "\\left|"),
            Op::Sign(_) => func("sign", 1, "\\operatorname{sign}"),
            Op::Sin(_) => func("sin", 1, "\\sin"),
            Op::Cos(_) => func("cos", 1, "\\cos"),
        }
    }

    /// Builds the function node `name(args)` for a model-language function name, or `None`
    /// if the name is not a function or the arity is wrong.
    pub fn function(name: &str, args: &[Id]) -> Option<Op> {
        let op = match (name, args) {
            ("ln" | "log", &[a]) => Op::Ln([a]),
            ("exp", &[a]) => Op::Exp([a]),
            ("sqrt", &[a]) => Op::Sqrt([a]),
            ("log1p", &[a]) => Op::Log1p([a]),
            ("expm1", &[a]) => Op::Expm1([a]),
            ("lgamma", &[a]) => Op::Lgamma([a]),
            ("digamma", &[a]) => Op::Digamma([a]),
            ("trigamma", &[a]) => Op::Trigamma([a]),
            ("polygamma", &[n, a]) => Op::Polygamma([n, a]),
            ("sigmoid", &[a]) => Op::Sigmoid([a]),
            ("abs", &[a]) => Op::Abs([a]),
            ("sign", &[a]) => Op::Sign([a]),
            ("sin", &[a]) => Op::Sin([a]),
            ("cos", &[a]) => Op::Cos([a]),
            _ => return None,
        };
        Some(op)
    }

    /// The arity of a model-language function name, if it is one.
    pub fn function_arity(name: &str) -> Option<usize> {
        FUNCTIONS.iter().find(|(n, _)| *n == name).map(|&(_, a)| a)
    }
}
