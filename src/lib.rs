//! # fisher-geometry
//!
//! Exact Fisher geometry from a log-density written by the user. This stage covers the model
//! language, symbolic derivatives with e-graph simplification, numeric evaluation over dual
//! numbers, expectations (exact by the score identity, or by quadrature), the Fisher
//! information matrix and the KL divergence, the Fisher field (`F`, `∂F`, `∂²F` compiled once
//! per model), the geometry on it (reparameterization with the pullback of the metric,
//! whitening, Fisher balls beside the exact KL level sets, the Jeffreys prior, Christoffel
//! symbols and curvature, geodesics, the exponential and logarithmic maps, Fisher–Rao
//! distances), the statistics on data (CSV input, the log-likelihood by sufficient statistics,
//! Fisher scoring with standard errors, natural gradient, RMHMC and HMC, MML87), and rendering
//! (text, LaTeX, JSON, SVG).
//!
//! A tour, from a model file to its Fisher matrix:
//!
//! ```
//! use fisher_geometry::{Compiled, Env, Model, closed_form, derive, eval_f64, latex};
//!
//! // model: parse and check a model file (or a built-in, or the `model!` macro)
//! let model = Model::parse(
//!     "data x : real\nparam mu : real\nparam sigma : positive\n\
//!      logp = -0.5*((x - mu)/sigma)^2 - ln(sigma) - 0.5*ln(2*pi)\n",
//!     "normal",
//! )?;
//! // diff + simplify: the score and Hessian, simplified under `sigma : positive`
//! let d = derive(&model);
//! assert_eq!(d.score[1].to_string(), "(x - mu)^2/sigma^3 - 1/sigma"); // ∂ℓ/∂σ
//! // render: LaTeX
//! assert_eq!(latex(&d.score[0]).to_string(), "\\frac{x - \\mu}{\\sigma^{2}}");
//! // eval: at a point, and compiled for many points
//! let env = Env::new().with("x", 1.0).with("mu", 0.0).with("sigma", 2.0);
//! assert_eq!(eval_f64(&d.hessian[0][0], &env)?, -0.25); // ∂²ℓ/∂μ² = −1/σ²
//! let c = Compiled::new(&d.score, &["x".into(), "mu".into(), "sigma".into()])?;
//! assert_eq!(c.eval(&[1.0, 0.0, 2.0])?, [0.25, -0.375]);
//! // expect + info: the Fisher matrix in closed form, by the score identity E[s] = 0
//! let f = closed_form(&model)?;
//! assert_eq!(f.matrix[1][1].to_string(), "2/sigma^2"); // F_σσ = 2/σ²
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Pipeline order (DESIGN §3), `special → expr → eval → parse → model → diff → simplify →
// expect → info → geometry → inference → render → cli`: a module uses only modules above it, so `model`
// evaluates constants with the one evaluator; `special` depends on nothing in the crate;
// `render` re-exports the text printer that lives in `expr`. The modules are private but three
// small groups (`special`, `expr`, `simplify`) and the verification (`verify`); what the crate
// offers is the list below.
pub mod special;

pub mod expr;

mod eval;

mod parse;

mod model;

mod diff;

pub mod simplify;

mod expect;

mod info;

mod geometry;

mod inference;

mod render;

mod cli;

// The model: its declarations, parameter points and errors.
pub use model::Bijector;
pub use model::{
    DataVar, Declaration, Domain, IntBound, Item, MAX_WRITTEN_POLYGAMMA_ORDER, Model, ModelError,
    ModelErrorKind, Param, Point, PointError, PointErrorKind, Span, Support, SupportDecl,
};
pub use parse::{MAX_DEPTH, MAX_NAME_LEN, MAX_NODES, ParseError, ParseErrorKind, display_text};

// Expressions, their derivatives, and their evaluation.
pub use diff::derivative;
pub use eval::{
    ACCURACY, AccuracyError, Accurate, BatchScratch, Compiled, Env, EvalError, Input, MAX_BITS,
    Scalar, eval, eval_accurate, eval_accurate_detailed, eval_checked, eval_f64,
    eval_multiprecision, gradient, hessian, third_derivative,
};
pub use expr::{Expr, Op};
pub use simplify::{Derivatives, derive};

// Expectations: exact by the score identity, or by quadrature.
pub use expect::{
    EndForms, Estimate, ExpectError, IntegrandError, MAX_POINTS, PointIntegrand,
    PreparedExpectations, Progress, Quadrature, RouteError, check_normalized, complement_symbol,
    expectations, expectations_with, normalization, with_progress,
};

// Fisher information, the KL divergence, and the checks of their identities.
pub use info::check::{CHECK_TOL, CheckReport, PointCheck, SecondOrder, check};
pub use info::verify;
pub use info::{
    ClosedForm, ClosedKl, Derivation, Divergence, FieldDerivatives, FieldOptions, FisherAt,
    FisherField, Forms, HessianMethod, InfoError, KinkError, KlField, KlHessians, KlReport,
    MAX_JEFFREYS_BLOCK, Method, NumericForms, Verification, closed_form, closed_kl, derivation,
    derivation_opts, fisher_at, jeffreys, kl_between, kl_hessians,
};

// Geometry on the Fisher metric.
pub use geometry::{BallOptions, FisherBall, LevelPoint, RayEnd, grid_centers, plane_whitening};
pub use geometry::{
    Christoffel, Curvature, Distance, DistanceMethod, Geodesic, GeodesicOptions, GeometryError,
    LocationScale, MAX_SYMBOLIC_DIM, MapErrorKind, MapText, Normalizer, Properness, REPARAM_TOL,
    Reparam, ReparamError, ReparamPoint, ShootingOptions, Shot, SymbolicCurvature, Whitening,
    distance, distance_method, exponential_map, jeffreys_density, logarithmic_map, normalizer,
    properness,
};

// Statistics on the Fisher metric.
pub use inference::{
    Ascent, AscentPath, CellProblem, ChainStats, CsvOptions, DataError, Dataset, DiagnosticsError,
    Fit, FitError, FitOptions, Likelihood, LikelihoodError, LikelihoodRoute, LogLikelihood,
    MAX_QUOTED_CHARS, MAX_ROW_BYTES, MIN_DRAWS, MessageLength, MmlError, MmlPrior, Posterior,
    PosteriorDraws, PosteriorError, Prior, PriorDerivatives, PriorError, SampleError,
    SampleOptions, Sampler, Samples, StepError, StepRule, Summary, Target, TargetError, Trajectory,
    TrajectoryError, WarmStart, ascend, ascent_step, fit, fit_with, lattice_constant,
    message_length, read_csv, read_csv_path, sample, sample_posterior, summarize, trajectory,
};

// Rendering: display adapters.
pub use render::{
    BallCurves, BallsFigure, Curve, CurveStyle, ELLIPSE_LEGEND, FIGURE_HEIGHT, FIGURE_WIDTH,
    LEVEL_SET_LEGEND, PlotLayout, RenderError, RenderedFigure, unicode_name,
};
pub use render::{
    Latex, LatexMatrix, MIN_LETS_TREE, Pretty, Text, derivation_lets, latex, latex_matrix,
    latex_name, model_latex, number, text,
};

pub use nalgebra::{DMatrix, DVector};

#[doc(hidden)] // the binary's entry point (see its documentation), not library API
pub use cli::run_cli;
#[doc(hidden)] // the paths the `model!` macro expands to
pub use model::macro_support;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
