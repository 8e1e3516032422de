//! The Google Cloud vendor (issue #19): billing exports as `EXPORT DATA` writes them, made by
//! `tests/gen/gcpgen.py` (detailed, standard and FOCUS; JSON and Parquet), from a local tree
//! and from fake-gcs-server (a real Cloud Storage emulator), counted and summed against the
//! generator, re-exported, and refused when bad. The conformance suite runs the scenario
//! every vendor runs (`conformance.rs`).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{FakeGcs, Sandbox, files_under, load_sums as sums, scaled};
use crate::require_venv;

/// The three exports of one tree: (name, generator arguments).
const EXPORTS: [(&str, &[&str]); 3] = [
    (
        "detailed",
        &[
            "--schema",
            "detailed",
            "--format",
            "json",
            "--gzip",
            "--currency",
            "EUR",
        ],
    ),
    ("standard", &["--schema", "standard", "--format", "parquet"]),
    (
        "focus",
        &["--schema", "focus", "--format", "json", "--shards", "3"],
    ),
];

/// March (Pacific standard time on the 1st) and April (daylight time).
const MONTHS: &str = "2026-03,2026-04";

/// Generates every export into `<out>/tree/exports`; returns (name, totals).
fn generate_all(venv: &Path, out: &Path, extra: &[&str]) -> Vec<(&'static str, Value)> {
    EXPORTS
        .iter()
        .map(|(name, args)| {
            let common = [
                "--root", "exports", "--dirty", "--rows", "120", "--months", MONTHS,
            ];
            let args = [&common[..], args, extra].concat();
            (
                *name,
                crate::harness::generate(venv, "gcpgen.py", out, name, &args),
            )
        })
        .collect()
}

fn one(sb: &Sandbox, venv: &Path, sql: &str) -> Value {
    sb.query(venv, sql)
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
}

/// The generator's totals hold in `sums`: every export, every month, to the last digit.
fn assert_exact(got: &[Value], totals: &[(&str, Value)]) {
    assert_eq!(got.len(), totals.len() * 2, "{got:?}");
    for (name, t) in totals {
        for month in MONTHS.split(',') {
            let want = &t["periods"][month];
            let row = got
                .iter()
                .find(|r| r["x"] == json!(format!("gcp/{name}")) && r["p"] == json!(month))
                .unwrap_or_else(|| panic!("no {name} {month} in {got:?}"));
            assert_eq!(row["n"], want["rows"], "{name} {month}");
            assert_eq!(row["state_rows"], want["rows"], "{name} {month}");
            let billed = scaled(want["billed_stored"].as_str().unwrap());
            assert_eq!(
                scaled(row["billed"].as_str().unwrap()),
                billed,
                "{name} {month}"
            );
            assert_eq!(
                scaled(row["state_cost"].as_str().unwrap()),
                billed,
                "{name} {month}"
            );
            assert!(
                row["v"]
                    .as_str()
                    .unwrap()
                    .starts_with(want["version"].as_str().unwrap()),
                "{name} {month}: {row}"
            );
        }
    }
}

