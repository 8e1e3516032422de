//! `finops allocate`: `focus.allocated_cost`, one row per FOCUS row and target, rebuilt per
//! billing period in one transaction, after every import and by the command.
//!
//! A row in no pool keeps its cost (`x_allocation` NULL) and gets the value of every
//! dimension from the rules. A row in an allocation's pool is split across the targets,
//! the values of the allocation's dimension; the other dimensions keep the row's values.
//!
//! The split is exact: the targets' weights become parts per billion (integers that add up
//! to 10⁹ by largest remainder), and each row's BilledCost and EffectiveCost, as an integer
//! of 10⁻²⁰ units (the FOCUS scale), is split by those parts, again by largest remainder.
//! So every row's shares add up to the row to the last digit, every pool to the pool, and
//! the table to the FOCUS table: checked before each period commits.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use finops_core::naming::{TableRef, quote_ident, quote_literal};
use finops_core::output::{ExitStatus, Table, print_table};
use finops_core::replace::ROW_ID;
use finops_core::{Context, Warehouse};
use serde_json::json;

use crate::error::Error;
use crate::rules::{AllocationConfig, Method, Rules, TagIndex};
use crate::{PeriodRange, focus_table};

/// `focus.allocated_cost`.
pub fn table() -> TableRef {
    TableRef::new(finops_core::focus::SCHEMA, "allocated_cost")
}

/// The state of each allocated period: its rules and load versions.
const STATE: &str = "allocation_state";

/// Ten to the ninth: the parts a pool's weights are made of.
const PARTS: &str = "1000000000";

/// `finops allocate`.
#[derive(Debug, clap::Args)]
pub struct AllocateArgs {
    /// Only these months, YYYY-MM or YYYY-MM..YYYY-MM (default: every imported month; new or
    /// removed [[dimensions]] make the table again with every month)
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    pub period: Option<PeriodRange>,
    /// Allocate again the periods that are current
    #[arg(long)]
    pub force: bool,
}

/// What one period's allocation did.
#[derive(Debug)]
pub struct Allocated {
    /// `2024-03`.
    pub period: String,
    /// `allocated` or `current`.
    pub status: &'static str,
    /// Rows written.
    pub rows: u64,
    /// FOCUS rows split by an allocation.
    pub pooled: u64,
}

/// Runs `finops allocate`.
pub fn run(ctx: &Context, args: &AllocateArgs) -> miette::Result<ExitStatus> {
    let rules = Rules::load(&ctx.settings)?;
    if rules.is_empty() {
        return Err(finops_core::Error::InvalidArguments {
            message: "no [[dimensions]] in the configuration: there is nothing to allocate".into(),
            help: "add a dimension and, to split shared cost, an allocation to finops.toml (docs/allocation.md):\n\n[[dimensions]]\nname = \"team\"\n[[dimensions.rules]]\ntag = \"team\"".into(),
        }
        .into());
    }
    let cfg = ctx.warehouse_config()?;
    drop(finops_core::focus::open_read_only(&cfg)?);
    let wh = ctx.open_warehouse()?;
    let done = allocate(&wh, &rules, args.period, args.force)?;
    let mut t = Table::new(vec!["period", "status", "rows", "pooled"]);
    for a in &done {
        t.push(vec![
            json!(a.period),
            json!(a.status),
            json!(a.rows),
            json!(a.pooled),
        ]);
    }
    print_table(ctx.ui.format, &t);
    Ok(ExitStatus::Success)
}

/// After an import: allocates the periods that changed, when there are rules. An error
/// leaves the import as it committed and says so.
pub fn after_import(ctx: &Context) -> miette::Result<()> {
    let rules = Rules::load(&ctx.settings)?;
    if rules.is_empty() {
        return Ok(());
    }
    let cfg = ctx.warehouse_config()?;
    let Some(ro) = Warehouse::open_read_only(&cfg)? else {
        return Ok(());
    };
    let f = finops_core::focus::table();
    if !ro.table_exists(&f.schema, &f.name)? {
        return Ok(());
    }
    drop(ro);
    let wh = ctx.open_warehouse()?;
    let done = allocate(&wh, &rules, None, false).map_err(|e| {
        miette::miette!(
            code = "finops::allocate::after_import",
            help = "the import committed; `finops allocate` finishes the allocation once the cause is fixed",
            "allocating the imported periods failed: {e}"
        )
    })?;
    for a in done.iter().filter(|a| a.status == "allocated") {
        tracing::info!(
            "allocated {}: {} rows ({} split)",
            a.period,
            a.rows,
            a.pooled
        );
    }
    Ok(())
}

