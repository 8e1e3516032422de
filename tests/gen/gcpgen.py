#!/usr/bin/env python3
"""Deterministic Google Cloud billing exports for the tests, as BigQuery's EXPORT DATA writes
them (no real export is public):

    <root>/<export>/invoice_month=YYYYMM/000000000000.json[.gz]|.parquet  (--shards files)

--schema detailed (the resource-level export, default), standard (no resource/price/
subscription) or focus (the native FOCUS export: FOCUS 1.2 columns and Google's x_ columns).
--format json (newline-delimited, --gzip to compress) or parquet (written by DuckDB: FLOAT64
as DOUBLE, NUMERIC as DECIMAL(38, 9), TIMESTAMP as UTC timestamps, records as structs).

Every value is a function of the row number and --seed. Each month has regular usage of
several services (some under a resource-based or a spend-based committed use discount, with
sustained use, free tier and promotion credits), a commitment fee SKU, a Marketplace row, tax,
an adjustment with adjustment_info (a correction), a rounding error row, and usage that
started on the last evening of the previous month in Pacific time (invoiced in this month).
Labels collide: duplicate keys, NULL keys, and a key that is also a project label.

The JSON is as dirty as BigQuery's: FLOAT64 as its shortest round-trip text, some in
E-notation, INT64 and some NUMERIC values as strings, timestamps as `YYYY-MM-DD HH:MM:SS UTC`
(some with microseconds, some ISO with `Z`), empty strings. --currency EUR bills in euros
with a conversion rate. --dirty adds float noise to every cost (`0.30000000000000004`).

Writes its totals per invoice month (under "periods": the version finops gives it up to the
fingerprint, rows, exact sums of the delivered text: cost, credits,
billed = cost + credits, cost_at_list, and the sums as finops stores each value, rounded half
to even to 18 decimals) to --totals.
"""

import argparse
import datetime as dt
import gzip
import json
import os
import random
from decimal import Decimal, ROUND_HALF_EVEN

SERVICES = [
    # (service id, description, sku id, sku description, usage unit, pricing unit, unit price)
    ("6F81-5844-456A", "Compute Engine", "D2C2-8F6A-0A1B", "N2 Instance Core running in Americas", "seconds", "hour", "0.031611"),
    ("6F81-5844-456A", "Compute Engine", "9A1B-EEE1-4C3D", "Spot Preemptible N2 Instance Core", "seconds", "hour", "0.007650"),
    ("95FF-2EF5-5EA1", "Cloud Storage", "E5F0-6A5E-2D1A", "Standard Storage US Multi-region", "byte-seconds", "gibibyte month", "0.026"),
    ("24E6-581D-38E5", "BigQuery", "3362-E469-6BEF", "Analysis", "bytes", "tebibyte", "6.25"),
    ("CCD8-9BF1-090E", "Kubernetes Engine", "B561-BFBD-1264", "Autopilot Pod mCPU Requests", "seconds", "hour", "0.0445"),
    ("9662-B51E-5089", "Cloud SQL", "C4E3-7D2A-41F0", "Cloud SQL for PostgreSQL: Zonal - vCPU", "seconds", "hour", "0.0413"),
]
REGIONS = [("us-central1", "us-central1-a", "us"), ("europe-west1", "europe-west1-b", "europe-west1"), ("asia-east1", None, "asia-east1")]
PROJECTS = [("shop-prod-4711", "314159265358", "Shop production"), ("shop-dev-0815", "271828182845", "Shop development"), ("data-lake-42", "161803398874", "Data lake")]
CREDIT_TYPES = ["SUSTAINED_USAGE_DISCOUNT", "FREE_TIER", "PROMOTION", "DISCOUNT"]


def q18(v):
    return v.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN)


def ftext(f, i):
    """A double's shortest round-trip text, some rows in upper-case E-notation."""
    t = repr(float(f))
    if "e" in t and i % 2:
        t = t.replace("e", "E")
    return t


class Month:
    def __init__(self):
        self.rows = 0
        self.cost = Decimal(0)
        self.credits = Decimal(0)
        self.list = Decimal(0)
        self.cost_stored = Decimal(0)
        self.credits_stored = Decimal(0)
        self.usage_rows = 0
        self.credit_types = set()

    def totals(self):
        return {
            "rows": self.rows,
            "cost": str(self.cost),
            "credits": str(self.credits),
            "billed": str(self.cost + self.credits),
            "cost_at_list": str(self.list),
            "billed_stored": str(self.cost_stored + self.credits_stored),
            "usage_rows": self.usage_rows,
            "credit_types": sorted(self.credit_types),
        }


