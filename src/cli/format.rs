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

/// A JSON value as the commands print it: pretty, one object, a final newline.
pub(super) fn json_line(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
