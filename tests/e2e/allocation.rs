//! Allocation as code (issue #23): AWS, Azure and Google Cloud (in euros) exports with tag keys
//! that differ in case and spelling, the rules of `tests/e2e/allocation/finops.toml` (every rule
//! kind), and `focus.allocated_cost` compared to the last digit with an allocation computed
//! independently in Python (`tests/e2e/allocation_check.py`): every row's split, every pool's
//! total and the whole table's against FOCUS. Then the reports that read it, the rules'
//! errors, re-runs and rule changes.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Sandbox, generate, python, repo_root};
use crate::require_venv;

/// The three sources, imported into `sb` with the rules in place.
fn import_all(sb: &Sandbox, venv: &Path) {
    let out = sb.dir.path();
    generate(
        venv,
        "awsgen.py",
        out,
        "legacy",
        &[
            "--kind",
            "cur1",
            "--rows",
            "1200",
            "--months",
            "2",
            "--prefix",
            "aws",
            "--threads",
            "2",
            "--dirty",
        ],
    );
    generate(
        venv,
        "azuregen.py",
        out,
        "focuscost",
        &[
            "--dataset",
            "focus",
            "--rows",
            "200",
            "--root",
            "azure",
            "--dirty",
        ],
    );
    generate(
        venv,
        "gcpgen.py",
        out,
        "billing",
        &[
            "--schema",
            "detailed",
            "--root",
            "gcp",
            "--rows",
            "120",
            "--months",
            "2024-01,2024-02",
            "--currency",
            "EUR",
            "--dirty",
        ],
    );
    let tree = out.join("tree");
    for (vendor, dir, extra) in [
        ("aws", "aws", &["--report", "legacy"][..]),
        ("azure", "azure", &[][..]),
        ("gcp", "gcp", &[][..]),
    ] {
        let path = tree.join(dir).display().to_string();
        let args = [
            &["--format", "json", vendor, "import", "--path", &path][..],
            extra,
        ]
        .concat();
        let run = sb.finops(&args);
        assert_eq!(run.code, 0, "{vendor}: {run:?}");
    }
}

/// The independent allocation of the sandbox's warehouse; panics on any difference.
fn check(sb: &Sandbox, venv: &Path, tags_json: Option<&Path>) -> Value {
    let mut args = vec![
        repo_root()
            .join("tests/e2e/allocation_check.py")
            .into_os_string(),
        sb.warehouse().into_os_string(),
        sb.dir.path().join("finops.toml").into_os_string(),
    ];
    if let Some(t) = tags_json {
        args.push(t.as_os_str().to_owned());
    }
    serde_json::from_str(&python(venv, "the allocation check", &args)).unwrap()
}

fn rules() -> String {
    std::fs::read_to_string(repo_root().join("tests/e2e/allocation/finops.toml")).unwrap()
}

