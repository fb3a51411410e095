//! Writing canonical expressions back as `Op` trees in display order.

use super::*;
use crate::expr::Builder;

pub(super) fn emit(root: &Rc<C>) -> Expr {
    let mut out = Emitter {
        b: Builder::default(),
        memo: FxHashMap::default(),
    };
    let id = out.emit(root);
    out.b.finish(id)
}

/// Writes canonical expressions back as binary `Op` trees, left-nested, in display order:
/// positive terms, a positive constant, negative terms, a negative constant; factors with
/// the coefficient first.
pub(super) struct Emitter {
    b: Builder,
    memo: FxHashMap<*const C, Id>,
}

impl Emitter {
    pub(super) fn emit(&mut self, c: &Rc<C>) -> Id {
        let key = Rc::as_ptr(c);
        if let Some(id) = self.memo.get(&key) {
            return *id;
        }
        let id = self.emit_node(c);
        self.memo.insert(key, id);
        id
    }

    pub(super) fn emit_node(&mut self, c: &C) -> Id {
        match c {
            C::Num(k) => self.b.node(Op::Num(*k)),
            C::Sym(Name(s)) => self.b.node(Op::Sym(*s)),
            C::Pi => self.b.node(Op::Pi),
            C::Euler => self.b.node(Op::Euler),
            C::Call(Func(op), args) => {
                let ids: Vec<Id> = args.iter().map(|a| self.emit(a)).collect();
                let mut i = 0;
                let node = op.clone().map_children(|_| {
                    let id = ids[i.min(ids.len() - 1)];
                    i += 1;
                    id
                });
                self.b.node(node)
            }
            C::Sum(terms, k) => {
                let k = k.value();
                let mut order: Vec<Option<&(Rc<C>, Constant)>> = Vec::new();
                // NaN coefficients and a NaN constant go with the positive ones, never dropped
                let first = |c: f64| c > 0.0 || c.is_nan();
                order.extend(terms.iter().filter(|(_, c)| first(c.value())).map(Some));
                if first(k) {
                    order.push(None);
                }
                order.extend(terms.iter().filter(|(_, c)| c.value() < 0.0).map(Some));
                if k < 0.0 {
                    order.push(None);
                }
                let mut acc: Option<Id> = None;
                for t in order {
                    let id = match t {
                        None => self.b.node(Op::Num(Constant::new(k))),
                        Some((term, coef)) => self.term(term, coef.value()),
                    };
                    acc = Some(match acc {
                        None => id,
                        Some(a) => self.b.node(Op::Add([a, id])),
                    });
                }
                acc.unwrap_or_else(|| self.b.node(Op::Num(Constant::new(0.0))))
            }
            C::Prod(k, fs) => self.product(k.value(), fs),
        }
    }

    pub(super) fn term(&mut self, term: &Rc<C>, coef: f64) -> Id {
        if coef == 1.0 {
            return self.emit(term);
        }
        match &**term {
            C::Prod(k, fs) => self.product(coef * k.value(), fs),
            _ => {
                let k = self.b.node(Op::Num(Constant::new(coef)));
                let t = self.emit(term);
                self.b.node(Op::Mul([k, t]))
            }
        }
    }

    pub(super) fn product(&mut self, coef: f64, fs: &[(Rc<C>, Rc<C>)]) -> Id {
        let mut acc: Option<Id> = None;
        if coef != 1.0 {
            acc = Some(self.b.node(Op::Num(Constant::new(coef))));
        }
        for (base, exp) in fs {
            let b = self.emit(base);
            let f = if exp.value() == Some(1.0) {
                b
            } else {
                let e = self.emit(exp);
                self.b.node(Op::Pow([b, e]))
            };
            acc = Some(match acc {
                None => f,
                Some(a) => self.b.node(Op::Mul([a, f])),
            });
        }
        acc.unwrap_or_else(|| self.b.node(Op::Num(Constant::new(coef))))
    }
}
