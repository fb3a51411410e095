//! The data argument of the statistics commands (`fisher fit MODEL DATA.csv`, …): a CSV file,
//! or `-` for standard input, read into a [`Dataset`] with errors that start with the file's
//! name.

use std::fmt;
use std::path::Path;

use crate::inference::{CsvOptions, DataError, Dataset, read_csv, read_csv_path};
use crate::model::Model;

/// The name standard input goes by in messages.
const STDIN_NAME: &str = "<stdin>";

/// Why the data argument gave no dataset: the reader's error and the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LoadError {
    /// The path as given, or `<stdin>`.
    pub(super) source: String,
    /// What went wrong, and where.
    pub(super) error: DataError,
}

impl fmt::Display for LoadError {
    /// `data.csv: line 4, column `x`: `abc` is not a number`; an error that names the path
    /// already (it cannot be opened) is not prefixed again, and extra columns say which flag
    /// skips them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            DataError::Open { .. } => write!(f, "{}", self.error),
            DataError::ExtraColumns { columns, .. } => write!(
                f,
                "{}: {}; pass `--ignore-extra` to skip {}",
                self.source,
                self.error,
                if columns.len() == 1 { "it" } else { "them" }
            ),
            e => write!(f, "{}: {e}", self.source),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads `model`'s observations from the CSV file `path`, or from standard input when `path`
/// is `-`; `ignore_extra` is `--ignore-extra` (skip the columns that name no data variable).
///
/// # Errors
///
/// The reader's [`DataError`], with the file's name.
pub(super) fn load(model: &Model, path: &str, ignore_extra: bool) -> Result<Dataset, LoadError> {
    let options = CsvOptions { ignore_extra };
    let (source, result) = if path == "-" {
        (
            STDIN_NAME.to_string(),
            read_csv(model, std::io::stdin().lock(), &options),
        )
    } else {
        (
            path.to_string(),
            read_csv_path(model, Path::new(path), &options),
        )
    };
    result.map_err(|error| LoadError { source, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file under the system's temporary folder holding `text`, removed when dropped.
    struct TempCsv(std::path::PathBuf);

    impl TempCsv {
        fn new(name: &str, text: &[u8]) -> TempCsv {
            let dir = std::env::temp_dir().join(format!("fisher-cli-data-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            TempCsv(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempCsv {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_file_reads_into_the_models_columns() {
        let m = Model::builtin("bivariate_normal").unwrap();
        let f = TempCsv::new("ok.csv", b"x2,x1\n1,2\n3,4\n");
        let d = load(&m, f.path(), false).unwrap();
        assert_eq!(d.column(0), [2.0, 4.0]);
        assert_eq!(d.column(1), [1.0, 3.0]);
    }

    #[test]
    fn errors_start_with_the_file_name() {
        let m = Model::builtin("poisson").unwrap();
        let f = TempCsv::new("bad.csv", b"x\n1\n\n-1\n");
        let e = load(&m, f.path(), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 4, column `x`: `-1` is outside the support of the column (count)",
                f.path()
            )
        );
    }

    #[test]
    fn extra_columns_name_the_flag_that_skips_them() {
        let m = Model::builtin("poisson").unwrap();
        let f = TempCsv::new("extra.csv", b"id,x,day\n1,2,3\n");
        let e = load(&m, f.path(), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 1: columns `id`, `day` are not data variables of the model (its data \
                 variables: `x`); pass `--ignore-extra` to skip them",
                f.path()
            )
        );
        let d = load(&m, f.path(), true).unwrap();
        assert_eq!(d.column(0), [2.0]);
    }

    #[test]
    fn a_missing_file_is_named_once() {
        let m = Model::builtin("poisson").unwrap();
        let e = load(&m, "no/such/file.csv", false).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("cannot open `no/such/file.csv`: "),
            "{text}"
        );
        assert_eq!(text.matches("no/such/file.csv").count(), 1, "{text}");
    }

    #[test]
    fn a_directory_is_refused() {
        let m = Model::builtin("poisson").unwrap();
        let dir = std::env::temp_dir();
        let e = load(&m, dir.to_str().unwrap(), false).unwrap_err();
        assert!(e.to_string().ends_with(": it is a directory"), "{e}");
    }
}
