#!/usr/bin/env python3
"""Deterministic Oracle Cloud FOCUS reports for the tests (no real one is public), in the
layout of Oracle's reports bucket (namespace bling, bucket = tenancy OCID):

    <out>/<root>/FOCUS Reports/YYYY/MM/DD/<tenancy>_<YYYYMMDD>_<n>-0000<k>.csv.gz

Shaped after ../shared/reference/gcp-oci.md section 6 and focus-and-sources.md 7.3: FOCUS
1.0-preview names (Provider, Publisher, InvoiceIssuer, Region, UsageQuantity, UsageUnit,
ChargeSubcategory) with `oci_*` extensions; the first days of a month carry that header, later
days a newer one that adds 1.1/1.2 columns (BillingAccountType, SubAccountType, InvoiceId,
ContractedCost, ContractedUnitPrice, RegionName, ServiceSubCategory (sic), PricingCurrency, and
`PricingCurrencyEffectiveCost ` with a trailing space);
present-but-empty columns (BillingAccountName, InvoiceIssuer, PricingCategory, ResourceName,
CommitmentDiscount*, SkuPriceId); `Usage-based`; times with and without seconds
(`2024-01-03T05:00Z`); a correction row (ChargeSubcategory Refund, oci_BackReferenceNumber);
the first day's report split in two parts (-00001, -00002). --dirty writes costs as binary
floating point's shortest text (some in E-notation). --revision N adds N late files to every
month (corrections arriving later), a new version of each month.

Writes its totals per month (under "periods": the version finops gives it up to the
fingerprint, rows, exact BilledCost as finops stores it) to --totals.
"""

import argparse
import datetime as dt
import gzip
import json
import os
import random
from decimal import Decimal, ROUND_HALF_EVEN

TENANCY = "ocid1.tenancy.oc1..aaaaaaaafinopstestfinopstestfinopstestfinopstest"
OLD = ("AvailabilityZone,BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,"
       "BillingPeriodStart,ChargeCategory,ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,"
       "ChargeSubcategory,CommitmentDiscountCategory,CommitmentDiscountId,CommitmentDiscountName,"
       "CommitmentDiscountType,EffectiveCost,InvoiceIssuer,ListCost,ListUnitPrice,PricingCategory,PricingQuantity,"
       "PricingUnit,Provider,Publisher,Region,ResourceId,ResourceName,ResourceType,ServiceCategory,ServiceName,SkuId,"
       "SkuPriceId,SubAccountId,SubAccountName,Tags,UsageQuantity,UsageUnit,oci_ReferenceNumber,oci_CompartmentId,"
       "oci_CompartmentName,oci_OverageFlag,oci_UnitPriceOverage,oci_BilledQuantityOverage,oci_CostOverage,"
       "oci_AttributedUsage,oci_AttributedCost,oci_BackReferenceNumber").split(",")
NEW = OLD + ["BillingAccountType", "SubAccountType", "InvoiceId", "ContractedCost", "ContractedUnitPrice",
             "RegionName", "ServiceSubCategory", "PricingCurrency",
             # Oracle's own loader reads this name with a trailing space.
             "PricingCurrencyEffectiveCost "]
SERVICES = [
    ("COMPUTE", "Compute", "Virtual Machines", "B88514", "Compute - Standard - E4 - OCPU", "0.025", "OCPU Per Hour", "OCPU Hours"),
    ("BLOCK_STORAGE", "Storage", "Block Storage", "B91961", "Storage - Block Volume - Storage", "0.0255", "Gigabyte Storage Capacity Per Month", "GB Months"),
    ("OBJECTSTORE", "Storage", "Object Storage", "B91628", "Object Storage - Storage", "0.0255", "Gigabyte Storage Capacity Per Month", "GB Months"),
    ("DATABASE", "Databases", "Relational Databases", "B92911", "Oracle APEX Application Development", "0.14717133", "OCPU Per Hour", "OCPU Hours"),
    ("NETWORK", "Networking", "Network Infrastructure", "B88327", "Outbound Data Transfer Zone 1", "0.0085", "Gigabyte Outbound Data Transfer Per Month", "GB"),
]


def q18(v):
    return v.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN)


