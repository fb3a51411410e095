//! Property tests of numeric evaluation: the compiled tape agrees with the tree evaluator, and
//! dual-number derivatives (gradient, Hessian, third derivatives) agree with central finite
//! differences, including through the Taylor-expanded special functions.

mod common;

use common::{VARS, all_tame, arb_expr_tree, arb_point, central_difference, env_at, eval_finite};
use fisher_geometry::Expr;
use fisher_geometry::expr::{digamma, exp, lgamma, polygamma, sigmoid, sin, sqrt, trigamma};
use fisher_geometry::{
    BatchScratch, Compiled, Env, Input, eval_f64, gradient, hessian, special, third_derivative,
};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    Config {
        max_global_rejects: 16_384,
        ..common::proptest_config(256)
    }
}

fn vars() -> Vec<egg::Symbol> {
    VARS.iter().map(|v| egg::Symbol::from(*v)).collect()
}

/// `|got − want| ≤ tol · (1 + |want|)`.
fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * (1.0 + want.abs())
}

/// `expr` at `point` with coordinate `i` replaced by `t`.
fn along(expr: &Expr, point: [f64; 3], i: usize, t: f64) -> Option<f64> {
    let mut p = point;
    p[i] = t;
    eval_finite(expr, p)
}

proptest! {
    #![proptest_config(config())]

    /// The compiled tape computes exactly what the tree evaluator computes, for one expression
    /// and for several compiled together (sharing subexpressions).
    #[test]
    fn compiled_agrees_with_tree(a in arb_expr_tree(), b in arb_expr_tree(), point in arb_point(-3.0, 3.0)) {
        let env = env_at(point);
        let va = eval_f64(&a, &env);
        let vb = eval_f64(&b, &env);
        prop_assume!(va.as_ref().is_ok_and(|v| v.is_finite()));
        prop_assume!(vb.as_ref().is_ok_and(|v| v.is_finite()));
        let (va, vb) = (va.unwrap(), vb.unwrap());
        let shared = &a * &b + &a;
        let vs = eval_f64(&shared, &env).unwrap();
        let c = Compiled::new(&[a.clone(), b.clone(), shared], &vars()).unwrap();
        let mut scratch = Vec::new();
        let mut out = [0.0; 3];
        c.eval_with(&point, &mut scratch, &mut out).unwrap();
        prop_assert!(close(out[0], va, 1e-13), "{a}: compiled {} tree {va}", out[0]);
        prop_assert!(close(out[1], vb, 1e-13), "{b}: compiled {} tree {vb}", out[1]);
        if vs.is_finite() {
            prop_assert!(close(out[2], vs, 1e-13));
        }
        // a second evaluation with the same scratch gives the same
        let mut again = [0.0; 3];
        c.eval_with(&point, &mut scratch, &mut again).unwrap();
        prop_assert_eq!(out.map(f64::to_bits), again.map(f64::to_bits));
    }

    /// A batch with `x` varying (more points than one chunk) and `y`, `z` uniform gives, bit
    /// for bit, what point-by-point evaluation gives; so does a batch of uniform inputs only.
    #[test]
    fn batch_agrees_with_point_by_point(
        a in arb_expr_tree(),
        b in arb_expr_tree(),
        xs in proptest::collection::vec(-3.0f64..3.0, 1..150),
        (y, z) in (-3.0f64..3.0, -3.0f64..3.0),
    ) {
        let c = Compiled::new(&[a.clone(), b.clone()], &vars()).unwrap();
        let n = xs.len();
        let mut out = vec![0.0; 2 * n];
        let inputs = [Input::Varying(&xs), Input::Uniform(y), Input::Uniform(z)];
        let mut scratch = BatchScratch::default();
        c.eval_batch(&inputs, &mut scratch, &mut out).unwrap();
        let mut point_scratch = Vec::new();
        for (i, x) in xs.iter().enumerate() {
            let mut one = [0.0; 2];
            c.eval_with(&[*x, y, z], &mut point_scratch, &mut one).unwrap();
            for k in 0..2 {
                let (batch, point) = (out[k * n + i], one[k]);
                prop_assert!(
                    batch.to_bits() == point.to_bits() || (batch.is_nan() && point.is_nan()),
                    "output {k} at x={x}: batch {batch}, point {point}"
                );
            }
        }
        let mut single = [0.0; 2];
        let uniform = [Input::Uniform(xs[0]), Input::Uniform(y), Input::Uniform(z)];
        c.eval_batch(&uniform, &mut scratch, &mut single).unwrap();
        for k in 0..2 {
            prop_assert!(single[k].to_bits() == out[k * n].to_bits() || (single[k].is_nan() && out[k * n].is_nan()));
        }
    }

    /// The gradient by dual numbers matches central differences wherever those are reliable.
    #[test]
    fn gradient_matches_finite_differences(e in arb_expr_tree(), point in arb_point(0.2, 3.0)) {
        prop_assume!(all_tame(&e, point));
        // (The value is not compared with `eval_f64`: num-dual rounds some operations
        // differently, and ill-conditioned expressions amplify that without bound.)
        let (_, g) = gradient(&e, &vars(), &env_at(point)).unwrap();
        for i in 0..3 {
            // A non-finite dual derivative means a non-differentiable intermediate (sqrt(y - y)
            // at 0: ∞·0); only finite ones are compared.
            if let Some(fd) = central_difference(|t| along(&e, point, i, t), point[i]).filter(|_| g[i].is_finite()) {
                prop_assert!(close(g[i], fd, 1e-5), "{e}: ∂{} dual {} fd {fd}", VARS[i], g[i]);
            }
        }
    }

    /// The Hessian by dual numbers is symmetric, its gradient matches [`gradient`], and each
    /// column matches central differences of the gradient.
    #[test]
    fn hessian_matches_finite_differences(e in arb_expr_tree(), point in arb_point(0.2, 3.0)) {
        prop_assume!(all_tame(&e, point));
        let env = env_at(point);
        let (_, g, h) = hessian(&e, &vars(), &env).unwrap();
        let (_, g1) = gradient(&e, &vars(), &env).unwrap();
        for i in 0..3 {
            // NaN in the Hessian's gradient part means a second derivative does not exist
            prop_assert!(close(g[i], g1[i], 1e-12) || !g[i].is_finite() || !g1[i].is_finite());
            for j in 0..3 {
                let grad_j = |t: f64| {
                    let mut p = point;
                    p[i] = t;
                    gradient(&e, &vars(), &env_at(p)).ok().map(|(_, g)| g[j]).filter(|v| v.is_finite())
                };
                if let Some(fd) = central_difference(grad_j, point[i]).filter(|_| h[(i, j)].is_finite()) {
                    prop_assert!(close(h[(i, j)], fd, 1e-5), "{e}: H[{i},{j}] dual {} fd {fd}", h[(i, j)]);
                }
            }
        }
    }
}

