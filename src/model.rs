//! From syntax tree to [`Model`]: parameters, data variables with their supports, constants,
//! and the log-density with every `let` inlined. [`ModelError`] carries the span of the
//! offending text. The [`model!`](crate::model!) macro declares the same thing in Rust.
//!
//! Both forms end in [`Model::try_new`], which runs the checks that do not need source
//! positions (duplicates, constants, bounds, `logp` given once, every parameter and data
//! variable used); the file form first resolves every name against the declarations, so its
//! errors point at the exact text.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use egg::Symbol;
use thiserror::Error;

use crate::expr::{Builder, Constant, Expr, FUNCTIONS, Op, special};
use crate::parse::{
    self, Ast, BinOp, BoundKind, DeclKind, DomainKw, NodeKind, ParseError, ParseErrorKind,
    SupportKw,
};

/// A byte range into the model source (`0..0` for models built by [`model!`](crate::model!)).
pub type Span = Range<usize>;

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

/// An error in a model: what is wrong and the span of the offending text.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{kind}")]
pub struct ModelError {
    /// What went wrong.
    pub kind: ModelErrorKind,
    /// Where, as a byte range into the source (`0..0` when there is no source).
    pub span: Span,
}

impl ModelError {
    fn new(kind: ModelErrorKind, span: Span) -> Self {
        ModelError { kind, span }
    }

    /// The 1-based line and column (in characters) of the start of the span in `source`.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        let mut start = self.span.start.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

impl From<ParseError> for ModelError {
    fn from(e: ParseError) -> Self {
        ModelError::new(ModelErrorKind::Parse(e.kind), e.span)
    }
}

/// `; did you mean `x`?` or nothing.
fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!("; did you mean `{s}`?"))
}

/// The kinds of [`ModelError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelErrorKind {
    /// A lexical or syntax error.
    #[error(transparent)]
    Parse(#[from] ParseErrorKind),
    /// A name that is not declared.
    #[error("unknown name `{name}`{}", did_you_mean(.suggestion))]
    UnknownName {
        /// The name.
        name: String,
        /// A declared name within edit distance 2, if any.
        suggestion: Option<String>,
    },
    /// A call of something that is not a function of the language.
    #[error("unknown function `{name}`{}", did_you_mean(.suggestion))]
    UnknownFunction {
        /// The name.
        name: String,
        /// A function name within edit distance 2, if any.
        suggestion: Option<String>,
    },
    /// A declared name or constant called like a function.
    #[error("`{0}` is not a function")]
    NotAFunction(String),
    /// A function name used as a value.
    #[error("`{0}` is a function; call it as `{0}(...)`")]
    FunctionAsValue(String),
    /// A call with the wrong number of arguments.
    #[error("`{name}` takes {expected} argument{}, found {found}", if *.expected == 1 { "" } else { "s" })]
    WrongArity {
        /// The function.
        name: String,
        /// Its arity.
        expected: usize,
        /// The number of arguments given.
        found: usize,
    },
    /// A name declared twice.
    #[error("`{0}` is declared twice")]
    Duplicate(String),
    /// A declaration of `pi`, `e` or a function name.
    #[error("`{name}` is a built-in {what} and cannot be declared")]
    Reserved {
        /// The name.
        name: String,
        /// "constant" or "function".
        what: &'static str,
    },
    /// A second `model NAME` line.
    #[error("repeated `model` declaration")]
    RepeatedModelName,
    /// No `logp = ...` line.
    #[error("missing `logp = ...` declaration")]
    MissingLogp,
    /// A second `logp = ...` line.
    #[error("repeated `logp`; a model has exactly one")]
    RepeatedLogp,
    /// No parameters declared.
    #[error("the model declares no parameters")]
    NoParams,
    /// A parameter that `logp` does not depend on.
    #[error("parameter `{0}` does not occur in `logp`")]
    UnusedParam(String),
    /// A data variable that `logp` does not depend on.
    #[error("data variable `{0}` does not occur in `logp`")]
    UnusedData(String),
    /// A data variable, parameter or `let` used in a `const`.
    #[error("{what} `{name}` cannot be used in a `const`")]
    NotConstant {
        /// The name.
        name: String,
        /// "data variable", "parameter" or "`let`".
        what: &'static str,
    },
    /// A `let` or `const` used above its definition (or in it).
    #[error("`{0}` is used before its definition")]
    UsedBeforeDefinition(String),
    /// A `const` whose value is infinite or not a number.
    #[error("constant `{name}` is not a finite number (it evaluates to `{value}`)")]
    ConstNotFinite {
        /// The constant.
        name: String,
        /// Its value as text.
        value: String,
    },
    /// An `int[LO, HI]` bound naming something other than a constant.
    #[error("the bound `{0}` is not a `const`")]
    BoundNotConst(String),
    /// An `int[LO, HI]` bound that is not a number (from the `model!` macro).
    #[error("an `int` bound must be an integer or the name of a `const`")]
    BadBound,
    /// An `int[LO, HI]` bound naming a constant that is not an integer.
    #[error("the bound `{name}` is not an integer (its value is `{value}`)")]
    BoundNotInteger {
        /// The constant.
        name: String,
        /// Its value as text.
        value: String,
    },
    /// A parameter domain `interval(LO, HI)` that is empty or unbounded (from
    /// [`model!`](crate::model!); the parser reports it with its location).
    #[error(
        "invalid domain `interval({lo}, {hi})` of `{name}`: the bounds must be finite with the lower below the upper"
    )]
    BadInterval {
        /// The parameter.
        name: String,
        /// The lower bound, formatted.
        lo: String,
        /// The upper bound, formatted.
        hi: String,
    },
    /// `int[LO, HI]` with `LO > HI`.
    #[error("empty support `int[{lo}, {hi}]`: the lower bound exceeds the upper bound")]
    EmptySupport {
        /// The lower bound.
        lo: i64,
        /// The upper bound.
        hi: i64,
    },
    /// [`Model::builtin`] with an unknown name.
    #[error("unknown built-in model `{name}`{}", did_you_mean(.suggestion))]
    UnknownBuiltin {
        /// The name.
        name: String,
        /// A built-in name within edit distance 2, if any.
        suggestion: Option<String>,
    },
    /// A syntax tree whose children do not precede their parents (never from [`parse`]).
    #[error("malformed syntax tree")]
    MalformedTree,
}

