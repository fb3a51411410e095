//! The bijections between the real line and the domains (`model::Bijector`): round trips
//! `f⁻¹(f(y)) = y` out to `|y| = 700`, the log-Jacobian `ln |f'(y)|` and its derivative
//! against num-dual derivatives of the map itself, the density carried from `x` to `y`
//! against second-order duals, and `1 − x` on the unit interval to full relative accuracy
//! where `x` has rounded to 1.

mod common;

use common::{arb_bijector, arb_unconstrained};
use fisher_geometry::{Bijector, Domain, Support};
use num_dual::{Dual2_64, Dual64, DualNum};
use proptest::prelude::*;

const EPS: f64 = f64::EPSILON;

/// Every kind of map, with finite shifts.
const MAPS: [Bijector; 7] = [
    Bijector::Identity,
    Bijector::Log,
    Bijector::Logit,
    Bijector::Interval(-1.0, 3.0),
    Bijector::Interval(1e-3, 2e-3),
    Bijector::Above(2.0),
    Bijector::Below(-5.0),
];

/// The points every map is checked at: the tails, tiny values, and the middle.
const YS: [f64; 14] = [
    -700.0, -300.0, -40.0, -1.5, -1e-8, -1e-300, 0.0, 1e-300, 1e-8, 0.3, 2.0, 40.0, 300.0, 700.0,
];

/// `|got − want| ≤ tol · max(1, |want|)`.
fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}

/// How far `f⁻¹(f(y))` may be from `y` after `x = f(y)` is rounded: `|Δy| ≈ |Δx| / |f'(y)|`
/// with `|Δx| ≤ ε|x|` (the shifted maps lose `y` where `e^y ≪ |c|`; the others do not), plus
/// the rounding of `y` itself.
fn round_trip_tolerance(b: Bijector, y: f64) -> f64 {
    let (x, _, lj) = b.point(y);
    let conditioned = match b {
        // y = ln x, and ln x − ln(1 − x) from the exact complement: relative to y only
        Bijector::Identity | Bijector::Log | Bijector::Logit => 0.0,
        _ => x.abs() * (-lj).exp(),
    };
    8.0 * EPS * (y.abs().max(1.0) + conditioned)
}

/// The points at which `b` maps `y` to a number strictly inside its bounds and back: all of
/// them for the unshifted maps, the moderate ones for the shifted and scaled maps, whose `x`
/// rounds onto a bound (`2 + e^{−40} = 2`) out in the tails.
fn invertible_at(b: Bijector, y: f64) -> bool {
    match b {
        Bijector::Identity | Bijector::Log | Bijector::Logit => true,
        _ => {
            let (x, _, _) = b.point(y);
            let (lo, hi) = b.bounds();
            x > lo && x < hi
        }
    }
}

/// `f'(y)` by a num-dual derivative of the generic forward map.
fn derivative(b: Bijector, y: f64) -> f64 {
    b.forward(Dual64::from(y).derivative()).eps
}

#[test]
fn round_trips_at_extreme_points() {
    for b in MAPS {
        for y in YS {
            if !invertible_at(b, y) {
                continue;
            }
            let (x, c, _) = b.point(y);
            let tol = round_trip_tolerance(b, y);
            let back = b.inverse_with_complement(x, c);
            assert!(
                (back - y).abs() <= tol,
                "{b:?} at {y}: {back} (tolerance {tol:e})"
            );
            if !(b == Bijector::Logit && y > 36.0) {
                // x alone, where it has not rounded to 1
                let back = b.inverse(x);
                assert!((back - y).abs() <= tol, "{b:?} at {y}: {back} from x alone");
            }
        }
    }
    // The unshifted maps are exact out in both tails: e^{±700}, σ(±700).
    for b in [Bijector::Log, Bijector::Logit] {
        for y in [-700.0, 700.0] {
            let (x, c, _) = b.point(y);
            assert!(
                close(b.inverse_with_complement(x, c), y, 4.0 * EPS),
                "{b:?} at {y}"
            );
        }
    }
}

