//! From syntax tree to [`Model`]: parameters, data variables with their supports, constants,
//! and the log-density with every `let` inlined. [`ModelError`] carries the span of the
//! offending text. The [`model!`](crate::model!) macro declares the same thing in Rust.
//!
//! Both forms end in [`Model::try_new`], which runs the checks that do not need source
//! positions (duplicates, constants, bounds, `logp` given once, every parameter and data
//! variable used); the file form first resolves every name against the declarations, so its
//! errors point at the exact text.
//!
//! The files: `types.rs` (the checked [`Model`] and its parts), `declaration.rs` (the
//! unchecked [`Declaration`]s both forms produce), `resolve.rs` (names resolved against the
//! declarations, syntax trees lowered to [`Expr`](crate::Expr)s), `build.rs` ([`Model::parse`]
//! and [`Model::try_new`]), `builtins.rs` (the built-in models), `point.rs` (parameter points
//! checked against their domains), `bijector.rs` (the maps from the real line onto the
//! domains and supports, with their log-Jacobians), `error.rs` and `macros.rs`.

use std::ops::Range;

use crate::special;

mod bijector;
mod build;
mod builtins;
mod declaration;
mod error;
mod macros;
mod point;
mod resolve;
mod types;

pub use bijector::Bijector;
pub use declaration::{Declaration, IntBound, Item, SupportDecl};
pub use error::{ModelError, ModelErrorKind, closest};
pub use point::{Point, PointError, PointErrorKind};
pub(crate) use resolve::lower_expr;
pub use types::{DataVar, Domain, Model, Param, Support};

#[doc(hidden)]
pub use macros::macro_support;

/// The highest order a model may give `polygamma(n, x)`: four below
/// [`MAX_POLYGAMMA_ORDER`](special::MAX_POLYGAMMA_ORDER), since curvature differentiates the
/// log-density four times and each derivative raises the order by one.
pub const MAX_WRITTEN_POLYGAMMA_ORDER: u32 = special::MAX_POLYGAMMA_ORDER - 4;

/// A byte range into the model source (`0..0` for models built by [`model!`](crate::model!)).
pub type Span = Range<usize>;
