//! AWS CUR → FOCUS: one `SELECT` over the period's raw rows (`finops_period`), written for the
//! columns this delivery actually has (CUR's schema is dynamic: an absent column is NULL).
//! The mapping, column by column, with reasons, is in `docs/focus.md`.

// FOCUS column names (BilledCost…) are words of the specification here, not code.
#![allow(clippy::doc_markdown)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use finops_core::naming::{quote_ident, quote_literal};

/// AWS product code → FOCUS ServiceCategory (FinOps Foundation mapping, MIT; see data/README.md).
const SERVICE_CATEGORIES: &str = include_str!("../data/service_categories.csv");

/// Line item types that are usage.
const USAGE: &str = "'Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation'";
/// Line item types that buy something.
const PURCHASE: &str = "'Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee'";
/// Line item types that reduce the bill.
const CREDIT: &str = "'Credit', 'EdpDiscount', 'BundledDiscount', 'Discount', 'PrivateRateDiscount', 'SppDiscount', 'DistributorDiscount'";

/// What a delivery offers the mapping: its raw columns, stand-ins for legacy column names it
/// lacks, and where its tags are.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Raw columns present (CUR v1 Parquet / CUR 2.0 snake_case names).
    pub present: BTreeSet<String>,
    /// An expression standing for a column the mapping reads but this kind of export holds
    /// elsewhere: CUR 2.0's product name lives in the `product` map.
    pub stand_ins: BTreeMap<&'static str, String>,
    /// An expression producing `Tags` (a JSON object as text, or NULL).
    pub tags: String,
}

impl Inputs {
    /// A CUR v1 delivery: `tags` are (original tag key, raw column) pairs, e.g. (`user:Team`,
    /// `resource_tags_user_team`).
    pub fn cur1(present: BTreeSet<String>, tags: &[(String, String)]) -> Self {
        // Built as text (keys JSON-encoded here, values by to_json): several times faster
        // per row than building a map and serialising it.
        let tags = if tags.is_empty() {
            "CAST(NULL AS VARCHAR)".to_owned()
        } else {
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
            format!(
                "CASE WHEN {all_null} THEN NULL ELSE '{{' || concat_ws(',', {}) || '}}' END",
                entries.join(", ")
            )
        };
        Self {
            present,
            stand_ins: BTreeMap::new(),
            tags,
        }
    }

    /// A CUR 2.0 delivery: the product name from the `product` map, tags from the
    /// `resource_tags` map (keys as AWS normalised them: `user_team`).
    pub fn cur2(present: BTreeSet<String>) -> Self {
        let mut stand_ins = BTreeMap::new();
        if present.contains("product") {
            stand_ins.insert(
                "product_product_name",
                "\"product\"['product_name']".to_owned(),
            );
            stand_ins.insert("product_region", "\"product\"['region']".to_owned());
        }
        let tags = if present.contains("resource_tags") {
            "NULLIF(CAST(to_json(map_from_entries(list_filter(map_entries(\"resource_tags\"), e -> e.value IS NOT NULL AND e.value <> ''))) AS VARCHAR), '{}')".to_owned()
        } else {
            "CAST(NULL AS VARCHAR)".to_owned()
        };
        Self {
            present,
            stand_ins,
            tags,
        }
    }
}

