#!/usr/bin/env python3
"""FOCUS files for the example source plugin focus-folder, in its layout, for the conformance
suite:

    <out>/<root>/<export>/<YYYY-MM>/part-0000<k>.csv.gz    two parts per month

The rows are those of examples/plugins/focus-folder/data (valid FOCUS 1.2, 30 a month),
moved to 2024-01 and 2024-02. --dirty writes BilledCost as binary floating point's shortest
text (some in E-notation); --seed N changes every BilledCost (a re-issue: a new version of
every month).

Writes its totals per month (under "periods": the version the plugin gives it, rows, exact
BilledCost as finops stores it) to --totals.
"""

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
from decimal import Decimal, ROUND_HALF_EVEN

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "examples", "plugins", "focus-folder", "data", "acme")
# Source month → (target month, the dates to move: source text → target text, in order).
MOVES = {
    "2023-11": ("2024-01", [("2023-12-01", "2024-02-01"), ("2023-11", "2024-01")]),
    "2023-12": ("2024-02", [("2024-01-01", "2024-03-01"), ("2023-12", "2024-02")]),
}
DATES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")


def q18(v):
    return v.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default="")
    ap.add_argument("--export", default="acme")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dirty", action="store_true")
    ap.add_argument("--totals")
    args = ap.parse_args()
    totals = {}
    for src, (ym, moves) in MOVES.items():
        with open(os.path.join(DATA, src, f"acme-focus-{src}.csv"), newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames
            rows = list(reader)
        billed = Decimal(0)
        for i, r in enumerate(rows):
            for c in DATES:
                for a, b in moves:
                    r[c] = r[c].replace(a, b)
            cost = float(Decimal(r["BilledCost"])) * (1 + (args.seed - 1) / 8)
            if args.dirty:
                cost = cost + 0.1 + 0.2 - 0.30000000000000004
            text = repr(cost)
            if args.dirty and "e" in text and i % 2:
                text = text.replace("e", "E")
            elif not args.dirty:
                text = str(Decimal(text).quantize(Decimal("1e-12")))
            r["BilledCost"] = text
            billed += q18(Decimal(text))
        folder = os.path.join(args.out, args.root, args.export, ym)
        os.makedirs(folder, exist_ok=True)
        names = []
        for k, part in enumerate([rows[: len(rows) // 2], rows[len(rows) // 2:]], 1):
            name = f"part-{k:05d}.csv.gz"
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
            w.writeheader()
            w.writerows(part)
            with gzip.GzipFile(os.path.join(folder, name), "wb", mtime=0) as f:
                f.write(buf.getvalue().encode())
            names.append(name)
        # The plugin's version: a hash of every file's name and content.
        version = hashlib.sha256("".join(
            n + ":" + sha256(os.path.join(folder, n)) + "\n" for n in sorted(names)
        ).encode()).hexdigest()[:16]
        totals[ym] = {"version": version, "rows": len(rows), "focus_rows": len(rows), "cost_stored": str(billed)}
    if args.totals:
        with open(args.totals, "w") as f:
            json.dump({"periods": totals}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