/// `f(g(x, y))` for a special function `f` and a smooth positive inner `g`, and a product with
/// another factor, at `x, y ∈ (0.1, 20)`.
fn arb_special_composition() -> impl Strategy<Value = Expr> {
    let (x, y) = (Expr::sym("x"), Expr::sym("y"));
    let inner = prop::sample::select(vec![
        x.clone(),
        &x * &y,
        &x / &y + &y,
        sqrt(&x * &y),
        1.0 + 0.5 * sin(&x) + &y,
        10.0 * sigmoid(&x - &y),
    ]);
    let outer = 0usize..4;
    let factor = prop::sample::select(vec![Expr::num(1.0), x.clone(), exp(-&y / 10.0)]);
    (outer, inner, factor).prop_map(|(k, g, c)| {
        let f = match k {
            0 => lgamma(g),
            1 => digamma(g),
            2 => trigamma(g),
            _ => polygamma(2, g),
        };
        f * c
    })
}

proptest! {
    #![proptest_config(config())]

    /// On duals the special functions carry their exact derivatives:
    /// `d/dx ln Γ = ψ`, `d/dx ψ = ψ₁`, `d/dx ψ₁ = ψ₂`, with second and third derivatives too.
    #[test]
    fn special_function_derivatives_are_polygammas(t in 0.1f64..20.0) {
        let x = Expr::sym("x");
        let env = Env::new().with("x", t);
        let p = [egg::Symbol::from("x")];
        let xxx = [p[0]; 3];
        let cases = [
            (lgamma(&x), -1i32),
            (digamma(&x), 0),
            (trigamma(&x), 1),
            (polygamma(3, &x), 3),
        ];
        for (e, n) in cases {
            let psi = |k: i32| if k < 0 { special::lgamma(t) } else { special::polygamma(k as u32, t) };
            let (f, g, h) = hessian(&e, &p, &env).unwrap();
            let d3 = third_derivative(&e, xxx, &env).unwrap();
            prop_assert!(close(f, psi(n), 1e-15));
            prop_assert!(close(g[0], psi(n + 1), 1e-15));
            prop_assert!(close(h[(0, 0)], psi(n + 2), 1e-15));
            prop_assert!(close(d3, psi(n + 3), 1e-15));
        }
    }

    /// Compositions with special functions: gradient, Hessian and a third derivative match
    /// central differences of the next-lower order.
    #[test]
    fn special_compositions_match_finite_differences(
        e in arb_special_composition(),
        point in arb_point(0.1, 20.0),
    ) {
        prop_assume!(eval_finite(&e, point).is_some());
        let env = env_at(point);
        let (_, g, h) = hessian(&e, &vars(), &env).unwrap();
        for i in 0..2 {
            let fd = central_difference(|t| along(&e, point, i, t), point[i]);
            prop_assume!(fd.is_some());
            prop_assert!(close(g[i], fd.unwrap(), 1e-6), "{e}: ∂{} {} vs {fd:?}", VARS[i], g[i]);
            let fd2 = central_difference(
                |t| {
                    let mut p = point;
                    p[i] = t;
                    hessian(&e, &vars(), &env_at(p)).ok().map(|(_, g, _)| g[1])
                },
                point[i],
            );
            prop_assume!(fd2.is_some());
            prop_assert!(close(h[(i, 1)], fd2.unwrap(), 1e-6));
        }
        // ∂³/∂x²∂y against differences of H_xy along x
        let names = [egg::Symbol::from("x"), egg::Symbol::from("x"), egg::Symbol::from("y")];
        let d3 = third_derivative(&e, names, &env).unwrap();
        let fd3 = central_difference(
            |t| {
                let mut p = point;
                p[0] = t;
                hessian(&e, &vars(), &env_at(p)).ok().map(|(_, _, h)| h[(0, 1)])
            },
            point[0],
        );
        prop_assume!(fd3.is_some());
        prop_assert!(close(d3, fd3.unwrap(), 1e-6), "{e}: d3 {d3} vs {fd3:?}");
    }
}
