//! The progress bar of long numeric work: drawn on stderr with indicatif, only once the work
//! has run for a second and only when stderr is a terminal, so that quick commands, JSON on
//! stdout, tests and snapshots never see it.

use std::cell::Cell;
use std::io::IsTerminal;
use std::rc::Rc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::expect::{Progress, with_progress};

/// Work shorter than this shows no bar.
const DELAY: Duration = Duration::from_secs(1);

/// An indicatif bar that starts hidden and appears after [`DELAY`].
struct Bar {
    bar: ProgressBar,
    start: Instant,
    shown: Cell<bool>,
}

impl Bar {
    fn show_if_slow(&self) {
        if !self.shown.get() && self.start.elapsed() >= DELAY && std::io::stderr().is_terminal() {
            self.shown.set(true);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

impl Progress for Bar {
    fn begin(&self, what: &str, budget: u64) {
        self.bar.set_length(budget);
        self.bar.set_position(0);
        self.bar.set_message(what.to_string());
        self.show_if_slow();
    }

    fn inc(&self, n: u64) {
        self.bar.inc(n);
        self.show_if_slow();
    }
}

/// Runs `work` with a progress bar for the expectations it computes.
pub(super) fn run<R>(work: impl FnOnce() -> R) -> R {
    let bar = ProgressBar::hidden();
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{elapsed}] {wide_bar} {human_pos}/{human_len} evaluations (budget)",
    ) {
        bar.set_style(style);
    }
    let sink = Rc::new(Bar {
        bar,
        start: Instant::now(),
        shown: Cell::new(false),
    });
    let out = with_progress(sink.clone(), work);
    sink.bar.finish_and_clear();
    out
}
