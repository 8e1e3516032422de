//! Cost Management data → FOCUS.
//!
//! FocusCost exports go through core's upgrade (case-insensitive match, exact casts, the
//! 1.1–1.3 columns derived). ActualCost and AmortizedCost exports (EA and MCA) are converted
//! following the FinOps toolkit's recipe: all amortized rows, plus, from actual data, the
//! commitment purchases and refunds that amortized data leaves out; `BilledCost` is what was
//! invoiced (0 for usage a commitment covered), `EffectiveCost` the amortized cost (0 for the
//! purchase itself). An actual export alone gives every row with `EffectiveCost` = billed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

use finops_core::load::ColumnType;
use finops_core::naming::{quote_ident, quote_literal, snake_case};

use crate::exports::Dataset;

/// Column names of EA (2024-08-01) and MCA (2023-12-01-preview) cost exports, in Microsoft's
/// spelling; a header matching one case-insensitively is read under this spelling.
const COST_COLUMNS: &[&str] = &[
    "InvoiceSectionName",
    "AccountName",
    "AccountOwnerId",
    "SubscriptionId",
    "SubscriptionName",
    "ResourceGroup",
    "ResourceLocation",
    "Date",
    "ProductName",
    "MeterCategory",
    "MeterSubCategory",
    "MeterId",
    "MeterName",
    "MeterRegion",
    "UnitOfMeasure",
    "Quantity",
    "EffectivePrice",
    "CostInBillingCurrency",
    "CostCenter",
    "ConsumedService",
    "ResourceId",
    "Tags",
    "OfferId",
    "AdditionalInfo",
    "ServiceInfo1",
    "ServiceInfo2",
    "ResourceName",
    "ReservationId",
    "ReservationName",
    "UnitPrice",
    "ProductOrderId",
    "ProductOrderName",
    "Term",
    "PublisherType",
    "PublisherName",
    "ChargeType",
    "Frequency",
    "PricingModel",
    "AvailabilityZone",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrencyCode",
    "BillingPeriodStartDate",
    "BillingPeriodEndDate",
    "BillingProfileId",
    "BillingProfileName",
    "InvoiceSectionId",
    "IsAzureCreditEligible",
    "PartNumber",
    "PayGPrice",
    "PlanName",
    "ServiceFamily",
    "CostAllocationRuleName",
    "BenefitId",
    "BenefitName",
    "InvoiceId",
    "PreviousInvoiceId",
    "ResellerName",
    "ResellerMpnId",
    "ServicePeriodEndDate",
    "ServicePeriodStartDate",
    "ProductId",
    "PublisherId",
    "ResourceGroupName",
    "Location",
    "BillingCurrency",
    "PricingCurrency",
    "CostInPricingCurrency",
    "CostInUsd",
    "PaygCostInBillingCurrency",
    "PaygCostInUsd",
    "ExchangeRatePricingToBilling",
    "ExchangeRateDate",
    "Provider",
    "PartnerTenantId",
    "PartnerName",
    "CustomerTenantId",
    "CustomerName",
];

/// Decimal columns (money, prices, quantities, rates), lower-cased.
const DECIMALS: &[&str] = &[
    "quantity",
    "effectiveprice",
    "costinbillingcurrency",
    "unitprice",
    "paygprice",
    "costinpricingcurrency",
    "costinusd",
    "paygcostinbillingcurrency",
    "paygcostinusd",
    "exchangeratepricingtobilling",
];

/// Date columns (`M/D/YYYY` in EA CSV, ISO elsewhere), lower-cased.
const DATES: &[&str] = &[
    "date",
    "billingperiodstartdate",
    "billingperiodenddate",
    "serviceperiodstartdate",
    "serviceperiodenddate",
    "exchangeratedate",
];

/// A cost-export header in its canonical spelling (unknown headers as they are).
pub fn canonical_name(header: &str) -> String {
    COST_COLUMNS
        .iter()
        .find(|c| c.eq_ignore_ascii_case(header))
        .map_or_else(|| header.to_owned(), |c| (*c).to_owned())
}

/// How a cost-export column is typed in the raw table.
pub fn cost_column_type(header: &str) -> ColumnType {
    let lower = header.to_ascii_lowercase();
    if DECIMALS.contains(&lower.as_str()) {
        ColumnType::Decimal
    } else if DATES.contains(&lower.as_str()) {
        ColumnType::LooseTimestamp
    } else {
        ColumnType::Text
    }
}

