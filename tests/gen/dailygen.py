#!/usr/bin/env python3
"""Daily cost series with planted anomalies, as an AWS "FOCUS 1.0 with AWS columns" export
(csv.gz, the layout of awsgen.py --kind focus), for the tests of `finops report anomalies`,
`finops report costs` and `finops budgets check`.

Series are service x account. Each day of each series has two line items whose costs add up
to the series' cost for the day. Most series carry a deterministic +/-2% wiggle; one is
perfectly flat. Planted anomalies (service, account, day index, factor) multiply one day's cost.
One one-time Purchase sits on a usage series (found as an anomaly only with --all-charges).
Every other column comes from one Usage row of a small awsgen.py export, so the file has
exactly the columns AWS writes.

Writes the truth to --totals: every series' cost per day (exact strings), the planted
anomalies, and the total per month.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal

import duckdb

SERVICES = ["Amazon Elastic Compute Cloud", "Amazon Simple Storage Service", "AWS Lambda",
            "Amazon Relational Database Service"]
ACCOUNTS = ["111111111111", "222222222222"]
FLAT = ("AWS Lambda", "222222222222")
# A one-time purchase on a usage series: an anomaly only when every charge is watched.
PURCHASE = ("Amazon Elastic Compute Cloud", "111111111111", 45, Decimal("5000"))
SPIKES = [
    ("Amazon Elastic Compute Cloud", "111111111111", 30, Decimal(3)),
    ("Amazon Simple Storage Service", "222222222222", 50, Decimal(5)),
    ("Amazon Relational Database Service", "111111111111", 70, Decimal(0)),
    ("AWS Lambda", "111111111111", 80, Decimal("2.5")),
    # On the flat series: its MAD is 0, so the window's range is the yardstick.
    ("AWS Lambda", "222222222222", 85, Decimal("1.5")),
]


def plain(d):
    """Exact text without exponent or trailing zeros (`150`, not `1.5E+2`)."""
    return format(d.normalize(), "f")


def series_cost(s, a, d):
    base = Decimal(40 + 25 * s + 10 * a)
    if (SERVICES[s], ACCOUNTS[a]) == FLAT:
        return base
    wiggle = Decimal(((d * 7919 + s * 104729 + a * 1299709) % 41) - 20) / 1000
    return (base * (1 + wiggle)).quantize(Decimal("0.000001"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="root of the export tree")
    p.add_argument("--export", default="daily-focus")
    p.add_argument("--start", default="2024-01-01")
    p.add_argument("--days", type=int, default=91)
    p.add_argument("--totals", required=True)
    args = p.parse_args()

    start = dt.date.fromisoformat(args.start)
    spikes = {(s, a, d): f for s, a, d, f in SPIKES}
    rows, truth, months = [], {}, {}
    for d in range(args.days):
        day = start + dt.timedelta(days=d)
        for s, svc in enumerate(SERVICES):
            for a, acct in enumerate(ACCOUNTS):
                cost = series_cost(s, a, d) * spikes.get((svc, acct, d), Decimal(1))
                first = (cost * Decimal("0.6")).quantize(Decimal("0.000001"))
                for k, part in enumerate([first, cost - first]):
                    rows.append((svc, acct, day.isoformat(), str(part), f"res-{s}-{a}-{k}", "Usage"))
                truth.setdefault(f"{svc}|{acct}", {})[day.isoformat()] = plain(cost)
                m = day.strftime("%Y-%m")
                months[m] = months.get(m, Decimal(0)) + cost
    svc, acct, d, cost = PURCHASE
    purchase_day = start + dt.timedelta(days=d)
    rows.append((svc, acct, purchase_day.isoformat(), str(cost), "purchase-1", "Purchase"))
    m = purchase_day.strftime("%Y-%m")
    months[m] += cost

    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(here, "awsgen.py"), "--kind", "focus", "--format", "csv",
                        "--rows", "400", "--export", "template", "--out", tmp, "--totals",
                        os.path.join(tmp, "t.json"), "--threads", "1"], check=True)
        con = duckdb.connect()
        data = [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(tmp, "template", "data")) for f in fs]
        con.execute("CREATE TABLE tpl AS SELECT * FROM read_csv(?, all_varchar = true, header = true) "
                    "WHERE ChargeCategory = 'Usage' AND CommitmentDiscountId IS NULL AND ChargeClass IS NULL "
                    "AND ResourceId IS NOT NULL LIMIT 1", [data])
        mdir = [r for r, _, fs in os.walk(os.path.join(tmp, "template", "metadata")) if fs][0]
        with open(os.path.join(mdir, os.listdir(mdir)[0])) as f:
            template_manifest = json.load(f)
    con.execute("CREATE TABLE gen (svc VARCHAR, acct VARCHAR, day DATE, cost VARCHAR, res VARCHAR, cat VARCHAR)")
    con.executemany("INSERT INTO gen VALUES (?, ?, ?, ?, ?, ?)", rows)
    ts = "strftime(CAST({} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ')"
    replace = {
        "ServiceName": "svc", "SubAccountId": "acct", "SubAccountName": "'account-' || right(acct, 4)",
        "ResourceId": "res", "ChargeDescription": "cat || ' of ' || svc", "ChargeCategory": "cat",
        "ChargeFrequency": "CASE cat WHEN 'Usage' THEN 'Usage-Based' ELSE 'One-Time' END",
        "ChargePeriodStart": ts.format("day"), "ChargePeriodEnd": ts.format("day + 1"),
        "BillingPeriodStart": ts.format("date_trunc('month', day)"),
        "BillingPeriodEnd": ts.format("date_trunc('month', day) + INTERVAL 1 month"),
        "BilledCost": "cost", "EffectiveCost": "cost", "ListCost": "cost", "ContractedCost": "cost",
        "ListUnitPrice": "cost", "ContractedUnitPrice": "cost", "PricingQuantity": "'1'",
        "ConsumedQuantity": "CASE cat WHEN 'Usage' THEN '1' END",
    }
    cols = [r[0] for r in con.execute("DESCRIBE tpl").fetchall()]
    select = ", ".join(f"{replace[c]} AS \"{c}\"" if c in replace else f"tpl.\"{c}\"" for c in cols)
    base = os.path.join(args.out, args.export)
    for m in sorted(months):
        folder = os.path.join(base, "data", f"BILLING_PERIOD={m}")
        os.makedirs(folder, exist_ok=True)
        rel = f"data/BILLING_PERIOD={m}/{args.export}-00001.csv.gz"
        con.execute(f"COPY (SELECT {select} FROM gen CROSS JOIN tpl WHERE strftime(day, '%Y-%m') = '{m}' "
                    f"ORDER BY day, svc, acct, res) TO '{os.path.join(base, rel)}' (HEADER, COMPRESSION gzip)")
        y, mo = map(int, m.split("-"))
        end = dt.date(y + (mo == 12), mo % 12 + 1, 1)
        manifest = dict(template_manifest)
        manifest.update({
            "executionId": f"daily-{m}", "exportName": args.export,
            "exportArn": template_manifest["exportArn"].replace("template", args.export),
            "billingPeriod": {"start": f"{m}-01T00:00:00.000Z", "end": f"{end.isoformat()}T00:00:00.000Z"},
            "dataFiles": [f"s3://finops-generated/{args.export}/{rel}"],
        })
        meta = os.path.join(base, "metadata", f"BILLING_PERIOD={m}")
        os.makedirs(meta, exist_ok=True)
        with open(os.path.join(meta, f"{args.export}-Manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
    with open(args.totals, "w") as f:
        json.dump({
            "start": args.start, "days": args.days, "series": truth,
            "spikes": [{"service": s, "account": a, "date": (start + dt.timedelta(days=d)).isoformat(),
                        "factor": str(f)} for s, a, d, f in SPIKES],
            "flat": {"service": FLAT[0], "account": FLAT[1]},
            "purchase": {"service": PURCHASE[0], "account": PURCHASE[1],
                         "date": purchase_day.isoformat(), "cost": plain(PURCHASE[3])},
            "months": {m: plain(v) for m, v in months.items()},
            "rows": len(rows),
        }, f, indent=2)


if __name__ == "__main__":
    main()
