//! Fisher geometry (issue 12): the curvature of the Fisher metric against published values
//! and formulas derived independently, on both routes of the field; the whitening map
//! against the KL divergence.
//!
//! Curvature (convention: the unit sphere has Gaussian curvature `K = 1`, scalar `R = 2K`):
//! - a location–scale family has `F = M/σ²` with `M` constant, the hyperbolic plane after
//!   the linear change `u = μ + (M₁₂/M₁₁)σ`, with `K = −M₁₁/det M` (for the normal,
//!   `F = diag(1, 2)/σ²` is `2(du² + dσ²)/σ²` with `u = μ/√2`: twice the Poincaré half-plane,
//!   `K = −1/2`). `M` from the published
//!   Fisher matrices: Cauchy `diag(1, 1)/2` (`K = −2`); Student-t with ν degrees of freedom
//!   `diag((ν+1)/(ν+3), 2ν/(ν+3))` (Lange, Little & Taylor, JASA 1989; `K = −(ν+3)/(2ν)`);
//!   logistic `diag(1/3, (π²+3)/9)` (`K = −9/(π²+3)`); Gumbel `[[1, γ−1], [γ−1, π²/6 +
//!   (1−γ)²]]` (`K = −6/π²`).
//! - the gamma family, in its orthogonal `(shape k, mean)` coordinates `F = diag(ψ'(k) − 1/k,
//!   k/mean²)`, has by Brioschi's formula for an orthogonal metric
//!   `K = (ψ'(k) + kψ''(k)) / (4 (kψ'(k) − 1)²)`, a function of the shape alone (the scalar
//!   curvature `R = 2K` of the gamma manifold in Arwini & Dodson, *Information Geometry: Near
//!   Randomness and Near Independence*, Springer LNM 1953, 2008).
//! - one-parameter models have none.
//!
//! The curvature is a scalar: at the same distribution it is the same in every
//! parameterization, which the five normal built-ins and the three gamma ones test.

mod common;

use fisher_geometry::Model;
use fisher_geometry::Quadrature;
use fisher_geometry::special::{polygamma, trigamma};
use fisher_geometry::{Christoffel, Curvature, GeometryError, Whitening};
use fisher_geometry::{FieldOptions, FisherField, KlField};
use proptest::test_runner::TestRunner;

/// Euler's constant γ.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

fn numeric_field(model: &Model) -> FisherField {
    FisherField::with_options(
        model,
        FieldOptions {
            numeric_only: true,
            quadrature: Quadrature {
                rel_tol: 1e-11,
                ..Quadrature::default()
            },
            ..FieldOptions::default()
        },
    )
    .unwrap()
}

fn field(name: &str) -> FisherField {
    FisherField::new(&Model::builtin(name).unwrap()).unwrap()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} against {b} (difference {:e})",
        (a - b).abs()
    );
}

/// A normal with mean `mu` and standard deviation `sigma` in the coordinates of each normal
/// built-in.
fn normal_coordinates(name: &str, mu: f64, sigma: f64) -> Vec<f64> {
    let v = sigma * sigma;
    match name {
        "normal" => vec![mu, sigma],
        "normal_var" => vec![mu, v],
        "normal_logsigma" => vec![mu, sigma.ln()],
        "normal_info" => vec![mu / v, 1.0 / v],
        "normal_natural" => vec![mu / v, 0.5 / v],
        _ => unreachable!("{name}"),
    }
}

#[test]
fn the_normal_family_has_curvature_minus_one_half_in_every_parameterization() {
    let mut runner = TestRunner::new(common::proptest_config(16));
    let names = [
        "normal",
        "normal_var",
        "normal_logsigma",
        "normal_info",
        "normal_natural",
    ];
    for name in names {
        let model = Model::builtin(name).unwrap();
        let params: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
        assert_eq!(params.len(), 2, "{name}");
        let f = field(name);
        runner
            .run(&(-3.0..3.0f64, 0.2..5.0f64), |(mu, sigma)| {
                let theta = normal_coordinates(name, mu, sigma);
                let c = Curvature::at(&f, &theta).unwrap();
                close(
                    c.gaussian().unwrap(),
                    -0.5,
                    1e-9,
                    &format!("{name} K at {theta:?}"),
                );
                close(c.scalar(), -1.0, 1e-9, &format!("{name} R at {theta:?}"));
                Ok(())
            })
            .unwrap();
    }
    // The numeric route, from quadrature of ∂F and ∂²F, at one point each.
    for name in names {
        let theta = normal_coordinates(name, 0.4, 1.7);
        let c = Curvature::at(&numeric_field(&Model::builtin(name).unwrap()), &theta).unwrap();
        close(
            c.gaussian().unwrap(),
            -0.5,
            1e-6,
            &format!("numeric {name} K"),
        );
    }
}

