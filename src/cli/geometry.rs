//! The geometry commands at a point: `fisher whiten` and `fisher curvature --at`. Each
//! returns what it prints on stdout, or an error for stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::format::Format;
use super::numeric::{at_map, json_text, latex_matrix_num, matrix_text, rows};
use crate::geometry::{Curvature, GeometryError, Properness, SymbolicCurvature, Whitening};
use crate::info::{FisherField, InfoError};
use crate::model::{Model, Point};
use crate::render::{latex, latex_name, latex_number, number};

/// Why a geometry command has no report.
#[derive(Debug, thiserror::Error)]
pub(super) enum GeometryCommandError {
    /// The field could not be built.
    #[error(transparent)]
    Info(#[from] InfoError),
    /// The geometry is not defined at the point, or an integral failed.
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    /// A malformed `--box` of `fisher jeffreys`.
    #[error("--box: {0}")]
    Box(String),
    /// Two routes to the same quantity disagree (a formula against shooting).
    #[error("{0}")]
    Check(String),
    /// A bad argument of `fisher balls` (the message names the flag).
    #[error("{0}")]
    Argument(String),
    /// The output file could not be written.
    #[error("{0}")]
    Write(String),
}

/// `fisher whiten --format json` (DESIGN §5: `at`, `sqrt_fisher`, `inverse_sqrt_fisher`).
#[derive(Serialize)]
struct WhitenJson {
    at: BTreeMap<String, f64>,
    eigenvalues: Vec<f64>,
    fisher: Vec<Vec<f64>>,
    inverse_sqrt_fisher: Vec<Vec<f64>>,
    method: &'static str,
    sqrt_fisher: Vec<Vec<f64>>,
}

/// The field of `model` and `θ` in parameter order.
fn field_at(model: &Model, at: &Point) -> Result<(FisherField, Vec<f64>), GeometryCommandError> {
    let field = FisherField::new(model)?;
    let theta = field.theta(at)?;
    Ok((field, theta))
}

/// `fisher whiten MODEL --at P`.
pub(super) fn whiten(
    model: &Model,
    at: &Point,
    format: Format,
) -> Result<String, GeometryCommandError> {
    let (field, theta) = field_at(model, at)?;
    let f = field.accurate(&theta)?;
    let w = Whitening::at(&field, &theta)?;
    let method = field.method().as_str();
    let mut eigenvalues: Vec<f64> = w.eigenvalues().iter().copied().collect();
    eigenvalues.sort_by(f64::total_cmp);
    Ok(match format {
        Format::Json => json_text(&WhitenJson {
            at: at_map(at),
            eigenvalues,
            fisher: rows(&f),
            inverse_sqrt_fisher: rows(w.inverse_sqrt_fisher()),
            method,
            sqrt_fisher: rows(w.sqrt_fisher()),
        }),
        Format::Latex => format!(
            "\\mathbf{{F}}^{{1/2}} = {}\n\\mathbf{{F}}^{{-1/2}} = {}\n",
            latex_matrix_num(w.sqrt_fisher()),
            latex_matrix_num(w.inverse_sqrt_fisher()),
        ),
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "model {} at {}", model.name, at);
            let _ = writeln!(s, "\nfisher information ({method})");
            s.push_str(&matrix_text(&f, "  "));
            let _ = writeln!(
                s,
                "\nF^(1/2), the symmetric square root: local coordinates eta - eta0 = F^(1/2) (theta - theta0)"
            );
            s.push_str(&matrix_text(w.sqrt_fisher(), "  "));
            let _ = writeln!(s, "\nF^(-1/2): theta = theta0 + F^(-1/2) (eta - eta0)");
            s.push_str(&matrix_text(w.inverse_sqrt_fisher(), "  "));
            let _ = writeln!(
                s,
                "\neigenvalues of F: {}",
                eigenvalues
                    .iter()
                    .map(|v| number(*v))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let _ = writeln!(
                s,
                "in these coordinates the Fisher ball at theta0 is the unit ball, and D(theta || theta0) = |eta - eta0|^2/2 to second order"
            );
            s
        }
    })
}

