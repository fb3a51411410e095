//! The rewrite rules, one function per theme.
//!
//! The rules are written for the canonical form that `canon` produces — binary `+` and `*`
//! nested to the left with the numeric coefficient first, `a − b` as `a + (−1)·b`, `a / b`
//! as `a · b^(−1)`, `−a` as `(−1)·a` — and are correct on any input: the first rules of
//! [`arithmetic`] rewrite `-`, `/` and `neg` into that form. `sqrt(x)` and `x^0.5` are both
//! kept in the e-graph (so the power rules see square roots); the cost function makes
//! `sqrt(x)` the extracted form.
//!
//! Each rule has a kebab-case name and its identity as a comment. Side conditions are named
//! predicates answered by the analysis ([`super::analysis`]), never by syntax. No rule has a
//! bare variable as its left side, and there is no blanket associativity or commutativity:
//! the few reordering rules are targeted at the left-nested canonical order.

use egg::rewrite as rw;

use super::analysis::{
    SignFold, both_positive, is_const, is_nonneg, is_nonpos, is_nonzero, is_not_const, is_positive,
    power_of_power, power_of_product, powers_combine,
};
use crate::expr::Op;

/// A rewrite rule of the simplifier.
pub type Rewrite = egg::Rewrite<Op, SignFold>;

/// Every rule set, in a fixed order.
pub fn all() -> Vec<Rewrite> {
    let mut rules = arithmetic();
    rules.extend(powers());
    rules.extend(exp_log());
    rules.extend(special());
    rules.extend(trig());
    rules.extend(factoring());
    rules
}

/// Sums and products: the canonical spelling of `-`, `/`, `neg`; identities; cancellation.
#[rustfmt::skip]
pub fn arithmetic() -> Vec<Rewrite> { vec![
    // a − b = a + (−1)·b
    rw!("canon-sub";        "(- ?a ?b)"                    => "(+ ?a (* -1 ?b))"),
    // a / b = a · b^(−1)
    rw!("canon-div";        "(/ ?a ?b)"                    => "(* ?a (^ ?b -1))"),
    // −a = (−1)·a
    rw!("canon-neg";        "(neg ?a)"                     => "(* -1 ?a)"),
    // a + 0 = a
    rw!("add-zero";         "(+ ?a 0)"                     => "?a"),
    // 0 + a = a
    rw!("zero-add";         "(+ 0 ?a)"                     => "?a"),
    // 1·a = a
    rw!("one-mul";          "(* 1 ?a)"                     => "?a"),
    // a·1 = a
    rw!("mul-one";          "(* ?a 1)"                     => "?a"),
    // 0·a = 0
    rw!("zero-mul";         "(* 0 ?a)"                     => "0"),
    // (−1)·((−1)·a) = a
    rw!("neg-neg";          "(* -1 (* -1 ?a))"             => "?a"),
    // a·c = c·a for a number c (the coefficient goes first)
    rw!("coeff-first";      "(* ?a ?c)"                    => "(* ?c ?a)"
        if is_const("?c") if is_not_const("?a")),
    // c·(d·a) = (c·d)·a for numbers c, d
    rw!("coeff-merge";      "(* ?c (* ?d ?a))"             => "(* (* ?c ?d) ?a)"
        if is_const("?c") if is_const("?d")),
    // k·(a·b) = (k·a)·b for a number k (the coefficient joins the left-nested product)
    rw!("coeff-nest";       "(* ?k (* ?a ?b))"             => "(* (* ?k ?a) ?b)"
        if is_const("?k") if is_not_const("?a")),
    // (−1)·(a + b) = (−1)·a + (−1)·b
    rw!("neg-distribute";   "(* -1 (+ ?a ?b))"             => "(+ (* -1 ?a) (* -1 ?b))"),
    // a + (−1)·a = 0
    rw!("sub-self";         "(+ ?a (* -1 ?a))"             => "0"),
    // (−1)·a + a = 0
    rw!("self-sub";         "(+ (* -1 ?a) ?a)"             => "0"),
    // (r + a) + (−1)·a = r
    rw!("sum-sub-self";     "(+ (+ ?r ?a) (* -1 ?a))"      => "?r"),
    // (r + (−1)·a) + a = r
    rw!("sum-self-sub";     "(+ (+ ?r (* -1 ?a)) ?a)"      => "?r"),
    // (a + r) + (−1)·a = r
    rw!("sum-first-sub-self"; "(+ (+ ?a ?r) (* -1 ?a))"    => "?r"),
    // ((−1)·a + r) + a = r
    rw!("sum-first-self-sub"; "(+ (+ (* -1 ?a) ?r) ?a)"    => "?r"),
    // (−1)·a + (a + b) = b
    rw!("sub-self-sum";     "(+ (* -1 ?a) (+ ?a ?b))"      => "?b"),
    // (−1)·a + (b + a) = b
    rw!("sub-sum-self";     "(+ (* -1 ?a) (+ ?b ?a))"      => "?b"),
    // a · a^(−1) = 1 for a ≠ 0
    rw!("div-self";         "(* ?a (^ ?a -1))"             => "1" if is_nonzero("?a")),
    // a^(−1) · a = 1 for a ≠ 0
    rw!("self-div";         "(* (^ ?a -1) ?a)"             => "1" if is_nonzero("?a")),
    // (r · a) · a^(−1) = r for a ≠ 0
    rw!("prod-div-self";    "(* (* ?r ?a) (^ ?a -1))"      => "?r" if is_nonzero("?a")),
    // (r · a^(−1)) · a = r for a ≠ 0
    rw!("prod-self-div";    "(* (* ?r (^ ?a -1)) ?a)"      => "?r" if is_nonzero("?a")),
    // |a| = a for a ≥ 0
    rw!("abs-nonneg";       "(abs ?a)"                     => "?a" if is_nonneg("?a")),
    // |a| = (−1)·a for a ≤ 0
    rw!("abs-nonpos";       "(abs ?a)"                     => "(* -1 ?a)" if is_nonpos("?a")),
    // |(−1)·a| = |a|
    rw!("abs-neg";          "(abs (* -1 ?a))"              => "(abs ?a)"),
    // sign(a) = 1 for a > 0
    rw!("sign-positive";    "(sign ?a)"                    => "1" if is_positive("?a")),
]}

