//! Reports, anomalies, budgets and hooks (issue #10), on generated daily series with planted
//! anomalies (`tests/gen/dailygen.py`, an AWS FOCUS export) and the Azure sample beside them:
//! report totals against DuckDB's own sums of the FOCUS table, the HTML chart as Chromium
//! draws it, every planted anomaly and nothing else, budgets against the generator's month
//! totals, and events as a command and a local webhook receive them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::harness::{
    HookServer, Sandbox, chromium, generate, hold_lock, render_dom, repo_root, scaled, unscaled,
};
use crate::require_venv;

const EXPORT: &str = "daily-focus";
/// The Azure sample's `EffectiveCost`, CAD (see azure.rs).
const AZURE_CAD: &str = "1.26136926505726";

/// A sandbox with the generated daily export and the Azure sample imported; the truth.
fn setup(venv: &Path) -> (Sandbox, Value) {
    let sb = Sandbox::new();
    let truth = generate(venv, "dailygen.py", sb.dir.path(), EXPORT, &[]);
    sb.import_path(&sb.dir.path().join("tree"), EXPORT);
    let azure = repo_root().join("examples/azure").display().to_string();
    let run = sb.finops(&["azure", "import-exports", "--path", &azure]);
    assert_eq!(run.code, 0, "{run:?}");
    (sb, truth)
}

fn usd_total(truth: &Value) -> i128 {
    truth["months"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| scaled(v.as_str().unwrap()))
        .sum()
}