/// `fisher curvature --at P --format json` (DESIGN §5: `method`, `christoffel` [k][i][j],
/// `scalar_curvature`, `gaussian_curvature`).
#[derive(Serialize)]
struct CurvatureJson {
    at: BTreeMap<String, f64>,
    christoffel: Vec<Vec<Vec<f64>>>,
    gaussian_curvature: Option<f64>,
    method: &'static str,
    params: Vec<String>,
    ricci: Vec<Vec<f64>>,
    scalar_curvature: f64,
}

/// `fisher curvature MODEL --at P`: the curvature at a point from the field's exact `F`, `∂F`
/// and `∂²F`.
pub(super) fn curvature_at(
    model: &Model,
    at: &Point,
    format: Format,
) -> Result<String, GeometryCommandError> {
    let (field, theta) = field_at(model, at)?;
    let c = Curvature::at(&field, &theta)?;
    let method = field.method().as_str();
    let names: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
    let n = names.len();
    let gamma = c.christoffel();
    Ok(match format {
        Format::Json => json_text(&CurvatureJson {
            at: at_map(at),
            christoffel: (0..n)
                .map(|k| {
                    (0..n)
                        .map(|i| (0..n).map(|j| gamma.symbol(k, i, j)).collect())
                        .collect()
                })
                .collect(),
            gaussian_curvature: c.gaussian(),
            method,
            params: names,
            ricci: rows(c.ricci()),
            scalar_curvature: c.scalar(),
        }),
        Format::Latex => {
            let mut s = String::new();
            s.push_str(&christoffel_latex(&names, |k, i, j| {
                latex_number(gamma.symbol(k, i, j))
            }));
            let _ = writeln!(s, "R = {}", latex_number(c.scalar()));
            if let Some(k) = c.gaussian() {
                let _ = writeln!(s, "K = {}", latex_number(k));
            }
            s
        }
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "model {} at {}", model.name, at);
            let _ = writeln!(
                s,
                "\nChristoffel symbols of the second kind, Gamma^k_ij = F^kl (d_i F_jl + d_j F_il - d_l F_ij)/2 ({method} metric)"
            );
            s.push_str(&christoffel_text(&names, |k, i, j| {
                number(gamma.symbol(k, i, j))
            }));
            let _ = writeln!(s, "\nRicci tensor R_bd = R^a_bad");
            s.push_str(&matrix_text(c.ricci(), "  "));
            let _ = writeln!(s, "\nscalar curvature R = {}", number(c.scalar()));
            if let Some(k) = c.gaussian() {
                let _ = writeln!(s, "Gaussian curvature K = R/2 = {}", number(k));
            }
            s
        }
    })
}

/// `fisher curvature --format json` without `--at`: the formulas in the model language.
#[derive(Serialize)]
struct SymbolicCurvatureJson {
    checked_at: Vec<BTreeMap<String, f64>>,
    christoffel: Vec<Vec<Vec<String>>>,
    gaussian_curvature: Option<String>,
    method: &'static str,
    params: Vec<String>,
    scalar_curvature: String,
}

