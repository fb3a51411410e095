//! LaTeX rendering: `\frac`, powers in braces, Greek letters for Greek names, `x_{1}` for
//! `x1`, `\ln`, `\psi`, `\psi_{1}`, `\ln\Gamma`, matrices as `pmatrix`. Every string is
//! checked by KaTeX in CI.

use std::fmt;

use crate::expr::{Expr, Op, PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW};
use crate::expr::{Pretty, number};
use crate::parse::MAX_NAME_LEN;

/// The Greek names that render as Greek letters.
pub(super) const GREEK: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega",
];

/// LaTeX for an identifier: `sigma` → `\sigma`, `x1` → `x_{1}`, `eta2` → `\eta_{2}`,
/// `log_sigma` → `\mathrm{log}_{\sigma}`, `eta1_q` → `\eta_{1,q}` (one subscript: TeX
/// rejects two in a row), `shape` → `\mathrm{shape}`. An underscore that cannot start a
/// subscript (`_`, `_x`, `x_`, `a__b`) is printed as `\_`, so every identifier of the
/// language gives valid LaTeX; a name longer than [`MAX_NAME_LEN`] (only the
/// [`model!`](crate::model!) macro can build one) is printed upright, without subscripts,
/// which bounds the nesting.
pub fn latex_name(name: &str) -> String {
    if name.len() > MAX_NAME_LEN {
        return upright(name);
    }
    if let Some((head, tail)) = name.split_once('_') {
        if !head.is_empty() && !tail.is_empty() {
            if let Some((base, digits)) = split_index(head) {
                return format!("{}_{{{digits},{}}}", latex_name(base), latex_name(tail));
            }
            return format!("{}_{{{}}}", latex_name(head), latex_name(tail));
        }
    }
    if let Some((base, digits)) = split_index(name) {
        return format!("{}_{{{digits}}}", latex_name(base));
    }
    if GREEK.contains(&name) {
        return format!("\\{name}");
    }
    if name.len() == 1 && name.chars().all(|c| c.is_ascii_alphabetic()) {
        return name.to_string();
    }
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_digit()) {
        return name.to_string();
    }
    upright(name)
}

/// `\mathrm{…}` with underscores escaped.
fn upright(name: &str) -> String {
    format!("\\mathrm{{{}}}", name.replace('_', "\\_"))
}

/// `eta12` → `("eta", "12")`: a name with trailing digits after a non-digit head.
fn split_index(name: &str) -> Option<(&str, &str)> {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    (digits > 0 && digits < name.len()).then(|| name.split_at(name.len() - digits))
}

/// Display adapter printing an expression as LaTeX.
pub struct Latex<'a>(&'a Expr);

/// Renders `expr` as LaTeX: `(x - mu)/sigma^2` → `\frac{x - \mu}{\sigma^{2}}`.
pub fn latex(expr: &Expr) -> Latex<'_> {
    Latex(expr)
}

impl fmt::Display for Latex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_latex(&Pretty::of(self.0), f)
    }
}

/// Display adapter printing a matrix of expressions as a `pmatrix`.
pub struct LatexMatrix<'a>(&'a [Vec<Expr>]);

/// Renders rows of expressions as `\begin{pmatrix} … \end{pmatrix}`.
pub fn latex_matrix(rows: &[Vec<Expr>]) -> LatexMatrix<'_> {
    LatexMatrix(rows)
}

impl fmt::Display for LatexMatrix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\\begin{pmatrix}")?;
        for (i, row) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" \\\\")?;
            }
            for (j, e) in row.iter().enumerate() {
                f.write_str(if j > 0 { " & " } else { " " })?;
                write!(f, "{}", latex(e))?;
            }
        }
        f.write_str(" \\end{pmatrix}")
    }
}

fn prec(p: &Pretty) -> u8 {
    match p {
        Pretty::Sum(t) if t.len() == 1 => PREC_NEG,
        Pretty::Sum(_) => PREC_ADD,
        Pretty::Frac(n, d) if d.is_empty() && n.len() > 1 => PREC_MUL,
        Pretty::Frac(n, d) if d.is_empty() => prec(&n[0]),
        // \frac{..}{..} is a visual unit.
        Pretty::Frac(..) => u8::MAX,
        Pretty::Pow(..) => PREC_POW,
        _ => u8::MAX,
    }
}

