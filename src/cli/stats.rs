//! What the statistics commands (`fit`, `natgrad`, `mml`, `sample`) share: their error, the
//! loading of a model's data and prior, and the formatting of estimates.

use crate::inference::{Dataset, Prior, PriorError};
use crate::model::Model;

/// Why a statistics command has no report: the message for stderr (without `error: `).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StatsError(pub(super) String);

impl std::fmt::Display for StatsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! stats_from {
    ($($t:ty),*) => {
        $(impl From<$t> for StatsError {
            fn from(e: $t) -> StatsError {
                StatsError(e.to_string())
            }
        })*
    };
}

stats_from!(
    super::data::LoadError,
    crate::inference::FitError,
    crate::inference::LikelihoodError,
    crate::inference::StepError,
    crate::inference::MmlError,
    crate::info::InfoError,
    super::geometry::GeometryCommandError
);

/// The data of `model` from `path` (`-`: standard input).
pub(super) fn data(model: &Model, path: &str, ignore_extra: bool) -> Result<Dataset, StatsError> {
    Ok(super::data::load(model, path, ignore_extra)?)
}

/// `--prior TEXT` read against `model`, the error as a code frame under the flag's text.
pub(super) fn prior(model: &Model, text: &str) -> Result<Prior, StatsError> {
    Prior::parse(model, text).map_err(|e: PriorError| StatsError(frame("--prior", text, &e)))
}

/// `--flag TEXT: message` with a caret line under the span of `e` in `text`.
fn frame(flag: &str, text: &str, e: &PriorError) -> String {
    let start = text[..e.span.start.min(text.len())].chars().count();
    let width = text
        .get(e.span.clone())
        .map_or(1, |s| s.chars().count().max(1));
    let pad = " ".repeat(flag.len() + 1 + start);
    format!(
        "{flag} {text}: {e}\n{flag} {text}\n{pad}{}",
        "^".repeat(width)
    )
}

pub(super) use super::balls::named;

/// Rows of cells as a table: each column padded to its widest cell, two spaces between
/// columns, no trailing spaces.
pub(super) fn table_text<R: AsRef<[String]>>(rows: &[R]) -> String {
    let columns = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.as_ref().get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A number with `digits` significant digits, for tables (`1.23457`, `1.23457e-08`).
pub(super) fn sig(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let e = v.abs().log10().floor();
    if (-4.0..6.0).contains(&e) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // e in [−4, 6)
        let decimals = (digits as i64 - 1 - e as i64).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.prec$e}", prec = digits - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(1.234_567_89, 6), "1.23457");
        assert_eq!(sig(-0.000_123_456_7, 3), "-0.000123");
        assert_eq!(sig(1.5e-9, 3), "1.50e-9");
        assert_eq!(sig(123_456.0, 3), "123456"); // below 10⁶: all the integer digits
        assert_eq!(sig(1_234_567.0, 3), "1.23e6");
        assert_eq!(sig(0.0, 3), "0");
    }

    #[test]
    fn prior_frames() {
        let m = Model::builtin("normal").unwrap();
        let e = prior(&m, "-ln(sigma) + x").unwrap_err();
        let lines: Vec<&str> = e.0.lines().collect();
        assert_eq!(lines[1], "--prior -ln(sigma) + x");
        assert_eq!(lines[2], "                     ^");
    }
}