#[test]
fn cost_report_equals_the_focus_table_in_every_format() {
    let venv = require_venv!();
    let (sb, truth) = setup(&venv);

    // JSON: every (service, currency, month) against DuckDB's sum of the FOCUS table.
    let run = sb.finops(&["report", "costs", "--by", "service", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    assert_eq!(
        report["periods"],
        serde_json::json!([
            "2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"
        ])
    );
    let focus: BTreeMap<(String, String, String), i128> = sb
        .query(
            &venv,
            r#"SELECT "ServiceName" AS s, "BillingCurrency" AS c,
                      strftime("ChargePeriodStart", '%Y-%m') AS p, CAST(sum("EffectiveCost") AS VARCHAR) AS v
               FROM focus.cost_and_usage GROUP BY ALL"#,
        )
        .iter()
        .map(|r| {
            let t = |k: &str| r[k].as_str().unwrap().to_owned();
            ((t("s"), t("c"), t("p")), scaled(&t("v")))
        })
        .collect();
    let rows = report["rows"].as_array().unwrap();
    let mut nonzero = 0;
    let mut previous: BTreeMap<(String, String), i128> = BTreeMap::new();
    for r in rows {
        let key = (
            r["service"].as_str().unwrap().to_owned(),
            r["currency"].as_str().unwrap().to_owned(),
            r["period"].as_str().unwrap().to_owned(),
        );
        let cost = scaled(r["cost"].as_str().unwrap());
        assert_eq!(cost, focus.get(&key).copied().unwrap_or(0), "{key:?}");
        nonzero += usize::from(focus.contains_key(&key));
        // change = this period − the previous one of the same group; none for the first.
        let group = (key.0.clone(), key.1.clone());
        match previous.insert(group, cost) {
            Some(before) => assert_eq!(
                scaled(r["change"].as_str().unwrap()),
                cost - before,
                "{key:?}"
            ),
            None => assert!(r["change"].is_null(), "{r}"),
        }
    }
    assert_eq!(
        nonzero,
        focus.len(),
        "every FOCUS group and month is in the report"
    );
    // 4 generated services + 5 Azure services, every one with all 7 months.
    assert_eq!(rows.len(), 9 * 7);
    let totals: BTreeMap<&str, &str> = report["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["currency"].as_str().unwrap(), t["cost"].as_str().unwrap()))
        .collect();
    assert_eq!(totals["USD"], unscaled(usd_total(&truth)));
    assert_eq!(totals["USD"], "65513.15");
    assert_eq!(totals["CAD"], AZURE_CAD);

    // --top 2: the rest of each currency becomes "(other)"; month sums are unchanged.
    let top = sb
        .finops(&["report", "costs", "--top", "2", "--format", "json"])
        .json();
    let top_rows = top["rows"].as_array().unwrap();
    let groups: BTreeSet<(String, String)> = top_rows
        .iter()
        .map(|r| {
            (
                r["currency"].as_str().unwrap().to_owned(),
                r["service"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let usd: Vec<&str> = groups
        .iter()
        .filter(|g| g.0 == "USD")
        .map(|g| g.1.as_str())
        .collect();
    assert_eq!(usd.len(), 3, "{usd:?}");
    assert!(usd.contains(&"(other)"));
    assert!(
        usd.contains(&"Amazon Relational Database Service"),
        "the largest: {usd:?}"
    );
    assert_eq!(top["totals"], report["totals"]);
    // "(other)" comes last in its currency.
    let last_usd = top_rows
        .iter()
        .rev()
        .find(|r| r["currency"] == "USD")
        .unwrap();
    assert_eq!(last_usd["service"], "(other)");

    // CSV, by account and day: the USD cost column adds up to the generator's total.
    let run = sb.finops(&[
        "report",
        "costs",
        "--by",
        "account",
        "--granularity",
        "day",
        "--period",
        "2024-01..2024-03",
        "--format",
        "csv",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut lines = run.stdout.lines();
    assert_eq!(lines.next(), Some("account,currency,period,cost,change"));
    let records: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(records.len(), 91 * 2, "2 accounts × 91 days");
    let sum: i128 = records.iter().map(|r| scaled(r[3])).sum();
    assert_eq!(sum, usd_total(&truth));
    assert_eq!(records[0][2], "2024-01-01");
    let day = |acct: &str, d: &str| -> String {
        let s: i128 = [
            "Amazon Elastic Compute Cloud",
            "Amazon Simple Storage Service",
            "AWS Lambda",
            "Amazon Relational Database Service",
        ]
        .iter()
        .map(|svc| {
            scaled(
                truth["series"][format!("{svc}|{acct}")][d]
                    .as_str()
                    .unwrap(),
            )
        })
        .sum();
        unscaled(s)
    };
    let jan31 = records
        .iter()
        .find(|r| r[0] == "111111111111" && r[2] == "2024-01-31")
        .unwrap();
    assert_eq!(jan31[3], day("111111111111", "2024-01-31"));

    // The table: one (total) row per currency with the exact sums.
    let table = sb.finops(&["report", "costs"]);
    assert_eq!(table.code, 0, "{table:?}");
    let total_usd = table
        .stdout
        .lines()
        .find(|l| l.starts_with("(total)") && l.contains("USD"))
        .unwrap();
    assert!(total_usd.contains("65513.15"), "{total_usd}");
    assert!(
        total_usd.contains("20542.565") && total_usd.contains("24444.485"),
        "{total_usd}"
    );

    // A writer holds DuckDB's lock against readers: fail at once, or wait with --wait-lock.
    let mut holder = hold_lock(&venv, &sb.warehouse(), 3);
    let locked = sb.finops(&["report", "costs"]);
    assert_eq!(locked.code, 1, "{locked:?}");
    assert!(
        locked.stderr.contains("is locked by another process"),
        "{locked:?}"
    );
    let waited = sb.finops(&["report", "costs", "--wait-lock", "30"]);
    assert_eq!(waited.code, 0, "{waited:?}");
    assert!(waited.stdout.contains("65513.15"), "{waited:?}");
    holder.wait().unwrap();

    // Bad input.
    let bad = sb.finops(&["report", "costs", "--by", "colour"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("`colour` is not a dimension"),
        "{bad:?}"
    );
    let none = sb.finops(&["report", "costs", "--period", "2030-01"]);
    assert_eq!(none.code, 1, "{none:?}");
    assert!(
        none.stderr.contains("no FOCUS rows in 2030-01..2030-01"),
        "{none:?}"
    );
    let parquet = sb.finops(&["report", "costs", "--format", "parquet"]);
    assert_eq!(parquet.code, 2, "{parquet:?}");
    let empty = Sandbox::new();
    let run = empty.finops(&["report", "costs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("there are no FOCUS rows"), "{run:?}");
}

#[test]
fn html_report_draws_its_chart_in_chromium() {
    let venv = require_venv!();
    let Some(chromium) = chromium() else { return };
    let (sb, _) = setup(&venv);
    let file = sb.dir.path().join("report.html");
    let file_arg = file.display().to_string();
    let run = sb.finops(&[
        "report",
        "costs",
        "--by",
        "service",
        "--top",
        "3",
        "--period",
        "2024-01..2024-03",
        "--format",
        "html",
        "--out",
        &file_arg,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.trim().is_empty(),
        "the report went to the file: {run:?}"
    );
    let html = std::fs::read_to_string(&file).unwrap();
    // Self-contained: nothing is fetched when it is viewed.
    for fetch in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(fetch), "{fetch} in the HTML");
    }
    assert!(
        !html.contains("<svg"),
        "the chart is drawn by the page's script, not in the file"
    );

    let dom = render_dom(&chromium, &file);
    let charts: Vec<&str> = dom.split("<svg class=\"chart\"").skip(1).collect();
    // The Azure sample is 2023-09: the range 2024-01..03 has only USD.
    assert_eq!(charts.len(), 1, "{dom}");
    assert!(charts[0].contains("data-currency=\"USD\""));
    let series: Vec<String> = charts[0]
        .split("<g class=\"series\" data-series=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        series,
        [
            "Amazon Relational Database Service",
            "AWS Lambda",
            // Its usage and the one-time purchase of 5000.
            "Amazon Elastic Compute Cloud",
            "(other)"
        ]
    );
    // One bar per series and month, carrying the exact cost as its data.
    let report = sb
        .finops(&[
            "report",
            "costs",
            "--top",
            "3",
            "--period",
            "2024-01..2024-03",
            "--format",
            "json",
        ])
        .json();
    let mut drawn = 0;
    for r in report["rows"].as_array().unwrap() {
        let bar = format!(
            "data-period=\"{}\" data-cost=\"{}\"",
            r["period"].as_str().unwrap(),
            r["cost"].as_str().unwrap()
        );
        assert!(charts[0].contains(&bar), "no bar {bar}");
        drawn += 1;
    }
    assert_eq!(drawn, 4 * 3);
    assert_eq!(charts[0].matches("<rect ").count(), 4 * 3);
    // The table is there too, with the exact total.
    assert!(dom.contains("<td class=\"num\">65513.15</td>"), "{dom}");
}

#[test]
fn planted_anomalies_are_found_and_nothing_else() {
    let venv = require_venv!();
    let (sb, truth) = setup(&venv);
    let events = sb.dir.path().join("events.jsonl");
    std::fs::write(
        sb.dir.path().join("finops.toml"),
        format!(
            "[[hooks]]\nevent = \"anomaly.detected\"\ncommand = \"cat >> '{}'; echo >> '{}'\"\n",
            events.display(),
            events.display()
        ),
    )
    .unwrap();
    let run = sb.finops(&[
        "report",
        "anomalies",
        "--period",
        "2024-01..2024-03",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let found = run.json()["anomalies"].as_array().unwrap().clone();
    let got: BTreeSet<(String, String, String)> = found
        .iter()
        .map(|a| {
            (
                a["date"].as_str().unwrap().to_owned(),
                a["series"]["service"].as_str().unwrap().to_owned(),
                a["series"]["account"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let planted: BTreeSet<(String, String, String)> = truth["spikes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["date"].as_str().unwrap().to_owned(),
                s["service"].as_str().unwrap().to_owned(),
                s["account"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, planted, "{found:#?}");
    for a in &found {
        let key = format!(
            "{}|{}",
            a["series"]["service"].as_str().unwrap(),
            a["series"]["account"].as_str().unwrap()
        );
        let actual = truth["series"][&key][a["date"].as_str().unwrap()]
            .as_str()
            .unwrap();
        assert_eq!(a["actual"].as_str().unwrap(), actual, "{a}");
        let expected: f64 = a["expected"].as_str().unwrap().parse().unwrap();
        assert!(
            expected > 30.0,
            "the expected cost is the series' usual level: {a}"
        );
        assert_eq!(a["currency"], "USD");
    }
    let drop = found.iter().find(|a| a["date"] == "2024-03-11").unwrap();
    assert_eq!(drop["direction"], "down");
    assert_eq!(drop["actual"], "0");
    // The flat series (MAD 0) has its planted step and nothing else; no score then.
    let flat = &truth["flat"];
    let on_flat: Vec<&Value> = found
        .iter()
        .filter(|a| {
            a["series"]["service"] == flat["service"] && a["series"]["account"] == flat["account"]
        })
        .collect();
    assert_eq!(on_flat.len(), 1, "{on_flat:?}");
    assert_eq!(on_flat[0]["date"], "2024-03-26");
    assert_eq!(on_flat[0]["actual"], "150");
    assert_eq!(on_flat[0]["expected"], "100.00");
    assert!(on_flat[0]["score"].is_null());

    // The hook got one event with the same list.
    let text = std::fs::read_to_string(&events).unwrap();
    let event: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(event["schema"], "finops.event/v1");
    assert_eq!(event["event"], "anomaly.detected");
    assert_eq!(event["data"]["anomalies"].as_array().unwrap().len(), 5);
    assert_eq!(event["data"]["window"], 14);
    // Told once: the same run again sends nothing new.
    let again = sb.finops(&["report", "anomalies", "--period", "2024-01..2024-03"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(std::fs::read_to_string(&events).unwrap(), text);

    // By account, as CSV: the same five days.
    let csv = sb.finops(&[
        "report",
        "anomalies",
        "--by",
        "account",
        "--period",
        "2024-01..2024-03",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.code, 0, "{csv:?}");
    let dates: Vec<&str> = csv
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2024-01-31",
            "2024-02-20",
            "2024-03-11",
            "2024-03-21",
            "2024-03-26"
        ]
    );
    // The last 7 days of data (the default) hold the step on the flat series, told already
    // by the first run: listed, not sent. --renotify sends it again. The last 3 days are calm.
    let week = sb
        .finops(&["report", "anomalies", "--format", "json"])
        .json();
    assert_eq!(week["from"], "2024-03-25");
    assert_eq!(week["anomalies"].as_array().unwrap().len(), 1);
    let renotify = sb.finops(&["report", "anomalies", "--renotify"]);
    assert_eq!(renotify.code, 0, "{renotify:?}");
    let calm = sb.finops(&["report", "anomalies", "--days", "3"]);
    assert_eq!(calm.code, 0, "{calm:?}");
    assert_eq!(
        calm.stdout.trim(),
        "no anomalies from 2024-03-29 to 2024-03-31"
    );
    let sent = std::fs::read_to_string(&events).unwrap();
    assert_eq!(
        sent.lines().filter(|l| !l.is_empty()).count(),
        3,
        "the full range, by account, the last week again; not the repeat, not the calm days"
    );
    // Only usage is watched by default; with every charge, the one-time purchase is one too
    // (and the only one not told before).
    let all = sb.finops(&[
        "report",
        "anomalies",
        "--period",
        "2024-01..2024-03",
        "--all-charges",
        "--format",
        "json",
    ]);
    assert_eq!(all.code, 0, "{all:?}");
    let purchase = &truth["purchase"];
    let listed = all.json()["anomalies"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 6, "{listed:#?}");
    let on_day: Vec<&Value> = listed
        .iter()
        .filter(|a| a["date"] == purchase["date"])
        .collect();
    assert_eq!(on_day.len(), 1, "{listed:#?}");
    assert_eq!(on_day[0]["series"]["service"], purchase["service"]);
    assert_eq!(on_day[0]["series"]["account"], purchase["account"]);
    let last: Value = serde_json::from_str(
        std::fs::read_to_string(&events)
            .unwrap()
            .lines()
            .rfind(|l| !l.is_empty())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["data"]["anomalies"].as_array().unwrap().len(), 1);
    assert_eq!(last["data"]["anomalies"][0]["date"], purchase["date"]);
    let short = sb.finops(&["report", "anomalies", "--window", "2"]);
    assert_eq!(short.code, 1, "{short:?}");
    assert!(short.stderr.contains("too short"), "{short:?}");
}

#[test]
fn budgets_and_hooks_deliver_events_without_failing_commands() {
    let venv = require_venv!();
    let (sb, truth) = setup(&venv);
    let server = HookServer::start(&[503, 503]);
    let events = sb.dir.path().join("events.jsonl");
    let config = format!(
        r#"
[[budgets]]
name = "all-usd"
amount = "20000"
currency = "USD"
thresholds = [50, 90, 100]

[[budgets]]
name = "ec2-prod"
amount = 10000
thresholds = [80, 100]
cost = "billed"
[budgets.filter]
service = "Amazon Elastic Compute Cloud"
account = ["111111111111"]

[[hooks]]
name = "log"
event = "*"
command = "cat >> '{events}'; echo >> '{events}'"

[[hooks]]
name = "webhook"
event = "budget.threshold_exceeded"
url = "{url}/services/T000/SECRET-TOKEN"
retries = 3

[[hooks]]
name = "broken"
event = "budget.threshold_exceeded"
command = "echo nope >&2; exit 7"

[[hooks]]
name = "slow"
event = "import.completed"
command = "sleep 20"
timeout = 1
"#,
        events = events.display(),
        url = server.url
    );
    std::fs::write(sb.dir.path().join("finops.toml"), config).unwrap();
    let env = [("FINOPS_TEST_HOOK_BACKOFF_MS", "50")];

    let run = sb.finops_with(
        &["budgets", "check", "--month", "2024-02", "--format", "json"],
        &env,
    );
    assert_eq!(
        run.code, 0,
        "a failing hook does not fail the command: {run:?}"
    );
    let statuses = run.json();
    let all = &statuses[0];
    assert_eq!(all["budget"], "all-usd");
    assert_eq!(all["actual"], truth["months"]["2024-02"]);
    assert_eq!(
        all["forecast"], truth["months"]["2024-02"],
        "a complete month"
    );
    assert_eq!(all["exceeded"], serde_json::json!([50, 90, 100]));
    assert_eq!(all["days_with_data"], 29);
    let ec2 = &statuses[1];
    let ec2_feb: i128 = truth["series"]["Amazon Elastic Compute Cloud|111111111111"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(d, _)| d.starts_with("2024-02"))
        .map(|(_, v)| scaled(v.as_str().unwrap()))
        .sum::<i128>()
        + scaled(truth["purchase"]["cost"].as_str().unwrap());
    assert_eq!(ec2["actual"].as_str().unwrap(), unscaled(ec2_feb));
    assert_eq!(ec2["exceeded"], serde_json::json!([]), "{ec2}");
    assert!(
        run.stderr.contains("hook broken failed") && run.stderr.contains("nope"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("SECRET-TOKEN"),
        "the webhook's secret is never printed"
    );

    // The webhook: two 503s, then delivered on the third attempt; one event (one budget over).
    let got = server.requests();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2].path, "/services/T000/SECRET-TOKEN");
    assert_eq!(got[2].content_type, "application/json");
    let body = &got[2].body;
    assert_eq!(body["event"], "budget.threshold_exceeded");
    assert_eq!(body["data"]["budget"], "all-usd");
    assert_eq!(body["data"]["amount"], "20000");
    assert_eq!(body["data"]["actual"], truth["months"]["2024-02"]);
    assert_eq!(got[0].body, got[2].body, "retries send the same event");

    // Imports: a re-run (all unchanged) is import.completed; the slow hook is killed.
    let tree = sb.dir.path().join("tree").display().to_string();
    let started = std::time::Instant::now();
    let run = sb.finops_with(
        &["aws", "import-cur", "--path", &tree, "--report", EXPORT],
        &env,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        started.elapsed().as_secs() < 15,
        "the slow hook was killed after 1 s"
    );
    assert!(
        run.stderr.contains("hook slow failed") && run.stderr.contains("timeout of 1 s"),
        "{run:?}"
    );
    // A report that does not exist: import.failed, with the error.
    let run = sb.finops_with(
        &["aws", "import-cur", "--path", &tree, "--report", "nope"],
        &env,
    );
    assert_ne!(run.code, 0, "{run:?}");

    let logged: Vec<Value> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = logged
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "budget.threshold_exceeded",
            "import.completed",
            "import.failed"
        ]
    );
    let completed = &logged[1]["data"];
    assert_eq!(completed["export"]["export"], EXPORT);
    assert_eq!(
        (completed["loaded"].as_u64(), completed["skipped"].as_u64()),
        (Some(0), Some(3))
    );
    let failed = &logged[2]["data"];
    assert_eq!(failed["vendor"], "aws");
    assert!(
        failed["error"].as_str().unwrap().contains("nope"),
        "{failed}"
    );
    for e in &logged {
        assert_eq!(e["schema"], "finops.event/v1");
        assert!(e["warehouse"].as_str().unwrap().ends_with("finops.duckdb"));
    }

    // Told once: a threshold is recorded in meta.notifications only when every hook got it.
    // "broken" failed above, so the next run sends it again.
    let check = |extra: &[&str]| {
        let mut args = vec!["budgets", "check", "--month", "2024-02"];
        args.extend_from_slice(extra);
        let run = sb.finops_with(&args, &env);
        assert_eq!(run.code, 0, "{run:?}");
        server.requests().len()
    };
    assert_eq!(check(&[]), 4, "re-sent: a hook failed last time");
    let config = std::fs::read_to_string(sb.dir.path().join("finops.toml")).unwrap();
    let without_broken = config.replace("command = \"echo nope >&2; exit 7\"", "command = \"cat\"");
    assert_ne!(config, without_broken);
    std::fs::write(sb.dir.path().join("finops.toml"), without_broken).unwrap();
    assert_eq!(
        check(&[]),
        5,
        "still not recorded, so sent; now every hook got it"
    );
    assert_eq!(check(&[]), 5, "recorded: not sent again");
    let told = sb.query(
        &venv,
        "SELECT kind, key FROM meta.notifications ORDER BY key",
    );
    assert_eq!(
        told,
        [
            serde_json::json!({"kind": "budget", "key": "all-usd|2024-02|actual|100"}),
            serde_json::json!({"kind": "budget", "key": "all-usd|2024-02|actual|50"}),
            serde_json::json!({"kind": "budget", "key": "all-usd|2024-02|actual|90"}),
            serde_json::json!({"kind": "budget", "key": "all-usd|2024-02|forecast|100"}),
            serde_json::json!({"kind": "budget", "key": "all-usd|2024-02|forecast|50"}),
            serde_json::json!({"kind": "budget", "key": "all-usd|2024-02|forecast|90"}),
        ]
    );
    assert_eq!(check(&["--renotify"]), 6);
    assert_eq!(
        server.requests()[5].body["data"]["new_exceeded"],
        serde_json::json!([50, 90, 100])
    );

    // Bad entries are refused before anything runs, naming the entry.
    for (config, code, message) in [
        (
            "[[hooks]]\nevent = \"import.completed\"\n",
            2,
            "exactly one of `command`",
        ),
        (
            "[[budgets]]\nname = \"x\"\namount = \"lots\"\n",
            1,
            "amount `lots` is not a number",
        ),
        (
            "[[budgets]]\nname = \"x\"\namount = 1\nfliter = {}\n",
            2,
            "[[budgets]] #1: unknown field: found `fliter`",
        ),
    ] {
        std::fs::write(sb.dir.path().join("finops.toml"), config).unwrap();
        let bad = sb.finops(&["budgets", "check"]);
        assert_eq!(bad.code, code, "{bad:?}");
        assert!(bad.stderr.contains(message), "{bad:?}");
    }
}
