//! SQL that reads staged billing files into typed raw rows, for every vendor.
//!
//! CSV is read as text and cast column by column: money and quantities to `DECIMAL(38,18)`
//! (a value with more fractional digits is an error, never rounded), times to `TIMESTAMP`
//! (UTC), the rest `VARCHAR`; empty fields are NULL. Parquet keeps its types, except that
//! `DOUBLE` money becomes `DECIMAL(38,18)` through its shortest round-trip text.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::naming::{quote_ident, quote_literal, snake_case_all};

/// The decimal type of money and quantities in raw tables.
pub const DECIMAL: &str = "DECIMAL(38, 18)";
/// Fractional digits kept exactly.
pub const SCALE: usize = 18;

/// How a delivered column is typed in the raw table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    Text,
    /// Exact decimal.
    Decimal,
    /// UTC timestamp (ISO 8601 text in CSV).
    Timestamp,
    /// A date or timestamp written `M/D/YYYY` (US, as Azure's CSV exports do) or ISO 8601;
    /// a value in neither form is an error.
    LooseTimestamp,
    /// A map of text to text (CUR 2.0 `product`, `resource_tags`, `cost_category`): JSON text
    /// in CSV files.
    TextMap,
    /// A map of text to exact decimals (CUR 2.0 `discount`).
    DecimalMap,
}

/// The type of a FOCUS column delivered as CSV text, from the FOCUS column model; `x_` and
/// unknown columns stay text.
pub fn focus_column_type(name: &str) -> ColumnType {
    use crate::focus::columns::{COLUMNS, DataType};
    match COLUMNS
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.data_type)
    {
        Some(DataType::Cost | DataType::UnitPrice | DataType::Quantity) => ColumnType::Decimal,
        Some(DataType::DateTime) => ColumnType::Timestamp,
        _ => ColumnType::Text,
    }
}

/// The SQL that reads a delivery, and the raw column names it produces (in order).
#[derive(Debug)]
pub struct RawSelect {
    /// The `SELECT`.
    pub sql: String,
    /// Its output columns, snake-cased, as they land in the raw table.
    pub names: Vec<String>,
}