def pacific_start(year, month):
    """00:00 America/Los_Angeles on the first of a month, in UTC."""
    off = 7 if 4 <= month <= 11 else 8
    return dt.datetime(year, month, 1, off)


def ts(t, i):
    """A BigQuery JSON timestamp, in one of the shapes real exports and tools write."""
    if i % 7 == 3:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if i % 5 == 1:
        return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{(i * 7919) % 1000000:06d} UTC"
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def num(text, i, as_string_every=3):
    """A JSON number, or (as BigQuery writes some NUMERIC and all INT64) a string."""
    if i % as_string_every == 0:
        return text
    return json.loads(text) if "E" not in text else float(text)


def rows_for(args, year, month, totals, export_time):
    """The rows of one invoice month, and adds them to totals."""
    rnd = random.Random(args.seed * 1000 + year * 12 + month)
    m = Month()
    start = pacific_start(year, month)
    end = pacific_start(year + (month == 12), month % 12 + 1)
    invoice = f"{year:04d}{month:02d}"
    rate = "0.9201" if args.currency == "EUR" else "1"
    out = []

    def add(row, cost_text, credits, list_text, category):
        m.rows += 1
        c = Decimal(cost_text)
        m.cost += c
        m.cost_stored += q18(c)
        for cr in credits:
            a = Decimal(cr["amount_text"])
            m.credits += a
            m.credits_stored += q18(a)
            m.credit_types.add(cr["type"])
        if list_text is not None:
            m.list += Decimal(list_text)
        if category == "regular":
            m.usage_rows += 1
        out.append((row, cost_text, credits, list_text))

    for i in range(args.rows):
        svc = SERVICES[i % len(SERVICES)]
        region, zone, loc = REGIONS[i % len(REGIONS)]
        proj = PROJECTS[i % len(PROJECTS)]
        hours = (end - start).total_seconds() // 3600
        if i % 97 == 5:
            # Usage of the last Pacific evening of the previous month, invoiced now.
            t0 = start - dt.timedelta(hours=2)
        else:
            t0 = start + dt.timedelta(hours=(i * 7) % hours)
        t1 = t0 + dt.timedelta(hours=1)
        qty = Decimal(rnd.randint(1, 3600 * 40)) / Decimal(3600)  # hours, as pricing units
        # Prices, costs and list costs are all in the billing currency.
        unit_price = (Decimal(svc[6]) * Decimal(rate)).quantize(Decimal("1e-9"))
        contracted = qty * unit_price
        list_cost = contracted.quantize(Decimal("1e-6"))
        cost_f = float(contracted)
        if args.dirty:
            cost_f = cost_f + 0.1 + 0.2 - 0.30000000000000004
        cost_text = ftext(cost_f, i)
        credits = []
        if i % 11 == 0:
            # A resource-based CUD covering part of it.
            credits.append({"name": "Committed use discount: N2 Core", "amount_text": ftext(-cost_f * 0.37, i), "full_name": "Committed use discount: N2 Core in Americas",
                            "id": f"commitments/{2000 + i % 3}", "type": "COMMITTED_USAGE_DISCOUNT"})
        elif i % 13 == 0:
            credits.append({"name": "Spend-based CUD", "amount_text": ftext(-cost_f * 0.28, i), "full_name": "Committed use discount - dollar based: Cloud SQL",
                            "id": f"cud-dollar/{i % 2}", "type": "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE"})
        if i % 4 == 1:
            t = CREDIT_TYPES[(i // 4) % len(CREDIT_TYPES)]
            share = {"SUSTAINED_USAGE_DISCOUNT": 0.2, "FREE_TIER": 1.0, "PROMOTION": 0.5, "DISCOUNT": 0.03}[t]
            credits.append({"name": t.replace("_", " ").title(), "amount_text": ftext(-cost_f * share, i + 1), "full_name": None, "id": f"credit-{t.lower()}", "type": t})
        labels = [{"key": "app", "value": f"shop-{i % 5}"}, {"key": "env", "value": "prod" if i % 2 else "dev"}]
        if i % 9 == 0:
            labels.append({"key": "app", "value": "duplicate-ignored"})
        if i % 10 == 0:
            labels.append({"key": None, "value": "no key"})
        row = {
            "billing_account_id": "0123AB-4567CD-89EF01",
            "service": {"id": svc[0], "description": svc[1]},
            "sku": {"id": svc[2], "description": svc[3]},
            "usage_start_time": t0, "usage_end_time": t1,
            "project": {"id": proj[0], "number": proj[1], "name": proj[2],
                        "labels": [{"key": "team", "value": f"team-{i % 3}"}, {"key": "app", "value": "project-label-loses"}],
                        "ancestry_numbers": f"/987654321/{proj[1]}/", "ancestors": [{"resource_name": f"projects/{proj[1]}", "display_name": proj[0]}]},
            "labels": labels,
            "system_labels": [{"key": "compute.googleapis.com/machine_spec", "value": "n2-standard-4"}] if svc[1] == "Compute Engine" else [],
            "location": {"location": loc, "country": "US" if loc == "us" else "BE", "region": region, "zone": zone},
            "tags": [{"key": "cost-center", "value": f"cc-{i % 4}", "inherited": True, "namespace": "987654321"}] if i % 3 == 0 else [],
            "transaction_type": "GOOGLE", "seller_name": None,
            "export_time": export_time,
            "currency": args.currency, "currency_conversion_rate": rate,
            "usage": {"amount": str(qty * 3600), "unit": svc[4], "amount_in_pricing_units": ftext(float(qty), i), "pricing_unit": svc[5]},
            "invoice": {"month": invoice, "publisher_type": "GOOGLE"},
            "cost_type": "regular",
            "adjustment_info": {"id": None, "description": None, "mode": None, "type": None},
            "resource": {"name": f"vm-{i % 17}", "global_name": f"//compute.googleapis.com/projects/{proj[1]}/zones/{zone or region}/instances/{1000 + i % 17}"},
            "price": {"effective_price": str(unit_price), "tier_start_amount": "0", "unit": svc[5], "pricing_unit_quantity": "1"},
            "subscription": {"instance_id": credits[0]["id"] if credits and credits[0]["type"].startswith("COMMITTED") else None},
        }
        add(row, cost_text, credits, str(list_cost), "regular")

    base = out[0][0]

    def special(cost_text, cost_type, sku, service=None, credits=(), list_text=None, **kw):
        row = dict(base)
        row.update({"cost_type": cost_type, "sku": sku, "labels": [], "tags": [], "system_labels": [],
                    "usage": {"amount": None, "unit": None, "amount_in_pricing_units": None, "pricing_unit": None},
                    "usage_start_time": start + dt.timedelta(days=3), "usage_end_time": start + dt.timedelta(days=4),
                    "price": None, "resource": None, "subscription": None})
        if service:
            row["service"] = service
        row.update(kw)
        add(row, cost_text, list(credits), list_text, cost_type)

    # A commitment fee: the CUD's monthly charge.
    special("1460.0", "regular", {"id": "CF11-2C3D-4E5F", "description": "Commitment v1: N2 Cpu in Americas for 1 Year"},
            usage={"amount": "720", "unit": "seconds", "amount_in_pricing_units": "720", "pricing_unit": "hour"},
            list_text="1460.0", subscription={"instance_id": "commitments/2000"})
    # A Marketplace purchase.
    special("99.99", "regular", {"id": "MP00-0000-0001", "description": "Acme Observability Pro"},
            service={"id": "MP00-ACME", "description": "Acme Observability"},
            usage={"amount": "1", "unit": "requests", "amount_in_pricing_units": "1", "pricing_unit": "month"},
            list_text="99.99", transaction_type="THIRD_PARTY_RESELLER", seller_name="Acme Corp",
            invoice={"month": invoice, "publisher_type": "THIRD_PARTY"})
    special("12.34", "tax", {"id": "TAX0-0000-0000", "description": "Tax"}, service={"id": "TAX", "description": "Invoice"})
    special("-3.5", "adjustment", {"id": "ADJ0-0000-0000", "description": "Adjustment"},
            adjustment_info={"id": "adj-42", "description": "Correction of N2 usage in an earlier month", "mode": "PARTIAL_CORRECTION", "type": "USAGE_CORRECTION"})
    special("0.000000000000000000123", "rounding_error", {"id": "RND0-0000-0000", "description": "Rounding error"},
            service={"id": "RND", "description": "Invoice"})
    totals[f"{year:04d}-{month:02d}"] = m.totals()
    return out


def json_row(row, cost_text, credits, list_text, i):
    """One row as BigQuery's JSON export writes it."""
    r = dict(row)
    r["usage_start_time"] = ts(row["usage_start_time"], i)
    r["usage_end_time"] = ts(row["usage_end_time"], i + 1)
    r["export_time"] = ts(row["export_time"], i)
    r["cost"] = num(cost_text, i, 4)
    r["cost_at_list"] = num(list_text, i) if list_text is not None else None
    r["currency_conversion_rate"] = num(row["currency_conversion_rate"], i)
    r["credits"] = [{"name": c["name"], "amount": num(c["amount_text"], i, 5), "full_name": c["full_name"], "id": c["id"], "type": c["type"]} for c in credits]
    u = row["usage"]
    r["usage"] = {**u, "amount": num(u["amount"], i) if u["amount"] is not None else None,
                  "amount_in_pricing_units": num(u["amount_in_pricing_units"], i + 1) if u["amount_in_pricing_units"] is not None else None}
    if row.get("price"):
        p = row["price"]
        r["price"] = {**p, "effective_price": num(p["effective_price"], i, 2), "tier_start_amount": num(p["tier_start_amount"], i + 1, 2),
                      "pricing_unit_quantity": num(p["pricing_unit_quantity"], i, 2)}
    if i % 8 == 2:
        r["seller_name"] = ""  # an empty string where BigQuery would write null
    return r


def focus_row(row, cost_text, credits, list_text, i, year, month):
    """The native FOCUS export's row for the same charge (NUMERIC money, 9 decimals)."""
    q9 = lambda d: str(Decimal(d).quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN))
    unit = lambda cost, qty: q9(Decimal(cost) / Decimal(qty)) if cost and qty and Decimal(qty) != 0 else None
    billed = Decimal(cost_text) + sum((Decimal(c["amount_text"]) for c in credits), Decimal(0))
    cat = {"regular": "Usage", "tax": "Tax", "adjustment": "Adjustment", "rounding_error": "Adjustment"}[row["cost_type"]]
    u = row["usage"]
    return {
        "BillingAccountId": row["billing_account_id"], "BillingAccountType": "Billing Account",
        "BillingCurrency": row["currency"],
        "BillingPeriodStart": ts(pacific_start(year, month), i), "BillingPeriodEnd": ts(pacific_start(year + (month == 12), month % 12 + 1), i),
        "ChargeCategory": cat, "ChargeClass": "Correction" if row["adjustment_info"] and row["adjustment_info"].get("id") else None,
        "ChargeDescription": row["sku"]["description"],
        "ChargePeriodStart": ts(row["usage_start_time"], i), "ChargePeriodEnd": ts(row["usage_end_time"], i),
        "BilledCost": num(q9(billed), i), "EffectiveCost": num(q9(billed), i + 1),
        "ListCost": num(q9(list_text), i) if list_text else None, "ContractedCost": num(q9(cost_text), i),
        "ConsumedQuantity": u["amount"], "ConsumedUnit": u["unit"],
        "PricingQuantity": u["amount_in_pricing_units"], "PricingUnit": u["pricing_unit"],
        "ListUnitPrice": unit(list_text, u["amount_in_pricing_units"]) if cat == "Usage" else None,
        "ContractedUnitPrice": unit(cost_text, u["amount_in_pricing_units"]) if cat == "Usage" else None,
        "PricingCategory": "Standard" if cat == "Usage" else None,
        "PricingCurrency": row["currency"],
        "ProviderName": "Google Cloud", "PublisherName": row["seller_name"] or "Google Cloud",
        "RegionId": row["location"]["region"], "AvailabilityZone": row["location"]["zone"],
        "ResourceId": (row.get("resource") or {}).get("global_name"), "ResourceName": (row.get("resource") or {}).get("name"),
        "ServiceName": row["service"]["description"], "SkuId": row["sku"]["id"], "SkuPriceId": row["sku"]["id"],
        "SubAccountId": row["project"]["id"], "SubAccountName": row["project"]["name"],
        "x_CostType": row["cost_type"], "x_CurrencyConversionRate": row["currency_conversion_rate"],
        "x_ExportTime": ts(row["export_time"], i), "x_Location": row["location"]["location"], "x_ServiceId": row["service"]["id"],
        "x_Credits": [{"name": c["name"], "amount": num(c["amount_text"], i), "full_name": c["full_name"], "id": c["id"], "type": c["type"]} for c in credits],
        "x_Labels": row["labels"], "x_ProjectLabels": row["project"]["labels"], "x_SystemLabels": row["system_labels"],
        "x_Tags": [{"key": t["key"], "value": t["value"], "inherited": t["inherited"], "namespace": t["namespace"]} for t in row["tags"]],
        "x_Project": {"Id": row["project"]["id"], "Number": row["project"]["number"], "Name": row["project"]["name"]},
    }


PARQUET_DETAILED = {
    "cost": "DOUBLE", "cost_at_list": "DOUBLE", "currency_conversion_rate": "DOUBLE",
    "usage_start_time": "TIMESTAMPTZ", "usage_end_time": "TIMESTAMPTZ", "export_time": "TIMESTAMPTZ",
    "usage": "STRUCT(amount DOUBLE, unit VARCHAR, amount_in_pricing_units DOUBLE, pricing_unit VARCHAR)",
    "credits": "STRUCT(name VARCHAR, amount DOUBLE, full_name VARCHAR, id VARCHAR, type VARCHAR)[]",
    "price": "STRUCT(effective_price DECIMAL(38, 9), tier_start_amount DECIMAL(38, 9), unit VARCHAR, pricing_unit_quantity DECIMAL(38, 9))",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--export", default="billing")
    ap.add_argument("--root", default="", help="folder under --out holding the export folders")
    ap.add_argument("--schema", choices=["detailed", "standard", "focus"], default="detailed")
    ap.add_argument("--format", choices=["json", "parquet"], default="json")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--months", default="2026-09,2026-10", help="comma-separated YYYY-MM")
    ap.add_argument("--rows", type=int, default=40, help="usage rows per month (plus 5 special rows)")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--currency", default="USD")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dirty", action="store_true")
    ap.add_argument("--export-time", default="2026-11-02T03:04:05")
    ap.add_argument("--totals")
    args = ap.parse_args()
    totals = {}
    export_time = dt.datetime.fromisoformat(args.export_time)
    for ym in args.months.split(","):
        year, month = map(int, ym.split("-"))
        rows = rows_for(args, year, month, totals, export_time)
        folder = os.path.join(args.out, args.root, args.export, f"invoice_month={year:04d}{month:02d}")
        os.makedirs(folder, exist_ok=True)
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))
        if args.schema == "focus":
            records = [focus_row(r, c, cr, l, i, year, month) for i, (r, c, cr, l) in enumerate(rows)]
            # The FOCUS export's money is NUMERIC: its totals are the sums of what it holds.
            t = totals[f"{year:04d}-{month:02d}"]
            t["billed"] = t["billed_stored"] = str(sum((Decimal(str(r["BilledCost"])) for r in records), Decimal(0)))
        else:
            records = [json_row(r, c, cr, l, i) for i, (r, c, cr, l) in enumerate(rows)]
            if args.schema == "standard":
                for r in records:
                    for k in ("resource", "price", "subscription"):
                        r.pop(k, None)
        shards = max(1, min(args.shards, len(records)))
        for s in range(shards):
            part = records[s::shards]
            name = f"{s:012d}"
            if args.format == "json":
                path = os.path.join(folder, name + (".json.gz" if args.gzip else ".json"))
                text = "".join(json.dumps(r, default=str) + "\n" for r in part)
                opener = gzip.open if args.gzip else open
                with opener(path, "wt", encoding="utf-8") as f:
                    f.write(text)
            else:
                write_parquet(part, os.path.join(folder, name + ".parquet"), args.schema)
        t = totals[ym]
        files = sorted(os.listdir(folder))
        # What finops' version of the month starts with (the rest fingerprints the files).
        t["version"] = f"files={len(files)};bytes={sum(os.path.getsize(os.path.join(folder, f)) for f in files)};"
        t["cost_stored"] = t["billed_stored"]
        t["focus_rows"] = t["rows"]
    if args.totals:
        with open(args.totals, "w") as f:
            json.dump({"periods": totals}, f, indent=1, sort_keys=True)


