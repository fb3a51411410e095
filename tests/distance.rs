//! Fisher–Rao distances against their closed forms, by every route: the one-parameter
//! integral, the location–scale (hyperbolic) formula, and shooting (the logarithmic map).
//!
//! The closed forms: Rao (1945) and Atkinson & Mitchell, "Rao's distance measure", Sankhyā A
//! 43 (1981): the Poisson's `2|√λ₁ − √λ₂|`, the exponential's `|ln λ₁ − ln λ₂|`, the
//! Bernoulli's `2 arccos(√(p₁p₂) + √((1−p₁)(1−p₂)))` (`√n` times it for the binomial), the
//! categorical's `2 arccos Σ √(pᵢqᵢ)` (the positive orthant of the sphere of radius 2), and the
//! normal's `√2 arccosh(1 + ((μ₁−μ₂)²/2 + (σ₁−σ₂)²)/(2σ₁σ₂))`; a location–scale family with
//! `F = diag(a, b)/σ²` is the hyperbolic plane scaled by `b`, with `μ` stretched by `√(a/b)`
//! (Mitchell, "Statistical manifolds of univariate elliptic distributions", Int. Stat. Rev. 56
//! (1988)): the Cauchy's `F = I/(2γ²)` (a = b = 1/2).

use fisher_geometry::{
    DistanceMethod, FisherField, GeodesicOptions, LocationScale, Model, ShootingOptions, distance,
    distance_method, exponential_map, logarithmic_map,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn field(name: &str) -> FisherField {
    FisherField::new(&Model::builtin(name).unwrap()).unwrap()
}

fn normal_distance(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    let x = ((m1 - m2).powi(2) / 2.0 + (s1 - s2).powi(2)) / (2.0 * s1 * s2);
    // arccosh(1 + x) = ln(1 + x + √(x(2 + x))), without the rounding of 1 + x
    2f64.sqrt() * (x + (x * (2.0 + x)).sqrt()).ln_1p()
}

fn close(found: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (found - want).abs() <= rel * want.abs().max(1e-300),
        "{what}: {found} against {want} (relative {:e})",
        (found - want).abs() / want.abs()
    );
}

#[test]
fn one_parameter_distances_against_closed_forms() {
    let opts = ShootingOptions::default();
    let poisson = field("poisson");
    for (l1, l2) in [(1.0, 9.0), (0.3, 0.31), (1e-150, 1e150), (7.0, 2.0)] {
        let d = distance(&poisson, &[l1], &[l2], opts).unwrap();
        assert_eq!(d.method, DistanceMethod::OneParameter);
        close(
            d.value,
            2.0 * (l1.sqrt() - l2.sqrt()).abs(),
            1e-11,
            "poisson",
        );
    }
    let exponential = field("exponential");
    for (l1, l2) in [(1.0, 9.0), (1e-150, 1e150), (2.0, 2.0000001)] {
        let d = distance(&exponential, &[l1], &[l2], opts).unwrap();
        close(d.value, (l1.ln() - l2.ln()).abs(), 1e-11, "exponential");
    }
    let bernoulli_closed = |p1: f64, p2: f64| {
        2.0 * ((p1 * p2).sqrt() + ((1.0 - p1) * (1.0 - p2)).sqrt())
            .min(1.0)
            .acos()
    };
    let bernoulli = field("bernoulli");
    let binomial = field("binomial");
    for (p1, p2) in [(0.2, 0.7), (0.01, 0.99), (0.5, 0.6), (1e-6, 0.3)] {
        let d = distance(&bernoulli, &[p1], &[p2], opts).unwrap();
        close(d.value, bernoulli_closed(p1, p2), 1e-10, "bernoulli");
        let d = distance(&binomial, &[p1], &[p2], opts).unwrap();
        close(
            d.value,
            10f64.sqrt() * bernoulli_closed(p1, p2),
            1e-10,
            "binomial",
        );
    }
}

