//! What can go wrong in the geometry.

use crate::info::InfoError;

/// An error of the geometry: the field could not be evaluated, or the metric is not a
/// metric at the point.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GeometryError {
    /// `F` or its derivatives could not be evaluated.
    #[error(transparent)]
    Info(#[from] InfoError),
    /// `F` is not positive definite at the point, so it is not a metric there (a model that
    /// is not identifiable at `θ`, or one whose parameters are redundant).
    #[error(
        "the Fisher matrix is not positive definite at {at} (eigenvalue {eigenvalue}): it is no metric there, so {what} is not defined"
    )]
    NotPositiveDefinite {
        /// The point, `name=value, …`.
        at: String,
        /// The smallest eigenvalue, formatted.
        eigenvalue: String,
        /// What needed the metric.
        what: String,
    },
    /// Symbolic curvature needs a closed-form `F`.
    #[error(
        "the Fisher matrix of this model has no verified closed form, so its curvature has no formula: `--at` gives the curvature at a point from the numeric metric"
    )]
    NoClosedForm,
    /// Too many parameters for formulas.
    #[error(
        "the curvature of a metric in {n} parameters is derived symbolically only up to {max} parameters (its formulas are too large to print): `--at` gives it at a point"
    )]
    TooLarge {
        /// The number of parameters.
        n: usize,
        /// [`super::symbolic::MAX_SYMBOLIC_DIM`].
        max: usize,
    },
    /// A formula disagrees with the numeric curvature: a bug, reported instead of a wrong
    /// formula.
    #[error(
        "the formula for {what} disagrees with the numeric curvature at {at} ({detail}): this is a bug in fisher, please report it; `--at` gives the numeric value"
    )]
    Mismatch {
        /// Which quantity.
        what: String,
        /// The point, `name=value, …`.
        at: String,
        /// The two values, or why the formula could not be evaluated.
        detail: String,
    },
    /// A box bound that is not a bounded range inside the parameter's domain.
    #[error(
        "the box {lo}..{hi} for `{name}` is not a bounded range inside its domain ({domain}): give LO < HI, both finite and inside"
    )]
    Box {
        /// The parameter.
        name: String,
        /// The lower bound, formatted.
        lo: String,
        /// The upper bound, formatted.
        hi: String,
        /// The domain.
        domain: String,
    },
    /// An integral over the parameters did not converge.
    #[error("the integral over the parameters failed: {reason}")]
    Integral {
        /// Why.
        reason: String,
    },
    /// A geodesic could not be followed to its end.
    #[error("the geodesic cannot be followed to t = 1: {reason}")]
    Geodesic {
        /// Why: it leaves the domain, or the integrator cannot reach its accuracy.
        reason: String,
    },
    /// The logarithmic map found no geodesic between two points.
    #[error("shooting from {from} to {to} does not converge: {reason}")]
    Shooting {
        /// The start, `name=value, …`.
        from: String,
        /// The end, `name=value, …`.
        to: String,
        /// Why the last attempt failed.
        reason: String,
    },
    /// The derivatives given do not match the dimension.
    #[error("{what}: expected {expected} values, found {found}")]
    Length {
        /// Which input.
        what: &'static str,
        /// The dimension.
        expected: usize,
        /// What was given.
        found: usize,
    },
    /// A Fisher radius that is not a finite number greater than 0, or too small to be
    /// resolved in `f64`.
    #[error("the Fisher radius {radius} is {reason}")]
    Radius {
        /// The radius, formatted.
        radius: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plane of two parameters that cannot be drawn: a one-parameter model, the same
    /// parameter twice.
    #[error("cannot draw Fisher balls in this plane: {0}")]
    Plane(String),
    /// The KL level set of a Fisher ball could not be found along a ray.
    #[error("the KL level set of the Fisher ball at {at} cannot be found: {reason}")]
    LevelSet {
        /// The centre, `name=value, …`.
        at: String,
        /// Why.
        reason: String,
    },
}
