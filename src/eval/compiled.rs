//! A compiled form of a list of expressions for fast repeated `f64` evaluation: one flat
//! instruction tape, hash-consed across all the expressions so that a shared subexpression is
//! computed once, constants folded at compile time.

use std::collections::HashMap;

use egg::{Id, Symbol};

mod hoist;

pub(crate) use hoist::hoist;

use super::sum::CompensatedSum;
use super::{EvalError, Scalar, elementary, integer_exponent, polygamma_order, special};
use crate::expr::{Expr, Op};

/// One instruction; its result goes to the slot with its own index, operands are slot indices.
/// Constants are stored as bit patterns so that instructions can be hash-consed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Instr {
    Var(u32),
    Const(u64),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Powi(u32, i32),
    /// `a ^ e` for a constant non-integer exponent, `e` as bits.
    Powf(u32, u64),
    Neg(u32),
    Ln(u32),
    Exp(u32),
    Sqrt(u32),
    Log1p(u32),
    Expm1(u32),
    Lgamma(u32),
    Digamma(u32),
    Trigamma(u32),
    Polygamma(u32, u32),
    Sigmoid(u32),
    Abs(u32),
    Sign(u32),
    Sin(u32),
    Cos(u32),
}

impl Instr {
    /// The result, reading operand slots through `slot` and variables from `values`.
    #[inline(always)]
    fn exec(self, slot: impl Fn(u32) -> f64, values: &[f64]) -> f64 {
        match self {
            Instr::Var(i) => values[i as usize],
            Instr::Const(bits) => f64::from_bits(bits),
            Instr::Add(a, b) => slot(a) + slot(b),
            Instr::Sub(a, b) => slot(a) - slot(b),
            Instr::Mul(a, b) => slot(a) * slot(b),
            Instr::Div(a, b) => slot(a) / slot(b),
            Instr::Powi(a, n) => slot(a).powi(n),
            Instr::Powf(a, e) => slot(a).powf(f64::from_bits(e)),
            Instr::Neg(a) => -slot(a),
            Instr::Ln(a) => slot(a).ln(),
            Instr::Exp(a) => slot(a).exp(),
            Instr::Sqrt(a) => slot(a).sqrt(),
            Instr::Log1p(a) => slot(a).ln_1p(),
            Instr::Expm1(a) => slot(a).exp_m1(),
            Instr::Lgamma(a) => special::lgamma(slot(a)),
            Instr::Digamma(a) => special::digamma(slot(a)),
            Instr::Trigamma(a) => special::trigamma(slot(a)),
            Instr::Polygamma(n, a) => special::polygamma(n, slot(a)),
            Instr::Sigmoid(a) => Scalar::sigmoid(&slot(a)),
            Instr::Abs(a) => slot(a).abs(),
            Instr::Sign(a) => Scalar::sign(&slot(a)),
            Instr::Sin(a) => slot(a).sin(),
            Instr::Cos(a) => slot(a).cos(),
        }
    }

    /// This instruction with its operand slots renamed by `f`.
    fn map_operands(self, f: impl Fn(u32) -> u32) -> Instr {
        use Instr::*;
        match self {
            Var(_) | Const(_) => self,
            Add(a, b) => Add(f(a), f(b)),
            Sub(a, b) => Sub(f(a), f(b)),
            Mul(a, b) => Mul(f(a), f(b)),
            Div(a, b) => Div(f(a), f(b)),
            Powi(a, n) => Powi(f(a), n),
            Powf(a, e) => Powf(f(a), e),
            Polygamma(n, a) => Polygamma(n, f(a)),
            Neg(a) => Neg(f(a)),
            Ln(a) => Ln(f(a)),
            Exp(a) => Exp(f(a)),
            Sqrt(a) => Sqrt(f(a)),
            Log1p(a) => Log1p(f(a)),
            Expm1(a) => Expm1(f(a)),
            Lgamma(a) => Lgamma(f(a)),
            Digamma(a) => Digamma(f(a)),
            Trigamma(a) => Trigamma(f(a)),
            Sigmoid(a) => Sigmoid(f(a)),
            Abs(a) => Abs(f(a)),
            Sign(a) => Sign(f(a)),
            Sin(a) => Sin(f(a)),
            Cos(a) => Cos(f(a)),
        }
    }

    /// The slots this instruction reads.
    fn operands(self) -> ([u32; 2], usize) {
        match self {
            Instr::Var(_) | Instr::Const(_) => ([0, 0], 0),
            Instr::Add(a, b) | Instr::Sub(a, b) | Instr::Mul(a, b) | Instr::Div(a, b) => {
                ([a, b], 2)
            }
            Instr::Powi(a, _)
            | Instr::Powf(a, _)
            | Instr::Polygamma(_, a)
            | Instr::Neg(a)
            | Instr::Ln(a)
            | Instr::Exp(a)
            | Instr::Sqrt(a)
            | Instr::Log1p(a)
            | Instr::Expm1(a)
            | Instr::Lgamma(a)
            | Instr::Digamma(a)
            | Instr::Trigamma(a)
            | Instr::Sigmoid(a)
            | Instr::Abs(a)
            | Instr::Sign(a)
            | Instr::Sin(a)
            | Instr::Cos(a) => ([a, 0], 1),
        }
    }
}

