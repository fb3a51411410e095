//! The lexer: source text to tokens with byte spans.
//!
//! A newline ends a declaration unless the line is continued: inside an unclosed `(` or `[`,
//! or after a token that needs a right operand (`+ - * / ^ ,`), newlines are dropped.

use super::{MAX_NAME_LEN, ParseError, ParseErrorKind, Span};

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TokenKind {
    /// A name or keyword; its text is the span's text.
    Ident,
    /// A number literal with its value.
    Number(f64),
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `^`
    Caret,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `=`
    Equals,
    /// The end of a (non-continued) line.
    Newline,
    /// The end of the source.
    Eof,
}

/// A token and its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Splits `src` into tokens, ending with [`TokenKind::Eof`].
///
/// # Errors
///
/// A character outside the language ([`ParseErrorKind::UnexpectedChar`]), a name longer than
/// [`MAX_NAME_LEN`], or a malformed, out-of-range or underflowing number.
pub fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let mut toks: Vec<Token> = Vec::new();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = |kind| Some((kind, start + 1));
        let tok = match c {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\n' => {
                i += 1;
                let continued = depth > 0
                    || matches!(
                        toks.last().map(|t| t.kind),
                        Some(
                            TokenKind::Plus
                                | TokenKind::Minus
                                | TokenKind::Star
                                | TokenKind::Slash
                                | TokenKind::Caret
                                | TokenKind::Comma
                        )
                    );
                if continued {
                    continue;
                }
                Some((TokenKind::Newline, start + 1))
            }
            b'+' => single(TokenKind::Plus),
            b'-' => single(TokenKind::Minus),
            b'*' => single(TokenKind::Star),
            b'/' => single(TokenKind::Slash),
            b'^' => single(TokenKind::Caret),
            b'(' | b'[' => {
                depth += 1;
                single(if c == b'(' {
                    TokenKind::LParen
                } else {
                    TokenKind::LBracket
                })
            }
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                single(if c == b')' {
                    TokenKind::RParen
                } else {
                    TokenKind::RBracket
                })
            }
            b',' => single(TokenKind::Comma),
            b':' => single(TokenKind::Colon),
            b'=' => single(TokenKind::Equals),
            c if c.is_ascii_digit() || c == b'.' => {
                let (kind, end) = number(src, start)?;
                Some((kind, end))
            }
            c if is_ident_start(c) => {
                let mut end = start + 1;
                while end < bytes.len() && is_ident_char(bytes[end]) {
                    end += 1;
                }
                if end - start > MAX_NAME_LEN {
                    // The caret marks the first character beyond the limit.
                    let over = start + MAX_NAME_LEN;
                    return Err(ParseError::new(
                        ParseErrorKind::NameTooLong(end - start),
                        over..over + 1,
                    ));
                }
                Some((TokenKind::Ident, end))
            }
            _ => None,
        };
        match tok {
            Some((kind, end)) => {
                toks.push(Token {
                    kind,
                    span: start..end,
                });
                i = end;
            }
            None => {
                let ch = src[start..].chars().next().unwrap_or('\u{fffd}');
                return Err(ParseError::new(
                    ParseErrorKind::UnexpectedChar(ch),
                    start..start + ch.len_utf8(),
                ));
            }
        }
    }
    // End of file is shown just after the last non-blank text, where a reader looks for it.
    let end = src.trim_end().len();
    toks.push(Token {
        kind: TokenKind::Eof,
        span: end..end,
    });
    Ok(toks)
}

/// Lexes a number starting at `start`: `DIGITS ('.' DIGITS)? ([eE] [+-]? DIGITS)?`, not
/// followed by a letter, digit, `_` or `.`.
fn number(src: &str, start: usize) -> Result<(TokenKind, usize), ParseError> {
    let bytes = src.as_bytes();
    let digits = |mut j: usize| {
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let at = |j: usize| bytes.get(j).copied();
    let mut ok = true;
    let mut j = digits(start);
    if j == start {
        ok = false; // a leading `.`
    }
    if at(j) == Some(b'.') {
        let k = digits(j + 1);
        if k == j + 1 {
            ok = false;
        }
        j = k;
    }
    if ok && matches!(at(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(at(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let m = digits(k);
        if m == k {
            ok = false;
            j = k;
        } else {
            j = m;
        }
    }
    // Swallow the rest of a malformed number (`3x`, `1.2.3`) so the error shows all of it.
    while let Some(c) = at(j) {
        if is_ident_char(c) || c == b'.' {
            ok = false;
            j += 1;
        } else {
            break;
        }
    }
    let text = &src[start..j];
    if !ok {
        return Err(ParseError::new(
            ParseErrorKind::MalformedNumber(text.to_string()),
            start..j,
        ));
    }
    // Subnormal values are kept (the parse is correctly rounded); a non-zero literal that
    // rounds to 0 is refused, as one that rounds to infinity is.
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let nonzero = mantissa.bytes().any(|c| matches!(c, b'1'..=b'9'));
    match text.parse::<f64>() {
        Ok(v) if v == 0.0 && nonzero => Err(ParseError::new(
            ParseErrorKind::NumberUnderflow(text.to_string()),
            start..j,
        )),
        Ok(v) if v.is_finite() => Ok((TokenKind::Number(v), j)),
        _ => Err(ParseError::new(
            ParseErrorKind::NumberOutOfRange(text.to_string()),
            start..j,
        )),
    }
}
