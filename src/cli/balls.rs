//! `fisher balls`: the figure of Fisher balls over a grid of centres, written as SVG, and a
//! report of what was drawn. Every argument is checked before any work; the file is written
//! only on success, atomically (a temporary file beside it, then a rename).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::format::Format;
use super::geometry::GeometryCommandError;
use super::numeric::json_text;
use crate::geometry::{BallOptions, FisherBall, RayEnd, grid_centers, plane_whitening};
use crate::info::{FisherField, KlField};
use crate::model::Model;
use crate::render::{BallsFigure, latex_name, latex_number, number};

/// The largest number of centres along an axis.
const MAX_GRID: usize = 25;

/// The arguments of `fisher balls`, as typed.
pub(super) struct BallsArgs<'a> {
    /// `--x NAME=LO..HI`.
    pub x: &'a str,
    /// `--y NAME=LO..HI`.
    pub y: &'a str,
    /// `--fix NAME=V,...`.
    pub fix: Option<&'a str>,
    /// `--grid NxM`.
    pub grid: &'a str,
    /// `--radius R`.
    pub radius: f64,
    /// `--whiten-at NAME=V,NAME=V`.
    pub whiten_at: Option<&'a str>,
    /// `-o FILE.svg`.
    pub output: &'a Path,
}

/// An axis of the plot: a parameter and the range of its centres.
struct Axis {
    index: usize,
    lo: f64,
    hi: f64,
}

fn bad(message: String) -> GeometryCommandError {
    GeometryCommandError::Argument(message)
}

fn param_list(model: &Model) -> String {
    model
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The index of the parameter `name`, or an error naming the flag.
pub(super) fn param(model: &Model, flag: &str, name: &str) -> Result<usize, GeometryCommandError> {
    model
        .params
        .iter()
        .position(|p| p.name.as_str() == name)
        .ok_or_else(|| {
            bad(format!(
                "{flag}: `{name}` is not a parameter of this model (parameters: {})",
                param_list(model)
            ))
        })
}

/// A finite number inside the domain of parameter `index`.
fn value_in(
    model: &Model,
    flag: &str,
    index: usize,
    text: &str,
) -> Result<f64, GeometryCommandError> {
    let p = &model.params[index];
    let v: f64 = text.trim().parse().map_err(|_| {
        bad(format!(
            "{flag}: `{}` is not a number (for `{}`)",
            text.trim(),
            p.name
        ))
    })?;
    if !p.domain.contains(v) {
        return Err(bad(format!(
            "{flag}: {}={} is outside the domain of `{}` ({})",
            p.name,
            text.trim(),
            p.name,
            p.domain.describe()
        )));
    }
    Ok(v)
}

/// `NAME=LO..HI`.
fn axis(model: &Model, flag: &str, text: &str) -> Result<Axis, GeometryCommandError> {
    let form = || {
        bad(format!(
            "{flag}: `{text}` is not of the form NAME=LO..HI (e.g. sigma=0.5..2)"
        ))
    };
    let (name, range) = text.split_once('=').ok_or_else(form)?;
    let index = param(model, flag, name.trim())?;
    let (lo, hi) = range.split_once("..").ok_or_else(form)?;
    let p = &model.params[index];
    let number = |s: &str| -> Result<f64, GeometryCommandError> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                bad(format!(
                    "{flag}: `{}` is not a finite number (in the range of `{}`)",
                    s.trim(),
                    p.name
                ))
            })
    };
    let (lo, hi) = (number(lo)?, number(hi)?);
    if lo >= hi {
        return Err(bad(format!(
            "{flag}: the range {}..{} of `{}` is empty: give LO < HI",
            number_text(lo),
            number_text(hi),
            p.name
        )));
    }
    if !(p.domain.contains(lo) && p.domain.contains(hi)) {
        return Err(bad(format!(
            "{flag}: the range {}..{} of `{}` leaves its domain ({}): the centres must lie inside it",
            number_text(lo),
            number_text(hi),
            p.name,
            p.domain.describe()
        )));
    }
    Ok(Axis { index, lo, hi })
}

fn number_text(v: f64) -> String {
    number(v)
}

/// `NxM`: columns (along x) and rows (along y).
fn grid(text: &str) -> Result<(usize, usize), GeometryCommandError> {
    let parsed = text.split_once(['x', 'X']).and_then(|(a, b)| {
        let a: usize = a.trim().parse().ok()?;
        let b: usize = b.trim().parse().ok()?;
        Some((a, b))
    });
    match parsed {
        Some((a, b)) if (1..=MAX_GRID).contains(&a) && (1..=MAX_GRID).contains(&b) => Ok((a, b)),
        _ => Err(bad(format!(
            "--grid: `{text}` is not a grid: give COLUMNSxROWS (e.g. 5x5), each from 1 to {MAX_GRID}"
        ))),
    }
}

