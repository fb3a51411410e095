//! Code frames for user errors, rendered with `ariadne`: the message, `file:line:column`, the
//! offending line and a caret under the span.

use std::ops::Range;

use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind, Source};

/// Renders an error in `source` as a code frame with a caret under `span` (a byte range,
/// clamped to the source and widened to `char` boundaries). `file_name` is printed as given;
/// with `color` false the output has no escape codes and is deterministic.
pub(super) fn render_error(
    source: &str,
    file_name: &str,
    message: &str,
    span: Range<usize>,
    color: bool,
) -> String {
    let span = clamp(source, span);
    let name = file_name.to_string();
    let report = Report::build(ReportKind::Error, (name.clone(), span.clone()))
        .with_config(
            Config::default()
                .with_color(color)
                .with_index_type(IndexType::Byte)
                .with_char_set(CharSet::Unicode),
        )
        .with_message(message)
        .with_label(Label::new((name.clone(), span)).with_message(message))
        .finish();
    let mut out = Vec::new();
    if report
        .write((name, Source::from(source)), &mut out)
        .is_err()
    {
        return format!("error: {message}\n");
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Clamps a span to `source` and widens it to `char` boundaries.
fn clamp(source: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(source.len());
    let mut end = span.end.clamp(start, source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    while !source.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::render_error;

    #[test]
    fn a_frame_names_the_file_line_and_column() {
        let out = render_error(
            "logp = sigam",
            "m.model",
            "unknown name `sigam`",
            7..12,
            false,
        );
        assert!(out.contains("m.model:1:8"), "{out}");
        assert!(out.contains("unknown name `sigam`"), "{out}");
    }

    proptest! {
        /// Any span, even past the end or inside a character, gives a frame, never a panic.
        #[test]
        fn any_span_renders(src in "[a-z µ→\n=()]{0,40}", start in 0usize..60, len in 0usize..20) {
            let out = render_error(&src, "f.model", "message", start..start + len, false);
            prop_assert!(out.contains("message"), "{out}");
        }
    }
}
