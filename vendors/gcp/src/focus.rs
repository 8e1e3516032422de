//! FOCUS from Google Cloud exports: the standard and detailed exports through
//! `sql/billing.sql`; the native FOCUS export through core's upgrade, with what it lacks
//! (ServiceCategory, InvoiceIssuerName, Tags…) derived as for the other exports.

use finops_core::focus::mapping::{FocusSql, Mapping};
use finops_core::naming::quote_ident;

/// The mapping of the standard and detailed exports.
pub const BILLING: Mapping = Mapping {
    name: "billing.sql",
    sql: include_str!("../sql/billing.sql"),
};

/// Service description → FOCUS category and subcategory.
const SERVICES: &str = include_str!("../data/services.csv");
/// Region id → name.
const REGIONS: &str = include_str!("../data/regions.csv");

/// The FOCUS mapping of a standard or detailed export.
pub fn billing() -> FocusSql {
    FocusSql::mapping(BILLING)
        .lookup("gcp_services", SERVICES)
        .lookup("gcp_regions", REGIONS)
}

/// The upgrade of a native FOCUS export (FOCUS 1.2 with Google's `x_` columns) to FOCUS
/// 1.3, whose raw columns are `columns`.
pub fn focus_upgrade(columns: &[(String, String)]) -> FocusSql {
    let has = |n: &str| columns.iter().any(|(c, _)| c.eq_ignore_ascii_case(n));
    let category =
        finops_core::focus::mapping::lookup_case(SERVICES, "\"ServiceName\"", 1, "'Other'");
    let subcategory = finops_core::focus::mapping::lookup_case(
        SERVICES,
        "\"ServiceName\"",
        2,
        &format!("'Other (' || {category} || ')'"),
    );
    let mut overrides: Vec<(&str, String)> = Vec::new();
    if !has("ServiceCategory") {
        overrides.push(("ServiceCategory", category));
    }
    if !has("ServiceSubcategory") {
        overrides.push(("ServiceSubcategory", subcategory));
    }
    if !has("ChargeFrequency") {
        overrides.push((
            "ChargeFrequency",
            "CASE WHEN starts_with(\"ChargeDescription\", 'Commitment v1:') THEN 'Recurring' \
             WHEN \"ChargeCategory\" = 'Usage' THEN 'Usage-Based' ELSE 'One-Time' END"
                .to_owned(),
        ));
    }
    if !has("SubAccountType") {
        overrides.push((
            "SubAccountType",
            "CASE WHEN \"SubAccountId\" IS NOT NULL THEN 'Project' END".to_owned(),
        ));
    }
    // Rows without a list cost (tax, adjustments) list at what they bill; a priced row
    // without a unit price gets the one its cost implies (the finishing step then derives
    // the cost from it, recording the difference).
    overrides.push((
        "ListCost",
        "COALESCE(\"ListCost\", \"BilledCost\")".to_owned(),
    ));
    for (price, cost) in [
        ("ListUnitPrice", "ListCost"),
        ("ContractedUnitPrice", "ContractedCost"),
    ] {
        overrides.push((
            price,
            format!(
                "COALESCE({p}, CASE WHEN \"ChargeCategory\" IN ('Usage', 'Purchase') AND \"ChargeClass\" IS NULL \
                 AND \"PricingQuantity\" <> 0 THEN CAST({c} / \"PricingQuantity\" AS DECIMAL(38, 18)) END)",
                p = quote_ident(price),
                c = quote_ident(cost)
            ),
        ));
    }
    // FOCUS: no SKU on tax rows.
    for sku in ["SkuId", "SkuPriceId"] {
        overrides.push((
            sku,
            format!(
                "CASE WHEN \"ChargeCategory\" <> 'Tax' THEN {} END",
                quote_ident(sku)
            ),
        ));
    }
    overrides.push((
        "SkuMeter",
        "CASE WHEN \"SkuId\" IS NOT NULL AND \"ChargeCategory\" <> 'Tax' THEN COALESCE(\"SkuMeter\", \"ChargeDescription\") END".to_owned(),
    ));
    overrides.push((
        "SkuPriceDetails",
        "CASE WHEN \"SkuPriceId\" IS NOT NULL AND \"ChargeCategory\" <> 'Tax' THEN COALESCE(\"SkuPriceDetails\", '{}') END".to_owned(),
    ));
    if !has("ResourceType") {
        overrides.push((
            "ResourceType",
            "gcp_resource_type(\"ResourceId\")".to_owned(),
        ));
    }
    for unit in ["PricingUnit", "ConsumedUnit"] {
        overrides.push((unit, format!("gcp_focus_unit({})", quote_ident(unit))));
    }
    if !has("BillingAccountName") {
        overrides.push(("BillingAccountName", "\"BillingAccountId\"".to_owned()));
    }
    if !has("InvoiceIssuerName") {
        overrides.push(("InvoiceIssuerName", "\"ProviderName\"".to_owned()));
    }
    if !has("RegionName") {
        overrides.push((
            "RegionName",
            finops_core::focus::mapping::lookup_case(REGIONS, "\"RegionId\"", 1, "\"RegionId\""),
        ));
    }
    if !has("Tags") {
        // Labels over tags over project labels, each a list of {key, value} in the layer
        // below (as JSON text); the first value of a key wins, keys without a name dropped.
        let lists: Vec<String> = ["x_Labels", "x_Tags", "x_ProjectLabels"]
            .iter()
            .filter(|n| has(n))
            .map(|n| {
                format!(
                    "COALESCE(from_json({}, '[{{\"key\": \"VARCHAR\", \"value\": \"VARCHAR\"}}]'), [])",
                    quote_ident(n)
                )
            })
            .collect();
        if !lists.is_empty() {
            let kv = format!(
                "list_transform(list_concat({}), lambda l: {{'k': l.key, 'v': l.value}})",
                lists.join(", ")
            );
            overrides.push(("Tags", format!("gcp_tags({kv})")));
        }
    }
    FocusSql::select(finops_core::focus::upgrade::upgrade_select(
        columns, &overrides,
    ))
    .with_macros_of(BILLING)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        finops_core::focus::mapping::check_golden(
            &billing(),
            env!("CARGO_MANIFEST_DIR"),
            input,
            expected,
        );
    }

    #[test]
    fn golden_detailed() {
        check(
            "tests/golden/detailed.csv",
            "tests/golden/detailed.expected",
        );
    }

    #[test]
    fn every_lookup_has_its_columns() {
        assert!(SERVICES.starts_with("ServiceDescription,ServiceCategory,ServiceSubcategory"));
        assert!(REGIONS.starts_with("RegionId,RegionName"));
        for (i, l) in SERVICES.lines().enumerate() {
            assert_eq!(l.split(',').count(), 3, "services.csv line {}", i + 1);
        }
    }
}
