//! Reads one argument `x` per line from stdin and prints `lgamma(x) digamma(x) trigamma(x)` in
//! shortest round-trip form, one line each, for comparison with an outside oracle:
//! `python3 tests/special_reference/random_check.py` runs it against mpmath.

use std::io::{BufRead, Write};

use fisher_geometry::special::{digamma, lgamma, trigamma};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let x: f64 = line?.trim().parse()?;
        writeln!(out, "{:?} {:?} {:?}", lgamma(x), digamma(x), trigamma(x))?;
    }
    Ok(())
}
