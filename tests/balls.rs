//! Fisher balls (issue 12, item 4): the ellipse is at Fisher radius r, the level set at
//! `D = r²/2` (checked against the divergence itself, and for a numeric divergence against
//! the Cauchy's published closed form), the two meet as r → 0, nothing is drawn outside the
//! domain, whitening makes the centre's ball a circle; and the figures, rendered to pixels,
//! are not blank and draw the ellipse where the layout says.

use fisher_geometry::{
    BallOptions, BallsFigure, FIGURE_HEIGHT, FIGURE_WIDTH, FisherBall, FisherField, GeometryError,
    KlField, Method, Model, PlotLayout, RayEnd, grid_centers, plane_whitening,
};

/// Two independent Bernoulli variables: a model whose divergence stays bounded at the edge of
/// its domain (`D(p‖p₀) → ln(1/p₀)` as `p → 1`), so large level sets are cut there.
const TWO_BERNOULLI: &str = "model two_bernoulli
data x : binary
data y : binary
param p : unit
param q : unit
logp = x*ln(p) + (1 - x)*ln(1 - p) + y*ln(q) + (1 - y)*ln(1 - q)
";

fn fields(model: &Model) -> (FisherField, KlField) {
    (
        FisherField::new(model).unwrap(),
        KlField::new(model).unwrap(),
    )
}

fn builtin(name: &str) -> Model {
    Model::builtin(name).unwrap()
}

fn options(radius: f64) -> BallOptions {
    BallOptions {
        radius,
        ..BallOptions::default()
    }
}

/// Models, centres and planes: diagonal and non-diagonal blocks, special functions, and a
/// plane of two of five parameters.
fn cases() -> Vec<(Model, Vec<f64>, (usize, usize))> {
    vec![
        (builtin("normal"), vec![0.3, 1.7], (0, 1)),
        (builtin("normal_info"), vec![1.0, 2.0], (0, 1)),
        (builtin("gamma"), vec![2.5, 0.7], (0, 1)),
        (
            builtin("bivariate_normal"),
            vec![0.1, -0.2, 1.3, 0.8, 0.4],
            (2, 4),
        ),
    ]
}

fn quad(b: &[[f64; 2]; 2], d: [f64; 2]) -> f64 {
    b[0][0] * d[0] * d[0] + 2.0 * b[0][1] * d[0] * d[1] + b[1][1] * d[1] * d[1]
}

#[test]
fn the_ellipse_is_at_fisher_radius_r() {
    for (model, center, plane) in cases() {
        let (field, kl) = fields(&model);
        let r = 0.1;
        let ball = FisherBall::at(&field, &kl, &center, plane, &options(r)).unwrap();
        let f = field.at(&center).unwrap();
        let (x, y) = plane;
        assert_eq!(
            ball.block,
            [[f[(x, x)], f[(x, y)]], [f[(y, x)], f[(y, y)]]],
            "{}",
            model.name
        );
        assert!(!ball.ellipse_clipped(), "{}", model.name);
        let c = ball.center_in_plane();
        let points = &ball.ellipse[0];
        assert_eq!(points.len(), BallOptions::default().ellipse_points + 1);
        for p in points {
            let q = quad(&ball.block, [p[0] - c[0], p[1] - c[1]]);
            assert!((q / (r * r) - 1.0).abs() < 1e-12, "{}: {q}", model.name);
        }
    }
}

