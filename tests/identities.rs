//! The identities of Fisher information on every built-in model, at random points inside the
//! domains (`fisher check`): the three forms agree with each other and with the closed form;
//! `∇²_{θ'} D(θ'‖θ)` and `∇²_{θ'} D(θ‖θ')` at `θ' = θ` equal F (computed from the divergence
//! itself with hyper-dual numbers: on the closed-form KL, else at the quadrature nodes, and
//! for Laplace on integration pieces that move with the kink); `D(θ+δ‖θ) − ½δᵀFδ`,
//! `D(θ‖θ+δ) − ½δᵀFδ` and `D(θ+δ‖θ) − D(θ‖θ+δ)` are `O(|δ|³)`; F is symmetric positive
//! semi-definite. The non-smooth Laplace model is flagged (its Hessian form is not F) and
//! passes every other check.

mod common;

use fisher_geometry::CheckReport;
use fisher_geometry::Model;
use nalgebra::DMatrix;
use proptest::prelude::*;

/// Models whose log-density is not twice differentiable in θ.
const NON_SMOOTH: &[&str] = &["laplace"];

/// The library's checker (`fisher check` only renders it).
fn check(name: &str, points: usize, seed: u64) -> CheckReport {
    let model = Model::builtin(name).unwrap();
    fisher_geometry::check(&model, points, seed).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_symmetric_psd(name: &str, f: &DMatrix<f64>) {
    let scale = f.diagonal().amax().max(1e-300);
    assert!(
        (f - f.transpose()).amax() <= 1e-12 * scale,
        "{name}: not symmetric\n{f}"
    );
    let eig = f.clone().symmetric_eigen().eigenvalues;
    assert!(
        eig.min() >= -1e-10 * scale,
        "{name}: not positive semi-definite\n{f}"
    );
}

#[test]
fn every_builtin_passes_every_identity() {
    for (name, _) in Model::builtins() {
        let report = check(name, 2, 7);
        let smooth = !NON_SMOOTH.contains(&name);
        assert!(report.passed, "{name}: {report:#?}");
        assert_eq!(report.points.len(), 2, "{name}");
        for (at, p) in &report.points {
            let p = p
                .as_ref()
                .unwrap_or_else(|e| panic!("{name} at {at:?}: {e}"));
            assert!(p.passed, "{name} at {at:?}: {p:#?}");
            assert_symmetric_psd(name, &p.fisher.matrix);
            assert_eq!(p.fisher.non_smooth.is_none(), smooth, "{name}");
            assert!(p.hessians.valid, "{name}: {p:#?}");
            assert!(p.second_order.iter().all(|o| o.cubic), "{name}: {p:#?}");
        }
    }
}

proptest! {
    #![proptest_config(common::proptest_config(24))]

    /// Random models and random points (the seed picks the point inside the domains).
    #[test]
    fn identities_hold_at_random_points(index in 0usize..64, seed in any::<u64>()) {
        let builtins = Model::builtins();
        let (name, _) = builtins[index % builtins.len()];
        let report = check(name, 1, seed);
        prop_assert!(report.passed, "{}: {:#?}", name, report);
    }
}
