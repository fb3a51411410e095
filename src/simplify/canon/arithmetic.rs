//! Canonical arithmetic: sums with collected like terms, products with collected like
//! powers, powers, and the numeric helpers (content, exact folding) they share.

use super::*;

impl Ctx<'_> {
    /// Splits into (coefficient, term) with the term free of a numeric coefficient.
    pub(super) fn split_coef(c: Rc<C>) -> (f64, Rc<C>) {
        let k = match &*c {
            C::Prod(k, _) if k.value() != 1.0 => k.value(),
            _ => return (1.0, c),
        };
        let (_, fs) = factors_of(c);
        (k, Rc::new(prod_from(1.0, fs)))
    }

    /// `a + s·b`.
    pub(super) fn add(&self, a: Rc<C>, b: Rc<C>, s: f64) -> C {
        let (mut terms, mut constant) = match own(a) {
            C::Sum(t, k) => (t, k.value()),
            C::Num(k) => (Vec::new(), k.value()),
            other => {
                let (k, t) = Self::split_coef(Rc::new(other));
                (vec![(t, Constant::new(k))], 0.0)
            }
        };
        match own(b) {
            C::Sum(t, k) => {
                constant += s * k.value();
                for (term, coef) in t {
                    insert_term(&mut terms, term, s * coef.value());
                }
            }
            C::Num(k) => constant += s * k.value(),
            other => {
                let (k, t) = Self::split_coef(Rc::new(other));
                insert_term(&mut terms, t, s * k);
            }
        }
        sum_from(terms, constant)
    }

    /// `k·a`.
    pub(super) fn scale(&self, a: Rc<C>, k: f64) -> C {
        self.mul(Rc::new(num(k)), a)
    }

    /// `a·b`.
    pub(super) fn mul(&self, a: Rc<C>, b: Rc<C>) -> C {
        let (mut coef, mut factors) = factors_of(a);
        let (k2, f2) = factors_of(b);
        coef = snap(coef * k2);
        if coef == 0.0 {
            return num(0.0);
        }
        for (base, exp) in f2 {
            self.insert_factor(&mut factors, base, exp);
        }
        let factors = self.primitive_sums(&mut coef, factors);
        prod_from(coef, factors)
    }

    /// Moves the numeric content of sums raised to integer powers into the coefficient,
    /// `(2 − 2ρ²)^(−3) = 2^(−3)·(1 − ρ²)^(−3)`, so that proportional sums meet as one base.
    pub(super) fn primitive_sums(&self, coef: &mut f64, fs: Factors) -> Factors {
        if !fs.iter().any(|(b, _)| matches!(**b, C::Sum(..))) {
            return fs;
        }
        let mut out: Factors = Vec::with_capacity(fs.len());
        for (b, e) in fs {
            let y = e.value().filter(|y| *y == y.trunc());
            if let (C::Sum(terms, k), Some(y)) = (&*b, y) {
                let g = content(terms, k.value()).unwrap_or(1.0) * self.sign(terms, k.value());
                if g != 1.0 {
                    if let Some(gy) = fold_pow(g, y) {
                        *coef = snap(*coef * gy);
                        let terms = terms
                            .iter()
                            .map(|(t, c)| (t.clone(), Constant::new(snap(c.value() / g))))
                            .collect();
                        let prim = Rc::new(C::Sum(terms, Constant::new(snap(k.value() / g))));
                        self.insert_factor(&mut out, prim, e);
                        continue;
                    }
                }
            }
            self.insert_factor(&mut out, b, e);
        }
        out
    }

    /// The sign that makes a sum read the conventional way round: a data variable positive
    /// (`x - mu`, never `mu - x`), else the constant positive (`1 - p`), else the last term
    /// positive. Opposite sums (`t - x`, `x - t`) then meet as one base.
    pub(super) fn sign(&self, terms: &[(Rc<C>, Constant)], constant: f64) -> f64 {
        let data = terms
            .iter()
            .find(|(t, _)| matches!(&**t, C::Sym(Name(s)) if self.facts.is_data(*s)));
        let lead = match (data, constant) {
            (Some((_, c)), _) => c.value(),
            (None, k) if k != 0.0 => k,
            _ => terms.last().map_or(1.0, |(_, c)| c.value()),
        };
        if lead < 0.0 { -1.0 } else { 1.0 }
    }

    pub(super) fn insert_factor(&self, fs: &mut Vec<(Rc<C>, Rc<C>)>, base: Rc<C>, exp: Rc<C>) {
        match fs.binary_search_by(|(b, _)| b.as_ref().cmp(&base)) {
            Ok(i) => {
                let old = fs[i].1.clone();
                let e = self.add(old, exp, 1.0);
                if e.value() == Some(0.0) {
                    fs.remove(i);
                } else {
                    fs[i].1 = Rc::new(e);
                }
            }
            Err(i) => fs.insert(i, (base, exp)),
        }
    }

    /// `a^e`.
    pub(super) fn pow(&self, a: Rc<C>, e: Rc<C>) -> C {
        match (a.value(), e.value()) {
            (_, Some(0.0)) => return num(1.0),
            (_, Some(1.0)) => return own(a),
            (Some(1.0), _) => return num(1.0),
            (Some(x), Some(y)) => {
                if let Some(v) = fold_pow(x, y) {
                    return num(v);
                }
                return C::Prod(Constant::new(1.0), vec![(a, e)]);
            }
            _ => {}
        }
        let int_exp = e.value().is_some_and(|y| y == y.trunc());
        match &*a {
            // (k Π bᵢ^eᵢ)^n = kⁿ Π bᵢ^(eᵢ n) for integer n; with a non-integer exponent only
            // when every factor is known positive.
            C::Prod(k, fs)
                if int_exp || (k.value() > 0.0 && fs.iter().all(|(b, _)| self.positive(b))) =>
            {
                let (k, fs) = (k.value(), fs.clone());
                let y = e.value();
                let mut out = Vec::with_capacity(fs.len());
                for (b, x) in fs {
                    let ex = self.mul(x, e.clone());
                    if ex.value() != Some(0.0) {
                        out.push((b, Rc::new(ex)));
                    }
                }
                let coef = match y {
                    Some(y) => fold_pow(k, y),
                    None => None,
                };
                match coef {
                    Some(c) => prod_from(c, out),
                    None if k == 1.0 => prod_from(1.0, out),
                    None => {
                        let kp = C::Prod(Constant::new(1.0), vec![(Rc::new(num(k)), e)]);
                        self.mul(Rc::new(kp), Rc::new(prod_from(1.0, out)))
                    }
                }
            }
            // (P·Q)^y = P^y·Q^y when P > 0, whatever the sign of Q (if P·Q ≥ 0 then Q ≥ 0):
            // pull the known-positive factors out, `√((k ψ₁(k) − 1)/β²) = √(k ψ₁(k) − 1)/β`.
            C::Prod(k, fs) if fs.iter().any(|(b, _)| self.positive(b)) => {
                let (pos, rest): (Factors, Factors) =
                    fs.iter().cloned().partition(|(b, _)| self.positive(b));
                let inner = if k.value() > 0.0 {
                    let p = self.pow(Rc::new(prod_from(k.value(), pos)), e.clone());
                    (p, prod_from(1.0, rest))
                } else {
                    let p = self.pow(Rc::new(prod_from(1.0, pos)), e.clone());
                    (p, prod_from(k.value(), rest))
                };
                let q = C::Prod(Constant::new(1.0), vec![(Rc::new(inner.1), e)]);
                self.mul(Rc::new(inner.0), Rc::new(q))
            }
            _ => C::Prod(Constant::new(1.0), vec![(a, e)]),
        }
    }

    /// Whether a canonical expression is known positive from the facts.
    pub(super) fn positive(&self, c: &C) -> bool {
        match c {
            C::Num(k) => k.value() > 0.0,
            C::Sym(Name(s)) => self.facts.is_positive(*s),
            C::Pi | C::Euler => true,
            C::Call(Func(Op::Exp(_)), _) => true,
            C::Sum(t, k) => {
                k.value() >= 0.0
                    && !t.is_empty()
                    && t.iter().all(|(x, c)| c.value() > 0.0 && self.positive(x))
            }
            C::Prod(k, fs) => k.value() > 0.0 && fs.iter().all(|(b, _)| self.positive(b)),
            _ => false,
        }
    }
}