/// `NAME=V,...` items into `theta`; returns the indices set.
fn assign(
    model: &Model,
    flag: &str,
    text: &str,
    allowed: impl Fn(usize) -> Result<(), String>,
    theta: &mut [f64],
) -> Result<Vec<usize>, GeometryCommandError> {
    let mut set = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("{flag}: `{item}` is not of the form `name=value`")))?;
        let i = param(model, flag, name.trim())?;
        allowed(i).map_err(|why| bad(format!("{flag}: {why}")))?;
        if set.contains(&i) {
            return Err(bad(format!(
                "{flag}: `{}` is given twice",
                model.params[i].name
            )));
        }
        theta[i] = value_in(model, flag, i, value)?;
        set.push(i);
    }
    Ok(set)
}

/// What `fisher balls` computed, before it is printed.
pub(super) struct Drawn {
    x: Axis,
    y: Axis,
    fixed: Vec<usize>,
    balls: Vec<FisherBall>,
    whitened_at: Option<Vec<f64>>,
    fisher_method: &'static str,
}

/// `fisher balls --format json` (DESIGN §5: `file`, `radius`, `centers`).
#[derive(Serialize)]
struct BallsJson {
    balls: Vec<BallJson>,
    centers: Vec<BTreeMap<String, f64>>,
    convention: &'static str,
    file: String,
    fisher_method: &'static str,
    fixed: BTreeMap<String, f64>,
    kl_method: &'static str,
    model: String,
    radius: f64,
    rays: usize,
    whitened_at: Option<BTreeMap<String, f64>>,
    x: String,
    y: String,
}

/// One ball of [`BallsJson`].
#[derive(Serialize)]
struct BallJson {
    center: BTreeMap<String, f64>,
    cut_rays: usize,
    ellipse_clipped: bool,
    fisher_block: Vec<Vec<f64>>,
    max_relative_gap: f64,
}

/// `{name: value}` of θ, in the JSON order of names.
pub(super) fn named(model: &Model, theta: &[f64]) -> BTreeMap<String, f64> {
    model
        .params
        .iter()
        .zip(theta)
        .map(|(p, v)| (p.name.to_string(), *v))
        .collect()
}

fn point_text(model: &Model, theta: &[f64]) -> String {
    crate::expr::assignments(model.params.iter().map(|p| p.name), theta)
}

