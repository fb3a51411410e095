//! Every closed form is checked against the numeric route before it is called one.
//!
//! The score-identity route is symbolic, and symbolic zero-testing, coefficient arithmetic
//! and simplification are where computer algebra goes wrong (DESIGN §4, "Trust"). So a
//! closed-form Fisher matrix, Jeffreys prior or KL divergence is evaluated at a few
//! deterministic points inside the declared domains and compared with quadrature there, in
//! the same command that prints it. A disagreement is never printed as the answer: the
//! command falls back to the numeric route and says that the closed form failed.
//!
//! ```
//! use fisher_geometry::{Model, closed_form, simplify, verify};
//! let model = Model::builtin("gamma")?;
//! let d = simplify::derive(&model);
//! let f = closed_form(&model)?;
//! let v = verify::verify_fisher(&model, &d, &f, &[])?;
//! assert!(v.passed()); // agrees with quadrature at every verification point
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use egg::Symbol;
use nalgebra::DMatrix;

use crate::eval::{AccuracyError, eval_accurate, eval_checked};
use crate::expect::{ExpectError, Quadrature};
use crate::expr::Expr;
use crate::model::{Domain, Model};
use crate::simplify::Derivatives;

use super::prepared::{FisherProblem, KlProblem, Order};
use super::types::{InfoError, describe_point, env_at, theta_of};
pub use super::types::{MIN_CHECKED, Mismatch, NumericKl, Verification, discrepancy};
use super::{ClosedForm, ClosedKl};
pub(crate) use crate::model::Point;

/// Largest discrepancy between a closed form and quadrature that still verifies it: each
/// Fisher entry relative to `√(F_ii F_jj)`, a divergence relative to its value (plus the
/// quadrature's own error estimate). Quadrature is good to about `1e-10` on smooth models, so
/// a real disagreement (a wrong coefficient) is many orders above this.
pub const VERIFY_TOL: f64 = 1e-7;

/// The budget of one verification expectation: a tenth of the default
/// ([`crate::expect::MAX_POINTS`]), so that verification stays a fraction of a second even
/// where the data has dozens of dimensions (a diagonal normal with 32 data variables took 36 s
/// and 885 MB to verify with the default budget); past it the closed form is reported as not
/// verified, with the reason.
pub const VERIFY_MAX_POINTS: usize = 200_000;

/// The largest verification a model gets, in integrands times data variables: `E[s sᵀ]` has
/// `n(n+1)/2` entries, and each costs a pass over every quadrature node of a `D`-dimensional
/// rule (a diagonal normal with 64 parameters over 32 data variables, 69,000, took 48 s and
/// 885 MB to verify; with 32 over 16, 8,700, 0.9 s).
pub const VERIFY_MAX_WORK: usize = 10_000;

/// Why a model is too large to verify within [`VERIFY_MAX_WORK`], if it is.
pub fn too_large_to_verify(model: &Model) -> Option<String> {
    let n = model.params.len();
    let (integrands, dims) = (n * (n + 1) / 2 + n, model.data.len());
    (integrands * dims > VERIFY_MAX_WORK).then(|| {
        format!(
            "E[s s^T] has {integrands} integrands over {dims} data variables, more than the verification budget ({VERIFY_MAX_WORK} integrand-dimensions)"
        )
    })
}

/// [`Verification::Unchecked`] for a model too large to verify.
fn unchecked_too_large(reason: String) -> Verification {
    Verification::Unchecked {
        reason,
        checked: 0,
        budget: true,
    }
}

/// The accuracy of the quadrature that verifies: a hundred times finer than [`VERIFY_TOL`],
/// within [`VERIFY_MAX_POINTS`] evaluations.
pub fn verify_quadrature() -> Quadrature {
    Quadrature {
        rel_tol: VERIFY_TOL * 1e-2,
        max_points: VERIFY_MAX_POINTS,
        ..Quadrature::default()
    }
}

