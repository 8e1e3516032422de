//! The conformance suite (issue #18): one scenario that every export kind runs, so that what
//! core promises holds for every vendor, and a new vendor gets all of it by adding one
//! [`Fixture`] to [`FIXTURES`]:
//!
//! 1. an import loads every period, rows and exact (stored) cost as the generator counted
//!    them, and the FOCUS rows it expects;
//! 2. a re-run changes nothing;
//! 3. a re-issued period replaces exactly that period;
//! 4. a truncated (or, for compressed files, corrupt) file fails its period, names the file,
//!    and keeps what was loaded; once the file is whole the period loads, and the warehouse
//!    then equals a clean import of the same files;
//! 5. a crash at every fault point leaves only whole versions, and a re-run equals a clean run;
//! 6. `finops focus validate` finds nothing, and focus-validator's failures are a subset of
//!    its proven defects (`focus-validator-defects.csv`), so a new failure of ours cannot
//!    hide among them.
//!
//! The data is generated dirty (floating-point money, E-notation), at a small size: the
//! scenario, not the volume, is under test here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Sandbox, copy_tree, files_under, focus_validator, generate, repo_root};
use crate::require_venv;

/// One export the fixture generates.
struct Export {
    /// `awsgen.py` or `azuregen.py`.
    script: &'static str,
    /// Its name.
    name: &'static str,
    /// The generator's arguments (besides export, out, totals).
    args: &'static [&'static str],
    /// Its FOCUS rows per period: all the generator's, or only the commitment purchases
    /// (an actual export paired with an amortized one).
    purchases_only: bool,
}

