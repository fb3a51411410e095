//! JSON values for the command line's `--format json`, with the field names of DESIGN §5.

use serde_json::{Value, json};

use crate::diff::Derivatives;
use crate::expr::Expr;
use crate::model::Model;

fn exprs(v: &[Expr]) -> Value {
    Value::Array(v.iter().map(|e| Value::String(e.to_string())).collect())
}

/// The `fisher derive` object: `model`, `params`, `data`, `logp`, `score`, `hessian`,
/// `fisher` {`method`, `matrix`}, `jeffreys`.
///
/// Until the closed-form route exists, `fisher.matrix` and `jeffreys` are `null` and
/// `fisher.method` is `"numeric"`.
pub fn derive(model: &Model, d: &Derivatives) -> Value {
    json!({
        "model": model.name,
        "params": model.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        "data": model.data.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        "logp": d.logp.to_string(),
        "score": exprs(&d.score),
        "hessian": Value::Array(d.hessian.iter().map(|r| exprs(r)).collect()),
        "fisher": { "method": "numeric", "matrix": Value::Null },
        "jeffreys": Value::Null,
        "latex": {
            "logp": super::latex(&d.logp).to_string(),
            "score": d.score.iter().map(|e| super::latex(e).to_string()).collect::<Vec<_>>(),
            "hessian": super::latex_matrix(&d.hessian).to_string(),
        },
    })
}