/// The `SELECT` bringing a FocusCost export up to `focus.cost_and_usage`. FocusCost 1.0 keeps
/// in `x_` columns what FOCUS 1.2 promoted (and FocusCost 1.2 has under the FOCUS name):
/// `x_SkuMeterName` → `SkuMeter`, `x_InvoiceId` → `InvoiceId`, `x_PricingCurrency` →
/// `PricingCurrency`, `x_SkuDetails` → `SkuPriceDetails`.
pub fn focus_upgrade(columns: &[(String, String)]) -> String {
    let has = |n: &str| columns.iter().any(|(c, _)| c.eq_ignore_ascii_case(n));
    let mut overrides = Vec::new();
    for (focus, x, guard) in [
        ("SkuMeter", "x_SkuMeterName", "\"SkuId\" IS NOT NULL"),
        ("InvoiceId", "x_InvoiceId", "TRUE"),
        ("PricingCurrency", "x_PricingCurrency", "TRUE"),
        (
            "SkuPriceDetails",
            "x_SkuDetails",
            "\"SkuPriceId\" IS NOT NULL",
        ),
    ] {
        if !has(focus) && has(x) {
            let value = if focus == "SkuPriceDetails" {
                format!(
                    "CASE WHEN trim(COALESCE({x}, '')) IN ('', '{{}}') THEN '{{}}' ELSE {x} END",
                    x = quote_ident(x)
                )
            } else {
                quote_ident(x)
            };
            let fallback = if focus == "PricingCurrency" {
                "\"BillingCurrency\""
            } else {
                "NULL"
            };
            overrides.push((
                focus,
                format!("CASE WHEN {guard} THEN COALESCE({value}, {fallback}) END"),
            ));
        }
    }
    finops_core::focus::upgrade::upgrade_select(columns, &overrides)
}

/// What the cost-export mapping needs to know.
pub struct Inputs {
    /// Raw columns present (snake_case).
    pub present: BTreeSet<String>,
    /// Actual or amortized.
    pub dataset: Dataset,
    /// Only commitment purchases and refunds (an actual export paired with an amortized one).
    pub purchases_only: bool,
}

/// Lookup tables from the FinOps toolkit (MIT; see `data/README.md`).
struct Lookups {
    /// Unit of measure (lower-cased, trimmed) → [block size, FOCUS unit].
    units: Table,
    /// Location as written (lower-cased, no spaces) → [region id, region name].
    regions: Table,
    /// Resource type (lower-cased) → [service, category, subcategory].
    by_type: Table,
    /// Consumed service (lower-cased) → [service, category, subcategory].
    by_service: Table,
}

/// Key → values; the first row of a key wins.
type Table = BTreeMap<String, Vec<String>>;

static LOOKUPS: LazyLock<Lookups> = LazyLock::new(|| {
    fn rows(text: &str) -> Vec<csv::StringRecord> {
        csv::ReaderBuilder::new()
            .from_reader(text.as_bytes())
            .records()
            .filter_map(std::result::Result::ok)
            .collect()
    }
    fn cells(r: &csv::StringRecord, columns: &[usize]) -> Vec<String> {
        columns.iter().map(|&c| r[c].to_owned()).collect()
    }
    let mut l = Lookups {
        units: Table::new(),
        regions: Table::new(),
        by_type: Table::new(),
        by_service: Table::new(),
    };
    for r in rows(include_str!("../data/PricingUnits.csv")) {
        l.units
            .entry(r[0].trim().to_ascii_lowercase())
            .or_insert_with(|| cells(&r, &[2, 3]));
    }
    for r in rows(include_str!("../data/Regions.csv")) {
        l.regions
            .entry(r[0].to_ascii_lowercase().replace(' ', ""))
            .or_insert_with(|| cells(&r, &[1, 2]));
    }
    for r in rows(include_str!("../data/Services.csv")) {
        for (table, key) in [(&mut l.by_type, &r[1]), (&mut l.by_service, &r[0])] {
            if !key.is_empty() {
                table
                    .entry(key.to_ascii_lowercase())
                    .or_insert_with(|| cells(&r, &[2, 3, 4]));
            }
        }
    }
    l
});

