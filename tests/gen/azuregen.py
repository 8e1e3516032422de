#!/usr/bin/env python3
"""Deterministic Azure Cost Management exports for the tests: ActualCost and AmortizedCost
(EA 2024-08-01 or MCA 2023-12-01-preview columns) and FocusCost 1.0r2, in Cost Management's
Blob layout with run manifests:

    <root>/<export>/<YYYYMMDD-YYYYMMDD>/<yyyyMMddHHmm>/<runId>/part_<i>_0001.<ext>
    <root>/<export>/<YYYYMMDD-YYYYMMDD>/<yyyyMMddHHmm>/<runId>/manifest.json

Every value is a function of the row number and --seed. Each month has on-demand usage (some
costs in scientific notation), usage covered by a reservation and, per dataset, what Cost
Management writes for it: actual data has the reservation's purchase and covered usage at 0;
amortized data spreads the purchase over the covered usage and adds an UnusedReservation row.
The purchase equals amortized covered usage + unused, so a correct actual+amortized join has
equal billed and effective totals.

With --dirty, quantities, prices and costs are computed in binary floating point and written
as their shortest round-trip text, as Cost Management writes them (`0.30000000000000004`,
`3.1956503283001026E-07`), MCA exports bill in EUR at an exchange rate with 18 decimals, and a
managed disk is priced 135.17 (its price times the rate is over 100); the totals are exact sums
of the text, and `*_stored` their sums with each value rounded half to even to 18 decimals.

Writes its totals (rows, exact cost, expected FOCUS rows and sums per month) to --totals.
"""

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import os
import sys
from decimal import Decimal, ROUND_HALF_EVEN

DIRTY = False
RATE = "0.938565998821447470"


def q18(v):
    """What finops stores: the value rounded half to even to 18 decimals."""
    return v.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN)


class Sum:
    """An exact sum of values, and of the values as finops stores them."""

    def __init__(self):
        self.exact, self.stored = Decimal(0), Decimal(0)

    def add(self, v):
        self.exact += v
        self.stored += q18(v)


def float_text(f, i):
    """A double's shortest round-trip text; on every other row with an upper-case E."""
    t = repr(f)
    return t.replace("e", "E") if i % 2 else t

EA = ["InvoiceSectionName", "AccountName", "AccountOwnerId", "SubscriptionId", "SubscriptionName",
      "ResourceGroup", "ResourceLocation", "Date", "ProductName", "MeterCategory", "MeterSubCategory",
      "MeterId", "MeterName", "MeterRegion", "UnitOfMeasure", "Quantity", "EffectivePrice",
      "CostInBillingCurrency", "CostCenter", "ConsumedService", "ResourceId", "Tags", "OfferId",
      "AdditionalInfo", "ServiceInfo1", "ServiceInfo2", "ResourceName", "ReservationId",
      "ReservationName", "UnitPrice", "ProductOrderId", "ProductOrderName", "Term", "PublisherType",
      "PublisherName", "ChargeType", "Frequency", "PricingModel", "AvailabilityZone",
      "BillingAccountId", "BillingAccountName", "BillingCurrencyCode", "BillingPeriodStartDate",
      "BillingPeriodEndDate", "BillingProfileId", "BillingProfileName", "InvoiceSectionId",
      "IsAzureCreditEligible", "PartNumber", "PayGPrice", "PlanName", "ServiceFamily",
      "CostAllocationRuleName", "benefitId", "benefitName"]
MCA = ["invoiceId", "previousInvoiceId", "billingAccountId", "billingAccountName", "billingProfileId",
       "billingProfileName", "invoiceSectionId", "invoiceSectionName", "resellerName", "resellerMpnId",
       "costCenter", "billingPeriodEndDate", "billingPeriodStartDate", "servicePeriodEndDate",
       "servicePeriodStartDate", "date", "serviceFamily", "productOrderId", "productOrderName",
       "consumedService", "meterId", "meterName", "meterCategory", "meterSubCategory", "meterRegion",
       "ProductId", "ProductName", "SubscriptionId", "subscriptionName", "publisherType", "publisherId",
       "publisherName", "resourceGroupName", "ResourceId", "resourceLocation", "location",
       "effectivePrice", "quantity", "unitOfMeasure", "chargeType", "billingCurrency",
       "pricingCurrency", "costInBillingCurrency", "costInPricingCurrency", "costInUsd",
       "paygCostInBillingCurrency", "paygCostInUsd", "exchangeRatePricingToBilling",
       "exchangeRateDate", "isAzureCreditEligible", "serviceInfo1", "serviceInfo2", "additionalInfo",
       "tags", "PayGPrice", "frequency", "term", "reservationId", "reservationName", "pricingModel",
       "unitPrice", "costAllocationRuleName", "benefitId", "benefitName", "provider"]
