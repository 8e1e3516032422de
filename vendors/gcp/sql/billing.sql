-- Google Cloud standard and detailed billing exports → FOCUS 1.3.
--
-- BilledCost is what the invoice shows: `cost` plus every credit of the row (committed use,
-- sustained use, free tier, promotions…, all negative). EffectiveCost is the same: the export
-- has no amortization. ListCost is Google's `cost_at_list`; ListUnitPrice is derived from it
-- (cost_at_list / PricingQuantity), and finops' finishing step then derives ListCost =
-- ListUnitPrice × PricingQuantity from the stored, rounded unit price so that FOCUS's product
-- rule holds exactly, recording its distance from Google's figure (docs/focus.md, "Google
-- Cloud"). ContractedUnitPrice is `price.effective_price / price.pricing_unit_quantity`
-- (detailed export), else cost / PricingQuantity. PricingQuantity is
-- `usage.amount_in_pricing_units`, never `price.pricing_unit_quantity` (the price's unit
-- multiplier). Invoice months are Pacific time: a month starts at 08:00 UTC (07:00 from
-- April to November, Pacific daylight time) and ends where the next one starts.
--
-- Reads the view `finops_period`: one invoice month's raw rows (the export's own nested
-- columns, numbers exact), with exactly the inputs below, each of its declared type.
--
-- To run it by hand in the DuckDB CLI over a table `t` read from an export:
--   CREATE TABLE gcp_services AS FROM read_csv('vendors/gcp/data/services.csv', all_varchar = true);
--   CREATE TABLE gcp_regions AS FROM read_csv('vendors/gcp/data/regions.csv', all_varchar = true);
--   CREATE VIEW finops_period AS FROM t;
--   .read vendors/gcp/sql/billing.sql
--
-- inputs:
--   billing_account_id        VARCHAR
--   service                   STRUCT(id VARCHAR, description VARCHAR)
--   sku                       STRUCT(id VARCHAR, description VARCHAR)
--   usage_start_time          TIMESTAMP
--   usage_end_time            TIMESTAMP
--   project                   STRUCT(id VARCHAR, number VARCHAR, "name" VARCHAR, labels STRUCT("key" VARCHAR, "value" VARCHAR)[])
--   labels                    STRUCT("key" VARCHAR, "value" VARCHAR)[]
--   system_labels             STRUCT("key" VARCHAR, "value" VARCHAR)[]
--   location                  STRUCT("location" VARCHAR, country VARCHAR, region VARCHAR, zone VARCHAR)
--   tags                      STRUCT("key" VARCHAR, "value" VARCHAR, inherited BOOLEAN, "namespace" VARCHAR)[]
--   transaction_type          VARCHAR
--   seller_name               VARCHAR
--   export_time               TIMESTAMP
--   cost                      DECIMAL(38, 18)
--   currency                  VARCHAR
--   currency_conversion_rate  DECIMAL(38, 18)
--   usage                     STRUCT(amount DECIMAL(38, 18), unit VARCHAR, amount_in_pricing_units DECIMAL(38, 18), pricing_unit VARCHAR)
--   credits                   STRUCT("name" VARCHAR, amount DECIMAL(38, 18), full_name VARCHAR, id VARCHAR, "type" VARCHAR)[]
--   invoice                   STRUCT("month" VARCHAR, publisher_type VARCHAR)
--   cost_type                 VARCHAR
--   adjustment_info           STRUCT(id VARCHAR, description VARCHAR, "mode" VARCHAR, "type" VARCHAR)
--   cost_at_list              DECIMAL(38, 18)
--   price                     STRUCT(effective_price DECIMAL(38, 18), tier_start_amount DECIMAL(38, 18), unit VARCHAR, pricing_unit_quantity DECIMAL(38, 18))
--   resource                  STRUCT("name" VARCHAR, global_name VARCHAR)
--   subscription              STRUCT(instance_id VARCHAR)
-- lookups:
--   gcp_services  data/services.csv  -- service description → FOCUS category and subcategory
--   gcp_regions   data/regions.csv   -- region id → region name