/// Powers and roots: `x^a · x^b`, `(x^a)^b`, `sqrt`.
#[rustfmt::skip]
pub fn powers() -> Vec<Rewrite> { vec![
    // x^1 = x
    rw!("pow-one";          "(^ ?x 1)"                     => "?x"),
    // x^0 = 1
    rw!("pow-zero";         "(^ ?x 0)"                     => "1"),
    // 1^a = 1
    rw!("one-pow";          "(^ 1 ?a)"                     => "1"),
    // x · x = x^2
    rw!("mul-self";         "(* ?x ?x)"                    => "(^ ?x 2)"),
    // x^a · x^b = x^(a+b) when x ≠ 0 or a, b ≥ 0
    rw!("pow-mul-pow";      "(* (^ ?x ?a) (^ ?x ?b))"      => "(^ ?x (+ ?a ?b))"
        if powers_combine("?x", "?a", "?b")),
    // x · x^b = x^(1+b) when x ≠ 0 or b ≥ 0
    rw!("mul-pow";          "(* ?x (^ ?x ?b))"             => "(^ ?x (+ 1 ?b))"
        if powers_combine("?x", "?b", "?b")),
    // x^b · x = x^(b+1) when x ≠ 0 or b ≥ 0
    rw!("pow-mul";          "(* (^ ?x ?b) ?x)"             => "(^ ?x (+ ?b 1))"
        if powers_combine("?x", "?b", "?b")),
    // (r · x^a) · x^b = r · x^(a+b) when x ≠ 0 or a, b ≥ 0
    rw!("prod-pow-mul-pow"; "(* (* ?r (^ ?x ?a)) (^ ?x ?b))" => "(* ?r (^ ?x (+ ?a ?b)))"
        if powers_combine("?x", "?a", "?b")),
    // (r · x) · x^b = r · x^(1+b) when x ≠ 0 or b ≥ 0
    rw!("prod-mul-pow";     "(* (* ?r ?x) (^ ?x ?b))"      => "(* ?r (^ ?x (+ 1 ?b)))"
        if powers_combine("?x", "?b", "?b")),
    // (r · x^b) · x = r · x^(b+1) when x ≠ 0 or b ≥ 0
    rw!("prod-pow-mul";     "(* (* ?r (^ ?x ?b)) ?x)"      => "(* ?r (^ ?x (+ ?b 1)))"
        if powers_combine("?x", "?b", "?b")),
    // (x^a)^b = x^(a·b) when x > 0 or b is an integer
    rw!("pow-pow";          "(^ (^ ?x ?a) ?b)"             => "(^ ?x (* ?a ?b))"
        if power_of_power("?x", "?b")),
    // (x·y)^a = x^a · y^a when x, y > 0 or a is an integer
    rw!("pow-of-product";   "(^ (* ?x ?y) ?a)"             => "(* (^ ?x ?a) (^ ?y ?a))"
        if power_of_product("?x", "?y", "?a")),
    // x^a · y^a = (x·y)^a when x, y > 0 or a is an integer
    rw!("product-of-pow";   "(* (^ ?x ?a) (^ ?y ?a))"      => "(^ (* ?x ?y) ?a)"
        if power_of_product("?x", "?y", "?a")),
    // sqrt(x) = x^0.5 (both spellings live in the e-graph; the cost prefers sqrt)
    rw!("sqrt-pow";         "(sqrt ?x)"                    => "(^ ?x 0.5)"),
    // x^0.5 = sqrt(x)
    rw!("pow-sqrt";         "(^ ?x 0.5)"                   => "(sqrt ?x)"),
    // x^(−0.5) = 1/sqrt(x)
    rw!("pow-rsqrt";        "(^ ?x -0.5)"                  => "(^ (sqrt ?x) -1)"),
    // sqrt(x^2) = |x|
    rw!("sqrt-square-abs";  "(sqrt (^ ?x 2))"              => "(abs ?x)"),
    // sqrt(x^2) = x for x > 0
    rw!("sqrt-square";      "(sqrt (^ ?x 2))"              => "?x" if is_positive("?x")),
    // |x|^2 = x^2
    rw!("abs-square";       "(^ (abs ?x) 2)"               => "(^ ?x 2)"),
    // ((−1)·x)^2 = x^2
    rw!("neg-square";       "(^ (* -1 ?x) 2)"              => "(^ ?x 2)"),
]}

