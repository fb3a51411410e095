//! Inputs at the edges: long sums go through the whole pipeline in bounded time, deep
//! nesting is a clear error, and the command line turns every bad model into an error frame
//! with exit code 1, never a panic.

use fisher_geometry::{Model, simplify};

#[test]
fn ten_thousand_term_sum_parses_differentiates_and_simplifies() {
    let terms: Vec<String> = (0..10_000)
        .map(|k| format!("{}*x*mu^2", k % 7 + 1))
        .collect();
    let src = format!(
        "data x : real\nparam mu : real\nlogp = {}\n",
        terms.join(" + ")
    );
    let model = Model::parse(&src, "long").unwrap();
    let d = simplify::derive(&model);
    // Σ c_k x μ² with Σ c_k = 40_000 - 3 (the pattern 1..7 repeated): ∂/∂μ = 2·39997·x·μ.
    let total: u32 = (0..10_000).map(|k| k % 7 + 1).sum();
    assert_eq!(d.score[0].to_string(), format!("{}*mu*x", 2 * total));
    assert_eq!(d.hessian[0][0].to_string(), format!("{}*x", 2 * total));
}

#[test]
fn ten_thousand_nested_parentheses_are_a_clear_error() {
    let src = format!(
        "data x : real\nparam mu : real\nlogp = {}x - mu{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let err = Model::parse(&src, "deep").unwrap_err();
    assert!(err.to_string().contains("nested too deeply"), "{err}");
}

#[test]
fn command_line_reports_bad_models_with_a_frame() {
    let dir = std::env::temp_dir().join(format!("fisher-robustness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "typo.model",
            "data x : real\nparam mu : real\nlogp = -(x - mu)^2 + sigam\n",
            "sigam",
        ),
        (
            "arity.model",
            "data x : real\nparam mu : real\nlogp = ln(x, mu)\n",
            "ln",
        ),
        ("nologp.model", "data x : real\nparam mu : real\n", "logp"),
    ];
    for (file, src, needle) in cases {
        let path = dir.join(file);
        std::fs::write(&path, src).unwrap();
        let (code, out, err) = run_args(["fisher", "derive", path.to_str().unwrap()]);
        assert_eq!(code, 1, "{file}");
        assert!(out.is_empty(), "{file}: nothing on stdout");
        assert!(err.contains(needle) && err.contains('│'), "{file}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ten_thousand_distinct_terms_stay_bounded() {
    // No like terms to collect: the e-graph is skipped above its input limit and the
    // canonical pass alone keeps every term.
    let terms: Vec<String> = (1..=10_000).map(|k| format!("sin({k}*mu)")).collect();
    let src = format!(
        "data x : real\nparam mu : real\nlogp = x*mu + {}\n",
        terms.join(" + ")
    );
    let model = Model::parse(&src, "wide").unwrap();
    let d = simplify::derive(&model);
    let printed = d.score[0].to_string();
    assert!(
        printed.starts_with("x + "),
        "{}",
        &printed[..80.min(printed.len())]
    );
    assert_eq!(printed.matches("cos(").count(), 10_000);
    assert_eq!(d.hessian[0][0].to_string().matches("sin(").count(), 10_000);
}

mod common;

use common::run_args;
use fisher_geometry::display_text;
use fisher_geometry::latex_name;
use fisher_geometry::{MAX_NAME_LEN, MAX_NODES};

/// The located error of a model source: `(line, column, message)`.
fn located(src: &str) -> (usize, usize, String) {
    let e = Model::parse(src, "m").unwrap_err();
    let (line, col) = e.line_col(src);
    (line, col, e.to_string())
}

#[test]
fn a_32766_character_name_is_refused_where_it_is_written() {
    let name = "m".repeat(32_766);
    let src = format!("data x : real\nparam {name} : real\nlogp = -(x - {name})^2/2\n");
    let (line, col, msg) = located(&src);
    // `param ` is six characters; the caret sits on the first character past the limit.
    assert_eq!((line, col), (2, 7 + MAX_NAME_LEN), "{msg}");
    assert_eq!(msg, "name of 32766 characters is too long (at most 255)");
}

#[test]
fn the_longest_name_goes_through_derive() {
    let name = "s".repeat(MAX_NAME_LEN);
    let other = "t".repeat(MAX_NAME_LEN);
    let path = std::env::temp_dir().join(format!("fisher-long-name-{}.model", std::process::id()));
    std::fs::write(
        &path,
        format!("data x : real\nparam {name} : real\nparam {other} : positive\nlogp = -((x - {name})/{other})^2/2 - ln({other}) - ln(2*pi)/2\n"),
    )
    .unwrap();
    let (code, out, err) = run_args(["fisher", "derive", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("[{name}, {other}] = ")), "{out}");
}

#[test]
fn a_million_character_identifier_with_a_typo_is_a_bounded_error() {
    let name = "a".repeat(1_000_000);
    let mut typo = name.clone();
    typo.replace_range(10..11, "b");
    let src = format!("data x : real\nparam {name} : real\nlogp = x*{typo}\n");
    let (line, col, msg) = located(&src);
    assert_eq!((line, col), (2, 7 + MAX_NAME_LEN));
    assert!(msg.contains("1000000 characters"), "{msg}");
}

#[test]
fn a_million_term_sum_is_refused_with_its_location() {
    let terms = vec!["x*mu"; 1_000_000].join(" + ");
    let src = format!("data x : real\nparam mu : real\nlogp = {terms}\n");
    let (line, col, msg) = located(&src);
    assert_eq!(line, 3);
    // `logp = ` and (MAX_NODES/4 rounded) `x*mu + ` terms: the caret is on a leaf near the
    // limit, not at the start of the line.
    assert!(col > MAX_NODES, "{col}");
    assert!(msg.contains("expression too large"), "{msg}");
}

#[test]
fn lets_that_double_are_refused_once_inlined() {
    let mut src = String::from("data x : real\nparam mu : real\nlet a0 = x*mu\n");
    for k in 1..=40 {
        src.push_str(&format!("let a{k} = a{} + a{}\n", k - 1, k - 1));
    }
    src.push_str("logp = a40 - mu^2\n");
    let (line, _, msg) = located(&src);
    assert_eq!(line, 44, "{msg}");
    assert!(msg.contains("too large with every `let` inlined"), "{msg}");
}

#[test]
fn underflow_and_subnormals() {
    let src =
        |lit: &str| format!("data x : real\nparam mu : real\nlogp = -(x - mu)^2/2 + {lit}*mu\n");
    let (line, col, msg) = located(&src("1e-999"));
    assert_eq!((line, col), (3, 24));
    assert!(msg.contains("`1e-999` underflows"), "{msg}");
    let (_, _, msg) = located(&src("1e999"));
    assert!(msg.contains("`1e999` is out of range"), "{msg}");
    // The smallest subnormal keeps its exact value; zero written small is zero.
    for (lit, want) in [
        ("4.9406564584124654e-324", f64::from_bits(1)),
        ("0.0e-999", 0.0),
    ] {
        let m = Model::parse(&format!("const c = {lit}\n{}", src("c")), "m").unwrap();
        assert_eq!(m.consts[0].1, want, "{lit}");
    }
}

#[test]
fn encodings_are_named_or_located() {
    let text = "data x : real\nparam mu : real\nlogp = -(x - mu)^2/2\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let e = Model::from_bytes(&utf16, "m").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the file looks like UTF-16 (little-endian); save it as UTF-8"
    );
    let latin1 = b"data x : real\nparam mu : real # \xB5\nlogp = -(x - mu)^2/2\n";
    let e = Model::from_bytes(latin1, "m").unwrap_err();
    assert_eq!(e.line_col(&display_text(latin1)), (2, 19));
    assert!(e.to_string().contains("`0xB5`"), "{e}");
    // the command line's code frame locates it too
    let dir = std::env::temp_dir().join(format!("fisher-latin1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m.model"), latin1).unwrap();
    let out = fisher(&dir, &["derive", "m.model"]).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let frame = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{frame}");
    assert!(frame.contains("m.model:2:19"), "{frame}");
    assert!(frame.contains("`0xB5`"), "{frame}");
}

#[test]
fn a_model_without_data_is_refused() {
    let (line, col, msg) = located("param mu : real\nlogp = -mu^2/2\n");
    assert_eq!((line, col), (2, 1));
    assert_eq!(msg, "a model needs at least one `data` declaration");
}

#[test]
fn polygamma_orders_are_checked_at_load() {
    let src = |order: &str| {
        format!("data x : positive\nparam mu : positive\nlogp = -x*polygamma({order}, mu)\n")
    };
    let (line, col, msg) = located(&src("x"));
    assert_eq!((line, col), (3, 21));
    assert!(msg.contains("without names"), "{msg}");
    let (_, _, msg) = located(&src("1e10"));
    assert!(msg.contains("from 0 to 166, found `10000000000`"), "{msg}");
    assert!(Model::parse(&src("166"), "m").is_ok());
    assert!(Model::parse(&src("1+1"), "m").is_ok());
    assert!(Model::parse(&src("167"), "m").is_err());
}

/// Every identifier over `a`, `b`, `1`, `_` up to five characters (those the lexer accepts:
/// not starting with a digit), and some longer ones.
fn identifiers() -> Vec<String> {
    let alphabet = ['a', 'b', '1', '_'];
    let mut all = Vec::new();
    let mut level = vec![String::new()];
    for _ in 0..5 {
        level = level
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
        all.extend(level.iter().filter(|s| !s.starts_with('1')).cloned());
    }
    all.extend(["sigma_", "_sigma", "mu__1", "eta1_", "x_1_2_3"].map(String::from));
    all.push("a_".repeat(MAX_NAME_LEN / 2));
    all.push("z".repeat(MAX_NAME_LEN));
    all
}

/// The TeX rules a name's rendering must keep: braces balance, every `_` is `\_` or starts a
/// subscript group `_{…}` after a base, and no subscript group is followed by another.
fn valid_tex(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let mut depth = 0i32;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'{' if i == 0 || b[i - 1] != b'\\' => depth += 1,
            b'}' if i == 0 || b[i - 1] != b'\\' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced `}`".into());
                }
                if b[i + 1..].starts_with(b"_") && closes_subscript(b, i) {
                    return Err("double subscript".into());
                }
            }
            b'_' if i > 0 && b[i - 1] == b'\\' => {}
            b'_' => {
                if i == 0 || matches!(b[i - 1], b'{' | b'_' | b'^' | b',') {
                    return Err(format!("subscript without a base at {i}"));
                }
                if b.get(i + 1) != Some(&b'{') {
                    return Err(format!("bare `_` at {i}"));
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        Ok(())
    } else {
        Err("unbalanced `{`".into())
    }
}

/// Whether the `}` at `close` ends a group opened by `_{`.
fn closes_subscript(b: &[u8], close: usize) -> bool {
    let mut depth = 0;
    for j in (0..close).rev() {
        match b[j] {
            b'}' => depth += 1,
            b'{' if depth == 0 => return j > 0 && b[j - 1] == b'_',
            b'{' => depth -= 1,
            _ => {}
        }
    }
    false
}

#[test]
fn every_identifier_renders_as_valid_latex() {
    for name in identifiers() {
        let tex = latex_name(&name);
        if let Err(why) = valid_tex(&tex) {
            panic!("{name} → {tex}: {why}");
        }
    }
    assert!(valid_tex("x_{1}_{2}").is_err());
    assert!(valid_tex("_").is_err());
    assert!(valid_tex("\\mathrm{a\\_}").is_ok());
    // A sample for KaTeX in CI (`node .ci/katex-check.mjs snapshots`), one name per line.
    let sample: Vec<String> = [
        "_", "__", "_1", "_a", "a_", "a__b", "a_1_", "x1_", "_sigma", "sigma_", "mu__1", "eta1_",
        "x_1_2_3", "a_b_c", "b1a", "a11", "a_1",
    ]
    .iter()
    .map(|n| latex_name(n))
    .chain([
        latex_name(&"a_".repeat(MAX_NAME_LEN / 2)),
        latex_name(&"z".repeat(40)),
    ])
    .collect();
    common::with_snapshot_settings(|| {
        insta::assert_snapshot!("latex_identifiers", sample.join("\n"));
    });
}

#[test]
fn list_and_check_print_latex() {
    let (code, out, err) = run_args(["fisher", "list", "--format", "latex"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), Model::builtins().len());
    assert!(
        out.lines()
            .all(|l| l.contains("\\ell(") && l.contains("\\in")),
        "{out}"
    );
    common::with_snapshot_settings(|| {
        insta::assert_snapshot!("list_latex", out);
    });
    let (code, out, err) = run_args([
        "fisher", "check", "normal", "--points", "1", "--format", "latex",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\\mathbf{F}(\\theta) = \\begin{pmatrix}"),
        "{out}"
    );
    assert!(out.contains("\\text{all checks passed}"), "{out}");
    assert!(!out.contains("theta ||"), "no plain-text labels: {out}");
}

/// The `fisher` binary, run in `dir` with `args`.
fn fisher(dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fisher"));
    cmd.current_dir(dir).args(args).env("NO_COLOR", "1");
    cmd
}

#[test]
fn a_file_named_like_a_built_in_is_used_and_says_so() {
    let dir = std::env::temp_dir().join(format!("fisher-shadow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("normal"),
        "model my_normal\ndata x : real\nparam m : real\nlogp = -(x - m)^2/2 - ln(2*pi)/2\n",
    )
    .unwrap();
    let out = fisher(&dir, &["derive", "normal"]).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("model my_normal"), "{stdout}");
    assert!(
        stderr.contains("`normal` is both a file and a built-in model; using the file"),
        "{stderr}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_with_a_message() {
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = fisher(&std::env::temp_dir(), &["derive", "normal"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cannot write the output: No space left on device"),
        "{stderr}"
    );
}

#[test]
fn a_closed_pipe_exits_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // every write now fails with a broken pipe
    let out = fisher(&std::env::temp_dir(), &["derive", "normal"])
        .stdout(writer)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fuzzer_finds_that_load_also_derive() {
    // The fuzz target derives what loads; its finds under `valid/` (named `fuzz_*`) replay
    // that here: a timeout under the fuzzer's instrumentation must still finish.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let mut found = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !stem.starts_with("fuzz_") {
            continue;
        }
        let model = Model::from_bytes(&std::fs::read(&path).unwrap(), &stem).unwrap();
        let d = fisher_geometry::derivation_opts(&model, false).unwrap();
        assert_eq!(d.derivatives.hessian.len(), model.params.len(), "{stem}");
        found += 1;
    }
    assert!(found >= 1);
}