/// How many verification points are drawn inside the domains.
pub const VERIFY_POINTS: usize = 3;

/// The seed of the verification points: fixed, so every run checks the same points.
pub const VERIFY_SEED: u64 = 0x0F15_4E12;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `count` points inside the domains, deterministic in `seed`: real parameters in (−2, 2),
/// positive ones in (e^−1, e), bounded ones in the middle 80 % of their interval (computed as
/// `lo·(1 − t) + hi·t`, so even `interval(-1e308, 1e308)` gives finite points).
pub fn random_points(model: &Model, count: usize, seed: u64) -> Vec<Point> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let values = model
                .params
                .iter()
                .map(|p| {
                    let u = rng.next();
                    let v = match p.domain {
                        Domain::Real => 4.0 * u - 2.0,
                        Domain::Positive => (2.0 * u - 1.0).exp(),
                        Domain::Unit | Domain::Interval(..) => {
                            let (lo, hi) = p.domain.bounds();
                            let t = 0.1 + 0.8 * u;
                            lo * (1.0 - t) + hi * t
                        }
                    };
                    (p.name, v)
                })
                .collect();
            Point::from_checked(values)
        })
        .collect()
}

/// The points every verification uses.
pub fn verification_points(model: &Model) -> Vec<Point> {
    random_points(model, VERIFY_POINTS, VERIFY_SEED)
}

/// Whether a numeric failure is the model's fault (not normalized, a score with non-zero
/// mean, a value that is not finite inside the support, a bad point): then the command
/// fails. Otherwise (quadrature could not converge, a mass beyond `f64`) the check is only
/// skipped at that point.
pub fn is_model_error(e: &InfoError) -> bool {
    match e {
        // An integrand (a product of scores) that is not finite where the log-density is
        // finite has overflowed at an extreme point (`(x − μ)²` at σ = 1e155): a limit of
        // `f64`, not a fault of the model. A log-density that is not finite is one.
        InfoError::Expect(ExpectError::NotFinite { what, .. }) => what == "log-density",
        InfoError::Expect(ExpectError::Integrand { .. }) => false,
        InfoError::Expect(e) => !matches!(
            e,
            ExpectError::NotConverged { .. }
                | ExpectError::Unsupported { .. }
                | ExpectError::OverBudget { .. }
                | ExpectError::Unresolved { .. }
        ),
        InfoError::ScoreMean { .. } | InfoError::Eval(_) | InfoError::Unchecked { .. } => true,
        InfoError::NonSmooth { .. } | InfoError::NonFinite { .. } => false,
        // the pieces between the kinks could not be integrated: a limit of the route
        InfoError::Kinks { .. } => false,
        InfoError::NegativeDivergence { .. } => true,
        // a closed form that cannot be evaluated here says nothing about the model
        InfoError::Accuracy { .. } => false,
        // a limit of quadrature in f64 at an extreme point
        InfoError::OutOfRange { .. } => false,
    }
}

/// Whether a closed form could not be evaluated because its value lies outside `f64` (or
/// beyond the multiple-precision range): a limit of the point, not evidence against it.
fn out_of_range(e: &InfoError) -> bool {
    matches!(
        e,
        InfoError::Accuracy {
            source: AccuracyError::Underflow { .. }
                | AccuracyError::Overflow { .. }
                | AccuracyError::Range { .. },
            ..
        }
    )
}