#[test]
fn log_jacobian_is_the_log_of_the_derivative() {
    for b in MAPS {
        for y in YS {
            let d = derivative(b, y);
            let want = d.abs().ln();
            let (_, _, lj) = b.point(y);
            assert!(d != 0.0 && d.is_finite(), "{b:?} at {y}: f' = {d}");
            assert!(
                close(lj, want, 1e-14),
                "{b:?} at {y}: {lj} vs ln|f'| = {want}"
            );
            let generic = b.log_jacobian(y);
            assert!(
                close(generic, want, 1e-14),
                "{b:?} at {y}: generic {generic}"
            );
            // and in dual numbers: d/dy ln |f'| against the closed form
            let grad = b.log_jacobian(Dual64::from(y).derivative()).eps;
            let want_grad = b.log_jacobian_grad(y);
            assert!(
                close(grad, want_grad, 1e-14),
                "{b:?} at {y}: {grad} vs {want_grad}"
            );
        }
    }
}

#[test]
fn log_jacobian_grad_is_smooth_at_zero() {
    // ln σ(y) + ln σ(−y) is written with |y|, yet is one analytic function: its first and
    // second derivatives at 0 are 0 and −1/2 from either side.
    for y in [0.0, -0.0] {
        let d = Bijector::Logit.log_jacobian(Dual2_64::from(y).derivative());
        assert_eq!(d.v1, 0.0);
        assert!((d.v2 + 0.5).abs() < 1e-15, "{}", d.v2);
    }
}

#[test]
fn complement_keeps_full_accuracy_near_one() {
    // 1 − σ(y) = 1/(1 + e^y), computed here from e^y: relative error ≤ 2ε.
    for y in [1.0, 5.0, 20.0, 36.0, 40.0, 100.0, 300.0, 700.0] {
        let (x, c, _) = Bijector::Logit.point(y);
        let want = 1.0 / (1.0 + f64::exp(y));
        assert!((c / want - 1.0).abs() <= 1e-15, "at {y}: {c} vs {want}");
        assert!(
            (x + c - 1.0).abs() <= EPS,
            "at {y}: x + (1 − x) = {}",
            x + c
        );
        if y >= 40.0 {
            assert_eq!(x, 1.0); // x itself has rounded: only the complement knows e^{−y}
        }
    }
    // and the small end by symmetry: σ(−y) is the complement at y
    for y in [20.0, 40.0, 700.0] {
        assert_eq!(
            Bijector::Logit.point(-y).0,
            Bijector::Logit.point(y).1,
            "at {y}"
        );
    }
}

#[test]
fn generic_maps_agree_with_the_f64_ones() {
    // The dual real part is the f64 value, bit for bit.
    for b in MAPS {
        for y in YS {
            let d = b.forward(Dual64::from(y).derivative());
            assert_eq!(d.re.to_bits(), b.point(y).0.to_bits(), "{b:?} at {y}");
            assert_eq!(
                b.forward(y).to_bits(),
                b.point(y).0.to_bits(),
                "{b:?} at {y}"
            );
        }
    }
}

#[test]
fn domains_and_supports_name_their_maps() {
    assert_eq!(Domain::Real.bijector(), Bijector::Identity);
    assert_eq!(Domain::Positive.bijector(), Bijector::Log);
    assert_eq!(Domain::Unit.bijector(), Bijector::Logit);
    assert_eq!(
        Domain::interval(-1.0, 1.0).bijector(),
        Bijector::Interval(-1.0, 1.0)
    );
    for d in [
        Domain::Real,
        Domain::Positive,
        Domain::Unit,
        Domain::interval(-1.0, 1.0),
        Domain::interval(-1e308, 1e308),
    ] {
        let b = d.bijector();
        assert_eq!(b.bounds(), d.bounds(), "{d}");
        for y in [-20.0, -1.0, 0.0, 0.5, 20.0] {
            let x = b.forward(y);
            assert!(d.contains(x), "{d}: f({y}) = {x}");
        }
    }
    assert_eq!(Support::Real.bijector(), Some(Bijector::Identity));
    assert_eq!(Support::Positive.bijector(), Some(Bijector::Log));
    assert_eq!(Support::Unit.bijector(), Some(Bijector::Logit));
    for s in [Support::Binary, Support::Count, Support::Int(0, 3)] {
        assert_eq!(s.bijector(), None, "{s:?}");
    }
}

