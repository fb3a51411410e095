//! `fisher balls`: the JSON contract of DESIGN §5 (`file`, `radius`, `centers`), a clear
//! error and no file for every bad argument, LaTeX (snapshotted; CI checks it with KaTeX),
//! and the committed figures are exactly what the commands of `examples/figures/README.md`
//! write today.

mod common;

use std::path::{Path, PathBuf};

use common::run_args;

fn run(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["fisher"];
    all.extend_from_slice(args);
    run_args(all)
}

/// A fresh, empty directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fisher-balls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn json_has_the_contract_fields() {
    let dir = scratch("json");
    let out = dir.join("b.svg");
    let out_s = out.to_str().unwrap();
    let (code, stdout, err) = run(&[
        "balls",
        "bivariate_normal",
        "--x",
        "s1=0.5..1.5",
        "--y",
        "rho=-0.5..0.5",
        "--fix",
        "mu1=0,mu2=1,s2=2",
        "--grid",
        "3x2",
        "--radius",
        "0.2",
        "-o",
        out_s,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["file"], out_s);
    assert_eq!(v["radius"], 0.2);
    assert_eq!(v["x"], "s1");
    assert_eq!(v["y"], "rho");
    let centers = v["centers"].as_array().unwrap();
    assert_eq!(centers.len(), 6);
    // Row by row: x varies fastest; the fixed parameters in every centre.
    let s1: Vec<f64> = centers.iter().map(|c| c["s1"].as_f64().unwrap()).collect();
    let rho: Vec<f64> = centers.iter().map(|c| c["rho"].as_f64().unwrap()).collect();
    assert_eq!(s1, [0.5, 1.0, 1.5, 0.5, 1.0, 1.5]);
    assert_eq!(rho, [-0.5, -0.5, -0.5, 0.5, 0.5, 0.5]);
    for c in centers {
        assert_eq!(
            (c["mu1"].as_f64(), c["mu2"].as_f64()),
            (Some(0.0), Some(1.0))
        );
        assert_eq!(c["s2"].as_f64(), Some(2.0));
    }
    assert_eq!(v["fixed"]["s2"], 2.0);
    assert_eq!(v["whitened_at"], serde_json::Value::Null);
    for b in v["balls"].as_array().unwrap() {
        let gap = b["max_relative_gap"].as_f64().unwrap();
        assert!(gap > 0.0 && gap < 0.5, "{gap}");
        assert_eq!(b["cut_rays"], 0);
    }
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("ρ") && svg.contains("s₁"));
    assert_eq!(entries(&dir), ["b.svg"], "no temporary file left");
}