/// Adds a checked point to a running verdict.
struct Tally {
    checked: usize,
    worst: f64,
    skipped: Option<String>,
    /// Points skipped, and how many of them by the budget.
    skips: usize,
    budget_skips: usize,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            checked: 0,
            worst: 0.0,
            skipped: None,
            skips: 0,
            budget_skips: 0,
        }
    }

    /// Records a numeric failure; with `strict`, the model's fault ends the verification
    /// with an error.
    fn skip(&mut self, e: InfoError, strict: bool) -> Result<(), InfoError> {
        if strict && is_model_error(&e) {
            return Err(e);
        }
        self.skips += 1;
        if matches!(e, InfoError::Expect(ExpectError::OverBudget { .. })) {
            self.budget_skips += 1;
        }
        self.skipped.get_or_insert_with(|| e.to_string());
        Ok(())
    }

    fn finish(self) -> Verification {
        if self.checked >= MIN_CHECKED {
            Verification::Verified {
                points: self.checked,
                max_discrepancy: self.worst,
            }
        } else {
            Verification::Unchecked {
                checked: self.checked,
                budget: self.skips > 0 && self.skips == self.budget_skips,
                reason: self.skipped.unwrap_or_else(|| {
                    format!("{} of {MIN_CHECKED} points could be checked", self.checked)
                }),
            }
        }
    }
}

/// A closed-form matrix of expressions evaluated at a point, each entry to relative `1e-12`
/// ([`eval_accurate`]: f64 with an error bound, more precision where f64 cancels).
///
/// # Errors
///
/// [`InfoError::Accuracy`] when an entry is undefined (naming the subexpression) or lies
/// outside the range of `f64` (underflow, overflow).
pub fn closed_matrix(
    model: &Model,
    m: &[Vec<Expr>],
    at: &Point,
) -> Result<DMatrix<f64>, InfoError> {
    let env = env_at(model, at);
    let n = m.len();
    let mut out = DMatrix::zeros(n, n);
    for j in 0..n {
        for k in 0..n {
            out[(j, k)] = eval_accurate(&m[j][k], &env).map_err(|source| InfoError::Accuracy {
                what: format!("F[{}, {}]", model.params[j].name, model.params[k].name),
                at: describe_point(at),
                source,
            })?;
        }
    }
    Ok(out)
}

/// Compares a closed-form Fisher matrix with `E[s sᵀ]` by quadrature at the verification
/// points, after the points in `known` whose numeric matrix is already computed.
///
/// # Errors
///
/// An [`InfoError`] when the numeric route shows the model itself is at fault at a
/// verification point (see [`is_model_error`]).
pub fn verify_fisher(
    model: &Model,
    d: &Derivatives,
    f: &ClosedForm,
    known: &[(Point, DMatrix<f64>)],
) -> Result<Verification, InfoError> {
    verify_fisher_opts(model, d, f, known, true)
}

/// [`verify_fisher`]; without `strict`, a verification point where the model is at fault is
/// only skipped (a command asked about another point reports about that point).
///
/// # Errors
///
/// As [`verify_fisher`], with `strict`.
pub fn verify_fisher_opts(
    model: &Model,
    d: &Derivatives,
    f: &ClosedForm,
    known: &[(Point, DMatrix<f64>)],
    strict: bool,
) -> Result<Verification, InfoError> {
    if let Some(reason) = too_large_to_verify(model) {
        return Ok(unchecked_too_large(reason));
    }
    let problem = FisherProblem::new(model, d, Order::Value);
    let q = verify_quadrature();
    let mut numeric = |at: &Point| -> Result<DMatrix<f64>, InfoError> {
        let problem = problem.as_ref().map_err(Clone::clone)?;
        Ok(problem.run(&theta_of(model, at)?, &q)?.outer)
    };
    verify_fisher_by(model, f, known, strict, &mut numeric)
}