-- Labels, then tags (`namespace/key`), then project labels, as one JSON object: a key
-- without a name is dropped, and the first value of a key wins (labels over tags over
-- project labels; within one list, the first).
CREATE OR REPLACE TEMP MACRO gcp_tags(kv) AS (
  CASE WHEN len(list_filter(kv, lambda e: e.k IS NOT NULL)) > 0 THEN
    CAST(to_json(map_from_entries(list_transform(
      list_filter(list_filter(kv, lambda e: e.k IS NOT NULL),
        lambda e, i: list_position(list_transform(list_filter(kv, lambda x: x.k IS NOT NULL), lambda x: x.k), e.k) = i),
      lambda e: {'key': e.k, 'value': e.v}))) AS VARCHAR)
  END
);

-- The UTC start of a Pacific-time invoice month (first day 00:00 in America/Los_Angeles):
-- daylight time (UTC-7) holds on the first of April to November, standard time (UTC-8)
-- otherwise (US rules since 2007).
CREATE OR REPLACE TEMP MACRO gcp_month_start(m) AS (
  CAST(m AS TIMESTAMP) + CASE WHEN month(CAST(m AS DATE)) BETWEEN 4 AND 11 THEN INTERVAL 7 HOUR ELSE INTERVAL 8 HOUR END
);

-- The type of a resource from its full name: `//compute.googleapis.com/projects/p/zones/z/
-- instances/i` → `compute.googleapis.com/instances` (service, then the collection).
CREATE OR REPLACE TEMP MACRO gcp_resource_type(global_name) AS (
  NULLIF(regexp_extract(global_name, '^//([^/]+)/', 1) || '/' || regexp_extract(global_name, '/([^/]+)/[^/]+$', 1), '/')
);

-- Google's units in FOCUS unit format: data sizes abbreviated (gibibyte → GiB, bytes → B),
-- time units capitalised and plural, a size or count followed by a time joined by a hyphen
-- (`gibibyte month` → GiB-Months, `byte-seconds` → B-Seconds), other words capitalised
-- (`requests` → Requests). Idempotent on values already in that format.
CREATE OR REPLACE TEMP MACRO gcp_unit_word(w) AS (
  CASE lower(w)
    WHEN 'byte' THEN 'B' WHEN 'bytes' THEN 'B'
    WHEN 'kibibyte' THEN 'KiB' WHEN 'kibibytes' THEN 'KiB'
    WHEN 'mebibyte' THEN 'MiB' WHEN 'mebibytes' THEN 'MiB'
    WHEN 'gibibyte' THEN 'GiB' WHEN 'gibibytes' THEN 'GiB'
    WHEN 'tebibyte' THEN 'TiB' WHEN 'tebibytes' THEN 'TiB'
    WHEN 'pebibyte' THEN 'PiB' WHEN 'pebibytes' THEN 'PiB'
    WHEN 'kilobyte' THEN 'KB' WHEN 'megabyte' THEN 'MB' WHEN 'gigabyte' THEN 'GB' WHEN 'terabyte' THEN 'TB'
    WHEN 'second' THEN 'Seconds' WHEN 'seconds' THEN 'Seconds'
    WHEN 'minute' THEN 'Minutes' WHEN 'minutes' THEN 'Minutes'
    WHEN 'hour' THEN 'Hours' WHEN 'hours' THEN 'Hours'
    WHEN 'day' THEN 'Days' WHEN 'days' THEN 'Days'
    WHEN 'month' THEN 'Months' WHEN 'months' THEN 'Months'
    WHEN 'year' THEN 'Years' WHEN 'years' THEN 'Years'
    ELSE upper(left(w, 1)) || substr(w, 2)
  END
);
CREATE OR REPLACE TEMP MACRO gcp_focus_unit(u) AS (
  CASE WHEN NULLIF(trim(u), '') IS NOT NULL THEN
    regexp_replace(
      array_to_string(list_transform(regexp_split_to_array(trim(u), '[ -]+'), lambda w: gcp_unit_word(w)), ' '),
      ' (Seconds|Minutes|Hours|Days|Months|Years)$', '-\1')
  END
);

