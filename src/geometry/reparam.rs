//! Reparameterization: a model in new parameters `φ` through a map `θ = g(φ)` written in the
//! model language, the Jacobian `J = ∂g/∂φ`, and the pullback `F_φ = Jᵀ F_θ(g(φ)) J` of the
//! Fisher metric, checked against the Fisher matrix derived directly from the substituted
//! model.
//!
//! The new parameters are declared like `param` lines (`h: real, lambda: positive`, parsed
//! by the model parser, so the domains and their checks are the same), the map is one
//! equation per old parameter (`mu = h/lambda, sigma = 1/sqrt(lambda)`); errors in either
//! text carry a span into it. Before any Fisher matrix is computed the map is sampled at
//! fixed points of the new domains: each must land inside the old domains, with `det J`
//! finite and not zero, or the map is refused with the point.
//!
//! The pullback is symbolic when the old model's `F` has a verified closed form (substituted,
//! multiplied and simplified under the new domains), numeric (`Jᵀ F_θ(g(φ)) J` from the old
//! field) otherwise. The direct `F` of the substituted model comes from its own
//! [`FisherField`]; both are compared symbolically (the difference simplifies to 0) where
//! both are closed, and numerically at the sampled points always.

use std::collections::{BTreeSet, HashMap};

use egg::Symbol;
use nalgebra::DMatrix;

use crate::diff::derivative;
use crate::eval::{Env, eval_f64};
use crate::expr::{Expr, Op, number};
use crate::info::{FisherField, InfoError, Method};
use crate::model::{Domain, Model, ModelError, ModelErrorKind, Param, Span, closest};
use crate::parse::{DeclKind, DomainKw, NodeKind};
use crate::simplify::{Facts, simplest};

/// Relative agreement required between the pullback and the direct Fisher matrix.
pub const REPARAM_TOL: f64 = 1e-8;

/// A Jacobian whose smallest singular value is below this fraction of its largest counts as
/// singular (`det J` is 0 to rounding): the map is not invertible there.
const SINGULAR: f64 = 1e-12;

/// The points of the new domain where the map and the pullback are checked: fixed fractions
/// of each domain (real parameters in `(−1.5, 1.5)`, positive ones in `(0.5, 3)`, bounded
/// ones in the middle 60 % of their interval), the `k`-th parameter taking column `k mod 3`,
/// rounded to six decimals. The first real parameter is sampled at −0.57, 0.81, 0.06, −1.26
/// and 0.48.
const FRACTIONS: [[f64; 3]; 5] = [
    [0.31, 0.62, 0.47],
    [0.77, 0.18, 0.55],
    [0.52, 0.91, 0.26],
    [0.08, 0.39, 0.83],
    [0.66, 0.71, 0.12],
];

/// Which text a located error points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapText {
    /// The declarations of the new parameters (`--new`).
    New,
    /// The equations of the map (`--map`).
    Map,
}

impl MapText {
    /// `"--new"` or `"--map"`, as the command line names the texts.
    pub fn flag(self) -> &'static str {
        match self {
            MapText::New => "--new",
            MapText::Map => "--map",
        }
    }
}

