//! The part of an expectation problem made once per model and list of integrands: the
//! compiled tapes for every half of the unit data variables, the derivatives that locate the
//! modes, the supports.

use std::collections::HashMap;
use std::sync::OnceLock;

use egg::Symbol;

use crate::eval::Compiled;
use crate::expect::ExpectError;
use crate::expect::ends::{complement_name, positive_names, reflect, split_logs, use_complements};
use crate::expect::kinks::{KinkNode, kink_nodes};
use crate::expr::Expr;
use crate::model::{Model, Support};

/// Which compiled expressions a nested integration integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tape {
    /// `logp` and the user's integrands.
    Main,
    /// `logp` and, per continuous data variable, `∂ℓ`, `∂²ℓ`, `(∂ℓ)²` (for locating modes).
    Locate,
}

/// The compiled tapes of a problem, one pair (main, locate) per combination of halves of
/// the unit data variables: bit `j` of a mask set means unit variable `j` lies in the upper
/// half, where its expressions are [`reflect`]ed. Compiled when first needed (a model
/// without unit variables has the one mask 0), once, shared by every parameter point.
pub(super) struct Halves {
    pub(super) main: Vec<Expr>,
    pub(super) locate: Vec<Expr>,
    pub(super) vars: Vec<Symbol>,
    pub(super) unit: Vec<Symbol>,
    /// Names known positive, for [`split_logs`].
    pub(super) positive: Vec<Symbol>,
    pub(super) compiled: Vec<OnceLock<Result<(Compiled, Compiled), ExpectError>>>,
    pub(super) n_main: usize,
    pub(super) n_locate: usize,
}

/// Most unit data variables a problem handles: their halves are `2^k` tapes.
const MAX_UNIT_VARIABLES: usize = 16;

impl Halves {
    fn new(
        main: Vec<Expr>,
        locate: Vec<Expr>,
        vars: Vec<Symbol>,
        unit: Vec<Symbol>,
        positive: Vec<Symbol>,
    ) -> Result<Halves, ExpectError> {
        if unit.len() > MAX_UNIT_VARIABLES {
            return Err(ExpectError::Unsupported {
                reason: format!(
                    "{} data variables on `unit` supports (at most {MAX_UNIT_VARIABLES})",
                    unit.len()
                ),
            });
        }
        let h = Halves {
            n_main: main.len(),
            n_locate: locate.len(),
            main,
            locate,
            compiled: (0..1usize << unit.len()).map(|_| OnceLock::new()).collect(),
            vars,
            unit,
            positive,
        };
        h.get(Tape::Main, 0)?;
        Ok(h)
    }

    pub(super) fn get(&self, tape: Tape, mask: u64) -> Result<&Compiled, ExpectError> {
        let cell = self
            .compiled
            .get(mask as usize)
            .ok_or_else(|| ExpectError::Unsupported {
                reason: format!("no tape for the halves {mask:#b}"),
            })?;
        let pair = cell.get_or_init(|| {
            let upper: Vec<Symbol> = (0..self.unit.len())
                .filter(|j| mask >> j & 1 == 1)
                .map(|j| self.unit[j])
                .collect();
            let positive = &self.positive;
            let form = |es: &[Expr]| -> Vec<Expr> {
                es.iter()
                    .map(|e| split_logs(&reflect(e, &upper), positive))
                    .collect()
            };
            let main = Compiled::new(&form(&self.main), &self.vars)?;
            let locate = Compiled::new(&form(&self.locate), &self.vars)?;
            Ok((main, locate))
        });
        let (main, locate) = pair.as_ref().map_err(Clone::clone)?;
        Ok(match tape {
            Tape::Main => main,
            Tape::Locate => locate,
        })
    }
}

/// An expectation problem prepared once per model and list of integrands: the compiled
/// tapes (for every half of the unit variables), the derivatives that locate modes, the
/// supports. [`Problem`]s at any number of parameter points borrow it.
pub(crate) struct Prepared {
    pub(super) model: Model,
    pub(super) gs: Vec<Expr>,
    /// Inputs after the parameters, bound per point like them (the second point of a
    /// divergence).
    pub(super) extra_vars: Vec<Symbol>,
    pub(super) supports: Vec<Support>,
    /// Input index of the complement `1 − x_d` of each unit data variable.
    pub(super) complement: Vec<Option<usize>>,
    /// The bit of each unit data variable in the masks of [`Halves`].
    pub(super) bit: Vec<Option<usize>>,
    /// The compiled tapes per half of the unit variables (see [`Halves`]).
    pub(super) tapes: Halves,
    /// Output index in `locate` of `∂_d ℓ` (then `∂²_d ℓ`, `(∂_d ℓ)²`) per continuous variable.
    pub(super) deriv: Vec<Option<usize>>,
    /// The log-density has `abs`/`sign` (a kink in x): real supports are split at the mode.
    pub(super) kinked: bool,
    /// The `abs`/`sign` nodes of the log-density, then of the integrands (when `kinked`):
    /// real supports are also split where their arguments cross zero.
    pub(super) kinks: Vec<KinkNode>,
    /// When the data variables were reordered (see [`discrete_first`]): the declared index
    /// of each variable in integration order, so that pointwise integrands, which read the
    /// data point in declaration order, get it that way.
    pub(super) order: Option<Vec<usize>>,
}