/// Whether `focus.allocated_cost` is current for every period of the FOCUS table: the
/// periods that are not, for a report to refuse.
pub(crate) fn stale_periods(wh: &Warehouse, rules: &Rules) -> miette::Result<Vec<String>> {
    let t = table();
    if !wh.table_exists(&t.schema, &t.name)? {
        return Ok(vec![
            "every period (there is no focus.allocated_cost)".to_owned(),
        ]);
    }
    let wanted = fingerprints(wh, rules)?;
    let have = recorded(wh)?;
    Ok(wanted
        .into_iter()
        .filter(|(p, f)| have.get(p) != Some(f))
        .map(|(p, _)| p)
        .collect())
}

/// Period (`2024-03-01`) → the fingerprint its allocation must have: the rules and every
/// export's loaded version of it.
fn fingerprints(wh: &Warehouse, rules: &Rules) -> miette::Result<BTreeMap<String, String>> {
    let focus = focus_table(wh);
    let state = wh.meta_table("load_state");
    let has_state = wh.table_exists(finops_core::warehouse::META_SCHEMA, "load_state")?;
    let versions = if has_state {
        format!(
            "(SELECT billing_period, md5(string_agg(source || '/' || export || '/' || kind || '=' || version_id || '@' || CAST(loaded_at AS VARCHAR), ',' ORDER BY source, export, kind)) AS v FROM {state} GROUP BY billing_period)"
        )
    } else {
        "(SELECT NULL::DATE AS billing_period, NULL AS v)".to_owned()
    };
    let sql = format!(
        "SELECT CAST(p.x_billing_period AS VARCHAR), coalesce(s.v, '') FROM (SELECT DISTINCT x_billing_period FROM {focus}) p \
         LEFT JOIN {versions} s ON s.billing_period = p.x_billing_period ORDER BY 1"
    );
    let rows = wh.pairs(&sql, "reading the loaded periods")?;
    let rules = rules.fingerprint();
    Ok(rows
        .into_iter()
        .map(|(p, v)| (p, format!("{rules}:{v}")))
        .collect())
}

/// Period → the fingerprint recorded when it was allocated.
fn recorded(wh: &Warehouse) -> miette::Result<BTreeMap<String, String>> {
    if !wh.table_exists(finops_core::warehouse::META_SCHEMA, STATE)? {
        return Ok(BTreeMap::new());
    }
    let rows = wh.pairs(
        &format!(
            "SELECT CAST(x_billing_period AS VARCHAR), fingerprint FROM {}",
            wh.meta_table(STATE)
        ),
        "reading the allocation state",
    )?;
    Ok(rows.into_iter().collect())
}

