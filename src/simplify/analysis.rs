//! The e-class analysis: constant folding and sign facts.
//!
//! Every e-class carries a [`ClassData`]: the number it equals, if folding found one that
//! prints exactly (integers and short decimals such as `0.5`), and a [`Sign`], the facts
//! about its sign that follow from the declared domains ([`Facts`]) through the operators.
//! The rewrite rules ask these facts through named predicates (`is_positive("?x")`), never
//! by looking at syntax.

use egg::{DidMerge, Id, Subst, Var};

use super::{Fact, Facts};
use crate::expr::{Constant, Op};

/// The e-graph of the simplifier.
pub type EGraph = egg::EGraph<Op, SignFold>;

/// What is known about the sign of an e-class. Each flag is a fact; more flags is more
/// knowledge. [`Sign::close`] adds the facts the others imply (`positive` implies `nonneg`
/// and `nonzero`, …), and two signs of equal classes merge by union, which is monotone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sign {
    /// Strictly positive.
    pub positive: bool,
    /// Strictly negative.
    pub negative: bool,
    /// Greater than or equal to zero.
    pub nonneg: bool,
    /// Less than or equal to zero.
    pub nonpos: bool,
    /// Not zero.
    pub nonzero: bool,
    /// In the open unit interval (0, 1).
    pub unit: bool,
    /// In the open interval (−1, 0).
    pub neg_unit: bool,
    /// In the open interval (−1, 1): `|v| < 1`, so `1 − v > 0` and `1 + v > 0`.
    pub ball: bool,
    /// An integer.
    pub integer: bool,
}

impl Sign {
    /// Nothing known.
    pub const UNKNOWN: Sign = Sign {
        positive: false,
        negative: false,
        nonneg: false,
        nonpos: false,
        nonzero: false,
        unit: false,
        neg_unit: false,
        ball: false,
        integer: false,
    };

    fn positive() -> Sign {
        Sign {
            positive: true,
            ..Sign::UNKNOWN
        }
        .close()
    }

    fn nonneg() -> Sign {
        Sign {
            nonneg: true,
            ..Sign::UNKNOWN
        }
        .close()
    }

    fn unit() -> Sign {
        Sign {
            unit: true,
            ..Sign::UNKNOWN
        }
        .close()
    }

    /// The sign of the number `v`.
    pub fn of_value(v: f64) -> Sign {
        Sign {
            positive: v > 0.0,
            negative: v < 0.0,
            nonneg: v >= 0.0,
            nonpos: v <= 0.0,
            nonzero: v != 0.0,
            unit: v > 0.0 && v < 1.0,
            neg_unit: v > -1.0 && v < 0.0,
            ball: v.abs() < 1.0,
            integer: v.is_finite() && v.fract() == 0.0,
        }
    }

    /// The sign that the declared fact about a name gives it.
    pub fn of_fact(fact: Option<Fact>) -> Sign {
        match fact {
            None | Some(Fact::Real) => Sign::UNKNOWN,
            Some(Fact::Positive) => Sign::positive(),
            Some(Fact::Unit) => Sign::unit(),
            Some(Fact::NonNegativeInteger) => Sign {
                integer: true,
                ..Sign::nonneg()
            },
            Some(Fact::Integer) => Sign {
                integer: true,
                ..Sign::UNKNOWN
            },
            Some(Fact::Const(v)) => Sign::of_value(v),
            Some(Fact::Interval(lo, hi)) => Sign {
                positive: lo >= 0.0,
                negative: hi <= 0.0,
                unit: lo >= 0.0 && hi <= 1.0,
                neg_unit: lo >= -1.0 && hi <= 0.0,
                ball: lo >= -1.0 && hi <= 1.0,
                ..Sign::UNKNOWN
            }
            .close(),
        }
    }

    /// Adds the facts implied by the others.
    pub fn close(mut self) -> Sign {
        self.positive |= self.unit;
        self.negative |= self.neg_unit;
        self.ball |= self.unit || self.neg_unit;
        self.positive |= self.nonneg && self.nonzero;
        self.negative |= self.nonpos && self.nonzero;
        self.nonneg |= self.positive;
        self.nonpos |= self.negative;
        self.nonzero |= self.positive || self.negative;
        self
    }

