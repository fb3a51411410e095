//! The curvature of a closed-form Fisher metric as formulas: `Γᵏᵢⱼ`, the scalar curvature `R`
//! and, for two parameters, `K = R/2`, derived symbolically from the closed form of `F` and
//! simplified, then checked against the numeric curvature of the field (from the compiled
//! derivatives of `F`) at fixed points inside the domains before anything is returned.

use egg::Symbol;

use super::GeometryError;
use super::curvature::Curvature;
use crate::diff::derivative;
use crate::eval::{Env, eval_f64};
use crate::expr::{Expr, number};
use crate::info::{FisherField, Method};
use crate::simplify::{Facts, simplest};

/// Largest dimension whose curvature is derived symbolically: the inverse metric is a
/// cofactor expansion and the Riemann tensor has `n⁴` entries, so beyond three parameters the
/// formulas are too large to print usefully (the numeric curvature at a point has no limit).
pub const MAX_SYMBOLIC_DIM: usize = 3;

/// Relative agreement required between the formulas and the numeric curvature.
const CHECK_TOL: f64 = 1e-8;

/// The curvature of a closed-form metric as formulas in the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolicCurvature {
    /// `christoffel[k][i][j] = Γᵏᵢⱼ`.
    pub christoffel: Vec<Vec<Vec<Expr>>>,
    /// The scalar curvature `R`.
    pub scalar: Expr,
    /// `K = R/2` for two parameters.
    pub gaussian: Option<Expr>,
    /// The points (in parameter order) where the formulas were checked against the numeric
    /// curvature.
    pub checked_at: Vec<Vec<f64>>,
}

/// The parameter points of the check: fixed fractions of each domain (real parameters in
/// `(−1.5, 1.5)`, positive ones in `(0.5, 3)`, bounded ones in the middle of their interval).
fn check_points(field: &FisherField) -> Vec<Vec<f64>> {
    const FRACTIONS: [[f64; 3]; 3] = [[0.31, 0.62, 0.47], [0.77, 0.18, 0.55], [0.52, 0.91, 0.26]];
    FRACTIONS
        .iter()
        .map(|u| {
            field
                .model()
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let u = u[i % 3];
                    let (lo, hi) = p.domain.bounds();
                    match (lo.is_finite(), hi.is_finite()) {
                        (true, true) => lo + (hi - lo) * (0.2 + 0.6 * u),
                        (true, false) => lo + 0.5 + 2.5 * u,
                        (false, true) => hi - 0.5 - 2.5 * u,
                        (false, false) => 3.0 * u - 1.5,
                    }
                })
                .collect()
        })
        .collect()
}

