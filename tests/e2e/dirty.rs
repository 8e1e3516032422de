//! Real billing data is dirty (issue #16): clouds compute in binary floating point, so costs,
//! rates and quantities arrive as `0.30000000000000004`, `1.4901161193847656E-8`, `-0.0`, in CSV
//! text and as Parquet doubles. The generators' `--dirty` mode writes such exports for every
//! AWS kind and for Azure; each must load, store exactly each value rounded half to even to 18
//! places, record the rounding, and keep FOCUS exact. A rounding that would show in a total,
//! and values that are not amounts, fail the period and keep what was loaded.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Sandbox, python, read_gz, write_gz};
use crate::require_venv;

/// `a − b` for two exact decimal texts, by Python's `Decimal` (independent of finops).
fn gap(venv: &Path, a: &str, b: &str) -> f64 {
    python(
        venv,
        "decimal difference",
        &[
            "-c",
            "import sys; from decimal import Decimal, getcontext; getcontext().prec = 100; print(abs(Decimal(sys.argv[1]) - Decimal(sys.argv[2])))",
            a,
            b,
        ],
    )
    .trim()
    .parse()
    .unwrap()
}

fn trim(v: &Value) -> String {
    let s = v.as_str().unwrap_or_else(|| panic!("not text: {v}"));
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

/// The rounding recorded for `column` of `export` in `period` (from `show-state`).
fn recorded(state: &Value, export: &str, period: &str, table: &str, column: &str) -> Value {
    state["state"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["export"] == export && r["period"] == period)
        .unwrap_or_else(|| panic!("no state for {export} {period}"))["rounding"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["table"] == table && r["column"] == column)
        .cloned()
        .unwrap_or(Value::Null)
}

/// The AWS exports of the test: (name, generator arguments, raw table, cost column).
const AWS: [(&str, &[&str], &str, &str); 5] = [
    (
        "dirty-cur1",
        &["--kind", "cur1", "--parts", "2"],
        "cur_dirty_cur1",
        "line_item_unblended_cost",
    ),
    (
        "dirty-cur2-parquet",
        &["--kind", "cur2", "--seed", "2"],
        "cur2_dirty_cur2_parquet",
        "line_item_unblended_cost",
    ),
    (
        "dirty-cur2-csv",
        &["--kind", "cur2", "--format", "csv", "--seed", "3"],
        "cur2_dirty_cur2_csv",
        "line_item_unblended_cost",
    ),
    (
        "dirty-focus-parquet",
        &["--kind", "focus", "--seed", "4"],
        "focus_dirty_focus_parquet",
        "BilledCost",
    ),
    (
        "dirty-focus-csv",
        &["--kind", "focus", "--format", "csv", "--seed", "5"],
        "focus_dirty_focus_csv",
        "BilledCost",
    ),
];

#[test]
fn floating_point_exports_of_every_kind_load_exactly_and_record_their_rounding() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let aws_dir = sb.dir.path().join("aws");
    let aws: Vec<Value> = AWS
        .iter()
        .map(|(name, args, ..)| {
            let args = [
                &[
                    "--rows",
                    "4000",
                    "--months",
                    "2",
                    "--dirty",
                    "--threads",
                    "2",
                ][..],
                args,
            ]
            .concat();
            crate::harness::generate(&venv, "awsgen.py", &aws_dir, name, &args)
        })
        .collect();
    let run = sb.finops(&[
        "aws",
        "import-cur",
        "--path",
        &aws_dir.join("tree").display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("rounded half to even to the stored precision")
            && run.stdout.contains("money ")
            && run
                .stdout
                .contains("ListCost/ContractedCost = unit price × quantity"),
        "{run:?}"
    );

    // Azure: an MCA actual and amortized export (EUR at an 18-place exchange rate, a disk at
    // 135.17) of one scope, paired; an EA actual export and a FocusCost export of others.
    let az_dir = sb.dir.path().join("azure");
    let az = |export: &str, args: &[&str]| {
        let args = [&["--root", "exports", "--rows", "400", "--dirty"][..], args].concat();
        crate::harness::generate(&venv, "azuregen.py", &az_dir, export, &args)
    };
    let mca_actual = az("mca-actual", &["--dataset", "actual", "--flavor", "mca"]);
    let mca_amortized = az(
        "mca-amortized",
        &["--dataset", "amortized", "--flavor", "mca"],
    );
    let ea_actual = az(
        "ea-actual",
        &[
            "--dataset",
            "actual",
            "--format",
            "csv.gz",
            "--scope",
            "/subscriptions/ea",
        ],
    );
    let ea_focus = az(
        "ea-focus",
        &[
            "--dataset",
            "focus",
            "--format",
            "parquet",
            "--scope",
            "/subscriptions/focus",
        ],
    );
    let run = sb.finops(&[
        "azure",
        "import-exports",
        "--path",
        &az_dir.join("tree").display().to_string(),
        "--prefix",
        "exports",
    ]);
    assert_eq!(run.code, 0, "{run:?}");

    let state = sb.finops(&["aws", "show-state", "--format", "json"]).json();
    let az_state = sb
        .finops(&["azure", "show-state", "--format", "json"])
        .json();
    for ((name, _, table, cost), t) in AWS.iter().zip(&aws) {
        let raw = sb.query(
            &venv,
            &format!(
                "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(\"{cost}\") AS VARCHAR) AS c \
                 FROM aws.{table} GROUP BY 1 ORDER BY 1"
            ),
        );
        let focus = sb.query(
            &venv,
            &format!(
                "SELECT strftime(x_billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS c \
                 FROM focus.cost_and_usage WHERE x_source = 'aws/{name}' GROUP BY 1 ORDER BY 1"
            ),
        );
        for (i, period) in ["2024-01", "2024-02"].iter().enumerate() {
            let want = &t["periods"][period];
            assert_eq!(raw[i]["n"], want["rows"], "{name} {period} rows");
            // Every value stored rounded half to even to 18 places: the sum is exact.
            assert_eq!(
                trim(&raw[i]["c"]),
                want["cost_stored"].as_str().unwrap(),
                "{name} {period} raw cost"
            );
            assert_eq!(
                focus[i]["n"], want["focus_rows"],
                "{name} {period} FOCUS rows"
            );
            assert_eq!(
                trim(&focus[i]["c"]),
                want["cost_stored"].as_str().unwrap(),
                "{name} {period} BilledCost"
            );
            // The source's exact total is within the recorded rounding of the stored one.
            let r = recorded(&state, name, period, "raw", cost);
            assert_eq!(r["kind"], "money", "{name} {period}: {r}");
            assert_eq!(r["scale"], 18);
            assert!(r["values"].as_u64().unwrap() > 0, "{name} {period}: {r}");
            assert!(r["largest"].as_f64().unwrap() <= 5e-19, "{r}");
            let total = r["total"].as_f64().unwrap();
            let diff = gap(
                &venv,
                want["cost"].as_str().unwrap(),
                want["cost_stored"].as_str().unwrap(),
            );
            assert!(
                diff > 0.0 && diff <= total * (1.0 + 1e-9),
                "{name} {period}: the source differs from what is stored by {diff}, more than the {total} recorded"
            );
            // Rates and quantities were rounded in FOCUS too, and recorded.
            let p = recorded(&state, name, period, "focus", "ListUnitPrice");
            assert_eq!(
                (&p["kind"], &p["scale"]),
                (&json!("unit-price"), &json!(10)),
                "{name}: {p}"
            );
            assert!(p["largest"].as_f64().unwrap() <= 5e-11, "{p}");
        }
    }

    // Azure, raw and FOCUS, against the generator's exact sums.
    let az_raw = |table: &str, col: &str| {
        sb.query(
            &venv,
            &format!(
                "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum({col}) AS VARCHAR) AS c \
                 FROM azure.{table} GROUP BY 1 ORDER BY 1"
            ),
        )
    };
    let az_focus = |sources: &str| {
        sb.query(
            &venv,
            &format!(
                "SELECT strftime(x_billing_period, '%Y-%m') AS p, CAST(sum(BilledCost) AS VARCHAR) AS b, \
                 CAST(sum(EffectiveCost) AS VARCHAR) AS e FROM focus.cost_and_usage \
                 WHERE x_source IN ({sources}) GROUP BY 1 ORDER BY 1"
            ),
        )
    };
    for (table, col, t) in [
        ("actual_mca_actual", "cost_in_billing_currency", &mca_actual),
        (
            "amortized_mca_amortized",
            "cost_in_billing_currency",
            &mca_amortized,
        ),
        ("actual_ea_actual", "cost_in_billing_currency", &ea_actual),
        ("focus_ea_focus", "\"BilledCost\"", &ea_focus),
    ] {
        let raw = az_raw(table, col);
        for (i, period) in ["2024-01", "2024-02"].iter().enumerate() {
            let want = &t["periods"][period];
            assert_eq!(raw[i]["n"], want["rows"], "{table} {period}");
            assert_eq!(
                trim(&raw[i]["c"]),
                want["cost_stored"].as_str().unwrap(),
                "{table} {period}"
            );
        }
    }
    let mca = az_focus("'azure/mca-actual', 'azure/mca-amortized'");
    let ea = az_focus("'azure/ea-actual'");
    let focus = az_focus("'azure/ea-focus'");
    for (i, period) in ["2024-01", "2024-02"].iter().enumerate() {
        // Paired: amortized rows plus the actual export's purchases.
        assert_eq!(
            trim(&mca[i]["b"]),
            mca_actual["periods"][period]["billed_stored"]
                .as_str()
                .unwrap()
        );
        assert_eq!(
            trim(&mca[i]["e"]),
            mca_amortized["periods"][period]["effective_stored"]
                .as_str()
                .unwrap()
        );
        assert_eq!(
            trim(&ea[i]["b"]),
            ea_actual["periods"][period]["billed_stored"]
                .as_str()
                .unwrap()
        );
        assert_eq!(
            trim(&focus[i]["b"]),
            ea_focus["periods"][period]["billed_stored"]
                .as_str()
                .unwrap()
        );
        let r = recorded(
            &az_state,
            "mca-amortized",
            period,
            "raw",
            "cost_in_billing_currency",
        );
        assert!(r["values"].as_u64().unwrap() > 0, "{r}");
    }
    // MCA list prices in EUR: PayGPrice × rate, over 100 for the disk, rounded to 10 places.
    let disk = sb.query(
        &venv,
        "SELECT CAST(max(ListUnitPrice) AS VARCHAR) AS p, count(*) AS n FROM focus.cost_and_usage \
         WHERE x_source = 'azure/mca-amortized' AND SkuMeter = 'P30 LRS Disk'",
    );
    assert!(disk[0]["n"].as_u64().unwrap() > 0, "{disk:?}");
    assert!(
        disk[0]["p"].as_str().unwrap().starts_with("139.5"),
        "{disk:?}"
    );

    // FOCUS stays exact: both product rules and every other rule, in both versions.
    for version in ["1.3", "1.2"] {
        let run = sb.finops(&["focus", "validate", "--version", version]);
        assert_eq!(run.code, 0, "{version}: {run:?}");
    }
    let products = sb.query(
        &venv,
        "SELECT count(*) AS n FROM focus.cost_and_usage WHERE ChargeClass IS NULL AND ListUnitPrice IS NOT NULL \
         AND PricingQuantity IS NOT NULL AND ListCost <> ListUnitPrice * PricingQuantity",
    );
    assert_eq!(products[0]["n"], 0);
    // The history says the same as the state.
    let history = sb.query(
        &venv,
        "SELECT count(*) AS n FROM meta.load_history WHERE status = 'loaded' AND rounding IS NOT NULL \
         AND json_array_length(CAST(rounding AS JSON)) > 0",
    );
    assert_eq!(history[0]["n"], json!(2 * (AWS.len() + 4)));
}

#[test]
fn a_rounding_that_would_show_in_a_total_fails_the_period_and_keeps_the_old_one() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let dir = sb.dir.path().join("gen");
    let args = [
        "--kind", "cur2", "--rows", "2000", "--months", "1", "--dirty",
    ];
    let v1 = crate::harness::generate(&venv, "awsgen.py", &dir, "tol", &args);
    let tree = dir.join("tree").display().to_string();
    let run = sb.finops(&["aws", "import-cur", "--path", &tree]);
    assert_eq!(run.code, 0, "{run:?}");
    // AWS re-issues the month; a tolerance below what it rounds refuses it.
    let v2 = crate::harness::generate(
        &venv,
        "awsgen.py",
        &dir,
        "tol",
        &[&args[..], &["--revision", "1"]].concat(),
    );
    let run = sb.finops_with(
        &["aws", "import-cur", "--path", &tree],
        &[("FINOPS_IMPORT_ROUNDING_TOLERANCE", "1e-30")],
    );
    assert_eq!(run.code, 1, "{run:?}");
    for part in [
        "rounding `line_item_unblended_cost` (raw) to 18 decimals would change 2024-01's total by up to",
        "more than the tolerance 1e-30",
        "import.rounding_tolerance",
    ] {
        assert!(run.stderr.contains(part), "{part}: {run:?}");
    }
    let sum = sb.query(
        &venv,
        "SELECT count(*) AS n, CAST(sum(line_item_unblended_cost) AS VARCHAR) AS c FROM aws.cur2_tol",
    );
    assert_eq!(sum[0]["n"], v1["periods"]["2024-01"]["rows"]);
    assert_eq!(
        trim(&sum[0]["c"]),
        v1["periods"]["2024-01"]["cost_stored"].as_str().unwrap()
    );
    let version = sb.query(&venv, "SELECT version_id AS v FROM meta.load_state");
    assert_eq!(version[0]["v"], v1["periods"]["2024-01"]["version"]);
    // A bad tolerance is a configuration error.
    let run = sb.finops_with(
        &["aws", "import-cur", "--path", &tree],
        &[("FINOPS_IMPORT_ROUNDING_TOLERANCE", "tiny")],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("`tiny` is not a number"), "{run:?}");
    // With the default it loads.
    let run = sb.finops(&["aws", "import-cur", "--path", &tree]);
    assert_eq!(run.code, 0, "{run:?}");
    let version = sb.query(&venv, "SELECT version_id AS v FROM meta.load_state");
    assert_eq!(version[0]["v"], v2["periods"]["2024-01"]["version"]);
}

