//! Source plugins (issue #21): the example plugin `examples/plugins/focus-folder` found on
//! `PATH` and run as `finops focus-folder …` (import, re-run, a changed period, FOCUS
//! validation, a report beside AWS's), and a misbehaving one (`plugins/rogue.py`, a
//! `[[plugins]]` entry) in every way the protocol forbids: each a clear error naming the plugin
//! and the call, exit 1, nothing loaded changed, no secret shown, no other environment seen.
//! Every message exchanged is validated against the protocol's JSON Schemas (docs/plugins/).

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Sandbox, copy_tree, load_sums as sums, python, repo_root, scaled};
use crate::require_venv;

/// A sandbox holding a copy of the example plugin's data in `saas/`.
fn with_saas_data() -> (Sandbox, std::path::PathBuf) {
    let sb = Sandbox::new();
    let data = sb.dir.path().join("saas");
    copy_tree(&example().join("data"), &data);
    (sb, data)
}

/// The example plugin's folder (its executable is on `PATH` there).
fn example() -> std::path::PathBuf {
    repo_root().join("examples/plugins/focus-folder")
}

/// `PATH` with the example plugin's folder first.
fn path_with_plugin() -> String {
    format!("{}:/usr/bin:/bin", example().display())
}

/// Runs the example plugin `name` through describe, list and every fetch with `config`,
/// validating each message against the protocol's JSON Schemas; returns how many.
fn validate_messages(venv: &Path, name: &str, config: &Value) -> u32 {
    let exe = repo_root()
        .join("examples/plugins")
        .join(name)
        .join(format!("finops-plugin-{name}"));
    python(
        venv,
        "validating a plugin's messages",
        &[
            repo_root()
                .join("tests/e2e/plugins/validate.py")
                .display()
                .to_string(),
            repo_root().join("docs/plugins").display().to_string(),
            config.to_string(),
            exe.display().to_string(),
        ],
    )
    .trim()
    .parse()
    .unwrap()
}

/// The exact sum of `BilledCost` in the CSV files under `dir`, by Python's `Decimal`.
fn decimal_sum(venv: &Path, dir: &Path) -> String {
    let script = r"
import csv, glob, sys
from decimal import Decimal
print(sum((Decimal(r['BilledCost']) for p in sorted(glob.glob(sys.argv[1] + '/**/*.csv', recursive=True)) for r in csv.DictReader(open(p)) if r['BilledCost']), Decimal(0)))
";
    python(
        venv,
        "summing FOCUS files",
        &["-c", script, &dir.display().to_string()],
    )
    .trim()
    .to_owned()
}

