//! The Pratt parser: tokens to a [`File`] of declarations.
//!
//! Recursion happens only at nesting constructs (parentheses, calls, unary minus, the right
//! operand of `^`), each of which counts against [`MAX_DEPTH`]; left-associative chains are
//! built by the loop in [`Parser::expr`].

use super::ast::{
    Ast, BinOp, Bound, BoundKind, Decl, DeclKind, DomainKw, File, Ident, Node, NodeId, NodeKind,
    SupportKw,
};
use super::lexer::{Token, TokenKind, lex};
use super::{MAX_DEPTH, MAX_NODES, ParseError, ParseErrorKind, Span};

/// Binding power of the operand of unary minus: tighter than `*`, looser than `^`.
const BP_NEG: u8 = 30;

/// Parses a model file into its declarations (names are not resolved).
///
/// # Errors
///
/// The first lexical or syntax error, with its span.
pub fn parse(src: &str) -> Result<File, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
        nodes: Vec::new(),
    };
    p.file()
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    nodes: Vec<Node>,
}

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with `Eof`, and `bump` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.kind != TokenKind::Eof {
            self.pos += 1;
        }
        t
    }

    fn text(&self, span: &Span) -> &str {
        self.src.get(span.clone()).unwrap_or("")
    }

    fn describe(&self, t: &Token) -> String {
        match t.kind {
            TokenKind::Newline => "end of line".to_string(),
            TokenKind::Eof => "end of file".to_string(),
            _ => format!("`{}`", self.text(&t.span)),
        }
    }

    fn expected<T>(&self, what: &str) -> PResult<T> {
        let t = self.peek();
        Err(ParseError::new(
            ParseErrorKind::Expected {
                expected: what.to_string(),
                found: self.describe(t),
            },
            t.span.clone(),
        ))
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> PResult<Token> {
        if self.peek().kind == kind {
            Ok(self.bump())
        } else {
            self.expected(what)
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        let t = self.expect(TokenKind::Ident, what)?;
        Ok(Ident {
            name: self.text(&t.span).to_string(),
            span: t.span,
        })
    }

    fn file(&mut self) -> PResult<File> {
        let mut decls = Vec::new();
        loop {
            while self.peek().kind == TokenKind::Newline {
                self.bump();
            }
            if self.peek().kind == TokenKind::Eof {
                return Ok(File { decls });
            }
            decls.push(self.decl()?);
            match self.peek().kind {
                TokenKind::Newline | TokenKind::Eof => {}
                _ => return self.expected("end of line"),
            }
        }
    }

    fn decl(&mut self) -> PResult<Decl> {
        const WHAT: &str = "a declaration (`model`, `const`, `data`, `param`, `let` or `logp`)";
        let t = self.peek().clone();
        if t.kind != TokenKind::Ident {
            return self.expected(WHAT);
        }
        let keyword = t.span.clone();
        let kind = match self.text(&t.span) {
            "model" => {
                self.bump();
                DeclKind::Model(self.ident("a model name")?)
            }
            "const" => {
                self.bump();
                let name = self.ident("a constant name")?;
                self.expect(TokenKind::Equals, "`=`")?;
                DeclKind::Const(name, self.ast()?)
            }
            "let" => {
                self.bump();
                let name = self.ident("a name")?;
                self.expect(TokenKind::Equals, "`=`")?;
                DeclKind::Let(name, self.ast()?)
            }
            "logp" => {
                self.bump();
                self.expect(TokenKind::Equals, "`=`")?;
                DeclKind::Logp(self.ast()?)
            }
            "data" => {
                self.bump();
                let names = self.names("a data variable name")?;
                let start = self.peek().span.start;
                let support = self.support()?;
                let end = self
                    .toks
                    .get(self.pos.saturating_sub(1))
                    .map_or(start, |t| t.span.end.max(start));
                DeclKind::Data(names, support, start..end)
            }
            "param" => {
                self.bump();
                let names = self.names("a parameter name")?;
                DeclKind::Param(names, self.domain()?)
            }
            _ => return self.expected(WHAT),
        };
        Ok(Decl { kind, keyword })
    }

    /// `NAME (, NAME)* :`
    fn names(&mut self, what: &str) -> PResult<Vec<Ident>> {
        let mut names = vec![self.ident(what)?];
        while self.peek().kind == TokenKind::Comma {
            self.bump();
            names.push(self.ident(what)?);
        }
        self.expect(TokenKind::Colon, "`:` or `,`")?;
        Ok(names)
    }

    fn support(&mut self) -> PResult<SupportKw> {
        const WHAT: &str =
            "a support (`real`, `positive`, `unit`, `binary`, `count` or `int[LO, HI]`)";
        if self.peek().kind != TokenKind::Ident {
            return self.expected(WHAT);
        }
        let s = match self.text(&self.peek().span) {
            "real" => SupportKw::Real,
            "positive" => SupportKw::Positive,
            "unit" => SupportKw::Unit,
            "binary" => SupportKw::Binary,
            "count" => SupportKw::Count,
            "int" => {
                self.bump();
                self.expect(TokenKind::LBracket, "`[`")?;
                let lo = self.bound()?;
                self.expect(TokenKind::Comma, "`,`")?;
                let hi = self.bound()?;
                self.expect(TokenKind::RBracket, "`]`")?;
                return Ok(SupportKw::Int(lo, hi));
            }
            _ => return self.expected(WHAT),
        };
        self.bump();
        Ok(s)
    }

    fn domain(&mut self) -> PResult<DomainKw> {
        const WHAT: &str = "a parameter domain (`real`, `positive`, `unit` or `interval(LO, HI)`)";
        if self.peek().kind != TokenKind::Ident {
            return self.expected(WHAT);
        }
        let d = match self.text(&self.peek().span) {
            "real" => DomainKw::Real,
            "positive" => DomainKw::Positive,
            "unit" => DomainKw::Unit,
            "interval" => {
                self.bump();
                self.expect(TokenKind::LParen, "`(`")?;
                let (lo, lo_span) = self.number_bound()?;
                self.expect(TokenKind::Comma, "`,`")?;
                let (hi, hi_span) = self.number_bound()?;
                self.expect(TokenKind::RParen, "`)`")?;
                if lo >= hi {
                    let span = lo_span.start..hi_span.end;
                    return Err(ParseError::new(
                        ParseErrorKind::EmptyInterval {
                            lo: self.text(&lo_span).to_string(),
                            hi: self.text(&hi_span).to_string(),
                        },
                        span,
                    ));
                }
                return Ok(DomainKw::Interval(lo, hi));
            }
            _ => return self.expected(WHAT),
        };
        self.bump();
        Ok(d)
    }

    /// A number literal, possibly negative: a bound of `interval(LO, HI)`.
    fn number_bound(&mut self) -> PResult<(f64, Span)> {
        const WHAT: &str = "a number";
        let start = self.peek().span.start;
        let negative = self.peek().kind == TokenKind::Minus;
        if negative {
            self.bump();
        }
        let t = self.peek().clone();
        let TokenKind::Number(v) = t.kind else {
            return self.expected(WHAT);
        };
        self.bump();
        Ok((if negative { -v } else { v }, start..t.span.end))
    }

    /// An integer literal (possibly negative) or a constant's name.
    fn bound(&mut self) -> PResult<Bound> {
        const WHAT: &str = "an integer or a constant's name";
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Ident => {
                self.bump();
                Ok(Bound {
                    kind: BoundKind::Name(self.text(&t.span).to_string()),
                    span: t.span,
                })
            }
            TokenKind::Minus | TokenKind::Number(_) => {
                let start = t.span.start;
                let negative = t.kind == TokenKind::Minus;
                if negative {
                    self.bump();
                }
                let n = self.peek().clone();
                if !matches!(n.kind, TokenKind::Number(_)) {
                    return self.expected(WHAT);
                }
                let digits = self.text(&n.span).to_string();
                if !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return self.expected(WHAT);
                }
                self.bump();
                let span = start..n.span.end;
                let text = self.text(&span).to_string();
                let value = digits
                    .parse::<i64>()
                    .ok()
                    .and_then(|v| if negative { v.checked_neg() } else { Some(v) })
                    .ok_or_else(|| {
                        ParseError::new(ParseErrorKind::NumberOutOfRange(text), span.clone())
                    })?;
                Ok(Bound {
                    kind: BoundKind::Int(value),
                    span,
                })
            }
            _ => self.expected(WHAT),
        }
    }

    /// A whole expression as its own [`Ast`].
    fn ast(&mut self) -> PResult<Ast> {
        self.nodes.clear();
        self.depth = 0;
        let root = self.expr(0)?;
        Ok(Ast {
            nodes: std::mem::take(&mut self.nodes),
            root,
        })
    }

    fn push(&mut self, kind: NodeKind, span: Span) -> NodeId {
        self.nodes.push(Node { kind, span });
        self.nodes.len() - 1
    }

    /// Refuses a number or name that would take the expression beyond [`MAX_NODES`] nodes
    /// (every operator has a leaf to its right, so checking leaves bounds the whole).
    fn check_size(&self, at: &Span) -> PResult<()> {
        if self.nodes.len() >= MAX_NODES {
            return Err(ParseError::new(ParseErrorKind::TooLarge, at.clone()));
        }
        Ok(())
    }

    fn span_of(&self, id: NodeId) -> Span {
        self.nodes.get(id).map_or(0..0, |n| n.span.clone())
    }

    /// Enters one level of nesting at the token `at`.
    fn enter(&mut self, at: &Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(ParseErrorKind::TooDeep, at.clone()));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Parses operators binding at least as tightly as `min_bp`.
    fn expr(&mut self, min_bp: u8) -> PResult<NodeId> {
        let mut lhs = self.prefix()?;
        loop {
            let (op, lbp, rbp) = match self.peek().kind {
                TokenKind::Plus => (BinOp::Add, 10, 11),
                TokenKind::Minus => (BinOp::Sub, 10, 11),
                TokenKind::Star => (BinOp::Mul, 20, 21),
                TokenKind::Slash => (BinOp::Div, 20, 21),
                TokenKind::Caret => (BinOp::Pow, 41, 40),
                _ => break,
            };
            if lbp < min_bp {
                break;
            }
            let t = self.bump();
            let rhs = if op == BinOp::Pow {
                self.enter(&t.span)?;
                let r = self.expr(rbp)?;
                self.leave();
                r
            } else {
                self.expr(rbp)?
            };
            let span = self.span_of(lhs).start..self.span_of(rhs).end;
            lhs = self.push(NodeKind::Binary(op, lhs, rhs), span);
        }
        Ok(lhs)
    }

    fn prefix(&mut self) -> PResult<NodeId> {
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Number(v) => {
                self.bump();
                self.check_size(&t.span)?;
                Ok(self.push(NodeKind::Num(v), t.span))
            }
            TokenKind::Minus => {
                self.bump();
                self.enter(&t.span)?;
                let operand = self.expr(BP_NEG)?;
                self.leave();
                let span = t.span.start..self.span_of(operand).end;
                Ok(self.push(NodeKind::Neg(operand), span))
            }
            TokenKind::LParen => {
                self.bump();
                self.enter(&t.span)?;
                let inner = self.expr(0)?;
                self.expect(TokenKind::RParen, "`)` or an operator")?;
                self.leave();
                Ok(inner)
            }
            TokenKind::Ident => {
                self.bump();
                let name = Ident {
                    name: self.text(&t.span).to_string(),
                    span: t.span.clone(),
                };
                if self.peek().kind != TokenKind::LParen {
                    self.check_size(&t.span)?;
                    return Ok(self.push(NodeKind::Name(name.name), t.span));
                }
                let open = self.bump();
                self.enter(&open.span)?;
                let mut args = Vec::new();
                if self.peek().kind != TokenKind::RParen {
                    loop {
                        args.push(self.expr(0)?);
                        if self.peek().kind == TokenKind::Comma {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
                let close = self.expect(TokenKind::RParen, "`,` or `)`")?;
                self.leave();
                Ok(self.push(NodeKind::Call { name, args }, t.span.start..close.span.end))
            }
            _ => self.expected("an expression"),
        }
    }
}
