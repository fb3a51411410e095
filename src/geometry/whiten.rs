//! Whitening at a point: the symmetric square root `F^{1/2}(θ₀)` and the local coordinates
//! `η − η₀ = F^{1/2}(θ₀)(θ − θ₀)` of the seed's equation (1), in which the Fisher ball at
//! `θ₀` is the unit ball and `D(θ‖θ₀) ≈ ½|η − η₀|²`.

use nalgebra::{DMatrix, DVector};

use super::GeometryError;
use super::connection::located;
use crate::info::FisherField;

/// The whitening map at one point `θ₀`.
#[derive(Debug, Clone, PartialEq)]
pub struct Whitening {
    theta0: DVector<f64>,
    sqrt: DMatrix<f64>,
    inv_sqrt: DMatrix<f64>,
    eigenvalues: DVector<f64>,
}

/// Relative size, against the largest, below which an eigenvalue of `F` counts as zero.
const SINGULAR: f64 = 1e-12;

impl Whitening {
    /// The whitening map of `field` at `θ₀` (in parameter order).
    ///
    /// ```
    /// use fisher_geometry::{FisherField, Model};
    /// use fisher_geometry::Whitening;
    ///
    /// let field = FisherField::new(&Model::builtin("normal")?)?;
    /// let w = Whitening::at(&field, &[0.0, 2.0])?;
    /// // F = diag(1/σ², 2/σ²), so F^{1/2} = diag(1/σ, √2/σ)
    /// assert!((w.sqrt_fisher()[(0, 0)] - 0.5).abs() < 1e-15);
    /// assert!((w.sqrt_fisher()[(1, 1)] - 2f64.sqrt() / 2.0).abs() < 1e-15);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GeometryError::Info`] when `F(θ₀)` cannot be evaluated (a point outside the
    /// domains, say); [`GeometryError::NotPositiveDefinite`] when `F(θ₀)` is singular or
    /// indefinite.
    pub fn at(field: &FisherField, theta0: &[f64]) -> Result<Whitening, GeometryError> {
        let f = field.at(theta0)?;
        Whitening::of_matrix(&f, theta0).map_err(|e| located(e, field, theta0))
    }

    /// The whitening map of the metric `f` at `θ₀`.
    ///
    /// # Errors
    ///
    /// [`GeometryError::Length`] when `f` is not square of the length of `θ₀`;
    /// [`GeometryError::NotPositiveDefinite`] when it is singular or indefinite.
    pub fn of_matrix(f: &DMatrix<f64>, theta0: &[f64]) -> Result<Whitening, GeometryError> {
        let n = theta0.len();
        if f.shape() != (n, n) {
            return Err(GeometryError::Length {
                what: "Fisher matrix rows and columns",
                expected: n,
                found: f.nrows().max(f.ncols()),
            });
        }
        let eigen = f.clone().symmetric_eigen();
        let largest = eigen.eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let smallest = eigen
            .eigenvalues
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        // NaN compares false, so a NaN eigenvalue is refused too.
        let definite = smallest > SINGULAR * largest && largest.is_finite();
        if !definite {
            return Err(GeometryError::NotPositiveDefinite {
                at: theta0
                    .iter()
                    .map(|v| crate::expr::number(*v))
                    .collect::<Vec<_>>()
                    .join(", "),
                eigenvalue: crate::expr::number(smallest),
                what: "its square root".to_string(),
            });
        }
        let q = &eigen.eigenvectors;
        let root = eigen.eigenvalues.map(f64::sqrt);
        let sqrt = q * DMatrix::from_diagonal(&root) * q.transpose();
        let inv_sqrt = q * DMatrix::from_diagonal(&root.map(|r| 1.0 / r)) * q.transpose();
        Ok(Whitening {
            theta0: DVector::from_column_slice(theta0),
            sqrt,
            inv_sqrt,
            eigenvalues: eigen.eigenvalues,
        })
    }

    /// The centre `θ₀`.
    pub fn center(&self) -> &DVector<f64> {
        &self.theta0
    }

    /// `F^{1/2}(θ₀)`, the symmetric positive-definite square root.
    pub fn sqrt_fisher(&self) -> &DMatrix<f64> {
        &self.sqrt
    }

    /// `F^{−1/2}(θ₀)`.
    pub fn inverse_sqrt_fisher(&self) -> &DMatrix<f64> {
        &self.inv_sqrt
    }

    /// The eigenvalues of `F(θ₀)` (all positive), in the order of nalgebra's symmetric
    /// eigen-decomposition, not sorted.
    pub fn eigenvalues(&self) -> &DVector<f64> {
        &self.eigenvalues
    }

    /// The local coordinates `η − η₀ = F^{1/2}(θ₀)(θ − θ₀)` of `θ`.
    ///
    /// # Panics
    ///
    /// When `θ` does not have one value per parameter.
    pub fn to_local(&self, theta: &[f64]) -> DVector<f64> {
        assert_eq!(theta.len(), self.theta0.len(), "one value per parameter");
        &self.sqrt * (DVector::from_column_slice(theta) - &self.theta0)
    }

    /// The inverse map, `θ = θ₀ + F^{−1/2}(θ₀)(η − η₀)`.
    ///
    /// # Panics
    ///
    /// When `η − η₀` does not have one value per parameter.
    pub fn from_local(&self, eta: &[f64]) -> DVector<f64> {
        assert_eq!(eta.len(), self.theta0.len(), "one value per parameter");
        &self.theta0 + &self.inv_sqrt * DVector::from_column_slice(eta)
    }
}
