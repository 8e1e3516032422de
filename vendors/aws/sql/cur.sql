-- AWS Cost and Usage Report (legacy CUR and CUR 2.0) → FOCUS 1.3.
--
-- Reads the view `finops_period`: one billing period's raw rows, with exactly the inputs
-- below, each of its declared type (finops builds the view; a column the delivery lacks is
-- a typed NULL). Writes numbers at the precision it reads them: finops' finishing step
-- rounds prices and quantities to FOCUS's scale, half to even and recorded, and derives
-- ListCost and ContractedCost from the stored values (docs/focus.md, "Types"). The mapping,
-- column by column, with reasons: docs/focus.md.
--
-- To run it by hand in the DuckDB CLI over a CUR table `t` (raw names, snake_case):
--   CREATE TABLE aws_service_categories AS FROM read_csv('vendors/aws/data/service_categories.csv', all_varchar = true);
--   CREATE VIEW finops_period AS SELECT *, NULL AS finops_tags FROM t;
--   .read vendors/aws/sql/cur.sql
--
-- inputs:
--   line_item_line_item_type                                     VARCHAR
--   line_item_product_code                                       VARCHAR
--   line_item_line_item_description                              VARCHAR
--   line_item_usage_type                                         VARCHAR
--   line_item_operation                                          VARCHAR
--   line_item_resource_id                                        VARCHAR
--   line_item_availability_zone                                  VARCHAR
--   line_item_currency_code                                      VARCHAR
--   line_item_legal_entity                                       VARCHAR
--   line_item_usage_account_id                                   VARCHAR
--   line_item_usage_account_name                                 VARCHAR
--   line_item_usage_start_date                                   TIMESTAMP
--   line_item_usage_end_date                                     TIMESTAMP
--   line_item_usage_amount                                       DECIMAL(38, 18)
--   line_item_unblended_rate                                     DECIMAL(38, 18)
--   line_item_unblended_cost                                     DECIMAL(38, 18)
--   bill_invoicing_entity                                        VARCHAR
--   bill_invoice_id                                              VARCHAR
--   bill_payer_account_id                                        VARCHAR
--   bill_payer_account_name                                      VARCHAR
--   bill_billing_period_start_date                               TIMESTAMP
--   bill_billing_period_end_date                                 TIMESTAMP
--   pricing_public_on_demand_rate                                DECIMAL(38, 18)
--   pricing_public_on_demand_cost                                DECIMAL(38, 18)
--   pricing_unit                                                 VARCHAR
--   pricing_currency                                             VARCHAR
--   pricing_rate_code                                            VARCHAR
--   pricing_rate_id                                              VARCHAR
--   pricing_term                                                 VARCHAR
--   product_product_name                                         VARCHAR  -- CUR 2.0: product['product_name']
--   product_region                                               VARCHAR  -- CUR 2.0: product['region']
--   product_region_code                                          VARCHAR
--   product_location                                             VARCHAR
--   product_sku                                                  VARCHAR
--   product_product_family                                       VARCHAR
--   reservation_reservation_a_r_n                                VARCHAR
--   reservation_effective_cost                                   DECIMAL(38, 18)
--   reservation_unused_quantity                                  DECIMAL(38, 18)
--   reservation_unused_amortized_upfront_fee_for_billing_period  DECIMAL(38, 18)
--   reservation_unused_recurring_fee                             DECIMAL(38, 18)
--   savings_plan_savings_plan_a_r_n                              VARCHAR
--   savings_plan_savings_plan_effective_cost                     DECIMAL(38, 18)
--   savings_plan_total_commitment_to_date                        DECIMAL(38, 18)
--   savings_plan_used_commitment                                 DECIMAL(38, 18)
--   finops_tags                                                  VARCHAR  -- computed: the tags as a JSON object
-- lookups:
--   aws_service_categories  data/service_categories.csv  -- product code → FOCUS ServiceCategory (FinOps Foundation, MIT)

