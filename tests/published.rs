//! The table of published Fisher matrices (`tests/common/published.rs`) is well formed: every
//! entry names a built-in model, its points name exactly that model's parameters, in order and
//! inside their domains, and each published matrix is symmetric positive definite there.
//! The library's Fisher matrices, in every valid form, and the Hessians of its KL divergences
//! in either argument, equal the published ones.

mod common;

use common::published::published;
use fisher_geometry::Model;
use std::collections::HashSet;

/// Built-in models whose Fisher matrix has no published closed form.
const UNPUBLISHED: &[&str] = &["normal_mixture"];

/// Relative tolerance for the symmetry of a published matrix.
const SYMMETRY_TOL: f64 = 1e-14;

#[test]
fn every_entry_names_a_builtin_once() {
    let builtins: HashSet<&str> = Model::builtins().into_iter().map(|(n, _)| n).collect();
    let mut seen = HashSet::new();
    for entry in published() {
        assert!(
            builtins.contains(entry.model),
            "`{}` is not a built-in model",
            entry.model
        );
        assert!(
            seen.insert(entry.model),
            "`{}` is listed twice",
            entry.model
        );
        assert!(
            !entry.citation.trim().is_empty(),
            "`{}` has no citation",
            entry.model
        );
    }
}

#[test]
fn every_builtin_with_a_published_fisher_matrix_is_in_the_table() {
    let listed: HashSet<&str> = published().into_iter().map(|e| e.model).collect();
    for (name, _) in Model::builtins() {
        assert!(
            listed.contains(name) != UNPUBLISHED.contains(&name),
            "`{name}`: listed in the table = {}, marked unpublished = {}",
            listed.contains(name),
            UNPUBLISHED.contains(&name)
        );
    }
}

#[test]
fn points_name_the_model_parameters_in_order_inside_their_domains() {
    for entry in published() {
        let model = Model::builtin(entry.model).unwrap();
        assert!(
            (2..=3).contains(&entry.points.len()),
            "`{}`: {} points",
            entry.model,
            entry.points.len()
        );
        for point in &entry.points {
            let names: Vec<String> = point.iter().map(|(n, _)| n.to_string()).collect();
            let expected: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
            assert_eq!(names, expected, "`{}`: point {point:?}", entry.model);
            for (param, &(name, v)) in model.params.iter().zip(point) {
                assert!(
                    param.domain.contains(v),
                    "`{}`: {name} = {v} is outside its domain",
                    entry.model
                );
            }
        }
    }
}

#[test]
fn published_matrices_are_symmetric_positive_definite() {
    for entry in published() {
        let d = Model::builtin(entry.model).unwrap().params.len();
        for point in &entry.points {
            let theta: Vec<f64> = point.iter().map(|&(_, v)| v).collect();
            let f = (entry.fisher)(&theta);
            assert_eq!(f.shape(), (d, d), "`{}` at {point:?}", entry.model);
            assert!(
                f.iter().all(|v| v.is_finite()),
                "`{}` at {point:?}: {f}",
                entry.model
            );
            let scale = f.amax();
            assert!(
                (&f - f.transpose()).amax() <= SYMMETRY_TOL * scale,
                "`{}` at {point:?} is not symmetric: {f}",
                entry.model
            );
            assert!(
                f.clone().cholesky().is_some(),
                "`{}` at {point:?} is not positive definite: {f}",
                entry.model
            );
        }
    }
}

/// Relative accuracy demanded of the library against the published matrices (entries scaled
/// by `√(F_ii F_jj)`), the 1e-8 for numeric expectations.
const AGREE_TOL: f64 = 1e-8;

#[test]
fn library_fisher_matrices_equal_the_published_ones() {
    use fisher_geometry::verify::discrepancy;
    for entry in published() {
        let model = Model::builtin(entry.model).unwrap();
        for point in &entry.points {
            let at = fisher_geometry::Point::new(&model, point).unwrap();
            let theta: Vec<f64> = point.iter().map(|(_, v)| *v).collect();
            let want = (entry.fisher)(&theta);
            let got = fisher_geometry::fisher_at(&model, &at)
                .unwrap_or_else(|e| panic!("{} at {point:?}: {e}", entry.model));
            // The reported matrix (closed form where it exists) and each valid numeric form.
            let mut forms = vec![
                ("reported", &got.matrix),
                ("E[s s^T]", &got.forms.outer_product),
            ];
            forms.push(("Cov[s]", &got.forms.covariance));
            // The Hessians of the KL divergence in either argument (num-dual, on the closed
            // form or at the quadrature nodes), which never see F.
            let kl = fisher_geometry::kl_hessians(&model, &at)
                .unwrap_or_else(|e| panic!("{} at {point:?}: {e}", entry.model));
            if got.non_smooth.is_none() {
                forms.push(("E[-H]", &got.forms.negative_hessian));
            }
            assert!(kl.valid, "{}: KL Hessians not valid", entry.model);
            forms.push(("Hessian of D(theta || theta')", &kl.forward));
            forms.push(("Hessian of D(theta' || theta)", &kl.reverse));
            for (name, m) in forms {
                let d = discrepancy(m, &want);
                assert!(
                    d <= AGREE_TOL,
                    "{} at {point:?}: {name} differs from {} by {d:e}\n{m}\nwant {want}",
                    entry.model,
                    entry.citation
                );
            }
        }
    }
}

/// The Jeffreys prior `√det F` of every model with a closed form equals the square root of
/// the determinant of the published matrix (relative 1e-10): a check of the symbolic
/// block determinant and its simplification.
#[test]
fn jeffreys_priors_equal_the_root_determinant_of_the_published_matrices() {
    use fisher_geometry::simplify::Facts;
    let mut checked = 0;
    for entry in published() {
        let model = Model::builtin(entry.model).unwrap();
        let Ok(f) = fisher_geometry::closed_form(&model) else {
            continue;
        };
        let jeffreys = fisher_geometry::jeffreys(&f.matrix, &Facts::of(&model))
            .unwrap_or_else(|| panic!("{}: no Jeffreys prior", entry.model));
        for point in &entry.points {
            let mut env = model.const_env();
            env.extend(point.iter().map(|(n, v)| (egg::Symbol::from(*n), *v)));
            let theta: Vec<f64> = point.iter().map(|(_, v)| *v).collect();
            let want = (entry.fisher)(&theta).determinant().sqrt();
            let got = fisher_geometry::eval_f64(&jeffreys, &env.into_iter().collect())
                .unwrap_or_else(|e| panic!("{}: {e}", entry.model));
            assert!(
                (got - want).abs() <= 1e-10 * want,
                "{} at {point:?}: Jeffreys {jeffreys} = {got}, √det F = {want} ({})",
                entry.model,
                entry.citation
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} points checked");
}