WITH b AS NOT MATERIALIZED (
  SELECT *,
    cost + COALESCE(list_sum(list_transform(credits, lambda c: c.amount)), 0) AS __billed,
    list_filter(credits, lambda c: c.type IN ('COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE'))[1] AS __cud,
    CASE cost_type
      WHEN 'regular' THEN 'Usage'
      WHEN 'tax' THEN 'Tax'
      WHEN 'adjustment' THEN CASE WHEN cost < 0 THEN 'Credit' ELSE 'Adjustment' END
      ELSE 'Adjustment'
    END AS __cat,
    CASE WHEN adjustment_info.id IS NOT NULL THEN 'Correction' END AS __class,
    starts_with(sku.description, 'Commitment v1:') AS __commitment_fee,
    usage.amount_in_pricing_units AS __qty,
    make_date(CAST(left(invoice.month, 4) AS INTEGER), CAST(right(invoice.month, 2) AS INTEGER), 1) AS __month
  FROM finops_period
),
c AS NOT MATERIALIZED (
  SELECT *,
    __cat = 'Usage' AND __class IS NULL AND __qty IS NOT NULL AND __qty <> 0 AS __priced
  FROM b
),
services AS (
  SELECT lower(ServiceDescription) AS k, first(ServiceCategory ORDER BY rowid) AS category,
    first(ServiceSubcategory ORDER BY rowid) AS subcategory
  FROM gcp_services GROUP BY k
),
regions AS (
  SELECT RegionId AS k, first(RegionName ORDER BY rowid) AS name FROM gcp_regions GROUP BY k
)
SELECT
  'Google Cloud' AS ProviderName,
  CASE WHEN COALESCE(transaction_type, 'GOOGLE') = 'GOOGLE' THEN 'Google Cloud' ELSE COALESCE(seller_name, 'Google Cloud') END AS PublisherName,
  CASE WHEN COALESCE(transaction_type, 'GOOGLE') = 'GOOGLE' THEN 'Google Cloud' ELSE COALESCE(seller_name, 'Google Cloud') END AS ServiceProviderName,
  'Google Cloud' AS HostProviderName,
  'Google Cloud' AS InvoiceIssuerName,
  billing_account_id AS BillingAccountId,
  -- The export has no billing account name: its id stands in (as AWS's payer id does).
  billing_account_id AS BillingAccountName,
  CASE WHEN billing_account_id IS NOT NULL THEN 'Billing Account' END AS BillingAccountType,
  project.id AS SubAccountId,
  project.name AS SubAccountName,
  CASE WHEN project.id IS NOT NULL THEN 'Project' END AS SubAccountType,
  gcp_month_start(__month) AS BillingPeriodStart,
  gcp_month_start(__month + INTERVAL 1 MONTH) AS BillingPeriodEnd,
  usage_start_time AS ChargePeriodStart,
  usage_end_time AS ChargePeriodEnd,
  __cat AS ChargeCategory,
  __class AS ChargeClass,
  sku.description AS ChargeDescription,
  CASE
    WHEN __commitment_fee THEN 'Recurring'
    WHEN __cat = 'Usage' THEN 'Usage-Based'
    ELSE 'One-Time'
  END AS ChargeFrequency,
  __billed AS BilledCost,
  __billed AS EffectiveCost,
  COALESCE(cost_at_list, __billed) AS ListCost,
  cost AS ContractedCost,
  CASE WHEN __priced AND cost_at_list IS NOT NULL THEN CAST(cost_at_list / __qty AS DECIMAL(38, 18)) END AS ListUnitPrice,
  CASE WHEN __priced THEN
    CASE
      WHEN price.effective_price IS NOT NULL AND COALESCE(price.pricing_unit_quantity, 1) = 1 THEN price.effective_price
      WHEN price.effective_price IS NOT NULL AND price.pricing_unit_quantity <> 0 THEN CAST(price.effective_price / price.pricing_unit_quantity AS DECIMAL(38, 18))
      ELSE CAST(cost / __qty AS DECIMAL(38, 18))
    END
  END AS ContractedUnitPrice,
  CASE
    WHEN __cat <> 'Usage' OR __class IS NOT NULL THEN NULL
    WHEN __cud IS NOT NULL OR __commitment_fee THEN 'Committed'
    WHEN sku.description ILIKE '%spot%' OR sku.description ILIKE '%preemptible%' THEN 'Dynamic'
    ELSE 'Standard'
  END AS PricingCategory,
  CASE WHEN __cat = 'Usage' AND __class IS NULL THEN __qty END AS PricingQuantity,
  CASE WHEN __cat = 'Usage' AND __class IS NULL AND __qty IS NOT NULL THEN gcp_focus_unit(usage.pricing_unit) END AS PricingUnit,
  currency AS PricingCurrency,
  __billed AS PricingCurrencyEffectiveCost,
  currency AS BillingCurrency,
  CASE WHEN __cat = 'Usage' AND __class IS NULL THEN usage.amount END AS ConsumedQuantity,
  CASE WHEN __cat = 'Usage' AND __class IS NULL AND usage.amount IS NOT NULL THEN gcp_focus_unit(usage.unit) END AS ConsumedUnit,
  COALESCE(service.description, 'Other') AS ServiceName,
  COALESCE(services.category, 'Other') AS ServiceCategory,
  COALESCE(services.subcategory, 'Other (' || COALESCE(services.category, 'Other') || ')') AS ServiceSubcategory,
  CASE WHEN __cat = 'Usage' THEN sku.id END AS SkuId,
  CASE WHEN __cat = 'Usage' THEN sku.description END AS SkuMeter,
  CASE WHEN __cat = 'Usage' THEN sku.id END AS SkuPriceId,
  resource.global_name AS ResourceId,
  COALESCE(resource.name, regexp_extract(resource.global_name, '[^/]+$')) AS ResourceName,
  gcp_resource_type(resource.global_name) AS ResourceType,
  location.region AS RegionId,
  CASE WHEN location.region IS NOT NULL THEN COALESCE(regions.name, location.region) END AS RegionName,
  location.zone AS AvailabilityZone,
  CASE WHEN __cud IS NOT NULL THEN COALESCE(__cud.id, subscription.instance_id) END AS CommitmentDiscountId,
  CASE WHEN __cud IS NOT NULL THEN COALESCE(__cud.full_name, __cud.name) END AS CommitmentDiscountName,
  CASE WHEN __cud IS NULL THEN NULL WHEN __cud.type = 'COMMITTED_USAGE_DISCOUNT' THEN 'Usage' ELSE 'Spend' END AS CommitmentDiscountCategory,
  CASE WHEN __cud IS NOT NULL THEN 'Committed Use Discount' END AS CommitmentDiscountType,
  CASE WHEN __cud IS NOT NULL AND __cat = 'Usage' THEN 'Used' END AS CommitmentDiscountStatus,
  gcp_tags(list_concat(
    list_transform(labels, lambda l: {'k': l.key, 'v': l.value}),
    list_transform(tags, lambda t: {'k': CASE WHEN t.key IS NOT NULL THEN COALESCE(t.namespace || '/', '') || t.key END, 'v': t.value}),
    list_transform(project.labels, lambda l: {'k': l.key, 'v': l.value}))) AS Tags,
  cost AS x_Cost,
  cost_at_list AS x_CostAtList,
  CASE WHEN len(credits) > 0 THEN CAST(to_json(credits) AS VARCHAR) END AS x_Credits,
  cost_type AS x_CostType,
  currency_conversion_rate AS x_CurrencyConversionRate,
  export_time AS x_ExportTime,
  invoice.month AS x_InvoiceMonth,
  location.location AS x_Location,
  project.number AS x_ProjectNumber,
  service.id AS x_ServiceId,
  gcp_tags(list_transform(system_labels, lambda l: {'k': l.key, 'v': l.value})) AS x_SystemLabels,
  transaction_type AS x_TransactionType,
  subscription.instance_id AS x_SubscriptionInstanceId
FROM c
LEFT JOIN services ON services.k = lower(service.description)
LEFT JOIN regions ON regions.k = location.region
