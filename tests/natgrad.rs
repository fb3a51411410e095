//! The seed's invariance claim for the natural gradient: the same start and learning rate in
//! (μ, σ) and in the information form (h, λ) = (μ/σ², 1/σ²) give the same distributions to
//! first order in the step. Over a fixed span of "time" (steps × rate = ½) the corresponding
//! iterates differ by O(α), so the KL divergence between them falls like α²; under the plain
//! gradient the two paths are different curves and the divergence does not fall.

use fisher_geometry::{
    Ascent, AscentPath, Dataset, FieldOptions, FisherField, Likelihood, Model, StepError, ascend,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

fn setup(name: &str, xs: &[f64]) -> (FisherField, Likelihood) {
    let m = Model::builtin(name).unwrap();
    let f = FisherField::with_options(&m, FieldOptions::default()).unwrap();
    let data = Dataset::new(&m, vec![xs.to_vec()]).unwrap();
    let l = Likelihood::new(&f, &data).unwrap();
    (f, l)
}

/// `D(N(μa, σa²) ‖ N(μb, σb²)) = ln(σb/σa) + (σa² + (μa − μb)²)/(2σb²) − ½`.
fn kl(a: (f64, f64), b: (f64, f64)) -> f64 {
    (b.1 / a.1).ln() + (a.1 * a.1 + (a.0 - b.0).powi(2)) / (2.0 * b.1 * b.1) - 0.5
}

fn from_info(p: &[f64]) -> (f64, f64) {
    (p[0] / p[1], 1.0 / p[1].sqrt())
}

/// The largest KL divergence between corresponding iterates of the two parameterizations.
fn gap(rule: Ascent, rate: f64, xs: &[f64]) -> f64 {
    let (fa, la) = setup("normal", xs);
    let (fb, lb) = setup("normal_info", xs);
    let (mu, sigma) = (0.0, 1.5);
    let steps = (0.5 / rate).round() as usize;
    let a: AscentPath = ascend(&fa, &la, &[mu, sigma], steps, rate, rule).unwrap();
    let b = ascend(
        &fb,
        &lb,
        &[mu / (sigma * sigma), 1.0 / (sigma * sigma)],
        steps,
        rate,
        rule,
    )
    .unwrap();
    assert_eq!(a.stopped, None);
    assert_eq!(b.stopped, None);
    a.points
        .iter()
        .zip(&b.points)
        .map(|(p, q)| kl((p[0], p[1]), from_info(q)))
        .fold(0.0, f64::max)
}

fn data() -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(3);
    let d = Normal::new(1.0, 2.0).unwrap();
    (0..200).map(|_| d.sample(&mut rng)).collect()
}

#[test]
fn natural_gradient_is_invariant_to_first_order() {
    let xs = data();
    let gaps: Vec<f64> = [0.05, 0.025, 0.0125, 0.00625]
        .iter()
        .map(|&r| gap(Ascent::Natural, r, &xs))
        .collect();
    for w in gaps.windows(2) {
        let ratio = w[0] / w[1];
        // α² scaling: a ratio of 4 per halving of α.
        // (measured: 4.51, 4.23, 4.11)
        assert!((3.5..4.9).contains(&ratio), "{gaps:?}: ratio {ratio}");
    }
    assert!(gaps[3] < 1e-5, "{gaps:?}");
}

#[test]
fn plain_gradient_is_not() {
    let xs = data();
    let gaps: Vec<f64> = [0.02, 0.01, 0.005]
        .iter()
        .map(|&r| gap(Ascent::Plain, r, &xs))
        .collect();
    // The two plain paths are different curves: the gap stays large as α falls.
    for g in &gaps {
        assert!(*g > 0.05, "{gaps:?}");
    }
    assert!(gaps[2] > 0.5 * gaps[0], "{gaps:?}");
}

#[test]
fn a_step_out_of_the_domain_ends_the_path() {
    let xs = data();
    let (f, l) = setup("normal", &xs);
    // From σ = 10, far above the data's spread, a large plain step overshoots to σ < 0: it
    // is reported, not clipped.
    let p = ascend(&f, &l, &[1.0, 10.0], 50, 200.0, Ascent::Plain).unwrap();
    let why = p.stopped.clone().expect("the path should stop");
    assert!(why.contains("sigma") || why.contains("not finite"), "{why}");
    assert_eq!(p.points.len(), p.log_likelihood.len());
    let e = ascend(&f, &l, &[0.0, 1.0], 3, -1.0, Ascent::Natural).unwrap_err();
    assert!(matches!(e, StepError::Rate(_)), "{e}");
    // The natural gradient ascends: ℓ rises along its path at a small rate.
    let p = ascend(&f, &l, &[-1.0, 0.8], 20, 0.1, Ascent::Natural).unwrap();
    assert!(
        p.log_likelihood.windows(2).all(|w| w[1] > w[0]),
        "{:?}",
        p.log_likelihood
    );
}