#[test]
fn exports_load_exactly_from_a_local_tree_and_from_cloud_storage() {
    let venv = require_venv!();
    let work = tempfile::tempdir().unwrap();
    let totals = generate_all(&venv, &work.path().join("r0"), &[]);
    let tree = work.path().join("r0/tree/exports");

    let sb = Sandbox::new();
    let path = tree.display().to_string();
    let list = sb.finops(&["gcp", "list-exports", "--path", &path, "--format", "json"]);
    assert_eq!(list.code, 0, "{list:?}");
    let schemas: Vec<(String, String)> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["export"].as_str().unwrap().to_owned(),
                r["schema"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        schemas.contains(&("detailed".into(), "detailed".into())),
        "{schemas:?}"
    );
    assert!(
        schemas.contains(&("standard".into(), "standard".into())),
        "{schemas:?}"
    );
    assert!(
        schemas.contains(&("focus".into(), "focus".into())),
        "{schemas:?}"
    );

    let run = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.matches("loaded 2, failed 0").count(),
        3,
        "{run:?}"
    );
    let local = sums(&sb, &venv);
    assert_exact(&local, &totals);

    // Raw rows keep the export's shape, numbers exact at every depth.
    let raw = one(
        &sb,
        &venv,
        "SELECT typeof(any_value(cost)) AS cost, typeof(any_value(credits)) AS credits, \
         typeof(any_value(usage)) AS usage, typeof(any_value(usage_start_time)) AS t, \
         count(*) FILTER (WHERE len(credits) > 0) AS with_credits, \
         list_sort(list_distinct(flatten(list(list_transform(credits, lambda c: c.type))))) AS types \
         FROM gcp.billing_detailed",
    );
    assert_eq!(raw["cost"], json!("DECIMAL(38,18)"), "{raw}");
    assert!(
        raw["credits"]
            .as_str()
            .unwrap()
            .contains("amount DECIMAL(38,18)"),
        "{raw}"
    );
    assert!(
        raw["usage"]
            .as_str()
            .unwrap()
            .contains("amount_in_pricing_units DECIMAL(38,18)"),
        "{raw}"
    );
    assert_eq!(raw["t"], json!("TIMESTAMP"), "{raw}");
    assert_eq!(
        raw["types"],
        json!([
            "COMMITTED_USAGE_DISCOUNT",
            "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
            "DISCOUNT",
            "FREE_TIER",
            "PROMOTION",
            "SUSTAINED_USAGE_DISCOUNT"
        ]),
        "{raw}"
    );

    // FOCUS of the detailed export: Pacific invoice months as exact UTC periods, euros,
    // committed use discounts, Marketplace, corrections, labels before project labels.
    let f = one(
        &sb,
        &venv,
        "SELECT list_sort(list_distinct(list(strftime(BillingPeriodStart, '%Y-%m-%d %H:%M') || ' ' || strftime(BillingPeriodEnd, '%Y-%m-%d %H:%M')))) AS periods, \
         list_distinct(list(BillingCurrency)) AS currencies, \
         count(*) FILTER (WHERE CommitmentDiscountCategory = 'Usage') AS cud_usage, \
         count(*) FILTER (WHERE CommitmentDiscountCategory = 'Spend') AS cud_spend, \
         count(*) FILTER (WHERE PublisherName = 'Acme Corp' AND InvoiceIssuerName = 'Google Cloud') AS marketplace, \
         count(*) FILTER (WHERE ChargeClass = 'Correction') AS corrections, \
         count(*) FILTER (WHERE ChargeCategory = 'Tax' AND SkuId IS NULL) AS tax, \
         count(*) FILTER (WHERE ChargePeriodStart < BillingPeriodStart) AS before_month, \
         count(*) FILTER (WHERE json_extract_string(Tags, '$.app') = 'duplicate-ignored') AS duplicate_won, \
         count(*) FILTER (WHERE json_extract_string(Tags, '$.app') = 'project-label-loses') AS project_app, \
         count(*) FILTER (WHERE json_extract_string(Tags, '$.team') IS NOT NULL) AS project_tags, \
         count(*) FILTER (WHERE PricingUnit = 'Hours') AS hours, \
         CAST(round(sum(ListCost) FILTER (WHERE x_CostAtList IS NOT NULL), 18) AS VARCHAR) AS list, \
         CAST(sum(x_CostAtList) AS VARCHAR) AS at_list, \
         count(*) FILTER (WHERE SubAccountType = 'Project') AS projects \
         FROM focus.cost_and_usage WHERE x_source = 'gcp/detailed'",
    );
    assert_eq!(
        f["periods"],
        json!([
            "2026-03-01 08:00 2026-04-01 07:00",
            "2026-04-01 07:00 2026-05-01 07:00"
        ]),
        "{f}"
    );
    assert_eq!(f["currencies"], json!(["EUR"]), "{f}");
    for k in [
        "cud_usage",
        "cud_spend",
        "before_month",
        "project_tags",
        "hours",
        "projects",
    ] {
        assert!(f[k].as_u64().unwrap() > 0, "{k}: {f}");
    }
    for k in ["marketplace", "corrections", "tax"] {
        assert_eq!(f[k], json!(2), "{k}: {f}");
    }
    // A repeated label key keeps its first value; a project label shows only on the rows
    // without a label of that key (the five special rows of each month).
    assert_eq!(f["duplicate_won"], json!(0), "{f}");
    assert_eq!(f["project_app"], json!(10), "{f}");
    // ListCost = ListUnitPrice × PricingQuantity (derived) stays within a millionth of
    // Google's cost_at_list over the export.
    let (list, at_list) = (
        scaled(f["list"].as_str().unwrap()),
        scaled(f["at_list"].as_str().unwrap()),
    );
    let diff = (list - at_list).abs();
    assert!(
        diff * 1_000_000 <= at_list.abs(),
        "ListCost {list} vs cost_at_list {at_list}"
    );

    // A re-run changes nothing.
    let again = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        again.stdout.matches("loaded 0, failed 0").count(),
        3,
        "{again:?}"
    );
    assert_eq!(sums(&sb, &venv), local);
    let check = sb.finops(&["focus", "validate"]);
    assert_eq!(check.code, 0, "{check:?}");

    // The same tree in Cloud Storage: the same rows and sums.
    let Some(bin) = FakeGcs::bin(&venv) else {
        return;
    };
    let gcs = FakeGcs::start(&bin, "billing-exports", &work.path().join("r0/tree"));
    let remote = Sandbox::new();
    let env = [
        ("FINOPS_GCP_CREDENTIALS", gcs.key.to_str().unwrap()),
        ("FINOPS_GCP_ENDPOINT", gcs.endpoint.as_str()),
    ];
    let url = "gs://billing-exports/exports";
    let run = remote.finops_with(&["gcp", "import", "--path", url], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.matches("loaded 2, failed 0").count(),
        3,
        "{run:?}"
    );
    assert!(!run.stderr.contains("disable_oauth"), "{run:?}");
    let from_gcs = sums(&remote, &venv);
    assert_exact(&from_gcs, &totals);
    let again = remote.finops_with(&["gcp", "import", "--path", url], &env);
    assert_eq!(
        again.stdout.matches("loaded 0, failed 0").count(),
        3,
        "{again:?}"
    );

    // April of the detailed export re-exported (new shards, new generations): April of that
    // export is replaced, nothing else is touched.
    let t1 = generate_all(&venv, &work.path().join("r1"), &["--seed", "7"]);
    let month = "detailed/invoice_month=202604/";
    for (rel, _) in files_under(&work.path().join("r0/tree")) {
        if rel.contains(month) {
            gcs.delete(&venv, "billing-exports", &rel);
        }
    }
    for (rel, file) in files_under(&work.path().join("r1/tree")) {
        if rel.contains(month) {
            gcs.upload(&venv, "billing-exports", &rel, &file);
        }
    }
    let run = remote.finops_with(&["gcp", "import", "--path", url], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("gcp/detailed into gcp.billing_detailed: 2 period(s), loaded 1"),
        "{run:?}"
    );
    let after = sums(&remote, &venv);
    for (old, new) in from_gcs.iter().zip(&after) {
        if old["x"] == json!("gcp/detailed") && old["p"] == json!("2026-04") {
            assert_eq!(new["n"], t1[0].1["periods"]["2026-04"]["rows"]);
            assert_eq!(
                scaled(new["billed"].as_str().unwrap()),
                scaled(
                    t1[0].1["periods"]["2026-04"]["billed_stored"]
                        .as_str()
                        .unwrap()
                )
            );
            assert_ne!(new["v"], old["v"]);
        } else {
            assert_eq!(new, old);
        }
    }
}

