//! The `fisher` command line. The work runs on a thread with a large stack, and a panic (a
//! bug, never expected) becomes an "internal error" message and exit code 70, not 101.

use std::process::ExitCode;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        // The library never prints; this is the command line's last-resort report.
        #[allow(clippy::print_stderr)] // reason: the binary's own panic report
        {
            eprintln!("internal error (a bug in fisher, please report it): {info}");
        }
    }));
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(fisher_geometry::run_cli);
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => ExitCode::from(70),
    }
}
