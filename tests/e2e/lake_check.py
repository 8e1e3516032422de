"""Reads the Delta table `finops lake sync` wrote with engines finops did not write, and compares
each (source, billing period) with the warehouse: rows and exact BilledCost, EffectiveCost and
ListCost sums, to the last digit.

usage: lake_check.py MODE ARGS… ; prints a JSON summary; exit 1 on any difference

  equal WAREHOUSE TABLE [ENDPOINT]   every reader, at the latest version, equals the warehouse:
                                     delta-rs (Python deltalake), ClickHouse (chdb) with its
                                     delta-kernel reader and with its own, and Spark over the
                                     table's current files (file:// only: Spark has no S3 client
                                     offline). TABLE is a directory, or s3://bucket/prefix on the
                                     moto server at ENDPOINT.
  quick WAREHOUSE TABLE [ENDPOINT]   equal without Spark (the slowest reader to start)
  within WAREHOUSE TABLE [ENDPOINT]  the same for the warehouse's partitions only (a worker's)
  history TABLE SOURCE PERIOD OLD NEW [FIRST [ENDPOINT]]
                                     at every table version from FIRST, SOURCE PERIOD's totals are OLD's or
                                     NEW's (JSON [rows, billed]), never both or neither; every
                                     other partition is the same at each version as at the one
                                     before, unless that version's commit names it; the last
                                     commit removes only SOURCE PERIOD's files, adds only under it,
                                     is a WRITE with a predicate on it and carries its txn
  glob TABLE                         rows of a plain Parquet glob over the folder, per partition
  hive WAREHOUSE ROOT                the Hive layout of `finops focus export --layout hive` read by
                                     Spark and chdb (one file per partition) equals the warehouse
"""

import glob
import json
import os
import sys
from collections import defaultdict
from decimal import Decimal, getcontext

import duckdb

# Python's default 28 significant digits would round sums of DECIMAL(38,20) values.
getcontext().prec = 80

COSTS = ["BilledCost", "EffectiveCost", "ListCost"]
problems = []


def dec(v):
    return Decimal(str(v)) if v is not None else Decimal(0)


def warehouse_totals(path):
    con = duckdb.connect(path, read_only=True)
    sums = ", ".join(f'CAST(sum("{c}") AS VARCHAR)' for c in COSTS)
    rows = con.execute(
        f"SELECT x_source, strftime(x_billing_period, '%Y-%m'), count(*), {sums} "
        "FROM focus.cost_and_usage GROUP BY ALL"
    ).fetchall()
    return {(r[0], r[1]): (r[2], *(dec(x) for x in r[3:])) for r in rows}


def storage_options(endpoint):
    if not endpoint:
        return None
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }


def period_of(v):
    return str(v)[:7]


def delta_rs(table, endpoint, version=None):
    from deltalake import DeltaTable

    dt = DeltaTable(table, storage_options=storage_options(endpoint), version=version)
    t = dt.to_pyarrow_table(columns=["x_source", "x_billing_period", *COSTS]).to_pylist()
    out = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0)])
    for r in t:
        o = out[(r["x_source"], period_of(r["x_billing_period"]))]
        o[0] += 1
        for i, c in enumerate(COSTS):
            o[i + 1] += dec(r[c])
    return {k: tuple(v) for k, v in out.items()}, dt


def chdb_query(sql):
    import chdb

    res = chdb.query(sql, "JSONEachRow")
    return [json.loads(line) for line in res.bytes().decode().splitlines() if line]


def clickhouse(table, endpoint, kernel, version=None):
    sums = ", ".join(f"toString(sum({c})) AS {c}" for c in COSTS)
    settings = f"allow_delta_kernel_rs={kernel}"
    if version is not None:
        settings += f", delta_lake_snapshot_version={version}"
    if endpoint:
        bucket_prefix = table.removeprefix("s3://")
        source = f"deltaLake('{endpoint}/{bucket_prefix}/', 'test', 'test')"
        cwd = None
    else:
        # chdb reads only below its working directory, and wants an absolute path.
        cwd = os.getcwd()
        os.chdir(os.path.dirname(os.path.abspath(table)))
        source = f"deltaLakeLocal('{os.path.abspath(table)}')"
    try:
        rows = chdb_query(
            f"SELECT x_source, toString(x_billing_period) AS p, count() AS n, {sums} FROM {source} "
            f"GROUP BY x_source, p SETTINGS {settings}"
        )
    finally:
        if cwd:
            os.chdir(cwd)
    return {(r["x_source"], r["p"][:7]): (int(r["n"]), *(dec(r[c]) for c in COSTS)) for r in rows}


