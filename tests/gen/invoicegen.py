#!/usr/bin/env python3
"""A reseller's monthly CSV invoices for the example source plugin csv-invoice, in its layout,
for the conformance suite:

    <out>/<root>/invoice-YYYY-MM.csv    one invoice per month, --rows lines, one a credit

Columns as examples/plugins/csv-invoice/data. --dirty writes amounts as binary floating
point's shortest text (some in E-notation); --seed N changes every amount (a re-issue).

Writes its totals per month (under "periods": the version the plugin gives it, rows, exact
amount as finops stores it) to --totals.
"""

import argparse
import hashlib
import json
import os
import random
from decimal import Decimal, ROUND_HALF_EVEN

HEADER = ("invoice_id,invoice_date,service_month,customer_account,customer_name,product,category,"
          "description,quantity,unit,unit_price,amount,currency")
PRODUCTS = [
    ("Managed Kubernetes", "Compute", "Hours", "0.1375"),
    ("Object Storage", "Storage", "GB-Months", "0.0195"),
    ("Managed Database", "Databases", "Hours", "0.2210"),
    ("Load Balancer", "Networking", "Hours", "0.0252"),
]


def q18(v):
    return v.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default="")
    ap.add_argument("--export", default="invoices", help="ignored: the plugin names its export")
    ap.add_argument("--months", default="2024-01,2024-02")
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dirty", action="store_true")
    ap.add_argument("--totals")
    args = ap.parse_args()
    folder = os.path.join(args.out, args.root)
    os.makedirs(folder, exist_ok=True)
    totals = {}
    for ym in args.months.split(","):
        y, m = map(int, ym.split("-"))
        rnd = random.Random(args.seed * 1000 + y * 12 + m)
        lines, billed = [], Decimal(0)
        for i in range(args.rows):
            credit = i == args.rows - 1
            product, category, unit, price = PRODUCTS[i % len(PRODUCTS)]
            qty = Decimal(rnd.randint(1, 90000)) / Decimal(100)
            amount = float(qty * Decimal(price))
            if args.dirty:
                amount = amount + 0.1 + 0.2 - 0.30000000000000004
            if credit:
                product, category, unit, price, qty, amount = "Credit", "Other", "Credits", "-5", Decimal(1), -5.0 * args.seed
            text = repr(amount)
            if args.dirty and "e" in text and i % 2:
                text = text.replace("e", "E")
            elif not args.dirty:
                text = str(Decimal(text).quantize(Decimal("1e-12")))
            billed += q18(Decimal(text))
            lines.append(",".join([f"NW-{y}-{m:02d}{args.seed:02d}", f"{y + (m == 12)}-{m % 12 + 1:02d}-01", ym,
                                   "C-10442", "Contoso Retail", product, category,
                                   f"{product} {ym} line {i}", str(qty), unit, price, text, "EUR"]))
        path = os.path.join(folder, f"invoice-{ym}.csv")
        with open(path, "w") as f:
            f.write(HEADER + "\n" + "\n".join(lines) + "\n")
        with open(path, "rb") as f:
            version = hashlib.sha256(f.read()).hexdigest()[:16]
        totals[ym] = {"version": version, "rows": len(lines), "focus_rows": len(lines), "cost_stored": str(billed)}
    if args.totals:
        with open(args.totals, "w") as f:
            json.dump({"periods": totals}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
