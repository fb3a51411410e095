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

use egg::{Language as _, Symbol};

use crate::eval::{Env, eval_f64};
use crate::expr::{Builder, Constant, Expr, FUNCTIONS, Op};
use crate::parse::{self, Ast, BinOp, BoundKind, DeclKind, DomainKw, NodeKind, SupportKw};
use crate::special;

mod error;
mod macros;
mod point;

pub use error::{ModelError, ModelErrorKind, closest};
pub use point::PointError;

#[doc(hidden)]
pub use macros::macro_support;

/// The highest order a model may give `polygamma(n, x)`: four below
/// [`MAX_POLYGAMMA_ORDER`](special::MAX_POLYGAMMA_ORDER), since curvature differentiates the
/// log-density four times and each derivative raises the order by one.
pub const MAX_WRITTEN_POLYGAMMA_ORDER: u32 = special::MAX_POLYGAMMA_ORDER - 4;

/// Checks the order of a `polygamma` call: `value` is its value when it is written without
/// names, `None` otherwise.
fn check_polygamma_order(value: Option<f64>) -> Result<(), ModelErrorKind> {
    let n = value.ok_or(ModelErrorKind::PolygammaOrderNotConstant)?;
    if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(MAX_WRITTEN_POLYGAMMA_ORDER) {
        Ok(())
    } else {
        Err(ModelErrorKind::PolygammaOrderRange {
            order: crate::expr::number(n),
            max: MAX_WRITTEN_POLYGAMMA_ORDER,
        })
    }
}