/// [`verify_fisher_opts`] with `E[s sᵀ]` at a point (to the accuracy of
/// [`verify_quadrature`]) computed by `numeric`: the prepared problem of a field.
///
/// # Errors
///
/// As [`verify_fisher_opts`].
pub fn verify_fisher_by(
    model: &Model,
    f: &ClosedForm,
    known: &[(Point, DMatrix<f64>)],
    strict: bool,
    numeric_at: &mut dyn FnMut(&Point) -> Result<DMatrix<f64>, InfoError>,
) -> Result<Verification, InfoError> {
    if let Some(reason) = too_large_to_verify(model) {
        return Ok(unchecked_too_large(reason));
    }
    let mut tally = Tally::new();
    let fresh = verification_points(model);
    let todo = known
        .iter()
        .map(|(at, m)| (at.clone(), Some(m.clone())))
        .chain(fresh.into_iter().map(|at| (at, None)));
    for (at, numeric) in todo {
        let numeric = match numeric {
            Some(m) => m,
            None => match numeric_at(&at) {
                Ok(m) => m,
                Err(e) => {
                    tally.skip(e, strict)?;
                    continue;
                }
            },
        };
        let closed = match closed_matrix(model, &f.matrix, &at) {
            Ok(c) => c,
            Err(e) if out_of_range(&e) => {
                tally.skip(e, false)?;
                continue;
            }
            Err(e) => {
                return Ok(Verification::Failed(Mismatch {
                    what: format!("F (`{e}`)"),
                    at: describe_point(&at),
                    closed: f64::NAN,
                    numeric: numeric[(0, 0)],
                    discrepancy: f64::INFINITY,
                }));
            }
        };
        if let Some(m) = mismatch(&closed, &numeric, model, &at) {
            return Ok(Verification::Failed(m));
        }
        tally.worst = tally.worst.max(discrepancy(&closed, &numeric));
        tally.checked += 1;
    }
    Ok(tally.finish())
}

/// The worst entry of `closed` against `numeric` if it exceeds [`VERIFY_TOL`].
fn mismatch(
    closed: &DMatrix<f64>,
    numeric: &DMatrix<f64>,
    model: &Model,
    at: &[(Symbol, f64)],
) -> Option<Mismatch> {
    let n = numeric.nrows();
    let mut worst = (0.0, 0, 0);
    for j in 0..n {
        for k in 0..n {
            let scale = (numeric[(j, j)] * numeric[(k, k)]).abs().sqrt().max(1e-300);
            let e = (closed[(j, k)] - numeric[(j, k)]).abs() / scale;
            let e = if e.is_nan() { f64::INFINITY } else { e };
            if e > worst.0 {
                worst = (e, j, k);
            }
        }
    }
    let (e, j, k) = worst;
    (e > VERIFY_TOL).then(|| Mismatch {
        what: format!("F[{}, {}]", model.params[j].name, model.params[k].name),
        at: describe_point(at),
        closed: closed[(j, k)],
        numeric: numeric[(j, k)],
        discrepancy: e,
    })
}

/// Compares a closed-form Jeffreys density `√det F` with the determinant of the (verified)
/// closed-form matrix evaluated at the verification points: both are exact, so they must
/// agree to rounding.
pub fn verify_jeffreys(model: &Model, f: &ClosedForm, jeffreys: &Expr) -> Verification {
    let mut worst: f64 = 0.0;
    let points = verification_points(model);
    for at in &points {
        let Ok(m) = closed_matrix(model, &f.matrix, at) else {
            return Verification::Unchecked {
                reason: format!("F cannot be evaluated at {}", describe_point(at)),
                checked: 0,
                budget: false,
            };
        };
        let det = m.determinant();
        let j = eval_checked(jeffreys, &env_at(model, at)).unwrap_or(f64::NAN);
        let e = (j * j - det).abs() / det.abs().max(1e-300);
        let e = if e.is_nan() { f64::INFINITY } else { e };
        if e > VERIFY_TOL {
            return Verification::Failed(Mismatch {
                what: "sqrt(det F)".to_string(),
                at: describe_point(at),
                closed: j,
                numeric: det.max(0.0).sqrt(),
                discrepancy: e,
            });
        }
        worst = worst.max(e);
    }
    Verification::Verified {
        points: points.len(),
        max_discrepancy: worst,
    }
}