/// The FOCUS `SELECT` for a delivery (CUR v1 or CUR 2.0: the meaning of their columns is the
/// same, only where some live differs, see [`Inputs`]).
pub fn focus_select(inputs: &Inputs) -> String {
    let has = |c: &str| inputs.present.contains(c);
    // Every input is cast to the type used here: Parquet exports carry rates as strings and
    // account ids as numbers; an absent column is a typed NULL.
    let cast = |c: &str, ty: &str| {
        let src = if let Some(e) = inputs.stand_ins.get(c) {
            e.clone()
        } else if has(c) {
            quote_ident(c)
        } else {
            "NULL".to_owned()
        };
        format!("CAST({src} AS {ty})")
    };
    let s = |c: &str| cast(c, "VARCHAR");
    let n = |c: &str| cast(c, "DECIMAL(38, 18)");
    let t = |c: &str| cast(c, "TIMESTAMP");
    let ty = s("line_item_line_item_type");
    let product_code = s("line_item_product_code");
    let category = format!(
        "CASE WHEN {ty} IN ({USAGE}) THEN 'Usage' WHEN {ty} = 'Tax' THEN 'Tax' WHEN {ty} IN ({PURCHASE}) THEN 'Purchase' \
         WHEN {ty} IN ({CREDIT}) THEN 'Credit' WHEN {ty} = 'Refund' THEN 'Usage' ELSE 'Adjustment' END"
    );
    let commitment_id = format!(
        "CASE WHEN {ty} IN ('DiscountedUsage', 'RIFee') OR ({ty} = 'Fee' AND {ri} IS NOT NULL) THEN {ri} \
         WHEN {ty} IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee') THEN {sp} END",
        ri = s("reservation_reservation_a_r_n"),
        sp = s("savings_plan_savings_plan_a_r_n"),
    );
    let effective = format!(
        "CASE {ty} WHEN 'SavingsPlanCoveredUsage' THEN COALESCE({sp_eff}, 0) WHEN 'DiscountedUsage' THEN COALESCE({ri_eff}, 0) \
         WHEN 'SavingsPlanNegation' THEN 0 WHEN 'SavingsPlanUpfrontFee' THEN 0 WHEN 'SavingsPlanRecurringFee' THEN 0 WHEN 'RIFee' THEN 0 \
         ELSE CASE WHEN {ty} = 'Fee' AND __commitment IS NOT NULL THEN 0 ELSE {billed} END END",
        sp_eff = n("savings_plan_savings_plan_effective_cost"),
        ri_eff = n("reservation_effective_cost"),
        billed = n("line_item_unblended_cost"),
    );
    let services: Vec<String> = SERVICE_CATEGORIES
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(code, cat)| {
            format!(
                "({}, {})",
                quote_literal(code.trim()),
                quote_literal(cat.trim())
            )
        })
        .collect();
    let tags_expr = &inputs.tags;

    let lup = format!(
        "COALESCE({}, {}, 0)",
        n("pricing_public_on_demand_rate"),
        n("line_item_unblended_rate")
    );
    let qty = format!("COALESCE({}, 0)", n("line_item_usage_amount"));
    let unused_qty = format!(
        "CASE WHEN {ty} = 'RIFee' THEN COALESCE({}, 0) ELSE __unused_amount END",
        n("reservation_unused_quantity")
    );
    let mut sql = String::new();
    let _ = write!(
        sql,
        // NOT MATERIALIZED: `p` is read twice (rows and unused-commitment rows); materialised,
        // DuckDB would buffer the whole period (measured: 22% slower on 1 M rows).
        "WITH b AS NOT MATERIALIZED (SELECT *, {category} AS __cat, CASE WHEN {ty} = 'Refund' THEN 'Correction' END AS __class, \
         {commitment_id} AS __commitment FROM finops_period), \
         p AS NOT MATERIALIZED (SELECT *, (__cat IN ('Usage', 'Purchase') AND __class IS NULL) AS __priced, FALSE AS __unused, \
           CASE {ty} WHEN 'RIFee' THEN COALESCE({ri_unused_upfront}, 0) + COALESCE({ri_unused_recurring}, 0) \
                WHEN 'SavingsPlanRecurringFee' THEN COALESCE({sp_total}, 0) - COALESCE({sp_used}, 0) ELSE 0 END AS __unused_amount FROM b), \
         __units AS (SELECT __raw, {unit_norm} AS __norm FROM (SELECT DISTINCT {pricing_unit} AS __raw FROM finops_period)), \
         pu AS (SELECT * FROM p UNION ALL BY NAME \
           SELECT * REPLACE ('Usage' AS __cat, TRUE AS __unused) FROM p WHERE __unused_amount > 0), \
         q AS (SELECT *, \
           CASE WHEN __unused THEN 0 WHEN __priced THEN {lup} END AS __lup, \
           CASE WHEN __unused THEN {unused_qty} WHEN {ty} = 'SavingsPlanNegation' THEN -({qty}) WHEN __priced THEN {qty} END AS __qty, \
           CAST(CASE WHEN __unused THEN 0 ELSE {billed} END AS DECIMAL(38, 18)) AS __billed, \
           CAST(CASE WHEN __unused THEN __unused_amount ELSE {effective} END AS DECIMAL(38, 18)) AS __effective, \
           CAST(CASE WHEN __unused THEN 0 WHEN {ty} = 'SavingsPlanNegation' THEN -({public_cost}) ELSE {public_cost} END AS DECIMAL(38, 18)) AS __list_source, \
           CASE WHEN __commitment IS NULL THEN NULL WHEN {ty} IN ('DiscountedUsage', 'RIFee', 'Fee') THEN 'Usage' ELSE 'Spend' END AS __commitment_category, \
           COALESCE({currency}, 'USD') AS __currency, \
           COALESCE({product_name}, {product_code}) AS __service, \
           COALESCE({region_code}, {region}) AS __region, \
           __units.__norm AS __unit \
           FROM pu LEFT JOIN __units ON __units.__raw = {pricing_unit}), \
         svc(code, category) AS (VALUES {services}) \
         SELECT \
           COALESCE({issuer}, 'Amazon Web Services, Inc.') AS ProviderName, \
           COALESCE({legal}, {issuer}, 'Amazon Web Services, Inc.') AS PublisherName, \
           COALESCE({legal}, {issuer}, 'Amazon Web Services, Inc.') AS ServiceProviderName, \
           CASE WHEN __cat = 'Tax' THEN 'Not Applicable' ELSE 'Amazon Web Services' END AS HostProviderName, \
           COALESCE({issuer}, 'Amazon Web Services, Inc.') AS InvoiceIssuerName, \
           {invoice} AS InvoiceId, \
           {payer} AS BillingAccountId, \
           COALESCE({payer_name}, {payer}) AS BillingAccountName, \
           CASE WHEN {payer} IS NOT NULL THEN 'Payer Account' END AS BillingAccountType, \
           {usage_account} AS SubAccountId, \
           CASE WHEN {usage_account} IS NOT NULL THEN COALESCE({usage_account_name}, {usage_account}) END AS SubAccountName, \
           CASE WHEN {usage_account} IS NOT NULL THEN 'Linked Account' END AS SubAccountType, \
           {bp_start} AS BillingPeriodStart, \
           {bp_end} AS BillingPeriodEnd, \
           {usage_start} AS ChargePeriodStart, \
           {usage_end} AS ChargePeriodEnd, \
           __cat AS ChargeCategory, \
           __class AS ChargeClass, \
           {description} AS ChargeDescription, \
           CASE WHEN __cat = 'Usage' THEN 'Usage-Based' WHEN {ty} IN ('RIFee', 'SavingsPlanRecurringFee') OR __cat = 'Tax' THEN 'Recurring' ELSE 'One-Time' END AS ChargeFrequency, \
           __billed AS BilledCost, \
           __effective AS EffectiveCost, \
           CASE WHEN __lup IS NOT NULL AND __qty IS NOT NULL THEN __list_source ELSE __billed END AS ListCost, \
           CASE WHEN __lup IS NOT NULL AND __qty IS NOT NULL THEN NULL ELSE __billed END AS ContractedCost, \
           __lup AS ListUnitPrice, \
           __lup AS ContractedUnitPrice, \
           CASE WHEN NOT __priced THEN NULL WHEN __unused OR {ty} IN ('DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') THEN 'Committed' \
                WHEN {usage_type} LIKE '%SpotUsage%' THEN 'Dynamic' ELSE 'Standard' END AS PricingCategory, \
           __qty AS PricingQuantity, \
           CASE WHEN __qty IS NOT NULL THEN COALESCE(__unit, 'Units') END AS PricingUnit, \
           COALESCE({pricing_currency}, __currency) AS PricingCurrency, \
           __lup AS PricingCurrencyContractedUnitPrice, \
           __effective AS PricingCurrencyEffectiveCost, \
           __lup AS PricingCurrencyListUnitPrice, \
           __currency AS BillingCurrency, \
           CASE WHEN __cat = 'Usage' AND __class IS NULL AND NOT __unused THEN __qty END AS ConsumedQuantity, \
           CASE WHEN __cat = 'Usage' AND __class IS NULL AND NOT __unused AND __qty IS NOT NULL THEN COALESCE(__unit, 'Units') END AS ConsumedUnit, \
           __service AS ServiceName, \
           COALESCE(svc.category, 'Other') AS ServiceCategory, \
           'Other (' || COALESCE(svc.category, 'Other') || ')' AS ServiceSubcategory, \
           CASE WHEN __priced THEN COALESCE({sku}, {usage_type}, {product_code}) END AS SkuId, \
           CASE WHEN __priced THEN COALESCE({usage_type}, {product_code}) END AS SkuMeter, \
           CASE WHEN __priced THEN COALESCE({rate_code}, {rate_id}, {sku}, {usage_type}, {product_code}) END AS SkuPriceId, \
           CASE WHEN __priced THEN CASE WHEN {term} IS NULL THEN '{{}}' ELSE '{{\"x_PricingTerm\":' || CAST(to_json({term}) AS VARCHAR) || '}}' END END AS SkuPriceDetails, \
           COALESCE({resource}, CASE WHEN __unused OR __cat = 'Purchase' THEN __commitment END) AS ResourceId, \
           CAST(NULL AS VARCHAR) AS ResourceName, \
           CASE WHEN {resource} IS NOT NULL THEN COALESCE({family}, 'Resource') \
                WHEN __unused OR (__cat = 'Purchase' AND __commitment IS NOT NULL) THEN CASE __commitment_category WHEN 'Usage' THEN 'Reserved Instance' ELSE 'Savings Plan' END END AS ResourceType, \
           __region AS RegionId, \
           CASE WHEN __region IS NOT NULL THEN COALESCE({location}, __region) END AS RegionName, \
           {az} AS AvailabilityZone, \
           __commitment AS CommitmentDiscountId, \
           regexp_extract(__commitment, '[^/:]+$') AS CommitmentDiscountName, \
           __commitment_category AS CommitmentDiscountCategory, \
           CASE __commitment_category WHEN 'Usage' THEN 'Reserved Instance' WHEN 'Spend' THEN 'Savings Plan' END AS CommitmentDiscountType, \
           CASE WHEN __unused THEN 'Unused' WHEN __commitment IS NOT NULL AND __cat = 'Usage' THEN 'Used' END AS CommitmentDiscountStatus, \
           CASE WHEN __commitment IS NULL OR __cat NOT IN ('Usage', 'Purchase') THEN NULL \
                WHEN __commitment_category = 'Usage' THEN __qty ELSE __effective END AS CommitmentDiscountQuantity, \
           CASE WHEN __commitment IS NULL OR __cat NOT IN ('Usage', 'Purchase') THEN NULL \
                WHEN __commitment_category = 'Usage' THEN COALESCE(__unit, 'Units') ELSE __currency END AS CommitmentDiscountUnit, \
           CAST(NULL AS VARCHAR) AS ContractApplied, \
           CAST(NULL AS VARCHAR) AS CapacityReservationId, \
           CAST(NULL AS VARCHAR) AS CapacityReservationStatus, \
           CAST(NULL AS VARCHAR) AS AllocatedMethodId, \
           CAST(NULL AS VARCHAR) AS AllocatedMethodDetails, \
           CAST(NULL AS VARCHAR) AS AllocatedResourceId, \
           CAST(NULL AS VARCHAR) AS AllocatedResourceName, \
           CAST(NULL AS VARCHAR) AS AllocatedTags, \
           {tags_expr} AS Tags, \
           CASE WHEN __unused THEN {ty} || '/Unused' ELSE {ty} END AS x_LineItemType, \
           {usage_type} AS x_UsageType, \
           {operation} AS x_Operation, \
           {product_code} AS x_ServiceCode \
         FROM q LEFT JOIN svc ON svc.code = {product_code}",
        public_cost = n("pricing_public_on_demand_cost"),
        billed = n("line_item_unblended_cost"),
        ri_unused_upfront = n("reservation_unused_amortized_upfront_fee_for_billing_period"),
        ri_unused_recurring = n("reservation_unused_recurring_fee"),
        sp_total = n("savings_plan_total_commitment_to_date"),
        sp_used = n("savings_plan_used_commitment"),
        currency = s("line_item_currency_code"),
        product_name = s("product_product_name"),
        region_code = s("product_region_code"),
        region = s("product_region"),
        services = services.join(", "),
        issuer = s("bill_invoicing_entity"),
        legal = s("line_item_legal_entity"),
        invoice = s("bill_invoice_id"),
        payer = s("bill_payer_account_id"),
        payer_name = s("bill_payer_account_name"),
        usage_account = s("line_item_usage_account_id"),
        usage_account_name = s("line_item_usage_account_name"),
        bp_start = t("bill_billing_period_start_date"),
        bp_end = t("bill_billing_period_end_date"),
        usage_start = t("line_item_usage_start_date"),
        usage_end = t("line_item_usage_end_date"),
        description = s("line_item_line_item_description"),
        usage_type = s("line_item_usage_type"),
        // Units are normalised once per distinct value, not per row (ten regexes each).
        unit_norm = focus_unit("__raw"),
        pricing_unit = s("pricing_unit"),
        pricing_currency = s("pricing_currency"),
        sku = s("product_sku"),
        rate_code = s("pricing_rate_code"),
        rate_id = s("pricing_rate_id"),
        term = s("pricing_term"),
        resource = s("line_item_resource_id"),
        family = s("product_product_family"),
        location = s("product_location"),
        az = s("line_item_availability_zone"),
        operation = s("line_item_operation"),
    );
    sql
}

