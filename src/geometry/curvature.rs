//! The curvature of the Fisher metric at a point: the Riemann tensor
//! `Rᵃ_bcd = ∂_c Γᵃ_db − ∂_d Γᵃ_cb + Γᵃ_ce Γᵉ_db − Γᵃ_de Γᵉ_cb`, the Ricci tensor
//! `R_bd = Rᵃ_bad`, the scalar curvature `R = Fᵇᵈ R_bd` and, for two parameters, the Gaussian
//! curvature `K = R/2`. With this sign convention the unit sphere has `K = 1`; the normal
//! family in `(μ, σ)` has `K = −1/2`.
//!
//! `∂_c Γ` comes from the exact second θ-derivatives of the field:
//! `∂_c Γᵏᵢⱼ = ½ ∂_c Fᵏˡ A_ijl + ½ Fᵏˡ ∂_c A_ijl` with `∂_c F⁻¹ = −F⁻¹ (∂_c F) F⁻¹` and
//! `A_ijl = ∂ᵢF_jl + ∂ⱼF_il − ∂ₗF_ij`.

use nalgebra::DMatrix;

use super::GeometryError;
use super::connection::{
    Christoffel, check_first, christoffel_derivatives, inverse_metric, located,
};
use crate::info::{FieldDerivatives, FisherField};

/// The curvature of the Fisher metric at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Curvature {
    n: usize,
    christoffel: Christoffel,
    /// `Rᵃ_bcd` at `((a·n + b)·n + c)·n + d`.
    riemann: Vec<f64>,
    ricci: DMatrix<f64>,
    scalar: f64,
}

impl Curvature {
    /// The curvature of `field` at `θ` (in parameter order).
    ///
    /// ```
    /// use fisher_geometry::{FisherField, Model};
    /// use fisher_geometry::Curvature;
    ///
    /// let field = FisherField::new(&Model::builtin("normal")?)?;
    /// let c = Curvature::at(&field, &[0.3, 2.0])?;
    /// assert!((c.scalar() + 1.0).abs() < 1e-12); // R = −1
    /// assert!((c.gaussian().unwrap() + 0.5).abs() < 1e-12); // K = −1/2
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GeometryError::Info`] when `F`, `∂F` or `∂²F` cannot be evaluated at `θ`;
    /// [`GeometryError::NotPositiveDefinite`] when `F(θ)` is not.
    pub fn at(field: &FisherField, theta: &[f64]) -> Result<Curvature, GeometryError> {
        let d = field.with_derivatives(theta)?;
        Curvature::from_derivatives(&d).map_err(|e| located(e, field, theta))
    }

    /// The curvature from `F`, `∂F` and `∂²F` at a point.
    ///
    /// # Errors
    ///
    /// [`GeometryError::Length`] for inconsistent shapes, [`GeometryError::NotPositiveDefinite`]
    /// when `F` is not.
    pub fn from_derivatives(d: &FieldDerivatives) -> Result<Curvature, GeometryError> {
        let n = check_first(d)?;
        if d.d2f.len() != n || d.d2f.iter().any(|row| row.len() != n) {
            return Err(GeometryError::Length {
                what: "second derivatives of F",
                expected: n,
                found: d.d2f.len(),
            });
        }
        let christoffel = Christoffel::from_derivatives(d)?;
        let inv = inverse_metric(&d.f, "the curvature")?;
        let dgamma = christoffel_derivatives(d, &inv, n);
        let dg = |c: usize, k: usize, i: usize, j: usize| dgamma[((c * n + k) * n + i) * n + j];
        let g = |k: usize, i: usize, j: usize| christoffel.symbol(k, i, j);
        let mut riemann = vec![0.0; n * n * n * n];
        for a_ in 0..n {
            for b in 0..n {
                for c in 0..n {
                    for d_ in 0..n {
                        let mut v = dg(c, a_, d_, b) - dg(d_, a_, c, b);
                        for e in 0..n {
                            v += g(a_, c, e) * g(e, d_, b) - g(a_, d_, e) * g(e, c, b);
                        }
                        riemann[((a_ * n + b) * n + c) * n + d_] = v;
                    }
                }
            }
        }
        let ricci = DMatrix::from_fn(n, n, |b, d_| {
            (0..n)
                .map(|a_| riemann[((a_ * n + b) * n + a_) * n + d_])
                .sum::<f64>()
        });
        // The Ricci tensor of the Levi-Civita connection is symmetric; average away rounding.
        let ricci = (&ricci + ricci.transpose()) * 0.5;
        let scalar = inv.component_mul(&ricci).sum();
        Ok(Curvature {
            n,
            christoffel,
            riemann,
            ricci,
            scalar,
        })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// The Christoffel symbols at the point.
    pub fn christoffel(&self) -> &Christoffel {
        &self.christoffel
    }

    /// `Rᵃ_bcd`.
    ///
    /// # Panics
    ///
    /// When an index is not below [`Curvature::dim`].
    pub fn riemann(&self, a: usize, b: usize, c: usize, d: usize) -> f64 {
        let n = self.n;
        assert!(a < n && b < n && c < n && d < n, "index out of range");
        self.riemann[((a * n + b) * n + c) * n + d]
    }

    /// The Ricci tensor `R_bd`.
    pub fn ricci(&self) -> &DMatrix<f64> {
        &self.ricci
    }

    /// The scalar curvature `R`.
    pub fn scalar(&self) -> f64 {
        self.scalar
    }

    /// The Gaussian curvature `K = R/2` of a two-parameter model (`None` otherwise).
    pub fn gaussian(&self) -> Option<f64> {
        (self.n == 2).then_some(self.scalar / 2.0)
    }
}