/// The closed-form divergence `D(p‖q)` evaluated at two points, to relative `1e-12`
/// ([`eval_accurate`]).
///
/// # Errors
///
/// [`InfoError::Accuracy`] when it is undefined (naming the subexpression) or outside the
/// range of `f64`.
pub fn closed_kl_at(model: &Model, kl: &ClosedKl, p: &Point, q: &Point) -> Result<f64, InfoError> {
    let mut env = env_at(model, p);
    for (pn, qn) in &kl.names {
        if let Some((_, v)) = q.iter().find(|(s, _)| s == pn) {
            env.insert(*qn, *v);
        }
    }
    eval_accurate(&kl.expr, &env).map_err(|source| InfoError::Accuracy {
        what: "the closed-form D(p || q)".to_string(),
        at: format!("p: {}; q: {}", describe_point(p), describe_point(q)),
        source,
    })
}

/// Compares a closed-form divergence with `E_p[ℓ_p − ℓ_q]` by quadrature: first at the pairs
/// in `pairs` (the points a command was asked about), then between consecutive verification
/// points.
///
/// A verification pair where the model is at fault is skipped; the commands check the
/// model at the points they were asked about separately.
///
/// # Errors
///
/// None today: the `Result` leaves room for checks that fail.
pub fn verify_kl(
    model: &Model,
    kl: &ClosedKl,
    pairs: &[(Point, Point)],
) -> Result<Verification, InfoError> {
    let problem = KlProblem::new(model);
    let quad = verify_quadrature();
    let mut numeric = |p: &Point, q: &Point| {
        let problem = problem.as_ref().map_err(Clone::clone)?;
        problem.run(&theta_of(model, p)?, &theta_of(model, q)?, &quad)
    };
    verify_kl_by(model, kl, pairs, &mut numeric)
}

/// The pairs of verification points a divergence is checked at: each with the next.
pub fn verification_pairs(model: &Model) -> Vec<(Point, Point)> {
    let points = verification_points(model);
    (0..points.len())
        .map(|i| (points[i].clone(), points[(i + 1) % points.len()].clone()))
        .collect()
}

/// [`verify_kl`] with the numeric divergence and its error estimate (to the accuracy of
/// [`verify_quadrature`]) computed by `numeric`: the prepared problem of a KL field.
///
/// # Errors
///
/// As [`verify_kl`].
pub fn verify_kl_by(
    model: &Model,
    kl: &ClosedKl,
    pairs: &[(Point, Point)],
    numeric: &mut dyn FnMut(&Point, &Point) -> NumericKl,
) -> Result<Verification, InfoError> {
    let mut tally = Tally::new();
    let fresh = verification_pairs(model);
    for (p, q) in pairs.iter().cloned().chain(fresh) {
        let (numeric, error) = match numeric(&p, &q) {
            Ok(v) => v,
            Err(e) => {
                tally.skip(e, false)?;
                continue;
            }
        };
        let at = format!("p: {}; q: {}", describe_point(&p), describe_point(&q));
        let closed = match closed_kl_at(model, kl, &p, &q) {
            Ok(v) => v,
            Err(e) if out_of_range(&e) => {
                tally.skip(e, false)?;
                continue;
            }
            Err(e) => {
                return Ok(Verification::Failed(Mismatch {
                    what: format!("D(p || q) (`{e}`)"),
                    at,
                    closed: f64::NAN,
                    numeric,
                    discrepancy: f64::INFINITY,
                }));
            }
        };
        let scale = numeric.abs().max(closed.abs()).max(f64::MIN_POSITIVE);
        // (`error` bounds the rounding of the numeric divergence too, relative to the
        // log-densities whose difference it integrates)
        let e = ((closed - numeric).abs() - 4.0 * error).max(0.0) / scale;
        let e = if e.is_nan() { f64::INFINITY } else { e };
        if e > VERIFY_TOL {
            return Ok(Verification::Failed(Mismatch {
                what: "D(p || q)".to_string(),
                at,
                closed,
                numeric,
                discrepancy: e,
            }));
        }
        tally.worst = tally.worst.max(e);
        tally.checked += 1;
    }
    Ok(tally.finish())
}