    /// The union of the facts of two equal classes.
    pub fn union(self, other: Sign) -> Sign {
        Sign {
            positive: self.positive || other.positive,
            negative: self.negative || other.negative,
            nonneg: self.nonneg || other.nonneg,
            nonpos: self.nonpos || other.nonpos,
            nonzero: self.nonzero || other.nonzero,
            unit: self.unit || other.unit,
            neg_unit: self.neg_unit || other.neg_unit,
            ball: self.ball || other.ball,
            integer: self.integer || other.integer,
        }
        .close()
    }

    /// The sign of `−x`.
    fn negate(self) -> Sign {
        Sign {
            positive: self.negative,
            negative: self.positive,
            nonneg: self.nonpos,
            nonpos: self.nonneg,
            nonzero: self.nonzero,
            unit: self.neg_unit,
            neg_unit: self.unit,
            ball: self.ball,
            integer: self.integer,
        }
    }

    /// The sign of `a + b`.
    fn add(a: Sign, b: Sign) -> Sign {
        Sign {
            positive: (a.positive && b.nonneg) || (a.nonneg && b.positive),
            negative: (a.negative && b.nonpos) || (a.nonpos && b.negative),
            nonneg: a.nonneg && b.nonneg,
            nonpos: a.nonpos && b.nonpos,
            integer: a.integer && b.integer,
            ..Sign::UNKNOWN
        }
        .close()
    }

    /// The sign of `a · b`.
    fn mul(a: Sign, b: Sign) -> Sign {
        Sign {
            positive: (a.positive && b.positive) || (a.negative && b.negative),
            negative: (a.positive && b.negative) || (a.negative && b.positive),
            nonneg: (a.nonneg && b.nonneg) || (a.nonpos && b.nonpos),
            nonpos: (a.nonneg && b.nonpos) || (a.nonpos && b.nonneg),
            nonzero: a.nonzero && b.nonzero,
            unit: (a.unit && b.unit) || (a.neg_unit && b.neg_unit),
            neg_unit: (a.unit && b.neg_unit) || (a.neg_unit && b.unit),
            ball: a.ball && b.ball,
            integer: a.integer && b.integer,
        }
        .close()
    }

    /// The sign of `1 / b`.
    fn recip(b: Sign) -> Sign {
        Sign {
            positive: b.positive,
            negative: b.negative,
            nonzero: b.nonzero,
            ..Sign::UNKNOWN
        }
        .close()
    }

    /// The sign of `a ^ b`, where `b_value` is the exponent if it is a number.
    fn pow(a: Sign, b: Sign, b_value: Option<f64>) -> Sign {
        let even = b_value.is_some_and(|n| n.fract() == 0.0 && n % 2.0 == 0.0);
        let mut s = Sign::UNKNOWN;
        if a.positive {
            s.positive = true;
            // u^p stays in (0, 1) for u in (0, 1) and p > 0.
            s.unit = a.unit && b.positive;
        }
        if even {
            s.nonneg = true;
            s.nonzero = a.nonzero;
        }
        // |u|^n < 1 for |u| < 1 and a positive integer n.
        if a.ball && b_value.is_some_and(|n| n.fract() == 0.0 && n >= 1.0) {
            s.ball = true;
        }
        if a.nonneg && b.nonneg {
            s.nonneg = true;
        }
        if a.nonzero && b.integer {
            s.nonzero = true;
        }
        if a.integer && b.integer && b.nonneg {
            s.integer = true;
        }
        s.close()
    }
}

/// The analysis data of one e-class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassData {
    /// The number the class equals, if constant folding found one that prints exactly.
    pub value: Option<Constant>,
    /// What is known about its sign.
    pub sign: Sign,
}

/// The analysis: constant folding and sign facts, from the declared [`Facts`].
#[derive(Debug, Clone, Default)]
pub struct SignFold {
    facts: Facts,
}

impl SignFold {
    /// An analysis that reads the signs of names from `facts`.
    pub fn new(facts: &Facts) -> SignFold {
        SignFold {
            facts: facts.clone(),
        }
    }
}

/// Whether a folded number prints exactly and briefly: finite, below 10¹², and at most four
/// digits after the decimal point (so `0.5`, `0.25`, `1.5` fold, `1/3` does not).
pub fn is_readable(v: f64) -> bool {
    if !v.is_finite() || v.abs() >= 1e12 {
        return false;
    }
    let s = format!("{v}");
    match s.split_once('.') {
        None => true,
        Some((_, frac)) => frac.len() <= 4,
    }
}