FOCUS = ["BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType", "BillingCurrency",
         "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
         "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
         "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus",
         "CommitmentDiscountType", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
         "ContractedUnitPrice", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice",
         "PricingCategory", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
         "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
         "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags",
         "x_BilledCostInUsd", "x_PricingBlockSize", "x_ResourceGroupName", "x_SkuMeterCategory",
         "x_SkuMeterName", "x_InvoiceId", "x_PricingCurrency", "x_SkuDetails"]

SERVICES = [  # consumed service, meter category, meter, unit of measure, resource type, price
    ("Microsoft.Compute", "Virtual Machines", "D2s v3", "1 Hour", "virtualMachines", "0.096"),
    ("Microsoft.Storage", "Storage", "LRS Data Stored", "1 GB/Month", "storageAccounts", "0.0184"),
    ("Microsoft.Storage", "Storage", "Write Operations", "10K", "storageAccounts", "0.055"),
    ("Microsoft.Network", "Bandwidth", "Data Transfer Out", "1 GB", "publicIPAddresses", "0.087"),
    ("Microsoft.Sql", "SQL Database", "vCore", "1 Hour", "servers", "0.5044"),
    ("Microsoft.Web", "Azure App Service", "P1 v3", "1 Hour", "sites", "0.2"),
]
# With --dirty: a premium managed disk, priced per month (its price x an exchange rate is over 100).
DISK = ("Microsoft.Compute", "Storage", "P30 LRS Disk", "1/Month", "disks", "135.17")
LOCATIONS = ["eastus", "West Europe", "CentralUS", "westus2"]
SUBS = ["0f0e0d0c-0000-4000-8000-%012d" % i for i in range(4)]
RESERVATION = "/providers/Microsoft.Capacity/reservationOrders/11111111-2222-3333-4444-555555555555/reservations/66666666-7777-8888-9999-000000000000"


def month_days(year, month):
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def fmt_date(d, flavor):
    return f"{d.month}/{d.day}/{d.year}" if flavor == "ea" else d.isoformat()


def money(i, seed, scale):
    """A deterministic cost; every 7th one small enough to be written in E notation."""
    v = Decimal(((i * 7919 + seed * 104729) % 100000) + 1) / Decimal(10) ** scale
    return v


def text(v):
    s = format(v, "f")
    return s


def usage_rows(year, month, n, seed, flavor):
    first, last = month_days(year, month)
    rows = []
    services = SERVICES + [DISK] if DIRTY else SERVICES
    for i in range(n):
        svc = services[(i + seed) % len(services)]
        day = first + dt.timedelta(days=i % last.day)
        qty = Decimal((i * 37 + seed) % 500 + 1) / Decimal(100)
        cost = money(i, seed, 6)
        covered = i % 5 == 4 and svc[4] == "virtualMachines"
        sub = SUBS[i % len(SUBS)]
        loc = LOCATIONS[i % len(LOCATIONS)]
        rg = f"rg-{i % 9}"
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{svc[0]}/{svc[4]}/res-{i % 300}"
        tags = "" if i % 3 == 0 else f'"team": "t{i % 4}","env": "{"prod" if i % 2 else "dev"}"'
        cost_text = text(cost)
        qty_text, price_text = text(qty), svc[5]
        if DIRTY:
            q = ((i * 37 + seed) % 500 + 1) / 3
            price = float(svc[5]) * 1.1
            f = q * price * (float(RATE) if flavor == "mca" else 1.0)
            if i % 7 == 0:
                f *= 1e-6
            qty_text, price_text, cost_text = float_text(q, i), float_text(price, i), float_text(f, i)
            qty, cost = Decimal(qty_text), Decimal(cost_text)
        elif i % 7 == 0:  # scientific notation, as Cost Management writes small values
            small = cost / Decimal(1000000)
            cost = small
            mant = (small * Decimal(10) ** 6)
            cost_text = f"{text(mant.normalize())}E-06"
        rows.append(dict(i=i, svc=svc, day=day, qty=qty, qty_text=qty_text, price_text=price_text,
                         cost=cost, cost_text=cost_text, covered=covered,
                         sub=sub, loc=loc, rg=rg, rid=rid, tags=tags))
    return rows


