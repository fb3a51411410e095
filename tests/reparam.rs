//! Reparameterization (`Reparam`): for several maps, the pullback `Jᵀ F J` equals the Fisher
//! matrix derived directly from the substituted model, symbolically (the difference
//! simplifies to 0) and numerically at random points; and it equals the closed form of the
//! built-in model in the same parameters, an independent derivation. Then a model without a
//! closed form (numeric route) and the located errors of the map.

use std::collections::HashMap;

use fisher_geometry::simplify::{Facts, simplest};
use fisher_geometry::{
    Env, Expr, FisherField, MapErrorKind, MapText, Model, Reparam, ReparamError, eval_f64,
};

/// A deterministic generator (SplitMix64), so that the random points are the same every run.
struct SplitMix(u64);

impl SplitMix {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)] // 53 random bits
        let u = (z >> 11) as f64 / (1u64 << 53) as f64;
        u
    }
}

/// Random points of the new model's domains: real parameters in (−2, 2), positive ones in
/// (0.2, 4), bounded ones inside their interval.
fn random_points(model: &Model, n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = SplitMix(seed);
    (0..n)
        .map(|_| {
            model
                .params
                .iter()
                .map(|p| {
                    let u = rng.next_unit();
                    let (lo, hi) = p.domain.bounds();
                    match (lo.is_finite(), hi.is_finite()) {
                        (true, true) => lo + (hi - lo) * (0.05 + 0.9 * u),
                        (true, false) => lo + 0.2 + 3.8 * u,
                        (false, true) => hi - 0.2 - 3.8 * u,
                        (false, false) => 4.0 * u - 2.0,
                    }
                })
                .collect()
        })
        .collect()
}

fn env_at(model: &Model, phi: &[f64]) -> Env<f64> {
    let mut env: Env<f64> = model.const_env().into_iter().collect();
    for (p, v) in model.params.iter().zip(phi) {
        env.insert(p.name, *v);
    }
    env
}

fn relative(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / scale.max(f64::MIN_POSITIVE)
}

/// The pullback of `r` equals `reference` (formulas in the same parameters, possibly another
/// model's names in another order): symbolically, and at random points.
fn assert_equal_formulas(
    r: &Reparam,
    reference: &[Vec<Expr>],
    order: &[usize],
    symbolic: bool,
    what: &str,
) {
    let p = r.pullback.as_ref().expect("a closed-form pullback");
    let facts = Facts::of(&r.model);
    let m = p.len();
    for a in (0..m).filter(|_| symbolic) {
        for b in 0..m {
            let diff = simplest(&(&p[a][b] - &reference[order[a]][order[b]]), &facts);
            assert_eq!(
                diff.as_num(),
                Some(0.0),
                "{what}: entry [{a}, {b}]: {} vs {} differ by {diff}",
                p[a][b],
                reference[order[a]][order[b]]
            );
        }
    }
    for phi in random_points(&r.model, 20, 0x5EED_0012) {
        let env = env_at(&r.model, &phi);
        let values: Vec<Vec<(f64, f64)>> = (0..m)
            .map(|a| {
                (0..m)
                    .map(|b| {
                        (
                            eval_f64(&p[a][b], &env).unwrap(),
                            eval_f64(&reference[order[a]][order[b]], &env).unwrap(),
                        )
                    })
                    .collect()
            })
            .collect();
        let scale = values
            .iter()
            .flatten()
            .fold(0.0f64, |s, (x, y)| s.max(x.abs()).max(y.abs()));
        for row in &values {
            for (x, y) in row {
                assert!(
                    relative(*x, *y, scale) < 1e-12,
                    "{what} at {phi:?}: {x} vs {y}"
                );
            }
        }
    }
}

/// Reparameterizes, checks the pullback against the direct derivation (symbolically and at
/// random points) and against the built-in `builtin` (its parameters renamed by `rename`),
/// symbolically too unless `numeric_only`.
fn check_map(model: &str, new: &str, map: &str, builtin: Option<(&str, &[(&str, &str)])>) {
    check_map_with(model, new, map, builtin, false);
}

