//! The transactional replace of one billing period, for every vendor. A raw table is a view
//! over one table per billing period (schema [`PERIODS_SCHEMA`]); the staged files are parsed
//! into the period's new table, and one transaction builds the period's FOCUS rows from it
//! straight into the FOCUS table, swaps the new table for the old by catalog operations and
//! records the period's load-state row. Every row is written once. A crash or an error at any
//! step leaves the previous version of the period whole ([`crate::import`] runs the loop).

use std::time::Instant;

use crate::error::{Error, Result};
use crate::naming::{TableRef, quote_ident, quote_literal};
use crate::period::Period;
use crate::precision::{self, Rounding, RoundingColumn};
use crate::state::{self, ExportKey, LoadRecord};
use crate::vendor::Staged;
use crate::warehouse::{Relation, Warehouse};

/// One billing period to replace.
pub struct PeriodLoad<'a> {
    /// Vendor, export and kind.
    pub key: &'a ExportKey,
    /// The raw table.
    pub table: &'a TableRef,
    /// The period.
    pub period: Period,
    /// The staged files' SQL (raw rows, and FOCUS rows over them).
    pub staged: &'a Staged,
    /// SQL summing the billed cost over the raw table, for the state row.
    pub cost_expression: Option<&'a str>,
    /// The column and value marking this export's rows in a shared raw table.
    pub scope: Option<(&'a str, &'a str)>,
    /// Largest total rounding of a money column accepted.
    pub rounding_tolerance: f64,
}

/// The schema of the raw tables' billing periods: one table per raw table × period (× scope
/// value, for a table that exports share), named by [`part_name`]. Each raw table is a view
/// over its periods' tables ([`raw_view_sql`]), so a period is replaced by catalog operations
/// in the transaction, not by copying its rows.
pub const PERIODS_SCHEMA: &str = "raw_periods";
/// The prefix of a period's table while it loads (dropped at the next load after a crash). No
/// period's table starts with it: their names start with a vendor's schema.
const LOADING: &str = "(loading) ";
/// The suffix of a raw table from before [`PERIODS_SCHEMA`]: renamed, kept, read by the view,
/// its periods deleted from it as they are loaded again.
const LEGACY: &str = " (legacy)";

/// Replaces one billing period of the raw table with the staged rows, rebuilds its FOCUS rows,
/// and records the load, in one transaction. New columns are added; none are dropped.
/// Returns the rows inserted, the period's cost total and what was rounded.
///
/// The files are first parsed into the period's table-to-be in [`PERIODS_SCHEMA`]
/// (`(loading) …`), committed on its own; the transaction then builds the FOCUS rows from it
/// straight into the FOCUS table, drops the period's previous table, renames the new one into
/// place and redefines the raw table's view. The raw rows are written once, the FOCUS rows
/// once. Neither the parse nor the FOCUS build reads the transaction's own uncommitted rows:
/// DuckDB keeps those in memory, and a wide scan of millions of them spills gigabytes
/// (measured: 10 M CUR rows failed at a 1 GB `memory_limit`). Values rounded to the stored
/// precision are counted before the transaction, raw ones in the loading table's hidden
/// columns, FOCUS ones by an aggregate of the finishing step; a money column whose total
/// rounding exceeds the tolerance fails the period before anything is replaced.
pub fn replace_period(
    wh: &Warehouse,
    load: &PeriodLoad<'_>,
    record: impl FnOnce(u64, Vec<Rounding>) -> LoadRecord,
) -> Result<(u64, Option<String>, Vec<Rounding>)> {
    let PeriodLoad { table, period, .. } = *load;
    let action = format!("loading {table} for {period}");
    let stage = Stage::new(wh, load, &action)?;
    let result = (|| {
        let mut rounding = stage.fill(wh, load, &action)?;
        if let Some(focus) = &load.staged.focus {
            rounding.extend(Stage::prepare_focus(wh, load, focus, &action)?);
        }
        if let Some(r) = precision::check_tolerance(&rounding, load.rounding_tolerance) {
            return Err(Error::RoundingTolerance {
                period: period.to_string(),
                table: r.table.clone(),
                column: r.column.clone(),
                scale: r.scale,
                values: r.values,
                largest: r.largest,
                total: r.total,
                tolerance: load.rounding_tolerance,
            });
        }
        let (rows, cost) = replace_from_stage(
            wh,
            load,
            &stage,
            |rows| record(rows, rounding.clone()),
            &action,
        )?;
        Ok((rows, cost, rounding))
    })();
    stage.clean(wh);
    result
}

