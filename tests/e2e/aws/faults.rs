//! Crash safety and bad input (issue #6): the process is killed at every step of an import,
//! and bad files and unreachable services are thrown at it; loaded data must never be lost,
//! duplicated or half-replaced, and a re-run must reach exactly the state of a clean run.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::aws::cur::{
    DEC, DEC_ASSEMBLY, NOV, NOV_ASSEMBLY, REPORT, expected, keep_rows, reissue, s3_args, sample,
    warehouse_stats,
};
use crate::harness::{FaultProxy, Moto, Sandbox, Tmpfs, copy_tree, files_under, write_gz};
use crate::require_venv;

/// Per period: rows, exact cost sum, and a fingerprint of the rows (catches duplicates and
/// mixed versions that happen to have the same count and sum).
fn fingerprint(sb: &Sandbox, venv: &Path) -> Vec<Value> {
    sb.query(
        venv,
        "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(line_item_unblended_cost) AS VARCHAR) AS s, \
         CAST(sum(hash(identity_line_item_id, identity_time_interval, line_item_unblended_cost, line_item_usage_amount) % 1000000007) AS VARCHAR) AS f \
         FROM aws.cur_finops_sample GROUP BY 1 ORDER BY 1",
    )
}

fn versions(sb: &Sandbox, venv: &Path) -> Vec<Value> {
    sb.query(venv, "SELECT strftime(billing_period, '%Y-%m') AS p, version_id, rows FROM meta.load_state ORDER BY 1")
}

/// Downloads or the side database a period is parsed into (`load.duckdb`).
fn staging_left(sb: &Sandbox) -> bool {
    let root = sb.dir.path().join("finops.duckdb.staging");
    root.join("downloads").exists() || root.join("load.duckdb").exists()
}

/// The sample (v1) and a re-issue of both periods (v2), in S3.
fn v1_v2(moto: &Moto, base: &Path) {
    let v1 = base.join("v1");
    let v2 = base.join("v2");
    copy_tree(&sample(), &v1);
    copy_tree(&sample(), &v2);
    reissue(&v2, NOV, NOV_ASSEMBLY, "nov-v2", keep_rows(600));
    reissue(&v2, DEC, DEC_ASSEMBLY, "dec-v2", keep_rows(400));
    moto.upload_tree("cur-v1", &v1, "cur");
    moto.upload_tree("cur-v2", &v2, "cur");
}

#[test]
fn a_crash_at_any_step_loses_nothing_and_a_rerun_finishes_the_job() {
    let venv = require_venv!();
    let moto = Moto::start(&venv);
    let base = tempfile::tempdir().unwrap();
    v1_v2(&moto, base.path());
    let (args_v1, args_v2) = (
        s3_args(&moto.endpoint, "cur-v1"),
        s3_args(&moto.endpoint, "cur-v2"),
    );

    // The reference: what clean runs produce.
    let clean = Sandbox::new();
    assert_eq!(clean.finops(&args_v1).code, 0);
    let (fp_v1, ver_v1) = (fingerprint(&clean, &venv), versions(&clean, &venv));
    assert_eq!(clean.finops(&args_v2).code, 0);
    let (fp_v2, ver_v2) = (fingerprint(&clean, &venv), versions(&clean, &venv));
    assert_eq!(fp_v2[0]["n"], 600);
    assert_eq!(fp_v2[1]["n"], 400);

    // (point, November's re-issue already committed when the process dies)
    let points = [
        ("download", false),
        ("before-load", false),
        ("insert", false),
        ("before-commit", false),
        ("after-commit", true),
        ("between-periods", true),
    ];
    for (point, committed) in points {
        let sb = Sandbox::new();
        assert_eq!(sb.finops(&args_v1).code, 0, "{point}");
        let run = sb.finops_with(&args_v2, &[("FINOPS_FAILPOINTS", point)]);
        assert_eq!(
            run.signal,
            Some(6),
            "{point}: the process must die by SIGABRT: {run:?}"
        );
        assert!(
            run.stderr
                .contains(&format!("failpoint `{point}`: aborting")),
            "{point}: {run:?}"
        );

        // The warehouse opens (read-only, by another client) and holds whole versions only.
        let fp = fingerprint(&sb, &venv);
        let ver = versions(&sb, &venv);
        if committed {
            assert_eq!((&fp[0], &fp[1]), (&fp_v2[0], &fp_v1[1]), "{point}");
            assert_eq!((&ver[0], &ver[1]), (&ver_v2[0], &ver_v1[1]), "{point}");
        } else {
            assert_eq!(fp, fp_v1, "{point}: the previous version must be intact");
            assert_eq!(ver, ver_v1, "{point}");
        }
        if point != "between-periods" {
            assert!(
                staging_left(&sb),
                "{point}: a crash leaves its staging files"
            );
        }

        // The next run finishes the job: exactly the clean state, staging cleaned.
        let run = sb.finops(&args_v2);
        assert_eq!(run.code, 0, "{point}: {run:?}");
        assert_eq!(
            fingerprint(&sb, &venv),
            fp_v2,
            "{point}: re-run differs from a clean run"
        );
        assert_eq!(versions(&sb, &venv), ver_v2, "{point}");
        assert!(!staging_left(&sb), "{point}: staging not cleaned");
        let run = sb.finops(&args_v2);
        assert!(
            run.stdout.contains("loaded 0, failed 0"),
            "{point}: a third run must be a no-op: {run:?}"
        );
    }
}

