//! How the one-dimensional rules and the sparse grid use the bijections of
//! [`Bijector`] (defined once, in `model`): the range of `y` they integrate over and the
//! starting points of the mode search. A continuous data variable is integrated in `y`
//! through its support's bijector (`x = y` on ℝ, `x = e^y` on (0, ∞), the logistic on
//! (0, 1)), and a real one with kinks piece by piece through the half-lines and intervals
//! between them ([`Bijector::Below`], [`Bijector::Interval`], [`Bijector::Above`]).

use crate::model::Bijector;

impl Bijector {
    /// The range of `y` that keeps `x` finite and inside the support.
    pub(super) fn range(self) -> (f64, f64) {
        match self {
            Bijector::Identity => (-1e300, 1e300),
            Bijector::Log
            | Bijector::Logit
            | Bijector::Above(_)
            | Bijector::Below(_)
            | Bijector::Interval(..) => (-700.0, 700.0),
        }
    }

    /// Starting points for a second search when the log-weight is `−∞` at every one of
    /// [`Self::probes`]: every power of ten on ℝ (a normal at `μ = 1e300`), every tenth of the
    /// range of `y` on the mapped supports.
    pub(super) fn wide_probes(self) -> Vec<f64> {
        match self {
            Bijector::Identity => (1..=308)
                .flat_map(|k| [10f64.powi(k), -(10f64.powi(k))])
                .chain((1..=307).flat_map(|k| [10f64.powi(-k), -(10f64.powi(-k))]))
                .collect(),
            _ => (-70..=70).map(|k| f64::from(k) * 10.0).collect(),
        }
    }

    /// Starting points for the mode search, in `y`.
    pub(super) fn probes(self) -> &'static [f64] {
        match self {
            Bijector::Identity => &[0.0, 1.0, -1.0, 10.0, -10.0],
            // x = 1, 0.1, 10
            Bijector::Log | Bijector::Above(_) | Bijector::Below(_) => {
                &[0.0, -std::f64::consts::LN_10, std::f64::consts::LN_10]
            }
            // x = 0.5, 0.1, 0.9 (of the interval)
            Bijector::Logit | Bijector::Interval(..) => {
                &[0.0, -2.197_224_577_336_219_6, 2.197_224_577_336_219_6]
            }
        }
    }
}
