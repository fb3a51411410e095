//! The score-identity route: which models it applies to, and that its Fisher matrices and KL
//! divergences are the known ones, in every parameterization of the normal.
//!
//! Published matrices: Lehmann & Casella, *Theory of Point Estimation* (2nd ed., 1998),
//! §2.5 and Table 2.5.1 (normal, gamma, beta, Poisson, Bernoulli, binomial); the
//! reparameterization rule `F_φ = Jᵀ F_θ J` (ibid., eq. 2.5.11) for the normal in
//! (μ, σ²), (μ, ln σ), (h, λ) and natural coordinates.

use fisher_geometry::Model;
use fisher_geometry::RouteError;
use fisher_geometry::special::trigamma;
use fisher_geometry::{Env, eval_f64};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

/// Asserts that the closed form of `model` equals `want(θ)` at each point.
fn check(model: &Model, points: &[&[f64]], want: impl Fn(&[f64]) -> Vec<Vec<f64>>) {
    let f = fisher_geometry::closed_form(model).unwrap_or_else(|e| panic!("{}: {e}", model.name));
    for theta in points {
        let mut env: Env<f64> = model.const_env().into_iter().collect();
        for (p, v) in model.params.iter().zip(theta.iter()) {
            env.insert(p.name, *v);
        }
        let w = want(theta);
        for (i, row) in f.matrix.iter().enumerate() {
            for (j, e) in row.iter().enumerate() {
                let v = eval_f64(e, &env).unwrap();
                assert!(
                    close(v, w[i][j]),
                    "{} F[{i}][{j}] = {e} = {v}, want {}",
                    model.name,
                    w[i][j]
                );
            }
        }
    }
}

fn parse(name: &str, src: &str) -> Model {
    Model::parse(src, name).unwrap()
}

#[test]
fn normal_in_five_parameterizations() {
    // (μ, σ): diag(1/σ², 2/σ²)
    check(
        &Model::builtin("normal").unwrap(),
        &[&[0.3, 1.7], &[-2.0, 0.4]],
        |t| {
            vec![
                vec![1.0 / (t[1] * t[1]), 0.0],
                vec![0.0, 2.0 / (t[1] * t[1])],
            ]
        },
    );
    // (μ, v = σ²): diag(1/v, 1/(2v²))
    let var = parse(
        "normal_var",
        "data x : real\nparam mu : real\nparam v : positive\nlogp = -(x - mu)^2/(2*v) - ln(v)/2 - ln(2*pi)/2\n",
    );
    check(&var, &[&[0.3, 1.7], &[-2.0, 0.4]], |t| {
        vec![vec![1.0 / t[1], 0.0], vec![0.0, 1.0 / (2.0 * t[1] * t[1])]]
    });
    // (μ, s = ln σ): diag(e^(−2s), 2)
    let log = parse(
        "normal_logsigma",
        "data x : real\nparam mu : real\nparam s : real\nlogp = -(x - mu)^2/(2*exp(2*s)) - s - ln(2*pi)/2\n",
    );
    check(&log, &[&[0.3, 0.2], &[-2.0, -1.1]], |t| {
        vec![vec![(-2.0 * t[1]).exp(), 0.0], vec![0.0, 2.0]]
    });
    // information form (h, λ): [[1/λ, −h/λ²], [−h/λ², 1/(2λ²) + h²/λ³]]
    check(
        &Model::builtin("normal_info").unwrap(),
        &[&[0.3, 1.7], &[-2.0, 0.4]],
        |t| {
            let (h, l) = (t[0], t[1]);
            vec![
                vec![1.0 / l, -h / (l * l)],
                vec![-h / (l * l), 0.5 / (l * l) + h * h / (l * l * l)],
            ]
        },
    );
    // natural (η₁, η₂) with ℓ = η₁x − η₂x² − η₁²/(4η₂) + ½ln(η₂/π): F = Cov(x, −x²) =
    // [[1/(2η₂), −η₁/(2η₂²)], [−η₁/(2η₂²), (η₂ + η₁²)/(2η₂³)]]
    let natural = parse(
        "normal_natural",
        "data x : real\nparam eta1 : real\nparam eta2 : positive\nlogp = eta1*x - eta2*x^2 - eta1^2/(4*eta2) + ln(eta2/pi)/2\n",
    );
    check(&natural, &[&[0.3, 1.7], &[-2.0, 0.4]], |t| {
        let (a, b) = (t[0], t[1]);
        vec![
            vec![1.0 / (2.0 * b), -a / (2.0 * b * b)],
            vec![-a / (2.0 * b * b), (b + a * a) / (2.0 * b * b * b)],
        ]
    });
}

