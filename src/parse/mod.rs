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
mod source;

use std::ops::Range;

use thiserror::Error;

pub use ast::{Ast, BinOp, Bound, BoundKind, DeclKind, DomainKw, NodeKind, SupportKw};
pub use parser::parse;
pub use source::{decode, display_text};

/// A byte range `start..end` into the source; always on `char` boundaries.
pub type Span = Range<usize>;

/// The maximum nesting depth of an expression: parentheses, calls, unary minus and right
/// operands of `^` each add a level.
pub const MAX_DEPTH: usize = 200;

/// The longest name, in characters (every name is ASCII, so also in bytes). Names label
/// every row of the printed matrices and become JSON keys and LaTeX; 255 is far beyond any
/// real name (the usual limit of file names) and keeps that output, and the did-you-mean
/// search, small. A longer name is refused where it is written.
pub const MAX_NAME_LEN: usize = 255;

/// The most nodes (numbers, names, operators, calls) in one expression as written. A
/// million-term sum is refused where it is written instead of tying up the simplifier for
/// minutes: a model of this size is machine-generated, and far beyond what the symbolic
/// pipeline is built for.
pub const MAX_NODES: usize = 200_000;

/// The most nodes of `logp` written out as a tree with every `let` inlined. Chains of `let`s
/// stay shared subexpressions through derivation, simplification and printing, so this is
/// far above [`MAX_NODES`]: ten `let`s that each use the one before twice or three times are
/// fine; forty that double are not.
pub const MAX_INLINED_TREE: usize = 10_000_000;

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

/// A character as shown in a message: control characters (a NUL, a tab) as `\u{0}`.
fn shown(c: char) -> String {
    if c.is_control() {
        c.escape_unicode().to_string()
    } else {
        c.to_string()
    }
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    /// A character that is not part of the language.
    #[error("unexpected character `{}`", shown(*.0))]
    UnexpectedChar(char),
    /// A file that looks like UTF-16 (a model file is UTF-8).
    #[error("the file looks like UTF-16 ({byte_order}); save it as UTF-8")]
    Utf16 {
        /// `"little-endian"` or `"big-endian"`.
        byte_order: &'static str,
    },
    /// A byte that is not UTF-8 (often Latin-1 or Windows-1252 text).
    #[error(
        "the file is not valid UTF-8: byte `0x{byte:02X}` {}; save the file as UTF-8",
        if *.truncated { "starts a character that the file cuts off" } else { "is not UTF-8 here (Latin-1 or Windows-1252 text?)" }
    )]
    InvalidUtf8 {
        /// The first bad byte.
        byte: u8,
        /// Whether it starts a multi-byte sequence cut off by the end of the file.
        truncated: bool,
    },
    /// A name longer than [`MAX_NAME_LEN`] characters.
    #[error("name of {0} characters is too long (at most {MAX_NAME_LEN})")]
    NameTooLong(usize),
    /// An expression of more than [`MAX_NODES`] nodes.
    #[error("expression too large (more than {MAX_NODES} numbers, names and operators)")]
    TooLarge,
    /// A non-zero number literal too small for an `f64`: it would round to 0.
    #[error(
        "number `{0}` underflows: it is not zero but too small for a 64-bit float, which would round it to 0"
    )]
    NumberUnderflow(String),
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
