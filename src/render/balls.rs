//! The Fisher-ball figure as SVG (plotters, SVG backend): at each centre the ellipse
//! `ΔᵀFΔ = r²` and the exact KL level set `D = r²/2`, the centres marked, axes named after
//! the parameters (Greek letters for Greek names), and room for more curves over the balls
//! ([`BallsFigure::extra`]: geodesics, optimisation paths).
//!
//! The SVG is the same byte for byte for the same figure: pixel coordinates are integers,
//! tick labels go through one formatting function, and nothing depends on the clock or on
//! fonts installed (text is laid out by plotters' own estimate, not measured).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::latex::GREEK;
use crate::geometry::{FisherBall, Whitening};

/// Width of the figure in pixels.
pub const FIGURE_WIDTH: u32 = 760;
/// Height of the figure in pixels.
pub const FIGURE_HEIGHT: u32 = 760;
/// The strip under the plot that holds the legend.
const LEGEND_HEIGHT: u32 = 64;
/// Margin around the plot.
const MARGIN: u32 = 16;
/// Room for the tick labels and the name of the x axis.
const X_LABELS: u32 = 48;
/// Room for the tick labels and the name of the y axis.
const Y_LABELS: u32 = 72;
/// Padding around the curves, as a fraction of their extent.
const PAD: f64 = 0.06;

/// How a curve is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveStyle {
    /// The Fisher ball `ΔᵀFΔ = r²`: solid blue.
    Ellipse,
    /// The exact KL level set `D = r²/2`: dashed red.
    LevelSet,
    /// A geodesic: solid green.
    Geodesic,
    /// Any other path (natural-gradient iterates, say): solid purple.
    Path,
    /// A second path to compare with the first (plain-gradient iterates): solid orange.
    ComparisonPath,
}

impl CurveStyle {
    /// The colour of the curve, `(r, g, b)`.
    pub fn rgb(self) -> (u8, u8, u8) {
        match self {
            CurveStyle::Ellipse => (0x1f, 0x77, 0xb4),
            CurveStyle::LevelSet => (0xd6, 0x27, 0x28),
            CurveStyle::Geodesic => (0x2c, 0xa0, 0x2c),
            CurveStyle::Path => (0x94, 0x67, 0xbd),
            CurveStyle::ComparisonPath => (0xff, 0x7f, 0x0e),
        }
    }

    /// The line width in pixels.
    pub fn width(self) -> u32 {
        match self {
            CurveStyle::Ellipse
            | CurveStyle::Geodesic
            | CurveStyle::Path
            | CurveStyle::ComparisonPath => 2,
            CurveStyle::LevelSet => 1,
        }
    }

    fn dashed(self) -> bool {
        self == CurveStyle::LevelSet
    }

    fn shape(self) -> ShapeStyle {
        let (r, g, b) = self.rgb();
        ShapeStyle {
            color: RGBColor(r, g, b).to_rgba(),
            filled: false,
            stroke_width: self.width(),
        }
    }
}

/// A polyline in the plotted coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The points, `(x, y)` in the figure's coordinates.
    pub points: Vec<[f64; 2]>,
    /// The legend entry (the first curve of each label gets one).
    pub label: Option<String>,
    /// How it is drawn.
    pub style: CurveStyle,
}

/// One ball as drawn: the pieces of its ellipse, its level set, its centre.
#[derive(Debug, Clone, PartialEq)]
pub struct BallCurves {
    /// The centre.
    pub center: [f64; 2],
    /// The ellipse, one closed polyline or the pieces inside the domain.
    pub ellipse: Vec<Vec<[f64; 2]>>,
    /// The KL level set, closed.
    pub level_set: Vec<[f64; 2]>,
}

/// A figure of Fisher balls (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct BallsFigure {
    /// The title.
    pub title: String,
    /// The name of the x axis.
    pub x_label: String,
    /// The name of the y axis.
    pub y_label: String,
    /// The balls.
    pub balls: Vec<BallCurves>,
    /// Curves drawn over the balls, in order.
    pub extra: Vec<Curve>,
    /// Whether a unit of x and of y have the same length on the page (a circle looks round):
    /// the figure of whitened coordinates.
    pub equal_aspect: bool,
}

/// Where the plot lies on the page: the data ranges of the axes and the pixels they map to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotLayout {
    /// The range of x, `(left, right)`.
    pub x_range: (f64, f64),
    /// The range of y, `(bottom, top)`.
    pub y_range: (f64, f64),
    /// The pixel columns of `x_range.0` and `x_range.1`.
    pub x_pixels: (i32, i32),
    /// The pixel rows of `y_range.0` and `y_range.1` (the first is the larger: rows grow
    /// downwards).
    pub y_pixels: (i32, i32),
}