/// The model with its discrete data variables moved before the continuous ones (each group in
/// declaration order), and the declared index of each variable in the new order, when that
/// lets the continuous ones be integrated together by the sparse grid: at least
/// [`MIN_DIMENSION`](super::cubature::MIN_DIMENSION) variables, two of them continuous, and a
/// discrete one declared after a continuous one. The nested rules integrate the variables in
/// order, and only a trailing run of continuous variables goes to the grid; otherwise
/// (`x1, x2, x3 : real` before `k : binary`) every `k` would nest three 1-D rules, which
/// exceeds the budget. The expectation does not depend on the order.
fn discrete_first(model: &Model) -> (Option<Model>, Option<Vec<usize>>) {
    let continuous = |i: usize| model.data[i].support.bijector().is_some();
    let n = model.data.len();
    let n_continuous = (0..n).filter(|&i| continuous(i)).count();
    let mixed = (0..n).any(|i| continuous(i) && (i + 1..n).any(|j| !continuous(j)));
    if n < super::cubature::MIN_DIMENSION || n_continuous < 2 || !mixed {
        return (None, None);
    }
    let order: Vec<usize> = (0..n)
        .filter(|&i| !continuous(i))
        .chain((0..n).filter(|&i| continuous(i)))
        .collect();
    let mut m = model.clone();
    m.data = order.iter().map(|&i| model.data[i].clone()).collect();
    (Some(m), Some(order))
}

impl Prepared {
    /// Compiles `logp` and `gs` (and the derivatives that locate modes); `gs` may name the
    /// data, the parameters, the model's constants and `extra_vars`.
    pub fn new(model: &Model, gs: &[Expr], extra_vars: &[Symbol]) -> Result<Prepared, ExpectError> {
        let (reordered, order) = discrete_first(model);
        let model = reordered.as_ref().unwrap_or(model);
        let consts: HashMap<Symbol, Expr> = model
            .consts
            .iter()
            .map(|(s, v)| (*s, Expr::num(*v)))
            .collect();
        let logp = model.logp.substitute(&consts);
        let unit: Vec<Symbol> = model
            .data
            .iter()
            .filter(|d| d.support == Support::Unit)
            .map(|d| d.name)
            .collect();
        let mut vars: Vec<Symbol> = model.data_names();
        let mut complement = vec![None; model.data.len()];
        let mut bit = vec![None; model.data.len()];
        for (d, var) in model.data.iter().enumerate() {
            if var.support == Support::Unit {
                bit[d] = Some(vars.len() - model.data.len());
                complement[d] = Some(vars.len());
                vars.push(complement_name(var.name));
            }
        }
        vars.extend(model.param_names());
        vars.extend_from_slice(extra_vars);
        // Every `1 − x` read from the complement input.
        let fix = |e: &Expr| use_complements(&e.substitute(&consts), &unit);
        let mut main_exprs = vec![fix(&logp)];
        main_exprs.extend(gs.iter().map(&fix));
        let mut locate_exprs = vec![fix(&logp)];
        let mut deriv = vec![None; model.data.len()];
        for (d, var) in model.data.iter().enumerate() {
            if matches!(
                var.support,
                Support::Real | Support::Positive | Support::Unit
            ) {
                deriv[d] = Some(locate_exprs.len());
                let d1 = crate::diff::derivative(&logp, var.name);
                let d2 = crate::diff::derivative(&d1, var.name);
                let sq = &d1 * &d1;
                locate_exprs.extend([fix(&d1), fix(&d2), fix(&sq)]);
            }
        }
        let positive = positive_names(model);
        let mut kinks = kink_nodes(&model.logp);
        let kinked = !kinks.is_empty();
        if kinked {
            kinks.extend(gs.iter().flat_map(kink_nodes));
        }
        let tapes = Halves::new(main_exprs, locate_exprs, vars, unit, positive)?;
        Ok(Prepared {
            model: model.clone(),
            gs: gs.to_vec(),
            extra_vars: extra_vars.to_vec(),
            supports: model.data.iter().map(|d| d.support).collect(),
            complement,
            bit,
            tapes,
            deriv,
            kinked,
            kinks,
            order,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The number of integrands `gs`.
    pub fn n_integrands(&self) -> usize {
        self.gs.len()
    }

    /// The integrands `gs`.
    pub fn integrands(&self) -> &[Expr] {
        &self.gs
    }

    /// The number of extra inputs.
    pub fn n_extra_vars(&self) -> usize {
        self.extra_vars.len()
    }
}
