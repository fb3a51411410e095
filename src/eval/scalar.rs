//! The number types of the evaluator: [`Scalar`], `f64` or any num-dual dual number over `f64`
//! with the special functions of the model language added as Taylor series, and the power and
//! logarithm rules shared by every type.

use num_dual::DualNum;

use crate::special;

/// A number type the evaluator works in: `f64` or any num-dual dual number over `f64`, with the
/// special functions of the model language added.
///
/// The special functions of a dual number `x = a + d` (real part `a`, nilpotent part `d`) are
/// their Taylor series about `a`, `f(x) = Σ_{k=0}^{K} f⁽ᵏ⁾(a) dᵏ / k!` with `K = D::NDERIV`,
/// which is exact because `d^(K+1) = 0`: `K` is 0 for `f64`, 1 for `Dual64`/`DualVec`, 2 for
/// `Dual2`, `HyperDual` and `Dual2Vec`, 3 for `Dual3` and `HyperHyperDual`, and the sum of the
/// levels for nested types. The derivatives `f⁽ᵏ⁾` are polygamma functions: `ln Γ' = ψ`,
/// `ψ⁽ⁿ⁾' = ψ⁽ⁿ⁺¹⁾`. At a pole (`x = 0, −1, …`) the derivatives are not finite and the whole
/// dual number is NaN, its real part included (where `f64` evaluation gives `lgamma = +∞`).
///
/// ```
/// use fisher_geometry::Scalar;
/// use num_dual::{Dual64, DualNum};
/// let x = Dual64::from(3.0).derivative();
/// let y = x.lgamma(); // d/dx ln Γ(x) = ψ(x)
/// assert!((y.eps - (1.5 - 0.5772156649015329)).abs() < 1e-15); // ψ(3) = 1 + 1/2 − γ
/// ```
pub trait Scalar: DualNum<Primitive = f64> {
    /// `ln|Γ(x)|`.
    fn lgamma(&self) -> Self;
    /// The digamma function `ψ(x) = (ln Γ)'(x)`.
    fn digamma(&self) -> Self;
    /// The trigamma function `ψ₁(x) = ψ'(x)`.
    fn trigamma(&self) -> Self;
    /// The polygamma function `ψ⁽ⁿ⁾(x)`, `ψ⁽⁰⁾ = ψ`.
    fn polygamma(&self, n: u32) -> Self;
    /// The logistic function `σ(x) = 1/(1 + e^(−x))`, computed as `e^x/(1 + e^x)` for `x < 0`
    /// so that it neither overflows nor loses precision.
    fn sigmoid(&self) -> Self;
    /// The sign of the real part (−1, 0 or 1; NaN for NaN) as a constant: its derivative is 0.
    fn sign(&self) -> Self;
}

impl<D: DualNum<Primitive = f64>> Scalar for D {
    fn lgamma(&self) -> Self {
        taylor(self, |k, a| match k {
            0 => special::lgamma(a),
            _ => special::polygamma(k - 1, a),
        })
    }

    fn digamma(&self) -> Self {
        taylor(self, special::polygamma)
    }

    fn trigamma(&self) -> Self {
        taylor(self, |k, a| special::polygamma(k.saturating_add(1), a))
    }

    fn polygamma(&self, n: u32) -> Self {
        taylor(self, |k, a| special::polygamma(k.saturating_add(n), a))
    }

    fn sigmoid(&self) -> Self {
        if self.re() >= 0.0 {
            (Self::one() + (-self.clone()).exp()).recip()
        } else {
            let e = self.exp();
            e.clone() / (Self::one() + e)
        }
    }

    fn sign(&self) -> Self {
        Self::from(sign(self.re()))
    }
}

/// `sign(x)`: −1, 0 or 1, NaN for NaN.
pub(super) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0 // 0 for ±0, NaN for NaN
    }
}

/// `f(x) = Σ_{k=0}^{K} f⁽ᵏ⁾(a) dᵏ / k!` with `a` the real part of `x`, `d = x − a` and
/// `K = D::NDERIV`, by Horner's rule; `deriv(k, a)` is `f⁽ᵏ⁾(a)`.
fn taylor<D: DualNum<Primitive = f64>>(x: &D, deriv: impl Fn(u32, f64) -> f64) -> D {
    let a = x.re();
    let order = u32::try_from(D::NDERIV).unwrap_or(u32::MAX);
    if order == 0 {
        return D::from(deriv(0, a));
    }
    let d = x.clone() - a;
    let mut factorial: f64 = (1..=order).map(f64::from).product();
    let mut acc = D::from(deriv(order, a) / factorial);
    for k in (0..order).rev() {
        factorial /= f64::from(k + 1);
        acc = acc * d.clone() + deriv(k, a) / factorial;
    }
    acc
}

