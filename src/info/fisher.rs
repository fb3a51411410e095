//! The Fisher information matrix in closed form: `F = −E[∇²ℓ]` with the expectation taken
//! exactly by the score-identity route (DESIGN §4).

use std::collections::BTreeMap;

use egg::Symbol;

use crate::diff::derivative;
use crate::expect::exact::{RouteError, Separation, is_zero, moments, sample_points, separate};
use crate::expr::{Builder, Expr, Op};
use crate::model::Model;
use crate::simplify::{Facts, simplest as tidy};

/// An exact Fisher information matrix with how it was obtained.
#[derive(Debug, Clone)]
pub struct ClosedForm {
    /// `F_jl(θ)`, symmetric, simplified.
    pub matrix: Vec<Vec<Expr>>,
    /// The separated log-density.
    pub separation: Separation,
    /// The statistics whose moments `F` needed, with those moments (empty when the
    /// Hessian does not involve the data).
    pub moments: Vec<(Expr, Expr)>,
}

/// The Fisher information matrix in closed form,
/// `F = −Σ_k ∂²c_k·m_k − ∂²r` with `m_k = E[t_k]` from `E[s] = 0`.
///
/// ```
/// use fisher_geometry::{Model, closed_form};
/// let f = closed_form(&Model::builtin("normal")?)?;
/// assert_eq!(f.matrix[0][0].to_string(), "1/sigma^2"); // F_μμ = 1/σ²
/// assert_eq!(f.matrix[1][1].to_string(), "2/sigma^2"); // F_σσ = 2/σ²
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A [`RouteError`] when the route does not apply (the caller then computes `F`
/// numerically): data and parameters coupled non-linearly, or more statistics than the
/// score identity determines (curved families).
pub fn closed_form(model: &Model) -> Result<ClosedForm, RouteError> {
    let facts = Facts::of(model);
    let params: Vec<Symbol> = model.params.iter().map(|p| p.name).collect();
    let separation = separate(model)?;
    let d = params.len();
    let points = sample_points(model);
    // What an entry with no term simplifies to, once rather than at every such entry.
    let zero = tidy(&Expr::num(0.0), &facts);
    // Second derivatives of the coefficients, only where they can be non-zero: `∂²c/∂θ_j∂θ_l`
    // vanishes unless `c` mentions both `θ_j` and `θ_l`, so each coefficient costs the
    // square of the number of its own parameters, not of all of them (a diagonal normal's
    // coefficient `μ_i/σ_i²` has two). A statistic whose coefficient is linear in θ needs no
    // moment.
    let mut terms: BTreeMap<(usize, usize), Vec<(usize, Expr)>> = BTreeMap::new();
    let mut needed = Vec::new();
    for (k, (_, c)) in separation.stats.iter().enumerate() {
        let own = mentioned(c, &params);
        let mut nonzero = false;
        let mut second = Vec::new();
        for (a, &j) in own.iter().enumerate() {
            let dc = derivative(c, params[j]);
            for &l in &own[a..] {
                let e = tidy(&derivative(&dc, params[l]), &facts);
                // Zero symbolically (the literal 0), or numerically against the magnitude
                // of its terms: a genuine `2e-14` is not zero, an infinite value an error.
                if !is_zero(&e, &points)? {
                    nonzero = true;
                }
                if e.as_num() != Some(0.0) {
                    second.push(((j, l), e));
                }
            }
        }
        if nonzero {
            needed.push(k);
            for (jl, e) in second {
                terms.entry(jl).or_default().push((k, e));
            }
        }
    }
    let values = if needed.is_empty() {
        Vec::new()
    } else {
        moments(model, separation.clone())?.values
    };
    let rest = mentioned(&separation.rest, &params);
    let mut matrix = vec![vec![zero.clone(); d]; d];
    for j in 0..d {
        let dr = rest
            .contains(&j)
            .then(|| derivative(&separation.rest, params[j]));
        for l in j..d {
            let r2 = dr
                .as_ref()
                .filter(|dr| dr.contains(params[l]))
                .map(|dr| derivative(dr, params[l]));
            let cs = terms.get(&(j, l));
            if r2.is_none() && cs.is_none() {
                continue;
            }
            let mut b = Builder::default();
            let r2 = b.copy(&r2.unwrap_or_else(|| Expr::num(0.0)));
            let mut acc = b.neg(r2);
            for (k, c2) in cs.into_iter().flatten() {
                let c2 = b.copy(c2);
                let m = b.copy(&values[*k]);
                let t = b.mul(c2, m);
                acc = b.sub(acc, t);
            }
            let e = tidy(&b.finish(acc), &facts);
            matrix[j][l] = e.clone();
            matrix[l][j] = e;
        }
    }
    let moments = needed
        .iter()
        .map(|k| (separation.stats[*k].0.clone(), values[*k].clone()))
        .collect();
    Ok(ClosedForm {
        matrix,
        separation,
        moments,
    })
}

/// The indices of the parameters that `e` mentions, in increasing order: a derivative of
/// `e` by any other parameter is zero.
fn mentioned(e: &Expr, params: &[Symbol]) -> Vec<usize> {
    let names = e.symbols();
    (0..params.len())
        .filter(|j| names.contains(&params[*j]))
        .collect()
}

/// The Jeffreys prior density `√det F` (unnormalized), simplified.
///
/// The determinant is the product of the determinants of the diagonal blocks that the zero
/// pattern of `F` separates (the bivariate normal's means and its scale-correlation block),
/// each by cofactor expansion that skips zero entries. `None` when a block is larger than
/// [`MAX_JEFFREYS_BLOCK`].
pub fn jeffreys(matrix: &[Vec<Expr>], facts: &Facts) -> Option<Expr> {
    let mut det: Option<Expr> = None;
    for block in blocks(matrix) {
        if block.len() > MAX_JEFFREYS_BLOCK {
            return None;
        }
        let sub: Vec<Vec<Expr>> = block
            .iter()
            .map(|&i| block.iter().map(|&j| matrix[i][j].clone()).collect())
            .collect();
        let d = tidy(&determinant(&sub), facts);
        det = Some(match det {
            None => d,
            Some(acc) => &acc * &d,
        });
    }
    let det = det.unwrap_or_else(|| Expr::num(1.0));
    let root = Expr::apply(|ids| Op::Sqrt([ids[0]]), &[&tidy(&det, facts)]);
    Some(tidy(&root, facts))
}

/// The largest diagonal block of `F` whose determinant [`jeffreys`] expands symbolically
/// (`6! = 720` cofactor terms at most).
pub const MAX_JEFFREYS_BLOCK: usize = 6;

/// The index sets of the diagonal blocks of a symmetric matrix: the connected components of
/// the graph whose edges are the entries that are not the literal 0, in increasing order.
fn blocks(m: &[Vec<Expr>]) -> Vec<Vec<usize>> {
    let n = m.len();
    let mut component: Vec<Option<usize>> = vec![None; n];
    let mut out: Vec<Vec<usize>> = Vec::new();
    for start in 0..n {
        if component[start].is_some() {
            continue;
        }
        let id = out.len();
        let mut members = vec![start];
        component[start] = Some(id);
        let mut next = 0;
        while next < members.len() {
            let i = members[next];
            next += 1;
            for j in 0..n {
                let linked = m[i][j].as_num() != Some(0.0) || m[j][i].as_num() != Some(0.0);
                if component[j].is_none() && linked {
                    component[j] = Some(id);
                    members.push(j);
                }
            }
        }
        members.sort_unstable();
        out.push(members);
    }
    out
}

/// The determinant by cofactor expansion along the first row, skipping zero entries.
pub(crate) fn determinant(m: &[Vec<Expr>]) -> Expr {
    match m.len() {
        0 => Expr::num(1.0),
        1 => m[0][0].clone(),
        _ => {
            let mut acc = Expr::num(0.0);
            for (c, a) in m[0].iter().enumerate() {
                if a.as_num() == Some(0.0) {
                    continue;
                }
                let minor: Vec<Vec<Expr>> = m[1..]
                    .iter()
                    .map(|row| {
                        row.iter()
                            .enumerate()
                            .filter(|(j, _)| *j != c)
                            .map(|(_, e)| e.clone())
                            .collect()
                    })
                    .collect();
                let term = a * determinant(&minor);
                acc = if c % 2 == 0 { acc + term } else { acc - term };
            }
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_the_zero_pattern() {
        let z = Expr::num(0.0);
        let a = Expr::sym("a");
        // [[a 0 a], [0 a 0], [a 0 a]] → {0, 2}, {1}
        let m = vec![
            vec![a.clone(), z.clone(), a.clone()],
            vec![z.clone(), a.clone(), z.clone()],
            vec![a.clone(), z.clone(), a.clone()],
        ];
        assert_eq!(blocks(&m), vec![vec![0, 2], vec![1]]);
    }
}
