//! Hostile and real-world inputs (issue #17): each case once loaded wrong data, lost data,
//! skipped data or hung without saying so, or failed with an error the user could not act on.
//! Every test names the case it proves; docs/reliability.md lists them all.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Sandbox, write_gz};
use crate::require_venv;

/// The columns of the hand-made CUR v1 exports below: (header, manifest type).
const BASE: &[(&str, &str)] = &[
    ("identity/LineItemId", "String"),
    ("bill/BillingPeriodStartDate", "DateTime"),
    ("bill/BillingPeriodEndDate", "DateTime"),
    ("lineItem/UsageAccountId", "String"),
    ("lineItem/LineItemType", "String"),
    ("lineItem/UsageStartDate", "DateTime"),
    ("lineItem/UsageEndDate", "DateTime"),
    ("lineItem/ProductCode", "String"),
    ("lineItem/UsageAmount", "BigDecimal"),
    ("lineItem/CurrencyCode", "String"),
    ("lineItem/UnblendedRate", "OptionalBigDecimal"),
    ("lineItem/UnblendedCost", "BigDecimal"),
];

/// One CUR v1 delivery: `<root>/<report>/<YYYYMMDD-YYYYMMDD>/<assembly>/` with one gzip part
/// per entry of `parts` (each a header and rows, written as given) and both manifests, which
/// list `columns` and the parts (`extra_keys` appended to `reportKeys`). `key_prefix` is the
/// S3 prefix the manifest names (empty for none).
#[allow(clippy::too_many_arguments)]
fn cur1(
    root: &Path,
    key_prefix: &str,
    report: &str,
    month: u32,
    assembly: &str,
    columns: &[(&str, &str)],
    parts: &[(Vec<&str>, Vec<Vec<String>>)],
    extra_keys: &[String],
) -> Vec<String> {
    let range = format!("2024{month:02}01-2024{:02}01", month + 1);
    let dir = root.join(report).join(&range);
    std::fs::create_dir_all(dir.join(assembly)).unwrap();
    let mut keys = Vec::new();
    for (i, (header, rows)) in parts.iter().enumerate() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(header).unwrap();
        for r in rows {
            w.write_record(r).unwrap();
        }
        let name = format!("{report}-{:05}.csv.gz", i + 1);
        write_gz(
            &dir.join(assembly).join(&name),
            &String::from_utf8(w.into_inner().unwrap()).unwrap(),
        );
        let p = if key_prefix.is_empty() {
            String::new()
        } else {
            format!("{key_prefix}/")
        };
        keys.push(format!("{p}{report}/{range}/{assembly}/{name}"));
    }
    let manifest = json!({
        "assemblyId": assembly, "compression": "GZIP", "contentType": "text/csv",
        "columns": columns.iter().map(|(h, t)| {
            let (c, n) = h.split_once('/').unwrap();
            json!({"category": c, "name": n, "type": t})
        }).collect::<Vec<_>>(),
        "billingPeriod": {"start": format!("2024{month:02}01T000000.000Z"), "end": format!("2024{:02}01T000000.000Z", month + 1)},
        "reportKeys": keys.iter().chain(extra_keys).collect::<Vec<_>>(),
    });
    for d in [dir.clone(), dir.join(assembly)] {
        std::fs::write(
            d.join(format!("{report}-Manifest.json")),
            manifest.to_string(),
        )
        .unwrap();
    }
    keys
}

