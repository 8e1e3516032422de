-- A reseller's monthly CSV invoice → FOCUS 1.3 (the csv-invoice example plugin).
--
-- One line per product billed for the month: a recurring charge of the reseller (provider,
-- publisher and invoice issuer), billed and effective cost = the line's amount, list price =
-- its unit price; a negative line is a one-time Credit, without prices or quantities. Reads the view `finops_period`: one month's invoice lines (snake_case names
-- of the invoice's columns), with exactly the inputs below, each of its declared type.
--
-- inputs:
--   invoice_id        VARCHAR
--   service_month     VARCHAR
--   customer_account  VARCHAR
--   customer_name     VARCHAR
--   product           VARCHAR
--   category          VARCHAR
--   description       VARCHAR
--   quantity          DECIMAL(38, 18)
--   unit              VARCHAR
--   unit_price        DECIMAL(38, 18)
--   amount            DECIMAL(38, 18)
--   currency          VARCHAR

WITH b AS NOT MATERIALIZED (
  SELECT *, CAST(service_month || '-01' AS TIMESTAMP) AS __month, amount < 0 AS __credit
  FROM finops_period
)
SELECT
  'Northwind Reseller' AS ProviderName,
  'Northwind Reseller' AS PublisherName,
  'Northwind Reseller' AS ServiceProviderName,
  'Northwind Reseller' AS HostProviderName,
  'Northwind Reseller' AS InvoiceIssuerName,
  invoice_id AS InvoiceId,
  customer_account AS BillingAccountId,
  customer_name AS BillingAccountName,
  'Customer' AS BillingAccountType,
  __month AS BillingPeriodStart,
  __month + INTERVAL 1 MONTH AS BillingPeriodEnd,
  __month AS ChargePeriodStart,
  __month + INTERVAL 1 MONTH AS ChargePeriodEnd,
  CASE WHEN __credit THEN 'Credit' ELSE 'Usage' END AS ChargeCategory,
  description AS ChargeDescription,
  CASE WHEN __credit THEN 'One-Time' ELSE 'Recurring' END AS ChargeFrequency,
  amount AS BilledCost,
  amount AS EffectiveCost,
  amount AS ListCost,
  amount AS ContractedCost,
  CASE WHEN NOT __credit THEN unit_price END AS ListUnitPrice,
  CASE WHEN NOT __credit THEN unit_price END AS ContractedUnitPrice,
  CASE WHEN NOT __credit THEN 'Standard' END AS PricingCategory,
  CASE WHEN NOT __credit THEN quantity END AS PricingQuantity,
  CASE WHEN NOT __credit THEN unit END AS PricingUnit,
  currency AS PricingCurrency,
  amount AS PricingCurrencyEffectiveCost,
  CASE WHEN NOT __credit THEN unit_price END AS PricingCurrencyListUnitPrice,
  CASE WHEN NOT __credit THEN unit_price END AS PricingCurrencyContractedUnitPrice,
  currency AS BillingCurrency,
  CASE WHEN NOT __credit THEN quantity END AS ConsumedQuantity,
  CASE WHEN NOT __credit THEN unit END AS ConsumedUnit,
  product AS ServiceName,
  COALESCE(category, 'Other') AS ServiceCategory,
  'Other (' || COALESCE(category, 'Other') || ')' AS ServiceSubcategory,
  CASE WHEN NOT __credit THEN product END AS SkuId,
  CASE WHEN NOT __credit THEN product || ':' || unit END AS SkuPriceId,
  CASE WHEN NOT __credit THEN description END AS SkuMeter
FROM b
