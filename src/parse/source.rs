//! Model files as bytes: a model is UTF-8 text (a leading UTF-8 byte-order mark is skipped).
//! UTF-16 files, with or without a byte-order mark, are recognised and named in the error;
//! any other byte that is not UTF-8 (a Latin-1 `é` is the usual one) is reported at its line
//! and column.
//!
//! Spans of these errors, like every span of a file read this way, index into
//! [`display_text`] of the same bytes, which is the text to show beside the error.

use std::borrow::Cow;

use super::{ParseError, ParseErrorKind};

/// The UTF-8 byte-order mark, skipped if a file starts with it.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How many leading bytes are examined for the NUL pattern of UTF-16 without a byte-order
/// mark.
const UTF16_SNIFF_BYTES: usize = 1024;

/// The byte order of a file that looks like UTF-16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Utf16 {
    Little,
    Big,
}

impl Utf16 {
    fn name(self) -> &'static str {
        match self {
            Utf16::Little => "little-endian",
            Utf16::Big => "big-endian",
        }
    }
}

/// Whether `bytes` look like UTF-16, and with which byte order, and whether they start with
/// a byte-order mark. Model files are (almost) ASCII, so UTF-16 without a mark shows as a NUL
/// in every other byte: at least half of the odd (little-endian) or even (big-endian) bytes
/// of the first [`UTF16_SNIFF_BYTES`] are NUL, and at most a quarter as many of the others.
fn utf16(bytes: &[u8]) -> Option<(Utf16, bool)> {
    match bytes {
        [0xFF, 0xFE, ..] => return Some((Utf16::Little, true)),
        [0xFE, 0xFF, ..] => return Some((Utf16::Big, true)),
        _ => {}
    }
    let head = &bytes[..bytes.len().min(UTF16_SNIFF_BYTES)];
    let pairs = head.len() / 2;
    if pairs == 0 {
        return None;
    }
    let zeros = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .take(pairs)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    if odd * 2 >= pairs && even * 4 <= odd {
        Some((Utf16::Little, false))
    } else if even * 2 >= pairs && odd * 4 <= even {
        Some((Utf16::Big, false))
    } else {
        None
    }
}

/// The text of a model file: `bytes` as UTF-8, without a leading byte-order mark.
///
/// # Errors
///
/// [`ParseErrorKind::Utf16`] for a file that looks like UTF-16, and
/// [`ParseErrorKind::InvalidUtf8`] at the first byte that is not UTF-8; the span indexes into
/// [`display_text`].
pub fn decode(bytes: &[u8]) -> Result<&str, ParseError> {
    if let Some((order, _)) = utf16(bytes) {
        let text = display_text(bytes);
        let first = text.chars().next().map_or(0, char::len_utf8);
        return Err(ParseError::new(
            ParseErrorKind::Utf16 {
                byte_order: order.name(),
            },
            0..first,
        ));
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        ParseError::new(
            ParseErrorKind::InvalidUtf8 {
                byte: body[at],
                truncated: e.error_len().is_none(),
            },
            // In the display text the bad bytes are one U+FFFD (three bytes).
            at..at + char::REPLACEMENT_CHARACTER.len_utf8(),
        )
    })
}

/// The text to show for `bytes` beside an error: the text itself when it is UTF-8 (without a
/// byte-order mark), UTF-16 decoded when it looks like UTF-16, and otherwise the UTF-8 with
/// each bad sequence replaced by `U+FFFD`. Spans of the errors of
/// [`Model::from_bytes`](crate::Model::from_bytes) index into it.
pub fn display_text(bytes: &[u8]) -> Cow<'_, str> {
    if let Some((order, bom)) = utf16(bytes) {
        let body = if bom { &bytes[2..] } else { bytes };
        let units = body.chunks(2).map(|c| {
            let pair = [c[0], c.get(1).copied().unwrap_or(0)];
            match order {
                Utf16::Little => u16::from_le_bytes(pair),
                Utf16::Big => u16::from_be_bytes(pair),
            }
        });
        let text: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        return Cow::Owned(text);
    }
    String::from_utf8_lossy(bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_skips_the_mark_and_names_the_bad_byte() {
        assert_eq!(decode(b"\xEF\xBB\xBFlogp = x").unwrap(), "logp = x");
        let e = decode(b"data x : real\n# caf\xE9\n").unwrap_err();
        assert!(e.to_string().contains("`0xE9`"), "{e}");
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn utf8_passes_and_a_bom_is_skipped() {
        assert_eq!(decode(b"logp = x").unwrap(), "logp = x");
        assert_eq!(decode(b"\xEF\xBB\xBFlogp = x").unwrap(), "logp = x");
        assert_eq!(display_text(b"\xEF\xBB\xBFlogp"), "logp");
        assert_eq!(decode("# µ\n".as_bytes()).unwrap(), "# µ\n");
    }

    #[test]
    fn utf16_is_named_with_and_without_a_bom() {
        let src = "data x : real\nlogp = x\n";
        for (bytes, order) in [
            (utf16le(src, true), "little-endian"),
            (utf16le(src, false), "little-endian"),
            (utf16be(src), "big-endian"),
        ] {
            let e = decode(&bytes).unwrap_err();
            assert_eq!(
                e.kind,
                ParseErrorKind::Utf16 { byte_order: order },
                "{bytes:?}"
            );
            assert_eq!(display_text(&bytes), src);
            assert_eq!(e.span, 0..1);
        }
    }

    #[test]
    fn latin1_is_located_at_the_first_bad_byte() {
        let bytes = b"data x : real\nparam mu : real # \xE9t\xE9\n";
        let e = decode(bytes).unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::InvalidUtf8 {
                byte: 0xE9,
                truncated: false
            }
        );
        let text = display_text(bytes);
        assert_eq!(&text[e.span.clone()], "\u{FFFD}");
        assert_eq!(e.span.start, bytes.iter().position(|&b| b == 0xE9).unwrap());
    }

    #[test]
    fn a_sequence_cut_at_the_end_is_truncated() {
        let e = decode(b"logp = x # \xC3").unwrap_err();
        assert!(matches!(
            e.kind,
            ParseErrorKind::InvalidUtf8 {
                byte: 0xC3,
                truncated: true
            }
        ));
    }

    #[test]
    fn a_stray_nul_in_ascii_is_not_utf16() {
        assert!(utf16(b"data x : real\n\0logp = x\n").is_none());
        assert!(decode(b"data x : real\n\0logp = x\n").is_ok());
    }
}