/// Several expressions compiled into one instruction tape for fast repeated `f64` evaluation.
///
/// Every node of every expression is hash-consed into the tape, so subexpressions shared
/// within or across the expressions are computed once per evaluation; instructions whose
/// operands are constants are folded at compile time. The semantics are those of
/// [`eval`](super::eval) in `f64`: a constant integer exponent uses `powi`, a constant `e ^ b`
/// is `exp(b)`.
///
/// ```
/// use fisher_geometry::Expr;
/// use fisher_geometry::Compiled;
///
/// let (x, mu, sigma) = (Expr::sym("x"), Expr::sym("mu"), Expr::sym("sigma"));
/// let score_mu = (&x - &mu) / sigma.pow(2); // s_μ = (x − μ)/σ²
/// let h_mumu = -1.0 / sigma.pow(2); // H_μμ = −1/σ²
/// let c = Compiled::new(&[score_mu, h_mumu], &["x".into(), "mu".into(), "sigma".into()])?;
/// let mut scratch = Vec::new();
/// let mut out = [0.0; 2];
/// c.eval_with(&[3.0, 1.0, 2.0], &mut scratch, &mut out)?;
/// assert_eq!(out, [0.5, -0.25]);
/// # Ok::<(), fisher_geometry::EvalError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Compiled {
    tape: Vec<Instr>,
    outputs: Vec<u32>,
    vars: Vec<Symbol>,
    /// Identifies the tape for the cache of [`BatchScratch`] (clones share it: same tape).
    id: u64,
    /// The values of the constants, the first slots of the tape.
    consts: Vec<f64>,
    /// The variable read by each of the next slots.
    var_of: Vec<u32>,
}

/// The source of [`Compiled::id`].
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Builds a tape, hash-consing instructions and folding constants.
struct TapeBuilder {
    tape: Vec<Instr>,
    constant: Vec<Option<f64>>,
    memo: HashMap<Instr, u32>,
}

impl TapeBuilder {
    fn constant(&self, slot: u32) -> Option<f64> {
        self.constant[slot as usize]
    }

    fn push(&mut self, instr: Instr) -> u32 {
        let (ops, n) = instr.operands();
        let instr = if n > 0 && ops[..n].iter().all(|s| self.constant(*s).is_some()) {
            let v = instr.exec(|s| self.constant(s).unwrap_or(f64::NAN), &[]);
            Instr::Const(v.to_bits())
        } else {
            instr
        };
        if let Some(slot) = self.memo.get(&instr) {
            return *slot;
        }
        let slot = self.tape.len() as u32;
        self.tape.push(instr);
        self.constant.push(match instr {
            Instr::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        });
        self.memo.insert(instr, slot);
        slot
    }

    fn num(&mut self, v: f64) -> u32 {
        self.push(Instr::Const(v.to_bits()))
    }

    /// `a^n` for a small constant integer `n` as multiplications by repeated squaring (and one
    /// division for `n < 0`), hash-consed, so `σ², σ³, σ⁴` share their products.
    fn powi(&mut self, a: u32, n: i32) -> u32 {
        match n {
            0 => self.num(1.0),
            1 => a,
            n if n < 0 => {
                let p = self.powi(a, n.saturating_neg());
                let one = self.num(1.0);
                self.push(Instr::Div(one, p))
            }
            n => {
                let half = self.powi(a, n / 2);
                let square = self.push(Instr::Mul(half, half));
                if n % 2 == 1 {
                    self.push(Instr::Mul(square, a))
                } else {
                    square
                }
            }
        }
    }
}

/// Largest `|n|` for which `a^n` is expanded into multiplications rather than `powi`.
const MAX_EXPANDED_POWER: i32 = 16;

