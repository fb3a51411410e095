//! Recollecting binomials: an expanded sum written back in the differences (`x − x0`) and
//! completed squares that the common-denominator form multiplied out.

use super::arithmetic::{mentions, prod_from, size, unit_content};
use super::*;

/// A binomial `s·v + r` in which [`Ctx::recollect`] tries to write expanded sums: `v` a
/// name with coefficient `s = ±1`, `r` one term free of `v` (`x − x0`: `v = x`, `r = −x0`).
#[derive(Debug, Clone)]
pub(super) struct Binomial {
    /// The binomial as a canonical sum.
    sum: Rc<C>,
    /// The name solved for, `v = s·(b − r)`.
    v: Symbol,
    /// The coefficient of `v`, ±1.
    s: f64,
    /// The other term, with its coefficient.
    r: Rc<C>,
}

/// Most binomials of an expression that [`Ctx::recollect`] tries on each sum.
pub(super) const MAX_BINOMIALS: usize = 4;

/// Sums with more parts than this are not recollected (the shift expands them again).
pub(super) const MAX_RECOLLECT_TERMS: usize = 24;

/// The name that stands for a binomial while a sum is rewritten in it. No model name can
/// hold a control character, so it never meets a real name.
pub(super) const PLACEHOLDER: &str = "\u{1}binomial";

