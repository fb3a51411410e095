//! Progress of long numeric work, reported to whoever asked for it: the library never draws
//! anything; the command line turns the reports into a progress bar.

use std::cell::RefCell;
use std::rc::Rc;

/// Receives the progress of numeric expectations on the current thread (see
/// [`with_progress`]).
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use fisher_geometry::Model;
/// use fisher_geometry::Env;
/// use fisher_geometry::{Progress, Quadrature, normalization, with_progress};
///
/// /// Counts the evaluations.
/// #[derive(Default)]
/// struct Count(Cell<u64>);
/// impl Progress for Count {
///     fn begin(&self, _what: &str, _budget: u64) {}
///     fn inc(&self, n: u64) {
///         self.0.set(self.0.get() + n);
///     }
/// }
/// let count = Rc::new(Count::default());
/// let model = Model::builtin("normal")?;
/// let at = Env::new().with("mu", 0.0).with("sigma", 1.0);
/// let (mass, _) = with_progress(count.clone(), || normalization(&model, &at, &Quadrature::default()))?;
/// assert!((mass - 1.0).abs() < 1e-10); // ∫p = 1, to the default tolerance
/// assert!(count.0.get() > 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Progress {
    /// An expectation begins: `what` says over what, and `budget` is the most evaluations it
    /// may use ([`Quadrature::max_points`](super::Quadrature::max_points)).
    fn begin(&self, what: &str, budget: u64);
    /// `n` more points were evaluated.
    fn inc(&self, n: u64);
}

thread_local! {
    static SINK: RefCell<Option<Rc<dyn Progress>>> = const { RefCell::new(None) };
}

/// Puts the previous sink back when dropped, also when `f` panics.
struct Restore(Option<Rc<dyn Progress>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        SINK.with(|s| *s.borrow_mut() = previous);
    }
}

/// Runs `f` with `progress` receiving the progress of every numeric expectation that `f`
/// computes on this thread; the previous receiver (if any) is restored afterwards.
pub fn with_progress<R>(progress: Rc<dyn Progress>, f: impl FnOnce() -> R) -> R {
    let previous = SINK.with(|s| s.borrow_mut().replace(progress));
    let _restore = Restore(previous);
    f()
}

/// The receiver, if any.
fn sink() -> Option<Rc<dyn Progress>> {
    SINK.with(|s| s.borrow().clone())
}

/// An expectation over `dims` data variables begins.
pub(super) fn progress_begin(dims: usize, budget: usize) {
    if let Some(p) = sink() {
        let what = match dims {
            1 => "expectation over 1 data variable".to_string(),
            n => format!("expectation over {n} data variables"),
        };
        p.begin(&what, budget as u64);
    }
}

/// `n` more points were evaluated.
pub(super) fn progress_inc(n: usize) {
    if let Some(p) = sink() {
        p.inc(n as u64);
    }
}
