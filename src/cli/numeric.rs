//! The numeric commands: `fisher eval`, `fisher kl`, `fisher check`. Each returns what it
//! prints on stdout, or a [`CommandError`] for stderr.

use std::fmt::Write as _;

use nalgebra::DMatrix;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::format::{Format, json_line};
use crate::info::{self, FisherAt, InfoError};
use crate::model::{Model, Point};
use crate::render::json::VerificationJson;
use crate::render::number;

/// Why a numeric command has no report.
#[derive(Debug, thiserror::Error)]
pub(super) enum CommandError {
    /// The library could not compute what was asked.
    #[error(transparent)]
    Info(#[from] InfoError),
    /// `fisher check --points 0`.
    #[error("--points 0 checks nothing: ask for at least one point")]
    NoPoints,
}

/// The rows of a matrix, for JSON.
pub(super) fn rows(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
        .collect()
}

/// A point as a JSON object `{name: value}` (names in sorted order, as every object of the
/// JSON output).
pub(super) fn at_map(at: &Point) -> BTreeMap<String, f64> {
    at.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

/// The three forms (JSON `forms`). Fields of every JSON struct here are in alphabetical
/// order: the output has always listed them so, and stays byte for byte the same.
#[derive(Serialize)]
struct FormsJson {
    covariance: Vec<Vec<f64>>,
    negative_hessian: Vec<Vec<f64>>,
    outer_product: Vec<Vec<f64>>,
}

impl FormsJson {
    fn of(f: &info::Forms) -> FormsJson {
        FormsJson {
            covariance: rows(&f.covariance),
            negative_hessian: rows(&f.negative_hessian),
            outer_product: rows(&f.outer_product),
        }
    }
}

/// `fisher eval --format json` (DESIGN §5: `at`, `fisher`, `method`, `forms`,
/// `max_rel_discrepancy`).
#[derive(Serialize)]
struct EvalJson {
    at: BTreeMap<String, f64>,
    fisher: Vec<Vec<f64>>,
    forms: FormsJson,
    mass: f64,
    max_rel_discrepancy: f64,
    mean_score: Vec<f64>,
    method: &'static str,
    non_smooth_at: Option<String>,
    twice_differentiable: bool,
    verification: Option<VerificationJson>,
}

/// `fisher kl --format json` (DESIGN §5: `kl`, `method`).
#[derive(Serialize)]
struct KlJson<'a> {
    error: Option<f64>,
    expr: Option<String>,
    kl: f64,
    latex: Option<String>,
    method: &'static str,
    notes: &'a [String],
    p: BTreeMap<String, f64>,
    q: BTreeMap<String, f64>,
    verification: Option<VerificationJson>,
}

/// The KL Hessians at a point of `fisher check`.
#[derive(Serialize)]
struct KlHessianJson {
    checked: bool,
    forward: Vec<Vec<f64>>,
    forward_discrepancy: f64,
    method: &'static str,
    reverse: Vec<Vec<f64>>,
    reverse_discrepancy: f64,
}

/// One second-order test of `fisher check`.
#[derive(Serialize)]
struct SecondOrderJson<'a> {
    cubic: bool,
    divergence: &'a str,
    errors: &'a [f64],
}

/// One point of `fisher check --format json`.
#[derive(Serialize)]
#[serde(untagged)]
enum PointJson<'a> {
    Checked(Box<CheckedJson<'a>>),
    Failed {
        at: BTreeMap<String, f64>,
        error: String,
        passed: bool,
    },
}

/// A point of `fisher check` where the checks could be made.
#[derive(Serialize)]
struct CheckedJson<'a> {
    at: BTreeMap<String, f64>,
    fisher: Vec<Vec<f64>>,
    forms: FormsJson,
    kl_hessian: KlHessianJson,
    kl_second_order: Vec<SecondOrderJson<'a>>,
    max_rel_discrepancy: f64,
    method: &'static str,
    passed: bool,
    twice_differentiable: bool,
    verification: Option<VerificationJson>,
}

/// `fisher check --format json` (DESIGN §5: per point the three forms, the KL-Hessian
/// checks, the second-order KL error; `passed`).
#[derive(Serialize)]
struct CheckJson<'a> {
    kl_verification: Option<VerificationJson>,
    model: &'a str,
    passed: bool,
    points: Vec<PointJson<'a>>,
}

/// A serializable value as the commands print it.
pub(super) fn json_text(v: &impl Serialize) -> String {
    json_line(v)
}