fn check_map_with(
    model: &str,
    new: &str,
    map: &str,
    builtin: Option<(&str, &[(&str, &str)])>,
    numeric_only: bool,
) {
    let old = Model::builtin(model).unwrap();
    let r = Reparam::new(&old, new, map).unwrap_or_else(|e| panic!("{model}: {e}"));
    assert!(r.matches_direct(), "{model}: {}", r.max_discrepancy());
    assert_eq!(r.symbolic_zero, Some(true), "{model} → {new}");
    let direct = r.direct.clone().expect("a closed-form direct F");
    let identity: Vec<usize> = (0..direct.len()).collect();
    assert_equal_formulas(&r, &direct, &identity, true, "pullback vs direct");
    // The substituted model's field agrees with the pullback at random points too.
    let field = FisherField::new(&r.model).unwrap();
    let p = r.pullback.as_ref().unwrap();
    for phi in random_points(&r.model, 10, 0xF15_4E12) {
        let f = field.at(&phi).unwrap();
        let env = env_at(&r.model, &phi);
        let scale = f.amax();
        for a in 0..p.len() {
            for b in 0..p.len() {
                let v = eval_f64(&p[a][b], &env).unwrap();
                assert!(relative(v, f[(a, b)], scale) < 1e-10, "{model} at {phi:?}");
            }
        }
    }
    if let Some((name, rename)) = builtin {
        let reference = Model::builtin(name).unwrap();
        let field = FisherField::new(&reference).unwrap();
        let closed = &field
            .closed_form()
            .expect("the built-in's closed form")
            .matrix;
        // The built-in's F in the new names and in the new parameter order.
        let names: HashMap<_, _> = rename
            .iter()
            .map(|(from, to)| ((*from).into(), Expr::sym(to)))
            .collect();
        let renamed: Vec<Vec<Expr>> = closed
            .iter()
            .map(|row| row.iter().map(|e| e.substitute(&names)).collect())
            .collect();
        let order: Vec<usize> = r
            .model
            .params
            .iter()
            .map(|p| {
                let from = rename
                    .iter()
                    .find(|(_, to)| *to == p.name.as_str())
                    .map_or(p.name.as_str(), |(from, _)| from);
                reference.param_index(from.into()).unwrap()
            })
            .collect();
        assert_equal_formulas(&r, &renamed, &order, !numeric_only, name);
    }
}

#[test]
fn normal_to_information_form_matches_normal_info() {
    check_map(
        "normal",
        "h: real, lambda: positive",
        "mu = h/lambda, sigma = 1/sqrt(lambda)",
        Some(("normal_info", &[])),
    );
}

#[test]
fn normal_to_natural_parameters_matches_normal_natural() {
    // normal_natural: eta1 = mu/sigma², eta2 = 1/(2σ²) (statistic (x, −x²)).
    check_map(
        "normal",
        "eta1: real, eta2: positive",
        "mu = eta1/(2*eta2), sigma = 1/sqrt(2*eta2)",
        Some(("normal_natural", &[])),
    );
}

#[test]
fn normal_to_log_sigma_matches_normal_logsigma() {
    check_map(
        "normal",
        "mu: real, log_sigma: real",
        "mu = mu, sigma = exp(log_sigma)",
        Some(("normal_logsigma", &[])),
    );
}

#[test]
fn gamma_rate_to_mean_matches_gamma_mean() {
    // gamma_mean declares (mean, shape); the new order (shape, mean) is kept.
    check_map(
        "gamma",
        "shape: positive, mean: positive",
        "shape = shape, rate = shape/mean",
        Some(("gamma_mean", &[])),
    );
}

#[test]
fn bernoulli_to_logit_matches_bernoulli_logit() {
    // p = 1/(1 + e^−η) gives F = e^−η/(1 + e^−η)², the built-in's e^η/(1 + e^η)²: the same
    // function, which the simplifier does not show, so against the built-in only at random
    // points (against the direct derivation, symbolically too).
    check_map_with(
        "bernoulli",
        "eta: real",
        "p = 1/(1 + exp(-eta))",
        Some(("bernoulli_logit", &[])),
        true,
    );
}