#[test]
fn exponential_families_in_the_builtins() {
    // gamma (k, β): [[ψ₁(k), −1/β], [−1/β, k/β²]]
    check(
        &Model::builtin("gamma").unwrap(),
        &[&[2.5, 0.7], &[0.3, 4.0]],
        |t| {
            vec![
                vec![trigamma(t[0]), -1.0 / t[1]],
                vec![-1.0 / t[1], t[0] / (t[1] * t[1])],
            ]
        },
    );
    // beta (a, b): [[ψ₁(a) − ψ₁(a+b), −ψ₁(a+b)], [−ψ₁(a+b), ψ₁(b) − ψ₁(a+b)]]
    check(
        &Model::builtin("beta").unwrap(),
        &[&[2.5, 0.7], &[0.05, 4.0]],
        |t| {
            let s = trigamma(t[0] + t[1]);
            vec![vec![trigamma(t[0]) - s, -s], vec![-s, trigamma(t[1]) - s]]
        },
    );
    check(
        &Model::builtin("poisson").unwrap(),
        &[&[2.5], &[0.01]],
        |t| vec![vec![1.0 / t[0]]],
    );
    check(
        &Model::builtin("bernoulli").unwrap(),
        &[&[0.3], &[0.99]],
        |t| vec![vec![1.0 / (t[0] * (1.0 - t[0]))]],
    );
    // binomial with n = 10: n/(p(1 − p))
    let binomial = parse(
        "binomial",
        "const n = 10\ndata x : int[0, n]\nparam p : unit\nlogp = lgamma(n + 1) - lgamma(x + 1) - lgamma(n - x + 1) + x*ln(p) + (n - x)*ln(1 - p)\n",
    );
    check(&binomial, &[&[0.3], &[0.9]], |t| {
        vec![vec![10.0 / (t[0] * (1.0 - t[0]))]]
    });
    let f = fisher_geometry::closed_form(&binomial).unwrap();
    assert_eq!(f.matrix[0][0].to_string(), "n/(p*(1 - p))");
}

#[test]
fn bivariate_normal_is_exact_and_reads_like_the_textbook() {
    let m = parse(
        "bivariate_normal",
        "data x1, x2 : real\nparam mu1 : real\nparam mu2 : real\nparam s1 : positive\nparam s2 : positive\nparam rho : unit\n\
         logp = -ln(2*pi*s1*s2*sqrt(1 - rho^2)) - ((x1 - mu1)^2/s1^2 - 2*rho*(x1 - mu1)*(x2 - mu2)/(s1*s2) + (x2 - mu2)^2/s2^2)/(2*(1 - rho^2))\n",
    );
    let f = fisher_geometry::closed_form(&m).unwrap();
    let text: Vec<Vec<String>> = f
        .matrix
        .iter()
        .map(|r| r.iter().map(|e| e.to_string()).collect())
        .collect();
    assert_eq!(text[0][0], "1/(s1^2*(1 - rho^2))");
    assert_eq!(text[2][2], "(2 - rho^2)/(s1^2*(1 - rho^2))");
    assert_eq!(text[4][4], "(rho^2 + 1)/(1 - rho^2)^2");
    assert_eq!(text[0][2], "0");
}

#[test]
fn route_declines_what_it_cannot_do_exactly() {
    let weibull = parse(
        "weibull",
        "data x : positive\nparam k : positive\nparam l : positive\nlogp = ln(k/l) + (k - 1)*ln(x/l) - (x/l)^k\n",
    );
    assert!(matches!(
        fisher_geometry::closed_form(&weibull),
        Err(RouteError::Couples(_))
    ));
    let cauchy = parse(
        "cauchy",
        "data x : real\nparam x0 : real\nparam g : positive\nlogp = -ln(pi*g) - ln(1 + ((x - x0)/g)^2)\n",
    );
    assert!(matches!(
        fisher_geometry::closed_form(&cauchy),
        Err(RouteError::Couples(_))
    ));
    // N(t, t²): two statistics, one equation
    let curved = parse(
        "curved",
        "data x : real\nparam t : positive\nlogp = -(x - t)^2/(2*t^2) - ln(t) - ln(2*pi)/2\n",
    );
    assert_eq!(
        fisher_geometry::closed_form(&curved).unwrap_err(),
        RouteError::Underdetermined {
            equations: 1,
            statistics: 2
        }
    );
    let laplace = parse(
        "laplace",
        "data x : real\nparam mu : real\nparam b : positive\nlogp = -ln(2*b) - abs(x - mu)/b\n",
    );
    assert!(matches!(
        fisher_geometry::closed_form(&laplace),
        Err(RouteError::Couples(_))
    ));
}

