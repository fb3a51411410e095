//! Hoisting out of repeated batches what does not change between them: where a tape is
//! evaluated over the same data at many parameter values (the iterations of a fit), the
//! instructions that depend only on the data (`ln x`, `lgamma(x + 1)`, the `ln x` inside
//! `x^k`) are computed once per row by a first tape, and the tapes proper read them as
//! extra inputs.

use std::collections::HashMap;

use egg::Symbol;

use super::{Compiled, Instr, TapeBuilder};

/// Tapes split by [`hoist`].
#[derive(Debug, Clone)]
pub(crate) struct Hoisted {
    /// The hoisted values, from the fixed inputs (in the order given to [`hoist`]).
    pub(crate) pre: Compiled,
    /// The given tapes, in order, each reading its own variables, then the outputs of
    /// [`Hoisted::pre`] as further variables.
    pub(crate) mains: Vec<Compiled>,
}

/// How an instruction depends on the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dependence {
    Constant,
    Fixed,
    Changing,
}

/// Splits `tapes` (all over the same variables) for batches in which the variables `fixed`
/// keep their values from batch to batch and the others change: every instruction that
/// depends only on `fixed` variables and is an operand of one that does not (or is an
/// output) moves to one shared first tape, identical instructions of different tapes
/// once. `None` when there is nothing to hoist (no such instruction that is more than a
/// variable) or the tapes' variables differ. Results are bit for bit those of the tapes.
pub(crate) fn hoist(tapes: &[&Compiled], fixed: &[Symbol]) -> Option<Hoisted> {
    let vars = &tapes.first()?.vars;
    if tapes.iter().any(|t| &t.vars != vars) {
        return None;
    }
    let fixed_at: Vec<Option<u32>> = vars
        .iter()
        .map(|v| fixed.iter().position(|f| f == v).map(|p| p as u32))
        .collect();
    let mut shared = TapeBuilder {
        tape: Vec::new(),
        constant: Vec::new(),
        memo: HashMap::new(),
    };
    // The hoisted instructions as slots of `shared`, in the order first met.
    let mut hoisted: Vec<u32> = Vec::new();
    let mut index_of: HashMap<u32, u32> = HashMap::new();
    // Per tape: for each instruction, its slot in `shared` if it is hoisted.
    let mut moved: Vec<Vec<Option<u32>>> = Vec::with_capacity(tapes.len());
    for t in tapes {
        let len = t.tape.len();
        let mut dep = vec![Dependence::Constant; len];
        let mut slot = vec![u32::MAX; len];
        for (i, instr) in t.tape.iter().enumerate() {
            match *instr {
                Instr::Const(bits) => slot[i] = shared.num(f64::from_bits(bits)),
                Instr::Var(v) => match fixed_at[v as usize] {
                    Some(p) => {
                        dep[i] = Dependence::Fixed;
                        slot[i] = shared.push(Instr::Var(p));
                    }
                    None => dep[i] = Dependence::Changing,
                },
                _ => {
                    let (ops, k) = instr.operands();
                    let d = ops[..k]
                        .iter()
                        .map(|s| dep[*s as usize])
                        .max()
                        .unwrap_or(Dependence::Constant);
                    dep[i] = d;
                    if d != Dependence::Changing {
                        slot[i] = shared.push(instr.map_operands(|s| slot[s as usize]));
                    }
                }
            }
        }
        let mut needed = vec![false; len];
        for (i, instr) in t.tape.iter().enumerate() {
            if dep[i] == Dependence::Changing {
                let (ops, k) = instr.operands();
                for s in &ops[..k] {
                    needed[*s as usize] = true;
                }
            }
        }
        for o in &t.outputs {
            needed[*o as usize] = true;
        }
        let here: Vec<Option<u32>> = (0..len)
            .map(|i| {
                let worth =
                    dep[i] == Dependence::Fixed && needed[i] && !matches!(t.tape[i], Instr::Var(_));
                worth.then_some(slot[i])
            })
            .collect();
        for s in here.iter().flatten() {
            index_of.entry(*s).or_insert_with(|| {
                hoisted.push(*s);
                (hoisted.len() - 1) as u32
            });
        }
        moved.push(here);
    }
    if hoisted.is_empty() {
        return None;
    }
    let pre = Compiled::from_parts(&shared.tape, &hoisted, fixed.to_vec());
    let mut main_vars = vars.clone();
    main_vars.extend((0..hoisted.len()).map(|j| Symbol::from(format!("§hoisted{j}"))));
    let first = vars.len() as u32;
    let mains = tapes
        .iter()
        .zip(&moved)
        .map(|(t, here)| {
            let tape: Vec<Instr> = t
                .tape
                .iter()
                .zip(here)
                .map(|(instr, m)| match m {
                    Some(s) => Instr::Var(first + index_of[s]),
                    None => *instr,
                })
                .collect();
            Compiled::from_parts(&tape, &t.outputs, main_vars.clone())
        })
        .collect();
    Some(Hoisted { pre, mains })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Expr, lgamma, ln};

    #[test]
    fn data_only_work_is_hoisted_and_results_are_unchanged() {
        let (x, k, lambda) = (Expr::sym("x"), Expr::sym("k"), Expr::sym("lambda"));
        let vars: Vec<Symbol> = ["x", "k", "lambda"].map(Symbol::from).to_vec();
        // ln x (in x^k) and lgamma(x + 1) depend on the data only.
        let value = ln(&k) - &x.pow(&k) / &lambda - lgamma(&(&x + 1.0));
        let score = ln(&x) - &x.pow(&k) * ln(&x) / &lambda + 1.0 / &k;
        let t0 = Compiled::new(std::slice::from_ref(&value), &vars).unwrap();
        let t1 = Compiled::new(&[value, score], &vars).unwrap();
        let h = hoist(&[&t0, &t1], &[Symbol::from("x")]).unwrap();
        // ln x and lgamma(x + 1), once for both tapes.
        assert_eq!(h.pre.n_outputs(), 2);
        for xv in [0.3, 1.0, 7.5, 1e-200, 1e200] {
            let pre = h.pre.eval(&[xv]).unwrap();
            for (t, main) in [&t0, &t1].into_iter().zip(&h.mains) {
                let direct = t.eval(&[xv, 1.7, 2.5]).unwrap();
                let mut values = vec![xv, 1.7, 2.5];
                values.extend(&pre);
                let split = main.eval(&values).unwrap();
                assert_eq!(direct.len(), split.len());
                for (a, b) in direct.iter().zip(&split) {
                    assert!(
                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                        "{a} {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn nothing_to_hoist_is_none() {
        let (x, mu) = (Expr::sym("x"), Expr::sym("mu"));
        let vars: Vec<Symbol> = ["x", "mu"].map(Symbol::from).to_vec();
        let t = Compiled::new(&[ln(&(1.0 + (&x - &mu).pow(2.0)))], &vars).unwrap();
        assert!(hoist(&[&t], &[Symbol::from("x")]).is_none());
    }
}
