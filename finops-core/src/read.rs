//! SQL that reads staged billing files into typed raw rows, for every vendor.
//!
//! CSV is read as text and cast column by column: numbers to `DECIMAL(38, 18)` (rounded
//! half to even past 18 decimals, with the rounding recorded: [`crate::precision`]), times to
//! `TIMESTAMP` (UTC), the rest `VARCHAR`; empty fields are NULL. Parquet keeps its types,
//! except that floating point becomes `DECIMAL(38, 18)` through its shortest round-trip text
//! and decimals with more than 18 places are rounded to 18.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::naming::{quote_ident, quote_literal, snake_case_all};
use crate::precision::{
    Binding, HIDDEN_PREFIX, NumberKind, RAW_DECIMAL, RAW_SCALE, RoundingColumn, Stages,
    decimal_type, parse_number, round_half_even,
};

/// The decimal type of numbers in raw tables.
pub const DECIMAL: &str = RAW_DECIMAL;

/// The column of every staged CSV row naming its file (for error messages).
pub const FILE_COLUMN: &str = "__finops_file";

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
    /// The `SELECT`: the raw columns, then one hidden rounding column per number column.
    pub sql: String,
    /// Its output columns, snake-cased, as they land in the raw table (hidden ones excluded).
    pub names: Vec<String>,
    /// The delivered name (header, field) of each of `names`.
    pub delivered: Vec<String>,
    /// The hidden columns carrying each number column's rounding.
    pub roundings: Vec<RoundingColumn>,
}

impl RawSelect {
    /// (delivered name, raw name) of every column ([`crate::vendor::Staged::columns`]).
    pub fn columns(&self) -> Vec<(String, String)> {
        self.delivered
            .iter()
            .cloned()
            .zip(self.names.iter().cloned())
            .collect()
    }
}

/// One column to read: its name in the file, its type there (DuckDB's, `VARCHAR` for CSV),
/// what it should become, and its name in the raw table.
#[derive(Clone, Debug)]
pub struct ReadColumn {
    /// Name in the file (a CSV header, a Parquet field).
    pub delivered: String,
    /// DuckDB type in the file.
    pub delivered_type: String,
    /// What it becomes.
    pub target: ColumnType,
    /// Name in the raw table.
    pub name: String,
}

/// Where the columns come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// CSV read as text (empty fields are NULL).
    Csv,
    /// Parquet, typed.
    Parquet,
}

