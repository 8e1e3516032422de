//! The Azure vendor (issue #9): Cost Management exports from a local copy and from azurite (a
//! real Blob service emulator) — the real EA sample, and `FocusCost`, EA actual + amortized and
//! MCA exports made by `tests/gen/azuregen.py` — counted and summed against the source, paired
//! (actual with amortized), re-issued, refused when bad, and side by side with AWS in FOCUS.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::harness::VALIDATOR_BUGS;
use crate::harness::{Azurite, Sandbox, azurite_bin, focus_validator, repo_root};
use crate::{require_fv, require_venv};

/// The bundled EA sample: 27 rows of September 2023, CAD, summed by Python's `Decimal` from
/// the CSV (see `examples/azure/README.md`).
const SAMPLE_ROWS: u64 = 27;
const SAMPLE_COST: &str = "1.26136926505726";

/// Runs the Azure generator with the tests' root folder; returns its totals.
fn generate(venv: &Path, out: &Path, export: &str, args: &[&str]) -> Value {
    let args = [&["--root", "exports"][..], args].concat();
    crate::harness::generate(venv, "azuregen.py", out, export, &args)
}

fn one(sb: &Sandbox, venv: &Path, sql: &str) -> Value {
    sb.query(venv, sql)
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
}

#[test]
fn sample_export_from_a_local_copy_sits_beside_aws() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let path = repo_root().join("examples/azure").display().to_string();
    let run = sb.finops(&["azure", "import-exports", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(SAMPLE_COST), "{run:?}");
    assert!(
        run.stdout
            .contains("azure/finops-sample-actual into azure.actual_finops_sample_actual: 1 period(s), loaded 1"),
        "{run:?}"
    );
    // Raw rows typed: US dates, scientific notation, exact decimals.
    let raw = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(cost_in_billing_currency) AS VARCHAR) AS cost, \
         CAST(min(date) AS VARCHAR) AS d, CAST(max(billing_period_end_date) AS VARCHAR) AS e, \
         typeof(any_value(cost_in_billing_currency)) AS t \
         FROM azure.actual_finops_sample_actual",
    );
    assert_eq!(raw["n"], json!(SAMPLE_ROWS));
    assert_eq!(raw["cost"], json!("1.261369265057260000"));
    assert_eq!(raw["d"], json!("2023-09-02 00:00:00"));
    assert_eq!(raw["e"], json!("2023-09-30 00:00:00"));
    assert_eq!(raw["t"], json!("DECIMAL(38,18)"));
    // FOCUS: every row, billed = the source's total, periods end exclusive, tags wrapped.
    let f = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS billed, \
         CAST(sum(EffectiveCost) AS VARCHAR) AS effective, any_value(BillingCurrency) AS cur, \
         CAST(max(BillingPeriodEnd) AS VARCHAR) AS bpe, CAST(max(ChargePeriodEnd) AS VARCHAR) AS cpe, \
         count(*) FILTER (WHERE Tags IS NOT NULL AND json_valid(Tags) AND starts_with(Tags, '{')) AS tagged, \
         count(*) FILTER (WHERE RegionId = 'centralus') AS central, \
         count(DISTINCT ProviderName) AS providers, any_value(ProviderName) AS provider \
         FROM focus.cost_and_usage WHERE x_source = 'azure/finops-sample-actual'",
    );
    assert_eq!(f["n"], json!(SAMPLE_ROWS), "{f}");
    assert_eq!(scaled(f["billed"].as_str().unwrap()), scaled(SAMPLE_COST));
    assert_eq!(
        scaled(f["effective"].as_str().unwrap()),
        scaled(SAMPLE_COST)
    );
    assert_eq!(f["cur"], json!("CAD"));
    assert_eq!(f["bpe"], json!("2023-10-01 00:00:00"));
    assert_eq!(f["cpe"], json!("2023-09-03 00:00:00"));
    assert_eq!(
        f["tagged"],
        json!(SAMPLE_ROWS),
        "every sample row has tags: {f}"
    );
    assert!(f["central"].as_u64().unwrap() > 0, "{f}");
    assert_eq!(f["provider"], json!("Microsoft"));
    // A re-run changes nothing.
    let again = sb.finops(&["azure", "import-exports", "--path", &path]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("loaded 0, failed 0"), "{again:?}");
    let list = sb.finops(&["azure", "list-exports", "--path", &path, "--format", "json"]);
    assert_eq!(list.code, 0, "{list:?}");
    let rows = list.json();
    assert_eq!(rows[0]["dataset"], json!("actual"));
    assert_eq!(rows[0]["loaded"], json!("yes"));

    // AWS and Azure side by side in one FOCUS table, queried together.
    sb.import_path(&repo_root().join("examples/aws-cur"), "finops-sample");
    let both = sb.query(
        &venv,
        "SELECT ProviderName AS p, BillingCurrency AS c, count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS billed \
         FROM focus.cost_and_usage GROUP BY ALL ORDER BY p",
    );
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(
        both[0]["p"]
            .as_str()
            .unwrap()
            .starts_with("Amazon Web Services"),
        "{both:?}"
    );
    assert_eq!(both[0]["c"], json!("USD"));
    // The AWS sample's unblended cost: 0.64122057430 + 1.0410881231.
    assert_eq!(
        scaled(both[0]["billed"].as_str().unwrap()),
        scaled("1.6823086974")
    );
    assert_eq!(both[1]["p"], json!("Microsoft"));
    assert_eq!(
        scaled(both[1]["billed"].as_str().unwrap()),
        scaled(SAMPLE_COST)
    );
    let state = sb.finops(&["azure", "show-state", "--format", "json"]);
    assert_eq!(state.code, 0, "{state:?}");
    assert_eq!(
        state.json()["state"][0]["export"],
        json!("finops-sample-actual")
    );
}

