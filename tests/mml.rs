//! Minimum message length (MML87): Wallace's normal, model choice between gamma, exponential
//! and lognormal data, and the errors.

use fisher_geometry::{
    Dataset, FisherField, MmlError, MmlPrior, Model, Prior, lattice_constant, message_length,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Exp, Gamma, Normal};

fn sample(d: impl Distribution<f64>, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| d.sample(&mut rng)).collect()
}

fn length(name: &str, xs: &[f64], bounds: Vec<(f64, f64)>) -> f64 {
    let m = Model::builtin(name).unwrap();
    let field = FisherField::new(&m).unwrap();
    let data = Dataset::new(&m, vec![xs.to_vec()]).unwrap();
    let prior = MmlPrior::Jeffreys {
        bounds: Some(bounds),
    };
    message_length(&field, &data, &prior)
        .unwrap()
        .message_length
}

#[test]
fn lattice_constants() {
    assert!((lattice_constant(1).unwrap() - 0.083_333_333_333_333_33).abs() < 1e-17);
    // 5/(36√3) = 0.0801875…, 19/(192·2^{1/3}) = 0.0785433… (Conway & Sloane, Table 2.3).
    assert!((lattice_constant(2).unwrap() - 0.080_187_537_387_448).abs() < 1e-15);
    assert!((lattice_constant(3).unwrap() - 0.078_543_281_217_177).abs() < 1e-15);
    assert!(lattice_constant(9).is_none());
}

/// Wallace (2005), *Statistical and Inductive Inference by Minimum Message Length*, ch. 5: the
/// normal with a uniform prior on μ and the scale-invariant prior 1/σ has the MML87 estimates
/// μ̂ = x̄ and σ̂² = Σ(x − x̄)²/(N − 1), and with that prior normalized on the box
/// μ ∈ (−10, 10), σ ∈ (0.1, 10), `h = 1/(20 σ ln 100)`, `det(N F) = 2N²/σ⁴`, the length
/// `I = ln(20 ln 100) + ln(√2 N) + (N − 1) ln σ̂ + (N/2) ln 2π + (N − 1)/2 + 1 + ln κ₂`.
#[test]
fn wallace_normal() {
    let xs = sample(Normal::new(1.5, 2.0).unwrap(), 40, 7);
    let m = Model::builtin("normal").unwrap();
    let field = FisherField::new(&m).unwrap();
    let data = Dataset::new(&m, vec![xs.clone()]).unwrap();
    let prior = MmlPrior::Given {
        prior: Box::new(Prior::parse(&m, "-ln(sigma)").unwrap()),
        bounds: Some(vec![(-10.0, 10.0), (0.1, 10.0)]),
    };
    let r = message_length(&field, &data, &prior).unwrap();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let ss: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
    let sigma = (ss / (n - 1.0)).sqrt();
    assert!((r.estimate[0] - mean).abs() < 1e-9, "{:?}", r.estimate);
    assert!(
        (r.estimate[1] / sigma - 1.0).abs() < 1e-9,
        "{:?} vs {sigma}",
        r.estimate
    );
    let pi2 = 2.0 * std::f64::consts::PI;
    let expected = (20.0 * 100f64.ln()).ln()
        + (2f64.sqrt() * n).ln()
        + (n - 1.0) * sigma.ln()
        + 0.5 * n * pi2.ln()
        + 0.5 * (n - 1.0)
        + 1.0
        + lattice_constant(2).unwrap().ln();
    assert!(
        (r.message_length - expected).abs() < 1e-7,
        "{} vs {expected}",
        r.message_length
    );
    // The MLE beside it: σ̂² = Σ(x − x̄)²/N; AIC and BIC at it.
    assert!((r.mle[1] - (ss / n).sqrt()).abs() < 1e-9);
    assert!((r.aic - (4.0 - 2.0 * r.max_log_likelihood)).abs() < 1e-9);
    assert!((r.bic - (2.0 * n.ln() - 2.0 * r.max_log_likelihood)).abs() < 1e-9);
}

#[test]
fn gamma_data_choose_the_gamma() {
    // gamma(shape 3, rate 2): neither exponential (shape 1) nor lognormal.
    let xs = sample(Gamma::new(3.0, 0.5).unwrap(), 300, 11);
    let gamma = length("gamma", &xs, vec![(0.05, 50.0), (0.01, 50.0)]);
    let exponential = length("exponential", &xs, vec![(0.01, 50.0)]);
    let lognormal = length("lognormal", &xs, vec![(-10.0, 10.0), (0.02, 10.0)]);
    assert!(gamma < exponential, "{gamma} vs {exponential}");
    assert!(gamma < lognormal, "{gamma} vs {lognormal}");
}

#[test]
fn exponential_data_choose_the_exponential() {
    let xs = sample(Exp::new(1.7).unwrap(), 300, 12);
    let gamma = length("gamma", &xs, vec![(0.05, 50.0), (0.01, 50.0)]);
    let exponential = length("exponential", &xs, vec![(0.01, 50.0)]);
    let lognormal = length("lognormal", &xs, vec![(-10.0, 10.0), (0.02, 10.0)]);
    assert!(exponential < gamma, "{exponential} vs {gamma}");
    assert!(exponential < lognormal, "{exponential} vs {lognormal}");
}

#[test]
fn errors() {
    let m = Model::builtin("normal").unwrap();
    let field = FisherField::new(&m).unwrap();
    let data = Dataset::new(&m, vec![vec![0.3, 1.2, -0.4, 2.0]]).unwrap();
    // The normal's Jeffreys prior is improper: a box is needed.
    let e = message_length(&field, &data, &MmlPrior::Jeffreys { bounds: None }).unwrap_err();
    assert!(
        matches!(
            e,
            MmlError::Normalize {
                over_domain: true,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("--box"), "{e}");
    // The estimate outside the box.
    let prior = MmlPrior::Jeffreys {
        bounds: Some(vec![(5.0, 6.0), (0.1, 10.0)]),
    };
    let e = message_length(&field, &data, &prior).unwrap_err();
    assert!(matches!(e, MmlError::OutsideBox { .. }), "{e}");
    // A box that leaves the domain.
    let prior = MmlPrior::Jeffreys {
        bounds: Some(vec![(-1.0, 1.0), (-1.0, 10.0)]),
    };
    let e = message_length(&field, &data, &prior).unwrap_err();
    assert!(matches!(e, MmlError::Box(_)), "{e}");
}