/// Rows of a matrix, numbers aligned, for text output.
pub(super) fn matrix_text(m: &DMatrix<f64>, indent: &str) -> String {
    let cells: Vec<Vec<String>> = (0..m.nrows())
        .map(|i| {
            (0..m.ncols())
                .map(|j| format!("{:.10e}", m[(i, j)]))
                .collect()
        })
        .collect();
    let w = cells.iter().flatten().map(String::len).max().unwrap_or(0);
    cells
        .iter()
        .map(|r| {
            format!(
                "{indent}[{}]\n",
                r.iter()
                    .map(|c| format!("{c:>w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
            )
        })
        .collect()
}

pub(super) fn latex_matrix_num(m: &DMatrix<f64>) -> String {
    let rows: Vec<String> = (0..m.nrows())
        .map(|i| {
            (0..m.ncols())
                .map(|j| crate::render::latex_number(m[(i, j)]))
                .collect::<Vec<_>>()
                .join(" & ")
        })
        .collect();
    format!(
        "\\begin{{pmatrix}} {} \\end{{pmatrix}}",
        rows.join(" \\\\ ")
    )
}

/// `fisher eval`.
pub(super) fn eval(
    model: &Model,
    at: &Point,
    format: Format,
    verify: bool,
) -> Result<String, CommandError> {
    let d = crate::simplify::derive(model);
    let f = info::numeric::fisher_at_opts(model, &d, at, verify)?;
    Ok(match format {
        Format::Json => json_line(&eval_json(&f)),
        Format::Latex => format!("\\mathbf{{F}} = {}\n", latex_matrix_num(&f.matrix)),
        Format::Text => eval_text(model, &f),
    })
}

fn eval_json(f: &FisherAt) -> EvalJson {
    EvalJson {
        at: at_map(&f.at),
        fisher: rows(&f.matrix),
        method: f.method.as_str(),
        forms: FormsJson::of(&f.forms),
        max_rel_discrepancy: f.max_rel_discrepancy,
        twice_differentiable: f.non_smooth.is_none(),
        non_smooth_at: f.non_smooth.clone(),
        mass: f.mass,
        mean_score: f.mean_score.iter().copied().collect(),
        verification: f
            .verification
            .as_ref()
            .map(crate::render::json::verification),
    }
}

fn eval_text(model: &Model, f: &FisherAt) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "model {} at {}", model.name, f.at);
    let _ = writeln!(s, "\nfisher information ({})", f.method.as_str());
    s.push_str(&matrix_text(&f.matrix, "  "));
    match &f.verification {
        Some(v @ info::Verification::Failed(_)) => {
            let _ = writeln!(
                s,
                "  note: the closed form {}; the numeric E[s s^T] is reported instead",
                v.describe()
            );
        }
        Some(v) => {
            let _ = writeln!(s, "  closed form {}", v.describe());
        }
        None => {}
    }
    let _ = writeln!(s, "\nthe three forms, numerically");
    let _ = writeln!(s, "  E[s s^T]");
    s.push_str(&matrix_text(&f.forms.outer_product, "    "));
    let _ = writeln!(s, "  Cov[s]");
    s.push_str(&matrix_text(&f.forms.covariance, "    "));
    match &f.non_smooth {
        None => {
            let _ = writeln!(s, "  E[-hessian]");
            s.push_str(&matrix_text(&f.forms.negative_hessian, "    "));
        }
        Some(at) => {
            let _ = writeln!(
                s,
                "  E[-hessian]: not the Fisher information here: the log-density is not twice differentiable in the parameters (`{at}`); its value would be"
            );
            s.push_str(&matrix_text(&f.forms.negative_hessian, "    "));
        }
    }
    let _ = writeln!(
        s,
        "\nlargest discrepancy between the forms: {:.2e} (relative to sqrt(F_ii F_jj))",
        f.max_rel_discrepancy
    );
    if f.max_rel_discrepancy > info::check::CHECK_TOL {
        let _ = writeln!(
            s,
            "  note: more than the tolerance {:.0e} of `fisher check`, which fails here: the forms are not all the Fisher information at this point",
            info::check::CHECK_TOL
        );
    }
    let _ = writeln!(
        s,
        "checks: integral of p = {}, E[s] = ({})",
        number(f.mass),
        f.mean_score
            .iter()
            .map(|v| format!("{v:.1e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s
}

/// The text of `fisher kl` writes a closed-form divergence with `let` lines when written
/// out it takes more than this many tree nodes (no built-in's does).
const KL_LETS_TREE: usize = 1_000;

/// `fisher kl`.
pub(super) fn kl(
    model: &Model,
    p: &Point,
    q: &Point,
    format: Format,
    verify: bool,
) -> Result<String, CommandError> {
    let report = info::kl_between(model, p, q, verify)?;
    let info::KlReport {
        divergence,
        expr,
        verification,
        notes,
    } = report;
    let (value, error) = (divergence.value, divergence.error);
    let method = divergence.method.as_str();
    Ok(match format {
        Format::Json => json_line(&KlJson {
            kl: value,
            method,
            p: at_map(p),
            q: at_map(q),
            expr: expr.as_ref().map(|e| e.to_string()),
            latex: expr.as_ref().map(|e| crate::render::latex(e).to_string()),
            error,
            verification: verification.as_ref().map(crate::render::json::verification),
            notes: &notes,
        }),
        Format::Latex => match &expr {
            Some(e) => format!(
                "D(\\theta \\| \\theta_{{q}}) = {}\nD = {}\n",
                crate::render::latex(e),
                number(value)
            ),
            None => format!("D = {}\n", number(value)),
        },
        Format::Text => {
            let mut s = format!("D(p || q) = {} ({method})\n", number(value));
            let _ = writeln!(s, "  p: {}\n  q: {}", p, q);
            if let Some(e) = expr {
                let (lets, e) = crate::render::expr_lets(model, &e, KL_LETS_TREE);
                for (name, def) in &lets {
                    let _ = writeln!(s, "  let {name} = {def}");
                }
                let _ = writeln!(s, "  D = {e}");
            }
            if let Some(v) = verification.as_ref().filter(|v| v.usable()) {
                let _ = writeln!(s, "  closed form {}", v.describe());
            }
            if let Some(e) = error {
                let _ = writeln!(s, "  estimated error {e:.1e}");
            }
            for n in &notes {
                let _ = writeln!(s, "  note: {n}");
            }
            s
        }
    })
}

/// `fisher check`: the report and whether every check passed.
pub(super) fn check(
    model: &Model,
    count: usize,
    seed: u64,
    format: Format,
) -> Result<(String, bool), CommandError> {
    let mut reports = Vec::new();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "model {}: checking the identities at {count} random point{} (seed {seed})",
        model.name,
        if count == 1 { "" } else { "s" }
    );
    if count == 0 {
        return Err(CommandError::NoPoints);
    }
    let report = info::check::check(model, count, seed)?;
    if let Some(v) = report.kl_verification.as_ref().filter(|v| !v.usable()) {
        let _ = writeln!(text, "\nclosed-form divergence: {}", v.describe());
    }
    for (at, r) in &report.points {
        let c = match r {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(text, "\nat {}: FAILED: {e}", at);
                reports.push(PointJson::Failed {
                    at: at_map(at),
                    error: e.to_string(),
                    passed: false,
                });
                continue;
            }
        };
        let (f, h) = (&c.fisher, &c.hessians);
        let (fwd, rev) = (c.forward_discrepancy, c.reverse_discrepancy);
        let hessians_checked = h.valid;
        let _ = writeln!(
            text,
            "\nat {}: {}",
            at,
            if c.passed { "passed" } else { "FAILED" }
        );
        let _ = writeln!(
            text,
            "  three forms agree to {:.1e} (method {})",
            f.max_rel_discrepancy,
            f.method.as_str()
        );
        if let Some(v) = &f.verification {
            let _ = writeln!(text, "  closed-form F {}", v.describe());
        }
        if let Some(k) = &f.non_smooth {
            let _ = writeln!(
                text,
                "  not twice differentiable in the parameters (`{k}`): the Hessian form does not hold"
            );
        }
        if hessians_checked {
            let how = h.method.describe();
            let _ = writeln!(
                text,
                "  Hessian of D(theta || theta') in theta' vs F: {fwd:.1e} ({how})"
            );
            let _ = writeln!(
                text,
                "  Hessian of D(theta' || theta) in theta' vs F: {rev:.1e} ({how})"
            );
        } else {
            let _ = writeln!(
                text,
                "  KL Hessians: not checked (a kink the integration pieces cannot follow); F is checked by the decay below"
            );
        }
        for o in &c.second_order {
            let _ = writeln!(
                text,
                "  {} at |d| = h, h/2, h/4: {} ({})",
                o.label,
                o.errors
                    .iter()
                    .map(|e| format!("{e:.2e}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if o.cubic {
                    "falls like |d|^3"
                } else {
                    "does NOT fall like |d|^3"
                }
            );
        }
        reports.push(PointJson::Checked(Box::new(CheckedJson {
            at: at_map(at),
            method: f.method.as_str(),
            forms: FormsJson::of(&f.forms),
            fisher: rows(&f.matrix),
            max_rel_discrepancy: f.max_rel_discrepancy,
            kl_hessian: KlHessianJson {
                forward: rows(&h.forward),
                reverse: rows(&h.reverse),
                forward_discrepancy: fwd,
                reverse_discrepancy: rev,
                method: h.method.as_str(),
                checked: hessians_checked,
            },
            kl_second_order: c
                .second_order
                .iter()
                .map(|o| SecondOrderJson {
                    divergence: &o.label,
                    errors: &o.errors,
                    cubic: o.cubic,
                })
                .collect(),
            twice_differentiable: f.non_smooth.is_none(),
            verification: f
                .verification
                .as_ref()
                .map(crate::render::json::verification),
            passed: c.passed,
        })));
    }
    let all = report.passed;
    let _ = writeln!(
        text,
        "\n{}",
        if all {
            "all checks passed"
        } else {
            "some checks FAILED"
        }
    );
    let report = serde_json::to_value(CheckJson {
        model: &model.name,
        points: reports,
        kl_verification: report
            .kl_verification
            .as_ref()
            .map(crate::render::json::verification),
        passed: all,
    })
    .unwrap_or(Value::Null);
    let out = match format {
        Format::Json => json_line(&report),
        Format::Latex => crate::render::check_latex(&report),
        Format::Text => text,
    };
    Ok((out, all))
}