#[test]
fn a_difference_the_simplifier_cannot_close_is_decided_by_the_numbers() {
    // With p = sigmoid(η) the direct F comes out as σ(−η) − σ(−η)², the pullback as
    // σ(η)σ(−η): equal, since σ(η) = 1 − σ(−η), whether or not the simplifier shows it.
    let r = Reparam::new(
        &Model::builtin("bernoulli").unwrap(),
        "eta: real",
        "p = sigmoid(eta)",
    )
    .unwrap();
    assert!(r.symbolic_zero.is_some());
    assert!(r.matches_direct(), "{}", r.max_discrepancy());
    assert!(r.max_discrepancy() < 1e-14, "{}", r.max_discrepancy());
}

#[test]
fn renamed_parameters_are_compared_under_the_renaming() {
    // The built-in's names differ from the new ones: (h, lambda) → (a, b).
    check_map(
        "normal",
        "a: real, b: positive",
        "mu = a/b, sigma = 1/sqrt(b)",
        Some(("normal_info", &[("h", "a"), ("lambda", "b")])),
    );
}

#[test]
fn the_substituted_model_prints_and_parses_back_to_the_same_fisher_matrix() {
    let r = Reparam::new(
        &Model::builtin("normal").unwrap(),
        "h: real, lambda: positive",
        "mu = h/lambda, sigma = 1/sqrt(lambda)",
    )
    .unwrap();
    let text = r.model.to_string();
    let back = Model::parse(&text, "back").unwrap();
    assert_eq!(back, r.model, "{text}");
    assert_eq!(
        back.params
            .iter()
            .map(|p| p.domain.to_string())
            .collect::<Vec<_>>(),
        ["real", "positive"]
    );
    let f = FisherField::new(&back).unwrap();
    let direct = r.direct.as_ref().unwrap();
    let closed = &f.closed_form().unwrap().matrix;
    assert_eq!(closed, direct);
}

#[test]
fn a_model_with_lets_keeps_them_substituted() {
    let src = "data x : real\nparam mu : real\nparam sigma : positive\n\
               let z = (x - mu)/sigma\nlogp = -z^2/2 - ln(sigma) - ln(2*pi)/2\n";
    let m = Model::parse(src, "normal_lets").unwrap();
    let r = Reparam::new(
        &m,
        "mu: real, log_sigma: real",
        "mu = mu, sigma = exp(log_sigma)",
    )
    .unwrap();
    assert_eq!(r.model.lets.len(), 1);
    assert_eq!(r.model.lets[0].1.to_string(), "(x - mu)/exp(log_sigma)");
    assert!(r.matches_direct());
    assert_eq!(r.symbolic_zero, Some(true));
}

#[test]
fn cauchy_without_a_closed_form_goes_the_numeric_route() {
    let cauchy = Model::builtin("cauchy").unwrap();
    let old_field = FisherField::new(&cauchy).unwrap();
    assert_eq!(old_field.method().as_str(), "numeric");
    let r = Reparam::new(
        &cauchy,
        "x0: real, log_gamma: real",
        "x0 = x0, gamma = exp(log_gamma)",
    )
    .unwrap();
    assert!(r.pullback.is_none() && r.direct.is_none());
    assert_eq!(r.symbolic_zero, None);
    assert!(r.matches_direct(), "{}", r.max_discrepancy());
    // Published: F = I/(2γ²) in (x0, γ), so F = diag(1/(2γ²), 1/2) in (x0, ln γ).
    for p in &r.points {
        let g = p.phi[1].exp();
        let want = [[1.0 / (2.0 * g * g), 0.0], [0.0, 0.5]];
        for a in 0..2 {
            for b in 0..2 {
                assert!(
                    (p.pullback[(a, b)] - want[a][b]).abs() < 1e-8 * 0.5_f64.max(want[0][0]),
                    "{:?}: {} vs {}",
                    p.phi,
                    p.pullback[(a, b)],
                    want[a][b]
                );
            }
        }
    }
}

