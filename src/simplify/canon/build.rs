//! Building the canonical form from an expression, node by node, and canonical calls of
//! functions (folding the few that read exactly: `ln 1 = 0`, `exp 0 = 1`, …).

use super::*;

impl Ctx<'_> {
    /// Builds the canonical form bottom-up over the nodes of `expr`.
    pub(super) fn build(&self, expr: &Expr) -> Rc<C> {
        let ctx = self;
        let nodes = expr.nodes();
        // How many parents still need each node: a node's value is moved into its last parent.
        let mut uses = vec![0usize; nodes.len()];
        for node in nodes {
            for c in node.children() {
                uses[usize::from(*c)] += 1;
            }
        }
        let mut slots: Vec<Option<Rc<C>>> = vec![None; nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            let mut take = |c: &Id| -> Rc<C> {
                let k = usize::from(*c);
                uses[k] -= 1;
                if uses[k] == 0 {
                    slots[k].take().unwrap_or_else(|| Rc::new(num(f64::NAN)))
                } else {
                    slots[k].clone().unwrap_or_else(|| Rc::new(num(f64::NAN)))
                }
            };
            let c = match node {
                Op::Num(v) => C::Num(*v),
                Op::Sym(s) => C::Sym(Name(*s)),
                Op::Pi => C::Pi,
                Op::Euler => C::Euler,
                Op::Add([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.add(a, b, 1.0)
                }
                Op::Sub([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.add(a, b, -1.0)
                }
                Op::Neg([a]) => {
                    let a = take(a);
                    ctx.scale(a, -1.0)
                }
                Op::Mul([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.mul(a, b)
                }
                Op::Div([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    let inv = ctx.pow(b, Rc::new(num(-1.0)));
                    ctx.mul(a, Rc::new(inv))
                }
                Op::Pow([a, b]) => {
                    let (a, b) = (take(a), take(b));
                    ctx.pow(a, b)
                }
                Op::Sqrt([a]) => {
                    let a = take(a);
                    ctx.pow(a, Rc::new(num(0.5)))
                }
                op => {
                    let args: Vec<Rc<C>> = op.children().iter().map(&mut take).collect();
                    ctx.call(op, args)
                }
            };
            slots[i] = Some(Rc::new(c));
        }
        slots[usize::from(expr.root())]
            .take()
            .unwrap_or_else(|| Rc::new(num(f64::NAN)))
    }

    pub(super) fn call(&self, op: &Op, args: Vec<Rc<C>>) -> C {
        let x = args.first().and_then(|a| a.value());
        let folded = match (op, x) {
            (Op::Ln(_), Some(1.0)) => Some(0.0),
            (Op::Ln(_), _) if matches!(&*args[0], C::Euler) => Some(1.0),
            (Op::Exp(_), Some(0.0)) => Some(1.0),
            (Op::Log1p(_), Some(0.0)) => Some(0.0),
            (Op::Expm1(_), Some(0.0)) => Some(0.0),
            (Op::Lgamma(_), Some(v)) if v == 1.0 || v == 2.0 => Some(0.0),
            (Op::Sin(_), Some(0.0)) => Some(0.0),
            (Op::Cos(_), Some(0.0)) => Some(1.0),
            (Op::Sigmoid(_), Some(0.0)) => Some(0.5),
            (Op::Abs(_), Some(v)) => Some(v.abs()),
            (Op::Sign(_), Some(v)) if v != 0.0 => Some(v.signum()),
            (Op::Sign(_), Some(_)) => Some(0.0),
            _ => None,
        };
        if let Some(v) = folded {
            return num(v);
        }
        // ln(exp u) = u and exp(ln u)… only the first is unconditional.
        if let (Op::Ln(_), C::Call(Func(Op::Exp(_)), inner)) = (op, &*args[0]) {
            return (*inner[0]).clone();
        }
        C::Call(Func(op.clone()), args)
    }
}
