//! The command line's presentation layer: the only code that renders for a terminal.

pub mod diagnostic;
