#!/usr/bin/env python3
"""Builds examples/aws-cur: a legacy CUR (v1) export tree made from the anonymised real CUR
sample in ../shared/samples/aws-cur-v1 (MIT, FinOps Foundation focus_converters).

The sample covers one month (2023-11, 1,281 rows). To have two billing periods, the first 699
rows stay in 2023-11 (split into two gzip parts) and the other 582 move to 2023-12 (every
timestamp + 30 days, billing period 2023-12-01..2024-01-01), as one part. Deterministic:
fixed assembly ids, gzip mtime 0. Run from the repository root.
"""
import csv, gzip, io, json, os, re, sys
from datetime import datetime, timedelta, timezone

SRC = sys.argv[1] if len(sys.argv) > 1 else "../shared/samples/aws-cur-v1/sample-anonymous-aws-export-dataset.csv"
OUT = sys.argv[2] if len(sys.argv) > 2 else "examples/aws-cur"
REPORT, PREFIX = "finops-sample", "cur"

DECIMAL_SUFFIXES = ("Cost", "Rate", "Amount", "Fee", "Quantity", "Units", "Factor", "Value", "Commitment",
                    "CommitmentToDate", "ForUsage", "ForBillingPeriod", "Discount", "Ratio", "Usage")
NUMERIC = ("lineItem", "pricing", "reservation", "savingsPlan", "bill", "discount")

def col_type(h):
    cat, name = h.split("/", 1)
    if h == "identity/TimeInterval":
        return "Interval"
    if cat in NUMERIC and name.endswith(DECIMAL_SUFFIXES) and not name.endswith("Id"):
        return "OptionalBigDecimal"
    if h in ("bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate", "lineItem/UsageStartDate", "lineItem/UsageEndDate"):
        return "DateTime"
    return "OptionalString"

def shift(value, days):
    def one(ts):
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in ts else "%Y-%m-%dT%H:%M:%SZ"
        d = datetime.strptime(ts, fmt) + timedelta(days=days)
        return d.strftime(fmt)[:-4] + "Z" if "." in ts else d.strftime(fmt)
    return "/".join(one(p) for p in value.split("/")) if value else value

with open(SRC, newline="") as f:
    rows = list(csv.reader(f))
header, data = rows[0], rows[1:]
idx = {h: i for i, h in enumerate(header)}
nov, dec = data[:699], [list(r) for r in data[699:]]
for r in dec:
    for h in ("identity/TimeInterval", "lineItem/UsageStartDate", "lineItem/UsageEndDate"):
        r[idx[h]] = shift(r[idx[h]], 30)
    r[idx["bill/BillingPeriodStartDate"]] = "2023-12-01T00:00:00.000Z"
    r[idx["bill/BillingPeriodEndDate"]] = "2024-01-01T00:00:00.000Z"

def gz(rows_):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows_)
    return gzip.compress(buf.getvalue().encode(), mtime=0)

periods = [("20231101-20231201", "20231101T000000.000Z", "20231201T000000.000Z",
            "6f1f3e5a-0d5c-4f55-9c1e-2f0c8a1b2c01", [nov[:350], nov[350:]]),
           ("20231201-20240101", "20231201T000000.000Z", "20240101T000000.000Z",
            "7a2b4c6d-1e3f-4a5b-8c7d-3e1f9b2c3d02", [dec])]
columns = [{"category": h.split("/", 1)[0], "name": h.split("/", 1)[1], "type": col_type(h)} for h in header]
for folder, start, end, assembly, parts in periods:
    base = os.path.join(OUT, REPORT, folder)
    os.makedirs(os.path.join(base, assembly), exist_ok=True)
    keys = []
    for n, part in enumerate(parts, 1):
        name = f"{REPORT}-{n:05d}.csv.gz"
        with open(os.path.join(base, assembly, name), "wb") as f:
            f.write(gz(part))
        keys.append(f"{PREFIX}/{REPORT}/{folder}/{assembly}/{name}")
    manifest = {"assemblyId": assembly, "account": "123412340534", "columns": columns, "charset": "UTF-8",
                "compression": "GZIP", "contentType": "text/csv", "reportId": "finops-sample-report",
                "reportName": REPORT, "billingPeriod": {"start": start, "end": end}, "bucket": "finops-sample-bucket",
                "reportKeys": keys, "additionalArtifactKeys": []}
    text = json.dumps(manifest, indent=2) + "\n"
    for path in (os.path.join(base, f"{REPORT}-Manifest.json"), os.path.join(base, assembly, f"{REPORT}-Manifest.json")):
        with open(path, "w") as f:
            f.write(text)
print(f"wrote {OUT}: 2023-11 {len(nov)} rows, 2023-12 {len(dec)} rows")