/// A usage row of `BASE` in month `month` costing `cost`, `extra` appended.
fn row(id: &str, month: u32, cost: &str, extra: &[&str]) -> Vec<String> {
    let start = format!("2024-{month:02}-01T00:00:00Z");
    let end = format!("2024-{:02}-01T00:00:00Z", month + 1);
    let mut r: Vec<String> = [
        id,
        &start,
        &end,
        "444455556666",
        "Usage",
        &format!("2024-{month:02}-10T00:00:00Z"),
        &format!("2024-{month:02}-10T01:00:00Z"),
        "AmazonEC2",
        "2",
        "USD",
        "0.5",
        cost,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    r.extend(extra.iter().map(|s| (*s).to_owned()));
    r
}

fn headers(extra: &[&'static str]) -> Vec<&'static str> {
    BASE.iter()
        .map(|(h, _)| *h)
        .chain(extra.iter().copied())
        .collect()
}

fn one(sb: &Sandbox, venv: &Path, sql: &str) -> Value {
    sb.query(venv, sql)
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
}

fn import(sb: &Sandbox, path: &Path, extra: &[&str]) -> crate::harness::Run {
    let path = path.display().to_string();
    let args = [&["aws", "import-cur", "--path", path.as_str()][..], extra].concat();
    sb.finops(&args)
}

/// Cases 1 and 15: the second part lists the columns in another order (read by name, not
/// position); a part with a column twice is refused, naming it.
#[test]
fn parts_are_read_by_the_names_in_their_own_header() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    let cols = headers(&[]);
    let mut reordered = cols.clone();
    reordered.reverse();
    let second: Vec<Vec<String>> = vec![{
        let mut r = row("b", 1, "7.25", &[]);
        r.reverse();
        r
    }];
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        BASE,
        &[
            (cols.clone(), vec![row("a", 1, "1.5", &[])]),
            (reordered, second),
        ],
        &[],
    );
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let r = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(line_item_unblended_cost) AS VARCHAR) AS c, \
         count(*) FILTER (WHERE line_item_usage_account_id = '444455556666') AS acct FROM aws.cur_r",
    );
    assert_eq!(r, json!({"n": 2, "c": "8.750000000000000000", "acct": 2}));

    // A part with a column twice: refused, the month kept.
    let mut twice = cols.clone();
    twice.push("lineItem/UnblendedCost");
    cur1(
        &tree,
        "",
        "r",
        1,
        "a2",
        BASE,
        &[(twice, vec![row("c", 1, "9", &["9"])])],
        &[],
    );
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("has the column `lineItem/UnblendedCost` twice")
            && run.stderr.contains("r-00001.csv.gz"),
        "{run:?}"
    );
    assert_eq!(
        one(&sb, &venv, "SELECT count(*) AS n FROM aws.cur_r")["n"],
        2
    );
}

/// Cases 14 and 13: a data column the manifest lacks, and a manifest whose billing period is
/// not its folder's, say what is wrong; nothing loaded is changed.
#[test]
fn an_extra_column_and_a_misplaced_manifest_are_named() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        BASE,
        &[(
            headers(&["lineItem/Surprise"]),
            vec![row("a", 1, "1", &["x"])],
        )],
        &[],
    );
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("has a column that the manifest (or the export's first file) does not list: `lineItem/Surprise`"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("Could not convert"), "{run:?}");
    // A manifest of February in January's folder.
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        BASE,
        &[(headers(&[]), vec![row("a", 1, "1", &[])])],
        &[],
    );
    let m = tree.join("r/20240101-20240201/r-Manifest.json");
    let text = std::fs::read_to_string(&m)
        .unwrap()
        .replace("20240101T000000.000Z", "20240201T000000.000Z")
        .replace(
            "\"end\":\"20240201T000000.000Z\"",
            "\"end\":\"20240301T000000.000Z\"",
        );
    std::fs::write(&m, text).unwrap();
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("its billing period 2024-02 is not the one of its folder 20240101-20240201")
            && !run.stderr.contains("changed while reading"),
        "{run:?}"
    );
    let _ = venv;
}

