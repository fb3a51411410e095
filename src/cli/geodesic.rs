//! `fisher geodesic`: the geodesic between two members of a family (by the route of
//! `fisher distance`, checked the same way), drawn over Fisher balls on a grid covering it,
//! written as SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::balls::{BallsArgs, figure, param, write_figure};
use super::distance::{Measured, distance_latex, measure, named};
use super::format::Format;
use super::geometry::GeometryCommandError;
use super::numeric::{at_map, json_text};
use crate::model::{Domain, Model, Point};
use crate::render::{Curve, CurveStyle, number};

/// The arguments of `fisher geodesic`, as typed.
pub(super) struct GeodesicArgs<'a> {
    /// `--x NAME`: the parameter on the horizontal axis (default the first).
    pub x: Option<&'a str>,
    /// `--y NAME`: the vertical one (default the second).
    pub y: Option<&'a str>,
    /// `--grid NxM`.
    pub grid: &'a str,
    /// `--radius R` (default: the distance over 4 times the larger grid count, within
    /// 0.01..0.5).
    pub radius: Option<f64>,
    /// `-o FILE.svg`.
    pub output: &'a Path,
}

/// `fisher geodesic --format json` (DESIGN §5: `file`, `distance`, `geodesic`).
#[derive(Serialize)]
struct GeodesicJson {
    a: BTreeMap<String, f64>,
    b: BTreeMap<String, f64>,
    distance: f64,
    file: String,
    geodesic: Vec<BTreeMap<String, f64>>,
    method: &'static str,
    metric: &'static str,
    plane: [String; 2],
    radius: f64,
    residual: f64,
}

fn bad(message: String) -> GeometryCommandError {
    GeometryCommandError::Argument(message)
}

/// A range of centres covering `[lo, hi]` with a margin, inside `domain`.
pub(super) fn covering(lo: f64, hi: f64, domain: Domain) -> (f64, f64) {
    let span = hi - lo;
    let pad = if span > 0.0 {
        0.15 * span
    } else {
        0.25 * lo.abs().max(1e-3)
    };
    let (dlo, dhi) = domain.bounds();
    let mut a = lo - pad;
    let mut b = hi + pad;
    if a <= dlo {
        a = dlo + 0.5 * (lo - dlo);
    }
    if b >= dhi {
        b = dhi - 0.5 * (dhi - hi);
    }
    (a, b)
}

/// The parameters on the axes of a figure from `--x` and `--y`: by default the first and the
/// second (or the first that is not `--x`); an error for an unknown name or the same twice.
pub(super) fn plane_axes(
    model: &Model,
    x: Option<&str>,
    y: Option<&str>,
) -> Result<(usize, usize), GeometryCommandError> {
    let ix = match x {
        Some(name) => param(model, "--x", name)?,
        None => 0,
    };
    let iy = match y {
        Some(name) => param(model, "--y", name)?,
        None => usize::from(ix == 0),
    };
    if ix == iy {
        return Err(bad(format!(
            "--x and --y both name `{}`: give two different parameters",
            model.params[ix].name
        )));
    }
    Ok((ix, iy))
}

/// `fisher geodesic MODEL --a P --b P -o FILE.svg`.
pub(super) fn geodesic_command(
    model: &Model,
    a: &Point,
    b: &Point,
    args: &GeodesicArgs<'_>,
    format: Format,
) -> Result<String, GeometryCommandError> {
    if model.params.len() < 2 {
        return Err(bad(format!(
            "`{}` has one parameter: its geodesics are segments of a line, with nothing to draw in a plane (`fisher distance` gives the distance)",
            model.name
        )));
    }
    let (ix, iy) = plane_axes(model, args.x, args.y)?;
    if let Some(r) = args.radius
        && !(r.is_finite() && r > 0.0)
    {
        return Err(bad(format!(
            "--radius: the Fisher radius must be a finite number greater than 0, not {}",
            number(r)
        )));
    }
    let Measured {
        field, distance: d, ..
    } = measure(model, a, b)?;
    let points = &d.geodesic;
    let range = |i: usize| {
        let lo = points.iter().map(|p| p[i]).fold(f64::INFINITY, f64::min);
        let hi = points
            .iter()
            .map(|p| p[i])
            .fold(f64::NEG_INFINITY, f64::max);
        covering(lo, hi, model.params[i].domain)
    };
    let ((xlo, xhi), (ylo, yhi)) = (range(ix), range(iy));
    // the other parameters at the geodesic's midpoint
    let middle = &points[points.len() / 2];
    let fix: Vec<String> = (0..model.params.len())
        .filter(|i| *i != ix && *i != iy)
        .map(|i| format!("{}={:?}", model.params[i].name, middle[i]))
        .collect();
    let fix = fix.join(",");
    let radius = args.radius.unwrap_or_else(|| {
        // about a quarter of the spacing of the centres, in distance
        let cells = args
            .grid
            .split('x')
            .filter_map(|c| c.trim().parse::<f64>().ok())
            .fold(1.0, f64::max);
        (d.value / (4.0 * cells)).clamp(0.01, 0.5)
    });
    let x = format!("{}={:?}..{:?}", model.params[ix].name, xlo, xhi);
    let y = format!("{}={:?}..{:?}", model.params[iy].name, ylo, yhi);
    let balls = BallsArgs {
        x: &x,
        y: &y,
        fix: (!fix.is_empty()).then_some(fix.as_str()),
        grid: args.grid,
        radius,
        whiten_at: None,
        output: args.output,
    };
    let (_, mut drawing) = figure(model, &balls)?;
    drawing.extra.push(Curve {
        points: points.iter().map(|p| [p[ix], p[iy]]).collect(),
        label: Some(format!("geodesic, d = {}", number_short(d.value))),
        style: CurveStyle::Geodesic,
    });
    write_figure(args.output, &drawing)?;
    let file = args.output.display().to_string();
    let plane = [
        model.params[ix].name.to_string(),
        model.params[iy].name.to_string(),
    ];
    Ok(match format {
        Format::Json => json_text(&GeodesicJson {
            a: at_map(a),
            b: at_map(b),
            distance: d.value,
            file,
            geodesic: points.iter().map(|p| named(&field, p.as_slice())).collect(),
            method: d.method.as_str(),
            metric: field.method().as_str(),
            plane,
            radius,
            residual: d.residual,
        }),
        Format::Latex => distance_latex(d.value),
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "model {} from {} to {}", model.name, a, b);
            let _ = writeln!(
                s,
                "\nwrote {file}: the geodesic ({} points, distance {}, method {}) over Fisher balls of radius {} on a {} grid in ({}, {})",
                points.len(),
                number(d.value),
                d.method.as_str(),
                number(radius),
                args.grid,
                plane[0],
                plane[1]
            );
            if !fix.is_empty() {
                let _ = writeln!(
                    s,
                    "the other parameters are held at the geodesic's midpoint in the balls: {fix}"
                );
            }
            s
        }
    })
}

/// A distance for a legend: six decimals, trailing zeros dropped.
fn number_short(v: f64) -> String {
    format!("{v:.6}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}