#[test]
fn kl_in_closed_form_is_the_known_one() {
    // D(N(μ,σ²) ‖ N(μ',σ'²)) = ln(σ'/σ) + (σ² + (μ − μ')²)/(2σ'²) − ½
    let normal = Model::builtin("normal").unwrap();
    let kl = fisher_geometry::closed_kl(&normal).unwrap();
    for (m, s, mq, sq) in [(0.3f64, 1.7f64, -0.4f64, 0.9f64), (2.0, 0.2, 2.5, 3.0)] {
        let env = Env::new()
            .with("mu", m)
            .with("sigma", s)
            .with("mu_q", mq)
            .with("sigma_q", sq);
        let want = (sq / s).ln() + (s * s + (m - mq) * (m - mq)) / (2.0 * sq * sq) - 0.5;
        let got = eval_f64(&kl.expr, &env).unwrap();
        assert!(close(got, want), "{} = {got}, want {want}", kl.expr);
    }
    // D(Poisson(λ) ‖ Poisson(λ')) = λ ln(λ/λ') − λ + λ'
    let kl = fisher_geometry::closed_kl(&Model::builtin("poisson").unwrap()).unwrap();
    let env = Env::new().with("rate", 2.5).with("rate_q", 0.7);
    let want = 2.5 * (2.5f64 / 0.7).ln() - 2.5 + 0.7;
    assert!(close(eval_f64(&kl.expr, &env).unwrap(), want));
}

/// `F` of a one-data normal with mean `m(θ)` and sd `s(θ)`:
/// `F_jk = ∂_j m ∂_k m / s² + 2 ∂_j s ∂_k s / s²` (Lehmann & Casella, eq. 2.5.11 from
/// `diag(1/σ², 2/σ²)`), with the derivatives given.
fn normal_fisher(dm: &[f64], ds: &[f64], s: f64) -> Vec<Vec<f64>> {
    let n = dm.len();
    (0..n)
        .map(|j| {
            (0..n)
                .map(|k| (dm[j] * dm[k] + 2.0 * ds[j] * ds[k]) / (s * s))
                .collect()
        })
        .collect()
}

#[test]
fn normal_with_mean_c_a_to_the_k_for_every_coefficient_and_power() {
    // issue 10: the mean 3a³ once gave F_aa = −351a⁴/(9b); c = 1 never failed
    for c in ["2", "3", "0.5", "5", "7", "1", "1/3", "2.5e4"] {
        for k in 2..=4 {
            let m = parse(
                "mean_c_a_k",
                &format!(
                    "data x : real\nparam a : real\nparam b : positive\nlogp = -0.5*((x - {c}*a^{k})/b)^2 - ln(b) - 0.5*ln(2*pi)\n"
                ),
            );
            let cv: f64 = match c {
                "1/3" => 1.0 / 3.0,
                _ => c.parse().unwrap(),
            };
            check(&m, &[&[0.7, 1.3], &[-1.4, 0.4]], |t| {
                let dm = cv * f64::from(k) * t[0].powi(k - 1);
                normal_fisher(&[dm, 0.0], &[0.0, 1.0], t[1])
            });
        }
    }
}

#[test]
fn normal_with_affine_mean_and_exponential_sd() {
    // issue 10: mean 1 − 3a − b, sd exp(b/3) once got F_bb wrong by 4(3a + b)e^{−2b/3}/9
    let m = parse(
        "affine_mean",
        "data x : real\nparam a : real\nparam b : real\nlogp = -0.5*((x - (1 - 3*a - b))/exp(b/3))^2 - b/3 - 0.5*ln(2*pi)\n",
    );
    check(&m, &[&[0.7, 1.3], &[-2.0, -0.5]], |t| {
        let s = (t[1] / 3.0).exp();
        normal_fisher(&[-3.0, -1.0], &[0.0, s / 3.0], s)
    });
}