/// The positive numeric content of a sum, if it is not 1: the gcd of its coefficients when
/// they are all integers, else the absolute constant when every coefficient divided by it
/// stays short.
pub(super) fn content(terms: &[(Rc<C>, Constant)], constant: f64) -> Option<f64> {
    let coefs: Vec<f64> = terms
        .iter()
        .map(|(_, c)| c.value())
        .chain([constant])
        .collect();
    let integral = coefs.iter().all(|c| *c == c.trunc() && c.abs() < 1e12);
    let g = if integral {
        coefs.iter().fold(0u64, |g, c| gcd(g, c.abs() as u64)) as f64
    } else if constant != 0.0 {
        let g = constant.abs();
        let short = coefs.iter().all(|c| crate::expr::number(c / g).len() <= 6);
        if short { g } else { 1.0 }
    } else {
        1.0
    };
    (g > 0.0 && g != 1.0).then_some(g)
}

/// The fraction `1/n` (`2 ≤ n ≤ 64`, the least) by which every coefficient of a sum is an
/// integer multiple, if some coefficient is not an integer (`a/2 − b/2`: `1/2`;
/// `a − b/2`: `1/2`), so that the numerator of a fraction reads `(a − b)/2`, `(2a − b)/2`.
pub(super) fn unit_content(c: &C) -> Option<f64> {
    let C::Sum(terms, k) = c else { return None };
    let coefs: Vec<f64> = terms
        .iter()
        .map(|(_, c)| c.value())
        .chain([k.value()])
        .filter(|c| *c != 0.0)
        .collect();
    if coefs.iter().all(|c| c.fract() == 0.0) {
        return None;
    }
    (2..=64u32).map(f64::from).find_map(|n| {
        coefs
            .iter()
            .all(|c| {
                let m = c * n;
                m.fract() == 0.0 && m.abs() < 1e6
            })
            .then_some(1.0 / n)
    })
}

