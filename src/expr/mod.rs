//! The one expression type, [`Expr`]: a newtype over `egg::RecExpr<Op>` whose root is the
//! last node; its builders, one per function of the model language ([`ln`], [`exp`],
//! [`lgamma`], …); and the operator overloading (`+ - * /`, [`Expr::pow`]) that the `model!`
//! macro uses. (Inside the crate, a hash-consing `Builder` with light smart constructors.)

mod number;
mod op;
mod ops;
mod pretty;
mod print;
mod shared;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use egg::{Id, Language, RecExpr, Symbol};

pub(crate) use number::assignments;
pub use number::number;
pub use op::{Constant, Op};
pub(crate) use op::{FUNCTIONS, PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW};
pub use ops::{
    abs, cos, digamma, exp, expm1, lgamma, ln, log, log1p, polygamma, sigmoid, sin, sqrt, trigamma,
};
pub use pretty::Pretty;
pub use print::{Text, text};
pub use shared::MIN_LETS_TREE;
pub(crate) use shared::{MIN_JSON_LETS_TREE, cuts, piece, with_named_lets};

/// An expression of the model language, shared by every stage of the pipeline.
///
/// The nodes are stored children-before-parents; the root is the last node. Structurally
/// equal subexpressions built through the crate's hash-consing builder are stored once.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Expr(RecExpr<Op>);

impl Expr {
    /// A numeric literal.
    pub fn num(value: f64) -> Expr {
        Expr::leaf(Op::Num(Constant::new(value)))
    }

    /// A name: a parameter, data variable, constant or `let`.
    pub fn sym(name: &str) -> Expr {
        Expr::leaf(Op::Sym(Symbol::from(name)))
    }

    /// The constant π.
    pub fn pi() -> Expr {
        Expr::leaf(Op::Pi)
    }

    /// Euler's number e.
    pub fn e() -> Expr {
        Expr::leaf(Op::Euler)
    }

    fn leaf(op: Op) -> Expr {
        let mut rec = RecExpr::default();
        rec.add(op);
        Expr(rec)
    }

    /// Wraps a `RecExpr` whose root is its last node, dropping unreachable nodes.
    pub fn from_rec(rec: RecExpr<Op>) -> Expr {
        let root = Id::from(rec.as_ref().len() - 1);
        Expr(compact(&rec, root))
    }

    /// The underlying `RecExpr`.
    pub fn as_rec(&self) -> &RecExpr<Op> {
        &self.0
    }

    /// The nodes, children before parents.
    pub fn nodes(&self) -> &[Op] {
        self.0.as_ref()
    }

    /// The id of the root node.
    pub fn root(&self) -> Id {
        Id::from(self.nodes().len() - 1)
    }

    /// The root node.
    pub fn root_op(&self) -> &Op {
        &self.0[self.root()]
    }

    /// The subexpression rooted at `id`.
    pub fn subexpr(&self, id: Id) -> Expr {
        Expr(compact(&self.0, id))
    }

    /// The value of this expression if it is a plain number.
    pub fn as_num(&self) -> Option<f64> {
        match self.root_op() {
            Op::Num(c) => Some(c.value()),
            _ => None,
        }
    }

    /// Number of distinct nodes (shared subexpressions counted once).
    pub fn dag_size(&self) -> usize {
        self.nodes().len()
    }

    /// Number of nodes of the expression written out as a tree, the size a reader sees.
    pub fn tree_size(&self) -> usize {
        let mut size = vec![0usize; self.nodes().len()];
        for (i, node) in self.nodes().iter().enumerate() {
            size[i] = 1usize.saturating_add(
                node.children()
                    .iter()
                    .fold(0usize, |acc, c| acc.saturating_add(size[usize::from(*c)])),
            );
        }
        size[usize::from(self.root())]
    }