/// Logarithms and exponentials, guarded by positivity.
#[rustfmt::skip]
pub fn exp_log() -> Vec<Rewrite> { vec![
    // ln(exp(x)) = x
    rw!("ln-exp";           "(ln (exp ?x))"                => "?x"),
    // exp(ln(x)) = x for x > 0
    rw!("exp-ln";           "(exp (ln ?x))"                => "?x" if is_positive("?x")),
    // ln(1) = 0
    rw!("ln-one";           "(ln 1)"                       => "0"),
    // ln(e) = 1
    rw!("ln-e";             "(ln e)"                       => "1"),
    // exp(0) = 1
    rw!("exp-zero";         "(exp 0)"                      => "1"),
    // ln(x^n) = n·ln(x) for x > 0
    rw!("ln-pow";           "(ln (^ ?x ?n))"               => "(* ?n (ln ?x))" if is_positive("?x")),
    // ln(x^(−1)) = (−1)·ln(x) for x > 0
    rw!("ln-recip";         "(ln (^ ?x -1))"               => "(* -1 (ln ?x))" if is_positive("?x")),
    // ln(sqrt(x)) = 0.5·ln(x) for x > 0
    rw!("ln-sqrt";          "(ln (sqrt ?x))"               => "(* 0.5 (ln ?x))" if is_positive("?x")),
    // ln(x·y) = ln(x) + ln(y) for x, y > 0
    rw!("ln-mul";           "(ln (* ?x ?y))"               => "(+ (ln ?x) (ln ?y))"
        if both_positive("?x", "?y")),
    // ln(x) + ln(y) = ln(x·y) for x, y > 0
    rw!("ln-add";           "(+ (ln ?x) (ln ?y))"          => "(ln (* ?x ?y))"
        if both_positive("?x", "?y")),
    // exp(a)·exp(b) = exp(a+b)
    rw!("exp-mul";          "(* (exp ?a) (exp ?b))"        => "(exp (+ ?a ?b))"),
    // (r·exp(a))·exp(b) = r·exp(a+b)
    rw!("prod-exp-mul";     "(* (* ?r (exp ?a)) (exp ?b))" => "(* ?r (exp (+ ?a ?b)))"),
    // exp(a)^n = exp(n·a)
    rw!("exp-pow";          "(^ (exp ?a) ?n)"              => "(exp (* ?n ?a))"),
    // exp(n·ln(x)) = x^n for x > 0
    rw!("exp-n-ln";         "(exp (* ?n (ln ?x)))"         => "(^ ?x ?n)" if is_positive("?x")),
    // log1p(x) = ln(1 + x)
    rw!("log1p-ln";         "(log1p ?x)"                   => "(ln (+ 1 ?x))"),
]}

