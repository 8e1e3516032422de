#!/usr/bin/env python3
"""Deterministic generator of AWS billing exports, at any size, for tests and benchmarks.

Writes an export tree exactly as AWS lays it out in S3 (so `finops aws import-cur --path ROOT`
and an upload to a local S3 server read the same thing), and a JSON file of the generator's own
totals (rows and exact cost sums per billing period) to assert against.

Kinds:
  cur1   legacy CUR: <prefix>/<export>/<yyyymmdd-yyyymmdd>/<assemblyId>/<export>-0000n.csv.gz,
         with the current and the per-assembly <export>-Manifest.json (`--format csv` only)
  cur2   CUR 2.0 (Data Exports): <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-0000n
         .snappy.parquet or .csv.gz, metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json;
         product, resource_tags, cost_category and discount are maps (JSON text in CSV)
  focus  AWS "FOCUS 1.0 with AWS columns" export, same layout as cur2

Every value is a function of the row number and --seed (no random state), so the same
arguments give the same bytes. With --dirty, money, rates and quantities are computed in binary
floating point, as AWS computes them (`0.30000000000000004`, `1.4901161193847656E-8`), some
tiny (E-notation with negative exponents), some huge (positive exponents), credits of `-0.0`,
and E written upper- and lower-case; the totals are then the exact sums of the text written (or
of the doubles' shortest round-trip text, in Parquet) and of each value rounded half to even
to 18 decimals (what finops must store). The data is realistic in shape: tens of services, thousands of
resources, several accounts and regions, sparse tags, every line item type (RI and Savings Plan
usage, negation, fees, tax, credits, refunds). Runs on the DuckDB of the test venv.

Example:
  .venv/bin/python tests/gen/awsgen.py --kind cur2 --rows 1000000 --months 2 --out /tmp/bench \
      --export cur2-hourly --totals /tmp/bench-totals.json
"""

import argparse
import concurrent.futures
from decimal import Decimal
import json
import os
import sys

import duckdb

SERVICES = [
    # code, product name, family, usage type, operation, unit, rate, resource prefix
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance", "BoxUsage:m5.large", "RunInstances", "Hrs", "0.096000", "i-0"),
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "Storage", "EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo", "0.080000", "vol-0"),
    ("AmazonS3", "Amazon Simple Storage Service", "Storage", "TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", "0.023000", "bucket-"),
    ("AmazonS3", "Amazon Simple Storage Service", "API Request", "Requests-Tier1", "PutObject", "Requests", "0.000005", "bucket-"),
    ("AmazonRDS", "Amazon Relational Database Service", "Database Instance", "InstanceUsage:db.r5.large", "CreateDBInstance:0014", "Hrs", "0.250000", "db-"),
    ("AWSLambda", "AWS Lambda", "Serverless", "Lambda-GB-Second", "Invoke", "Lambda-GB-Second", "0.000017", "fn-"),
    ("AmazonDynamoDB", "Amazon DynamoDB", "Amazon DynamoDB PayPerRequest Throughput", "WriteRequestUnits", "PayPerRequestThroughput", "WriteRequestUnits", "0.000001", "table-"),
    ("AmazonCloudFront", "Amazon CloudFront", "Data Transfer", "DataTransfer-Out-Bytes", "GET", "GB", "0.085000", "dist-"),
    ("AmazonVPC", "Amazon Virtual Private Cloud", "VpcEndpoint", "VpcEndpoint-Hours", "VpcEndpoint", "Hrs", "0.010000", "vpce-"),
    ("AWSDataTransfer", "AWS Data Transfer", "Data Transfer", "DataTransfer-Regional-Bytes", "InterZone-In", "GB", "0.010000", None),
    ("AmazonCloudWatch", "AmazonCloudWatch", "Metric", "CW:MetricMonitorUsage", "MetricStorage", "Metrics", "0.300000", None),
    ("AmazonEKS", "Amazon Elastic Container Service for Kubernetes", "Compute", "AmazonEKS-Hours:perCluster", "CreateOperation", "Hours", "0.100000", "cluster-"),
    ("AmazonECS", "Amazon Elastic Container Service", "Compute", "Fargate-vCPU-Hours:perCPU", "FargateTask", "hours", "0.040480", "task-"),
    ("AmazonElastiCache", "Amazon ElastiCache", "Cache Instance", "NodeUsage:cache.m5.large", "CreateCacheCluster:0002", "Hrs", "0.156000", "cache-"),
    ("AmazonRedshift", "Amazon Redshift", "Compute Instance", "Node:ra3.xlplus", "RunComputeNode:0001", "Hrs", "1.086000", "rs-"),
    ("AmazonSNS", "Amazon Simple Notification Service", "Message Delivery", "DeliveryAttempts-HTTP", "Notification", "Notifications", "0.000001", None),
    ("AmazonSQS", "Amazon Simple Queue Service", "API Request", "Requests-Tier1", "GetQueueAttributes", "Requests", "0.000000", "queue-"),
    ("AWSKMS", "AWS Key Management Service", "Encryption Key", "KMS-Keys", "CreateKey", "Keys", "1.000000", "key-"),
    ("AmazonRoute53", "Amazon Route 53", "DNS Zone", "HostedZone", "HostedZone", "HostedZone", "0.500000", "zone-"),
    ("AmazonGuardDuty", "Amazon GuardDuty", "Security Services", "PaidEventsAnalyzed", "CloudTrailEvents", "Events", "0.000004", None),
    ("AWSGlue", "AWS Glue", "AWS Glue", "Crawler-DPU-Hour", "CrawlerRun", "DPU-Hour", "0.440000", "job-"),
    ("AmazonAthena", "Amazon Athena", "Serverless", "DataScannedInTB", "RunQuery", "Terabytes", "5.000000", None),
]
SUPPORT = ("AWSSupportBusiness", "AWS Support (Business)", "Support", "Business", "Support", "Units", "0", None)
REGIONS = [
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-2", "US East (Ohio)"),
    ("us-west-2", "US West (Oregon)"),
    ("eu-west-1", "EU (Ireland)"),
    ("eu-central-1", "EU (Frankfurt)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)"),
    ("sa-east-1", "South America (Sao Paulo)"),
]
ACCOUNTS = 8
PAYER = "111122223333"
TEAMS = ["core", "data", "web", "ml", "platform"]
ENVS = ["prod", "staging", "dev"]

