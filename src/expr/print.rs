//! The text printer: an expression in the model language (`(x - mu)/sigma^2`), its numbers
//! printed by [`super::number`]. It lives beside the expression type because
//! `Expr`'s `Display` and every error message use it; [`crate::render`] adds LaTeX and JSON.

use std::fmt;

use super::number::fmt_number;
use super::pretty::Pretty;
use super::{Expr, PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW};

/// Display adapter printing an expression in the model language.
pub struct Text<'a>(&'a Expr);

/// Renders `expr` in the model language: `(x - mu)/sigma^2`. The output parses back to an
/// equal value.
pub fn text(expr: &Expr) -> Text<'_> {
    Text(expr)
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_text(&Pretty::of(self.0), f)
    }
}

/// The binding power of a view node as printed.
fn prec(p: &Pretty) -> u8 {
    match p {
        Pretty::Sum(t) if t.len() == 1 => PREC_NEG,
        Pretty::Sum(_) => PREC_ADD,
        Pretty::Frac(n, d) if n.len() == 1 && d.is_empty() => prec(&n[0]),
        Pretty::Frac(..) => PREC_MUL,
        Pretty::Pow(..) => PREC_POW,
        _ => u8::MAX,
    }
}

fn write_text(p: &Pretty, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match p {
        // Non-finite values (a constant divided by zero, an overflowing product of literals)
        // print as expressions that parse back to the same value.
        Pretty::Num(v) if v.is_nan() => f.write_str("(0/0)"),
        Pretty::Num(v) if v.is_infinite() => f.write_str("(1/0)"),
        Pretty::Num(v) => fmt_number(*v, f),
        Pretty::Sym(s) => f.write_str(s.as_str()),
        Pretty::Pi => f.write_str("pi"),
        Pretty::Euler => f.write_str("e"),
        Pretty::Sum(terms) => {
            for (i, (neg, t)) in terms.iter().enumerate() {
                match (i, neg) {
                    (0, true) => f.write_str("-")?,
                    (0, false) => {}
                    (_, true) => f.write_str(" - ")?,
                    (_, false) => f.write_str(" + ")?,
                }
                // A term after a minus binds tighter than + (`a - (b + c)`); a leading minus
                // binds like unary minus, so a power needs no parentheses (`-x^2`).
                let need = if *neg { PREC_MUL } else { PREC_ADD + 1 };
                write_paren(t, need, f)?;
            }
            Ok(())
        }
        Pretty::Frac(num, den) => {
            write_factors(num, f)?;
            if !den.is_empty() {
                f.write_str("/")?;
                if den.len() == 1 {
                    write_paren(&den[0], PREC_NEG + 1, f)?;
                } else {
                    f.write_str("(")?;
                    write_factors(den, f)?;
                    f.write_str(")")?;
                }
            }
            Ok(())
        }
        Pretty::Pow(b, x) => {
            write_paren(b, PREC_POW + 1, f)?;
            f.write_str("^")?;
            write_paren(x, PREC_POW + 1, f)
        }
        Pretty::Call(op, args) => {
            f.write_str(op.info().name)?;
            f.write_str("(")?;
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_text(a, f)?;
            }
            f.write_str(")")
        }
    }
}

fn write_factors(fs: &[Pretty], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if fs.is_empty() {
        return f.write_str("1");
    }
    for (i, x) in fs.iter().enumerate() {
        if i > 0 {
            f.write_str("*")?;
        }
        write_paren(x, PREC_NEG + 1, f)?;
    }
    Ok(())
}

fn write_paren(p: &Pretty, need: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if prec(p) < need {
        f.write_str("(")?;
        write_text(p, f)?;
        f.write_str(")")
    } else {
        write_text(p, f)
    }
}