/// The `SELECT` reading `columns` from `from` (a `read_csv`/`read_parquet` call) with the
/// typing rules of this module.
pub fn select_columns(from: &str, kind: FileKind, columns: &[ReadColumn]) -> RawSelect {
    let mut stages = Stages::default();
    let mut outputs = Vec::new();
    let mut hidden = Vec::new();
    let mut roundings = Vec::new();
    let file = format!("' of ' || {}", quote_ident(FILE_COLUMN));
    for (i, c) in columns.iter().enumerate() {
        // CSV columns are read by position under neutral labels ([`csv_relation`]).
        let col = if kind == FileKind::Csv {
            quote_ident(&format!("{HIDDEN_PREFIX}c{i}"))
        } else {
            quote_ident(&c.delivered)
        };
        let what = format!(
            "{} || {file}",
            quote_literal(&format!("column {}", c.delivered))
        );
        let ty = c.delivered_type.as_str();
        let is_float = ty == "DOUBLE" || ty == "FLOAT";
        let mut rounding = |expr: String, list: bool| {
            let name = format!("{HIDDEN_PREFIX}rounding_{i}");
            hidden.push(format!("{expr} AS {}", quote_ident(&name)));
            roundings.push(RoundingColumn {
                column: c.name.clone(),
                hidden: name,
                kind: NumberKind::of_column(&c.delivered),
                scale: RAW_SCALE,
                list,
            });
        };
        let expr = if is_float || (ty == "VARCHAR" && c.target == ColumnType::Decimal) {
            let text = if is_float {
                format!("CAST({col} AS VARCHAR)")
            } else {
                col.clone()
            };
            let (value, r) = parse_number(
                &text,
                &what,
                &mut Binding::Staged {
                    stages: &mut stages,
                    prefix: format!("{HIDDEN_PREFIX}n{i}_"),
                },
            );
            rounding(r, false);
            value
        } else if decimal_type(ty).is_some_and(|(_, s)| s > RAW_SCALE) {
            let stored = round_half_even(&col, RAW_SCALE);
            rounding(
                format!("CASE WHEN {col} <> {stored} THEN CAST({col} - {stored} AS DOUBLE) END"),
                false,
            );
            stored
        } else if ty == "VARCHAR" && c.target == ColumnType::DecimalMap || is_float_map(ty) {
            let map = if ty == "VARCHAR" {
                format!("CAST(CAST(NULLIF({col}, '') AS JSON) AS MAP(VARCHAR, VARCHAR))")
            } else {
                format!(
                    "map_from_entries(list_transform(map_entries({col}), lambda e: {{'key': e.key, 'value': CAST(e.value AS VARCHAR)}}))"
                )
            };
            let m = stages.add(0, &format!("{HIDDEN_PREFIX}map{i}"), &map);
            let mut b = Binding::Inline(Vec::new());
            let (value, r) = parse_number("e.value", &what, &mut b);
            rounding(
                format!(
                    "list_filter(list_transform(map_entries({m}), lambda e: {}), lambda x: x IS NOT NULL)",
                    b.wrap(&r)
                ),
                true,
            );
            format!(
                "map_from_entries(list_transform(map_entries({m}), lambda e: {{'key': e.key, 'value': {}}}))",
                b.wrap(&value)
            )
        } else if ty == "VARCHAR" {
            let src = if kind == FileKind::Csv {
                format!("NULLIF({col}, '')")
            } else {
                col.clone()
            };
            match c.target {
                ColumnType::Text | ColumnType::Decimal | ColumnType::DecimalMap => src,
                ColumnType::Timestamp => utc_timestamp(&format!("NULLIF(trim({col}), '')")),
                ColumnType::LooseTimestamp => {
                    loose_timestamp(&format!("NULLIF(trim({col}), '')"), &c.delivered)
                }
                ColumnType::TextMap => {
                    format!("CAST(CAST(NULLIF({col}, '') AS JSON) AS MAP(VARCHAR, VARCHAR))")
                }
            }
        } else if ty == "TIMESTAMP WITH TIME ZONE" {
            // The instant in UTC (DuckDB without ICU converts through UTC).
            format!("CAST({col} AS TIMESTAMP)")
        } else {
            col
        };
        outputs.push(format!("{expr} AS {}", quote_ident(&c.name)));
    }
    outputs.extend(hidden);
    RawSelect {
        sql: stages.select(from, &outputs),
        names: columns.iter().map(|c| c.name.clone()).collect(),
        delivered: columns.iter().map(|c| c.delivered.clone()).collect(),
        roundings,
    }
}

fn is_float_map(ty: &str) -> bool {
    ty.starts_with("MAP(") && (ty.ends_with(", DOUBLE)") || ty.ends_with(", FLOAT)"))
}

/// `SELECT` over CSV files (gzip or plain, by extension) with the columns `columns`, each
/// typed: text as is, numbers exactly (see the module), times as UTC timestamps, maps from
/// JSON; empty fields are NULL. Columns are read by the name in each file's own header, so
/// parts whose headers list them in another order read right; a file that lacks one of
/// `columns`, has another, or has one twice is an error naming both ([`csv_relation`]).
/// With `rename`, output names are snake-cased (`lineItem/UnblendedCost` →
/// `line_item_unblended_cost`); without, they are kept (FOCUS `BilledCost`).
pub fn csv_select(
    files: &[PathBuf],
    columns: &[(String, ColumnType)],
    rename: bool,
) -> Result<RawSelect> {
    let names = if rename {
        snake_case_all(columns.iter().map(|(h, _)| h.as_str()))
    } else {
        columns.iter().map(|(h, _)| h.clone()).collect()
    };
    let read: Vec<ReadColumn> = columns
        .iter()
        .zip(names)
        .map(|((header, ty), name)| ReadColumn {
            delivered: header.clone(),
            delivered_type: "VARCHAR".into(),
            target: *ty,
            name,
        })
        .collect();
    let headers: Vec<String> = columns.iter().map(|(h, _)| h.clone()).collect();
    Ok(select_columns(
        &csv_relation(files, &headers)?,
        FileKind::Csv,
        &read,
    ))
}

