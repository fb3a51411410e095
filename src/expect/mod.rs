//! Expectations `E_θ[g(x)]`: the exact exponential-family route ([`exact`]) and numeric
//! quadrature and summation over the data support.

pub mod exact;
