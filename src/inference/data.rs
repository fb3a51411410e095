//! Observations of a model's data variables: [`Dataset`], one column of `f64` per data
//! variable, every value checked against its declared support.

use egg::Symbol;

use crate::model::{Model, Support};

/// Why a set of observations is not usable for a model. Rows count from 1, the first row
/// of observations (a CSV file's header is row 0 of its data and line 1 of its text).
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
