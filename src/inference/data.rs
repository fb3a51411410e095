//! Observations of a model's data variables: [`Dataset`], one column of `f64` per data
//! variable, every value checked against its declared support; and the CSV reader
//! ([`read_csv`], [`read_csv_path`]), which streams a file record by record and keeps only
//! the model's columns.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

use egg::Symbol;

use crate::model::{Model, Support, closest};

/// Why a set of observations is not usable for a model.
///
/// Two ways of locating a value, never mixed: errors of [`Dataset::new`] name the **row**,
/// the observation's index counted from 1; errors of the CSV reader name the **line** of the
/// text, counted from 1 with the header on line 1 (blank lines and line breaks inside quoted
/// cells count, so the line is where an editor shows it), and the **column** by its header
/// name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// No observations at all.
    #[error("there are no observations")]
    Empty,
    /// The columns do not match the model's data variables.
    #[error("expected {expected} column(s), one per data variable ({names}), found {found}")]
    Columns {
        /// The number of data variables.
        expected: usize,
        /// Their names, comma-separated.
        names: String,
        /// The number of columns given.
        found: usize,
    },
    /// Columns of different lengths.
    #[error("column `{column}` has {found} values, column `{first}` has {expected}")]
    Ragged {
        /// The first column's name.
        first: String,
        /// Its length.
        expected: usize,
        /// The column that differs.
        column: String,
        /// Its length.
        found: usize,
    },
    /// A value that is not a finite number.
    #[error("row {row}, column `{column}`: {value} is not a finite number")]
    NotFinite {
        /// The row, from 1.
        row: usize,
        /// The column (data variable).
        column: String,
        /// The value.
        value: f64,
    },
    /// A value outside the declared support.
    #[error(
        "row {row}, column `{column}`: {value} is outside the support of `{column}` ({support})"
    )]
    OutsideSupport {
        /// The row, from 1.
        row: usize,
        /// The column (data variable).
        column: String,
        /// The value, as a number.
        value: f64,
        /// The declared support.
        support: String,
    },
    /// The CSV input has no header row: it is empty, or holds only blank lines.
    #[error("the input is empty: there is no header row naming the columns")]
    NoHeader,
    /// A CSV header with no row of observations after it.
    #[error("line {line}: the header is not followed by any row of observations")]
    NoRows {
        /// The header's line.
        line: u64,
    },
    /// A name that heads two columns of the header.
    #[error(
        "line {line}: column {} appears twice in the header (fields {first} and {second})",
        name_list(std::slice::from_ref(.column))
    )]
    DuplicateColumn {
        /// The header's line.
        line: u64,
        /// The name.
        column: String,
        /// Its first field, from 1.
        first: usize,
        /// Its second field, from 1.
        second: usize,
    },
    /// A data variable of the model that no column of the header names.
    #[error(
        "line {line}: the header has no column `{column}` for the model's data variable (its columns: {}){}{}",
        name_list(.header), did_you_mean(.suggestion), separator_hint(*.separator)
    )]
    MissingColumn {
        /// The header's line.
        line: u64,
        /// The data variable, the first in declaration order without a column.
        column: String,
        /// The header's columns, as written (trimmed).
        header: Vec<String>,
        /// A header column within a small edit distance of the name that names no data
        /// variable, if any.
        suggestion: Option<String>,
        /// A `;` or a tab inside the header's only column: the file is likely separated by it.
        separator: Option<char>,
    },
    /// Columns that name no data variable of the model (refused unless
    /// [`CsvOptions::ignore_extra`]).
    #[error(
        "line {line}: {} of the model (its data variables: {})",
        extra_columns(.columns), name_list(.data)
    )]
    ExtraColumns {
        /// The header's line.
        line: u64,
        /// Every such column, in header order.
        columns: Vec<String>,
        /// The model's data variables.
        data: Vec<String>,
    },
    /// A row with a different number of fields than the header.
    #[error(
        "line {line}: the row has {found} field(s), the header has {expected}{}",
        if *.blank { " (the row holds only spaces)" } else { "" }
    )]
    FieldCount {
        /// The row's line.
        line: u64,
        /// The header's number of fields.
        expected: usize,
        /// The row's number of fields.
        found: usize,
        /// Whether the row is one field of spaces (a line of nothing at all is skipped).
        blank: bool,
    },
    /// A cell of a data variable's column that is not an observation of it.
    #[error("line {line}, column `{column}`: {problem}")]
    Cell {
        /// The row's line.
        line: u64,
        /// The column (data variable).
        column: String,
        /// What is wrong with the cell.
        problem: CellProblem,
    },
    /// A row that does not end within [`MAX_ROW_BYTES`], most often after an unclosed `"`.
    #[error(
        "{}: it runs past {} MiB without ending (an unclosed `\"`?)",
        row_after(*.after), MAX_ROW_BYTES >> 20
    )]
    RowTooLong {
        /// The last line read whole before it (0: the header is the row).
        after: u64,
    },
    /// The input could not be read.
    #[error("{}: cannot read the input: {message}", row_after(*.after))]
    Read {
        /// The last line read whole before the failure.
        after: u64,
        /// The I/O error.
        message: String,
    },
    /// A CSV file that could not be opened.
    #[error("cannot open `{path}`: {message}")]
    Open {
        /// The path, as given.
        path: String,
        /// The I/O error.
        message: String,
    },
}