#[test]
fn location_scale_metrics_are_recognised_and_hyperbolic() {
    let normal = field("normal");
    let ls = LocationScale::of(&normal).expect("the normal is location-scale");
    assert_eq!((ls.a, ls.b, ls.c), (1.0, 2.0, 0.0));
    assert_eq!(distance_method(&normal), DistanceMethod::LocationScale);
    for (a, b) in [
        ([0.0, 1.0], [1.0, 2.0]),
        ([-3.0, 0.1], [4.0, 7.0]),
        ([0.3, 1.0], [0.3, 1.0 + 1e-9]),
        ([0.0, 1e-150], [0.0, 1e150]),
        ([1e20, 1e-3], [-1e20, 5.0]),
    ] {
        let d = distance(&normal, &a, &b, ShootingOptions::default()).unwrap();
        let want = if a[1] < 1e-100 {
            // √2 arccosh((σ₁² + σ₂²)/(2σ₁σ₂)) = √2 |ln(σ₂/σ₁)| for equal means
            2f64.sqrt() * (b[1] / a[1]).ln()
        } else {
            normal_distance(a[0], a[1], b[0], b[1])
        };
        close(d.value, want, 1e-13, "normal");
        // the closed-form geodesic is one: its points are at the distances they should be
        // (at a distance of 1e-9, or at μ = 1e20 with σ = 0.001, the rounding of the points is
        // larger than the steps)
        let g = &d.geodesic;
        let k = g.len() - 1;
        let representable = d.value > 1e-6 && a[0].abs() < 1e6;
        for (i, p) in g.iter().enumerate().filter(|_| representable) {
            let from_a = ls.distance(&a, p.as_slice());
            let want = d.value * i as f64 / k as f64;
            assert!(
                (from_a - want).abs() <= 1e-9 * d.value,
                "along the geodesic: {from_a} against {want}"
            );
        }
    }
    // a cross term: the normal with mean μ + kσ and sd σ has F = [[1, k], [k, k² + 2]]/σ²,
    // and is the normal at (μ + kσ, σ)
    for k in [0.7, -2.5] {
        let text = format!(
            "data x : real\nparam mu : real\nparam sigma : positive\n\
             logp = -0.5*((x - mu - {k}*sigma)/sigma)^2 - ln(sigma) - 0.5*ln(2*pi)\n"
        );
        let shifted = FisherField::new(&Model::parse(&text, "shifted").unwrap()).unwrap();
        let ls = LocationScale::of(&shifted).expect("the shifted normal is location-scale");
        assert_eq!((ls.a, ls.c), (1.0, k));
        close(ls.b, k * k + 2.0, 1e-15, "b");
        let (a, b) = ([0.2, 1.0], [1.5, 0.4]);
        let d = distance(&shifted, &a, &b, ShootingOptions::default()).unwrap();
        assert_eq!(d.method, DistanceMethod::LocationScale);
        let want = normal_distance(a[0] + k * a[1], a[1], b[0] + k * b[1], b[1]);
        close(d.value, want, 1e-13, "shifted normal");
        let shot = logarithmic_map(&shifted, &a, &b, ShootingOptions::default()).unwrap();
        close(shot.distance, want, 1e-8, "shifted normal by shooting");
    }
    for m in ["gamma", "beta", "bernoulli", "normal_var", "cauchy"] {
        assert!(LocationScale::of(&field(m)).is_none(), "{m}");
    }
}

#[test]
fn shooting_agrees_with_the_hyperbolic_formula() {
    let normal = field("normal");
    for (a, b) in [
        ([0.0, 1.0], [1.0, 2.0]),
        ([-3.0, 0.5], [4.0, 3.0]),
        ([0.0, 1.0], [10.0, 1.0]),
        ([0.3, 1.0], [0.3, 1.0 + 1e-6]),
    ] {
        let shot = logarithmic_map(&normal, &a, &b, ShootingOptions::default()).unwrap();
        close(
            shot.distance,
            normal_distance(a[0], a[1], b[0], b[1]),
            1e-8,
            "normal by shooting",
        );
        // the exponential map of the velocity found ends at b
        let g = exponential_map(
            &normal,
            &a,
            shot.velocity.as_slice(),
            GeodesicOptions::default(),
        )
        .unwrap();
        for (end, want) in g.end().iter().zip(b) {
            close(end + 10.0, want + 10.0, 1e-8, "exp(log(b)) = b");
        }
    }
    // the Cauchy's metric is numeric here: F = I/(2γ²) (a = b = 1/2), so
    // d = √(1/2) · 2 asinh(|Δ|/(2√(γ₁γ₂)))
    let cauchy = field("cauchy");
    assert_eq!(distance_method(&cauchy), DistanceMethod::Shooting);
    for (a, b) in [([0.0, 1.0], [1.0, 2.0]), ([-1.0, 0.5], [2.0, 0.7])] {
        let d = distance(&cauchy, &a, &b, ShootingOptions::default()).unwrap();
        let chord = (a[0] - b[0]).hypot(a[1] - b[1]) / (2.0 * (a[1] * b[1]).sqrt());
        close(d.value, 0.5f64.sqrt() * 2.0 * chord.asinh(), 1e-7, "cauchy");
    }
}

