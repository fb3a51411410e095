//! The kinks of a log-density: its `abs` and `sign` nodes, and where an affine argument
//! crosses zero.

/// The root and slope of `a(t)` when it is affine with a non-zero slope (tested at `t` = 0,
/// 1, 2 to relative 1e-12): where `abs(a)` or `sign(a)` has its kink.
pub(crate) fn affine_root(a: impl Fn(f64) -> Option<f64>) -> Option<(f64, f64)> {
    let (a0, a1, a2) = (a(0.0)?, a(1.0)?, a(2.0)?);
    let slope = a1 - a0;
    let affine = ((a2 - a1) - slope).abs() <= 1e-12 * slope.abs().max(a0.abs()).max(1.0);
    let root = -a0 / slope;
    (affine && slope != 0.0 && root.is_finite()).then_some((root, slope))
}
