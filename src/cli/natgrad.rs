//! `fisher natgrad MODEL DATA.csv --from P --steps N [--lr A] [-o PATHS.svg]`: natural- and
//! plain-gradient ascent of the mean log-likelihood from the same start with the same rate,
//! both paths drawn over Fisher balls.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::balls::{BallsArgs, figure, write_figure};
use super::format::Format;
use super::geodesic::{covering, plane_axes};
use super::numeric::json_text;
use super::stats::{StatsError, data, named, sig};
use crate::inference::{Ascent, AscentPath, Likelihood, ascend};
use crate::info::FisherField;
use crate::model::{Model, Point};
use crate::render::{Curve, CurveStyle};

/// The arguments of `fisher natgrad`.
pub(super) struct NatgradArgs<'a> {
    pub data: &'a str,
    pub from: &'a Point,
    pub steps: usize,
    pub rate: f64,
    pub output: Option<&'a Path>,
    pub x: Option<&'a str>,
    pub y: Option<&'a str>,
    pub grid: &'a str,
    pub ignore_extra: bool,
}

#[derive(Serialize)]
struct PerRule<T> {
    natural: T,
    plain: T,
}

#[derive(Serialize)]
struct NatgradJson {
    model: String,
    observations: usize,
    from: BTreeMap<String, f64>,
    steps: usize,
    lr: f64,
    natural: Vec<BTreeMap<String, f64>>,
    plain: Vec<BTreeMap<String, f64>>,
    log_likelihood: PerRule<Vec<f64>>,
    stopped: PerRule<Option<String>>,
    file: Option<String>,
}

/// Runs both ascents, draws them when asked, and renders the report.
pub(super) fn natgrad(
    model: &Model,
    args: &NatgradArgs<'_>,
    format: Format,
) -> Result<String, StatsError> {
    if args.steps == 0 || args.steps > 100_000 {
        return Err(StatsError(format!(
            "--steps: give between 1 and 100000 steps, not {}",
            args.steps
        )));
    }
    let dataset = data(model, args.data, args.ignore_extra)?;
    let field = FisherField::new(model)?;
    let lik = Likelihood::new(&field, &dataset)?;
    let start = args.from.values();
    let natural = ascend(&field, &lik, &start, args.steps, args.rate, Ascent::Natural)?;
    let plain = ascend(&field, &lik, &start, args.steps, args.rate, Ascent::Plain)?;
    let file = match args.output {
        Some(path) => Some(draw(model, &natural, &plain, args, path)?),
        None => None,
    };
    Ok(match format {
        Format::Json => json_text(&NatgradJson {
            model: model.name.clone(),
            observations: lik.len(),
            from: named(model, &start),
            steps: args.steps,
            lr: args.rate,
            natural: natural.points.iter().map(|p| named(model, p)).collect(),
            plain: plain.points.iter().map(|p| named(model, p)).collect(),
            log_likelihood: PerRule {
                natural: natural.log_likelihood.clone(),
                plain: plain.log_likelihood.clone(),
            },
            stopped: PerRule {
                natural: natural.stopped.clone(),
                plain: plain.stopped.clone(),
            },
            file,
        }),
        Format::Text | Format::Latex => {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "model {}, {} observations; from {} with rate {}, {} steps",
                model.name,
                lik.len(),
                args.from,
                args.rate,
                args.steps
            );
            for path in [&natural, &plain] {
                let last = path.points.last().cloned().unwrap_or_default();
                let ll = path.log_likelihood.last().copied().unwrap_or(f64::NAN);
                let _ = writeln!(
                    s,
                    "{:<8} after {} steps: {}  (log-likelihood {} from {})",
                    path.rule.as_str(),
                    path.points.len() - 1,
                    crate::expr::assignments(model.params.iter().map(|p| p.name), &last),
                    sig(ll, 10),
                    sig(path.log_likelihood[0], 10)
                );
                if let Some(why) = &path.stopped {
                    let _ = writeln!(s, "         stopped at {why}");
                }
            }
            if let Some(f) = &file {
                let _ = writeln!(s, "wrote {f}: both paths over Fisher balls");
            }
            s
        }
    })
}

/// Both paths over Fisher balls covering them, written to `path`.
fn draw(
    model: &Model,
    natural: &AscentPath,
    plain: &AscentPath,
    args: &NatgradArgs<'_>,
    path: &Path,
) -> Result<String, StatsError> {
    if model.params.len() < 2 {
        return Err(StatsError(format!(
            "-o: the paths are drawn in a plane of two parameters, and `{}` has one",
            model.name
        )));
    }
    let (ix, iy) = plane_axes(model, args.x, args.y)?;
    let all: Vec<&Vec<f64>> = natural.points.iter().chain(&plain.points).collect();
    let range = |i: usize| {
        let lo = all.iter().map(|p| p[i]).fold(f64::INFINITY, f64::min);
        let hi = all.iter().map(|p| p[i]).fold(f64::NEG_INFINITY, f64::max);
        covering(lo, hi, model.params[i].domain)
    };
    let ((xlo, xhi), (ylo, yhi)) = (range(ix), range(iy));
    let start = &natural.points[0];
    let fix: Vec<String> = (0..model.params.len())
        .filter(|i| *i != ix && *i != iy)
        .map(|i| format!("{}={:?}", model.params[i].name, start[i]))
        .collect();
    let fix = fix.join(",");
    let x = format!("{}={:?}..{:?}", model.params[ix].name, xlo, xhi);
    let y = format!("{}={:?}..{:?}", model.params[iy].name, ylo, yhi);
    let balls = BallsArgs {
        x: &x,
        y: &y,
        fix: (!fix.is_empty()).then_some(fix.as_str()),
        grid: args.grid,
        radius: 0.1,
        whiten_at: None,
        output: path,
    };
    let (_, mut drawing) = figure(model, &balls)?;
    for (p, style) in [
        (natural, CurveStyle::Path),
        (plain, CurveStyle::ComparisonPath),
    ] {
        drawing.extra.push(Curve {
            points: p.points.iter().map(|q| [q[ix], q[iy]]).collect(),
            label: Some(format!(
                "{} gradient, {} steps of {}",
                p.rule.as_str(),
                p.points.len() - 1,
                p.rate
            )),
            style,
        });
    }
    drawing.title = format!(
        "{}: natural vs plain gradient ascent over Fisher balls (r = 0.1)",
        model.name
    );
    write_figure(path, &drawing)?;
    Ok(path.display().to_string())
}