-- AWS pricing units in FOCUS unit format: abbreviated time units spelled out and plural
-- (Hrs → Hours, GB-Mo → GB-Months, Obj-Month → Obj-Months, GB-Second → GB-Seconds), a
-- service prefix dropped (Lambda-GB-Second → GB-Seconds); other units unchanged.
CREATE OR REPLACE TEMP MACRO aws_focus_unit(u) AS
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(u,
    '^Lambda-', ''), '^hours$', 'Hours'), '^Hrs$', 'Hours'), '-Hrs$', '-Hours'),
    '-Hour$', '-Hours'), '-Mo$', '-Months'), '-Month$', '-Months'), '-Second$', '-Seconds'),
    '-Sec$', '-Seconds'), '-Day$', '-Days');

-- NOT MATERIALIZED: streamed, never buffered (a materialised CTE holds the whole period).
WITH b AS NOT MATERIALIZED (
  SELECT *,
    CASE
      WHEN line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') THEN 'Usage'
      WHEN line_item_line_item_type = 'Tax' THEN 'Tax'
      WHEN line_item_line_item_type IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee') THEN 'Purchase'
      WHEN line_item_line_item_type IN ('Credit', 'EdpDiscount', 'BundledDiscount', 'Discount', 'PrivateRateDiscount', 'SppDiscount', 'DistributorDiscount') THEN 'Credit'
      WHEN line_item_line_item_type = 'Refund' THEN 'Usage'
      ELSE 'Adjustment'
    END AS __cat,
    CASE WHEN line_item_line_item_type = 'Refund' THEN 'Correction' END AS __class,
    CASE
      WHEN line_item_line_item_type IN ('DiscountedUsage', 'RIFee')
        OR (line_item_line_item_type = 'Fee' AND reservation_reservation_a_r_n IS NOT NULL) THEN reservation_reservation_a_r_n
      WHEN line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee') THEN savings_plan_savings_plan_a_r_n
    END AS __commitment
  FROM finops_period
),
p AS NOT MATERIALIZED (
  SELECT *,
    (__cat IN ('Usage', 'Purchase') AND __class IS NULL) AS __priced,
    -- What a commitment fee left unused this period: its own row (below) as FOCUS asks.
    CASE line_item_line_item_type
      WHEN 'RIFee' THEN COALESCE(reservation_unused_amortized_upfront_fee_for_billing_period, 0) + COALESCE(reservation_unused_recurring_fee, 0)
      WHEN 'SavingsPlanRecurringFee' THEN COALESCE(savings_plan_total_commitment_to_date, 0) - COALESCE(savings_plan_used_commitment, 0)
      ELSE 0
    END AS __unused_amount
  FROM b
),
-- Units are normalised once per distinct value, not per row (ten regexes each).
__units AS (
  SELECT __raw, aws_focus_unit(__raw) AS __norm
  FROM (SELECT DISTINCT pricing_unit AS __raw FROM finops_period)
),
-- Each row once, and a commitment fee with an unused part once more as its unused row:
-- one scan of the period (a self-UNION scanned it twice, and computed every input twice:
-- measured: the mapping 30% slower on 1 M CUR 2.0 rows).
pu AS (
  SELECT * REPLACE (CASE WHEN __unused THEN 'Usage' ELSE __cat END AS __cat)
  FROM (
    SELECT *, unnest(CASE WHEN __unused_amount > 0 THEN [FALSE, TRUE] ELSE [FALSE] END) AS __unused
    FROM p
  )
),
q AS (
  SELECT *,
    CASE WHEN __unused THEN 0 WHEN __priced THEN COALESCE(pricing_public_on_demand_rate, line_item_unblended_rate, 0) END AS __lup,
    CASE
      WHEN __unused THEN CASE WHEN line_item_line_item_type = 'RIFee' THEN COALESCE(reservation_unused_quantity, 0) ELSE __unused_amount END
      WHEN line_item_line_item_type = 'SavingsPlanNegation' THEN -(COALESCE(line_item_usage_amount, 0))
      WHEN __priced THEN COALESCE(line_item_usage_amount, 0)
    END AS __qty,
    CAST(CASE WHEN __unused THEN 0 ELSE line_item_unblended_cost END AS DECIMAL(38, 18)) AS __billed,
    CAST(CASE
      WHEN __unused THEN __unused_amount
      ELSE CASE line_item_line_item_type
        WHEN 'SavingsPlanCoveredUsage' THEN COALESCE(savings_plan_savings_plan_effective_cost, 0)
        WHEN 'DiscountedUsage' THEN COALESCE(reservation_effective_cost, 0)
        WHEN 'SavingsPlanNegation' THEN 0
        WHEN 'SavingsPlanUpfrontFee' THEN 0
        WHEN 'SavingsPlanRecurringFee' THEN 0
        WHEN 'RIFee' THEN 0
        ELSE CASE WHEN line_item_line_item_type = 'Fee' AND __commitment IS NOT NULL THEN 0 ELSE line_item_unblended_cost END
      END
    END AS DECIMAL(38, 18)) AS __effective,
    CAST(CASE
      WHEN __unused THEN 0
      WHEN line_item_line_item_type = 'SavingsPlanNegation' THEN -(pricing_public_on_demand_cost)
      ELSE pricing_public_on_demand_cost
    END AS DECIMAL(38, 18)) AS __list_source,
    CASE
      WHEN __commitment IS NULL THEN NULL
      WHEN line_item_line_item_type IN ('DiscountedUsage', 'RIFee', 'Fee') THEN 'Usage'
      ELSE 'Spend'
    END AS __commitment_category,
    COALESCE(line_item_currency_code, 'USD') AS __currency,
    COALESCE(product_product_name, line_item_product_code) AS __service,
    COALESCE(product_region_code, product_region) AS __region,
    __units.__norm AS __unit
  FROM pu LEFT JOIN __units ON __units.__raw = pricing_unit
)
SELECT
  COALESCE(bill_invoicing_entity, 'Amazon Web Services, Inc.') AS ProviderName,
  COALESCE(line_item_legal_entity, bill_invoicing_entity, 'Amazon Web Services, Inc.') AS PublisherName,
  COALESCE(line_item_legal_entity, bill_invoicing_entity, 'Amazon Web Services, Inc.') AS ServiceProviderName,
  CASE WHEN __cat = 'Tax' THEN 'Not Applicable' ELSE 'Amazon Web Services' END AS HostProviderName,
  COALESCE(bill_invoicing_entity, 'Amazon Web Services, Inc.') AS InvoiceIssuerName,
  bill_invoice_id AS InvoiceId,
  bill_payer_account_id AS BillingAccountId,
  COALESCE(bill_payer_account_name, bill_payer_account_id) AS BillingAccountName,
  CASE WHEN bill_payer_account_id IS NOT NULL THEN 'Payer Account' END AS BillingAccountType,
  line_item_usage_account_id AS SubAccountId,
  CASE WHEN line_item_usage_account_id IS NOT NULL THEN COALESCE(line_item_usage_account_name, line_item_usage_account_id) END AS SubAccountName,
  CASE WHEN line_item_usage_account_id IS NOT NULL THEN 'Linked Account' END AS SubAccountType,
  bill_billing_period_start_date AS BillingPeriodStart,
  bill_billing_period_end_date AS BillingPeriodEnd,
  line_item_usage_start_date AS ChargePeriodStart,
  line_item_usage_end_date AS ChargePeriodEnd,
  __cat AS ChargeCategory,
  __class AS ChargeClass,
  line_item_line_item_description AS ChargeDescription,
  CASE
    WHEN __cat = 'Usage' THEN 'Usage-Based'
    WHEN line_item_line_item_type IN ('RIFee', 'SavingsPlanRecurringFee') OR __cat = 'Tax' THEN 'Recurring'
    ELSE 'One-Time'
  END AS ChargeFrequency,
  __billed AS BilledCost,
  __effective AS EffectiveCost,
  CASE WHEN __lup IS NOT NULL AND __qty IS NOT NULL THEN __list_source ELSE __billed END AS ListCost,
  CASE WHEN __lup IS NOT NULL AND __qty IS NOT NULL THEN NULL ELSE __billed END AS ContractedCost,
  __lup AS ListUnitPrice,
  __lup AS ContractedUnitPrice,
  CASE
    WHEN NOT __priced THEN NULL
    WHEN __unused OR line_item_line_item_type IN ('DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') THEN 'Committed'
    WHEN line_item_usage_type LIKE '%SpotUsage%' THEN 'Dynamic'
    ELSE 'Standard'
  END AS PricingCategory,
  __qty AS PricingQuantity,
  CASE WHEN __qty IS NOT NULL THEN COALESCE(__unit, 'Units') END AS PricingUnit,
  COALESCE(pricing_currency, __currency) AS PricingCurrency,
  __lup AS PricingCurrencyContractedUnitPrice,
  __effective AS PricingCurrencyEffectiveCost,
  __lup AS PricingCurrencyListUnitPrice,
  __currency AS BillingCurrency,
  CASE WHEN __cat = 'Usage' AND __class IS NULL AND NOT __unused THEN __qty END AS ConsumedQuantity,
  CASE WHEN __cat = 'Usage' AND __class IS NULL AND NOT __unused AND __qty IS NOT NULL THEN COALESCE(__unit, 'Units') END AS ConsumedUnit,
  __service AS ServiceName,
  COALESCE(svc.ServiceCategory, 'Other') AS ServiceCategory,
  'Other (' || COALESCE(svc.ServiceCategory, 'Other') || ')' AS ServiceSubcategory,
  CASE WHEN __priced THEN COALESCE(product_sku, line_item_usage_type, line_item_product_code) END AS SkuId,
  CASE WHEN __priced THEN COALESCE(line_item_usage_type, line_item_product_code) END AS SkuMeter,
  CASE WHEN __priced THEN COALESCE(pricing_rate_code, pricing_rate_id, product_sku, line_item_usage_type, line_item_product_code) END AS SkuPriceId,
  CASE WHEN __priced THEN CASE WHEN pricing_term IS NULL THEN '{}' ELSE '{"x_PricingTerm":' || CAST(to_json(pricing_term) AS VARCHAR) || '}' END END AS SkuPriceDetails,
  COALESCE(line_item_resource_id, CASE WHEN __unused OR __cat = 'Purchase' THEN __commitment END) AS ResourceId,
  CAST(NULL AS VARCHAR) AS ResourceName,
  CASE
    WHEN line_item_resource_id IS NOT NULL THEN COALESCE(product_product_family, 'Resource')
    WHEN __unused OR (__cat = 'Purchase' AND __commitment IS NOT NULL) THEN CASE __commitment_category WHEN 'Usage' THEN 'Reserved Instance' ELSE 'Savings Plan' END
  END AS ResourceType,
  __region AS RegionId,
  CASE WHEN __region IS NOT NULL THEN COALESCE(product_location, __region) END AS RegionName,
  line_item_availability_zone AS AvailabilityZone,
  __commitment AS CommitmentDiscountId,
  regexp_extract(__commitment, '[^/:]+$') AS CommitmentDiscountName,
  __commitment_category AS CommitmentDiscountCategory,
  CASE __commitment_category WHEN 'Usage' THEN 'Reserved Instance' WHEN 'Spend' THEN 'Savings Plan' END AS CommitmentDiscountType,
  CASE WHEN __unused THEN 'Unused' WHEN __commitment IS NOT NULL AND __cat = 'Usage' THEN 'Used' END AS CommitmentDiscountStatus,
  CASE
    WHEN __commitment IS NULL OR __cat NOT IN ('Usage', 'Purchase') THEN NULL
    WHEN __commitment_category = 'Usage' THEN __qty
    ELSE __effective
  END AS CommitmentDiscountQuantity,
  CASE
    WHEN __commitment IS NULL OR __cat NOT IN ('Usage', 'Purchase') THEN NULL
    WHEN __commitment_category = 'Usage' THEN COALESCE(__unit, 'Units')
    ELSE __currency
  END AS CommitmentDiscountUnit,
  CAST(NULL AS VARCHAR) AS ContractApplied,
  CAST(NULL AS VARCHAR) AS CapacityReservationId,
  CAST(NULL AS VARCHAR) AS CapacityReservationStatus,
  CAST(NULL AS VARCHAR) AS AllocatedMethodId,
  CAST(NULL AS VARCHAR) AS AllocatedMethodDetails,
  CAST(NULL AS VARCHAR) AS AllocatedResourceId,
  CAST(NULL AS VARCHAR) AS AllocatedResourceName,
  CAST(NULL AS VARCHAR) AS AllocatedTags,
  finops_tags AS Tags,
  CASE WHEN __unused THEN line_item_line_item_type || '/Unused' ELSE line_item_line_item_type END AS x_LineItemType,
  line_item_usage_type AS x_UsageType,
  line_item_operation AS x_Operation,
  line_item_product_code AS x_ServiceCode
FROM q LEFT JOIN aws_service_categories AS svc ON svc.product_code = line_item_product_code