/// Case 2: exports whose names normalise to the same table name keep their own raw tables;
/// importing one never deletes the other's rows.
#[test]
fn exports_whose_names_normalise_alike_keep_their_own_tables() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    for (name, cost) in [
        ("team-cur", "1.25"),
        ("team_cur", "10"),
        ("Team_Cur", "100"),
    ] {
        cur1(
            &tree,
            "",
            name,
            1,
            "a1",
            BASE,
            &[(headers(&[]), vec![row("x", 1, cost, &[])])],
            &[],
        );
    }
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let tables = sb.query(
        &venv,
        "SELECT export, target_table AS t FROM meta.load_state ORDER BY export",
    );
    let names: Vec<&str> = tables.iter().map(|r| r["t"].as_str().unwrap()).collect();
    let distinct: std::collections::BTreeSet<&&str> = names.iter().collect();
    assert_eq!(distinct.len(), 3, "{tables:?}");
    for (name, cost) in [
        ("team-cur", "1.25"),
        ("team_cur", "10"),
        ("Team_Cur", "100"),
    ] {
        let t = tables.iter().find(|r| r["export"] == name).unwrap()["t"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = one(
            &sb,
            &venv,
            &format!(
                "SELECT count(*) AS n, CAST(sum(line_item_unblended_cost) AS DOUBLE) AS c FROM {t}"
            ),
        );
        assert_eq!(
            (r["n"].as_i64(), r["c"].as_f64()),
            (Some(1), cost.parse().ok()),
            "{name} in {t}"
        );
        let f = one(
            &sb,
            &venv,
            &format!(
                "SELECT CAST(sum(BilledCost) AS DOUBLE) AS c FROM focus.cost_and_usage WHERE x_source = 'aws/{name}'"
            ),
        );
        assert_eq!(f["c"].as_f64(), cost.parse().ok(), "{name}");
    }
    // Importing one of them again (a re-issue) leaves the others' rows.
    cur1(
        &tree,
        "",
        "team_cur",
        1,
        "a2",
        BASE,
        &[(headers(&[]), vec![row("y", 1, "20", &[])])],
        &[],
    );
    let run = import(&sb, &tree, &["--report", "team_cur"]);
    assert_eq!(run.code, 0, "{run:?}");
    let total = one(
        &sb,
        &venv,
        "SELECT CAST(sum(BilledCost) AS DOUBLE) AS c FROM focus.cost_and_usage",
    );
    assert_eq!(total["c"].as_f64(), Some(121.25));
}

/// Case 3: a manifest that lists a data file twice loads it once.
#[test]
fn a_data_file_listed_twice_loads_once() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    let keys = cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        BASE,
        &[(
            headers(&[]),
            vec![row("a", 1, "3", &[]), row("b", 1, "4", &[])],
        )],
        &[],
    );
    // The same key again in both manifests.
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        BASE,
        &[(
            headers(&[]),
            vec![row("a", 1, "3", &[]), row("b", 1, "4", &[])],
        )],
        &keys,
    );
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("lists 1 data file(s) more than once"),
        "{run:?}"
    );
    let r = one(
        &sb,
        &venv,
        "SELECT count(*) AS n, CAST(sum(line_item_unblended_cost) AS DOUBLE) AS c FROM aws.cur_r",
    );
    assert_eq!(r, json!({"n": 2, "c": 7.0}));
}

/// Case 4: a local copy of `s3://b/cur/` whose report is also called `cur` (keys
/// `cur/cur/<period>/…`) loads.
#[test]
fn a_prefix_named_like_the_report_is_read() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("copy-of-cur");
    cur1(
        &tree,
        "cur",
        "cur",
        1,
        "a1",
        BASE,
        &[(headers(&[]), vec![row("a", 1, "5", &[])])],
        &[],
    );
    let run = import(&sb, &tree, &["--report", "cur"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        one(&sb, &venv, "SELECT count(*) AS n FROM aws.cur_cur")["n"],
        1
    );
}

