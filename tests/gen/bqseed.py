#!/usr/bin/env python3
"""Seeds a BigQuery emulator (bqemulator's REST API) with a billing export table: creates the
dataset and a table with Cloud Billing's detailed (or standard) export schema, nested RECORDs
and REPEATED fields included, and inserts the rows of gcpgen.py's JSON files (insertAll).

    bqseed.py --endpoint http://127.0.0.1:9050 --project test-proj --dataset billing \
        --table gcp_billing_export_resource_v1_0123AB --schema detailed FILE.json...
"""

import argparse
import gzip
import json
import urllib.error
import urllib.request

KV = [{"name": "key", "type": "STRING"}, {"name": "value", "type": "STRING"}]


def rec(name, fields, mode="NULLABLE"):
    return {"name": name, "type": "RECORD", "mode": mode, "fields": fields}


def col(name, ty="STRING"):
    return {"name": name, "type": ty, "mode": "NULLABLE"}


STANDARD = [
    col("billing_account_id"),
    rec("service", [col("id"), col("description")]),
    rec("sku", [col("id"), col("description")]),
    col("usage_start_time", "TIMESTAMP"),
    col("usage_end_time", "TIMESTAMP"),
    rec("project", [col("id"), col("number"), col("name"), rec("labels", KV, "REPEATED"), col("ancestry_numbers"),
                    rec("ancestors", [col("resource_name"), col("display_name")], "REPEATED")]),
    rec("labels", KV, "REPEATED"),
    rec("system_labels", KV, "REPEATED"),
    rec("location", [col("location"), col("country"), col("region"), col("zone")]),
    rec("tags", [col("key"), col("value"), col("inherited", "BOOLEAN"), col("namespace")], "REPEATED"),
    col("transaction_type"),
    col("seller_name"),
    col("export_time", "TIMESTAMP"),
    col("cost", "FLOAT"),
    col("currency"),
    col("currency_conversion_rate", "FLOAT"),
    rec("usage", [col("amount", "FLOAT"), col("unit"), col("amount_in_pricing_units", "FLOAT"), col("pricing_unit")]),
    rec("credits", [col("name"), col("amount", "FLOAT"), col("full_name"), col("id"), col("type")], "REPEATED"),
    rec("invoice", [col("month"), col("publisher_type")]),
    col("cost_type"),
    rec("adjustment_info", [col("id"), col("description"), col("mode"), col("type")]),
    col("cost_at_list", "FLOAT"),
]
DETAILED = STANDARD + [
    rec("resource", [col("name"), col("global_name")]),
    rec("price", [col("effective_price", "NUMERIC"), col("tier_start_amount", "NUMERIC"), col("unit"), col("pricing_unit_quantity", "NUMERIC")]),
    rec("subscription", [col("instance_id")]),
]


def call(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    try:
        return json.loads(urllib.request.urlopen(req).read() or b"{}")
    except urllib.error.HTTPError as e:
        if e.code == 409:  # already exists
            return {}
        raise SystemExit(f"{url}: HTTP {e.code}: {e.read().decode()[:500]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--schema", choices=["detailed", "standard"], default="detailed")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    base = f"{args.endpoint}/bigquery/v2/projects/{args.project}"
    call(f"{base}/datasets", {"datasetReference": {"projectId": args.project, "datasetId": args.dataset}})
    fields = DETAILED if args.schema == "detailed" else STANDARD
    call(f"{base}/datasets/{args.dataset}/tables", {
        "tableReference": {"projectId": args.project, "datasetId": args.dataset, "tableId": args.table},
        "schema": {"fields": fields}})
    names = {f["name"] for f in fields}
    rows = []
    for path in args.files:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            for line in f:
                r = {k: v for k, v in json.loads(line).items() if k in names}
                # BigQuery's JSON export writes "" where the value is null.
                rows.append({"json": {k: (None if v == "" else v) for k, v in r.items()}})
    for i in range(0, len(rows), 500):
        r = call(f"{base}/datasets/{args.dataset}/tables/{args.table}/insertAll", {"rows": rows[i:i + 500]})
        if r.get("insertErrors"):
            raise SystemExit(f"insertAll: {r['insertErrors'][:3]}")
    print(len(rows))


if __name__ == "__main__":
    main()
