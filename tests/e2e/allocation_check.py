"""An independent allocation of a warehouse's FOCUS rows by a finops.toml, in Python integers and
Decimal, compared to the last digit with the focus.allocated_cost that `finops allocate` wrote.

It implements what docs/allocation.md states, not finops's SQL: [tags] normalisation (AWS's
user: prefix dropped, case folded, aliases, values trimmed and cased), [[dimensions]] rules (first
match wins, else the default), [[allocations]] pools (the first allocation whose pool matches),
weights per target and currency (proportional, even, fixed, metric; only weights above 0), parts
per billion by largest remainder, and every row's BilledCost and EffectiveCost split in 1e-20
units by largest remainder.

With a third argument, the JSON of `finops report tags --by provider` is checked too: per
normalised key, provider and currency, the EffectiveCost of usage rows that carry the key and of
all usage rows, to the last digit, and the spellings [tags] merged.

usage: allocation_check.py WAREHOUSE FINOPS_TOML [TAGS_JSON] -> prints a JSON summary; exit 1 on any difference
"""

import json
import sys
import tomllib
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fnmatch import fnmatchcase

import duckdb

PARTS = 10**9
SCALE = Decimal("1e-20")


def units20(d):
    return int((d or Decimal(0)).scaleb(20))


def weight_units(d):
    """A weight rounded to 10 decimals (half away from zero), as an integer."""
    return int(d.quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP).scaleb(10))


def one_or_many(v):
    return [v] if isinstance(v, str) else list(v)