/// The temporary view over the loading table's raw rows, without hidden columns.
const ROWS_VIEW: &str = "finops_rows";
/// The temporary view of the period's finished FOCUS rows, with the hidden rounding columns.
const FINISHED_VIEW: &str = "finops_focus_finished";
/// The temporary view of the period's FOCUS rows as stored: [`FINISHED_VIEW`] without the
/// hidden columns, with `x_source`, `x_billing_period` and [`ROW_ID`].
const FOCUS_VIEW: &str = "finops_focus_rows";
/// The temporary sequence numbering one period's FOCUS rows.
const ROW_SEQUENCE: &str = "finops_focus_row";

/// The table of one raw table's period in [`PERIODS_SCHEMA`]: `<schema>.<table> <YYYY-MM>`,
/// and ` <value>` for a shared table's scope value.
fn part_name(table: &TableRef, period: Period, scope: Option<(&str, &str)>) -> String {
    let mut name = format!("{}.{} {period}", table.schema, table.name);
    if let Some((_, value)) = scope {
        name.push(' ');
        name.push_str(value);
    }
    name
}

/// One period's table while it loads: created by the parse, renamed into place by the
/// transaction, dropped if the load fails.
struct Stage {
    /// The period's table ([`part_name`]).
    part: String,
    /// Its name while it loads ([`LOADING`] + `part`).
    loading: String,
}

impl Stage {
    /// Drops what a crashed load left in [`PERIODS_SCHEMA`] (we hold the warehouse's write
    /// lock, so every loading table is an orphan) and names this period's.
    fn new(wh: &Warehouse, load: &PeriodLoad<'_>, action: &str) -> Result<Self> {
        wh.ensure_schema(PERIODS_SCHEMA)?;
        for (orphan, _) in wh.pairs(
            &format!(
                "SELECT table_name, '' FROM information_schema.tables WHERE table_catalog = {} \
                 AND table_schema = {} AND starts_with(table_name, {})",
                quote_literal(wh.catalog()),
                quote_literal(PERIODS_SCHEMA),
                quote_literal(LOADING)
            ),
            action,
        )? {
            tracing::info!("dropping {orphan}, left by an interrupted load");
            wh.conn()
                .execute_batch(&format!("DROP TABLE {}", part_ref(wh, &orphan)))
                .map_err(Error::db(action))?;
        }
        let part = part_name(load.table, load.period, load.scope);
        let loading = format!("{LOADING}{part}");
        Ok(Self { part, loading })
    }

    fn loading_ref(&self, wh: &Warehouse) -> String {
        part_ref(wh, &self.loading)
    }

    /// Parses the staged files into the loading table (committed on its own), makes
    /// [`ROWS_VIEW`] show them, and returns what was rounded.
    fn fill(&self, wh: &Warehouse, load: &PeriodLoad<'_>, action: &str) -> Result<Vec<Rounding>> {
        let PeriodLoad {
            table,
            period,
            staged,
            ..
        } = *load;
        let name = self.loading_ref(wh);
        let period_lit = quote_literal(&period.first_day());
        tracing::trace!("raw SELECT for {table} {period}: {}", staged.select_sql);
        let started = Instant::now();
        let timer = crate::fault::Timer::start("parse", 20);
        wh.conn()
            .execute_batch(&format!(
                "CREATE TABLE {name} AS SELECT CAST({period_lit} AS DATE) AS billing_period, * FROM ({})",
                staged.select_sql
            ))
            .map_err(|e| {
                crate::read::name_corrupt_parquet(&staged.files, with_line(Error::db(action)(e)))
            })?;
        timer.finish();
        tracing::debug!(
            "{table} {period}: files parsed in {} ms",
            started.elapsed().as_millis()
        );
        if let Some(expected) = staged.expected_rows {
            let actual = count_rows(wh, &name, action)?;
            if actual != expected {
                return Err(Error::RowCount {
                    period: period.to_string(),
                    expected,
                    actual,
                });
            }
        }
        visible_view(wh, ROWS_VIEW, &name, &staged.roundings, "", action)?;
        precision::read_roundings(wh.conn(), &name, "raw", &staged.roundings)
            .map_err(Error::db(action))
    }