/// Whether the name `v` occurs anywhere in `c`.
pub(super) fn mentions(c: &C, v: Symbol) -> bool {
    match c {
        C::Sym(Name(s)) => *s == v,
        C::Num(_) | C::Pi | C::Euler => false,
        C::Sum(t, _) => t.iter().any(|(x, _)| mentions(x, v)),
        C::Prod(_, fs) => fs.iter().any(|(b, e)| mentions(b, v) || mentions(e, v)),
        C::Call(_, args) => args.iter().any(|a| mentions(a, v)),
    }
}

/// The printed size of a canonical expression, roughly: its names, numbers and operators.
pub(super) fn size(c: &C) -> usize {
    match c {
        C::Num(_) | C::Sym(_) | C::Pi | C::Euler => 1,
        C::Call(_, args) => 1 + args.iter().map(|a| size(a)).sum::<usize>(),
        C::Sum(terms, k) => {
            let parts = terms.len() + usize::from(k.value() != 0.0);
            let coefs = terms.iter().filter(|(_, c)| c.value().abs() != 1.0).count();
            let inner: usize = terms.iter().map(|(t, _)| size(t)).sum();
            inner + 2 * coefs + usize::from(k.value() != 0.0) + parts.saturating_sub(1)
        }
        C::Prod(k, fs) => {
            let coef = if k.value().abs() == 1.0 { 0 } else { 2 };
            let inner: usize = fs
                .iter()
                .map(|(b, e)| {
                    size(b)
                        + if e.value() == Some(1.0) {
                            0
                        } else {
                            1 + size(e)
                        }
                })
                .sum();
            coef + inner + fs.len().saturating_sub(1)
        }
    }
}

pub(super) fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `x^y` for numbers when the result reads exactly: integer powers with an integer or a
/// short result (`2^(−1) = 0.5`), and exact integer roots (`4^0.5 = 2`).
pub(super) fn fold_pow(x: f64, y: f64) -> Option<f64> {
    let v = x.powf(y);
    if !v.is_finite() {
        return None;
    }
    if y == y.trunc() && y >= 0.0 && v.abs() < 1e15 {
        return Some(v);
    }
    let short = crate::expr::number(v).len() <= 6;
    if y == y.trunc() && short {
        return Some(v);
    }
    if v == v.trunc() && v.powf(1.0 / y) == x {
        return Some(v);
    }
    None
}

