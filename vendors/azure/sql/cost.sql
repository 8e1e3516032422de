-- Azure Cost Management ActualCost and AmortizedCost exports (EA and MCA) → FOCUS 1.3.
--
-- Follows the FinOps toolkit's recipe: all amortized rows, plus, from actual data, the
-- commitment purchases and refunds that amortized data leaves out (an actual export paired
-- with an amortized one of the same scope is read with `__purchases_only`); BilledCost is
-- what was invoiced (0 for usage a commitment covered), EffectiveCost the amortized cost (0
-- for the purchase itself). An actual export alone gives every row with EffectiveCost =
-- billed.
--
-- Reads the view `finops_period`: one billing period's raw rows (snake_case names of the
-- export's columns), with exactly the inputs below, each of its declared type (finops
-- builds the view; a column the delivery lacks is a typed NULL). Numbers stay at the raw
-- precision: finops' finishing step rounds prices and quantities to FOCUS's scale, half to
-- even and recorded, and derives ListCost and ContractedCost from the stored values
-- (docs/focus.md, "Types").
--
-- To run it by hand in the DuckDB CLI over an export table `t` (an EA actual export):
--   CREATE TABLE azure_pricing_units AS FROM read_csv('vendors/azure/data/PricingUnits.csv', all_varchar = true);
--   CREATE TABLE azure_regions AS FROM read_csv('vendors/azure/data/Regions.csv', all_varchar = true);
--   CREATE TABLE azure_services AS FROM read_csv('vendors/azure/data/Services.csv', all_varchar = true);
--   CREATE VIEW finops_period AS SELECT *, FALSE AS __mca, 'actual' AS __dataset, FALSE AS __purchases_only,
--     cost_in_billing_currency AS __pc_cost, NULL AS __mca_list_unit, NULL AS __mca_contracted_unit FROM t;
--   .read vendors/azure/sql/cost.sql
--
-- inputs:
--   charge_type                       VARCHAR
--   pricing_model                     VARCHAR
--   frequency                         VARCHAR
--   cost_in_billing_currency          DECIMAL(38, 18)
--   payg_cost_in_billing_currency     DECIMAL(38, 18)
--   quantity                          DECIMAL(38, 18)
--   pay_g_price                       DECIMAL(38, 18)
--   unit_price                        DECIMAL(38, 18)
--   unit_of_measure                   VARCHAR
--   billing_currency_code             VARCHAR  -- EA
--   billing_currency                  VARCHAR  -- MCA
--   pricing_currency                  VARCHAR  -- MCA
--   billing_account_id                VARCHAR  -- EA
--   billing_account_name              VARCHAR  -- EA
--   billing_profile_id                VARCHAR  -- MCA
--   billing_profile_name              VARCHAR  -- MCA
--   subscription_id                   VARCHAR
--   subscription_name                 VARCHAR
--   billing_period_start_date         TIMESTAMP
--   billing_period_end_date           TIMESTAMP
--   date                              TIMESTAMP
--   invoice_id                        VARCHAR
--   publisher_name                    VARCHAR
--   partner_name                      VARCHAR
--   product_name                      VARCHAR
--   product_id                        VARCHAR
--   part_number                       VARCHAR
--   meter_category                    VARCHAR
--   meter_id                          VARCHAR
--   meter_name                        VARCHAR
--   consumed_service                  VARCHAR
--   resource_id                       VARCHAR
--   resource_name                     VARCHAR
--   resource_location                 VARCHAR
--   resource_group                    VARCHAR
--   resource_group_name               VARCHAR
--   availability_zone                 VARCHAR
--   benefit_id                        VARCHAR
--   benefit_name                      VARCHAR
--   reservation_id                    VARCHAR
--   reservation_name                  VARCHAR
--   tags                              VARCHAR
--   __mca                             BOOLEAN          -- computed: an MCA export (BillingCurrency without BillingCurrencyCode)
--   __dataset                         VARCHAR          -- computed: 'actual' or 'amortized'
--   __purchases_only                  BOOLEAN          -- computed: only commitment purchases and refunds
--   __pc_cost                         DECIMAL(38, 18)  -- computed: the cost in the pricing currency (MCA), else in the billing currency
--   __mca_list_unit                   DECIMAL(38, 26)  -- computed (MCA): PayGPrice × ExchangeRatePricingToBilling, each first rounded half to even to 13 decimals
--   __mca_contracted_unit             DECIMAL(38, 26)  -- computed (MCA): UnitPrice × ExchangeRatePricingToBilling, the same way
-- lookups:
--   azure_pricing_units  data/PricingUnits.csv  -- unit of measure → block size, FOCUS unit (FinOps toolkit, MIT)
--   azure_regions        data/Regions.csv       -- location as written → region id, name
--   azure_services       data/Services.csv      -- resource type or consumed service → service, category, subcategory

