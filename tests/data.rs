//! The CSV reader (`read_csv`, `read_csv_path`): every error with its exact message and
//! line, columns matched by name in any order, extra columns with and without
//! `ignore_extra`, exact line numbers around blank lines, `\r\n` endings and quoted line
//! breaks, a 10⁵-row file, random valid columns read back bit for bit, arbitrary bytes never
//! panicking, and (with `FISHER_LONG_TESTS=1`) a 10⁷-row file streamed from disk.

mod common;

use std::io::{Read, Write};

use fisher_geometry::{
    CellProblem, CsvOptions, DataError, Dataset, MAX_ROW_BYTES, Model, read_csv, read_csv_path,
};
use proptest::prelude::*;

/// `text` read for the built-in `model`, refusing extra columns.
fn read(model: &str, text: &[u8]) -> Result<Dataset, DataError> {
    read_with(model, text, false)
}

/// `text` read for the built-in `model`.
fn read_with(model: &str, text: &[u8], ignore_extra: bool) -> Result<Dataset, DataError> {
    let m = Model::builtin(model).unwrap();
    read_csv(&m, text, &CsvOptions { ignore_extra })
}

/// The message of the error that `text` must give.
fn error(model: &str, text: &[u8]) -> String {
    match read(model, text) {
        Ok(d) => panic!("{:?} read as {d:?}", String::from_utf8_lossy(text)),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_error_names_its_line_and_column() {
    #[rustfmt::skip]
    let cases: &[(&str, &[u8], &str)] = &[
        // An empty file, a header alone.
        ("normal", b"", "the input is empty: there is no header row naming the columns"),
        ("normal", b"\n\n\r\n", "the input is empty: there is no header row naming the columns"),
        ("normal", b"x\n", "line 1: the header is not followed by any row of observations"),
        ("normal", b"\n\nx\n\n", "line 3: the header is not followed by any row of observations"),
        // The header against the model's data variables.
        ("bivariate_normal", b"x1,y\n1,2\n",
         "line 1: the header has no column `x2` for the model's data variable (its columns: `x1`, `y`)"),
        ("normal", b"X,y\n1,2\n",
         "line 1: the header has no column `x` for the model's data variable (its columns: `X`, `y`); did you mean `X`?"),
        ("bivariate_normal", b"x1,X2\n1,2\n",
         "line 1: the header has no column `x2` for the model's data variable (its columns: `x1`, `X2`); did you mean `X2`?"),
        ("normal", b"x;y\n1;2\n",
         "line 1: the header has no column `x` for the model's data variable (its columns: `x;y`); the header's only column holds `;`: is the file separated by it instead of commas?"),
        ("normal", b"x\ty\n1\t2\n",
         "line 1: the header has no column `x` for the model's data variable (its columns: `x\\ty`); the header's only column holds `\\t`: is the file separated by it instead of commas?"),
        ("normal", b"x,id\n1,2\n",
         "line 1: column `id` is not a data variable of the model (its data variables: `x`)"),
        ("normal", b"day,x,,id\n1,2,3,4\n",
         "line 1: columns `day`, (unnamed), `id` are not data variables of the model (its data variables: `x`)"),
        ("normal", b"x, x\n1,2\n", "line 1: column `x` appears twice in the header (fields 1 and 2)"),
        ("normal", b"x,id,id\n1,2,3\n", "line 1: column `id` appears twice in the header (fields 2 and 3)"),
        ("normal", b"x,,\n1,2,3\n", "line 1: column (unnamed) appears twice in the header (fields 2 and 3)"),
        // Rows of the wrong length.
        ("bivariate_normal", b"x1,x2\n1,2\n3\n", "line 3: the row has 1 field(s), the header has 2"),
        ("normal", b"x\n1,2\n", "line 2: the row has 2 field(s), the header has 1"),
        ("bivariate_normal", b"x1,x2\n1,2\n   \n3,4\n",
         "line 3: the row has 1 field(s), the header has 2 (the row holds only spaces)"),
        // Cells.
        ("normal", b"x\n1\nabc\n", "line 3, column `x`: `abc` is not a number"),
        ("normal", b"x\n1,5\n", "line 2: the row has 2 field(s), the header has 1"),
        ("normal", b"x\n\"1,5\"\n", "line 2, column `x`: `1,5` is not a number"),
        ("normal", b"x\n0x10\n", "line 2, column `x`: `0x10` is not a number"),
        ("bivariate_normal", b"x1,x2\n1,\n", "line 2, column `x2`: the cell is empty"),
        ("bivariate_normal", b"x1,x2\n1,2\n , 3\n", "line 3, column `x1`: the cell is empty"),
        ("normal", b"x\n1\n   \n", "line 3, column `x`: the cell is empty"),
        ("normal", b"x\n\"\"\n", "line 2, column `x`: the cell is empty"),
        ("normal", b"x\nnan\n", "line 2, column `x`: `nan` is not a finite number"),
        ("normal", b"x\nNaN\n", "line 2, column `x`: `NaN` is not a finite number"),
        ("normal", b"x\ninf\n", "line 2, column `x`: `inf` is not a finite number"),
        ("normal", b"x\n-inf\n", "line 2, column `x`: `-inf` is not a finite number"),
        ("normal", b"x\ninfinity\n", "line 2, column `x`: `infinity` is not a finite number"),
        ("normal", b"x\n-Infinity\n", "line 2, column `x`: `-Infinity` is not a finite number"),
        ("normal", b"x\n1e999\n", "line 2, column `x`: `1e999` is not a finite number"),
        ("exponential", b"x\n1\n-1\n", "line 3, column `x`: `-1` is outside the support of the column (positive)"),
        ("exponential", b"x\n0\n", "line 2, column `x`: `0` is outside the support of the column (positive)"),
        ("poisson", b"x\n2.5\n", "line 2, column `x`: `2.5` is outside the support of the column (count)"),
        ("poisson", b"x\n-1\n", "line 2, column `x`: `-1` is outside the support of the column (count)"),
        ("bernoulli", b"x\n1\n0\n3\n", "line 4, column `x`: `3` is outside the support of the column (binary)"),
        ("binomial", b"x\n10\n11\n", "line 3, column `x`: `11` is outside the support of the column (int[0, 10])"),
        ("binomial", b"x\n-1\n", "line 2, column `x`: `-1` is outside the support of the column (int[0, 10])"),
        ("beta", b"x\n0.5\n0\n", "line 3, column `x`: `0` is outside the support of the column (unit)"),
        ("beta", b"x\n1\n", "line 2, column `x`: `1` is outside the support of the column (unit)"),
        ("normal", b"x\n1\n\xff\xfe\n", "line 3, column `x`: the cell is not valid UTF-8"),
        // A cell's text is quoted trimmed, its control characters escaped, long text cut.
        ("normal", b"x\n  abc  \n", "line 2, column `x`: `abc` is not a number"),
        ("normal", b"x\n\"a\tb\"\n", "line 2, column `x`: `a\\tb` is not a number"),
        ("normal", b"x\n\"a\nb\"\n", "line 2, column `x`: `a\\nb` is not a number"),
        ("normal", b"x\n0123456789012345678901234567890123456789more\n",
         "line 2, column `x`: `0123456789012345678901234567890123456789…` is not a number"),
    ];
    for (model, text, expected) in cases {
        assert_eq!(
            error(model, text),
            *expected,
            "{model}: {:?}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn cell_errors_carry_their_parts() {
    let e = read("poisson", b"x\n1\n\n2.5\n").unwrap_err();
    assert_eq!(
        e,
        DataError::Cell {
            line: 4,
            column: "x".to_string(),
            problem: CellProblem::OutsideSupport {
                text: "2.5".to_string(),
                support: "count".to_string(),
            },
        }
    );
    let e = read("normal", b"x,y,z\n1,2,3\n").unwrap_err();
    let DataError::ExtraColumns {
        line,
        columns,
        data,
    } = e
    else {
        panic!("{e:?}");
    };
    assert_eq!(
        (line, columns, data),
        (1, vec!["y".into(), "z".into()], vec!["x".into()])
    );
}

#[test]
fn lines_are_those_an_editor_shows() {
    // Blank lines before the header and between rows, `\r\n` endings, a quoted line break
    // in a skipped column: the line named is where the bad cell is.
    #[rustfmt::skip]
    let cases: &[(&[u8], u64)] = &[
        (b"x\n1\n2\nbad\n", 4),
        (b"\n\nx\n1\n\n\nbad\n", 7),
        (b"x\r\n1\r\n\r\nbad\r\n", 4),
        (b"x\r\n1\r\nbad", 3),
        (b"x,note\n1,\"two\nlines\"\nbad,ok\n", 4),
        (b"x,note\n1,\"two\r\nlines\"\r\n\r\nbad,ok\r\n", 5),
        (b"x,\"a\nheader\"\n1,2\nbad,ok\n", 4),
        (b"\xef\xbb\xbfx\n1\nbad\n", 3), // a UTF-8 byte-order mark, as spreadsheets write
    ];
    let m = Model::builtin("normal").unwrap();
    let options = CsvOptions { ignore_extra: true };
    for (text, line) in cases {
        let e = read_csv(&m, *text, &options).unwrap_err();
        assert!(
            matches!(&e, DataError::Cell { line: l, problem: CellProblem::NotNumber { .. }, .. } if l == line),
            "{:?}: {e}",
            String::from_utf8_lossy(text)
        );
    }
    // The header's line, after blank lines.
    let e = read("bivariate_normal", b"\n\n x1 , x1 \n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3: column `x1` appears twice in the header (fields 1 and 2)"
    );
}

#[test]
fn columns_match_by_name_in_any_order() {
    let text = b"x2, x1 ,id\n1.5,-2,a\n\"3\",4e-1,b\n";
    let e = read("bivariate_normal", text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1: column `id` is not a data variable of the model (its data variables: `x1`, `x2`)"
    );
    let d = read_with("bivariate_normal", text, true).unwrap();
    assert_eq!(d.len(), 2);
    let names: Vec<&str> = d.names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["x1", "x2"]);
    assert_eq!(d.column(0), [-2.0, 0.4]);
    assert_eq!(d.column(1), [1.5, 3.0]);
    assert_eq!(d.columns(), [vec![-2.0, 0.4], vec![1.5, 3.0]]);
    // A skipped column is never parsed: not even as UTF-8, nor checked for duplicates.
    let d = read_with("normal", b"id,x,id\n\xff,1,?\n,2,\n", true).unwrap();
    assert_eq!(d.column(0), [1.0, 2.0]);
    // Without a data variable's column, skipping the others does not help.
    let e = read_with("bivariate_normal", b"x1,id\n1,2\n", true).unwrap_err();
    assert!(
        matches!(e, DataError::MissingColumn { ref column, .. } if column == "x2"),
        "{e}"
    );
}

#[test]
fn a_last_line_without_ending_and_blank_lines_at_the_end_are_read() {
    let d = read("poisson", b"x\n1\n2").unwrap();
    assert_eq!(d.column(0), [1.0, 2.0]);
    let d = read("poisson", b"x\r\n1\r\n2\r\n\r\n\n").unwrap();
    assert_eq!(d.column(0), [1.0, 2.0]);
}

/// Observation `i` of the 10⁵-row file: a count, and a real with every digit significant.
fn row(i: u64) -> (f64, f64) {
    let count = (i % 17) as f64;
    let real = ((i as f64) * 0.618_033_988_749_894_8).sin() * 1e3 / (1.0 + (i % 7) as f64);
    (count, real)
}

#[test]
fn a_hundred_thousand_rows_read_exactly() {
    const N: u64 = 100_000;
    let mut text = String::from("x2,x1\n");
    for i in 0..N {
        let (c, r) = row(i);
        text.push_str(&format!("{r:?},{c}\n"));
    }
    let d = read("bivariate_normal", text.as_bytes()).unwrap();
    assert_eq!(d.len(), N as usize);
    // Σ (i mod 17) over i < N, in closed form.
    let (q, r) = (N / 17, N % 17);
    let counts = q * (16 * 17 / 2) + r * (r - 1) / 2;
    assert_eq!(d.column(0).iter().sum::<f64>(), counts as f64);
    let expected: f64 = (0..N).map(|i| row(i).1).sum();
    assert_eq!(
        d.column(1).iter().sum::<f64>().to_bits(),
        expected.to_bits()
    );
    assert!((0..N).all(|i| d.column(1)[i as usize].to_bits() == row(i).1.to_bits()));
}

/// A reader of `"` and then `a` forever: a row that never ends.
struct Endless {
    started: bool,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(b'a');
        if !self.started && !buf.is_empty() {
            buf[0] = b'"';
            self.started = true;
        }
        Ok(buf.len())
    }
}

#[test]
fn a_row_that_never_ends_stops_the_reader() {
    let m = Model::builtin("normal").unwrap();
    let text = (&b"x\n1\n2\n"[..]).chain(Endless { started: false });
    let e = read_csv(&m, text, &CsvOptions::default()).unwrap_err();
    assert_eq!(e, DataError::RowTooLong { after: 3 });
    assert_eq!(
        e.to_string(),
        format!(
            "the row after line 3: it runs past {} MiB without ending (an unclosed `\"`?)",
            MAX_ROW_BYTES >> 20
        )
    );
    let e = read_csv(&m, Endless { started: false }, &CsvOptions::default()).unwrap_err();
    assert_eq!(e, DataError::RowTooLong { after: 0 });
    assert!(e.to_string().starts_with("the header: it runs past"), "{e}");
}

/// A reader that fails after its text.
struct Failing(&'static [u8]);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("the disk is gone"));
        }
        let n = self.0.read(buf)?;
        Ok(n)
    }
}