# CUR 2.0 column, legacy CSV header, type (text|money|rate|qty|time) for the columns every kind
# shares. Maps are handled apart.
COLUMNS = [
    ("identity_line_item_id", "identity/LineItemId", "text"),
    ("identity_time_interval", "identity/TimeInterval", "text"),
    ("bill_invoice_id", "bill/InvoiceId", "text"),
    ("bill_invoicing_entity", "bill/InvoicingEntity", "text"),
    ("bill_billing_entity", "bill/BillingEntity", "text"),
    ("bill_bill_type", "bill/BillType", "text"),
    ("bill_payer_account_id", "bill/PayerAccountId", "text"),
    ("bill_payer_account_name", None, "text"),
    ("bill_billing_period_start_date", "bill/BillingPeriodStartDate", "time"),
    ("bill_billing_period_end_date", "bill/BillingPeriodEndDate", "time"),
    ("line_item_usage_account_id", "lineItem/UsageAccountId", "text"),
    ("line_item_usage_account_name", None, "text"),
    ("line_item_line_item_type", "lineItem/LineItemType", "text"),
    ("line_item_usage_start_date", "lineItem/UsageStartDate", "time"),
    ("line_item_usage_end_date", "lineItem/UsageEndDate", "time"),
    ("line_item_product_code", "lineItem/ProductCode", "text"),
    ("line_item_usage_type", "lineItem/UsageType", "text"),
    ("line_item_operation", "lineItem/Operation", "text"),
    ("line_item_availability_zone", "lineItem/AvailabilityZone", "text"),
    ("line_item_resource_id", "lineItem/ResourceId", "text"),
    ("line_item_usage_amount", "lineItem/UsageAmount", "qty"),
    ("line_item_currency_code", "lineItem/CurrencyCode", "text"),
    ("line_item_unblended_rate", "lineItem/UnblendedRate", "rate"),
    ("line_item_unblended_cost", "lineItem/UnblendedCost", "money"),
    ("line_item_blended_cost", "lineItem/BlendedCost", "money"),
    ("line_item_line_item_description", "lineItem/LineItemDescription", "text"),
    ("line_item_legal_entity", "lineItem/LegalEntity", "text"),
    ("line_item_tax_type", "lineItem/TaxType", "text"),
    ("product_product_family", "product/productFamily", "text"),
    ("product_region_code", "product/regionCode", "text"),
    ("product_location", "product/location", "text"),
    ("product_servicecode", "product/servicecode", "text"),
    ("product_sku", "product/sku", "text"),
    ("product_instance_type", "product/instanceType", "text"),
    ("product_usagetype", "product/usagetype", "text"),
    ("pricing_rate_code", "pricing/RateCode", "text"),
    ("pricing_rate_id", "pricing/RateId", "text"),
    ("pricing_currency", "pricing/currency", "text"),
    ("pricing_public_on_demand_cost", "pricing/publicOnDemandCost", "money"),
    ("pricing_public_on_demand_rate", "pricing/publicOnDemandRate", "rate"),
    ("pricing_term", "pricing/term", "text"),
    ("pricing_unit", "pricing/unit", "text"),
    ("reservation_reservation_a_r_n", "reservation/ReservationARN", "text"),
    ("reservation_effective_cost", "reservation/EffectiveCost", "money"),
    ("reservation_unused_amortized_upfront_fee_for_billing_period", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod", "money"),
    ("reservation_unused_recurring_fee", "reservation/UnusedRecurringFee", "money"),
    ("reservation_unused_quantity", "reservation/UnusedQuantity", "qty"),
    ("savings_plan_savings_plan_a_r_n", "savingsPlan/SavingsPlanARN", "text"),
    ("savings_plan_savings_plan_effective_cost", "savingsPlan/SavingsPlanEffectiveCost", "money"),
    ("savings_plan_total_commitment_to_date", "savingsPlan/TotalCommitmentToDate", "money"),
    ("savings_plan_used_commitment", "savingsPlan/UsedCommitment", "money"),
]
# Legacy-only columns: the product name (a map entry in CUR 2.0) and the tags.
V1_EXTRA = [
    ("product/ProductName", "svc_name"),
    ("resourceTags/user:Team", "tag_team"),
    ("resourceTags/user:Environment", "tag_env"),
    ("costCategory/Department", "cc_department"),
]
V1_TYPES = {"text": "String", "money": "OptionalBigDecimal", "rate": "OptionalBigDecimal", "qty": "OptionalBigDecimal", "time": "DateTime"}


def values(rows):
    return ", ".join("(" + ", ".join("NULL" if v is None else "'" + str(v).replace("'", "''") + "'" for v in r) + ")" for r in rows)


def base_sql(args):
    """The generated line items, one per row number: exact DECIMAL money, or with --dirty,
    DOUBLE money, rates and quantities carrying floating-point noise."""
    per = -(-args.rows // args.months)
    if args.dirty:
        # x 1.1 and / 3 make most values inexact in binary; every 97th quantity is tiny, every
        # 89th huge; every 7th credit is negative zero (see `items`).
        amount = ("CAST(amount AS DOUBLE) * 1.1 * CASE WHEN h1 % 97 = 0 THEN 1e-9 WHEN h1 % 89 = 0 THEN 1e6 ELSE 1 END")
        fee = "CAST(fee AS DOUBLE) * 1.1"
        rate = "CAST(CASE WHEN ty = 'Fee' THEN support.rate ELSE svc.rate END AS DOUBLE) / 3"
        money = "DOUBLE"
        unused_qty = "CAST(h3 % 100 + 1 AS DOUBLE) / 3"
    else:
        amount, fee = "amount", "fee"
        rate = "CAST(CASE WHEN ty = 'Fee' THEN support.rate ELSE svc.rate END AS DECIMAL(18, 6))"
        money = "DECIMAL(38, 12)"
        unused_qty = "CAST(h3 % 100 + 1 AS DECIMAL(18, 3))"
    return f"""
    CREATE OR REPLACE TABLE svc AS SELECT row_number() OVER () - 1 AS sid, * FROM (VALUES {values(SERVICES)})
        t(code, name, family, usage_type, operation, unit, rate, res);
    CREATE OR REPLACE TABLE support AS SELECT * FROM (VALUES {values([SUPPORT])})
        t(code, name, family, usage_type, operation, unit, rate, res);
    CREATE OR REPLACE TABLE region AS SELECT row_number() OVER () - 1 AS rid, * FROM (VALUES {values(REGIONS)}) t(code, location);
    CREATE OR REPLACE VIEW h AS
      SELECT i, i // {per} AS m, i % {args.parts} AS part,
             (i * 2654435761 + {args.seed} * 97 + {args.revision} * 7919) % 4294967291 AS h1
      FROM range({args.rows}) t(i);
    CREATE OR REPLACE VIEW h2 AS
      SELECT *, (h1 * 1103515245 + 12345) % 2147483648 AS h2 FROM h;
    CREATE OR REPLACE VIEW hh AS
      SELECT *, (h2 * 1103515245 + 12345) % 2147483648 AS h3, h1 % 1000 AS t,
             (DATE '{args.start}-01' + to_months(CAST(m AS INTEGER)))::TIMESTAMP AS ps,
             (DATE '{args.start}-01' + to_months(CAST(m AS INTEGER) + 1))::TIMESTAMP AS pe
      FROM h2;
    CREATE OR REPLACE VIEW typed AS
      SELECT *,
        CASE WHEN t < {args.usage_share} THEN 'Usage' WHEN t < 890 THEN 'DiscountedUsage' WHEN t < 930 THEN 'SavingsPlanCoveredUsage'
             WHEN t < 960 THEN 'SavingsPlanNegation' WHEN t < 975 THEN 'Tax' WHEN t < 985 THEN 'Credit' WHEN t < 990 THEN 'Fee'
             WHEN t < 994 THEN 'RIFee' WHEN t < 998 THEN 'SavingsPlanRecurringFee' ELSE 'Refund' END AS ty,
        CAST((h2 % 100000) + 1 AS DECIMAL(18, 0)) * CAST(0.001 AS DECIMAL(4, 3)) AS amount,
        CAST(h2 % 50000 + 100 AS DECIMAL(18, 0)) * CAST(0.01 AS DECIMAL(3, 2)) AS fee,
        printf('%012d', 200000000000 + (h3 % {ACCOUNTS}) * 111111) AS account
      FROM hh;
    CREATE OR REPLACE VIEW typed_dirty AS
      SELECT * REPLACE ({amount} AS amount, {fee} AS fee) FROM typed;
    CREATE OR REPLACE VIEW base AS
      SELECT typed.*,
        CASE WHEN ty = 'Fee' THEN support.code ELSE svc.code END AS svc_code,
        CASE WHEN ty = 'Fee' THEN support.name ELSE svc.name END AS svc_name,
        CASE WHEN ty = 'Fee' THEN support.family ELSE svc.family END AS svc_family,
        CASE WHEN ty = 'Fee' THEN support.unit ELSE svc.unit END AS unit,
        CASE WHEN ty = 'Fee' THEN support.operation ELSE svc.operation END AS operation,
        CASE WHEN ty = 'Fee' THEN support.usage_type
             WHEN svc.sid = 0 AND h3 % 10 = 0 AND ty = 'Usage' THEN 'SpotUsage:m5.large' ELSE svc.usage_type END AS usage_type,
        {rate} AS rate,
        CASE WHEN ty NOT IN ('Fee', 'Tax', 'Credit', 'RIFee', 'SavingsPlanRecurringFee') AND svc.res IS NOT NULL
             THEN svc.res || printf('%06x', h3 % 3000) END AS resource,
        CASE WHEN ty <> 'Fee' THEN region.code END AS region_code,
        CASE WHEN ty <> 'Fee' THEN region.location END AS region_location,
        CASE WHEN svc.sid IN (0, 1) AND ty IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage') THEN region.code || chr(97 + CAST(h2 % 3 AS INTEGER)) END AS az,
        CASE WHEN h3 % 10 < 3 THEN {sql_list(TEAMS)}[1 + CAST(h2 % {len(TEAMS)} AS INTEGER)] END AS tag_team,
        CASE WHEN h3 % 2 = 0 THEN {sql_list(ENVS)}[1 + CAST(h1 % {len(ENVS)} AS INTEGER)] END AS tag_env,
        CASE WHEN h1 % 4 = 0 THEN 'Engineering' WHEN h1 % 4 = 1 THEN 'Research' END AS cc_department,
        'arn:aws:ec2:us-east-1:{PAYER}:reserved-instances/ri-' || printf('%04d', h3 % 3) AS ri_arn,
        'arn:aws:savingsplans::{PAYER}:savingsplan/sp-' || printf('%04d', h3 % 2) AS sp_arn,
        CASE WHEN ty IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'Refund')
             THEN ps + to_hours(CAST(h2 % (24 * 28) AS INTEGER)) ELSE ps END AS us,
        CASE WHEN ty IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'Refund')
             THEN ps + to_hours(CAST(h2 % (24 * 28) AS INTEGER) + 1) ELSE pe END AS ue
      FROM typed_dirty AS typed
      JOIN svc ON svc.sid = CASE WHEN ty IN ('DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'RIFee', 'SavingsPlanRecurringFee') THEN 0
                                 ELSE h2 % {len(SERVICES)} END
      CROSS JOIN support
      JOIN region ON region.rid = CASE WHEN ty IN ('DiscountedUsage', 'RIFee') THEN 0 ELSE h3 % {len(REGIONS)} END;
    CREATE OR REPLACE VIEW items AS
      SELECT *,
        CAST(CASE ty WHEN 'Usage' THEN amount * rate WHEN 'DiscountedUsage' THEN 0 WHEN 'SavingsPlanCoveredUsage' THEN amount * rate
                WHEN 'SavingsPlanNegation' THEN -(amount * rate) WHEN 'Tax' THEN fee * CAST(0.01 AS DECIMAL(3, 2))
                WHEN 'Credit' THEN CASE WHEN {1 if args.dirty else 0} = 1 AND h1 % 7 = 0 THEN CAST('-0.0' AS DOUBLE) ELSE -(fee * CAST(0.1 AS DECIMAL(2, 1))) END
                WHEN 'Fee' THEN fee WHEN 'RIFee' THEN fee WHEN 'SavingsPlanRecurringFee' THEN fee ELSE -(amount * rate) END
             AS {money}) AS cost,
        CASE WHEN ty IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'Refund') THEN amount * rate END AS public_cost,
        CASE WHEN ty = 'DiscountedUsage' THEN amount * rate * CAST(0.6 AS DECIMAL(2, 1)) END AS ri_effective,
        CASE WHEN ty = 'SavingsPlanCoveredUsage' THEN amount * rate * CAST(0.72 AS DECIMAL(3, 2)) END AS sp_effective,
        CASE WHEN ty = 'RIFee' THEN fee * CAST(0.1 AS DECIMAL(2, 1)) END AS ri_unused_upfront,
        CASE WHEN ty = 'RIFee' THEN fee * CAST(0.05 AS DECIMAL(3, 2)) END AS ri_unused_recurring,
        CASE WHEN ty = 'RIFee' THEN {unused_qty} END AS ri_unused_qty,
        CASE WHEN ty = 'SavingsPlanRecurringFee' THEN fee END AS sp_total,
        CASE WHEN ty = 'SavingsPlanRecurringFee' THEN fee * CAST(0.8 AS DECIMAL(2, 1)) END AS sp_used
      FROM base;
    """


def sql_list(items):
    return "[" + ", ".join("'" + i + "'" for i in items) + "]"


def ts(col):
    return f"strftime({col}, '%Y-%m-%dT%H:%M:%SZ')"


def column_exprs(args):
    """(CUR 2.0 name, SQL over `items`, type) for the shared columns."""
    e = {
        "identity_line_item_id": "printf('%08x%08x%04x', h1, h2, i % 65536)",
        "identity_time_interval": f"{ts('us')} || '/' || {ts('ue')}",
        "bill_invoice_id": f"'{args.seed % 1000:03d}' || strftime(ps, '%Y%m') || '{args.revision}'",
        "bill_invoicing_entity": "'Amazon Web Services, Inc.'",
        "bill_billing_entity": "'AWS'",
        "bill_bill_type": "CASE WHEN ty = 'Refund' THEN 'Refund' WHEN ty IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Anniversary' ELSE 'Anniversary' END",
        "bill_payer_account_id": f"'{PAYER}'",
        "bill_payer_account_name": "'Generated Payer'",
        "bill_billing_period_start_date": "ps",
        "bill_billing_period_end_date": "pe",
        "line_item_usage_account_id": "account",
        "line_item_usage_account_name": "'account-' || right(account, 4)",
        "line_item_line_item_type": "ty",
        "line_item_usage_start_date": "us",
        "line_item_usage_end_date": "ue",
        "line_item_product_code": "svc_code",
        "line_item_usage_type": "usage_type",
        "line_item_operation": "operation",
        "line_item_availability_zone": "az",
        "line_item_resource_id": "resource",
        "line_item_usage_amount": "CASE WHEN ty IN ('Tax', 'Credit', 'Fee', 'RIFee', 'SavingsPlanRecurringFee') THEN CAST(1 AS DECIMAL(18, 3)) ELSE amount END",
        "line_item_currency_code": "'USD'",
        "line_item_unblended_rate": "CASE WHEN ty IN ('Usage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'Refund') THEN rate END",
        "line_item_unblended_cost": "cost",
        "line_item_blended_cost": "cost",
        "line_item_line_item_description": "ty || ' of ' || svc_name || ' (' || usage_type || ')'",
        "line_item_legal_entity": "'Amazon Web Services, Inc.'",
        "line_item_tax_type": "CASE WHEN ty = 'Tax' THEN 'VAT' END",
        "product_product_family": "svc_family",
        "product_region_code": "region_code",
        "product_location": "region_location",
        "product_servicecode": "svc_code",
        "product_sku": "CASE WHEN ty NOT IN ('Tax', 'Credit') THEN upper(substr(md5(svc_code || usage_type || coalesce(region_code, '')), 1, 16)) END",
        "product_instance_type": "CASE WHEN usage_type LIKE '%m5.large' THEN 'm5.large' END",
        "product_usagetype": "usage_type",
        "pricing_rate_code": "CASE WHEN ty NOT IN ('Tax', 'Credit') THEN upper(substr(md5(svc_code || usage_type || coalesce(region_code, '')), 1, 16)) || '.JRTCKXETXF.6YS6EN2CT7' END",
        "pricing_rate_id": "CASE WHEN ty NOT IN ('Tax', 'Credit') THEN CAST(h2 % 900000 + 100000 AS VARCHAR) END",
        "pricing_currency": "'USD'",
        "pricing_public_on_demand_cost": "public_cost",
        "pricing_public_on_demand_rate": "CASE WHEN public_cost IS NOT NULL THEN rate END",
        "pricing_term": "CASE WHEN ty IN ('Usage', 'Refund') THEN 'OnDemand' WHEN ty IN ('DiscountedUsage', 'RIFee') THEN 'Reserved' END",
        "pricing_unit": "unit",
        "reservation_reservation_a_r_n": "CASE WHEN ty IN ('DiscountedUsage', 'RIFee') THEN ri_arn END",
        "reservation_effective_cost": "ri_effective",
        "reservation_unused_amortized_upfront_fee_for_billing_period": "ri_unused_upfront",
        "reservation_unused_recurring_fee": "ri_unused_recurring",
        "reservation_unused_quantity": "ri_unused_qty",
        "savings_plan_savings_plan_a_r_n": "CASE WHEN ty IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'SavingsPlanRecurringFee') THEN sp_arn END",
        "savings_plan_savings_plan_effective_cost": "sp_effective",
        "savings_plan_total_commitment_to_date": "sp_total",
        "savings_plan_used_commitment": "sp_used",
    }
    return [(name, e[name], ty, header) for name, header, ty in COLUMNS]


def text(expr, ty):
    """A value as CSV text: exact decimals with trailing zeros trimmed, ISO timestamps. With
    --dirty, a double's shortest round-trip text (DuckDB's `1.4901161193847656e-08`), on
    every other row as Java prints it (`1.4901161193847656E-8`, `1.0E20`)."""
    if ty == "time":
        return ts(expr)
    if ty in ("money", "rate", "qty"):
        v = f"CAST({expr} AS VARCHAR)"
        if DIRTY:
            return (f"CASE WHEN h1 % 2 = 0 THEN regexp_replace(regexp_replace({v}, 'e\\+?0*([0-9])', 'E\\1'), 'e-0*([0-9])', 'E-\\1') ELSE {v} END")
        return f"CASE WHEN contains({v}, '.') THEN rtrim(rtrim({v}, '0'), '.') ELSE {v} END"
    return expr


def maps():
    return {
        "product": "map_from_entries(list_filter([{'key': 'product_name', 'value': svc_name}, {'key': 'region', 'value': region_code}, {'key': 'servicename', 'value': svc_name}], x -> x.value IS NOT NULL))",
        "resource_tags": "map_from_entries(list_filter([{'key': 'user_team', 'value': tag_team}, {'key': 'user_environment', 'value': tag_env}], x -> x.value IS NOT NULL))",
        "cost_category": "map_from_entries(list_filter([{'key': 'department', 'value': cc_department}], x -> x.value IS NOT NULL))",
        "discount": "CAST(map_from_entries(list_filter([{'key': 'edp_discount', 'value': CAST(NULL AS DOUBLE)}], x -> x.value IS NOT NULL)) AS MAP(VARCHAR, DOUBLE))",
    }


def select_cur1():
    cols = [(header, text(expr, ty), V1_TYPES[ty]) for _, expr, ty, header in column_exprs_cache if header]
    cols += [(header, expr, "String") for header, expr in V1_EXTRA]
    return cols


def select_cur2(fmt):
    cols = []
    for name, expr, ty, _ in column_exprs_cache:
        if fmt == "parquet":
            if ty == "money" or ty == "qty":
                expr = f"CAST({expr} AS DOUBLE)"
            elif ty == "rate":
                expr = text(expr, ty)
        else:
            expr = text(expr, ty)
        cols.append((name, expr, {"money": "double", "qty": "double", "time": "timestamp"}.get(ty, "string")))
    for name, expr in maps().items():
        cols.append((name, expr if fmt == "parquet" else f"CAST(to_json({expr}) AS VARCHAR)", "map"))
    return cols


def select_focus(fmt):
    """AWS's FOCUS 1.0 export of the same line items (SavingsPlanNegation folded away)."""
    cat = ("CASE WHEN ty IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'Refund') THEN 'Usage' WHEN ty = 'Tax' THEN 'Tax' "
           "WHEN ty = 'Credit' THEN 'Credit' ELSE 'Purchase' END")
    priced = "ty IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'Fee', 'RIFee', 'SavingsPlanRecurringFee')"
    commit = "CASE WHEN ty IN ('DiscountedUsage', 'RIFee') THEN ri_arn WHEN ty IN ('SavingsPlanCoveredUsage', 'SavingsPlanRecurringFee') THEN sp_arn END"
    qty = f"CASE WHEN {priced} THEN CASE WHEN ty IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee') THEN CAST(1 AS DECIMAL(18, 3)) ELSE amount END END"
    lup = f"CASE WHEN {priced} THEN CASE WHEN ty IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee') THEN cost ELSE rate END END"
    effective = ("CASE ty WHEN 'DiscountedUsage' THEN ri_effective WHEN 'SavingsPlanCoveredUsage' THEN sp_effective "
                 "WHEN 'RIFee' THEN 0 WHEN 'SavingsPlanRecurringFee' THEN 0 ELSE cost END")
    billed = "CASE WHEN ty = 'SavingsPlanCoveredUsage' THEN 0 ELSE cost END"
    list_cost = f"CASE WHEN {priced} THEN ({lup}) * ({qty}) ELSE {billed} END"
    cols = {
        "AvailabilityZone": ("az", "string"),
        "BilledCost": (billed, "money"),
        "BillingAccountId": (f"'{PAYER}'", "string"),
        "BillingAccountName": ("'Generated Payer'", "string"),
        "BillingCurrency": ("'USD'", "string"),
        "BillingPeriodEnd": ("pe", "time"),
        "BillingPeriodStart": ("ps", "time"),
        "ChargeCategory": (cat, "string"),
        "ChargeClass": ("CASE WHEN ty = 'Refund' THEN 'Correction' END", "string"),
        "ChargeDescription": ("ty || ' of ' || svc_name", "string"),
        "ChargeFrequency": (f"CASE WHEN {cat} = 'Usage' THEN 'Usage-Based' WHEN ty IN ('RIFee', 'SavingsPlanRecurringFee', 'Tax') THEN 'Recurring' ELSE 'One-Time' END", "string"),
        "ChargePeriodEnd": ("ue", "time"),
        "ChargePeriodStart": ("us", "time"),
        "CommitmentDiscountCategory": (f"CASE WHEN ty IN ('DiscountedUsage', 'RIFee') THEN 'Usage' WHEN ({commit}) IS NOT NULL THEN 'Spend' END", "string"),
        "CommitmentDiscountId": (commit, "string"),
        "CommitmentDiscountName": (f"regexp_extract({commit}, '[^/:]+$')", "string"),
        "CommitmentDiscountStatus": (f"CASE WHEN ({commit}) IS NOT NULL AND {cat} = 'Usage' THEN 'Used' END", "string"),
        "CommitmentDiscountType": (f"CASE WHEN ty IN ('DiscountedUsage', 'RIFee') THEN 'Reserved Instance' WHEN ({commit}) IS NOT NULL THEN 'Savings Plan' END", "string"),
        "ConsumedQuantity": (f"CASE WHEN {cat} = 'Usage' AND ty <> 'Refund' THEN amount END", "qty"),
        "ConsumedUnit": (f"CASE WHEN {cat} = 'Usage' AND ty <> 'Refund' THEN unit END", "string"),
        "ContractedCost": (list_cost, "money"),
        "ContractedUnitPrice": (lup, "rate"),
        "EffectiveCost": (effective, "money"),
        "InvoiceIssuerName": ("'Amazon Web Services, Inc.'", "string"),
        "ListCost": (list_cost, "money"),
        "ListUnitPrice": (lup, "rate"),
        "PricingCategory": (f"CASE WHEN NOT ({priced}) THEN NULL WHEN ({commit}) IS NOT NULL AND {cat} = 'Usage' THEN 'Committed' WHEN usage_type LIKE '%SpotUsage%' THEN 'Dynamic' ELSE 'Standard' END", "string"),
        "PricingQuantity": (qty, "qty"),
        "PricingUnit": (f"CASE WHEN {priced} THEN unit END", "string"),
        "ProviderName": ("'AWS'", "string"),
        "PublisherName": ("'Amazon Web Services, Inc.'", "string"),
        "RegionId": ("region_code", "string"),
        "RegionName": ("region_location", "string"),
        "ResourceId": ("resource", "string"),
        "ResourceName": ("CAST(NULL AS VARCHAR)", "string"),
        "ResourceType": ("CASE WHEN resource IS NOT NULL THEN svc_family END", "string"),
        "ServiceCategory": ("svc_category", "string"),
        "ServiceName": ("svc_name", "string"),
        "SkuId": (f"CASE WHEN {priced} THEN upper(substr(md5(svc_code || usage_type || coalesce(region_code, '')), 1, 16)) END", "string"),
        "SkuPriceId": (f"CASE WHEN {priced} THEN upper(substr(md5(svc_code || usage_type || coalesce(region_code, '')), 1, 16)) || '.JRTCKXETXF' END", "string"),
        "SubAccountId": ("account", "string"),
        "SubAccountName": ("'account-' || right(account, 4)", "string"),
        "Tags": (maps()["resource_tags"].replace("user_team", "user:Team").replace("user_environment", "user:Environment"), "map"),
        "x_CostCategories": (maps()["cost_category"], "map"),
        "x_Discounts": (maps()["discount"], "map"),
        "x_Operation": ("operation", "string"),
        "x_ServiceCode": ("svc_code", "string"),
        "x_UsageType": ("usage_type", "string"),
    }
    out = []
    for name, (expr, ty) in cols.items():
        if fmt == "parquet":
            if ty in ("money", "qty", "rate"):
                expr = f"CAST({expr} AS DOUBLE)"
        else:
            expr = f"CAST(to_json({expr}) AS VARCHAR)" if ty == "map" else text(expr, ty)
        out.append((name, expr, {"money": "double", "qty": "double", "rate": "double", "time": "timestamp"}.get(ty, ty if ty == "map" else "string")))
    return out


def uuid(args, m):
    return f"{args.seed:08x}-{args.revision:04x}-4000-8000-{m:012x}"


def copy(con, select, where, path, fmt):
    """Writes one data file."""
    cur = con.cursor()
    opts = "FORMAT parquet, COMPRESSION snappy" if fmt == "parquet" else "FORMAT csv, HEADER true, COMPRESSION gzip"
    cur.execute(f"COPY (SELECT {select} FROM items_src WHERE {where}) TO '{path}' ({opts})")
    cur.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=["cur1", "cur2", "focus"], required=True)
    p.add_argument("--format", choices=["csv", "parquet"], default=None, help="default: csv for cur1, parquet otherwise")
    p.add_argument("--rows", type=int, required=True, help="line items in all")
    p.add_argument("--months", type=int, default=1, help="billing periods, rows spread evenly")
    p.add_argument("--start", default="2024-01", help="first billing period, YYYY-MM")
    p.add_argument("--export", required=True, help="report / export name")
    p.add_argument("--prefix", default="", help="S3 prefix inside the tree (no slashes at the ends)")
    p.add_argument("--bucket", default="finops-generated", help="bucket named in CUR 2.0 manifests")
    p.add_argument("--out", required=True, help="root of the tree (stands for s3://BUCKET/)")
    p.add_argument("--parts", type=int, default=0, help="files per period (default: one per 500k rows)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--revision", type=int, default=0, help="a re-issue: new version id, other values")
    p.add_argument("--usage-share", type=int, default=850, help="per mille of plain Usage rows")
    p.add_argument("--totals", required=True, help="JSON file for the generator's totals")
    p.add_argument("--dirty", action="store_true", help="floating-point money, rates and quantities (see above)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = p.parse_args()
    global DIRTY
    DIRTY = args.dirty
    fmt = args.format or ("csv" if args.kind == "cur1" else "parquet")
    if args.kind == "cur1" and fmt != "csv":
        sys.exit("cur1 is generated as csv.gz only")
    if args.parts <= 0:
        args.parts = max(1, -(-args.rows // args.months // 500_000))

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute(base_sql(args))
    categories = os.path.join(os.path.dirname(__file__), "..", "..", "vendors", "aws", "data", "service_categories.csv")
    con.execute(f"CREATE TABLE cats AS SELECT * FROM read_csv('{categories}', header = true, all_varchar = true)")
    cat_cols = [r[0] for r in con.execute(f"DESCRIBE cats").fetchall()]
    con.execute(f"CREATE VIEW items_src AS SELECT items.*, coalesce(cats.\"{cat_cols[1]}\", 'Other') AS svc_category "
                f"FROM items LEFT JOIN cats ON cats.\"{cat_cols[0]}\" = items.svc_code")
    global column_exprs_cache
    column_exprs_cache = column_exprs(args)
    cols = select_cur1() if args.kind == "cur1" else select_cur2(fmt) if args.kind == "cur2" else select_focus(fmt)
    select = ", ".join(f"{expr} AS \"{name}\"" for name, expr, _ in cols)
    # AWS's FOCUS export folds Savings Plan negation into the covered usage (BilledCost 0).
    keep = "ty <> 'SavingsPlanNegation'" if args.kind == "focus" else "TRUE"
    cost_col = "BilledCost" if args.kind == "focus" else "lineItem/UnblendedCost" if args.kind == "cur1" else "line_item_unblended_cost"

    root = os.path.join(args.out, args.prefix) if args.prefix else args.out
    base = os.path.join(root, args.export)
    jobs, totals = [], {}
    ext = "csv.gz" if fmt == "csv" else "snappy.parquet"
    for m in range(args.months):
        start = con.execute(f"SELECT DATE '{args.start}-01' + to_months({m}), DATE '{args.start}-01' + to_months({m + 1})").fetchone()
        period = start[0].strftime("%Y-%m")
        ymd = f"{start[0].strftime('%Y%m%d')}-{start[1].strftime('%Y%m%d')}"
        version = uuid(args, m)
        s3 = lambda rel: f"{args.prefix + '/' if args.prefix else ''}{args.export}/{rel}"
        if args.kind == "cur1":
            folder = os.path.join(base, ymd, version)
            rels = [f"{ymd}/{version}/{args.export}-{k + 1:05d}.{ext}" for k in range(args.parts)]
        else:
            folder = os.path.join(base, "data", f"BILLING_PERIOD={period}")
            rels = [f"data/BILLING_PERIOD={period}/{args.export}-{k + 1:05d}.{ext}" for k in range(args.parts)]
        os.makedirs(folder, exist_ok=True)
        for k, rel in enumerate(rels):
            jobs.append((f"m = {m} AND part = {k} AND {keep}", os.path.join(base, rel)))
        row = con.execute(
            f"SELECT count(*), CAST(sum(c) AS VARCHAR), count(*) FILTER (WHERE unused) FROM ("
            f"SELECT CAST(CAST(\"{cost_col}\" AS VARCHAR) AS DECIMAL(38, 18)) AS c, "
            f"{'FALSE' if args.kind == 'focus' else 'ty IN (' + repr('RIFee') + ', ' + repr('SavingsPlanRecurringFee') + ')'} AS unused "
            f"FROM (SELECT {select}, ty FROM items_src WHERE m = {m} AND {keep}))"
        ).fetchone()
        totals[period] = {"rows": row[0], "cost": trim(row[1]), "focus_rows": row[0] + row[2], "version": version, "files": len(rels)}
        if args.dirty:
            cost, stored = exact_sums(con, select, f"m = {m} AND {keep}", cost_col, fmt)
            totals[period].update({"cost": cost, "cost_stored": stored})
        else:
            totals[period]["cost_stored"] = totals[period]["cost"]
        if args.kind == "cur1":
            manifest = {
                "assemblyId": version, "account": PAYER,
                "columns": [{"category": h.split("/", 1)[0], "name": h.split("/", 1)[1], "type": t} for h, _, t in cols],
                "charset": "UTF-8", "compression": "GZIP", "contentType": "text/csv",
                "reportId": f"{args.seed:08x}", "reportName": args.export,
                "billingPeriod": {"start": start[0].strftime("%Y%m%dT000000.000Z"), "end": start[1].strftime("%Y%m%dT000000.000Z")},
                "bucket": args.bucket, "reportKeys": [s3(r) for r in rels], "additionalArtifactKeys": [],
            }
            for d in (os.path.join(base, ymd), folder):
                with open(os.path.join(d, f"{args.export}-Manifest.json"), "w") as f:
                    json.dump(manifest, f, indent=2)
        else:
            meta = os.path.join(base, "metadata", f"BILLING_PERIOD={period}")
            os.makedirs(meta, exist_ok=True)
            manifest = {
                "executionId": version,
                "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER}:export/{args.export}-{args.seed:08x}",
                "exportName": args.export,
                "billingPeriod": {"start": start[0].strftime("%Y-%m-%dT00:00:00.000Z"), "end": start[1].strftime("%Y-%m-%dT00:00:00.000Z")},
                "columns": [{"name": n, "type": t} for n, _, t in cols],
                "dataFiles": [f"s3://{args.bucket}/{s3(r)}" for r in rels],
            }
            with open(os.path.join(meta, f"{args.export}-Manifest.json"), "w") as f:
                json.dump(manifest, f, indent=2)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.threads)) as pool:
        for f in [pool.submit(copy, con, select, where, path, fmt) for where, path in jobs]:
            f.result()
    summary = {
        "kind": args.kind, "format": fmt, "export": args.export, "prefix": args.prefix,
        "rows": sum(t["rows"] for t in totals.values()),
        "cost": exact(sum((Decimal(t["cost"] or "0") for t in totals.values()), Decimal(0))),
        "periods": totals,
    }
    with open(args.totals, "w") as f:
        json.dump(summary, f, indent=2)


def trim(v):
    if v is None:
        return None
    return v.rstrip("0").rstrip(".") if "." in v else v


column_exprs_cache = []
DIRTY = False


def exact_sums(con, select, where, cost_col, fmt):
    """(exact sum, sum of each value rounded half to even to 18 decimals) of the cost column as
    written: its CSV text, or the shortest round-trip text of its Parquet double (Python's
    repr, independent of DuckDB's formatting)."""
    from decimal import Decimal, ROUND_HALF_EVEN, getcontext
    getcontext().prec = 200
    q = Decimal("1e-18")
    total, stored = Decimal(0), Decimal(0)
    cur = con.cursor()
    cur.execute(f"SELECT \"{cost_col}\" FROM (SELECT {select} FROM items_src WHERE {where})")
    while True:
        chunk = cur.fetchmany(100000)
        if not chunk:
            break
        for (v,) in chunk:
            if v is None or v == "":
                continue
            d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
            total += d
            stored += d.quantize(q, rounding=ROUND_HALF_EVEN)
    cur.close()
    return exact(total), exact(stored)


def exact(d):
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s

if __name__ == "__main__":
    main()