/// Allocates every period (in `range`) that is not current, or all of them with `force`.
pub fn allocate(
    wh: &Warehouse,
    rules: &Rules,
    range: Option<PeriodRange>,
    force: bool,
) -> miette::Result<Vec<Allocated>> {
    timed("allocation: row ids", || number_rows(wh))?;
    let wanted = fingerprints(wh, rules)?;
    let columns_match = table_matches(wh, rules)?;
    let have = if columns_match {
        recorded(wh)?
    } else {
        BTreeMap::new()
    };
    // A table made again (new or other dimensions) holds every period: --period does not
    // narrow it.
    let in_range = |p: &str| {
        !columns_match
            || range.is_none_or(|r| {
                let (start, end) = r.bounds();
                p >= start.as_str() && p < end.as_str()
            })
    };
    let todo: Vec<(&String, &String)> = wanted
        .iter()
        .filter(|(p, f)| in_range(p) && (force || have.get(*p) != Some(*f) || !columns_match))
        .collect();
    let mut out: Vec<Allocated> = wanted
        .keys()
        .filter(|p| in_range(p) && !todo.iter().any(|(t, _)| t == p))
        .map(|p| Allocated {
            period: p[..7].to_owned(),
            status: "current",
            rows: 0,
            pooled: 0,
        })
        .collect();
    if todo.is_empty() {
        return Ok(out);
    }
    // Read only when there is something to allocate: a scan of every row's tags.
    let tags = timed("allocation: tag keys", || {
        TagIndex::load(wh, rules.tags.as_ref())
    })?;
    if columns_match {
        for (period, fingerprint) in &todo {
            out.push(in_transaction(wh, period, || {
                allocate_period(wh, rules, &tags, period, fingerprint)
            })?);
        }
    } else {
        // New or other dimensions: the table is made again, with every period, in one
        // transaction.
        let done = in_transaction(wh, "every period", || {
            create_table(wh, rules, true)?;
            todo.iter()
                .map(|(period, fingerprint)| allocate_period(wh, rules, &tags, period, fingerprint))
                .collect::<miette::Result<Vec<_>>>()
        })?;
        out.extend(done);
    }
    out.sort_by(|a, b| a.period.cmp(&b.period));
    Ok(out)
}

