//! The Levi-Civita connection of the Fisher metric: Christoffel symbols of the second kind
//! `Γᵏᵢⱼ = ½ Fᵏˡ (∂ᵢF_jl + ∂ⱼF_il − ∂ₗF_ij)`, from the exact θ-derivatives of the field.

use nalgebra::{DMatrix, DVector};

use super::{GeometryError, describe};
use crate::info::{FieldDerivatives, FisherField};

/// The Christoffel symbols of the second kind at one point, `Γᵏᵢⱼ`, symmetric in `i, j`.
#[derive(Debug, Clone, PartialEq)]
pub struct Christoffel {
    n: usize,
    /// `Γᵏᵢⱼ` at `(k·n + i)·n + j`.
    gamma: Vec<f64>,
}

/// The inverse of a metric by Cholesky, refusing one that is not positive definite.
pub(super) fn inverse_metric(f: &DMatrix<f64>, what: &str) -> Result<DMatrix<f64>, GeometryError> {
    let bad = || {
        let smallest = f
            .clone()
            .symmetric_eigen()
            .eigenvalues
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        GeometryError::NotPositiveDefinite {
            at: String::new(),
            eigenvalue: crate::expr::number(smallest),
            what: what.to_string(),
        }
    };
    let inverse = f.clone().cholesky().ok_or_else(bad)?.inverse();
    if inverse.iter().all(|v| v.is_finite()) {
        Ok(inverse)
    } else {
        Err(bad())
    }
}

/// Checks the shapes of `d`: `f` is `n × n` and `df` holds `n` such matrices.
pub(super) fn check_first(d: &FieldDerivatives) -> Result<usize, GeometryError> {
    let n = d.f.nrows();
    if d.f.ncols() != n {
        return Err(GeometryError::Length {
            what: "Fisher matrix columns",
            expected: n,
            found: d.f.ncols(),
        });
    }
    if d.df.len() != n {
        return Err(GeometryError::Length {
            what: "first derivatives of F",
            expected: n,
            found: d.df.len(),
        });
    }
    Ok(n)
}

/// `A_ijl = ∂ᵢF_jl + ∂ⱼF_il − ∂ₗF_ij` from `df[l] = ∂F/∂θ_l`, at `(i·n + j)·n + l`.
pub(super) fn first_kind_sums(df: &[DMatrix<f64>], n: usize) -> Vec<f64> {
    let mut a = vec![0.0; n * n * n];
    for i in 0..n {
        for j in 0..n {
            for l in 0..n {
                a[(i * n + j) * n + l] = df[i][(j, l)] + df[j][(i, l)] - df[l][(i, j)];
            }
        }
    }
    a
}

/// `∂_c Γᵏᵢⱼ` at `((c·n + k)·n + i)·n + j`, from `F`, `∂F`, `∂²F` (in `d`, shapes checked by
/// the caller) and `inv = F⁻¹`: `∂_c Γᵏᵢⱼ = ½ ∂_c Fᵏˡ A_ijl + ½ Fᵏˡ ∂_c A_ijl`, with
/// `∂_c F⁻¹ = −F⁻¹ (∂_c F) F⁻¹`.
pub(super) fn christoffel_derivatives(
    d: &FieldDerivatives,
    inv: &DMatrix<f64>,
    n: usize,
) -> Vec<f64> {
    let mut scratch = DerivativeScratch::new(n);
    let mut out = vec![0.0; n * n * n * n];
    christoffel_derivatives_into(d, inv, n, &mut scratch, &mut out);
    out
}

/// Working memory of [`christoffel_derivatives_into`].
pub(super) struct DerivativeScratch {
    a: Vec<f64>,
    /// `∂_c F⁻¹` at `(c·n + k)·n + l`.
    d_inv: Vec<f64>,
    /// `F⁻¹ ∂_c F` at `k·n + l`, for one `c` at a time.
    product: Vec<f64>,
    /// `∂_c F_ij` at `(c·n + i)·n + j` and `∂_c∂_i F_jl` at `((c·n + i)·n + j)·n + l`.
    d1: Vec<f64>,
    d2: Vec<f64>,
}

impl DerivativeScratch {
    pub(super) fn new(n: usize) -> DerivativeScratch {
        DerivativeScratch {
            a: vec![0.0; n * n * n],
            d_inv: vec![0.0; n * n * n],
            product: vec![0.0; n * n],
            d1: vec![0.0; n * n * n],
            d2: vec![0.0; n * n * n * n],
        }
    }
}

