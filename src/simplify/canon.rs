//! The canonical pass. (Being written.)

use super::Facts;
use crate::expr::Expr;

/// Returns the canonical form of `expr`.
pub fn canonicalize(expr: &Expr, _facts: &Facts) -> Expr {
    expr.clone()
}
