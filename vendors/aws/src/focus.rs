//! AWS CUR → FOCUS: the mapping is the SQL file `sql/cur.sql` (one `SELECT` over the
//! period's typed inputs, `finops_period`); this module says which inputs a delivery computes
//! rather than reads (its tags, CUR 2.0's product map) and gives the lookup table. The
//! mapping, column by column, with reasons, is in `docs/focus.md`.

// FOCUS column names (BilledCost…) are words of the specification here, not code.
#![allow(clippy::doc_markdown)]

use std::collections::BTreeSet;

use finops_core::focus::mapping::{FocusSql, Mapping};
use finops_core::naming::{quote_ident, quote_literal};

/// The CUR mapping (legacy CUR and CUR 2.0: the meaning of their columns is the same).
pub const CUR: Mapping = Mapping {
    name: "vendors/aws/sql/cur.sql",
    sql: include_str!("../sql/cur.sql"),
};

/// AWS product code → FOCUS ServiceCategory (FinOps Foundation mapping, MIT; see data/README.md).
const SERVICE_CATEGORIES: &str = include_str!("../data/service_categories.csv");

fn cur() -> FocusSql {
    FocusSql::mapping(CUR).lookup("aws_service_categories", SERVICE_CATEGORIES)
}

/// The mapping of a CUR v1 delivery: `tags` are (original tag key, raw column) pairs, e.g.
/// (`user:Team`, `resource_tags_user_team`), gathered into one JSON object.
pub fn cur1(tags: &[(String, String)]) -> FocusSql {
    if tags.is_empty() {
        return cur();
    }
    // Built as text (keys JSON-encoded here, values by to_json): several times faster per
    // row than building a map and serialising it.
    let all_null = tags
        .iter()
        .map(|(_, c)| format!("{} IS NULL", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let entries: Vec<String> = tags
        .iter()
        .map(|(k, c)| {
            let key = serde_json::to_string(k).unwrap_or_else(|_| "\"\"".to_owned());
            format!(
                "CASE WHEN {c} IS NOT NULL THEN {key} || CAST(to_json({c}) AS VARCHAR) END",
                c = quote_ident(c),
                key = quote_literal(&format!("{key}:"))
            )
        })
        .collect();
    cur().compute(
        "finops_tags",
        format!(
            "CASE WHEN {all_null} THEN NULL ELSE '{{' || concat_ws(',', {}) || '}}' END",
            entries.join(", ")
        ),
    )
}

/// The mapping of a CUR 2.0 delivery whose raw columns are `present`: the product name and
/// region from the `product` map, tags from the `resource_tags` map (keys as AWS
/// normalised them: `user_team`).
pub fn cur2(present: &BTreeSet<String>) -> FocusSql {
    let mut focus = cur();
    if present.contains("product") {
        focus = focus
            .compute("product_product_name", "\"product\"['product_name']")
            .compute("product_region", "\"product\"['region']");
    }
    if present.contains("resource_tags") {
        focus = focus.compute(
            "finops_tags",
            "NULLIF(CAST(to_json(map_from_entries(list_filter(map_entries(\"resource_tags\"), e -> e.value IS NOT NULL AND e.value <> ''))) AS VARCHAR), '{}')",
        );
    }
    focus
}

/// The `SELECT` bringing an AWS FOCUS export (FOCUS 1.0 with AWS columns; `columns` are its
/// raw table's) up to `focus.cost_and_usage`: the generic upgrade, plus what AWS's own FOCUS
/// rows and finops' CUR mapping agree on, so that rows of both kinds read the same:
/// `ProviderName` is the invoice issuer (AWS writes `AWS`, which the validator's
/// BilledCost-C-005-C reads as a third-party charge), the host is `Amazon Web Services`
/// (`Not Applicable` for tax), accounts are payer and linked accounts, units are in FOCUS
/// unit format as for CUR, and `SkuMeter` is the usage type.
pub fn focus_upgrade(columns: &[(String, String)]) -> FocusSql {
    let has = |n: &str| columns.iter().any(|(c, _)| c.eq_ignore_ascii_case(n));
    let mut overrides = vec![
        (
            "ProviderName",
            "CASE WHEN \"ProviderName\" = 'AWS' THEN COALESCE(\"InvoiceIssuerName\", 'Amazon Web Services, Inc.') ELSE \"ProviderName\" END".to_owned(),
        ),
        (
            "HostProviderName",
            "CASE WHEN \"ChargeCategory\" = 'Tax' THEN 'Not Applicable' ELSE 'Amazon Web Services' END".to_owned(),
        ),
        (
            "BillingAccountType",
            "CASE WHEN \"BillingAccountId\" IS NOT NULL THEN 'Payer Account' END".to_owned(),
        ),
        (
            "SubAccountType",
            "CASE WHEN \"SubAccountId\" IS NOT NULL THEN 'Linked Account' END".to_owned(),
        ),
        ("PricingUnit", "aws_focus_unit(\"PricingUnit\")".to_owned()),
        ("ConsumedUnit", "aws_focus_unit(\"ConsumedUnit\")".to_owned()),
    ];
    if has("x_UsageType") && !has("SkuMeter") {
        overrides.push((
            "SkuMeter",
            "CASE WHEN \"SkuId\" IS NOT NULL THEN COALESCE(\"x_UsageType\", \"SkuId\") END"
                .to_owned(),
        ));
    }
    FocusSql::select(finops_core::focus::upgrade::upgrade_select(
        columns, &overrides,
    ))
    .with_macros_of(CUR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use finops_core::focus::mapping::check_golden;

    const DIR: &str = env!("CARGO_MANIFEST_DIR");

    fn tags() -> Vec<(String, String)> {
        vec![
            ("user:Team".to_owned(), "resource_tags_user_team".to_owned()),
            ("user:it's".to_owned(), "resource_tags_user_it_s".to_owned()),
        ]
    }

    /// One row per line item type the mapping handles (usage on demand, spot, reserved and
    /// Savings Plan covered; their fees, with the unused part as its own row; negation, tax,
    /// credit, discount, refund, a type AWS may add), plus a billion requests at a noisy
    /// rate, Lambda's units, and usage without a public price: the exact FOCUS rows.
    #[test]
    fn cur1_golden() {
        check_golden(
            &cur1(&tags()),
            DIR,
            "tests/golden/cur1.csv",
            "tests/golden/cur1.expected",
        );
    }

    /// CUR 2.0's product name and region from the `product` map, tags from `resource_tags`.
    #[test]
    fn cur2_golden() {
        let present: BTreeSet<String> = ["product", "resource_tags"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        check_golden(
            &cur2(&present),
            DIR,
            "tests/golden/cur2.csv",
            "tests/golden/cur2.expected",
        );
    }

    /// A noisy rate (stored rounded to 18 decimals) times a billion units: the FOCUS unit price
    /// is rounded half to even to 10 decimals, ListCost is its product with the quantity,
    /// exactly, and BilledCost is the delivered cost, untouched; the rounding is recorded.
    #[test]
    fn noisy_rates_and_huge_quantities_give_exact_products() {
        let conn = finops_core::duckdb::Connection::open_in_memory().unwrap();
        let d = |v: &str| format!("CAST('{v}' AS DECIMAL(38, 18))");
        conn.execute_batch(&format!(
            "CREATE TABLE raw AS SELECT 'Usage' AS line_item_line_item_type, 'AmazonS3' AS line_item_product_code, \
             {} AS pricing_public_on_demand_rate, {} AS line_item_usage_amount, {} AS line_item_unblended_cost, \
             {} AS pricing_public_on_demand_cost, 'Requests' AS pricing_unit",
            d("0.000547945205479452"),
            d("1000000000"),
            d("547945.205479452054794521"),
            d("547945.205479452054794521"),
        ))
        .unwrap();
        let raw = finops_core::focus::mapping::column_names(&conn, "raw").unwrap();
        let select = cur1(&[]).install(&conn, "raw", &raw).unwrap();
        let f = finops_core::focus::finish::prepare(&conn, &select).unwrap();
        conn.execute_batch(&format!("CREATE TABLE f AS {}", f.sql))
            .unwrap();
        let row: (String, String, String, String) = conn
            .query_row(
                "SELECT CAST(ListUnitPrice AS VARCHAR), CAST(PricingQuantity AS VARCHAR), CAST(ListCost AS VARCHAR), CAST(BilledCost AS VARCHAR) FROM f",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "0.0005479452".into(),
                "1000000000.0000000000".into(),
                "547945.20000000000000000000".into(),
                "547945.20547945205479452100".into(),
            )
        );
        let r = finops_core::precision::read_roundings(&conn, "f", "focus", &f.roundings).unwrap();
        let list = r.iter().find(|r| r.column == "ListCost").unwrap();
        assert!(
            (list.largest - 0.005_479_452_054_794_521).abs() < 1e-12,
            "{r:?}"
        );
    }

    /// The mapping declares every column it reads: run over a table holding only the
    /// declared inputs, it prepares (an undeclared column would be a binder error).
    #[test]
    fn every_column_read_is_declared() {
        let conn = finops_core::duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE raw AS SELECT 1 AS unrelated")
            .unwrap();
        let select = cur1(&[])
            .install(&conn, "raw", &["unrelated".into()])
            .unwrap();
        finops_core::focus::finish::prepare(&conn, &select).unwrap();
        assert_eq!(CUR.inputs().len(), 45);
    }

    /// The FOCUS export's upgrade uses the CUR mapping's unit macro.
    #[test]
    fn focus_export_units_are_normalised() {
        let conn = finops_core::duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE raw AS SELECT 'Lambda-GB-Second' AS PricingUnit, 'Hrs' AS ConsumedUnit",
        )
        .unwrap();
        let columns = vec![
            ("PricingUnit".to_owned(), "VARCHAR".to_owned()),
            ("ConsumedUnit".to_owned(), "VARCHAR".to_owned()),
        ];
        let select = focus_upgrade(&columns)
            .install(&conn, "raw", &["PricingUnit".into(), "ConsumedUnit".into()])
            .unwrap();
        let row: (String, String) = conn
            .query_row(
                &format!("SELECT PricingUnit, ConsumedUnit FROM ({select})"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(row, ("GB-Seconds".into(), "Hours".into()));
    }
}
