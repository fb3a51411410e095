//! `fisher distance`: the Fisher–Rao distance between two members of a family, by the best
//! route the model has, checked against shooting where that route is a formula or an
//! integral.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::format::Format;
use super::geometry::GeometryCommandError;
use super::numeric::{at_map, json_text};
use crate::geometry::{Distance, DistanceMethod, ShootingOptions, distance, logarithmic_map};
use crate::info::FisherField;
use crate::model::{Model, Point};
use crate::render::{latex_number, number};

/// Relative agreement required between a formula's (or integral's) distance and shooting's.
const CHECK_REL: f64 = 1e-6;

/// How the distance of a formula or integral was checked against shooting.
#[derive(Debug, Serialize)]
struct CheckJson {
    /// The shooting distance, when shooting converged.
    distance: Option<f64>,
    /// `|d − d_shooting| / d`.
    discrepancy: Option<f64>,
    method: &'static str,
    /// Why there is no check (shooting did not converge).
    note: Option<String>,
}

/// `fisher distance --format json` (DESIGN §5: `distance`, `method`, `geodesic`, `residual`).
#[derive(Serialize)]
struct DistanceJson {
    a: BTreeMap<String, f64>,
    b: BTreeMap<String, f64>,
    check: Option<CheckJson>,
    distance: f64,
    error: f64,
    geodesic: Vec<BTreeMap<String, f64>>,
    method: &'static str,
    metric: &'static str,
    residual: f64,
}

/// The distance and, for a route other than shooting, its check.
pub(super) struct Measured {
    pub field: FisherField,
    pub distance: Distance,
    check: Option<CheckJson>,
}

/// The distance from `a` to `b`, with the check against shooting; a disagreement is an error.
pub(super) fn measure(
    model: &Model,
    a: &Point,
    b: &Point,
) -> Result<Measured, GeometryCommandError> {
    let field = FisherField::new(model)?;
    let (ta, tb) = (field.theta(a)?, field.theta(b)?);
    let options = ShootingOptions::for_field(&field);
    let d = distance(&field, &ta, &tb, options)?;
    let check = (d.method != DistanceMethod::Shooting).then(|| {
        match logarithmic_map(&field, &ta, &tb, options) {
            Ok(shot) => {
                let discrepancy = (shot.distance - d.value).abs() / d.value.max(f64::MIN_POSITIVE);
                CheckJson {
                    distance: Some(shot.distance),
                    discrepancy: Some(if d.value == 0.0 && shot.distance == 0.0 {
                        0.0
                    } else {
                        discrepancy
                    }),
                    method: DistanceMethod::Shooting.as_str(),
                    note: None,
                }
            }
            Err(e) => CheckJson {
                distance: None,
                discrepancy: None,
                method: DistanceMethod::Shooting.as_str(),
                note: Some(format!("not checked: {e}")),
            },
        }
    });
    if let Some(CheckJson {
        distance: Some(shot),
        discrepancy: Some(disc),
        ..
    }) = &check
        && *disc > CHECK_REL
    {
        return Err(GeometryCommandError::Check(format!(
            "the {} distance {} disagrees with shooting's {} (relative {:.1e}): this is a bug in fisher, please report it",
            d.method.as_str(),
            number(d.value),
            number(*shot),
            disc
        )));
    }
    Ok(Measured {
        field,
        distance: d,
        check,
    })
}

/// `θ` as `{name: value}`.
pub(super) fn named(field: &FisherField, theta: &[f64]) -> BTreeMap<String, f64> {
    field
        .model()
        .params
        .iter()
        .zip(theta)
        .map(|(p, v)| (p.name.to_string(), *v))
        .collect()
}

/// The LaTeX of `fisher distance` and `fisher geodesic`: `d_F(θ_a, θ_b) = d`.
pub(super) fn distance_latex(d: f64) -> String {
    format!(
        "d_{{F}}\\left(\\theta_a, \\theta_b\\right) = {}\n",
        latex_number(d)
    )
}

/// What each route is, for the text output.
fn route(method: DistanceMethod) -> &'static str {
    match method {
        DistanceMethod::LocationScale => {
            "location-scale metric F = [[a, c], [c, b]]/sigma^2: the hyperbolic distance after a linear change of coordinates"
        }
        DistanceMethod::OneParameter => {
            "one parameter: |integral of sqrt(F) dtheta| by adaptive Gauss-Kronrod quadrature"
        }
        DistanceMethod::Shooting => {
            "shooting: Newton on the initial velocity of the geodesic, the length of the converged geodesic"
        }
    }
}

/// `fisher distance MODEL --a P --b P`.
pub(super) fn distance_command(
    model: &Model,
    a: &Point,
    b: &Point,
    format: Format,
) -> Result<String, GeometryCommandError> {
    let Measured {
        field,
        distance: d,
        check,
    } = measure(model, a, b)?;
    let metric = field.method().as_str();
    Ok(match format {
        Format::Json => json_text(&DistanceJson {
            a: at_map(a),
            b: at_map(b),
            check,
            distance: d.value,
            error: d.error,
            geodesic: d
                .geodesic
                .iter()
                .map(|p| named(&field, p.as_slice()))
                .collect(),
            method: d.method.as_str(),
            metric,
            residual: d.residual,
        }),
        Format::Latex => distance_latex(d.value),
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "model {} from {} to {}", model.name, a, b);
            let _ = writeln!(
                s,
                "\nFisher-Rao distance {} (estimated error {:.1e})",
                number(d.value),
                d.error
            );
            let _ = writeln!(s, "  method: {}", route(d.method));
            let _ = writeln!(s, "  metric: {metric}");
            if d.method == DistanceMethod::Shooting {
                let _ = writeln!(
                    s,
                    "  residual |exp_a(v) - b| in the Fisher metric at b: {:.1e}",
                    d.residual
                );
            }
            if let Some(c) = &check {
                match (&c.distance, &c.discrepancy, &c.note) {
                    (Some(shot), Some(disc), _) => {
                        let _ = writeln!(
                            s,
                            "  checked by shooting: {} (relative discrepancy {:.1e})",
                            number(*shot),
                            disc
                        );
                    }
                    (_, _, Some(note)) => {
                        let _ = writeln!(s, "  {note}");
                    }
                    _ => {}
                }
            }
            let _ = writeln!(s, "\ngeodesic ({} points, a to b)", d.geodesic.len());
            let names: Vec<String> = field
                .model()
                .params
                .iter()
                .map(|p| p.name.to_string())
                .collect();
            let k = d.geodesic.len().saturating_sub(1);
            let shown: Vec<usize> = if k <= 8 {
                (0..=k).collect()
            } else {
                (0..=8).map(|i| i * k / 8).collect()
            };
            for i in shown {
                let point = crate::expr::assignments(&names, d.geodesic[i].as_slice());
                let _ = writeln!(s, "  {point}");
            }
            s
        }
    })
}