/// Folds one node whose children are numbers, if the result is readable.
fn fold(op: &Op, value: impl Fn(Id) -> Option<f64>) -> Option<f64> {
    let v = match op {
        Op::Num(c) => return Some(c.value()),
        Op::Add([a, b]) => value(*a)? + value(*b)?,
        Op::Sub([a, b]) => value(*a)? - value(*b)?,
        Op::Mul([a, b]) => value(*a)? * value(*b)?,
        Op::Div([a, b]) => {
            let d = value(*b)?;
            if d == 0.0 {
                return None;
            }
            value(*a)? / d
        }
        Op::Neg([a]) => -value(*a)?,
        Op::Pow([a, b]) => {
            let (x, n) = (value(*a)?, value(*b)?);
            if n.fract() != 0.0 || n.abs() > 64.0 || (x == 0.0 && n < 0.0) {
                return None;
            }
            // The exponent is a small integer, checked above.
            x.powi(n as i32)
        }
        _ => return None,
    };
    is_readable(v).then_some(v)
}

impl egg::Analysis<Op> for SignFold {
    type Data = ClassData;

    fn make(egraph: &mut EGraph, enode: &Op, _id: Id) -> ClassData {
        let data = |id: Id| egraph[id].data;
        let value = fold(enode, |id| data(id).value.map(Constant::value)).map(Constant::new);
        if let Some(c) = value {
            return ClassData {
                value: Some(c),
                sign: Sign::of_value(c.value()),
            };
        }
        let s = |id: Id| data(id).sign;
        let sign = match enode {
            Op::Num(c) => Sign::of_value(c.value()),
            Op::Sym(name) => Sign::of_fact(egraph.analysis.facts.get(*name)),
            Op::Pi | Op::Euler => Sign::positive(),
            Op::Add([a, b]) => {
                let sum = Sign::add(s(*a), s(*b));
                // 1 + v with v in (−1, 0) lies in (0, 1): the `1 − u` of a unit u.
                let one = |x: Id| data(x).value.map(Constant::value) == Some(1.0);
                if (one(*a) && s(*b).neg_unit) || (one(*b) && s(*a).neg_unit) {
                    sum.union(Sign::unit())
                } else if (one(*a) && s(*b).ball) || (one(*b) && s(*a).ball) {
                    // 1 + v > 0 for |v| < 1
                    sum.union(Sign::positive())
                } else {
                    sum
                }
            }
            Op::Sub([a, b]) => {
                let diff = Sign::add(s(*a), s(*b).negate());
                let one = data(*a).value.map(Constant::value) == Some(1.0);
                if one && s(*b).unit {
                    diff.union(Sign::unit())
                } else if one && s(*b).ball {
                    // 1 − v > 0 for |v| < 1
                    diff.union(Sign::positive())
                } else {
                    diff
                }
            }
            Op::Mul([a, b]) => {
                let value = |x: Id| data(x).value.map(Constant::value);
                match (value(*a), value(*b)) {
                    (Some(-1.0), _) => s(*b).negate(),
                    (_, Some(-1.0)) => s(*a).negate(),
                    _ => Sign::mul(s(*a), s(*b)),
                }
            }
            Op::Div([a, b]) => Sign::mul(s(*a), Sign::recip(s(*b))),
            Op::Neg([a]) => s(*a).negate(),
            Op::Pow([a, b]) => Sign::pow(s(*a), s(*b), data(*b).value.map(Constant::value)),
            Op::Exp([a]) => {
                let mut e = Sign::positive();
                e.unit = s(*a).negative;
                e.close()
            }
            Op::Sqrt([a]) => {
                if s(*a).positive {
                    Sign::positive()
                } else {
                    Sign::nonneg()
                }
            }
            Op::Abs([a]) => {
                let mut e = Sign::nonneg();
                e.nonzero = s(*a).nonzero;
                e.integer = s(*a).integer;
                e.close()
            }
            Op::Sigmoid(_) => Sign::unit(),
            // trigamma(x) = Σ 1/(x+k)² > 0 for x > 0.
            Op::Trigamma([a]) if s(*a).positive => Sign::positive(),
            Op::Ln([a]) if s(*a).unit => Sign {
                negative: true,
                ..Sign::UNKNOWN
            }
            .close(),
            Op::Log1p([a]) if s(*a).positive => Sign::positive(),
            Op::Log1p([a]) if s(*a).nonneg => Sign::nonneg(),
            // expm1 is increasing with expm1(0) = 0: it keeps the sign of its argument.
            Op::Expm1([a]) => {
                let x = s(*a);
                Sign {
                    positive: x.positive,
                    negative: x.negative,
                    nonneg: x.nonneg,
                    nonpos: x.nonpos,
                    nonzero: x.nonzero,
                    ..Sign::UNKNOWN
                }
                .close()
            }
            Op::Sign([a]) => {
                let x = s(*a);
                Sign {
                    integer: true,
                    positive: x.positive,
                    negative: x.negative,
                    nonneg: x.nonneg,
                    nonpos: x.nonpos,
                    nonzero: x.nonzero,
                    ..Sign::UNKNOWN
                }
                .close()
            }
            Op::Ln(_)
            | Op::Log1p(_)
            | Op::Lgamma(_)
            | Op::Digamma(_)
            | Op::Trigamma(_)
            | Op::Polygamma(_)
            | Op::Sin(_)
            | Op::Cos(_) => Sign::UNKNOWN,
        };
        ClassData { value: None, sign }
    }