#[test]
fn values_that_are_not_amounts_fail_their_period_naming_value_column_and_file() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    let rows = crate::aws::generated::rows();
    crate::aws::generated::write_tree(&tree, &rows);
    sb.import_path(&tree, crate::aws::generated::REPORT);
    let before = sb.query(
        &venv,
        "SELECT count(*) AS n, CAST(sum(line_item_unblended_cost) AS VARCHAR) AS c FROM aws.cur_generated",
    );
    let period = tree
        .join(crate::aws::generated::REPORT)
        .join("20240101-20240201");
    let part = period
        .join("gen-1")
        .join(format!("{}-00001.csv.gz", crate::aws::generated::REPORT));
    let good = read_gz(&part);
    for (i, (bad, why)) in [
        ("NaN", "is NaN or infinite, not an amount"),
        ("-Infinity", "is NaN or infinite, not an amount"),
        ("12,50", "is not a number"),
        (
            "1e25",
            "does not fit DECIMAL(38, 18): finops keeps at most 20 digits before the decimal point",
        ),
    ]
    .iter()
    .enumerate()
    {
        // A re-issue of the month whose first line has the bad cost.
        write_gz(&part, &good.replacen(",2.304,", &format!(",\"{bad}\","), 1));
        let manifest = period.join(format!("{}-Manifest.json", crate::aws::generated::REPORT));
        let mut m: Value =
            serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        m["assemblyId"] = json!(format!("bad-{i}"));
        std::fs::write(&manifest, m.to_string()).unwrap();
        let run = sb.finops(&[
            "aws",
            "import-cur",
            "--path",
            &tree.display().to_string(),
            "--report",
            crate::aws::generated::REPORT,
        ]);
        assert_eq!(run.code, 1, "{bad}: {run:?}");
        for part in [
            format!("value `{bad}` in column lineItem/UnblendedCost of "),
            format!("{}-00001.csv.gz", crate::aws::generated::REPORT),
            (*why).to_owned(),
            "finops::data::bad_number".to_owned(),
        ] {
            assert!(run.stderr.contains(&part), "{bad}: `{part}` in {run:?}");
        }
        let after = sb.query(
            &venv,
            "SELECT count(*) AS n, CAST(sum(line_item_unblended_cost) AS VARCHAR) AS c FROM aws.cur_generated",
        );
        assert_eq!(after, before, "{bad}: the loaded month is kept");
    }
}
