//! An expectation problem at one parameter point: the prepared tapes with the parameter
//! values bound, the working memory, the evaluation of the tapes at a batch of data points,
//! and the errors that name the point.

use egg::Symbol;

use super::prepared::{Halves, Prepared, Tape};
use crate::eval::{BatchScratch, Env, EvalError, Input, eval_checked};
use crate::expect::error::point_text;
use crate::expect::kinks::KinkNode;
use crate::expect::quadrature::Tol;
use crate::expect::{ExpectError, IntegrandError, PointIntegrand, Quadrature};
use crate::expr::Expr;
use crate::model::{Model, Support};

/// Tape inputs held on the stack by [`Problem::eval_group`] (more go to the heap).
const STACK_INPUTS: usize = 12;

/// `lw − c` above this: a non-finite integrand value is an error, not an overflow in a
/// negligible tail.
pub(super) const SIGNIFICANT: f64 = -200.0;

/// A set-up expectation problem: the prepared tapes at one parameter point.
pub(crate) struct Problem<'a> {
    pub(super) model: &'a Model,
    pub(super) gs: &'a [Expr],
    pub(super) extra_vars: &'a [Symbol],
    pub(super) supports: &'a [Support],
    pub(super) complement: &'a [Option<usize>],
    pub(super) bit: &'a [Option<usize>],
    /// Parameter values in matrix order.
    pub(super) params: Vec<f64>,
    /// The values of the extra inputs ([`Prepared::extra_vars`]).
    pub(super) extra_values: Vec<f64>,
    /// The uniform inputs of the tapes: `params` then `extra_values`.
    pub(super) uniform: Vec<f64>,
    pub(super) tapes: &'a Halves,
    /// Integrands evaluated point by point after those of `main` (main tape only).
    pub(super) extra: Option<&'a mut dyn PointIntegrand>,
    /// Scratch for the data point (and its complements) and the values of `extra`.
    pub(super) point: Vec<f64>,
    pub(super) point_c: Vec<f64>,
    pub(super) extra_out: Vec<f64>,
    pub(super) deriv: &'a [Option<usize>],
    pub(super) q: Quadrature,
    /// Working memory of the tapes, one per [`Tape`] (each caches its uniform pass), taken
    /// from [`POOL`] and given back on drop.
    pub(super) scratch: [BatchScratch; 2],
    pub(super) out: Vec<f64>,
    /// The data points of a level, their complements and log-Jacobians (reused).
    pub(super) buffers: (Vec<f64>, Vec<f64>, Vec<f64>),
    /// Points at which a compiled expression was evaluated.
    pub evaluations: usize,
    pub(super) kinked: bool,
    pub(super) kinks: &'a [KinkNode],
    /// [`Prepared::order`].
    pub(super) order: Option<&'a [usize]>,
}

/// The working memory of a [`Problem`], kept per thread between problems: the lanes of a tape
/// are tens of kilobytes, too much to allocate and clear at every parameter point.
#[derive(Default)]
struct Work {
    scratch: [BatchScratch; 2],
    out: Vec<f64>,
    buffers: (Vec<f64>, Vec<f64>, Vec<f64>),
    /// The parameter values, the extra values and the uniform inputs.
    values: (Vec<f64>, Vec<f64>, Vec<f64>),
}

thread_local! {
    static POOL: std::cell::RefCell<Vec<Work>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Most [`Work`]s a thread keeps (nested problems take one each).
const POOL_SIZE: usize = 4;

impl Drop for Problem<'_> {
    fn drop(&mut self) {
        let work = Work {
            scratch: std::mem::take(&mut self.scratch),
            out: std::mem::take(&mut self.out),
            buffers: std::mem::take(&mut self.buffers),
            values: (
                std::mem::take(&mut self.params),
                std::mem::take(&mut self.extra_values),
                std::mem::take(&mut self.uniform),
            ),
        };
        POOL.with_borrow_mut(|pool| {
            if pool.len() < POOL_SIZE {
                pool.push(work);
            }
        });
    }
}

