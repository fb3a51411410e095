//! `fisher reparam MODEL --new DECLS --map EQS [-o NEW.model]`: the model in new parameters,
//! the Jacobian of the map, the pullback of the Fisher metric and its check against the
//! direct derivation. The new model file is written (atomically) only when every check
//! passed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::diagnostic::render_error;
use super::format::{Format, json_line};
use super::numeric::{latex_matrix_num, matrix_text, rows};
use crate::geometry::{REPARAM_TOL, Reparam, ReparamError, ReparamPoint};
use crate::model::Model;
use crate::render::{latex, latex_matrix, latex_name, number};

/// Why `fisher reparam` failed.
pub(super) enum ReparamFailure {
    /// An error message for stderr.
    Message(String),
    /// The full report of a pullback that does not match the direct derivation, for stdout.
    Mismatch(String),
}

/// The inputs of `fisher reparam`.
pub(super) struct ReparamArgs<'a> {
    /// `--new`.
    pub new: &'a str,
    /// `--map`.
    pub map: &'a str,
    /// `-o`.
    pub output: Option<&'a Path>,
    /// `--format`.
    pub format: Format,
    /// Colour in code frames.
    pub color: bool,
}

/// `fisher reparam`.
pub(super) fn reparam(model: &Model, args: &ReparamArgs<'_>) -> Result<String, ReparamFailure> {
    let r = Reparam::new(model, args.new, args.map).map_err(|e| error_text(&e, args))?;
    finish(model, &r, args)
}

/// The report of a reparameterization, the model file written when it matches the direct
/// derivation, a [`ReparamFailure::Mismatch`] (and no file) when it does not.
fn finish(model: &Model, r: &Reparam, args: &ReparamArgs<'_>) -> Result<String, ReparamFailure> {
    let report = match args.format {
        Format::Text => text(model, r),
        Format::Latex => latex_report(r),
        Format::Json => json_line(&json(r)),
    };
    if !r.matches_direct() {
        return Err(ReparamFailure::Mismatch(report));
    }
    let Some(path) = args.output else {
        return Ok(report);
    };
    write_atomically(path, &r.model.to_string()).map_err(|e| {
        ReparamFailure::Message(format!("error: cannot write `{}`: {e}\n", path.display()))
    })?;
    Ok(match args.format {
        Format::Text => format!("{report}\nwrote the new model to {}\n", path.display()),
        Format::Latex | Format::Json => report,
    })
}

/// The message of a refused reparameterization: a code frame into `--new` or `--map` for
/// errors in those texts.
fn error_text(e: &ReparamError, args: &ReparamArgs<'_>) -> ReparamFailure {
    ReparamFailure::Message(match e {
        ReparamError::Text { input, span, .. } => {
            let source = match input {
                crate::geometry::MapText::New => args.new,
                crate::geometry::MapText::Map => args.map,
            };
            render_error(
                source,
                input.flag(),
                &e.to_string(),
                span.clone(),
                args.color,
            )
        }
        _ => format!("error: {e}\n"),
    })
}

/// Writes `text` to a temporary file beside `path`, then renames it over `path`: a reader
/// never sees half a model, and a failure leaves no file behind.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{stem}.{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The names of the new parameters.
fn new_names(r: &Reparam) -> Vec<String> {
    r.model.params.iter().map(|p| p.name.to_string()).collect()
}

/// `name=value, …` of a sampled point.
fn point_text(names: &[String], values: &[f64]) -> String {
    crate::expr::assignments(names, values)
}

/// The upper triangle of a symmetric matrix of formulas as `[a, b] = expr` lines.
fn entries_text(names: &[String], m: &[Vec<crate::Expr>]) -> String {
    let mut rows = Vec::new();
    for i in 0..names.len() {
        for j in i..names.len() {
            rows.push((format!("[{}, {}]", names[i], names[j]), &m[i][j]));
        }
    }
    let w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = String::new();
    for (k, e) in rows {
        let fill = w - k.chars().count();
        let _ = writeln!(s, "  {k}{} = {e}", " ".repeat(fill));
    }
    s
}

/// The check as one sentence.
fn check_sentence(r: &Reparam) -> String {
    let symbolic = match r.symbolic_zero {
        Some(true) => "symbolically (the difference simplifies to 0) and ",
        Some(false) => "(the difference does not simplify to 0, so the numbers decide) ",
        None => "",
    };
    format!(
        "{symbolic}at {} points of the new domain, largest relative discrepancy {} (tolerance {})",
        r.points.len(),
        number(r.max_discrepancy()),
        number(REPARAM_TOL)
    )
}

