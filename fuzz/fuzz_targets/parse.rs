//! Arbitrary bytes into the model loader, as the command line reads a file: decoding, lexing,
//! parsing and checking must return a model or a located error, never panic or hang. A model
//! that loads and is small is derived (score, Hessian, simplification, the closed-form
//! Fisher route) and rendered as text and LaTeX.
#![no_main]

use fisher_geometry::{Model, info, parse, render};
use libfuzzer_sys::fuzz_target;

/// Models above this many bytes are only loaded, not derived, so that each input stays fast.
const DERIVE_MAX_BYTES: usize = 512;

fuzz_target!(|bytes: &[u8]| {
    let text = parse::display_text(bytes);
    match Model::from_bytes(bytes, "fuzz") {
        Err(e) => {
            // The error is located inside the text shown beside it.
            assert!(e.span.start <= e.span.end && e.span.end <= text.len(), "{e:?}");
            let _ = e.line_col(&text);
            let _ = e.to_string();
        }
        Ok(model) => {
            let _ = model.to_string();
            if bytes.len() <= DERIVE_MAX_BYTES {
                let d = info::derivation(&model);
                let _ = render::latex(&d.derivatives.logp).to_string();
                let _ = render::latex_matrix(&d.derivatives.hessian).to_string();
            }
        }
    }
    // The lossy reading of the bytes goes through the same loader.
    let _ = Model::parse(&String::from_utf8_lossy(bytes), "fuzz");
});