/// What is wrong in the text of a reparameterization (see [`ReparamError::Text`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapErrorKind {
    /// An error of the model language: syntax, an unknown name or function, a reserved or
    /// repeated name, a bad domain.
    #[error(transparent)]
    Model(#[from] ModelErrorKind),
    /// A piece of `--new` that is not one declaration `NAME : DOMAIN`, or of `--map` that is
    /// not one equation `OLD = EXPR`.
    #[error("expected {0}")]
    NotOne(&'static str),
    /// `--new` declares nothing.
    #[error("no new parameters are declared: give `NAME : DOMAIN, …`")]
    NoParams,
    /// A new parameter named like a data variable, constant or `let` of the model.
    #[error("`{name}` is a {what} of the model: a new parameter needs a name of its own")]
    Clash {
        /// The name.
        name: String,
        /// "data variable", "constant" or "`let`".
        what: &'static str,
    },
    /// A left side that is not a parameter of the model.
    #[error(
        "`{name}` is not a parameter of the model{}: the left side of each equation is one of {params}",
        did_you_mean(.suggestion)
    )]
    NotOldParam {
        /// The name.
        name: String,
        /// An old parameter within edit distance 2, if any.
        suggestion: Option<String>,
        /// The old parameters, `mu, sigma`.
        params: String,
    },
    /// An old parameter with two equations.
    #[error("`{0}` is mapped twice")]
    MappedTwice(String),
    /// Old parameters without an equation.
    #[error(
        "the map has no equation for {names}: give one equation `OLD = EXPR` per parameter of the model"
    )]
    Missing {
        /// The parameters, `` `sigma` ``.
        names: String,
    },
    /// A right-hand side naming an old parameter, a data variable or a `let` of the model.
    #[error(
        "`{name}` is a {what} of the model: a right-hand side is written in the new parameters ({new}) and constants"
    )]
    OldName {
        /// The name.
        name: String,
        /// "parameter (not a new one)", "data variable" or "`let`".
        what: &'static str,
        /// The new parameters, `h, lambda`.
        new: String,
    },
    /// A different number of new parameters than the model has.
    #[error(
        "the model has {old} parameter{} ({names}) but {new} new one{} {} declared: a change of coordinates keeps their number",
        if *.old == 1 { "" } else { "s" },
        if *.new == 1 { "" } else { "s" },
        if *.new == 1 { "is" } else { "are" }
    )]
    Count {
        /// The model's parameters.
        old: usize,
        /// Their names, `mu, sigma`.
        names: String,
        /// The new parameters declared.
        new: usize,
    },
    /// A new parameter that no right-hand side uses.
    #[error("new parameter `{0}` does not occur in the map")]
    Unused(String),
}

/// `; did you mean `x`?` or nothing.
fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!("; did you mean `{s}`?"))
}

/// Why a reparameterization was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReparamError {
    /// An error in the `--new` or `--map` text, with the span of the offending text.
    #[error("{kind}")]
    Text {
        /// Which text.
        input: MapText,
        /// What is wrong.
        kind: MapErrorKind,
        /// Where, as a byte range into that text.
        span: Span,
    },
    /// `det J` is zero (or not finite) at a sampled point: the map is not a change of
    /// coordinates there.
    #[error(
        "the map is not invertible at {at}: det J = {det}{}",
        if *.identically { " (it simplifies to 0: the map is singular everywhere)" } else { "" }
    )]
    NotInvertible {
        /// The new point, `name=value, …`.
        at: String,
        /// `det J` there, formatted.
        det: String,
        /// Whether `det J` simplifies to 0.
        identically: bool,
    },
    /// The map sends a sampled point outside the old domains (or to a value that is not a
    /// number).
    #[error(
        "the map sends {at} outside the domain of `{param}`: it gives {param} = {value}, but `{param}` is {domain}"
    )]
    OutOfDomain {
        /// The new point, `name=value, …`.
        at: String,
        /// The old parameter.
        param: String,
        /// Its value there, formatted (or why it could not be evaluated).
        value: String,
        /// Its domain, described.
        domain: String,
    },
    /// The substituted model does not pass the model checks.
    #[error("the substituted model is not a valid model: {0}")]
    Model(ModelError),
    /// A Fisher field could not be built or evaluated.
    #[error(transparent)]
    Info(#[from] InfoError),
}

/// The pullback and the direct Fisher matrix at one sampled point.
#[derive(Debug, Clone, PartialEq)]
pub struct ReparamPoint {
    /// `φ`, in the new parameter order.
    pub phi: Vec<f64>,
    /// `θ = g(φ)`, in the old parameter order.
    pub theta: Vec<f64>,
    /// `det J(φ)`.
    pub det: f64,
    /// The pullback `Jᵀ F_θ(g(φ)) J` (the formula evaluated when it is closed form).
    pub pullback: DMatrix<f64>,
    /// `F_φ(φ)` of the substituted model, from its own field.
    pub direct: DMatrix<f64>,
    /// `max |pullback − direct| / max(|pullback|, |direct|)` over the entries.
    pub discrepancy: f64,
}