/// Checks the order of every `polygamma` call in an already-built expression (the
/// [`model!`](crate::model!) route; a file's calls are checked where they are written).
fn check_polygamma_orders(e: &Expr) -> Result<(), ModelErrorKind> {
    for node in e.nodes() {
        if let Op::Polygamma([n, _]) = node {
            let order = e.subexpr(*n);
            let value = if order.symbols().is_empty() {
                eval_f64(&order, &Env::new()).ok()
            } else {
                None
            };
            check_polygamma_order(value)?;
        }
    }
    Ok(())
}

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
    ("normal", include_str!("../../examples/normal.model")),
    (
        "normal_info",
        include_str!("../../examples/normal_info.model"),
    ),
    ("gamma", include_str!("../../examples/gamma.model")),
    ("beta", include_str!("../../examples/beta.model")),
    ("poisson", include_str!("../../examples/poisson.model")),
    ("bernoulli", include_str!("../../examples/bernoulli.model")),
    (
        "normal_var",
        include_str!("../../examples/normal_var.model"),
    ),
    (
        "normal_logsigma",
        include_str!("../../examples/normal_logsigma.model"),
    ),
    (
        "normal_natural",
        include_str!("../../examples/normal_natural.model"),
    ),
    (
        "bernoulli_logit",
        include_str!("../../examples/bernoulli_logit.model"),
    ),
    ("binomial", include_str!("../../examples/binomial.model")),
    (
        "poisson_log",
        include_str!("../../examples/poisson_log.model"),
    ),
    ("geometric", include_str!("../../examples/geometric.model")),
    ("negbinom", include_str!("../../examples/negbinom.model")),
    (
        "exponential",
        include_str!("../../examples/exponential.model"),
    ),
    (
        "exponential_scale",
        include_str!("../../examples/exponential_scale.model"),
    ),
    (
        "gamma_scale",
        include_str!("../../examples/gamma_scale.model"),
    ),
    (
        "gamma_mean",
        include_str!("../../examples/gamma_mean.model"),
    ),
    ("lognormal", include_str!("../../examples/lognormal.model")),
    (
        "inverse_gaussian",
        include_str!("../../examples/inverse_gaussian.model"),
    ),
    ("weibull", include_str!("../../examples/weibull.model")),
    ("rayleigh", include_str!("../../examples/rayleigh.model")),
    ("gumbel", include_str!("../../examples/gumbel.model")),
    ("logistic", include_str!("../../examples/logistic.model")),
    ("cauchy", include_str!("../../examples/cauchy.model")),
    (
        "student_t5",
        include_str!("../../examples/student_t5.model"),
    ),
    ("laplace", include_str!("../../examples/laplace.model")),
    (
        "categorical3",
        include_str!("../../examples/categorical3.model"),
    ),
    (
        "bivariate_normal",
        include_str!("../../examples/bivariate_normal.model"),
    ),
    (
        "curved_normal",
        include_str!("../../examples/curved_normal.model"),
    ),
    (
        "normal_mixture",
        include_str!("../../examples/normal_mixture.model"),
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

    /// Parses and checks a model file given as bytes (what a file holds): UTF-8, a leading
    /// byte-order mark skipped, then [`Model::parse`].
    ///
    /// ```
    /// use fisher_geometry::{Model, parse::display_text};
    /// let bytes = b"data x : real\nparam mu : real # \xB5\nlogp = -(x - mu)^2/2";
    /// let e = Model::from_bytes(bytes, "m").unwrap_err(); // Latin-1 `µ`
    /// assert_eq!(e.line_col(&display_text(bytes)), (2, 19));
    /// ```
    ///
    /// # Errors
    ///
    /// A file that looks like UTF-16 or holds a byte that is not UTF-8, and every error of
    /// [`Model::parse`]; spans index into [`display_text`](parse::display_text) of `bytes`.
    pub fn from_bytes(bytes: &[u8], default_name: &str) -> Result<Model, ModelError> {
        Model::parse(parse::decode(bytes)?, default_name)
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
                    let env: Env<f64> = consts.iter().copied().collect();
                    let v = eval_f64(value, &env).unwrap_or(f64::NAN);
                    if !v.is_finite() {
                        let kind = ModelErrorKind::ConstNotFinite {
                            name: n.as_str().to_string(),
                            value: crate::expr::number(v),
                        };
                        return Err(ModelError::new(kind, d.value_span.clone()));
                    }
                    consts.push((*n, v));
                }
                Item::Let(n, value) => {
                    scope.check_expr(value, Ctx::Body(i), &d.value_span)?;
                    check_polygamma_orders(value)
                        .map_err(|k| ModelError::new(k, d.value_span.clone()))?;
                    inlined.insert(*n, value.substitute(&inlined));
                    lets.push((*n, value.clone()));
                }
                Item::Logp(value) => {
                    if logp.is_some() {
                        return Err(err(ModelErrorKind::RepeatedLogp));
                    }
                    scope.check_expr(value, Ctx::Body(i), &d.value_span)?;
                    check_polygamma_orders(value)
                        .map_err(|k| ModelError::new(k, d.value_span.clone()))?;
                    logp = Some((value.substitute(&inlined), d.span.clone()));
                }
                Item::Param(n, domain) => {
                    if let Domain::Interval(lo, hi) = domain {
                        let (lo, hi) = (lo.value(), hi.value());
                        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                            let kind = ModelErrorKind::BadInterval {
                                name: n.to_string(),
                                lo: crate::expr::number(lo),
                                hi: crate::expr::number(hi),
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
        if data.is_empty() {
            return Err(ModelError::new(ModelErrorKind::NoData, logp_span));
        }
        if tree_size(&logp) > parse::MAX_INLINED_TREE {
            return Err(ModelError::new(ModelErrorKind::InlinedTooLarge, logp_span));
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

    /// The values of all constants, keyed by name (collect it into an [`Env`] for
    /// [`eval_f64`]).
    pub fn const_env(&self) -> HashMap<Symbol, f64> {
        self.consts.iter().copied().collect()
    }
}

/// The number of nodes of `expr` written out as a tree (shared subexpressions counted at
/// every use), saturating: what printing or differentiating it term by term would face.
fn tree_size(expr: &Expr) -> usize {
    let nodes = expr.nodes();
    let mut size: Vec<usize> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let below = node
            .children()
            .iter()
            .fold(1usize, |acc, c| acc.saturating_add(size[usize::from(*c)]));
        size.push(below);
    }
    size.get(usize::from(expr.root())).copied().unwrap_or(0)
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
                    value: crate::expr::number(v),
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
    // Whether each syntax node is written with numbers and operators alone, without names
    // or calls (a `polygamma` order must be).
    let mut plain: Vec<bool> = Vec::with_capacity(ast.nodes.len());
    // The value of each expression node built from numbers alone (`None` once a name is
    // involved), by expression id: a non-finite one is an error here, before simplification
    // can fold `0/0·x` to 0.
    let mut const_values: Vec<Option<f64>> = Vec::with_capacity(ast.nodes.len());
    for node in &ast.nodes {
        let is_plain = |c: usize| plain.get(c) == Some(&true);
        let written_plain = match &node.kind {
            NodeKind::Num(_) => true,
            NodeKind::Neg(a) => is_plain(*a),
            NodeKind::Binary(_, l, r) => is_plain(*l) && is_plain(*r),
            NodeKind::Name(_) | NodeKind::Call { .. } => false,
        };
        plain.push(written_plain);
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
                if f == "polygamma" {
                    let order = args[0];
                    // Its value by the one evaluator, when it is written without names.
                    let value = match (plain.get(order), ids.get(order)) {
                        (Some(true), Some(id)) => {
                            const_values.get(usize::from(*id)).copied().flatten()
                        }
                        _ => None,
                    };
                    check_polygamma_order(value).map_err(|k| {
                        let span = ast.nodes.get(order).map_or(0..0, |n| n.span.clone());
                        ModelError::new(k, span)
                    })?;
                }
                let args = args
                    .iter()
                    .map(|a| child(*a))
                    .collect::<Result<Vec<_>, _>>()?;
                Op::function(f, &args).ok_or_else(|| err(ModelErrorKind::MalformedTree))?
            }
        };
        let value = constant_value(&op, &const_values);
        let id = b.node(op);
        if usize::from(id) == const_values.len() {
            const_values.push(value);
        }
        if let Some(v) = value.filter(|v| !v.is_finite()) {
            let text = crate::expr::text(&b.finish(id)).to_string();
            return Err(ModelError::new(
                ModelErrorKind::NotFinite {
                    text,
                    value: crate::expr::number(v),
                },
                node.span.clone(),
            ));
        }
        ids.push(id);
    }
    let root = ids
        .get(ast.root)
        .copied()
        .ok_or_else(|| ModelError::new(ModelErrorKind::MalformedTree, ast.span()))?;
    Ok(b.finish(root))
}

/// The value of `op` when every child has a known value (numbers, `pi`, `e` and operations
/// on them; `values` is indexed by expression id), by the one evaluator.
fn constant_value(op: &Op, values: &[Option<f64>]) -> Option<f64> {
    use egg::Language as _;
    match op {
        Op::Num(c) => return Some(c.value()),
        Op::Pi => return Some(std::f64::consts::PI),
        Op::Euler => return Some(std::f64::consts::E),
        Op::Sym(_) => return None,
        _ => {}
    }
    let mut rec = egg::RecExpr::default();
    let mut local = Vec::new();
    for c in op.children() {
        let v = (*values.get(usize::from(*c))?)?;
        local.push(rec.add(Op::Num(Constant::new(v))));
    }
    let mut k = 0;
    let node = op.clone().map_children(|_| {
        let id = local[k.min(local.len() - 1)];
        k += 1;
        id
    });
    rec.add(node);
    eval_f64(&Expr::from_rec(rec), &Env::new()).ok()
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