/// Levenshtein distance between two strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name` within edit distance 2 (the first one on ties).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        if d <= 2 && d < name.chars().count().max(2) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

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

/// What kind of thing a declared name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Const,
    Data,
    Param,
    Let,
}

/// Where a name is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// In the value of the `const` at this declaration index.
    Const(usize),
    /// In a `let` or `logp` at this declaration index.
    Body(usize),
    /// In an `int[LO, HI]` bound.
    Bound,
}

/// What a name used in an expression stands for.
enum Resolved {
    Sym(Symbol),
    Pi,
    Euler,
}

/// The declared names: kind and declaration index of each, in declaration order.
struct Scope {
    names: HashMap<Symbol, (Kind, usize)>,
    order: Vec<Symbol>,
}

impl Scope {
    /// Collects `(name, kind, declaration index, span)`; rejects duplicates and built-ins.
    fn build(
        entries: impl IntoIterator<Item = (Symbol, Kind, usize, Span)>,
    ) -> Result<Scope, ModelError> {
        let mut scope = Scope {
            names: HashMap::new(),
            order: Vec::new(),
        };
        for (name, kind, index, span) in entries {
            let text = name.as_str();
            if text == "pi" || text == "e" {
                let kind = ModelErrorKind::Reserved {
                    name: text.to_string(),
                    what: "constant",
                };
                return Err(ModelError::new(kind, span));
            }
            if Op::function_arity(text).is_some() {
                let kind = ModelErrorKind::Reserved {
                    name: text.to_string(),
                    what: "function",
                };
                return Err(ModelError::new(kind, span));
            }
            if scope.names.insert(name, (kind, index)).is_some() {
                return Err(ModelError::new(
                    ModelErrorKind::Duplicate(text.to_string()),
                    span,
                ));
            }
            scope.order.push(name);
        }
        Ok(scope)
    }

    /// Resolves a name used in `ctx`.
    fn resolve(&self, name: &str, ctx: Ctx) -> Result<Resolved, ModelErrorKind> {
        let sym = Symbol::from(name);
        let Some(&(kind, index)) = self.names.get(&sym) else {
            return match name {
                "pi" if ctx != Ctx::Bound => Ok(Resolved::Pi),
                "e" if ctx != Ctx::Bound => Ok(Resolved::Euler),
                _ if Op::function_arity(name).is_some() => {
                    Err(ModelErrorKind::FunctionAsValue(name.to_string()))
                }
                _ => {
                    let candidates = self.order.iter().map(|s| s.as_str()).chain(["pi", "e"]);
                    Err(ModelErrorKind::UnknownName {
                        name: name.to_string(),
                        suggestion: closest(name, candidates),
                    })
                }
            };
        };
        let what = match kind {
            Kind::Data => "data variable",
            Kind::Param => "parameter",
            Kind::Let => "`let`",
            Kind::Const => "constant",
        };
        match (ctx, kind) {
            (Ctx::Const(at), Kind::Const) | (Ctx::Body(at), Kind::Let) if index >= at => {
                Err(ModelErrorKind::UsedBeforeDefinition(name.to_string()))
            }
            (Ctx::Const(_), Kind::Data | Kind::Param | Kind::Let) => {
                Err(ModelErrorKind::NotConstant {
                    name: name.to_string(),
                    what,
                })
            }
            (Ctx::Bound, Kind::Data | Kind::Param | Kind::Let) => {
                Err(ModelErrorKind::BoundNotConst(name.to_string()))
            }
            _ => Ok(Resolved::Sym(sym)),
        }
    }