/// A model in new parameters, its Jacobian and pullback metric, and their check (see the
/// module documentation).
#[derive(Debug, Clone)]
pub struct Reparam {
    /// The substituted model: the same data and constants, the new parameters, the `let`s
    /// and `logp` with the old parameters replaced by the map (simplified).
    pub model: Model,
    /// The map `θ = g(φ)`: each old parameter, in the old order, with its expression in the
    /// new parameters as written.
    pub map: Vec<(Symbol, Expr)>,
    /// `jacobian[i][j] = ∂g_i/∂φ_j` (old parameter `i`, new parameter `j`), simplified.
    pub jacobian: Vec<Vec<Expr>>,
    /// `det J`, simplified.
    pub det: Expr,
    /// The pullback `Jᵀ F_θ(g(φ)) J` as formulas, simplified: `Some` when the old model's `F`
    /// has a verified closed form.
    pub pullback: Option<Vec<Vec<Expr>>>,
    /// The closed form of the substituted model's `F` (`None`: numeric).
    pub direct: Option<Vec<Vec<Expr>>>,
    /// Whether the difference of [`Reparam::pullback`] and [`Reparam::direct`] simplifies
    /// to 0 in every entry (`None` when either is numeric).
    pub symbolic_zero: Option<bool>,
    /// The numeric comparison at the sampled points.
    pub points: Vec<ReparamPoint>,
}

impl Reparam {
    /// Reparameterizes `model` by the new declarations `new` (`h: real, lambda: positive`) and
    /// the map `map` (`mu = h/lambda, sigma = 1/sqrt(lambda)`), and checks the pullback
    /// against the direct derivation.
    ///
    /// ```
    /// use fisher_geometry::{Model, Reparam};
    ///
    /// let normal = Model::builtin("normal")?;
    /// let r = Reparam::new(&normal, "h: real, lambda: positive", "mu = h/lambda, sigma = 1/sqrt(lambda)")?;
    /// let f = r.pullback.as_ref().ok_or("the normal's F is closed form")?;
    /// assert_eq!(f[0][0].to_string(), "1/lambda"); // F_hh = 1/λ
    /// assert_eq!(f[1][1].to_string(), "(lambda + 2*h^2)/(2*lambda^3)"); // F_λλ
    /// assert!(r.matches_direct());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReparamError::Text`] for an error in either text (syntax, an unknown name, a new
    /// name that clashes with the model's, a left side that is not an old parameter, an old
    /// parameter missing or mapped twice, a new parameter the map does not use);
    /// [`ReparamError::OutOfDomain`] and [`ReparamError::NotInvertible`] at the first sampled
    /// point where the map leaves the old domains or `det J` is 0; [`ReparamError::Model`]
    /// and [`ReparamError::Info`] when the substituted model or either field fails.
    pub fn new(model: &Model, new: &str, map: &str) -> Result<Reparam, ReparamError> {
        let params = parse_new(model, new)?;
        let equations = parse_map(model, &params, map)?;
        let gmap: HashMap<Symbol, Expr> = equations.iter().cloned().collect();
        let substituted = substitute(model, &params, &gmap)?;
        let facts = Facts::of(&substituted);
        let phi_names: Vec<Symbol> = params.iter().map(|(p, _)| p.name).collect();
        let jacobian: Vec<Vec<Expr>> = equations
            .iter()
            .map(|(_, g)| {
                phi_names
                    .iter()
                    .map(|p| simplest(&derivative(g, *p), &facts))
                    .collect()
            })
            .collect();
        let det = simplest(&crate::info::determinant(&jacobian), &facts);
        let sampled = sample(model, &substituted, &equations, &jacobian, &det)?;

        let old_field = FisherField::new(model)?;
        let new_field = FisherField::new(&substituted)?;
        let pullback = closed(&old_field).map(|f| {
            let f: Vec<Vec<Expr>> = f
                .iter()
                .map(|row| row.iter().map(|e| e.substitute(&gmap)).collect())
                .collect();
            pull_back(&jacobian, &f, &facts)
        });
        let direct = closed(&new_field).cloned();
        let symbolic_zero = match (&pullback, &direct) {
            (Some(p), Some(d)) => Some(p.iter().zip(d).all(|(pr, dr)| {
                pr.iter()
                    .zip(dr)
                    .all(|(a, b)| simplest(&(a - b), &facts).as_num() == Some(0.0))
            })),
            _ => None,
        };
        let env0 = substituted.const_env();
        let mut points = Vec::with_capacity(sampled.len());
        for (phi, theta, jac, det) in sampled {
            let pull = match &pullback {
                Some(p) => {
                    let mut env: Env<f64> = env0.iter().map(|(k, v)| (*k, *v)).collect();
                    for (n, v) in phi_names.iter().zip(&phi) {
                        env.insert(*n, *v);
                    }
                    let m = phi.len();
                    let mut out = DMatrix::zeros(m, m);
                    for a in 0..m {
                        for b in 0..m {
                            out[(a, b)] = eval_f64(&p[a][b], &env).unwrap_or(f64::NAN);
                        }
                    }
                    out
                }
                None => jac.transpose() * old_field.at(&theta)? * &jac,
            };
            let direct_at = new_field.at(&phi)?;
            let discrepancy = relative_discrepancy(&pull, &direct_at);
            points.push(ReparamPoint {
                phi,
                theta,
                det,
                pullback: pull,
                direct: direct_at,
                discrepancy,
            });
        }
        Ok(Reparam {
            model: substituted,
            map: equations,
            jacobian,
            det,
            pullback,
            direct,
            symbolic_zero,
            points,
        })
    }

