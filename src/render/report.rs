//! LaTeX reports of the listing and checking commands: one display formula per line, each
//! accepted by KaTeX (CI checks the snapshots).

use std::fmt::Write as _;

use serde_json::Value;

use super::latex::{latex, latex_name};
use crate::model::{Domain, Model, Support};

/// A number as LaTeX: `1.234560 \times 10^{-7}`, `0.5`, `\infty`, `\mathrm{NaN}`.
pub fn latex_number(v: f64) -> String {
    if v.is_nan() {
        return "\\mathrm{NaN}".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "\\infty" } else { "-\\infty" }.into();
    }
    let s = format!("{v:.6e}");
    match s.split_once('e') {
        Some((m, "0")) => m.to_string(),
        Some((m, e)) => format!("{m} \\times 10^{{{e}}}"),
        None => s,
    }
}

/// Text set upright in math mode, every character LaTeX treats specially escaped.
pub fn latex_text(s: &str) -> String {
    let mut out = String::from("\\text{");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '_' | '#' | '$' | '%' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '^' => out.push_str("\\textasciicircum{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('}');
    out
}

fn domain_latex(d: Domain) -> String {
    match d {
        Domain::Real => "\\mathbb{R}".into(),
        Domain::Positive => "(0, \\infty)".into(),
        Domain::Unit => "(0, 1)".into(),
        Domain::Interval(lo, hi) => format!(
            "({}, {})",
            latex_number(lo.value()),
            latex_number(hi.value())
        ),
    }
}

fn support_latex(s: Support) -> String {
    match s {
        Support::Real => "\\mathbb{R}".into(),
        Support::Positive => "(0, \\infty)".into(),
        Support::Unit => "(0, 1)".into(),
        Support::Binary => "\\{0, 1\\}".into(),
        Support::Count => "\\{0, 1, 2, \\dots\\}".into(),
        Support::Int(lo, hi) => format!("\\{{{lo}, \\dots, {hi}\\}}"),
    }
}

/// One model as a line of LaTeX: its name, its log-density `\ell(x; \theta) = …`, and the
/// support of each data variable and the domain of each parameter.
///
/// ```
/// let m = fisher_geometry::Model::builtin("poisson")?;
/// let line = fisher_geometry::model_latex(&m);
/// assert!(line.starts_with("\\text{poisson}"));
/// # Ok::<(), fisher_geometry::ModelError>(())
/// ```
pub fn model_latex(model: &Model) -> String {
    let names = |v: Vec<egg::Symbol>| {
        v.iter()
            .map(|s| latex_name(s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let members: Vec<String> = model
        .data
        .iter()
        .map(|d| {
            format!(
                "{} \\in {}",
                latex_name(d.name.as_str()),
                support_latex(d.support)
            )
        })
        .chain(model.params.iter().map(|p| {
            format!(
                "{} \\in {}",
                latex_name(p.name.as_str()),
                domain_latex(p.domain)
            )
        }))
        .collect();
    format!(
        "{}\\colon\\ \\ell({}; {}) = {},\\quad {}",
        latex_text(&model.name),
        names(model.data_names()),
        names(model.param_names()),
        latex(&model.logp),
        members.join(",\\ ")
    )
}

/// A numeric matrix from its JSON form (rows of numbers) as a `pmatrix`.
fn json_matrix(m: &Value) -> String {
    let rows: Vec<String> = m
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            row.as_array()
                .into_iter()
                .flatten()
                .map(|x| latex_number(x.as_f64().unwrap_or(f64::NAN)))
                .collect::<Vec<_>>()
                .join(" & ")
        })
        .collect();
    format!(
        "\\begin{{pmatrix}} {} \\end{{pmatrix}}",
        rows.join(" \\\\ ")
    )
}

fn json_number(v: &Value) -> String {
    latex_number(v.as_f64().unwrap_or(f64::NAN))
}

/// The label of a second-order check (as `fisher check` names it in text) in LaTeX.
fn divergence_latex(label: &str) -> String {
    const HALF_FORM: &str = "\\tfrac{1}{2} d^{\\top} \\mathbf{F} d";
    match label {
        "D(theta + d || theta) - d^T F d / 2" => {
            format!("D(\\theta + d \\| \\theta) - {HALF_FORM}")
        }
        "D(theta || theta + d) - d^T F d / 2" => {
            format!("D(\\theta \\| \\theta + d) - {HALF_FORM}")
        }
        "D(theta + d || theta) - D(theta || theta + d)" => {
            "D(\\theta + d \\| \\theta) - D(\\theta \\| \\theta + d)".into()
        }
        other => latex_text(other),
    }
}

/// The LaTeX report of `fisher check` from its JSON report (the object `fisher check
/// --format json` prints: `model`, `points`, `passed`), so the two never disagree. Per
/// point: the point and its verdict, the Fisher matrix, and each discrepancy.
pub fn check_latex(report: &Value) -> String {
    let mut out = String::new();
    let model = report["model"].as_str().unwrap_or("model");
    let points = report["points"].as_array().map_or(&[][..], Vec::as_slice);
    for (k, p) in points.iter().enumerate() {
        let at: Vec<String> = p["at"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(n, v)| format!("{} = {}", latex_name(n), json_number(v)))
            .collect();
        let verdict = if p["passed"].as_bool() == Some(true) {
            "passed"
        } else {
            "FAILED"
        };
        let _ = writeln!(
            out,
            "{}\\ \\text{{point {}}}\\colon\\ \\theta = ({}),\\ \\text{{{verdict}}}",
            latex_text(model),
            k + 1,
            at.join(", ")
        );
        if let Some(e) = p["error"].as_str() {
            let _ = writeln!(out, "\\text{{error: }}{}", latex_text(e));
            continue;
        }
        let _ = writeln!(
            out,
            "\\mathbf{{F}}(\\theta) = {},\\quad \\max \\frac{{|\\Delta F|}}{{|F|}} = {}",
            json_matrix(&p["fisher"]),
            json_number(&p["max_rel_discrepancy"])
        );
        let kl = &p["kl_hessian"];
        if kl["checked"].as_bool() == Some(true) {
            let _ = writeln!(
                out,
                "\\nabla^2_{{\\theta'}} D(\\theta \\| \\theta') \\text{{ vs }} \\mathbf{{F}}\\colon {},\\quad \\nabla^2_{{\\theta'}} D(\\theta' \\| \\theta) \\text{{ vs }} \\mathbf{{F}}\\colon {}",
                json_number(&kl["forward_discrepancy"]),
                json_number(&kl["reverse_discrepancy"])
            );
        }
        for o in p["kl_second_order"].as_array().into_iter().flatten() {
            let errs: Vec<String> = o["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(json_number)
                .collect();
            let cubic = if o["cubic"].as_bool() == Some(true) {
                "\\text{falls like } |d|^{3}"
            } else {
                "\\text{does NOT fall like } |d|^{3}"
            };
            let _ = writeln!(
                out,
                "{}\\colon\\ {}\\ ({cubic})",
                divergence_latex(o["divergence"].as_str().unwrap_or("")),
                errs.join(",\\ ")
            );
        }
    }
    let all = if report["passed"].as_bool() == Some(true) {
        "all checks passed"
    } else {
        "some checks FAILED"
    };
    let _ = writeln!(out, "{}\\colon\\ \\text{{{all}}}", latex_text(model));
    out
}

#[cfg(test)]
mod tests {
    use super::{latex_number, latex_text};

    #[test]
    fn numbers_and_text() {
        assert_eq!(latex_number(0.5), "5.000000 \\times 10^{-1}");
        assert_eq!(latex_number(2.0), "2.000000");
        assert_eq!(latex_number(f64::INFINITY), "\\infty");
        assert_eq!(latex_text("a_b {c}"), "\\text{a\\_b \\{c\\}}");
    }
}