def spark_session():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("finops-lake-check")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def spark_totals(spark, df):
    from pyspark.sql import functions as F

    agg = df.groupBy("x_source", "x_billing_period").agg(
        F.count(F.lit(1)).alias("n"), *[F.sum(c).alias(c) for c in COSTS]
    )
    return {(r["x_source"], period_of(r["x_billing_period"])): (r["n"], *(dec(r[c]) for c in COSTS)) for r in agg.collect()}


def spark_schema(df):
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


def compare(name, got, want):
    if set(got) != set(want):
        problems.append(f"{name}: partitions {sorted(got)} != warehouse {sorted(want)}")
    for k in sorted(set(got) & set(want)):
        if tuple(got[k]) != tuple(want[k]):
            problems.append(f"{name} {k}: {got[k]} != warehouse {want[k]}")


def equal(warehouse, table, endpoint=None, within=False, spark=True):
    want = warehouse_totals(warehouse)
    got, dt = delta_rs(table, endpoint)
    # A worker's scratch warehouse holds only what it loaded: compare those partitions.
    def same(name, g, w):
        compare(name, {k: v for k, v in g.items() if k in w} if within else g, w)

    same("deltalake", got, want)
    protocol = dt.protocol()
    if (protocol.min_reader_version, protocol.min_writer_version) != (1, 2):
        problems.append(f"protocol {protocol} is not reader 1 / writer 2")
    schema = {f.name: getattr(f.type, "type", str(f.type)) for f in dt.schema().fields}
    readers = ["deltalake"]
    from deltalake import DeltaTable

    first = DeltaTable(table, storage_options=storage_options(endpoint), version=0)
    evolved = [f.name for f in first.schema().fields] != [f.name for f in dt.schema().fields]
    native_refuses = None
    for kernel in (1, 0):
        try:
            same(f"chdb kernel={kernel}", clickhouse(table, endpoint, kernel), want)
            readers.append(f"chdb kernel={kernel}")
        except RuntimeError as e:
            # ClickHouse 26.9's own Delta reader refuses any table whose schema changed since
            # it was created (a delta-rs `schema_mode="merge"` append fails the same way).
            if kernel == 0 and evolved and "Reading from files with different schema is not possible" in str(e):
                native_refuses = str(e).splitlines()[0]
            else:
                raise
    spark_types = None
    if spark and not endpoint:
        spark = spark_session()
        df = spark.read.option("basePath", os.path.abspath(table)).parquet(*dt.file_uris())
        same("spark", spark_totals(spark, df), want)
        spark_types = spark_schema(df)
        readers.append("spark")
        for col, ty in (("ChargePeriodStart", "timestamp"), ("BilledCost", "decimal(38,20)")):
            if spark_types.get(col) != ty:
                problems.append(f"spark reads {col} as {spark_types.get(col)}, not {ty}")
        spark.stop()
    return {
        "partitions": {f"{k[0]} {k[1]}": [v[0], str(v[1])] for k, v in sorted(want.items())},
        "version": dt.version(),
        "protocol": [protocol.min_reader_version, protocol.min_writer_version],
        "files": len(dt.file_uris()),
        "schema": schema,
        "spark_types": spark_types,
        "readers": readers,
        "evolved": evolved,
        "clickhouse_native_refuses": native_refuses,
    }