def money(f, i, dirty):
    if not dirty:
        return str(Decimal(repr(f)).quantize(Decimal("1e-12")))
    t = repr(f)
    return t.replace("e", "E") if "e" in t and i % 2 else t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default="")
    ap.add_argument("--export", default="focus-reports", help="ignored: Oracle's layout names the stream")
    ap.add_argument("--months", default="2024-01,2024-02")
    ap.add_argument("--rows", type=int, default=60, help="rows per month (over its days)")
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--revision", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dirty", action="store_true")
    ap.add_argument("--totals")
    args = ap.parse_args()
    base = os.path.join(args.out, args.root, "FOCUS Reports")
    totals = {}
    seq = 0
    for ym in args.months.split(","):
        year, month = map(int, ym.split("-"))
        rnd = random.Random(args.seed * 100 + year * 12 + month)
        start = dt.datetime(year, month, 1)
        end = dt.datetime(year + (month == 12), month % 12 + 1, 1)
        billed, rows, files = Decimal(0), 0, []
        per_day = max(1, args.rows // args.days)
        for day in range(1, args.days + 1 + args.revision):
            late = day > args.days
            header = OLD if day <= max(1, args.days // 2) else NEW
            d = start + dt.timedelta(days=day - 1)
            records = []
            n_rows = 2 if late else per_day
            for i in range(n_rows):
                k = rows + i
                svc = SERVICES[k % len(SERVICES)]
                qty = Decimal(rnd.randint(1, 48000)) / Decimal(1000)
                cost_f = float(qty * Decimal(svc[5]))
                if args.dirty:
                    cost_f = cost_f + 0.1 + 0.2 - 0.30000000000000004
                correction = late or (i == 1 and day == 2)
                if correction:
                    cost_f = -cost_f / 4
                cost = money(cost_f, k, args.dirty)
                t0 = d + dt.timedelta(hours=k % 24)
                ts = lambda t, j: t.strftime("%Y-%m-%dT%H:%MZ") if j % 3 == 0 else t.strftime("%Y-%m-%dT%H:%M:%SZ")
                ref = f"{year}{month:02d}{k:06d}{args.seed}"
                r = {
                    "AvailabilityZone": "IYfA:US-ASHBURN-AD-1" if k % 2 else "",
                    "BilledCost": cost, "EffectiveCost": cost,
                    "BillingAccountId": "30000269", "BillingAccountName": "", "BillingCurrency": "USD",
                    "BillingPeriodStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "BillingPeriodEnd": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ChargeCategory": "Usage", "ChargeDescription": svc[4],
                    "ChargeFrequency": "Usage-based" if k % 2 else "Usage-Based",
                    "ChargePeriodStart": ts(t0, k), "ChargePeriodEnd": ts(t0 + dt.timedelta(hours=1), k + 1),
                    "ChargeSubcategory": "Refund" if correction else "On-Demand",
                    "CommitmentDiscountCategory": "", "CommitmentDiscountId": "", "CommitmentDiscountName": "", "CommitmentDiscountType": "",
                    "InvoiceIssuer": "", "ListCost": money(float(qty * Decimal(svc[5])) * (-0.25 if correction else 1), k + 1, args.dirty),
                    "ListUnitPrice": svc[5], "PricingCategory": "", "PricingQuantity": str(qty), "PricingUnit": svc[7],
                    "Provider": "Oracle", "Publisher": "Oracle", "Region": "us-ashburn-1",
                    "ResourceId": f"ocid1.instance.oc1.iad.anuwcljt{k % 13:04d}", "ResourceName": "",
                    "ResourceType": "instance", "ServiceCategory": svc[1], "ServiceName": svc[0], "SkuId": svc[3], "SkuPriceId": "",
                    "SubAccountId": f"ocid1.compartment.oc1..aaaa{k % 3}", "SubAccountName": ["prod", "dev", "shared"][k % 3],
                    "Tags": json.dumps({"Oracle-Tags.CreatedBy": f"user{k % 4}@example.com", "Finance.CostCenter": f"cc-{k % 2}"}) if k % 5 else "",
                    "UsageQuantity": str(qty), "UsageUnit": svc[6],
                    "oci_ReferenceNumber": ref, "oci_CompartmentId": f"ocid1.compartment.oc1..aaaa{k % 3}",
                    "oci_CompartmentName": ["prod", "dev", "shared"][k % 3], "oci_OverageFlag": "N",
                    "oci_UnitPriceOverage": "", "oci_BilledQuantityOverage": "", "oci_CostOverage": "",
                    "oci_AttributedUsage": str(qty), "oci_AttributedCost": cost,
                    "oci_BackReferenceNumber": f"{year}{month:02d}{0:06d}{args.seed}" if correction else "",
                    "BillingAccountType": "Billing Account", "SubAccountType": "Compartment", "InvoiceId": "",
                    "ContractedCost": cost, "ContractedUnitPrice": svc[5], "RegionName": "US East (Ashburn)",
                    "ServiceSubCategory": svc[2], "PricingCurrency": "USD",
                    "PricingCurrencyEffectiveCost ": cost,
                }
                records.append(r)
                billed += q18(Decimal(cost))
            rows += len(records)
            folder = os.path.join(base, f"{d:%Y}", f"{d:%m}", f"{d:%d}")
            os.makedirs(folder, exist_ok=True)
            parts = [records[: len(records) // 2], records[len(records) // 2:]] if day == 1 and len(records) > 1 else [records]
            seq += 1
            for p, part in enumerate(parts, 1):
                name = f"{TENANCY}_{d:%Y%m%d}_{seq:04d}-{p:05d}.csv.gz"
                path = os.path.join(folder, name)
                text = ",".join(header) + "\n" + "".join(",".join(csv_cell(r[c]) for c in header) + "\n" for r in part)
                with gzip.GzipFile(path, "wb", mtime=0) as f:
                    f.write(text.encode())
                files.append(path)
        totals[ym] = {
            "version": f"files={len(files)};bytes={sum(os.path.getsize(f) for f in files)};",
            "rows": rows, "focus_rows": rows, "cost_stored": str(billed),
        }
    if args.totals:
        with open(args.totals, "w") as f:
            json.dump({"periods": totals}, f, indent=1, sort_keys=True)


def csv_cell(v):
    v = str(v)
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v


if __name__ == "__main__":
    main()
