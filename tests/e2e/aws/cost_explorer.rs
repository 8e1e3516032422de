//! `finops aws import-ce` (issue #5) against moto's Cost Explorer, which answers with the
//! results a test seeds, one per distinct request, in order: pagination by `NextPageToken`,
//! exact amounts, a re-run that replaces rather than duplicates, two queries side by side,
//! and throttling retried by the SDK.

use serde_json::{Value, json};

use crate::harness::{FaultProxy, Moto, Sandbox};
use crate::require_venv;

/// One `ResultsByTime` page for a month, grouped by service.
fn page(month: &str, next: &str, groups: &[(&str, &str, &str)], token: Option<&str>) -> Value {
    let mut r = json!({
        "ResultsByTime": [{
            "TimePeriod": {"Start": format!("{month}-01"), "End": format!("{next}-01")},
            "Total": {},
            "Groups": groups.iter().map(|(service, unblended, amortized)| json!({
                "Keys": [service],
                "Metrics": {
                    "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
                    "AmortizedCost": {"Amount": amortized, "Unit": "USD"}
                }
            })).collect::<Vec<_>>(),
            "Estimated": false
        }],
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "DimensionValueAttributes": []
    });
    if let Some(t) = token {
        r["NextPageToken"] = json!(t);
    }
    r
}

fn ce(sb: &Sandbox, endpoint: &str, extra: &[&str]) -> crate::harness::Run {
    let mut args = vec![
        "aws",
        "import-ce",
        "--start",
        "2024-01",
        "--end",
        "2024-02",
        "--metrics",
        "UnblendedCost,AmortizedCost",
        "--endpoint-url",
        endpoint,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    sb.finops(&args)
}

#[test]
fn cost_explorer_pages_load_exactly_and_rerun_replaces() {
    let venv = require_venv!();
    let moto = Moto::start(&venv);
    // The order of requests: January page 1, January page 2, February.
    let seeds = json!({"results": [
        page("2024-01", "2024-02", &[("Amazon Elastic Compute Cloud - Compute", "123.45", "100.0000000001"),
                                     ("Amazon Simple Storage Service", "6.78", "6.78")], Some("page-2")),
        page("2024-01", "2024-02", &[("AWS Lambda", "0.0000300172", "0.0000300172")], None),
        page("2024-02", "2024-03", &[("Amazon Elastic Compute Cloud - Compute", "99.99", "80.01"),
                                     ("AWS Lambda", "1.5", "1.5")], None),
    ]});
    assert_eq!(
        moto.post_json("/moto-api/static/ce/cost-and-usage-results", &seeds),
        201
    );
    let sb = Sandbox::new();
    let run = ce(&sb, &moto.endpoint, &["--group-by", "SERVICE"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    assert_eq!(report["export"]["export"], "daily-service");
    assert_eq!(report["table"], "aws.cost_explorer");
    let costs: Vec<&Value> = report["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["outcome"]["cost"])
        .collect();
    assert_eq!(
        costs,
        [&json!("130.2300300172"), &json!("101.49")],
        "UnblendedCost per month, exact"
    );

    let rows = |sb: &Sandbox| {
        sb.query(
            &venv,
            "SELECT query, strftime(billing_period, '%Y-%m') AS p, metric, count(*) AS n, CAST(sum(amount) AS VARCHAR) AS total \
             FROM aws.cost_explorer GROUP BY ALL ORDER BY ALL",
        )
    };
    let first = rows(&sb);
    assert_eq!(first.len(), 4, "{first:?}");
    assert_eq!(
        (&first[0]["metric"], &first[0]["n"]),
        (&json!("AmortizedCost"), &json!(3)),
        "both pages of January"
    );
    assert_eq!(first[0]["total"], "106.780030017300000000");
    let types = sb.query(&venv, "SELECT typeof(amount) AS a, group_by, min(group_1) AS g FROM aws.cost_explorer GROUP BY ALL");
    assert_eq!(
        (&types[0]["a"], &types[0]["group_by"]),
        (&json!("DECIMAL(38,18)"), &json!("DIMENSION:SERVICE"))
    );

    // The same query again: moto answers identical requests identically; rows are replaced.
    let run = ce(&sb, &moto.endpoint, &["--group-by", "SERVICE"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(rows(&sb), first, "a re-run replaces, never duplicates");

    // A second query (monthly totals) lands beside the first without touching it.
    let totals = json!({"results": [
        {"ResultsByTime": [{"TimePeriod": {"Start": "2024-01-01", "End": "2024-02-01"},
          "Total": {"UnblendedCost": {"Amount": "130.2300300172", "Unit": "USD"}}, "Groups": [], "Estimated": false}]},
        {"ResultsByTime": [{"TimePeriod": {"Start": "2024-02-01", "End": "2024-03-01"},
          "Total": {"UnblendedCost": {"Amount": "101.49", "Unit": "USD"}}, "Groups": [], "Estimated": true}]},
    ]});
    assert_eq!(
        moto.post_json("/moto-api/static/ce/cost-and-usage-results", &totals),
        201
    );
    let run = ce(
        &sb,
        &moto.endpoint,
        &[
            "--granularity",
            "monthly",
            "--metrics",
            "UnblendedCost",
            "--name",
            "monthly-total",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let all = rows(&sb);
    assert_eq!(
        all.iter()
            .filter(|r| r["query"] == "daily-service")
            .cloned()
            .collect::<Vec<_>>(),
        first
    );
    let monthly: Vec<&Value> = all
        .iter()
        .filter(|r| r["query"] == "monthly-total")
        .collect();
    assert_eq!(monthly.len(), 2);
    assert_eq!(monthly[1]["total"], "101.490000000000000000");

    // Throttled twice: the SDK retries and the import succeeds.
    let proxy = FaultProxy::start(&moto.endpoint, 2);
    let run = ce(&sb, &proxy.endpoint, &["--group-by", "SERVICE"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        proxy.requests.load(std::sync::atomic::Ordering::SeqCst),
        5,
        "2 refused + 3 pages"
    );
    assert_eq!(rows(&sb).len(), 6);

    // Bad arguments are usage errors.
    let run = ce(
        &sb,
        &moto.endpoint,
        &[
            "--group-by",
            "SERVICE",
            "--group-by",
            "TAG:a",
            "--group-by",
            "TAG:b",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("at most two"), "{run:?}");
    let run = ce(&sb, &moto.endpoint, &["--group-by", "FOO:bar"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not a group type"), "{run:?}");
}