/// `k·x^y` for numbers when it reads exactly: `x^y` folds ([`fold_pow`]), or `y` is a
/// negative integer and `k` divided by the integer `x^(−y)` is an integer or a short decimal
/// that multiplies back to `k` (`18·9^(−1) = 2`, `3·6^(−1) = 0.5`, but `1·3^(−1)` stays).
pub(super) fn fold_scaled_pow(k: f64, x: f64, y: f64) -> Option<f64> {
    if let Some(v) = fold_pow(x, y) {
        let kv = k * v;
        return (kv.is_finite() && (v == v.trunc() || kv / v == k)).then_some(kv);
    }
    if y >= 0.0 || y != y.trunc() {
        return None;
    }
    let d = fold_pow(x, -y).filter(|d| *d == d.trunc() && *d != 0.0)?;
    let q = k / d;
    let exact = q * d == k && (q == q.trunc() || crate::expr::number(q).len() <= 6);
    exact.then_some(q)
}

/// Inserts `coef·term` into sorted distinct terms, adding coefficients of equal terms. A sum
/// of coefficients within rounding of zero relative to its operands (`6.25e9 − 6.25e9` off
/// by an ulp, `0.1 + 0.2 − 0.3`) is zero: left in, it becomes a wrong non-zero entry
/// (`4.8e-7·a³/b³` where `F_ab = 0`).
pub(super) fn insert_term(terms: &mut Vec<(Rc<C>, Constant)>, term: Rc<C>, coef: f64) {
    if coef == 0.0 {
        return;
    }
    match terms.binary_search_by(|(t, _)| t.as_ref().cmp(&term)) {
        Ok(i) => {
            let old = terms[i].1.value();
            let c = snap(old + coef);
            if c.abs() <= 8.0 * f64::EPSILON * (old.abs() + coef.abs()) {
                terms.remove(i);
            } else {
                terms[i].1 = Constant::new(c);
            }
        }
        Err(i) => terms.insert(i, (term, Constant::new(coef))),
    }
}

/// Largest denominator [`snap`] looks for.
const SNAP_DENOMINATOR: i64 = 10_000;

/// `c` replaced by the rational `p/q` (`q ≤` [`SNAP_DENOMINATOR`]) within 4 ulps of it, if
/// there is one: coefficient arithmetic in `f64` rounds `1.5·3/5` to `0.9000000000000001`,
/// and where the terms it multiplies later cancel the rounding grows by the cancellation
/// (`4.500000000000001` for `4.5` left a categorical's `F` off by 3.3e-7). The coefficients of
/// a model are rationals in all but rare cases, and a value within 4 ulps of a rational of
/// small denominator that is not that rational changes by at most those 4 ulps. The search
/// runs over the convergents of the continued fraction of `|c|`, each checked against `c`.
pub(super) fn snap(c: f64) -> f64 {
    let a = c.abs();
    if !a.is_finite() || a == a.trunc() || !(1e-9..=1e9).contains(&a) {
        return c;
    }
    let tol = 4.0 * f64::EPSILON * a;
    let (mut h0, mut h1) = (0i64, 1i64);
    let (mut k0, mut k1) = (1i64, 0i64);
    let mut x = a;
    for _ in 0..40 {
        let whole = x.floor();
        if whole > 1e12 {
            break;
        }
        let w = whole as i64;
        let (h2, k2) = (w * h1 + h0, w * k1 + k0);
        if k2 > SNAP_DENOMINATOR {
            break;
        }
        let r = h2 as f64 / k2 as f64;
        if (r - a).abs() <= tol {
            return r.copysign(c);
        }
        let frac = x - whole;
        if frac <= 0.0 {
            break;
        }
        x = 1.0 / frac;
        (h0, h1, k0, k1) = (h1, h2, k1, k2);
    }
    c
}