/// Runs `f` in one transaction: committed when it succeeds (past the fault point
/// `allocate-before-commit`), rolled back when it fails.
fn in_transaction<T>(
    wh: &Warehouse,
    what: &str,
    f: impl FnOnce() -> miette::Result<T>,
) -> miette::Result<T> {
    let conn = wh.conn();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::query(format!("starting the allocation of {what}")))?;
    match f() {
        Ok(v) => {
            finops_core::fault::point("allocate-before-commit");
            conn.execute_batch("COMMIT")
                .map_err(Error::query(format!("committing the allocation of {what}")))?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Gives FOCUS rows imported before row ids their ids (1, 2… within source × period).
fn number_rows(wh: &Warehouse) -> miette::Result<()> {
    let focus = focus_table(wh);
    let id = quote_ident(ROW_ID);
    wh.conn()
        .execute_batch(&format!(
            "ALTER TABLE {focus} ADD COLUMN IF NOT EXISTS {id} BIGINT"
        ))
        .map_err(Error::query("adding FOCUS row ids"))?;
    let missing: i64 = wh
        .conn()
        .query_row(
            &format!("SELECT count(*) FROM {focus} WHERE {id} IS NULL"),
            [],
            |r| r.get(0),
        )
        .map_err(Error::query("reading FOCUS row ids"))?;
    if missing > 0 {
        wh.conn()
            .execute_batch(&format!(
                "UPDATE {focus} SET {id} = n.id FROM (SELECT rowid AS r, row_number() OVER (PARTITION BY x_source, x_billing_period ORDER BY rowid) AS id FROM {focus}) n \
                 WHERE {focus}.rowid = n.r AND {focus}.{id} IS NULL"
            ))
            .map_err(Error::query("numbering FOCUS rows"))?;
        tracing::info!("numbered {missing} FOCUS rows imported before row ids");
    }
    Ok(())
}

/// Whether `focus.allocated_cost` has the configured dimensions as columns.
fn table_matches(wh: &Warehouse, rules: &Rules) -> miette::Result<bool> {
    let t = table();
    if !wh.table_exists(&t.schema, &t.name)? {
        return Ok(false);
    }
    let cols = wh.columns(&t.schema, &t.name)?;
    let dims: Vec<&str> = cols
        .iter()
        .skip(FIXED.len())
        .map(|(n, _)| n.as_str())
        .collect();
    let wanted: Vec<&str> = rules.dimensions.iter().map(|d| d.name.as_str()).collect();
    Ok(dims == wanted)
}

/// The columns of `focus.allocated_cost` before the dimensions.
const FIXED: &[(&str, &str)] = &[
    ("x_source", "VARCHAR NOT NULL"),
    ("x_billing_period", "DATE NOT NULL"),
    ("x_RowId", "BIGINT NOT NULL"),
    ("BillingCurrency", "VARCHAR"),
    ("ChargePeriodStart", "TIMESTAMP"),
    ("BilledCost", "DECIMAL(38, 20)"),
    ("EffectiveCost", "DECIMAL(38, 20)"),
    ("x_allocation", "VARCHAR"),
];

fn create_table(wh: &Warehouse, rules: &Rules, replace: bool) -> miette::Result<()> {
    let cols: Vec<String> = FIXED
        .iter()
        .map(|(n, t)| format!("{} {t}", quote_ident(n)))
        .chain(
            rules
                .dimensions
                .iter()
                .map(|d| format!("{} VARCHAR NOT NULL", quote_ident(&d.name))),
        )
        .collect();
    let verb = if replace {
        "CREATE OR REPLACE TABLE"
    } else {
        "CREATE TABLE IF NOT EXISTS"
    };
    wh.ensure_schema(finops_core::warehouse::META_SCHEMA)?;
    wh.conn()
        .execute_batch(&format!(
            "{verb} {} ({});
             CREATE TABLE IF NOT EXISTS {} (x_billing_period DATE NOT NULL, fingerprint VARCHAR NOT NULL, rows BIGINT NOT NULL, pooled BIGINT NOT NULL, allocated_at TIMESTAMP NOT NULL);",
            wh.qualified(&table()),
            cols.join(", "),
            wh.meta_table(STATE)
        ))
        .map_err(Error::query("creating focus.allocated_cost"))?;
    Ok(())
}

// The exact split of a cost `c` (DECIMAL(38, 20)) by parts `p` of 10⁹, without 128-bit
// division: |c| = h + l·10⁻²⁰, h its first 10 decimals (DECIMAL(38, 10)), 0 ≤ l < 10¹⁰.
// Then |c|·p/10⁹ = h·(p/10⁹) (exact at scale 19) + (l·p div 10⁹)·10⁻²⁰, with remainder
// l·p mod 10⁹ (l·p < 10¹⁹ fits UBIGINT), which orders the leftover units.

/// 10⁻²⁰ as DECIMAL(38, 20).
const UNIT: &str = "CAST('0.00000000000000000001' AS DECIMAL(38, 20))";

/// `h`: |c| truncated to 10 decimals.
fn high_part(c: &str) -> String {
    format!(
        "(CAST(abs({c}) AS DECIMAL(38, 10)) - CASE WHEN CAST(abs({c}) AS DECIMAL(38, 10)) > abs({c}) THEN CAST('0.0000000001' AS DECIMAL(38, 10)) ELSE 0 END)"
    )
}

/// `l`: the rest of |c| below 10⁻¹⁰, in 10⁻²⁰ units.
fn low_part(c: &str, h: &str) -> String {
    format!("CAST((abs({c}) - {h}) * CAST('100000000000000000000' AS DECIMAL(21, 0)) AS UBIGINT)")
}

/// Each target's share of |c|, rounded down to 10⁻²⁰.
fn base_shares(h: &str, l: &str) -> String {
    format!(
        "list_transform(finops_fs, lambda f, i: CAST({h} * f AS DECIMAL(38, 20)) + CAST({l} * finops_ppbs[i] // {PARTS} AS DECIMAL(38, 0)) * {UNIT})"
    )
}

/// Each target's remainder, made unique by its position (ties go to the first target).
fn remainders(l: &str) -> String {
    format!(
        "list_transform(finops_ppbs, lambda p, i: ({l} * p % {PARTS}) * 1000000 + (1000000 - i))"
    )
}

/// The 10⁻²⁰ units left after the rounded-down shares (fewer than the targets).
fn leftover(c: &str, base: &str) -> String {
    format!(
        "CAST((abs({c}) - list_sum({base})) * CAST('100000000000000000000' AS DECIMAL(21, 0)) AS BIGINT)"
    )
}

/// The shares: one more unit to each of the `left` largest remainders, and the sign of c.
fn shares(c: &str, base: &str, order: &str, left: &str) -> String {
    format!(
        "list_transform({base}, lambda b, i: (b + CASE WHEN list_position({order}, i) <= {left} THEN {UNIT} ELSE 0 END) * CASE WHEN {c} < 0 THEN -1 ELSE 1 END)"
    )
}

/// A weight (a DECIMAL sum) as an integer of 10⁻¹⁰ units.
fn weight_units(x: &str) -> String {
    format!("CAST(replace(CAST(CAST({x} AS DECIMAL(38, 10)) AS VARCHAR), '.', '') AS HUGEINT)")
}

const ROWS: &str = "finops_alloc_rows";

/// Runs `f`, logging how long `what` took (`-v`).
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    tracing::debug!("{what}: {:.2} s", start.elapsed().as_secs_f64());
    out
}

fn allocate_period(
    wh: &Warehouse,
    rules: &Rules,
    tags: &TagIndex,
    period: &str,
    fingerprint: &str,
) -> miette::Result<Allocated> {
    let conn = wh.conn();
    let focus = focus_table(wh);
    let alloc = wh.qualified(&table());
    let p = format!("CAST({} AS DATE)", quote_literal(period));
    let action = |what: &str| format!("{what} for {}", &period[..7]);
    create_table(wh, rules, false)?;
    // Each row's dimension values and the first pool that takes it.
    let dim_sql: BTreeMap<&str, String> = rules
        .dimensions
        .iter()
        .map(|d| (d.name.as_str(), d.sql(tags)))
        .collect();
    let mut pool = String::from("CASE");
    for a in &rules.allocations {
        let matched = a.pool.sql(tags, Some(&dim_sql[a.dimension.as_str()]));
        let _ = write!(pool, " WHEN {matched} THEN {}", quote_literal(&a.name));
    }
    pool.push_str(" ELSE NULL END");
    if rules.allocations.is_empty() {
        "CAST(NULL AS VARCHAR)".clone_into(&mut pool);
    }
    let metrics: Vec<String> = rules
        .allocations
        .iter()
        .filter_map(|a| a.metric.clone())
        .filter(|m| m != "BilledCost" && m != "EffectiveCost")
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let dims_select = rules
        .dimensions
        .iter()
        .map(|d| format!(", {} AS {}", dim_sql[d.name.as_str()], quote_ident(&d.name)))
        .collect::<Vec<_>>()
        .concat();
    let metric_select = metrics
        .iter()
        .map(|m| format!(", {}", quote_ident(m)))
        .collect::<Vec<_>>()
        .concat();
    let id = quote_ident(ROW_ID);
    timed("allocation: rows and dimensions", || {
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE {ROWS} AS
         SELECT x_source, x_billing_period, {id}, \"BillingCurrency\", \"ChargePeriodStart\",
                \"BilledCost\", \"EffectiveCost\"{metric_select}{dims_select},
                {pool} AS x_pool
         FROM {focus} WHERE x_billing_period = {p}"
        ))
    })
    .map_err(Error::query(action("reading the FOCUS rows")))?;
    conn.execute(
        &format!("DELETE FROM {alloc} WHERE x_billing_period = {p}"),
        [],
    )
    .map_err(Error::query(action("removing the old allocation")))?;
    let mut rows = keep_whole(
        wh,
        rules,
        "x_pool IS NULL",
        &action("writing the direct costs"),
    )?;
    let mut pooled = 0u64;
    for a in &rules.allocations {
        let (r, n) = timed(&format!("allocation: split of {}", a.name), || {
            split(wh, rules, a, &action)
        })?;
        rows += r;
        pooled += n;
    }
    timed("allocation: totals check", || check_totals(wh, period))?;
    conn.execute_batch(&format!("DROP TABLE {ROWS}"))
        .map_err(Error::query(action("dropping the work table")))?;
    let state = wh.meta_table(STATE);
    conn.execute(
        &format!("DELETE FROM {state} WHERE x_billing_period = {p}"),
        [],
    )
    .map_err(Error::query(action("recording the allocation")))?;
    conn.execute(
        &format!("INSERT INTO {state} VALUES ({p}, ?, ?, ?, now()::TIMESTAMP)"),
        duckdb::params![fingerprint, rows.cast_signed(), pooled.cast_signed()],
    )
    .map_err(Error::query(action("recording the allocation")))?;
    Ok(Allocated {
        period: period[..7].to_owned(),
        status: "allocated",
        rows,
        pooled,
    })
}