/// The header of a CSV file (gzip by extension), each name exactly as written (a UTF-8 byte
/// order mark dropped). DuckDB's own header detection is not used: it renames names that
/// differ only in case (`user:Team`, `user:team`), which AWS tag keys may.
pub fn csv_header(path: &Path) -> Result<Vec<String>> {
    let reader = open_text(path).map_err(Error::io("reading", path))?;
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    match csv.read_record(&mut record) {
        Ok(true) => Ok(record
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if i == 0 {
                    h.trim_start_matches('\u{feff}').to_owned()
                } else {
                    h.to_owned()
                }
            })
            .collect()),
        Ok(false) => Err(Error::CsvHeader {
            file: path.display().to_string(),
            problem: "is empty: it has no header line".into(),
        }),
        Err(e) => Err(Error::CsvHeader {
            file: path.display().to_string(),
            problem: format!("has no readable header line ({e})"),
        }),
    }
}

/// The relation (for `FROM`) reading `columns` from CSV files by the names in each file's
/// header, every value as text; its columns are `__finops_c0`, `__finops_c1`… in the order
/// of `columns`. Files whose headers list the columns in the same order share one
/// `read_csv`; groups in other orders are joined `UNION ALL BY NAME`. Every file must have
/// each of `columns` exactly once and no other column.
pub fn csv_relation(files: &[PathBuf], columns: &[String]) -> Result<String> {
    let headers = files
        .iter()
        .map(|f| csv_header(f))
        .collect::<Result<Vec<_>>>()?;
    relation_of(files, &headers, columns, false)
}

/// The columns of CSV files whose headers drift (a column added in later files, another
/// left out, a name with spaces around it: Oracle's reports), in order of first appearance,
/// names trimmed, and the relation reading them as [`csv_relation`] does, except that a file
/// lacking a column reads it as NULL. A column twice in one header (after trimming) is still
/// an error.
pub fn csv_union_relation(files: &[PathBuf]) -> Result<(Vec<String>, String)> {
    // Drifting headers also drift in spacing (`Cost ` in one file, `Cost` in the next): one
    // column.
    let headers: Vec<Vec<String>> = files
        .iter()
        .map(|f| Ok(csv_header(f)?.iter().map(|h| h.trim().to_owned()).collect()))
        .collect::<Result<_>>()?;
    let mut columns: Vec<String> = Vec::new();
    for h in headers.iter().flatten() {
        if !columns.contains(h) {
            columns.push(h.clone());
        }
    }
    let relation = relation_of(files, &headers, &columns, true)?;
    Ok((columns, relation))
}