/// Special functions: gamma-family recurrences, polygamma orders, the logistic sigmoid.
#[rustfmt::skip]
pub fn special() -> Vec<Rewrite> { vec![
    // lgamma(1 + x) − lgamma(x) = ln(x) for x > 0
    rw!("lgamma-diff";      "(+ (lgamma (+ 1 ?x)) (* -1 (lgamma ?x)))" => "(ln ?x)"
        if is_positive("?x")),
    // −lgamma(x) + lgamma(1 + x) = ln(x) for x > 0
    rw!("lgamma-diff-rev";  "(+ (* -1 (lgamma ?x)) (lgamma (+ 1 ?x)))" => "(ln ?x)"
        if is_positive("?x")),
    // lgamma(1 + x) = ln(x) + lgamma(x) for x > 0
    rw!("lgamma-recur";     "(lgamma (+ 1 ?x))"            => "(+ (ln ?x) (lgamma ?x))"
        if is_positive("?x")),
    // lgamma(x + 1) = lgamma(1 + x)
    rw!("lgamma-arg-order"; "(lgamma (+ ?x 1))"            => "(lgamma (+ 1 ?x))"),
    // digamma(1 + x) = digamma(x) + 1/x for x ≠ 0
    rw!("digamma-recur";    "(digamma (+ 1 ?x))"           => "(+ (digamma ?x) (^ ?x -1))"
        if is_nonzero("?x")),
    // digamma(x + 1) = digamma(1 + x)
    rw!("digamma-arg-order"; "(digamma (+ ?x 1))"          => "(digamma (+ 1 ?x))"),
    // trigamma(1 + x) = trigamma(x) − 1/x² for x ≠ 0
    rw!("trigamma-recur";   "(trigamma (+ 1 ?x))"          => "(+ (trigamma ?x) (* -1 (^ ?x -2)))"
        if is_nonzero("?x")),
    // polygamma(0, x) = digamma(x)
    rw!("polygamma-0";      "(polygamma 0 ?x)"             => "(digamma ?x)"),
    // polygamma(1, x) = trigamma(x)
    rw!("polygamma-1";      "(polygamma 1 ?x)"             => "(trigamma ?x)"),
    // 1 − sigmoid(x) = sigmoid(−x)
    rw!("one-sub-sigmoid";  "(+ 1 (* -1 (sigmoid ?x)))"    => "(sigmoid (* -1 ?x))"),
    // −sigmoid(x) + 1 = sigmoid(−x)
    rw!("sigmoid-sub-one";  "(+ (* -1 (sigmoid ?x)) 1)"    => "(sigmoid (* -1 ?x))"),
    // 1/(1 + exp(−x)) = sigmoid(x)
    rw!("logistic";         "(^ (+ 1 (exp (* -1 ?x))) -1)" => "(sigmoid ?x)"),
    // exp(x)/(1 + exp(x)) = sigmoid(x)
    rw!("logistic-exp";     "(* (exp ?x) (^ (+ 1 (exp ?x)) -1))" => "(sigmoid ?x)"),
    // ln(sigmoid(x)) = −ln(1 + exp(−x))
    rw!("ln-sigmoid";       "(ln (sigmoid ?x))"            => "(* -1 (ln (+ 1 (exp (* -1 ?x)))))"),
    // ln(1 + exp(x)) = −ln(sigmoid(−x))
    rw!("softplus";         "(ln (+ 1 (exp ?x)))"          => "(* -1 (ln (sigmoid (* -1 ?x))))"),
    // ln(sigmoid(x)) − ln(sigmoid(−x)) = x
    rw!("ln-sigmoid-odds";  "(+ (ln (sigmoid ?x)) (* -1 (ln (sigmoid (* -1 ?x)))))" => "?x"),
]}