#[test]
fn the_level_set_is_at_kl_r2_over_2() {
    for (model, center, plane) in cases() {
        let (field, kl) = fields(&model);
        let r = 0.1;
        let target = r * r / 2.0;
        let ball = FisherBall::at(&field, &kl, &center, plane, &options(r)).unwrap();
        assert_eq!(ball.method, Method::ClosedForm, "{}", model.name);
        assert_eq!(ball.level_set.len(), BallOptions::default().rays);
        for p in &ball.level_set {
            assert_eq!(p.end, RayEnd::Level, "{}", model.name);
            let mut theta = center.clone();
            theta[plane.0] = p.point[0];
            theta[plane.1] = p.point[1];
            // The divergence again, p = θ on the set, q = θ₀ the centre.
            let d = kl.kl(&theta, &center).unwrap().value;
            assert!((d / target - 1.0).abs() < 1e-9, "{}: {d}", model.name);
            assert!(
                (p.kl / target - 1.0).abs() < 1e-9,
                "{}: {}",
                model.name,
                p.kl
            );
            // Every parameter off the plane is held fixed.
            for (i, v) in theta.iter().enumerate() {
                if i != plane.0 && i != plane.1 {
                    assert_eq!(*v, center[i]);
                }
            }
        }
    }
}

/// Chyzak & Nielsen, "A closed-form formula for the Kullback–Leibler divergence between
/// Cauchy distributions" (2019): `D = ln(((γ₁ + γ₂)² + (x₁ − x₂)²)/(4γ₁γ₂))`.
fn cauchy_kl(p: &[f64], q: &[f64]) -> f64 {
    (((p[1] + q[1]).powi(2) + (p[0] - q[0]).powi(2)) / (4.0 * p[1] * q[1])).ln()
}

#[test]
fn a_numeric_divergence_finds_the_published_level_set() {
    let model = builtin("cauchy");
    let (field, kl) = fields(&model);
    assert_eq!(kl.method(), Method::Numeric);
    let center = [0.5, 1.5];
    let r = 0.3;
    let opts = BallOptions {
        radius: r,
        rays: 12,
        ellipse_points: 16,
    };
    let ball = FisherBall::at(&field, &kl, &center, (0, 1), &opts).unwrap();
    assert_eq!(ball.method, Method::Numeric);
    for p in &ball.level_set {
        let d = cauchy_kl(&p.point, &center);
        assert!((d / (r * r / 2.0) - 1.0).abs() < 1e-6, "{p:?}: {d}");
    }
}

#[test]
fn small_balls_hug_their_level_sets_with_a_gap_of_order_r() {
    let model = builtin("normal_info");
    let (field, kl) = fields(&model);
    let gap = |r: f64| {
        FisherBall::at(&field, &kl, &[1.0, 2.0], (0, 1), &options(r))
            .unwrap()
            .max_relative_gap()
    };
    let radii = [0.2, 0.1, 0.05, 0.025, 0.0125];
    let gaps: Vec<f64> = radii.iter().map(|&r| gap(r)).collect();
    for w in gaps.windows(2) {
        let ratio = w[1] / w[0];
        assert!((0.4..0.6).contains(&ratio), "{gaps:?}");
    }
    assert!(gaps[4] < 0.02, "{gaps:?}");
}