/// `SELECT` over CSV files (gzip or plain, by extension) whose header names `columns`, each
/// typed: text as is, decimals exactly, times as UTC timestamps, maps from JSON; empty
/// fields are NULL. With `rename`, output names are snake-cased (`lineItem/UnblendedCost` →
/// `line_item_unblended_cost`); without, they are kept (FOCUS `BilledCost`).
pub fn csv_select(files: &[PathBuf], columns: &[(String, ColumnType)], rename: bool) -> RawSelect {
    let names = if rename {
        snake_case_all(columns.iter().map(|(h, _)| h.as_str()))
    } else {
        columns.iter().map(|(h, _)| h.clone()).collect()
    };
    let exprs: Vec<String> = columns
        .iter()
        .zip(&names)
        .map(|((header, ty), name)| {
            let src = format!("NULLIF({}, '')", quote_ident(header));
            let expr = match ty {
                ColumnType::Text => src,
                ColumnType::Timestamp => format!("CAST({src} AS TIMESTAMP)"),
                ColumnType::LooseTimestamp => loose_timestamp(&src, header),
                ColumnType::Decimal => exact_decimal(&src, header),
                ColumnType::TextMap => {
                    format!("CAST(CAST({src} AS JSON) AS MAP(VARCHAR, VARCHAR))")
                }
                ColumnType::DecimalMap => {
                    format!("CAST(CAST({src} AS JSON) AS MAP(VARCHAR, {DECIMAL}))")
                }
            };
            format!("{expr} AS {}", quote_ident(name))
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM read_csv([{}], header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', compression = '{}', hive_partitioning = false, auto_detect = false, columns = {{{}}})",
        exprs.join(", "),
        file_list(files),
        compression(files),
        columns
            .iter()
            .map(|(h, _)| format!("{}: 'VARCHAR'", quote_literal(h)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    RawSelect { sql, names }
}

fn compression(files: &[PathBuf]) -> &'static str {
    if files
        .first()
        .is_some_and(|f| f.extension().is_some_and(|e| e == "gz"))
    {
        "gzip"
    } else {
        "none"
    }
}

/// The header query for CSV files (the first file's header names every column).
pub fn csv_describe(files: &[PathBuf]) -> String {
    format!(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_csv([{}], header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', compression = '{}', hive_partitioning = false))",
        file_list(&files[..1]),
        compression(files)
    )
}

/// Parses `M/D/YYYY`, `YYYY-MM-DD` and ISO 8601 timestamps (with or without `Z` or fraction).
pub fn loose_timestamp(src: &str, header: &str) -> String {
    let msg = quote_literal(&format!(
        "is not a date (M/D/YYYY or ISO 8601) (column {header})"
    ));
    let parsed = format!(
        "COALESCE(try_strptime({src}, ['%m/%d/%Y', '%Y-%m-%d', '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %I:%M:%S %p']), TRY_CAST(replace({src}, 'Z', '') AS TIMESTAMP))"
    );
    format!(
        "CASE WHEN {src} IS NULL THEN NULL ELSE COALESCE({parsed}, error(concat('value ', {src}, ' ', {msg}))) END"
    )
}

/// Casts text to [`DECIMAL`], raising an error instead of rounding when the value needs more
/// than [`SCALE`] fractional digits: `0.1234` needs 4, `1.81E-8` needs 2 + 8 = 10.
///
/// DuckDB parses text into a 38-digit decimal about 30 times slower than into an 18-digit one,
/// so values that fit `DECIMAL(18,10)` exactly (at most 10 fractional digits, under 10^8: all
/// CUR values seen) take that path and are widened; the rest are parsed at full width.
pub fn exact_decimal(src: &str, header: &str) -> String {
    let msg = quote_literal(&format!(
        "has more than {SCALE} decimal places and cannot be loaded exactly (column {header})"
    ));
    let scale_needed = format!(
        "CASE WHEN contains({src}, 'E') OR contains({src}, 'e') \
         THEN length(regexp_extract({src}, '\\.([0-9]*)[eE]', 1)) - CAST(regexp_extract({src}, '[eE]([-+]?[0-9]+)$', 1) AS INTEGER) \
         WHEN strpos({src}, '.') > 0 THEN length({src}) - strpos({src}, '.') ELSE 0 END"
    );
    format!(
        "CASE WHEN ({scale_needed}) > {SCALE} THEN error(concat('value ', {src}, ' ', {msg})) \
         ELSE COALESCE(CASE WHEN ({scale_needed}) <= 10 THEN TRY_CAST({src} AS DECIMAL(18, 10)) END, CAST({src} AS {DECIMAL})) END"
    )
}

/// `SELECT` over Parquet files described by `schema` (name, DuckDB type): floating-point
/// columns and map values become exact decimals through their shortest round-trip text (an
/// error, never rounding, past [`SCALE`] digits). With `rename`, names are snake-cased.
pub fn parquet_select(files: &[PathBuf], schema: &[(String, String)], rename: bool) -> RawSelect {
    let names = if rename {
        snake_case_all(schema.iter().map(|(n, _)| n.as_str()))
    } else {
        schema.iter().map(|(n, _)| n.clone()).collect()
    };
    let exprs: Vec<String> = schema
        .iter()
        .zip(&names)
        .map(|((src, ty), name)| {
            let col = quote_ident(src);
            let expr = if ty == "DOUBLE" || ty == "FLOAT" {
                exact_decimal(&format!("CAST({col} AS VARCHAR)"), src)
            } else if ty.starts_with("MAP(") && (ty.ends_with(" DOUBLE)") || ty.ends_with(" FLOAT)")) {
                format!(
                    "map_from_entries(list_transform(map_entries({col}), e -> {{'key': e.key, 'value': CAST(CAST(e.value AS VARCHAR) AS {DECIMAL})}}))"
                )
            } else {
                col
            };
            format!("{expr} AS {}", quote_ident(name))
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM read_parquet([{}], hive_partitioning = false)",
        exprs.join(", "),
        file_list(files)
    );
    RawSelect { sql, names }
}

/// The schema of Parquet files; a file DuckDB cannot read is [`Error::CorruptParquet`], named.
///
/// [`Error::CorruptParquet`]: Error::CorruptParquet
pub fn describe_parquet(files: &[PathBuf]) -> crate::error::Result<Vec<(String, String)>> {
    crate::warehouse::describe(&parquet_describe(files)).map_err(|e| {
        let detail =
            std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        let key = files
            .iter()
            .find(|f| detail.contains(&*f.to_string_lossy()))
            .unwrap_or(&files[0])
            .display()
            .to_string();
        Error::CorruptParquet { key, detail }
    })
}

/// The schema query for Parquet files.
pub fn parquet_describe(files: &[PathBuf]) -> String {
    format!(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet([{}], hive_partitioning = false))",
        file_list(files)
    )
}

fn file_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| quote_literal(&f.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that a gzip file is complete: decodes it to the end, which verifies the CRC-32 and
/// length in each member's trailer. DuckDB reads a truncated gzip without complaint, so this
/// is what stands between a cut-off file and a silently short month. `key` names the file
/// in the error (its object key or path).
pub fn verify_gzip(path: &Path, key: &str) -> Result<()> {
    let file = std::fs::File::open(path).map_err(Error::io("reading", path))?;
    let mut decoder =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file));
    std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|source| Error::CorruptGzip {
        key: key.to_owned(),
        source,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_timestamps_parse_us_and_iso_and_refuse_the_rest() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let q = |v: &str| {
            conn.query_row(
                &format!(
                    "SELECT CAST({} AS VARCHAR)",
                    loose_timestamp(&quote_literal(v), "Date")
                ),
                [],
                |r| r.get::<_, Option<String>>(0),
            )
        };
        assert_eq!(
            q("9/2/2023").unwrap().as_deref(),
            Some("2023-09-02 00:00:00")
        );
        assert_eq!(
            q("12/31/2024").unwrap().as_deref(),
            Some("2024-12-31 00:00:00")
        );
        assert_eq!(
            q("2024-01-05").unwrap().as_deref(),
            Some("2024-01-05 00:00:00")
        );
        assert_eq!(
            q("2024-01-05T10:00:00Z").unwrap().as_deref(),
            Some("2024-01-05 10:00:00")
        );
        let err = q("31.12.2024").unwrap_err().to_string();
        assert!(err.contains("is not a date"), "{err}");
    }

    #[test]
    fn decimals_are_exact_including_scientific_notation() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let q = |v: &str| {
            conn.query_row(
                &format!(
                    "SELECT CAST({} AS VARCHAR)",
                    exact_decimal(&quote_literal(v), "Cost")
                ),
                [],
                |r| r.get::<_, Option<String>>(0),
            )
        };
        assert_eq!(
            q("5.64902E-05").unwrap().as_deref(),
            Some("0.000056490200000000")
        );
        assert_eq!(
            q("0.000305367").unwrap().as_deref(),
            Some("0.000305367000000000")
        );
        assert_eq!(
            q("1.5e3").unwrap().as_deref(),
            Some("1500.000000000000000000")
        );
        let err = q("1.23456789012345678901E-05").unwrap_err().to_string();
        assert!(err.contains("cannot be loaded exactly"), "{err}");
    }
}
