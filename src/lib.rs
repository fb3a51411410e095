//! # fisher-geometry
//!
//! Exact Fisher geometry from a log-density written by the user: score, Hessian, and (in
//! later stages) the Fisher information matrix, KL divergence and the geometry built on them.
//!

// Pipeline order: a module uses only modules above it (DESIGN §3).
pub mod expr;

pub mod parse;

pub mod model;

pub mod diff;

pub mod simplify;

pub mod eval;

pub mod render;

pub mod cli;

pub use expr::Expr;
pub use model::{Model, ModelError};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
