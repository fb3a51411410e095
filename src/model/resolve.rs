//! Name resolution and lowering: every name a declaration uses is resolved against the
//! declared names (with the context rules: no parameter in a `const`, no `let` before its
//! definition, only constants in bounds), and a syntax tree becomes an [`Expr`], with calls,
//! `polygamma` orders and constant subexpressions checked where they are written. Numbers-only
//! subexpressions are evaluated by [`crate::eval`].

use std::collections::HashMap;

use egg::Symbol;

use super::declaration::{Declaration, IntBound, Item};
use super::error::{ModelError, ModelErrorKind, closest};
use super::{MAX_WRITTEN_POLYGAMMA_ORDER, Span};
use crate::eval::{Env, eval_f64};
use crate::expr::{Builder, Constant, Expr, FUNCTIONS, Op};
use crate::parse::{Ast, BinOp, NodeKind};

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
pub(super) fn check_polygamma_orders(e: &Expr) -> Result<(), ModelErrorKind> {
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

/// What kind of thing a declared name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Const,
    Data,
    Param,
    Let,
}

/// Where a name is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctx {
    /// In the value of the `const` at this declaration index.
    Const(usize),
    /// In a `let` or `logp` at this declaration index.
    Body(usize),
    /// In an `int[LO, HI]` bound.
    Bound,
}

/// What a name used in an expression stands for.
pub(super) enum Resolved {
    Sym(Symbol),
    Pi,
    Euler,
}

/// The declared names: kind and declaration index of each, in declaration order.
pub(super) struct Scope {
    names: HashMap<Symbol, (Kind, usize)>,
    order: Vec<Symbol>,
}

impl Scope {
    /// Collects `(name, kind, declaration index, span)`; rejects duplicates and built-ins.
    pub(super) fn build(
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
    pub(super) fn resolve(&self, name: &str, ctx: Ctx) -> Result<Resolved, ModelErrorKind> {
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
    pub(super) fn check_expr(&self, e: &Expr, ctx: Ctx, span: &Span) -> Result<(), ModelError> {
        for s in e.symbols() {
            self.resolve(s.as_str(), ctx)
                .map_err(|k| ModelError::new(k, span.clone()))?;
        }
        Ok(())
    }
}

pub(super) fn scope_entries(decls: &[Declaration]) -> Vec<(Symbol, Kind, usize, Span)> {
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

pub(super) fn resolve_bound(
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
pub(super) fn lower(ast: &Ast, scope: &Scope, ctx: Ctx) -> Result<Expr, ModelError> {
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

/// Lowers an expression written outside a model file (the right-hand side of a
/// reparameterization) against `params` and the constants `consts`, with every check of a
/// `logp` (names, calls, `polygamma` orders, non-finite constant subexpressions); spans are
/// those of `ast`. The names must be distinct and not reserved: the caller has checked them.
pub(crate) fn lower_expr(
    ast: &Ast,
    params: &[Symbol],
    consts: &[Symbol],
) -> Result<Expr, ModelError> {
    let entries = params
        .iter()
        .map(|p| (*p, Kind::Param, 0, 0..0))
        .chain(consts.iter().map(|c| (*c, Kind::Const, 0, 0..0)));
    let scope = Scope::build(entries)?;
    lower(ast, &scope, Ctx::Body(1))
}
