//! The Oracle Cloud vendor (issue #20): a tenancy's reports bucket from a local copy and from
//! moto (Object Storage's S3-compatible API: a bucket named like a tenancy OCID, keys with
//! spaces) — the real cost report of the FinOps Foundation's converter tests, FOCUS reports made
//! by `tests/gen/ocigen.py` — counted and summed against the source, a new daily file that
//! rebuilds only its month, cost report files that span months; and from the native API signed
//! with an API key, against a local Object Storage that verifies every signature
//! (`oci_objectstorage.py`). The conformance suite runs the
//! scenario every vendor runs (`conformance.rs`).

use std::io::{Read as _, Write as _};
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{
    Moto, Sandbox, copy_tree, files_under, load_sums as sums, python, repo_root, scaled,
};
use crate::require_venv;

/// The bundled real cost report (`examples/oracle/README.md`).
const SAMPLE_ROWS: u64 = 506;
/// A tenancy OCID short enough for moto (S3 bucket names stop at 63 characters; real OCIDs are
/// longer, and Object Storage takes them).
const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaafinopstestbucket";

fn one(sb: &Sandbox, venv: &Path, sql: &str) -> Value {
    sb.query(venv, sql)
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
}

/// The exact sum of `cost/myCost` in the cost report CSV files, by Python's `Decimal`.
fn decimal_sum(venv: &Path, files: &[&Path]) -> String {
    let script = r"
import csv, gzip, sys
from decimal import Decimal
total = Decimal(0)
for p in sys.argv[1:]:
    with (gzip.open(p, 'rt') if p.endswith('.gz') else open(p)) as f:
        for r in csv.DictReader(f):
            if r['cost/myCost']:
                total += Decimal(r['cost/myCost'])
print(total)
";
    let mut args: Vec<std::ffi::OsString> = vec!["-c".into(), script.into()];
    args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
    python(venv, "summing the cost report", &args)
        .trim()
        .to_owned()
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn gzip(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    w.write_all(text.as_bytes()).unwrap();
    w.finish().unwrap();
}

/// The FOCUS reports' months in `got` ([`sums`]) have the rows and exact cost of the
/// generator's totals `t0`.
fn assert_months(got: &[Value], t0: &Value) {
    for month in ["2024-01", "2024-02"] {
        let row = got
            .iter()
            .find(|r| r["x"] == json!("oracle/focus-reports") && r["p"] == json!(month))
            .unwrap_or_else(|| panic!("no {month} in {got:?}"));
        let want = &t0["periods"][month];
        assert_eq!(row["n"], want["rows"], "{month}");
        assert_eq!(
            scaled(row["billed"].as_str().unwrap()),
            scaled(want["cost_stored"].as_str().unwrap()),
            "{month}"
        );
    }
}

#[test]
fn the_real_cost_report_and_focus_reports_load_exactly() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let path = repo_root().join("examples/oracle").display().to_string();
    let run = sb.finops(&["oracle", "import", "--path", &path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.matches("loaded 1, failed 0").count(),
        2,
        "{run:?}"
    );
    let report = repo_root()
        .join("examples/oracle/reports/cost-csv/reports_cost-csv_0000000030000269.csv.gz");
    let want = decimal_sum(&venv, &[&report]);
    let raw = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(cost_my_cost) AS VARCHAR) AS c, \
         typeof(any_value(line_item_interval_usage_start)) AS t, \
         CAST(min(line_item_interval_usage_start) AS VARCHAR) AS first \
         FROM oracle.cost_reports",
    );
    assert_eq!(raw["n"], json!(SAMPLE_ROWS), "{raw}");
    assert_eq!(scaled(raw["c"].as_str().unwrap()), scaled(&want), "{raw}");
    assert_eq!(raw["t"], json!("TIMESTAMP"), "{raw}");
    assert_eq!(
        raw["first"],
        json!("2023-11-13 05:00:00"),
        "a start without seconds: {raw}"
    );
    let f = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS b, \
         count(*) FILTER (WHERE Tags IS NOT NULL AND json_valid(Tags)) AS tagged, \
         count(DISTINCT ServiceName) AS services, any_value(ProviderName) AS provider, \
         count(*) FILTER (WHERE SubAccountType = 'Compartment') AS compartments \
         FROM focus.cost_and_usage WHERE x_source = 'oracle/cost-reports'",
    );
    assert_eq!(f["n"], json!(SAMPLE_ROWS), "{f}");
    assert_eq!(scaled(f["b"].as_str().unwrap()), scaled(&want), "{f}");
    assert_eq!(f["provider"], json!("Oracle"));
    assert!(f["tagged"].as_u64().unwrap() > 0, "{f}");
    assert_eq!(f["compartments"], json!(SAMPLE_ROWS), "{f}");
    // The FOCUS reports: 1.0-preview names and Oracle's gaps filled.
    let f = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, list_distinct(list(ProviderName)) AS providers, \
         list_distinct(list(ChargeFrequency)) AS frequencies, \
         count(*) FILTER (WHERE RegionId = 'us-ashburn-1') AS region, \
         count(*) FILTER (WHERE ConsumedQuantity IS NOT NULL) AS consumed, \
         count(*) FILTER (WHERE x_oci_ReferenceNumber IS NOT NULL) AS refs, \
         count(*) FILTER (WHERE InvoiceIssuerName = 'Oracle') AS issuer \
         FROM focus.cost_and_usage WHERE x_source = 'oracle/focus-reports'",
    );
    assert_eq!(f["n"], json!(12), "{f}");
    assert_eq!(f["providers"], json!(["Oracle"]), "{f}");
    assert_eq!(
        f["frequencies"],
        json!(["Usage-Based"]),
        "`Usage-based` spelled as FOCUS: {f}"
    );
    for k in ["region", "refs", "issuer"] {
        assert_eq!(f[k], json!(12), "{k}: {f}");
    }
    assert!(f["consumed"].as_u64().unwrap() > 0, "{f}");
    let check = sb.finops(&["focus", "validate"]);
    assert_eq!(check.code, 0, "{check:?}");
    let again = sb.finops(&["oracle", "import", "--path", &path]);
    assert_eq!(
        again.stdout.matches("loaded 0, failed 0").count(),
        2,
        "{again:?}"
    );
}