    /// Checks every name of an already-built expression (the `model!` route).
    fn check_expr(&self, e: &Expr, ctx: Ctx, span: &Span) -> Result<(), ModelError> {
        for s in e.symbols() {
            self.resolve(s.as_str(), ctx)
                .map_err(|k| ModelError::new(k, span.clone()))?;
        }
        Ok(())
    }
}

fn scope_entries(decls: &[Declaration]) -> Vec<(Symbol, Kind, usize, Span)> {
    decls
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let (name, kind) = match &d.item {
                Item::Const(n, _) => (*n, Kind::Const),
                Item::Data(n, _) => (*n, Kind::Data),
                Item::Param(n, _) => (*n, Kind::Param),
                Item::Let(n, _) => (*n, Kind::Let),
                Item::Name(_) | Item::Logp(_) => return None,
            };
            Some((name, kind, i, d.span.clone()))
        })
        .collect()
}

/// The built-in models: name and source, from `examples/<name>.model`.
const BUILTINS: &[(&str, &str)] = &[
    ("normal", include_str!("../examples/normal.model")),
    ("normal_info", include_str!("../examples/normal_info.model")),
    ("gamma", include_str!("../examples/gamma.model")),
    ("beta", include_str!("../examples/beta.model")),
    ("poisson", include_str!("../examples/poisson.model")),
    ("bernoulli", include_str!("../examples/bernoulli.model")),
    ("normal_var", include_str!("../examples/normal_var.model")),
    (
        "normal_logsigma",
        include_str!("../examples/normal_logsigma.model"),
    ),
    (
        "normal_natural",
        include_str!("../examples/normal_natural.model"),
    ),
    (
        "bernoulli_logit",
        include_str!("../examples/bernoulli_logit.model"),
    ),
    ("binomial", include_str!("../examples/binomial.model")),
    ("poisson_log", include_str!("../examples/poisson_log.model")),
    ("geometric", include_str!("../examples/geometric.model")),
    ("negbinom", include_str!("../examples/negbinom.model")),
    ("exponential", include_str!("../examples/exponential.model")),
    (
        "exponential_scale",
        include_str!("../examples/exponential_scale.model"),
    ),
    ("gamma_scale", include_str!("../examples/gamma_scale.model")),
    ("gamma_mean", include_str!("../examples/gamma_mean.model")),
    ("lognormal", include_str!("../examples/lognormal.model")),
    (
        "inverse_gaussian",
        include_str!("../examples/inverse_gaussian.model"),
    ),
    ("weibull", include_str!("../examples/weibull.model")),
    ("rayleigh", include_str!("../examples/rayleigh.model")),
    ("gumbel", include_str!("../examples/gumbel.model")),
    ("logistic", include_str!("../examples/logistic.model")),
    ("cauchy", include_str!("../examples/cauchy.model")),
    ("student_t5", include_str!("../examples/student_t5.model")),
    ("laplace", include_str!("../examples/laplace.model")),
    (
        "categorical3",
        include_str!("../examples/categorical3.model"),
    ),
    (
        "bivariate_normal",
        include_str!("../examples/bivariate_normal.model"),
    ),
    (
        "curved_normal",
        include_str!("../examples/curved_normal.model"),
    ),
    (
        "normal_mixture",
        include_str!("../examples/normal_mixture.model"),
    ),
];