/// `fisher curvature MODEL`: the formulas of a closed-form metric, checked against the
/// numeric curvature.
pub(super) fn curvature(model: &Model, format: Format) -> Result<String, GeometryCommandError> {
    let field = FisherField::new(model)?;
    let c = SymbolicCurvature::of(&field)?;
    let names: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
    let checked: Vec<BTreeMap<String, f64>> = c
        .checked_at
        .iter()
        .map(|theta| names.iter().cloned().zip(theta.iter().copied()).collect())
        .collect();
    Ok(match format {
        Format::Json => json_text(&SymbolicCurvatureJson {
            checked_at: checked,
            christoffel: c
                .christoffel
                .iter()
                .map(|m| {
                    m.iter()
                        .map(|r| r.iter().map(ToString::to_string).collect())
                        .collect()
                })
                .collect(),
            gaussian_curvature: c.gaussian.as_ref().map(ToString::to_string),
            method: "closed-form",
            params: names,
            scalar_curvature: c.scalar.to_string(),
        }),
        Format::Latex => {
            let mut s = String::new();
            s.push_str(&christoffel_latex(&names, |k, i, j| {
                latex(&c.christoffel[k][i][j]).to_string()
            }));
            let _ = writeln!(s, "R = {}", latex(&c.scalar));
            if let Some(k) = &c.gaussian {
                let _ = writeln!(s, "K = {}", latex(k));
            }
            s
        }
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "model {}", model.name);
            let _ = writeln!(
                s,
                "\nChristoffel symbols of the second kind, Gamma^k_ij = F^kl (d_i F_jl + d_j F_il - d_l F_ij)/2 (closed-form metric)"
            );
            s.push_str(&christoffel_text(&names, |k, i, j| {
                c.christoffel[k][i][j].to_string()
            }));
            let _ = writeln!(s, "\nscalar curvature R = {}", c.scalar);
            if let Some(k) = &c.gaussian {
                let _ = writeln!(s, "Gaussian curvature K = R/2 = {k}");
            }
            let _ = writeln!(
                s,
                "\nchecked against the numeric curvature at {}",
                c.checked_at
                    .iter()
                    .map(|theta| crate::expr::assignments(&names, theta))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            s
        }
    })
}

/// `fisher jeffreys --format json` (DESIGN §5: `jeffreys`, `proper`, `normalizer`).
#[derive(Serialize)]
struct JeffreysJson {
    #[serde(rename = "box")]
    bounds: Option<BTreeMap<String, [f64; 2]>>,
    improper_along: Option<String>,
    jeffreys: Option<String>,
    latex: Option<String>,
    method: &'static str,
    normalizer: Option<NormalizerJson>,
    proper: Option<bool>,
    undecided: Option<String>,
}

#[derive(Serialize)]
struct NormalizerJson {
    error: f64,
    value: f64,
}