/// The located error of a refused map: which text, the message, and the spanned text.
fn refused(model: &str, new: &str, map: &str) -> (MapText, String, String) {
    let m = Model::builtin(model).unwrap();
    match Reparam::new(&m, new, map) {
        Err(e @ ReparamError::Text { .. }) => {
            let ReparamError::Text { input, span, .. } = &e else {
                unreachable!()
            };
            let text = match input {
                MapText::New => new,
                MapText::Map => map,
            };
            (*input, e.to_string(), text[span.clone()].to_string())
        }
        Err(e) => panic!("not a located error: {e}"),
        Ok(_) => panic!("accepted {new} / {map}"),
    }
}

#[test]
fn map_errors_point_at_the_offending_text() {
    let new = "h: real, lambda: positive";
    let cases: &[(&str, &str, MapText, &str, &str)] = &[
        (
            new,
            "mu = h/lambda, sigma = 1/sqrt(lamda)",
            MapText::Map,
            "unknown name `lamda`; did you mean `lambda`?",
            "lamda",
        ),
        (
            new,
            "mu = h/lambda",
            MapText::Map,
            "the map has no equation for `sigma`: give one equation `OLD = EXPR` per parameter of the model",
            "",
        ),
        (
            new,
            "mu = h/lambda, mu = h, sigma = lambda",
            MapText::Map,
            "`mu` is mapped twice",
            "mu",
        ),
        (
            new,
            "mu = h/lambda, sigam = 1/sqrt(lambda)",
            MapText::Map,
            "`sigam` is not a parameter of the model; did you mean `sigma`?: the left side of each equation is one of mu, sigma",
            "sigam",
        ),
        (
            new,
            "mu = h/lambda, sigma = x*lambda",
            MapText::Map,
            "`x` is a data variable of the model: a right-hand side is written in the new parameters (h, lambda) and constants",
            "x",
        ),
        (
            new,
            "mu = h/lambda, sigma = mu*lambda",
            MapText::Map,
            "`mu` is a parameter (not a new one) of the model: a right-hand side is written in the new parameters (h, lambda) and constants",
            "mu",
        ),
        (
            new,
            "mu = h/lambda, sigma = sqrtt(lambda)",
            MapText::Map,
            "unknown function `sqrtt`; did you mean `sqrt`?",
            "sqrtt",
        ),
        (
            new,
            "mu = h/lambda, sigma = (lambda",
            MapText::Map,
            "expected `)` or an operator, found end of file",
            "",
        ),
        (
            "x: real, lambda: positive",
            "mu = x/lambda, sigma = lambda",
            MapText::New,
            "`x` is a data variable of the model: a new parameter needs a name of its own",
            "x",
        ),
        (
            "h: real, h: positive",
            "mu = h, sigma = h",
            MapText::New,
            "`h` is declared twice",
            "h",
        ),
        (
            "h: real, lambda: positve",
            "mu = h, sigma = lambda",
            MapText::New,
            "expected a parameter domain (`real`, `positive`, `unit` or `interval(LO, HI)`), found `positve`",
            "positve",
        ),
        (
            "h: real, lambda: positive",
            "mu = h, sigma = exp(h)",
            MapText::New,
            "new parameter `lambda` does not occur in the map",
            "lambda",
        ),
        (
            "h: real",
            "mu = h, sigma = exp(h)",
            MapText::New,
            "the model has 2 parameters (mu, sigma) but 1 new one is declared: a change of coordinates keeps their number",
            "h: real",
        ),
    ];
    for (new, map, input, message, spanned) in cases {
        let (i, m, s) = refused("normal", new, map);
        assert_eq!(
            (i, m.as_str(), s.as_str()),
            (*input, *message, *spanned),
            "{new} / {map}"
        );
    }
}

#[test]
fn a_name_list_shares_its_domain() {
    let r = Reparam::new(
        &Model::builtin("gamma").unwrap(),
        "a, b: positive",
        "shape = a, rate = a/b",
    )
    .unwrap();
    assert_eq!(r.model.param_names(), ["a".into(), "b".into()]);
    assert!(r.matches_direct());
}