def main():
    warehouse, config_path = sys.argv[1], sys.argv[2]
    with open(config_path, "rb") as f:
        cfg = tomllib.load(f)
    tags_cfg = cfg.get("tags")
    dims = cfg.get("dimensions", [])
    allocs = cfg.get("allocations", [])
    con = duckdb.connect(warehouse, read_only=True)
    cols = ["x_source", "x_billing_period", "x_RowId", "BillingCurrency", "ServiceName", "SubAccountId",
            "BillingAccountId", "RegionId", "ProviderName", "ChargeCategory", "ResourceId", "Tags",
            "BilledCost", "EffectiveCost", "ConsumedQuantity", "PricingQuantity"]
    quoted = ", ".join(f'"{c}"' for c in cols)
    rows = [dict(zip(cols, r)) for r in con.execute(f"SELECT {quoted} FROM focus.cost_and_usage").fetchall()]
    for r in rows:
        r["tags"] = json.loads(r["Tags"]) if r["Tags"] else {}

    # [tags]: every raw key's normal form; lookups try the exact spelling, then the most used.
    counts = defaultdict(int)
    for r in rows:
        for k in r["tags"]:
            counts[k] += 1
    by_use = sorted(counts, key=lambda k: (-counts[k], k.encode()))

    def fold(k):
        k = k.strip()
        for p in ("user:", "user_"):
            if k.startswith(p):
                k = k[len(p):]
                break
        return k.lower() if tags_cfg.get("case_insensitive", True) else k

    def canonical(k):
        f = fold(k)
        for src, dst in tags_cfg.get("aliases", {}).items():
            if fold(src) == f:
                return fold(dst)
        return f

    def spellings(key):
        if tags_cfg is None:
            return [key] if ":" in key else [key, f"user:{key}", f"user_{key}"]
        c = canonical(key)
        found = [k for k in by_use if canonical(k) == c]
        if key in found:
            found.remove(key)
            found.insert(0, key)
        return found or [key]

    def norm_value(v):
        if tags_cfg is None:
            return v
        v = v.strip()
        case = tags_cfg.get("values", "keep")
        return v.lower() if case == "lower" else v.upper() if case == "upper" else v

    def tag(r, key):
        for k in spellings(key):
            if k in r["tags"] and r["tags"][k] is not None:
                v = str(r["tags"][k])
                if tags_cfg is None:
                    return v
                v = norm_value(v)
                return v or None
        return None

    fields = {"service": "ServiceName", "account": "SubAccountId", "billing_account": "BillingAccountId",
              "region": "RegionId", "provider": "ProviderName", "charge_category": "ChargeCategory"}

    def matches(r, m, dim_value=None):
        for f, col in fields.items():
            if f in m and (r[col] is None or str(r[col]) not in one_or_many(m[f])):
                return False
        if "resource" in m and not (r["ResourceId"] and any(fnmatchcase(r["ResourceId"], g) for g in one_or_many(m["resource"]))):
            return False
        for k, v in m.get("tags", {}).items():
            t = tag(r, k)
            if t is None or (v != "*" and t != norm_value(v)):
                return False
        if "dimension_value" in m and dim_value not in one_or_many(m["dimension_value"]):
            return False
        return True

    def dim_value(r, d):
        for rule in d.get("rules", []):
            m = {k: v for k, v in rule.items() if k not in ("value", "tag")}
            if not matches(r, m):
                continue
            if "value" in rule:
                return rule["value"]
            t = tag(r, rule["tag"])
            if t is not None:
                return t
        return d.get("default", "unallocated")

    for r in rows:
        r["dims"] = {d["name"]: dim_value(r, d) for d in dims}
        r["pool"] = None
        for a in allocs:
            if matches(r, a["pool"], r["dims"][a["dimension"]]):
                r["pool"] = a["name"]
                break

    expected = {}  # (source, period, rowid, allocation, dims tuple) -> (billed, effective) units
    pools = defaultdict(lambda: [0, 0])
    kept = 0
    periods = sorted({r["x_billing_period"] for r in rows})
    dim_names = [d["name"] for d in dims]
    for p in periods:
        prow = [r for r in rows if r["x_billing_period"] == p]
        for r in prow:
            if r["pool"] is None:
                key = (r["x_source"], str(r["x_billing_period"]), r["x_RowId"], None, tuple(r["dims"][n] for n in dim_names))
                expected[key] = [units20(r["BilledCost"]), units20(r["EffectiveCost"])]
        for a in allocs:
            d = next(d for d in dims if d["name"] == a["dimension"])
            method = a.get("method", "proportional")
            direct = [r for r in prow if r["pool"] is None and r["dims"][d["name"]] != d.get("default", "unallocated")
                      and ("targets" not in a or r["dims"][d["name"]] in a["targets"])]
            pool_rows = [r for r in prow if r["pool"] == a["name"]]
            currencies = {r["BillingCurrency"] for r in pool_rows}
            weights = defaultdict(dict)  # currency -> target -> units
            if method in ("proportional", "metric"):
                col = a.get("metric") if method == "metric" else ("BilledCost" if a.get("basis") == "billed" else "EffectiveCost")
                sums = defaultdict(Decimal)
                for r in direct:
                    sums[(r["BillingCurrency"], r["dims"][d["name"]])] += r[col] or Decimal(0)
                for (c, t), s in sums.items():
                    weights[c][t] = weight_units(s)
            elif method == "even":
                if "targets" in a:
                    for c in currencies:
                        for t in a["targets"]:
                            weights[c][t] = 1
                else:
                    for r in direct:
                        weights[r["BillingCurrency"]][r["dims"][d["name"]]] = 1
            else:
                for c in currencies:
                    for t, pct in a["shares"].items():
                        weights[c][t] = int(Decimal(str(pct)).scaleb(10))
            parts = {}
            for c, ws in weights.items():
                ws = {t: w for t, w in ws.items() if w > 0}
                if not ws:
                    continue
                total = sum(ws.values())
                base = {t: w * PARTS // total for t, w in ws.items()}
                rem = {t: w * PARTS % total for t, w in ws.items()}
                left = PARTS - sum(base.values())
                for t in sorted(ws, key=lambda t: (-rem[t], t.encode()))[:left]:
                    base[t] += 1
                parts[c] = {t: v for t, v in base.items() if v > 0}
            for r in pool_rows:
                c = r["BillingCurrency"]
                if c not in parts:
                    kept += 1
                    key = (r["x_source"], str(r["x_billing_period"]), r["x_RowId"], None, tuple(r["dims"][n] for n in dim_names))
                    expected[key] = [units20(r["BilledCost"]), units20(r["EffectiveCost"])]
                    continue
                shares = {}
                for i, col in enumerate(("BilledCost", "EffectiveCost")):
                    u = units20(r[col])
                    sign = -1 if u < 0 else 1
                    base = {t: abs(u) * ppb // PARTS for t, ppb in parts[c].items()}
                    rem = {t: abs(u) * ppb % PARTS for t, ppb in parts[c].items()}
                    left = abs(u) - sum(base.values())
                    for t in sorted(base, key=lambda t: (-rem[t], t.encode()))[:left]:
                        base[t] += 1
                    for t, v in base.items():
                        shares.setdefault(t, [0, 0])[i] = sign * v
                for t, (b, e) in shares.items():
                    dvals = tuple(t if n == d["name"] else r["dims"][n] for n in dim_names)
                    expected[(r["x_source"], str(r["x_billing_period"]), r["x_RowId"], a["name"], dvals)] = [b, e]
                    pools[(str(p), a["name"], c)][0] += b
                    pools[(str(p), a["name"], c)][1] += e

    dim_sql = ", ".join(f'"{n}"' for n in dim_names)
    got = {}
    for r in con.execute(
        f'SELECT x_source, CAST(x_billing_period AS VARCHAR), "x_RowId", x_allocation, {dim_sql}, "BilledCost", "EffectiveCost" FROM focus.allocated_cost'
    ).fetchall():
        key = (r[0], r[1], r[2], r[3], tuple(r[4:4 + len(dim_names)]))
        if key in got:
            print(f"duplicate allocated row {key}", file=sys.stderr)
            sys.exit(1)
        got[key] = [units20(r[-2]), units20(r[-1])]
    # Rows that split to 0 in both costs are written too; compare with them as zeros.
    problems = []
    for k in set(expected) | set(got):
        if expected.get(k, [0, 0]) != got.get(k, [0, 0]):
            problems.append(f"{k}: expected {expected.get(k)}, allocated {got.get(k)}")
    # Whatever the split, every pool and the whole table add up exactly.
    focus_totals = defaultdict(lambda: [0, 0])
    for r in rows:
        t = focus_totals[(str(r["x_billing_period"]), r["BillingCurrency"])]
        t[0] += units20(r["BilledCost"])
        t[1] += units20(r["EffectiveCost"])
    alloc_totals = defaultdict(lambda: [0, 0])
    for (p, c, b, e) in con.execute(
        "SELECT CAST(x_billing_period AS VARCHAR), \"BillingCurrency\", \"BilledCost\", \"EffectiveCost\" FROM focus.allocated_cost"
    ).fetchall():
        alloc_totals[(p, c)][0] += units20(b)
        alloc_totals[(p, c)][1] += units20(e)
    if dict(focus_totals) != dict(alloc_totals):
        problems.append(f"totals differ: FOCUS {dict(focus_totals)}, allocated {dict(alloc_totals)}")
    pool_sources = defaultdict(lambda: [0, 0])
    for r in rows:
        if r["pool"] is not None:
            pool_sources[(str(r["x_billing_period"]), r["pool"], r["BillingCurrency"])][0] += units20(r["BilledCost"])
            pool_sources[(str(r["x_billing_period"]), r["pool"], r["BillingCurrency"])][1] += units20(r["EffectiveCost"])
    for k, v in pools.items():
        if pool_sources[k] != v:
            problems.append(f"pool {k}: rows {pool_sources[k]}, split {v}")
    if len(sys.argv) > 3:
        problems.extend(check_tags(sys.argv[3], rows, by_use, canonical, tag))
    if problems:
        print("\n".join(sorted(problems)[:40]), file=sys.stderr)
        print(f"{len(problems)} differences", file=sys.stderr)
        sys.exit(1)
    per_target = defaultdict(lambda: Decimal(0))
    for (src, p, rid, alloc, dvals), (b, e) in expected.items():
        if alloc is not None:
            per_target[f"{p[:7]} {alloc} {dvals[dim_names.index(next(a['dimension'] for a in allocs if a['name'] == alloc))]}"] += Decimal(e) * SCALE
    print(json.dumps({
        "rows": len(got),
        "focus_rows": len(rows),
        "pooled_rows": sum(1 for r in rows if r["pool"] is not None),
        "kept_whole": kept,
        "pools": {f"{p[:7]} {a} {c}": str((Decimal(e) * SCALE).normalize()) for (p, a, c), (b, e) in sorted(pools.items())},
        "effective_per_target": {k: str(v.normalize()) for k, v in sorted(per_target.items())},
        "allocations": sorted({k[3] for k in got if k[3]}),
    }, indent=1))


def check_tags(path, rows, by_use, canonical, tag):
    with open(path) as f:
        report = json.load(f)
    problems = []
    keys = {}
    for k in by_use:
        keys.setdefault(canonical(k), []).append(k)
    merged = {m["key"]: m["spellings"] for m in report["merged"]}
    for c, spellings in keys.items():
        if len(spellings) > 1:
            shown = next((m for m in merged if canonical(m) == c), None)
            if shown is None or sorted(merged[shown].split(", ")) != sorted(spellings):
                problems.append(f"tags: {c} merges {spellings}, report says {shown}: {merged.get(shown)}")
    seen = set()
    for line in report["coverage"]:
        c = canonical(line["key"])
        seen.add(c)
        usage = [r for r in rows if r["ChargeCategory"] == "Usage" and (r["ProviderName"] or "(none)") == line["provider"]
                 and (r["BillingCurrency"] or "(none)") == line["currency"]]
        total = sum((r["EffectiveCost"] or Decimal(0) for r in usage), Decimal(0))
        tagged = sum((r["EffectiveCost"] or Decimal(0) for r in usage if tag(r, line["key"]) is not None), Decimal(0))
        if Decimal(line["tagged_cost"]) != tagged or Decimal(line["total_cost"]) != total:
            problems.append(f"tags: {line} != tagged {tagged} of {total}")
    if seen != set(keys):
        problems.append(f"tags: the report covers {sorted(seen)}, the data has {sorted(keys)}")
    return problems


if __name__ == "__main__":
    main()