impl Ctx<'_> {
    /// The binomials of `c` ([`Binomial`]), in canonical order, at most [`MAX_BINOMIALS`]:
    /// the differences such as `x − x0` that the expanded common-denominator form loses.
    pub(super) fn binomials(&self, c: &Rc<C>) -> Vec<Binomial> {
        fn walk(c: &Rc<C>, seen: &mut std::collections::BTreeSet<Rc<C>>) {
            if seen.len() > 4 * MAX_BINOMIALS {
                return;
            }
            match &**c {
                C::Sum(terms, k) => {
                    if terms.len() == 2 && k.value() == 0.0 {
                        seen.insert(c.clone());
                    }
                    terms.iter().for_each(|(t, _)| walk(t, seen));
                }
                C::Prod(_, fs) => fs.iter().for_each(|(b, e)| {
                    walk(b, seen);
                    walk(e, seen);
                }),
                C::Call(_, args) => args.iter().for_each(|a| walk(a, seen)),
                _ => {}
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        walk(c, &mut seen);
        seen.into_iter()
            .filter_map(|b| self.binomial(b))
            .take(MAX_BINOMIALS)
            .collect()
    }

    /// `b` as a [`Binomial`], solved for its data name if it has one, else for its first
    /// name with coefficient ±1.
    pub(super) fn binomial(&self, b: Rc<C>) -> Option<Binomial> {
        let C::Sum(terms, k) = &*b else { return None };
        if terms.len() != 2 || k.value() != 0.0 {
            return None;
        }
        let solvable = |i: usize| match &*terms[i].0 {
            C::Sym(Name(v)) if terms[i].1.value().abs() == 1.0 => {
                (!mentions(&terms[1 - i].0, *v)).then_some(*v)
            }
            _ => None,
        };
        let i = (0..2)
            .filter(|i| solvable(*i).is_some())
            .min_by_key(|i| !solvable(*i).is_some_and(|v| self.facts.is_data(v)))?;
        let v = solvable(i)?;
        let (r, kr) = &terms[1 - i];
        Some(Binomial {
            v,
            s: terms[i].1.value(),
            r: Rc::new(self.scale(r.clone(), kr.value())),
            sum: b.clone(),
        })
    }

    /// The binomials whose squares a sum holds expanded: `a·u² + a·v² ∓ 2a·u·v` gives `u ∓ v`.
    pub(super) fn squares(&self, terms: &[(Rc<C>, Constant)]) -> Vec<Binomial> {
        let coef = |t: &C| {
            terms
                .iter()
                .find(|(x, _)| x.as_ref() == t)
                .map(|(_, k)| k.value())
        };
        let square_of = |t: &C| match t {
            C::Prod(k, fs) if k.value() == 1.0 && fs.len() == 1 && fs[0].1.value() == Some(2.0) => {
                match &*fs[0].0 {
                    C::Sym(Name(u)) => Some(*u),
                    _ => None,
                }
            }
            _ => None,
        };
        let names: Vec<(Symbol, f64)> = terms
            .iter()
            .filter_map(|(t, k)| square_of(t).map(|u| (u, k.value())))
            .collect();
        let mut out = Vec::new();
        for (i, (u, a)) in names.iter().enumerate() {
            for (v, b) in &names[i + 1..] {
                if a != b {
                    continue;
                }
                let (su, sv) = (Rc::new(C::Sym(Name(*u))), Rc::new(C::Sym(Name(*v))));
                let uv = self.mul(su.clone(), sv.clone());
                let Some(m) = coef(&uv) else { continue };
                // a·u² + a·v² + m·u·v is a·(u + s·v)² + … with s = m/(2a) = ±1.
                let s = m / (2.0 * a);
                if s.abs() != 1.0 {
                    continue;
                }
                let sum = self.add(su.clone(), sv.clone(), s);
                if let Some(b) = self.binomial(Rc::new(sum)) {
                    out.push(b);
                }
            }
        }
        out
    }

    /// Writes the sums of `c` in the binomials `bs` (and in the binomials whose squares they
    /// hold expanded) where that makes them shorter: `γ² + x² + x0² − 2x·x0` becomes
    /// `γ² + (x − x0)²`, `x + νx − μ − μν` becomes `(1 + ν)(x − μ)`. The inverse of
    /// [`Ctx::expand_c`] for the binomials that the expansion multiplied out.
    pub(super) fn recollect(&self, c: Rc<C>, bs: &[Binomial]) -> C {
        match &*c {
            C::Sum(terms, k) => {
                let sum = terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                    let t = self.recollect(t.clone(), bs);
                    self.add(
                        Rc::new(acc),
                        Rc::new(self.scale(Rc::new(t), coef.value())),
                        1.0,
                    )
                });
                self.recollect_sum(Rc::new(sum), bs)
            }
            C::Prod(k, fs) => fs.iter().fold(num(k.value()), |acc, (b, e)| {
                let mut b = match &**b {
                    C::Sum(..) | C::Prod(..) | C::Call(..) => {
                        Rc::new(self.recollect(b.clone(), bs))
                    }
                    _ => b.clone(),
                };
                let mut acc = Rc::new(acc);
                // `(a/2 − b/2)·c = (a − b)·c/2`
                if let (Some(g), Some(1.0), true) = (unit_content(&b), e.value(), fs.len() > 1) {
                    b = Rc::new(self.scale(b, 1.0 / g));
                    acc = Rc::new(self.scale(acc, g));
                }
                self.mul(acc, Rc::new(self.pow(b, e.clone())))
            }),
            C::Call(f, args) => {
                let args = args
                    .iter()
                    .map(|a| Rc::new(self.recollect(a.clone(), bs)))
                    .collect();
                self.call(&f.0, args)
            }
            _ => own(c),
        }
    }

    /// One sum written in the binomial that shortens it most, if one does.
    pub(super) fn recollect_sum(&self, sum: Rc<C>, bs: &[Binomial]) -> C {
        let C::Sum(terms, _) = &*sum else {
            return own(sum);
        };
        if terms.len() + 1 > MAX_RECOLLECT_TERMS {
            return own(sum);
        }
        let squares = self.squares(terms);
        let mut best = sum.clone();
        let mut best_size = size(&sum);
        for b in bs.iter().chain(&squares) {
            if !mentions(&sum, b.v) {
                continue;
            }
            if let Some(c) = self.in_binomial(&sum, b, bs) {
                let n = size(&c);
                if n < best_size {
                    best = Rc::new(c);
                    best_size = n;
                }
            }
        }
        own(best)
    }

    /// `sum` as a polynomial in the binomial `b`, `Σ_d c_d·b^d`, with `b`'s name `v` replaced
    /// by `s·(b − r)`, and each coefficient `c_d` recollected in turn (in the other
    /// binomials of `bs`); `None` when `v` occurs other than polynomially.
    pub(super) fn in_binomial(&self, sum: &Rc<C>, b: &Binomial, bs: &[Binomial]) -> Option<C> {
        let name = Symbol::from(PLACEHOLDER);
        let t = Rc::new(C::Sym(Name(name)));
        let value = Rc::new(self.scale(Rc::new(self.add(t, b.r.clone(), -1.0)), b.s));
        let shifted = self.expand_c(Rc::new(self.substitute(sum, b.v, &value)));
        let poly = self.poly(&Rc::new(shifted), name)?;
        // The coefficients no longer hold `v`, so the recursion ends.
        let rest: Vec<Binomial> = bs.iter().filter(|x| x.v != b.v).cloned().collect();
        Some(poly.into_iter().fold(num(0.0), |acc, (d, coef)| {
            // A monomial common to the terms of a coefficient moves out: `s1 + ρ²s1 = s1(ρ² + 1)`.
            let coef = match self.monomial_content(&coef) {
                Some((common, reduced)) => Rc::new(self.mul(
                    Rc::new(prod_from(1.0, common)),
                    Rc::new(self.recollect_sum(Rc::new(reduced), &rest)),
                )),
                None => Rc::new(self.recollect_sum(coef, &rest)),
            };
            let power = self.pow(b.sum.clone(), Rc::new(num(d as f64)));
            let term = self.mul(coef, Rc::new(power));
            self.add(Rc::new(acc), Rc::new(term), 1.0)
        }))
    }

    /// `c` with the name `v` replaced by `value`.
    pub(super) fn substitute(&self, c: &Rc<C>, v: Symbol, value: &Rc<C>) -> C {
        if !mentions(c, v) {
            return (**c).clone();
        }
        match &**c {
            C::Sym(_) => (**value).clone(),
            C::Sum(terms, k) => terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                let t = self.substitute(t, v, value);
                self.add(
                    Rc::new(acc),
                    Rc::new(self.scale(Rc::new(t), coef.value())),
                    1.0,
                )
            }),
            C::Prod(k, fs) => fs.iter().fold(num(k.value()), |acc, (b, e)| {
                let b = Rc::new(self.substitute(b, v, value));
                let e = Rc::new(self.substitute(e, v, value));
                self.mul(Rc::new(acc), Rc::new(self.pow(b, e)))
            }),
            C::Call(f, args) => {
                let args = args
                    .iter()
                    .map(|a| Rc::new(self.substitute(a, v, value)))
                    .collect();
                self.call(&f.0, args)
            }
            C::Num(_) | C::Pi | C::Euler => (**c).clone(),
        }
    }
}
