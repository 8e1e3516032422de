//! How CUR columns are typed: from the manifest's types, or from their names when a manifest
//! has none. The SQL that reads the files is core's ([`finops_core::read`]).

pub use finops_core::read::{
    ColumnType, RawSelect, csv_header, csv_select, describe_parquet, focus_column_type,
    parquet_select,
};

use crate::manifest::Column;

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

/// The columns of a CUR v1 manifest with their types.
pub fn cur1_columns(columns: &[Column]) -> Vec<(String, ColumnType)> {
    columns
        .iter()
        .map(|c| (c.header(), column_type(c)))
        .collect()
}

/// The columns to read: the manifest's, checked against the file's header; or, for
/// manifests without a column list, the header's own (typed by name).
pub fn reconcile_columns(
    manifest: &[Column],
    header: &[String],
    key: &str,
) -> crate::error::Result<Vec<Column>> {
    if manifest.is_empty() {
        return Ok(header
            .iter()
            .map(|h| {
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
        .filter(|h| !header.iter().any(|n| n == h))
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
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("it's.csv");
        std::fs::write(&file, "\"resourceTags/user:Na\"\"me\"\nx\n").unwrap();
        let raw = csv_select(
            &[file],
            &cur1_columns(&[col("resourceTags", "user:Na\"me", None)]),
            true,
        )
        .unwrap();
        assert_eq!(raw.names, ["resource_tags_user_na_me"]);
        let sql = raw.sql;
        assert!(sql.contains("it''s.csv'"), "{sql}");
        assert!(
            sql.contains("NULLIF(\"__finops_c0\", '') AS \"resource_tags_user_na_me\""),
            "{sql}"
        );
    }
}