/// [`christoffel_derivatives`] into `out` (`n⁴` values), without allocation (inlined, so that
/// a caller with a constant `n` gets its loops unrolled).
#[inline(always)]
pub(super) fn christoffel_derivatives_into(
    d: &FieldDerivatives,
    inv: &DMatrix<f64>,
    n: usize,
    scratch: &mut DerivativeScratch,
    out: &mut [f64],
) {
    // flat copies (each matrix is symmetric: column-major storage is row-major too)
    let nn = n * n;
    for (c, m) in d.df.iter().enumerate() {
        scratch.d1[c * nn..(c + 1) * nn].copy_from_slice(m.as_slice());
    }
    for (c, row) in d.d2f.iter().enumerate() {
        for (i, m) in row.iter().enumerate() {
            let at = (c * n + i) * nn;
            scratch.d2[at..at + nn].copy_from_slice(m.as_slice());
        }
    }
    let (d1, d2) = (&scratch.d1, &scratch.d2);
    let a = &mut scratch.a;
    for i in 0..n {
        for j in 0..n {
            for l in 0..n {
                a[(i * n + j) * n + l] =
                    d1[i * nn + j * n + l] + d1[j * nn + i * n + l] - d1[l * nn + i * n + j];
            }
        }
    }
    for c in 0..n {
        for k in 0..n {
            for l in 0..n {
                scratch.product[k * n + l] =
                    (0..n).map(|m| inv[(k, m)] * d1[c * nn + m * n + l]).sum();
            }
        }
        for k in 0..n {
            for l in 0..n {
                scratch.d_inv[(c * n + k) * n + l] = -(0..n)
                    .map(|m| scratch.product[k * n + m] * inv[(m, l)])
                    .sum::<f64>();
            }
        }
    }
    for c in 0..n {
        let d2c = &d2[c * n * nn..(c + 1) * n * nn];
        for k in 0..n {
            for i in 0..n {
                for j in i..n {
                    let mut s = 0.0;
                    for l in 0..n {
                        let da = d2c[i * nn + j * n + l] + d2c[j * nn + i * n + l]
                            - d2c[l * nn + i * n + j];
                        s += scratch.d_inv[(c * n + k) * n + l] * a[(i * n + j) * n + l]
                            + inv[(k, l)] * da;
                    }
                    let v = 0.5 * s;
                    out[((c * n + k) * n + i) * n + j] = v;
                    out[((c * n + k) * n + j) * n + i] = v;
                }
            }
        }
    }
}

impl Christoffel {
    /// The symbols of `field` at `θ` (in parameter order).
    ///
    /// ```
    /// use fisher_geometry::{FisherField, Model};
    /// use fisher_geometry::Christoffel;
    ///
    /// let field = FisherField::new(&Model::builtin("normal")?)?;
    /// let g = Christoffel::at(&field, &[0.0, 2.0])?;
    /// // F = diag(1, 2)/σ²: Γ^μ_μσ = −1/σ, Γ^σ_μμ = 1/(2σ), Γ^σ_σσ = −1/σ
    /// assert!((g.symbol(0, 0, 1) + 0.5).abs() < 1e-15);
    /// assert!((g.symbol(1, 0, 0) - 0.25).abs() < 1e-15);
    /// assert!((g.symbol(1, 1, 1) + 0.5).abs() < 1e-15);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GeometryError::Info`] when `F` or `∂F` cannot be evaluated at `θ` (on the numeric
    /// route a model with a kink in θ has no `∂F`); [`GeometryError::NotPositiveDefinite`]
    /// when `F(θ)` is not.
    pub fn at(field: &FisherField, theta: &[f64]) -> Result<Christoffel, GeometryError> {
        let d = field.with_gradient(theta)?;
        Christoffel::from_derivatives(&d).map_err(|e| located(e, field, theta))
    }

    /// The symbols from `F` and `∂F` at a point.
    ///
    /// # Errors
    ///
    /// [`GeometryError::Length`] for inconsistent shapes, [`GeometryError::NotPositiveDefinite`]
    /// when `F` is not.
    pub fn from_derivatives(d: &FieldDerivatives) -> Result<Christoffel, GeometryError> {
        let n = check_first(d)?;
        let inv = inverse_metric(&d.f, "the Christoffel symbols")?;
        let a = first_kind_sums(&d.df, n);
        let mut gamma = vec![0.0; n * n * n];
        for k in 0..n {
            for i in 0..n {
                for j in i..n {
                    let v = 0.5
                        * (0..n)
                            .map(|l| inv[(k, l)] * a[(i * n + j) * n + l])
                            .sum::<f64>();
                    gamma[(k * n + i) * n + j] = v;
                    gamma[(k * n + j) * n + i] = v;
                }
            }
        }
        Ok(Christoffel { n, gamma })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// `Γᵏᵢⱼ`.
    ///
    /// # Panics
    ///
    /// When an index is not below [`Christoffel::dim`].
    pub fn symbol(&self, k: usize, i: usize, j: usize) -> f64 {
        assert!(k < self.n && i < self.n && j < self.n, "index out of range");
        self.gamma[(k * self.n + i) * self.n + j]
    }

    /// `Γᵏ` as the matrix `(i, j) ↦ Γᵏᵢⱼ`.
    ///
    /// # Panics
    ///
    /// When `k` is not below [`Christoffel::dim`].
    pub fn matrix(&self, k: usize) -> DMatrix<f64> {
        assert!(k < self.n, "index out of range");
        let n = self.n;
        DMatrix::from_fn(n, n, |i, j| self.gamma[(k * n + i) * n + j])
    }

    /// The acceleration of a geodesic with velocity `v`: `θ̈ᵏ = −Γᵏᵢⱼ vⁱ vʲ`.
    ///
    /// # Panics
    ///
    /// When `v` does not have [`Christoffel::dim`] components.
    pub fn acceleration(&self, v: &[f64]) -> DVector<f64> {
        let n = self.n;
        assert_eq!(v.len(), n, "one component per parameter");
        DVector::from_fn(n, |k, _| {
            let mut s = 0.0;
            for i in 0..n {
                for j in 0..n {
                    s += self.gamma[(k * n + i) * n + j] * v[i] * v[j];
                }
            }
            -s
        })
    }
}

/// `e` with the point filled in.
pub(super) fn located(e: GeometryError, field: &FisherField, theta: &[f64]) -> GeometryError {
    match e {
        GeometryError::NotPositiveDefinite {
            eigenvalue, what, ..
        } => GeometryError::NotPositiveDefinite {
            at: describe(field, theta),
            eigenvalue,
            what,
        },
        e => e,
    }
}
