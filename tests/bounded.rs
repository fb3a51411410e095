//! Bounded symbolic work on small models whose expressions are large trees but small DAGs:
//! chains of `let` definitions that reuse each other (rational and sin/cos), a normal with a
//! curved mean and standard deviation, and the four-outcome categorical in probabilities,
//! spelled three ways (fixtures under `tests/fixtures/bounded/`).
//!
//! Oracles: the derived score and Hessian against num-dual's derivatives of the model's own
//! log-density at a point; the categorical's closed-form Fisher matrix against the published
//! multinomial formula; the printed `let` form against the expressions it abbreviates, after
//! parsing it back as a model. Sizes are asserted against generous bounds, never times.

use std::process::Command;

use egg::Symbol;
use fisher_geometry::Derivation;
use fisher_geometry::{Domain, Support};
use fisher_geometry::{Env, eval_f64};
use fisher_geometry::{Expr, Model};
use fisher_geometry::{MIN_LETS_TREE, derivation_lets};

/// The fixtures, by file stem.
const FIXTURES: &[&str] = &[
    "categorical4_lets",
    "categorical4_inline",
    "categorical4_q",
    "normal_sqrt_ln",
    "chain_rational",
    "chain_data",
    "chain_trig",
];

/// Relative tolerance (scaled by `1 + |value|`) of derived values against num-dual.
const REL_TOL: f64 = 1e-8;

/// Most distinct nodes any derived expression may have (the chains need a few hundred).
const MAX_DAG: usize = 20_000;

/// Most characters the printed derivation (its `let` lines and expressions) may have; the
/// chains print about 12 KB, and 2.5 MB before `let` lines were printed.
const MAX_PRINTED: usize = 100_000;

