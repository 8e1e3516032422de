//! FOCUS data delivered by a cloud (AWS "FOCUS 1.0 with AWS columns", Azure FocusCost 1.0 or
//! 1.2…) brought up to the columns of `focus.cost_and_usage` (FOCUS 1.3).
//!
//! Two layers over the view `finops_period` (the period's raw rows):
//! 1. every FOCUS column the source has, matched case-insensitively and cast to finops' type
//!    (money exactly, a map as a JSON object); absent ones are typed NULLs; `x_` columns kept;
//! 2. the columns later versions added, derived from the others where the specification
//!    allows (`ServiceProviderName` from `PublisherName`, the `PricingCurrency…` columns from
//!    the billing-currency ones, `ServiceSubcategory` as `Other (<category>)`…), unless the
//!    source had them. A vendor's `overrides` replace any column's expression in layer 2.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::columns::{COLUMNS, DataType};
use crate::naming::{quote_ident, quote_literal};
use crate::precision::{Binding, RAW_DECIMAL, parse_number};

/// The `SELECT` producing FOCUS 1.3 columns (and the source's `x_` columns) from
/// `finops_period`, whose columns are `source` (name, DuckDB type). `overrides` are
/// (FOCUS column, SQL expression over layer 1's FOCUS-named columns).
pub fn upgrade_select(source: &[(String, String)], overrides: &[(&str, String)]) -> String {
    let by_lower: BTreeMap<String, &(String, String)> = source
        .iter()
        .map(|c| (c.0.to_ascii_lowercase(), c))
        .collect();
    let mut layer1 = Vec::new();
    let mut present = Vec::new();
    // FOCUS 1.0-preview's ChargeSubcategory says what 1.0 put in ChargeClass and
    // CommitmentDiscountStatus: derived in this layer, so that overrides see them.
    let subcategory = by_lower
        .get("chargesubcategory")
        .map(|(name, _)| format!("lower(trim(CAST({} AS VARCHAR)))", quote_ident(name)));
    for c in COLUMNS {
        // The column by its name, else by its FOCUS 1.0-preview name.
        let found = by_lower.get(&c.name.to_ascii_lowercase()).or_else(|| {
            PREVIEW_NAMES
                .iter()
                .find(|(_, new)| *new == c.name)
                .and_then(|(old, _)| by_lower.get(&old.to_ascii_lowercase()))
        });
        let expr = match found {
            Some((name, ty)) => {
                present.push(c.name);
                let value = cast(&quote_ident(name), ty, c.data_type, c.name);
                match c.allowed {
                    Some(values) if c.data_type == DataType::String => spelled(&value, values),
                    _ => value,
                }
            }
            None => match (c.name, &subcategory) {
                ("ChargeClass", Some(sub)) => {
                    format!("CASE WHEN {sub} = 'refund' THEN 'Correction' END")
                }
                ("CommitmentDiscountStatus", Some(sub)) => format!(
                    "CASE WHEN {sub} = 'used commitment' THEN 'Used' WHEN {sub} = 'unused commitment' THEN 'Unused' END"
                ),
                _ => format!("CAST(NULL AS {})", c.data_type.sql()),
            },
        };
        layer1.push(format!("{expr} AS {}", quote_ident(c.name)));
    }
    let mut extensions = Vec::new();
    for (name, ty) in source {
        if name.len() > 2 && name[..2].eq_ignore_ascii_case("x_") {
            let expr = if ty.starts_with("MAP(") || ty.starts_with("STRUCT(") {
                format!("CAST(to_json({}) AS VARCHAR)", quote_ident(name))
            } else if ty == "DOUBLE" || ty == "FLOAT" {
                inline_number(&format!("CAST({} AS VARCHAR)", quote_ident(name)), name)
            } else {
                quote_ident(name)
            };
            let out = format!("x_{}", &name[2..]);
            layer1.push(format!("{expr} AS {}", quote_ident(&out)));
            extensions.push(out);
        }
    }

    let derived = derivations();
    let mut layer2 = Vec::new();
    for c in COLUMNS {
        let expr = if let Some((_, e)) = overrides.iter().find(|(n, _)| *n == c.name) {
            e.clone()
        } else if let Some(e) = derived.get(c.name) {
            // Derived where the source has no value: files whose headers drift give a column
            // to some rows only.
            if present.contains(&c.name) {
                format!("COALESCE({}, {e})", quote_ident(c.name))
            } else {
                e.clone()
            }
        } else {
            quote_ident(c.name)
        };
        // Numbers stay at the raw precision: core's finishing step rounds them to FOCUS's
        // scale and derives the cost products ([`super::finish`]).
        let ty = if c.data_type.is_decimal() {
            RAW_DECIMAL
        } else {
            c.data_type.sql()
        };
        layer2.push(format!("CAST({expr} AS {ty}) AS {}", quote_ident(c.name)));
    }
    for x in &extensions {
        layer2.push(quote_ident(x));
    }
    let mut sql = String::new();
    let _ = write!(
        sql,
        "SELECT {} FROM (SELECT {} FROM finops_period)",
        layer2.join(", "),
        layer1.join(", ")
    );
    sql
}

