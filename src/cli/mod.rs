//! The command line: the only code that prints, exits, and renders errors as code frames.
//! Nothing of it is public but [`run_cli`]: clap and ariadne stay out of the library's API.

use std::process::ExitCode;

mod app;
mod balls;
mod data;
mod diagnostic;
mod distance;
mod fit;
mod format;
mod geodesic;
mod geometry;
mod mml;
mod natgrad;
mod numeric;
mod progress;
mod reparam;
mod sample;
mod stats;

/// Runs the `fisher` command line with the process arguments: parses them, runs the command,
/// prints its output (or the error, as a code frame for a model file), and returns the exit
/// code (0 success, 1 a failed command, 2 bad arguments).
///
/// Public only so that the binary (`src/main.rs`) can call it, and hidden from the
/// documentation because it is that binary's entry point, not library API: library code
/// never prints. Tests drive the command line by running the built binary.
pub fn run_cli() -> ExitCode {
    app::main()
}
