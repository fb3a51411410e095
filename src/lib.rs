//! # fisher-geometry
//!
//! Exact Fisher geometry from a log-density written by the user: score, Hessian, and (in
//! later stages) the Fisher information matrix, KL divergence and the geometry built on them.
//!

pub mod cli;
pub mod diff;
pub mod eval;
pub mod expr;
pub mod model;
pub mod parse;
pub mod render;
pub mod simplify;

pub use expr::Expr;
pub use model::Model;