#[test]
fn clipping_keeps_every_drawn_point_inside_the_domain() {
    // The normal: a ball of radius 2 at σ = 1 reaches σ = 1 − 2/√2 < 0; the divergence grows
    // without bound as σ → 0, so the level set is not cut.
    let model = builtin("normal");
    let (field, kl) = fields(&model);
    let ball = FisherBall::at(&field, &kl, &[0.0, 1.0], (0, 1), &options(2.0)).unwrap();
    assert!(ball.ellipse_clipped());
    let drawn: usize = ball.ellipse.iter().map(Vec::len).sum();
    assert!(drawn < BallOptions::default().ellipse_points && drawn > 0);
    assert!(ball.ellipse.iter().flatten().all(|p| p[1] > 0.0));
    assert!(ball.level_set.iter().all(|p| p.point[1] > 0.0));
    assert_eq!(ball.cut_rays(), 0);

    // Two Bernoullis at (½, ½): D ≤ 2 ln 2 ≈ 1.386 on the whole square, and on the edge
    // p = 1 only ln 2 + D(q‖½); a level of r²/2 = 0.72 is reached along some rays and not
    // along those that run into the middle of an edge first.
    let model = Model::parse(TWO_BERNOULLI, "two_bernoulli").unwrap();
    let (field, kl) = fields(&model);
    let r = 1.2;
    let ball = FisherBall::at(&field, &kl, &[0.5, 0.5], (0, 1), &options(r)).unwrap();
    assert!(ball.ellipse_clipped());
    let inside = |p: [f64; 2]| p.iter().all(|v| *v > 0.0 && *v < 1.0);
    assert!(ball.ellipse.iter().flatten().all(|p| inside(*p)));
    let cut = ball.cut_rays();
    assert!(cut > 0 && cut < ball.level_set.len(), "{cut}");
    for p in &ball.level_set {
        assert!(inside(p.point), "{p:?}");
        match p.end {
            RayEnd::Boundary => {
                assert!(p.kl < r * r / 2.0, "{p:?}");
                let edge = p.point.iter().map(|v| v.min(1.0 - v)).fold(1.0, f64::min);
                assert!(edge < 1e-9, "{p:?}");
                let d = kl.kl(&p.point, &[0.5, 0.5]).unwrap().value;
                assert!((d - p.kl).abs() < 1e-12);
            }
            RayEnd::Level => assert!((p.kl / (r * r / 2.0) - 1.0).abs() < 1e-9),
        }
    }
    // Above 2 ln 2 every ray is cut.
    let ball = FisherBall::at(&field, &kl, &[0.5, 0.5], (0, 1), &options(1.7)).unwrap();
    assert_eq!(ball.cut_rays(), ball.level_set.len());
}

#[test]
fn whitening_makes_the_centres_ball_a_circle_of_radius_r() {
    let model = builtin("normal_info");
    let (field, kl) = fields(&model);
    let center = [1.0, 2.0];
    let r = 0.1;
    let ball = FisherBall::at(&field, &kl, &center, (0, 1), &options(r)).unwrap();
    assert!(ball.block[0][1].abs() > 0.1, "a block with a correlation");
    let w = plane_whitening(&field, &center, (0, 1)).unwrap();
    for p in &ball.ellipse[0] {
        let eta = w.to_local(p);
        assert!((eta.norm() / r - 1.0).abs() < 1e-12, "{}", eta.norm());
    }
    // Ray k runs along B^{-1/2}u_k, so in η it is the straight ray t·u_k.
    for p in &ball.level_set {
        let eta = w.to_local(&p.point);
        assert!((eta.norm() / p.t - 1.0).abs() < 1e-12);
    }
}

#[test]
fn bad_balls_are_refused() {
    let model = builtin("normal");
    let (field, kl) = fields(&model);
    for r in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        let e = FisherBall::at(&field, &kl, &[0.0, 1.0], (0, 1), &options(r)).unwrap_err();
        assert!(matches!(e, GeometryError::Radius { .. }), "{e}");
    }
    // Too small for f64: r²/2 underflows, or the ball is lost in the rounding of θ₀ + Δ.
    for (r, center) in [
        (1e-101, [0.0, 1.0]),
        (1e-12, [5.0, 1.0]),
        (1e-10, [0.0, 1e3]),
    ] {
        let e = FisherBall::at(&field, &kl, &center, (0, 1), &options(r)).unwrap_err();
        assert!(e.to_string().contains("too small"), "{e}");
    }
    let e = FisherBall::at(&field, &kl, &[0.0, 1.0], (1, 1), &options(0.1)).unwrap_err();
    assert!(matches!(e, GeometryError::Plane(_)), "{e}");
    assert!(e.to_string().contains("`sigma` is both axes"), "{e}");
    let e = FisherBall::at(&field, &kl, &[0.0, 1.0], (0, 2), &options(0.1)).unwrap_err();
    assert!(matches!(e, GeometryError::Plane(_)), "{e}");
    let e = FisherBall::at(&field, &kl, &[0.0, -1.0], (0, 1), &options(0.1)).unwrap_err();
    assert!(matches!(e, GeometryError::Info(_)), "{e}");
    let few = BallOptions {
        rays: 4,
        ..options(0.1)
    };
    assert!(FisherBall::at(&field, &kl, &[0.0, 1.0], (0, 1), &few).is_err());
    let poisson = builtin("poisson");
    let (field, kl) = fields(&poisson);
    let e = FisherBall::at(&field, &kl, &[1.0], (0, 1), &options(0.1)).unwrap_err();
    assert!(e.to_string().contains("a plane needs two"), "{e}");
}