/// The weight of each target of `a` per currency, as parts of 10⁹ (SQL of a query with
/// columns `cur`, `target`, `ppb`).
fn parts_sql(rules: &Rules, a: &AllocationConfig) -> String {
    let dim = rules.dimension(&a.dimension).expect("checked at load");
    let col = quote_ident(&dim.name);
    let targets = a.targets.as_ref().map_or_else(String::new, |t| {
        let list: Vec<String> = t.iter().map(|v| quote_literal(v)).collect();
        format!(" AND {col} IN ({})", list.join(", "))
    });
    let direct = format!(
        "x_pool IS NULL AND {col} <> {}{targets}",
        quote_literal(&dim.default)
    );
    let pool_currencies = format!(
        "SELECT DISTINCT \"BillingCurrency\" AS cur FROM {ROWS} WHERE x_pool = {}",
        quote_literal(&a.name)
    );
    let weights = match a.method {
        Method::Proportional => format!(
            "SELECT \"BillingCurrency\" AS cur, {col} AS target, {} AS wu FROM {ROWS} WHERE {direct} GROUP BY ALL",
            weight_units(&format!("sum({})", quote_ident(a.basis.column())))
        ),
        Method::Metric => format!(
            "SELECT \"BillingCurrency\" AS cur, {col} AS target, {} AS wu FROM {ROWS} WHERE {direct} GROUP BY ALL",
            weight_units(&format!(
                "sum({})",
                quote_ident(a.metric.as_deref().expect("checked at load"))
            ))
        ),
        Method::Even => match &a.targets {
            Some(t) => {
                let values: Vec<String> = t
                    .iter()
                    .map(|v| format!("({})", quote_literal(v)))
                    .collect();
                format!(
                    "SELECT c.cur, t.target, CAST(1 AS HUGEINT) AS wu FROM ({pool_currencies}) c CROSS JOIN (VALUES {}) t(target)",
                    values.join(", ")
                )
            }
            None => format!(
                "SELECT DISTINCT \"BillingCurrency\" AS cur, {col} AS target, CAST(1 AS HUGEINT) AS wu FROM {ROWS} WHERE {direct}"
            ),
        },
        Method::Fixed => {
            let values: Vec<String> = a
                .shares
                .iter()
                .map(|(k, v)| {
                    format!(
                        "({}, CAST('{}' AS HUGEINT))",
                        quote_literal(k),
                        crate::rules::parse_percent(&v.text()).expect("checked at load")
                    )
                })
                .collect();
            format!(
                "SELECT c.cur, t.target, t.wu FROM ({pool_currencies}) c CROSS JOIN (VALUES {}) t(target, wu)",
                values.join(", ")
            )
        }
    };
    format!(
        "WITH w AS (SELECT * FROM ({weights}) WHERE wu > 0),
              f AS (SELECT cur, target, wu * {PARTS} // sum(wu) OVER (PARTITION BY cur) AS b,
                           wu * {PARTS} % sum(wu) OVER (PARTITION BY cur) AS r FROM w),
              g AS (SELECT cur, target, b + CASE WHEN row_number() OVER (PARTITION BY cur ORDER BY r DESC, target)
                                                 <= {PARTS} - sum(b) OVER (PARTITION BY cur) THEN 1 ELSE 0 END AS ppb FROM f)
         SELECT cur, target, ppb FROM g WHERE ppb > 0 AND cur IS NOT NULL"
    )
}