/// `touch -d` (no crate for file times in the tests).
fn set_mtime(file: &Path, when: &str) {
    let ok = Command::new("touch")
        .args(["-d", when])
        .arg(file)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn bad_exports_fail_clearly_and_keep_what_was_loaded() {
    let venv = require_venv!();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("g");
    crate::harness::generate(
        &venv,
        "gcpgen.py",
        &out,
        "detailed",
        &["--rows", "60", "--months", MONTHS, "--shards", "2"],
    );
    let tree = out.join("tree");
    let path = tree.display().to_string();
    let sb = Sandbox::new();
    let run = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    let loaded = sums(&sb, &venv);

    // A shard left over from an older EXPORT DATA run: April is refused, March kept.
    let april = tree.join("detailed/invoice_month=202604");
    let stale = april.join("000000000002.json");
    std::fs::copy(april.join("000000000000.json"), &stale).unwrap();
    set_mtime(&stale, "3 days ago");
    let run = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("different EXPORT DATA runs"), "{run:?}");
    assert!(run.stderr.contains("000000000002.json"), "{run:?}");
    assert!(run.stderr.contains("delete the month's folder"), "{run:?}");
    assert_eq!(sums(&sb, &venv), loaded);
    std::fs::remove_file(&stale).unwrap();

    // A shard cut in the middle of a row: April fails naming it, March is kept.
    let shard = april.join("000000000001.json");
    let whole = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &whole[..whole.len() / 2]).unwrap();
    let run = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("000000000001.json"), "{run:?}");
    assert_eq!(sums(&sb, &venv), loaded);
    std::fs::write(&shard, &whole).unwrap();
    let run = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        sums(&sb, &venv),
        loaded,
        "the whole file is the version loaded"
    );

    // Files that are not a billing export.
    let other = work.path().join("other/costs/invoice_month=202604");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("a.json"), "{\"lineItem/UnblendedCost\": 1}\n").unwrap();
    let odd = work.path().join("other").display().to_string();
    let run = sb.finops(&["gcp", "import", "--path", &odd]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("is not a Google Cloud billing export"),
        "{run:?}"
    );

    // No export at all, and no folder at all.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.txt"), "x").unwrap();
    let run = sb.finops(&[
        "gcp",
        "import",
        "--path",
        &empty.path().display().to_string(),
    ]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("invoice_month=YYYYMM"), "{run:?}");
    assert!(run.stderr.contains("notes.txt"), "{run:?}");
    let run = sb.finops(&["gcp", "import", "--path", "/nonexistent/gcp"]);
    assert_ne!(run.code, 0, "{run:?}");
    let run = sb.finops(&["gcp", "import", "--path", "s3://bucket/x"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("gs://BUCKET/PREFIX"), "{run:?}");

    // A bucket that does not exist in Cloud Storage.
    let Some(bin) = FakeGcs::bin(&venv) else {
        return;
    };
    let gcs = FakeGcs::start(&bin, "billing-exports", &tree);
    let env = [
        ("FINOPS_GCP_CREDENTIALS", gcs.key.to_str().unwrap()),
        ("FINOPS_GCP_ENDPOINT", gcs.endpoint.as_str()),
    ];
    let run = sb.finops_with(&["gcp", "import", "--path", "gs://no-such-bucket/x"], &env);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("gs://no-such-bucket"), "{run:?}");
    assert_eq!(sums(&sb, &venv), loaded);
}