// ---- the figures, rendered to pixels ----

/// A figure as `fisher balls` draws it (centres row by row, the whitening centre last when it
/// is not on the grid).
struct Spec {
    file: &'static str,
    model: &'static str,
    x: (usize, f64, f64),
    y: (usize, f64, f64),
    grid: (usize, usize),
    radius: f64,
    whiten_at: Option<[f64; 2]>,
    /// The centre whose ellipse is measured in pixels.
    probe: [f64; 2],
}

/// The figures of `examples/figures/README.md`.
fn committed() -> Vec<Spec> {
    vec![
        Spec {
            file: "normal_balls.svg",
            model: "normal",
            x: (0, -1.0, 1.0),
            y: (1, 0.25, 2.25),
            grid: (5, 5),
            radius: 0.1,
            whiten_at: None,
            probe: [0.0, 2.25],
        },
        Spec {
            file: "normal_info_balls.svg",
            model: "normal_info",
            x: (0, -2.0, 2.0),
            y: (1, 0.5, 2.5),
            grid: (5, 4),
            radius: 0.1,
            whiten_at: None,
            probe: [0.0, 2.5],
        },
        Spec {
            file: "normal_whitened_balls.svg",
            model: "normal",
            x: (0, -1.0, 1.0),
            y: (1, 0.25, 2.25),
            grid: (5, 5),
            radius: 0.1,
            whiten_at: Some([0.0, 1.25]),
            probe: [0.0, 1.25],
        },
        Spec {
            file: "normal_balls_r05.svg",
            model: "normal",
            x: (0, -2.0, 2.0),
            y: (1, 0.6, 1.8),
            grid: (3, 2),
            radius: 0.5,
            whiten_at: None,
            probe: [2.0, 1.8],
        },
    ]
}

/// The figure of `spec` from the library, its layout, and the half extents of the probe's
/// ellipse in the figure's coordinates along the horizontal and vertical lines through it.
fn draw(spec: &Spec) -> (String, PlotLayout, [f64; 2], [f64; 2]) {
    let model = builtin(spec.model);
    let (field, kl) = fields(&model);
    let plane = (spec.x.0, spec.y.0);
    let mut centers = Vec::new();
    for vy in grid_centers(spec.y.1, spec.y.2, spec.grid.1) {
        for vx in grid_centers(spec.x.1, spec.x.2, spec.grid.0) {
            centers.push(vec![vx, vy]);
        }
    }
    if let Some(star) = spec.whiten_at {
        if !centers.contains(&star.to_vec()) {
            centers.push(star.to_vec());
        }
    }
    let balls: Vec<FisherBall> = centers
        .iter()
        .map(|c| FisherBall::at(&field, &kl, c, plane, &options(spec.radius)).unwrap())
        .collect();
    let w = spec
        .whiten_at
        .map(|s| plane_whitening(&field, &s, plane).unwrap());
    let names = (
        model.params[plane.0].name.as_str(),
        model.params[plane.1].name.as_str(),
    );
    let figure = BallsFigure::of_balls(&model.name, names, &balls, w.as_ref());
    let rendered = figure.render().unwrap();
    let probe = balls
        .iter()
        .find(|b| b.center_in_plane() == spec.probe)
        .expect("the probe is a centre");
    let (center, half) = match &w {
        // Whitened at the probe: the circle |η| = r.
        Some(w) => {
            let eta = w.to_local(&spec.probe);
            ([eta[0], eta[1]], [spec.radius, spec.radius])
        }
        // On the line through the centre, Δ = (δ, 0): δ²B₁₁ = r².
        None => (
            spec.probe,
            [
                spec.radius / probe.block[0][0].sqrt(),
                spec.radius / probe.block[1][1].sqrt(),
            ],
        ),
    };
    (rendered.svg, rendered.layout, center, half)
}

