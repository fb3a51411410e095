//! # fisher-geometry
//!
//! Exact Fisher geometry from a log-density written by the user. This stage covers the model
//! language, symbolic derivatives with e-graph simplification, numeric evaluation over dual
//! numbers, expectations (exact by the score identity, or by quadrature), the Fisher
//! information matrix and the KL divergence, and rendering; the geometry built on them
//! (reparameterization, geodesics, natural gradient, …) comes next.
//!
//! A tour, from a model file to its Fisher matrix:
//!
//! ```
//! use fisher_geometry::{Model, render, simplify};
//! use fisher_geometry::eval::{Compiled, Env, eval_f64};
//!
//! // model: parse and check a model file (or a built-in, or the `model!` macro)
//! let model = Model::parse(
//!     "data x : real\nparam mu : real\nparam sigma : positive\n\
//!      logp = -0.5*((x - mu)/sigma)^2 - ln(sigma) - 0.5*ln(2*pi)\n",
//!     "normal",
//! )?;
//! // diff + simplify: the score and Hessian, simplified under `sigma : positive`
//! let d = simplify::derive(&model);
//! assert_eq!(d.score[1].to_string(), "(x - mu)^2/sigma^3 - 1/sigma"); // ∂ℓ/∂σ
//! // render: LaTeX
//! assert_eq!(render::latex(&d.score[0]).to_string(), "\\frac{x - \\mu}{\\sigma^{2}}");
//! // eval: at a point, and compiled for many points
//! let env = Env::new().with("x", 1.0).with("mu", 0.0).with("sigma", 2.0);
//! assert_eq!(eval_f64(&d.hessian[0][0], &env)?, -0.25); // ∂²ℓ/∂μ² = −1/σ²
//! let c = Compiled::new(&d.score, &["x".into(), "mu".into(), "sigma".into()])?;
//! assert_eq!(c.eval(&[1.0, 0.0, 2.0])?, [0.25, -0.375]);
//! // expect + info: the Fisher matrix in closed form, by the score identity E[s] = 0
//! let f = fisher_geometry::info::closed_form(&model)?;
//! assert_eq!(f.matrix[1][1].to_string(), "2/sigma^2"); // F_σσ = 2/σ²
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Pipeline order (DESIGN §3), `special → expr → eval → parse → model → diff → simplify →
// expect → info → render → cli`: a module uses only modules above it, so `model` evaluates
// constants with the one evaluator; `special` depends on nothing in the crate; `render`
// re-exports the text printer that lives in `expr`.
pub mod special;

pub mod expr;

pub mod eval;

pub mod parse;

pub mod model;

pub mod diff;

pub mod simplify;

pub mod expect;

pub mod info;

pub mod render;

mod cli;

#[doc(hidden)] // the binary's entry point (see its documentation), not library API
pub use cli::run_cli;
pub use eval::EvalError;
pub use expect::Quadrature;
pub use expr::Expr;
pub use info::{
    Divergence, FieldDerivatives, FieldOptions, FisherField, InfoError, KlField, Method,
};
pub use model::{Model, ModelError, Point, PointError, PointErrorKind};
pub use nalgebra::{DMatrix, DVector};
pub use parse::display_text;
pub use simplify::{Derivatives, derive};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