def history(table, source, period, old, new, first="0", endpoint=None):
    from deltalake import DeltaTable

    latest = DeltaTable(table, storage_options=storage_options(endpoint))
    # From `first` on: a vacuum deleted the files of the versions before.
    versions = list(range(int(first), latest.version() + 1))
    key = (source, period)
    def totals_of(text):
        n, billed = json.loads(text)
        return (n, Decimal(billed))

    old, new = totals_of(old), totals_of(new)
    seen = []
    previous = None
    commits = {c["version"]: c for c in latest.history() if "version" in c}
    for v in versions:
        totals, _ = delta_rs(table, endpoint, version=v)
        k = totals.get(key)
        pair = (k[0], k[1]) if k else None
        # ClickHouse time-travels with its delta-kernel reader only.
        ch = clickhouse(table, endpoint, 1, version=v).get(key)
        if ((ch[0], ch[1]) if ch else None) != pair:
            problems.append(f"version {v}: chdb sees {ch}, deltalake {k}")
        if pair not in (None, old, new) or (pair is None and v > 0 and any(s for s in seen)):
            problems.append(f"version {v}: {key} totals {pair} are neither {old} nor {new}")
        seen.append(pair)
        if previous is not None:
            info = (commits.get(v) or {}).get("finops") or {}
            named = (info.get("source"), info.get("period"))
            for other in set(totals) | set(previous):
                if other != named and totals.get(other) != previous.get(other):
                    problems.append(f"version {v} changed {other}, which its commit does not name")
        previous = totals
    if old not in seen or new != seen[-1]:
        problems.append(f"{key}: versions show {seen}, want {old} then {new}")
    # The last commit, as written in the log.
    log = _read_log(table, latest.version(), endpoint)
    adds = [a["add"] for a in log if "add" in a]
    removes = [a["remove"] for a in log if "remove" in a]
    txns = [a["txn"] for a in log if "txn" in a]
    info = next(a["commitInfo"] for a in log if "commitInfo" in a)
    first_day = f"{period}-01"
    def under(a):
        pv = a.get("partitionValues") or {}
        return pv.get("x_source") == source and pv.get("x_billing_period") == first_day
    if not adds or not all(under(a) for a in adds):
        problems.append(f"last commit adds outside {key}: {[a['path'] for a in adds]}")
    if not removes or not all(under(r) for r in removes):
        problems.append(f"last commit removes outside {key}: {[r['path'] for r in removes]}")
    before = DeltaTable(table, storage_options=storage_options(endpoint), version=latest.version() - 1)
    had = sorted(os.path.basename(u) for u in before.file_uris() if _partition_of_uri(u) == key)
    removed = sorted(os.path.basename(r["path"]) for r in removes)
    if removed != had:
        problems.append(f"last commit removes {removed}, the partition had {had}")
    if info.get("operation") != "WRITE" or "predicate" not in info.get("operationParameters", {}):
        problems.append(f"last commit is {info.get('operation')} {info.get('operationParameters')}")
    if sorted(t["appId"] for t in txns) != [f"finops:{source}:{period}", f"finops:{source}:{period}:loaded"]:
        problems.append(f"last commit's txn {txns}")
    return {"versions": len(versions), "seen": seen, "last": {"adds": len(adds), "removes": len(removes), "operation": info.get("operation"), "predicate": info.get("operationParameters", {}).get("predicate"), "txn": txns}}


def _partition_of_uri(uri):
    from urllib.parse import unquote

    parts = dict(p.split("=", 1) for p in uri.split("/") if "=" in p)
    return (unquote(parts.get("x_source", "")), parts.get("x_billing_period", "")[:7])


def _read_log(table, version, endpoint):
    name = f"_delta_log/{version:020d}.json"
    if endpoint:
        import boto3

        bucket, _, prefix = table.removeprefix("s3://").partition("/")
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
        body = s3.get_object(Bucket=bucket, Key=f"{prefix}/{name}")["Body"].read().decode()
    else:
        body = open(os.path.join(table, name)).read()
    return [json.loads(line) for line in body.splitlines() if line]


def glob_rows(table):
    con = duckdb.connect()
    files = glob.glob(os.path.join(table, "**", "*.parquet"), recursive=True)
    out = defaultdict(int)
    for f in files:
        out[" ".join(_partition_of_uri(os.path.relpath(f, table)))] += con.execute(
            "SELECT count(*) FROM read_parquet(?)", [f]
        ).fetchone()[0]
    return {"files": len(files), "rows": dict(out)}


def hive(warehouse, root):
    want = warehouse_totals(warehouse)
    files = sorted(glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True))
    per = defaultdict(int)
    for f in files:
        per[_partition_of_uri(os.path.relpath(f, root))] += 1
    if any(n != 1 for n in per.values()):
        problems.append(f"partitions with more than one file: {dict(per)}")
    spark = spark_session()
    df = spark.read.parquet(os.path.abspath(root))
    compare("spark", spark_totals(spark, df), want)
    spark.stop()
    cwd = os.getcwd()
    os.chdir(os.path.dirname(os.path.abspath(root)))
    try:
        sums = ", ".join(f"toString(sum({c})) AS {c}" for c in COSTS)
        rows = chdb_query(
            # ClickHouse takes Hive partition values as written in the path (`aws%2Flegacy`).
            f"SELECT decodeURLComponent(x_source) AS s, toString(x_billing_period) AS p, count() AS n, {sums} "
            f"FROM file('{os.path.basename(os.path.abspath(root))}/**/*.parquet', Parquet) GROUP BY s, p "
            "SETTINGS use_hive_partitioning=1"
        )
    finally:
        os.chdir(cwd)
    compare("chdb", {(r["s"], r["p"][:7]): (int(r["n"]), *(dec(r[c]) for c in COSTS)) for r in rows}, want)
    return {"files": len(files), "partitions": len(per)}


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    modes = {"equal": equal, "quick": lambda *a: equal(*a, spark=False), "within": lambda *a: equal(*a, within=True), "history": history, "glob": glob_rows, "hive": hive}
    result = modes[mode](*args)
    print(json.dumps({"result": result, "problems": problems}, default=str))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
