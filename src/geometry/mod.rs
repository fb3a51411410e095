//! Fisher geometry on the field of [`crate::info::FisherField`]: the local whitening map; the
//! Jeffreys prior (density, normalizer, properness); the Levi-Civita connection of the Fisher
//! metric (Christoffel symbols) and its curvature, at a point or, for a closed-form metric, as
//! formulas; geodesics, the exponential and logarithmic maps, and the Fisher–Rao distance;
//! reparameterization and the pullback of the metric; Fisher balls beside the KL level sets.
//!
//! Everything here evaluates `F` and its θ-derivatives through the field only (closed form or
//! numeric, compiled once per model), never by deriving again.

mod balls;
mod connection;
mod curvature;
mod distance;
mod error;
mod geodesic;
mod jeffreys;
mod kronrod;
mod reparam;
mod shooting;
mod symbolic;
mod whiten;

pub use balls::{BallOptions, FisherBall, LevelPoint, RayEnd, grid_centers, plane_whitening};
pub use connection::Christoffel;
pub use curvature::Curvature;
pub use distance::{Distance, DistanceMethod, LocationScale, distance, distance_method};
pub use error::GeometryError;
pub use geodesic::{Geodesic, GeodesicOptions, exponential_map};
pub(crate) use jeffreys::representable;
pub use jeffreys::{Normalizer, Properness, jeffreys_density, normalizer, properness};
#[cfg(test)] // the CLI test of a mismatch recomputes a tampered discrepancy with it
pub(crate) use reparam::relative_discrepancy;
pub use reparam::{MapErrorKind, MapText, REPARAM_TOL, Reparam, ReparamError, ReparamPoint};
pub use shooting::{ShootingOptions, Shot, logarithmic_map};
pub use symbolic::{MAX_SYMBOLIC_DIM, SymbolicCurvature};
pub use whiten::Whitening;

/// `θ` as `name=value, …` for messages.
fn describe(field: &crate::info::FisherField, theta: &[f64]) -> String {
    crate::expr::assignments(field.model().params.iter().map(|p| p.name), theta)
}