/// The SVG as RGB pixels, row by row (text is not drawn: no fonts are loaded).
fn pixels(svg: &str) -> Vec<[u8; 3]> {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    assert_eq!((size.width(), size.height()), (FIGURE_WIDTH, FIGURE_HEIGHT));
    let mut map = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut map.as_mut(),
    );
    map.pixels()
        .iter()
        .map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue()]
        })
        .collect()
}

/// The ellipse's blue (#1f77b4), or a blend of it with the white background.
fn is_ellipse(p: [u8; 3]) -> bool {
    let [r, g, b] = p.map(i32::from);
    b > 150 && b - r > 60 && g > r && b > g
}

/// The distance in pixels from the probe's centre to the middle of the ellipse's line on
/// each side, along the rows (horizontal) and columns (vertical) through the centre: on each
/// of three neighbouring lines, the first run of the ellipse's colour met walking out from the
/// centre (not the next ball's), at most `reach` pixels away.
fn measured_half_extent(px: &[[u8; 3]], center: (f64, f64), reach: (f64, f64)) -> (f64, f64) {
    let w = FIGURE_WIDTH as i64;
    let h = FIGURE_HEIGHT as i64;
    let at = |x: i64, y: i64| -> Option<[u8; 3]> {
        ((0..w).contains(&x) && (0..h).contains(&y)).then(|| px[(y * w + x) as usize])
    };
    let (cx, cy) = (center.0.round() as i64, center.1.round() as i64);
    // The first run of drawn pixels met walking out (past the centre's dot, 2 pixels): its
    // pixels of the ellipse's colour.
    let first_run = |step: &dyn Fn(i64) -> Option<[u8; 3]>, reach: f64| -> Vec<i64> {
        let mut run = Vec::new();
        let mut in_run = false;
        for k in 3..=reach.ceil() as i64 {
            match step(k) {
                Some(p) if p != [255, 255, 255] => {
                    in_run = true;
                    if is_ellipse(p) {
                        run.push(k);
                    }
                }
                _ if in_run => break,
                _ => {}
            }
        }
        run
    };
    let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len() as f64;
    // Nine neighbouring lines, and the average of what they find.
    let both = |a: Vec<i64>, b: Vec<i64>| {
        (!a.is_empty() && !b.is_empty()).then(|| (mean(&a) + mean(&b)) / 2.0)
    };
    let mut horizontal = Vec::new();
    let mut vertical = Vec::new();
    for across in -4..=4 {
        let right = first_run(&|k| at(cx + k, cy + across), reach.0);
        let left = first_run(&|k| at(cx - k, cy + across), reach.0);
        horizontal.extend(both(right, left));
        let down = first_run(&|k| at(cx + across, cy + k), reach.1);
        let up = first_run(&|k| at(cx + across, cy - k), reach.1);
        vertical.extend(both(down, up));
    }
    assert!(
        horizontal.len() >= 3 && vertical.len() >= 3,
        "the ellipse is not found: {horizontal:?} {vertical:?}"
    );
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (avg(&horizontal), avg(&vertical))
}

/// The SVG without the level sets' dashes (plotters writes one element to a line), so that
/// the ellipses can be measured where the two curves cross.
fn without_level_sets(svg: &str) -> String {
    let (r, g, b) = fisher_geometry::CurveStyle::LevelSet.rgb();
    let colour = format!("stroke=\"#{r:02X}{g:02X}{b:02X}\"");
    let kept: Vec<&str> = svg.lines().filter(|l| !l.contains(&colour)).collect();
    assert!(kept.len() < svg.lines().count(), "no level set drawn");
    kept.join("\n")
}