    /// Prepares the period's FOCUS rows over [`ROWS_VIEW`] through the vendor's mapping and
    /// core's finishing step, as the view [`FOCUS_VIEW`] (computed when the transaction
    /// inserts it, [`replace_focus_rows`]), and returns what they round: counted here, by an
    /// aggregate of the finishing step's hidden rounding columns alone (DuckDB computes only
    /// the number columns for it), so a period over the tolerance fails before anything is
    /// replaced, and the FOCUS rows are written once, into the warehouse.
    fn prepare_focus(
        wh: &Warehouse,
        load: &PeriodLoad<'_>,
        focus: &crate::focus::mapping::FocusSql,
        action: &str,
    ) -> Result<Vec<Rounding>> {
        let conn = wh.conn();
        let source = quote_literal(&format!("{}/{}", load.key.vendor, load.key.export));
        let period_lit = quote_literal(&load.period.first_day());
        let started = Instant::now();
        let raw = crate::focus::mapping::column_names(conn, ROWS_VIEW)?;
        let focus_sql = focus.install(conn, ROWS_VIEW, &raw)?;
        tracing::trace!(
            "FOCUS SELECT for {} {}: {focus_sql}",
            load.table,
            load.period
        );
        let finished = crate::focus::finish::prepare(conn, &focus_sql)?;
        tracing::trace!("FOCUS finishing SELECT: {}", finished.sql);
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP VIEW {FINISHED_VIEW} AS {}",
            finished.sql
        ))
        .map_err(Error::db(action))?;
        // Row ids from a sequence: parallel and in flat memory (a window over the rows
        // would hold the whole period). Created anew for each period, so 1, 2, 3…
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP SEQUENCE {ROW_SEQUENCE} START 1"
        ))
        .map_err(Error::db(action))?;
        let extra = format!(
            ", {source} AS x_source, CAST({period_lit} AS DATE) AS x_billing_period, \
             nextval('{ROW_SEQUENCE}') AS {}",
            quote_ident(ROW_ID)
        );
        visible_view(
            wh,
            FOCUS_VIEW,
            FINISHED_VIEW,
            &finished.roundings,
            &extra,
            action,
        )?;
        let roundings =
            precision::read_roundings(conn, FINISHED_VIEW, "focus", &finished.roundings)
                .map_err(Error::db(action))?;
        tracing::debug!(
            "{} {}: FOCUS roundings counted in {} ms",
            load.table,
            load.period,
            started.elapsed().as_millis()
        );
        Ok(roundings)
    }

    /// Drops the temporary views and sequence, and the loading table if the load failed
    /// before renaming it.
    fn clean(self, wh: &Warehouse) {
        let _ = wh.conn().execute_batch(&format!(
            "DROP VIEW IF EXISTS {FOCUS_VIEW}; DROP VIEW IF EXISTS {FINISHED_VIEW}; DROP VIEW IF EXISTS finops_focus_mapped; \
             DROP VIEW IF EXISTS finops_period; DROP VIEW IF EXISTS {ROWS_VIEW}; \
             DROP SEQUENCE IF EXISTS {ROW_SEQUENCE}"
        ));
        if let Err(e) = wh
            .conn()
            .execute_batch(&format!("DROP TABLE IF EXISTS {}", self.loading_ref(wh)))
        {
            tracing::warn!("dropping {}: {e}", self.loading);
        }
    }
}

/// The qualified name of a table in [`PERIODS_SCHEMA`].
fn part_ref(wh: &Warehouse, name: &str) -> String {
    wh.qualified(&TableRef::new(PERIODS_SCHEMA, name))
}

