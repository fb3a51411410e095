//! The types of numeric expectations: what is asked (`Quadrature`), what comes back
//! (`Estimate`), and integrands given point by point (`PointIntegrand`).

use super::IntegrandError;

/// Integrands given as a function of the data point, evaluated at every node of the
/// quadrature alongside the compiled ones (see [`expectations_with`](super::expectations_with)).
///
/// This is how dual numbers enter a numeric expectation: the function evaluates its
/// integrand over dual numbers and writes out their components, each of which is an
/// ordinary real integrand. Expectation is linear, so the expectation of a component is the
/// component of the expectation, for the very node set that the accuracy test accepted.
pub trait PointIntegrand {
    /// The number of values written per point.
    fn len(&self) -> usize;

    /// Whether there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the values at the data point `data` (in the model's data order) into `out`
    /// (of length [`len`](Self::len)); an error explains why it could not.
    ///
    /// # Errors
    ///
    /// An [`IntegrandError`] saying what could not be evaluated (values that are not finite
    /// need no error: the quadrature reports them where the density is not negligible).
    fn eval(&mut self, data: &[f64], out: &mut [f64]) -> Result<(), IntegrandError>;

    /// [`eval`](Self::eval) with `complements[j] = 1 − data[j]`, exact where `data[j]` is a
    /// unit variable near 1 (where `data[j]` itself may have rounded to 1); integrands
    /// that can lose the distance to 1 (`ln(1 − x^a)`) override this and read it, for
    /// example through [`EndForms`](super::EndForms). By default the complements are ignored.
    ///
    /// # Errors
    ///
    /// As [`eval`](Self::eval).
    fn eval_with_complements(
        &mut self,
        data: &[f64],
        complements: &[f64],
        out: &mut [f64],
    ) -> Result<(), IntegrandError> {
        let _ = complements;
        self.eval(data, out)
    }
}

/// The default budget of one expectation, [`Quadrature::max_points`].
pub const MAX_POINTS: usize = 2_000_000;

/// Accuracy and effort of numeric expectations.
///
/// A value is accepted when its estimated absolute error is at most
/// `max(abs_tol, rel_tol · ∫|p g|)`; the scale `∫|p g|` (rather than `|∫p g|`) keeps
/// expectations that vanish, like `E[s] = 0`, meaningful. Requests below a few ulps
/// (`4ε ≈ 9e-16`) are treated as `4ε`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quadrature {
    /// Relative tolerance (default `1e-10`, so that results are good to `1e-8` with margin).
    pub rel_tol: f64,
    /// Absolute tolerance (default 0: relative only).
    pub abs_tol: f64,
    /// Largest number of halvings of the double-exponential step `h = ½` (default 10).
    pub max_level: usize,
    /// Largest number of terms summed over a discrete support (default 1,000,000).
    pub max_terms: usize,
    /// Largest number of points at which one expectation evaluates the log-density and its
    /// integrands (default 2,000,000, a second or two); past it the expectation is refused
    /// with [`ExpectError::OverBudget`](super::ExpectError::OverBudget). This bounds the cost of every command, whatever the
    /// number of data variables.
    pub max_points: usize,
}

impl Default for Quadrature {
    fn default() -> Self {
        Quadrature {
            rel_tol: 1e-10,
            abs_tol: 0.0,
            max_level: 10,
            max_terms: 1_000_000,
            max_points: MAX_POINTS,
        }
    }
}

/// Numeric expectations `E_θ[g_k] = ∫ p g_k` with error estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// `∫ p(x; θ) g_k(x; θ) dx` for each `g_k` (not divided by the mass).
    pub values: Vec<f64>,
    /// The estimated absolute error of each value.
    pub errors: Vec<f64>,
    /// `∫ p(x; θ) |g_k(x; θ)| dx` for each `g_k`, the scale of the value: where a value is
    /// far below it, the value is a difference of larger terms.
    pub l1: Vec<f64>,
    /// `∫ p(x; θ) dx`, computed alongside (1 for a normalized model).
    pub mass: f64,
    /// The estimated absolute error of `mass`.
    pub mass_error: f64,
    /// Points at which the compiled log-density and integrands were evaluated.
    pub evaluations: usize,
}
