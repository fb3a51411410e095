//! The numeric commands: `fisher eval`, `fisher kl`, `fisher check`. Each returns what it
//! prints on stdout, or the error text for stderr.

use std::fmt::Write as _;

use egg::Symbol;
use nalgebra::DMatrix;
use serde_json::{Value, json};

use super::format::{Format, json_line};
use crate::info::numeric::describe_point;
use crate::info::{self, FisherAt};
use crate::model::Model;
use crate::render::number;

fn matrix_json(m: &DMatrix<f64>) -> Value {
    Value::Array(
        (0..m.nrows())
            .map(|i| Value::Array((0..m.ncols()).map(|j| json!(m[(i, j)])).collect()))
            .collect(),
    )
}

fn at_json(at: &[(Symbol, f64)]) -> Value {
    Value::Object(at.iter().map(|(n, v)| (n.to_string(), json!(v))).collect())
}

/// Rows of a matrix, numbers aligned, for text output.
fn matrix_text(m: &DMatrix<f64>, indent: &str) -> String {
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

fn latex_matrix_num(m: &DMatrix<f64>) -> String {
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
    at: &[(Symbol, f64)],
    format: Format,
    verify: bool,
) -> Result<String, String> {
    let d = crate::simplify::derive(model);
    let f = info::numeric::fisher_at_opts(model, &d, at, verify)
        .map_err(|e| format!("error: {e}\n"))?;
    Ok(match format {
        Format::Json => json_line(&eval_json(&f)),
        Format::Latex => format!("\\mathbf{{F}} = {}\n", latex_matrix_num(&f.matrix)),
        Format::Text => eval_text(model, &f),
    })
}

fn eval_json(f: &FisherAt) -> Value {
    json!({
        "at": at_json(&f.at),
        "fisher": matrix_json(&f.matrix),
        "method": f.method.as_str(),
        "forms": {
            "outer_product": matrix_json(&f.forms.outer_product),
            "covariance": matrix_json(&f.forms.covariance),
            "negative_hessian": matrix_json(&f.forms.negative_hessian),
        },
        "max_rel_discrepancy": f.max_rel_discrepancy,
        "twice_differentiable": f.non_smooth.is_none(),
        "non_smooth_at": f.non_smooth,
        "mass": f.mass,
        "mean_score": f.mean_score.iter().copied().collect::<Vec<f64>>(),
        "verification": f.verification.as_ref().map(crate::render::json::verification),
    })
}

fn eval_text(model: &Model, f: &FisherAt) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "model {} at {}", model.name, describe_point(&f.at));
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

/// `fisher kl`.
pub(super) fn kl(
    model: &Model,
    p: &[(Symbol, f64)],
    q: &[(Symbol, f64)],
    format: Format,
    verify: bool,
) -> Result<String, String> {
    let report = info::kl_between(model, p, q, verify).map_err(|e| format!("error: {e}\n"))?;
    let info::KlReport {
        divergence,
        expr,
        verification,
        notes,
    } = report;
    let (value, error) = (divergence.value, divergence.error);
    let method = divergence.method.as_str();
    Ok(match format {
        Format::Json => json_line(&json!({
            "kl": value,
            "method": method,
            "p": at_json(p),
            "q": at_json(q),
            "expr": expr.as_ref().map(|e| e.to_string()),
            "latex": expr.as_ref().map(|e| crate::render::latex(e).to_string()),
            "error": error,
            "verification": verification.as_ref().map(crate::render::json::verification),
            "notes": notes,
        })),
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
            let _ = writeln!(s, "  p: {}\n  q: {}", describe_point(p), describe_point(q));
            if let Some(e) = expr {
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
) -> Result<(String, bool), String> {
    let mut reports = Vec::new();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "model {}: checking the identities at {count} random point{} (seed {seed})",
        model.name,
        if count == 1 { "" } else { "s" }
    );
    if count == 0 {
        return Err("error: --points 0 checks nothing: ask for at least one point\n".to_string());
    }
    let report = info::check::check(model, count, seed).map_err(|e| format!("error: {e}\n"))?;
    if let Some(v) = report.kl_verification.as_ref().filter(|v| !v.usable()) {
        let _ = writeln!(text, "\nclosed-form divergence: {}", v.describe());
    }
    for (at, r) in &report.points {
        let c = match r {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(text, "\nat {}: FAILED: {e}", describe_point(at));
                reports.push(json!({ "at": at_json(at), "error": e.to_string(), "passed": false }));
                continue;
            }
        };
        let (f, h) = (&c.fisher, &c.hessians);
        let (fwd, rev) = (c.forward_discrepancy, c.reverse_discrepancy);
        let hessians_checked = h.valid;
        let _ = writeln!(
            text,
            "\nat {}: {}",
            describe_point(at),
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
        reports.push(json!({
            "at": at_json(at),
            "method": f.method.as_str(),
            "forms": {
                "outer_product": matrix_json(&f.forms.outer_product),
                "covariance": matrix_json(&f.forms.covariance),
                "negative_hessian": matrix_json(&f.forms.negative_hessian),
            },
            "fisher": matrix_json(&f.matrix),
            "max_rel_discrepancy": f.max_rel_discrepancy,
            "kl_hessian": {
                "forward": matrix_json(&h.forward),
                "reverse": matrix_json(&h.reverse),
                "forward_discrepancy": fwd,
                "reverse_discrepancy": rev,
                "method": h.method.as_str(),
                "checked": hessians_checked,
            },
            "kl_second_order": c.second_order.iter().map(|o| json!({ "divergence": o.label, "errors": o.errors, "cubic": o.cubic })).collect::<Vec<_>>(),
            "twice_differentiable": f.non_smooth.is_none(),
            "verification": f.verification.as_ref().map(crate::render::json::verification),
            "passed": c.passed,
        }));
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
    let report = json!({
        "model": model.name,
        "points": reports,
        "kl_verification": report.kl_verification.as_ref().map(crate::render::json::verification),
        "passed": all,
    });
    let out = match format {
        Format::Json => json_line(&report),
        Format::Latex => crate::render::check_latex(&report),
        Format::Text => text,
    };
    Ok((out, all))
}