/// Checks every argument, computes the balls, and lays out their figure (a command that
/// draws more over the balls, `fisher geodesic` say, pushes its curves to
/// [`BallsFigure::extra`] and writes it with [`write_figure`]).
pub(super) fn figure(
    model: &Model,
    args: &BallsArgs<'_>,
) -> Result<(Drawn, BallsFigure), GeometryCommandError> {
    if model.params.len() < 2 {
        return Err(bad(format!(
            "Fisher balls are drawn in a plane of two parameters, and `{}` has one ({}): there is no plane",
            model.name,
            param_list(model)
        )));
    }
    let x = axis(model, "--x", args.x)?;
    let y = axis(model, "--y", args.y)?;
    if x.index == y.index {
        return Err(bad(format!(
            "--x and --y both name `{}`: give two different parameters",
            model.params[x.index].name
        )));
    }
    let (columns, rows) = grid(args.grid)?;
    if !(args.radius.is_finite() && args.radius > 0.0) {
        return Err(bad(format!(
            "--radius: the Fisher radius must be a finite number greater than 0, not {}",
            number(args.radius)
        )));
    }
    let mut base = vec![f64::NAN; model.params.len()];
    let plotted = |i: usize| {
        if i == x.index || i == y.index {
            Err(format!(
                "`{}` is plotted (--x or --y), so it cannot be fixed",
                model.params[i].name
            ))
        } else {
            Ok(())
        }
    };
    let fixed = match args.fix {
        Some(text) => assign(model, "--fix", text, plotted, &mut base)?,
        None => Vec::new(),
    };
    if let Some((i, p)) = model
        .params
        .iter()
        .enumerate()
        .find(|(i, _)| *i != x.index && *i != y.index && !fixed.contains(i))
    {
        let _ = i;
        return Err(bad(format!(
            "`{}` is neither plotted nor fixed: give its value with --fix {}=V",
            p.name, p.name
        )));
    }
    let whitened_at = match args.whiten_at {
        Some(text) => {
            let mut theta = base.clone();
            let in_plane = |i: usize| {
                if i == x.index || i == y.index {
                    Ok(())
                } else {
                    Err(format!(
                        "`{}` is not plotted: give the two plotted parameters, `{}` and `{}`",
                        model.params[i].name,
                        model.params[x.index].name,
                        model.params[y.index].name
                    ))
                }
            };
            let set = assign(model, "--whiten-at", text, in_plane, &mut theta)?;
            if set.len() != 2 {
                return Err(bad(format!(
                    "--whiten-at: give both plotted parameters, `{}=V,{}=V`",
                    model.params[x.index].name, model.params[y.index].name
                )));
            }
            Some(theta)
        }
        None => None,
    };

    let field = FisherField::new(model)?;
    let kl = KlField::new(model)?;
    let options = BallOptions {
        radius: args.radius,
        ..BallOptions::default()
    };
    let plane = (x.index, y.index);
    let mut points = Vec::new();
    for &vy in &grid_centers(y.lo, y.hi, rows) {
        for &vx in &grid_centers(x.lo, x.hi, columns) {
            let mut theta = base.clone();
            theta[x.index] = vx;
            theta[y.index] = vy;
            points.push(theta);
        }
    }
    if let Some(star) = &whitened_at {
        if !points.contains(star) {
            points.push(star.clone());
        }
    }
    let balls = points
        .iter()
        .map(|theta| FisherBall::at(&field, &kl, theta, plane, &options))
        .collect::<Result<Vec<_>, _>>()?;
    let whitening = match &whitened_at {
        Some(star) => Some(plane_whitening(&field, star, plane)?),
        None => None,
    };
    let names = (
        model.params[x.index].name.as_str(),
        model.params[y.index].name.as_str(),
    );
    let figure = BallsFigure::of_balls(&model.name, names, &balls, whitening.as_ref());
    Ok((
        Drawn {
            x,
            y,
            fixed,
            balls,
            whitened_at,
            fisher_method: field.method().as_str(),
        },
        figure,
    ))
}

/// Renders `figure` and writes it to `path` (atomically).
pub(super) fn write_figure(path: &Path, figure: &BallsFigure) -> Result<(), GeometryCommandError> {
    let svg = figure.render().map_err(|e| bad(e.to_string()))?.svg;
    write_atomically(path, &svg)
}

