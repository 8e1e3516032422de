//! The SQL that reads a staged CUR v1 delivery into normalised raw rows.
//!
//! CSV is read as text and cast column by column from the manifest's types: money and
//! quantities to `DECIMAL(38,18)` (a value with more fractional digits is an error, never
//! rounded), times to `TIMESTAMP` (UTC), the rest `VARCHAR`; empty fields are NULL.
//! Parquet (Athena integration) keeps its types, except that `DOUBLE` money becomes
//! `DECIMAL(38,18)` through its shortest round-trip text.

use std::path::PathBuf;

use finops_core::naming::{quote_ident, quote_literal, snake_case_all};

use crate::manifest::Column;

/// The decimal type of money and quantities in raw tables.
pub const DECIMAL: &str = "DECIMAL(38, 18)";
/// Fractional digits kept exactly.
pub const SCALE: usize = 18;

/// How a CUR column is typed in the raw table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    Text,
    /// Exact decimal.
    Decimal,
    /// UTC timestamp.
    Timestamp,
}

/// The type of a manifest column: from its `type` when given, else from its name.
pub fn column_type(col: &Column) -> ColumnType {
    match col.ty.as_deref() {
        Some("BigDecimal" | "OptionalBigDecimal") => ColumnType::Decimal,
        Some("DateTime" | "OptionalDateTime") => ColumnType::Timestamp,
        Some(_) => ColumnType::Text,
        None => type_from_name(&col.category, &col.name),
    }
}