/// Cases 5 and 6: tag keys that differ only in case load as two tags; tag keys that
/// normalise alike (`user:CostCenter`, `user:cost-center`) in different months never share a
/// raw column.
#[test]
fn tag_keys_keep_their_own_columns_across_months() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    let mut cols: Vec<(&str, &str)> = BASE.to_vec();
    cols.extend([
        ("resourceTags/user:Team", "String"),
        ("resourceTags/user:team", "String"),
    ]);
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        &cols,
        &[(
            headers(&["resourceTags/user:Team", "resourceTags/user:team"]),
            vec![row("a", 1, "1", &["core", "data"])],
        )],
        &[],
    );
    let mut feb: Vec<(&str, &str)> = BASE.to_vec();
    feb.push(("resourceTags/user:CostCenter", "String"));
    cur1(
        &tree,
        "",
        "r",
        2,
        "b1",
        &feb,
        &[(
            headers(&["resourceTags/user:CostCenter"]),
            vec![row("b", 2, "2", &["cc-1"])],
        )],
        &[],
    );
    let mut mar: Vec<(&str, &str)> = BASE.to_vec();
    mar.push(("resourceTags/user:cost-center", "String"));
    cur1(
        &tree,
        "",
        "r",
        3,
        "c1",
        &mar,
        &[(
            headers(&["resourceTags/user:cost-center"]),
            vec![row("c", 3, "3", &["cc-2"])],
        )],
        &[],
    );
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let raw = sb.query(
        &venv,
        "SELECT identity_line_item_id AS id, resource_tags_user_team AS t1, resource_tags_user_team_2 AS t2, \
         resource_tags_user_cost_center AS c1, resource_tags_user_cost_center_2 AS c2 FROM aws.cur_r ORDER BY id",
    );
    assert_eq!(
        raw,
        [
            json!({"id": "a", "t1": "core", "t2": "data", "c1": null, "c2": null}),
            json!({"id": "b", "t1": null, "t2": null, "c1": "cc-1", "c2": null}),
            json!({"id": "c", "t1": null, "t2": null, "c1": null, "c2": "cc-2"}),
        ]
    );
    let tags = sb.query(
        &venv,
        "SELECT Tags AS t FROM focus.cost_and_usage ORDER BY ChargePeriodStart",
    );
    assert_eq!(
        tags,
        [
            json!({"t": "{\"user:Team\":\"core\",\"user:team\":\"data\"}"}),
            json!({"t": "{\"user:CostCenter\":\"cc-1\"}"}),
            json!({"t": "{\"user:cost-center\":\"cc-2\"}"}),
        ]
    );
    // March again: the column it was given is kept.
    let run = import(&sb, &tree, &["--force", "--start", "2024-03"]);
    assert_eq!(run.code, 0, "{run:?}");
    let again = one(
        &sb,
        &venv,
        "SELECT count(resource_tags_user_cost_center_2) AS n, count(resource_tags_user_cost_center) AS m FROM aws.cur_r",
    );
    assert_eq!(again, json!({"n": 1, "m": 1}));
}

/// Case 7: times with a UTC offset are stored in UTC, in raw rows and FOCUS.
#[test]
fn times_with_utc_offsets_are_stored_in_utc() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    let mut a = row("a", 1, "1", &[]);
    a[5] = "2024-01-10T05:00:00+02:00".into();
    a[6] = "2024-01-10T06:00:00+0200".into();
    let mut b = row("b", 1, "1", &[]);
    b[5] = "2024-01-10T05:00:00-0800".into();
    b[6] = "2024-01-10T14:00:00.000Z".into();
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        BASE,
        &[(headers(&[]), vec![a, b])],
        &[],
    );
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let raw = sb.query(
        &venv,
        "SELECT CAST(line_item_usage_start_date AS VARCHAR) AS s, CAST(line_item_usage_end_date AS VARCHAR) AS e FROM aws.cur_r ORDER BY 1",
    );
    assert_eq!(
        raw,
        [
            json!({"s": "2024-01-10 03:00:00", "e": "2024-01-10 04:00:00"}),
            json!({"s": "2024-01-10 13:00:00", "e": "2024-01-10 14:00:00"}),
        ]
    );
    let focus = sb.query(
        &venv,
        "SELECT CAST(ChargePeriodStart AS VARCHAR) AS s FROM focus.cost_and_usage ORDER BY 1",
    );
    assert_eq!(
        focus,
        [
            json!({"s": "2024-01-10 03:00:00"}),
            json!({"s": "2024-01-10 13:00:00"})
        ]
    );
}