    /// The names that occur in the expression, in sorted order.
    pub fn symbols(&self) -> BTreeSet<Symbol> {
        let reachable = reachable(&self.0, self.root());
        self.nodes()
            .iter()
            .enumerate()
            .filter(|(i, _)| reachable[*i])
            .filter_map(|(_, n)| match n {
                Op::Sym(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    /// Whether the name `sym` occurs in the expression.
    pub fn contains(&self, sym: Symbol) -> bool {
        self.nodes()
            .iter()
            .any(|n| matches!(n, Op::Sym(s) if *s == sym))
    }

    /// Replaces names by expressions (used to inline `let` definitions).
    pub fn substitute(&self, map: &HashMap<Symbol, Expr>) -> Expr {
        let mut b = Builder::default();
        let mut ids = Vec::with_capacity(self.nodes().len());
        for node in self.nodes() {
            let id = match node {
                Op::Sym(s) if map.contains_key(s) => b.copy(&map[s]),
                _ => {
                    let n = node.clone().map_children(|c| ids[usize::from(c)]);
                    b.node(n)
                }
            };
            ids.push(id);
        }
        b.finish(ids[usize::from(self.root())])
    }

    /// Applies `op` to the roots of `args`, copying them into one expression.
    pub fn apply(op: impl FnOnce(&[Id]) -> Op, args: &[&Expr]) -> Expr {
        let mut b = Builder::default();
        let ids: Vec<Id> = args.iter().map(|a| b.copy(a)).collect();
        let root = b.node(op(&ids));
        b.finish(root)
    }
}

impl fmt::Display for Expr {
    /// Prints the expression in the model language (pasteable back into a model file).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&text(self), f)
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({})", text(self))
    }
}

/// Marks the nodes reachable from `root`.
fn reachable(rec: &RecExpr<Op>, root: Id) -> Vec<bool> {
    let nodes = rec.as_ref();
    let mut keep = vec![false; usize::from(root) + 1];
    keep[usize::from(root)] = true;
    for i in (0..=usize::from(root)).rev() {
        if keep[i] {
            for c in nodes[i].children() {
                keep[usize::from(*c)] = true;
            }
        }
    }
    keep
}

/// Copies the nodes reachable from `root` into a new `RecExpr` whose last node is `root`.
fn compact(rec: &RecExpr<Op>, root: Id) -> RecExpr<Op> {
    let keep = reachable(rec, root);
    let nodes = rec.as_ref();
    let mut map = vec![Id::from(0usize); keep.len()];
    let mut out = RecExpr::default();
    for (i, k) in keep.iter().enumerate() {
        if *k {
            let n = nodes[i].clone().map_children(|c| map[usize::from(c)]);
            map[i] = out.add(n);
        }
    }
    out
}

/// The Fx hash (rustc's): a multiply-rotate per word, much faster than the default SipHash
/// for the small keys of the hash-consing tables, and as good for them. Tables keyed with
/// it are only looked up, never iterated, so their order does not matter.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for b in chunks.remainder() {
            self.add(u64::from(*b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        // The product's high bits are its best; the table indexes by the low ones.
        self.0.rotate_left(26)
    }
}

/// A hash map with the [`FxHasher`], for lookup tables that are never iterated.
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A hash-consing builder of expressions: equal nodes get equal ids, so shared
/// subexpressions are stored once. Its smart constructors fold the trivial identities
/// (`0 + a = a`, `1·a = a`, `0·a = 0`, `a^1 = a`, numbers with numbers) and nothing else;
/// real simplification is the job of [`crate::simplify`].
#[derive(Default)]
pub(crate) struct Builder {
    rec: RecExpr<Op>,
    memo: FxHashMap<Op, Id>,
}

impl Builder {
    /// Adds a node (its children must already be in this builder), reusing an equal one.
    pub fn node(&mut self, op: Op) -> Id {
        if let Some(id) = self.memo.get(&op) {
            return *id;
        }
        let id = self.rec.add(op.clone());
        self.memo.insert(op, id);
        id
    }

    /// The value of `id` if it is a number.
    pub fn value(&self, id: Id) -> Option<f64> {
        match self.rec[id] {
            Op::Num(c) => Some(c.value()),
            _ => None,
        }
    }

    /// A number.
    pub fn num(&mut self, v: f64) -> Id {
        self.node(Op::Num(Constant::new(v)))
    }

    /// A name.
    pub fn sym(&mut self, s: Symbol) -> Id {
        self.node(Op::Sym(s))
    }

    /// Copies an expression into the builder and returns its root.
    pub fn copy(&mut self, e: &Expr) -> Id {
        let mut ids: Vec<Id> = Vec::with_capacity(e.nodes().len());
        for node in e.nodes() {
            let n = node.clone().map_children(|c| ids[usize::from(c)]);
            ids.push(self.node(n));
        }
        ids[usize::from(e.root())]
    }

    /// Finishes with `root` as the root, dropping nodes it does not reach.
    pub fn finish(&self, root: Id) -> Expr {
        Expr(compact(&self.rec, root))
    }

    fn is(&self, id: Id, v: f64) -> bool {
        self.value(id) == Some(v)
    }

    /// `a + b`.
    pub fn add(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b)) {
            (Some(x), Some(y)) => self.num(x + y),
            (Some(0.0), _) => b,
            (_, Some(0.0)) => a,
            _ => self.node(Op::Add([a, b])),
        }
    }

    /// `a - b`.
    pub fn sub(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b)) {
            (Some(x), Some(y)) => self.num(x - y),
            (Some(0.0), _) => self.neg(b),
            (_, Some(0.0)) => a,
            _ => self.node(Op::Sub([a, b])),
        }
    }

    /// `a * b`.
    pub fn mul(&mut self, a: Id, b: Id) -> Id {
        match (self.value(a), self.value(b)) {
            (Some(x), Some(y)) => self.num(x * y),
            (Some(0.0), _) => a,
            (_, Some(0.0)) => b,
            (Some(1.0), _) => b,
            (_, Some(1.0)) => a,
            (Some(-1.0), _) => self.neg(b),
            (_, Some(-1.0)) => self.neg(a),
            _ => self.node(Op::Mul([a, b])),
        }
    }

    /// `a / b`.
    pub fn div(&mut self, a: Id, b: Id) -> Id {
        // `0/b = 0`, but not for the literal `0/0`, which is not a number.
        if (self.is(a, 0.0) && !self.is(b, 0.0)) || self.is(b, 1.0) {
            return a;
        }
        self.node(Op::Div([a, b]))
    }

    /// `a ^ b`.
    pub fn pow(&mut self, a: Id, b: Id) -> Id {
        if self.is(b, 1.0) {
            return a;
        }
        if self.is(b, 0.0) {
            return self.num(1.0);
        }
        self.node(Op::Pow([a, b]))
    }

    /// `-a`.
    pub fn neg(&mut self, a: Id) -> Id {
        match self.rec[a] {
            Op::Num(c) => self.num(-c.value()),
            Op::Neg([inner]) => inner,
            _ => self.node(Op::Neg([a])),
        }
    }

    /// A one-argument function node such as `Op::Ln`.
    pub fn unary(&mut self, f: fn([Id; 1]) -> Op, a: Id) -> Id {
        self.node(f([a]))
    }
}