impl Compiled {
    /// Compiles `exprs`; evaluation takes the values of `vars`, in that order.
    ///
    /// # Errors
    ///
    /// [`EvalError::Unbound`] for a name not in `vars`, [`EvalError::PolygammaOrder`] for a
    /// polygamma order that is not a non-negative integer constant.
    pub fn new(exprs: &[Expr], vars: &[Symbol]) -> Result<Compiled, EvalError> {
        let mut b = TapeBuilder {
            tape: Vec::new(),
            constant: Vec::new(),
            memo: HashMap::new(),
        };
        let mut outputs = Vec::with_capacity(exprs.len());
        for expr in exprs {
            let mut slots: Vec<u32> = Vec::with_capacity(expr.nodes().len());
            for node in expr.nodes() {
                let s = |id: &Id| slots[usize::from(*id)];
                if let Op::Pow([x, y]) = node {
                    let n = b.constant(s(y)).and_then(integer_exponent);
                    if let Some(n) = n.filter(|n| n.abs() <= MAX_EXPANDED_POWER) {
                        let slot = b.powi(s(x), n);
                        slots.push(slot);
                        continue;
                    }
                }
                let instr = match node {
                    Op::Num(c) => Instr::Const(c.value().to_bits()),
                    Op::Pi => Instr::Const(std::f64::consts::PI.to_bits()),
                    Op::Euler => Instr::Const(std::f64::consts::E.to_bits()),
                    Op::Sym(name) => match vars.iter().position(|v| v == name) {
                        Some(i) => Instr::Var(i as u32),
                        None => return Err(EvalError::Unbound { name: *name }),
                    },
                    Op::Add([x, y]) => Instr::Add(s(x), s(y)),
                    Op::Sub([x, y]) => Instr::Sub(s(x), s(y)),
                    Op::Mul([x, y]) => Instr::Mul(s(x), s(y)),
                    Op::Div([x, y]) => Instr::Div(s(x), s(y)),
                    Op::Pow([x, y]) => match (b.constant(s(x)), b.constant(s(y))) {
                        (_, Some(e)) => match integer_exponent(e) {
                            Some(n) => Instr::Powi(s(x), n),
                            None => Instr::Powf(s(x), e.to_bits()),
                        },
                        (Some(base), None) if base == std::f64::consts::E => Instr::Exp(s(y)),
                        // exp(y·ln x), as `Pow` computes it, in three instructions so that
                        // `ln x` is shared (and hoisted out of batches over data x).
                        _ => {
                            let l = b.push(Instr::Ln(s(x)));
                            let m = b.push(Instr::Mul(l, s(y)));
                            Instr::Exp(m)
                        }
                    },
                    Op::Neg([x]) => Instr::Neg(s(x)),
                    Op::Ln([x]) => Instr::Ln(s(x)),
                    Op::Exp([x]) => Instr::Exp(s(x)),
                    Op::Sqrt([x]) => Instr::Sqrt(s(x)),
                    Op::Log1p([x]) => Instr::Log1p(s(x)),
                    Op::Expm1([x]) => Instr::Expm1(s(x)),
                    Op::Lgamma([x]) => Instr::Lgamma(s(x)),
                    Op::Digamma([x]) => Instr::Digamma(s(x)),
                    Op::Trigamma([x]) => Instr::Trigamma(s(x)),
                    Op::Polygamma([n, x]) => match polygamma_order(b.constant(s(n))) {
                        Some(order) => Instr::Polygamma(order, s(x)),
                        None => return Err(super::polygamma_order_error(expr, *n)),
                    },
                    Op::Sigmoid([x]) => Instr::Sigmoid(s(x)),
                    Op::Abs([x]) => Instr::Abs(s(x)),
                    Op::Sign([x]) => Instr::Sign(s(x)),
                    Op::Sin([x]) => Instr::Sin(s(x)),
                    Op::Cos([x]) => Instr::Cos(s(x)),
                };
                let slot = match instr {
                    Instr::Const(bits) => b.num(f64::from_bits(bits)),
                    _ => b.push(instr),
                };
                slots.push(slot);
            }
            outputs.push(slots[usize::from(expr.root())]);
        }
        Ok(Compiled::from_parts(&b.tape, &outputs, vars.to_vec()))
    }

    /// A compiled form from a tape in topological order (operands before their
    /// instructions), its dead instructions dropped.
    fn from_parts(tape: &[Instr], outputs: &[u32], vars: Vec<Symbol>) -> Compiled {
        let (tape, outputs) = eliminate_dead(tape, outputs);
        let consts = tape
            .iter()
            .map_while(|i| match i {
                Instr::Const(bits) => Some(f64::from_bits(*bits)),
                _ => None,
            })
            .collect::<Vec<f64>>();
        let var_of = tape[consts.len()..]
            .iter()
            .map_while(|i| match i {
                Instr::Var(v) => Some(*v),
                _ => None,
            })
            .collect();
        Compiled {
            tape,
            outputs,
            vars,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            consts,
            var_of,
        }
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.tape.len()
    }

    /// Whether the tape is empty (no expressions).
    pub fn is_empty(&self) -> bool {
        self.tape.is_empty()
    }

    /// Number of outputs, one per compiled expression.
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The variables, in the order their values are passed.
    pub fn vars(&self) -> &[Symbol] {
        &self.vars
    }

    /// Evaluates every expression at `values` (one per variable) into `out` (one per
    /// expression), using `scratch` as working memory: after the first call with a given
    /// `scratch`, no call allocates.
    ///
    /// # Errors
    ///
    /// [`EvalError::Length`] if `values` or `out` has the wrong length.
    pub fn eval_with(
        &self,
        values: &[f64],
        scratch: &mut Vec<f64>,
        out: &mut [f64],
    ) -> Result<(), EvalError> {
        scratch.resize(self.tape.len(), 0.0);
        self.eval_slots(values, scratch, out)
    }

