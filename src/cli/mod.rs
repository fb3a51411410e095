//! The command line: the only code that prints, exits, and renders errors as code frames.

pub mod app;
pub mod diagnostic;
mod format;
mod geometry;
mod numeric;
mod progress;

pub use app::main;