#[test]
fn location_scale_families_have_constant_negative_curvature() {
    let pi2 = std::f64::consts::PI.powi(2);
    let g = EULER_GAMMA;
    // (model, M) with F = M/σ²: K = −M₁₁/det M
    let families: [(&str, [[f64; 2]; 2]); 5] = [
        ("cauchy", [[0.5, 0.0], [0.0, 0.5]]),
        ("student_t5", [[6.0 / 8.0, 0.0], [0.0, 10.0 / 8.0]]),
        ("logistic", [[1.0 / 3.0, 0.0], [0.0, (pi2 + 3.0) / 9.0]]),
        (
            "gumbel",
            [[1.0, g - 1.0], [g - 1.0, pi2 / 6.0 + (1.0 - g).powi(2)]],
        ),
        ("normal", [[1.0, 0.0], [0.0, 2.0]]),
    ];
    for (name, m) in families {
        let expected = -m[0][0] / (m[0][0] * m[1][1] - m[0][1] * m[1][0]);
        let f = field(name);
        for theta in [[0.0, 1.0], [-1.3, 0.4], [2.2, 3.5]] {
            let c = Curvature::at(&f, &theta).unwrap();
            close(
                c.gaussian().unwrap(),
                expected,
                1e-6,
                &format!("{name} K at {theta:?}"),
            );
            // F itself against the published matrix.
            let fm = f.at(&theta).unwrap();
            for j in 0..2 {
                for k in 0..2 {
                    close(
                        fm[(j, k)] * theta[1] * theta[1],
                        m[j][k],
                        1e-8,
                        &format!("{name} σ²F[{j},{k}]"),
                    );
                }
            }
        }
    }
}

/// `K(k) = (ψ'(k) + kψ''(k)) / (4 (kψ'(k) − 1)²)`, see the module documentation.
fn gamma_curvature(k: f64) -> f64 {
    let (t1, t2) = (trigamma(k), polygamma(2, k));
    (t1 + k * t2) / (4.0 * (k * t1 - 1.0).powi(2))
}

#[test]
fn the_gamma_family_curvature_depends_on_the_shape_only() {
    let mut runner = TestRunner::new(common::proptest_config(16));
    let (rate, scale, mean) = (field("gamma"), field("gamma_scale"), field("gamma_mean"));
    runner
        .run(&(0.2..20.0f64, 0.05..30.0f64), |(k, b)| {
            let expected = gamma_curvature(k);
            assert!(expected < 0.0);
            let at = |f: &FisherField, theta: [f64; 2]| {
                Curvature::at(f, &theta).unwrap().gaussian().unwrap()
            };
            close(
                at(&rate, [k, b]),
                expected,
                1e-8,
                &format!("gamma K({k}, {b})"),
            );
            close(at(&scale, [k, 1.0 / b]), expected, 1e-8, "gamma_scale K");
            close(at(&mean, [k / b, k]), expected, 1e-8, "gamma_mean K");
            Ok(())
        })
        .unwrap();
    let numeric = numeric_field(&Model::builtin("gamma").unwrap());
    let c = Curvature::at(&numeric, &[2.5, 0.7]).unwrap();
    close(
        c.gaussian().unwrap(),
        gamma_curvature(2.5),
        1e-6,
        "numeric gamma K",
    );
}

#[test]
fn one_parameter_models_are_flat() {
    for name in [
        "poisson",
        "exponential",
        "bernoulli",
        "geometric",
        "rayleigh",
    ] {
        let f = field(name);
        let model = Model::builtin(name).unwrap();
        assert_eq!(model.params.len(), 1, "{name}");
        let c = Curvature::at(&f, &[0.3]).unwrap();
        assert_eq!(c.scalar(), 0.0, "{name}");
        assert_eq!(c.riemann(0, 0, 0, 0), 0.0, "{name}");
        assert!(c.gaussian().is_none());
    }
}

