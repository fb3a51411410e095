//! The identity checker behind `fisher check`: at random points inside the domains, the three
//! forms of `F` agree (and with the closed form); the Hessians of the divergence in either
//! argument at `θ' = θ`, computed from the divergence itself, equal `F`; and
//! `D(θ+δ‖θ) − ½δᵀFδ`, `D(θ‖θ+δ) − ½δᵀFδ` and `D(θ+δ‖θ) − D(θ‖θ+δ)` are `O(|δ|³)`.
//!
//! Everything symbolic is done once per model: one [`FisherField`], one [`KlField`] (its
//! closed form derived and verified once), one prepared problem for the KL Hessians.
//!
//! ```
//! use fisher_geometry::{Model, check};
//! let report = check(&Model::builtin("gamma")?, 2, 7)?;
//! assert!(report.passed);
//! assert_eq!(report.points.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use egg::Symbol;
use nalgebra::DMatrix;

use crate::model::{Domain, Model};
use crate::simplify::derive;

use super::numeric::KlHessianProblem;
use super::types::{FisherAt, InfoError, KlHessians, discrepancy};
use super::verify::{self, Point, Verification};
use super::{FieldOptions, FisherField, KlField, closed_form};

/// Tolerance of the identity checks, relative to `√(F_ii F_jj)`.
pub const CHECK_TOL: f64 = 1e-6;

/// One second-order test of the divergence: its residuals at `|δ| = h, h/2, h/4`.
#[derive(Debug, Clone, PartialEq)]
pub struct SecondOrder {
    /// What is tested: `D(theta + d || theta) - d^T F d / 2`.
    pub label: String,
    /// The residuals at `h`, `h/2`, `h/4` (NaN where the divergence failed).
    pub errors: Vec<f64>,
    /// Whether they are `O(|δ|³)`.
    pub cubic: bool,
}

/// The checks at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointCheck {
    /// `F` with its three forms and the closed form's verification here.
    pub fisher: FisherAt,
    /// The Hessians of the divergence at `θ' = θ`.
    pub hessians: KlHessians,
    /// `∇²_{θ'} D(θ‖θ')` against `F`, scaled.
    pub forward_discrepancy: f64,
    /// `∇²_{θ'} D(θ'‖θ)` against `F`, scaled.
    pub reverse_discrepancy: f64,
    /// The second-order tests.
    pub second_order: Vec<SecondOrder>,
    /// Whether every check at the point passed.
    pub passed: bool,
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Each point with its checks, or the error that stopped them there.
    pub points: Vec<(Point, Result<PointCheck, InfoError>)>,
    /// How the closed-form divergence was verified (`None` without one).
    pub kl_verification: Option<Verification>,
    /// Whether every check passed (a closed-form divergence that failed verification fails
    /// the check).
    pub passed: bool,
}

/// Checks the identities at `count` points drawn with `seed` ([`verify::random_points`]);
/// a point where a computation fails is reported and the others are still checked.
///
/// # Errors
///
/// An [`InfoError`] when the fields cannot be built (a closed form that fails at every
/// verification point is not an error: it is reported in the checks).
pub fn check(model: &Model, count: usize, seed: u64) -> Result<CheckReport, InfoError> {
    let options = FieldOptions {
        strict: false,
        ..FieldOptions::default()
    };
    let fisher = FisherField::from_parts(model, derive(model), Some(closed_form(model)), options)?;
    // The closed-form divergence, derived once and verified against quadrature; one that
    // fails is not used (the numeric divergence is), and fails the check.
    let kl = KlField::new(model)?;
    let kl_verification = kl.verification().cloned();
    let mut passed = kl_verification.as_ref().is_none_or(Verification::usable);
    let mut hessians = KlHessianProblem::new(model)?;
    let mut points = Vec::new();
    for at in verify::random_points(model, count, seed) {
        let r = check_point(model, &fisher, &kl, &mut hessians, &at);
        passed &= r.as_ref().is_ok_and(|c| c.passed);
        points.push((at, r));
    }
    Ok(CheckReport {
        points,
        kl_verification,
        passed,
    })
}

