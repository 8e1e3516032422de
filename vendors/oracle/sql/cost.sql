-- Oracle Cloud cost reports (reports/cost-csv) → FOCUS 1.3.
--
-- After the FinOps Foundation converter's OCI rules (focus_converters), with what they leave
-- out filled: BilledCost = EffectiveCost = `cost/myCost` (the converter's `myCostOverage` is
-- the overage part only); the report has no list price, so ListUnitPrice and
-- ContractedUnitPrice are `cost/unitPrice` (the tenancy's price) and finops' finishing step
-- derives ListCost and ContractedCost = unit price × quantity from the stored values
-- (docs/focus.md, "Types"); a correction (`lineItem/isCorrection` true) is ChargeClass
-- Correction, its `lineItem/backreferenceNo` kept as x_BackReferenceNo. Billing periods are
-- calendar months in UTC.
--
-- Reads the view `finops_period`: one month's raw rows (snake_case names of the report's
-- columns), with exactly the inputs below, each of its declared type.
--
-- inputs:
--   line_item_reference_no          VARCHAR
--   line_item_tenant_id             VARCHAR
--   line_item_interval_usage_start  TIMESTAMP
--   line_item_interval_usage_end    TIMESTAMP
--   product_service                 VARCHAR
--   product_compartment_id          VARCHAR
--   product_compartment_name        VARCHAR
--   product_region                  VARCHAR
--   product_availability_domain     VARCHAR
--   product_resource_id             VARCHAR
--   usage_billed_quantity           DECIMAL(38, 18)
--   cost_subscription_id            VARCHAR
--   cost_product_sku                VARCHAR
--   product_description             VARCHAR
--   cost_unit_price                 DECIMAL(38, 18)
--   cost_my_cost                    DECIMAL(38, 18)
--   cost_my_cost_overage            DECIMAL(38, 18)
--   cost_currency_code              VARCHAR
--   cost_billing_unit_readable      VARCHAR
--   cost_sku_unit_description       VARCHAR
--   cost_overage_flag               VARCHAR
--   line_item_is_correction         VARCHAR
--   line_item_backreference_no      VARCHAR
--   finops_tags                     VARCHAR  -- computed: the tags/* columns as a JSON object
-- lookups:
--   oci_services  data/services.csv  -- product/service → FOCUS category and subcategory

WITH b AS NOT MATERIALIZED (
  SELECT *,
    lower(COALESCE(line_item_is_correction, 'false')) = 'true' AS __correction,
    date_trunc('month', line_item_interval_usage_start) AS __month
  FROM finops_period
),
services AS (
  SELECT upper(Service) AS k, first(ServiceCategory ORDER BY rowid) AS category,
    first(ServiceSubcategory ORDER BY rowid) AS subcategory
  FROM oci_services GROUP BY k
)
SELECT
  'Oracle' AS ProviderName,
  'Oracle' AS PublisherName,
  'Oracle' AS ServiceProviderName,
  'Oracle' AS HostProviderName,
  'Oracle' AS InvoiceIssuerName,
  line_item_tenant_id AS BillingAccountId,
  line_item_tenant_id AS BillingAccountName,
  CASE WHEN line_item_tenant_id IS NOT NULL THEN 'Tenancy' END AS BillingAccountType,
  product_compartment_id AS SubAccountId,
  product_compartment_name AS SubAccountName,
  CASE WHEN product_compartment_id IS NOT NULL THEN 'Compartment' END AS SubAccountType,
  __month AS BillingPeriodStart,
  __month + INTERVAL 1 MONTH AS BillingPeriodEnd,
  line_item_interval_usage_start AS ChargePeriodStart,
  line_item_interval_usage_end AS ChargePeriodEnd,
  'Usage' AS ChargeCategory,
  CASE WHEN __correction THEN 'Correction' END AS ChargeClass,
  product_description AS ChargeDescription,
  'Usage-Based' AS ChargeFrequency,
  cost_my_cost AS BilledCost,
  cost_my_cost AS EffectiveCost,
  CASE WHEN __correction OR cost_unit_price IS NULL OR usage_billed_quantity IS NULL THEN cost_my_cost END AS ListCost,
  CASE WHEN __correction OR cost_unit_price IS NULL OR usage_billed_quantity IS NULL THEN cost_my_cost END AS ContractedCost,
  CASE WHEN NOT __correction THEN cost_unit_price END AS ListUnitPrice,
  CASE WHEN NOT __correction THEN cost_unit_price END AS ContractedUnitPrice,
  CASE WHEN NOT __correction THEN 'Standard' END AS PricingCategory,
  CASE WHEN NOT __correction THEN usage_billed_quantity END AS PricingQuantity,
  CASE WHEN NOT __correction AND usage_billed_quantity IS NOT NULL THEN COALESCE(NULLIF(cost_sku_unit_description, ''), 'Units') END AS PricingUnit,
  cost_currency_code AS PricingCurrency,
  cost_my_cost AS PricingCurrencyEffectiveCost,
  CASE WHEN NOT __correction THEN cost_unit_price END AS PricingCurrencyListUnitPrice,
  CASE WHEN NOT __correction THEN cost_unit_price END AS PricingCurrencyContractedUnitPrice,
  cost_currency_code AS BillingCurrency,
  CASE WHEN NOT __correction THEN usage_billed_quantity END AS ConsumedQuantity,
  CASE WHEN NOT __correction AND usage_billed_quantity IS NOT NULL THEN COALESCE(NULLIF(cost_sku_unit_description, ''), 'Units') END AS ConsumedUnit,
  product_service AS ServiceName,
  COALESCE(services.category, 'Other') AS ServiceCategory,
  COALESCE(services.subcategory, 'Other (' || COALESCE(services.category, 'Other') || ')') AS ServiceSubcategory,
  cost_product_sku AS SkuId,
  product_description AS SkuMeter,
  cost_product_sku AS SkuPriceId,
  NULLIF(product_resource_id, '') AS ResourceId,
  CASE WHEN NULLIF(product_resource_id, '') IS NOT NULL
    THEN COALESCE(NULLIF(regexp_extract(product_resource_id, '^ocid1\.([^.]+)\.', 1), ''), 'Other') END AS ResourceType,
  product_region AS RegionId,
  product_region AS RegionName,
  NULLIF(product_availability_domain, '') AS AvailabilityZone,
  finops_tags AS Tags,
  line_item_reference_no AS x_ReferenceNo,
  line_item_backreference_no AS x_BackReferenceNo,
  cost_subscription_id AS x_SubscriptionId,
  cost_my_cost_overage AS x_CostOverage,
  cost_overage_flag AS x_OverageFlag,
  cost_billing_unit_readable AS x_BillingUnitReadable
FROM b
LEFT JOIN services ON services.k = upper(product_service)
