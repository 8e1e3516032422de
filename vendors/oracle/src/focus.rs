//! FOCUS from Oracle's reports: FOCUS reports through core's upgrade (FOCUS 1.0-preview names,
//! empty strings, spellings), with what Oracle leaves empty filled; cost reports through
//! `sql/cost.sql`.

use finops_core::focus::mapping::{FocusSql, Mapping};
use finops_core::naming::{quote_ident, quote_literal};
use finops_core::read::RawSelect;

/// The mapping of cost reports.
pub const COST: Mapping = Mapping {
    name: "cost.sql",
    sql: include_str!("../sql/cost.sql"),
};

/// Service code → FOCUS category and subcategory.
const SERVICES: &str = include_str!("../data/services.csv");

/// The FOCUS mapping of cost reports read by `raw`: its `tags/*` columns as the JSON
/// object of Tags.
pub fn cost(raw: &RawSelect) -> FocusSql {
    FocusSql::mapping(COST)
        .lookup("oci_services", SERVICES)
        .compute("finops_tags", tags_json(&raw.delivered, &raw.names))
}

/// The `tags/<namespace>.<key>` columns (delivered, raw name) as one JSON object, keys
/// `<namespace>.<key>`, empty values left out; NULL when a row has none.
pub fn tags_json(delivered: &[String], names: &[String]) -> String {
    let entries: Vec<String> = delivered
        .iter()
        .zip(names)
        .filter_map(|(d, n)| {
            d.strip_prefix("tags/").map(|key| {
                format!(
                    "{{'key': {}, 'value': CAST({} AS VARCHAR)}}",
                    quote_literal(key),
                    quote_ident(n)
                )
            })
        })
        .collect();
    if entries.is_empty() {
        return "CAST(NULL AS VARCHAR)".into();
    }
    format!(
        "NULLIF(CAST(to_json(map_from_entries(list_filter([{}], lambda e: NULLIF(e.value, '') IS NOT NULL))) AS VARCHAR), '{{}}')",
        entries.join(", ")
    )
}

/// The upgrade of FOCUS reports whose raw columns are `columns`.
pub fn focus_upgrade(columns: &[(String, String)]) -> FocusSql {
    let priced = "\"ChargeCategory\" IN ('Usage', 'Purchase') AND \"ChargeClass\" IS NULL";
    let mut overrides: Vec<(&str, String)> = vec![
        // Present but empty in Oracle's reports.
        (
            "InvoiceIssuerName",
            "COALESCE(\"InvoiceIssuerName\", \"ProviderName\")".into(),
        ),
        (
            "BillingAccountName",
            "COALESCE(\"BillingAccountName\", \"BillingAccountId\")".into(),
        ),
        (
            "PricingCategory",
            format!("COALESCE(\"PricingCategory\", CASE WHEN {priced} THEN 'Standard' END)"),
        ),
        // Empty in Oracle's reports: one price per SKU.
        ("SkuPriceId", "COALESCE(\"SkuPriceId\", \"SkuId\")".into()),
        (
            "SkuMeter",
            "CASE WHEN \"SkuId\" IS NOT NULL THEN COALESCE(\"SkuMeter\", \"ChargeDescription\") END".into(),
        ),
        // One subcategory per service: from the lookup where the code is known (reports
        // of older headers have none, newer ones Oracle's).
        (
            "ServiceSubcategory",
            finops_core::focus::mapping::lookup_case(
                SERVICES,
                "\"ServiceName\"",
                2,
                "COALESCE(\"ServiceSubcategory\", 'Other (' || COALESCE(\"ServiceCategory\", 'Other') || ')')",
            ),
        ),
        // RegionId is Oracle's `Region`; the name where the report has none.
        (
            "RegionName",
            "COALESCE(\"RegionName\", \"RegionId\")".into(),
        ),
        ("ListCost", "COALESCE(\"ListCost\", \"BilledCost\")".into()),
    ];
    for (price, cost) in [
        ("ListUnitPrice", "ListCost"),
        ("ContractedUnitPrice", "EffectiveCost"),
    ] {
        overrides.push((
            price,
            format!(
                "COALESCE({p}, CASE WHEN {priced} AND \"PricingQuantity\" <> 0 THEN CAST({c} / \"PricingQuantity\" AS DECIMAL(38, 18)) END)",
                p = quote_ident(price),
                c = quote_ident(cost)
            ),
        ));
    }
    overrides.push((
        "ContractedCost",
        "COALESCE(\"ContractedCost\", \"EffectiveCost\")".into(),
    ));
    FocusSql::select(finops_core::focus::upgrade::upgrade_select(
        columns, &overrides,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_one_object() {
        let sql = tags_json(
            &["cost/myCost".into(), "tags/Oracle-Tags.CreatedBy".into()],
            &["cost_my_cost".into(), "tags_oracle_tags_created_by".into()],
        );
        assert!(sql.contains("'Oracle-Tags.CreatedBy'"), "{sql}");
        assert!(sql.contains("\"tags_oracle_tags_created_by\""), "{sql}");
        assert_eq!(tags_json(&[], &[]), "CAST(NULL AS VARCHAR)");
    }
}