def cost_row(r, flavor, year, month, charge, model, cost_text, benefit=""):
    first, last = month_days(year, month)
    svc = r["svc"]
    common = {
        "SubscriptionId": r["sub"], "SubscriptionName": f"sub-{r['sub'][-1]}",
        "ResourceLocation": r["loc"], "Date": fmt_date(r["day"], flavor),
        "ProductName": f"{svc[1]} - {svc[2]}", "MeterCategory": svc[1], "MeterSubCategory": svc[2],
        "MeterId": f"meter-{(SERVICES + [DISK]).index(svc)}", "MeterName": svc[2], "MeterRegion": r["loc"],
        "UnitOfMeasure": svc[3], "Quantity": r.get("qty_text", text(r["qty"])), "EffectivePrice": r.get("price_text", svc[5]),
        "CostInBillingCurrency": cost_text, "ConsumedService": svc[0], "ResourceId": r["rid"],
        "Tags": r["tags"], "AdditionalInfo": "", "UnitPrice": r.get("price_text", svc[5]), "PayGPrice": r.get("price_text", svc[5]),
        "PublisherType": "Azure", "PublisherName": "Microsoft", "ChargeType": charge,
        "Frequency": "UsageBased" if charge != "Purchase" else "Recurring", "PricingModel": model,
        "BillingPeriodStartDate": fmt_date(first, flavor), "BillingPeriodEndDate": fmt_date(last, flavor),
        "benefitId": benefit, "benefitName": "vm-reservation" if benefit else "",
        "ReservationId": benefit, "ReservationName": "vm-reservation" if benefit else "",
        "ResourceGroup": r["rg"], "IsAzureCreditEligible": "TRUE",
    }
    if flavor == "ea":
        common.update({"BillingAccountId": "12345678", "BillingAccountName": "Example Ltd",
                       "BillingCurrencyCode": "USD", "BillingProfileId": "12345678",
                       "BillingProfileName": "Example Ltd", "AccountName": "example.com",
                       "PartNumber": f"PN-{(SERVICES + [DISK]).index(svc)}", "ResourceName": r["rid"].rsplit("/", 1)[1]})
        return {c: common.get(c, "") for c in EA}
    lower = {k[0].lower() + k[1:]: v for k, v in common.items()}
    lower.update({"billingAccountId": "acct-1:ba", "billingAccountName": "Contoso", "billingProfileId": "BP-1",
                  "billingProfileName": "Contoso Profile", "billingCurrency": "EUR", "pricingCurrency": "USD",
                  "costInPricingCurrency": r["cost_text"], "exchangeRatePricingToBilling": RATE if DIRTY else "0.9",
                  "paygCostInBillingCurrency": r["cost_text"], "invoiceId": f"E0{year}{month:02d}",
                  "resourceGroupName": r["rg"], "ProductId": f"DZH3{(SERVICES + [DISK]).index(svc)}",
                  "location": r["loc"], "provider": "Azure"})
    # MCA headers are camelCase, except the few Microsoft capitalises.
    out = {}
    for c in MCA:
        key = c[0].lower() + c[1:]
        out[c] = lower.get(key, "")
    return out


