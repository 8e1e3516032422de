//! Cost Management data → FOCUS.
//!
//! FocusCost exports go through core's upgrade (case-insensitive match, exact casts, the
//! 1.1–1.3 columns derived). ActualCost and AmortizedCost exports (EA and MCA) are converted
//! following the FinOps toolkit's recipe: all amortized rows, plus, from actual data, the
//! commitment purchases and refunds that amortized data leaves out; `BilledCost` is what was
//! invoiced (0 for usage a commitment covered), `EffectiveCost` the amortized cost (0 for the
//! purchase itself). An actual export alone gives every row with `EffectiveCost` = billed.

use std::collections::BTreeSet;

use finops_core::focus::mapping::{FocusSql, Mapping};
use finops_core::naming::{quote_ident, quote_literal, snake_case};
use finops_core::read::ColumnType;

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
pub fn focus_upgrade(columns: &[(String, String)]) -> FocusSql {
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
    FocusSql::select(finops_core::focus::upgrade::upgrade_select(
        columns, &overrides,
    ))
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

/// The ActualCost / AmortizedCost mapping (EA and MCA).
pub const COST: Mapping = Mapping {
    name: "vendors/azure/sql/cost.sql",
    sql: include_str!("../sql/cost.sql"),
};

/// The FOCUS mapping of an ActualCost or AmortizedCost export's raw rows, EA or MCA,
/// whichever columns are present: `sql/cost.sql`, with the inputs only the delivery's
/// columns tell (MCA or EA, the dataset, the pricing-currency cost, MCA's list price in the
/// billing currency) and the FinOps toolkit's lookup tables (MIT; see `data/README.md`).
pub fn cost_to_focus(inputs: &Inputs) -> FocusSql {
    let has = |c: &str| inputs.present.contains(&snake_case(c));
    let col = |c: &str| {
        if has(c) {
            quote_ident(&snake_case(c))
        } else {
            "CAST(NULL AS DECIMAL(38, 18))".to_owned()
        }
    };
    let mca = has("BillingCurrency") && !has("BillingCurrencyCode");
    let mut focus = FocusSql::mapping(COST)
        .lookup(
            "azure_pricing_units",
            include_str!("../data/PricingUnits.csv"),
        )
        .lookup("azure_regions", include_str!("../data/Regions.csv"))
        .lookup("azure_services", include_str!("../data/Services.csv"))
        .compute("__mca", if mca { "TRUE" } else { "FALSE" })
        .compute("__dataset", quote_literal(inputs.dataset.as_str()))
        .compute(
            "__purchases_only",
            if inputs.purchases_only {
                "TRUE"
            } else {
                "FALSE"
            },
        );
    // MCA prices in one currency and bills in another; EA bills in the pricing currency.
    let pricing_cost = if mca && has("CostInPricingCurrency") {
        "CostInPricingCurrency"
    } else {
        "CostInBillingCurrency"
    };
    focus = focus.compute("__pc_cost", col(pricing_cost));
    if mca {
        // In the billing currency: PayGPrice × the exchange rate, each first rounded to 13
        // decimals so that the product keeps 12 digits before the point (their
        // DECIMAL(38, 18) product keeps two: a P30 disk at 135.17 would overflow).
        // UnitPrice (the negotiated price) likewise.
        let rate = col("ExchangeRatePricingToBilling");
        focus = focus
            .compute(
                "__mca_list_unit",
                finops_core::precision::product(&col("PayGPrice"), &rate, 13),
            )
            .compute(
                "__mca_contracted_unit",
                finops_core::precision::product(&col("UnitPrice"), &rate, 13),
            );
    }
    focus
}

#[cfg(test)]
mod tests {
    use super::*;
    use finops_core::focus::mapping::check_golden;

    const DIR: &str = env!("CARGO_MANIFEST_DIR");

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

    /// The raw columns of a golden input (its header, without `case`).
    fn present(input: &str) -> BTreeSet<String> {
        let mut reader = csv::Reader::from_path(std::path::Path::new(DIR).join(input)).unwrap();
        reader
            .headers()
            .unwrap()
            .iter()
            .filter(|c| *c != "case")
            .map(|c| c.split_once("::").map_or(c, |(n, _)| n).to_owned())
            .collect()
    }

    fn golden(input: &str, expected: &str, dataset: Dataset, purchases_only: bool) {
        let focus = cost_to_focus(&Inputs {
            present: present(input),
            dataset,
            purchases_only,
        });
        check_golden(&focus, DIR, input, expected);
    }

    /// EA actual cost, one row per charge kind: on-demand, spot and reservation-covered
    /// usage, a reservation purchase and its refund, a block unit (10K), an unknown charge
    /// type, marketplace usage on an unassigned resource.
    #[test]
    fn ea_actual_golden() {
        golden(
            "tests/golden/ea_actual.csv",
            "tests/golden/ea_actual.expected",
            Dataset::Actual,
            false,
        );
    }

    /// The same actual export paired with an amortized one: only the commitment purchase and
    /// its refund.
    #[test]
    fn ea_actual_purchases_only_golden() {
        golden(
            "tests/golden/ea_actual.csv",
            "tests/golden/ea_actual_purchases.expected",
            Dataset::Actual,
            true,
        );
    }

    /// EA amortized cost: covered usage billed 0 at its amortized cost, unused reservation.
    #[test]
    fn ea_amortized_golden() {
        golden(
            "tests/golden/ea_amortized.csv",
            "tests/golden/ea_amortized.expected",
            Dataset::Amortized,
            false,
        );
    }

    /// MCA actual cost, billed in EUR and priced in USD: a P30 disk whose list price in the
    /// billing currency (PayGPrice × the exchange rate) is over 100 (the DECIMAL(38, 18)
    /// product kept two digits before the point and failed) and whose ListCost keeps its 20
    /// decimals; usage a savings plan covered; tax through a partner.
    #[test]
    fn mca_actual_golden() {
        golden(
            "tests/golden/mca_actual.csv",
            "tests/golden/mca_actual.expected",
            Dataset::Actual,
            false,
        );
    }

    /// The mapping declares every column it reads: over a table holding none of them, it
    /// prepares (an undeclared column would be a binder error).
    #[test]
    fn every_column_read_is_declared() {
        let conn = finops_core::duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE raw AS SELECT 1 AS unrelated")
            .unwrap();
        for dataset in [Dataset::Actual, Dataset::Amortized] {
            let focus = cost_to_focus(&Inputs {
                present: BTreeSet::new(),
                dataset,
                purchases_only: false,
            });
            let select = focus.install(&conn, "raw", &["unrelated".into()]).unwrap();
            finops_core::focus::finish::prepare(&conn, &select).unwrap();
        }
    }
}
