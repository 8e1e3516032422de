//! The Delta Lake table (issue #22): `finops lake sync` of two sources (AWS CUR with float noise,
//! Azure FOCUS) to a folder and to moto's S3, read back by engines finops did not write
//! (`tests/e2e/lake_check.py`: Python `deltalake`, `ClickHouse`'s two Delta readers, Spark over the
//! current files) with rows and exact cost sums per (source, period) equal to the warehouse; a
//! re-issued month seen whole at every table version; a plain Parquet glob before and after
//! vacuum; a crash between upload and commit; two workers racing for one period.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Moto, Run, Sandbox, copy_tree, generate, lake_venv, repo_root};
use crate::require_venv;

/// Small files, so that every period has several.
const SMALL_FILES: [(&str, &str); 2] = [
    ("FINOPS_LAKE_FILE_SIZE", "20KB"),
    ("FINOPS_LAKE_ROW_GROUP_SIZE", "2048"),
];

/// Runs `lake_check.py MODE args…`; asserts it found no difference; its `result`.
fn check(lake_venv: &Path, mode: &str, args: &[&str]) -> Value {
    let script = repo_root().join("tests/e2e/lake_check.py");
    let mut all: Vec<String> = vec![script.display().to_string(), mode.to_owned()];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    let out = std::process::Command::new(lake_venv.join("bin/python"))
        .args(&all)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let parsed: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| {
            panic!(
                "lake_check {mode}: no JSON ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        out.status.success() && parsed["problems"].as_array().is_some_and(Vec::is_empty),
        "lake_check {mode} {args:?}: {:#}",
        parsed["problems"]
    );
    parsed["result"].clone()
}

/// AWS CUR v1 (dirty: float noise, E-notation) for two months, as issued (`r0`) and with
/// January re-issued (`r1`), and an Azure FOCUS export; each imported into `sb` from `live`.
struct Sources {
    work: tempfile::TempDir,
}

impl Sources {
    fn generate(venv: &Path) -> Self {
        let work = tempfile::tempdir().unwrap();
        for (dir, revision) in [("r0", "0"), ("r1", "1")] {
            generate(
                venv,
                "awsgen.py",
                &work.path().join(dir),
                "legacy",
                &[
                    "--kind",
                    "cur1",
                    "--rows",
                    "12000",
                    "--months",
                    "2",
                    "--prefix",
                    "aws",
                    "--threads",
                    "2",
                    "--dirty",
                    "--revision",
                    revision,
                ],
            );
        }
        generate(
            venv,
            "azuregen.py",
            &work.path().join("r0"),
            "focuscost",
            &[
                "--dataset",
                "focus",
                "--rows",
                "400",
                "--root",
                "azure",
                "--dirty",
            ],
        );
        copy_tree(&work.path().join("r0/tree"), &work.path().join("live"));
        Self { work }
    }

    fn live(&self) -> PathBuf {
        self.work.path().join("live")
    }

    /// January re-issued in the live tree.
    fn reissue_january(&self) {
        let live = self.live().join("aws");
        let from = self.work.path().join("r1/tree/aws");
        for (rel, path) in crate::harness::files_under(&live) {
            if rel.contains("20240101-20240201") {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (rel, path) in crate::harness::files_under(&from) {
            if rel.contains("20240101-20240201") {
                let dest = live.join(&rel);
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::copy(path, dest).unwrap();
            }
        }
    }

    fn import(&self, sb: &Sandbox, env: &[(&str, &str)]) -> Run {
        let aws = self.live().join("aws").display().to_string();
        let run = sb.finops_with(
            &[
                "--format", "json", "aws", "import", "--path", &aws, "--report", "legacy",
            ],
            env,
        );
        assert_eq!(run.code, 0, "{run:?}");
        run
    }

    fn import_azure(&self, sb: &Sandbox) {
        let azure = self.live().join("azure").display().to_string();
        let run = sb.finops(&["--format", "json", "azure", "import", "--path", &azure]);
        assert_eq!(run.code, 0, "{run:?}");
    }
}

fn sync(sb: &Sandbox, to: &str, env: &[(&str, &str)]) -> Vec<Value> {
    let mut all: Vec<(&str, &str)> = SMALL_FILES.to_vec();
    all.extend_from_slice(env);
    let run = sb.finops_with(&["--format", "json", "lake", "sync", "--to", to], &all);
    assert_eq!(run.code, 0, "{run:?}");
    run.json().as_array().unwrap().clone()
}

/// `finops lake status --to lake` as JSON.
fn lake_status(sb: &Sandbox, lake: &str) -> Value {
    let run = sb.finops(&["--format", "json", "lake", "status", "--to", lake]);
    assert_eq!(run.code, 0, "{run:?}");
    run.json()
}

/// `finops lake sync --force` of AWS's February alone, with small files and `env`.
fn force_february(sb: &Sandbox, lake: &str, env: &[(&str, &str)]) -> Run {
    let mut all: Vec<(&str, &str)> = SMALL_FILES.to_vec();
    all.extend_from_slice(env);
    sb.finops_with(
        &[
            "--format",
            "json",
            "lake",
            "sync",
            "--to",
            lake,
            "--period",
            "2024-02",
            "--source",
            "aws/legacy",
            "--force",
        ],
        &all,
    )
}

fn statuses(done: &[Value]) -> Vec<(String, String, String)> {
    done.iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_owned(),
                s["period"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// January's (rows, `BilledCost`) in the warehouse, as `lake_check.py` takes them.
fn january(sb: &Sandbox, venv: &Path) -> String {
    let r = sb.query(
        venv,
        "SELECT count(*) AS n, CAST(sum(\"BilledCost\") AS VARCHAR) AS b FROM focus.cost_and_usage \
         WHERE x_source = 'aws/legacy' AND x_billing_period = DATE '2024-01-01'",
    );
    let b = r[0]["b"].as_str().unwrap();
    // Python's str(Decimal) of the sum as the readers return it (DECIMAL(38,20)).
    format!("[{}, \"{}\"]", r[0]["n"], b)
}

#[test]
fn lake_on_files_is_read_by_delta_rs_clickhouse_and_spark_and_replaces_a_month_whole() {
    let venv = require_venv!();
    let Some(lv) = lake_venv() else { return };
    let src = Sources::generate(&venv);
    let sb = Sandbox::new();
    let lake = sb.dir.path().join("lake/focus");
    let lake_s = lake.display().to_string();
    let wh = sb.warehouse().display().to_string();

    // 1. AWS alone, then Azure, whose x_ columns AWS has not: the second sync adds them to the
    //    table's schema in the commits that write Azure's periods (schema evolution), and the
    //    readers equal the warehouse.
    src.import(&sb, &[]);
    let aws_only = sync(&sb, &lake_s, &[]);
    assert_eq!(aws_only.len(), 2, "{aws_only:?}");
    src.import_azure(&sb);
    let mut done = aws_only;
    done.extend(
        sync(&sb, &lake_s, &[])
            .into_iter()
            .filter(|s| s["status"] == "written"),
    );
    let st = statuses(&done);
    assert!(st.len() >= 3, "{done:?}");
    assert!(st.iter().all(|s| s.2 == "written"), "{st:?}");
    assert!(
        st.contains(&("aws/legacy".into(), "2024-01".into(), "written".into())),
        "{st:?}"
    );
    assert!(st.iter().any(|s| s.0.starts_with("azure/")), "{st:?}");
    assert!(done.iter().all(|s| s["files"].as_u64().unwrap() >= 1));
    assert!(
        done.iter().any(|s| s["files"].as_u64().unwrap() >= 2),
        "every period should have several files: {done:?}"
    );
    let first = check(&lv, "equal", &[&wh, &lake_s]);
    assert_eq!(first["protocol"], serde_json::json!([1, 2]), "{first}");
    assert_eq!(first["schema"]["ChargePeriodStart"], "timestamp", "{first}");
    assert_eq!(first["schema"]["x_billing_period"], "date", "{first}");
    assert_eq!(
        first["spark_types"]["BilledCost"], "decimal(38,20)",
        "{first}"
    );
    assert_eq!(
        first["schema"]["x_SkuMeterCategory"], "string",
        "Azure's column, added: {first}"
    );
    assert_eq!(first["evolved"], true, "{first}");
    // ClickHouse's own reader refuses an evolved table (its defect); its delta-kernel one reads it.
    assert!(first["clickhouse_native_refuses"].is_string(), "{first}");
    assert!(
        first["readers"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("chdb kernel=1")),
        "{first}"
    );
    let version_after_first = first["version"].as_i64().unwrap();
    assert_eq!(
        version_after_first,
        i64::try_from(st.len()).unwrap(),
        "one commit per period after the create"
    );

    // 2. A re-run writes nothing.
    let again = sync(&sb, &lake_s, &[]);
    assert!(
        statuses(&again).iter().all(|s| s.2 == "current"),
        "{again:?}"
    );
    let status = lake_status(&sb, &lake_s);
    assert_eq!(status["table_version"], version_after_first);
    assert_eq!(status["protocol"], serde_json::json!([1, 2]));
    for p in status["periods"].as_array().unwrap() {
        assert_eq!(p["state"], "current", "{p}");
        assert_eq!(p["lake"]["rows"], p["warehouse"]["rows"], "{p}");
        assert_eq!(p["lake"]["BilledCost"], p["warehouse"]["BilledCost"], "{p}");
        assert_eq!(p["lake"]["version"], p["warehouse"]["version"], "{p}");
    }

    // 3. January re-issued, imported with `[lake] url` set: the import syncs it, alone, in one
    //    commit; at every table version January is the old month or the new one.
    let old = january(&sb, &venv);
    let before_reissue = lake_status(&sb, &lake_s)["table_version"].as_u64().unwrap();
    src.reissue_january();
    let mut env: Vec<(&str, &str)> = SMALL_FILES.to_vec();
    env.push(("FINOPS_LAKE_URL", &lake_s));
    let run = src.import(&sb, &env);
    assert!(
        run.stderr.contains("lake: aws/legacy 2024-01 written"),
        "{run:?}"
    );
    let new = january(&sb, &venv);
    assert_ne!(old, new);
    let status = lake_status(&sb, &lake_s);
    assert_eq!(status["table_version"], before_reissue + 1, "{status}");
    let jan = status["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["source"] == "aws/legacy" && p["period"] == "2024-01")
        .unwrap();
    assert_eq!(jan["lake"]["table_version"], before_reissue + 1, "{jan}");
    let h = check(
        &lv,
        "history",
        &[&lake_s, "aws/legacy", "2024-01", &old, &new],
    );
    assert_eq!(h["last"]["operation"], "WRITE", "{h}");
    check(&lv, "quick", &[&wh, &lake_s]);

    // 4. A Parquet glob over the folder counts a replaced January more than once until vacuum:
    //    the first sync's files, the schema evolution's and the re-issue's.
    let glob = check(&lv, "glob", &[&lake_s]);
    let n = |s: &str| {
        s.trim_start_matches('[')
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(
        glob["rows"]["aws/legacy 2024-01"].as_u64().unwrap(),
        2 * n(&old) + n(&new),
        "{glob}"
    );
    let kept = sb.finops(&["--format", "json", "lake", "vacuum", "--to", &lake_s]);
    assert_eq!(kept.code, 0, "{kept:?}");
    assert_eq!(
        kept.json()["files"],
        serde_json::json!([]),
        "the default 7 days keep the old files"
    );
    let vac = sb.finops(&[
        "--format", "json", "lake", "vacuum", "--to", &lake_s, "--retain", "0",
    ]);
    assert_eq!(vac.code, 0, "{vac:?}");
    // Each replaced file listed once, relative to the table: AWS's two months of three files
    // from the first sync and from the evolution, and January's from the re-issue's sync.
    let gone = vac.json()["files"].as_array().unwrap().clone();
    assert_eq!(gone.len(), 6 + 3, "{vac:?}");
    assert!(
        gone.iter()
            .all(|f| f.as_str().unwrap().starts_with("x_source=aws%2Flegacy/")),
        "{vac:?}"
    );
    let glob = check(&lv, "glob", &[&lake_s]);
    assert_eq!(
        glob["rows"]["aws/legacy 2024-01"].as_u64().unwrap(),
        n(&new),
        "{glob}"
    );
    check(&lv, "quick", &[&wh, &lake_s]);

    // 5. The Hive layout for readers without Delta: one object per (source, period), read by
    //    Spark and ClickHouse; exported again, still one object each.
    let hive = sb.dir.path().join("hive").display().to_string();
    for _ in 0..2 {
        let run = sb.finops(&["focus", "export", "--layout", "hive", "--to", &hive]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .contains("x_source=aws%2Flegacy/x_billing_period=2024-01-01/part-0.parquet"),
            "{run:?}"
        );
        let h = check(&lv, "hive", &[&wh, &hive]);
        assert_eq!(h["files"], h["partitions"], "{h}");
    }
    let run = sb.finops(&[
        "--format", "csv", "focus", "export", "--layout", "hive", "--to", &hive,
    ]);
    assert_eq!(run.code, 2, "{run:?}");

    // 6. A crash between the upload and the commit: the table does not move; a re-run commits
    //    and the lake equals the warehouse.
    let before = lake_status(&sb, &lake_s);
    let crash = force_february(&sb, &lake_s, &[("FINOPS_FAILPOINTS", "lake-before-commit")]);
    assert_ne!(crash.code, 0, "{crash:?}");
    let after = lake_status(&sb, &lake_s);
    assert_eq!(
        after["table_version"], before["table_version"],
        "a crash moved the table"
    );
    check(&lv, "quick", &[&wh, &lake_s]);
    let rerun = sync(&sb, &lake_s, &[]);
    assert!(
        statuses(&rerun).iter().all(|s| s.2 == "current"),
        "{rerun:?}"
    );
    let forced = force_february(&sb, &lake_s, &[]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_eq!(
        statuses(forced.json().as_array().unwrap()),
        vec![("aws/legacy".into(), "2024-02".into(), "written".into())]
    );
    check(&lv, "quick", &[&wh, &lake_s]);
    // Vacuum removes the crashed sync's orphaned upload too.
    let vac = sb
        .finops(&[
            "--format", "json", "lake", "vacuum", "--to", &lake_s, "--retain", "0",
        ])
        .json();
    assert!(!vac["files"].as_array().unwrap().is_empty(), "{vac}");
    let glob = check(&lv, "glob", &[&lake_s]);
    let fresh = check(&lv, "equal", &[&wh, &lake_s]);
    assert_eq!(glob["files"], fresh["files"], "{glob} {fresh}");
}

#[test]
fn lake_on_s3_is_read_back_and_two_workers_replacing_one_period_commit_once() {
    let venv = require_venv!();
    let Some(lv) = lake_venv() else { return };
    let src = Sources::generate(&venv);
    let sb = Sandbox::new();
    src.import(&sb, &[]);
    src.import_azure(&sb);
    let moto = Moto::start(&venv);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(moto.client().create_bucket().bucket("lake").send())
        .unwrap();
    let s3 = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    let url = "s3://lake/focus";
    let wh = sb.warehouse().display().to_string();
    let done = sync(&sb, url, &s3);
    assert!(statuses(&done).iter().all(|s| s.2 == "written"), "{done:?}");
    let r = check(&lv, "equal", &[&wh, url, &moto.endpoint]);
    // Both sources before the first sync: no evolution, and ClickHouse's own reader reads it.
    assert_eq!(r["evolved"], false, "{r}");
    assert!(
        r["readers"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("chdb kernel=0")),
        "{r}"
    );
    assert_eq!(r["protocol"], serde_json::json!([1, 2]), "{r}");
    assert!(
        statuses(&sync(&sb, url, &s3))
            .iter()
            .all(|s| s.2 == "current")
    );

    // Two workers replace January at once, both held just before the commit until both are
    // there: exactly one commits; the other exits 1 naming the conflict.
    let barrier = sb.dir.path().join("barrier");
    std::fs::create_dir_all(&barrier).unwrap();
    let barrier_env = format!("{}:2", barrier.display());
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = std::process::Command::new(crate::harness::finops_bin());
            cmd.args([
                "lake",
                "sync",
                "--to",
                url,
                "--period",
                "2024-01",
                "--source",
                "aws/legacy",
                "--force",
            ])
            .current_dir(sb.dir.path())
            .env("HOME", sb.dir.path())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("FINOPS_BARRIER", &barrier_env)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let outs: Vec<_> = workers
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
    let errs: Vec<String> = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == 0).count(),
        1,
        "exactly one worker commits: {codes:?} {errs:?}"
    );
    let loser = &errs[codes.iter().position(|c| *c != 0).unwrap()];
    assert!(
        loser.contains("another finops replaced the same period"),
        "{loser}"
    );
    // The retry finds the period current; the lake equals the warehouse.
    assert!(
        statuses(&sync(&sb, url, &s3))
            .iter()
            .all(|s| s.2 == "current")
    );
    check(&lv, "equal", &[&wh, url, &moto.endpoint]);

    // Workers with scratch warehouses: the lake says what is loaded.
    let url = "s3://lake/workers";
    let aws = src.live().join("aws").display().to_string();
    let worker = |w: &Sandbox| {
        let mut env: Vec<(&str, &str)> = SMALL_FILES.to_vec();
        env.extend_from_slice(&s3);
        let run = w.finops_with(
            &[
                "aws", "import", "--path", &aws, "--report", "legacy", "--lake", url,
            ],
            &env,
        );
        assert_eq!(run.code, 0, "{run:?}");
        run
    };
    let (w1, w2) = (Sandbox::new(), Sandbox::new());
    let run = worker(&w1);
    assert!(run.stdout.contains("loaded 2, failed 0"), "{run:?}");
    // A fresh machine skips what the first worker loaded.
    let run = worker(&w2);
    assert!(run.stdout.contains("loaded 0, failed 0"), "{run:?}");
    assert!(run.stderr.contains("already in the lake"), "{run:?}");
    // January re-issued: the second worker loads January alone and commits it.
    src.reissue_january();
    let run = worker(&w2);
    assert!(run.stdout.contains("loaded 1, failed 0"), "{run:?}");
    assert!(
        run.stderr.contains("lake: aws/legacy 2024-01 written"),
        "{run:?}"
    );
    // The first worker's scratch file still has the old January: its sync leaves the lake's
    // newer one alone.
    let stale = sync(&w1, url, &s3);
    let jan = stale.iter().find(|s| s["period"] == "2024-01").unwrap();
    assert_eq!(jan["status"], "newer in lake", "{stale:?}");
    let w2_wh = w2.warehouse().display().to_string();
    let lake_jan = check(&lv, "within", &[&w2_wh, url, &moto.endpoint]);
    assert!(
        lake_jan["partitions"]["aws/legacy 2024-01"].is_array(),
        "{lake_jan}"
    );
}

#[test]
fn lake_errors_are_clear() {
    let sb = Sandbox::new();
    // No warehouse yet.
    let run = sb.finops(&["lake", "sync", "--to", "/tmp/nowhere-lake"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no FOCUS rows"), "{run:?}");
    // No URL at all.
    let run = sb.finops(&["lake", "status"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("no lake given") && run.stderr.contains("[lake] url"),
        "{run:?}"
    );
    // A scheme finops does not write.
    let run = sb.finops(&["lake", "vacuum", "--to", "ftp://host/x"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not ftp"), "{run:?}");
    // Not a table.
    let empty = sb.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = sb.finops(&["lake", "status", "--to", &empty.display().to_string()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("there is no Delta table"), "{run:?}");
}
