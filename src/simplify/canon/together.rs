//! Common denominators ([`together`](super::Pair::together)): sums of fractions over one
//! denominator, and the exact cancellation of sums that divide the numerator.

use super::arithmetic::{mentions, prod_from};
use super::*;

impl Ctx<'_> {
    /// Common denominators everywhere in sums and products: the bases of powers first (so
    /// `(1/p + 1/(1 − p))^(−1)` becomes `p(1 − p)`), then the terms of sums, then the sum.
    pub(super) fn together_deep(&self, c: Rc<C>) -> C {
        match &*c {
            C::Sum(terms, k) => {
                let sum = terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                    let t = self.together_deep(Rc::new(self.scale(t.clone(), coef.value())));
                    self.add(Rc::new(acc), Rc::new(t), 1.0)
                });
                self.together(Rc::new(sum))
            }
            C::Prod(k, fs) => fs.iter().fold(num(k.value()), |acc, (b, e)| {
                let b = match &**b {
                    C::Sum(..) => Rc::new(self.together_deep(b.clone())),
                    _ => b.clone(),
                };
                let p = self.pow(b, e.clone());
                self.mul(Rc::new(acc), Rc::new(p))
            }),
            _ => own(c),
        }
    }

    /// The top-level sum of `c` over a common denominator (see [`together`](super::Pair::together)).
    pub(super) fn together(&self, c: Rc<C>) -> C {
        let C::Sum(terms, _) = &*c else { return own(c) };
        // Bases with negative integer exponents, with the largest power seen.
        let mut den: Factors = Vec::new();
        for (t, _) in terms {
            let fs: &[(Rc<C>, Rc<C>)] = match &**t {
                C::Prod(_, fs) => fs,
                _ => &[],
            };
            for (b, e) in fs {
                let Some(y) = e.value().filter(|y| *y < 0.0 && *y == y.trunc()) else {
                    continue;
                };
                match den.binary_search_by(|(d, _)| d.as_ref().cmp(b)) {
                    Ok(i) => {
                        if den[i].1.value().is_some_and(|p| -y > p) {
                            den[i].1 = Rc::new(num(-y));
                        }
                    }
                    Err(i) => den.insert(i, (b.clone(), Rc::new(num(-y)))),
                }
            }
        }
        if den.is_empty() {
            return own(c);
        }
        // Each term times the denominator cancels its negative powers exactly (no
        // distribution yet, so `(1 − p)^(−1)·(1 − p)²` meets as one base), then expands.
        // Terms with no denominator that hold a function call (`ln σ`, `ψ(a)`) stay outside
        // the fraction; everything else goes over the common denominator.
        let outside = |t: &C| {
            let has_den = match t {
                C::Prod(_, fs) => fs.iter().any(|(_, e)| e.value().is_some_and(|y| y < 0.0)),
                _ => false,
            };
            let has_call = match t {
                C::Call(..) => true,
                C::Prod(_, fs) => fs.iter().any(|(b, _)| matches!(**b, C::Call(..))),
                _ => false,
            };
            !has_den && has_call
        };
        let d = Rc::new(prod_from(1.0, den.clone()));
        let mut numerator = match &*c {
            C::Sum(_, k) => num(k.value()),
            _ => num(0.0),
        };
        numerator = self.mul(Rc::new(numerator), d.clone());
        numerator = self.distribute(numerator);
        let mut rest = num(0.0);
        for (t, k) in terms {
            if outside(t) {
                rest = self.add(
                    Rc::new(rest),
                    Rc::new(self.scale(t.clone(), k.value())),
                    1.0,
                );
                continue;
            }
            let term = self.mul(self.scale(t.clone(), k.value()).into(), d.clone());
            numerator = self.add(Rc::new(numerator), Rc::new(self.distribute(term)), 1.0);
        }
        let inverse: Factors = den
            .into_iter()
            .map(|(b, p)| (b, Rc::new(num(-p.value().unwrap_or(1.0)))))
            .collect();
        let fraction = self.mul(Rc::new(numerator), Rc::new(prod_from(1.0, inverse)));
        let fraction = self.cancel(fraction);
        self.add(Rc::new(rest), Rc::new(fraction), 1.0)
    }

    /// Cancels sums in a denominator that divide the numerator sum exactly:
    /// `(2 − 3ρ² + ρ⁴)/(1 − ρ²)² = (2 − ρ²)/(1 − ρ²)`.
    pub(super) fn cancel(&self, c: C) -> C {
        let C::Prod(k, fs) = &c else { return c };
        let Some(ni) = fs
            .iter()
            .position(|(b, e)| matches!(**b, C::Sum(..)) && e.value() == Some(1.0))
        else {
            return c;
        };
        let mut numerator = fs[ni].0.clone();
        let mut rest: Factors = Vec::with_capacity(fs.len());
        // A factor common to every term of the numerator moves out of the sum:
        // `ρ²s₁² + s₁² = s₁²(ρ² + 1)`.
        if let Some((common, reduced)) = self.monomial_content(&numerator) {
            numerator = Rc::new(reduced);
            rest.extend(common);
        }
        for (i, (b, e)) in fs.iter().enumerate() {
            if i == ni {
                continue;
            }
            let mut power = e
                .value()
                .filter(|y| *y < 0.0 && *y == y.trunc())
                .unwrap_or(0.0);
            if matches!(**b, C::Sum(..)) {
                while power < 0.0 {
                    match self.divide(&numerator, b) {
                        Some(q) => {
                            numerator = Rc::new(q);
                            power += 1.0;
                        }
                        None => break,
                    }
                }
            }
            if power < 0.0 || e.value().is_none_or(|y| y >= 0.0 || y != y.trunc()) {
                let e = if power < 0.0 {
                    Rc::new(num(power))
                } else {
                    e.clone()
                };
                rest.push((b.clone(), e));
            }
        }
        let rest = Rc::new(prod_from(k.value(), rest));
        self.mul(numerator, rest)
    }

    /// The largest power product of names that divides every term of a sum (which has no
    /// constant), and the sum divided by it.
    pub(super) fn monomial_content(&self, c: &Rc<C>) -> Option<(Factors, C)> {
        let C::Sum(terms, k) = &**c else { return None };
        if k.value() != 0.0 {
            return None;
        }
        let powers = |t: &C| -> Vec<(Symbol, f64)> {
            match t {
                C::Sym(Name(s)) => vec![(*s, 1.0)],
                C::Prod(_, fs) => fs
                    .iter()
                    .filter_map(|(b, e)| match (&**b, e.value()) {
                        (C::Sym(Name(s)), Some(y)) if y > 0.0 && y == y.trunc() => Some((*s, y)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut common = powers(&terms.first()?.0);
        for (t, _) in &terms[1..] {
            let p = powers(t);
            common = common
                .into_iter()
                .filter_map(|(s, y)| p.iter().find(|(q, _)| *q == s).map(|(_, z)| (s, y.min(*z))))
                .collect();
        }
        if common.is_empty() {
            return None;
        }
        let factors: Factors = common
            .iter()
            .map(|(s, y)| (Rc::new(C::Sym(Name(*s))), Rc::new(num(*y))))
            .collect();
        let inverse: Factors = common
            .iter()
            .map(|(s, y)| (Rc::new(C::Sym(Name(*s))), Rc::new(num(-y))))
            .collect();
        let reduced = self.expand_c(Rc::new(
            self.mul(c.clone(), Rc::new(prod_from(1.0, inverse))),
        ));
        Some((factors, reduced))
    }

    /// The exact quotient `n/b` of two sums as polynomials in one name of `b`, if the
    /// remainder is zero (coefficients may be any expressions free of that name).
    pub(super) fn divide(&self, n: &Rc<C>, b: &Rc<C>) -> Option<C> {
        let C::Sum(bt, _) = &**b else { return None };
        let v = bt.iter().find_map(|(t, _)| match &**t {
            C::Sym(Name(s)) => Some(*s),
            C::Prod(_, fs) => fs.iter().find_map(|(f, _)| match &**f {
                C::Sym(Name(s)) => Some(*s),
                _ => None,
            }),
            _ => None,
        })?;
        let nb = self.poly(b, v)?;
        let mut nn = self.poly(n, v)?;
        let (db, lb) = nb.iter().next_back().map(|(d, c)| (*d, c.clone()))?;
        let inv_lb = Rc::new(self.pow(lb, Rc::new(num(-1.0))));
        let mut quotient: std::collections::BTreeMap<i64, Rc<C>> = Default::default();
        for _ in 0..64 {
            if self.budget.get() == 0 {
                return None;
            }
            let Some((dn, lead)) = nn.iter().next_back().map(|(d, c)| (*d, c.clone())) else {
                break;
            };
            if dn < db {
                return None;
            }
            let t = Rc::new(self.expand_c(Rc::new(self.mul(lead, inv_lb.clone()))));
            for (d, bc) in &nb {
                let at = d + dn - db;
                let prod = self.expand_c(Rc::new(self.mul(t.clone(), bc.clone())));
                let old = nn.remove(&at).unwrap_or_else(|| Rc::new(num(0.0)));
                let new = self.expand_c(Rc::new(self.add(old, Rc::new(prod), -1.0)));
                if new.value() != Some(0.0) {
                    nn.insert(at, Rc::new(new));
                }
            }
            quotient.insert(dn - db, t);
        }
        if !nn.is_empty() {
            return None;
        }
        let sym = Rc::new(C::Sym(Name(v)));
        Some(quotient.into_iter().fold(num(0.0), |acc, (d, c)| {
            let vd = self.pow(sym.clone(), Rc::new(num(d as f64)));
            let term = self.mul(c, Rc::new(vd));
            self.add(Rc::new(acc), Rc::new(term), 1.0)
        }))
    }

    /// A sum as a polynomial in the name `v`: power → coefficient free of `v`.
    pub(super) fn poly(
        &self,
        c: &Rc<C>,
        v: Symbol,
    ) -> Option<std::collections::BTreeMap<i64, Rc<C>>> {
        let mut out: std::collections::BTreeMap<i64, Rc<C>> = Default::default();
        let mut push = |d: i64, coef: C| {
            let old = out.remove(&d).unwrap_or_else(|| Rc::new(num(0.0)));
            let new = self.add(old, Rc::new(coef), 1.0);
            if new.value() != Some(0.0) {
                out.insert(d, Rc::new(new));
            }
        };
        let terms: Vec<(Rc<C>, f64)> = match &**c {
            C::Sum(t, k) => {
                let mut v: Vec<(Rc<C>, f64)> =
                    t.iter().map(|(t, c)| (t.clone(), c.value())).collect();
                if k.value() != 0.0 {
                    v.push((Rc::new(num(1.0)), k.value()));
                }
                v
            }
            _ => vec![(c.clone(), 1.0)],
        };
        for (t, k) in terms {
            let (d, rest) = match &*t {
                C::Sym(Name(s)) if *s == v => (1, num(k)),
                C::Prod(pk, fs) => {
                    let mut d = 0;
                    let mut rest = Vec::new();
                    for (b, e) in fs {
                        match (&**b, e.value()) {
                            (C::Sym(Name(s)), Some(y)) if *s == v && y >= 0.0 && y == y.trunc() => {
                                d = y as i64;
                            }
                            _ => rest.push((b.clone(), e.clone())),
                        }
                    }
                    (d, prod_from(pk.value() * k, rest))
                }
                _ => (0, self.scale(t.clone(), k)),
            };
            if mentions(&rest, v) {
                return None;
            }
            push(d, rest);
        }
        Some(out)
    }
}