impl SymbolicCurvature {
    /// The curvature of `field`'s closed form, simplified under the model's declarations and
    /// checked against [`Curvature::at`] at three points.
    ///
    /// ```
    /// use fisher_geometry::{FisherField, Model};
    /// use fisher_geometry::SymbolicCurvature;
    ///
    /// let field = FisherField::new(&Model::builtin("normal")?)?;
    /// let c = SymbolicCurvature::of(&field)?;
    /// assert_eq!(c.scalar.to_string(), "-1"); // R = −1
    /// assert_eq!(c.christoffel[0][0][1].to_string(), "-1/sigma"); // Γ^μ_μσ = −1/σ
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GeometryError::NoClosedForm`] when the field's `F` is numeric (or its closed form
    /// failed verification), [`GeometryError::TooLarge`] beyond [`MAX_SYMBOLIC_DIM`]
    /// parameters, [`GeometryError::Mismatch`] when a formula disagrees with the numeric
    /// curvature (a bug, reported rather than printed), and the errors of [`Curvature::at`].
    pub fn of(field: &FisherField) -> Result<SymbolicCurvature, GeometryError> {
        let Some(f) = field
            .closed_form()
            .filter(|_| field.method() == Method::ClosedForm)
        else {
            return Err(GeometryError::NoClosedForm);
        };
        let n = field.dim();
        if n > MAX_SYMBOLIC_DIM {
            return Err(GeometryError::TooLarge {
                n,
                max: MAX_SYMBOLIC_DIM,
            });
        }
        let model = field.model();
        let facts = Facts::of(model);
        let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
        let s = |e: Expr| simplest(&e, &facts);
        let g = &f.matrix;
        // F⁻¹ by cofactors: (F⁻¹)_kl = (−1)^{k+l} det(F without row l, column k) / det F
        let det = s(crate::info::determinant(g));
        let minor = |r: usize, c: usize| -> Vec<Vec<Expr>> {
            (0..n)
                .filter(|i| *i != r)
                .map(|i| {
                    (0..n)
                        .filter(|j| *j != c)
                        .map(|j| g[i][j].clone())
                        .collect()
                })
                .collect()
        };
        let inv: Vec<Vec<Expr>> = (0..n)
            .map(|k| {
                (0..n)
                    .map(|l| {
                        let c = crate::info::determinant(&minor(l, k));
                        let c = if (k + l) % 2 == 0 { c } else { -c };
                        s(&c / &det)
                    })
                    .collect()
            })
            .collect();
        // dg[l][i][j] = ∂_l F_ij
        let dg: Vec<Vec<Vec<Expr>>> = params
            .iter()
            .map(|p| {
                (0..n)
                    .map(|i| (0..n).map(|j| s(derivative(&g[i][j], *p))).collect())
                    .collect()
            })
            .collect();
        let mut christoffel = vec![vec![vec![Expr::num(0.0); n]; n]; n];
        for k in 0..n {
            for i in 0..n {
                for j in i..n {
                    let mut sum = Expr::num(0.0);
                    for l in 0..n {
                        let a = &(&dg[i][j][l] + &dg[j][i][l]) - &dg[l][i][j];
                        sum = &sum + &(&inv[k][l] * &a);
                    }
                    let v = s(&sum * 0.5);
                    christoffel[k][i][j] = v.clone();
                    christoffel[k][j][i] = v;
                }
            }
        }
        let gamma = &christoffel;
        // ∂_c Γᵏᵢⱼ, then R_bd = Σ_a (∂_a Γᵃ_db − ∂_d Γᵃ_ab + Σ_e (Γᵃ_ae Γᵉ_db − Γᵃ_de Γᵉ_ab))
        let dgamma =
            |c: usize, k: usize, i: usize, j: usize| derivative(&gamma[k][i][j], params[c]);
        let mut scalar = Expr::num(0.0);
        for b in 0..n {
            for d in 0..n {
                let mut ricci = Expr::num(0.0);
                for a in 0..n {
                    ricci = &(&ricci + &dgamma(a, a, d, b)) - &dgamma(d, a, a, b);
                    for (e, ge) in gamma.iter().enumerate() {
                        let t = &(&gamma[a][a][e] * &ge[d][b]) - &(&gamma[a][d][e] * &ge[a][b]);
                        ricci = &ricci + &t;
                    }
                }
                scalar = &scalar + &(&inv[b][d] * &s(ricci));
            }
        }
        let scalar = s(scalar);
        let gaussian = (n == 2).then(|| s(&scalar * 0.5));
        let out = SymbolicCurvature {
            christoffel,
            scalar,
            gaussian,
            checked_at: check_points(field),
        };
        out.check(field)?;
        Ok(out)
    }

    /// Compares the formulas with [`Curvature::at`] at [`Self::checked_at`].
    fn check(&self, field: &FisherField) -> Result<(), GeometryError> {
        let model = field.model();
        let n = field.dim();
        for theta in &self.checked_at {
            let numeric = Curvature::at(field, theta)?;
            let mut env: Env<f64> = model.const_env().into_iter().collect();
            for (p, v) in model.params.iter().zip(theta) {
                env.insert(p.name, *v);
            }
            let at = || crate::expr::assignments(model.params.iter().map(|p| p.name), theta);
            let value = |e: &Expr, what: &str| {
                eval_f64(e, &env).map_err(|source| GeometryError::Mismatch {
                    what: what.to_string(),
                    at: at(),
                    detail: source.to_string(),
                })
            };
            let scale = (0..n)
                .flat_map(|k| (0..n).flat_map(move |i| (0..n).map(move |j| (k, i, j))))
                .map(|(k, i, j)| numeric.christoffel().symbol(k, i, j).abs())
                .fold(0.0f64, f64::max);
            for k in 0..n {
                for i in 0..n {
                    for j in i..n {
                        let name = |i: usize| model.params[i].name;
                        let what = format!("Γ^{}_({}, {})", name(k), name(i), name(j));
                        let sym = value(&self.christoffel[k][i][j], &what)?;
                        let num = numeric.christoffel().symbol(k, i, j);
                        // NaN compares false: a formula that is NaN here fails too.
                        let agrees = (sym - num).abs() <= CHECK_TOL * scale;
                        if !agrees {
                            return Err(GeometryError::Mismatch {
                                what,
                                at: at(),
                                detail: format!(
                                    "{} by the formula, {} numerically",
                                    number(sym),
                                    number(num)
                                ),
                            });
                        }
                    }
                }
            }
            let sym = value(&self.scalar, "the scalar curvature")?;
            let num = numeric.scalar();
            // R is a sum of products of Γ and their derivatives: its rounding is relative to
            // the size of those, not of R (which may be 0).
            let r_scale = num.abs().max(scale * scale).max(f64::MIN_POSITIVE);
            let agrees = (sym - num).abs() <= CHECK_TOL * r_scale;
            if !agrees {
                return Err(GeometryError::Mismatch {
                    what: "the scalar curvature".to_string(),
                    at: at(),
                    detail: format!(
                        "{} by the formula, {} numerically",
                        number(sym),
                        number(num)
                    ),
                });
            }
        }
        Ok(())
    }
}
