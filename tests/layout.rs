//! DESIGN §3: data flows one way, and a module may use only the modules to its left in
//! `special → expr → eval → parse → model → diff → simplify → expect → info → geometry →
//! inference → render → cli`.
//! This test reads every source file and fails on a `crate::` path (outside comments and test
//! modules) that reaches to the right, in every form: `crate::m::x`, `use crate::{a, b}` and
//! `use crate::{a::x, b::{y, z}}`. A second test fails on two files of one module that import
//! each other (`super::x`, `crate::m::x`, or an item of `x` re-exported by `m/mod.rs`).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

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

/// Pairs of sibling files that import each other today, as `"dir/a.rs <-> dir/b.rs"` with the
/// two names in sorted order. A cycle not listed here fails the test, and so does a listed one
/// between two files that exist but no longer import each other.
const ALLOWED_CYCLES: &[&str] = &[];

fn rank(module: &str) -> Option<usize> {
    ORDER.iter().position(|m| *m == module)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a source file: line comments removed, and every `#[cfg(test)]` item (a test
/// module or helper, which may use anything) left out.
fn code_of(text: &str) -> String {
    let code: Vec<char> = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .chars()
        .collect();
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < code.len() {
        if code[i..].starts_with(&marker) {
            i = end_of_item(&code, i + marker.len());
        } else {
            out.push(code[i]);
            i += 1;
        }
    }
    out
}

/// The index just past the item that starts at `code[i..]`: through its first `;` or through
/// the `}` that closes its first `{`, skipping string and character literals.
fn end_of_item(code: &[char], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < code.len() {
        match code[i] {
            '"' => {
                i += 1;
                while i < code.len() && code[i] != '"' {
                    i += if code[i] == '\\' { 2 } else { 1 };
                }
            }
            '\'' if code.get(i + 2) == Some(&'\'') => i += 2, // '{'
            '\'' if code.get(i + 1) == Some(&'\\') => {
                // '\n', '\'', '\u{7b}': on to the first quote after the escaped character
                i += 3;
                while i < code.len() && code[i] != '\'' {
                    i += 1;
                }
            }
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            ';' if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    code.len()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A path named in code: its segments, and the name it is imported as (`as NAME`, else the
/// last segment).
#[derive(Debug, Clone, PartialEq)]
struct UsePath {
    segments: Vec<String>,
    alias: Option<String>,
}

impl UsePath {
    fn name(&self) -> Option<&str> {
        self.alias
            .as_deref()
            .or(self.segments.last().map(String::as_str))
    }
}

/// Parses a use tree at `s[*i..]` (`a::b`, `a::{b, c::{d}}`, `a as b`, `*`) and appends the
/// paths it names, each after `prefix`.
fn use_tree(s: &[char], i: &mut usize, prefix: &[String], out: &mut Vec<UsePath>) {
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && s[*i].is_whitespace() {
            *i += 1;
        }
    };
    skip_ws(i);
    if *i < s.len() && s[*i] == '{' {
        *i += 1;
        loop {
            skip_ws(i);
            match s.get(*i) {
                None => return,
                Some('}') => {
                    *i += 1;
                    return;
                }
                Some(',') => *i += 1,
                Some(_) => {
                    let before = *i;
                    use_tree(s, i, prefix, out);
                    if *i == before {
                        *i += 1; // not a path: step over it
                    }
                }
            }
        }
    }
    let mut segments = prefix.to_vec();
    loop {
        let start = *i;
        while *i < s.len() && is_ident(s[*i]) {
            *i += 1;
        }
        if *i == start {
            if s.get(*i) == Some(&'*') {
                *i += 1; // a glob names no item
            }
            if segments.len() > prefix.len() {
                out.push(UsePath {
                    segments,
                    alias: None,
                });
            }
            return;
        }
        segments.push(s[start..*i].iter().collect());
        if s.get(*i) == Some(&':') && s.get(*i + 1) == Some(&':') {
            *i += 2;
            if s.get(*i) == Some(&'{') {
                use_tree(s, i, &segments, out);
                return;
            }
            continue;
        }
        // `NAME as ALIAS`
        let mut j = *i;
        while j < s.len() && s[j].is_whitespace() {
            j += 1;
        }
        let mut alias = None;
        if s[j..].starts_with(&['a', 's']) && s.get(j + 2).is_some_and(|c| c.is_whitespace()) {
            j += 2;
            while j < s.len() && s[j].is_whitespace() {
                j += 1;
            }
            let start = j;
            while j < s.len() && is_ident(s[j]) {
                j += 1;
            }
            alias = Some(s[start..j].iter().collect());
            *i = j;
        }
        out.push(UsePath { segments, alias });
        return;
    }
}

/// Every path in `code` that starts with the keyword `root` (`crate`, `super`, `self` or
/// `use`), without the keyword (for `use`, the whole path). `$crate::` in a macro is the crate
/// root, not a module dependency of the file, and `super::super::` counts once.
fn paths_from(code: &str, root: &str) -> Vec<UsePath> {
    let s: Vec<char> = code.chars().collect();
    let key: Vec<char> = if root == "use" {
        "use ".chars().collect()
    } else {
        format!("{root}::").chars().collect()
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i + key.len() <= s.len() {
        if s[i..i + key.len()] != key[..] {
            i += 1;
            continue;
        }
        let prev = i.checked_sub(1).map(|p| s[p]);
        if prev.is_some_and(|c| is_ident(c) || c == '$' || c == ':') {
            i += key.len();
            continue;
        }
        let mut j = i + key.len();
        use_tree(&s, &mut j, &[], &mut out);
        i = j.max(i + key.len());
    }
    out
}

/// The module each `crate::` path of `code` starts with.
fn crate_paths(code: &str) -> Vec<String> {
    paths_from(code, "crate")
        .into_iter()
        .filter_map(|p| p.segments.first().cloned())
        .collect()
}

#[test]
fn modules_use_only_modules_to_their_left() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    // `crate::Model` is `crate::model::Model`: the names `lib.rs` re-exports, by module.
    let lib = SourceModule {
        path: Vec::new(),
        rel: "lib.rs".into(),
        code: code_of(&std::fs::read_to_string(src.join("lib.rs")).unwrap()),
    };
    let top: BTreeSet<String> = ORDER.iter().map(|m| m.to_string()).collect();
    let exported = reexports(&[], &lib, &top);
    assert_eq!(exported.get("Model").map(String::as_str), Some("model"));
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
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for used in crate_paths(&code) {
            let used = exported.get(&used).cloned().unwrap_or(used);
            if rank(&used).is_some_and(|r| r > me) {
                violations.push(format!("{}: uses crate::{used}", rel.display()));
            }
        }
    }
    assert!(files.len() > 30, "only {} source files found", files.len());
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn test_items_are_left_out() {
    let code = code_of(
        "use crate::a;\n#[cfg(test)]\nfn t() { let c = '{'; crate::b }\nuse crate::c;\n\
         #[cfg(test)]\nuse crate::d;\n#[cfg(test)]\nmod tests {\n    use crate::e; // }\n}\n\
         fn f() { crate::f() }",
    );
    assert_eq!(crate_paths(&code), ["a", "c", "f"]);
}

#[test]
fn the_check_sees_a_violation() {
    let paths = crate_paths(&code_of(
        "use crate::render::text; // crate::cli\n$crate::model!()",
    ));
    assert_eq!(paths, ["render"]);
    let paths = crate_paths("use crate::{info, render};\nlet v = crate::expr::number(x);");
    assert_eq!(paths, ["info", "render", "expr"]);
    let paths = crate_paths("use crate::{\n    cli::app,\n    info::{self, kl::{a, b}},\n};");
    assert_eq!(paths, ["cli", "info", "info", "info"]);
    let full = paths_from("use crate::{a::x, b::{y, z as w}};", "crate");
    let names: Vec<String> = full.iter().map(|p| p.segments.join("::")).collect();
    assert_eq!(names, ["a::x", "b::y", "b::z"]);
    assert_eq!(full[2].name(), Some("w"));
}

/// A source file as a module: its path in the crate (`info::kinked` is `["info", "kinked"]`,
/// `info/mod.rs` is `["info"]`) and its name relative to `src/`.
struct SourceModule {
    path: Vec<String>,
    rel: String,
    code: String,
}

fn modules() -> Vec<SourceModule> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let mut path: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let last = path.pop().unwrap();
        match last.as_str() {
            "mod.rs" => {}
            "lib.rs" | "main.rs" if path.is_empty() => {}
            _ => path.push(last.trim_end_matches(".rs").to_string()),
        }
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        out.push(SourceModule {
            path,
            rel: rel.to_string_lossy().replace('\\', "/"),
            code,
        });
    }
    out
}

/// The modules `m` names by absolute paths: `crate::a::b`, and `super::…`/`self::…` resolved
/// from `m`'s place (a file `a/b.rs` is the module `a::b`, whose `super` is `a`).
fn absolute_paths(m: &SourceModule) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = paths_from(&m.code, "crate")
        .into_iter()
        .map(|p| p.segments)
        .collect();
    for p in paths_from(&m.code, "super") {
        let mut base = m.path.clone();
        base.pop();
        let mut segments = p.segments.as_slice();
        while segments.first().is_some_and(|s| s == "super") {
            base.pop();
            segments = &segments[1..];
        }
        base.extend(segments.iter().cloned());
        out.push(base);
    }
    out
}

/// For a directory module `dir`, the items its `mod.rs` (for the crate, `lib.rs`) re-exports
/// from a child module: exported name → child (`pub use numeric::{InfoError}` maps `InfoError`
/// to `numeric`).
fn reexports(
    dir: &[String],
    mod_rs: &SourceModule,
    children: &BTreeSet<String>,
) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for p in paths_from(&mod_rs.code, "use") {
        let mut absolute: Vec<String> = match p.segments.first().map(String::as_str) {
            Some("crate") => p.segments[1..].to_vec(),
            Some("self") => dir.iter().chain(&p.segments[1..]).cloned().collect(),
            Some(first) if children.contains(first) => {
                dir.iter().chain(&p.segments).cloned().collect()
            }
            _ => continue,
        };
        if absolute.len() <= dir.len() + 1 || absolute[..dir.len()] != dir[..] {
            continue;
        }
        let child = absolute.remove(dir.len());
        if let (true, Some(name)) = (children.contains(&child), p.name()) {
            map.insert(name.to_string(), child);
        }
    }
    map
}

/// The sibling files each file imports: edges `(a, b)` between files of one directory.
fn sibling_imports(mods: &[SourceModule]) -> BTreeSet<(String, String)> {
    let by_path: HashMap<&[String], &SourceModule> =
        mods.iter().map(|m| (m.path.as_slice(), m)).collect();
    let mut edges = BTreeSet::new();
    for m in mods {
        if m.rel.ends_with("mod.rs") || m.path.len() < 2 {
            // A parent and its children use each other by design; the top-level modules are
            // ordered by the test above.
            continue;
        }
        let dir = &m.path[..m.path.len() - 1];
        let me = m.path.last().unwrap();
        let children: BTreeSet<String> = mods
            .iter()
            .filter(|o| o.path.len() == dir.len() + 1 && o.path[..dir.len()] == *dir)
            .map(|o| o.path.last().unwrap().clone())
            .collect();
        let exported = by_path
            .get(dir)
            .map(|parent| reexports(dir, parent, &children))
            .unwrap_or_default();
        for path in absolute_paths(m) {
            if path.len() <= dir.len() || path[..dir.len()] != *dir {
                continue;
            }
            let name = &path[dir.len()];
            let target = if children.contains(name) {
                Some(name)
            } else {
                exported.get(name)
            };
            if let Some(target) = target.filter(|t| *t != me) {
                let mut to = dir.to_vec();
                to.push(target.clone());
                edges.insert((m.rel.clone(), by_path[to.as_slice()].rel.clone()));
            }
        }
    }
    edges
}

/// `"a <-> b"` for each pair of files that import each other.
fn cycles(edges: &BTreeSet<(String, String)>) -> BTreeSet<String> {
    edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{a} <-> {b}"))
        .collect()
}

#[test]
fn no_file_imports_a_sibling_that_imports_it_back() {
    let mods = modules();
    assert!(mods.len() > 30, "only {} source files found", mods.len());
    let edges = sibling_imports(&mods);
    assert!(
        edges.len() > 10,
        "only {} sibling imports found",
        edges.len()
    );
    let found = cycles(&edges);
    let allowed: BTreeSet<String> = ALLOWED_CYCLES.iter().map(|s| s.to_string()).collect();
    let new: Vec<&String> = found.difference(&allowed).collect();
    let exists = |pair: &&String| {
        let files: BTreeSet<&str> = mods.iter().map(|m| m.rel.as_str()).collect();
        pair.split(" <-> ").all(|f| files.contains(f))
    };
    let gone: Vec<&String> = allowed.difference(&found).filter(exists).collect();
    assert!(new.is_empty(), "files that import each other: {new:?}");
    assert!(
        gone.is_empty(),
        "cycles broken, remove from ALLOWED_CYCLES: {gone:?}"
    );
}

#[test]
fn the_cycle_check_sees_each_form() {
    let module = |rel: &str, code: &str| {
        let mut path: Vec<String> = rel
            .trim_end_matches(".rs")
            .split('/')
            .map(String::from)
            .collect();
        if path.last().is_some_and(|l| l == "mod") {
            path.pop();
        }
        SourceModule {
            path,
            rel: rel.to_string(),
            code: code.to_string(),
        }
    };
    let mods = [
        module(
            "m/mod.rs",
            "mod a;\nmod b;\nmod c;\nmod d;\npub use d::{Thing as Other};\n",
        ),
        module("m/a.rs", "use super::b::f;\n"),
        module("m/b.rs", "use super::{a::g, c};\n"),
        module("m/c.rs", "fn h() { crate::m::d::k() }\n"),
        module(
            "m/d.rs",
            "use super::super::m::{c::h};\nuse super::Other;\n",
        ),
    ];
    let edges = sibling_imports(&mods);
    let found: Vec<String> = cycles(&edges).into_iter().collect();
    assert_eq!(found, ["m/a.rs <-> m/b.rs", "m/c.rs <-> m/d.rs"]);
    // `super::Other` is `d`'s own item re-exported: no edge from `d` to itself.
    assert!(!edges.contains(&("m/d.rs".into(), "m/d.rs".into())));
}
