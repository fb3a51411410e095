//! The values of names: [`Env`], a small association list, since models have few names.

use std::fmt;

use egg::Symbol;

/// Values of names: a small association list, since models have few names.
///
/// ```
/// use fisher_geometry::Env;
/// let env = Env::new().with("mu", 0.0).with("sigma", 1.0);
/// assert_eq!(env.get("sigma".into()), Some(&1.0));
/// ```
#[derive(Clone, PartialEq)]
pub struct Env<D> {
    bindings: Vec<(Symbol, D)>,
}

impl<D> Default for Env<D> {
    fn default() -> Self {
        Env {
            bindings: Vec::new(),
        }
    }
}

impl<D: fmt::Debug> fmt::Debug for Env<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.bindings.iter().map(|(s, v)| (s.as_str(), v)))
            .finish()
    }
}

impl<D> Env<D> {
    /// An empty environment.
    pub fn new() -> Self {
        Env::default()
    }

    /// This environment with `name` bound to `value` (replacing an earlier binding).
    pub fn with(mut self, name: impl Into<Symbol>, value: D) -> Self {
        self.insert(name.into(), value);
        self
    }

    /// Binds `name` to `value`; returns the previous value, if any.
    pub fn insert(&mut self, name: Symbol, value: D) -> Option<D> {
        match self.bindings.iter_mut().find(|(s, _)| *s == name) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.bindings.push((name, value));
                None
            }
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: Symbol) -> Option<&D> {
        self.bindings
            .iter()
            .find(|(s, _)| *s == name)
            .map(|(_, v)| v)
    }

    /// The bindings in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Symbol, &D)> {
        self.bindings.iter().map(|(s, v)| (*s, v))
    }

    /// Number of bindings.
    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// Whether there are no bindings.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The same names with values mapped by `f`.
    pub fn map<E>(&self, mut f: impl FnMut(Symbol, &D) -> E) -> Env<E> {
        Env {
            bindings: self.bindings.iter().map(|(s, v)| (*s, f(*s, v))).collect(),
        }
    }
}

impl<D, S: Into<Symbol>> FromIterator<(S, D)> for Env<D> {
    fn from_iter<I: IntoIterator<Item = (S, D)>>(iter: I) -> Self {
        let mut env = Env::new();
        for (s, v) in iter {
            env.insert(s.into(), v);
        }
        env
    }
}