/// Columns later FOCUS versions added, from the ones FOCUS 1.0 has.
fn derivations() -> BTreeMap<&'static str, String> {
    let commitment_quantity = "CASE WHEN \"CommitmentDiscountId\" IS NULL OR \"ChargeCategory\" NOT IN ('Usage', 'Purchase') THEN NULL \
         WHEN \"CommitmentDiscountCategory\" = 'Usage' THEN \"PricingQuantity\" ELSE \"EffectiveCost\" END";
    [
        ("ServiceProviderName", "COALESCE(\"PublisherName\", \"ProviderName\")".to_owned()),
        ("HostProviderName", "\"ProviderName\"".to_owned()),
        (
            "BillingAccountType",
            "CASE WHEN \"BillingAccountId\" IS NOT NULL THEN 'Billing Account' END".to_owned(),
        ),
        (
            "SubAccountType",
            "CASE WHEN \"SubAccountId\" IS NOT NULL THEN 'Sub Account' END".to_owned(),
        ),
        ("PricingCurrency", "\"BillingCurrency\"".to_owned()),
        (
            "PricingCurrencyContractedUnitPrice",
            "\"ContractedUnitPrice\"".to_owned(),
        ),
        ("PricingCurrencyEffectiveCost", "\"EffectiveCost\"".to_owned()),
        ("PricingCurrencyListUnitPrice", "\"ListUnitPrice\"".to_owned()),
        (
            "ServiceSubcategory",
            "'Other (' || COALESCE(\"ServiceCategory\", 'Other') || ')'".to_owned(),
        ),
        (
            "SkuPriceDetails",
            "CASE WHEN \"SkuPriceId\" IS NOT NULL THEN '{}' END".to_owned(),
        ),
        ("CommitmentDiscountQuantity", commitment_quantity.to_owned()),
        (
            "CommitmentDiscountUnit",
            format!(
                "CASE WHEN ({commitment_quantity}) IS NULL THEN NULL WHEN \"CommitmentDiscountCategory\" = 'Usage' \
                 THEN COALESCE(\"PricingUnit\", 'Units') ELSE \"BillingCurrency\" END"
            ),
        ),
    ]
    .into_iter()
    .collect()
}

/// A source column as the FOCUS column before finishing: text as is, a map or struct as a
/// JSON object, numbers as `DECIMAL(38, 18)` (text and floating point parsed as raw tables
/// parse them; core's finishing step rounds to FOCUS's scale).
fn cast(col: &str, source_type: &str, target: DataType, name: &str) -> String {
    let is_nested = source_type.starts_with("MAP(") || source_type.starts_with("STRUCT(");
    match target {
        DataType::Json if is_nested => {
            format!("NULLIF(CAST(to_json({col}) AS VARCHAR), '{{}}')")
        }
        DataType::Json => format!(
            "CASE WHEN trim(CAST({col} AS VARCHAR)) IN ('', '{{}}') THEN NULL ELSE CAST({col} AS VARCHAR) END"
        ),
        DataType::String => format!("NULLIF(CAST({col} AS VARCHAR), '')"),
        DataType::DateTime if source_type == "VARCHAR" => {
            format!("CAST(NULLIF({col}, '') AS TIMESTAMP)")
        }
        DataType::DateTime => format!("CAST({col} AS TIMESTAMP)"),
        DataType::Cost | DataType::UnitPrice | DataType::Quantity => {
            if source_type == "VARCHAR" {
                inline_number(col, name)
            } else if source_type == "DOUBLE" || source_type == "FLOAT" {
                inline_number(&format!("CAST({col} AS VARCHAR)"), name)
            } else {
                format!("CAST({col} AS {RAW_DECIMAL})")
            }
        }
    }
}

