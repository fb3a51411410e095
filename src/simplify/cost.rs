//! The extraction cost: what a person would write.
//!
//! Every node costs [`NODE`]; the sum over the tree is the size a reader sees. On top:
//!
//! - `-`, `/` and unary minus cost [`NON_CANONICAL`], so the extracted result stays in the
//!   canonical form `a + (−1)·b`, `a · b^(−1)`, `(−1)·a` that the printer turns back into
//!   `a − b`, `a/b`, `−a`. (This is the choice "penalize `Sub`/`Div`/`Neg`"; `(−1)·x` and
//!   `x^(−1)` are not penalized relative to each other.)
//! - a power with a negative numeric exponent costs [`NEGATIVE_EXPONENT`] more, a little;
//! - a power with a non-integer numeric exponent costs [`FRACTIONAL_EXPONENT`] more, so
//!   `sqrt(x)` beats `x^0.5`;
//! - each level of nesting costs [`DEPTH`].
//!
//! Ties are broken by a structural fingerprint computed from the node and the names in it
//! (not from interned-symbol numbers or e-class ids), so the choice among equal-cost
//! spellings depends only on the spellings.

use std::cmp::Ordering;

use egg::{CostFunction, Id, Language};

use crate::expr::Op;

/// The cost of one node.
pub const NODE: u64 = 10;
/// The extra cost of `-`, `/` and unary minus, which have cheaper canonical spellings.
pub const NON_CANONICAL: u64 = 40;
/// The extra cost of a power with a negative numeric exponent.
pub const NEGATIVE_EXPONENT: u64 = 3;
/// The extra cost of a power with a non-integer numeric exponent.
pub const FRACTIONAL_EXPONENT: u64 = 15;
/// The extra cost of each level of nesting.
pub const DEPTH: u64 = 1;

/// The cost of a subtree. Compared by weighted size plus depth penalty, then depth, then the
/// fingerprint, a total order.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// Sum of the node weights.
    pub size: u64,
    /// Length of the longest path to a leaf.
    pub depth: u64,
    /// The number this subtree is, if it is a number leaf.
    number: Option<f64>,
    /// A structural hash that breaks ties deterministically.
    fingerprint: u64,
}

impl Cost {
    fn key(&self) -> (u64, u64, u64) {
        (
            self.size.saturating_add(DEPTH.saturating_mul(self.depth)),
            self.depth,
            self.fingerprint,
        )
    }
}

impl PartialEq for Cost {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl PartialOrd for Cost {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.key().cmp(&other.key()))
    }
}

/// FNV-1a, a fixed hash so fingerprints do not depend on the process.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over formatted text, without building the string: the hash of `format!(…)`.
struct FnvWriter(u64);

impl std::fmt::Write for FnvWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 = fnv(self.0, s.as_bytes());
        Ok(())
    }
}

/// The cost function used for extraction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Readable;

impl CostFunction<Op> for Readable {
    type Cost = Cost;

    fn cost<C>(&mut self, enode: &Op, mut costs: C) -> Cost
    where
        C: FnMut(Id) -> Cost,
    {
        let children: Vec<Cost> = enode.children().iter().map(|&c| costs(c)).collect();
        let mut weight = NODE;
        let mut fingerprint = FNV_OFFSET;
        let mut number = None;
        match enode {
            Op::Num(c) => {
                number = Some(c.value());
                fingerprint = fnv(fingerprint, &c.value().to_bits().to_le_bytes());
            }
            Op::Sym(s) => fingerprint = fnv(fingerprint, s.as_str().as_bytes()),
            Op::Sub(_) | Op::Div(_) | Op::Neg(_) => weight += NON_CANONICAL,
            Op::Pow([_, _]) => {
                if let Some(n) = children[1].number {
                    if n < 0.0 {
                        weight += NEGATIVE_EXPONENT;
                    }
                    if n.fract() != 0.0 {
                        weight += FRACTIONAL_EXPONENT;
                    }
                }
            }
            _ => {}
        }
        let mut text = FnvWriter(fingerprint);
        // Writing to a hasher cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut text, format_args!("{enode}"));
        fingerprint = text.0;
        let mut size = weight;
        let mut depth = 0;
        for c in &children {
            size = size.saturating_add(c.size);
            depth = depth.max(c.depth);
            fingerprint = fnv(fingerprint, &c.fingerprint.to_le_bytes());
        }
        Cost {
            size,
            depth: depth + 1,
            number,
            fingerprint,
        }
    }
}
