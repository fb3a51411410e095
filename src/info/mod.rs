//! Fisher information: the closed form by the score-identity route, numerically otherwise;
//! its three forms; KL divergence.

pub mod fisher;
pub mod kl;

pub use fisher::{ClosedForm, closed_form, jeffreys};
pub use kl::{ClosedKl, closed_kl};