#[test]
fn throttling_is_retried_then_reported() {
    let venv = require_venv!();
    let moto = Moto::start(&venv);
    moto.upload_tree("billing", &sample(), "cur");

    // Two 503 SlowDown replies: the SDK retries with backoff and the import succeeds.
    let proxy = FaultProxy::start(&moto.endpoint, 2);
    let sb = Sandbox::new();
    let run = sb.finops(&s3_args(&proxy.endpoint, "billing"));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(warehouse_stats(&sb, &venv).len(), 2);
    assert!(proxy.requests.load(std::sync::atomic::Ordering::SeqCst) > 2);

    // Throttled for good: 5 attempts, then a clear error and exit 1; nothing created.
    let proxy = FaultProxy::start(&moto.endpoint, usize::MAX);
    let sb = Sandbox::new();
    let run = sb.finops(&s3_args(&proxy.endpoint, "billing"));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("SlowDown"), "{run:?}");
    assert_eq!(
        proxy.requests.load(std::sync::atomic::Ordering::SeqCst),
        5,
        "standard retry mode: 5 attempts"
    );
}

#[test]
fn a_full_disk_during_download_keeps_the_data() {
    let venv = require_venv!();
    let moto = Moto::start(&venv);
    let base = tempfile::tempdir().unwrap();
    let v1 = base.path().join("v1");
    copy_tree(&sample(), &v1);
    moto.upload_tree("cur-v1", &v1, "cur");
    // v2 of November: 30 copies of its rows, stored uncompressed (about 17 MB).
    let v2 = base.path().join("v2");
    copy_tree(&sample(), &v2);
    reissue(&v2, NOV, NOV_ASSEMBLY, "nov-big", |t| {
        let (header, rows) = t.split_once('\n').unwrap();
        format!("{header}\n{}", rows.repeat(30))
    });
    let big = v2
        .join(REPORT)
        .join(NOV)
        .join("nov-big")
        .join(format!("{REPORT}-00001.csv.gz"));
    let text = crate::harness::read_gz(&big);
    store_gz(&big, &text);
    moto.upload_tree("cur-v2", &v2, "cur");

    let sb = Sandbox::new();
    let Some(disk) = Tmpfs::mount(&sb.dir.path().join("disk"), "8m") else {
        return;
    };
    let wh = disk.path.join("finops.duckdb");
    let wh_arg = wh.display().to_string();
    let with_wh = |bucket: &'static str| {
        let mut a = vec!["--warehouse", wh_arg.as_str()];
        a.extend(s3_args(&moto.endpoint, bucket));
        a
    };
    let run = sb.finops(&with_wh("cur-v1"));
    assert_eq!(run.code, 0, "{run:?}");
    let read = |sb: &Sandbox| {
        let out = std::process::Command::new(venv.join("bin/duckdb"))
            .args(["-readonly", "-json"])
            .arg(&wh)
            .args(["-c", "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n FROM aws.cur_finops_sample GROUP BY 1 ORDER BY 1"])
            .output()
            .unwrap();
        let _ = sb;
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = read(&sb);
    assert!(before.contains("\"n\":699"), "{before}");

    let run = sb.finops(&with_wh("cur-v2"));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("No space left on device"), "{run:?}");
    assert_eq!(read(&sb), before, "data changed after a full disk");

    // With room again, the next run loads the re-issue.
    disk.resize("64m");
    let run = sb.finops(&with_wh("cur-v2"));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        read(&sb).contains(&format!("\"n\":{}", 699 * 30)),
        "{}",
        read(&sb)
    );
    assert!(!disk.path.join("finops.duckdb.staging/downloads").exists());
}

