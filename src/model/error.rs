//! The errors of a model, with the span of the offending text, and name suggestions.

use thiserror::Error;

use super::Span;
use crate::parse::{ParseError, ParseErrorKind};

/// An error in a model: what is wrong and the span of the offending text.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{kind}")]
pub struct ModelError {
    /// What went wrong.
    pub kind: ModelErrorKind,
    /// Where, as a byte range into the source (`0..0` when there is no source).
    pub span: Span,
}

impl ModelError {
    pub(super) fn new(kind: ModelErrorKind, span: Span) -> Self {
        ModelError { kind, span }
    }

    /// The 1-based line and column (in characters) of the start of the span in `source`.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        let mut start = self.span.start.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

impl From<ParseError> for ModelError {
    fn from(e: ParseError) -> Self {
        ModelError::new(ModelErrorKind::Parse(e.kind), e.span)
    }
}

/// `; did you mean `x`?` or nothing.
fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!("; did you mean `{s}`?"))
}

/// The kinds of [`ModelError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelErrorKind {
    /// A lexical or syntax error.
    #[error(transparent)]
    Parse(#[from] ParseErrorKind),
    /// A name that is not declared.
    #[error("unknown name `{name}`{}", did_you_mean(.suggestion))]
    UnknownName {
        /// The name.
        name: String,
        /// A declared name within edit distance 2, if any.
        suggestion: Option<String>,
    },
    /// A call of something that is not a function of the language.
    #[error("unknown function `{name}`{}", did_you_mean(.suggestion))]
    UnknownFunction {
        /// The name.
        name: String,
        /// A function name within edit distance 2, if any.
        suggestion: Option<String>,
    },
    /// A declared name or constant called like a function.
    #[error("`{0}` is not a function")]
    NotAFunction(String),
    /// A function name used as a value.
    #[error("`{0}` is a function; call it as `{0}(...)`")]
    FunctionAsValue(String),
    /// A call with the wrong number of arguments.
    #[error("`{name}` takes {expected} argument{}, found {found}", if *.expected == 1 { "" } else { "s" })]
    WrongArity {
        /// The function.
        name: String,
        /// Its arity.
        expected: usize,
        /// The number of arguments given.
        found: usize,
    },
    /// A name declared twice.
    #[error("`{0}` is declared twice")]
    Duplicate(String),
    /// A declaration of `pi`, `e` or a function name.
    #[error("`{name}` is a built-in {what} and cannot be declared")]
    Reserved {
        /// The name.
        name: String,
        /// "constant" or "function".
        what: &'static str,
    },
    /// A second `model NAME` line.
    #[error("repeated `model` declaration")]
    RepeatedModelName,
    /// No `logp = ...` line.
    #[error("missing `logp = ...` declaration")]
    MissingLogp,
    /// A second `logp = ...` line.
    #[error("repeated `logp`; a model has exactly one")]
    RepeatedLogp,
    /// No parameters declared.
    #[error("the model declares no parameters")]
    NoParams,
    /// No data variable declared: a log-density without data has no expectation to take.
    #[error("a model needs at least one `data` declaration")]
    NoData,
    /// A `logp` whose tree, with every `let` inlined, has more than
    /// `MAX_INLINED_TREE` (10,000,000) nodes (a chain of `let`s that
    /// each use the one before twice doubles it).
    #[error(
        "`logp` is too large with every `let` inlined (more than {} nodes)",
        crate::parse::MAX_INLINED_TREE
    )]
    InlinedTooLarge,
    /// A `polygamma(n, x)` whose order `n` uses a name: the order must be a constant whole
    /// number, since nothing is differentiated or evaluated in it.
    #[error("the order of `polygamma` must be a whole number written without names")]
    PolygammaOrderNotConstant,
    /// A `polygamma(n, x)` whose order is not a whole number in the supported range.
    #[error(
        "the order of `polygamma` must be a whole number from 0 to {max}, found `{order}` (derivatives up to the fourth must stay within order {}, the highest a 64-bit float holds)",
        crate::special::MAX_POLYGAMMA_ORDER
    )]
    PolygammaOrderRange {
        /// The order, formatted.
        order: String,
        /// The highest order accepted, [`MAX_WRITTEN_POLYGAMMA_ORDER`](super::MAX_WRITTEN_POLYGAMMA_ORDER).
        max: u32,
    },
    /// A parameter that `logp` does not depend on.
    #[error("parameter `{0}` does not occur in `logp`")]
    UnusedParam(String),
    /// A data variable that `logp` does not depend on.
    #[error("data variable `{0}` does not occur in `logp`")]
    UnusedData(String),
    /// A data variable, parameter or `let` used in a `const`.
    #[error("{what} `{name}` cannot be used in a `const`")]
    NotConstant {
        /// The name.
        name: String,
        /// "data variable", "parameter" or "`let`".
        what: &'static str,
    },
    /// A `let` or `const` used above its definition (or in it).
    #[error("`{0}` is used before its definition")]
    UsedBeforeDefinition(String),
    /// A `const` whose value is infinite or not a number.
    #[error("constant `{name}` is not a finite number (it evaluates to `{value}`)")]
    ConstNotFinite {
        /// The constant.
        name: String,
        /// Its value as text.
        value: String,
    },
    /// A subexpression of numbers alone (`0/0`, `ln(0)`, `1e308*10`) whose value is infinite
    /// or not a number: simplification would otherwise fold it away or spread it.
    #[error("`{text}` is not a finite number (it evaluates to `{value}`)")]
    NotFinite {
        /// The subexpression as written.
        text: String,
        /// Its value as text.
        value: String,
    },
    /// An `int[LO, HI]` bound naming something other than a constant.
    #[error("the bound `{0}` is not a `const`")]
    BoundNotConst(String),
    /// An `int[LO, HI]` bound that is not a number (from the `model!` macro).
    #[error("an `int` bound must be an integer or the name of a `const`")]
    BadBound,
    /// An `int[LO, HI]` bound naming a constant that is not an integer.
    #[error("the bound `{name}` is not an integer (its value is `{value}`)")]
    BoundNotInteger {
        /// The constant.
        name: String,
        /// Its value as text.
        value: String,
    },
    /// A parameter domain `interval(LO, HI)` that is empty or unbounded (from
    /// [`model!`](crate::model!); the parser reports it with its location).
    #[error(
        "invalid domain `interval({lo}, {hi})` of `{name}`: the bounds must be finite with the lower below the upper"
    )]
    BadInterval {
        /// The parameter.
        name: String,
        /// The lower bound, formatted.
        lo: String,
        /// The upper bound, formatted.
        hi: String,
    },
    /// `int[LO, HI]` with `LO > HI`.
    #[error("empty support `int[{lo}, {hi}]`: the lower bound exceeds the upper bound")]
    EmptySupport {
        /// The lower bound.
        lo: i64,
        /// The upper bound.
        hi: i64,
    },
    /// [`Model::builtin`](super::Model::builtin) with an unknown name.
    #[error("unknown built-in model `{name}`{}", did_you_mean(.suggestion))]
    UnknownBuiltin {
        /// The name.
        name: String,
        /// A built-in name within edit distance 2, if any.
        suggestion: Option<String>,
    },
    /// A syntax tree whose children do not precede their parents (never from [`Model::parse`](crate::Model::parse)).
    #[error("malformed syntax tree")]
    MalformedTree,
}

