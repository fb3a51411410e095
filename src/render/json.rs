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
pub fn derive(model: &Model, derivation: &Derivation) -> Value {
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
    json!({
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
    })
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
        Verification::Unchecked { reason, checked } => {
            json!({ "status": v.status(), "detail": reason, "points": checked })
        }
        Verification::Skipped => json!({ "status": v.status() }),
    }
}