/// The number of rows of `table` (a qualified name).
fn count_rows(wh: &Warehouse, table: &str, action: &str) -> Result<u64> {
    let n: i64 = wh
        .conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .map_err(Error::db(action))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A temporary view `view` over `table` without its hidden rounding columns, with the
/// `extra` columns (`, <expr> AS <name>`).
fn visible_view(
    wh: &Warehouse,
    view: &str,
    table: &str,
    hidden: &[RoundingColumn],
    extra: &str,
    action: &str,
) -> Result<()> {
    let exclude = if hidden.is_empty() {
        String::new()
    } else {
        format!(
            " EXCLUDE ({})",
            hidden
                .iter()
                .map(|h| quote_ident(&h.hidden))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    wh.conn()
        .execute_batch(&format!(
            "CREATE OR REPLACE TEMP VIEW {view} AS SELECT *{exclude}{extra} FROM {table}"
        ))
        .map_err(Error::db(action))
}

/// A value that is not an amount, located: DuckDB names the column and file, the line is
/// found by reading the file again (only on this error path).
fn with_line(e: Error) -> Error {
    match e {
        Error::BadNumber {
            value,
            location,
            reason,
        } => {
            let line = location
                .strip_prefix("column ")
                .and_then(|rest| rest.rsplit_once(" of "))
                .and_then(|(column, file)| {
                    crate::read::locate_value(std::path::Path::new(file), column, &value)
                });
            Error::BadNumber {
                location: match line {
                    Some(n) => format!("{location}, line {n}"),
                    None => location,
                },
                value,
                reason,
            }
        }
        other => other,
    }
}

/// The transaction of [`replace_period`]: the FOCUS rows built from the loading table, the
/// period's previous table dropped, the loading one renamed into place (under the raw table's
/// stable column names and types), the raw table's view redefined, the state recorded.
fn replace_from_stage(
    wh: &Warehouse,
    load: &PeriodLoad<'_>,
    stage: &Stage,
    record: impl FnOnce(u64) -> LoadRecord,
    action: &str,
) -> Result<(u64, Option<String>)> {
    let PeriodLoad {
        key,
        table,
        period,
        staged,
        cost_expression,
        scope,
        ..
    } = *load;
    let conn = wh.conn();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::db(action))?;
    let result = (|| {
        let timer = crate::fault::Timer::start("insert", 20);
        // Everything that reads the loading table under its delivered names comes first.
        if staged.focus.is_some() {
            replace_focus_rows(wh, load, action)?;
        }
        let rows = count_rows(wh, &stage.loading_ref(wh), action)?;
        // Summed over the loaded rows (committed), under their delivered names.
        let cost_sql = cost_expression.map(|expr| format!("SELECT {expr} FROM {ROWS_VIEW}"));
        let rec = record(rows);
        state::record_success(wh, key, &rec, cost_sql.as_deref())?;
        let cost = match &cost_sql {
            Some(sql) => conn
                .query_row(&format!("SELECT CAST(({sql}) AS VARCHAR)"), [], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .map_err(Error::db(action))?
                .map(|c| state::trim_decimal(&c)),
            None => None,
        };
        let loading = stage.loading_ref(wh);
        wh.ensure_schema(&table.schema)?;
        let legacy = TableRef::new(&table.schema, format!("{}{LEGACY}", table.name));
        let kind = wh.relation_kind(&table.schema, &table.name)?;
        // A raw table of an earlier finops becomes the legacy table now; a view may have
        // one from before.
        let has_legacy = match kind {
            Some(Relation::Table) => {
                tracing::info!(
                    "{table}: keeping its rows as {legacy} and making {table} a view over its periods"
                );
                conn.execute_batch(&format!(
                    "ALTER TABLE {} RENAME TO {}",
                    wh.qualified(table),
                    quote_ident(&legacy.name)
                ))
                .map_err(Error::db(action))?;
                true
            }
            Some(Relation::View) | None => wh.table_exists(&legacy.schema, &legacy.name)?,
        };
        let existing = if matches!(kind, Some(Relation::View)) {
            wh.columns(&table.schema, &table.name)?
        } else if has_legacy {
            wh.columns(&legacy.schema, &legacy.name)?
        } else {
            Vec::new()
        };
        store_columns(wh, load, stage, &existing, action)?;
        if has_legacy {
            let scope_sql = scope.map_or_else(String::new, |(c, v)| {
                format!(" AND {} = {}", quote_ident(c), quote_literal(v))
            });
            conn.execute(
                &format!(
                    "DELETE FROM {} WHERE billing_period = CAST({} AS DATE){scope_sql}",
                    wh.qualified(&legacy),
                    quote_literal(&period.first_day())
                ),
                [],
            )
            .map_err(Error::db(action))?;
        }
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}; ALTER TABLE {loading} RENAME TO {}",
            part_ref(wh, &stage.part),
            quote_ident(&stage.part)
        ))
        .map_err(Error::db(action))?;
        let view = raw_view_sql(wh, table, has_legacy.then_some(&legacy), action)?;
        conn.execute_batch(&format!(
            "CREATE OR REPLACE VIEW {} AS {view}",
            wh.qualified(table)
        ))
        .map_err(Error::db(action))?;
        timer.finish();
        tracing::debug!("{table} {period}: {rows} raw rows in place");
        Ok((rec.rows, cost))
    })();
    match result {
        Ok(v) => {
            crate::fault::point("before-commit");
            conn.execute_batch("COMMIT").map_err(Error::db(action))?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Gives the loading table the raw table's stable column names ([`crate::raw_columns`]) and,
/// for a column the raw table already has, its type (a cast that fails fails the period, as an
/// insert into the column would), and drops its hidden rounding columns.
fn store_columns(
    wh: &Warehouse,
    load: &PeriodLoad<'_>,
    stage: &Stage,
    existing: &[(String, String)],
    action: &str,
) -> Result<()> {
    let conn = wh.conn();
    let loading = stage.loading_ref(wh);
    let names = crate::raw_columns::assign(wh, load.table, &load.staged.columns, action)?;
    let renamed: Vec<&(String, String)> = names.iter().filter(|(d, s)| d != s).collect();
    // Through temporary names: one column's stored name may be another's delivered name.
    for (i, (delivered, _)) in renamed.iter().enumerate() {
        conn.execute_batch(&format!(
            "ALTER TABLE {loading} RENAME COLUMN {} TO {}",
            quote_ident(delivered),
            quote_ident(&format!("{}rename_{i}", precision::HIDDEN_PREFIX))
        ))
        .map_err(Error::db(action))?;
    }
    for (i, (_, stored)) in renamed.iter().enumerate() {
        conn.execute_batch(&format!(
            "ALTER TABLE {loading} RENAME COLUMN {} TO {}",
            quote_ident(&format!("{}rename_{i}", precision::HIDDEN_PREFIX)),
            quote_ident(stored)
        ))
        .map_err(Error::db(action))?;
    }
    for (name, ty) in &wh.columns(PERIODS_SCHEMA, &stage.loading)? {
        if precision::is_hidden(name) {
            // Counted already; dropping a column is a catalog change (its blocks are freed
            // at the next checkpoint).
            conn.execute_batch(&format!(
                "ALTER TABLE {loading} DROP COLUMN {}",
                quote_ident(name)
            ))
            .map_err(Error::db(action))?;
        } else if let Some((_, want)) = existing.iter().find(|(n, _)| n == name)
            && want != ty
        {
            tracing::info!(
                "{}: column {name} is {ty} in this period, stored as {want}",
                load.table
            );
            conn.execute_batch(&format!(
                "ALTER TABLE {loading} ALTER COLUMN {} SET DATA TYPE {want}",
                quote_ident(name)
            ))
            .map_err(Error::db(action))?;
        }
    }
    Ok(())
}

/// The raw table's view: its legacy table (if any) and every period's table, `UNION ALL BY
/// NAME` (a column a period lacks is NULL there). Names are schema-qualified only, so the view
/// still reads its own tables when the warehouse file is attached under another name.
fn raw_view_sql(
    wh: &Warehouse,
    table: &TableRef,
    legacy: Option<&TableRef>,
    action: &str,
) -> Result<String> {
    let prefix = format!("{}.{} ", table.schema, table.name);
    let mut parts: Vec<String> = wh
        .pairs(
            &format!(
                "SELECT table_name, '' FROM information_schema.tables WHERE table_catalog = {} \
                 AND table_schema = {} AND starts_with(table_name, {})",
                quote_literal(wh.catalog()),
                quote_literal(PERIODS_SCHEMA),
                quote_literal(&prefix)
            ),
            action,
        )?
        .into_iter()
        .map(|(n, _)| n)
        // `<prefix><YYYY-MM>` or `<prefix><YYYY-MM> <scope>`: not another table's periods
        // (`cur 2026` would have `aws.cur 2026 2026-11`).
        .filter(|n| {
            let rest = &n[prefix.len()..];
            rest.get(..7)
                .and_then(|p| p.parse::<Period>().ok())
                .is_some()
                && rest.get(7..8).is_none_or(|c| c == " ")
        })
        .collect();
    parts.sort();
    let mut selects = Vec::new();
    if let Some(legacy) = legacy {
        selects.push(format!("SELECT * FROM {}", legacy.quoted()));
    }
    for part in &parts {
        selects.push(format!(
            "SELECT * FROM {}",
            TableRef::new(PERIODS_SCHEMA, part.as_str()).quoted()
        ));
    }
    Ok(selects.join(" UNION ALL BY NAME "))
}

/// Adds to `table` every column of `view` it lacks (never drops one).
fn add_missing_columns(wh: &Warehouse, table: &TableRef, view: &str, action: &str) -> Result<()> {
    let wanted = wh.pairs(
        &format!("SELECT column_name, column_type FROM (DESCRIBE {view})"),
        action,
    )?;
    let existing = wh.columns(&table.schema, &table.name)?;
    for (name, ty) in &wanted {
        if !existing.iter().any(|(n, _)| n == name) {
            tracing::info!("adding column {name} {ty} to {table}");
            wh.conn()
                .execute_batch(&format!(
                    "ALTER TABLE {} ADD COLUMN {} {ty}",
                    wh.qualified(table),
                    quote_ident(name)
                ))
                .map_err(Error::db(action))?;
        }
    }
    Ok(())
}

/// The FOCUS table's row id: unique within one source × billing period (1, 2, 3…, numbered
/// as the rows are inserted), so that `focus.allocated_cost` can name the row it splits.
pub const ROW_ID: &str = "x_RowId";

/// Replaces the FOCUS rows of one export × period with the ones [`FOCUS_VIEW`] builds from
/// the loading table's raw rows: they are computed here, written once. Runs inside the
/// caller's transaction.
fn replace_focus_rows(wh: &Warehouse, load: &PeriodLoad<'_>, action: &str) -> Result<()> {
    let conn = wh.conn();
    let focus = crate::focus::table();
    let source = quote_literal(&format!("{}/{}", load.key.vendor, load.key.export));
    let period_lit = quote_literal(&load.period.first_day());
    wh.ensure_schema(&focus.schema)?;
    if !wh.table_exists(&focus.schema, &focus.name)? {
        let mut cols: Vec<String> = crate::focus::columns::COLUMNS
            .iter()
            .map(|c| format!("{} {}", quote_ident(c.name), c.data_type.sql()))
            .collect();
        cols.push("x_source VARCHAR NOT NULL".into());
        cols.push("x_billing_period DATE NOT NULL".into());
        conn.execute_batch(&format!(
            "CREATE TABLE {} ({})",
            wh.qualified(&focus),
            cols.join(", ")
        ))
        .map_err(Error::db(action))?;
    }
    add_missing_columns(wh, &focus, FOCUS_VIEW, action)?;
    conn.execute(
        &format!("DELETE FROM {} WHERE x_source = {source} AND x_billing_period = CAST({period_lit} AS DATE)", wh.qualified(&focus)),
        [],
    )
    .map_err(Error::db(action))?;
    let started = Instant::now();
    let rows = conn
        .execute(
            &format!(
                "INSERT INTO {} BY NAME SELECT * FROM {FOCUS_VIEW}",
                wh.qualified(&focus)
            ),
            [],
        )
        .map_err(Error::db(action))?;
    tracing::debug!(
        "{} {}: {rows} FOCUS rows built in {} ms",
        load.table,
        load.period,
        started.elapsed().as_millis()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WarehouseConfig;

    struct Fixture {
        _dir: tempfile::TempDir,
        wh: Warehouse,
        table: TableRef,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let wh = Warehouse::open(&WarehouseConfig {
            path: dir.path().join("w.duckdb"),
            ..WarehouseConfig::default()
        })
        .unwrap();
        Fixture {
            _dir: dir,
            wh,
            table: TableRef::new("aws", "cur_x"),
        }
    }

    fn period(month: u8) -> Period {
        Period::new(2026, month).unwrap()
    }

    /// Loads `select` as `month`'s rows of export `export` (scoped by `scope`).
    fn load_as(
        fx: &Fixture,
        export: &str,
        month: u8,
        select: &str,
        columns: &[(&str, &str)],
        scope: Option<(&str, &str)>,
    ) -> Result<(u64, Option<String>)> {
        let key = ExportKey {
            vendor: "aws".into(),
            export: export.into(),
            kind: "test".into(),
        };
        let staged = Staged {
            select_sql: select.into(),
            focus: None,
            bytes: 0,
            roundings: Vec::new(),
            columns: columns
                .iter()
                .map(|(d, r)| ((*d).to_owned(), (*r).to_owned()))
                .collect(),
            expected_rows: None,
            files: Vec::new(),
        };
        let load = PeriodLoad {
            key: &key,
            table: &fx.table,
            period: period(month),
            staged: &staged,
            cost_expression: Some("sum(cost)"),
            scope,
            rounding_tolerance: 1e-9,
        };
        replace_period(&fx.wh, &load, |rows, rounding| LoadRecord {
            period: period(month),
            version_id: "v".into(),
            target_table: fx.table.to_string(),
            files: 1,
            rows,
            bytes: 0,
            duration_ms: 0,
            rounding,
        })
        .map(|(rows, cost, _)| (rows, cost))
    }

    fn load(fx: &Fixture, month: u8, select: &str) -> Result<(u64, Option<String>)> {
        load_as(fx, "x", month, select, &[], None)
    }

    fn strings(fx: &Fixture, sql: &str) -> Vec<String> {
        let mut stmt = fx.wh.conn().prepare(sql).unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap()
    }

    /// The tables of the periods schema.
    fn parts(fx: &Fixture) -> Vec<String> {
        strings(
            fx,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_periods' ORDER BY 1",
        )
    }

    /// The raw view's rows per period: `YYYY-MM count sum`.
    fn per_period(fx: &Fixture) -> Vec<String> {
        strings(
            fx,
            "SELECT strftime(billing_period, '%Y-%m') || ' ' || count(*) || ' ' || CAST(sum(cost) AS VARCHAR) \
             FROM aws.cur_x GROUP BY billing_period ORDER BY billing_period",
        )
    }

    const OCT: &str = "SELECT * FROM (VALUES ('a', CAST('1.5' AS DECIMAL(38, 18))), ('b', CAST('2.25' AS DECIMAL(38, 18)))) t(id, cost)";
    const NOV: &str = "SELECT * FROM (VALUES ('c', CAST('10' AS DECIMAL(38, 18))), ('d', CAST('0.000000000000000001' AS DECIMAL(38, 18))), ('e', NULL)) t(id, cost)";

    #[test]
    fn a_raw_table_is_a_view_over_one_table_per_period_and_a_reload_swaps_one() {
        let fx = fixture();
        assert_eq!(load(&fx, 10, OCT).unwrap(), (2, Some("3.75".into())));
        assert_eq!(load(&fx, 11, NOV).unwrap().0, 3);
        assert_eq!(parts(&fx), ["aws.cur_x 2026-10", "aws.cur_x 2026-11"]);
        assert_eq!(
            strings(
                &fx,
                "SELECT table_type FROM information_schema.tables WHERE table_schema = 'aws' AND table_name = 'cur_x'"
            ),
            ["VIEW"]
        );
        // October re-issued with a new column and one row: only October changes.
        let reissued = "SELECT * FROM (VALUES ('f', CAST('7' AS DECIMAL(38, 18)), 'new', 0.5)) t(id, cost, added, __finops_rounding_cost)";
        assert_eq!(load(&fx, 10, reissued).unwrap(), (1, Some("7".into())));
        assert_eq!(
            per_period(&fx),
            [
                "2026-10 1 7.000000000000000000",
                "2026-11 3 10.000000000000000001"
            ]
        );
        assert_eq!(
            strings(
                &fx,
                "SELECT coalesce(added, '-') FROM aws.cur_x ORDER BY id"
            ),
            ["-", "-", "-", "new"]
        );
        assert_eq!(parts(&fx), ["aws.cur_x 2026-10", "aws.cur_x 2026-11"]);
        // The hidden rounding columns are dropped when the table is swapped in.
        assert_eq!(
            strings(
                &fx,
                "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns \
                 WHERE table_schema = 'raw_periods' AND table_name = 'aws.cur_x 2026-10'"
            ),
            ["billing_period,id,cost,added"]
        );
        assert_eq!(
            strings(
                &fx,
                "SELECT CAST(cost AS VARCHAR) FROM meta.load_state ORDER BY billing_period"
            ),
            ["7.000000000000000000", "10.000000000000000001"]
        );
        // The view names its tables without the catalog: the file attached under another
        // name still reads.
        let path = fx.wh.path().to_path_buf();
        drop(fx.wh);
        let other = duckdb::Connection::open_in_memory().unwrap();
        other
            .execute_batch(&format!(
                "ATTACH {} AS elsewhere (READ_ONLY)",
                quote_literal(&path.to_string_lossy())
            ))
            .unwrap();
        let n: i64 = other
            .query_row("SELECT count(*) FROM elsewhere.aws.cur_x", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 4);
    }

    #[test]
    fn a_raw_table_from_before_becomes_the_views_legacy_table() {
        let fx = fixture();
        fx.wh
            .conn()
            .execute_batch(
                "CREATE SCHEMA aws; CREATE TABLE aws.cur_x AS SELECT * FROM (VALUES \
                 (DATE '2026-10-01', 'a', CAST('1' AS DECIMAL(38, 18))), \
                 (DATE '2026-11-01', 'b', CAST('2' AS DECIMAL(38, 18))), \
                 (DATE '2026-11-01', 'c', CAST('3' AS DECIMAL(38, 18)))) t(billing_period, id, cost)",
            )
            .unwrap();
        load(&fx, 11, NOV).unwrap();
        assert_eq!(
            per_period(&fx),
            [
                "2026-10 1 1.000000000000000000",
                "2026-11 3 10.000000000000000001"
            ]
        );
        assert_eq!(
            strings(
                &fx,
                "SELECT strftime(billing_period, '%Y-%m') FROM aws.\"cur_x (legacy)\""
            ),
            ["2026-10"]
        );
        assert_eq!(parts(&fx), ["aws.cur_x 2026-11"]);
    }

    #[test]
    fn a_failed_period_leaves_the_loaded_one_and_no_loading_table() {
        let fx = fixture();
        load(&fx, 10, OCT).unwrap();
        let day =
            |d: &str| format!("SELECT 'z' AS id, CAST('5' AS DECIMAL(38, 18)) AS cost, {d} AS day");
        load(&fx, 11, &day("DATE '2026-11-02'")).unwrap();
        // Fails in the parse.
        let err = load(
            &fx,
            11,
            "SELECT 'z' AS id, CAST(CAST('x' AS INTEGER) AS DECIMAL(38, 18)) AS cost",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("loading aws.cur_x for 2026-11"),
            "{err}"
        );
        // Fails in the transaction: a day that is no date where the table has dates.
        let err = load(&fx, 11, &day("'soon'")).unwrap_err();
        assert!(format!("{err:?}").contains("soon"), "{err:?}");
        assert_eq!(
            per_period(&fx),
            [
                "2026-10 2 3.750000000000000000",
                "2026-11 1 5.000000000000000000"
            ]
        );
        assert_eq!(
            strings(
                &fx,
                "SELECT CAST(day AS VARCHAR) FROM aws.cur_x WHERE day IS NOT NULL"
            ),
            ["2026-11-02"]
        );
        assert_eq!(parts(&fx), ["aws.cur_x 2026-10", "aws.cur_x 2026-11"]);
    }

    #[test]
    fn a_column_keeps_its_type_and_a_crashed_loads_table_is_dropped() {
        let fx = fixture();
        load(&fx, 10, OCT).unwrap();
        fx.wh
            .conn()
            .execute_batch(
                "CREATE TABLE raw_periods.\"(loading) aws.cur_x 2026-12\" AS SELECT 1 AS id",
            )
            .unwrap();
        // November delivers the cost as an integer: stored as the table's decimal.
        load(&fx, 11, "SELECT 'c' AS id, 4 AS cost").unwrap();
        assert_eq!(parts(&fx), ["aws.cur_x 2026-10", "aws.cur_x 2026-11"]);
        assert_eq!(
            strings(
                &fx,
                "SELECT data_type FROM information_schema.columns WHERE table_schema = 'raw_periods' \
                 AND table_name = 'aws.cur_x 2026-11' AND column_name = 'cost'"
            ),
            ["DECIMAL(38,18)"]
        );
        assert_eq!(
            per_period(&fx),
            [
                "2026-10 2 3.750000000000000000",
                "2026-11 1 4.000000000000000000"
            ]
        );
    }

    #[test]
    fn delivered_names_go_to_their_recorded_columns_and_scopes_to_their_own_tables() {
        let fx = fixture();
        let tag = |name: &str| {
            format!(
                "SELECT 'a' AS id, CAST('1' AS DECIMAL(38, 18)) AS cost, '{name}' AS resource_tags_user_cost_center, 'x' AS owner"
            )
        };
        let cols = |delivered: &'static str| [(delivered, "resource_tags_user_cost_center")];
        load_as(
            &fx,
            "x",
            10,
            &tag("upper"),
            &cols("user:CostCenter"),
            Some(("owner", "x")),
        )
        .unwrap();
        load_as(
            &fx,
            "y",
            10,
            &tag("lower").replace("'x' AS owner", "'y' AS owner"),
            &cols("user:cost-center"),
            Some(("owner", "y")),
        )
        .unwrap();
        assert_eq!(parts(&fx), ["aws.cur_x 2026-10 x", "aws.cur_x 2026-10 y"]);
        assert_eq!(
            strings(
                &fx,
                "SELECT owner || ' ' || coalesce(resource_tags_user_cost_center, '-') || ' ' || coalesce(resource_tags_user_cost_center_2, '-') FROM aws.cur_x ORDER BY owner"
            ),
            ["x upper -", "y - lower"]
        );
        // Re-loading one scope leaves the other's rows.
        load_as(
            &fx,
            "x",
            10,
            &tag("again"),
            &cols("user:CostCenter"),
            Some(("owner", "x")),
        )
        .unwrap();
        assert_eq!(
            strings(
                &fx,
                "SELECT owner || ' ' || coalesce(resource_tags_user_cost_center, '-') FROM aws.cur_x ORDER BY owner"
            ),
            ["x again", "y -"]
        );
    }
}
