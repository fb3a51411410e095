//! Multiplying out: products distributed over sums and small positive integer powers of
//! sums expanded ([`expand`](fn@super::expand)).

use super::arithmetic::prod_from;
use super::*;

/// Largest integer power of a sum that [`expand`] multiplies out.
pub(super) const MAX_EXPANDED_POWER: f64 = 6.0;

impl Ctx<'_> {
    /// Expands a canonical expression: sums raised to small positive integer powers in
    /// products are multiplied out, recursively through the terms of sums and the bases of
    /// positive powers; bases of negative powers (denominators) and function arguments keep
    /// their factored form.
    pub(super) fn expand_c(&self, c: Rc<C>) -> C {
        // every call spends from the pass's budget; once it is gone, nothing more expands
        let left = self.budget.get();
        if left == 0 {
            return own(c);
        }
        self.budget.set(left - 1);
        match &*c {
            C::Sum(terms, k) => terms.iter().fold(num(k.value()), |acc, (t, coef)| {
                let t = self.expand_c(Rc::new(self.scale(t.clone(), coef.value())));
                self.add(Rc::new(acc), Rc::new(t), 1.0)
            }),
            C::Prod(k, fs) => {
                let fs: Factors = fs
                    .iter()
                    .map(|(b, e)| {
                        let positive = e.value().is_some_and(|y| y >= 1.0);
                        if positive && matches!(**b, C::Sum(..)) {
                            (Rc::new(self.expand_c(b.clone())), e.clone())
                        } else {
                            (b.clone(), e.clone())
                        }
                    })
                    .collect();
                self.distribute(prod_from(k.value(), fs))
            }
            _ => own(c),
        }
    }

    /// Multiplies out the sums raised to small positive integer powers in a product.
    pub(super) fn distribute(&self, c: C) -> C {
        let C::Prod(k, fs) = &c else { return c };
        let is_sum_power = |(b, e): &(Rc<C>, Rc<C>)| {
            matches!(**b, C::Sum(..))
                && e.value()
                    .is_some_and(|y| (1.0..=MAX_EXPANDED_POWER).contains(&y) && y == y.trunc())
        };
        if !fs.iter().any(is_sum_power) {
            return c;
        }
        // The number of terms the expansion produces, before collecting.
        let mut size = 1usize;
        for (b, e) in fs.iter().filter(|f| is_sum_power(f)) {
            let terms = match &**b {
                C::Sum(t, k) => t.len() + usize::from(k.value() != 0.0),
                _ => 1,
            };
            let y = e.value().unwrap_or(1.0) as u32;
            size = size.saturating_mul(terms.saturating_pow(y));
        }
        if size > MAX_EXPANDED_TERMS || size > self.budget.get() {
            return c;
        }
        self.budget.set(self.budget.get() - size);
        let rest: Factors = fs.iter().filter(|f| !is_sum_power(f)).cloned().collect();
        let mut acc: Vec<Rc<C>> = vec![Rc::new(prod_from(k.value(), rest))];
        for (b, e) in fs.iter().filter(|f| is_sum_power(f)) {
            let C::Sum(terms, constant) = &**b else {
                continue;
            };
            let mut parts: Vec<Rc<C>> = terms
                .iter()
                .map(|(t, k)| Rc::new(self.scale(t.clone(), k.value())))
                .collect();
            if constant.value() != 0.0 {
                parts.push(Rc::new(num(constant.value())));
            }
            for _ in 0..(e.value().unwrap_or(1.0) as u32) {
                acc = acc
                    .iter()
                    .flat_map(|a| parts.iter().map(move |p| (a.clone(), p.clone())))
                    .map(|(a, p)| Rc::new(self.mul(a, p)))
                    .collect();
            }
        }
        acc.into_iter()
            .fold(num(0.0), |sum, t| self.add(Rc::new(sum), t, 1.0))
    }
}