#[test]
fn every_pool_is_split_exactly_and_reports_read_it() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    // A budget whose tag filter is spelled neither as AWS nor as Azure spell the key, nor
    // as the data spell the value: [tags] makes it match both.
    let budget = "\n[[budgets]]\nname = \"web\"\namount = \"1000\"\n[budgets.filter]\ntags = { TEAM = \" WEB \" }\n";
    std::fs::write(sb.dir.path().join("finops.toml"), rules() + budget).unwrap();
    import_all(&sb, &venv);
    let run = sb.finops(&["--format", "json", "budgets", "check", "--month", "2024-01"]);
    assert_eq!(run.code, 0, "{run:?}");
    let status: Value = serde_json::from_str(&run.stdout).unwrap();
    let want = sb.query(
        &venv,
        "SELECT CAST(sum(\"EffectiveCost\") AS VARCHAR) AS e FROM focus.cost_and_usage \
         WHERE lower(trim(coalesce(json_extract_string(\"Tags\", '$.team'), json_extract_string(\"Tags\", '$.\"user:Team\"')))) = 'web' \
         AND \"ChargePeriodStart\" >= TIMESTAMP '2024-01-01' AND \"ChargePeriodStart\" < TIMESTAMP '2024-02-01'",
    );
    // Budgets print amounts to 10 decimals.
    let actual = status[0]["actual"]
        .as_str()
        .unwrap_or_else(|| panic!("{status}"));
    let decimals = actual.split_once('.').map_or(0, |(_, f)| f.len());
    let unit = 10i128.pow(20 - u32::try_from(decimals).unwrap());
    let exact = scaled(want[0]["e"].as_str().unwrap());
    let rounded = (exact + unit / 2).div_euclid(unit) * unit;
    assert!(exact > 0 && decimals >= 8, "{status} {want:?}");
    assert_eq!(scaled(actual), rounded, "{status} {want:?}");

    // Each import allocated the periods it changed: both months, under the current rules.
    let state = sb.query(
        &venv,
        "SELECT strftime(x_billing_period, '%Y-%m') AS p, rows, pooled FROM meta.allocation_state ORDER BY 1",
    );
    assert_eq!(state.len(), 2, "{state:?}");
    let got = check(&sb, &venv, None);
    assert_eq!(
        got["allocations"],
        json!(["azure-untagged", "support", "tax", "untagged"]),
        "{got}"
    );
    assert!(got["pooled_rows"].as_u64().unwrap() > 500, "{got}");
    // Per currency: the euro taxes of Google Cloud are split among euro targets only.
    let pools = got["pools"].as_object().unwrap();
    assert!(pools.contains_key("2024-01 tax EUR"), "{got}");
    assert!(pools.contains_key("2024-01 tax USD"), "{got}");
    assert!(pools.contains_key("2024-02 support USD"), "{got}");
    let state_rows: u64 = state.iter().map(|s| s["rows"].as_u64().unwrap()).sum();
    assert_eq!(state_rows, got["rows"].as_u64().unwrap(), "{state:?} {got}");

    // Nothing changed: nothing is allocated again.
    let again = sb.finops(&["--format", "json", "allocate"]);
    assert_eq!(again.code, 0, "{again:?}");
    let again: Vec<Value> = serde_json::from_str(&again.stdout).unwrap();
    assert!(again.iter().all(|a| a["status"] == "current"), "{again:?}");

    // A crash inside a period's transaction (--force: every period again) keeps the old
    // allocation whole.
    let before = table_digest(&sb, &venv);
    let crash = sb.finops_with(
        &["allocate", "--force"],
        &[("FINOPS_FAILPOINTS", "allocate-before-commit")],
    );
    assert!(crash.signal.is_some(), "{crash:?}");
    assert_eq!(table_digest(&sb, &venv), before);

    // The costs report after allocation: per team and month, exactly the allocated table's
    // sums, and per month and currency exactly FOCUS's (shared cost moved, never made).
    let run = sb.finops(&[
        "--format",
        "json",
        "report",
        "costs",
        "--by",
        "dim:team",
        "--allocated",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let want = sb.query(
        &venv,
        "SELECT team, \"BillingCurrency\" AS c, strftime(\"ChargePeriodStart\", '%Y-%m') AS p, CAST(sum(\"EffectiveCost\") AS VARCHAR) AS e \
         FROM focus.allocated_cost GROUP BY ALL HAVING sum(\"EffectiveCost\") <> 0 ORDER BY ALL",
    );
    assert!(want.len() > 10, "{want:?}");
    for w in &want {
        let row = rows
            .iter()
            .find(|r| {
                r["dim:team"] == w["team"] && r["currency"] == w["c"] && r["period"] == w["p"]
            })
            .unwrap_or_else(|| panic!("no {w} in {report}"));
        assert_eq!(
            scaled(row["cost"].as_str().unwrap()),
            scaled(w["e"].as_str().unwrap()),
            "{w}"
        );
    }
    let focus = sb.query(
        &venv,
        "SELECT \"BillingCurrency\" AS c, CAST(sum(\"EffectiveCost\") AS VARCHAR) AS e FROM focus.cost_and_usage GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(focus.len(), 2, "{focus:?}");
    for f in &focus {
        let total = report["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["currency"] == f["c"])
            .unwrap_or_else(|| panic!("no {f} in {report}"));
        assert_eq!(
            scaled(total["cost"].as_str().unwrap()),
            scaled(f["e"].as_str().unwrap()),
            "{f}"
        );
    }
    // The same as HTML.
    let html = sb.dir.path().join("teams.html");
    let run = sb.finops(&[
        "--format",
        "html",
        "report",
        "costs",
        "--by",
        "dim:team",
        "--allocated",
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("dim:team") && page.contains("platform"),
        "{page}"
    );

    // Tag coverage: the shares of every normalised key, checked by the same Python.
    let run = sb.finops(&["--format", "json", "report", "tags", "--by", "provider"]);
    assert_eq!(run.code, 0, "{run:?}");
    let tags_json = sb.dir.path().join("tags.json");
    std::fs::write(&tags_json, &run.stdout).unwrap();
    check(&sb, &venv, Some(&tags_json));
    let tags: Value = serde_json::from_str(&run.stdout).unwrap();
    let merged: Vec<&str> = tags["merged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    // Shown as the alias says, or as most rows spell it.
    assert_eq!(merged, ["Environment", "team"], "{tags}");
    // Enforcement: below the threshold exits 1 and names the key; above it exits 0.
    let low = sb.finops(&[
        "report",
        "tags",
        "--key",
        "team",
        "--by",
        "provider",
        "--min-coverage",
        "99",
    ]);
    assert_eq!(low.code, 1, "{low:?}");
    assert!(
        low.stderr
            .contains("tag coverage below 99%: team Amazon Web Services"),
        "{low:?}"
    );
    assert!(
        low.stdout.contains("Largest resources without the key"),
        "{low:?}"
    );
    let ok = sb.finops(&["report", "tags", "--key", "team", "--min-coverage", "1"]);
    assert_eq!(ok.code, 0, "{ok:?}");

    // A changed rule: --allocated refuses the stale table; `finops allocate` makes it again
    // (a new dimension column too) and the independent check still holds.
    let changed = rules().replace("basis = \"billed\"", "basis = \"effective\"")
        + "\n[[dimensions]]\nname = \"cloud\"\n[[dimensions.rules]]\nvalue = \"aws\"\nprovider = \"Amazon Web Services, Inc.\"\n";
    std::fs::write(sb.dir.path().join("finops.toml"), changed).unwrap();
    let refused = sb.finops(&["report", "costs", "--by", "dim:team", "--allocated"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("not current") && refused.stderr.contains("finops allocate"),
        "{refused:?}"
    );
    // A crash before the commit (here the rebuild of the whole table, for the new column):
    // the table and its state are as they were.
    let before = table_digest(&sb, &venv);
    let crash = sb.finops_with(
        &["allocate"],
        &[("FINOPS_FAILPOINTS", "allocate-before-commit")],
    );
    assert!(crash.signal.is_some(), "{crash:?}");
    assert_eq!(table_digest(&sb, &venv), before);
    // The new column means a new table: every period, even when --period names one.
    let run = sb.finops(&["--format", "json", "allocate", "--period", "2024-01"]);
    assert_eq!(run.code, 0, "{run:?}");
    let done: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(done.len(), 2, "{done:?}");
    assert!(done.iter().all(|a| a["status"] == "allocated"), "{done:?}");
    let got = check(&sb, &venv, None);
    assert!(got["rows"].as_u64().unwrap() > 1000, "{got}");
    let clouds = sb.query(
        &venv,
        "SELECT cloud, count(*) AS n FROM focus.allocated_cost GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(clouds.len(), 2, "{clouds:?}");
}

/// Rows, exact sums and a hash of every row of `focus.allocated_cost`, and its state.
fn table_digest(sb: &Sandbox, venv: &Path) -> Vec<Value> {
    sb.query(
        venv,
        "SELECT (SELECT count(*) FROM focus.allocated_cost) AS n, \
                (SELECT CAST(sum(\"EffectiveCost\") AS VARCHAR) FROM focus.allocated_cost) AS e, \
                (SELECT CAST(sum(hash(a)) AS VARCHAR) FROM focus.allocated_cost a) AS h, \
                (SELECT string_agg(fingerprint, ',' ORDER BY x_billing_period) FROM meta.allocation_state) AS s",
    )
}

/// `1.5000` and `1.5` alike, as an integer of 1e-20 units.
fn scaled(s: &str) -> i128 {
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (w, f) = s.split_once('.').unwrap_or((s, ""));
    let v = w.parse::<i128>().unwrap() * 10i128.pow(20)
        + format!("{f:0<20}")[..20].parse::<i128>().unwrap();
    if neg { -v } else { v }
}

#[test]
fn a_bad_rule_is_exit_2_naming_the_rule_and_the_field_before_anything_loads() {
    let sb = Sandbox::new();
    let sample = repo_root().join("examples/aws-cur").display().to_string();
    let base = "[[dimensions]]\nname = \"team\"\n[[dimensions.rules]]\ntag = \"team\"\n";
    for (toml, needles) in [
        (
            "[[dimensions]]\nname = \"Team\"\n".to_owned(),
            &["[[dimensions]] #1 `Team`", "`name` must be lower-case"][..],
        ),
        (
            "[[dimensions]]\nname = \"team\"\n[[dimensions.rules]]\nservice = \"EC2\"\n".to_owned(),
            &["[[dimensions]] #1 `team` rule #1", "`value = \"...\"` or `tag"][..],
        ),
        (
            "[[dimensions]]\nname = \"team\"\n[[dimensions.rules]]\nvalue = \"x\"\nservce = \"EC2\"\n"
                .to_owned(),
            &["[[dimensions]] #1", "servce"][..],
        ),
        (
            format!(
                "{base}[[allocations]]\nname = \"support\"\ndimension = \"owner\"\npool = {{ service = \"Support\" }}\n"
            ),
            &["[[allocations]] #1 `support`", "`dimension` `owner`", "team"][..],
        ),
        (
            format!(
                "{base}[[allocations]]\nname = \"split\"\ndimension = \"team\"\nmethod = \"fixed\"\nshares = {{ a = 60, b = \"30\" }}\npool = {{ charge_category = \"Tax\" }}\n"
            ),
            &["`split`", "`shares` add up to 90%, not 100%"][..],
        ),
        (
            format!(
                "{base}[[allocations]]\nname = \"m\"\ndimension = \"team\"\nmethod = \"metric\"\nmetric = \"Cost\"\npool = {{ charge_category = \"Tax\" }}\n"
            ),
            &["`m`", "`metric` = one of ConsumedQuantity"][..],
        ),
        (
            format!(
                "{base}[[allocations]]\nname = \"all\"\ndimension = \"team\"\npool = {{}}\n"
            ),
            &["`all`", "`pool` selects every row"][..],
        ),
        (
            format!(
                "{base}[[allocations]]\nname = \"t\"\ndimension = \"team\"\npool = {{ charge_category = \"Taxes\" }}\n"
            ),
            &["`t` `pool`", "`charge_category` must be among Usage"][..],
        ),
        (
            "[tags]\ncase = true\n".to_owned(),
            &["[tags]", "case"][..],
        ),
    ] {
        std::fs::write(sb.dir.path().join("finops.toml"), &toml).unwrap();
        for args in [
            &["allocate"][..],
            &["aws", "import", "--path", &sample, "--report", "finops-sample"][..],
            &["config", "show"][..],
        ] {
            let run = sb.finops(args);
            assert_eq!(run.code, 2, "{toml}\n{args:?}: {run:?}");
            for n in needles {
                assert!(run.stderr.contains(n), "{toml}\n{args:?}: no {n} in {run:?}");
            }
        }
        assert!(!sb.warehouse().exists(), "{toml}: the import ran");
    }
    // With good rules, an unknown dimension in a report is exit 2 naming the ones there are.
    std::fs::write(sb.dir.path().join("finops.toml"), base).unwrap();
    let run = sb.finops(&[
        "aws",
        "import",
        "--path",
        &sample,
        "--report",
        "finops-sample",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = sb.finops(&["report", "costs", "--by", "dim:owner"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("no [[dimensions]] entry `owner`") && run.stderr.contains("team"),
        "{run:?}"
    );
    // `finops allocate` without rules: exit 2 with an example.
    std::fs::write(sb.dir.path().join("finops.toml"), "").unwrap();
    let run = sb.finops(&["allocate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("nothing to allocate"), "{run:?}");
}