fn check_point(
    model: &Model,
    fisher: &FisherField,
    kl: &KlField,
    hessians: &mut KlHessianProblem,
    at: &Point,
) -> Result<PointCheck, InfoError> {
    let f = fisher.fisher_at(at)?;
    let h = hessians.at(at, kl.closed_form())?;
    let fwd = discrepancy(&h.forward, &f.matrix);
    let rev = discrepancy(&h.reverse, &f.matrix);
    let orders = second_order(model, kl, at, &f.matrix);
    let cubic = orders.iter().all(|o| o.cubic);
    // With a kink in θ that the KL pieces cannot follow, differentiating under the integral
    // misses the delta at the kink: those Hessians are not evidence either way, and the
    // second-order decay of the divergence itself still tests F.
    let hessians_ok = !h.valid || (fwd <= CHECK_TOL && rev <= CHECK_TOL);
    let verified = f.verification.as_ref().is_none_or(Verification::usable);
    let passed = f.max_rel_discrepancy <= CHECK_TOL && hessians_ok && cubic && verified;
    Ok(PointCheck {
        fisher: f,
        hessians: h,
        forward_discrepancy: fwd,
        reverse_discrepancy: rev,
        second_order: orders,
        passed,
    })
}

/// `D(θ+δ‖θ) − ½δᵀFδ` and `D(θ‖θ+δ) − ½δᵀFδ` for `δ = h·u, h/2·u, h/4·u`, and whether each
/// is `O(|δ|³)`: writing the residual as `c₂h² + c₃h³ + c₄h⁴ + …`, the three values determine
/// `c₂` (extrapolating `residual/h²` to `h = 0`), which must vanish: a Fisher matrix that is
/// off by `ε` leaves `c₂ = ½uᵀεu`. Unlike a ratio test, this is not fooled when the cubic and
/// quartic terms happen to cancel at the chosen steps.
fn second_order(model: &Model, kl: &KlField, at: &Point, f: &DMatrix<f64>) -> Vec<SecondOrder> {
    let n = at.len();
    // A direction scaled to each parameter's domain.
    let dir: Vec<f64> = model
        .params
        .iter()
        .zip(at.iter())
        .enumerate()
        .map(|(j, (p, (_, v)))| {
            let sign = if j % 2 == 0 { 1.0 } else { -0.7 };
            sign * match p.domain {
                Domain::Real => 1.0,
                Domain::Positive => v.abs(),
                Domain::Unit | Domain::Interval(..) => {
                    let (lo, hi) = p.domain.bounds();
                    (v - lo).min(hi - v)
                }
            }
        })
        .collect();
    let h0 = 0.02;
    let divergence = |p: &[(Symbol, f64)], q: &[(Symbol, f64)]| -> Option<f64> {
        let (p, q) = (
            super::types::theta_of(model, p).ok()?,
            super::types::theta_of(model, q).ok()?,
        );
        kl.kl(&p, &q).ok().map(|d| d.value)
    };
    let scale: f64 = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| dir[i] * f[(i, j)] * dir[j])
        .sum::<f64>()
        / 2.0;
    // residual/h² at h, h/2, h/4 extrapolated to 0 by the quadratic through them: the
    // residual is O(|d|³) when this vanishes
    let cubic = |errs: &[f64]| {
        let y: Vec<f64> = errs
            .iter()
            .enumerate()
            .map(|(k, e)| e / (h0 / f64::from(1u32 << k)).powi(2))
            .collect();
        let c2 = (8.0 * y[2] - 6.0 * y[1] + y[0]) / 3.0;
        c2.is_finite() && c2.abs() <= 1e-4 * scale.abs().max(1e-300)
    };
    let mut out = Vec::new();
    for reverse in [false, true] {
        let mut errs = Vec::new();
        for step in 0..3 {
            let h = h0 / f64::from(1u32 << step);
            let moved: Vec<(Symbol, f64)> = at
                .iter()
                .zip(&dir)
                .map(|((s, v), d)| (*s, v + h * d))
                .collect();
            let quad: f64 = (0..n)
                .flat_map(|i| (0..n).map(move |j| (i, j)))
                .map(|(i, j)| h * dir[i] * f[(i, j)] * h * dir[j])
                .sum::<f64>()
                / 2.0;
            let d = if reverse {
                divergence(at, &moved)
            } else {
                divergence(&moved, at)
            };
            errs.push(d.map_or(f64::NAN, |d| d - quad));
        }
        let ok = cubic(&errs);
        let label = if reverse {
            "D(theta || theta + d) - d^T F d / 2"
        } else {
            "D(theta + d || theta) - d^T F d / 2"
        };
        out.push(SecondOrder {
            label: label.to_string(),
            errors: errs,
            cubic: ok,
        });
    }
    // The asymmetry of the divergence is third order too.
    let asymmetry: Vec<f64> = out[0]
        .errors
        .iter()
        .zip(&out[1].errors)
        .map(|(a, b)| a - b)
        .collect();
    let ok = cubic(&asymmetry);
    out.push(SecondOrder {
        label: "D(theta + d || theta) - D(theta || theta + d)".to_string(),
        errors: asymmetry,
        cubic: ok,
    });
    out
}