    /// [`Compiled::eval_with`] with working memory `slots` of at least [`Compiled::len`]
    /// values (on the stack, say, for a small tape).
    ///
    /// # Errors
    ///
    /// [`EvalError::Length`] if `values`, `slots` or `out` has the wrong length.
    pub fn eval_slots(
        &self,
        values: &[f64],
        slots: &mut [f64],
        out: &mut [f64],
    ) -> Result<(), EvalError> {
        check_len("outputs", self.outputs.len(), out.len())?;
        self.eval_each(values, slots, |i, v| out[i] = v)
    }

    /// Evaluates every expression at `values`, handing output `i` with its value to
    /// `sink(i, v)` in order of `i` (to scatter the values straight into their places, the
    /// two halves of a symmetric matrix say), with working memory `slots` of at least
    /// [`Compiled::len`] values.
    ///
    /// # Errors
    ///
    /// [`EvalError::Length`] if `values` or `slots` has the wrong length.
    #[inline]
    pub fn eval_each(
        &self,
        values: &[f64],
        slots: &mut [f64],
        mut sink: impl FnMut(usize, f64),
    ) -> Result<(), EvalError> {
        check_len("values", self.vars.len(), values.len())?;
        let len = self.tape.len();
        if slots.len() < len {
            return Err(EvalError::Length {
                what: "slots",
                expected: len,
                found: slots.len(),
            });
        }
        let scratch = &mut slots[..len];
        // The leaves, then each instruction, which reads only earlier slots.
        let (nc, nv) = (self.consts.len(), self.var_of.len());
        for (slot, c) in scratch.iter_mut().zip(&self.consts) {
            *slot = *c;
        }
        for (slot, v) in scratch[nc..].iter_mut().zip(&self.var_of) {
            *slot = values[*v as usize];
        }
        let start = nc + nv;
        for (i, instr) in self.tape[start..].iter().enumerate() {
            let v = instr.exec(|s| scratch[s as usize], values);
            scratch[start + i] = v;
        }
        for (i, s) in self.outputs.iter().enumerate() {
            sink(i, scratch[*s as usize]);
        }
        Ok(())
    }

    /// Evaluates every expression at `values` into `out`, with a fresh scratch buffer (one
    /// allocation per call; use [`Compiled::eval_with`] in loops).
    ///
    /// # Errors
    ///
    /// [`EvalError::Length`] if `values` or `out` has the wrong length.
    pub fn eval_into(&self, values: &[f64], out: &mut [f64]) -> Result<(), EvalError> {
        let mut scratch = Vec::with_capacity(self.tape.len());
        self.eval_with(values, &mut scratch, out)
    }

    /// Evaluates every expression at `values`, returning the results.
    ///
    /// # Errors
    ///
    /// [`EvalError::Length`] if `values` has the wrong length.
    pub fn eval(&self, values: &[f64]) -> Result<Vec<f64>, EvalError> {
        let mut out = vec![0.0; self.outputs.len()];
        self.eval_into(values, &mut out)?;
        Ok(out)
    }
}

/// One input column of [`Compiled::eval_batch`]: a value shared by every point of the batch
/// (typically a parameter) or one value per point (typically data).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// The same value at every point.
    Uniform(f64),
    /// One value per point; every varying input has the same length.
    Varying(&'a [f64]),
}

/// Points evaluated together in one pass over the tape by [`Compiled::eval_batch`]: small
/// enough that the working set stays in cache, large enough to amortize the dispatch.
const CHUNK: usize = 64;

/// Chunks of at most this many points are run point by point (every step for one point,
/// then the next): over a few lanes the loops cost more to set up than they save.
const POINTWISE: usize = 1;

/// Working memory of [`Compiled::eval_batch`], reusable across calls so that repeated
/// batches do not allocate.
#[derive(Debug, Clone, Default)]
pub struct BatchScratch {
    /// One value per instruction for the uniform instructions.
    uniform: Vec<f64>,
    /// Whether each instruction varies from point to point.
    varying: Vec<bool>,
    /// `CHUNK` values per instruction for the varying instructions.
    lanes: Vec<f64>,
    /// The varying instructions, in tape order.
    order: Vec<u32>,
    /// The others (computed once per batch of uniform values), in tape order.
    constant: Vec<u32>,
    /// For each instruction that reads a varying input, the input's index (the chunk
    /// loops read its column in place rather than copy it); `u32::MAX` for the others.
    column: Vec<u32>,
    /// The varying instructions that are not inputs, in tape order, with their operands
    /// resolved (what the chunk loops run).
    steps: Vec<Step>,
    /// What `uniform`, `varying` and `order` were computed for: the tape's id, then per
    /// input whether it varies and its uniform value's bits. A batch with the same key (the
    /// next batch of nodes at the same parameters) skips the uniform pass; one with the same
    /// varying inputs (the next parameter point) keeps the steps.
    key: Vec<u64>,
}

/// Where an operand of a varying instruction reads its values over a chunk.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The lanes of a varying slot.
    Lanes(u32),
    /// The column of a varying input, read in place.
    Column(u32),
    /// The value of a uniform slot.
    Uniform(u32),
}