/// What is wrong with one cell of a CSV file ([`DataError::Cell`]); the text is quoted as
/// written, trimmed of surrounding spaces and cut after [`MAX_QUOTED_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    /// Nothing, or only spaces.
    #[error("the cell is empty")]
    Empty,
    /// Text that does not read as a number.
    #[error("`{}` is not a number", shown(.text))]
    NotNumber {
        /// The cell's text.
        text: String,
    },
    /// `nan`, `inf`, `-infinity`, or a number too large for `f64` (`1e999`).
    #[error("`{}` is not a finite number", shown(.text))]
    NotFinite {
        /// The cell's text.
        text: String,
    },
    /// A number outside the data variable's declared support.
    #[error("`{}` is outside the support of the column ({support})", shown(.text))]
    OutsideSupport {
        /// The cell's text.
        text: String,
        /// The declared support.
        support: String,
    },
    /// Bytes that are not valid UTF-8.
    #[error("the cell is not valid UTF-8")]
    InvalidUtf8,
}

/// The longest row the CSV reader accepts, in bytes (16 MiB): a row that runs on, as after an
/// unclosed quote, stops the reader instead of filling the memory.
pub const MAX_ROW_BYTES: u64 = 16 << 20;

/// The most characters of a cell's text an error quotes; longer text ends in `…`.
pub const MAX_QUOTED_CHARS: usize = 40;

/// `; did you mean `x`?` or nothing.
fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!("; did you mean `{s}`?"))
}

/// `; is the file separated by `;`?` or nothing.
fn separator_hint(separator: Option<char>) -> String {
    separator.map_or(String::new(), |c| {
        format!(
            "; the header's only column holds `{}`: is the file separated by it instead of commas?",
            c.escape_default()
        )
    })
}