fn check_pixels(name: &str, svg: &str, layout: &PlotLayout, center: [f64; 2], half: [f64; 2]) {
    let px = pixels(svg);
    let background = [255u8, 255, 255];
    let drawn = px.iter().filter(|p| **p != background).count();
    assert!(drawn > 5_000, "{name}: only {drawn} pixels drawn");
    let ellipse = px.iter().filter(|p| is_ellipse(**p)).count();
    assert!(
        ellipse > 500,
        "{name}: only {ellipse} pixels of the ellipse colour"
    );
    let px = pixels(&without_level_sets(svg));
    let (sx, sy) = layout.scale();
    let want = (half[0] * sx, half[1] * sy);
    let got = measured_half_extent(&px, layout.to_pixel(center), (1.5 * want.0, 1.5 * want.1));
    assert!(
        (got.0 - want.0).abs() <= 1.5 && (got.1 - want.1).abs() <= 1.5,
        "{name}: half extents {got:?} pixels, expected {want:?}"
    );
}

#[test]
fn the_committed_figures_are_the_librarys_and_draw_the_ellipse_where_the_layout_says() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/figures/");
    for spec in committed() {
        let (svg, layout, center, half) = draw(&spec);
        let file = std::fs::read_to_string(format!("{dir}{}", spec.file)).unwrap();
        assert!(
            file == svg,
            "{} differs from the library's figure",
            spec.file
        );
        check_pixels(spec.file, &file, &layout, center, half);
    }
}

#[test]
fn a_fresh_figure_is_deterministic_with_a_round_ball_when_whitened() {
    let spec = Spec {
        file: "fresh",
        model: "normal_info",
        x: (0, -1.0, 1.0),
        y: (1, 1.0, 3.0),
        grid: (3, 3),
        radius: 0.15,
        whiten_at: Some([1.0, 2.0]),
        probe: [1.0, 2.0],
    };
    let (svg, layout, center, half) = draw(&spec);
    assert_eq!(draw(&spec).0, svg, "the same figure twice");
    let (sx, sy) = layout.scale();
    assert!((sx / sy - 1.0).abs() < 0.01, "equal aspect: {sx} vs {sy}");
    check_pixels("fresh", &svg, &layout, center, half);
    for s in [
        "η₁ (whitened h)",
        "η₂ (whitened λ)",
        "whitened at h = 1, λ = 2",
    ] {
        assert!(svg.contains(s), "missing {s}");
    }
}

#[test]
fn extra_curves_are_drawn_over_the_balls_with_their_legend() {
    let model = builtin("normal");
    let (field, kl) = fields(&model);
    let ball = FisherBall::at(&field, &kl, &[0.0, 1.0], (0, 1), &options(0.2)).unwrap();
    let mut figure = BallsFigure::of_balls("normal", ("mu", "sigma"), &[ball], None);
    let plain = figure.render().unwrap().svg;
    figure.extra.push(fisher_geometry::Curve {
        points: vec![[-0.3, 0.8], [0.3, 1.2]],
        label: Some("a geodesic".to_string()),
        style: fisher_geometry::CurveStyle::Geodesic,
    });
    let svg = figure.render().unwrap().svg;
    assert!(svg.contains("a geodesic") && !plain.contains("a geodesic"));
    assert!(
        svg.contains("#2CA02C") || svg.contains("#2ca02c"),
        "the geodesic colour"
    );
    for s in [
        "μ",
        "σ",
        fisher_geometry::ELLIPSE_LEGEND,
        fisher_geometry::LEVEL_SET_LEGEND,
    ] {
        assert!(svg.contains(s), "missing {s}");
    }
}
