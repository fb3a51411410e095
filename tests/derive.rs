//! `fisher derive` on every built-in model: text and LaTeX snapshots of the score and
//! Hessian, the JSON contract, and the textbook form of the normal model's derivatives.

mod common;

use common::run_args;
use fisher_geometry::{Model, simplify};

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn derive_text_and_latex_of_every_builtin() {
    for (name, _) in Model::builtins() {
        for format in ["text", "latex"] {
            let (code, out, err) = run_args(["fisher", "derive", name, "--format", format]);
            assert_eq!(code, 0, "{name} {format}: {err}");
            snapshot_settings()
                .bind(|| insta::assert_snapshot!(format!("derive_{format}__{name}"), out));
        }
    }
}

#[test]
fn normal_derivatives_read_like_a_textbook() {
    let model = Model::builtin("normal").unwrap();
    let d = simplify::derive(&model);
    let score: Vec<String> = d.score.iter().map(|e| e.to_string()).collect();
    assert_eq!(score, ["(x - mu)/sigma^2", "(x - mu)^2/sigma^3 - 1/sigma"]);
    let h: Vec<Vec<String>> = d
        .hessian
        .iter()
        .map(|r| r.iter().map(|e| e.to_string()).collect())
        .collect();
    assert_eq!(h[0][0], "-1/sigma^2");
    assert_eq!(h[0][1], "-2*(x - mu)/sigma^3");
    assert_eq!(h[1][0], h[0][1]);
    assert_eq!(h[1][1], "1/sigma^2 - 3*(x - mu)^2/sigma^4");
}

#[test]
fn derive_json_has_the_contract_fields() {
    let (code, out, err) = run_args(["fisher", "derive", "gamma", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for field in [
        "model", "params", "data", "logp", "score", "hessian", "fisher", "jeffreys",
    ] {
        assert!(v.get(field).is_some(), "missing `{field}` in {out}");
    }
    assert_eq!(v["model"], "gamma");
    assert_eq!(v["params"].as_array().unwrap().len(), 2);
    assert_eq!(v["score"].as_array().unwrap().len(), 2);
    assert_eq!(v["hessian"].as_array().unwrap().len(), 2);
    assert!(v["fisher"]["method"] == "closed-form" || v["fisher"]["method"] == "numeric");
    assert!(v["fisher"].get("matrix").is_some());
}

#[test]
fn json_expressions_parse_back_as_the_same_model_language() {
    // Every expression printed in JSON pastes back into a model file.
    for (name, _) in Model::builtins() {
        let (_, out, _) = run_args(["fisher", "derive", name, "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let model = Model::builtin(name).unwrap();
        let decls: String = model
            .params
            .iter()
            .map(|p| format!("param {} : real\n", p.name))
            .chain(
                model
                    .data
                    .iter()
                    .map(|d| format!("data {} : real\n", d.name)),
            )
            .chain(
                model
                    .consts
                    .iter()
                    .map(|(n, c)| format!("const {n} = {c}\n")),
            )
            .collect();
        let mut all = vec![v["logp"].as_str().unwrap().to_string()];
        all.extend(
            v["score"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string()),
        );
        for e in all {
            // A derivative may lack some names; the parse must fail only for that reason.
            let src = format!("{decls}logp = {e}\n");
            if let Err(err) = Model::parse(&src, "pasted") {
                let msg = err.to_string();
                assert!(
                    msg.contains("does not occur"),
                    "{name}: `{e}` does not parse back: {msg}"
                );
            }
        }
    }
}

#[test]
fn unknown_model_is_a_clear_error() {
    let (code, out, err) = run_args(["fisher", "derive", "no-such-model"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("neither a model file nor a built-in model"),
        "{err}"
    );
}

#[test]
fn list_names_every_builtin() {
    let (code, out, _) = run_args(["fisher", "list"]);
    assert_eq!(code, 0);
    for name in [
        "normal",
        "normal_info",
        "gamma",
        "beta",
        "poisson",
        "bernoulli",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{out}"
        );
    }
}

/// The closed-form KL divergence of every built-in that has one, as text and as LaTeX (the
/// LaTeX snapshots are checked by KaTeX in CI); the others say why there is none.
#[test]
fn closed_form_kl_text_and_latex_of_every_builtin() {
    let mut closed = 0;
    for (name, _) in Model::builtins() {
        let model = Model::builtin(name).unwrap();
        let Ok(kl) = fisher_geometry::closed_kl(&model) else {
            continue;
        };
        closed += 1;
        let text = format!("D = {}\n", kl.expr);
        let latex = format!(
            "D(\\theta \\| \\theta_{{q}}) = {}\n",
            fisher_geometry::latex(&kl.expr)
        );
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("kl_text__{name}"), text);
            insta::assert_snapshot!(format!("kl_latex__{name}"), latex);
        });
    }
    assert!(closed >= 20, "only {closed} closed-form divergences");
}