impl Model {
    /// Parses and checks a model file; `default_name` is used when there is no `model NAME`
    /// line (the CLI passes the file stem).
    ///
    /// ```
    /// use fisher_geometry::Model;
    /// let m = Model::parse("data x : real\nparam mu : real\nlogp = -(x - mu)^2/2", "m")?;
    /// assert_eq!(m.param_names(), ["mu".into()]); // ∂²logp/∂μ² = -1
    /// # Ok::<(), fisher_geometry::model::ModelError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first lexical, syntax or model error (see [`ModelErrorKind`]) with its span.
    pub fn parse(source: &str, default_name: &str) -> Result<Model, ModelError> {
        let file = parse::parse(source)?;
        let mut entries = Vec::new();
        for (i, d) in file.decls.iter().enumerate() {
            let (names, kind) = match &d.kind {
                DeclKind::Const(n, _) => (std::slice::from_ref(n), Kind::Const),
                DeclKind::Data(ns, _, _) => (ns.as_slice(), Kind::Data),
                DeclKind::Param(ns, _) => (ns.as_slice(), Kind::Param),
                DeclKind::Let(n, _) => (std::slice::from_ref(n), Kind::Let),
                DeclKind::Model(_) | DeclKind::Logp(_) => continue,
            };
            for n in names {
                entries.push((Symbol::from(n.name.as_str()), kind, i, n.span.clone()));
            }
        }
        let scope = Scope::build(entries)?;

        let mut decls = Vec::new();
        let mut push = |item, span, value_span| {
            decls.push(Declaration {
                item,
                span,
                value_span,
            })
        };
        let mut has_logp = false;
        for (i, d) in file.decls.iter().enumerate() {
            match &d.kind {
                DeclKind::Model(n) => push(Item::Name(n.name.clone()), n.span.clone(), 0..0),
                DeclKind::Const(n, ast) => {
                    let value = lower(ast, &scope, Ctx::Const(i))?;
                    let name = Symbol::from(n.name.as_str());
                    push(Item::Const(name, value), n.span.clone(), ast.span());
                }
                DeclKind::Let(n, ast) => {
                    let value = lower(ast, &scope, Ctx::Body(i))?;
                    let name = Symbol::from(n.name.as_str());
                    push(Item::Let(name, value), n.span.clone(), ast.span());
                }
                DeclKind::Logp(ast) => {
                    has_logp = true;
                    let value = lower(ast, &scope, Ctx::Body(i))?;
                    push(Item::Logp(value), d.keyword.clone(), ast.span());
                }
                DeclKind::Param(names, domain) => {
                    let domain = match domain {
                        DomainKw::Real => Domain::Real,
                        DomainKw::Positive => Domain::Positive,
                        DomainKw::Unit => Domain::Unit,
                        DomainKw::Interval(lo, hi) => Domain::interval(*lo, *hi),
                    };
                    for n in names {
                        let name = Symbol::from(n.name.as_str());
                        push(Item::Param(name, domain), n.span.clone(), 0..0);
                    }
                }
                DeclKind::Data(names, support, span) => {
                    let support = match support {
                        SupportKw::Real => SupportDecl::Fixed(Support::Real),
                        SupportKw::Positive => SupportDecl::Fixed(Support::Positive),
                        SupportKw::Unit => SupportDecl::Fixed(Support::Unit),
                        SupportKw::Binary => SupportDecl::Fixed(Support::Binary),
                        SupportKw::Count => SupportDecl::Fixed(Support::Count),
                        SupportKw::Int(lo, hi) => {
                            let bound = |b: &parse::Bound| match &b.kind {
                                BoundKind::Int(v) => Ok(IntBound::Int(*v)),
                                BoundKind::Name(n) => match scope.resolve(n, Ctx::Bound) {
                                    Ok(_) => Ok(IntBound::Const(Symbol::from(n.as_str()))),
                                    Err(k) => Err(ModelError::new(k, b.span.clone())),
                                },
                            };
                            SupportDecl::Int(bound(lo)?, bound(hi)?)
                        }
                    };
                    for n in names {
                        let name = Symbol::from(n.name.as_str());
                        push(
                            Item::Data(name, support.clone()),
                            n.span.clone(),
                            span.clone(),
                        );
                    }
                }
            }
        }
        if !has_logp {
            // Just after the last non-blank text, like the parser's end of file.
            let end = source.trim_end().len();
            return Err(ModelError::new(ModelErrorKind::MissingLogp, end..end));
        }
        Model::try_new(default_name, &decls)
    }