#[test]
fn closed_and_numeric_curvature_agree() {
    let mut runner = TestRunner::new(common::proptest_config(3));
    for name in [
        "beta",
        "inverse_gaussian",
        "lognormal",
        "weibull",
        "negbinom",
    ] {
        let model = Model::builtin(name).unwrap();
        let closed = FisherField::new(&model).unwrap();
        let numeric = numeric_field(&model);
        runner
            .run(&(0.6..3.0f64, 0.6..3.0f64), |(a, b)| {
                let theta = [a, b];
                let c = Curvature::at(&closed, &theta);
                let n = Curvature::at(&numeric, &theta);
                let (c, n) = match (c, n) {
                    (Ok(c), Ok(n)) => (c, n),
                    (c, n) => panic!("{name} at {theta:?}: {c:?} / {n:?}"),
                };
                close(
                    n.scalar(),
                    c.scalar(),
                    1e-6,
                    &format!("{name} R at {theta:?}"),
                );
                for k in 0..2 {
                    for i in 0..2 {
                        for j in 0..2 {
                            let (x, y) = (
                                n.christoffel().symbol(k, i, j),
                                c.christoffel().symbol(k, i, j),
                            );
                            close(x, y, 1e-7, &format!("{name} Γ^{k}_{i}{j} at {theta:?}"));
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn christoffel_symbols_of_the_normal() {
    // F = diag(1, 2)/σ²: Γ^μ_μσ = −1/σ, Γ^σ_μμ = 1/(2σ), Γ^σ_σσ = −1/σ, the rest 0.
    let f = field("normal");
    let sigma = 1.7;
    let g = Christoffel::at(&f, &[0.2, sigma]).unwrap();
    let expected = |k: usize, i: usize, j: usize| match (k, i, j) {
        (0, 0, 1) | (0, 1, 0) => -1.0 / sigma,
        (1, 0, 0) => 0.5 / sigma,
        (1, 1, 1) => -1.0 / sigma,
        _ => 0.0,
    };
    for k in 0..2 {
        for i in 0..2 {
            for j in 0..2 {
                close(g.symbol(k, i, j), expected(k, i, j), 1e-14, "Γ");
            }
        }
    }
    // The geodesic equation's acceleration at velocity v = (1, 0).
    let acc = g.acceleration(&[1.0, 0.0]);
    close(acc[0], 0.0, 1e-15, "μ̈");
    close(acc[1], -0.5 / sigma, 1e-15, "σ̈");
}

#[test]
fn a_singular_metric_is_refused_with_the_point() {
    // A model in which only a + b is identifiable: F is singular everywhere.
    let model = Model::parse(
        "data x : real\nparam a : real\nparam b : real\n\
         logp = -0.5*(x - a - b)^2 - 0.5*ln(2*pi)\n",
        "redundant",
    )
    .unwrap();
    let f = FisherField::with_options(
        &model,
        FieldOptions {
            verify: false,
            ..FieldOptions::default()
        },
    )
    .unwrap();
    for e in [
        Whitening::at(&f, &[0.5, 1.0]).unwrap_err(),
        Christoffel::at(&f, &[0.5, 1.0]).unwrap_err(),
        Curvature::at(&f, &[0.5, 1.0]).unwrap_err(),
    ] {
        let m = e.to_string();
        assert!(
            matches!(e, GeometryError::NotPositiveDefinite { .. }),
            "{m}"
        );
        assert!(m.contains("a=0.5, b=1"), "{m}");
    }
    // Outside the domain: the field's error.
    let e = Curvature::at(&field("normal"), &[0.0, -1.0]).unwrap_err();
    assert!(matches!(e, GeometryError::Info(_)), "{e}");
}

/// `D(θ‖θ₀) / (½|η − η₀|²)` and `D(θ₀‖θ) / (½|η − η₀|²)` along `direction` (in whitened
/// coordinates) at distance `t`.
fn kl_ratios(kl: &KlField, w: &Whitening, direction: &[f64], t: f64) -> (f64, f64) {
    let norm = direction.iter().map(|d| d * d).sum::<f64>().sqrt();
    let eta: Vec<f64> = direction.iter().map(|d| t * d / norm).collect();
    let theta: Vec<f64> = w.from_local(&eta).iter().copied().collect();
    let back = w.to_local(&theta);
    for (a, b) in back.iter().zip(&eta) {
        assert!((a - b).abs() <= 1e-12 * t.max(1e-300) + 1e-15, "round trip");
    }
    let theta0: Vec<f64> = w.center().iter().copied().collect();
    let half = 0.5 * t * t;
    (
        kl.kl(&theta, &theta0).unwrap().value / half,
        kl.kl(&theta0, &theta).unwrap().value / half,
    )
}

#[test]
fn whitened_coordinates_give_the_divergence_to_second_order() {
    let cases: [(&str, &[f64]); 6] = [
        ("normal", &[0.3, 1.4]),
        ("gamma", &[2.5, 0.7]),
        ("beta", &[1.5, 3.0]),
        ("bernoulli", &[0.3]),
        ("cauchy", &[0.2, 0.8]),
        ("bivariate_normal", &[0.1, -0.3, 1.2, 0.8, 0.4]),
    ];
    for (name, theta0) in cases {
        let model = Model::builtin(name).unwrap();
        let f = FisherField::new(&model).unwrap();
        let kl = KlField::new(&model).unwrap();
        let w = Whitening::at(&f, theta0).unwrap();
        // F^{1/2} squares to F and inverts to F^{−1/2}.
        let fm = f.at(theta0).unwrap();
        let sq = w.sqrt_fisher();
        assert!((sq * sq - &fm).amax() <= 1e-12 * fm.amax(), "{name}");
        let id = sq * w.inverse_sqrt_fisher();
        let n = theta0.len();
        assert!(
            (id - nalgebra::DMatrix::identity(n, n)).amax() < 1e-10,
            "{name}"
        );
        let directions: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
            .chain([(0..n).map(|j| 1.0 - 0.3 * j as f64).collect()])
            .collect();
        for d in &directions {
            let t = 0.02;
            let (a1, b1) = kl_ratios(&kl, &w, d, t);
            let (a2, b2) = kl_ratios(&kl, &w, d, t / 2.0);
            for (e1, e2, which) in [
                (a1 - 1.0, a2 - 1.0, "D(θ‖θ₀)"),
                (b1 - 1.0, b2 - 1.0, "D(θ₀‖θ)"),
            ] {
                let what = format!("{name} {which} along {d:?}: ratios {e1:e}, {e2:e}");
                assert!(e1.abs() < 0.1, "{what}");
                // The error falls like |η − η₀| (a cubic term over a quadratic); where the
                // cubic term vanishes in that direction (the Cauchy's location, by symmetry)
                // like |η − η₀|², or it is at the level of the quadrature.
                if e1.abs() > 1e-6 {
                    let r = e2 / e1;
                    assert!((0.4..0.6).contains(&r) || (0.2..0.3).contains(&r), "{what}");
                } else {
                    assert!(e2.abs() < 2e-6, "{what}");
                }
            }
        }
    }
}

#[test]
fn symbolic_curvature_of_closed_form_metrics() {
    use fisher_geometry::SymbolicCurvature;
    for name in [
        "normal",
        "normal_var",
        "normal_logsigma",
        "normal_info",
        "normal_natural",
        "lognormal",
        "inverse_gaussian",
    ] {
        let c = SymbolicCurvature::of(&field(name)).unwrap();
        assert_eq!(c.scalar.to_string(), "-1", "{name}");
        assert_eq!(c.gaussian.unwrap().to_string(), "-1/2", "{name}");
    }
    // The gamma's curvature is a function of the shape alone, in all three parameterizations,
    // and equals Brioschi's formula.
    for (name, other) in [
        ("gamma", "rate"),
        ("gamma_scale", "scale"),
        ("gamma_mean", "mean"),
    ] {
        let c = SymbolicCurvature::of(&field(name)).unwrap();
        let k = c.gaussian.unwrap();
        assert!(!k.to_string().contains(other), "{name}: {k}");
        for shape in [0.3, 1.7, 12.0] {
            let env = fisher_geometry::Env::new().with("shape", shape);
            let v = fisher_geometry::eval_f64(&k, &env).unwrap();
            close(
                v,
                gamma_curvature(shape),
                1e-10,
                &format!("{name} K({shape})"),
            );
        }
    }
    // The categorical family is a piece of the sphere of radius 2: p ↦ 2√p maps the simplex
    // onto it (Σ (2√pᵢ)² = 4) and pulls its round metric back to Σ dpᵢ²/pᵢ = F, so K = 1/4.
    let c = SymbolicCurvature::of(&field("categorical3")).unwrap();
    for (a, b) in [(0.3, -0.8), (1.5, 0.2), (-2.0, 2.5)] {
        let env = fisher_geometry::Env::new().with("eta1", a).with("eta2", b);
        let v = fisher_geometry::eval_f64(c.gaussian.as_ref().unwrap(), &env).unwrap();
        close(v, 0.25, 1e-9, &format!("categorical3 K at ({a}, {b})"));
    }
    // one-parameter models: no curvature
    for name in ["poisson", "bernoulli", "exponential"] {
        let c = SymbolicCurvature::of(&field(name)).unwrap();
        assert_eq!(c.scalar.to_string(), "0", "{name}");
        assert!(c.gaussian.is_none());
    }
    // no formula without a closed form, nor for five parameters
    for (name, want) in [
        ("cauchy", "no verified closed form"),
        ("bivariate_normal", "5 parameters"),
    ] {
        let e = SymbolicCurvature::of(&field(name)).unwrap_err();
        assert!(e.to_string().contains(want), "{name}: {e}");
    }
}

#[test]
fn jeffreys_normalizers_against_closed_forms() {
    use fisher_geometry::{Properness, normalizer, properness};
    let pi = std::f64::consts::PI;
    // Proper priors over the whole domain: the Bernoulli's 1/√(p(1−p)) integrates to π, in
    // either parameterization (the prior is invariant); the binomial's √n/√(p(1−p)) to π√n.
    let n_trials = Model::builtin("binomial").unwrap().consts[0].1;
    for (name, want) in [
        ("bernoulli", pi),
        ("bernoulli_logit", pi),
        ("binomial", pi * n_trials.sqrt()),
    ] {
        match properness(&field(name)).unwrap() {
            Properness::Proper { normalizer } => {
                assert!(
                    (normalizer.value - want).abs() <= normalizer.error,
                    "{name}: {normalizer:?} against {want}"
                );
                assert!(normalizer.error <= 1e-5 * want, "{name}: {normalizer:?}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // Improper ones: 1/σ² (and flat in μ), λ^{−1/2}, 1/λ, 1/(p√(1−p)).
    for name in ["normal", "poisson", "exponential", "geometric", "gamma"] {
        assert!(
            matches!(
                properness(&field(name)).unwrap(),
                Properness::Improper { .. }
            ),
            "{name}"
        );
    }
    // Over boxes: ∫₀¹∫₁² √2/σ² = √2/2; ∫₁⁴ λ^{−1/2} = 2; ∫₁^e 1/λ = 1; the Cauchy's
    // √det F = 1/(2γ²) (numeric metric): ∫₀¹∫₁² = 1/4.
    for (name, bounds, want) in [
        ("normal", vec![(0.0, 1.0), (1.0, 2.0)], 0.5f64.sqrt()),
        ("poisson", vec![(1.0, 4.0)], 2.0),
        ("exponential", vec![(1.0, std::f64::consts::E)], 1.0),
        ("cauchy", vec![(0.0, 1.0), (1.0, 2.0)], 0.25),
    ] {
        let z = normalizer(&field(name), &bounds).unwrap();
        assert!(
            (z.value - want).abs() <= z.error,
            "{name}: {z:?} against {want}"
        );
        assert!(
            (z.value - want).abs() <= 1e-8 * want,
            "{name}: {z:?} against {want}"
        );
    }
    // The density itself: √det F = √2/σ² for the normal, 1/(2γ²) for the numeric Cauchy.
    let d = fisher_geometry::jeffreys_density(&field("normal"), &[0.3, 2.0]).unwrap();
    close(d, 2f64.sqrt() / 4.0, 1e-14, "normal √det F");
    let d = fisher_geometry::jeffreys_density(&field("cauchy"), &[0.3, 2.0]).unwrap();
    close(d, 1.0 / 8.0, 1e-9, "cauchy √det F");
    // A box outside the domain, or empty, is refused.
    let f = field("normal");
    for bounds in [vec![(0.0, 1.0), (-1.0, 2.0)], vec![(1.0, 0.0), (1.0, 2.0)]] {
        assert!(matches!(
            normalizer(&f, &bounds).unwrap_err(),
            GeometryError::Box { .. }
        ));
    }
}

/// The Fisher–Rao distance of a family `F = M/σ²` with `M = diag(a, b)` in `(μ, σ)`: the
/// hyperbolic plane scaled, `d = √b · arccosh(1 + ((μ₁−μ₂)² a/b + (σ₁−σ₂)²)/(2σ₁σ₂))`
/// (for the normal, a = 1, b = 2: Costa, Santos & Strapasson, "Fisher information distance:
/// a geometrical reading", *Discrete Applied Mathematics* 197, 2015).
fn hyperbolic_distance(a: f64, b: f64, p: &[f64], q: &[f64]) -> f64 {
    let arg = 1.0 + ((p[0] - q[0]).powi(2) * a / b + (p[1] - q[1]).powi(2)) / (2.0 * p[1] * q[1]);
    b.sqrt() * arg.acosh()
}

#[test]
fn the_exponential_map_follows_closed_form_geodesics() {
    use fisher_geometry::{GeodesicOptions, exponential_map};
    let options = GeodesicOptions::default();
    // Poisson, F = 1/λ: √λ(t) = √λ₀ + v t/(2√λ₀); distance 2|√λ₁ − √λ₀|.
    let f = field("poisson");
    for (l0, v) in [(2.0, 0.7), (0.3, -0.2), (50.0, 30.0)] {
        let g = exponential_map(&f, &[l0], &[v], options).unwrap();
        let want = (f64::sqrt(l0) + v / (2.0 * f64::sqrt(l0))).powi(2);
        close(
            g.end()[0],
            want,
            1e-9,
            &format!("poisson from {l0} with {v}"),
        );
        let d = 2.0 * (g.end()[0].sqrt() - l0.sqrt()).abs();
        close(d, g.length(&f).unwrap(), 1e-9, "poisson length");
    }
    // Bernoulli, distance 2 arccos(√(p₁p₂) + √((1−p₁)(1−p₂))).
    let f = field("bernoulli");
    for (p0, v) in [(0.3, 0.2), (0.5, -0.3), (0.9, -0.5)] {
        let g = exponential_map(&f, &[p0], &[v], options).unwrap();
        let p1 = g.end()[0];
        let d = 2.0 * ((p0 * p1).sqrt() + ((1.0 - p0) * (1.0 - p1)).sqrt()).acos();
        close(
            d,
            g.length(&f).unwrap(),
            1e-8,
            &format!("bernoulli from {p0}"),
        );
    }
    // The normal (closed-form metric) and the Cauchy (numeric metric, F = I/(2γ²)): the
    // length of the geodesic equals the hyperbolic distance between its ends.
    for (name, a, b, tol) in [("normal", 1.0, 2.0, 1e-8), ("cauchy", 0.5, 0.5, 1e-6)] {
        let f = field(name);
        for (theta0, v) in [
            ([0.0, 1.0], [0.5, 0.3]),
            ([1.5, 0.4], [-0.8, 0.1]),
            ([-2.0, 3.0], [4.0, -1.0]),
        ] {
            let g = exponential_map(&f, &theta0, &v, options).unwrap();
            let end: Vec<f64> = g.end().iter().copied().collect();
            let d = hyperbolic_distance(a, b, &theta0, &end);
            close(
                d,
                g.length(&f).unwrap(),
                tol,
                &format!("{name} from {theta0:?} with {v:?}"),
            );
            // the speed is constant along the geodesic
            for (p, dv) in g.points.iter().zip(&g.velocities) {
                let fm = f.at(p.as_slice()).unwrap();
                let s = (dv.transpose() * &fm * dv)[(0, 0)].sqrt();
                close(s, d, 10.0 * tol, &format!("{name} speed"));
            }
        }
    }
}

#[test]
fn a_geodesic_that_leaves_the_domain_is_an_error() {
    use fisher_geometry::{GeodesicOptions, exponential_map};
    // The Bernoulli family has length π from p = 0 to p = 1: from p = 0.5 a geodesic of
    // length 2 reaches p = 1 at length π/2 and leaves.
    let f = field("bernoulli");
    let e = exponential_map(&f, &[0.5], &[1.0], GeodesicOptions::default()).unwrap_err();
    assert!(matches!(e, GeometryError::Geodesic { .. }), "{e}");
    let m = e.to_string();
    assert!(
        m.contains("edge of the parameter domain") || m.contains("leaves the parameter domain"),
        "{m}"
    );
    // a start outside the domain is the field's error
    let e = exponential_map(
        &field("normal"),
        &[0.0, -1.0],
        &[1.0, 0.0],
        GeodesicOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, GeometryError::Info(_)), "{e}");
}