fn load(name: &str) -> Model {
    let path = format!(
        "{}/tests/fixtures/bounded/{name}.model",
        env!("CARGO_MANIFEST_DIR")
    );
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Model::parse(&src, name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Points inside the declared domains: unit parameters take 0.2, 0.3, 0.1 in order (their
/// sum stays below 1), real ones 0.7 then -0.4, positive ones 1.3; a real datum is 0.4, an
/// integer one every value of its range.
fn points(model: &Model) -> Vec<Env<f64>> {
    let (mut units, mut reals) = ([0.2, 0.3, 0.1].into_iter(), [0.7, -0.4].into_iter());
    let mut env = Env::new();
    for p in &model.params {
        let v = match p.domain {
            Domain::Unit => units.next().expect("at most three unit parameters"),
            Domain::Real => reals.next().expect("at most two real parameters"),
            Domain::Positive => 1.3,
            Domain::Interval(..) => panic!("no interval parameters in the fixtures"),
        };
        env.insert(p.name, v);
    }
    let mut envs = vec![env];
    for d in &model.data {
        let values: Vec<f64> = match d.support {
            Support::Real => vec![0.4],
            Support::Int(lo, hi) => (lo..=hi).map(|k| k as f64).collect(),
            _ => panic!("no such data in the fixtures"),
        };
        envs = envs
            .iter()
            .flat_map(|e| {
                values.iter().map(move |v| {
                    let mut e = e.clone();
                    e.insert(d.name, *v);
                    e
                })
            })
            .collect();
    }
    envs
}

fn close(sym: f64, oracle: f64) -> bool {
    (sym - oracle).abs() <= REL_TOL * (1.0 + oracle.abs())
}

fn all_exprs(d: &Derivation) -> Vec<&Expr> {
    let dd = &d.derivatives;
    let mut v: Vec<&Expr> = vec![&dd.logp];
    v.extend(&dd.score);
    v.extend(dd.hessian.iter().flatten());
    if let Ok(f) = &d.fisher {
        v.extend(f.matrix.iter().flatten());
    }
    v.extend(&d.jeffreys);
    v
}

#[test]
fn score_and_hessian_match_dual_numbers() {
    for name in FIXTURES {
        let model = load(name);
        let d = fisher_geometry::derivation_opts(&model, false).unwrap();
        let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
        for env in points(&model) {
            let (value, g, h) =
                fisher_geometry::hessian(&model.logp, &params, &env).expect("evaluates");
            let logp = eval_f64(&d.derivatives.logp, &env).expect("evaluates");
            assert!(close(logp, value), "{name} logp: {logp} vs {value}");
            for (j, p) in params.iter().enumerate() {
                let s = eval_f64(&d.derivatives.score[j], &env).expect("evaluates");
                assert!(close(s, g[j]), "{name} score[{p}]: {s} vs {}", g[j]);
                for k in 0..params.len() {
                    let v = eval_f64(&d.derivatives.hessian[j][k], &env).expect("evaluates");
                    assert!(
                        close(v, h[(j, k)]),
                        "{name} H[{j}][{k}]: {v} vs {}",
                        h[(j, k)]
                    );
                }
            }
        }
    }
}

#[test]
fn derived_expressions_stay_small_dags() {
    for name in FIXTURES {
        let model = load(name);
        let d = fisher_geometry::derivation_opts(&model, false).unwrap();
        for e in all_exprs(&d) {
            assert!(e.dag_size() <= MAX_DAG, "{name}: {} nodes", e.dag_size());
        }
        let (lets, printed) = derivation_lets(&model, &d, MIN_LETS_TREE);
        let chars: usize = lets
            .iter()
            .map(|(n, e)| n.as_str().len() + e.to_string().len())
            .chain(all_exprs(&printed).iter().map(|e| e.to_string().len()))
            .sum();
        assert!(chars <= MAX_PRINTED, "{name}: {chars} characters");
    }
}

/// Fisher information of the categorical distribution with probabilities (p1, p2, p3,
/// 1 − p1 − p2 − p3): `F_jk = δ_jk/p_j + 1/(1 − p1 − p2 − p3)`. Lehmann & Casella, Theory of
/// Point Estimation, 2nd ed. (1998), §2.6, the multinomial example (one trial).
#[test]
fn categorical_in_probabilities_has_the_published_closed_form() {
    let thetas = [[0.2, 0.3, 0.1], [0.05, 0.6, 0.25], [0.4, 0.1, 0.45]];
    for name in ["categorical4_lets", "categorical4_inline", "categorical4_q"] {
        let model = load(name);
        let Ok(f) = fisher_geometry::closed_form(&model) else {
            panic!("{name}: no closed form");
        };
        for t in thetas {
            let env = Env::new()
                .with("p1", t[0])
                .with("p2", t[1])
                .with("p3", t[2]);
            let rest = 1.0 - t[0] - t[1] - t[2];
            for j in 0..3 {
                for k in 0..3 {
                    let want = if j == k { 1.0 / t[j] } else { 0.0 } + 1.0 / rest;
                    let got = eval_f64(&f.matrix[j][k], &env).expect("evaluates");
                    assert!(
                        (got - want).abs() <= 1e-10 * want,
                        "{name} F[{j}][{k}] at {t:?}: {got} vs {want}"
                    );
                }
            }
        }
    }
}

/// The `let` form, parsed back as a model (its `let` lines, then each expression as the
/// log-density), gives the expressions it stands for.
#[test]
fn printed_lets_parse_back_to_the_same_values() {
    for name in ["chain_rational", "chain_data", "chain_trig"] {
        let model = load(name);
        let d = fisher_geometry::derivation_opts(&model, false).unwrap();
        let (lets, printed) = derivation_lets(&model, &d, MIN_LETS_TREE);
        assert!(!lets.is_empty(), "{name}: expected `let` lines");
        let mut header = String::new();
        for v in &model.data {
            header.push_str(&format!("data {} : real\n", v.name));
        }
        for p in &model.params {
            header.push_str(&format!("param {} : real\n", p.name));
        }
        for (n, e) in &lets {
            header.push_str(&format!("let {n} = {e}\n"));
        }
        // Every name used, so that the loader accepts any expression as the log-density.
        let names: Vec<String> = model
            .params
            .iter()
            .map(|p| p.name.to_string())
            .chain(model.data.iter().map(|v| v.name.to_string()))
            .collect();
        let zero = format!("0*({})", names.join(" + "));
        let env = &points(&model)[0];
        for (full, short) in all_exprs(&d).into_iter().zip(all_exprs(&printed)) {
            let src = format!("{header}logp = {short} + {zero}\n");
            let back = Model::parse(&src, "back").unwrap_or_else(|e| panic!("{name}: {e}"));
            let want = eval_f64(full, env).expect("evaluates");
            let got = eval_f64(&back.logp, env).expect("evaluates");
            assert!(close(got, want), "{name}: {got} vs {want}");
        }
    }
}

#[test]
fn budgets_are_reported_and_deterministic() {
    for name in ["chain_rational", "chain_data", "chain_trig"] {
        let model = load(name);
        let first = fisher_geometry::derivation_opts(&model, false).unwrap();
        assert!(
            !first.derivatives.fallbacks.is_empty(),
            "{name}: a fallback must be reported"
        );
        let again = fisher_geometry::derivation_opts(&model, false).unwrap();
        assert_eq!(
            all_exprs(&first)
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>(),
            all_exprs(&again)
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>(),
            "{name}"
        );
    }
    // No budget is hit on the small models or the built-in ones.
    let builtins = Model::builtins()
        .into_iter()
        .map(|(n, src)| Model::parse(src, n).expect("built-in model parses"));
    let small = ["categorical4_lets", "normal_sqrt_ln"].map(load);
    for model in builtins.chain(small) {
        let d = fisher_geometry::simplify::derive(&model);
        assert!(d.fallbacks.is_empty(), "{}: {:?}", model.name, d.fallbacks);
    }
}

fn fisher(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fisher"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn derive_prints_lets_and_notes() {
    let path = format!(
        "{}/tests/fixtures/bounded/chain_trig.model",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = fisher(&["derive", &path]);
    // The model's own lets keep their names where they survive simplification (all ten
    // here); the other shared parts are v1, v2, …
    assert!(
        text.contains("\nshared subexpressions\n  let u1 = sin(a*b)\n  let u2 = cos(a + u1)\n"),
        "{text}"
    );
    for k in 1..=10 {
        assert!(text.contains(&format!("\n  let u{k} = ")), "u{k}: {text}");
    }
    assert!(text.contains("\n  let v1 = "), "{text}");
    assert!(
        text.contains("\nnote: score[a] written out is a tree of "),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fisher(&["derive", &path, "--format", "json"])).expect("json");
    let lets = json["lets"].as_array().expect("a `lets` field");
    assert!(
        lets.iter()
            .all(|l| l["name"].is_string() && l["expr"].is_string())
    );
    assert!(json["notes"].as_array().is_some_and(|n| !n.is_empty()));
    // The JSON of a small model has neither field.
    let small: serde_json::Value =
        serde_json::from_str(&fisher(&["derive", "normal", "--format", "json"])).expect("json");
    assert!(small.get("lets").is_none() && small.get("notes").is_none());
}

/// `fisher kl` on the sin/cos chain writes its closed-form divergence with `let` lines (the
/// model's own names first) instead of one line of 5,600 characters, and the small models'
/// divergences stay one line.
#[test]
fn kl_prints_a_long_divergence_with_lets() {
    let path = format!(
        "{}/tests/fixtures/bounded/chain_trig.model",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = fisher(&["kl", &path, "--p", "a=0.3,b=0.5", "--q", "a=0.4,b=0.5"]);
    assert!(text.contains("\n  let u1 = sin(a*b)\n"), "{text}");
    let d = text
        .lines()
        .find(|l| l.starts_with("  D = "))
        .expect("a D line");
    assert!(d.len() < 200, "{d}");
    assert!(text.lines().all(|l| l.len() < 400), "{text}");
    let small = fisher(&["kl", "normal", "--p", "mu=0,sigma=1", "--q", "mu=1,sigma=2"]);
    assert!(!small.contains("let "), "{small}");
}
