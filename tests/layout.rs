//! DESIGN §3: data flows one way, and a module may use only the modules to its left in
//! `special → expr → eval → parse → model → diff → simplify → expect → info → render → cli`.
//! This test reads every source file and fails on a `crate::` path (outside comments and test
//! modules) that reaches to the right.

use std::path::Path;

const ORDER: &[&str] = &[
    "special",
    "expr",
    "eval",
    "parse",
    "model",
    "diff",
    "simplify",
    "expect",
    "info",
    "geometry",
    "inference",
    "render",
    "cli",
];

fn rank(module: &str) -> Option<usize> {
    ORDER.iter().position(|m| *m == module)
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::NAME` paths of `code`, outside comments.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `$crate::` in a macro is the crate root, not a module dependency of the file.
            if !rest[..i].ends_with('$') {
                found.push(name);
            }
            rest = after;
        }
    }
    found
}

#[test]
fn modules_use_only_modules_to_their_left() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let Some(me) = rank(&module) else {
            continue; // lib.rs, main.rs
        };
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for used in crate_paths(code) {
            if rank(&used).is_some_and(|r| r > me) {
                violations.push(format!("{}: uses crate::{used}", rel.display()));
            }
        }
    }
    assert!(files.len() > 30, "only {} source files found", files.len());
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_check_sees_a_violation() {
    let paths = crate_paths("use crate::render::text; // crate::cli\n$crate::model!()");
    assert_eq!(paths, ["render"]);
}
