//! The geometry commands at a point: `fisher whiten` and `fisher curvature --at`. Each
//! returns what it prints on stdout, or an error for stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use egg::Symbol;
use serde::Serialize;

use super::format::Format;
use super::numeric::{at_map, json_text, latex_matrix_num, matrix_text, rows};
use crate::geometry::{Curvature, GeometryError, SymbolicCurvature, Whitening};
use crate::info::numeric::describe_point;
use crate::info::{FisherField, InfoError};
use crate::model::Model;
use crate::render::{latex, latex_name, latex_number, number};

/// Why a geometry command has no report.
#[derive(Debug, thiserror::Error)]
pub(super) enum GeometryCommandError {
    /// The field could not be built.
    #[error(transparent)]
    Info(#[from] InfoError),
    /// The geometry is not defined at the point.
    #[error(transparent)]
    Geometry(#[from] GeometryError),
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
fn field_at(
    model: &Model,
    at: &[(Symbol, f64)],
) -> Result<(FisherField, Vec<f64>), GeometryCommandError> {
    let field = FisherField::new(model)?;
    let theta = field.theta(at)?;
    Ok((field, theta))
}

/// `fisher whiten MODEL --at P`.
pub(super) fn whiten(
    model: &Model,
    at: &[(Symbol, f64)],
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
            let _ = writeln!(s, "model {} at {}", model.name, describe_point(at));
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
    at: &[(Symbol, f64)],
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
            for k in 0..n {
                for i in 0..n {
                    for j in i..n {
                        let _ = writeln!(
                            s,
                            "\\Gamma^{{{}}}_{{{} {}}} = {}",
                            latex_name(&names[k]),
                            latex_name(&names[i]),
                            latex_name(&names[j]),
                            latex_number(gamma.symbol(k, i, j))
                        );
                    }
                }
            }
            let _ = writeln!(s, "R = {}", latex_number(c.scalar()));
            if let Some(k) = c.gaussian() {
                let _ = writeln!(s, "K = {}", latex_number(k));
            }
            s
        }
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "model {} at {}", model.name, describe_point(at));
            let _ = writeln!(
                s,
                "\nChristoffel symbols of the second kind, Gamma^k_ij = F^kl (d_i F_jl + d_j F_il - d_l F_ij)/2 ({method} metric)"
            );
            for k in 0..n {
                for i in 0..n {
                    for j in i..n {
                        let _ = writeln!(
                            s,
                            "  Gamma^{}_({}, {}) = {}",
                            names[k],
                            names[i],
                            names[j],
                            number(gamma.symbol(k, i, j))
                        );
                    }
                }
            }
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
    let n = names.len();
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
            for k in 0..n {
                for i in 0..n {
                    for j in i..n {
                        let _ = writeln!(
                            s,
                            "\\Gamma^{{{}}}_{{{} {}}} = {}",
                            latex_name(&names[k]),
                            latex_name(&names[i]),
                            latex_name(&names[j]),
                            latex(&c.christoffel[k][i][j])
                        );
                    }
                }
            }
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
            for k in 0..n {
                for i in 0..n {
                    for j in i..n {
                        let _ = writeln!(
                            s,
                            "  Gamma^{}_({}, {}) = {}",
                            names[k], names[i], names[j], c.christoffel[k][i][j]
                        );
                    }
                }
            }
            let _ = writeln!(s, "\nscalar curvature R = {}", c.scalar);
            if let Some(k) = &c.gaussian {
                let _ = writeln!(s, "Gaussian curvature K = R/2 = {k}");
            }
            let _ = writeln!(
                s,
                "\nchecked against the numeric curvature at {}",
                checked
                    .iter()
                    .map(|at| at
                        .iter()
                        .map(|(n, v)| format!("{n}={}", number(*v)))
                        .collect::<Vec<_>>()
                        .join(", "))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            s
        }
    })
}