/// Columns FOCUS 1.0-preview named otherwise: (old name, FOCUS 1.3 name). Some clouds
/// still deliver them (Oracle's FOCUS reports).
pub const PREVIEW_NAMES: &[(&str, &str)] = &[
    ("Provider", "ProviderName"),
    ("Publisher", "PublisherName"),
    ("InvoiceIssuer", "InvoiceIssuerName"),
    ("Region", "RegionId"),
    ("UsageQuantity", "ConsumedQuantity"),
    ("UsageUnit", "ConsumedUnit"),
];

/// A value of a column with allowed values, in FOCUS's spelling when it differs only in
/// case or surrounding spaces (`Usage-based` → `Usage-Based`); other values unchanged (the
/// checker reports them).
fn spelled(value: &str, allowed: &[&str]) -> String {
    let arms: Vec<String> = allowed
        .iter()
        .map(|a| {
            format!(
                "WHEN {} THEN {}",
                quote_literal(&a.to_ascii_lowercase()),
                quote_literal(a)
            )
        })
        .collect();
    format!(
        "CASE lower(trim({value})) {} ELSE {value} END",
        arms.join(" ")
    )
}

/// A number written as text, parsed as raw tables parse it (one expression, for the rare
/// FOCUS number column delivered as text).
fn inline_number(text: &str, column: &str) -> String {
    let mut b = Binding::Inline(Vec::new());
    let (value, _) = parse_number(text, &quote_literal(&format!("column {column}")), &mut b);
    b.wrap(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn present_columns_are_cast_and_absent_ones_derived() {
        let sql = upgrade_select(
            &cols(&[
                ("billedcost", "DOUBLE"),
                ("PublisherName", "VARCHAR"),
                ("Tags", "MAP(VARCHAR, VARCHAR)"),
                ("x_UsageType", "VARCHAR"),
                ("Id", "BIGINT"),
            ]),
            &[("BillingAccountType", "'Payer Account'".to_owned())],
        );
        assert!(sql.contains("CAST(\"billedcost\" AS VARCHAR)"), "{sql}");
        assert!(sql.contains("to_json(\"Tags\")"));
        assert!(sql.contains("COALESCE(\"PublisherName\", \"ProviderName\")"));
        assert!(sql.contains("CAST('Payer Account' AS VARCHAR) AS \"BillingAccountType\""));
        assert!(sql.contains("\"x_UsageType\" AS \"x_UsageType\""));
        assert!(
            !sql.contains("\"Id\""),
            "non-FOCUS, non-x_ columns are dropped"
        );
    }

    #[test]
    fn preview_names_empty_strings_and_spellings_are_normalised() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE finops_period AS SELECT 'OCI' AS Provider, 'us-sanjose-1' AS Region, \
             '' AS BillingAccountName, 'Usage-based' AS ChargeFrequency, '2' AS UsageQuantity, \
             'Refund' AS ChargeSubcategory, 'Usage' AS ChargeCategory",
        )
        .unwrap();
        let source = cols(&[
            ("Provider", "VARCHAR"),
            ("Region", "VARCHAR"),
            ("BillingAccountName", "VARCHAR"),
            ("ChargeFrequency", "VARCHAR"),
            ("UsageQuantity", "VARCHAR"),
            ("ChargeSubcategory", "VARCHAR"),
            ("ChargeCategory", "VARCHAR"),
        ]);
        let sql = upgrade_select(&source, &[]);
        let row: (
            String,
            String,
            Option<String>,
            String,
            String,
            Option<String>,
        ) = conn
            .query_row(
                &format!(
                    "SELECT ProviderName, RegionId, BillingAccountName, ChargeFrequency, \
                     CAST(ConsumedQuantity AS VARCHAR), ChargeClass FROM ({sql})"
                ),
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "OCI".into(),
                "us-sanjose-1".into(),
                None,
                "Usage-Based".into(),
                "2.000000000000000000".into(),
                Some("Correction".into())
            )
        );
    }

    #[test]
    fn a_column_the_source_has_is_derived_only_where_it_is_null() {
        let sql = upgrade_select(&cols(&[("ServiceSubcategory", "VARCHAR")]), &[]);
        assert!(
            sql.contains("COALESCE(\"ServiceSubcategory\", 'Other (' ||"),
            "{sql}"
        );
    }
}