impl PlotLayout {
    /// The pixel `(column, row)` of the point `(x, y)`, unrounded.
    pub fn to_pixel(&self, p: [f64; 2]) -> (f64, f64) {
        let lerp = |v: f64, (a, b): (f64, f64), (pa, pb): (i32, i32)| {
            f64::from(pa) + (v - a) / (b - a) * f64::from(pb - pa)
        };
        (
            lerp(p[0], self.x_range, self.x_pixels),
            lerp(p[1], self.y_range, self.y_pixels),
        )
    }

    /// Pixels per unit of x and of y.
    pub fn scale(&self) -> (f64, f64) {
        (
            f64::from(self.x_pixels.1 - self.x_pixels.0) / (self.x_range.1 - self.x_range.0),
            f64::from(self.y_pixels.0 - self.y_pixels.1) / (self.y_range.1 - self.y_range.0),
        )
    }
}

/// A figure as SVG text and its layout.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedFigure {
    /// The SVG document.
    pub svg: String,
    /// Where the plot lies.
    pub layout: PlotLayout,
}

/// Why a figure could not be drawn.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    /// Nothing to draw, or a coordinate that is not finite.
    #[error("the figure has {0}")]
    Data(String),
    /// The plotting library failed.
    #[error("the figure could not be drawn: {0}")]
    Plot(String),
}

/// The legend texts of the two kinds of curve of a ball.
pub const ELLIPSE_LEGEND: &str = "Fisher ball ΔᵀFΔ = r² (KL ≈ r²/2)";
/// The legend text of the exact level set.
pub const LEVEL_SET_LEGEND: &str = "exact KL = r²/2";

impl BallsFigure {
    /// The figure of `balls` (all in the same plane), in the plane's coordinates or, with
    /// `whitening` (from [`crate::geometry::plane_whitening`]), in its local coordinates
    /// `η = B^{1/2}(θ*)(θ − θ*)`, drawn with equal aspect so that the ball at `θ*` is a circle.
    /// `model` and `names` (the two parameters) make the title and the axis names.
    pub fn of_balls(
        model: &str,
        names: (&str, &str),
        balls: &[FisherBall],
        whitening: Option<&Whitening>,
    ) -> BallsFigure {
        let map = |p: [f64; 2]| -> [f64; 2] {
            match whitening {
                Some(w) => {
                    let eta = w.to_local(&p);
                    [eta[0], eta[1]]
                }
                None => p,
            }
        };
        let curves = balls
            .iter()
            .map(|b| BallCurves {
                center: map(b.center_in_plane()),
                ellipse: b
                    .ellipse
                    .iter()
                    .map(|piece| piece.iter().map(|p| map(*p)).collect())
                    .collect(),
                level_set: b.level_polyline().into_iter().map(map).collect(),
            })
            .collect();
        let radius = balls
            .first()
            .map(|b| crate::expr::number(b.radius))
            .unwrap_or_default();
        let (x, y) = (unicode_name(names.0), unicode_name(names.1));
        let (title, x_label, y_label) = match whitening {
            None => (
                format!("{model}: Fisher balls of radius r = {radius} in ({x}, {y})"),
                x.clone(),
                y.clone(),
            ),
            Some(w) => {
                let c = w.center();
                (
                    format!(
                        "{model}: Fisher balls of radius r = {radius}, whitened at {x} = {}, {y} = {}",
                        tick(c[0]),
                        tick(c[1])
                    ),
                    format!("η₁ (whitened {x})"),
                    format!("η₂ (whitened {y})"),
                )
            }
        };
        BallsFigure {
            title,
            x_label,
            y_label,
            balls: curves,
            extra: Vec::new(),
            equal_aspect: whitening.is_some(),
        }
    }

    /// Every point drawn.
    fn points(&self) -> impl Iterator<Item = &[f64; 2]> {
        self.balls
            .iter()
            .flat_map(|b| {
                std::iter::once(&b.center)
                    .chain(b.ellipse.iter().flatten())
                    .chain(b.level_set.iter())
            })
            .chain(self.extra.iter().flat_map(|c| c.points.iter()))
    }