/// The relation over `files`, whose headers are `headers`; with `drift`, a file may lack
/// some of `columns`.
fn relation_of(
    files: &[PathBuf],
    headers: &[Vec<String>],
    columns: &[String],
    drift: bool,
) -> Result<String> {
    let mut groups: Vec<(Vec<usize>, Vec<PathBuf>)> = Vec::new();
    for (file, header) in files.iter().zip(headers) {
        let problem = |problem: String| Error::CsvHeader {
            file: file.display().to_string(),
            problem,
        };
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
            return Err(problem(format!(
                "has the column `{dup}` twice; finops cannot tell which one to read"
            )));
        }
        let extra: Vec<&String> = header.iter().filter(|h| !columns.contains(h)).collect();
        let missing: Vec<&String> = if drift {
            Vec::new()
        } else {
            columns.iter().filter(|c| !header.contains(c)).collect()
        };
        for (names, what) in [(&extra, "has"), (&missing, "lacks")] {
            if !names.is_empty() {
                return Err(problem(format!(
                    "{what} {} that the manifest (or the export's first file) {}: {}",
                    if names.len() == 1 {
                        "a column"
                    } else {
                        "columns"
                    },
                    if what == "has" {
                        "does not list"
                    } else {
                        "lists"
                    },
                    names_list(names)
                )));
            }
        }
        let order: Vec<usize> = header
            .iter()
            .map(|h| columns.iter().position(|c| c == h).unwrap_or(0))
            .collect();
        match groups.iter_mut().find(|(o, _)| *o == order) {
            Some((_, g)) => g.push(file.clone()),
            None => groups.push((order, vec![file.clone()])),
        }
    }
    let reads: Vec<String> = groups
        .iter()
        .map(|(order, group)| {
            format!(
                "SELECT * FROM read_csv([{}], header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', compression = '{}', hive_partitioning = false, auto_detect = false, max_line_size = {MAX_LINE}, buffer_size = {}, filename = {}, columns = {{{}}})",
                file_list(group),
                compression(group),
                4 * MAX_LINE,
                quote_literal(FILE_COLUMN),
                order
                    .iter()
                    .map(|i| format!("'{HIDDEN_PREFIX}c{i}': 'VARCHAR'"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
        .collect();
    Ok(format!("({})", reads.join(" UNION ALL BY NAME ")))
}

/// The longest CSV line read: DuckDB's default is 2 MB, and tag-heavy lines can be long.
/// The buffer (four lines) is DuckDB's default buffer size, so memory does not grow.
const MAX_LINE: u64 = 8 << 20;

fn names_list(names: &[&String]) -> String {
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    if names.len() > 5 {
        format!("{} and {} more", shown.join(", "), names.len() - 5)
    } else {
        shown.join(", ")
    }
}

/// The line (1-based, as a text editor counts) of the first record of a CSV file whose
/// `column` holds `value`, to point at a bad value DuckDB only names.
pub fn locate_value(path: &Path, column: &str, value: &str) -> Option<u64> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(open_text(path).ok()?);
    let index = csv
        .headers()
        .ok()?
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}') == column)?;
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).ok()? {
        if record.get(index).is_some_and(|v| v.trim() == value) {
            return record.position().map(csv::Position::line);
        }
    }
    None
}

/// A data file as text: decompressed when its name ends in `.gz`.
fn open_text(path: &Path) -> std::io::Result<Box<dyn std::io::Read>> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    Ok(if is_gzip(path) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// Whether a data file is gzip, by its extension (`.gz`, in any case): the one rule for
/// reading it ([`open_text`], `read_csv`'s compression) and for checking it is whole.
pub(crate) fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn compression(files: &[PathBuf]) -> &'static str {
    if files.first().is_some_and(|f| is_gzip(f)) {
        "gzip"
    } else {
        "none"
    }
}

/// An ISO 8601 time as a UTC `TIMESTAMP`: `2023-11-01T05:00:00+02:00` and `…-0800` are
/// converted to UTC (a plain cast would keep 05:00), `…Z` and times without an offset are UTC.
pub fn utc_timestamp(src: &str) -> String {
    format!(
        "CASE WHEN {offset} THEN CAST(CAST({src} AS TIMESTAMPTZ) AS TIMESTAMP) ELSE CAST({src} AS TIMESTAMP) END",
        offset = has_utc_offset(src)
    )
}

/// Whether an ISO 8601 text ends in a `+hh[:mm]`/`-hh[:mm]` offset: a `+`, or a `-`, after
/// the date (cheap string tests, no regular expression per value).
fn has_utc_offset(src: &str) -> String {
    format!(
        "(length({src}) > 19 AND (contains(substr({src}, 11), '+') OR contains(substr({src}, 12), '-')))"
    )
}

/// Parses `M/D/YYYY`, `YYYY-MM-DD` and ISO 8601 timestamps (with or without `Z` or fraction,
/// and without seconds: `2023-11-13T10:00Z`, as Oracle writes its interval starts).
pub fn loose_timestamp(src: &str, header: &str) -> String {
    let msg = quote_literal(&format!(
        "is not a date (M/D/YYYY or ISO 8601) (column {header})"
    ));
    let parsed = format!(
        "COALESCE(try_strptime({src}, ['%m/%d/%Y', '%Y-%m-%d', '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %I:%M:%S %p', '%Y-%m-%dT%H:%MZ', '%Y-%m-%dT%H:%M', '%Y-%m-%d %H:%M']), \
         CASE WHEN {offset} THEN TRY_CAST(TRY_CAST({src} AS TIMESTAMPTZ) AS TIMESTAMP) ELSE TRY_CAST(replace({src}, 'Z', '') AS TIMESTAMP) END)",
        offset = has_utc_offset(src)
    );
    format!(
        "CASE WHEN {src} IS NULL THEN NULL ELSE COALESCE({parsed}, error(concat('value ', {src}, ' ', {msg}))) END"
    )
}

/// `SELECT` over Parquet files described by `schema` (name, DuckDB type): floating-point
/// columns and map values become exact decimals through their shortest round-trip text,
/// decimals past 18 places are rounded (see the module). With `rename`, names are
/// snake-cased.
pub fn parquet_select(files: &[PathBuf], schema: &[(String, String)], rename: bool) -> RawSelect {
    let names = if rename {
        snake_case_all(schema.iter().map(|(n, _)| n.as_str()))
    } else {
        schema.iter().map(|(n, _)| n.clone()).collect()
    };
    let read: Vec<ReadColumn> = schema
        .iter()
        .zip(names)
        .map(|((source, ty), name)| ReadColumn {
            delivered: source.clone(),
            delivered_type: ty.clone(),
            target: ColumnType::Text,
            name,
        })
        .collect();
    select_columns(&parquet_source(files), FileKind::Parquet, &read)
}

/// The `read_parquet` call over `files`, columns matched by name across files (`union_by_name`:
/// without it, DuckDB takes the first file's columns and drops any column only later files
/// have, silently).
pub fn parquet_source(files: &[PathBuf]) -> String {
    format!(
        "read_parquet([{}], hive_partitioning = false, union_by_name = true, filename = {})",
        file_list(files),
        quote_literal(FILE_COLUMN)
    )
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

/// `err` (a failed parse of `files`) as [`Error::CorruptParquet`] naming the damaged file,
/// when DuckDB's message names none of the files: each Parquet file is read alone, every
/// column, until one fails (on this error path only). Any other error is returned as is.
///
/// [`Error::CorruptParquet`]: Error::CorruptParquet
pub fn name_corrupt_parquet(files: &[PathBuf], err: Error) -> Error {
    let Error::Db { source, .. } = &err else {
        return err;
    };
    let message = source.to_string();
    let named = files.iter().any(|f| {
        f.file_name()
            .is_some_and(|n| message.contains(&*n.to_string_lossy()))
    });
    if named {
        return err;
    }
    let Ok(conn) = duckdb::Connection::open_in_memory() else {
        return err;
    };
    for f in files.iter().filter(|f| {
        f.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    }) {
        let probe = format!(
            "SELECT sum(hash(t)) FROM read_parquet({}) t",
            quote_literal(&f.to_string_lossy())
        );
        if let Err(e) = conn.query_row(&probe, [], |_| Ok(())) {
            return Error::CorruptParquet {
                key: f.display().to_string(),
                detail: crate::error::DbMessage::of(&e).0,
            };
        }
    }
    err
}

/// The columns (name, DuckDB type) a raw `SELECT` produces, its hidden working columns
/// left out: what the raw table and the FOCUS mapping will see.
pub fn visible_columns(select_sql: &str) -> Result<Vec<(String, String)>> {
    Ok(crate::warehouse::describe(&format!(
        "SELECT column_name, column_type FROM (DESCRIBE {select_sql})"
    ))?
    .into_iter()
    .filter(|(n, _)| !crate::precision::is_hidden(n))
    .collect())
}

/// The schema query for Parquet files.
pub fn parquet_describe(files: &[PathBuf]) -> String {
    format!(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet([{}], hive_partitioning = false, union_by_name = true))",
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
    fn drifting_headers_are_one_set_of_columns() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a.csv"),
            dir.path().join("b.csv"),
            dir.path().join("c.csv"),
        );
        std::fs::write(&a, "Cost,Tag\n1.5,x\n").unwrap();
        std::fs::write(&b, "Extra,Cost \ny,2.25\n").unwrap();
        std::fs::write(&c, "Cost,Cost \n1,2\n").unwrap();
        let (columns, from) = csv_union_relation(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(columns, ["Cost", "Tag", "Extra"]);
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> = conn
            .prepare(&format!(
                "SELECT {HIDDEN_PREFIX}c0, {HIDDEN_PREFIX}c1, {HIDDEN_PREFIX}c2 FROM {from} ORDER BY 1"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (Some("1.5".into()), Some("x".into()), None),
                (Some("2.25".into()), None, Some("y".into()))
            ]
        );
        // `Cost` and `Cost ` in one header: which is meant cannot be told.
        assert!(matches!(
            csv_union_relation(&[a, c]),
            Err(Error::CsvHeader { .. })
        ));
    }

    #[test]
    fn a_damaged_parquet_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let (good, bad) = (
            dir.path().join("good.parquet"),
            dir.path().join("bad.parquet"),
        );
        for f in [&good, &bad] {
            conn.execute_batch(&format!(
                "COPY (SELECT i, 'row ' || i AS t FROM range(200000) r(i)) TO {} (FORMAT parquet, COMPRESSION uncompressed)",
                quote_literal(&f.to_string_lossy())
            ))
            .unwrap();
        }
        let mut bytes = std::fs::read(&bad).unwrap();
        let mid = bytes.len() / 3;
        for b in &mut bytes[mid..mid + 4096] {
            *b = !*b;
        }
        std::fs::write(&bad, bytes).unwrap();
        let files = vec![good.clone(), bad.clone()];
        // DuckDB's reader said which file: kept as it is.
        let named = Error::Db {
            action: "loading".into(),
            source: crate::error::DbMessage("Invalid Error: bad.parquet: oops".into()),
        };
        assert!(matches!(
            name_corrupt_parquet(&files, named),
            Error::Db { .. }
        ));
        // It did not: the damaged file is found by reading each one.
        let anonymous = Error::Db {
            action: "loading".into(),
            source: crate::error::DbMessage(
                "Invalid Error: TProtocolException: Invalid data".into(),
            ),
        };
        match name_corrupt_parquet(&files, anonymous) {
            Error::CorruptParquet { key, .. } => assert_eq!(key, bad.display().to_string()),
            other => panic!("{other:?}"),
        }
        // Whole files: the error is not blamed on them.
        let whole = vec![good];
        let e = Error::Db {
            action: "loading".into(),
            source: crate::error::DbMessage("Binder Error: x".into()),
        };
        assert!(matches!(name_corrupt_parquet(&whole, e), Error::Db { .. }));
    }

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
    fn csv_numbers_are_rounded_and_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.csv");
        std::fs::write(
            &file,
            "lineItem/UnblendedCost,lineItem/UsageAmount,discount\n\
             0.0006180000000000001,1.4901161193847656E-8,\"{\"\"edp\"\": -0.0029271876155092785}\"\n\
             12.5,,\n",
        )
        .unwrap();
        let raw = csv_select(
            &[file],
            &[
                ("lineItem/UnblendedCost".into(), ColumnType::Decimal),
                ("lineItem/UsageAmount".into(), ColumnType::Decimal),
                ("discount".into(), ColumnType::DecimalMap),
            ],
            true,
        )
        .unwrap();
        assert_eq!(
            raw.names,
            [
                "line_item_unblended_cost",
                "line_item_usage_amount",
                "discount"
            ]
        );
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("CREATE TABLE t AS {}", raw.sql))
            .unwrap();
        let sum: String = conn
            .query_row(
                "SELECT CAST(sum(line_item_unblended_cost) AS VARCHAR) FROM t",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(sum, "12.500618000000000000");
        let d: String = conn
            .query_row(
                "SELECT CAST(discount['edp'] AS VARCHAR) FROM t WHERE discount IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(d, "-0.002927187615509278");
        let r = crate::precision::read_roundings(&conn, "t", "raw", &raw.roundings).unwrap();
        let by: Vec<(&str, u64)> = r.iter().map(|r| (r.column.as_str(), r.values)).collect();
        assert_eq!(
            by,
            [
                ("line_item_unblended_cost", 1),
                ("line_item_usage_amount", 1),
                ("discount", 1)
            ]
        );
        assert_eq!(r[0].kind, NumberKind::Money);
        assert_eq!(r[1].kind, NumberKind::Quantity);
        assert!((r[0].largest - 1e-19).abs() < 1e-30, "{r:?}");
    }

    /// Issue #17 (1, 5, 14, 15): columns by the names in each part's header, case kept.
    #[test]
    fn csv_parts_are_read_by_header_name() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let a = write("a.csv", "Cost,user:Team,user:team\n1,x,y\n");
        let b = write("b.csv", "user:team,Cost,user:Team\nY,2,X\n");
        let cols: Vec<(String, ColumnType)> = [
            ("Cost", ColumnType::Decimal),
            ("user:Team", ColumnType::Text),
            ("user:team", ColumnType::Text),
        ]
        .iter()
        .map(|(n, t)| ((*n).to_owned(), *t))
        .collect();
        let raw = csv_select(&[a.clone(), b.clone()], &cols, true).unwrap();
        assert_eq!(raw.names, ["cost", "user_team", "user_team_2"]);
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let rows: Vec<(String, String, String)> = conn
            .prepare(&format!(
                "SELECT CAST(cost AS VARCHAR), user_team, user_team_2 FROM ({}) ORDER BY cost",
                raw.sql
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("1.000000000000000000".into(), "x".into(), "y".into()),
                ("2.000000000000000000".into(), "X".into(), "Y".into()),
            ]
        );
        let headers: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
        for (text, want) in [
            (
                "Cost,user:Team,user:team,Extra\n",
                "has a column that the manifest (or the export's first file) does not list: `Extra`",
            ),
            (
                "Cost,user:Team\n",
                "lacks a column that the manifest (or the export's first file) lists: `user:team`",
            ),
            (
                "Cost,user:Team,user:team,Cost\n",
                "has the column `Cost` twice",
            ),
        ] {
            let bad = write("bad.csv", text);
            let err = csv_relation(&[a.clone(), bad], &headers)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want) && err.contains("bad.csv"), "{err}");
        }
        assert_eq!(locate_value(&b, "Cost", "2"), Some(2));
    }

    #[test]
    fn gzip_is_told_by_the_extension_in_any_case() {
        assert!(is_gzip(Path::new("d/x-00001.csv.gz")));
        assert!(is_gzip(Path::new("d/x-00001.CSV.GZ")));
        assert!(!is_gzip(Path::new("d/x-00001.csv")));
        assert!(!is_gzip(Path::new("d/gz")));
        assert_eq!(compression(&[PathBuf::from("a.csv.GZ")]), "gzip");
    }

    /// Issue #17 (7): offsets are converted to UTC.
    #[test]
    fn timestamps_with_offsets_are_utc() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        for (v, want) in [
            ("2023-11-01T05:00:00+02:00", "2023-11-01 03:00:00"),
            ("2023-11-01T05:00:00-0800", "2023-11-01 13:00:00"),
            ("2023-11-01T05:00:00Z", "2023-11-01 05:00:00"),
            ("2023-11-01T05:00:00", "2023-11-01 05:00:00"),
            ("2023-11-01", "2023-11-01 00:00:00"),
        ] {
            let got: String = conn
                .query_row(
                    &format!(
                        "SELECT CAST({} AS VARCHAR)",
                        utc_timestamp(&quote_literal(v))
                    ),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(got, want, "{v}");
            let loose: String = conn
                .query_row(
                    &format!(
                        "SELECT CAST({} AS VARCHAR)",
                        loose_timestamp(&quote_literal(v), "d")
                    ),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(loose, want, "{v} (loose)");
        }
    }

    #[test]
    fn a_bad_number_names_its_column_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("part-1.csv");
        std::fs::write(&file, "Cost\n1\nNaN\n").unwrap();
        let raw = csv_select(&[file], &[("Cost".into(), ColumnType::Decimal)], false).unwrap();
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let err = conn
            .execute_batch(&format!("CREATE TABLE t AS {}", raw.sql))
            .unwrap_err()
            .to_string();
        let (value, what) = crate::precision::bad_number(&err).unwrap();
        assert_eq!(value, "NaN");
        assert!(
            what.starts_with("column Cost of ") && what.ends_with("part-1.csv"),
            "{what}"
        );
    }
}