    /// How the pullback was obtained: from the old closed form, or numerically.
    pub fn pullback_method(&self) -> Method {
        if self.pullback.is_some() {
            Method::ClosedForm
        } else {
            Method::Numeric
        }
    }

    /// How the direct `F` of the substituted model is obtained.
    pub fn direct_method(&self) -> Method {
        if self.direct.is_some() {
            Method::ClosedForm
        } else {
            Method::Numeric
        }
    }

    /// The largest relative discrepancy between the pullback and the direct `F` over the
    /// sampled points (NaN compares as a mismatch).
    pub fn max_discrepancy(&self) -> f64 {
        self.points.iter().map(|p| p.discrepancy).fold(0.0, |m, d| {
            if d.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(d)
            }
        })
    }

    /// Whether the pullback equals the direct `F` at every sampled point within
    /// [`REPARAM_TOL`] (relative). A symbolic difference that does not simplify to 0 while
    /// the numbers agree is a limit of the simplifier, not a mismatch.
    pub fn matches_direct(&self) -> bool {
        let d = self.max_discrepancy();
        !self.points.is_empty() && d <= REPARAM_TOL
    }
}

/// The verified closed form of a field's `F`, if it evaluates one.
fn closed(field: &FisherField) -> Option<&Vec<Vec<Expr>>> {
    field
        .closed_form()
        .filter(|_| field.method() == Method::ClosedForm)
        .map(|c| &c.matrix)
}

/// `Jᵀ F J`, entry by entry, simplified (zero factors skipped).
fn pull_back(j: &[Vec<Expr>], f: &[Vec<Expr>], facts: &Facts) -> Vec<Vec<Expr>> {
    let n_old = j.len();
    let m = j.first().map_or(0, Vec::len);
    let zero = |e: &Expr| e.as_num() == Some(0.0);
    let mut out = vec![vec![Expr::num(0.0); m]; m];
    for a in 0..m {
        for b in a..m {
            let mut sum: Option<Expr> = None;
            for i in 0..n_old {
                for k in 0..n_old {
                    if zero(&j[i][a]) || zero(&f[i][k]) || zero(&j[k][b]) {
                        continue;
                    }
                    let t = &(&j[i][a] * &f[i][k]) * &j[k][b];
                    sum = Some(match sum {
                        Some(s) => &s + &t,
                        None => t,
                    });
                }
            }
            let v = sum.map_or(Expr::num(0.0), |s| simplest(&s, facts));
            out[a][b] = v.clone();
            out[b][a] = v;
        }
    }
    out
}

/// `max |a − b| / max(|a|, |b|)` over the entries; 0 when both are 0, NaN when either has a
/// NaN.
pub(crate) fn relative_discrepancy(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let mut diff = 0.0f64;
    let mut scale = 0.0f64;
    for (x, y) in a.iter().zip(b.iter()) {
        if !(x.is_finite() && y.is_finite()) {
            return f64::NAN;
        }
        diff = diff.max((x - y).abs());
        scale = scale.max(x.abs()).max(y.abs());
    }
    if diff == 0.0 { 0.0 } else { diff / scale }
}

/// `name=value, …` for messages.
fn describe(names: &[Symbol], values: &[f64]) -> String {
    crate::expr::assignments(names, values)
}