def write_parquet(records, path, schema):
    """Parquet as BigQuery writes it, through DuckDB (numbers typed, not text)."""
    import duckdb
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
        for r in records:
            tmp.write(json.dumps(r, default=str).replace(" UTC\"", "+00\"") + "\n")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = con.execute(f"DESCRIBE SELECT * FROM read_json('{tmp.name}', format = 'newline_delimited', sample_size = -1)").fetchall()
    types = dict(PARQUET_DETAILED) if schema != "focus" else {
        c: "DECIMAL(38, 9)" for c in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity", "PricingQuantity")
    } | {c: "TIMESTAMPTZ" for c in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "x_ExportTime")} | {
        "x_CurrencyConversionRate": "DOUBLE", "x_Credits": "STRUCT(name VARCHAR, amount DOUBLE, full_name VARCHAR, id VARCHAR, type VARCHAR)[]"}
    # A shard whose values of a field are all null is detected as JSON: BigQuery's type is text.
    spec = ", ".join(f"'{n}': '{types.get(n, t.replace('JSON', 'VARCHAR'))}'" for n, t, *_ in cols)
    con.execute(f"COPY (SELECT * FROM read_json('{tmp.name}', format = 'newline_delimited', columns = {{{spec}}})) TO '{path}' (FORMAT parquet)")
    os.remove(tmp.name)


if __name__ == "__main__":
    main()