/// ``` `a`, `b` ```, with an empty name shown as `(unnamed)`.
fn name_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|n| {
            if n.is_empty() {
                "(unnamed)".to_string()
            } else {
                format!("`{}`", shown(n))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// ``column `a` is not a data variable`` or ``columns `a`, `b` are not data variables``.
fn extra_columns(columns: &[String]) -> String {
    if columns.len() == 1 {
        format!("column {} is not a data variable", name_list(columns))
    } else {
        format!("columns {} are not data variables", name_list(columns))
    }
}

/// A cell's text for a message: control characters escaped.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `the row after line 4`, or `the header` before any line was read whole.
fn row_after(after: u64) -> String {
    if after == 0 {
        "the header".to_string()
    } else {
        format!("the row after line {after}")
    }
}

/// `text` cut after [`MAX_QUOTED_CHARS`] characters.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Observations of every data variable of a model: `columns[j][i]` is observation `i` of
/// the model's data variable `j` (declaration order). Every value is finite and inside its
/// variable's support.
///
/// ```
/// use fisher_geometry::{Dataset, Model};
/// let m = Model::builtin("poisson")?;
/// let d = Dataset::new(&m, vec![vec![0.0, 3.0, 1.0]])?;
/// assert_eq!(d.len(), 3);
/// let e = Dataset::new(&m, vec![vec![0.0, 2.5]]).unwrap_err();
/// assert_eq!(e.to_string(), "row 2, column `x`: 2.5 is outside the support of `x` (count)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    names: Vec<Symbol>,
    columns: Vec<Vec<f64>>,
}

impl Dataset {
    /// The observations of `model`'s data variables, one column per variable in declaration
    /// order, checked.
    ///
    /// # Errors
    ///
    /// [`DataError::Columns`] for the wrong number of columns, [`DataError::Ragged`] for
    /// columns of different lengths, [`DataError::Empty`] for none, the first value (by
    /// row, then column) that is not finite ([`DataError::NotFinite`]) or outside its
    /// support ([`DataError::OutsideSupport`]).
    pub fn new(model: &Model, columns: Vec<Vec<f64>>) -> Result<Dataset, DataError> {
        let names = model.data_names();
        if columns.len() != names.len() {
            return Err(DataError::Columns {
                expected: names.len(),
                names: names
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                found: columns.len(),
            });
        }
        let n = columns.first().map_or(0, Vec::len);
        for (name, col) in names.iter().zip(&columns) {
            if col.len() != n {
                return Err(DataError::Ragged {
                    first: names[0].to_string(),
                    expected: n,
                    column: name.to_string(),
                    found: col.len(),
                });
            }
        }
        if n == 0 {
            return Err(DataError::Empty);
        }
        for i in 0..n {
            for (var, col) in model.data.iter().zip(&columns) {
                check_value(var.name, var.support, col[i], i + 1)?;
            }
        }
        Ok(Dataset { names, columns })
    }

    /// The number of observations.
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// Whether there are no observations (never, for a dataset built by [`Dataset::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data variables, in the model's declaration order.
    pub fn names(&self) -> &[Symbol] {
        &self.names
    }

    /// The observations of data variable `j`.
    pub fn column(&self, j: usize) -> &[f64] {
        &self.columns[j]
    }

    /// Every column, in the model's declaration order.
    pub fn columns(&self) -> &[Vec<f64>] {
        &self.columns
    }
}

/// Checks one observation against its support; `row` counts from 1.
///
/// # Errors
///
/// [`DataError::NotFinite`] or [`DataError::OutsideSupport`].
pub fn check_value(name: Symbol, support: Support, v: f64, row: usize) -> Result<(), DataError> {
    if !v.is_finite() {
        return Err(DataError::NotFinite {
            row,
            column: name.to_string(),
            value: v,
        });
    }
    if !in_support(support, v) {
        return Err(DataError::OutsideSupport {
            row,
            column: name.to_string(),
            value: v,
            support: support.to_string(),
        });
    }
    Ok(())
}

/// Whether a finite `v` lies in `support`.
pub fn in_support(support: Support, v: f64) -> bool {
    let integer = v == v.trunc();
    match support {
        Support::Real => true,
        Support::Positive => v > 0.0,
        Support::Unit => v > 0.0 && v < 1.0,
        Support::Binary => v == 0.0 || v == 1.0,
        Support::Count => integer && v >= 0.0,
        Support::Int(lo, hi) => integer && v >= lo as f64 && v <= hi as f64,
    }
}

/// Options of the CSV reader ([`read_csv`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Skip the columns that name no data variable of the model instead of refusing them
    /// ([`DataError::ExtraColumns`]); a skipped column is never parsed. Default: `false`.
    pub ignore_extra: bool,
}

/// Reads the observations of `model`'s data variables from CSV text: a header row naming the
/// columns, then one row per observation, separated by commas, cells optionally in double
/// quotes.
///
/// Columns match data variables by exact name, trimmed of surrounding spaces, in any order;
/// every data variable needs a column, and any other column is an error unless
/// `options.ignore_extra`. Each cell of a data variable's column, trimmed, must read as a
/// finite `f64` (`1`, `-2.5`, `3e-4`; not `nan`, `inf`, or `1e999`) inside the variable's
/// declared support. Nothing is dropped silently: an empty cell or a row of the wrong length
/// is an error; only lines with nothing on them are skipped, as CSV does.
///
/// The text streams through record by record: memory holds one row and the `f64` columns,
/// never the text (a row longer than [`MAX_ROW_BYTES`] is an error). Errors name the line
/// (the header is line 1) and the column, as [`DataError`] describes.
///
/// ```
/// use fisher_geometry::{CsvOptions, Model, read_csv};
/// let m = Model::builtin("bivariate_normal")?; // data x1, x2 : real
/// let text = "x2, x1\n0.5, 1\n-1.25, 2\n";
/// let d = read_csv(&m, text.as_bytes(), &CsvOptions::default())?;
/// assert_eq!(d.column(0), [1.0, 2.0]); // x1, the model's first data variable
/// assert_eq!(d.column(1), [0.5, -1.25]);
///
/// let m = Model::builtin("poisson")?; // data x : count
/// let e = read_csv(&m, "x\n3\n2.5\n".as_bytes(), &CsvOptions::default()).unwrap_err();
/// assert_eq!(e.to_string(), "line 3, column `x`: `2.5` is outside the support of the column (count)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`DataError::NoHeader`] for empty input; [`DataError::DuplicateColumn`],
/// [`DataError::MissingColumn`], [`DataError::ExtraColumns`] for a header that does not fit
/// the model; [`DataError::NoRows`] for a header alone; [`DataError::FieldCount`] for a row
/// of the wrong length; [`DataError::Cell`] for a cell that is not an observation (empty, not
/// a number, not finite, outside the support, not UTF-8); [`DataError::RowTooLong`] and
/// [`DataError::Read`] when the text cannot be read. The first error, by line, is reported.
pub fn read_csv<R: Read>(
    model: &Model,
    reader: R,
    options: &CsvOptions,
) -> Result<Dataset, DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true) // a row of the wrong length is reported here, with its line
        .from_reader(Lines::new(reader));
    let header = match csv.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(stream_error(&e, csv.get_ref())),
    };
    if header.is_empty() {
        return Err(DataError::NoHeader);
    }
    let end = csv.position().byte();
    let header_line = csv.get_mut().record(end, newlines(header.as_slice()));
    let layout = Layout::new(model, &header, header_line, options)?;

    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); model.data.len()];
    let mut rows = 0usize;
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(stream_error(&e, csv.get_ref())),
        }
        let end = csv.position().byte();
        let line = csv.get_mut().record(end, newlines(record.as_slice()));
        if record.len() != header.len() {
            return Err(DataError::FieldCount {
                line,
                expected: header.len(),
                found: record.len(),
                blank: record.len() == 1 && record[0].trim_ascii().is_empty(),
            });
        }
        for ((var, &field), column) in model.data.iter().zip(&layout.fields).zip(&mut columns) {
            let v = parse_cell(&record[field], var.support).map_err(|problem| DataError::Cell {
                line,
                column: var.name.to_string(),
                problem,
            })?;
            column.push(v);
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(DataError::NoRows { line: header_line });
    }
    for c in &mut columns {
        c.shrink_to_fit();
    }
    Ok(Dataset {
        names: model.data_names(),
        columns,
    })
}