/// The pieces of a comma- or newline-separated list, with their byte offsets: commas inside
/// parentheses do not separate.
fn pieces(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' | ';' if depth == 0 => {
                out.push((start, &text[start..i]));
                start = i + 1;
            }
            '\n' => {
                out.push((start, &text[start..i]));
                start = i + 1;
                depth = 0;
            }
            _ => {}
        }
    }
    out.push((start, &text[start..]));
    out
}

/// A located error in `input`.
fn text_error(input: MapText, kind: impl Into<MapErrorKind>, span: Span) -> ReparamError {
    ReparamError::Text {
        input,
        kind: kind.into(),
        span,
    }
}

/// Parses `prefix + piece` with the model parser; spans are moved back into the original
/// text (the piece starts at `offset`).
fn parse_piece(
    input: MapText,
    prefix: &str,
    offset: usize,
    piece: &str,
) -> Result<(crate::parse::ast::File, isize), ReparamError> {
    let source = format!("{prefix}{piece}");
    // The shift from the synthetic text back to the original.
    #[allow(clippy::cast_possible_wrap)] // lengths of command-line texts
    let shift = offset as isize - prefix.len() as isize;
    let back = |s: Span| shift_span(s, shift, offset);
    crate::parse::parse(&source)
        .map(|f| (f, shift))
        .map_err(|e| text_error(input, ModelErrorKind::Parse(e.kind), back(e.span)))
}

/// A span of the synthetic text moved back by `shift`, not before `floor` (the piece's start).
fn shift_span(s: Span, shift: isize, floor: usize) -> Span {
    let f = |v: usize| {
        #[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)] // non-negative by the max
        let r = (v as isize + shift).max(floor as isize) as usize;
        r
    };
    f(s.start)..f(s.end)
}

/// The new parameters of `text`, each with the span of its name.
fn parse_new(model: &Model, text: &str) -> Result<Vec<(Param, Span)>, ReparamError> {
    const WHAT: &str = "a declaration `NAME : DOMAIN`";
    let err = |kind: MapErrorKind, span: Span| text_error(MapText::New, kind, span);
    // `h, k : real` declares two names: pieces without a `:` join the next one.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<usize> = None;
    for (start, piece) in pieces(text) {
        let begin = open.unwrap_or(start);
        if piece.contains(':') {
            groups.push((begin, start + piece.len()));
            open = None;
        } else if piece.trim().is_empty() && open.is_none() {
            continue; // a trailing comma or a blank line
        } else {
            open = Some(begin);
        }
    }
    if let Some(begin) = open {
        groups.push((begin, text.len()));
    }
    let mut params: Vec<(Param, Span)> = Vec::new();
    for (start, end) in groups {
        let piece = &text[start..end];
        let (file, shift) = parse_piece(MapText::New, "param ", start, piece)?;
        let back = |s: Span| shift_span(s, shift, start);
        let [decl] = file.decls.as_slice() else {
            let span = start + (piece.len() - piece.trim_start().len())..end;
            return Err(err(MapErrorKind::NotOne(WHAT), span));
        };
        let DeclKind::Param(names, domain) = &decl.kind else {
            return Err(err(MapErrorKind::NotOne(WHAT), start..end));
        };
        let domain = match domain {
            DomainKw::Real => Domain::Real,
            DomainKw::Positive => Domain::Positive,
            DomainKw::Unit => Domain::Unit,
            DomainKw::Interval(lo, hi) => Domain::interval(*lo, *hi),
        };
        for n in names {
            let span = back(n.span.clone());
            let name = n.name.as_str();
            if name == "pi" || name == "e" || Op::function_arity(name).is_some() {
                let what = if Op::function_arity(name).is_some() {
                    "function"
                } else {
                    "constant"
                };
                let kind = ModelErrorKind::Reserved {
                    name: name.to_string(),
                    what,
                };
                return Err(err(kind.into(), span));
            }
            let sym = Symbol::from(name);
            if params.iter().any(|(p, _)| p.name == sym) {
                return Err(err(
                    ModelErrorKind::Duplicate(name.to_string()).into(),
                    span,
                ));
            }
            if let Some(what) = model_name_kind(model, sym) {
                return Err(err(
                    MapErrorKind::Clash {
                        name: name.to_string(),
                        what,
                    },
                    span,
                ));
            }
            params.push((Param { name: sym, domain }, span));
        }
    }
    if params.is_empty() {
        let end = text.trim_end().len();
        return Err(err(MapErrorKind::NoParams, end..end));
    }
    if params.len() != model.params.len() {
        let start = text.len() - text.trim_start().len();
        let kind = MapErrorKind::Count {
            old: model.params.len(),
            names: model
                .param_names()
                .iter()
                .map(Symbol::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            new: params.len(),
        };
        return Err(err(kind, start..text.trim_end().len().max(start)));
    }
    Ok(params)
}

/// What a name other than a parameter is in `model`: "data variable", "constant", "`let`".
fn model_name_kind(model: &Model, name: Symbol) -> Option<&'static str> {
    if model.data.iter().any(|d| d.name == name) {
        Some("data variable")
    } else if model.consts.iter().any(|(c, _)| *c == name) {
        Some("constant")
    } else if model.lets.iter().any(|(l, _)| *l == name) {
        Some("`let`")
    } else {
        None
    }
}