    /// Checks declarations and builds the model: the constructor shared by [`Model::parse`]
    /// and the [`model!`](crate::model!) macro. Constants are evaluated, `int` bounds
    /// resolved, and every `let` inlined into `logp`.
    ///
    /// # Errors
    ///
    /// Duplicate or built-in names, a name used where it may not be (a parameter in a
    /// `const`, a `let` before its definition), a constant that is not finite, a bad `int`
    /// bound, `logp` missing or repeated, no parameters, or a parameter or data variable
    /// that does not occur in `logp`; the span is the declaration's.
    pub fn try_new(default_name: &str, decls: &[Declaration]) -> Result<Model, ModelError> {
        let scope = Scope::build(scope_entries(decls))?;
        let mut name: Option<String> = None;
        let mut consts: Vec<(Symbol, f64)> = Vec::new();
        let mut lets: Vec<(Symbol, Expr)> = Vec::new();
        let mut inlined: HashMap<Symbol, Expr> = HashMap::new();
        let mut params = Vec::new();
        let mut data = Vec::new();
        let mut logp: Option<(Expr, Span)> = None;
        for (i, d) in decls.iter().enumerate() {
            let err = |kind| ModelError::new(kind, d.span.clone());
            match &d.item {
                Item::Name(n) => {
                    if name.is_some() {
                        return Err(err(ModelErrorKind::RepeatedModelName));
                    }
                    name = Some(n.clone());
                }
                Item::Const(n, value) => {
                    scope.check_expr(value, Ctx::Const(i), &d.value_span)?;
                    let env: HashMap<Symbol, f64> = consts.iter().copied().collect();
                    let v = eval_f64(value, &env).unwrap_or(f64::NAN);
                    if !v.is_finite() {
                        let kind = ModelErrorKind::ConstNotFinite {
                            name: n.as_str().to_string(),
                            value: crate::render::number(v),
                        };
                        return Err(ModelError::new(kind, d.value_span.clone()));
                    }
                    consts.push((*n, v));
                }
                Item::Let(n, value) => {
                    scope.check_expr(value, Ctx::Body(i), &d.value_span)?;
                    inlined.insert(*n, value.substitute(&inlined));
                    lets.push((*n, value.clone()));
                }
                Item::Logp(value) => {
                    if logp.is_some() {
                        return Err(err(ModelErrorKind::RepeatedLogp));
                    }
                    scope.check_expr(value, Ctx::Body(i), &d.value_span)?;
                    logp = Some((value.substitute(&inlined), d.span.clone()));
                }
                Item::Param(n, domain) => {
                    if let Domain::Interval(lo, hi) = domain {
                        let (lo, hi) = (lo.value(), hi.value());
                        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                            let kind = ModelErrorKind::BadInterval {
                                name: n.to_string(),
                                lo: crate::render::number(lo),
                                hi: crate::render::number(hi),
                            };
                            return Err(ModelError::new(kind, d.span.clone()));
                        }
                    }
                    params.push(Param {
                        name: *n,
                        domain: *domain,
                    });
                }
                Item::Data(..) => {}
            }
        }
        // Bounds may name constants declared anywhere, so they are resolved last.
        for d in decls {
            let Item::Data(n, support) = &d.item else {
                continue;
            };
            let support = match support {
                SupportDecl::Fixed(s) => *s,
                SupportDecl::Int(lo, hi) => {
                    let lo = resolve_bound(lo, &scope, &consts, &d.value_span)?;
                    let hi = resolve_bound(hi, &scope, &consts, &d.value_span)?;
                    if lo > hi {
                        let kind = ModelErrorKind::EmptySupport { lo, hi };
                        return Err(ModelError::new(kind, d.value_span.clone()));
                    }
                    Support::Int(lo, hi)
                }
            };
            data.push(DataVar { name: *n, support });
        }
        let Some((logp, logp_span)) = logp else {
            return Err(ModelError::new(ModelErrorKind::MissingLogp, 0..0));
        };
        if params.is_empty() {
            return Err(ModelError::new(ModelErrorKind::NoParams, logp_span));
        }
        let used = logp.symbols();
        for d in decls {
            let kind = match &d.item {
                Item::Param(n, _) if !used.contains(n) => {
                    ModelErrorKind::UnusedParam(n.as_str().to_string())
                }
                Item::Data(n, _) if !used.contains(n) => {
                    ModelErrorKind::UnusedData(n.as_str().to_string())
                }
                _ => continue,
            };
            return Err(ModelError::new(kind, d.span.clone()));
        }
        Ok(Model {
            name: name.unwrap_or_else(|| default_name.to_string()),
            params,
            data,
            consts,
            lets,
            logp,
        })
    }

    /// A built-in model by name (see [`Model::builtins`]).
    ///
    /// ```
    /// let m = fisher_geometry::Model::builtin("normal")?;
    /// assert_eq!(m.param_names(), ["mu".into(), "sigma".into()]); // F = diag(1/σ², 2/σ²)
    /// # Ok::<(), fisher_geometry::model::ModelError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ModelErrorKind::UnknownBuiltin`] for an unknown name (with a suggestion).
    pub fn builtin(name: &str) -> Result<Model, ModelError> {
        match BUILTINS.iter().find(|(n, _)| *n == name) {
            Some((n, src)) => Model::parse(src, n),
            None => {
                let kind = ModelErrorKind::UnknownBuiltin {
                    name: name.to_string(),
                    suggestion: closest(name, BUILTINS.iter().map(|(n, _)| *n)),
                };
                Err(ModelError::new(kind, 0..0))
            }
        }
    }

    /// The built-in models as `(name, source)`, in a fixed order.
    pub fn builtins() -> Vec<(&'static str, &'static str)> {
        BUILTINS.to_vec()
    }

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

    /// The values of all constants, keyed by name (an environment for [`eval_f64`]).
    pub fn const_env(&self) -> HashMap<Symbol, f64> {
        self.consts.iter().copied().collect()
    }
}