pub(super) fn sum_from(mut terms: Vec<(Rc<C>, Constant)>, mut constant: f64) -> C {
    constant = snap(constant);
    // A term that is a number once its coefficient is applied (`9·9^(−1)`) is constant.
    terms.retain(|(t, k)| match &**t {
        C::Prod(pk, fs)
            if fs
                .iter()
                .all(|(b, e)| b.value().is_some() && e.value().is_some()) =>
        {
            match prod_from(k.value() * pk.value(), fs.clone()) {
                C::Num(v) => {
                    constant = snap(constant + v.value());
                    false
                }
                _ => true,
            }
        }
        _ => true,
    });
    if terms.is_empty() {
        return num(constant);
    }
    if terms.len() == 1 && constant == 0.0 {
        let (t, k) = terms
            .into_iter()
            .next()
            .unwrap_or_else(|| (Rc::new(num(0.0)), Constant::new(1.0)));
        if k.value() == 1.0 {
            return own(t);
        }
        let (_, fs) = factors_of(t);
        return prod_from(k.value(), fs);
    }
    C::Sum(terms, Constant::new(constant))
}

/// (coefficient, factors) of a canonical expression.
pub(super) fn factors_of(c: Rc<C>) -> (f64, Factors) {
    match &*c {
        C::Num(k) => (k.value(), Vec::new()),
        C::Prod(..) => match own(c) {
            C::Prod(k, fs) => (k.value(), fs),
            _ => (1.0, Vec::new()),
        },
        _ => (1.0, vec![(c, Rc::new(num(1.0)))]),
    }
}

pub(super) fn prod_from(mut coef: f64, mut fs: Vec<(Rc<C>, Rc<C>)>) -> C {
    // A numeric base whose power reads exactly joins the coefficient (`9^1·135 = 1215`), so
    // a numeric factor is never left beside the coefficient where like terms would miss it.
    fs.retain(|(b, e)| match (b.value(), e.value()) {
        (Some(x), Some(y)) => match fold_scaled_pow(coef, x, y) {
            Some(v) => {
                coef = v;
                false
            }
            None => true,
        },
        _ => true,
    });
    if coef == 0.0 {
        return num(0.0);
    }
    if fs.is_empty() {
        return num(coef);
    }
    // A number times a single sum distributes: k(a + b) = ka + kb, so that like terms
    // across the parentheses meet (`x − (x − μ) = μ`).
    if coef != 1.0 && fs.len() == 1 && fs[0].1.value() == Some(1.0) {
        if let C::Sum(terms, k) = &*fs[0].0 {
            let terms = terms
                .iter()
                .map(|(t, c)| (t.clone(), Constant::new(coef * c.value())))
                .collect();
            return C::Sum(terms, Constant::new(coef * k.value()));
        }
    }
    if coef == 1.0 && fs.len() == 1 && fs[0].1.value() == Some(1.0) {
        let (b, _) = fs
            .into_iter()
            .next()
            .unwrap_or_else(|| (Rc::new(num(1.0)), Rc::new(num(1.0))));
        return own(b);
    }
    C::Prod(Constant::new(coef), fs)
}

#[cfg(test)]
mod snap_tests {
    use super::snap;

    #[test]
    fn rounded_rationals_snap_to_the_nearest_double_of_the_rational() {
        assert_eq!(snap(1.5 * 3.0 / 5.0), 0.9);
        assert_eq!(snap(0.1 + 0.2), 0.3);
        assert_eq!(snap(-(0.1 + 0.2)), -0.3);
        assert_eq!(snap(4.500000000000001), 4.5);
        assert_eq!(snap(18.000000000000004), 18.0);
        assert_eq!(snap(1.0 / 3.0 + 1.0 / 3.0 + 1.0 / 3.0 - 1e-16), 1.0);
        assert_eq!(
            snap(7.0 / 9999.0 * (1.0 + 2.0 * f64::EPSILON)),
            7.0 / 9999.0
        );
    }

    #[test]
    fn other_values_are_left_alone() {
        for v in [
            std::f64::consts::PI,
            std::f64::consts::LN_2,
            2f64.sqrt(),
            0.05859375,
            1e-12,
            1e12 + 0.5,
            0.9 + 1e-13,
            f64::INFINITY,
            0.0,
            -3.0,
        ] {
            assert_eq!(snap(v).to_bits(), v.to_bits(), "{v}");
        }
        assert!(snap(f64::NAN).is_nan());
    }
}