#[test]
fn a_failing_reader_is_an_error_after_the_last_line_read() {
    let m = Model::builtin("normal").unwrap();
    let e = read_csv(&m, Failing(b"x\n1\n2\n"), &CsvOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the row after line 3: cannot read the input: the disk is gone"
    );
    let e = read_csv(&m, Failing(b""), &CsvOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the header: cannot read the input: the disk is gone"
    );
}

/// A temporary folder of this test process, made on first use.
fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fisher-data-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_file_is_read_from_its_path_and_a_missing_one_named() {
    let m = Model::builtin("exponential").unwrap();
    let path = temp_dir().join("exponential.csv");
    std::fs::write(&path, "x\n0.5\n2\n").unwrap();
    let d = read_csv_path(&m, &path, &CsvOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(d.column(0), [0.5, 2.0]);
    let missing = std::path::Path::new("no/such/data.csv");
    let e = read_csv_path(&m, missing, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(&e, DataError::Open { path, .. } if path == "no/such/data.csv"),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("cannot open `no/such/data.csv`: "),
        "{e}"
    );
}

/// Models with one data variable of each kind of support, for the round trip.
const ROUND_TRIP_MODELS: &[&str] = &["normal", "exponential", "poisson", "beta", "binomial"];

/// The most rows of a random column.
const MAX_ROWS: usize = 40;

/// A random valid observation of the built-in `model`'s data variable.
fn arb_value(model: &'static str) -> BoxedStrategy<f64> {
    match model {
        "normal" => prop_oneof![
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
            -1e3..1e3f64,
            Just(-0.0),
        ]
        .boxed(),
        "exponential" => prop_oneof![
            any::<f64>().prop_filter("positive", |v| v.is_finite() && *v > 0.0),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
        ]
        .boxed(),
        "poisson" => (0u64..1 << 53).prop_map(|k| k as f64).boxed(),
        "beta" => (f64::EPSILON..1.0f64)
            .prop_filter("below 1", |v| *v < 1.0)
            .boxed(),
        "binomial" => (0u8..=10).prop_map(f64::from).boxed(),
        _ => unreachable!("no strategy for `{model}`"),
    }
}

/// A built-in model and a column of valid observations of it.
fn arb_column() -> impl Strategy<Value = (&'static str, Vec<f64>)> {
    proptest::sample::select(ROUND_TRIP_MODELS).prop_flat_map(|m| {
        (
            Just(m),
            proptest::collection::vec(arb_value(m), 1..MAX_ROWS),
        )
    })
}

/// How a cell is written: bare, padded with spaces, or quoted.
fn arb_cell_style() -> impl Strategy<Value = u8> {
    0u8..3
}

proptest! {
    #![proptest_config(common::proptest_config(64))]

    #[test]
    fn valid_columns_read_back_bit_for_bit(
        (model, values) in arb_column(),
        style in arb_cell_style(),
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("x{end}");
        for v in &values {
            match style {
                0 => text.push_str(&format!("{v:?}{end}")),
                1 => text.push_str(&format!("  {v:?} {end}")),
                _ => text.push_str(&format!("\"{v:?}\"{end}")),
            }
        }
        let d = read(model, text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let bits: Vec<u64> = d.column(0).iter().map(|v| v.to_bits()).collect();
        let expected: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        prop_assert_eq!(bits, expected);
    }

    #[test]
    fn arbitrary_bytes_give_a_dataset_or_an_error(
        bytes in proptest::collection::vec(
            prop_oneof![
                Just(b'x'), Just(b'1'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'"'),
                Just(b' '), Just(b'-'), Just(b'.'), any::<u8>(),
            ],
            0..common::MAX_BYTES,
        ),
        ignore_extra in any::<bool>(),
    ) {
        let m = Model::builtin("bivariate_normal").unwrap();
        if let Ok(d) = read_csv(&m, bytes.as_slice(), &CsvOptions { ignore_extra }) {
            prop_assert!(!d.is_empty());
            prop_assert!(d.columns().iter().flatten().all(|v| v.is_finite()));
        }
    }
}

/// 10⁷ rows of the normal model streamed from a file on disk, with `FISHER_LONG_TESTS=1`
/// (a 200 MB file: the reader holds one row and the column of `f64`, never the text).
#[test]
#[allow(clippy::print_stderr)] // the time taken, for the note; not an assertion
fn ten_million_rows_stream_from_disk() {
    if std::env::var_os("FISHER_LONG_TESTS").is_none_or(|v| v != "1") {
        return;
    }
    const N: u64 = 10_000_000;
    let path = temp_dir().join("ten_million.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "x").unwrap();
    let mut expected = 0.0f64;
    for i in 0..N {
        let v = row(i).1;
        expected += v;
        writeln!(out, "{v:?}").unwrap();
    }
    out.into_inner().unwrap().sync_all().unwrap();
    let m = Model::builtin("normal").unwrap();
    let start = std::time::Instant::now();
    let d = read_csv_path(&m, &path, &CsvOptions::default()).unwrap();
    let elapsed = start.elapsed();
    let bytes = std::fs::metadata(&path).unwrap().len();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(d.len(), N as usize);
    assert_eq!(
        d.column(0).iter().sum::<f64>().to_bits(),
        expected.to_bits()
    );
    eprintln!(
        "read {N} rows ({:.0} MB) in {:.2} s",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );
}