/// Parses `--box mu=0..1,sigma=0.5..2`: every parameter, in any order.
fn parse_box(model: &Model, text: &str) -> Result<Vec<(f64, f64)>, String> {
    let params = &model.params;
    let mut out: Vec<Option<(f64, f64)>> = vec![None; params.len()];
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, range)) = item.split_once('=') else {
            return Err(format!("`{item}` is not NAME=LO..HI"));
        };
        let name = name.trim();
        let Some(i) = params.iter().position(|p| p.name.as_str() == name) else {
            let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "`{name}` is not a parameter of this model (parameters: {})",
                names.join(", ")
            ));
        };
        let Some((lo, hi)) = range.split_once("..") else {
            return Err(format!("`{item}`: the range is not LO..HI"));
        };
        let num = |s: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{item}`: `{}` is not a number", s.trim()))
        };
        let (lo, hi) = (num(lo)?, num(hi)?);
        if out[i].replace((lo, hi)).is_some() {
            return Err(format!("`{name}` is given twice"));
        }
    }
    params
        .iter()
        .zip(out)
        .map(|(p, b)| b.ok_or_else(|| format!("no range for the parameter `{}`", p.name)))
        .collect()
}

/// `fisher jeffreys MODEL [--box NAME=LO..HI,...]`.
pub(super) fn jeffreys(
    model: &Model,
    bounds: Option<&str>,
    format: Format,
) -> Result<String, GeometryCommandError> {
    let field = FisherField::new(model)?;
    let formula = field
        .closed_form()
        .filter(|_| field.method() == crate::info::Method::ClosedForm)
        .and_then(|f| crate::info::jeffreys(&f.matrix, &crate::simplify::Facts::of(model)));
    let bounds = match bounds {
        Some(text) => Some(parse_box(model, text).map_err(GeometryCommandError::Box)?),
        None => None,
    };
    let properness = crate::geometry::properness(&field)?;
    let normalizer = match &bounds {
        Some(b) => Some(crate::geometry::normalizer(&field, b)?),
        None => match &properness {
            Properness::Proper { normalizer } => Some(*normalizer),
            _ => None,
        },
    };
    let names: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
    let proper = match &properness {
        Properness::Proper { .. } => Some(true),
        Properness::Improper { .. } => Some(false),
        Properness::Undecided { .. } => None,
    };
    Ok(match format {
        Format::Json => json_text(&JeffreysJson {
            bounds: bounds.as_ref().map(|b| {
                names
                    .iter()
                    .cloned()
                    .zip(b.iter().map(|(l, h)| [*l, *h]))
                    .collect()
            }),
            improper_along: match &properness {
                Properness::Improper { direction } => Some(direction.clone()),
                _ => None,
            },
            jeffreys: formula.as_ref().map(ToString::to_string),
            latex: formula.as_ref().map(|f| latex(f).to_string()),
            method: field.method().as_str(),
            normalizer: normalizer.map(|n| NormalizerJson {
                error: n.error,
                value: n.value,
            }),
            proper,
            undecided: match &properness {
                Properness::Undecided { reason } => Some(reason.clone()),
                _ => None,
            },
        }),
        Format::Latex => {
            let mut s = String::new();
            if let Some(f) = &formula {
                let _ = writeln!(s, "\\pi(\\theta) \\propto {}", latex(f));
            }
            if let Some(n) = normalizer {
                let _ = writeln!(
                    s,
                    "Z = {} \\pm {}",
                    latex_number(n.value),
                    latex_number(n.error)
                );
            }
            s
        }
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "model {}", model.name);
            match &formula {
                Some(f) => {
                    let _ = writeln!(s, "\nJeffreys prior, up to a constant: sqrt(det F) = {f}");
                }
                None => {
                    let _ = writeln!(
                        s,
                        "\nJeffreys prior sqrt(det F): no formula ({} metric); its normalizer below is numeric",
                        field.method().as_str()
                    );
                }
            }
            match &properness {
                Properness::Proper { .. } => {
                    let _ = writeln!(s, "proper on the whole domain");
                }
                Properness::Improper { direction } => {
                    let _ = writeln!(
                        s,
                        "improper on the whole domain: its mass does not decay as {direction}"
                    );
                }
                Properness::Undecided { reason } => {
                    let _ = writeln!(s, "proper or not: undecided ({reason})");
                }
            }
            if let Some(n) = normalizer {
                let over = match &bounds {
                    Some(b) => names
                        .iter()
                        .zip(b)
                        .map(|(n, (l, h))| format!("{n} in ({}, {})", number(*l), number(*h)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => "the whole domain".to_string(),
                };
                let _ = writeln!(
                    s,
                    "normalizer over {over}: {} (estimated error {:.1e})",
                    number(n.value),
                    n.error
                );
            }
            s
        }
    })
}

/// The independent Christoffel symbols `Γᵏᵢⱼ`, `i ≤ j`, in LaTeX, one per line, with their
/// values from `value(k, i, j)`.
fn christoffel_latex(names: &[String], value: impl Fn(usize, usize, usize) -> String) -> String {
    let mut s = String::new();
    for_each_symbol(names.len(), |k, i, j| {
        let _ = writeln!(
            s,
            "\\Gamma^{{{}}}_{{{} {}}} = {}",
            latex_name(&names[k]),
            latex_name(&names[i]),
            latex_name(&names[j]),
            value(k, i, j)
        );
    });
    s
}

/// [`christoffel_latex`] in text.
fn christoffel_text(names: &[String], value: impl Fn(usize, usize, usize) -> String) -> String {
    let mut s = String::new();
    for_each_symbol(names.len(), |k, i, j| {
        let _ = writeln!(
            s,
            "  Gamma^{}_({}, {}) = {}",
            names[k],
            names[i],
            names[j],
            value(k, i, j)
        );
    });
    s
}

/// Calls `f(k, i, j)` for the independent symbols, `i ≤ j`.
fn for_each_symbol(n: usize, mut f: impl FnMut(usize, usize, usize)) {
    for k in 0..n {
        for i in 0..n {
            for j in i..n {
                f(k, i, j);
            }
        }
    }
}