fn resolve_bound(
    b: &IntBound,
    scope: &Scope,
    consts: &[(Symbol, f64)],
    span: &Span,
) -> Result<i64, ModelError> {
    let err = |kind| ModelError::new(kind, span.clone());
    match b {
        IntBound::Int(v) => Ok(*v),
        IntBound::Invalid => Err(err(ModelErrorKind::BadBound)),
        IntBound::Const(s) => {
            scope.resolve(s.as_str(), Ctx::Bound).map_err(err)?;
            let v = consts
                .iter()
                .find(|(n, _)| n == s)
                .map_or(f64::NAN, |&(_, v)| v);
            // Exactly representable integers only (|v| ≤ 2^53).
            if v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0 {
                #[allow(clippy::cast_possible_truncation)] // checked integral and in range
                Ok(v as i64)
            } else {
                Err(err(ModelErrorKind::BoundNotInteger {
                    name: s.as_str().to_string(),
                    value: crate::render::number(v),
                }))
            }
        }
    }
}

/// Lowers a syntax tree to an [`Expr`], resolving names and checking calls, node by node
/// (children come first, so this is a loop, not a recursion).
fn lower(ast: &Ast, scope: &Scope, ctx: Ctx) -> Result<Expr, ModelError> {
    let mut b = Builder::default();
    let mut ids = Vec::with_capacity(ast.nodes.len());
    for node in &ast.nodes {
        let err = |kind| ModelError::new(kind, node.span.clone());
        let child = |c: usize| -> Result<egg::Id, ModelError> {
            ids.get(c)
                .copied()
                .ok_or_else(|| err(ModelErrorKind::MalformedTree))
        };
        let op = match &node.kind {
            NodeKind::Num(v) => Op::Num(Constant::new(*v)),
            NodeKind::Name(n) => match scope.resolve(n, ctx).map_err(err)? {
                Resolved::Sym(s) => Op::Sym(s),
                Resolved::Pi => Op::Pi,
                Resolved::Euler => Op::Euler,
            },
            NodeKind::Neg(a) => Op::Neg([child(*a)?]),
            NodeKind::Binary(op, l, r) => {
                let pair = [child(*l)?, child(*r)?];
                match op {
                    BinOp::Add => Op::Add(pair),
                    BinOp::Sub => Op::Sub(pair),
                    BinOp::Mul => Op::Mul(pair),
                    BinOp::Div => Op::Div(pair),
                    BinOp::Pow => Op::Pow(pair),
                }
            }
            NodeKind::Call { name, args } => {
                let f = name.name.as_str();
                let Some(arity) = Op::function_arity(f) else {
                    let kind =
                        if scope.names.contains_key(&Symbol::from(f)) || f == "pi" || f == "e" {
                            ModelErrorKind::NotAFunction(f.to_string())
                        } else {
                            ModelErrorKind::UnknownFunction {
                                name: f.to_string(),
                                suggestion: closest(f, FUNCTIONS.iter().map(|(n, _)| *n)),
                            }
                        };
                    return Err(ModelError::new(kind, name.span.clone()));
                };
                if arity != args.len() {
                    return Err(err(ModelErrorKind::WrongArity {
                        name: f.to_string(),
                        expected: arity,
                        found: args.len(),
                    }));
                }
                let args = args
                    .iter()
                    .map(|a| child(*a))
                    .collect::<Result<Vec<_>, _>>()?;
                Op::function(f, &args).ok_or_else(|| err(ModelErrorKind::MalformedTree))?
            }
        };
        ids.push(b.node(op));
    }
    let root = ids
        .get(ast.root)
        .copied()
        .ok_or_else(|| ModelError::new(ModelErrorKind::MalformedTree, ast.span()))?;
    Ok(b.finish(root))
}