#[test]
fn the_categorical_family_is_a_piece_of_the_sphere() {
    let categorical = field("categorical3");
    let probs = |e: [f64; 2]| {
        let z = 1.0 + e[0].exp() + e[1].exp();
        [1.0 / z, e[0].exp() / z, e[1].exp() / z]
    };
    for (a, b) in [([0.0, 0.0], [1.0, -0.5]), ([-2.0, 1.0], [1.5, 0.5])] {
        let d = distance(&categorical, &a, &b, ShootingOptions::default()).unwrap();
        let (p, q) = (probs(a), probs(b));
        let cos: f64 = (0..3).map(|i| (p[i] * q[i]).sqrt()).sum();
        close(d.value, 2.0 * cos.min(1.0).acos(), 1e-8, "categorical");
    }
}

/// The same two normals in each of the five parameterizations of the built-ins.
#[test]
fn the_distance_is_invariant_under_reparameterization() {
    let (p, q) = ((0.4f64, 0.8f64), (-1.1f64, 1.9f64));
    let want = normal_distance(p.0, p.1, q.0, q.1);
    type Coordinates = fn(f64, f64) -> [f64; 2];
    let coords: [(&str, Coordinates); 5] = [
        ("normal", |m, s| [m, s]),
        ("normal_var", |m, s| [m, s * s]),
        ("normal_logsigma", |m, s| [m, s.ln()]),
        ("normal_info", |m, s| [m / (s * s), 1.0 / (s * s)]),
        ("normal_natural", |m, s| [m / (s * s), 1.0 / (2.0 * s * s)]),
    ];
    for (name, to) in coords {
        let f = field(name);
        let d = distance(&f, &to(p.0, p.1), &to(q.0, q.1), ShootingOptions::default()).unwrap();
        close(d.value, want, 1e-8, name);
    }
}

fn sample(domain: (f64, f64), u: f64) -> f64 {
    match (domain.0.is_finite(), domain.1.is_finite()) {
        (true, true) => domain.0 + (domain.1 - domain.0) * (0.1 + 0.8 * u),
        (true, false) => domain.0 + 0.3 + 3.0 * u,
        _ => 4.0 * u - 2.0,
    }
}

