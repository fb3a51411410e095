//! Lexer, span-carrying syntax tree and Pratt parser of the model language (DESIGN §2).
//!
//! [`parse`] turns source text into a [`File`] of declarations; names are not resolved here
//! (that is [`mod@crate::model`]'s job). Every error is a [`ParseError`] with the byte span of the
//! offending text.
//!
//! Numbers are `2`, `0.5`, `1e-3`, `2.5E+4`; a number must start with a digit (`.5` is
//! rejected as a malformed number) and must not end with a dot (`1.`). Expressions nest at
//! most [`MAX_DEPTH`] levels (parentheses, calls, unary minus, right operands of `^`), so the
//! parser's recursion is bounded; chains of `+ - * /` are parsed by loops.

pub mod ast;
mod lexer;
mod parser;

use std::ops::Range;

use thiserror::Error;

pub use ast::{
    Ast, BinOp, Bound, BoundKind, Decl, DeclKind, DomainKw, File, Ident, Node, NodeId, NodeKind,
    SupportKw,
};
pub use lexer::{Token, TokenKind, lex};
pub use parser::parse;

/// A byte range `start..end` into the source; always on `char` boundaries.
pub type Span = Range<usize>;

/// The maximum nesting depth of an expression: parentheses, calls, unary minus and right
/// operands of `^` each add a level.
pub const MAX_DEPTH: usize = 200;

/// An error of the lexer or parser, with the span of the offending text.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{kind}")]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Where, as a byte range into the source.
    pub span: Span,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, span: Span) -> Self {
        ParseError { kind, span }
    }
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    /// A character that is not part of the language.
    #[error("unexpected character `{0}`")]
    UnexpectedChar(char),
    /// A number such as `1e`, `1.2.3`, `3x` or `.5`.
    #[error("malformed number `{0}`")]
    MalformedNumber(String),
    /// A number too large for an `f64` (or an integer bound too large for an `i64`).
    #[error("number `{0}` is out of range")]
    NumberOutOfRange(String),
    /// A token other than the one the grammar requires.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the grammar requires here, e.g. "`)`" or "an expression".
        expected: String,
        /// What was found, e.g. "`+`" or "end of line".
        found: String,
    },
    /// `interval(LO, HI)` with `LO ≥ HI`.
    #[error("empty interval `interval({lo}, {hi})`: the lower bound must be below the upper bound")]
    EmptyInterval {
        /// The lower bound as written.
        lo: String,
        /// The upper bound as written.
        hi: String,
    },
    /// More than [`MAX_DEPTH`] levels of nesting.
    #[error("expression nested too deeply (more than {MAX_DEPTH} levels)")]
    TooDeep,
}