/// Evaluates an expression in `f64`, looking names up in `env`: the small evaluator used for
/// `const` values (and by tests as an independent check). `None` if a name has no value.
///
/// ```
/// use std::collections::HashMap;
/// use fisher_geometry::{Expr, model::eval_f64};
/// let e = Expr::sym("x").pow(2) + Expr::pi();
/// let env = HashMap::from([("x".into(), 3.0)]);
/// assert_eq!(eval_f64(&e, &env), Some(9.0 + std::f64::consts::PI)); // x² + π
/// ```
pub fn eval_f64(expr: &Expr, env: &HashMap<Symbol, f64>) -> Option<f64> {
    let nodes = expr.nodes();
    let mut vals: Vec<f64> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let v = |id: &egg::Id| vals.get(usize::from(*id)).copied().unwrap_or(f64::NAN);
        let x = match node {
            Op::Num(c) => c.value(),
            Op::Sym(s) => *env.get(s)?,
            Op::Pi => std::f64::consts::PI,
            Op::Euler => std::f64::consts::E,
            Op::Add([a, b]) => v(a) + v(b),
            Op::Sub([a, b]) => v(a) - v(b),
            Op::Mul([a, b]) => v(a) * v(b),
            Op::Div([a, b]) => v(a) / v(b),
            Op::Pow([a, b]) => v(a).powf(v(b)),
            Op::Neg([a]) => -v(a),
            Op::Ln([a]) => v(a).ln(),
            Op::Exp([a]) => v(a).exp(),
            Op::Sqrt([a]) => v(a).sqrt(),
            Op::Log1p([a]) => v(a).ln_1p(),
            Op::Lgamma([a]) => special::lgamma(v(a)),
            Op::Digamma([a]) => special::digamma(v(a)),
            Op::Trigamma([a]) => special::trigamma(v(a)),
            Op::Polygamma([n, a]) => {
                let n = v(n);
                if n >= 0.0 && n == n.trunc() && n <= f64::from(special::MAX_POLYGAMMA_ORDER) {
                    // An exact small non-negative integer, so the conversion is exact.
                    special::polygamma(n as u32, v(a))
                } else {
                    f64::NAN
                }
            }
            Op::Sigmoid([a]) => 1.0 / (1.0 + (-v(a)).exp()),
            Op::Abs([a]) => v(a).abs(),
            Op::Sign([a]) => {
                let a = v(a);
                if a == 0.0 { 0.0 } else { a.signum() }
            }
            Op::Sin([a]) => v(a).sin(),
            Op::Cos([a]) => v(a).cos(),
        };
        vals.push(x);
    }
    vals.last().copied()
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
                crate::render::number(lo.value()),
                crate::render::number(hi.value())
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
            writeln!(f, "const {n} = {}", crate::render::number(*v))?;
        }
        for d in &self.data {
            writeln!(f, "data {} : {}", d.name, d.support)?;
        }
        for p in &self.params {
            writeln!(f, "param {} : {}", p.name, p.domain)?;
        }
        for (n, e) in &self.lets {
            writeln!(f, "let {n} = {}", crate::render::text(e))?;
        }
        writeln!(f, "logp = {}", crate::render::text(&self.logp))
    }
}

/// Declares a [`Model`] in Rust, with the same lines as a model file ending in `;`, and
/// returns `Result<Model, ModelError>` from the same checks as [`Model::parse`].
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
/// # Ok::<(), fisher_geometry::model::ModelError>(())
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
/// The errors of [`Model::try_new`]: a parameter that does not occur in `logp`, a data
/// variable in a `const`, a repeated `logp`, … (with the empty span `0..0`).
#[macro_export]
macro_rules! model {
    ($($body:tt)*) => {{
        #[allow(unused_imports)]
        use $crate::expr::{
            abs, cos, digamma, exp, lgamma, ln, log, log1p, polygamma, sigmoid, sin, sqrt,
            trigamma,
        };
        #[allow(unused_imports)]
        use $crate::model::macro_support::{e, pi};
        $crate::__model_bind!($($body)*);
        let mut decls: ::std::vec::Vec<$crate::model::Declaration> = ::std::vec::Vec::new();
        $crate::__model_items!(decls; $($body)*);
        $crate::model::Model::try_new("model", &decls)
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

/// Pushes one [`Declaration`] per line of a `model!` body.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_items {
    ($d:ident;) => {};
    ($d:ident; model $name:ident ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::name(stringify!($name)));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; logp = $v:expr ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::logp($v));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; const $n:ident = $v:expr ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::constant(stringify!($n), $v));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; let $n:ident = $v:expr ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::define(stringify!($n), $v));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; data $n:ident : int [ $lo:expr , $hi:expr ] ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::data(
            stringify!($n),
            $crate::model::SupportDecl::Int(
                $crate::model::IntBound::from($lo),
                $crate::model::IntBound::from($hi),
            ),
        ));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; data $n:ident : $s:ident ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::data(
            stringify!($n),
            $crate::model::SupportDecl::Fixed($crate::__model_support!($s)),
        ));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; param $n:ident : interval ( $lo:expr , $hi:expr ) ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::param(
            stringify!($n),
            $crate::model::Domain::interval(f64::from($lo), f64::from($hi)),
        ));
        $crate::__model_items!($d; $($rest)*);
    };
    ($d:ident; param $n:ident : $dom:ident ; $($rest:tt)*) => {
        $d.push($crate::model::Declaration::param(stringify!($n), $crate::__model_domain!($dom)));
        $crate::__model_items!($d; $($rest)*);
    };
}

/// A support keyword of a `model!` body.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_support {
    (real) => {
        $crate::model::Support::Real
    };
    (positive) => {
        $crate::model::Support::Positive
    };
    (unit) => {
        $crate::model::Support::Unit
    };
    (binary) => {
        $crate::model::Support::Binary
    };
    (count) => {
        $crate::model::Support::Count
    };
}