#[test]
fn a_plugin_on_path_imports_like_a_vendor() {
    let venv = require_venv!();
    let (sb, data) = with_saas_data();
    let path = data.display().to_string();
    let env = [("PATH", path_with_plugin())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = sb.finops_with(&["plugins", "list"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("focus-folder  0.1.0    1"), "{run:?}");

    // A relative path means what it means to the user: the plugin runs in finops's directory.
    let args = ["focus-folder", "import", "--path", "saas"];
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("focus-folder/acme into focus_folder.acme: 2 period(s), loaded 2, failed 0"),
        "{run:?}"
    );
    let got = sums(&sb, &venv);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["x"], json!("focus-folder/acme"));
    assert_eq!(got[0]["n"], json!(30));
    let total = crate::harness::billed_total(&got);
    assert_eq!(total, scaled(&decimal_sum(&venv, &data)));
    let again = sb.finops_with(&args, &env);
    assert!(again.stdout.contains("loaded 0, failed 0"), "{again:?}");

    // December re-issued with one more row: December alone is replaced.
    let dec = data.join("acme/2023-12/acme-focus-2023-12.csv");
    let text = std::fs::read_to_string(&dec).unwrap();
    let last = text.lines().last().unwrap().to_owned();
    std::fs::write(&dec, format!("{text}{last}\n")).unwrap();
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("2 period(s), loaded 1, failed 0"),
        "{run:?}"
    );
    let after = sums(&sb, &venv);
    assert_eq!(after[0], got[0], "November is untouched");
    assert_eq!(after[1]["n"], json!(31));
    let total = crate::harness::billed_total(&after);
    assert_eq!(total, scaled(&decimal_sum(&venv, &data)));

    let check = sb.finops_with(&["focus", "validate"], &env);
    assert_eq!(check.code, 0, "{check:?}");
    // Beside AWS's costs in one report.
    sb.import_path(&repo_root().join("examples/aws-cur"), "finops-sample");
    let report = sb.finops_with(
        &["report", "costs", "--by", "provider", "--format", "json"],
        &env,
    );
    assert_eq!(report.code, 0, "{report:?}");
    let text = report.stdout;
    assert!(
        text.contains("Acme Observability") && text.contains("Amazon Web Services"),
        "{text}"
    );
    assert_eq!(
        validate_messages(&venv, "focus-folder", &json!({"path": path})),
        8
    );
    let run = sb.finops_with(&["plugins", "check", "focus-folder"], &env);
    assert_ne!(run.code, 0, "no path configured: {run:?}");
    assert!(
        run.stderr.contains("focus-folder.path is not set"),
        "{run:?}"
    );
    // Its section in finops.toml: checked with it; without it (cron's short PATH), every
    // command says why the section is unknown.
    std::fs::write(
        sb.dir.path().join("finops.toml"),
        "[focus-folder]\npath = \"saas\"\n",
    )
    .unwrap();
    let run = sb.finops_with(&["plugins", "check", "focus-folder"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("acme (focus): 2 period(s), 2023-11 to 2023-12"),
        "{run:?}"
    );
    let run = sb.finops(&["report", "costs"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("finops-plugin-focus-folder on PATH (cron's PATH is short)"),
        "{run:?}"
    );
}

/// The `[[plugins]]` entry of the rogue plugin, its section and a secret.
const SECRET: &str = "s3cr3t-plugin-token";

fn rogue_config(sb: &Sandbox, data: &Path, python: &str) {
    let script = repo_root().join("tests/e2e/plugins/rogue.py");
    std::fs::write(
        sb.dir.path().join("finops.toml"),
        format!(
            "[[plugins]]\nname = \"rogue\"\ncommand = [\"{python}\", \"{}\"]\nenv = [\"ROGUE_MODE\", \"ROGUE_LOG\"]\ntimeout = 3\n\n[rogue]\npath = \"{}\"\ntoken = \"{SECRET}\"\n",
            script.display(),
            data.display()
        ),
    )
    .unwrap();
}

#[test]
fn a_misbehaving_plugin_changes_nothing_and_says_what_it_did() {
    let venv = require_venv!();
    let (sb, data) = with_saas_data();
    rogue_config(&sb, &data, "python3");
    let log = sb.dir.path().join("messages.jsonl");
    let log_s = log.display().to_string();
    let run = sb.finops_with(
        &["rogue", "import"],
        &[("ROGUE_MODE", "ok"), ("ROGUE_LOG", &log_s)],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let loaded = sums(&sb, &venv);
    assert_eq!(loaded.len(), 2, "{loaded:?}");
    let shown = sb.finops(&["config", "show"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(
        shown.stdout.contains("rogue.token") && !shown.stdout.contains(SECRET),
        "{shown:?}"
    );

    let cases: &[(&str, &[&str], &str)] = &[
        (
            "crash",
            &[],
            "(list): it exited with exit status: 3 without a reply: Traceback",
        ),
        (
            "hang",
            &[],
            "(list): it did not answer within 3 s and was stopped",
        ),
        ("garbage", &[], "(list): its output is not one JSON reply"),
        (
            "protocol2",
            &[],
            "it speaks protocol version 2; this finops speaks 1",
        ),
        (
            "duplicate",
            &[],
            "(list): it lists period 2023-11 of export `acme` twice",
        ),
        (
            "filetwice",
            &[],
            "lists the file `acme-focus-2023-11.csv` twice",
        ),
        (
            "fetchtwice",
            &["--force"],
            "`acme-focus-2023-11.csv` is named twice in its reply",
        ),
        (
            "outside",
            &["--force"],
            "`../escape.csv` is not a path inside the staging folder",
        ),
        (
            "symlink",
            &["--force"],
            "is a symbolic link or not a regular file",
        ),
        ("badsha", &["--force"], "the reply says 0000"),
        (
            "notfocus",
            &["--force"],
            "its files are not FOCUS, as its `describe` says: no BilledCost",
        ),
        ("env", &[], "(list): sees PATH ROGUE_LOG ROGUE_MODE\n"),
        ("secret", &[], "(list): token *** refused"),
    ];
    for (mode, extra, says) in cases {
        let run = sb.finops_with(
            &[&["rogue", "import", "-v"][..], extra].concat(),
            &[("ROGUE_MODE", mode), ("ROGUE_LOG", &log_s)],
        );
        assert_eq!(run.code, 1, "{mode}: {run:?}");
        assert!(run.stderr.contains("plugin `rogue`"), "{mode}: {run:?}");
        assert!(
            run.stderr.contains(says),
            "{mode}: wanted {says:?} in {run:?}"
        );
        assert!(
            !run.stderr.contains(SECRET) && !run.stdout.contains(SECRET),
            "{mode}: the secret is never shown: {run:?}"
        );
        assert_eq!(sums(&sb, &venv), loaded, "{mode}: nothing loaded changed");
    }

    // Every message exchanged follows the protocol's JSON Schemas.
    let script = r#"
import json, sys, jsonschema
docs = sys.argv[2]
def schema(name):
    return json.load(open(f"{docs}/{name}.schema.json"))
n = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    jsonschema.validate(m["request"], schema(m["call"] + "-request"))
    reply = m["reply"]
    # The modes that break the protocol on purpose (the call they break; None: every call):
    # the schemas must refuse those replies.
    breaks = {"protocol2": None, "filetwice": "list", "fetchtwice": "fetch"}
    if m["mode"] in breaks and breaks[m["mode"]] in (None, m["call"]):
        try:
            jsonschema.validate(reply, schema(m["call"] + "-reply"))
        except jsonschema.ValidationError:
            continue
        raise SystemExit(f"{m['mode']} {m['call']}: the schema accepts a reply that breaks the protocol")
    if m["mode"] == "duplicate" and m["call"] == "list":
        continue  # two periods of one name: beyond what a JSON Schema says
    jsonschema.validate(reply, schema(m["call"] + "-reply"))
    n += 1
print(n)
"#;
    let docs = repo_root().join("docs/plugins").display().to_string();
    let n: u32 = python(
        &venv,
        "validating plugin messages",
        &["-c", script, &log_s, &docs],
    )
    .trim()
    .parse()
    .unwrap();
    assert!(n >= 10, "{n} messages validated");

    // A plugin cannot take a built-in vendor's name.
    std::fs::write(
        sb.dir.path().join("finops.toml"),
        "[[plugins]]\nname = \"aws\"\ncommand = [\"true\"]\n",
    )
    .unwrap();
    for cmd in [&["plugins", "list"][..], &["config", "show"]] {
        let run = sb.finops(cmd);
        assert!(
            run.stderr
                .contains("`aws` is one of finops's own commands or vendors"),
            "{cmd:?}: {run:?}"
        );
    }
}

#[test]
fn a_shell_plugin_maps_csv_invoices_to_focus() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let plugin = repo_root().join("examples/plugins/csv-invoice");
    let data = sb.dir.path().join("invoices");
    copy_tree(&plugin.join("data"), &data);
    let path = data.display().to_string();
    let env_path = format!("{}:/usr/bin:/bin", plugin.display());
    let env = [("PATH", env_path.as_str())];
    let args = ["csv-invoice", "import", "--path", &path];
    assert_eq!(
        validate_messages(&venv, "csv-invoice", &json!({"path": path})),
        8
    );
    let run = sb.finops_with(&args, &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("2 period(s), loaded 2, failed 0"),
        "{run:?}"
    );
    let total = |sb: &Sandbox| {
        sb.query(
            &venv,
            "SELECT strftime(x_billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS b, \
             count(*) FILTER (WHERE ChargeCategory = 'Credit') AS credits, any_value(ProviderName) AS provider \
             FROM focus.cost_and_usage WHERE x_source = 'csv-invoice/invoices' GROUP BY 1 ORDER BY 1",
        )
    };
    let got = total(&sb);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["n"], json!(3));
    assert_eq!(scaled(got[0]["b"].as_str().unwrap()), scaled("575.03475"));
    assert_eq!(got[1]["n"], json!(4));
    assert_eq!(scaled(got[1]["b"].as_str().unwrap()), scaled("551.249875"));
    assert_eq!(got[1]["credits"], json!(1));
    assert_eq!(got[0]["provider"], json!("Northwind Reseller"));
    let again = sb.finops_with(&args, &env);
    assert!(again.stdout.contains("loaded 0, failed 0"), "{again:?}");
    // February re-issued with a corrected line: February alone is replaced.
    let feb = data.join("invoice-2024-02.csv");
    let text = std::fs::read_to_string(&feb)
        .unwrap()
        .replace("-20,-20.00", "-25,-25.00");
    std::fs::write(&feb, text).unwrap();
    let run = sb.finops_with(&args, &env);
    assert!(
        run.stdout.contains("2 period(s), loaded 1, failed 0"),
        "{run:?}"
    );
    let after = total(&sb);
    assert_eq!(after[0], got[0]);
    assert_eq!(
        scaled(after[1]["b"].as_str().unwrap()),
        scaled("546.249875")
    );
    let check = sb.finops(&["focus", "validate"]);
    assert_eq!(check.code, 0, "{check:?}");
    // focus-validator fails only its proven defects on the mapped rows.
    if let Some(fv) = crate::harness::fv_venv() {
        crate::conformance::assert_validator_defects_only(&sb, &fv, "2024-02", "csv-invoice");
    }
    sb.import_path(&repo_root().join("examples/aws-cur"), "finops-sample");
    let report = sb.finops_with(&["report", "costs", "--by", "provider"], &env);
    assert!(
        report.stdout.contains("Northwind Reseller") && report.stdout.contains("EUR"),
        "{report:?}"
    );
}

#[test]
fn a_plugin_may_deliver_focus_as_parquet() {
    let venv = require_venv!();
    let (sb, data) = with_saas_data();
    // The test venv's Python, which has duckdb to write Parquet.
    rogue_config(&sb, &data, &venv.join("bin/python").display().to_string());
    let run = sb.finops_with(&["rogue", "import"], &[("ROGUE_MODE", "parquet")]);
    assert_eq!(run.code, 0, "{run:?}");
    let got = sums(&sb, &venv);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["n"], json!(30));
    let total = crate::harness::billed_total(&got);
    assert_eq!(total, scaled(&decimal_sum(&venv, &data)));
    let check = sb.finops(&["focus", "validate"]);
    assert_eq!(check.code, 0, "{check:?}");
}
