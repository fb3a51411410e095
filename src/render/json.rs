//! JSON values for the command line's `--format json`, with the field names of DESIGN §5.

use serde_json::{Value, json};

use crate::expr::Expr;
use crate::info::{Derivation, Verification};
use crate::model::Model;

fn exprs(v: &[Expr]) -> Value {
    Value::Array(v.iter().map(|e| Value::String(e.to_string())).collect())
}

/// The `fisher derive` object: `model`, `params`, `data`, `logp`, `score`, `hessian`,
/// `fisher` {`method`, `matrix`}, `jeffreys`.
///
/// When the closed-form route does not apply, `fisher.method` is `"numeric"`,
/// `fisher.matrix` and `jeffreys` are `null`, and `fisher.reason` says why.
///
/// When the expressions written out in full would be very long (more than
/// [`super::MIN_JSON_LETS_TREE`] tree nodes) and mostly repetition, they use
/// names defined in an extra field `lets` (`[{"name", "expr"}]`, in order, each using only
/// the ones before it; see [`super::derivation_lets`]); substituting them back gives the full
/// expressions. Entries a budget left less simplified are listed in an extra field `notes`.
/// Both fields appear only when not empty.
pub fn derive(model: &Model, derivation: &Derivation) -> Value {
    let (lets, derivation) = super::derivation_lets(model, derivation, super::MIN_JSON_LETS_TREE);
    let derivation = &derivation;
    let d = &derivation.derivatives;
    let verification = derivation
        .verification
        .as_ref()
        .map_or(Value::Null, verification);
    let fisher = match derivation.closed() {
        Some(f) => json!({
            "method": "closed-form",
            "matrix": Value::Array(f.matrix.iter().map(|r| exprs(r)).collect()),
            "latex": super::latex_matrix(&f.matrix).to_string(),
            "verification": verification,
        }),
        None => json!({
            "method": "numeric",
            "matrix": Value::Null,
            "reason": derivation.reason(),
            "verification": verification,
        }),
    };
    let jeffreys = derivation
        .jeffreys
        .as_ref()
        .map_or(Value::Null, |j| Value::String(j.to_string()));
    let mut out = json!({
        "model": model.name,
        "params": model.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        "data": model.data.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        "logp": d.logp.to_string(),
        "score": exprs(&d.score),
        "hessian": Value::Array(d.hessian.iter().map(|r| exprs(r)).collect()),
        "fisher": fisher,
        "jeffreys": jeffreys,
        "skipped_checks": derivation.skipped_checks,
        "latex": {
            "logp": super::latex(&d.logp).to_string(),
            "score": d.score.iter().map(|e| super::latex(e).to_string()).collect::<Vec<_>>(),
            "hessian": super::latex_matrix(&d.hessian).to_string(),
        },
    });
    if !lets.is_empty() {
        out["lets"] = Value::Array(
            lets.iter()
                .map(|(name, e)| json!({ "name": name.as_str(), "expr": e.to_string() }))
                .collect(),
        );
    }
    if !d.fallbacks.is_empty() {
        out["notes"] = Value::Array(
            d.fallbacks
                .iter()
                .map(|f| Value::String(f.to_string()))
                .collect(),
        );
    }
    out
}

/// `{status, points, max_discrepancy, detail}` of a verification against quadrature.
pub fn verification(v: &Verification) -> Value {
    match v {
        Verification::Verified {
            points,
            max_discrepancy,
        } => json!({ "status": v.status(), "points": points, "max_discrepancy": max_discrepancy }),
        Verification::Failed(m) => json!({
            "status": v.status(),
            "detail": m.to_string(),
            "what": m.what,
            "at": m.at,
            "closed_form_value": m.closed,
            "numeric_value": m.numeric,
        }),
        Verification::Unchecked {
            reason, checked, ..
        } => {
            json!({ "status": v.status(), "detail": reason, "points": checked })
        }
        Verification::Skipped => json!({ "status": v.status() }),
    }
}
