//! AWS Data Exports and several exports side by side (issue #5): CUR v1, CUR 2.0 (Parquet and
//! csv.gz) and FOCUS exports made by the generator (`tests/gen/awsgen.py`), served by moto,
//! found and classified by `list-exports`, imported in one run, each into its own raw table and
//! `x_source`, counted and summed against the generator's own totals, re-issued, and
//! checked by both FOCUS checkers.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::VALIDATOR_BUGS;
use crate::harness::{Moto, Sandbox, focus_validator};
use crate::{require_fv, require_venv};

/// Runs the AWS generator with the tests' prefix; returns its totals.
pub(crate) fn generate(venv: &Path, out: &Path, export: &str, args: &[&str]) -> Value {
    let args = [&["--prefix", "exports", "--threads", "2"][..], args].concat();
    crate::harness::generate(venv, "awsgen.py", out, export, &args)
}

/// The four exports of the test: (name, generator arguments, kind, raw table).
const EXPORTS: [(&str, &[&str], &str, &str); 4] = [
    (
        "legacy-hourly",
        &[
            "--kind", "cur1", "--rows", "6000", "--months", "2", "--parts", "2",
        ],
        "cur1",
        "cur_legacy_hourly",
    ),
    (
        "cur2-parquet",
        &[
            "--kind", "cur2", "--rows", "6000", "--months", "2", "--seed", "2",
        ],
        "cur2",
        "cur2_cur2_parquet",
    ),
    (
        "cur2-csv",
        &[
            "--kind", "cur2", "--format", "csv", "--rows", "4000", "--months", "2", "--seed", "3",
        ],
        "cur2",
        "cur2_cur2_csv",
    ),
    (
        "focus-aws",
        &[
            "--kind", "focus", "--rows", "6000", "--months", "2", "--seed", "4",
        ],
        "focus",
        "focus_focus_aws",
    ),
];