/// Old manifests carry no types: money, rates and quantities in the numeric categories are
/// decimals, and their `…Date`/`…Time` columns are timestamps.
fn type_from_name(category: &str, name: &str) -> ColumnType {
    const NUMERIC_CATEGORIES: &[&str] = &[
        "lineItem",
        "pricing",
        "reservation",
        "savingsPlan",
        "bill",
        "discount",
        "splitLineItem",
    ];
    const DECIMAL_SUFFIXES: &[&str] = &[
        "Cost",
        "Rate",
        "Amount",
        "Fee",
        "Quantity",
        "Units",
        "Factor",
        "Value",
        "Commitment",
        "CommitmentToDate",
        "ForUsage",
        "ForBillingPeriod",
        "Discount",
        "Ratio",
        "Usage",
    ];
    if !NUMERIC_CATEGORIES.contains(&category) {
        return ColumnType::Text;
    }
    if DECIMAL_SUFFIXES.iter().any(|s| name.ends_with(s)) && !name.ends_with("Id") {
        ColumnType::Decimal
    } else if name.ends_with("Date") || name.ends_with("Time") {
        ColumnType::Timestamp
    } else {
        ColumnType::Text
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

/// `SELECT` over gzip CSV files with `category/Name` headers, typed from the manifest.
pub fn csv_select(files: &[PathBuf], columns: &[Column]) -> RawSelect {
    let headers: Vec<String> = columns.iter().map(Column::header).collect();
    let names = snake_case_all(headers.iter().map(String::as_str));
    let exprs: Vec<String> = columns
        .iter()
        .zip(&headers)
        .zip(&names)
        .map(|((col, header), name)| {
            let src = format!("NULLIF({}, '')", quote_ident(header));
            let expr = match column_type(col) {
                ColumnType::Text => src,
                ColumnType::Timestamp => format!("CAST({src} AS TIMESTAMP)"),
                ColumnType::Decimal => exact_decimal(&src, header),
            };
            format!("{expr} AS {}", quote_ident(name))
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM read_csv([{}], header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', compression = 'gzip', auto_detect = false, columns = {{{}}})",
        exprs.join(", "),
        file_list(files),
        headers
            .iter()
            .map(|h| format!("{}: 'VARCHAR'", quote_literal(h)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    RawSelect { sql, names }
}

/// The header query for CSV files (the first file's header names every column).
pub fn csv_describe(files: &[PathBuf]) -> String {
    format!(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_csv([{}], header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', compression = 'gzip'))",
        file_list(&files[..1])
    )
}

/// The columns to read: the manifest's, checked against the file's header; or, for
/// manifests without a column list, the header's own (typed by name).
pub fn reconcile_columns(
    manifest: &[Column],
    header: &[(String, String)],
    key: &str,
) -> crate::error::Result<Vec<Column>> {
    if manifest.is_empty() {
        return Ok(header
            .iter()
            .map(|(h, _)| {
                let (category, name) = h.split_once('/').unwrap_or(("", h));
                Column {
                    category: category.to_owned(),
                    name: name.to_owned(),
                    ty: None,
                }
            })
            .collect());
    }
    let missing: Vec<String> = manifest
        .iter()
        .map(Column::header)
        .filter(|h| !header.iter().any(|(n, _)| n == h))
        .take(5)
        .collect();
    if missing.is_empty() {
        Ok(manifest.to_vec())
    } else {
        Err(crate::error::Error::HeaderMismatch {
            key: key.to_owned(),
            missing,
        })
    }
}

/// Casts text to [`DECIMAL`], raising an error instead of rounding when the value needs more
/// than [`SCALE`] fractional digits: `0.1234` needs 4, `1.81E-8` needs 2 + 8 = 10.
fn exact_decimal(src: &str, header: &str) -> String {
    let msg = quote_literal(&format!(
        "has more than {SCALE} decimal places and cannot be loaded exactly (column {header})"
    ));
    let scale_needed = format!(
        "CASE WHEN contains({src}, 'E') OR contains({src}, 'e') \
         THEN length(regexp_extract({src}, '\\.([0-9]*)[eE]', 1)) - CAST(regexp_extract({src}, '[eE]([-+]?[0-9]+)$', 1) AS INTEGER) \
         WHEN strpos({src}, '.') > 0 THEN length({src}) - strpos({src}, '.') ELSE 0 END"
    );
    format!(
        "CASE WHEN ({scale_needed}) > {SCALE} THEN error(concat('value ', {src}, ' ', {msg})) ELSE CAST({src} AS {DECIMAL}) END"
    )
}

/// `SELECT` over Parquet files described by `schema` (name, DuckDB type): names
/// snake-cased, floating-point columns made exact decimals.
pub fn parquet_select(files: &[PathBuf], schema: &[(String, String)]) -> RawSelect {
    let names = snake_case_all(schema.iter().map(|(n, _)| n.as_str()));
    let exprs: Vec<String> = schema
        .iter()
        .zip(&names)
        .map(|((src, ty), name)| {
            let col = quote_ident(src);
            let expr = if ty == "DOUBLE" || ty == "FLOAT" {
                format!("CAST(CAST({col} AS VARCHAR) AS {DECIMAL})")
            } else {
                col
            };
            format!("{expr} AS {}", quote_ident(name))
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM read_parquet([{}])",
        exprs.join(", "),
        file_list(files)
    );
    RawSelect { sql, names }
}

/// The schema query for Parquet files.
pub fn parquet_describe(files: &[PathBuf]) -> String {
    format!(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet([{}]))",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn col(category: &str, name: &str, ty: Option<&str>) -> Column {
        Column {
            category: category.into(),
            name: name.into(),
            ty: ty.map(Into::into),
        }
    }

    #[test]
    fn types_from_manifest_and_names() {
        assert_eq!(
            column_type(&col(
                "lineItem",
                "UnblendedCost",
                Some("OptionalBigDecimal")
            )),
            ColumnType::Decimal
        );
        assert_eq!(
            column_type(&col("lineItem", "UsageStartDate", Some("DateTime"))),
            ColumnType::Timestamp
        );
        assert_eq!(
            column_type(&col("identity", "TimeInterval", Some("Interval"))),
            ColumnType::Text
        );
        assert_eq!(
            column_type(&col("lineItem", "UnblendedCost", None)),
            ColumnType::Decimal
        );
        assert_eq!(
            column_type(&col("lineItem", "UsageAmount", None)),
            ColumnType::Decimal
        );
        assert_eq!(
            column_type(&col("savingsPlan", "TotalCommitmentToDate", None)),
            ColumnType::Decimal
        );
        assert_eq!(
            column_type(&col("bill", "BillingPeriodStartDate", None)),
            ColumnType::Timestamp
        );
        assert_eq!(
            column_type(&col("reservation", "EndTime", None)),
            ColumnType::Timestamp
        );
        assert_eq!(
            column_type(&col("pricing", "RateId", None)),
            ColumnType::Text
        );
        assert_eq!(
            column_type(&col("product", "usagetype", None)),
            ColumnType::Text
        );
        assert_eq!(
            column_type(&col("lineItem", "UsageAccountId", None)),
            ColumnType::Text
        );
    }

    #[test]
    fn csv_select_quotes_everything() {
        let raw = csv_select(
            &[PathBuf::from("/tmp/it's.csv.gz")],
            &[col("resourceTags", "user:Na\"me", None)],
        );
        assert_eq!(raw.names, ["resource_tags_user_na_me"]);
        let sql = raw.sql;
        assert!(sql.contains("'/tmp/it''s.csv.gz'"), "{sql}");
        assert!(
            sql.contains(
                "NULLIF(\"resourceTags/user:Na\"\"me\", '') AS \"resource_tags_user_na_me\""
            ),
            "{sql}"
        );
    }
}