/// One export kind of one vendor.
struct Fixture {
    /// For messages.
    name: &'static str,
    /// `finops <vendor> import`.
    vendor: &'static str,
    /// The exports generated into one tree (a pair for Azure actual + amortized).
    exports: &'static [Export],
    /// The generator's argument for a re-issue (a new version of every period).
    reissue: &'static [&'static str],
    /// The folder names of January and February in this kind's layout.
    months: [&'static str; 2],
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "AWS CUR v1 (csv.gz, two parts)",
        vendor: "aws",
        exports: &[Export {
            script: "awsgen.py",
            name: "legacy",
            args: &[
                "--kind", "cur1", "--rows", "400", "--months", "2", "--parts", "2",
            ],
            purchases_only: false,
        }],
        reissue: &["--revision", "1"],
        months: ["20240101-20240201", "20240201-20240301"],
    },
    Fixture {
        name: "AWS CUR 2.0 (Parquet)",
        vendor: "aws",
        exports: &[Export {
            script: "awsgen.py",
            name: "cur2",
            args: &["--kind", "cur2", "--rows", "400", "--months", "2"],
            purchases_only: false,
        }],
        reissue: &["--revision", "1"],
        months: ["BILLING_PERIOD=2024-01", "BILLING_PERIOD=2024-02"],
    },
    Fixture {
        name: "AWS FOCUS 1.0 export (csv.gz)",
        vendor: "aws",
        exports: &[Export {
            script: "awsgen.py",
            name: "focus",
            args: &[
                "--kind", "focus", "--format", "csv", "--rows", "400", "--months", "2",
            ],
            purchases_only: false,
        }],
        reissue: &["--revision", "1"],
        months: ["BILLING_PERIOD=2024-01", "BILLING_PERIOD=2024-02"],
    },
    Fixture {
        name: "Azure FocusCost (Parquet)",
        vendor: "azure",
        exports: &[Export {
            script: "azuregen.py",
            name: "focuscost",
            args: &["--dataset", "focus", "--format", "parquet", "--rows", "150"],
            purchases_only: false,
        }],
        reissue: &["--run", "2"],
        months: ["20240101-20240131", "20240201-20240229"],
    },
    Fixture {
        name: "Azure EA actual + amortized (CSV)",
        vendor: "azure",
        exports: &[
            Export {
                script: "azuregen.py",
                name: "ea-actual",
                args: &["--dataset", "actual", "--rows", "150"],
                purchases_only: true,
            },
            Export {
                script: "azuregen.py",
                name: "ea-amortized",
                args: &["--dataset", "amortized", "--rows", "150"],
                purchases_only: false,
            },
        ],
        reissue: &["--run", "2"],
        months: ["20240101-20240131", "20240201-20240229"],
    },
    Fixture {
        name: "Google Cloud detailed export (JSON, gzip, two shards)",
        vendor: "gcp",
        exports: &[Export {
            script: "gcpgen.py",
            name: "detailed",
            args: &[
                "--schema",
                "detailed",
                "--format",
                "json",
                "--gzip",
                "--rows",
                "150",
                "--months",
                "2024-01,2024-02",
                "--currency",
                "EUR",
            ],
            purchases_only: false,
        }],
        reissue: &["--seed", "2"],
        months: ["invoice_month=202401", "invoice_month=202402"],
    },
    Fixture {
        name: "Google Cloud FOCUS export (Parquet)",
        vendor: "gcp",
        exports: &[Export {
            script: "gcpgen.py",
            name: "focus",
            args: &[
                "--schema",
                "focus",
                "--format",
                "parquet",
                "--rows",
                "150",
                "--months",
                "2024-01,2024-02",
            ],
            purchases_only: false,
        }],
        reissue: &["--seed", "2"],
        months: ["invoice_month=202401", "invoice_month=202402"],
    },
    Fixture {
        name: "Oracle FOCUS reports (csv.gz, drifting headers, split parts)",
        vendor: "oracle",
        exports: &[Export {
            script: "ocigen.py",
            name: "focus-reports",
            args: &["--rows", "120", "--days", "4"],
            purchases_only: false,
        }],
        reissue: &["--revision", "1"],
        months: ["Reports/2024/01/", "Reports/2024/02/"],
    },
    Fixture {
        name: "source plugin focus-folder (FOCUS csv.gz, two parts)",
        vendor: "focus-folder",
        exports: &[Export {
            script: "plugingen.py",
            name: "acme",
            args: &[],
            purchases_only: false,
        }],
        reissue: &["--seed", "2"],
        months: ["2024-01", "2024-02"],
    },
    Fixture {
        name: "source plugin csv-invoice (raw CSV and its own mapping)",
        vendor: "csv-invoice",
        exports: &[Export {
            script: "invoicegen.py",
            name: "invoices",
            args: &[],
            purchases_only: false,
        }],
        reissue: &["--seed", "2"],
        months: ["invoice-2024-01", "invoice-2024-02"],
    },
];

/// The fault points, in the order an import reaches them.
const POINTS: [&str; 7] = [
    "download",
    "before-load",
    "parse",
    "insert",
    "before-commit",
    "after-commit",
    "between-periods",
];

/// Generates every export of `fx` into `<out>/tree`, with `extra` arguments; returns each
/// export's totals.
fn generate_all(venv: &Path, fx: &Fixture, out: &Path, extra: &[&str]) -> Vec<Value> {
    fx.exports
        .iter()
        .map(|e| {
            let common: &[&str] = if e.script == "awsgen.py" {
                &["--prefix", "exports", "--threads", "2", "--dirty"]
            } else {
                &["--root", "exports", "--dirty"]
            };
            let args = [common, e.args, extra].concat();
            generate(venv, e.script, out, e.name, &args)
        })
        .collect()
}

