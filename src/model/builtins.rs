//! The built-in models, from `examples/<name>.model`: [`Model::builtin`] and
//! [`Model::builtins`].

use super::error::{ModelError, ModelErrorKind, closest};
use super::types::Model;

/// The built-in models: name and source, from `examples/<name>.model`.
const BUILTINS: &[(&str, &str)] = &[
    ("normal", include_str!("../../examples/normal.model")),
    (
        "normal_info",
        include_str!("../../examples/normal_info.model"),
    ),
    ("gamma", include_str!("../../examples/gamma.model")),
    ("beta", include_str!("../../examples/beta.model")),
    ("poisson", include_str!("../../examples/poisson.model")),
    ("bernoulli", include_str!("../../examples/bernoulli.model")),
    (
        "normal_var",
        include_str!("../../examples/normal_var.model"),
    ),
    (
        "normal_logsigma",
        include_str!("../../examples/normal_logsigma.model"),
    ),
    (
        "normal_natural",
        include_str!("../../examples/normal_natural.model"),
    ),
    (
        "bernoulli_logit",
        include_str!("../../examples/bernoulli_logit.model"),
    ),
    ("binomial", include_str!("../../examples/binomial.model")),
    (
        "poisson_log",
        include_str!("../../examples/poisson_log.model"),
    ),
    ("geometric", include_str!("../../examples/geometric.model")),
    ("negbinom", include_str!("../../examples/negbinom.model")),
    (
        "exponential",
        include_str!("../../examples/exponential.model"),
    ),
    (
        "exponential_scale",
        include_str!("../../examples/exponential_scale.model"),
    ),
    (
        "gamma_scale",
        include_str!("../../examples/gamma_scale.model"),
    ),
    (
        "gamma_mean",
        include_str!("../../examples/gamma_mean.model"),
    ),
    ("lognormal", include_str!("../../examples/lognormal.model")),
    (
        "inverse_gaussian",
        include_str!("../../examples/inverse_gaussian.model"),
    ),
    ("weibull", include_str!("../../examples/weibull.model")),
    ("rayleigh", include_str!("../../examples/rayleigh.model")),
    ("gumbel", include_str!("../../examples/gumbel.model")),
    ("logistic", include_str!("../../examples/logistic.model")),
    ("cauchy", include_str!("../../examples/cauchy.model")),
    (
        "student_t5",
        include_str!("../../examples/student_t5.model"),
    ),
    ("laplace", include_str!("../../examples/laplace.model")),
    (
        "categorical3",
        include_str!("../../examples/categorical3.model"),
    ),
    (
        "bivariate_normal",
        include_str!("../../examples/bivariate_normal.model"),
    ),
    (
        "curved_normal",
        include_str!("../../examples/curved_normal.model"),
    ),
    (
        "normal_mixture",
        include_str!("../../examples/normal_mixture.model"),
    ),
];

impl Model {
    /// A built-in model by name (see [`Model::builtins`]).
    ///
    /// ```
    /// let m = fisher_geometry::Model::builtin("normal")?;
    /// assert_eq!(m.param_names(), ["mu".into(), "sigma".into()]); // F = diag(1/σ², 2/σ²)
    /// # Ok::<(), fisher_geometry::ModelError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ModelErrorKind::UnknownBuiltin`] for an unknown name (with a suggestion).
    pub fn builtin(name: &str) -> Result<Model, ModelError> {
        match BUILTINS.iter().find(|(n, _)| *n == name) {
            Some((n, src)) => Model::parse(src, n),
            None => {
                let kind = ModelErrorKind::UnknownBuiltin {
                    name: name.to_string(),
                    suggestion: closest(name, BUILTINS.iter().map(|(n, _)| *n)),
                };
                Err(ModelError::new(kind, 0..0))
            }
        }
    }

    /// The built-in models as `(name, source)`, in a fixed order.
    pub fn builtins() -> Vec<(&'static str, &'static str)> {
        BUILTINS.to_vec()
    }
}