#[test]
fn cost_report_files_belong_to_the_months_of_their_rows() {
    let venv = require_venv!();
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("oci");
    let sample = gunzip(
        &repo_root()
            .join("examples/oracle/reports/cost-csv/reports_cost-csv_0000000030000269.csv.gz"),
    );
    let mut lines = sample.lines();
    let header = lines.next().unwrap().to_owned();
    let rows: Vec<&str> = lines.collect();
    let dir = tree.join("reports/cost-csv");
    // November in two files; a third file holds a late November row and two of December.
    let part = |rows: &[&str]| format!("{header}\n{}\n", rows.join("\n"));
    gzip(
        &dir.join("reports_cost-csv_0000000000000001.csv.gz"),
        &part(&rows[..300]),
    );
    gzip(
        &dir.join("reports_cost-csv_0000000000000002.csv.gz"),
        &part(&rows[300..500]),
    );
    let december: Vec<String> = rows[500..502]
        .iter()
        .map(|r| r.replace("2023-11-13T", "2023-12-02T"))
        .collect();
    let mut third: Vec<&str> = vec![rows[502]];
    third.extend(december.iter().map(String::as_str));
    gzip(
        &dir.join("reports_cost-csv_0000000000000003.csv.gz"),
        &part(&third),
    );
    let sb = Sandbox::new();
    let path = tree.display().to_string();
    let run = sb.finops(&["oracle", "import", "--path", &path, "--export", "cost"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 period(s), loaded 2"), "{run:?}");
    let got = sums(&sb, &venv);
    assert_eq!(got[0]["p"], json!("2023-11"));
    assert_eq!(got[0]["n"], json!(501));
    assert_eq!(got[1]["p"], json!("2023-12"));
    assert_eq!(got[1]["n"], json!(2));
    let files: Vec<std::path::PathBuf> = files_under(&dir).into_iter().map(|(_, p)| p).collect();
    let refs: Vec<&Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    assert_eq!(
        crate::harness::billed_total(&got),
        scaled(&decimal_sum(&venv, &refs))
    );

    // A new file with a correction of November: November alone is rebuilt, with it.
    let correction = rows[0]
        .replacen(",false,false,", ",false,true,", 1)
        .replacen(
            "7108a1f83bdbad70487bf0cf99cbe260",
            "c0ffee00000000000000000000000001",
            1,
        );
    gzip(
        &dir.join("reports_cost-csv_0000000000000004.csv.gz"),
        &part(&[&correction]),
    );
    let run = sb.finops(&["oracle", "import", "--path", &path, "--export", "cost"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 period(s), loaded 1"), "{run:?}");
    let after = sums(&sb, &venv);
    assert_eq!(after[1], got[1], "December is untouched");
    assert_eq!(after[0]["n"], json!(502));
    let corrections = one(
        &sb,
        &venv,
        "SELECT count(*) AS n FROM focus.cost_and_usage WHERE ChargeClass = 'Correction'",
    );
    assert_eq!(corrections["n"], json!(1));
}

#[test]
fn reports_are_read_from_object_storage_through_its_s3_api() {
    let venv = require_venv!();
    let work = tempfile::tempdir().unwrap();
    let generate = |out: &Path, extra: &[&str]| {
        let args = [&["--rows", "40", "--days", "3", "--dirty"][..], extra].concat();
        crate::harness::generate(&venv, "ocigen.py", out, "focus-reports", &args)
    };
    let t0 = generate(&work.path().join("r0"), &[]);
    let tree = work.path().join("r0/tree");
    copy_tree(
        &repo_root().join("examples/oracle/reports"),
        &tree.join("reports"),
    );
    let moto = Moto::start(&venv);
    moto.upload_tree(TENANCY, &tree, "");
    let env = [
        ("FINOPS_ORACLE_ACCESS_KEY_ID", "test"),
        ("FINOPS_ORACLE_SECRET_ACCESS_KEY", "s3cr3t-never-printed"),
        ("FINOPS_ORACLE_ENDPOINT", moto.endpoint.as_str()),
    ];
    let args = [
        "oracle",
        "import",
        "--tenancy",
        TENANCY,
        "--region",
        "us-east-1",
    ];
    let sb = Sandbox::new();
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 0, "{run:?}");
    let got = sums(&sb, &venv);
    assert_months(&got, &t0);
    assert!(
        got.iter().any(|r| r["x"] == json!("oracle/cost-reports")),
        "{got:?}"
    );
    let again = sb.finops_with(&args, &env);
    assert_eq!(
        again.stdout.matches("loaded 0, failed 0").count(),
        2,
        "{again:?}"
    );

    // A late daily file for February: February is rebuilt, January is not.
    generate(&work.path().join("r1"), &["--revision", "1"]);
    let r1 = work.path().join("r1/tree");
    let late: Vec<(String, std::path::PathBuf)> = files_under(&r1)
        .into_iter()
        .filter(|(rel, _)| rel.contains("FOCUS Reports/2024/02/04/"))
        .collect();
    assert_eq!(late.len(), 1, "{late:?}");
    let dir = work.path().join("late");
    std::fs::create_dir_all(dir.join("FOCUS Reports/2024/02/04")).unwrap();
    std::fs::copy(&late[0].1, dir.join(&late[0].0)).unwrap();
    moto.upload_tree(TENANCY, &dir, "");
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("oracle/focus-reports into oracle.focus_reports: 2 period(s), loaded 1"),
        "{run:?}"
    );
    let after = sums(&sb, &venv);
    let focus = |s: &[Value], month: &str| {
        s.iter()
            .find(|r| r["x"] == json!("oracle/focus-reports") && r["p"] == json!(month))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        focus(&after, "2024-01"),
        focus(&got, "2024-01"),
        "January is untouched"
    );
    assert_eq!(
        focus(&after, "2024-02")["n"].as_u64().unwrap(),
        focus(&got, "2024-02")["n"].as_u64().unwrap() + 2
    );

    // Another region (Oracle answers 404 outside the home region) or tenancy: a clear error,
    // nothing changed, no secret printed.
    let run = sb.finops_with(
        &[
            "oracle",
            "import",
            "--tenancy",
            "ocid1.tenancy.oc1..nope",
            "--region",
            "us-east-1",
        ],
        &env,
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("home region"), "{run:?}");
    assert!(
        !run.stderr.contains("s3cr3t") && !run.stdout.contains("s3cr3t"),
        "{run:?}"
    );
    let run = sb.finops_with(&args, &[env[0], env[2]]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("customer secret key"), "{run:?}");
    assert_eq!(sums(&sb, &venv), after);
}

/// An OCI configuration file with the test key's profiles: `DEFAULT` (PKCS#1 key), `ENCRYPTED`
/// (the same key encrypted, with its `pass_phrase`), `WRONGFP` (a fingerprint of another key),
/// `WRONGPASS`, and `STRANGER` (a user the server does not know).
fn oci_config(dir: &Path, fingerprint: &str) -> std::path::PathBuf {
    let golden = crate::harness::oci_golden();
    let key = |f: &str| golden.join(f).display().to_string();
    let text = format!(
        "[DEFAULT]\nuser=ocid1.user.oc1..aaaaaaaafinopstestuser\nfingerprint={fingerprint}\nkey_file={}\ntenancy={TENANCY}\nregion=us-ashburn-1\n\n\
         [ENCRYPTED]\nkey_file={}\npass_phrase=finops-test\n\n\
         [WRONGFP]\nfingerprint=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\n\n\
         [WRONGPASS]\nkey_file={}\npass_phrase=not-the-passphrase\n\n\
         [STRANGER]\nuser=ocid1.user.oc1..aaaaaaaastranger\n",
        key("test_key.pem"),
        key("test_key_encrypted.pem"),
        key("test_key_encrypted.pem"),
    );
    let path = dir.join("config");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn reports_are_read_from_object_storage_with_an_api_key() {
    let venv = require_venv!();
    let work = tempfile::tempdir().unwrap();
    let t0 = crate::harness::generate(
        &venv,
        "ocigen.py",
        &work.path().join("r0"),
        "focus-reports",
        &["--rows", "40", "--days", "3", "--dirty"],
    );
    let tree = work.path().join("r0/tree");
    copy_tree(
        &repo_root().join("examples/oracle/reports"),
        &tree.join("reports"),
    );
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::harness::oci_golden().join("signatures.json")).unwrap(),
    )
    .unwrap();
    let fingerprint = golden["fingerprint"].as_str().unwrap();
    let key_id = format!("{TENANCY}/ocid1.user.oc1..aaaaaaaafinopstestuser/{fingerprint}");
    let server = crate::harness::OciServer::start(&venv, TENANCY, &tree, &key_id, &[]);
    let config = oci_config(work.path(), fingerprint);
    let config_arg = config.display().to_string();

    // Oracle's own SDK is accepted by the test server: listing (paged) and reading.
    let script = r#"
import sys, oci
cfg = oci.config.from_file(sys.argv[1], "DEFAULT")
c = oci.object_storage.ObjectStorageClient(cfg, service_endpoint=sys.argv[2])
page = c.list_objects("bling", sys.argv[3], prefix="FOCUS Reports/", fields="name,size")
first = page.data.objects[0].name
body = c.get_object("bling", sys.argv[3], first).data.content
print(len(page.data.objects), bool(page.data.next_start_with), len(body) > 0)
"#;
    let sdk = python(
        &venv,
        "listing the test server with Oracle's SDK",
        &["-c", script, &config_arg, &server.endpoint, TENANCY],
    );
    assert_eq!(sdk.trim(), "2 True True", "{sdk}");

    let env = [("FINOPS_ORACLE_ENDPOINT", server.endpoint.as_str())];
    let sb = Sandbox::new();
    // Tenancy and region come from the profile.
    let args = ["oracle", "import", "--oci-config", &config_arg];
    let before = server.requests().len();
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 0, "{run:?}");
    let got = sums(&sb, &venv);
    assert_months(&got, &t0);
    let cost = got
        .iter()
        .find(|r| r["x"] == json!("oracle/cost-reports"))
        .unwrap();
    assert_eq!(cost["n"], json!(SAMPLE_ROWS), "{got:?}");
    let requests: Vec<_> = server.requests().into_iter().skip(before).collect();
    assert!(requests.iter().all(|r| r.2 == 200), "{requests:?}");
    let listings = requests.iter().filter(|r| r.1.contains("/o?")).count();
    let files = files_under(&tree).len();
    assert_eq!(listings, files.div_ceil(2), "pages of two: {requests:?}");
    assert!(
        requests.iter().any(|r| r.1.contains("&start=")),
        "{requests:?}"
    );

    // The same key encrypted, read with the profile's pass_phrase: nothing new to load.
    let run = sb.finops_with(&[&args[..], &["--profile", "ENCRYPTED"]].concat(), &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.matches("loaded 0, failed 0").count(),
        2,
        "{run:?}"
    );

    // Bad credentials and places: each a clear error, nothing loaded changes, no secret shown.
    let fail = |extra: &[&str], env: &[(&str, &str)], code: i32, says: &str| {
        let run = sb.finops_with(&[&args[..], extra].concat(), env);
        assert_eq!(run.code, code, "{extra:?}: {run:?}");
        assert!(run.stderr.contains(says), "{extra:?}: {run:?}");
        assert!(
            !run.stderr.contains("finops-test") && !run.stdout.contains("finops-test"),
            "the passphrase is never printed: {run:?}"
        );
    };
    fail(
        &["--profile", "WRONGFP"],
        &env,
        2,
        "does not match the fingerprint",
    );
    fail(&["--profile", "WRONGPASS"], &env, 2, "pass_phrase");
    fail(&["--profile", "NOPE"], &env, 2, "no profile [NOPE]");
    fail(
        &["--profile", "STRANGER"],
        &env,
        1,
        "the API key was refused",
    );
    fail(
        &["--tenancy", "ocid1.tenancy.oc1..nope"],
        &env,
        1,
        "home region",
    );
    let skewed =
        crate::harness::OciServer::start(&venv, TENANCY, &tree, &key_id, &["--skew", "900"]);
    fail(
        &[],
        &[("FINOPS_ORACLE_ENDPOINT", skewed.endpoint.as_str())],
        1,
        "s behind Object Storage's: OCI refuses a signature dated more than 5 minutes off",
    );
    assert_eq!(sums(&sb, &venv), got);
}