/// A lookup table as SQL `VALUES` rows: `(key, value, …), …`.
fn values(table: &Table) -> String {
    table
        .iter()
        .map(|(k, v)| {
            let row: Vec<String> = std::iter::once(k)
                .chain(v)
                .map(|c| quote_literal(c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `SELECT` producing FOCUS columns from an ActualCost or AmortizedCost export's raw rows
/// (`finops_period`), EA or MCA, whichever columns are present.
pub fn cost_to_focus(inputs: &Inputs) -> String {
    let has = |c: &str| inputs.present.contains(&snake_case(c));
    let col = |c: &str| -> String {
        let name = snake_case(c);
        if inputs.present.contains(&name) {
            quote_ident(&name)
        } else {
            "NULL".to_owned()
        }
    };
    let s = |c: &str| match col(c).as_str() {
        "NULL" => "CAST(NULL AS VARCHAR)".to_owned(),
        e => format!("CAST({e} AS VARCHAR)"),
    };
    let d = |c: &str| match col(c).as_str() {
        "NULL" => "CAST(NULL AS DECIMAL(38, 18))".to_owned(),
        e => e.to_owned(),
    };
    let t = |c: &str| match col(c).as_str() {
        "NULL" => "CAST(NULL AS TIMESTAMP)".to_owned(),
        e => format!("CAST({e} AS TIMESTAMP)"),
    };
    let mca = has("BillingCurrency") && !has("BillingCurrencyCode");
    let l = &*LOOKUPS;
    let ct = s("ChargeType");
    let pm = s("PricingModel");
    let cost = d("CostInBillingCurrency");
    let commitment = format!("{pm} IN ('Reservation', 'SavingsPlan')");
    let purchase = format!("({ct} IN ('Purchase', 'Refund') AND {commitment})");
    let (billed, effective) = match inputs.dataset {
        Dataset::Amortized => (
            format!(
                "CASE WHEN ({ct} = 'Usage' AND {commitment}) OR {ct} IN ('UnusedReservation', 'UnusedSavingsPlan') THEN 0 ELSE {cost} END"
            ),
            cost.clone(),
        ),
        Dataset::Actual | Dataset::Focus => (
            cost.clone(),
            format!("CASE WHEN {purchase} THEN 0 ELSE {cost} END"),
        ),
    };
    // MCA prices in one currency and bills in another; EA bills in the pricing currency.
    let pc_effective = if mca && has("CostInPricingCurrency") {
        effective.replace(&cost, &d("CostInPricingCurrency"))
    } else {
        effective.clone()
    };
    let filter = if inputs.purchases_only {
        format!(" WHERE {purchase}")
    } else {
        String::new()
    };
    // Numbers stay at the raw precision (DECIMAL(38, 18)); core's finishing step rounds
    // unit prices and quantities to FOCUS's scale, half to even and recorded, and derives
    // ListCost and ContractedCost from the stored values (docs/focus.md, "Types").
    let price = |c: &str| d(c);
    let qty = d("Quantity");
    let (list_unit, list_source) = if mca {
        (
            // In the billing currency: PayGPrice × the exchange rate, each first rounded to 13
            // decimals so that the product keeps 12 digits before the point (their
            // DECIMAL(38, 18) product keeps two: a P30 disk at 135.17 would overflow).
            finops_core::precision::product(
                &d("PayGPrice"),
                &d("ExchangeRatePricingToBilling"),
                13,
            ),
            // Microsoft's own list cost, to record how far it is from the product.
            d("PaygCostInBillingCurrency"),
        )
    } else {
        (
            price("PayGPrice"),
            "CAST(NULL AS DECIMAL(38, 18))".to_owned(),
        )
    };
    let resource_id = s("ResourceId");
    let location = s("ResourceLocation");
    let tags = s("Tags");
    let benefit = format!(
        "COALESCE(NULLIF({}, ''), NULLIF({}, ''))",
        s("BenefitId"),
        s("ReservationId")
    );
    let mut sql = String::new();
    let _ = write!(
        sql,
        "WITH b AS NOT MATERIALIZED (SELECT *, \
           {ct} AS __ct, \
           CASE WHEN {ct} IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') THEN 'Usage' WHEN {ct} IN ('Purchase', 'Refund') THEN 'Purchase' \
                WHEN {ct} IN ('Credit', 'Tax') THEN {ct} ELSE 'Adjustment' END AS __cat, \
           CASE WHEN {ct} = 'Refund' THEN 'Correction' END AS __class, \
           {billed} AS __billed, {effective} AS __effective, {pc_effective} AS __pc_effective, \
           {qty} AS __qty, \
           {list_unit} AS __list_unit, \
           {contracted_unit} AS __contracted_unit, \
           {benefit} AS __benefit, \
           lower(trim({uom})) AS __uom, \
           lower(replace({location}, ' ', '')) AS __loc, \
           lower(regexp_extract({resource_id}, '/providers/([^/]+/[^/]+)', 1)) AS __rtype, \
           lower({consumed}) AS __svc, \
           COALESCE({billing_currency}, 'USD') AS __currency \
           FROM finops_period{filter}), \
         units(k, block, unit) AS (VALUES {units}), \
         regions(k, id, name) AS (VALUES {regions}), \
         by_type(k, name, category, subcategory) AS (VALUES {by_type}), \
         by_svc(k, name, category, subcategory) AS (VALUES {by_service}) \
         SELECT \
           'Microsoft' AS ProviderName, \
           COALESCE(NULLIF({publisher}, ''), 'Microsoft') AS PublisherName, \
           COALESCE(NULLIF({publisher}, ''), 'Microsoft') AS ServiceProviderName, \
           'Microsoft' AS HostProviderName, \
           COALESCE(NULLIF({partner}, ''), 'Microsoft') AS InvoiceIssuerName, \
           {invoice} AS InvoiceId, \
           {account_id} AS BillingAccountId, \
           {account_name} AS BillingAccountName, \
           CASE WHEN {account_id} IS NOT NULL THEN {account_type} END AS BillingAccountType, \
           {subscription} AS SubAccountId, \
           {subscription_name} AS SubAccountName, \
           CASE WHEN {subscription} IS NOT NULL THEN 'Subscription' END AS SubAccountType, \
           {bp_start} AS BillingPeriodStart, \
           {bp_end} + INTERVAL 1 DAY AS BillingPeriodEnd, \
           {date} AS ChargePeriodStart, \
           {date} + INTERVAL 1 DAY AS ChargePeriodEnd, \
           __cat AS ChargeCategory, \
           __class AS ChargeClass, \
           {product} AS ChargeDescription, \
           CASE {frequency} WHEN 'OneTime' THEN 'One-Time' WHEN 'Recurring' THEN 'Recurring' WHEN 'UsageBased' THEN 'Usage-Based' \
                ELSE CASE WHEN __cat = 'Usage' THEN 'Usage-Based' ELSE 'One-Time' END END AS ChargeFrequency, \
           __billed AS BilledCost, \
           __effective AS EffectiveCost, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL AND __qty IS NOT NULL AND __list_unit IS NOT NULL THEN {list_source} ELSE __billed END AS ListCost, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL AND __qty IS NOT NULL AND __contracted_unit IS NOT NULL THEN NULL ELSE __billed END AS ContractedCost, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN __list_unit END AS ListUnitPrice, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN __contracted_unit END AS ContractedUnitPrice, \
           CASE WHEN __cat NOT IN ('Usage', 'Purchase') OR __class IS NOT NULL THEN NULL \
                WHEN {pm} IN ('Reservation', 'SavingsPlan') THEN 'Committed' WHEN {pm} = 'Spot' THEN 'Dynamic' ELSE 'Standard' END AS PricingCategory, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN __qty END AS PricingQuantity, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL AND __qty IS NOT NULL THEN \
                CASE WHEN COALESCE(units.block, '1') = '1' THEN COALESCE(units.unit, 'Units') ELSE units.block || ' ' || units.unit END END AS PricingUnit, \
           COALESCE({pricing_currency}, __currency) AS PricingCurrency, \
           __pc_effective AS PricingCurrencyEffectiveCost, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN {pc_list_unit} END AS PricingCurrencyListUnitPrice, \
           CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN __contracted_unit END AS PricingCurrencyContractedUnitPrice, \
           __currency AS BillingCurrency, \
           CASE WHEN __cat = 'Usage' AND __class IS NULL AND __ct = 'Usage' AND __qty IS NOT NULL THEN __qty * CAST(COALESCE(units.block, '1') AS DECIMAL(38, 0)) END AS ConsumedQuantity, \
           CASE WHEN __cat = 'Usage' AND __class IS NULL AND __ct = 'Usage' AND __qty IS NOT NULL THEN COALESCE(units.unit, 'Units') END AS ConsumedUnit, \
           COALESCE(by_type.name, by_svc.name, {meter_category}, 'Other') AS ServiceName, \
           COALESCE(by_type.category, by_svc.category, 'Other') AS ServiceCategory, \
           COALESCE(by_type.subcategory, by_svc.subcategory, 'Other (' || COALESCE(by_type.category, by_svc.category, 'Other') || ')') AS ServiceSubcategory, \
           CASE WHEN __cat IN ('Usage', 'Purchase') THEN COALESCE({product_id}, {meter_id}) END AS SkuId, \
           CASE WHEN __cat IN ('Usage', 'Purchase') THEN {meter_name} END AS SkuMeter, \
           CASE WHEN __cat IN ('Usage', 'Purchase') THEN COALESCE({part_number}, {meter_id}) END AS SkuPriceId, \
           NULLIF(NULLIF({resource_id}, ''), 'Unassigned') AS ResourceId, \
           COALESCE(NULLIF({resource_name}, ''), regexp_extract({resource_id}, '[^/]+$')) AS ResourceName, \
           CASE WHEN __rtype <> '' THEN __rtype END AS ResourceType, \
           CASE WHEN __loc <> '' THEN COALESCE(regions.id, __loc) END AS RegionId, \
           CASE WHEN __loc <> '' THEN COALESCE(regions.name, {location}) END AS RegionName, \
           NULLIF({zone}, '') AS AvailabilityZone, \
           __benefit AS CommitmentDiscountId, \
           CASE WHEN __benefit IS NOT NULL THEN COALESCE(NULLIF({benefit_name}, ''), NULLIF({reservation_name}, ''), regexp_extract(__benefit, '[^/]+$')) END AS CommitmentDiscountName, \
           CASE WHEN lower(__benefit) LIKE '%/microsoft.capacity/%' THEN 'Usage' WHEN lower(__benefit) LIKE '%/microsoft.billingbenefits/%' THEN 'Spend' \
                WHEN __benefit IS NOT NULL THEN CASE WHEN {pm} = 'SavingsPlan' THEN 'Spend' ELSE 'Usage' END END AS CommitmentDiscountCategory, \
           CASE WHEN __benefit IS NULL THEN NULL WHEN lower(__benefit) LIKE '%/microsoft.billingbenefits/%' OR {pm} = 'SavingsPlan' THEN 'Savings Plan' ELSE 'Reservation' END AS CommitmentDiscountType, \
           CASE WHEN __benefit IS NULL OR __cat <> 'Usage' THEN NULL WHEN __ct IN ('UnusedReservation', 'UnusedSavingsPlan') THEN 'Unused' ELSE 'Used' END AS CommitmentDiscountStatus, \
           CASE WHEN trim(COALESCE({tags}, '')) IN ('', '{{}}') THEN NULL WHEN starts_with(trim({tags}), '{{') THEN trim({tags}) ELSE '{{' || trim({tags}) || '}}' END AS Tags, \
           __ct AS x_ChargeType, \
           {pm} AS x_PricingModel, \
           {meter_category} AS x_SkuMeterCategory, \
           {consumed} AS x_ConsumedService, \
           COALESCE({resource_group}, {resource_group_name}) AS x_ResourceGroupName, \
           {uom} AS x_PricingUnitDescription, \
           {dataset} AS x_CostDataset \
         FROM b \
         LEFT JOIN units ON units.k = __uom \
         LEFT JOIN regions ON regions.k = __loc \
         LEFT JOIN by_type ON by_type.k = __rtype \
         LEFT JOIN by_svc ON by_svc.k = __svc",
        contracted_unit = price("UnitPrice"),
        pc_list_unit = price("PayGPrice"),
        uom = s("UnitOfMeasure"),
        consumed = s("ConsumedService"),
        billing_currency = if mca {
            s("BillingCurrency")
        } else {
            s("BillingCurrencyCode")
        },
        pricing_currency = if mca {
            s("PricingCurrency")
        } else {
            "CAST(NULL AS VARCHAR)".to_owned()
        },
        units = values(&l.units),
        regions = values(&l.regions),
        by_type = values(&l.by_type),
        by_service = values(&l.by_service),
        publisher = s("PublisherName"),
        partner = s("PartnerName"),
        invoice = s("InvoiceId"),
        account_id = if mca {
            s("BillingProfileId")
        } else {
            s("BillingAccountId")
        },
        account_name = if mca {
            s("BillingProfileName")
        } else {
            s("BillingAccountName")
        },
        account_type = if mca {
            "'Billing Profile'"
        } else {
            "'Billing Account'"
        },
        subscription = s("SubscriptionId"),
        subscription_name = s("SubscriptionName"),
        bp_start = t("BillingPeriodStartDate"),
        bp_end = t("BillingPeriodEndDate"),
        date = t("Date"),
        product = s("ProductName"),
        frequency = s("Frequency"),
        meter_category = s("MeterCategory"),
        product_id = s("ProductId"),
        meter_id = s("MeterId"),
        meter_name = s("MeterName"),
        part_number = s("PartNumber"),
        resource_name = s("ResourceName"),
        zone = s("AvailabilityZone"),
        benefit_name = s("BenefitName"),
        reservation_name = s("ReservationName"),
        resource_group = s("ResourceGroup"),
        resource_group_name = s("ResourceGroupName"),
        dataset = quote_literal(inputs.dataset.as_str()),
    );
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_and_types() {
        assert_eq!(
            canonical_name("costInBillingCurrency"),
            "CostInBillingCurrency"
        );
        assert_eq!(canonical_name("COSTINUSD"), "CostInUsd");
        assert_eq!(canonical_name("x_Custom"), "x_Custom");
        assert_eq!(snake_case(&canonical_name("paygprice")), "pay_g_price");
        assert_eq!(
            cost_column_type("costInBillingCurrency"),
            ColumnType::Decimal
        );
        assert_eq!(cost_column_type("Date"), ColumnType::LooseTimestamp);
        assert_eq!(cost_column_type("Tags"), ColumnType::Text);
    }

    /// An MCA row billed in EUR for a P30 disk priced in USD: PayGPrice × the exchange rate
    /// is over 100 (the DECIMAL(38, 18) product kept two digits before the point and failed),
    /// and ListCost keeps its 20 decimals (a CASE with a DECIMAL(38, 18) branch cut it to 18).
    #[test]
    fn mca_list_prices_over_100_do_not_overflow_and_keep_their_scale() {
        let conn = finops_core::duckdb::Connection::open_in_memory().unwrap();
        let d = |v: &str| format!("CAST('{v}' AS DECIMAL(38, 18))");
        conn.execute_batch(&format!(
            "CREATE TABLE finops_period AS SELECT 'Usage' AS charge_type, 'OnDemand' AS pricing_model, \
             {} AS cost_in_billing_currency, {} AS cost_in_pricing_currency, 'EUR' AS billing_currency, \
             'USD' AS pricing_currency, {} AS pay_g_price, {} AS unit_price, {} AS exchange_rate_pricing_to_billing, \
             {} AS quantity, {} AS payg_cost_in_billing_currency, TIMESTAMP '2024-01-05' AS date, '1/Month' AS unit_of_measure",
            d("94403.941213976723597698"),
            d("100584.45629421447"),
            d("135.17"),
            d("135.17"),
            d("0.938565998821447470"),
            d("744.1234567891"),
            d("94403.941213976723597698"),
        ))
        .unwrap();
        let present: BTreeSet<String> = [
            "charge_type",
            "pricing_model",
            "cost_in_billing_currency",
            "cost_in_pricing_currency",
            "billing_currency",
            "pricing_currency",
            "pay_g_price",
            "unit_price",
            "exchange_rate_pricing_to_billing",
            "quantity",
            "payg_cost_in_billing_currency",
            "date",
            "unit_of_measure",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        let sql = cost_to_focus(&Inputs {
            present,
            dataset: Dataset::Actual,
            purchases_only: false,
        });
        let f = finops_core::focus::finish::prepare(&conn, &sql).unwrap();
        let row: (String, String, String, String, String) = conn
            .query_row(
                &format!(
                    "SELECT CAST(ListUnitPrice AS VARCHAR), CAST(PricingQuantity AS VARCHAR), CAST(ListCost AS VARCHAR), \
                     CAST(BilledCost AS VARCHAR), CAST(PricingCurrencyListUnitPrice AS VARCHAR) FROM ({})",
                    f.sql
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "126.8659660607".into(),
                "744.1234567891".into(),
                "94403.94121397672359769837".into(),
                "94403.94121397672359769800".into(),
                "135.1700000000".into(),
            )
        );
    }

    #[test]
    fn lookups_load() {
        let l = &*LOOKUPS;
        assert_eq!(
            l.units.get("10k"),
            Some(&vec!["10000".to_owned(), "Units".to_owned()])
        );
        assert_eq!(
            l.regions.get("centralus").map(|v| v[0].as_str()),
            Some("centralus")
        );
        assert!(l.by_service.contains_key("microsoft.compute"));
    }
}
