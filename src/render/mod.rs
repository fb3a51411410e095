//! Rendering: plain text in the model language (the printer of [`crate::expr`], re-exported),
//! LaTeX, JSON values, and the SVG figure of Fisher balls. Renderings are display adapters
//! (`text(&e)`, `latex(&e)`); nothing here prints.

mod balls;
pub mod json;
mod latex;
mod report;

pub use crate::expr::{Pretty, Text, number, text};
pub use balls::{
    BallCurves, BallsFigure, Curve, CurveStyle, ELLIPSE_LEGEND, FIGURE_HEIGHT, FIGURE_WIDTH,
    LEVEL_SET_LEGEND, PlotLayout, RenderError, RenderedFigure, unicode_name,
};
pub use latex::{Latex, LatexMatrix, latex, latex_matrix, latex_name};
pub use report::model_latex;
pub(crate) use report::{check_latex, latex_number, latex_text};

use egg::Symbol;

pub(crate) use crate::expr::MIN_JSON_LETS_TREE;
pub use crate::expr::MIN_LETS_TREE;
use crate::expr::{Expr, FUNCTIONS, with_named_lets};
use crate::info::Derivation;
use crate::model::Model;

/// A derivation as printed: when writing its expressions out in full would be long and
/// mostly repetition (chains of `let` definitions and their derivatives), its large shared
/// subexpressions become `let` lines (returned first, in dependency order, each using only
/// the ones before it) and every expression of the returned copy is written with their names
/// (`min_tree` is the smallest tree worth naming: [`MIN_LETS_TREE`] for text, a larger one
/// for JSON). Otherwise the `let` list is empty and the copy equal.
/// New names avoid the model's names and the functions.
pub fn derivation_lets(
    model: &Model,
    derivation: &Derivation,
    min_tree: usize,
) -> (Vec<(Symbol, Expr)>, Derivation) {
    let taken = taken_names(model);
    let d = &derivation.derivatives;
    let mut all: Vec<&Expr> = vec![&d.logp];
    all.extend(&d.score);
    all.extend(d.hessian.iter().flatten());
    if let Ok(f) = &derivation.fisher {
        all.extend(f.matrix.iter().flatten());
    }
    all.extend(&derivation.jeffreys);
    let known = known_lets(model);
    let shared = with_named_lets(&all, min_tree, taken, &known);
    if shared.lets.is_empty() {
        return (Vec::new(), derivation.clone());
    }
    let mut out = derivation.clone();
    let mut next = shared.exprs.into_iter();
    let mut take = |e: &mut Expr| {
        if let Some(x) = next.next() {
            *e = x;
        }
    };
    let dd = &mut out.derivatives;
    take(&mut dd.logp);
    dd.score.iter_mut().for_each(&mut take);
    dd.hessian.iter_mut().flatten().for_each(&mut take);
    if let Ok(f) = &mut out.fisher {
        f.matrix.iter_mut().flatten().for_each(&mut take);
    }
    if let Some(j) = &mut out.jeffreys {
        take(j);
    }
    (shared.lets, out)
}

/// The names a new `let` name must avoid: functions, `pi` and `e`, and the model's names.
fn taken_names(model: &Model) -> impl Fn(&str) -> bool + '_ {
    |name: &str| {
        FUNCTIONS.iter().any(|(f, _)| *f == name)
            || matches!(name, "pi" | "e")
            || model.params.iter().any(|p| p.name.as_str() == name)
            || model.data.iter().any(|d| d.name.as_str() == name)
            || model.consts.iter().any(|(c, _)| c.as_str() == name)
            || model.lets.iter().any(|(l, _)| l.as_str() == name)
    }
}

/// The model's own lets, written out and put in canonical form as derived expressions are,
/// so that the ones that survive simplification are printed by name.
fn known_lets(model: &Model) -> Vec<(Symbol, Expr)> {
    let facts = crate::simplify::Facts::of(model);
    let mut inlined: std::collections::HashMap<Symbol, Expr> = std::collections::HashMap::new();
    let mut known = Vec::new();
    for (name, e) in &model.lets {
        let full = e.substitute(&inlined);
        known.push((*name, crate::simplify::canonicalize(&full, &facts)));
        inlined.insert(*name, full);
    }
    known
}

/// `expr` with its large shared subexpressions as `let` lines (the model's own names where
/// they occur), when writing it out takes more than `min_tree` tree nodes and the `let` form
/// is much shorter.
pub fn expr_lets(model: &Model, expr: &Expr, min_tree: usize) -> (Vec<(Symbol, Expr)>, Expr) {
    let mut shared = with_named_lets(&[expr], min_tree, taken_names(model), &known_lets(model));
    let e = shared.exprs.pop().unwrap_or_else(|| expr.clone());
    (shared.lets, e)
}
