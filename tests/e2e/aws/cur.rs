//! `finops aws import-cur` end to end: S3 through moto and local directories, re-runs,
//! re-issued periods, and bad input that must leave loaded data untouched.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Sandbox, copy_tree, csv_gz_stats, parts, read_gz, repo_root, write_gz};
use crate::require_venv;

pub(crate) const REPORT: &str = "finops-sample";
pub(crate) const NOV: &str = "20231101-20231201";
pub(crate) const DEC: &str = "20231201-20240101";
pub(crate) const NOV_ASSEMBLY: &str = "6f1f3e5a-0d5c-4f55-9c1e-2f0c8a1b2c01";
pub(crate) const DEC_ASSEMBLY: &str = "7a2b4c6d-1e3f-4a5b-8c7d-3e1f9b2c3d02";

pub(crate) fn sample() -> PathBuf {
    repo_root().join("examples/aws-cur")
}

/// Rows and exact unblended-cost sum of one assembly folder, from the CSV itself.
pub(crate) fn expected(tree: &Path, folder: &str, assembly: &str) -> (u64, String) {
    csv_gz_stats(
        &parts(&tree.join(REPORT).join(folder).join(assembly)),
        "lineItem/UnblendedCost",
    )
}

/// Per period: (period, rows, exact cost sum) read back by the DuckDB CLI.
pub(crate) fn warehouse_stats(sb: &Sandbox, venv: &Path) -> Vec<(String, u64, String)> {
    sb.query(
        venv,
        "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(line_item_unblended_cost) AS VARCHAR) AS s \
         FROM aws.cur_finops_sample GROUP BY 1 ORDER BY 1",
    )
    .into_iter()
    .map(|r| (r["p"].as_str().unwrap().to_owned(), r["n"].as_u64().unwrap(), trim(r["s"].as_str().unwrap())))
    .collect()
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

pub(crate) fn state_rows(sb: &Sandbox, venv: &Path) -> Vec<Value> {
    sb.query(
        venv,
        "SELECT strftime(billing_period, '%Y-%m') AS p, version_id, rows, files, CAST(loaded_at AS VARCHAR) AS loaded_at \
         FROM meta.load_state ORDER BY 1",
    )
}

pub(crate) fn history_count(sb: &Sandbox, venv: &Path, status: &str) -> u64 {
    sb.query(
        venv,
        &format!("SELECT count(*) AS n FROM meta.load_history WHERE status = '{status}'"),
    )[0]["n"]
        .as_u64()
        .unwrap()
}

/// Re-issues a period in a local export tree: a new assembly with the old rows passed
/// through `edit` (CSV text in, CSV text out), and the current manifest pointing to it.
pub(crate) fn reissue(
    tree: &Path,
    folder: &str,
    old: &str,
    new: &str,
    edit: impl Fn(&str) -> String,
) {
    let base = tree.join(REPORT).join(folder);
    let mut text = String::new();
    for (i, p) in parts(&base.join(old)).iter().enumerate() {
        let part = read_gz(p);
        if i == 0 {
            text.push_str(&part);
        } else {
            text.push_str(part.split_once('\n').unwrap().1);
        }
    }
    std::fs::create_dir_all(base.join(new)).unwrap();
    write_gz(
        &base.join(new).join(format!("{REPORT}-00001.csv.gz")),
        &edit(&text),
    );
    let manifest_path = base.join(format!("{REPORT}-Manifest.json"));
    let mut m: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    m["assemblyId"] = new.into();
    m["reportKeys"] =
        serde_json::json!([format!("cur/{REPORT}/{folder}/{new}/{REPORT}-00001.csv.gz")]);
    std::fs::write(&manifest_path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

/// Sets `lineItem/UnblendedCost` of the first data row.
pub(crate) fn set_first_cost(text: &str, value: &str) -> String {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().clone();
    let idx = header
        .iter()
        .position(|h| h == "lineItem/UnblendedCost")
        .unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.unwrap();
        let fields: Vec<&str> = rec
            .iter()
            .enumerate()
            .map(|(j, f)| if i == 0 && j == idx { value } else { f })
            .collect();
        w.write_record(fields).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// Keeps the header and the first `n` data rows.
pub(crate) fn keep_rows(n: usize) -> impl Fn(&str) -> String {
    move |text| text.lines().take(n + 1).map(|l| format!("{l}\n")).collect()
}

pub(crate) fn s3_args<'a>(endpoint: &'a str, bucket: &'a str) -> Vec<&'a str> {
    vec![
        "aws",
        "import-cur",
        "--bucket",
        bucket,
        "--prefix",
        "cur",
        "--report",
        REPORT,
        "--endpoint-url",
        endpoint,
    ]
}

#[test]
fn s3_import_rerun_and_reissue() {
    let venv = require_venv!();
    let moto = crate::harness::Moto::start(&venv);
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    copy_tree(&sample(), &tree);
    moto.upload_tree("billing", &tree, "cur");

    // First run: both periods load, counts and sums equal the source CSV's.
    let mut args = s3_args(&moto.endpoint, "billing");
    args.extend(["--format", "json"]);
    let run = sb.finops(&args);
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    let periods = report["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2);
    assert!(
        periods
            .iter()
            .all(|p| p["outcome"]["status"] == "loaded" && p["action"] == "new"),
        "{report}"
    );
    let nov = expected(&tree, NOV, NOV_ASSEMBLY);
    let dec = expected(&tree, DEC, DEC_ASSEMBLY);
    assert_eq!(nov, (699, "0.6412205743".to_owned()));
    assert_eq!(dec, (582, "1.0410881231".to_owned()));
    assert_eq!(periods[0]["outcome"]["rows"], 699);
    assert_eq!(periods[0]["outcome"]["cost"], "0.6412205743");
    assert_eq!(
        warehouse_stats(&sb, &venv),
        vec![
            ("2023-11".to_owned(), nov.0, nov.1.clone()),
            ("2023-12".to_owned(), dec.0, dec.1.clone())
        ]
    );
    // Money is exact DECIMAL, never DOUBLE; times are TIMESTAMP; every row has its period.
    let types = sb.query(
        &venv,
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'aws' AND table_name = 'cur_finops_sample' \
         AND column_name IN ('billing_period', 'line_item_unblended_cost', 'line_item_usage_start_date', 'line_item_usage_amount', 'identity_line_item_id') ORDER BY 1",
    );
    let types: Vec<(String, String)> = types
        .iter()
        .map(|r| {
            (
                r["column_name"].as_str().unwrap().into(),
                r["data_type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("billing_period", "DATE"),
            ("identity_line_item_id", "VARCHAR"),
            ("line_item_unblended_cost", "DECIMAL(38,18)"),
            ("line_item_usage_amount", "DECIMAL(38,18)"),
            ("line_item_usage_start_date", "TIMESTAMP"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let columns = sb.query(&venv, "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'cur_finops_sample'");
    assert_eq!(columns[0]["n"], 95, "94 CUR columns + billing_period");
    let state_before = state_rows(&sb, &venv);
    assert_eq!(state_before[0]["version_id"], NOV_ASSEMBLY);
    assert_eq!(state_before[0]["files"], 2);
    assert_eq!(state_before[1]["rows"], 582);

    // Second run: nothing new, nothing changes.
    let run = sb.finops(&args);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.json()["periods"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["outcome"]["status"] == "skipped" && p["action"] == "unchanged")
    );
    assert_eq!(state_rows(&sb, &venv), state_before);
    assert_eq!(history_count(&sb, &venv, "loaded"), 2);

    // AWS re-issues December with fewer rows: only December is replaced.
    reissue(&tree, DEC, DEC_ASSEMBLY, "dec-v2", keep_rows(500));
    moto.upload_tree("billing", &tree, "cur");
    let dec2 = expected(&tree, DEC, "dec-v2");
    assert_eq!(dec2.0, 500);
    let run = sb.finops(&args);
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    assert_eq!(report["periods"][0]["outcome"]["status"], "skipped");
    assert_eq!(report["periods"][1]["action"], "reissued");
    assert_eq!(report["periods"][1]["previous_version"], DEC_ASSEMBLY);
    assert_eq!(
        warehouse_stats(&sb, &venv),
        vec![
            ("2023-11".to_owned(), nov.0, nov.1.clone()),
            ("2023-12".to_owned(), 500, dec2.1.clone())
        ]
    );
    let state_after = state_rows(&sb, &venv);
    assert_eq!(
        state_after[0], state_before[0],
        "November's state row is untouched"
    );
    assert_eq!(state_after[1]["version_id"], "dec-v2");

    // --force reloads the same versions and ends in the same state.
    let mut forced = args.clone();
    forced.push("--force");
    let run = sb.finops(&forced);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.json()["periods"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] == "forced")
    );
    assert_eq!(
        warehouse_stats(&sb, &venv)[1],
        ("2023-12".to_owned(), 500, dec2.1)
    );

    // list-manifests and show-state see the same thing.
    let run = sb.finops(&[
        "aws",
        "list-exports",
        "--bucket",
        "billing",
        "--prefix",
        "cur",
        "--report",
        REPORT,
        "--endpoint-url",
        &moto.endpoint,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let listed = run.json();
    assert_eq!(listed[1]["version"], "dec-v2");
    assert_eq!(listed[1]["kind"], "cur1");
    assert_eq!(listed[1]["loaded"], "yes");
    assert_eq!(listed[0]["files"], 2);
    let run = sb.finops(&["aws", "show-state", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["state"].as_array().unwrap().len(), 2);
    assert_eq!(
        run.json()["state"][1]["cost"],
        report["periods"][1]["outcome"]["cost"]
    );
}

#[test]
fn local_directory_with_config_file() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("export copy");
    copy_tree(&sample(), &tree);
    std::fs::write(
        sb.dir.path().join("finops.toml"),
        format!("[aws]\npath = {:?}\nreport = \"{REPORT}\"\n\n[warehouse]\npath = \"wh/finops.duckdb\"\n", tree.display().to_string()),
    )
    .unwrap();
    let run = sb.finops(&["aws", "import-cur"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "aws/finops-sample into aws.cur_finops_sample: 2 period(s), loaded 2, failed 0"
        ),
        "{run:?}"
    );
    // Plain log lines on stderr without a terminal, one per step.
    assert!(
        run.stderr
            .contains("2023-11: loaded 699 rows into aws.cur_finops_sample"),
        "{run:?}"
    );
    std::fs::rename(sb.dir.path().join("wh/finops.duckdb"), sb.warehouse()).unwrap();
    let nov = expected(&tree, NOV, NOV_ASSEMBLY);
    let dec = expected(&tree, DEC, DEC_ASSEMBLY);
    assert_eq!(
        warehouse_stats(&sb, &venv),
        vec![
            ("2023-11".to_owned(), nov.0, nov.1),
            ("2023-12".to_owned(), dec.0, dec.1)
        ]
    );
    // No staging left behind: neither downloads nor the side database rows are parsed into.
    let staging = sb.dir.path().join("wh/finops.duckdb.staging");
    assert!(!staging.join("downloads").exists());
    assert!(!staging.join("load.duckdb").exists());
    assert!(!staging.join("load.duckdb.wal").exists());
}

#[test]
fn bad_input_fails_the_period_and_keeps_loaded_data() {
    let venv = require_venv!();
    let moto = crate::harness::Moto::start(&venv);
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    copy_tree(&sample(), &tree);
    moto.upload_tree("billing", &tree, "cur");
    let args = s3_args(&moto.endpoint, "billing");
    let run = sb.finops(&args);
    assert_eq!(run.code, 0, "{run:?}");
    let good = warehouse_stats(&sb, &venv);
    let good_state = state_rows(&sb, &venv);

    // Each case re-issues November badly; December is unchanged, so the run fails (exit 1),
    // the error is recorded, and the warehouse still holds exactly the good data.
    let truncate = |tree: &Path| {
        reissue(tree, NOV, NOV_ASSEMBLY, "nov-truncated", |t| t.to_owned());
        let f = tree
            .join(REPORT)
            .join(NOV)
            .join("nov-truncated")
            .join(format!("{REPORT}-00001.csv.gz"));
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    };
    let missing_file = |tree: &Path| {
        reissue(tree, NOV, NOV_ASSEMBLY, "nov-missing", |t| t.to_owned());
        std::fs::remove_file(
            tree.join(REPORT)
                .join(NOV)
                .join("nov-missing")
                .join(format!("{REPORT}-00001.csv.gz")),
        )
        .unwrap();
    };
    let escaping_key = |tree: &Path| {
        let m = tree
            .join(REPORT)
            .join(NOV)
            .join(format!("{REPORT}-Manifest.json"));
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
        v["assemblyId"] = "nov-escape".into();
        v["reportKeys"] = serde_json::json!([format!("cur/{REPORT}/../secret/data.csv.gz")]);
        std::fs::write(&m, v.to_string()).unwrap();
    };
    let not_json = |tree: &Path| {
        std::fs::write(
            tree.join(REPORT)
                .join(NOV)
                .join(format!("{REPORT}-Manifest.json")),
            "{ not json",
        )
        .unwrap();
    };
    let wrong_header = |tree: &Path| {
        reissue(tree, NOV, NOV_ASSEMBLY, "nov-header", |t| {
            t.replacen("lineItem/UnblendedCost", "lineItem/Whatever", 1)
        });
    };
    let not_a_number = |tree: &Path| {
        // A cost that is no number at all (a value with too many decimals is rounded and
        // loads: issue #16; see dirty.rs).
        reissue(tree, NOV, NOV_ASSEMBLY, "nov-not-a-number", |t| {
            set_first_cost(t, "1.2.3E-17")
        });
    };
    let cases: [(&str, &dyn Fn(&Path), &str); 6] = [
        ("truncated gzip", &truncate, "is not a complete gzip file"),
        ("missing data file", &missing_file, "is missing"),
        (
            "key outside the prefix",
            &escaping_key,
            "outside the export location",
        ),
        (
            "manifest not JSON",
            &not_json,
            "is not a valid CUR manifest",
        ),
        (
            "header does not match the manifest",
            &wrong_header,
            "missing lineItem/UnblendedCost",
        ),
        (
            "value that is not a number",
            &not_a_number,
            "value `1.2.3E-17` in column lineItem/UnblendedCost of",
        ),
    ];
    for (i, (name, damage, message)) in cases.iter().enumerate() {
        let case_tree = sb.dir.path().join(format!("case{i}"));
        copy_tree(&sample(), &case_tree);
        damage(&case_tree);
        let bucket = format!("case{i}");
        moto.upload_tree(&bucket, &case_tree, "cur");
        let run = sb.finops(&s3_args(&moto.endpoint, &bucket));
        assert_eq!(run.code, 1, "{name}: {run:?}");
        assert!(
            run.stderr.contains(message),
            "{name}: expected {message:?} in {run:?}"
        );
        assert!(run.stdout.contains("FAILED"), "{name}: {run:?}");
        assert_eq!(warehouse_stats(&sb, &venv), good, "{name}: data changed");
        assert_eq!(state_rows(&sb, &venv), good_state, "{name}: state changed");
        assert_eq!(history_count(&sb, &venv, "failed"), i as u64 + 1, "{name}");
    }
    let errors = sb.query(
        &venv,
        "SELECT error FROM meta.load_history WHERE status = 'failed' ORDER BY attempted_at",
    );
    assert!(
        errors[0]["error"].as_str().unwrap().contains("gzip"),
        "{errors:?}"
    );
}

#[test]
fn wrong_locations_and_names_are_clear_errors() {
    let venv = require_venv!();
    let moto = crate::harness::Moto::start(&venv);
    let sb = Sandbox::new();
    moto.upload_tree("billing", &sample(), "cur");

    // A report that is not there: exit 1, and the reports that are there are named.
    let run = sb.finops(&[
        "aws",
        "import-cur",
        "--bucket",
        "billing",
        "--prefix",
        "cur",
        "--report",
        "nope",
        "--endpoint-url",
        &moto.endpoint,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("no CUR manifests for report `nope` under s3://billing/cur/nope/"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("reports found at that prefix: finops-sample"),
        "{run:?}"
    );

    // The wrong prefix: same error, nothing found.
    let run = sb.finops(&[
        "aws",
        "import-cur",
        "--bucket",
        "billing",
        "--prefix",
        "wrong",
        "--report",
        REPORT,
        "--endpoint-url",
        &moto.endpoint,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("nothing is there at all"), "{run:?}");

    // A bucket that does not exist.
    let run = sb.finops(&[
        "aws",
        "import-cur",
        "--bucket",
        "no-such-bucket",
        "--report",
        REPORT,
        "--endpoint-url",
        &moto.endpoint,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("NoSuchBucket") || run.stderr.contains("does not exist"),
        "{run:?}"
    );
    assert!(run.stderr.contains("check the bucket name"), "{run:?}");

    // Hostile report names are refused before anything is read (exit 2).
    for name in ["x\"; DROP TABLE meta.load_state; --", "../../etc"] {
        let run = sb.finops(&["aws", "import-cur", "--path", ".", "--report", name]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("is not a valid export name"), "{run:?}");
    }

    // No report named: every export there is imported; a directory without any is an error
    // that says what it looked for.
    let run = sb.finops(&["aws", "import-cur", "--path", "."]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("no AWS billing exports under ./")
            && run.stderr.contains("check the bucket and the prefix"),
        "{run:?}"
    );

    // Nothing was created for any of these.
    assert!(
        !sb.warehouse().exists()
            || sb.query(&venv, "SELECT count(*) AS n FROM meta.load_state")[0]["n"] == 0
    );
}

#[test]
fn rejected_credentials_are_explained() {
    let venv = require_venv!();
    // With authentication on, moto rejects keys it did not issue, as AWS does.
    let moto =
        crate::harness::Moto::start_with_env(&venv, &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let sb = Sandbox::new();
    let run = sb.finops(&[
        "aws",
        "import-cur",
        "--bucket",
        "billing",
        "--report",
        REPORT,
        "--endpoint-url",
        &moto.endpoint,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("InvalidAccessKeyId")
            || run.stderr.contains("AccessDenied")
            || run.stderr.contains("403"),
        "{run:?}"
    );
    assert!(run.stderr.contains("credentials"), "{run:?}");
    assert!(
        !run.stderr.contains("AWS_SECRET") && !run.stdout.contains("test\""),
        "{run:?}"
    );
}

#[test]
fn a_second_writer_gets_a_friendly_lock_error() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let run = sb.finops(&[
        "aws",
        "import-cur",
        "--path",
        &sample().display().to_string(),
        "--report",
        REPORT,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    // Another process holds the file read-write (as a running finops or dbt would).
    let mut holder = crate::harness::hold_lock(&venv, &sb.warehouse(), 60);
    let run = sb.finops(&[
        "aws",
        "import-cur",
        "--path",
        &sample().display().to_string(),
        "--report",
        REPORT,
    ]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("is locked by another process"),
        "{run:?}"
    );
    assert!(run.stderr.contains("PID"), "{run:?}");
}