/// What the warehouse holds, per export and period: the load state (version, rows, cost),
/// and of the raw and FOCUS rows their count, exact cost sum and a hash of every row (which
/// catches duplicates and mixed versions that happen to have the same count and sum). FOCUS's
/// `x_RowId` is left out of the hash: it numbers the rows in the order a parallel insert
/// wrote them, which differs between two runs of the same data.
fn state(sb: &Sandbox, venv: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let loads = sb.query(
        venv,
        "SELECT source || '/' || export AS x, strftime(billing_period, '%Y-%m') AS p, version_id AS v, \
         rows AS n, CAST(cost AS VARCHAR) AS c, target_table AS t FROM meta.load_state ORDER BY ALL",
    );
    // Raw table → its export.
    let mut tables = BTreeMap::new();
    for l in &loads {
        tables.insert(
            l["t"].as_str().unwrap().to_owned(),
            l["x"].as_str().unwrap().to_owned(),
        );
        out.insert(
            format!(
                "state {} {}",
                l["x"].as_str().unwrap(),
                l["p"].as_str().unwrap()
            ),
            serde_json::json!([l["v"], l["n"], l["c"]]),
        );
    }
    for (t, export) in tables {
        for r in sb.query(
            venv,
            &format!(
                "SELECT strftime(billing_period, '%Y-%m') AS p, count(*) AS n, CAST(sum(hash(r)) AS VARCHAR) AS h \
                 FROM {t} r GROUP BY 1 ORDER BY 1"
            ),
        ) {
            out.insert(
                format!("raw {export} {}", r["p"].as_str().unwrap()),
                serde_json::json!([r["n"], r["h"]]),
            );
        }
    }
    for r in sb.query(
        venv,
        "SELECT x_source AS x, strftime(x_billing_period, '%Y-%m') AS p, count(*) AS n, \
         CAST(sum(BilledCost) AS VARCHAR) AS b, CAST(sum(hash(f)) AS VARCHAR) AS h \
         FROM (SELECT * EXCLUDE (\"x_RowId\") FROM focus.cost_and_usage) f GROUP BY ALL ORDER BY ALL",
    ) {
        out.insert(
            format!(
                "focus {} {}",
                r["x"].as_str().unwrap(),
                r["p"].as_str().unwrap()
            ),
            serde_json::json!([r["n"], r["b"], r["h"]]),
        );
    }
    // A crashed load's table is dropped by the next load: a clean run, and a re-run after a
    // crash (compared with it), have none.
    let loading = sb.query(
        venv,
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'raw_periods' \
         AND starts_with(table_name, '(loading) ')",
    );
    out.insert("loading tables".into(), loading[0]["n"].clone());
    // Whatever order the insert wrote them in, a source × period's row ids are 1, 2, 3….
    for r in sb.query(
        venv,
        "SELECT x_source AS x, strftime(x_billing_period, '%Y-%m') AS p, count(*) AS n, \
         min(\"x_RowId\") AS i0, max(\"x_RowId\") AS i1, count(DISTINCT \"x_RowId\") AS ni \
         FROM focus.cost_and_usage GROUP BY ALL ORDER BY ALL",
    ) {
        assert_eq!(
            (&r["i0"], &r["i1"], &r["ni"]),
            (&serde_json::json!(1), &r["n"], &r["n"]),
            "x_RowId of {} {}",
            r["x"],
            r["p"]
        );
    }
    // FOCUS's and the allocation's rows and totals per period and currency (row ids differ
    // between runs: rows, not a hash).
    for (prefix, table) in [
        ("total", "focus.cost_and_usage"),
        ("allocated", "focus.allocated_cost"),
    ] {
        let exists = sb.query(
            venv,
            &format!(
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema || '.' || table_name = '{table}'"
            ),
        );
        if exists[0]["n"] == 0 {
            continue;
        }
        for r in sb.query(
            venv,
            &format!(
                "SELECT strftime(x_billing_period, '%Y-%m') AS p, coalesce(BillingCurrency, '-') AS c, \
                 count(DISTINCT (x_source, \"x_RowId\")) AS n, CAST(sum(BilledCost) AS VARCHAR) AS b, \
                 CAST(sum(EffectiveCost) AS VARCHAR) AS e FROM {table} GROUP BY ALL ORDER BY ALL"
            ),
        ) {
            out.insert(
                format!(
                    "{prefix} {} {}",
                    r["p"].as_str().unwrap(),
                    r["c"].as_str().unwrap()
                ),
                serde_json::json!([r["n"], r["b"], r["e"]]),
            );
        }
    }
    out
}