def focus_row(r, year, month):
    first, last = month_days(year, month)
    svc = r["svc"]
    start = dt.datetime.combine(r["day"], dt.time())
    return {
        "BilledCost": r["cost_text"], "EffectiveCost": r["cost_text"],
        "ListCost": text(Decimal(r["price_text"]) * r["qty"]), "ContractedCost": text(Decimal(r["price_text"]) * r["qty"]), "BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/1",
        "BillingAccountName": "Example", "BillingAccountType": "Billing Account", "BillingCurrency": "USD",
        "BillingPeriodStart": f"{first.isoformat()}T00:00:00Z",
        "BillingPeriodEnd": f"{(last + dt.timedelta(days=1)).isoformat()}T00:00:00Z",
        "ChargeCategory": "Usage", "ChargeClass": "", "ChargeDescription": svc[2],
        "ChargeFrequency": "Usage-Based", "ChargePeriodStart": start.isoformat() + "Z",
        "ChargePeriodEnd": (start + dt.timedelta(days=1)).isoformat() + "Z",
        "ConsumedQuantity": r["qty_text"], "ConsumedUnit": "Hours",
        "PricingQuantity": r["qty_text"], "PricingUnit": "Hours", "PricingCategory": "Standard",
        "ListUnitPrice": r["price_text"], "ContractedUnitPrice": r["price_text"], "InvoiceIssuerName": "Microsoft",
        "ProviderName": "Microsoft", "PublisherName": "Microsoft", "RegionId": r["loc"].lower().replace(" ", ""),
        "RegionName": r["loc"], "ResourceId": r["rid"], "ResourceName": r["rid"].rsplit("/", 1)[1],
        "ResourceType": svc[4], "ServiceCategory": "Compute", "ServiceName": svc[1],
        "SkuId": f"sku-{(SERVICES + [DISK]).index(svc)}", "SkuPriceId": f"price-{(SERVICES + [DISK]).index(svc)}",
        "SubAccountId": f"/subscriptions/{r['sub']}", "SubAccountName": "sub", "SubAccountType": "Subscription",
        "Tags": "{" + r["tags"] + "}" if r["tags"] else "{}", "x_BilledCostInUsd": r["cost_text"],
        "x_PricingBlockSize": "1", "x_ResourceGroupName": r["rg"], "x_SkuMeterCategory": svc[1],
        "x_SkuMeterName": svc[2], "x_InvoiceId": f"G0{year}{month:02d}", "x_PricingCurrency": "USD",
        "x_SkuDetails": '{"VCPUs":"2"}' if svc[4] == "virtualMachines" else "",
    }


