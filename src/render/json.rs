//! The JSON contract of the command line's `--format json` (DESIGN §5): structs that derive
//! `Serialize`, with the field names of the contract. Fields are in alphabetical order, as
//! the output has always listed them (`serde_json` maps sort their keys).

use serde::Serialize;

use crate::expr::Expr;
use crate::info::{Derivation, Verification};
use crate::model::Model;

fn exprs(v: &[Expr]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

/// The `fisher derive` object: `model`, `params`, `data`, `logp`, `score`, `hessian`,
/// `fisher` {`method`, `matrix`}, `jeffreys`.
#[derive(Debug, Clone, Serialize)]
pub struct DeriveJson {
    data: Vec<String>,
    fisher: FisherJson,
    hessian: Vec<Vec<String>>,
    jeffreys: Option<String>,
    latex: LatexJson,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lets: Vec<LetJson>,
    logp: String,
    model: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    params: Vec<String>,
    score: Vec<String>,
    skipped_checks: Option<String>,
}

/// The `fisher` field of [`DeriveJson`].
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum FisherJson {
    /// `method: "closed-form"`: the matrix, as expressions and in LaTeX.
    Closed {
        latex: String,
        matrix: Vec<Vec<String>>,
        method: &'static str,
        verification: Option<VerificationJson>,
    },
    /// `method: "numeric"`: `matrix` is `null`, `reason` says why.
    Numeric {
        /// Always `None` (`null`): there is no closed form.
        matrix: Option<Vec<Vec<String>>>,
        method: &'static str,
        reason: Option<String>,
        verification: Option<VerificationJson>,
    },
}

/// The `latex` field of [`DeriveJson`].
#[derive(Debug, Clone, Serialize)]
struct LatexJson {
    hessian: String,
    logp: String,
    score: Vec<String>,
}

/// One entry of the `lets` field of [`DeriveJson`].
#[derive(Debug, Clone, Serialize)]
struct LetJson {
    expr: String,
    name: String,
}

/// The `fisher derive` object (see [`DeriveJson`]).
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
pub fn derive(model: &Model, derivation: &Derivation) -> DeriveJson {
    let (lets, derivation) = super::derivation_lets(model, derivation, super::MIN_JSON_LETS_TREE);
    let d = &derivation.derivatives;
    let verification = derivation.verification.as_ref().map(verification);
    let fisher = match derivation.closed() {
        Some(f) => FisherJson::Closed {
            latex: super::latex_matrix(&f.matrix).to_string(),
            matrix: f.matrix.iter().map(|r| exprs(r)).collect(),
            method: "closed-form",
            verification,
        },
        None => FisherJson::Numeric {
            matrix: None,
            method: "numeric",
            reason: derivation.reason(),
            verification,
        },
    };
    DeriveJson {
        data: model.data.iter().map(|v| v.name.to_string()).collect(),
        fisher,
        hessian: d.hessian.iter().map(|r| exprs(r)).collect(),
        jeffreys: derivation.jeffreys.as_ref().map(ToString::to_string),
        latex: LatexJson {
            hessian: super::latex_matrix(&d.hessian).to_string(),
            logp: super::latex(&d.logp).to_string(),
            score: d
                .score
                .iter()
                .map(|e| super::latex(e).to_string())
                .collect(),
        },
        lets: lets
            .iter()
            .map(|(name, e)| LetJson {
                expr: e.to_string(),
                name: name.to_string(),
            })
            .collect(),
        logp: d.logp.to_string(),
        model: model.name.clone(),
        notes: d.fallbacks.iter().map(ToString::to_string).collect(),
        params: model.params.iter().map(|p| p.name.to_string()).collect(),
        score: exprs(&d.score),
        skipped_checks: derivation.skipped_checks.clone(),
    }
}

/// `{status, points, max_discrepancy, detail}` of a verification against quadrature.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum VerificationJson {
    /// `status: "verified"`.
    Verified {
        /// The largest scaled discrepancy seen.
        max_discrepancy: f64,
        /// How many points were checked.
        points: usize,
        /// `"verified"`.
        status: &'static str,
    },
    /// `status: "failed"`, with where and by how much.
    Failed {
        /// The parameter point(s).
        at: String,
        /// The closed form's value there.
        closed_form_value: f64,
        /// The mismatch in words.
        detail: String,
        /// The numeric route's value.
        numeric_value: f64,
        /// `"failed"`.
        status: &'static str,
        /// The quantity compared.
        what: String,
    },
    /// `status: "unchecked"`, with why.
    Unchecked {
        /// Why quadrature could not check it.
        detail: String,
        /// At how many points it was checked.
        points: usize,
        /// `"unchecked"`.
        status: &'static str,
    },
    /// `status: "skipped"`.
    Skipped {
        /// `"skipped"`.
        status: &'static str,
    },
}

/// The JSON of a verification (see [`VerificationJson`]).
pub fn verification(v: &Verification) -> VerificationJson {
    let status = v.status();
    match v {
        Verification::Verified {
            points,
            max_discrepancy,
        } => VerificationJson::Verified {
            max_discrepancy: *max_discrepancy,
            points: *points,
            status,
        },
        Verification::Failed(m) => VerificationJson::Failed {
            at: m.at.clone(),
            closed_form_value: m.closed,
            detail: m.to_string(),
            numeric_value: m.numeric,
            status,
            what: m.what.clone(),
        },
        Verification::Unchecked {
            reason, checked, ..
        } => VerificationJson::Unchecked {
            detail: reason.clone(),
            points: *checked,
            status,
        },
        Verification::Skipped => VerificationJson::Skipped { status },
    }
}
