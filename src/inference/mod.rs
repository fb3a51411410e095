//! Statistics on the Fisher metric, from a model and its observations: the data
//! ([`Dataset`]), the log-likelihood of N observations by sufficient statistics or over the
//! data in batches ([`Likelihood`]), maximum likelihood by Fisher scoring with standard
//! errors, natural gradient, Riemannian-manifold HMC and minimum message length.
//!
//! Everything here evaluates `F` and its θ-derivatives through the field
//! ([`crate::info::FisherField`]), never by deriving again.

mod data;
mod diagnostics;
mod fit;
mod hmc;
mod likelihood;
mod mml;
mod natgrad;
mod posterior;
mod prior;

pub use data::{
    CellProblem, CsvOptions, DataError, Dataset, MAX_QUOTED_CHARS, MAX_ROW_BYTES, read_csv,
    read_csv_path,
};
#[allow(unused_imports)] // the CSV reader and the samplers of the tests use them
pub(crate) use data::{check_value, in_support};
pub use diagnostics::{DiagnosticsError, MIN_DRAWS, Summary, summarize};
pub use fit::{Fit, FitError, FitOptions, StepRule, WarmStart, fit, fit_with};
pub use hmc::{
    ChainStats, SampleError, SampleOptions, Sampler, Samples, Target, TargetError, Trajectory,
    TrajectoryError, sample, trajectory,
};
pub use likelihood::{Likelihood, LikelihoodError, LikelihoodRoute, LogLikelihood};
pub use mml::{MessageLength, MmlError, MmlPrior, lattice_constant, message_length};
pub use natgrad::{Ascent, AscentPath, StepError, ascend, ascent_step};
pub use posterior::{Posterior, PosteriorDraws, PosteriorError, sample_posterior};
pub use prior::{Prior, PriorDerivatives, PriorError};