/// Writes `text` to `path` through a temporary file beside it and a rename, so that a failed
/// run leaves no file and a reader never sees half of one.
fn write_atomically(path: &Path, text: &str) -> Result<(), GeometryCommandError> {
    let fail = |e: std::io::Error| {
        GeometryCommandError::Write(format!("cannot write `{}`: {e}", path.display()))
    };
    let name = path
        .file_name()
        .ok_or_else(|| fail(std::io::Error::other("not a file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// `fisher balls MODEL --x NAME=LO..HI --y NAME=LO..HI [--fix …] [--grid NxM] [--radius R]
/// [--whiten-at P] -o FILE.svg`.
pub(super) fn balls(
    model: &Model,
    args: &BallsArgs<'_>,
    format: Format,
) -> Result<String, GeometryCommandError> {
    let (drawn, drawing) = figure(model, args)?;
    write_figure(args.output, &drawing)?;
    Ok(report(model, args, &drawn, format))
}

/// What `fisher balls` prints.
fn report(model: &Model, args: &BallsArgs<'_>, d: &Drawn, format: Format) -> String {
    let file = args.output.display().to_string();
    let (xn, yn) = (
        model.params[d.x.index].name.as_str(),
        model.params[d.y.index].name.as_str(),
    );
    let fixed: BTreeMap<String, f64> = d
        .fixed
        .iter()
        .map(|&i| {
            (
                model.params[i].name.to_string(),
                d.balls.first().map_or(f64::NAN, |b| b.center[i]),
            )
        })
        .collect();
    let kl_method = d.balls.first().map_or("closed-form", |b| b.method.as_str());
    let rays = d.balls.first().map_or(0, |b| b.level_set.len());
    match format {
        Format::Json => json_text(&BallsJson {
            balls: d
                .balls
                .iter()
                .map(|b| BallJson {
                    center: named(model, &b.center),
                    cut_rays: b.cut_rays(),
                    ellipse_clipped: b.ellipse_clipped(),
                    fisher_block: b.block.iter().map(|r| r.to_vec()).collect(),
                    max_relative_gap: b.max_relative_gap(),
                })
                .collect(),
            centers: d.balls.iter().map(|b| named(model, &b.center)).collect(),
            convention: "ellipse: Delta^T F(center) Delta = r^2 (KL ~ r^2/2); level set: D(theta || center) = r^2/2",
            file,
            fisher_method: d.fisher_method,
            fixed,
            kl_method,
            model: model.name.clone(),
            radius: args.radius,
            rays,
            whitened_at: d.whitened_at.as_ref().map(|t| named(model, t)),
            x: xn.to_string(),
            y: yn.to_string(),
        }),
        Format::Latex => {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "\\Delta^\\top \\mathbf{{F}}(\\theta_0)\\, \\Delta = r^2, \\quad D(\\theta \\,\\|\\, \\theta_0) = \\tfrac{{r^2}}{{2}}, \\quad r = {}",
                latex_plain(args.radius)
            );
            for b in &d.balls {
                let at = model
                    .params
                    .iter()
                    .zip(&b.center)
                    .map(|(p, v)| format!("{} = {}", latex_name(p.name.as_str()), latex_plain(*v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let m = &b.block;
                let _ = writeln!(
                    s,
                    "\\mathbf{{F}}_{{{} {}}}({at}) = \\begin{{pmatrix}} {} & {} \\\\ {} & {} \\end{{pmatrix}}",
                    latex_name(xn),
                    latex_name(yn),
                    latex_number(m[0][0] + 0.0),
                    latex_number(m[0][1] + 0.0),
                    latex_number(m[1][0] + 0.0),
                    latex_number(m[1][1] + 0.0),
                );
            }
            s
        }
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "wrote {file}");
            let _ = writeln!(
                s,
                "model {}, plane ({xn}, {yn}){}",
                model.name,
                if fixed.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", fixed {}",
                        fixed
                            .iter()
                            .map(|(n, v)| format!("{n}={}", number(*v)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            );
            let _ = writeln!(
                s,
                "Fisher radius r = {}: ellipses Delta^T F(center) Delta = r^2 (the 2x2 block of F of {xn} and {yn}; KL ~ r^2/2 on them), and the exact level sets D(theta || center) = r^2/2 ({kl_method} KL, {rays} rays each)",
                number(args.radius)
            );
            let _ = writeln!(
                s,
                "on ray k, theta(t) = center + t B^(-1/2) u_k meets the ellipse at t = r and the level set at t_k; the gap is max |t_k/r - 1|"
            );
            if let Some(star) = &d.whitened_at {
                let _ = writeln!(
                    s,
                    "whitened at {}: eta = B^(1/2) (theta - theta*), B the 2x2 block of F there; its ball is the circle |eta| = r",
                    point_text(model, star)
                );
            }
            let _ = writeln!(s, "\ncenters ({})", d.balls.len());
            let width = d
                .balls
                .iter()
                .map(|b| point_text(model, &b.center).len())
                .max()
                .unwrap_or(0);
            for b in &d.balls {
                let at = point_text(model, &b.center);
                let mut notes = Vec::new();
                if b.ellipse_clipped() {
                    notes.push("ellipse clipped at the domain".to_string());
                }
                let cut = b
                    .level_set
                    .iter()
                    .filter(|p| p.end == RayEnd::Boundary)
                    .count();
                if cut > 0 {
                    notes.push(format!(
                        "{cut} of {} rays of the level set cut at the domain",
                        b.level_set.len()
                    ));
                }
                let fill = " ".repeat(width.saturating_sub(at.len()));
                let _ = writeln!(
                    s,
                    "  {at}{fill}  gap {}{}",
                    format_gap(b.max_relative_gap()),
                    if notes.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", notes.join("; "))
                    }
                );
            }
            s
        }
    }
}

/// A number the user typed (a radius, a coordinate of a centre) as LaTeX: as typed when it
/// has no exponent, else in scientific notation. (`+ 0.0` turns `-0` into `0`.)
fn latex_plain(v: f64) -> String {
    let s = number(v + 0.0);
    if s.contains(['e', 'E']) || !v.is_finite() {
        latex_number(v)
    } else {
        s
    }
}

/// A relative gap with three significant digits.
fn format_gap(v: f64) -> String {
    format!("{v:.3e}")
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn grids() {
        assert_eq!(grid("5x3").unwrap(), (5, 3));
        assert!(grid("0x3").is_err());
        assert!(grid("5y5").is_err());
        assert!(grid("26x1").is_err());
    }
}
