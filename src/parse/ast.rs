//! The span-carrying syntax tree of a model file.
//!
//! An expression is an [`Ast`]: a flat arena of [`Node`]s in which every child comes before
//! its parent, so it can be walked (and dropped) without recursion however long a chain of
//! `+` it holds.

use super::Span;

/// An identifier with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// Index of a node in its [`Ast`].
pub type NodeId = usize;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^` (right-associative)
    Pow,
}

/// One node of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A numeric literal.
    Num(f64),
    /// A name (`mu`, `pi`, `e`, …), not yet resolved.
    Name(String),
    /// Unary minus.
    Neg(NodeId),
    /// A binary operation.
    Binary(BinOp, NodeId, NodeId),
    /// A call `name(args)`.
    Call {
        /// The function name.
        name: Ident,
        /// The arguments.
        args: Vec<NodeId>,
    },
}

/// A node and the span of the text it was parsed from (without enclosing parentheses).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: NodeKind,
    /// Where it is.
    pub span: Span,
}

/// An expression: nodes with children before parents; the root is `nodes[root]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ast {
    /// The nodes.
    pub nodes: Vec<Node>,
    /// The index of the root.
    pub root: NodeId,
}

impl Ast {
    /// The span of the whole expression.
    pub fn span(&self) -> Span {
        self.nodes.get(self.root).map_or(0..0, |n| n.span.clone())
    }
}

/// A bound of `int[LO, HI]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundKind {
    /// An integer literal, possibly negative.
    Int(i64),
    /// The name of a constant.
    Name(String),
}

/// A bound with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The bound.
    pub kind: BoundKind,
    /// Where it is.
    pub span: Span,
}

/// The support keyword of a `data` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupportKw {
    /// `real`
    Real,
    /// `positive`
    Positive,
    /// `unit`
    Unit,
    /// `binary`
    Binary,
    /// `count`
    Count,
    /// `int[LO, HI]`
    Int(Bound, Bound),
}

/// The domain keyword of a `param` declaration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DomainKw {
    /// `real`
    Real,
    /// `positive`
    Positive,
    /// `unit`
    Unit,
    /// `interval(LO, HI)`, the open interval; `LO < HI`, both finite.
    Interval(f64, f64),
}

/// What a declaration line declares.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclKind {
    /// `model NAME`
    Model(Ident),
    /// `const NAME = EXPR`
    Const(Ident, Ast),
    /// `data NAME, … : SUPPORT`
    Data(Vec<Ident>, SupportKw, Span),
    /// `param NAME, … : DOMAIN`
    Param(Vec<Ident>, DomainKw),
    /// `let NAME = EXPR`
    Let(Ident, Ast),
    /// `logp = EXPR`
    Logp(Ast),
}

/// A declaration with the span of its keyword.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    /// What it declares.
    pub kind: DeclKind,
    /// The span of the leading keyword (`model`, `const`, …, `logp`).
    pub keyword: Span,
}

/// A parsed model file: its declarations in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    /// The declarations.
    pub decls: Vec<Decl>,
}
