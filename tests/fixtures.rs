//! Fixture-driven snapshots: each `tests/fixtures/{valid,invalid}/*.model` file and each
//! built-in model yields one snapshot holding the source and either the parsed model or the
//! rendered error (colour off). Fixtures are read as bytes, as the command line reads a model
//! file, so the encoding fixtures (UTF-16, Latin-1) and the fuzzer's finds replay as found.

mod common;

use std::path::{Path, PathBuf};

use fisher_geometry::{Model, display_text};

/// The code frame the command line prints for the model file `dir/file_name`, which does
/// not load.
fn frame(dir: &Path, file_name: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fisher"))
        .current_dir(dir)
        .args(["derive", file_name])
        .env("NO_COLOR", "1")
        .output()
        .expect("the `fisher` binary runs");
    assert_eq!(out.status.code(), Some(1), "{file_name}");
    String::from_utf8(out.stderr).expect("utf-8")
}

/// The snapshot text for one model file (in `dir`, where the command line reads it if it
/// does not load).
fn describe(bytes: &[u8], dir: &Path, file_name: &str, stem: &str) -> (bool, String) {
    let source = display_text(bytes);
    let source = source.as_ref();
    match Model::from_bytes(bytes, stem) {
        Ok(m) => (true, format!("{source}\n---- model ----\n{m}")),
        Err(e) => {
            let (line, col) = e.line_col(source);
            let frame = frame(dir, file_name);
            assert!(frame.contains(&e.to_string()), "{frame}");
            let text = format!("{source}\n---- error at {line}:{col} ----\n{frame}");
            (false, text)
        }
    }
}

fn fixture_dir(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

fn fixture_files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fixture_dir(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "model"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn fixtures_valid() {
    let files = fixture_files("valid");
    assert!(files.len() >= 8);
    let dir = fixture_dir("valid");
    common::with_snapshot_settings(|| {
        for (stem, source) in files {
            let (ok, text) = describe(&source, &dir, &format!("{stem}.model"), &stem);
            assert!(ok, "{stem} should parse:\n{text}");
            insta::assert_snapshot!(format!("fixture_valid__{stem}"), text);
        }
    });
}

#[test]
fn fixtures_invalid() {
    let files = fixture_files("invalid");
    assert!(files.len() >= 28);
    let dir = fixture_dir("invalid");
    common::with_snapshot_settings(|| {
        for (stem, source) in files {
            let (ok, text) = describe(&source, &dir, &format!("{stem}.model"), &stem);
            assert!(!ok, "{stem} should be rejected:\n{text}");
            insta::assert_snapshot!(format!("fixture_invalid__{stem}"), text);
        }
    });
}

#[test]
fn builtins() {
    common::with_snapshot_settings(|| {
        for (name, source) in Model::builtins() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
            let (ok, text) = describe(source.as_bytes(), dir, &format!("{name}.model"), name);
            assert!(ok, "{name} should parse:\n{text}");
            insta::assert_snapshot!(format!("builtin__{name}"), text);
        }
    });
}