fn s3_args<'a>(moto: &'a Moto, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--bucket",
        "billing",
        "--prefix",
        "exports",
        "--endpoint-url",
        moto.endpoint.as_str(),
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn every_kind_side_by_side_from_s3() {
    let venv = require_venv!();
    let fv = require_fv!();
    let sb = Sandbox::new();
    let gen_dir = sb.dir.path().join("gen");
    let totals: Vec<Value> = EXPORTS
        .iter()
        .map(|(name, args, ..)| generate(&venv, &gen_dir, name, args))
        .collect();
    let moto = Moto::start(&venv);
    moto.upload_tree("billing", &gen_dir.join("tree/exports"), "exports");
    // A folder that is no export is ignored.
    std::fs::create_dir_all(gen_dir.join("other/readme")).unwrap();
    std::fs::write(gen_dir.join("other/readme/notes.txt"), "not an export").unwrap();
    moto.upload_tree("billing", &gen_dir.join("other"), "exports");

    // list-exports: every export, its kind told from the files, every period, nothing loaded.
    let run = sb.finops(
        &[
            &["aws", "list-exports"][..],
            &s3_args(&moto, &["--format", "json"]),
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let listed = run.json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 8, "{listed:#}");
    for ((name, _, kind, _), t) in EXPORTS.iter().zip(&totals) {
        let mine: Vec<&Value> = rows.iter().filter(|r| r["export"] == *name).collect();
        assert_eq!(mine.len(), 2, "{name}");
        assert!(
            mine.iter()
                .all(|r| r["kind"] == *kind && r["loaded"] == "no"),
            "{mine:?}"
        );
        assert_eq!(mine[0]["version"], t["periods"]["2024-01"]["version"]);
        assert_eq!(mine[1]["files"], t["periods"]["2024-02"]["files"]);
    }
    let run = sb.finops(
        &[
            &["aws", "list-exports"][..],
            &s3_args(&moto, &["--start", "2024-02", "--format", "json"]),
        ]
        .concat(),
    );
    assert_eq!(run.json().as_array().unwrap().len(), 4);

    // --dry-run: the plan, and nothing written.
    let run = sb.finops(
        &[
            &["aws", "import-cur"][..],
            &s3_args(&moto, &["--dry-run", "--format", "json"]),
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let plan = run.json();
    assert_eq!(plan.as_array().unwrap().len(), 4);
    for report in plan.as_array().unwrap() {
        for p in report["periods"].as_array().unwrap() {
            assert_eq!(
                (&p["action"], &p["outcome"]["status"]),
                (&Value::from("new"), &Value::from("planned"))
            );
            assert!(p["bytes"].as_u64().unwrap() > 0, "sizes in the plan: {p}");
        }
    }
    assert!(
        !sb.warehouse().exists()
            || sb.query(
                &venv,
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'aws'"
            )[0]["n"]
                == 0
    );

    // One run imports all four, each into its own table and x_source.
    let run = sb.finops(
        &[
            &["aws", "import-cur"][..],
            &s3_args(&moto, &["--format", "json"]),
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    for ((name, _, kind, table), t) in EXPORTS.iter().zip(&totals) {
        let raw = sb.query(
            &venv,
            &format!(
                "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum({cost}) AS VARCHAR) AS cost FROM aws.{table} GROUP BY 1 ORDER BY 1",
                cost = if *kind == "focus" { "\"BilledCost\"" } else { "line_item_unblended_cost" }
            ),
        );
        let focus = sb.query(
            &venv,
            &format!(
                "SELECT strftime(x_billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS cost \
                 FROM focus.cost_and_usage WHERE x_source = 'aws/{name}' GROUP BY 1 ORDER BY 1"
            ),
        );
        assert_eq!(raw.len(), 2, "{name}");
        for (i, period) in ["2024-01", "2024-02"].iter().enumerate() {
            let want = &t["periods"][period];
            assert_eq!(raw[i]["n"], want["rows"], "{name} {period} raw rows");
            assert_eq!(
                trim(&raw[i]["cost"]),
                want["cost"].as_str().unwrap(),
                "{name} {period} raw cost, exact"
            );
            assert_eq!(
                focus[i]["n"], want["focus_rows"],
                "{name} {period} FOCUS rows"
            );
            assert_eq!(
                trim(&focus[i]["cost"]),
                want["cost"].as_str().unwrap(),
                "{name} {period} BilledCost, exact"
            );
        }
        let state = sb.query(
            &venv,
            &format!(
                "SELECT kind, count(*) AS n FROM meta.load_state WHERE export = '{name}' GROUP BY 1"
            ),
        );
        assert_eq!(
            (&state[0]["kind"], &state[0]["n"]),
            (&Value::from(*kind), &Value::from(2))
        );
    }
    // CUR 2.0 keeps its maps queryable as maps.
    let maps = sb.query(
        &venv,
        "SELECT typeof(product) AS p, typeof(resource_tags) AS t, typeof(discount) AS d, \
         count(*) FILTER (WHERE product['product_name'] IS NOT NULL) AS named FROM aws.cur2_cur2_csv GROUP BY ALL",
    );
    assert_eq!(maps[0]["p"], "MAP(VARCHAR, VARCHAR)");
    assert_eq!(maps[0]["d"], "MAP(VARCHAR, DECIMAL(38,18))");
    assert_eq!(maps[0]["named"], totals[2]["rows"]);
    let types = sb.query(&venv, "SELECT typeof(product) AS p, typeof(line_item_unblended_cost) AS c FROM aws.cur2_cur2_parquet LIMIT 1");
    assert_eq!(
        (&types[0]["p"], &types[0]["c"]),
        (
            &Value::from("MAP(VARCHAR, VARCHAR)"),
            &Value::from("DECIMAL(38,18)")
        )
    );

    // A second run finds nothing new.
    let run = sb.finops(
        &[
            &["aws", "import-cur"][..],
            &s3_args(&moto, &["--format", "json"]),
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.json().as_array().unwrap().iter().all(|r| {
        r["periods"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] == "unchanged")
    }));

    // AWS re-issues February of the CUR 2.0 export: that period is replaced, January kept.
    let re = sb.dir.path().join("reissue");
    let (name, args, ..) = EXPORTS[1];
    let t2 = generate(&venv, &re, name, &[args, &["--revision", "1"][..]].concat());
    let feb = re.join("tree/exports").join(name);
    let only_feb = tempfile::tempdir().unwrap();
    for sub in [
        "data/BILLING_PERIOD=2024-02",
        "metadata/BILLING_PERIOD=2024-02",
    ] {
        crate::harness::copy_tree(&feb.join(sub), &only_feb.path().join(name).join(sub));
    }
    moto.upload_tree("billing", only_feb.path(), "exports");
    let run = sb.finops(
        &[
            &["aws", "import-cur"][..],
            &s3_args(&moto, &["--export", name, "--format", "json"]),
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    let actions: Vec<&str> = report["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unchanged", "reissued"]);
    let focus = sb.query(
        &venv,
        &format!("SELECT strftime(x_billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS cost FROM focus.cost_and_usage WHERE x_source = 'aws/{name}' GROUP BY 1 ORDER BY 1"),
    );
    assert_eq!(focus[0]["n"], totals[1]["periods"]["2024-01"]["focus_rows"]);
    assert_eq!(focus[1]["n"], t2["periods"]["2024-02"]["focus_rows"]);
    assert_eq!(
        trim(&focus[1]["cost"]),
        t2["periods"]["2024-02"]["cost"].as_str().unwrap()
    );
    assert_ne!(
        t2["periods"]["2024-02"]["cost"],
        totals[1]["periods"]["2024-02"]["cost"]
    );

    // The built-in checker passes on all sources together. focus-validator on each source's
    // rows fails only what it fails on any data: the contradictory pairs (with InvoiceId set
    // on every row it is InvoiceId-C-004-C that fails instead of -C-005-C), and, where
    // support fees exist, EffectiveCost-C-005-C (which wants 0 on every purchase, see
    // generated.rs) with its parent.
    let run = sb.finops(&["focus", "validate", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let known: BTreeSet<String> = VALIDATOR_BUGS
        .iter()
        .chain(&[
            "InvoiceId-C-004-C",
            "EffectiveCost-C-005-C",
            "EffectiveCost-C-000-M",
        ])
        .map(|s| (*s).to_owned())
        .collect();
    for (name, ..) in EXPORTS {
        let file = sb.dir.path().join(format!("{name}.parquet"));
        let out = Command::new(venv.join("bin/duckdb"))
            .args(["-readonly"])
            .arg(sb.warehouse())
            .args(["-c", &format!(
                "COPY (SELECT * EXCLUDE (x_source, x_billing_period) FROM focus.cost_and_usage WHERE x_source = 'aws/{name}' AND x_billing_period = '2024-01-01') TO '{}' (FORMAT parquet)",
                file.display()
            )])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = focus_validator(&fv, &file);
        let unexpected: BTreeSet<&String> =
            v.failed.iter().filter(|r| !known.contains(*r)).collect();
        assert!(
            unexpected.is_empty(),
            "{name}: {unexpected:?} ({:?})",
            v.counts
        );
    }
}

fn trim(v: &Value) -> String {
    let s = v.as_str().unwrap();
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

#[test]
fn data_export_faults_fail_alone() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let gen_dir = sb.dir.path().join("gen");
    let (name, args, ..) = EXPORTS[2];
    let totals = generate(&venv, &gen_dir, name, args);
    let root = gen_dir.join("tree/exports");
    let path = root.display().to_string();

    // February's only data file is cut short: January loads, February fails, exit 3.
    let feb = root
        .join(name)
        .join("data/BILLING_PERIOD=2024-02")
        .join(format!("{name}-00001.csv.gz"));
    let bytes = std::fs::read(&feb).unwrap();
    std::fs::write(&feb, &bytes[..bytes.len() / 2]).unwrap();
    let run = sb.finops(&["aws", "import-cur", "--path", &path, "--format", "json"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("is not a complete gzip file"),
        "{run:?}"
    );
    let rows = sb.query(&venv, "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n FROM aws.cur2_cur2_csv GROUP BY 1");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["n"], totals["periods"]["2024-01"]["rows"]);

    // A manifest that is not JSON, and one naming a file outside the export.
    let manifest = root
        .join(name)
        .join("metadata/BILLING_PERIOD=2024-02")
        .join(format!("{name}-Manifest.json"));
    std::fs::write(&feb, &bytes).unwrap();
    let good = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, "{ not json").unwrap();
    let run = sb.finops(&["aws", "import-cur", "--path", &path]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("is not a valid CUR manifest"),
        "{run:?}"
    );
    std::fs::write(
        &manifest,
        good.replace(
            &format!("exports/{name}/data/"),
            &format!("exports/{name}/../../secrets/"),
        ),
    )
    .unwrap();
    let run = sb.finops(&["aws", "import-cur", "--path", &path]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("outside the export location"),
        "{run:?}"
    );
    std::fs::write(&manifest, &good).unwrap();
    let run = sb.finops(&["aws", "import-cur", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        sb.query(&venv, "SELECT count(*) AS n FROM aws.cur2_cur2_csv")[0]["n"],
        totals["rows"]
    );

    // A prefix with no exports, and an export name that is not there.
    let empty = sb.dir.path().join("empty");
    std::fs::create_dir_all(empty.join("something")).unwrap();
    let run = sb.finops(&[
        "aws",
        "list-exports",
        "--path",
        &empty.display().to_string(),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("no AWS billing exports under"),
        "{run:?}"
    );
    assert!(run.stderr.contains("folders there: something"), "{run:?}");
    let run = sb.finops(&["aws", "import-cur", "--path", &path, "--report", "nope"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("reports found at that prefix: cur2-csv"),
        "{run:?}"
    );
}