/// Case 8: a billing-period folder that is a symbolic link inside the tree is followed; one
/// that points outside the tree is skipped with a warning naming it.
#[test]
fn symlinked_period_folders_are_followed_inside_the_tree() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    for (m, cost) in [(1, "1"), (2, "2")] {
        cur1(
            &tree,
            "",
            "r",
            m,
            &format!("a{m}"),
            BASE,
            &[(headers(&[]), vec![row("x", m, cost, &[])])],
            &[],
        );
    }
    // January moves to an archive folder inside the tree, February outside it.
    let archive = tree.join(".archive");
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::rename(
        tree.join("r/20240101-20240201"),
        archive.join("20240101-20240201"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        archive.join("20240101-20240201"),
        tree.join("r/20240101-20240201"),
    )
    .unwrap();
    let outside = sb.dir.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::rename(
        tree.join("r/20240201-20240301"),
        outside.join("20240201-20240301"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.join("20240201-20240301"),
        tree.join("r/20240201-20240301"),
    )
    .unwrap();
    let run = import(&sb, &tree, &["--report", "r"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("skipping")
            && run.stderr.contains("20240201-20240301")
            && run.stderr.contains("outside"),
        "{run:?}"
    );
    let r = one(
        &sb,
        &venv,
        "SELECT strftime(min(billing_period), '%Y-%m') AS p, count(*) AS n FROM aws.cur_r",
    );
    assert_eq!(r, json!({"p": "2024-01", "n": 1}));
}

/// Case 16: a value that is not an amount names its value, column, file and line (and no
/// DuckDB error code); case 17: a 3 MB line loads, a 10 MB one is refused briefly.
#[test]
fn bad_values_and_long_lines_are_reported_where_they_are() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    let mut cols: Vec<(&str, &str)> = BASE.to_vec();
    cols.push(("resourceTags/user:Note", "String"));
    let big = "y".repeat(3_000_000);
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        &cols,
        &[(
            headers(&["resourceTags/user:Note"]),
            vec![row("a", 1, "1", &[""]), row("b", 1, "2", &[&big])],
        )],
        &[],
    );
    let run = import(&sb, &tree, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        one(
            &sb,
            &venv,
            "SELECT max(length(resource_tags_user_note)) AS n FROM aws.cur_r"
        )["n"],
        3_000_000
    );
    // February: the third line's cost is NaN.
    cur1(
        &tree,
        "",
        "r",
        2,
        "b1",
        BASE,
        &[(
            headers(&[]),
            vec![row("a", 2, "1", &[]), row("b", 2, "NaN", &[])],
        )],
        &[],
    );
    let run = import(&sb, &tree, &["--start", "2024-02"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("value `NaN` in column lineItem/UnblendedCost of ")
            && run
                .stderr
                .contains("r-00001.csv.gz, line 3 is NaN or infinite, not an amount"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("Unknown error code"), "{run:?}");
    // March: a 10 MB line.
    let huge = "z".repeat(10_000_000);
    cur1(
        &tree,
        "",
        "r",
        3,
        "c1",
        &cols,
        &[(
            headers(&["resourceTags/user:Note"]),
            vec![row("a", 3, "1", &[&huge])],
        )],
        &[],
    );
    let run = import(&sb, &tree, &["--start", "2024-03"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.len() < 20_000,
        "{} bytes of stderr",
        run.stderr.len()
    );
    assert!(
        run.stderr.contains("Maximum line size")
            && !run.stderr.contains("max_line_size")
            && !run.stderr.contains("Unknown error code"),
        "{}",
        &run.stderr[..run.stderr.len().min(3000)]
    );
}

/// Cases 18, 19 and 22: a start after the end is refused (not "0 periods"); a stray folder
/// that no export can be named like is skipped with a warning; `--path` one level too deep,
/// or a file, says so.
#[test]
fn usage_mistakes_are_refused_or_explained() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    cur1(
        &tree,
        "",
        "r",
        1,
        "a1",
        BASE,
        &[(headers(&[]), vec![row("a", 1, "1", &[])])],
        &[],
    );
    crate::harness::copy_tree(&tree.join("r"), &tree.join("r copy"));
    let p = tree.display().to_string();
    for args in [
        vec![
            "aws",
            "import-cur",
            "--path",
            &p,
            "--start",
            "2024-03",
            "--end",
            "2024-01",
        ],
        vec![
            "aws",
            "list-exports",
            "--path",
            &p,
            "--start",
            "2024-03",
            "--end",
            "2024-01",
        ],
    ] {
        let run = sb.finops(&args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr
                .contains("--start 2024-03 is after --end 2024-01"),
            "{run:?}"
        );
    }
    let run = sb.finops(&["aws", "import-cur", "--path", &p]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("skipping the folder `r copy`"),
        "{run:?}"
    );
    assert_eq!(
        one(&sb, &venv, "SELECT count(*) AS n FROM aws.cur_r")["n"],
        1
    );
    let deep = tree.join("r").display().to_string();
    let run = sb.finops(&["aws", "import-cur", "--path", &deep]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("one export's billing periods"),
        "{run:?}"
    );
    let run = sb.finops(&["aws", "import-cur", "--path", &deep, "--report", "r"]);
    assert!(run.stderr.contains("one level too deep"), "{run:?}");
    let file = tree.join("r/20240101-20240201/r-Manifest.json");
    let run = sb.finops(&["aws", "import-cur", "--path", &file.display().to_string()]);
    assert!(run.stderr.contains("is a file, not a directory"), "{run:?}");
}

/// Case 23: S3 without any credentials says so, with the ways to provide them.
#[test]
fn no_aws_credentials_is_said_plainly() {
    let venv = require_venv!();
    let moto = crate::harness::Moto::start(&venv);
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::harness::finops_bin())
        .args([
            "--warehouse",
            "w.duckdb",
            "aws",
            "import-cur",
            "--bucket",
            "b",
            "--endpoint-url",
            &moto.endpoint,
        ])
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no credentials were found")
            && stderr.contains("AWS_ACCESS_KEY_ID")
            && stderr.contains("--profile")
            && !stderr.contains("check --endpoint-url"),
        "{stderr}"
    );
}

