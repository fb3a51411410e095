//! Published Fisher information matrices of the built-in models, with citations: the
//! independent oracle that the library's closed-form and numeric Fisher matrices are checked
//! against (STYLE §13).
//!
//! Each entry gives θ in the model's parameter order. Where the cited source states the
//! matrix in another parameterization, the citation says so and names the map; the entry is
//! then the pullback `F_φ = Jᵀ F_θ J` of the published matrix. Every formula here was also
//! checked outside the repository against `E[s sᵀ]` by quadrature (mpmath, 30 digits) at the
//! listed points.

use fisher_geometry::special::trigamma;
use nalgebra::DMatrix;
use std::f64::consts::PI;

/// The Euler–Mascheroni constant γ.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// One published Fisher matrix.
pub struct Published {
    /// The built-in model's name.
    pub model: &'static str,
    /// Where the formula is published (book or paper, with section or equation).
    pub citation: &'static str,
    /// Points inside the parameter domains, every parameter named, in parameter order.
    pub points: Vec<Vec<(&'static str, f64)>>,
    /// The Fisher matrix at θ, with θ in parameter order.
    pub fisher: fn(&[f64]) -> DMatrix<f64>,
}

fn sym(n: usize, upper: &[f64]) -> DMatrix<f64> {
    // Fills a symmetric matrix from its upper triangle, row by row.
    let mut m = DMatrix::zeros(n, n);
    let mut k = 0;
    for i in 0..n {
        for j in i..n {
            m[(i, j)] = upper[k];
            m[(j, i)] = upper[k];
            k += 1;
        }
    }
    m
}

fn scalar(v: f64) -> DMatrix<f64> {
    DMatrix::from_element(1, 1, v)
}

fn entry(
    model: &'static str,
    citation: &'static str,
    points: &[&[(&'static str, f64)]],
    fisher: fn(&[f64]) -> DMatrix<f64>,
) -> Published {
    Published {
        model,
        citation,
        points: points.iter().map(|p| p.to_vec()).collect(),
        fisher,
    }
}

/// Every built-in model whose Fisher matrix is published (all but `normal_mixture`).
pub fn published() -> Vec<Published> {
    vec![
        entry(
            "normal",
            "Wikipedia, Normal distribution, infobox (Fisher information in (μ, σ): \
             diag(1/σ², 2/σ²))",
            &[
                &[("mu", 0.3), ("sigma", 1.7)],
                &[("mu", -2.0), ("sigma", 0.6)],
            ],
            |t| sym(2, &[1.0 / t[1].powi(2), 0.0, 2.0 / t[1].powi(2)]),
        ),
        entry(
            "normal_info",
            "Natural exponential family with T = (x, -x²/2), A = h²/(2λ) - ln(λ)/2: \
             F = ∇²A = Cov[T] (Brown, Fundamentals of Statistical Exponential Families (1986), \
             ch. 2); information form as in Murphy, Machine Learning: \
             A Probabilistic Perspective, §4.3.3",
            &[
                &[("h", 0.4), ("lambda", 2.5)],
                &[("h", -1.5), ("lambda", 0.7)],
            ],
            |t| {
                let (h, l) = (t[0], t[1]);
                sym(
                    2,
                    &[1.0 / l, -h / l.powi(2), h * h / l.powi(3) + 0.5 / l.powi(2)],
                )
            },
        ),
        entry(
            "gamma",
            "Wikipedia, Gamma distribution, infobox (Fisher information, shape α and rate β): \
             [[ψ₁(α), -1/β], [-1/β, α/β²]]",
            &[
                &[("shape", 2.2), ("rate", 0.8)],
                &[("shape", 0.6), ("rate", 3.0)],
            ],
            |t| {
                let (a, b) = (t[0], t[1]);
                sym(2, &[trigamma(a), -1.0 / b, a / (b * b)])
            },
        ),
        entry(
            "beta",
            "Wikipedia, Beta distribution, §Fisher information matrix: \
             I_aa = ψ₁(a) - ψ₁(a+b), I_ab = -ψ₁(a+b), I_bb = ψ₁(b) - ψ₁(a+b)",
            &[&[("a", 0.7), ("b", 3.1)], &[("a", 2.5), ("b", 1.5)]],
            |t| {
                let (a, b) = (t[0], t[1]);
                let ab = trigamma(a + b);
                sym(2, &[trigamma(a) - ab, -ab, trigamma(b) - ab])
            },
        ),
        entry(
            "poisson",
            "Casella & Berger, Statistical Inference, 2nd ed., §7.3 (Cramér–Rao bound for \
             the Poisson: I(λ) = 1/λ); Wikipedia, Poisson distribution, infobox",
            &[&[("rate", 2.5)], &[("rate", 0.4)]],
            |t| scalar(1.0 / t[0]),
        ),
        entry(
            "bernoulli",
            "Wikipedia, Bernoulli distribution, infobox (Fisher information 1/(p(1-p)))",
            &[&[("p", 0.35)], &[("p", 0.9)]],
            |t| scalar(1.0 / (t[0] * (1.0 - t[0]))),
        ),
        entry(
            "normal_var",
            "Wikipedia, Normal distribution, infobox (Fisher information in (μ, σ²): \
             diag(1/σ², 1/(2σ⁴)))",
            &[
                &[("mu", 0.3), ("sigma2", 2.0)],
                &[("mu", -1.0), ("sigma2", 0.5)],
            ],
            |t| sym(2, &[1.0 / t[1], 0.0, 0.5 / (t[1] * t[1])]),
        ),
        entry(
            "normal_logsigma",
            "pullback of the published normal (μ, σ) matrix diag(1/σ², 2/σ²) \
             (Wikipedia, Normal distribution, infobox) by σ = exp(log_sigma): \
             diag(exp(-2 log_sigma), 2)",
            &[
                &[("mu", 0.3), ("log_sigma", 0.4)],
                &[("mu", -1.0), ("log_sigma", -0.7)],
            ],
            |t| sym(2, &[(-2.0 * t[1]).exp(), 0.0, 2.0]),
        ),
        entry(
            "normal_natural",
            "Natural exponential family with T = (x, -x²), A = η₁²/(4η₂) - ln(η₂)/2 + ln(π)/2: \
             F = ∇²A = Cov[T] (Brown, Fundamentals of Statistical Exponential Families (1986), \
             ch. 2)",
            &[
                &[("eta1", 0.5), ("eta2", 0.8)],
                &[("eta1", -1.2), ("eta2", 2.0)],
            ],
            |t| {
                let (e1, e2) = (t[0], t[1]);
                sym(
                    2,
                    &[
                        0.5 / e2,
                        -e1 / (2.0 * e2 * e2),
                        e1 * e1 / (2.0 * e2.powi(3)) + 0.5 / (e2 * e2),
                    ],
                )
            },
        ),
        entry(
            "bernoulli_logit",
            "Bernoulli as a natural exponential family, A(η) = ln(1 + e^η): \
             F = A''(η) = p(1-p) with p = e^η/(1 + e^η) (McCullagh & Nelder, Generalized \
             Linear Models, 2nd ed., ch. 2: with the canonical link the iterative weight is \
             the variance function)",
            &[&[("eta", 0.4)], &[("eta", -2.0)]],
            |t| {
                let p = 1.0 / (1.0 + (-t[0]).exp());
                scalar(p * (1.0 - p))
            },
        ),
        entry(
            "binomial",
            "Wikipedia, Binomial distribution, infobox (Fisher information n/(p(1-p))), n = 10",
            &[&[("p", 0.3)], &[("p", 0.85)]],
            |t| scalar(10.0 / (t[0] * (1.0 - t[0]))),
        ),
        entry(
            "poisson_log",
            "Poisson as a natural exponential family, A(θ) = e^θ: F = A''(θ) = e^θ \
             (McCullagh & Nelder, Generalized Linear Models, 2nd ed., ch. 2, canonical log link)",
            &[&[("log_rate", 0.9)], &[("log_rate", -1.0)]],
            |t| scalar(t[0].exp()),
        ),
        entry(
            "geometric",
            "Wikipedia, Geometric distribution, infobox (Fisher information 1/(p²(1-p)))",
            &[&[("p", 0.3)], &[("p", 0.75)]],
            |t| scalar(1.0 / (t[0] * t[0] * (1.0 - t[0]))),
        ),
        entry(
            "negbinom",
            "Wikipedia, Negative binomial distribution, infobox (Fisher information \
             r/(p²(1-p)) for the number of failures before the r-th success), r = 3",
            &[&[("p", 0.4)], &[("p", 0.8)]],
            |t| scalar(3.0 / (t[0] * t[0] * (1.0 - t[0]))),
        ),
        entry(
            "exponential",
            "Wikipedia, Exponential distribution, infobox (Fisher information 1/λ²)",
            &[&[("rate", 1.5)], &[("rate", 0.3)]],
            |t| scalar(1.0 / (t[0] * t[0])),
        ),
        entry(
            "exponential_scale",
            "pullback of the exponential rate information 1/λ² (Wikipedia, Exponential \
             distribution, infobox) by λ = 1/scale: 1/scale²",
            &[&[("scale", 0.7)], &[("scale", 4.0)]],
            |t| scalar(1.0 / (t[0] * t[0])),
        ),
        entry(
            "gamma_scale",
            "Wikipedia, Gamma distribution, infobox (Fisher information, shape k and scale θ): \
             [[ψ₁(k), 1/θ], [1/θ, k/θ²]]",
            &[
                &[("shape", 2.2), ("scale", 1.3)],
                &[("shape", 0.8), ("scale", 0.5)],
            ],
            |t| {
                let (k, s) = (t[0], t[1]);
                sym(2, &[trigamma(k), 1.0 / s, k / (s * s)])
            },
        ),
        entry(
            "gamma_mean",
            "pullback of the published gamma (shape α, rate β) matrix (Wikipedia, Gamma \
             distribution, infobox) by β = shape/mean: diag(shape/mean², ψ₁(shape) - 1/shape), \
             mean and shape orthogonal (McCullagh & Nelder, Generalized Linear Models, \
             2nd ed., ch. 8)",
            &[
                &[("mean", 1.5), ("shape", 2.2)],
                &[("mean", 4.0), ("shape", 0.7)],
            ],
            |t| {
                let (m, k) = (t[0], t[1]);
                sym(2, &[k / (m * m), 0.0, trigamma(k) - 1.0 / k])
            },
        ),
        entry(
            "lognormal",
            "Wikipedia, Log-normal distribution, infobox (Fisher information in (μ, σ): \
             diag(1/σ², 2/σ²)); the same as the normal's, since ln x ~ N(μ, σ²)",
            &[
                &[("mu", 0.2), ("sigma", 0.5)],
                &[("mu", -1.0), ("sigma", 1.2)],
            ],
            |t| sym(2, &[1.0 / t[1].powi(2), 0.0, 2.0 / t[1].powi(2)]),
        ),
        entry(
            "inverse_gaussian",
            "Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions, vol. 1, \
             2nd ed., ch. 15 (maximum likelihood estimation; Chhikara & Folks, The Inverse \
             Gaussian Distribution (1989)): I(μ, λ) = diag(λ/μ³, 1/(2λ²))",
            &[
                &[("mu", 1.0), ("lambda", 2.0)],
                &[("mu", 2.5), ("lambda", 0.8)],
            ],
            |t| {
                let (m, l) = (t[0], t[1]);
                sym(2, &[l / m.powi(3), 0.0, 0.5 / (l * l)])
            },
        ),
        entry(
            "weibull",
            "Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions, vol. 1, \
             2nd ed., ch. 21 (asymptotic covariance of the maximum likelihood estimators): \
             I_kk = ((1-γ)² + π²/6)/k², I_kλ = -(1-γ)/λ, I_λλ = k²/λ²",
            &[
                &[("k", 1.8), ("lambda", 1.3)],
                &[("k", 0.9), ("lambda", 2.5)],
            ],
            |t| {
                let (k, l) = (t[0], t[1]);
                let g = 1.0 - EULER_GAMMA;
                sym(
                    2,
                    &[(g * g + PI * PI / 6.0) / (k * k), -g / l, (k * k) / (l * l)],
                )
            },
        ),
        entry(
            "rayleigh",
            "Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions, vol. 1, \
             2nd ed., ch. 18 (Rayleigh): x²/(2σ²) is standard exponential, \
             so I(σ) = 4/σ²",
            &[&[("sigma", 1.2)], &[("sigma", 0.4)]],
            |t| scalar(4.0 / (t[0] * t[0])),
        ),
        entry(
            "gumbel",
            "Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions, vol. 2, \
             2nd ed., ch. 22 (type I extreme-value, maximum likelihood): \
             I = (1/β²)[[1, -(1-γ)], [-(1-γ), (1-γ)² + π²/6]]",
            &[
                &[("mu", 0.5), ("beta", 1.5)],
                &[("mu", -1.0), ("beta", 0.6)],
            ],
            |t| {
                let b2 = t[1] * t[1];
                let g = 1.0 - EULER_GAMMA;
                sym(2, &[1.0 / b2, -g / b2, (g * g + PI * PI / 6.0) / b2])
            },
        ),
        entry(
            "logistic",
            "Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions, vol. 2, 2nd ed., \
             ch. 23 (maximum likelihood); Wikipedia, Logistic distribution, infobox: \
             (1/s²) diag(1/3, (π² + 3)/9)",
            &[&[("mu", 0.5), ("s", 1.3)], &[("mu", -2.0), ("s", 0.4)]],
            |t| {
                let s2 = t[1] * t[1];
                sym(2, &[1.0 / (3.0 * s2), 0.0, (PI * PI + 3.0) / (9.0 * s2)])
            },
        ),
        entry(
            "cauchy",
            "Wikipedia, Cauchy distribution, infobox (Fisher information 1/(2γ²) for \
             location and for scale, orthogonal); Johnson, Kotz & Balakrishnan, Continuous \
             Univariate Distributions, vol. 1, 2nd ed., ch. 16",
            &[
                &[("x0", 0.5), ("gamma", 1.3)],
                &[("x0", -2.0), ("gamma", 0.4)],
            ],
            |t| {
                let g2 = t[1] * t[1];
                sym(2, &[0.5 / g2, 0.0, 0.5 / g2])
            },
        ),
        entry(
            "student_t5",
            "Lange, Little & Taylor, Robust statistical modeling using the t distribution, \
             JASA 84 (1989) (information matrix of the t location-scale model): \
             diag((ν+1)/((ν+3)σ²), 2ν/((ν+3)σ²)), ν = 5",
            &[
                &[("mu", 0.5), ("sigma", 1.3)],
                &[("mu", -2.0), ("sigma", 0.4)],
            ],
            |t| {
                let (nu, s2) = (5.0, t[1] * t[1]);
                sym(
                    2,
                    &[
                        (nu + 1.0) / ((nu + 3.0) * s2),
                        0.0,
                        2.0 * nu / ((nu + 3.0) * s2),
                    ],
                )
            },
        ),
        entry(
            "laplace",
            "Kotz, Kozubowski & Podgórski, The Laplace Distribution and Generalizations \
             (2001), ch. 2 (Fisher information of the classical Laplace law, as E[s sᵀ]; \
             not the Hessian form): diag(1/b², 1/b²)",
            &[&[("mu", 0.5), ("b", 1.3)], &[("mu", -2.0), ("b", 0.4)]],
            |t| {
                let b2 = t[1] * t[1];
                sym(2, &[1.0 / b2, 0.0, 1.0 / b2])
            },
        ),
        entry(
            "categorical3",
            "Multinomial (one trial) in baseline-category logits as a natural exponential \
             family: F = ∇²A = Cov[T] = diag(p) - p pᵀ for p = (p₁, p₂) \
             (Agresti, Categorical Data Analysis, 3rd ed., §8.1; Brown, Fundamentals of \
             Statistical Exponential Families (1986), ch. 2)",
            &[
                &[("eta1", 0.3), ("eta2", -0.8)],
                &[("eta1", 1.5), ("eta2", 0.7)],
            ],
            |t| {
                let z = 1.0 + t[0].exp() + t[1].exp();
                let (p1, p2) = (t[0].exp() / z, t[1].exp() / z);
                sym(2, &[p1 * (1.0 - p1), -p1 * p2, p2 * (1.0 - p2)])
            },
        ),
        entry(
            "bivariate_normal",
            "Kay, Fundamentals of Statistical Signal Processing: Estimation Theory (1993), \
             §3.9, eq. (3.31) (general Gaussian: F_ij = ∂_iμᵀ Σ⁻¹ ∂_jμ + \
             tr(Σ⁻¹ ∂_iΣ Σ⁻¹ ∂_jΣ)/2), evaluated for Σ = [[s1², ρ s1 s2], [ρ s1 s2, s2²]]",
            &[
                &[
                    ("mu1", 0.5),
                    ("mu2", -1.0),
                    ("s1", 1.3),
                    ("s2", 0.7),
                    ("rho", 0.4),
                ],
                &[
                    ("mu1", -0.2),
                    ("mu2", 0.3),
                    ("s1", 0.8),
                    ("s2", 1.5),
                    ("rho", 0.85),
                ],
                &[
                    ("mu1", 1.1),
                    ("mu2", 0.0),
                    ("s1", 2.0),
                    ("s2", 0.6),
                    ("rho", -0.7),
                ],
            ],
            |t| {
                let (s1, s2, r) = (t[2], t[3], t[4]);
                let q = 1.0 - r * r;
                sym(
                    5,
                    &[
                        // row mu1
                        1.0 / (s1 * s1 * q),
                        -r / (s1 * s2 * q),
                        0.0,
                        0.0,
                        0.0,
                        // row mu2
                        1.0 / (s2 * s2 * q),
                        0.0,
                        0.0,
                        0.0,
                        // row s1
                        (2.0 - r * r) / (s1 * s1 * q),
                        -r * r / (s1 * s2 * q),
                        -r / (s1 * q),
                        // row s2
                        (2.0 - r * r) / (s2 * s2 * q),
                        -r / (s2 * q),
                        // row rho
                        (1.0 + r * r) / (q * q),
                    ],
                )
            },
        ),
        entry(
            "curved_normal",
            "derived: pullback of the published normal (μ, σ) matrix diag(1/σ², 2/σ²) \
             (Wikipedia, Normal distribution, infobox) along μ = σ = t, J = (1, 1)ᵀ: 3/t²",
            &[&[("t", 1.3)], &[("t", 0.4)]],
            |t| scalar(3.0 / (t[0] * t[0])),
        ),
    ]
}