/// The entries of `state` for the period `p` (`2024-01`).
fn of_period(state: &BTreeMap<String, Value>, p: &str) -> BTreeMap<String, Value> {
    of_export_period(state, "", p)
}

/// The entries of `state` for the export `x` (`aws/legacy`; empty: all) and the period `p`:
/// one load, which must be whole.
fn of_export_period(state: &BTreeMap<String, Value>, x: &str, p: &str) -> BTreeMap<String, Value> {
    state
        .iter()
        .filter(|(k, _)| k.ends_with(p) && k.contains(&format!("{x} ")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The load state matches the generator's totals for `periods`: version, rows, stored cost;
/// and FOCUS has the rows the generator expects.
fn assert_totals(
    fx: &Fixture,
    state: &BTreeMap<String, Value>,
    totals: &[Value],
    periods: &[&str],
) {
    for p in periods {
        let mut focus_rows = 0;
        for (e, t) in fx.exports.iter().zip(totals) {
            let want = &t["periods"][*p];
            let got = &state[&format!("state {}/{} {p}", fx.vendor, e.name)];
            assert!(
                got[0]
                    .as_str()
                    .unwrap()
                    .starts_with(want["version"].as_str().unwrap()),
                "{}: {p} version {got} vs {want}",
                fx.name
            );
            assert_eq!(got[1], want["rows"], "{}: {} {p} rows", fx.name, e.name);
            assert_eq!(
                crate::harness::scaled(got[2].as_str().unwrap()),
                crate::harness::scaled(want["cost_stored"].as_str().unwrap()),
                "{}: {} {p} cost",
                fx.name,
                e.name
            );
            focus_rows += if e.purchases_only {
                want["purchase_rows"].as_u64().unwrap()
            } else {
                want["focus_rows"].as_u64().unwrap()
            };
        }
        let in_focus: u64 = state
            .iter()
            .filter(|(k, _)| k.starts_with("focus ") && k.ends_with(p))
            .map(|(_, v)| v[0].as_u64().unwrap())
            .sum();
        assert_eq!(in_focus, focus_rows, "{}: FOCUS rows of {p}", fx.name);
    }
}

/// The cloud re-issues `month` (a folder name of its layout): its files in `live` are
/// replaced by those of `from`.
fn reissue(live: &Path, from: &Path, month: &str) {
    reissue_of(live, from, month, "");
}

/// [`reissue`] for the files under `within` (`exports/<export>/`) only.
fn reissue_of(live: &Path, from: &Path, month: &str, within: &str) {
    let ours = |rel: &str| rel.contains(month) && rel.contains(within);
    for (rel, path) in files_under(live) {
        if ours(&rel) {
            std::fs::remove_file(path).unwrap();
        }
    }
    for (rel, path) in files_under(from) {
        if ours(&rel) {
            let dest = live.join(&rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(path, dest).unwrap();
        }
    }
}

/// The largest data file of `month` in `tree`.
fn data_file(tree: &Path, month: &str) -> PathBuf {
    files_under(tree)
        .into_iter()
        .filter(|(rel, _)| {
            rel.contains(month)
                && [".csv.gz", ".parquet", ".csv", ".json.gz"]
                    .iter()
                    .any(|ext| rel.ends_with(ext))
        })
        .max_by_key(|(_, p)| std::fs::metadata(p).unwrap().len())
        .map(|(_, p)| p)
        .expect("a data file")
}

fn import(sb: &Sandbox, fx: &Fixture, tree: &Path) -> crate::harness::Run {
    import_with(sb, fx, tree, &[])
}

fn import_with(
    sb: &Sandbox,
    fx: &Fixture,
    tree: &Path,
    env: &[(&str, &str)],
) -> crate::harness::Run {
    let path = tree.join("exports").display().to_string();
    // A source plugin of examples/plugins is found on PATH.
    let plugin = repo_root().join("examples/plugins").join(fx.vendor);
    let search = format!("{}:/usr/bin:/bin", plugin.display());
    let mut env = env.to_vec();
    if plugin.is_dir() {
        env.push(("PATH", search.as_str()));
    }
    sb.finops_with(&[fx.vendor, "import", "--path", &path], &env)
}

/// A sandbox with `tree` imported (asserted to succeed).
fn imported(fx: &Fixture, tree: &Path) -> Sandbox {
    let sb = Sandbox::new();
    // Every import also allocates (docs/allocation.md): the untagged cost of each period
    // spread over the teams, so every fault point of the scenario covers the allocation too.
    std::fs::write(sb.dir.path().join("finops.toml"), ALLOCATION).unwrap();
    let run = import(&sb, fx, tree);
    assert_eq!(run.code, 0, "{}: {run:?}", fx.name);
    sb
}

/// The allocation rules of every conformance sandbox.
const ALLOCATION: &str = "[tags]\n\
[[dimensions]]\nname = \"team\"\n[[dimensions.rules]]\ntag = \"team\"\n\
[[allocations]]\nname = \"untagged\"\ndimension = \"team\"\npool = { dimension_value = \"unallocated\" }\n";

/// `focus.allocated_cost` adds up to FOCUS, per period and currency, to the last digit.
fn assert_allocated(state: &BTreeMap<String, Value>, what: &str) {
    let totals: Vec<(&String, &Value)> = state
        .iter()
        .filter(|(k, _)| k.starts_with("total "))
        .collect();
    assert!(!totals.is_empty(), "{what}: no FOCUS totals");
    for (k, v) in totals {
        let alloc = format!("allocated {}", &k["total ".len()..]);
        assert_eq!(
            state.get(&alloc),
            Some(v),
            "{what}: {alloc} differs from {k}"
        );
    }
}

/// The rules focus-validator 2.2.1 fails whatever the data, each with why and the test that
/// proves it (`tests/e2e/focus-validator-defects.csv`).
fn validator_defects() -> Vec<[String; 3]> {
    let path = repo_root().join("tests/e2e/focus-validator-defects.csv");
    csv::Reader::from_path(&path)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            [r[0].to_owned(), r[1].to_owned(), r[2].to_owned()]
        })
        .collect()
}

fn run_fixture(fx: &Fixture, venv: &Path, fv: Option<&Path>) {
    let work = tempfile::tempdir().unwrap();
    let t0 = generate_all(venv, fx, &work.path().join("r0"), &[]);
    let t1 = generate_all(venv, fx, &work.path().join("r1"), fx.reissue);
    let (r0, r1) = (work.path().join("r0/tree"), work.path().join("r1/tree"));
    let [jan, feb] = fx.months;
    let both = ["2024-01", "2024-02"];

    // 1. Import: every period, counted and summed as the generator did.
    let live = work.path().join("live");
    copy_tree(&r0, &live);
    let sb = imported(fx, &live);
    let s0 = state(&sb, venv);
    assert_totals(fx, &s0, &t0, &both);
    assert_allocated(&s0, fx.name);

    // 2. A re-run changes nothing.
    let run = import(&sb, fx, &live);
    assert_eq!(run.code, 0, "{}: {run:?}", fx.name);
    assert_eq!(
        run.stdout.matches("loaded 0, failed 0").count(),
        fx.exports.len(),
        "{}: {run:?}",
        fx.name
    );
    assert_eq!(
        state(&sb, venv),
        s0,
        "{}: a re-run changed the warehouse",
        fx.name
    );

    // 3. A re-issued January replaces January, and only January.
    reissue(&live, &r1, jan);
    let run = import(&sb, fx, &live);
    assert_eq!(run.code, 0, "{}: {run:?}", fx.name);
    let s1 = state(&sb, venv);
    assert_totals(fx, &s1, &t1, &["2024-01"]);
    assert_allocated(&s1, fx.name);
    assert_eq!(
        of_period(&s1, "2024-02"),
        of_period(&s0, "2024-02"),
        "{}",
        fx.name
    );
    assert_ne!(
        of_period(&s1, "2024-01"),
        of_period(&s0, "2024-01"),
        "{}",
        fx.name
    );

    // 4. February re-issued (for one export of the fixture) with one file truncated (and,
    //    compressed, with one corrupt): the period fails, naming the file, and what was
    //    loaded stays.
    // The last export's folder; the whole tree where the vendor's layout has none per export
    // (Oracle's bucket holds `FOCUS Reports/` and `reports/`).
    let victim = Some(format!(
        "exports/{}/",
        fx.exports[fx.exports.len() - 1].name
    ))
    .filter(|v| live.join(v).is_dir())
    .unwrap_or_else(|| "exports/".to_owned());
    reissue_of(&live, &r1, feb, &victim);
    let file = data_file(&live.join(&victim), feb);
    let whole = std::fs::read(&file).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let mut damaged = vec![whole[..whole.len() / 2].to_vec()];
    if !name.to_ascii_lowercase().ends_with(".csv") {
        let mut garbled = whole.clone();
        let (mid, len) = (garbled.len() / 2, garbled.len());
        for b in &mut garbled[mid..mid + 64.min(len - mid - 8)] {
            *b = !*b;
        }
        damaged.push(garbled);
    }
    for bytes in damaged {
        std::fs::write(&file, bytes).unwrap();
        let run = import(&sb, fx, &live);
        assert!(matches!(run.code, 1 | 3), "{}: {run:?}", fx.name);
        assert!(
            run.stderr.contains(&name),
            "{}: the error names {name}: {run:?}",
            fx.name
        );
        assert_eq!(
            state(&sb, venv),
            s1,
            "{}: a bad file changed the warehouse",
            fx.name
        );
    }
    std::fs::write(&file, &whole).unwrap();
    reissue(&live, &r1, feb);
    let run = import(&sb, fx, &live);
    assert_eq!(run.code, 0, "{}: {run:?}", fx.name);
    let s2 = state(&sb, venv);
    assert_totals(fx, &s2, &t1, &both);
    // History does not matter: the same files imported afresh give the same warehouse.
    let clean = state(&imported(fx, &r1), venv);
    assert_eq!(s2, clean, "{}: differs from a clean import", fx.name);
    assert_allocated(&clean, fx.name);

    // 5. A crash at every step of re-issuing both months: only whole versions, then a re-run
    //    reaches the clean state, then a third run has nothing to do.
    for point in POINTS {
        let tree = work.path().join(format!("crash-{point}"));
        copy_tree(&r0, &tree);
        let sb = imported(fx, &tree);
        assert_eq!(state(&sb, venv), s0, "{}: {point}", fx.name);
        reissue(&tree, &r1, jan);
        reissue(&tree, &r1, feb);
        let run = import_with(&sb, fx, &tree, &[("FINOPS_FAILPOINTS", point)]);
        assert_eq!(
            run.signal,
            Some(6),
            "{}: {point}: must die by SIGABRT: {run:?}",
            fx.name
        );
        let after = state(&sb, venv);
        for e in fx.exports {
            let x = format!("{}/{}", fx.vendor, e.name);
            for p in both {
                let got = of_export_period(&after, &x, p);
                assert_eq!(
                    got.len(),
                    3,
                    "{}: {point}: state, raw and FOCUS of {x} {p}",
                    fx.name
                );
                assert!(
                    got == of_export_period(&s0, &x, p) || got == of_export_period(&clean, &x, p),
                    "{}: {point}: {x} {p} is neither the old nor the new version: {got:?}",
                    fx.name
                );
            }
        }
        let run = import(&sb, fx, &tree);
        assert_eq!(run.code, 0, "{}: {point}: {run:?}", fx.name);
        assert_eq!(
            state(&sb, venv),
            clean,
            "{}: {point}: re-run differs from a clean run",
            fx.name
        );
        let run = import(&sb, fx, &tree);
        assert_eq!(
            run.stdout.matches("loaded 0, failed 0").count(),
            fx.exports.len(),
            "{}: {point}: {run:?}",
            fx.name
        );
    }

    // 6. Both checkers.
    let run = sb.finops(&["focus", "validate", "--format", "json"]);
    assert_eq!(run.code, 0, "{}: {run:?}", fx.name);
    let Some(fv) = fv else { return };
    assert_validator_defects_only(&sb, fv, "2024-01", fx.name);
}

/// focus-validator, run over the FOCUS 1.2 export of `period`, fails only its proven defects
/// (`focus-validator-defects.csv`); `what` names the data in the message.
pub(crate) fn assert_validator_defects_only(sb: &Sandbox, fv: &Path, period: &str, what: &str) {
    let out = sb.dir.path().join("export");
    let run = sb.finops(&[
        "focus",
        "export",
        "--version",
        "1.2",
        "--format",
        "parquet",
        "--out",
        &out.display().to_string(),
        "--period",
        period,
    ]);
    assert_eq!(run.code, 0, "{what}: {run:?}");
    let v = focus_validator(fv, &out.join(format!("focus-1.2-{period}.parquet")));
    let defects: BTreeSet<String> = validator_defects().into_iter().map(|[r, ..]| r).collect();
    let ours: BTreeSet<&String> = v.failed.iter().filter(|r| !defects.contains(*r)).collect();
    assert!(
        ours.is_empty(),
        "{what}: focus-validator fails rules that are not its proven defects: {ours:?} ({:?})",
        v.counts
    );
}

macro_rules! conformance {
    ($($test:ident => $i:expr),* $(,)?) => {$(
        #[test]
        fn $test() {
            let venv = require_venv!();
            // Missing outside CI: the scenario runs without focus-validator's step.
            let fv = crate::harness::fv_venv();
            run_fixture(&FIXTURES[$i], &venv, fv.as_deref());
        }
    )*};
}

conformance! {
    aws_cur1 => 0,
    aws_cur2 => 1,
    aws_focus_export => 2,
    azure_focus_cost => 3,
    azure_actual_and_amortized => 4,
    gcp_detailed_json => 5,
    gcp_focus_export => 6,
    oracle_focus_reports => 7,
    plugin_focus_folder => 8,
    plugin_csv_invoice => 9,
}

/// A fixture added to [`FIXTURES`] needs its line in `conformance!` above: this fails until
/// it has one.
#[test]
fn every_fixture_runs() {
    let source = std::fs::read_to_string(repo_root().join("tests/e2e/conformance.rs")).unwrap();
    for i in 0..FIXTURES.len() {
        assert!(
            source.contains(&format!(" => {i},")),
            "fixture {i} has no test"
        );
    }
}

/// Each proven defect names a test that exists, and the rules the other tests allow beyond
/// the contradictions are in the list.
#[test]
fn validator_defects_are_proven() {
    let sources: String = files_under(&repo_root().join("tests/e2e"))
        .into_iter()
        .filter(|(rel, _)| rel.to_ascii_lowercase().ends_with(".rs"))
        .map(|(_, p)| std::fs::read_to_string(p).unwrap())
        .collect();
    let defects = validator_defects();
    assert!(defects.len() >= 12, "{defects:?}");
    for [rule, why, proof] in &defects {
        assert!(!why.is_empty(), "{rule}: no reason");
        assert!(
            sources.contains(&format!("#[test]\nfn {proof}()")),
            "{rule}: the proof `{proof}` is not a test"
        );
    }
    let listed: BTreeSet<&str> = defects.iter().map(|[r, ..]| r.as_str()).collect();
    for rule in crate::harness::VALIDATOR_BUGS.iter().chain(&[
        "InvoiceId-C-004-C",
        "EffectiveCost-C-005-C",
        "EffectiveCost-C-000-M",
    ]) {
        assert!(
            listed.contains(rule),
            "{rule} is allowed by a test but not listed"
        );
    }
}
