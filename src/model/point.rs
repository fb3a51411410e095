//! Parameter domains and parameter points given as text (`mu=0, sigma=1`).

use egg::Symbol;

use super::{Domain, Model, closest};
use crate::expr::Constant;

/// A parameter point given on the command line was not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    /// An item is not `name=value`.
    #[error("`{0}` is not of the form `name=value`")]
    Malformed(String),
    /// A name that is not a parameter of the model.
    #[error("`{name}` is not a parameter of this model (parameters: {params}){}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownParameter {
        /// The name given.
        name: String,
        /// The model's parameters, comma-separated.
        params: String,
        /// A close parameter name.
        suggestion: Option<String>,
    },
    /// A parameter given twice.
    #[error("parameter `{0}` is given twice")]
    Repeated(String),
    /// A parameter without a value.
    #[error("parameter `{0}` has no value (give every parameter: `name=value,name=value`)")]
    Missing(String),
    /// A value that is not a finite number.
    #[error("`{value}` is not a finite number (for `{name}`)")]
    NotANumber {
        /// The parameter.
        name: String,
        /// The text given.
        value: String,
    },
    /// A value outside the declared domain.
    #[error("{name}={value} is outside the domain of `{name}` ({domain})")]
    OutsideDomain {
        /// The parameter.
        name: String,
        /// The value.
        value: f64,
        /// The domain.
        domain: String,
    },
}

impl Domain {
    /// The open interval `(lo, hi)` (checked when the model is built).
    pub fn interval(lo: f64, hi: f64) -> Domain {
        Domain::Interval(Constant::new(lo), Constant::new(hi))
    }

    /// The bounds `(lo, hi)` of the domain, infinite where it is unbounded.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Domain::Real => (f64::NEG_INFINITY, f64::INFINITY),
            Domain::Positive => (0.0, f64::INFINITY),
            Domain::Unit => (0.0, 1.0),
            Domain::Interval(lo, hi) => (lo.value(), hi.value()),
        }
    }

    /// Whether `v` lies in the domain: a finite number strictly inside the bounds.
    pub fn contains(self, v: f64) -> bool {
        let (lo, hi) = self.bounds();
        v.is_finite() && v > lo && v < hi
    }

    /// The domain as written in a model file, with its meaning.
    pub fn describe(self) -> String {
        match self {
            Domain::Real => "real".to_string(),
            Domain::Positive => "positive: greater than 0".to_string(),
            Domain::Unit => "unit: strictly between 0 and 1".to_string(),
            Domain::Interval(lo, hi) => format!(
                "{self}: strictly between {} and {}",
                crate::expr::number(lo.value()),
                crate::expr::number(hi.value())
            ),
        }
    }
}

impl Model {
    /// Parses a parameter point `name=value,name=value` naming every parameter once, and
    /// checks each value against its domain. Returns the values in parameter order.
    ///
    /// ```
    /// use fisher_geometry::Model;
    /// let m = Model::builtin("normal")?;
    /// let p = m.parse_point("sigma=2, mu=-1")?;
    /// assert_eq!(p, [("mu".into(), -1.0), ("sigma".into(), 2.0)]);
    /// assert!(m.parse_point("mu=0,sigma=-1").is_err()); // σ must be positive
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`PointError`] naming the offending item.
    pub fn parse_point(&self, text: &str) -> Result<Vec<(Symbol, f64)>, PointError> {
        let mut values: Vec<Option<f64>> = vec![None; self.params.len()];
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .ok_or_else(|| PointError::Malformed(item.to_string()))?;
            let Some(i) = self.params.iter().position(|p| p.name.as_str() == name) else {
                return Err(PointError::UnknownParameter {
                    name: name.to_string(),
                    params: self
                        .params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    suggestion: closest(name, self.params.iter().map(|p| p.name.as_str())),
                });
            };
            let v: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| PointError::NotANumber {
                    name: name.to_string(),
                    value: value.to_string(),
                })?;
            if values[i].is_some() {
                return Err(PointError::Repeated(name.to_string()));
            }
            let domain = self.params[i].domain;
            if !domain.contains(v) {
                return Err(PointError::OutsideDomain {
                    name: name.to_string(),
                    value: v,
                    domain: domain.describe(),
                });
            }
            values[i] = Some(v);
        }
        self.params
            .iter()
            .zip(values)
            .map(|(p, v)| {
                v.map(|v| (p.name, v))
                    .ok_or_else(|| PointError::Missing(p.name.to_string()))
            })
            .collect()
    }
}