#[test]
fn text_names_the_file_the_radius_and_the_centres() {
    let dir = scratch("text");
    let out = dir.join("w.svg");
    let (code, stdout, err) = run(&[
        "balls",
        "normal",
        "--x",
        "mu=-1..1",
        "--y",
        "sigma=0.5..1.5",
        "--grid",
        "2x2",
        "--whiten-at",
        "mu=0,sigma=1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.starts_with(&format!("wrote {}\n", out.display())),
        "{stdout}"
    );
    assert!(stdout.contains("Fisher radius r = 0.1"), "{stdout}");
    assert!(stdout.contains("whitened at mu=0, sigma=1"), "{stdout}");
    // The whitening centre is not on the 2×2 grid, so it is drawn as a fifth ball.
    assert!(stdout.contains("centers (5)"), "{stdout}");
    for c in ["mu=-1, sigma=0.5", "mu=1, sigma=1.5", "mu=0, sigma=1"] {
        assert!(stdout.contains(c), "{c}: {stdout}");
    }
}

#[test]
fn a_ball_that_leaves_the_domain_is_reported_clipped() {
    let dir = scratch("clip");
    let out = dir.join("c.svg");
    let (code, stdout, err) = run(&[
        "balls",
        "normal",
        "--x",
        "mu=-1..1",
        "--y",
        "sigma=1..2",
        "--grid",
        "1x1",
        "--radius",
        "2.5",
        "-o",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["balls"][0]["ellipse_clipped"], true, "{v}");
    assert_eq!(v["centers"][0]["sigma"], 1.5);
}

/// Each bad argument: a message naming it, a non-zero exit, and no file.
#[test]
fn bad_arguments_are_refused_without_writing_a_file() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["normal", "--x", "mu=1..1", "--y", "sigma=1..2"],
            "is empty: give LO < HI",
        ),
        (
            &["normal", "--x", "mu=2..1", "--y", "sigma=1..2"],
            "is empty: give LO < HI",
        ),
        (
            &["normal", "--x", "mu=-1..1", "--y", "sigma=-1..2"],
            "leaves its domain",
        ),
        (
            &["normal", "--x", "mu=-1..1", "--y", "sigma=0..2"],
            "leaves its domain",
        ),
        (
            &["normal", "--x", "nu=-1..1", "--y", "sigma=1..2"],
            "`nu` is not a parameter",
        ),
        (
            &["normal", "--x", "mu=a..1", "--y", "sigma=1..2"],
            "`a` is not a finite number",
        ),
        (
            &["normal", "--x", "mu=-1:1", "--y", "sigma=1..2"],
            "not of the form NAME=LO..HI",
        ),
        (
            &["normal", "--x", "sigma=1..2", "--y", "sigma=1..2"],
            "both name `sigma`",
        ),
        (
            &[
                "bivariate_normal",
                "--x",
                "mu1=0..1",
                "--y",
                "mu2=0..1",
                "--fix",
                "s1=1,s2=1",
            ],
            "`rho` is neither plotted nor fixed",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--fix",
                "mu=0",
            ],
            "`mu` is plotted",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--grid",
                "0x3",
            ],
            "is not a grid",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--grid",
                "5y5",
            ],
            "is not a grid",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--radius",
                "0",
            ],
            "--radius",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--radius",
                "-1",
            ],
            "--radius",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--radius",
                "inf",
            ],
            "--radius",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--radius",
                "NaN",
            ],
            "--radius",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--whiten-at",
                "mu=0",
            ],
            "give both plotted parameters",
        ),
        (
            &[
                "normal",
                "--x",
                "mu=0..1",
                "--y",
                "sigma=1..2",
                "--whiten-at",
                "mu=0,sigma=-1",
            ],
            "outside the domain of `sigma`",
        ),
        (
            &["poisson", "--x", "lambda=1..2", "--y", "lambda=1..2"],
            "a plane of two parameters",
        ),
    ];
    let dir = scratch("errors");
    let out = dir.join("never.svg");
    for (args, want) in cases {
        let mut all = vec!["balls"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", out.to_str().unwrap()]);
        let (code, stdout, err) = run(&all);
        assert_ne!(code, 0, "{args:?} succeeded: {stdout}");
        assert!(err.contains(want), "{args:?}: expected `{want}` in {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            entries(&dir).is_empty(),
            "{args:?} left {:?}",
            entries(&dir)
        );
    }
}

#[test]
fn an_unwritable_output_is_an_error() {
    let dir = scratch("unwritable");
    let out = dir.join("no-such-folder").join("b.svg");
    let (code, _, err) = run(&[
        "balls",
        "normal",
        "--x",
        "mu=0..1",
        "--y",
        "sigma=1..2",
        "--grid",
        "1x1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot write"), "{err}");
}

#[test]
fn latex_output_is_snapshotted() {
    let dir = scratch("latex");
    let out = dir.join("l.svg");
    let (code, stdout, err) = run(&[
        "balls",
        "normal_info",
        "--x",
        "h=0..1",
        "--y",
        "lambda=1..2",
        "--grid",
        "2x1",
        "-o",
        out.to_str().unwrap(),
        "--format",
        "latex",
    ]);
    assert_eq!(code, 0, "{err}");
    common::with_snapshot_settings(|| {
        insta::assert_snapshot!("balls_latex", stdout);
    });
}

/// The `fisher balls`, `fisher geodesic` and `fisher natgrad` lines of the code block of
/// `examples/figures/README.md`.
fn readme_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/figures/README.md"
    ))
    .unwrap();
    readme
        .lines()
        .filter(|l| {
            ["fisher balls ", "fisher geodesic ", "fisher natgrad "]
                .iter()
                .any(|c| l.starts_with(c))
        })
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_committed_figures_are_what_the_readme_commands_write() {
    let commands = readme_commands();
    assert!(commands.len() >= 3, "{commands:?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = scratch("readme");
    for command in commands {
        let o = command.iter().position(|a| a == "-o").expect("-o FILE");
        let committed = root.join(&command[o + 1]);
        let fresh = dir.join(committed.file_name().unwrap());
        let mut args = command.clone();
        args[o + 1] = fresh.to_string_lossy().into_owned();
        let (code, _, err) = run_args(args.iter().map(String::as_str));
        assert_eq!(code, 0, "{command:?}: {err}");
        let want =
            std::fs::read(&committed).unwrap_or_else(|e| panic!("{}: {e}", committed.display()));
        assert!(
            std::fs::read(&fresh).unwrap() == want,
            "{} is stale: run `{}` from the top of the repository",
            committed.display(),
            command.join(" ")
        );
    }
}