/// [`read_csv`] on the file at `path`, streamed.
///
/// # Errors
///
/// [`DataError::Open`] when the file cannot be opened (or is a directory), naming the path;
/// otherwise those of [`read_csv`].
pub fn read_csv_path(
    model: &Model,
    path: &Path,
    options: &CsvOptions,
) -> Result<Dataset, DataError> {
    let open = |message: String| DataError::Open {
        path: path.display().to_string(),
        message,
    };
    if path.is_dir() {
        return Err(open("it is a directory".to_string()));
    }
    let file = std::fs::File::open(path).map_err(|e| open(e.to_string()))?;
    read_csv(model, file, options)
}

/// Where each data variable's column is in the header.
struct Layout {
    /// `fields[j]`: the header field of data variable `j`.
    fields: Vec<usize>,
}

impl Layout {
    /// Matches the header (on line `line`) to `model`'s data variables.
    fn new(
        model: &Model,
        header: &csv::ByteRecord,
        line: u64,
        options: &CsvOptions,
    ) -> Result<Layout, DataError> {
        // Lossy: a name that is not UTF-8 matches no data variable, and is reported as an
        // extra column, or skipped with `ignore_extra`.
        let names: Vec<String> = header
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect();
        let is_data = |n: &str| model.data.iter().any(|v| v.name.as_str() == n);
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, n) in names.iter().enumerate() {
            if !options.ignore_extra || is_data(n) {
                if let Some(first) = seen.insert(n, i) {
                    return Err(DataError::DuplicateColumn {
                        line,
                        column: n.clone(),
                        first: first + 1,
                        second: i + 1,
                    });
                }
            }
        }
        let mut fields = Vec::with_capacity(model.data.len());
        for var in &model.data {
            match names.iter().position(|n| n == var.name.as_str()) {
                Some(i) => fields.push(i),
                None => {
                    let separator = match names.as_slice() {
                        [only] => only.chars().find(|c| matches!(c, ';' | '\t' | '|')),
                        _ => None,
                    };
                    return Err(DataError::MissingColumn {
                        line,
                        column: var.name.to_string(),
                        // Only a column no data variable claims is worth suggesting.
                        suggestion: closest(
                            var.name.as_str(),
                            names.iter().map(String::as_str).filter(|n| !is_data(n)),
                        ),
                        header: names,
                        separator,
                    });
                }
            }
        }
        if !options.ignore_extra {
            let extra: Vec<String> = names.iter().filter(|n| !is_data(n)).cloned().collect();
            if !extra.is_empty() {
                return Err(DataError::ExtraColumns {
                    line,
                    columns: extra,
                    data: model.data.iter().map(|v| v.name.to_string()).collect(),
                });
            }
        }
        Ok(Layout { fields })
    }
}