/// Writes gzip without compression (stored blocks), so the file is as large as the text.
fn store_gz(path: &Path, text: &str) {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::none(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
}

#[test]
fn wait_lock_waits_for_the_other_writer() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let path = sample().display().to_string();
    let args = [
        "aws",
        "import-cur",
        "--path",
        path.as_str(),
        "--report",
        REPORT,
    ];
    assert_eq!(sb.finops(&args).code, 0);
    let mut holder = crate::harness::hold_lock(&venv, &sb.warehouse(), 2);
    let mut waiting = vec!["--wait-lock", "30"];
    waiting.extend(args);
    let run = sb.finops(&waiting);
    let _ = holder.wait();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("waiting up to 30 s for the warehouse lock"),
        "{run:?}"
    );
}

/// Builds a Parquet (Athena-style) export of the sample: one Parquet file per period under
/// `<report>/<report>/year=Y/month=M/`, money as DOUBLE, with manifests saying `Parquet`.
fn parquet_tree(venv: &Path, root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut made = Vec::new();
    for (folder, assembly, year, month) in
        [(NOV, NOV_ASSEMBLY, 2023, 11), (DEC, DEC_ASSEMBLY, 2023, 12)]
    {
        let parts: Vec<String> = files_under(&sample().join(REPORT).join(folder).join(assembly))
            .into_iter()
            .filter(|(r, _)| r.ends_with(".csv.gz"))
            .map(|(_, p)| format!("'{}'", p.display()))
            .collect();
        let rel = format!("{REPORT}/year={year}/month={month}/{REPORT}-00001.snappy.parquet");
        let out = root.join(REPORT).join(&rel);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let sql = format!(
            "COPY (SELECT * REPLACE (CAST(\"lineItem/UnblendedCost\" AS DOUBLE) AS \"lineItem/UnblendedCost\", \
             CAST(\"lineItem/UsageAmount\" AS DOUBLE) AS \"lineItem/UsageAmount\", \
             CAST(\"lineItem/UsageStartDate\" AS TIMESTAMP) AS \"lineItem/UsageStartDate\") \
             FROM read_csv([{}], header = true, all_varchar = true)) TO '{}' (FORMAT parquet)",
            parts.join(", "),
            out.display()
        );
        let st = std::process::Command::new(venv.join("bin/duckdb"))
            .args(["-c", &sql])
            .status()
            .unwrap();
        assert!(st.success());
        let manifest_src = sample()
            .join(REPORT)
            .join(folder)
            .join(format!("{REPORT}-Manifest.json"));
        let mut m: Value =
            serde_json::from_str(&std::fs::read_to_string(manifest_src).unwrap()).unwrap();
        m["compression"] = "Parquet".into();
        m["contentType"] = "Parquet".into();
        m["reportKeys"] = serde_json::json!([format!("cur/{REPORT}/{rel}")]);
        let dir = root.join(REPORT).join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = dir.join(format!("{REPORT}-Manifest.json"));
        std::fs::write(&manifest, m.to_string()).unwrap();
        made.push((manifest, out));
    }
    made
}