/// The run folders of `month` (`2024-01`) under a generated Azure tree.
fn azure_runs(tree: &Path, export: &str, month: &str) -> Vec<std::path::PathBuf> {
    let compact = month.replace('-', "");
    let root = tree.join("exports").join(export);
    let mut out = Vec::new();
    for range in std::fs::read_dir(&root).unwrap() {
        let range = range.unwrap().path();
        if !range
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&compact)
        {
            continue;
        }
        for stamp in std::fs::read_dir(&range).unwrap() {
            for run in std::fs::read_dir(stamp.unwrap().path()).unwrap() {
                out.push(run.unwrap().path());
            }
        }
    }
    out
}

/// Cases 9, 10 and 11 (Azure): a run covering two months is refused, not filed under the
/// first; a newer run with a byte order mark loads, one that cannot be read fails its month
/// instead of hiding; a truncated file whose manifest gives the row count fails its month.
#[test]
fn azure_runs_are_checked_before_they_replace_a_month() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let generate = |dir: &str, run: &str| {
        crate::harness::generate(
            &venv,
            "azuregen.py",
            &sb.dir.path().join(dir),
            "costs",
            &[
                "--root",
                "exports",
                "--dataset",
                "actual",
                "--rows",
                "50",
                "--run",
                run,
            ],
        )
    };
    let t1 = generate("g1", "1");
    let tree = sb.dir.path().join("g1/tree");
    let path = tree.display().to_string();
    let import = || {
        sb.finops(&[
            "azure",
            "import-exports",
            "--path",
            &path,
            "--prefix",
            "exports",
        ])
    };
    let run = import();
    assert_eq!(run.code, 0, "{run:?}");
    let month = |p: &str| {
        one(
            &sb,
            &venv,
            &format!(
                "SELECT count(*) AS n, CAST(sum(cost_in_billing_currency) AS VARCHAR) AS c FROM azure.actual_costs WHERE billing_period = '{p}-01'"
            ),
        )
    };
    let (jan1, feb1) = (month("2024-01"), month("2024-02"));
    assert_eq!(jan1["n"], t1["periods"]["2024-01"]["rows"]);
    // Case 10: a newer January run whose manifest starts with a byte order mark.
    let t2 = generate("g2", "2");
    for r in azure_runs(&sb.dir.path().join("g2/tree"), "costs", "2024-01") {
        let dest = tree.join(r.strip_prefix(sb.dir.path().join("g2/tree")).unwrap());
        crate::harness::copy_tree(&r, &dest);
        let m = dest.join("manifest.json");
        let mut bytes = b"\xef\xbb\xbf".to_vec();
        bytes.extend(std::fs::read(&m).unwrap());
        std::fs::write(&m, bytes).unwrap();
    }
    let run = import();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(month("2024-01")["n"], t2["periods"]["2024-01"]["rows"]);
    let jan2 = month("2024-01");
    // A newer January run that cannot be read: January fails, loudly, and keeps run 2.
    generate("g3", "3");
    for r in azure_runs(&sb.dir.path().join("g3/tree"), "costs", "2024-01") {
        let dest = tree.join(r.strip_prefix(sb.dir.path().join("g3/tree")).unwrap());
        crate::harness::copy_tree(&r, &dest);
        std::fs::write(dest.join("manifest.json"), "{ not json").unwrap();
    }
    let run = import();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not an export run manifest"), "{run:?}");
    assert_eq!(month("2024-01"), jan2);
    let failed = one(
        &sb,
        &venv,
        "SELECT count(*) AS n FROM meta.load_history WHERE status = 'failed' AND billing_period = '2024-01-01'",
    );
    assert_eq!(failed["n"], 1);
    std::fs::remove_dir_all(
        azure_runs(&tree, "costs", "2024-01")
            .into_iter()
            .find(|r| {
                std::fs::read_to_string(r.join("manifest.json"))
                    .unwrap()
                    .starts_with("{ not")
            })
            .unwrap(),
    )
    .unwrap();
    // Case 11: a newer February run with a truncated part and no byteCount.
    generate("g4", "4");
    for r in azure_runs(&sb.dir.path().join("g4/tree"), "costs", "2024-02") {
        let dest = tree.join(r.strip_prefix(sb.dir.path().join("g4/tree")).unwrap());
        crate::harness::copy_tree(&r, &dest);
        let m = dest.join("manifest.json");
        let mut manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
        for b in manifest["blobs"].as_array_mut().unwrap() {
            b.as_object_mut().unwrap().remove("byteCount");
        }
        std::fs::write(&m, manifest.to_string()).unwrap();
        let part = dest.join("part_1_0001.csv");
        let text = std::fs::read_to_string(&part).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&part, lines[..lines.len() / 2].join("\r\n") + "\r\n").unwrap();
    }
    let run = import();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("but the manifest says"), "{run:?}");
    assert_eq!(month("2024-02"), feb1);
    // Case 9: a run of January 15 to February 14 is refused, not filed under January.
    generate("g5", "5");
    for r in azure_runs(&sb.dir.path().join("g5/tree"), "costs", "2024-02") {
        std::fs::remove_dir_all(&r).unwrap();
    }
    let g5 = sb.dir.path().join("g5/tree");
    let run_dir = azure_runs(&g5, "costs", "2024-01").pop().unwrap();
    let m = run_dir.join("manifest.json");
    let mut manifest: Value = serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    manifest["runInfo"]["startDate"] = json!("2024-01-15T00:00:00");
    manifest["runInfo"]["endDate"] = json!("2024-02-14T00:00:00");
    std::fs::write(&m, manifest.to_string()).unwrap();
    let dest = tree.join(run_dir.strip_prefix(&g5).unwrap());
    crate::harness::copy_tree(&run_dir, &dest);
    let run = import();
    assert!(
        run.stderr.contains("more than one billing period"),
        "{run:?}"
    );
    assert_eq!(month("2024-01"), jan2, "January is still run 2");
}

/// Case 21: `report --by tag:Team` reads AWS's `user:Team`; a tag no row has is said, with
/// the keys that exist.
#[test]
fn report_tags_match_aws_keys_or_name_the_ones_there() {
    let venv = require_venv!();
    let sb = Sandbox::new();
    let dir = sb.dir.path().join("gen");
    crate::harness::generate(
        &venv,
        "awsgen.py",
        &dir,
        "tagged",
        &["--kind", "cur1", "--rows", "600", "--months", "1"],
    );
    let run = import(&sb, &dir.join("tree"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = sb.finops(&["report", "costs", "--by", "tag:Team", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let groups: std::collections::BTreeSet<String> = run.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag:Team"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        groups.contains("core") && groups.contains("(none)"),
        "{groups:?}"
    );
    let run = sb.finops(&["report", "costs", "--by", "tag:owner", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("no FOCUS row has tag `owner`")
            && run.stderr.contains("user:Team")
            && run.stderr.contains("user:Environment"),
        "{run:?}"
    );
}
