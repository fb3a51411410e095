//! The diagonal normal in `d` dimensions, `x_i ~ N(mu_i, s_i²)` for `i = 1..d`, parameters
//! `mu1..mud, s1..sd`, written as a sum of `d` normal log-densities: the model of issue 11's
//! "derivation that scales". Shared by `tests/scaling.rs`, `benches/derive.rs` and
//! `examples/diag_normal.rs` (the last two include this file by path).

/// Its model source.
pub fn diag_normal_source(d: usize) -> String {
    let mut src = format!("model diag_normal{d}\n");
    for i in 1..=d {
        src.push_str(&format!("data x{i} : real\n"));
    }
    for i in 1..=d {
        src.push_str(&format!("param mu{i} : real\n"));
    }
    for i in 1..=d {
        src.push_str(&format!("param s{i} : positive\n"));
    }
    let terms: Vec<String> = (1..=d)
        .map(|i| format!("-(x{i} - mu{i})^2/(2*s{i}^2) - ln(s{i}) - ln(2*pi)/2"))
        .collect();
    src.push_str(&format!("logp = {}\n", terms.join(" + ")));
    src
}