/// [`ExpectError::OverBudget`] for the expectation of `p`.
pub(super) fn over_budget(p: &Problem<'_>, detail: String) -> ExpectError {
    ExpectError::OverBudget {
        dims: p.supports.len(),
        budget: p.q.max_points,
        at: point_text(&p.model.param_names(), &p.params),
        detail,
    }
}

impl<'a> Problem<'a> {
    /// The problem `prep` at the parameter values `params` (in matrix order) and the values
    /// of its extra inputs.
    pub fn new(
        prep: &'a Prepared,
        params: &[f64],
        extra_values: &[f64],
        extra: Option<&'a mut dyn PointIntegrand>,
        q: &Quadrature,
    ) -> Problem<'a> {
        let work = POOL.with_borrow_mut(Vec::pop).unwrap_or_default();
        let (mut p, mut e, mut uniform) = work.values;
        let params = {
            p.clear();
            p.extend_from_slice(params);
            p
        };
        let extra_values = {
            e.clear();
            e.extend_from_slice(extra_values);
            e
        };
        uniform.clear();
        uniform.extend_from_slice(&params);
        uniform.extend_from_slice(&extra_values);
        Problem {
            model: &prep.model,
            gs: &prep.gs,
            extra_vars: &prep.extra_vars,
            supports: &prep.supports,
            complement: &prep.complement,
            bit: &prep.bit,
            params,
            extra_values,
            uniform,
            tapes: &prep.tapes,
            extra_out: vec![0.0; extra.as_ref().map_or(0, |e| e.len())],
            extra,
            point: Vec::new(),
            point_c: Vec::new(),
            deriv: &prep.deriv,
            q: q.clone(),
            scratch: work.scratch,
            out: work.out,
            buffers: work.buffers,
            evaluations: 0,
            kinked: prep.kinked,
            kinks: &prep.kinks,
            order: prep.order.as_deref(),
        }
    }

    /// An environment with the model's constants, the parameters and the extra inputs.
    pub(super) fn param_env(&self) -> Env<f64> {
        let mut env: Env<f64> = self.model.consts.iter().copied().collect();
        for (p, v) in self.model.params.iter().zip(&self.params) {
            env.insert(p.name, *v);
        }
        for (s, v) in self.extra_vars.iter().zip(&self.extra_values) {
            env.insert(*s, *v);
        }
        env
    }

    /// Outputs of the compiled tape.
    pub(super) fn n_compiled(&self, tape: Tape) -> usize {
        match tape {
            Tape::Main => self.tapes.n_main,
            Tape::Locate => self.tapes.n_locate,
        }
    }

    /// Outputs per point: the compiled ones, then (main tape) the pointwise ones.
    pub(super) fn n_out(&self, tape: Tape) -> usize {
        match tape {
            Tape::Main => self.n_compiled(tape) + self.extra_out.len(),
            Tape::Locate => self.n_compiled(tape),
        }
    }

    pub(super) fn tol(&self, rel: f64) -> Tol {
        Tol {
            rel,
            abs: self.q.abs_tol,
            max_level: self.q.max_level,
            max_terms: self.q.max_terms,
        }
    }

    /// Evaluates `tape` at points of the innermost variable `d` (`xs`, complements `cs`),
    /// the outer ones `fixed`, into `self.out` (output `k`, point `i` at `k·n + i`).
    ///
    /// Points are evaluated by the tape of their halves: a unit variable with `1 − x < x`
    /// is read through its complement (see [`reflect`]).
    pub(super) fn eval_points(
        &mut self,
        tape: Tape,
        d: usize,
        fixed: &[(f64, f64)],
        xs: &[f64],
        cs: &[f64],
    ) -> Result<(), ExpectError> {
        let n = xs.len();
        let n_outputs = self.n_compiled(tape);
        if self.evaluations + n > self.q.max_points {
            return Err(over_budget(self, "nested quadrature".to_string()));
        }
        // Every value is written below (no need to clear it first).
        self.out.resize(n_outputs * n, 0.0);
        self.evaluations += n;
        crate::expect::progress::progress_inc(n);
        let mut mask = 0u64;
        for (j, v) in fixed.iter().enumerate() {
            if let Some(b) = self.bit[j].filter(|_| v.1 < v.0) {
                mask |= 1 << b;
            }
        }
        let Some(b) = self.bit[d] else {
            let mut out = std::mem::take(&mut self.out);
            let r = self.eval_group(tape, mask, d, fixed, xs, cs, &mut out);
            self.out = out;
            return r;
        };
        let upper = |i: usize| cs[i] < xs[i];
        let n_upper = (0..n).filter(|&i| upper(i)).count();
        if n_upper == 0 || n_upper == n {
            let mask = if n_upper == n { mask | 1 << b } else { mask };
            let mut out = std::mem::take(&mut self.out);
            let r = self.eval_group(tape, mask, d, fixed, xs, cs, &mut out);
            self.out = out;
            return r;
        }
        // Both halves: each group by its tape, scattered back in order.
        for half in [false, true] {
            let idx: Vec<usize> = (0..n).filter(|&i| upper(i) == half).collect();
            let gx: Vec<f64> = idx.iter().map(|&i| xs[i]).collect();
            let gc: Vec<f64> = idx.iter().map(|&i| cs[i]).collect();
            let mut out = vec![0.0; n_outputs * idx.len()];
            let m = if half { mask | 1 << b } else { mask };
            self.eval_group(tape, m, d, fixed, &gx, &gc, &mut out)?;
            let g = idx.len();
            for k in 0..n_outputs {
                for (i, &at) in idx.iter().enumerate() {
                    self.out[k * n + at] = out[k * g + i];
                }
            }
        }
        Ok(())
    }

    /// [`Self::eval_points`] for points that share the halves `mask`, into `out`.
    #[allow(clippy::too_many_arguments)] // the nesting state, passed down explicitly
    pub(super) fn eval_group(
        &mut self,
        tape: Tape,
        mask: u64,
        d: usize,
        fixed: &[(f64, f64)],
        xs: &[f64],
        cs: &[f64],
        out: &mut [f64],
    ) -> Result<(), ExpectError> {
        let compiled = self.tapes.get(tape, mask)?;
        let n_data = self.supports.len();
        let data = (0..n_data).map(|j| {
            if j == d {
                Input::Varying(xs)
            } else {
                Input::Uniform(fixed.get(j).map_or(f64::NAN, |v| v.0))
            }
        });
        let complements = (0..n_data)
            .filter(|&j| self.complement[j].is_some())
            .map(|j| {
                if j == d {
                    Input::Varying(cs)
                } else {
                    Input::Uniform(fixed.get(j).map_or(f64::NAN, |v| v.1))
                }
            });
        let uniform = self.uniform.iter().map(|v| Input::Uniform(*v));
        let all = data.chain(complements).chain(uniform);
        // On the stack for the usual few inputs: this runs once per batch of nodes.
        let mut stack = [Input::Uniform(f64::NAN); STACK_INPUTS];
        let mut len = 0;
        let mut heap = Vec::new();
        for (i, input) in all.enumerate() {
            if i < STACK_INPUTS {
                stack[i] = input;
                len = i + 1;
            } else {
                if heap.is_empty() {
                    heap.extend_from_slice(&stack);
                }
                heap.push(input);
            }
        }
        let inputs = if heap.is_empty() {
            &stack[..len]
        } else {
            &heap[..]
        };
        compiled.eval_batch(inputs, &mut self.scratch[tape as usize], out)?;
        Ok(())
    }

    /// The error for a non-finite log-density (`which = None`) or integrand `which = Some(k)`
    /// at the data point `fixed` + `x` (the outer values and the value of variable `d`).
    pub(super) fn not_finite(
        &self,
        which: Option<usize>,
        fixed: &[(f64, f64)],
        x: f64,
    ) -> ExpectError {
        let mut env = self.param_env();
        for (var, v) in self
            .model
            .data
            .iter()
            .zip(fixed.iter().map(|v| v.0).chain([x]))
        {
            env.insert(var.name, v);
        }
        let (what, expr) = match which {
            None => ("log-density".to_string(), &self.model.logp),
            Some(k) => (format!("`{}`", self.gs[k]), &self.gs[k]),
        };
        let detail = match eval_checked(expr, &env) {
            Err(EvalError::NonFinite { expr, .. }) => format!("`{expr}` is not finite"),
            Err(e) => e.to_string(),
            Ok(v) => format!("its value is {}", crate::expr::number(v)),
        };
        self.not_finite_at(what, fixed, x, detail)
    }

    /// [`ExpectError::Unresolved`] at this parameter point.
    pub(super) fn unresolved(&self, detail: String) -> ExpectError {
        ExpectError::Unresolved {
            at: point_text(&self.model.param_names(), &self.params),
            detail,
        }
    }

    /// [`ExpectError::NotFinite`] for `what` at the data point `fixed` + `x`.
    pub(super) fn not_finite_at(
        &self,
        what: String,
        fixed: &[(f64, f64)],
        x: f64,
        detail: String,
    ) -> ExpectError {
        let (point, support) = self.point_and_support(fixed, x);
        ExpectError::NotFinite {
            what,
            point,
            params: point_text(&self.model.param_names(), &self.params),
            support,
            detail,
        }
    }

    /// The data point `fixed` + `x` as `x=-1, y=2`, and the declared supports as
    /// `real × positive`.
    fn point_and_support(&self, fixed: &[(f64, f64)], x: f64) -> (String, String) {
        let data = &self.model.data;
        let values: Vec<f64> = fixed.iter().map(|v| v.0).chain([x]).collect();
        let point = data
            .iter()
            .zip(&values)
            .map(|(var, v)| format!("{}={}", var.name, crate::expr::number(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        let support = data
            .iter()
            .map(|var| var.support.to_string())
            .collect::<Vec<_>>()
            .join(" × ");
        (point, support)
    }

    /// The values of the pointwise integrands at the data point `fixed` + `x` into
    /// `self.extra_out`: zeros where the weight is negligible, an error where they fail or are
    /// not finite at a significant weight.
    pub(super) fn eval_extra(
        &mut self,
        fixed: &[(f64, f64)],
        (x, cx): (f64, f64),
        matters: bool,
        significant: bool,
    ) -> Result<(), ExpectError> {
        self.extra_out.fill(0.0);
        if !matters {
            return Ok(());
        }
        let Some(extra) = self.extra.as_mut() else {
            return Ok(());
        };
        self.point.clear();
        self.point.extend(fixed.iter().map(|v| v.0));
        self.point.push(x);
        self.point_c.clear();
        self.point_c.extend(fixed.iter().map(|v| v.1));
        self.point_c.push(cx);
        if let Some(order) = self.order {
            // back to declaration order
            let (mut p, mut c) = (vec![0.0; order.len()], vec![0.0; order.len()]);
            for (k, &i) in order.iter().enumerate() {
                p[i] = self.point[k];
                c[i] = self.point_c[k];
            }
            self.point = p;
            self.point_c = c;
        }
        self.evaluations += 1;
        let failure =
            match extra.eval_with_complements(&self.point, &self.point_c, &mut self.extra_out) {
                Err(error) => Some(error),
                Ok(()) => match self.extra_out.iter().position(|v| !v.is_finite()) {
                    Some(index) if significant => Some(IntegrandError::NotFiniteValue {
                        index,
                        value: self.extra_out[index],
                    }),
                    _ => None,
                },
            };
        if let Some(error) = failure {
            let (point, support) = self.point_and_support(fixed, x);
            return Err(ExpectError::Integrand {
                point,
                support,
                error,
            });
        }
        for v in &mut self.extra_out {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
        Ok(())
    }
}