/// The text report.
fn text(model: &Model, r: &Reparam) -> String {
    let names = new_names(r);
    let old: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "model {} reparameterized as {}",
        model.name, r.model.name
    );
    let params = r
        .model
        .params
        .iter()
        .map(|p| format!("{} : {}", p.name, p.domain))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(s, "params  {params}");
    let _ = writeln!(s, "\nmap");
    let w = old.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for (n, g) in &r.map {
        let fill = w - n.as_str().chars().count();
        let _ = writeln!(s, "  {n}{} = {g}", " ".repeat(fill));
    }
    let _ = writeln!(s, "\nlog-density\n  logp = {}", r.model.logp);
    let _ = writeln!(s, "\njacobian J[old, new] = d old/d new");
    let mut cells = Vec::new();
    for (i, (n, _)) in r.map.iter().enumerate() {
        for (j, p) in names.iter().enumerate() {
            cells.push((format!("[{n}, {p}]"), &r.jacobian[i][j]));
        }
    }
    let w = cells
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, e) in cells {
        let fill = w - k.chars().count();
        let _ = writeln!(s, "  {k}{} = {e}", " ".repeat(fill));
    }
    let _ = writeln!(s, "  det J = {}", r.det);
    let _ = writeln!(
        s,
        "\npullback F = J^T F_old(g) J ({})",
        r.pullback_method().as_str()
    );
    match &r.pullback {
        Some(p) => s.push_str(&entries_text(&names, p)),
        None => {
            let _ = writeln!(
                s,
                "  no closed form: the old model's F is numeric, so the pullback is evaluated at the points below"
            );
        }
    }
    let _ = writeln!(
        s,
        "\nfisher information of the substituted model, derived directly ({})",
        r.direct_method().as_str()
    );
    match &r.direct {
        Some(d) => s.push_str(&entries_text(&names, d)),
        None => {
            let _ = writeln!(s, "  no closed form: evaluated at the points below");
        }
    }
    if r.pullback.is_none() || r.direct.is_none() || !r.matches_direct() {
        for p in &r.points {
            s.push_str(&point_report(&names, p));
        }
    }
    let _ = writeln!(s, "\ncheck: the pullback equals the direct derivation");
    let _ = writeln!(s, "  {}", check_sentence(r));
    let _ = writeln!(s, "matches_direct: {}", r.matches_direct());
    if !r.matches_direct() {
        let why = if r.pullback.is_some() && r.direct.is_some() {
            "both are closed forms, so this is a bug in fisher, please report it"
        } else {
            "a numeric Fisher matrix is off by more than the tolerance (its quadrature, or a bug in fisher)"
        };
        let _ = writeln!(
            s,
            "error: the pullback does not match the direct derivation (relative discrepancy {}): {why}; no model file is written",
            number(r.max_discrepancy())
        );
    }
    s
}

/// One sampled point in the text report.
fn point_report(names: &[String], p: &ReparamPoint) -> String {
    format!(
        "\nat {} (det J = {}; relative discrepancy {})\n  pullback\n{}  direct\n{}",
        point_text(names, &p.phi),
        number(p.det),
        number(p.discrepancy),
        matrix_text(&p.pullback, "    "),
        matrix_text(&p.direct, "    ")
    )
}

