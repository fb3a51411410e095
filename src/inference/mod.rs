//! Statistics on the Fisher metric, from a model and its observations: the data
//! ([`Dataset`]), the log-likelihood of N observations by sufficient statistics or over the
//! data in batches ([`Likelihood`]), maximum likelihood by Fisher scoring with standard
//! errors, natural gradient, Riemannian-manifold HMC and minimum message length.
//!
//! Everything here evaluates `F` and its θ-derivatives through the field
//! ([`crate::info::FisherField`]), never by deriving again.

mod data;
mod diagnostics;
mod hmc;

pub use data::{DataError, Dataset};
#[allow(unused_imports)] // the CSV reader and the samplers of the tests use them
pub(crate) use data::{check_value, in_support};
pub use diagnostics::{DiagnosticsError, MIN_DRAWS, Summary, summarize};
pub use hmc::{
    ChainStats, SampleError, SampleOptions, Sampler, Samples, Target, TargetError, Trajectory,
    TrajectoryError, sample, trajectory,
};