    fn merge(&mut self, to: &mut ClassData, from: ClassData) -> DidMerge {
        let merged = ClassData {
            // Equal classes cannot hold different numbers; if rounding ever produced two,
            // keep the first rather than panic.
            value: to.value.or(from.value),
            sign: to.sign.union(from.sign),
        };
        let did = DidMerge(merged != *to, merged != from);
        *to = merged;
        did
    }

    fn modify(egraph: &mut EGraph, id: Id) {
        if let Some(c) = egraph[id].data.value {
            let num = egraph.add(Op::Num(c));
            egraph.union(id, num);
            // The class is a number: its other spellings are no longer needed.
            egraph[id].nodes.retain(egg::Language::is_leaf);
        }
    }
}

fn var(name: &str) -> Var {
    // Pattern variables are literals in `rules.rs`; a malformed one is a typo there.
    name.parse().expect("pattern variable such as `?x`")
}

fn sign_of(var_name: &str, test: fn(Sign) -> bool) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    let v = var(var_name);
    move |egraph, _, subst| test(egraph[subst[v]].data.sign)
}

/// `?x > 0`.
pub fn is_positive(x: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    sign_of(x, |s| s.positive)
}

/// `?x ≥ 0`.
pub fn is_nonneg(x: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    sign_of(x, |s| s.nonneg)
}

/// `?x ≤ 0`.
pub fn is_nonpos(x: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    sign_of(x, |s| s.nonpos)
}

/// `?x ≠ 0`.
pub fn is_nonzero(x: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    sign_of(x, |s| s.nonzero)
}

/// `?x` is a number (after constant folding).
pub fn is_const(x: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    let v = var(x);
    move |egraph, _, subst| egraph[subst[v]].data.value.is_some()
}

/// `?x` is not a number.
pub fn is_not_const(x: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    let v = var(x);
    move |egraph, _, subst| egraph[subst[v]].data.value.is_none()
}

/// `?x` and `?y` are both positive.
pub fn both_positive(x: &str, y: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    let (vx, vy) = (var(x), var(y));
    move |egraph, _, subst| {
        egraph[subst[vx]].data.sign.positive && egraph[subst[vy]].data.sign.positive
    }
}

/// `?x^?a · ?x^?b = ?x^(?a+?b)` is safe: `?x ≠ 0`, or both exponents are non-negative (so
/// no `0^(−1) · 0^1`).
pub fn powers_combine(x: &str, a: &str, b: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    let (vx, va, vb) = (var(x), var(a), var(b));
    move |egraph, _, subst| {
        egraph[subst[vx]].data.sign.nonzero
            || (egraph[subst[va]].data.sign.nonneg && egraph[subst[vb]].data.sign.nonneg)
    }
}

/// `(?x^?a)^?b = ?x^(?a·?b)` is safe: `?x > 0` or `?b` is an integer.
pub fn power_of_power(x: &str, b: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    let (vx, vb) = (var(x), var(b));
    move |egraph, _, subst| {
        egraph[subst[vx]].data.sign.positive || egraph[subst[vb]].data.sign.integer
    }
}

/// `(?x·?y)^?a = ?x^?a · ?y^?a` is safe: both factors positive or `?a` an integer.
pub fn power_of_product(x: &str, y: &str, a: &str) -> impl Fn(&mut EGraph, Id, &Subst) -> bool {
    let (vx, vy, va) = (var(x), var(y), var(a));
    move |egraph, _, subst| {
        (egraph[subst[vx]].data.sign.positive && egraph[subst[vy]].data.sign.positive)
            || egraph[subst[va]].data.sign.integer
    }
}