/// Symmetry and the triangle inequality on random triples, for models reached by shooting.
#[test]
fn symmetry_and_the_triangle_inequality() {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 6,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    for name in ["gamma", "beta", "normal", "weibull"] {
        let f = field(name);
        let domains: Vec<(f64, f64)> = f.model().params.iter().map(|p| p.domain.bounds()).collect();
        let point = prop::collection::vec(0.0f64..1.0, 2);
        runner
            .run(&(point.clone(), point.clone(), point), |(u, v, w)| {
                let at = |u: &[f64]| -> Vec<f64> {
                    domains.iter().zip(u).map(|(d, u)| sample(*d, *u)).collect()
                };
                let (a, b, c) = (at(&u), at(&v), at(&w));
                let o = ShootingOptions::default();
                let ab = distance(&f, &a, &b, o).unwrap().value;
                let ba = distance(&f, &b, &a, o).unwrap().value;
                let bc = distance(&f, &b, &c, o).unwrap().value;
                let ac = distance(&f, &a, &c, o).unwrap().value;
                prop_assert!((ab - ba).abs() <= 1e-8 * ab.max(1e-12), "{name}: {ab} {ba}");
                prop_assert!(ac <= ab + bc + 1e-8, "{name}: {ac} > {ab} + {bc}");
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn shooting_errors_are_reported() {
    let normal = field("normal");
    // a point outside the domain
    let e = distance(
        &normal,
        &[0.0, 1.0],
        &[0.0, -1.0],
        ShootingOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("sigma"), "{e}");
    // a point of the wrong length
    let e = logarithmic_map(&normal, &[0.0], &[0.0, 1.0], ShootingOptions::default()).unwrap_err();
    assert!(e.to_string().contains("expected 2"), "{e}");
    // no continuation stages at all: an error that says so, not a distance
    let o = ShootingOptions {
        max_stages: 0,
        ..ShootingOptions::default()
    };
    let e = logarithmic_map(&normal, &[0.0, 1.0], &[3.0, 2.0], o).unwrap_err();
    assert!(e.to_string().contains("does not converge"), "{e}");
}

/// Far points: the direct shot from the chord's velocity fails and continuation reaches
/// them; a scale spanning twenty decades is one geometric step.
#[test]
fn far_points_are_reached_by_continuation() {
    let normal = field("normal");
    let (a, b) = ([-30.0, 0.1], [30.0, 0.1]);
    let shot = logarithmic_map(&normal, &a, &b, ShootingOptions::default()).unwrap();
    assert!(shot.stages > 1, "{} stages", shot.stages);
    close(
        shot.distance,
        normal_distance(a[0], a[1], b[0], b[1]),
        1e-8,
        "far normal",
    );
    // normal_var (μ, σ²) from σ = 1e-5 to 1e5: √2 ln 10¹⁰
    let var = field("normal_var");
    let shot = logarithmic_map(
        &var,
        &[0.0, 1e-10],
        &[0.0, 1e10],
        ShootingOptions::default(),
    )
    .unwrap();
    close(
        shot.distance,
        2f64.sqrt() * 1e10f64.ln(),
        1e-8,
        "normal_var across decades",
    );
}

/// Item 7 with item 2: in a model reparameterized by `fisher reparam`'s library route, an odd
/// parameterization (`mu = m^3 + m`, `sigma = exp(t)^2/3`), the same two normals are at the
/// same distance (reached by shooting, as the new metric is not location–scale).
#[test]
fn the_distance_is_the_same_in_a_reparameterized_model() {
    use fisher_geometry::Reparam;
    let normal = Model::builtin("normal").unwrap();
    let r = Reparam::new(
        &normal,
        "m: real, t: real",
        "mu = m^3 + m, sigma = exp(t)^2/3",
    )
    .unwrap();
    assert!(r.matches_direct());
    let new = FisherField::new(&r.model).unwrap();
    assert_eq!(distance_method(&new), DistanceMethod::Shooting);
    // (m, t) → (μ, σ) = (m³ + m, e^{2t}/3)
    let old = |m: f64, t: f64| [m * m * m + m, (2.0 * t).exp() / 3.0];
    for (p, q) in [([0.2, 0.1], [-0.5, 0.4]), ([1.0, -0.3], [0.0, 0.5])] {
        let d = distance(&new, &p, &q, ShootingOptions::for_field(&new)).unwrap();
        let (a, b) = (old(p[0], p[1]), old(q[0], q[1]));
        close(
            d.value,
            normal_distance(a[0], a[1], b[0], b[1]),
            1e-8,
            "reparameterized",
        );
    }
}

/// Five parameters by shooting: normals with a common mean form a totally geodesic
/// submanifold, on which `d² = ½ Σᵢ ln² λᵢ` with `λᵢ` the eigenvalues of `Σ₁⁻¹Σ₂` (Skovgaard,
/// "A Riemannian geometry of the multivariate normal model", Scand. J. Stat. 11 (1984);
/// Atkinson & Mitchell 1981).
#[test]
fn bivariate_normals_with_a_common_mean() {
    let f = field("bivariate_normal");
    let cov = |s1: f64, s2: f64, rho: f64| [[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]];
    for (p, q) in [
        ([0.0, 0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.5, 0.8, 0.3]),
        ([0.5, -1.0, 0.7, 2.0, -0.4], [0.5, -1.0, 1.1, 1.3, 0.5]),
    ] {
        let d = distance(&f, &p, &q, ShootingOptions::for_field(&f)).unwrap();
        let (a, b) = (cov(p[2], p[3], p[4]), cov(q[2], q[3], q[4]));
        // Σ₁⁻¹Σ₂ for 2×2: its trace and determinant give the eigenvalues
        let det_a = a[0][0] * a[1][1] - a[0][1] * a[1][0];
        let inv = [
            [a[1][1] / det_a, -a[0][1] / det_a],
            [-a[1][0] / det_a, a[0][0] / det_a],
        ];
        let m = |i: usize, j: usize| inv[i][0] * b[0][j] + inv[i][1] * b[1][j];
        let (t, det) = (m(0, 0) + m(1, 1), m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0));
        let root = (t * t - 4.0 * det).sqrt();
        let (l1, l2) = ((t + root) / 2.0, (t - root) / 2.0);
        let want = (0.5 * (l1.ln().powi(2) + l2.ln().powi(2))).sqrt();
        close(d.value, want, 1e-8, "bivariate normal, common mean");
    }
}
