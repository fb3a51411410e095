//! The output formats of every command, shared by the command modules.

use clap::ValueEnum;

/// Output format of every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Plain text in the model language.
    Text,
    /// LaTeX, one formula per line.
    Latex,
    /// One JSON object on stdout.
    Json,
}

/// A JSON value as the commands print it: pretty, one object, a final newline. It goes
/// through a `serde_json::Value`, whose maps sort their keys, so every object lists its
/// fields in alphabetical order.
pub(super) fn json_line(v: &impl serde::Serialize) -> String {
    let value = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