/// `x^e` for a constant exponent: `powi` when `e` is an integer (so `(−2)^2 = 4`), else `powf`.
pub(super) fn pow_const<D: DualNum<Primitive = f64>>(x: &D, e: f64) -> D {
    match integer_exponent(e) {
        Some(n) => x.powi(n),
        None => x.powf(e),
    }
}

/// `a^b = exp(b · ln a)` for a non-constant exponent `b`.
///
/// At `a = 0 < b` the value is 0 and so are the derivatives of orders below `b`
/// (`∂ᵇ(aᵇ) = aᵇ (ln a)ᵏ → 0`, `∂ₐᵏ aᵇ ∝ a^(b−k) → 0`): the result is exactly zero when the
/// base is constant or `b` exceeds the derivative order of `D`, `powi` for an integer `b`, and
/// otherwise `exp(b · ln a)`, whose derivatives are NaN (they are infinite).
pub(super) fn pow_general<D: DualNum<Primitive = f64>>(a: &D, b: &D, base_is_constant: bool) -> D {
    if a.re() == 0.0 && b.re() > 0.0 {
        if base_is_constant || b.re() > D::NDERIV as f64 {
            return D::zero();
        }
        if let Some(n) = integer_exponent(b.re()) {
            return a.powi(n);
        }
    }
    (ln_dual(a) * b.clone()).exp()
}

/// `ln a`, also where the real part `r` of `a` is below `1e-150` (or above `1e150`): there
/// num-dual's second derivative `−1/r²` overflows, and `−∞ · 0` makes the Hessian part NaN
/// (`ln(x/λ)` at `x = 1e-160` in the Weibull). Then `ln a = ln r + ln(a/r)` with `a/r` of
/// real part 1, exact in value and derivatives.
pub(super) fn ln_dual<D: DualNum<Primitive = f64>>(a: &D) -> D {
    let r = a.re();
    if r > 0.0 && r.is_finite() && !(1e-150..=1e150).contains(&r) {
        (a.clone() / r).ln() + r.ln()
    } else {
        a.ln()
    }
}

/// `e` as an `i32` if it is an integer in range.
pub(super) fn integer_exponent(e: f64) -> Option<i32> {
    (e.fract() == 0.0 && e.abs() <= f64::from(i32::MAX)).then_some(e as i32)
}

#[cfg(test)]
mod tests {
    use num_dual::{
        Dual2_64, Dual3_64, Dual64, DualNum, DualSVec64, HyperDual64, HyperHyperDual64,
    };

    use super::*;

    /// The ten-line experiment: `NDERIV` is the highest derivative a type carries, and nested
    /// types add their levels.
    #[test]
    fn nderiv_is_the_derivative_order() {
        assert_eq!(<f64 as DualNum>::NDERIV, 0);
        assert_eq!(<Dual64 as DualNum>::NDERIV, 1);
        assert_eq!(<DualSVec64<3> as DualNum>::NDERIV, 1);
        assert_eq!(<Dual2_64 as DualNum>::NDERIV, 2);
        assert_eq!(<HyperDual64 as DualNum>::NDERIV, 2);
        assert_eq!(<Dual3_64 as DualNum>::NDERIV, 3);
        assert_eq!(<HyperHyperDual64 as DualNum>::NDERIV, 3);
        assert_eq!(<num_dual::Dual<Dual64> as DualNum>::NDERIV, 2);
        assert_eq!(<num_dual::HyperDual<Dual2_64> as DualNum>::NDERIV, 4);
    }

    #[test]
    fn special_functions_on_duals_carry_polygamma_derivatives() {
        let a = 2.7;
        let x = Dual3_64::from(a).derivative();
        let y = x.lgamma();
        assert_eq!(y.re, special::lgamma(a));
        assert_eq!(y.v1, special::digamma(a));
        assert_eq!(y.v2, special::trigamma(a));
        assert_eq!(y.v3, special::polygamma(2, a));
        // a nested type with four derivative levels: the fourth derivative of ψ is ψ⁽⁴⁾
        let h = num_dual::HyperDual::<Dual2_64>::from_re(Dual2_64::from(a).derivative())
            .derivative1()
            .derivative2();
        let z = h.digamma();
        // ∂ε₁∂ε₂ of the inner Dual2 part at order 2: ψ⁽³⁾ from ε₁ε₂, times the inner 2nd order
        assert!((z.eps1eps2.v2 - special::polygamma(4, a)).abs() < 1e-12);
        // a nested dual at a point that is not a multiple of the direction
        let w = num_dual::Dual::<Dual64>::new(Dual64::new(a, 1.0), Dual64::new(1.0, 0.0));
        let t = w.trigamma();
        assert!((t.eps.eps - special::polygamma(3, a)).abs() < 1e-12);
    }
}
