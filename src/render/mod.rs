//! Rendering: plain text in the model language (the printer of [`crate::expr`], re-exported),
//! LaTeX, and JSON values. Renderings are display adapters (`text(&e)`, `latex(&e)`); nothing
//! here prints.

pub mod json;
mod latex;
mod report;

pub use crate::expr::{Pretty, Text, fmt_number, number, text};
pub use latex::{Latex, LatexMatrix, latex, latex_matrix, latex_name};
pub use report::{check_latex, latex_number, latex_text, model_latex};
