//! Parameter domains and parameter points ([`Point`], given as text: `mu=0, sigma=1`).

use egg::Symbol;

use super::{Domain, Model, Span, closest};
use crate::expr::Constant;

/// A parameter point that is not usable: what is wrong and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct PointError {
    /// What went wrong.
    pub kind: PointErrorKind,
    /// Where, as a byte range into the text of [`Point::parse`] (the end of the text for a
    /// parameter left out; `0..0` for a point built by [`Point::new`]).
    pub span: Span,
}

/// The kinds of [`PointError`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointErrorKind {
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

/// A parameter point of a model: one finite value per parameter, in parameter order, each
/// inside its domain. It reads as the slice of its `(name, value)` pairs, and displays as
/// `mu=0.3, sigma=2`.
///
/// ```
/// use fisher_geometry::{Model, Point};
/// let m = Model::builtin("normal")?;
/// let p = Point::parse(&m, "sigma=2, mu=-1")?;
/// assert_eq!(p.values(), [-1.0, 2.0]); // parameter order: μ, σ
/// assert_eq!(p, Point::new(&m, &[("mu", -1.0), ("sigma", 2.0)])?);
/// assert_eq!(p.to_string(), "mu=-1, sigma=2");
/// let e = Point::parse(&m, "mu=0, sigma=-1").unwrap_err(); // σ must be positive
/// assert_eq!(e.span, 6..14);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Point(Vec<(Symbol, f64)>);

impl Point {
    /// The point of `model` with the given values, every parameter once, in any order.
    ///
    /// # Errors
    ///
    /// A [`PointError`] (with span `0..0`) for an unknown or repeated name, a parameter left
    /// out, or a value that is not finite or outside its domain.
    pub fn new(model: &Model, values: &[(&str, f64)]) -> Result<Point, PointError> {
        let mut point = Values::new(model);
        for &(name, v) in values {
            point.set(name, v, || v.to_string(), 0..0)?;
        }
        point.finish(0..0)
    }

    /// Parses `name=value,name=value` naming every parameter of `model` once, and checks
    /// each value against its domain.
    ///
    /// # Errors
    ///
    /// A [`PointError`] whose span covers the offending item (`mu=x`), or the end of the text
    /// for a parameter left out.
    pub fn parse(model: &Model, text: &str) -> Result<Point, PointError> {
        let mut point = Values::new(model);
        let mut start = 0;
        for raw in text.split(',') {
            let item = raw.trim();
            let lead = raw.len() - raw.trim_start().len();
            let span = start + lead..start + lead + item.len();
            start += raw.len() + 1;
            if item.is_empty() {
                continue;
            }
            let (name, value) = item
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .ok_or_else(|| PointError {
                    kind: PointErrorKind::Malformed(item.to_string()),
                    span: span.clone(),
                })?;
            let v = value.parse().unwrap_or(f64::NAN);
            point.set(name, v, || value.to_string(), span)?;
        }
        point.finish(text.len()..text.len())
    }

    /// A point from values already checked against the model (`params` in parameter order).
    pub(crate) fn from_checked(values: Vec<(Symbol, f64)>) -> Point {
        Point(values)
    }

    /// The values, in parameter order: `θ`.
    pub fn values(&self) -> Vec<f64> {
        self.0.iter().map(|(_, v)| *v).collect()
    }

    /// The value of the parameter `name`, if the point has it.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| *v)
    }
}

impl std::ops::Deref for Point {
    type Target = [(Symbol, f64)];

    fn deref(&self) -> &[(Symbol, f64)] {
        &self.0
    }
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (n, v)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{n}={}", crate::expr::number(*v))?;
        }
        Ok(())
    }
}

/// The values of a point being built, checked as they come.
struct Values<'m> {
    model: &'m Model,
    values: Vec<Option<f64>>,
}

impl<'m> Values<'m> {
    fn new(model: &'m Model) -> Self {
        Values {
            model,
            values: vec![None; model.params.len()],
        }
    }