#[test]
fn a_tiny_second_derivative_is_not_zero() {
    // issue 10: sd 1e7 and mean a²: ∂²c = 2e-14 counted as zero, F = 6e-14·a² for 4e-14·a²
    let m = parse(
        "tiny",
        "data x : real\nparam a : real\nlogp = -0.5*((x - a^2)/1e7)^2 - ln(1e7) - 0.5*ln(2*pi)\n",
    );
    check(&m, &[&[0.7], &[-3.0]], |t| vec![vec![4e-14 * t[0] * t[0]]]);
}

#[test]
fn a_cancelling_factor_does_not_make_a_coefficient_zero() {
    // found by tests/differential.rs: the normal with mean m = ln(1 − P/(1 + P)) = −ln(1 + P),
    // P = (a − 5)²(a + 4)², where ∂²m has a condition number near 10⁴ (the factor
    // 1 − P/(1 + P) cancels); a zero test against a magnitude that multiplied the magnitudes
    // of factors called ∂²m zero and dropped it. F = m′² = (P′/(1 + P))².
    let m = parse(
        "cancelling",
        "data x : real\nparam a : real\nlet P = (a - 5)^2*(a + 4)^2\nlogp = -(x - ln(1 - P/(1 + P)))^2/2 - ln(2*pi)/2\n",
    );
    check(&m, &[&[0.3], &[0.43], &[-1.1]], |t| {
        let a = t[0];
        let p = (a - 5.0).powi(2) * (a + 4.0).powi(2);
        let dp = 2.0 * (a - 5.0) * (a + 4.0).powi(2) + 2.0 * (a - 5.0).powi(2) * (a + 4.0);
        vec![vec![(dp / (1.0 + p)).powi(2)]]
    });
}

#[test]
fn categorical_by_lagrange_indicators_has_the_categorical_kl() {
    // issue 10: a 4-outcome categorical written with Lagrange indicator polynomials in x
    // (statistics x, x², x³) once printed D = −2.12 for a true 0.285.
    // D(p‖q) = Σ_i p_i ln(p_i/q_i) with p = softmax(0, a1, a2, a3).
    let m = parse(
        "lagrange",
        "data x : int[0, 3]\nparam a1 : real\nparam a2 : real\nparam a3 : real\n\
         logp = a1*x*(x - 2)*(x - 3)/2 - a2*x*(x - 1)*(x - 3)/2 + a3*x*(x - 1)*(x - 2)/6 - ln(1 + exp(a1) + exp(a2) + exp(a3))\n",
    );
    let kl = fisher_geometry::closed_kl(&m).unwrap();
    let softmax = |t: [f64; 3]| {
        let z = 1.0 + t.iter().map(|v| v.exp()).sum::<f64>();
        [1.0 / z, t[0].exp() / z, t[1].exp() / z, t[2].exp() / z]
    };
    for (p, q) in [
        ([0.3, -0.5, 1.0], [-1.0, 0.4, 0.2]),
        ([2.0, 0.1, -1.5], [0.0, 0.0, 0.0]),
    ] {
        let env = Env::new()
            .with("a1", p[0])
            .with("a2", p[1])
            .with("a3", p[2])
            .with("a1_q", q[0])
            .with("a2_q", q[1])
            .with("a3_q", q[2]);
        let (pp, qq) = (softmax(p), softmax(q));
        let want: f64 = pp.iter().zip(&qq).map(|(a, b)| a * (a / b).ln()).sum();
        let got = eval_f64(&kl.expr, &env).unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * (1.0 + want),
            "{got} vs {want}"
        );
    }
    // F = diag(p) − p pᵀ over the three non-reference outcomes
    check(&m, &[&[0.3, -0.5, 1.0]], |t| {
        let p = softmax([t[0], t[1], t[2]]);
        (1..4)
            .map(|i| {
                (1..4)
                    .map(|j| {
                        if i == j {
                            p[i] * (1.0 - p[i])
                        } else {
                            -p[i] * p[j]
                        }
                    })
                    .collect()
            })
            .collect()
    });
}