    /// The figure as SVG ([`FIGURE_WIDTH`] × [`FIGURE_HEIGHT`] pixels) and its layout.
    ///
    /// # Errors
    ///
    /// [`RenderError::Data`] for a figure without points or with a point that is not
    /// finite; [`RenderError::Plot`] when plotters fails.
    pub fn render(&self) -> Result<RenderedFigure, RenderError> {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for p in self.points() {
            if !(p[0].is_finite() && p[1].is_finite()) {
                return Err(RenderError::Data(format!(
                    "a point that is not finite: ({}, {})",
                    p[0], p[1]
                )));
            }
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        if lo[0] > hi[0] {
            return Err(RenderError::Data("nothing to draw".to_string()));
        }
        let mut svg = String::new();
        let layout = {
            let root = SVGBackend::with_string(&mut svg, (FIGURE_WIDTH, FIGURE_HEIGHT))
                .into_drawing_area();
            self.draw(&root, lo, hi)
                .map_err(|e| RenderError::Plot(e.to_string()))?
        };
        Ok(RenderedFigure { svg, layout })
    }

    /// Draws onto `root`; `lo` and `hi` bound every point.
    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, Shift>,
        lo: [f64; 2],
        hi: [f64; 2],
    ) -> Result<PlotLayout, DrawingAreaErrorKind<std::io::Error>> {
        root.fill(&WHITE)?;
        let (upper, legend) = root.split_vertically(FIGURE_HEIGHT - LEGEND_HEIGHT);
        let area = upper.titled(&self.title, ("sans-serif", 18))?;
        let (w, h) = area.dim_in_pixel();
        let plot_w = f64::from(w.saturating_sub(2 * MARGIN + Y_LABELS).max(1));
        let plot_h = f64::from(h.saturating_sub(2 * MARGIN + X_LABELS).max(1));
        let (x_range, y_range) = view(lo, hi, self.equal_aspect.then_some(plot_w / plot_h));
        let mut chart = ChartBuilder::on(&area)
            .margin(MARGIN)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 16))
            .draw()?;
        let as_pairs = |points: &[[f64; 2]]| -> Vec<(f64, f64)> {
            points.iter().map(|p| (p[0], p[1])).collect()
        };
        for ball in &self.balls {
            for piece in &ball.ellipse {
                draw_curve(&mut chart, &as_pairs(piece), CurveStyle::Ellipse)?;
            }
            draw_curve(&mut chart, &as_pairs(&ball.level_set), CurveStyle::LevelSet)?;
        }
        for curve in &self.extra {
            draw_curve(&mut chart, &as_pairs(&curve.points), curve.style)?;
        }
        chart.draw_series(
            self.balls
                .iter()
                .map(|b| Circle::new((b.center[0], b.center[1]), 2, BLACK.filled())),
        )?;
        let corner0 = chart.backend_coord(&(x_range.0, y_range.0));
        let corner1 = chart.backend_coord(&(x_range.1, y_range.1));

        let mut entries = vec![
            (ELLIPSE_LEGEND.to_string(), CurveStyle::Ellipse),
            (LEVEL_SET_LEGEND.to_string(), CurveStyle::LevelSet),
        ];
        for c in &self.extra {
            if let Some(label) = &c.label {
                if !entries.iter().any(|(l, _)| l == label) {
                    entries.push((label.clone(), c.style));
                }
            }
        }
        draw_legend(&legend, &entries)?;
        root.present()?;
        Ok(PlotLayout {
            x_range,
            y_range,
            x_pixels: (corner0.0, corner1.0),
            y_pixels: (corner0.1, corner1.1),
        })
    }
}

/// The chart of a figure.
type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// One polyline in its style.
fn draw_curve(
    chart: &mut Chart<'_, '_>,
    points: &[(f64, f64)],
    style: CurveStyle,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    if points.len() < 2 {
        return Ok(());
    }
    if style.dashed() {
        chart.draw_series(DashedLineSeries::new(
            points.iter().copied(),
            5,
            3,
            style.shape(),
        ))?;
    } else {
        chart.draw_series(LineSeries::new(points.iter().copied(), style.shape()))?;
    }
    Ok(())
}

/// The legend strip: a line of each style and its text, two entries to a row.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(String, CurveStyle)],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let left = (MARGIN + Y_LABELS) as i32;
    let column = ((FIGURE_WIDTH - MARGIN - Y_LABELS) / 2) as i32;
    for (i, (label, style)) in entries.iter().enumerate() {
        let x = left + (i as i32 % 2) * column;
        let y = 14 + (i as i32 / 2) * 22;
        let line = vec![(x, y), (x + 34, y)];
        if style.dashed() {
            for k in 0..4 {
                let x0 = x + k * 9;
                area.draw(&PathElement::new(vec![(x0, y), (x0 + 5, y)], style.shape()))?;
            }
        } else {
            area.draw(&PathElement::new(line, style.shape()))?;
        }
        area.draw(&Text::new(
            label.clone(),
            (x + 42, y - 7),
            ("sans-serif", 14).into_font(),
        ))?;
    }
    Ok(())
}