/// One cell of a data variable with `support`: trimmed, a finite number, inside the support.
fn parse_cell(bytes: &[u8], support: Support) -> Result<f64, CellProblem> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| CellProblem::InvalidUtf8)?
        .trim();
    if text.is_empty() {
        return Err(CellProblem::Empty);
    }
    let v: f64 = text
        .parse()
        .map_err(|_| CellProblem::NotNumber { text: quoted(text) })?;
    if !v.is_finite() {
        return Err(CellProblem::NotFinite { text: quoted(text) });
    }
    if !in_support(support, v) {
        return Err(CellProblem::OutsideSupport {
            text: quoted(text),
            support: support.to_string(),
        });
    }
    Ok(v)
}

/// The number of line breaks in a record's cells (inside quotes).
fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The error of the CSV stream `e`, located by `lines`.
fn stream_error<R>(e: &csv::Error, lines: &Lines<R>) -> DataError {
    if lines.too_long {
        return DataError::RowTooLong {
            after: lines.last_line,
        };
    }
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(), // not raised with byte records and flexible rows
    };
    DataError::Read {
        after: lines.last_line,
        message,
    }
}

/// The text on its way into the CSV reader, with its lines counted, so that a record's line
/// is exact (the `csv` crate's own positions lag behind blank lines and `\r\n` endings), and
/// a row that runs past [`MAX_ROW_BYTES`] stopped.
struct Lines<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// The offsets of the `\n` read but not yet passed (at most one buffer of the reader).
    pending: VecDeque<u64>,
    /// The number of `\n` passed.
    passed: u64,
    /// The offset of the last `\n` passed.
    last_passed: Option<u64>,
    /// The byte just after the last record read.
    record_end: u64,
    /// The last line of the last record read (0 before the header).
    last_line: u64,
    /// Whether a row ran past [`MAX_ROW_BYTES`].
    too_long: bool,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Lines {
            inner,
            offset: 0,
            pending: VecDeque::new(),
            passed: 0,
            last_passed: None,
            record_end: 0,
            last_line: 0,
            too_long: false,
        }
    }

    /// The first line of the record that the reader's position `end` follows, with `inner`
    /// line breaks inside its quoted cells.
    fn record(&mut self, end: u64, inner: u64) -> u64 {
        while let Some(&o) = self.pending.front() {
            if o >= end {
                break;
            }
            self.passed += 1;
            self.last_passed = Some(o);
            self.pending.pop_front();
        }
        // The record's own `\n` ending, if read with it, is not a line of it.
        let ending = end > 0 && self.last_passed == Some(end - 1);
        let last = self.passed - u64::from(ending) + 1;
        self.record_end = end;
        self.last_line = last;
        last.saturating_sub(inner).max(1)
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.offset - self.record_end > MAX_ROW_BYTES {
            self.too_long = true;
            return Err(std::io::Error::other("row too long"));
        }
        let n = self.inner.read(buf)?;
        let start = self.offset;
        self.pending.extend(
            buf[..n]
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .map(|(i, _)| start + i as u64),
        );
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supports() {
        assert!(in_support(Support::Real, -3.5));
        assert!(!in_support(Support::Positive, 0.0));
        assert!(!in_support(Support::Positive, -1.0));
        assert!(!in_support(Support::Unit, 1.0));
        assert!(in_support(Support::Unit, 0.5));
        assert!(!in_support(Support::Binary, 3.0));
        assert!(in_support(Support::Binary, 1.0));
        assert!(!in_support(Support::Count, 2.5));
        assert!(!in_support(Support::Count, -1.0));
        assert!(in_support(Support::Count, 7.0));
        assert!(!in_support(Support::Int(0, 10), 11.0));
        assert!(in_support(Support::Int(0, 10), 10.0));
    }

    #[test]
    fn errors_name_row_and_column() {
        let m = Model::builtin("bivariate_normal").unwrap();
        let e = Dataset::new(&m, vec![vec![1.0, 2.0], vec![0.0, f64::NAN]]).unwrap_err();
        assert!(matches!(e, DataError::NotFinite { row: 2, ref column, .. } if column == "x2"));
        let e = Dataset::new(&m, vec![vec![1.0, 2.0], vec![0.0]]).unwrap_err();
        assert!(matches!(e, DataError::Ragged { .. }), "{e}");
        let e = Dataset::new(&m, vec![vec![1.0]]).unwrap_err();
        assert!(matches!(e, DataError::Columns { found: 1, .. }), "{e}");
        let e = Dataset::new(&m, vec![vec![], vec![]]).unwrap_err();
        assert_eq!(e, DataError::Empty);
    }
}
