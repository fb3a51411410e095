//! Numbers printed the one way the whole crate prints them.

use std::fmt;

/// Formats a number the one way the whole crate does: integers without a decimal point,
/// others in the shortest form that reads back to the same `f64`, with an exponent when very
/// large or small (`1e-10`).
pub fn fmt_number(v: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if v.is_nan() {
        return f.write_str("nan");
    }
    if v.is_infinite() {
        return f.write_str(if v > 0.0 { "inf" } else { "-inf" });
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        write!(f, "{v:e}")
    } else {
        write!(f, "{v}")
    }
}

/// A number as the whole crate formats it: integers without a decimal point, others in the
/// shortest form that reads back to the same `f64`, with an exponent when very large or
/// small (`1e-10`); `nan`, `inf`, `-inf`.
pub fn number(v: f64) -> String {
    struct N(f64);
    impl fmt::Display for N {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt_number(self.0, f)
        }
    }
    N(v).to_string()
}

/// A point as the crate prints it in messages and reports: `name=value, …`, each value by
/// [`number`].
pub(crate) fn assignments<N: std::fmt::Display>(
    names: impl IntoIterator<Item = N>,
    values: &[f64],
) -> String {
    names
        .into_iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={}", number(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}