/// The ranges of the axes: the box `lo..hi` padded, and with `aspect = plot width / plot
/// height` widened along one axis so that units of x and y are as long.
fn view(lo: [f64; 2], hi: [f64; 2], aspect: Option<f64>) -> ((f64, f64), (f64, f64)) {
    let mut half = [0.0; 2];
    let mut mid = [0.0; 2];
    for k in 0..2 {
        mid[k] = 0.5 * (lo[k] + hi[k]);
        let span = hi[k] - lo[k];
        // A degenerate extent (one point) gets a unit of room, or room proportional to it.
        let span = if span > 0.0 {
            span
        } else {
            mid[k].abs().max(1.0)
        };
        half[k] = 0.5 * span * (1.0 + 2.0 * PAD);
    }
    if let Some(aspect) = aspect {
        // Units per pixel equal: half_x / plot_w = half_y / plot_h.
        if half[0] / half[1] < aspect {
            half[0] = half[1] * aspect;
        } else {
            half[1] = half[0] / aspect;
        }
    }
    (
        (mid[0] - half[0], mid[0] + half[0]),
        (mid[1] - half[1], mid[1] + half[1]),
    )
}

/// A tick label: at most 4 significant digits, no trailing zeros, `-0` as `0`.
fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            v.to_string()
        };
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// The letters of the Greek names of the LaTeX table, in its order.
const GREEK_LETTERS: &[char] = &[
    'α', 'β', 'γ', 'δ', 'ε', 'ζ', 'η', 'θ', 'ι', 'κ', 'λ', 'μ', 'ν', 'ξ', 'π', 'ρ', 'σ', 'τ', 'υ',
    'φ', 'χ', 'ψ', 'ω', 'Γ', 'Δ', 'Θ', 'Λ', 'Ξ', 'Π', 'Σ', 'Υ', 'Φ', 'Ψ', 'Ω',
];

/// A parameter name as plain Unicode for a figure: Greek names as Greek letters (`sigma` →
/// `σ`, the table of [`super::latex_name`]), trailing digits as subscripts (`eta1` → `η₁`, `x2` → `x₂`), each part of a name with
/// underscores on its own (`log_sigma` → `log_σ`); anything else as it is.
pub fn unicode_name(name: &str) -> String {
    name.split('_')
        .map(unicode_part)
        .collect::<Vec<_>>()
        .join("_")
}

/// One part of [`unicode_name`].
fn unicode_part(part: &str) -> String {
    let head = part.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &part[head.len()..];
    if head.is_empty() {
        return part.to_string();
    }
    let mut out = match GREEK.iter().position(|g| *g == head) {
        Some(i) => GREEK_LETTERS[i].to_string(),
        None => head.to_string(),
    };
    out.extend(
        digits
            .chars()
            .filter_map(|d| d.to_digit(10))
            .filter_map(|d| char::from_u32(0x2080 + d)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::{GREEK, GREEK_LETTERS, tick, unicode_name, view};

    #[test]
    fn greek_names_become_letters_and_digits_subscripts() {
        assert_eq!(GREEK.len(), GREEK_LETTERS.len());
        let cases = [
            ("mu", "μ"),
            ("sigma", "σ"),
            ("lambda", "λ"),
            ("eta1", "η₁"),
            ("eta2", "η₂"),
            ("h", "h"),
            ("x12", "x₁₂"),
            ("log_sigma", "log_σ"),
            ("shape", "shape"),
            ("Omega", "Ω"),
            ("_", "_"),
            ("7", "7"),
        ];
        for (name, want) in cases {
            assert_eq!(unicode_name(name), want, "{name}");
        }
    }

    #[test]
    fn ticks_are_short_and_stable() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (0.30000000000000004, "0.3"),
            (2.5, "2.5"),
            (-1.25, "-1.25"),
            (1234.6, "1235"),
            (0.001234, "0.001234"),
            (-0.00001, "-0.00001"),
        ];
        for (v, want) in cases {
            assert_eq!(tick(v), want, "{v}");
        }
    }

    #[test]
    fn equal_aspect_widens_one_axis() {
        let (x, y) = view([0.0, 0.0], [1.0, 2.0], Some(1.0));
        assert!(((x.1 - x.0) - (y.1 - y.0)).abs() < 1e-12);
        assert!(x.0 < 0.0 && y.0 < 0.0 && x.1 > 1.0 && y.1 > 2.0);
        let (x, y) = view([0.0, 0.0], [1.0, 2.0], None);
        assert!(((x.1 - x.0) / (y.1 - y.0) - 0.5).abs() < 1e-12);
    }
}