/// The bundled sample (`examples/gcp/README.md`): one month, exact.
#[test]
fn sample_export_loads_as_its_readme_says() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let path = crate::harness::repo_root()
        .join("examples/gcp")
        .display()
        .to_string();
    let run = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("1743.570342611638889998"), "{run:?}");
    let f = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS b, any_value(x_source) AS x \
         FROM focus.cost_and_usage",
    );
    assert_eq!(f["n"], json!(25), "{f}");
    assert_eq!(
        scaled(f["b"].as_str().unwrap()),
        scaled("1743.570342611638889998")
    );
    assert_eq!(f["x"], json!("gcp/finops-sample"));
}

/// The JSON files of a generated tree.
fn json_files(tree: &Path) -> Vec<std::path::PathBuf> {
    files_under(tree)
        .into_iter()
        .filter(|(rel, _)| {
            std::path::Path::new(rel)
                .extension()
                .is_some_and(|e| e == "json")
        })
        .map(|(_, p)| p)
        .collect()
}

#[test]
fn a_bigquery_table_is_read_month_by_month() {
    let venv = require_venv!();
    let Some(bq_venv) = crate::harness::Bqemu::venv() else {
        return;
    };
    let bq = crate::harness::Bqemu::start(&bq_venv);
    let work = tempfile::tempdir().unwrap();
    let table = "gcp_billing_export_resource_v1_0123AB_4567CD";
    let full = format!("test-proj.billing.{table}");
    let totals = crate::harness::generate(
        &venv,
        "gcpgen.py",
        &work.path().join("g0"),
        "t",
        &[
            "--rows",
            "80",
            "--months",
            MONTHS,
            "--dirty",
            "--currency",
            "EUR",
        ],
    );
    bq.seed("billing", table, &json_files(&work.path().join("g0/tree")));

    let key = work.path().join("key.json");
    std::fs::write(
        &key,
        r#"{"type": "service_account", "disable_oauth": true, "client_email": "t@example.com", "private_key": "", "private_key_id": ""}"#,
    )
    .unwrap();
    let env = [
        ("FINOPS_GCP_CREDENTIALS", key.to_str().unwrap()),
        ("FINOPS_GCP_BIGQUERY_ENDPOINT", bq.endpoint.as_str()),
    ];
    let sb = Sandbox::new();
    let list = sb.finops_with(
        &["gcp", "list-exports", "--table", &full, "--format", "json"],
        &env,
    );
    assert_eq!(list.code, 0, "{list:?}");
    assert_eq!(list.json()[0]["schema"], json!("detailed"), "{list:?}");
    let run = sb.finops_with(&["gcp", "import", "--table", &full], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("loaded 2, failed 0"), "{run:?}");
    assert!(
        run.stderr.contains("bytes billed"),
        "the cost of each query is logged: {run:?}"
    );
    let got = sums(&sb, &venv);
    assert_eq!(got.len(), 2, "{got:?}");
    for (row, month) in got.iter().zip(MONTHS.split(',')) {
        let want = &totals["periods"][month];
        assert_eq!(row["p"], json!(month));
        assert_eq!(row["n"], want["rows"], "{month}");
        assert_eq!(
            scaled(row["billed"].as_str().unwrap()),
            scaled(want["billed_stored"].as_str().unwrap()),
            "{month}"
        );
        let v = row["v"].as_str().unwrap();
        assert!(
            v.starts_with(&format!("rows={};export_time=2026-11-02", want["rows"])),
            "{v}"
        );
    }
    let check = sb.finops(&["focus", "validate"]);
    assert_eq!(check.code, 0, "{check:?}");

    // Nothing new: nothing loaded.
    let again = sb.finops_with(&["gcp", "import", "--table", &full], &env);
    assert!(again.stdout.contains("loaded 0, failed 0"), "{again:?}");

    // Late rows for April (a correction exported later): April alone is replaced, with them.
    let late = crate::harness::generate(
        &venv,
        "gcpgen.py",
        &work.path().join("g1"),
        "t",
        &[
            "--rows",
            "3",
            "--months",
            "2026-04",
            "--seed",
            "9",
            "--export-time",
            "2026-11-20T01:02:03",
        ],
    );
    bq.seed("billing", table, &json_files(&work.path().join("g1/tree")));
    let run = sb.finops_with(&["gcp", "import", "--table", &full], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("loaded 1, failed 0"), "{run:?}");
    let after = sums(&sb, &venv);
    assert_eq!(after[0], got[0], "March is untouched");
    let april = (&totals["periods"]["2026-04"], &late["periods"]["2026-04"]);
    assert_eq!(
        after[1]["n"].as_u64().unwrap(),
        april.0["rows"].as_u64().unwrap() + april.1["rows"].as_u64().unwrap()
    );
    assert_eq!(
        scaled(after[1]["billed"].as_str().unwrap()),
        scaled(april.0["billed_stored"].as_str().unwrap())
            + scaled(april.1["billed_stored"].as_str().unwrap())
    );
    assert!(
        after[1]["v"]
            .as_str()
            .unwrap()
            .contains("export_time=2026-11-20 01:02:03"),
        "{after:?}"
    );

    // A table that is not there, a name that is not a table: clear errors, nothing changed.
    let run = sb.finops_with(
        &["gcp", "import", "--table", "test-proj.billing.nope"],
        &env,
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("test-proj.billing.nope"), "{run:?}");
    assert!(
        run.stderr
            .contains("gcp_billing_export_resource_v1_<ACCOUNT>"),
        "{run:?}"
    );
    let run = sb.finops_with(&["gcp", "import", "--table", "billing.t; DROP"], &env);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("PROJECT.DATASET.TABLE"), "{run:?}");
    let run = sb.finops_with(&["gcp", "import", "--table", &full, "--path", "x"], &env);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(sums(&sb, &venv), after);
}

