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
    /// A map of text to text (CUR 2.0 `product`, `resource_tags`, `cost_category`): JSON text
    /// in CSV files.
    TextMap,
    /// A map of text to exact decimals (CUR 2.0 `discount`).
    DecimalMap,
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

/// The type of a CUR 2.0 column (`snake_case`, fixed schema) from its manifest type when that
/// says more than `string`, else from its name: AWS types rates as strings, but they are
/// numbers and are kept exactly.
pub fn cur2_column_type(name: &str, manifest_type: Option<&str>) -> ColumnType {
    let ty = manifest_type.unwrap_or("").to_ascii_lowercase();
    if name == "discount" || (ty.starts_with("map") && ty.contains("double")) {
        return ColumnType::DecimalMap;
    }
    if ty.starts_with("map")
        || matches!(name, "product" | "resource_tags" | "cost_category" | "tags")
    {
        return ColumnType::TextMap;
    }
    if ty.contains("timestamp") || ty == "date" {
        return ColumnType::Timestamp;
    }
    if ["double", "decimal", "float", "bigint", "int", "long"]
        .iter()
        .any(|t| ty.starts_with(t))
    {
        return ColumnType::Decimal;
    }
    let Some((category, rest)) = [
        ("line_item_", "lineItem"),
        ("pricing_", "pricing"),
        ("reservation_", "reservation"),
        ("savings_plan_", "savingsPlan"),
        ("bill_", "bill"),
        ("discount_", "discount"),
        ("split_line_item_", "splitLineItem"),
    ]
    .iter()
    .find_map(|(prefix, category)| name.strip_prefix(prefix).map(|rest| (*category, rest))) else {
        return ColumnType::Text;
    };
    // The legacy rule on the PascalCase spelling: `unblended_cost` -> `UnblendedCost`.
    let pascal: String = rest
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect();
    type_from_name(category, &pascal)
}

/// The type of a FOCUS column delivered as CSV text, from the FOCUS column model; `x_` and
/// unknown columns stay text.
pub fn focus_column_type(name: &str) -> ColumnType {
    use finops_core::focus::columns::{COLUMNS, DataType};
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

/// The columns of a CUR v1 manifest with their types.
pub fn cur1_columns(columns: &[Column]) -> Vec<(String, ColumnType)> {
    columns
        .iter()
        .map(|c| (c.header(), column_type(c)))
        .collect()
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
///
/// DuckDB parses text into a 38-digit decimal about 30 times slower than into an 18-digit one,
/// so values that fit `DECIMAL(18,10)` exactly (at most 10 fractional digits, under 10^8: all
/// CUR values seen) take that path and are widened; the rest are parsed at full width.
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
/// [`Error::CorruptParquet`]: crate::error::Error::CorruptParquet
pub fn describe_parquet(files: &[PathBuf]) -> crate::error::Result<Vec<(String, String)>> {
    finops_core::warehouse::describe(&parquet_describe(files)).map_err(|e| {
        let detail =
            std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        let key = files
            .iter()
            .find(|f| detail.contains(&*f.to_string_lossy()))
            .unwrap_or(&files[0])
            .display()
            .to_string();
        crate::error::Error::CorruptParquet { key, detail }
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
            &cur1_columns(&[col("resourceTags", "user:Na\"me", None)]),
            true,
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