def write_part(path, header, rows, fmt):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    data = buf.getvalue().encode()
    if fmt == "csv.gz":
        with gzip.open(path, "wb") as f:
            f.write(data)
    elif fmt == "parquet":
        import duckdb
        tmp = str(path) + ".csv"
        with open(tmp, "wb") as f:
            f.write(data)
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_csv('{tmp}', all_varchar = true, header = true)) "
                    f"TO '{path}' (FORMAT parquet, COMPRESSION snappy)")
        os.remove(tmp)
    else:
        with open(path, "wb") as f:
            f.write(data)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=["actual", "amortized", "focus"], required=True)
    p.add_argument("--flavor", choices=["ea", "mca"], default="ea")
    p.add_argument("--format", choices=["csv", "csv.gz", "parquet"], default="csv")
    p.add_argument("--rows", type=int, default=200, help="usage rows per month")
    p.add_argument("--months", type=int, default=2)
    p.add_argument("--start", default="2024-01")
    p.add_argument("--export", required=True)
    p.add_argument("--root", default="exports", help="the export's root folder path")
    p.add_argument("--scope", default="/subscriptions/0f0e0d0c-0000-4000-8000-000000000000")
    p.add_argument("--parts", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--run", type=int, default=1, help="run number: a later run re-issues the month")
    p.add_argument("--out", required=True)
    p.add_argument("--totals", required=True)
    p.add_argument("--dirty", action="store_true", help="floating-point quantities, prices and costs (see above)")
    a = p.parse_args()
    global DIRTY
    DIRTY = a.dirty

    year, month = map(int, a.start.split("-"))
    totals = {"export": a.export, "dataset": a.dataset, "periods": {}}
    dataset_type = {"actual": "ActualCost", "amortized": "AmortizedCost", "focus": "FocusCost"}[a.dataset]
    version = {"focus": "1.0r2", "actual": "2024-08-01" if a.flavor == "ea" else "2023-12-01-preview"}
    version["amortized"] = version["actual"]
    for _ in range(a.months):
        first, last = month_days(year, month)
        usage = usage_rows(year, month, a.rows, a.seed + a.run - 1 + 31 * month, a.flavor)
        out_rows, billed, effective, raw_cost, focus_rows = [], Sum(), Sum(), Sum(), 0
        covered_total = Decimal(0)
        for r in usage:
            if a.dataset == "focus":
                out_rows.append(focus_row(r, year, month))
                raw_cost.add(r["cost"])
                billed.add(r["cost"])
                effective.add(r["cost"])
                focus_rows += 1
                continue
            header_rows = out_rows
            if r["covered"]:
                covered_total += r["cost"]
                if a.dataset == "actual":
                    header_rows.append(cost_row(r, a.flavor, year, month, "Usage", "Reservation", "0", RESERVATION))
                else:
                    header_rows.append(cost_row(r, a.flavor, year, month, "Usage", "Reservation", r["cost_text"], RESERVATION))
                    raw_cost.add(r["cost"])
                    effective.add(r["cost"])
            else:
                header_rows.append(cost_row(r, a.flavor, year, month, "Usage", "OnDemand", r["cost_text"]))
                raw_cost.add(r["cost"])
                billed.add(r["cost"])
                effective.add(r["cost"])
        if a.dataset != "focus":
            unused = Decimal("12.345678")
            purchase = covered_total + unused
            anchor = dict(usage[0], qty=Decimal(1), qty_text="1", tags="")
            if a.dataset == "actual":
                out_rows.append(cost_row(anchor, a.flavor, year, month, "Purchase", "Reservation", text(purchase), RESERVATION))
                raw_cost.add(purchase)
                billed.add(purchase)
            else:
                out_rows.append(cost_row(anchor, a.flavor, year, month, "UnusedReservation", "Reservation", text(unused), RESERVATION))
                raw_cost.add(unused)
                effective.add(unused)
            focus_rows = len(out_rows)
        # Files.
        stamp = f"{year}{month:02d}{min(last.day, 28):02d}{(a.run % 24):02d}00"
        run_id = f"{a.run:08x}-{a.seed:04x}-4000-8000-{year}{month:02d}{a.run:06d}"[:36]
        rel_dir = f"{a.root}/{a.export}/{first:%Y%m%d}-{last:%Y%m%d}/{stamp}/{run_id}".lstrip("/")
        out_dir = os.path.join(a.out, rel_dir)
        os.makedirs(out_dir, exist_ok=True)
        header = FOCUS if a.dataset == "focus" else (EA if a.flavor == "ea" else MCA)
        ext = {"csv": "csv", "csv.gz": "csv.gz", "parquet": "snappy.parquet"}[a.format]
        blobs = []
        per = (len(out_rows) + a.parts - 1) // a.parts
        for i in range(a.parts):
            name = f"part_{i}_0001.{ext}"
            path = os.path.join(out_dir, name)
            write_part(path, header, out_rows[i * per:(i + 1) * per], a.format)
            blobs.append({"blobName": f"{rel_dir}/{name}", "byteCount": os.path.getsize(path)})
        manifest = {
            "exportConfig": {"exportName": a.export,
                             "resourceId": f"{a.scope}/providers/Microsoft.CostManagement/exports/{a.export}",
                             "dataVersion": version[a.dataset], "apiVersion": "2023-07-01-preview",
                             "type": dataset_type, "timeFrame": "MonthToDate", "granularity": "Daily"},
            "deliveryConfig": {"partitionData": True, "dataOverwriteBehavior": "CreateNewReport",
                               "fileFormat": "Parquet" if a.format == "parquet" else "Csv",
                               "compressionMode": "gzip" if a.format == "csv.gz" else ("snappy" if a.format == "parquet" else "none"),
                               "containerUri": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z",
                               "rootFolderPath": a.root},
            "runInfo": {"executionType": "Scheduled",
                        "submittedTime": f"{year}-{month:02d}-{min(last.day, 28):02d}T{a.run % 24:02d}:00:00.0000000Z",
                        "runId": run_id, "startDate": f"{first.isoformat()}T00:00:00",
                        "endDate": f"{last.isoformat()}T00:00:00"},
            "blobs": blobs, "blobCount": len(blobs), "dataRowCount": len(out_rows),
        }
        with open(os.path.join(out_dir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
        totals["periods"][f"{year}-{month:02d}"] = {
            "rows": len(out_rows), "cost": text(raw_cost.exact), "focus_rows": focus_rows,
            "billed": text(billed.exact), "effective": text(effective.exact), "version": run_id,
            "cost_stored": text(raw_cost.stored), "billed_stored": text(billed.stored),
            "effective_stored": text(effective.stored),
            "purchase_rows": 1 if a.dataset == "actual" else 0,
        }
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    with open(a.totals, "w") as f:
        json.dump(totals, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