WITH b AS NOT MATERIALIZED (
  SELECT *,
    charge_type AS __ct,
    CASE
      WHEN charge_type IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') THEN 'Usage'
      WHEN charge_type IN ('Purchase', 'Refund') THEN 'Purchase'
      WHEN charge_type IN ('Credit', 'Tax') THEN charge_type
      ELSE 'Adjustment'
    END AS __cat,
    CASE WHEN charge_type = 'Refund' THEN 'Correction' END AS __class,
    (charge_type IN ('Purchase', 'Refund') AND pricing_model IN ('Reservation', 'SavingsPlan')) AS __purchase,
    CASE
      WHEN __dataset = 'amortized'
        AND ((charge_type = 'Usage' AND pricing_model IN ('Reservation', 'SavingsPlan'))
          OR charge_type IN ('UnusedReservation', 'UnusedSavingsPlan')) THEN 0
      ELSE cost_in_billing_currency
    END AS __billed,
    CASE
      WHEN __dataset <> 'amortized' AND (charge_type IN ('Purchase', 'Refund') AND pricing_model IN ('Reservation', 'SavingsPlan')) THEN 0
      ELSE cost_in_billing_currency
    END AS __effective,
    -- MCA prices in one currency and bills in another; EA bills in the pricing currency.
    CASE
      WHEN __dataset <> 'amortized' AND (charge_type IN ('Purchase', 'Refund') AND pricing_model IN ('Reservation', 'SavingsPlan')) THEN 0
      ELSE __pc_cost
    END AS __pc_effective,
    quantity AS __qty,
    -- In the billing currency: MCA prices (PayGPrice, UnitPrice) are in the pricing currency,
    -- so they are multiplied by the exchange rate (each factor rounded to 13 decimals so that
    -- the product keeps 12 digits before the point).
    CASE WHEN __mca THEN __mca_list_unit ELSE pay_g_price END AS __list_unit,
    CASE WHEN __mca THEN __mca_contracted_unit ELSE unit_price END AS __contracted_unit,
    COALESCE(NULLIF(benefit_id, ''), NULLIF(reservation_id, '')) AS __benefit,
    lower(trim(unit_of_measure)) AS __uom,
    lower(replace(resource_location, ' ', '')) AS __loc,
    lower(regexp_extract(resource_id, '/providers/([^/]+/[^/]+)', 1)) AS __rtype,
    lower(consumed_service) AS __svc,
    COALESCE(CASE WHEN __mca THEN billing_currency ELSE billing_currency_code END, 'USD') AS __currency
  FROM finops_period
  WHERE NOT __purchases_only OR (charge_type IN ('Purchase', 'Refund') AND pricing_model IN ('Reservation', 'SavingsPlan'))
),
-- The lookup tables, one row per key: the file's first row for a key wins.
units AS (
  SELECT lower(trim(UnitOfMeasure)) AS k, first(PricingBlockSize ORDER BY rowid) AS block, first(DistinctUnits ORDER BY rowid) AS unit
  FROM azure_pricing_units GROUP BY k
),
regions AS (
  SELECT lower(replace(OriginalValue, ' ', '')) AS k, first(RegionId ORDER BY rowid) AS id, first(RegionName ORDER BY rowid) AS name
  FROM azure_regions GROUP BY k
),
by_type AS (
  SELECT lower(ResourceType) AS k, first(ServiceName ORDER BY rowid) AS name, first(ServiceCategory ORDER BY rowid) AS category,
    first(ServiceSubcategory ORDER BY rowid) AS subcategory
  FROM azure_services WHERE ResourceType IS NOT NULL GROUP BY k
),
by_svc AS (
  SELECT lower(ConsumedService) AS k, first(ServiceName ORDER BY rowid) AS name, first(ServiceCategory ORDER BY rowid) AS category,
    first(ServiceSubcategory ORDER BY rowid) AS subcategory
  FROM azure_services WHERE ConsumedService IS NOT NULL GROUP BY k
)
SELECT
  'Microsoft' AS ProviderName,
  COALESCE(NULLIF(publisher_name, ''), 'Microsoft') AS PublisherName,
  COALESCE(NULLIF(publisher_name, ''), 'Microsoft') AS ServiceProviderName,
  'Microsoft' AS HostProviderName,
  COALESCE(NULLIF(partner_name, ''), 'Microsoft') AS InvoiceIssuerName,
  invoice_id AS InvoiceId,
  CASE WHEN __mca THEN billing_profile_id ELSE billing_account_id END AS BillingAccountId,
  CASE WHEN __mca THEN billing_profile_name ELSE billing_account_name END AS BillingAccountName,
  CASE WHEN (CASE WHEN __mca THEN billing_profile_id ELSE billing_account_id END) IS NOT NULL
    THEN CASE WHEN __mca THEN 'Billing Profile' ELSE 'Billing Account' END END AS BillingAccountType,
  subscription_id AS SubAccountId,
  subscription_name AS SubAccountName,
  CASE WHEN subscription_id IS NOT NULL THEN 'Subscription' END AS SubAccountType,
  billing_period_start_date AS BillingPeriodStart,
  billing_period_end_date + INTERVAL 1 DAY AS BillingPeriodEnd,
  date AS ChargePeriodStart,
  date + INTERVAL 1 DAY AS ChargePeriodEnd,
  __cat AS ChargeCategory,
  __class AS ChargeClass,
  product_name AS ChargeDescription,
  CASE frequency
    WHEN 'OneTime' THEN 'One-Time'
    WHEN 'Recurring' THEN 'Recurring'
    WHEN 'UsageBased' THEN 'Usage-Based'
    ELSE CASE WHEN __cat = 'Usage' THEN 'Usage-Based' ELSE 'One-Time' END
  END AS ChargeFrequency,
  __billed AS BilledCost,
  __effective AS EffectiveCost,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL AND __qty IS NOT NULL AND __list_unit IS NOT NULL
    THEN CASE WHEN __mca THEN payg_cost_in_billing_currency END ELSE __billed END AS ListCost,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL AND __qty IS NOT NULL AND __contracted_unit IS NOT NULL
    THEN NULL ELSE __billed END AS ContractedCost,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN __list_unit END AS ListUnitPrice,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN __contracted_unit END AS ContractedUnitPrice,
  CASE
    WHEN __cat NOT IN ('Usage', 'Purchase') OR __class IS NOT NULL THEN NULL
    WHEN pricing_model IN ('Reservation', 'SavingsPlan') THEN 'Committed'
    WHEN pricing_model = 'Spot' THEN 'Dynamic'
    ELSE 'Standard'
  END AS PricingCategory,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN __qty END AS PricingQuantity,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL AND __qty IS NOT NULL THEN
    CASE WHEN COALESCE(units.block, '1') = '1' THEN COALESCE(units.unit, 'Units') ELSE units.block || ' ' || units.unit END
  END AS PricingUnit,
  COALESCE(CASE WHEN __mca THEN pricing_currency END, __currency) AS PricingCurrency,
  __pc_effective AS PricingCurrencyEffectiveCost,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN pay_g_price END AS PricingCurrencyListUnitPrice,
  CASE WHEN __cat IN ('Usage', 'Purchase') AND __class IS NULL THEN unit_price END AS PricingCurrencyContractedUnitPrice,
  __currency AS BillingCurrency,
  CASE WHEN __cat = 'Usage' AND __class IS NULL AND __ct = 'Usage' AND __qty IS NOT NULL
    THEN __qty * CAST(COALESCE(units.block, '1') AS DECIMAL(38, 0)) END AS ConsumedQuantity,
  CASE WHEN __cat = 'Usage' AND __class IS NULL AND __ct = 'Usage' AND __qty IS NOT NULL THEN COALESCE(units.unit, 'Units') END AS ConsumedUnit,
  COALESCE(by_type.name, by_svc.name, meter_category, 'Other') AS ServiceName,
  COALESCE(by_type.category, by_svc.category, 'Other') AS ServiceCategory,
  COALESCE(by_type.subcategory, by_svc.subcategory, 'Other (' || COALESCE(by_type.category, by_svc.category, 'Other') || ')') AS ServiceSubcategory,
  CASE WHEN __cat IN ('Usage', 'Purchase') THEN COALESCE(product_id, meter_id) END AS SkuId,
  CASE WHEN __cat IN ('Usage', 'Purchase') THEN meter_name END AS SkuMeter,
  CASE WHEN __cat IN ('Usage', 'Purchase') THEN COALESCE(part_number, meter_id) END AS SkuPriceId,
  NULLIF(NULLIF(resource_id, ''), 'Unassigned') AS ResourceId,
  COALESCE(NULLIF(resource_name, ''), regexp_extract(resource_id, '[^/]+$')) AS ResourceName,
  CASE WHEN __rtype <> '' THEN __rtype END AS ResourceType,
  CASE WHEN __loc <> '' THEN COALESCE(regions.id, __loc) END AS RegionId,
  CASE WHEN __loc <> '' THEN COALESCE(regions.name, resource_location) END AS RegionName,
  NULLIF(availability_zone, '') AS AvailabilityZone,
  __benefit AS CommitmentDiscountId,
  CASE WHEN __benefit IS NOT NULL
    THEN COALESCE(NULLIF(benefit_name, ''), NULLIF(reservation_name, ''), regexp_extract(__benefit, '[^/]+$')) END AS CommitmentDiscountName,
  CASE
    WHEN lower(__benefit) LIKE '%/microsoft.capacity/%' THEN 'Usage'
    WHEN lower(__benefit) LIKE '%/microsoft.billingbenefits/%' THEN 'Spend'
    WHEN __benefit IS NOT NULL THEN CASE WHEN pricing_model = 'SavingsPlan' THEN 'Spend' ELSE 'Usage' END
  END AS CommitmentDiscountCategory,
  CASE
    WHEN __benefit IS NULL THEN NULL
    WHEN lower(__benefit) LIKE '%/microsoft.billingbenefits/%' OR pricing_model = 'SavingsPlan' THEN 'Savings Plan'
    ELSE 'Reservation'
  END AS CommitmentDiscountType,
  CASE
    WHEN __benefit IS NULL OR __cat <> 'Usage' THEN NULL
    WHEN __ct IN ('UnusedReservation', 'UnusedSavingsPlan') THEN 'Unused'
    ELSE 'Used'
  END AS CommitmentDiscountStatus,
  CASE
    WHEN trim(COALESCE(tags, '')) IN ('', '{}') THEN NULL
    WHEN starts_with(trim(tags), '{') THEN trim(tags)
    ELSE '{' || trim(tags) || '}'
  END AS Tags,
  __ct AS x_ChargeType,
  pricing_model AS x_PricingModel,
  meter_category AS x_SkuMeterCategory,
  consumed_service AS x_ConsumedService,
  COALESCE(resource_group, resource_group_name) AS x_ResourceGroupName,
  unit_of_measure AS x_PricingUnitDescription,
  __dataset AS x_CostDataset
FROM b
LEFT JOIN units ON units.k = __uom
LEFT JOIN regions ON regions.k = __loc
LEFT JOIN by_type ON by_type.k = __rtype
LEFT JOIN by_svc ON by_svc.k = __svc