#[test]
fn an_identically_singular_map_is_not_invertible() {
    let m = Model::builtin("normal").unwrap();
    let e = Reparam::new(
        &m,
        "h: real, lambda: real",
        "mu = h + lambda, sigma = exp(h + lambda)",
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ReparamError::NotInvertible {
                identically: true,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().starts_with("the map is not invertible at h="),
        "{e}"
    );
}

#[test]
fn a_map_singular_at_a_sampled_point_is_not_invertible() {
    // mu = (h + 0.57)³ has dmu/dh = 0 at h = −0.57, the first sampled h (the fraction 0.31
    // of (−1.5, 1.5)), where det J = 0; elsewhere the map is invertible.
    let m = Model::builtin("normal").unwrap();
    let e = Reparam::new(&m, "h: real, s: positive", "mu = (h + 0.57)^3, sigma = s").unwrap_err();
    match &e {
        ReparamError::NotInvertible { identically, .. } => assert!(!identically),
        other => panic!("{other}"),
    }
    assert_eq!(
        e.to_string(),
        "the map is not invertible at h=-0.57, s=2.05: det J = 0"
    );
}

#[test]
fn a_map_that_leaves_the_old_domain_is_refused_with_the_point() {
    let m = Model::builtin("normal").unwrap();
    let e = Reparam::new(&m, "h: real, s: real", "mu = h, sigma = s").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ReparamError::OutOfDomain { .. }), "{msg}");
    assert!(
        msg.contains("outside the domain of `sigma`: it gives sigma = -")
            && msg.contains("but `sigma` is positive: greater than 0"),
        "{msg}"
    );
}

#[test]
fn new_texts_accept_newlines_and_trailing_commas() {
    let r = Reparam::new(
        &Model::builtin("bernoulli").unwrap(),
        "eta: real,\n",
        "p = 1/(1 + exp(-eta))\n",
    )
    .unwrap();
    assert!(r.matches_direct());
    assert!(matches!(
        refused("bernoulli", "  ", "p = 0.5").1.as_str(),
        "no new parameters are declared: give `NAME : DOMAIN, …`"
    ));
    let _ = MapErrorKind::NoParams; // the kind of the message above
}

#[test]
fn an_interval_domain_and_a_constant_in_the_map() {
    // p = (1 + r)/2 with r in (−1, 1): F_r = (1/4)/(p(1 − p)) = 1/(1 − r²).
    let r = Reparam::new(
        &Model::builtin("bernoulli").unwrap(),
        "r: interval(-1, 1)",
        "p = (1 + r)/2",
    )
    .unwrap();
    assert_eq!(r.model.params[0].domain.to_string(), "interval(-1, 1)");
    assert!(r.matches_direct());
    let p = &r.pullback.as_ref().unwrap()[0][0];
    for v in [-0.9, -0.3, 0.0, 0.5, 0.95] {
        let env: Env<f64> = [("r", v)].into_iter().collect();
        let want = 1.0 / (1.0 - v * v);
        assert!(
            (eval_f64(p, &env).unwrap() - want).abs() < 1e-13 * want,
            "{p} at {v}"
        );
    }
    // A constant of the model may appear on a right-hand side.
    let src = "const s0 = 2\ndata x : real\nparam mu : real\nparam sigma : positive\n\
               logp = -((x - mu)/(s0*sigma))^2/2 - ln(s0*sigma) - ln(2*pi)/2\n";
    let m = Model::parse(src, "scaled").unwrap();
    let r = Reparam::new(&m, "mu: real, t: positive", "mu = mu, sigma = t/s0").unwrap();
    assert!(r.matches_direct());
    assert_eq!(r.symbolic_zero, Some(true));
    assert_eq!(r.model.consts, m.consts);
    // F_tt = 2/t²: the model is the normal with standard deviation t.
    let env: Env<f64> = [("mu", 0.3), ("t", 1.7), ("s0", 2.0)].into_iter().collect();
    let f_tt = eval_f64(&r.pullback.as_ref().unwrap()[1][1], &env).unwrap();
    assert!((f_tt - 2.0 / (1.7 * 1.7)).abs() < 1e-14, "{f_tt}");
}