/// Splits the pool of `a`: its rows' shares into `focus.allocated_cost`; the pool rows of a
/// currency without targets stay whole (with a warning). Returns rows written and rows split.
fn split(
    wh: &Warehouse,
    rules: &Rules,
    a: &AllocationConfig,
    action: &dyn Fn(&str) -> String,
) -> miette::Result<(u64, u64)> {
    let conn = wh.conn();
    let alloc = wh.qualified(&table());
    let id = quote_ident(ROW_ID);
    let name = quote_literal(&a.name);
    let parts = parts_sql(rules, a);
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE finops_alloc_parts AS {parts};
         CREATE OR REPLACE TEMP TABLE finops_alloc_lists AS
         SELECT cur, list(target ORDER BY target) AS targets,
                list(CAST(ppb AS UBIGINT) ORDER BY target) AS ppbs,
                list(CAST(CAST(ppb AS DECIMAL(18, 0)) * CAST('0.000000001' AS DECIMAL(10, 9)) AS DECIMAL(10, 9)) ORDER BY target) AS fs
         FROM finops_alloc_parts GROUP BY cur"
    ))
    .map_err(Error::query(action(&format!(
        "weighing the targets of `{}`",
        a.name
    ))))?;
    let other_dims = rules
        .dimensions
        .iter()
        .filter(|d| d.name != a.dimension)
        .map(|d| format!("x.{}, ", quote_ident(&d.name)))
        .collect::<Vec<_>>()
        .concat();
    // One row per pool row with its currency's targets as lists (in target order), the
    // shares computed as lists and unnested: no window, no join per target.
    let sql = format!(
        "INSERT INTO {alloc}
         WITH s AS (
           SELECT x.x_source, x.x_billing_period, x.{id}, x.\"BillingCurrency\", x.\"ChargePeriodStart\",
                  {other_dims}l.targets AS finops_targets, l.ppbs AS finops_ppbs, l.fs AS finops_fs,
                  coalesce(x.\"BilledCost\", 0) AS finops_b, coalesce(x.\"EffectiveCost\", 0) AS finops_e
           FROM {ROWS} x JOIN finops_alloc_lists l ON l.cur = x.\"BillingCurrency\"
           WHERE x.x_pool = {name}),
         h AS (SELECT *, {bh} AS finops_bh, {eh} AS finops_eh FROM s),
         q AS (SELECT *, {bl} AS finops_bl, {el} AS finops_el FROM h),
         b AS (SELECT *, {bbase} AS finops_bbase, {brem} AS finops_brem,
                         {ebase} AS finops_ebase, {erem} AS finops_erem FROM q),
         o AS (SELECT *, {bleft} AS finops_bleft, list_grade_up(finops_brem, 'DESC') AS finops_bord,
                         {eleft} AS finops_eleft, list_grade_up(finops_erem, 'DESC') AS finops_eord FROM b)
         SELECT x_source, x_billing_period, {id}, \"BillingCurrency\", \"ChargePeriodStart\",
                unnest({bshares}), unnest({eshares}), {name}, {dim_out}
         FROM o",
        bh = high_part("finops_b"),
        eh = high_part("finops_e"),
        bl = low_part("finops_b", "finops_bh"),
        el = low_part("finops_e", "finops_eh"),
        bbase = base_shares("finops_bh", "finops_bl"),
        ebase = base_shares("finops_eh", "finops_el"),
        brem = remainders("finops_bl"),
        erem = remainders("finops_el"),
        bleft = leftover("finops_b", "finops_bbase"),
        eleft = leftover("finops_e", "finops_ebase"),
        bshares = shares("finops_b", "finops_bbase", "finops_bord", "finops_bleft"),
        eshares = shares("finops_e", "finops_ebase", "finops_eord", "finops_eleft"),
        dim_out = rules
            .dimensions
            .iter()
            .map(|d| if d.name == a.dimension {
                "unnest(finops_targets)".to_owned()
            } else {
                quote_ident(&d.name)
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    tracing::trace!("{sql}");
    let written = conn
        .execute(&sql, [])
        .map_err(Error::query(action(&format!(
            "splitting the pool of `{}`",
            a.name
        ))))? as u64;
    let (split_rows, kept, kept_rows): (i64, String, i64) = conn
        .query_row(
            &format!(
                "SELECT (SELECT count(*) FROM {ROWS} x WHERE x_pool = {name} AND \"BillingCurrency\" IN (SELECT cur FROM finops_alloc_parts)),
                        coalesce((SELECT string_agg(c || ' ' || CAST(s AS VARCHAR), ', ') FROM (SELECT \"BillingCurrency\" AS c, sum(\"EffectiveCost\") AS s FROM {ROWS}
                                  WHERE x_pool = {name} AND coalesce(\"BillingCurrency\", '') NOT IN (SELECT cur FROM finops_alloc_parts) GROUP BY 1)), ''),
                        (SELECT count(*) FROM {ROWS} WHERE x_pool = {name} AND coalesce(\"BillingCurrency\", '') NOT IN (SELECT cur FROM finops_alloc_parts))"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(Error::query(action("counting the pool")))?;
    let mut written = written;
    if kept_rows > 0 {
        written += keep_whole(
            wh,
            rules,
            &format!(
                "x_pool = {name} AND coalesce(\"BillingCurrency\", '') NOT IN (SELECT cur FROM finops_alloc_parts)"
            ),
            &action("keeping the pool without targets"),
        )?;
        tracing::warn!(
            "{}: allocation `{}` has no target with a weight in the period; its pool ({kept}) stays with its own {} values",
            action("allocating"),
            a.name,
            a.dimension
        );
    }
    conn.execute_batch("DROP TABLE finops_alloc_parts; DROP TABLE finops_alloc_lists")
        .map_err(Error::query(action("dropping the work table")))?;
    Ok((written, u64::try_from(split_rows).unwrap_or_default()))
}

/// Writes the rows of the work table that match `filter` with their own costs and
/// dimension values (no allocation moved them).
fn keep_whole(wh: &Warehouse, rules: &Rules, filter: &str, action: &str) -> miette::Result<u64> {
    let dims = rules
        .dimensions
        .iter()
        .map(|d| format!(", {}", quote_ident(&d.name)))
        .collect::<Vec<_>>()
        .concat();
    let n = wh
        .conn()
        .execute(
            &format!(
                "INSERT INTO {} SELECT x_source, x_billing_period, {}, \"BillingCurrency\", \"ChargePeriodStart\",
                        \"BilledCost\", \"EffectiveCost\", NULL{dims}
                 FROM {ROWS} WHERE {filter}",
                wh.qualified(&table()),
                quote_ident(ROW_ID)
            ),
            [],
        )
        .map_err(Error::query(action))?;
    Ok(n as u64)
}

/// The period's allocated BilledCost and EffectiveCost equal FOCUS's, per currency, to the
/// last digit; anything else is a defect, and the period is not committed.
fn check_totals(wh: &Warehouse, period: &str) -> miette::Result<()> {
    let p = format!("CAST({} AS DATE)", quote_literal(period));
    let sums = |t: &str| {
        format!(
            "SELECT \"BillingCurrency\" AS cur, sum(\"BilledCost\") AS b, sum(\"EffectiveCost\") AS e, count(DISTINCT (x_source, {id})) AS n FROM {t} WHERE x_billing_period = {p} GROUP BY 1",
            id = quote_ident(ROW_ID)
        )
    };
    let bad: Option<String> = wh
        .conn()
        .query_row(
            &format!(
                "SELECT string_agg(coalesce(f.cur, a.cur, '(none)') || ': FOCUS ' || coalesce(CAST(f.b AS VARCHAR), '-') || ' / ' || coalesce(CAST(f.e AS VARCHAR), '-')
                                   || ', allocated ' || coalesce(CAST(a.b AS VARCHAR), '-') || ' / ' || coalesce(CAST(a.e AS VARCHAR), '-'), '; ')
                 FROM ({}) f FULL JOIN ({}) a ON f.cur IS NOT DISTINCT FROM a.cur
                 WHERE f.b IS DISTINCT FROM a.b OR f.e IS DISTINCT FROM a.e OR f.n IS DISTINCT FROM a.n",
                sums(&focus_table(wh)),
                sums(&wh.qualified(&table()))
            ),
            [],
            |r| r.get(0),
        )
        .map_err(Error::query("checking the allocated totals"))?;
    match bad {
        None => Ok(()),
        Some(why) => Err(miette::miette!(
            code = "finops::allocate::totals",
            help = "nothing was committed for the period; this is a defect of finops, please report it with the rules",
            "the allocation of {} does not add up to the FOCUS table: {why}",
            &period[..7]
        )),
    }
}