/// The four generated exports of the Blob test: (name, generator arguments).
const EXPORTS: [(&str, &[&str]); 4] = [
    (
        "focus-daily",
        &["--dataset", "focus", "--format", "csv.gz", "--parts", "2"],
    ),
    (
        "ea-actual",
        &[
            "--dataset",
            "actual",
            "--flavor",
            "ea",
            "--scope",
            "/providers/Microsoft.Billing/billingAccounts/12345678",
        ],
    ),
    (
        "ea-amortized",
        &[
            "--dataset",
            "amortized",
            "--flavor",
            "ea",
            "--scope",
            "/providers/Microsoft.Billing/billingAccounts/12345678",
        ],
    ),
    (
        "mca-actual",
        &[
            "--dataset",
            "actual",
            "--flavor",
            "mca",
            "--format",
            "parquet",
            "--months",
            "1",
            "--parts",
            "1",
        ],
    ),
];

#[test]
fn exports_from_blob_storage_load_pair_and_reissue() {
    let venv = require_venv!();
    let Some(bin) = azurite_bin() else { return };
    let fv = require_fv!();
    let azurite = Azurite::start(&bin);
    let work = tempfile::tempdir().unwrap();
    let totals: Vec<Value> = EXPORTS
        .iter()
        .map(|(name, args)| generate(&venv, work.path(), name, args))
        .collect();
    azurite.upload_tree(&venv, "billing", &work.path().join("tree"), "");
    let sb = Sandbox::new();
    let conn = azurite.connection_string();
    let env = [("FINOPS_AZURE_CONNECTION_STRING", conn.as_str())];
    let loc = ["--container", "billing", "--prefix", "exports"];
    let cmd = |verb: &str, extra: &[&str]| -> Vec<String> {
        let mut v = vec!["azure".to_owned(), verb.to_owned()];
        v.extend(loc.iter().map(|s| (*s).to_owned()));
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };
    let run_cmd = |args: Vec<String>| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        sb.finops_with(&a, &env)
    };

    // Listing: four exports, their datasets and months; the actual export is paired.
    let list = run_cmd(cmd("list-exports", &["--format", "json"]));
    assert_eq!(list.code, 0, "{list:?}");
    let rows = list.json();
    let listed: BTreeSet<(String, String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["export"].as_str().unwrap().to_owned(),
                r["dataset"].as_str().unwrap().to_owned(),
                r["period"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 7, "{rows}");
    assert!(listed.contains(&("mca-actual".into(), "actual".into(), "2024-01".into())));
    assert!(listed.contains(&("focus-daily".into(), "focus".into(), "2024-02".into())));
    let ea_actual = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["export"] == json!("ea-actual"))
        .unwrap();
    assert!(
        ea_actual["version"]
            .as_str()
            .unwrap()
            .ends_with("/purchases"),
        "{ea_actual}"
    );

    // One run imports everything; raw rows and cost equal the generator's, per month.
    let run = run_cmd(cmd("import-exports", &[]));
    assert_eq!(run.code, 0, "{run:?}");
    for ((name, _), t) in EXPORTS.iter().zip(&totals) {
        let dataset = t["dataset"].as_str().unwrap();
        let table = format!("azure.{dataset}_{}", name.replace('-', "_"));
        let cost_col = if dataset == "focus" {
            "\"BilledCost\""
        } else {
            "cost_in_billing_currency"
        };
        for (period, p) in t["periods"].as_object().unwrap() {
            let got = one(
                &sb,
                &venv,
                &format!(
                    "SELECT count(*) AS n, CAST(sum({cost_col}) AS VARCHAR) AS cost FROM {table} \
                     WHERE strftime(billing_period, '%Y-%m') = '{period}'"
                ),
            );
            assert_eq!(got["n"], p["rows"], "{name} {period}");
            assert_eq!(
                scaled(got["cost"].as_str().unwrap()),
                scaled(p["cost"].as_str().unwrap()),
                "{name} {period}"
            );
            let f = one(
                &sb,
                &venv,
                &format!(
                    "SELECT count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS billed, CAST(sum(EffectiveCost) AS VARCHAR) AS eff \
                     FROM focus.cost_and_usage WHERE x_source = 'azure/{name}' AND strftime(x_billing_period, '%Y-%m') = '{period}'"
                ),
            );
            let (want_rows, want_billed, want_eff) = if *name == "ea-actual" {
                // Paired: only the reservation purchase, billed, not effective.
                (
                    json!(1),
                    scaled(p["billed"].as_str().unwrap()) - ondemand(&totals[2], period),
                    0,
                )
            } else {
                (
                    p["focus_rows"].clone(),
                    scaled(p["billed"].as_str().unwrap()),
                    scaled(p["effective"].as_str().unwrap()),
                )
            };
            assert_eq!(f["n"], want_rows, "{name} {period} FOCUS rows");
            assert_eq!(
                scaled(f["billed"].as_str().unwrap()),
                want_billed,
                "{name} {period} billed"
            );
            assert_eq!(
                scaled(f["eff"].as_str().unwrap()),
                want_eff,
                "{name} {period} effective"
            );
        }
    }
    // The EA pair: billed (on-demand + the purchase) equals effective (on-demand + covered
    // usage + unused), month by month, as the purchase is spread over exactly that.
    let pair = sb.query(
        &venv,
        "SELECT x_billing_period AS p, CAST(sum(BilledCost) AS VARCHAR) AS b, CAST(sum(EffectiveCost) AS VARCHAR) AS e, \
         count(*) FILTER (WHERE CommitmentDiscountStatus = 'Unused') AS unused, \
         count(*) FILTER (WHERE CommitmentDiscountType = 'Reservation' AND ChargeCategory = 'Purchase') AS purchases \
         FROM focus.cost_and_usage WHERE x_source IN ('azure/ea-actual', 'azure/ea-amortized') GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(pair.len(), 2, "{pair:?}");
    for p in &pair {
        assert_eq!(p["b"], p["e"], "{p}");
        assert_eq!(p["unused"], json!(1), "{p}");
        assert_eq!(p["purchases"], json!(1), "{p}");
    }
    // MCA: the billing profile is the billing account, EUR billed, USD priced.
    let mca = one(
        &sb,
        &venv,
        "SELECT any_value(BillingAccountId) AS a, any_value(BillingAccountType) AS t, any_value(BillingCurrency) AS c, \
         any_value(PricingCurrency) AS pc, count(DISTINCT InvoiceId) AS inv FROM focus.cost_and_usage WHERE x_source = 'azure/mca-actual'",
    );
    assert_eq!(mca["a"], json!("BP-1"));
    assert_eq!(mca["t"], json!("Billing Profile"));
    assert_eq!(mca["c"], json!("EUR"));
    assert_eq!(mca["pc"], json!("USD"));
    assert_eq!(mca["inv"], json!(1));

    // A second run: every month unchanged.
    let again = run_cmd(cmd("import-exports", &["--format", "json"]));
    assert_eq!(again.code, 0, "{again:?}");
    let loaded: u64 = again
        .json()
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["periods"].as_array().unwrap().clone())
        .filter(|p| p["outcome"]["status"] == json!("loaded"))
        .count() as u64;
    assert_eq!(loaded, 0, "{again:?}");

    // A later run of February for the FOCUS export replaces February only.
    let rerun = work.path().join("rerun");
    std::fs::create_dir_all(&rerun).unwrap();
    let t2 = generate(
        &venv,
        &rerun,
        "focus-daily",
        &[
            "--dataset",
            "focus",
            "--format",
            "csv.gz",
            "--parts",
            "2",
            "--start",
            "2024-02",
            "--months",
            "1",
            "--run",
            "2",
            "--rows",
            "150",
        ],
    );
    azurite.upload_tree(&venv, "billing", &rerun.join("tree"), "");
    let run = run_cmd(cmd(
        "import-exports",
        &["--export", "focus-daily", "--format", "json"],
    ));
    assert_eq!(run.code, 0, "{run:?}");
    let periods = run.json()["periods"].clone();
    let actions: Vec<(&str, &str)> = periods
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap(), p["action"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("2024-01", "unchanged"), ("2024-02", "reissued")]);
    let feb = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS b FROM focus.cost_and_usage \
         WHERE x_source = 'azure/focus-daily' AND x_billing_period = DATE '2024-02-01'",
    );
    assert_eq!(feb["n"], json!(150));
    assert_eq!(
        scaled(feb["b"].as_str().unwrap()),
        scaled(t2["periods"]["2024-02"]["billed"].as_str().unwrap())
    );

    // focus-validator on each kind's January: report what fails beyond its known bugs.
    let mut failures = Vec::new();
    for (name, _) in EXPORTS.iter().filter(|(n, _)| *n != "ea-actual") {
        let file = work.path().join(format!("{name}.parquet"));
        let out = Command::new(venv.join("bin/duckdb"))
            .arg("-readonly")
            .arg(sb.warehouse())
            .args(["-c", &format!(
                "COPY (SELECT * EXCLUDE (x_source, x_billing_period) FROM focus.cost_and_usage WHERE x_source = 'azure/{name}' AND x_billing_period = '2024-01-01') TO '{}' (FORMAT parquet)",
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
        let extra: BTreeSet<String> = v
            .failed
            .iter()
            .filter(|r| !VALIDATOR_BUGS.contains(&r.as_str()))
            .cloned()
            .collect();
        failures.push((name.to_string(), extra));
    }
    // Beyond its 9 known bugs, only the InvoiceId pair that contradicts itself when every row
    // has an InvoiceId (-C-004-C fails instead of -C-005-C; see exports.rs), for the exports
    // that carry invoice ids (FocusCost's x_InvoiceId, MCA's invoiceId).
    eprintln!("focus-validator failures beyond its known bugs: {failures:?}");
    for (name, extra) in &failures {
        let allowed: BTreeSet<String> = if *name == "ea-amortized" {
            BTreeSet::new()
        } else {
            ["InvoiceId-C-004-C".to_owned()].into()
        };
        assert_eq!(extra, &allowed, "{name}");
    }
    let ours = sb.finops(&["focus", "validate", "--format", "json"]);
    assert_eq!(ours.code, 0, "{ours:?}");
}

/// The on-demand (billed) part of an amortized export's month.
fn ondemand(amortized: &Value, period: &str) -> i128 {
    scaled(amortized["periods"][period]["billed"].as_str().unwrap())
}

/// A decimal string as an integer of 10^-18 units (exact comparison); FOCUS sums carry 20
/// decimals, of which the last two are zeros here.
fn scaled(s: &str) -> i128 {
    let t = if s.contains('.') && !s.contains(['e', 'E']) {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    };
    crate::harness::scaled(t)
}

#[test]
fn bad_blobs_and_names_are_refused_and_keep_what_was_loaded() {
    let venv = require_venv!();
    let Some(bin) = azurite_bin() else { return };
    let azurite = Azurite::start(&bin);
    let work = tempfile::tempdir().unwrap();
    // One month of EA actual cost, one csv.gz part.
    let daily = [
        "--dataset",
        "actual",
        "--format",
        "csv.gz",
        "--parts",
        "1",
        "--months",
        "1",
    ];
    generate(&venv, work.path(), "daily", &daily);
    azurite.upload_tree(&venv, "billing", &work.path().join("tree"), "");
    let sb = Sandbox::new();
    let conn = azurite.connection_string();
    let env = [("FINOPS_AZURE_CONNECTION_STRING", conn.as_str())];
    let base = [
        "azure",
        "import-exports",
        "--container",
        "billing",
        "--prefix",
        "exports",
    ];
    let run = sb.finops_with(&base, &env);
    assert_eq!(run.code, 0, "{run:?}");
    let before = one(&sb, &venv, "SELECT count(*) AS n FROM focus.cost_and_usage");

    // A newer run of January whose data part is cut off: January fails, the old rows stay.
    generate(
        &venv,
        work.path(),
        "daily",
        &[&daily[..], &["--run", "3"]].concat(),
    );
    let newest = crate::harness::files_under(&work.path().join("tree"))
        .into_iter()
        .filter(|(rel, _)| rel.contains("/00000003-") && rel.ends_with(".csv.gz"))
        .map(|(_, p)| p)
        .next()
        .unwrap();
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() / 2]).unwrap();
    // Keep the manifest's byteCount true, so that the gzip check is what refuses it.
    let manifest = newest.parent().unwrap().join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut m: Value = serde_json::from_str(&text).unwrap();
    m["blobs"][0]["byteCount"] = json!(bytes.len() / 2);
    std::fs::write(&manifest, m.to_string()).unwrap();
    azurite.upload_tree(&venv, "billing", &work.path().join("tree"), "");
    let run = sb.finops_with(&base, &env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("is not a complete gzip file"),
        "{run:?}"
    );
    assert_eq!(
        one(&sb, &venv, "SELECT count(*) AS n FROM focus.cost_and_usage"),
        before
    );

    // A manifest naming a blob outside the export: refused.
    m["blobs"][0]["blobName"] = json!("exports/../../secrets/part_0_0001.csv.gz");
    std::fs::write(&manifest, m.to_string()).unwrap();
    azurite.upload_tree(&venv, "billing", &work.path().join("tree"), "");
    let run = sb.finops_with(&base, &env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("outside the export location"),
        "{run:?}"
    );
    assert_eq!(
        one(&sb, &venv, "SELECT count(*) AS n FROM focus.cost_and_usage"),
        before
    );

    // An unknown export name lists the ones there are.
    let mut args = base.to_vec();
    args.extend(["--export", "nightly"]);
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no export named `nightly`"), "{run:?}");
    assert!(run.stderr.contains("exports found there: daily"), "{run:?}");

    // A prefix with nothing: the folders that exist.
    let run = sb.finops_with(
        &[
            "azure",
            "import-exports",
            "--container",
            "billing",
            "--prefix",
            "nothing-here",
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("no Cost Management export manifests"),
        "{run:?}"
    );

    // A wrong container, and a wrong key: clear errors, never the key.
    let run = sb.finops_with(
        &[
            "azure",
            "list-exports",
            "--container",
            "nope",
            "--prefix",
            "exports",
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "Blob Storage list on `azure://devstoreaccount1/nope/exports/` failed: ContainerNotFound: The specified container does not exist."
        ),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("the container does not exist: check --container"),
        "{run:?}"
    );
    // One line of message, not the response three times over.
    assert_eq!(
        run.stderr.matches("ContainerNotFound").count(),
        1,
        "{run:?}"
    );
    let bad = conn.replace(crate::harness::AZURITE_KEY, "d3JvbmcK");
    let run = sb.finops_with(
        &[
            "azure",
            "list-exports",
            "--container",
            "billing",
            "--prefix",
            "exports",
        ],
        &[("FINOPS_AZURE_CONNECTION_STRING", bad.as_str())],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("credentials were refused"), "{run:?}");
    assert!(!run.stderr.contains("d3JvbmcK") && !run.stdout.contains("d3JvbmcK"));

    // The other ways in: a SAS token, and an account key, each with account and endpoint.
    let sas = Azurite::container_sas(&venv, "billing");
    let sig = sas
        .split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .unwrap()
        .to_owned();
    let list = [
        "azure",
        "list-exports",
        "--container",
        "billing",
        "--prefix",
        "exports",
        "-vv",
    ];
    for (key, value) in [
        ("FINOPS_AZURE_SAS_TOKEN", sas.as_str()),
        ("FINOPS_AZURE_ACCOUNT_KEY", crate::harness::AZURITE_KEY),
    ] {
        let run = sb.finops_with(
            &list,
            &[
                ("FINOPS_AZURE_ACCOUNT", "devstoreaccount1"),
                ("FINOPS_AZURE_ENDPOINT", azurite.endpoint.as_str()),
                (key, value),
            ],
        );
        assert_eq!(run.code, 0, "{key}: {run:?}");
        assert!(run.stdout.contains("daily"), "{key}: {run:?}");
        for secret in [sig.as_str(), crate::harness::AZURITE_KEY] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{key}: a secret was printed"
            );
        }
    }
}