/// Trigonometric identities.
#[rustfmt::skip]
pub fn trig() -> Vec<Rewrite> { vec![
    // sin²x + cos²x = 1
    rw!("pythagoras";       "(+ (^ (sin ?x) 2) (^ (cos ?x) 2))"        => "1"),
    // cos²x + sin²x = 1
    rw!("pythagoras-rev";   "(+ (^ (cos ?x) 2) (^ (sin ?x) 2))"        => "1"),
    // (r + sin²x) + cos²x = r + 1
    rw!("sum-pythagoras";   "(+ (+ ?r (^ (sin ?x) 2)) (^ (cos ?x) 2))" => "(+ ?r 1)"),
    // (r + cos²x) + sin²x = r + 1
    rw!("sum-pythagoras-rev"; "(+ (+ ?r (^ (cos ?x) 2)) (^ (sin ?x) 2))" => "(+ ?r 1)"),
    // 1 − sin²x = cos²x
    rw!("one-sub-sin2";     "(+ 1 (* -1 (^ (sin ?x) 2)))"  => "(^ (cos ?x) 2)"),
    // 1 − cos²x = sin²x
    rw!("one-sub-cos2";     "(+ 1 (* -1 (^ (cos ?x) 2)))"  => "(^ (sin ?x) 2)"),
    // sin(−x) = −sin(x)
    rw!("sin-odd";          "(sin (* -1 ?x))"              => "(* -1 (sin ?x))"),
    // cos(−x) = cos(x)
    rw!("cos-even";         "(cos (* -1 ?x))"              => "(cos ?x)"),
    // sin(0) = 0
    rw!("sin-zero";         "(sin 0)"                      => "0"),
    // cos(0) = 1
    rw!("cos-zero";         "(cos 0)"                      => "1"),
]}

/// Factoring out common factors (and distributing only where it lets terms cancel).
#[rustfmt::skip]
pub fn factoring() -> Vec<Rewrite> { vec![
    // a·b + a·c = a·(b + c)
    rw!("factor-left";      "(+ (* ?a ?b) (* ?a ?c))"      => "(* ?a (+ ?b ?c))"),
    // b·a + c·a = (b + c)·a
    rw!("factor-right";     "(+ (* ?b ?a) (* ?c ?a))"      => "(* (+ ?b ?c) ?a)"),
    // a·b + c·a = a·(b + c)
    rw!("factor-left-right"; "(+ (* ?a ?b) (* ?c ?a))"     => "(* ?a (+ ?b ?c))"),
    // b·a + a·c = a·(b + c)
    rw!("factor-right-left"; "(+ (* ?b ?a) (* ?a ?c))"     => "(* ?a (+ ?b ?c))"),
    // a·b + a = a·(b + 1)
    rw!("factor-one";       "(+ (* ?a ?b) ?a)"             => "(* ?a (+ ?b 1))"),
    // a + a·b = a·(1 + b)
    rw!("factor-one-rev";   "(+ ?a (* ?a ?b))"             => "(* ?a (+ 1 ?b))"),
    // (r + a·b) + a·c = r + a·(b + c)
    rw!("sum-factor-left";  "(+ (+ ?r (* ?a ?b)) (* ?a ?c))" => "(+ ?r (* ?a (+ ?b ?c)))"),
    // (r + b·a) + c·a = r + (b + c)·a
    rw!("sum-factor-right"; "(+ (+ ?r (* ?b ?a)) (* ?c ?a))" => "(+ ?r (* (+ ?b ?c) ?a))"),
    // a·b + (k·a)·c = a·(b + k·c) for a number k
    rw!("factor-coeff-right"; "(+ (* ?a ?b) (* (* ?k ?a) ?c))" => "(* ?a (+ ?b (* ?k ?c)))"
        if is_const("?k")),
    // (k·a)·b + a·c = a·(k·b + c) for a number k
    rw!("factor-coeff-left"; "(+ (* (* ?k ?a) ?b) (* ?a ?c))" => "(* ?a (+ (* ?k ?b) ?c))"
        if is_const("?k")),
    // (k·a)·b + (m·a)·c = a·(k·b + m·c) for numbers k, m
    rw!("factor-coeffs";    "(+ (* (* ?k ?a) ?b) (* (* ?m ?a) ?c))" => "(* ?a (+ (* ?k ?b) (* ?m ?c)))"
        if is_const("?k") if is_const("?m")),
    // c·a + a = (c + 1)·a for a number c
    rw!("factor-coeff";     "(+ (* ?c ?a) ?a)"             => "(* (+ ?c 1) ?a)" if is_const("?c")),
    // x^(−1) · (x · y) = y for x ≠ 0 (cancellation across a product)
    rw!("cancel-recip-left"; "(* (^ ?x -1) (* ?x ?y))"     => "?y" if is_nonzero("?x")),
    // (x·y)·x^(−1) = y for x ≠ 0
    rw!("cancel-recip-right"; "(* (* ?x ?y) (^ ?x -1))"    => "?y" if is_nonzero("?x")),
]}