/// The `SELECT` bringing an AWS FOCUS export (FOCUS 1.0 with AWS columns; `columns` are its
/// raw table's) up to `focus.cost_and_usage`: the generic upgrade, plus what AWS's own FOCUS
/// rows and finops' CUR mapping agree on, so that rows of both kinds read the same:
/// `ProviderName` is the invoice issuer (AWS writes `AWS`, which the validator's
/// BilledCost-C-005-C reads as a third-party charge), the host is `Amazon Web Services`
/// (`Not Applicable` for tax), accounts are payer and linked accounts, units are in FOCUS
/// unit format as for CUR, and `SkuMeter` is the usage type.
pub fn focus_upgrade(columns: &[(String, String)]) -> String {
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
        ("PricingUnit", focus_unit("\"PricingUnit\"")),
        ("ConsumedUnit", focus_unit("\"ConsumedUnit\"")),
    ];
    if has("x_UsageType") && !has("SkuMeter") {
        overrides.push((
            "SkuMeter",
            "CASE WHEN \"SkuId\" IS NOT NULL THEN COALESCE(\"x_UsageType\", \"SkuId\") END"
                .to_owned(),
        ));
    }
    finops_core::focus::upgrade::upgrade_select(columns, &overrides)
}

/// AWS pricing units in FOCUS unit format: abbreviated time units spelled out and plural
/// (`Hrs` → `Hours`, `GB-Mo` → `GB-Months`, `Obj-Month` → `Obj-Months`, `GB-Second` →
/// `GB-Seconds`), a service prefix dropped (`Lambda-GB-Second` → `GB-Seconds`); other units
/// unchanged.
fn focus_unit(unit: &str) -> String {
    let mut e = unit.to_owned();
    for (pattern, replacement) in [
        ("^Lambda-", ""),
        ("^hours$", "Hours"),
        ("^Hrs$", "Hours"),
        ("-Hrs$", "-Hours"),
        ("-Hour$", "-Hours"),
        ("-Mo$", "-Months"),
        ("-Month$", "-Months"),
        ("-Second$", "-Seconds"),
        ("-Sec$", "-Seconds"),
        ("-Day$", "-Days"),
    ] {
        e = format!(
            "regexp_replace({e}, {}, {})",
            quote_literal(pattern),
            quote_literal(replacement)
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_columns_become_typed_nulls() {
        let present: BTreeSet<String> = ["line_item_line_item_type".to_owned()].into();
        let sql = focus_select(&Inputs::cur1(present, &[]));
        assert!(sql.contains("CAST(NULL AS DECIMAL(38, 18))"));
        assert!(sql.contains("CAST(\"line_item_line_item_type\" AS VARCHAR)"));
        assert!(!sql.contains("\"line_item_unblended_cost\""));
        assert!(
            sql.contains("('AmazonEC2', 'Compute')"),
            "service categories are inlined"
        );
    }

    /// A noisy rate (stored rounded to 18 decimals) times a billion units: the FOCUS unit price
    /// is rounded half to even to 10 decimals, ListCost is its product with the quantity,
    /// exactly, and BilledCost is the delivered cost, untouched.
    #[test]
    fn noisy_rates_and_huge_quantities_give_exact_products() {
        let conn = finops_core::duckdb::Connection::open_in_memory().unwrap();
        let d = |v: &str| format!("CAST('{v}' AS DECIMAL(38, 18))");
        conn.execute_batch(&format!(
            "CREATE TABLE finops_period AS SELECT 'Usage' AS line_item_line_item_type, 'AmazonS3' AS line_item_product_code, \
             {} AS pricing_public_on_demand_rate, {} AS line_item_usage_amount, {} AS line_item_unblended_cost, \
             {} AS pricing_public_on_demand_cost, 'Requests' AS pricing_unit",
            d("0.000547945205479452"),
            d("1000000000"),
            d("547945.205479452054794521"),
            d("547945.205479452054794521"),
        ))
        .unwrap();
        let present: BTreeSet<String> = [
            "line_item_line_item_type",
            "line_item_product_code",
            "pricing_public_on_demand_rate",
            "line_item_usage_amount",
            "line_item_unblended_cost",
            "pricing_public_on_demand_cost",
            "pricing_unit",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        let sql = focus_select(&Inputs::cur1(present, &[]));
        let f = finops_core::focus::finish::prepare(&conn, &sql).unwrap();
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

    #[test]
    fn tag_keys_are_quoted() {
        let present: BTreeSet<String> = BTreeSet::new();
        let sql = focus_select(&Inputs::cur1(
            present,
            &[("user:it's".to_owned(), "resource_tags_user_it_s".to_owned())],
        ));
        assert!(
            sql.contains(
                "'\"user:it''s\":' || CAST(to_json(\"resource_tags_user_it_s\") AS VARCHAR)"
            ),
            "{sql}"
        );
    }
}