#[test]
fn reports_are_read_from_object_storage_as_an_instance_principal() {
    let venv = require_venv!();
    let work = tempfile::tempdir().unwrap();
    let t0 = crate::harness::generate(
        &venv,
        "ocigen.py",
        &work.path().join("r0"),
        "focus-reports",
        &["--rows", "30", "--days", "2"],
    );
    let tree = work.path().join("r0/tree");
    let server = crate::harness::OciServer::start(&venv, TENANCY, &tree, "-", &["--instance"]);
    let metadata = format!("{}/opc/v2", server.endpoint);
    let federation = format!("{}/v1/x509", server.endpoint);

    // Oracle's own SDK gets a token from the test server and lists with it.
    let script = r#"
import os, sys, oci
signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner(federation_endpoint=sys.argv[2])
c = oci.object_storage.ObjectStorageClient({"region": signer.region}, signer=signer, service_endpoint=sys.argv[1])
page = c.list_objects("bling", sys.argv[3], prefix="FOCUS Reports/")
print(signer.region, signer.tenancy_id == sys.argv[3], len(page.data.objects))
"#;
    let mut cmd = std::process::Command::new(venv.join("bin/python"));
    let out = cmd
        .args(["-c", script, &server.endpoint, &federation, TENANCY])
        .env("OCI_METADATA_BASE_URL", &metadata)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "us-ashburn-1 True 2",
        "{out:?}"
    );

    let env = [
        ("OCI_METADATA_BASE_URL", metadata.as_str()),
        ("FINOPS_ORACLE_FEDERATION_ENDPOINT", federation.as_str()),
        ("FINOPS_ORACLE_ENDPOINT", server.endpoint.as_str()),
    ];
    let sb = Sandbox::new();
    // Tenancy and region come from the instance.
    let args = ["oracle", "import", "--auth", "instance_principal"];
    let before = server.requests().len();
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 0, "{run:?}");
    let got = sums(&sb, &venv);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_months(&got, &t0);
    let requests: Vec<_> = server.requests().into_iter().skip(before).collect();
    assert!(requests.iter().all(|r| r.2 == 200), "{requests:?}");
    assert_eq!(
        requests.iter().filter(|r| r.0 == "POST").count(),
        1,
        "one token for the whole run: {requests:?}"
    );

    // Not on an instance: a clear error naming what to use instead.
    let run = sb.finops_with(
        &args,
        &[("OCI_METADATA_BASE_URL", "http://127.0.0.1:9/opc/v2")],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("instance principals work on an OCI compute instance only"),
        "{run:?}"
    );
    let run = sb.finops_with(&["oracle", "import", "--auth", "password"], &env);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("oracle.auth `password` is none of"),
        "{run:?}"
    );
    assert_eq!(sums(&sb, &venv), got);
}