/// The largest edit distance at which a name is suggested.
const SUGGEST_DISTANCE: usize = 2;

/// Levenshtein distance between two strings, by characters, if it is at most `k`; `None`
/// otherwise. Only the band `|i − j| ≤ k` of the table is filled, and the search stops as
/// soon as a row exceeds `k`, so the cost is `O((k + 1) · len)`: linear for a fixed `k`,
/// however long the names.
fn edit_distance_within(a: &str, b: &str, k: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > k {
        return None;
    }
    const FAR: usize = usize::MAX / 2;
    // prev[j] = distance between a[..i] and b[..j]; FAR outside the band.
    let mut prev: Vec<usize> = (0..=b.len())
        .map(|j| if j <= k { j } else { FAR })
        .collect();
    let mut cur = vec![FAR; b.len() + 1];
    for i in 1..=a.len() {
        let lo = i.saturating_sub(k);
        let hi = (i + k).min(b.len());
        // Only the band is touched: the cell left of it holds a stale value of an earlier row.
        let mut row_min = FAR;
        if lo == 0 {
            cur[0] = i;
            row_min = i;
        } else {
            cur[lo - 1] = FAR;
        }
        for j in lo.max(1)..=hi {
            let subst = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let d = subst.min(prev[j] + 1).min(cur[j - 1] + 1);
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > k {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= k).then_some(d)
}

/// The candidate closest to `name` within edit distance 2 (the first one on ties). Linear in
/// the lengths of the names, so a very long name costs no more than reading it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let len = name.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let Some(d) = edit_distance_within(name, c, SUGGEST_DISTANCE) else {
            continue;
        };
        if d < len.max(2) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::{closest, edit_distance_within};

    /// The plain quadratic Levenshtein distance, the oracle of the banded one.
    fn full(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn banded_distance_agrees_with_the_full_table() {
        let words = [
            "", "a", "b", "ab", "ba", "abc", "acb", "sigma", "sigam", "sgima", "mu", "nu",
            "lambda", "lamda", "x1", "x12", "theta", "eta", "beta", "abcdef", "abcfed",
        ];
        for a in words {
            for b in words {
                for k in 0..4 {
                    let want = full(a, b);
                    let got = edit_distance_within(a, b, k);
                    assert_eq!(got, (want <= k).then_some(want), "{a} {b} {k}");
                }
            }
        }
    }

    #[test]
    fn a_million_character_typo_is_suggested_in_linear_time() {
        let name = "a".repeat(1_000_000);
        let mut typo = name.clone();
        typo.replace_range(500_000..500_001, "b");
        let other = "c".repeat(1_000_000);
        let found = closest(&typo, [other.as_str(), name.as_str()]);
        assert_eq!(found.as_deref(), Some(name.as_str()));
        assert_eq!(closest(&typo, ["sigma", "mu"]), None);
    }
}