/// The LaTeX report: one display formula per line.
fn latex_report(r: &Reparam) -> String {
    let phi = r
        .model
        .params
        .iter()
        .map(|p| latex_name(p.name.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = String::new();
    for (n, g) in &r.map {
        let _ = writeln!(s, "{} = {}", latex_name(n.as_str()), latex(g));
    }
    let x = r
        .model
        .data
        .iter()
        .map(|d| latex_name(d.name.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(s, "\\ell({x}; {phi}) = {}", latex(&r.model.logp));
    let _ = writeln!(s, "\\mathbf{{J}} = {}", latex_matrix(&r.jacobian));
    let _ = writeln!(s, "\\det \\mathbf{{J}} = {}", latex(&r.det));
    match &r.pullback {
        Some(p) => {
            let _ = writeln!(
                s,
                "\\mathbf{{J}}^{{\\top}} \\mathbf{{F}}_{{\\theta}} \\mathbf{{J}} = {}",
                latex_matrix(p)
            );
        }
        None => {
            for p in &r.points {
                let _ = writeln!(
                    s,
                    "\\mathbf{{J}}^{{\\top}} \\mathbf{{F}}_{{\\theta}} \\mathbf{{J}}({}) = {}",
                    latex_point(r, &p.phi),
                    latex_matrix_num(&p.pullback)
                );
            }
        }
    }
    match &r.direct {
        Some(d) => {
            let _ = writeln!(s, "\\mathbf{{F}}({phi}) = {}", latex_matrix(d));
        }
        None => {
            for p in &r.points {
                let _ = writeln!(
                    s,
                    "\\mathbf{{F}}({}) = {}",
                    latex_point(r, &p.phi),
                    latex_matrix_num(&p.direct)
                );
            }
        }
    }
    s
}

/// `h = 0.1, \lambda = 2` in LaTeX.
fn latex_point(r: &Reparam, phi: &[f64]) -> String {
    r.model
        .params
        .iter()
        .zip(phi)
        .map(|(p, v)| {
            format!(
                "{} = {}",
                latex_name(p.name.as_str()),
                crate::render::latex_number(*v)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `fisher reparam --format json` (DESIGN §5: `params`, `map`, `jacobian`, `fisher`
/// {`method`, `matrix`}, `matches_direct`), plus the substituted model, the direct `F` and
/// the sampled points.
#[derive(Serialize)]
struct ReparamJson {
    checked_at: Vec<PointJson>,
    det_jacobian: String,
    direct: FisherJson,
    fisher: FisherJson,
    jacobian: Vec<Vec<String>>,
    logp: String,
    map: BTreeMap<String, String>,
    matches_direct: bool,
    max_discrepancy: f64,
    model: String,
    params: Vec<String>,
    symbolic_difference_zero: Option<bool>,
}

/// A Fisher matrix: formulas, or `null` when it is numeric (see `checked_at`).
#[derive(Serialize)]
struct FisherJson {
    matrix: Option<Vec<Vec<String>>>,
    method: &'static str,
}

/// One sampled point.
#[derive(Serialize)]
struct PointJson {
    at: BTreeMap<String, f64>,
    det_jacobian: f64,
    direct: Vec<Vec<f64>>,
    discrepancy: f64,
    old: BTreeMap<String, f64>,
    pullback: Vec<Vec<f64>>,
}

fn formulas(m: &[Vec<crate::Expr>]) -> Vec<Vec<String>> {
    m.iter()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect()
}

fn json(r: &Reparam) -> ReparamJson {
    let names = new_names(r);
    let old: Vec<String> = r.map.iter().map(|(n, _)| n.to_string()).collect();
    ReparamJson {
        checked_at: r
            .points
            .iter()
            .map(|p| PointJson {
                at: names.iter().cloned().zip(p.phi.iter().copied()).collect(),
                det_jacobian: p.det,
                direct: rows(&p.direct),
                discrepancy: p.discrepancy,
                old: old.iter().cloned().zip(p.theta.iter().copied()).collect(),
                pullback: rows(&p.pullback),
            })
            .collect(),
        det_jacobian: r.det.to_string(),
        direct: FisherJson {
            matrix: r.direct.as_deref().map(formulas),
            method: r.direct_method().as_str(),
        },
        fisher: FisherJson {
            matrix: r.pullback.as_deref().map(formulas),
            method: r.pullback_method().as_str(),
        },
        jacobian: formulas(&r.jacobian),
        logp: r.model.logp.to_string(),
        map: r
            .map
            .iter()
            .map(|(n, g)| (n.to_string(), g.to_string()))
            .collect(),
        matches_direct: r.matches_direct(),
        max_discrepancy: r.max_discrepancy(),
        model: r.model.to_string(),
        params: names,
        symbolic_difference_zero: r.symbolic_zero,
    }
}

#[cfg(test)]
mod tests {
    use super::{Format, ReparamArgs, ReparamFailure, finish};
    use crate::geometry::Reparam;
    use crate::model::Model;

    /// A pullback that disagrees with the direct derivation (here by tampering with one
    /// sampled point, as a bug would) is a report with a non-zero exit, and no file.
    #[test]
    fn a_mismatch_fails_with_the_discrepancy_and_writes_no_file() {
        let model = Model::builtin("normal").unwrap();
        let new = "h: real, lambda: positive";
        let map = "mu = h/lambda, sigma = 1/sqrt(lambda)";
        let mut r = Reparam::new(&model, new, map).unwrap();
        let dir = std::env::temp_dir().join(format!("fisher-reparam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.model");
        let args = |format| ReparamArgs {
            new,
            map,
            output: Some(&path),
            format,
            color: false,
        };
        r.points[2].direct[(0, 1)] *= 1.0 + 1e-6;
        r.points[2].discrepancy =
            crate::geometry::relative_discrepancy(&r.points[2].pullback, &r.points[2].direct);
        assert!(!r.matches_direct());
        for format in [Format::Text, Format::Json] {
            match finish(&model, &r, &args(format)) {
                Err(ReparamFailure::Mismatch(report)) => {
                    if format == Format::Text {
                        assert!(report.contains("matches_direct: false"), "{report}");
                        assert!(report.contains("(relative discrepancy 2.16"), "{report}");
                        assert!(report.contains("this is a bug in fisher"), "{report}");
                    } else {
                        let v: serde_json::Value = serde_json::from_str(&report).unwrap();
                        assert_eq!(v["matches_direct"], false);
                        assert!(v["max_discrepancy"].as_f64().unwrap() > 1e-8);
                    }
                }
                Err(ReparamFailure::Message(m)) => panic!("{m}"),
                Ok(out) => panic!("accepted: {out}"),
            }
        }
        assert!(!path.exists());
        r.points[2].direct = r.points[2].pullback.clone();
        r.points[2].discrepancy = 0.0;
        assert!(finish(&model, &r, &args(Format::Json)).is_ok());
        assert!(path.is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