fn write_latex(p: &Pretty, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match p {
        Pretty::Num(v) => {
            let s = number(*v);
            match s.split_once('e') {
                Some((m, x)) => write!(f, "{m} \\cdot 10^{{{x}}}"),
                None if s == "inf" => f.write_str("\\infty"),
                None => f.write_str(&s),
            }
        }
        Pretty::Sym(s) => f.write_str(&latex_name(s.as_str())),
        Pretty::Pi => f.write_str("\\pi"),
        Pretty::Euler => f.write_str("e"),
        Pretty::Sum(terms) => {
            for (i, (neg, t)) in terms.iter().enumerate() {
                match (i, neg) {
                    (0, true) => f.write_str("-")?,
                    (0, false) => {}
                    (_, true) => f.write_str(" - ")?,
                    (_, false) => f.write_str(" + ")?,
                }
                let need = if *neg { PREC_MUL } else { PREC_ADD + 1 };
                paren(t, need, f)?;
            }
            Ok(())
        }
        Pretty::Frac(num, den) if den.is_empty() => factors(num, f),
        Pretty::Frac(num, den) => {
            f.write_str("\\frac{")?;
            frac_part(num, f)?;
            f.write_str("}{")?;
            frac_part(den, f)?;
            f.write_str("}")
        }
        Pretty::Pow(b, x) => {
            // A function call as base reads better as `\ln\left(x\right)^{2}` with parens.
            paren(b, PREC_POW + 1, f)?;
            f.write_str("^{")?;
            write_latex(x, f)?;
            f.write_str("}")
        }
        Pretty::Call(op, args) => call(op, args, f),
    }
}

fn call(op: &Op, args: &[Pretty], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match op {
        Op::Sqrt(_) => {
            f.write_str("\\sqrt{")?;
            write_latex(&args[0], f)?;
            f.write_str("}")
        }
        Op::Abs(_) => {
            f.write_str("\\left|")?;
            write_latex(&args[0], f)?;
            f.write_str("\\right|")
        }
        Op::Polygamma(_) => {
            f.write_str("\\psi^{(")?;
            write_latex(&args[0], f)?;
            f.write_str(")}\\left(")?;
            write_latex(&args[1], f)?;
            f.write_str("\\right)")
        }
        op => {
            f.write_str(op.info().latex)?;
            f.write_str("\\left(")?;
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_latex(a, f)?;
            }
            f.write_str("\\right)")
        }
    }
}

/// A numerator or denominator: a lone factor needs no parentheses inside `\frac{…}{…}`.
fn frac_part(fs: &[Pretty], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match fs {
        [single] => write_latex(single, f),
        _ => factors(fs, f),
    }
}

fn factors(fs: &[Pretty], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if fs.is_empty() {
        return f.write_str("1");
    }
    for (i, x) in fs.iter().enumerate() {
        // A factor written in parentheses starts with `\left(`, never with a digit.
        let starts_with_digit = prec(x) > PREC_NEG
            && LatexOf(x)
                .to_string()
                .starts_with(|c: char| c.is_ascii_digit());
        if i > 0 {
            f.write_str(if starts_with_digit { " \\cdot " } else { " " })?;
        }
        paren(x, PREC_NEG + 1, f)?;
    }
    Ok(())
}

struct LatexOf<'a>(&'a Pretty);
impl fmt::Display for LatexOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_latex(self.0, f)
    }
}

fn paren(p: &Pretty, need: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if prec(p) < need {
        f.write_str("\\left(")?;
        write_latex(p, f)?;
        f.write_str("\\right)")
    } else {
        write_latex(p, f)
    }
}

#[cfg(test)]
mod tests {
    use super::latex_name;

    #[test]
    fn names() {
        #[rustfmt::skip]
        let table = [
            ("sigma", "\\sigma"),
            ("x", "x"),
            ("x1", "x_{1}"),
            ("eta12", "\\eta_{12}"),
            ("shape", "\\mathrm{shape}"),
            ("log_sigma", "\\mathrm{log}_{\\sigma}"),
            ("sigma_q", "\\sigma_{q}"),
            ("eta1_q", "\\eta_{1,q}"),
            ("s2_q", "s_{2,q}"),
            ("log_sigma_q", "\\mathrm{log}_{\\sigma_{q}}"),
            ("sigma2_q", "\\sigma_{2,q}"),
        ];
        for (name, want) in table {
            assert_eq!(latex_name(name), want, "{name}");
            assert!(!double_subscript(&latex_name(name)), "{name}");
        }
    }

    /// Whether a subscript group `_{…}` is directly followed by another, which TeX rejects.
    fn double_subscript(s: &str) -> bool {
        let b = s.as_bytes();
        (0..b.len().saturating_sub(1)).any(|i| {
            if &b[i..i + 2] != b"_{" {
                return false;
            }
            let mut depth = 0;
            for j in i + 1..b.len() {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return b[j + 1..].starts_with(b"_");
                        }
                    }
                    _ => {}
                }
            }
            false
        })
    }

    #[test]
    fn the_double_subscript_check_can_fail() {
        assert!(double_subscript("\\eta_{1}_{q}"));
        assert!(!double_subscript("\\mathrm{log}_{\\sigma_{q}}"));
    }
}
