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
}