/// A log-density `L(x) = −(x − m)²/(2s²)` centred inside the bounds of `b`, with `L'` and
/// `L''`, generic so that a dual `x` carries its derivatives.
fn log_density<D: DualNum<Primitive = f64> + Copy>(b: Bijector, x: D) -> D {
    let (m, s) = match b.bounds() {
        (lo, hi) if lo.is_finite() && hi.is_finite() => (0.5 * (lo + hi), hi - lo),
        (lo, _) if lo.is_finite() => (lo + 1.0, 1.0),
        (_, hi) if hi.is_finite() => (hi - 1.0, 1.0),
        _ => (0.5, 2.0),
    };
    let z = (x - m) / s;
    -z * z * 0.5
}

/// `q(y) = L(f(y)) + ln |f'(y)|` with `q'` and `q''` by second-order duals, against
/// [`Bijector::pull_back`] given `L`, `L'`, `L''` at `x`.
fn check_pull_back(b: Bijector, y: f64) -> Result<(), TestCaseError> {
    let yd = Dual2_64::from(y).derivative();
    let want = log_density(b, b.forward(yd)) + b.log_jacobian(yd);
    let (x, _, _) = b.point(y);
    let l = log_density(b, Dual2_64::from(x).derivative());
    let (q, q1, q2) = b.pull_back(y, (l.re, l.v1, l.v2));
    // the terms of q'' can be large and cancel: compare against their size
    let scale = want.re.abs().max(want.v1.abs()).max(want.v2.abs()).max(1.0);
    for (got, w) in [(q, want.re), (q1, want.v1), (q2, want.v2)] {
        prop_assert!(
            (got - w).abs() <= 1e-10 * scale,
            "{b:?} at {y}: {got} vs {w} ({:?})",
            (q, q1, q2)
        );
    }
    Ok(())
}

#[test]
fn pull_back_matches_second_order_duals() {
    for b in MAPS {
        for y in [-20.0, -1.5, 0.0, 0.3, 2.0, 20.0] {
            check_pull_back(b, y).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(common::proptest_config(512))]

    /// At random maps and points: `f(y)` lies within the bounds, `f⁻¹(f(y)) = y` to the
    /// accuracy the rounding of `x` allows, the log-Jacobian is `ln |f'|` by num-dual, and
    /// its derivative is the dual derivative of the log-Jacobian.
    #[test]
    fn bijector_properties(b in arb_bijector(), y in arb_unconstrained()) {
        let (x, c, lj) = b.point(y);
        let (lo, hi) = b.bounds();
        prop_assert!(x >= lo && x <= hi, "{b:?}: f({y}) = {x} outside ({lo}, {hi})");
        if invertible_at(b, y) {
            let back = b.inverse_with_complement(x, c);
            let tol = round_trip_tolerance(b, y);
            prop_assert!((back - y).abs() <= tol, "{b:?} at {y}: {back} (tolerance {tol:e})");
        }
        let d = derivative(b, y);
        prop_assert!(close(lj, d.abs().ln(), 1e-14), "{b:?} at {y}: {lj} vs f' = {d}");
        let grad = b.log_jacobian(Dual64::from(y).derivative()).eps;
        prop_assert!(close(grad, b.log_jacobian_grad(y), 1e-14), "{b:?} at {y}: {grad}");
    }

    /// At random maps and moderate points the density carried to `y` and its two
    /// derivatives match second-order duals.
    #[test]
    fn pull_back_properties(b in arb_bijector(), y in -20.0f64..20.0) {
        check_pull_back(b, y)?;
    }
}