/// Files written without month folders (one `EXPORT DATA` of several months): the months come
/// from the data, each loaded exactly.
#[test]
fn files_outside_month_folders_are_split_by_their_invoice_month() {
    let venv = require_venv!();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("g");
    let totals = crate::harness::generate(
        &venv,
        "gcpgen.py",
        &out,
        "flat",
        &[
            "--rows", "50", "--months", MONTHS, "--format", "parquet", "--dirty",
        ],
    );
    let export = out.join("tree/flat");
    for (rel, file) in files_under(&export) {
        let flat = rel.replace("invoice_month=", "").replace('/', "-");
        std::fs::rename(file, export.join(flat)).unwrap();
    }
    for (rel, _) in files_under(&export) {
        assert!(!rel.contains('/'), "{rel}");
    }
    let sb = Sandbox::new();
    let path = out.join("tree").display().to_string();
    let run = sb.finops(&["gcp", "import", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("gcp/flat into gcp.billing_flat: 2 period(s), loaded 2"),
        "{run:?}"
    );
    let got = sums(&sb, &venv);
    for (row, month) in got.iter().zip(MONTHS.split(',')) {
        let want = &totals["periods"][month];
        assert_eq!(row["p"], json!(month));
        assert_eq!(row["n"], want["rows"], "{month}");
        assert_eq!(
            scaled(row["billed"].as_str().unwrap()),
            scaled(want["billed_stored"].as_str().unwrap()),
            "{month}"
        );
    }
    let again = sb.finops(&["gcp", "import", "--path", &path]);
    assert!(again.stdout.contains("loaded 0, failed 0"), "{again:?}");
}
