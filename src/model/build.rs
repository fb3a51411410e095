//! Building a [`Model`]: [`Model::parse`] turns a model file into [`Declaration`]s, resolving
//! every name where it is written; [`Model::try_new`], shared with the
//! [`model!`](crate::model!) macro, checks them and inlines every `let` into `logp`.

use std::collections::HashMap;

use egg::{Language as _, Symbol};

use super::Span;
use super::declaration::{Declaration, IntBound, Item, SupportDecl};
use super::error::{ModelError, ModelErrorKind};
use super::resolve::{
    Ctx, Kind, Scope, check_polygamma_orders, lower, resolve_bound, scope_entries,
};
use super::types::{DataVar, Domain, Model, Param, Support};
use crate::eval::{Env, eval_f64};
use crate::expr::Expr;
use crate::parse::{self, BoundKind, DeclKind, DomainKw, SupportKw};

impl Model {
    /// Parses and checks a model file; `default_name` is used when there is no `model NAME`
    /// line (the CLI passes the file stem).
    ///
    /// ```
    /// use fisher_geometry::Model;
    /// let m = Model::parse("data x : real\nparam mu : real\nlogp = -(x - mu)^2/2", "m")?;
    /// assert_eq!(m.param_names(), ["mu".into()]); // ∂²logp/∂μ² = -1
    /// # Ok::<(), fisher_geometry::ModelError>(())
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
    /// use fisher_geometry::{Model, display_text};
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
}

/// The number of nodes of `expr` written out as a tree (shared subexpressions counted at
/// every use), saturating: what printing or differentiating it term by term would face.
pub(super) fn tree_size(expr: &Expr) -> usize {
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