#[test]
fn parquet_loads_exactly_and_corrupt_parquet_is_refused() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let root = sb.dir.path().join("parquet");
    let made = parquet_tree(&venv, &root);
    let path = root.display().to_string();
    let args = [
        "aws",
        "import-cur",
        "--path",
        path.as_str(),
        "--report",
        REPORT,
    ];
    let run = sb.finops(&args);
    assert_eq!(run.code, 0, "{run:?}");
    // DOUBLE money becomes exact decimals equal to the CSV's text.
    let nov = expected(&sample(), NOV, NOV_ASSEMBLY);
    let dec = expected(&sample(), DEC, DEC_ASSEMBLY);
    assert_eq!(
        warehouse_stats(&sb, &venv),
        vec![
            ("2023-11".to_owned(), nov.0, nov.1),
            ("2023-12".to_owned(), dec.0, dec.1)
        ]
    );
    let ty = sb.query(&venv, "SELECT data_type FROM information_schema.columns WHERE column_name = 'line_item_unblended_cost'");
    assert_eq!(ty[0]["data_type"], "DECIMAL(38,18)");
    let good = warehouse_stats(&sb, &venv);
    // FOCUS built from Parquet (string rates, DOUBLE costs) is as clean as from CSV.
    let run = sb.finops(&["focus", "validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    let billed = sb.query(&venv, "SELECT CAST(sum(BilledCost) AS VARCHAR) AS s FROM focus.cost_and_usage WHERE x_billing_period = DATE '2023-11-01'");
    assert_eq!(
        billed[0]["s"].as_str().unwrap().trim_end_matches('0'),
        expected(&sample(), NOV, NOV_ASSEMBLY).1
    );

    // November re-issued as a zero-byte file, then as garbage: refused, data kept.
    let (manifest, file) = &made[0];
    for (i, (bytes, message)) in [
        (&b""[..], "too small to be a Parquet file"),
        (
            &b"PAR1 this is not parquet at all, just text PAR1"[..],
            "not a readable Parquet file",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(file, bytes).unwrap();
        let mut m: Value =
            serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
        m["assemblyId"] = format!("broken-{i}").into();
        std::fs::write(manifest, m.to_string()).unwrap();
        let run = sb.finops(&args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains(message), "{message}: {run:?}");
        assert!(
            run.stderr.contains("finops::data::corrupt_parquet"),
            "{run:?}"
        );
        assert_eq!(warehouse_stats(&sb, &venv), good);
    }
}

#[test]
fn hostile_tag_keys_become_plain_columns() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    copy_tree(&sample(), &tree);
    let evil = "user:x\"; DROP TABLE meta.load_state; --";
    // Add the tag column to November's data and manifest.
    let dir = tree.join(REPORT).join(NOV).join(NOV_ASSEMBLY);
    for (_, part) in files_under(&dir)
        .into_iter()
        .filter(|(r, _)| r.ends_with(".csv.gz"))
    {
        let text = crate::harness::read_gz(&part);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        header.push(format!("resourceTags/{evil}"));
        w.write_record(&header).unwrap();
        for rec in r.records() {
            let mut fields: Vec<String> = rec.unwrap().iter().map(str::to_owned).collect();
            fields.push("'); DROP TABLE aws.cur_finops_sample; --".into());
            w.write_record(&fields).unwrap();
        }
        write_gz(&part, &String::from_utf8(w.into_inner().unwrap()).unwrap());
    }
    let manifest = tree
        .join(REPORT)
        .join(NOV)
        .join(format!("{REPORT}-Manifest.json"));
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    m["columns"].as_array_mut().unwrap().push(
        serde_json::json!({"category": "resourceTags", "name": evil, "type": "OptionalString"}),
    );
    std::fs::write(&manifest, m.to_string()).unwrap();

    sb.import_path(&tree, REPORT);
    let col = sb.query(&venv, "SELECT count(*) AS n, min(resource_tags_user_x_d_r_o_p_t_a_b_l_e_meta_load_state) AS v FROM aws.cur_finops_sample WHERE billing_period = DATE '2023-11-01'");
    assert_eq!(col[0]["n"], 699);
    assert_eq!(col[0]["v"], "'); DROP TABLE aws.cur_finops_sample; --");
    assert_eq!(
        sb.query(&venv, "SELECT count(*) AS n FROM meta.load_state")[0]["n"],
        2
    );
}

#[test]
fn secrets_never_appear_in_any_output() {
    let venv = require_venv!();
    let moto = Moto::start(&venv);
    moto.upload_tree("billing", &sample(), "cur");
    let sb = Sandbox::new();
    let secrets = [
        "SECRETfinops/123+abc",
        "TOKENfinops456",
        "ENVSECRETfinops789",
    ];
    std::fs::write(
        sb.dir.path().join("finops.toml"),
        format!("[aws]\naccess_key_id = \"test\"\nsecret_access_key = \"{}\"\nsession_token = \"{}\"\nprefix = \"cur\"\nreport = \"{REPORT}\"\n", secrets[0], secrets[1]),
    )
    .unwrap();
    let env = [
        ("FINOPS_AWS_SECRET_ACCESS_KEY", secrets[2]),
        ("AWS_SECRET_ACCESS_KEY", secrets[2]),
    ];
    let runs = [
        sb.finops_with(&["config", "show"], &env),
        sb.finops_with(&["config", "show", "--format", "json"], &env),
        sb.finops_with(
            &[
                "-vv",
                "aws",
                "import-cur",
                "--bucket",
                "billing",
                "--endpoint-url",
                &moto.endpoint,
                "--format",
                "json",
            ],
            &env,
        ),
        sb.finops_with(
            &[
                "-vv",
                "aws",
                "import-cur",
                "--bucket",
                "nope",
                "--endpoint-url",
                &moto.endpoint,
            ],
            &env,
        ),
        sb.finops_with(
            &[
                "-vv",
                "aws",
                "list-manifests",
                "--bucket",
                "billing",
                "--endpoint-url",
                &moto.endpoint,
                "--format",
                "json",
            ],
            &env,
        ),
        sb.finops_with(&["aws", "show-state", "--format", "json"], &env),
    ];
    assert_eq!(runs[2].code, 0, "{:?}", runs[2]);
    assert_eq!(runs[3].code, 1, "{:?}", runs[3]);
    for run in &runs {
        for secret in secrets {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "secret {secret} leaked: {run:?}"
            );
        }
    }
    assert!(
        runs[0]
            .stdout
            .lines()
            .any(|l| l.starts_with("aws.secret_access_key ")
                && l.split_whitespace().nth(1) == Some("********")),
        "{:?}",
        runs[0]
    );
}