/// A varying instruction of a batch, with its operands resolved for the inputs it was
/// prepared for ([`BatchScratch::steps`]).
#[derive(Debug, Clone, Copy)]
struct Step {
    /// The operation (its operand slots are those of `a`, `b`).
    instr: Instr,
    /// Its slot.
    slot: u32,
    /// Its operands (`b` equals `a` for a unary operation).
    a: Source,
    b: Source,
}

/// How much of a [`BatchScratch`] holds for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cached {
    /// Nothing: another tape, or other inputs vary.
    Nothing,
    /// The same tape with the same inputs varying: which instructions vary and the steps.
    Pattern,
    /// That, and the same uniform values: the uniform pass too.
    Everything,
}

impl BatchScratch {
    /// What is already prepared for `id` and `inputs`; records their key.
    fn cached(&mut self, id: u64, inputs: &[Input<'_>]) -> Cached {
        let pattern = self.key.len() == 1 + 2 * inputs.len()
            && self.key[0] == id
            && inputs.iter().enumerate().all(|(i, input)| {
                let kind = self.key[1 + 2 * i];
                match input {
                    Input::Varying(_) => kind == 1,
                    Input::Uniform(_) => kind == 0,
                }
            });
        if !pattern {
            self.key.clear();
            self.key.push(id);
            for input in inputs {
                match input {
                    Input::Varying(_) => self.key.extend([1, 0]),
                    Input::Uniform(v) => self.key.extend([0, v.to_bits()]),
                }
            }
            return Cached::Nothing;
        }
        let mut same = true;
        for (i, input) in inputs.iter().enumerate() {
            if let Input::Uniform(v) = input {
                let bits = &mut self.key[2 + 2 * i];
                same &= *bits == v.to_bits();
                *bits = v.to_bits();
            }
        }
        if same {
            Cached::Everything
        } else {
            Cached::Pattern
        }
    }
}

impl Compiled {
    /// Evaluates every expression at many points at once; `out` receives, for output `k`
    /// and point `i`, its value at `out[k * n + i]` where `n` is the number of points.
    ///
    /// Instructions that depend only on [`Input::Uniform`] inputs (everything that involves
    /// only the parameters, such as `1/σ²`) are computed once per batch; the others run over
    /// the points in chunks, one instruction at a time, which the compiler can vectorize.
    /// Results equal those of [`Compiled::eval_with`] at each point, bit for bit.
    ///
    /// ```
    /// use fisher_geometry::Expr;
    /// use fisher_geometry::{BatchScratch, Compiled, Input};
    ///
    /// let (x, mu, sigma) = (Expr::sym("x"), Expr::sym("mu"), Expr::sym("sigma"));
    /// let score_mu = (&x - &mu) / sigma.pow(2); // s_μ = (x − μ)/σ²
    /// let c = Compiled::new(&[score_mu], &["x".into(), "mu".into(), "sigma".into()])?;
    /// let xs = [1.0, 2.0, 3.0];
    /// let mut out = [0.0; 3];
    /// let inputs = [Input::Varying(&xs), Input::Uniform(1.0), Input::Uniform(2.0)];
    /// c.eval_batch(&inputs, &mut BatchScratch::default(), &mut out)?;
    /// assert_eq!(out, [0.0, 0.25, 0.5]);
    /// # Ok::<(), fisher_geometry::EvalError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EvalError::Length`] if `inputs` does not have one entry per variable, the varying
    /// inputs differ in length, or `out` is not `n_outputs() × n` long.
    pub fn eval_batch(
        &self,
        inputs: &[Input<'_>],
        scratch: &mut BatchScratch,
        out: &mut [f64],
    ) -> Result<(), EvalError> {
        let n = self.prepare_batch(inputs, scratch)?;
        check_len("outputs", self.outputs.len() * n, out.len())?;
        // Varying instructions chunk by chunk.
        let mut start = 0;
        while start < n {
            let m = CHUNK.min(n - start);
            if m <= POINTWISE {
                run_points(start, m, inputs, scratch);
            } else {
                self.run_chunk(start, m, inputs, scratch, false);
            }
            for (k, o) in self.outputs.iter().enumerate() {
                let dst = &mut out[k * n + start..k * n + start + m];
                let o = *o as usize;
                if scratch.varying[o] {
                    dst.copy_from_slice(chunk_values(o, start, m, inputs, scratch));
                } else {
                    dst.fill(scratch.uniform[o]);
                }
            }
            start += m;
        }
        Ok(())
    }

    /// The varying instructions over the `m` points of the chunk at `start`, except the
    /// varying inputs themselves, which are read in place.
    /// With `vectorized`, `ln` and `exp` are [`elementary`]'s, within an ulp of the
    /// platform's.
    fn run_chunk(
        &self,
        start: usize,
        m: usize,
        inputs: &[Input<'_>],
        scratch: &mut BatchScratch,
        vectorized: bool,
    ) {
        let BatchScratch {
            lanes,
            steps,
            uniform,
            ..
        } = scratch;
        for step in steps.iter() {
            run_lanes(*step, start, m, inputs, uniform, lanes, vectorized);
        }
    }

    /// The checks of a batch and its uniform pass (skipped when `scratch` holds it already):
    /// the number of points.
    fn prepare_batch(
        &self,
        inputs: &[Input<'_>],
        scratch: &mut BatchScratch,
    ) -> Result<usize, EvalError> {
        check_len("inputs", self.vars.len(), inputs.len())?;
        let mut n = None;
        for input in inputs {
            if let Input::Varying(col) = input {
                match n {
                    None => n = Some(col.len()),
                    Some(m) => check_len("varying input", m, col.len())?,
                }
            }
        }
        // With no varying input, the batch is a single point.
        let n = n.unwrap_or(1);
        let len = self.tape.len();
        scratch.lanes.resize(len * CHUNK, 0.0);
        let cached = scratch.cached(self.id, inputs);
        if cached == Cached::Nothing {
            self.prepare_pattern(inputs, scratch);
        }
        if cached != Cached::Everything {
            // The uniform instructions, once per batch of new uniform values.
            let BatchScratch {
                uniform, constant, ..
            } = scratch;
            for &i in constant.iter() {
                let instr = self.tape[i as usize];
                uniform[i as usize] = match instr {
                    Instr::Var(v) => match inputs[v as usize] {
                        Input::Uniform(x) => x,
                        Input::Varying(_) => f64::NAN,
                    },
                    _ => instr.exec(|s| uniform[s as usize], &[]),
                };
            }
        }
        Ok(n)
    }

    /// Which instructions vary for the varying inputs of `inputs`, and the steps that run
    /// them ([`BatchScratch::steps`]).
    fn prepare_pattern(&self, inputs: &[Input<'_>], scratch: &mut BatchScratch) {
        let len = self.tape.len();
        scratch.uniform.clear();
        scratch.uniform.resize(len, 0.0);
        scratch.varying.clear();
        scratch.varying.resize(len, false);
        for (i, instr) in self.tape.iter().enumerate() {
            scratch.varying[i] = match instr {
                Instr::Var(v) => matches!(inputs[*v as usize], Input::Varying(_)),
                _ => {
                    let (ops, k) = instr.operands();
                    ops[..k].iter().any(|s| scratch.varying[*s as usize])
                }
            };
        }
        let BatchScratch {
            varying,
            order,
            constant,
            column,
            steps,
            ..
        } = scratch;
        order.clear();
        order.extend((0..len as u32).filter(|i| varying[*i as usize]));
        constant.clear();
        constant.extend((0..len as u32).filter(|i| !varying[*i as usize]));
        column.clear();
        column.extend(self.tape.iter().map(|instr| match instr {
            Instr::Var(v) if matches!(inputs[*v as usize], Input::Varying(_)) => *v,
            _ => u32::MAX,
        }));
        let source = |s: u32| {
            let s = s as usize;
            if !varying[s] {
                Source::Uniform(s as u32)
            } else if column[s] != u32::MAX {
                Source::Column(column[s])
            } else {
                Source::Lanes(s as u32)
            }
        };
        steps.clear();
        steps.extend(
            order
                .iter()
                .filter(|&&i| column[i as usize] == u32::MAX)
                .map(|&i| {
                    let instr = self.tape[i as usize];
                    let (ops, k) = instr.operands();
                    let a = source(ops[0]);
                    let b = if k == 2 { source(ops[1]) } else { a };
                    Step {
                        instr,
                        slot: i,
                        a,
                        b,
                    }
                }),
        );
    }

    /// The sum over the points of each output of [`Compiled::eval_batch`], compensated, added
    /// to `sums` (one per output), without writing the values out; when `magnitudes` is not
    /// empty (one per output), it gets the plain sums of the outputs' absolute values too.
    /// `ln` and `exp` are vectorized ([`elementary`]): each term is within an ulp per `ln`
    /// or `exp` of the point's value, not bit for bit.
    pub(crate) fn sum_batch(
        &self,
        inputs: &[Input<'_>],
        scratch: &mut BatchScratch,
        sums: &mut [CompensatedSum],
        magnitudes: &mut [f64],
    ) -> Result<(), EvalError> {
        let n = self.prepare_batch(inputs, scratch)?;
        check_len("sums", self.outputs.len(), sums.len())?;
        if !magnitudes.is_empty() {
            check_len("magnitudes", self.outputs.len(), magnitudes.len())?;
        }
        let mut start = 0;
        while start < n {
            let m = CHUNK.min(n - start);
            self.run_chunk(start, m, inputs, scratch, true);
            for (k, o) in self.outputs.iter().enumerate() {
                let o = *o as usize;
                if scratch.varying[o] {
                    let lanes = chunk_values(o, start, m, inputs, scratch);
                    sums[k].add_slice(lanes);
                    if let Some(mag) = magnitudes.get_mut(k) {
                        *mag += abs_sum(lanes);
                    }
                } else {
                    // m equal terms: their product, rounded once.
                    let v = scratch.uniform[o];
                    sums[k].add(m as f64 * v);
                    if let Some(mag) = magnitudes.get_mut(k) {
                        *mag += m as f64 * v.abs();
                    }
                }
            }
            start += m;
        }
        Ok(())
    }
}

/// `Σ|xᵢ|`, plainly, in four interleaved sums so that the additions do not wait on each
/// other.
#[inline]
fn abs_sum(xs: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut quads = xs.chunks_exact(4);
    for q in &mut quads {
        for i in 0..4 {
            acc[i] += q[i].abs();
        }
    }
    let tail: f64 = quads.remainder().iter().map(|x| x.abs()).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// An operand of a varying instruction: its values over the chunk, or its one uniform
/// value.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Lanes(&'a [f64]),
    Value(f64),
}

/// The values of the varying instruction `slot` over the `m` points of the chunk at
/// `start`: its lanes, or the input's column itself for a varying input.
#[inline]
fn chunk_values<'a>(
    slot: usize,
    start: usize,
    m: usize,
    inputs: &[Input<'a>],
    scratch: &'a BatchScratch,
) -> &'a [f64] {
    match inputs.get(scratch.column[slot] as usize) {
        Some(Input::Varying(col)) => &col[start..start + m],
        _ => &scratch.lanes[slot * CHUNK..slot * CHUNK + m],
    }
}

/// The steps of `scratch` over the `m` points of the chunk at `start`, point by point: the
/// same operations as [`run_lanes`] without `vectorized`, value by value.
fn run_points(start: usize, m: usize, inputs: &[Input<'_>], scratch: &mut BatchScratch) {
    let BatchScratch {
        lanes,
        steps,
        uniform,
        ..
    } = scratch;
    let value = |lanes: &[f64], src: Source, p: usize| match src {
        Source::Uniform(s) => uniform[s as usize],
        Source::Lanes(s) => lanes[s as usize * CHUNK + p],
        Source::Column(c) => match inputs[c as usize] {
            Input::Varying(col) => col[start + p],
            Input::Uniform(v) => v,
        },
    };
    for p in 0..m {
        for step in steps.iter() {
            let x = value(lanes, step.a, p);
            let y = value(lanes, step.b, p);
            let instr = step.instr;
            lanes[step.slot as usize * CHUNK + p] = match instr {
                Instr::Add(..) => x + y,
                Instr::Sub(..) => x - y,
                Instr::Mul(..) => x * y,
                Instr::Div(..) => x / y,
                Instr::Neg(_) => -x,
                Instr::Powi(_, n) => x.powi(n),
                Instr::Powf(_, e) => x.powf(f64::from_bits(e)),
                Instr::Ln(_) => x.ln(),
                Instr::Exp(_) => x.exp(),
                Instr::Sqrt(_) => x.sqrt(),
                _ if instr.operands().1 == 1 => instr.exec(|_| x, &[]),
                _ => f64::NAN,
            };
        }
    }
}

/// The values of `src` over the `m` points of the chunk at `start` (`lanes` those of the
/// slots before the instruction's).
#[inline(always)]
fn operand<'a>(
    src: Source,
    start: usize,
    m: usize,
    inputs: &[Input<'a>],
    uniform: &[f64],
    lanes: &'a [f64],
) -> Operand<'a> {
    match src {
        Source::Uniform(s) => Operand::Value(uniform[s as usize]),
        Source::Lanes(s) => Operand::Lanes(&lanes[s as usize * CHUNK..][..m]),
        Source::Column(c) => match inputs[c as usize] {
            Input::Varying(col) => Operand::Lanes(&col[start..start + m]),
            Input::Uniform(v) => Operand::Value(v),
        },
    }
}

/// Runs one varying instruction (not an input) over `m` points of the current chunk at
/// `start`, writing its lanes.
#[inline]
fn run_lanes(
    step: Step,
    start: usize,
    m: usize,
    inputs: &[Input<'_>],
    uniform: &[f64],
    lanes: &mut [f64],
    vectorized: bool,
) {
    // The instruction's own lanes come after every operand's (operands are earlier slots),
    // so the buffer splits into what is read and what is written.
    let (read, rest) = lanes.split_at_mut(step.slot as usize * CHUNK);
    let dst = &mut rest[..m];
    let a = operand(step.a, start, m, inputs, uniform, read);
    let b = operand(step.b, start, m, inputs, uniform, read);
    let xs = match a {
        Operand::Lanes(xs) => xs,
        Operand::Value(_) => &[][..],
    };
    let instr = step.instr;
    match instr {
        Instr::Add(..) => zip_lanes(dst, a, b, |x, y| x + y),
        Instr::Sub(..) => zip_lanes(dst, a, b, |x, y| x - y),
        Instr::Mul(..) => zip_lanes(dst, a, b, |x, y| x * y),
        Instr::Div(..) => zip_lanes(dst, a, b, |x, y| x / y),
        Instr::Neg(_) => map_lanes(dst, xs, |x| -x),
        Instr::Powi(_, n) => map_lanes(dst, xs, |x| x.powi(n)),
        Instr::Powf(_, e) => map_lanes(dst, xs, |x| x.powf(f64::from_bits(e))),
        Instr::Ln(_) if vectorized => elementary::ln_slice(dst, xs),
        Instr::Exp(_) if vectorized => elementary::exp_slice(dst, xs),
        Instr::Ln(_) => map_lanes(dst, xs, f64::ln),
        Instr::Exp(_) => map_lanes(dst, xs, f64::exp),
        Instr::Sqrt(_) => map_lanes(dst, xs, f64::sqrt),
        // The rest (special functions, …) cost far more than their dispatch.
        _ if instr.operands().1 == 1 => map_lanes(dst, xs, |x| instr.exec(|_| x, &[])),
        _ => dst.fill(f64::NAN),
    }
}

/// `dst[i] = f(a[i], b[i])` where either operand may be one uniform value.
#[inline(always)]
fn zip_lanes(dst: &mut [f64], a: Operand<'_>, b: Operand<'_>, f: impl Fn(f64, f64) -> f64) {
    match (a, b) {
        (Operand::Lanes(xs), Operand::Lanes(ys)) => {
            for ((d, x), y) in dst.iter_mut().zip(xs).zip(ys) {
                *d = f(*x, *y);
            }
        }
        (Operand::Lanes(xs), Operand::Value(y)) => {
            for (d, x) in dst.iter_mut().zip(xs) {
                *d = f(*x, y);
            }
        }
        (Operand::Value(x), Operand::Lanes(ys)) => {
            for (d, y) in dst.iter_mut().zip(ys) {
                *d = f(x, *y);
            }
        }
        // A varying instruction has at least one varying operand.
        (Operand::Value(x), Operand::Value(y)) => dst.fill(f(x, y)),
    }
}

/// `dst[i] = f(xs[i])`.
#[inline(always)]
fn map_lanes(dst: &mut [f64], xs: &[f64], f: impl Fn(f64) -> f64) {
    for (d, x) in dst.iter_mut().zip(xs) {
        *d = f(*x);
    }
}

/// Drops the instructions no output depends on (the operands of folded constants) and
/// renumbers the slots.
fn eliminate_dead(tape: &[Instr], outputs: &[u32]) -> (Vec<Instr>, Vec<u32>) {
    let mut live = vec![false; tape.len()];
    for o in outputs {
        live[*o as usize] = true;
    }
    for i in (0..tape.len()).rev() {
        if live[i] {
            let (ops, n) = tape[i].operands();
            for s in &ops[..n] {
                live[*s as usize] = true;
            }
        }
    }
    // The leaves first (constants, then variables), so that an evaluation fills them in one
    // pass and runs the rest without dispatching on them; they have no operands, so the tape
    // stays in topological order.
    let leaf = |instr: &Instr| match instr {
        Instr::Const(_) => Some(0),
        Instr::Var(_) => Some(1),
        _ => None,
    };
    let mut new_slot = vec![0u32; tape.len()];
    let mut out = Vec::with_capacity(tape.len());
    for kind in [Some(0), Some(1), None] {
        for (i, instr) in tape.iter().enumerate() {
            if live[i] && leaf(instr) == kind {
                new_slot[i] = out.len() as u32;
                out.push(instr.map_operands(|s| new_slot[s as usize]));
            }
        }
    }
    let outputs = outputs.iter().map(|o| new_slot[*o as usize]).collect();
    (out, outputs)
}

fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), EvalError> {
    if expected == found {
        Ok(())
    } else {
        Err(EvalError::Length {
            what,
            expected,
            found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{lgamma, ln};

    #[test]
    fn shares_subexpressions_and_folds_constants() -> Result<(), EvalError> {
        let (x, y) = (Expr::sym("x"), Expr::sym("y"));
        let common = ln(&x) * &y;
        let a = &common + Expr::num(2.0) * Expr::pi();
        let b = &common - lgamma(Expr::num(3.0));
        let c = Compiled::new(&[a, b], &["x".into(), "y".into()])?;
        // x, y, ln x, ln x·y, 2π (folded), +, ln 2 (folded), −
        assert_eq!(c.len(), 8);
        let out = c.eval(&[2.0, 3.0])?;
        let l = 2f64.ln() * 3.0;
        assert_eq!(out, vec![l + 2.0 * std::f64::consts::PI, l - 2f64.ln()]);
        Ok(())
    }

    #[test]
    fn errors_and_lengths() {
        let x = Expr::sym("x");
        assert_eq!(
            Compiled::new(std::slice::from_ref(&x), &[]).map(|_| ()),
            Err(EvalError::Unbound { name: "x".into() })
        );
        let c = Compiled::new(&[x.pow(2)], &["x".into()]);
        assert!(c.is_ok_and(|c| {
            c.eval(&[1.0, 2.0]).is_err()
                && c.eval_into(&[1.0], &mut []).is_err()
                && c.eval(&[-3.0]) == Ok(vec![9.0])
        }));
    }
}