/// A domain keyword of a `model!` body.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_domain {
    (real) => {
        $crate::model::Domain::Real
    };
    (positive) => {
        $crate::model::Domain::Positive
    };
    (unit) => {
        $crate::model::Domain::Unit
    };
}

/// The constants `pi` and `e` as values that combine with [`Expr`]s, `f64` and `i32` under
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

/// A parameter point given on the command line was not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    /// An item is not `name=value`.
    #[error("`{0}` is not of the form `name=value`")]
    Malformed(String),
    /// A name that is not a parameter of the model.
    #[error("`{name}` is not a parameter of this model (parameters: {params}){}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownParameter {
        /// The name given.
        name: String,
        /// The model's parameters, comma-separated.
        params: String,
        /// A close parameter name.
        suggestion: Option<String>,
    },
    /// A parameter given twice.
    #[error("parameter `{0}` is given twice")]
    Repeated(String),
    /// A parameter without a value.
    #[error("parameter `{0}` has no value (give every parameter: `name=value,name=value`)")]
    Missing(String),
    /// A value that is not a finite number.
    #[error("`{value}` is not a finite number (for `{name}`)")]
    NotANumber {
        /// The parameter.
        name: String,
        /// The text given.
        value: String,
    },
    /// A value outside the declared domain.
    #[error("{name}={value} is outside the domain of `{name}` ({domain})")]
    OutsideDomain {
        /// The parameter.
        name: String,
        /// The value.
        value: f64,
        /// The domain.
        domain: String,
    },
}

impl Domain {
    /// The open interval `(lo, hi)` (checked when the model is built).
    pub fn interval(lo: f64, hi: f64) -> Domain {
        Domain::Interval(Constant::new(lo), Constant::new(hi))
    }

    /// The bounds `(lo, hi)` of the domain, infinite where it is unbounded.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Domain::Real => (f64::NEG_INFINITY, f64::INFINITY),
            Domain::Positive => (0.0, f64::INFINITY),
            Domain::Unit => (0.0, 1.0),
            Domain::Interval(lo, hi) => (lo.value(), hi.value()),
        }
    }

    /// Whether `v` lies in the domain: a finite number strictly inside the bounds.
    pub fn contains(self, v: f64) -> bool {
        let (lo, hi) = self.bounds();
        v.is_finite() && v > lo && v < hi
    }

    /// The domain as written in a model file, with its meaning.
    pub fn describe(self) -> String {
        match self {
            Domain::Real => "real".to_string(),
            Domain::Positive => "positive: greater than 0".to_string(),
            Domain::Unit => "unit: strictly between 0 and 1".to_string(),
            Domain::Interval(lo, hi) => format!(
                "{self}: strictly between {} and {}",
                crate::render::number(lo.value()),
                crate::render::number(hi.value())
            ),
        }
    }
}

impl Model {
    /// Parses a parameter point `name=value,name=value` naming every parameter once, and
    /// checks each value against its domain. Returns the values in parameter order.
    ///
    /// ```
    /// use fisher_geometry::Model;
    /// let m = Model::builtin("normal")?;
    /// let p = m.parse_point("sigma=2, mu=-1")?;
    /// assert_eq!(p, [("mu".into(), -1.0), ("sigma".into(), 2.0)]);
    /// assert!(m.parse_point("mu=0,sigma=-1").is_err()); // σ must be positive
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`PointError`] naming the offending item.
    pub fn parse_point(&self, text: &str) -> Result<Vec<(Symbol, f64)>, PointError> {
        let mut values: Vec<Option<f64>> = vec![None; self.params.len()];
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .ok_or_else(|| PointError::Malformed(item.to_string()))?;
            let Some(i) = self.params.iter().position(|p| p.name.as_str() == name) else {
                return Err(PointError::UnknownParameter {
                    name: name.to_string(),
                    params: self
                        .params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    suggestion: closest(name, self.params.iter().map(|p| p.name.as_str())),
                });
            };
            let v: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| PointError::NotANumber {
                    name: name.to_string(),
                    value: value.to_string(),
                })?;
            if values[i].is_some() {
                return Err(PointError::Repeated(name.to_string()));
            }
            let domain = self.params[i].domain;
            if !domain.contains(v) {
                return Err(PointError::OutsideDomain {
                    name: name.to_string(),
                    value: v,
                    domain: domain.describe(),
                });
            }
            values[i] = Some(v);
        }
        self.params
            .iter()
            .zip(values)
            .map(|(p, v)| {
                v.map(|v| (p.name, v))
                    .ok_or_else(|| PointError::Missing(p.name.to_string()))
            })
            .collect()
    }
}