    /// Sets `name` to `v`, refused (quoting `text()`) when it is not a finite number.
    fn set(
        &mut self,
        name: &str,
        v: f64,
        text: impl FnOnce() -> String,
        span: Span,
    ) -> Result<(), PointError> {
        let params = &self.model.params;
        let fail = |kind| PointError {
            kind,
            span: span.clone(),
        };
        let Some(i) = params.iter().position(|p| p.name.as_str() == name) else {
            return Err(fail(PointErrorKind::UnknownParameter {
                name: name.to_string(),
                params: params
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                suggestion: closest(name, params.iter().map(|p| p.name.as_str())),
            }));
        };
        if !v.is_finite() {
            return Err(fail(PointErrorKind::NotANumber {
                name: name.to_string(),
                value: text(),
            }));
        }
        if self.values[i].is_some() {
            return Err(fail(PointErrorKind::Repeated(name.to_string())));
        }
        let domain = params[i].domain;
        if !domain.contains(v) {
            return Err(fail(PointErrorKind::OutsideDomain {
                name: name.to_string(),
                value: v,
                domain: domain.describe(),
            }));
        }
        self.values[i] = Some(v);
        Ok(())
    }

    /// The point, or the first parameter without a value (located at `missing`).
    fn finish(self, missing: Span) -> Result<Point, PointError> {
        self.model
            .params
            .iter()
            .zip(self.values)
            .map(|(p, v)| {
                v.map(|v| (p.name, v)).ok_or_else(|| PointError {
                    kind: PointErrorKind::Missing(p.name.to_string()),
                    span: missing.clone(),
                })
            })
            .collect::<Result<_, _>>()
            .map(Point)
    }
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

#[cfg(test)]
mod tests {
    use super::{Point, PointErrorKind};
    use crate::model::Model;

    #[test]
    fn errors_locate_the_offending_item() {
        let m = Model::builtin("normal").unwrap();
        let text = "mu=0,  sgima=1";
        let e = Point::parse(&m, text).unwrap_err();
        assert_eq!(&text[e.span.clone()], "sgima=1");
        assert!(e.to_string().contains("did you mean `sigma`?"), "{e}");
        let e = Point::parse(&m, "mu=0, sigma").unwrap_err();
        assert_eq!(
            (e.kind, e.span),
            (PointErrorKind::Malformed("sigma".into()), 6..11)
        );
        let e = Point::parse(&m, "mu=1,mu=2").unwrap_err();
        assert_eq!(
            (e.kind, e.span),
            (PointErrorKind::Repeated("mu".into()), 5..9)
        );
        let e = Point::parse(&m, "mu=1,").unwrap_err();
        assert_eq!(
            (e.kind, e.span),
            (PointErrorKind::Missing("sigma".into()), 5..5)
        );
        let e = Point::parse(&m, "mu=inf,sigma=1").unwrap_err();
        assert!(matches!(e.kind, PointErrorKind::NotANumber { .. }), "{e}");
    }

    #[test]
    fn points_from_pairs_are_checked_as_text_is() {
        let m = Model::builtin("normal").unwrap();
        let p = Point::new(&m, &[("sigma", 2.0), ("mu", 0.5)]).unwrap();
        assert_eq!(p.values(), [0.5, 2.0]);
        assert_eq!(p.value("sigma"), Some(2.0));
        assert_eq!(p, Point::parse(&m, "mu=0.5,sigma=2").unwrap());
        let e = Point::new(&m, &[("mu", f64::NAN), ("sigma", 1.0)]).unwrap_err();
        assert_eq!(e.to_string(), "`NaN` is not a finite number (for `mu`)");
        let e = Point::new(&m, &[("mu", 0.0), ("sigma", 0.0)]).unwrap_err();
        assert!(
            matches!(e.kind, PointErrorKind::OutsideDomain { .. }),
            "{e}"
        );
        let e = Point::new(&m, &[("mu", 0.0)]).unwrap_err();
        assert_eq!(e.kind, PointErrorKind::Missing("sigma".into()));
    }
}