/// The equations of `text`, in the old parameter order.
fn parse_map(
    model: &Model,
    params: &[(Param, Span)],
    text: &str,
) -> Result<Vec<(Symbol, Expr)>, ReparamError> {
    const WHAT: &str = "an equation `OLD = EXPR`";
    let err = |kind: MapErrorKind, span: Span| text_error(MapText::Map, kind, span);
    let new: Vec<Symbol> = params.iter().map(|(p, _)| p.name).collect();
    let new_list = new
        .iter()
        .map(Symbol::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let old = model.param_names();
    let old_list = old
        .iter()
        .map(Symbol::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let consts: Vec<Symbol> = model.consts.iter().map(|(c, _)| *c).collect();
    let mut found: Vec<Option<Expr>> = vec![None; old.len()];
    let mut used: BTreeSet<Symbol> = BTreeSet::new();
    for (start, piece) in pieces(text) {
        if piece.trim().is_empty() {
            continue;
        }
        let end = start + piece.len();
        let (file, shift) = parse_piece(MapText::Map, "let ", start, piece)?;
        let back = |s: Span| shift_span(s, shift, start);
        let [decl] = file.decls.as_slice() else {
            let span = start + (piece.len() - piece.trim_start().len())..end;
            return Err(err(MapErrorKind::NotOne(WHAT), span));
        };
        let DeclKind::Let(lhs, ast) = &decl.kind else {
            return Err(err(MapErrorKind::NotOne(WHAT), start..end));
        };
        let lhs_span = back(lhs.span.clone());
        let Some(index) = model.param_index(Symbol::from(lhs.name.as_str())) else {
            let kind = MapErrorKind::NotOldParam {
                name: lhs.name.clone(),
                suggestion: closest(&lhs.name, old.iter().map(Symbol::as_str)),
                params: old_list.clone(),
            };
            return Err(err(kind, lhs_span));
        };
        if found[index].is_some() {
            return Err(err(MapErrorKind::MappedTwice(lhs.name.clone()), lhs_span));
        }
        // Names of the model that are not new parameters get their own message; the rest
        // (unknown names, calls, constant subexpressions) are the model language's checks.
        for node in &ast.nodes {
            let NodeKind::Name(n) = &node.kind else {
                continue;
            };
            let sym = Symbol::from(n.as_str());
            if new.contains(&sym) {
                continue;
            }
            let what = if model.param_index(sym).is_some() {
                Some("parameter (not a new one)")
            } else {
                model_name_kind(model, sym).filter(|w| *w != "constant")
            };
            if let Some(what) = what {
                let kind = MapErrorKind::OldName {
                    name: n.clone(),
                    what,
                    new: new_list.clone(),
                };
                return Err(err(kind, back(node.span.clone())));
            }
        }
        let expr = crate::model::lower_expr(ast, &new, &consts)
            .map_err(|e| err(e.kind.into(), back(e.span)))?;
        used.extend(expr.symbols());
        found[index] = Some(expr);
    }
    let missing: Vec<String> = old
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(n, _)| format!("`{n}`"))
        .collect();
    if !missing.is_empty() {
        let end = text.trim_end().len();
        let kind = MapErrorKind::Missing {
            names: missing.join(", "),
        };
        return Err(err(kind, end..end));
    }
    if let Some((p, span)) = params.iter().find(|(p, _)| !used.contains(&p.name)) {
        return Err(text_error(
            MapText::New,
            MapErrorKind::Unused(p.name.to_string()),
            span.clone(),
        ));
    }
    Ok(old.into_iter().zip(found.into_iter().flatten()).collect())
}

/// The model with the old parameters replaced by the map, printed in the model language and
/// parsed back, so that it passes every check a model file does.
fn substitute(
    model: &Model,
    params: &[(Param, Span)],
    gmap: &HashMap<Symbol, Expr>,
) -> Result<Model, ReparamError> {
    let name = format!("{}_reparam", model.name);
    let mut draft = Model {
        name: name.clone(),
        params: params.iter().map(|(p, _)| p.clone()).collect(),
        data: model.data.clone(),
        consts: model.consts.clone(),
        lets: model
            .lets
            .iter()
            .map(|(n, e)| (*n, e.substitute(gmap)))
            .collect(),
        logp: model.logp.substitute(gmap),
    };
    let facts = Facts::of(&draft);
    draft.logp = simplest(&draft.logp, &facts);
    Model::parse(&draft.to_string(), &name).map_err(ReparamError::Model)
}

/// One sampled point: `φ`, `θ = g(φ)`, `J(φ)` and `det J(φ)`.
type Sampled = (Vec<f64>, Vec<f64>, DMatrix<f64>, f64);

/// The map at the sampled points of the new domain, each checked to land in the old domains
/// with an invertible Jacobian.
fn sample(
    model: &Model,
    substituted: &Model,
    equations: &[(Symbol, Expr)],
    jacobian: &[Vec<Expr>],
    det_formula: &Expr,
) -> Result<Vec<Sampled>, ReparamError> {
    let names = substituted.param_names();
    let identically = det_formula.as_num() == Some(0.0);
    let mut out = Vec::with_capacity(FRACTIONS.len());
    for u in FRACTIONS {
        let phi: Vec<f64> = substituted
            .params
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let u = u[k % 3];
                let (lo, hi) = p.domain.bounds();
                let v = match (lo.is_finite(), hi.is_finite()) {
                    (true, true) => lo + (hi - lo) * (0.2 + 0.6 * u),
                    (true, false) => lo + 0.5 + 2.5 * u,
                    (false, true) => hi - 0.5 - 2.5 * u,
                    (false, false) => 3.0 * u - 1.5,
                };
                // Six decimals, so that the points print as written (−0.57, not
                // −0.5700000000000001), unless that leaves a narrow interval.
                let rounded = (v * 1e6).round() / 1e6;
                if p.domain.contains(rounded) {
                    rounded
                } else {
                    v
                }
            })
            .collect();
        let at = describe(&names, &phi);
        let mut env: Env<f64> = substituted.const_env().into_iter().collect();
        for (n, v) in names.iter().zip(&phi) {
            env.insert(*n, *v);
        }
        let mut theta = Vec::with_capacity(equations.len());
        for ((old, g), p) in equations.iter().zip(&model.params) {
            let value = eval_f64(g, &env);
            match value {
                Ok(v) if p.domain.contains(v) => theta.push(v),
                other => {
                    return Err(ReparamError::OutOfDomain {
                        at,
                        param: old.to_string(),
                        value: other.map_or_else(|e| format!("nothing ({e})"), number),
                        domain: p.domain.describe(),
                    });
                }
            }
        }
        let m = names.len();
        let mut jac = DMatrix::zeros(equations.len(), m);
        for (i, row) in jacobian.iter().enumerate() {
            for (j, e) in row.iter().enumerate() {
                jac[(i, j)] = eval_f64(e, &env).unwrap_or(f64::NAN);
            }
        }
        let det = if jac.is_square() {
            jac.determinant()
        } else {
            f64::NAN
        };
        let finite = jac.iter().all(|v| v.is_finite());
        let singular = finite && {
            let sv = jac.singular_values();
            let largest = sv.max();
            sv.min() <= SINGULAR * largest
        };
        let invertible = finite && det.is_finite() && det != 0.0 && !singular && !identically;
        if !invertible {
            return Err(ReparamError::NotInvertible {
                at,
                det: number(det),
                identically,
            });
        }
        out.push((phi, theta, jac, det));
    }
    Ok(out)
}
