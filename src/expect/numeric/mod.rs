//! Numeric expectations: nested quadrature and summation over the data supports.
//!
//! The data variables are integrated one at a time, the first outermost. For variable `d`
//! with the outer ones fixed, the integrand is the log-weight
//! `L_d(x_d) = ln ∫ p(x) dx_{>d}` (the log-density itself for the innermost variable) and the
//! conditional means of the integrands. A continuous variable is first moved to the whole
//! real line (`x = y` on ℝ, `x = e^y` on (0, ∞), `x = 1/(1 + e^{−y})` on (0, 1), the
//! log-Jacobian added to the log-weight); then the mode `m` of the log-weight in `y` is found
//! by safeguarded Newton steps and the scale `s = 1/√(−q''(m))` from the curvature there, and
//! the sinh-sinh rule runs in `u = (y − m)/s`. The derivatives of `L_d` for an outer variable
//! are expectations too: `L_d' = E[∂_d ℓ]` and `L_d'' = E[∂²_d ℓ] + Var[∂_d ℓ]` under the
//! inner variables, computed by the same nested integration.
//!
//! On (0, 1), `1 − x` cannot be represented near 1 (`Beta(a, 0.05)` has 8% of its mass within
//! `10^{−16}` of 1), so every `1 − x` in the expressions is replaced by a second input, the
//! complement, computed exactly as `1/(1 + e^{y})`.
//!
//! The files: [`maps`] (the ranges and mode-search probes of the supports'
//! [`Bijector`](crate::model::Bijector)s), [`prepared`] (the tapes made once per model),
//! [`problem`] (one parameter point: evaluation and errors), [`mode`] (the mode search),
//! [`nested`] (the rules, variable by variable) and [`cubature`] (three or more data
//! variables).

mod cubature;
mod maps;
mod mode;
mod nested;
mod prepared;
mod problem;

pub(crate) use prepared::{Prepared, Tape};
pub(crate) use problem::Problem;
