//! The transactional replace of one billing period, for every vendor: the staged files are
//! parsed into a side database, and one transaction copies those raw rows into the warehouse,
//! builds the period's FOCUS rows from them straight into the FOCUS table, and records the
//! period's load-state row. A crash or an error at any step leaves the previous version of
//! the period whole ([`crate::import`] runs the loop).

use std::time::Instant;

use crate::error::{Error, Result};
use crate::naming::{TableRef, quote_ident, quote_literal};
use crate::period::Period;
use crate::precision::{self, Rounding, RoundingColumn};
use crate::state::{self, ExportKey, LoadRecord};
use crate::vendor::Staged;
use crate::warehouse::Warehouse;

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

/// The attached side database that holds one period's parsed rows while it loads.
const STAGE_DB: &str = "finops_load";

/// Replaces one billing period of the raw table with the staged rows, rebuilds its FOCUS rows,
/// and records the load, in one transaction. New columns are added; none are dropped.
/// Returns the rows inserted, the period's cost total and what was rounded.
///
/// The files are first parsed into a side database (`<warehouse>.staging/load.duckdb`) and
/// committed there; the transaction then copies the raw rows into the warehouse and inserts
/// the FOCUS rows computed from the side database's rows. Neither the parse nor the FOCUS
/// build reads the transaction's own uncommitted rows: DuckDB keeps those in memory, and a
/// wide scan of millions of them spills gigabytes (measured: 10 M CUR rows failed at a 1 GB
/// `memory_limit`; from the side database the same rebuild runs in 1.1 GB). Values rounded
/// to the stored precision are counted before the transaction, raw ones in the side table's
/// hidden columns, FOCUS ones by an aggregate of the finishing step; a money column whose
/// total rounding exceeds the tolerance fails the period before anything is replaced.
pub fn replace_period(
    wh: &Warehouse,
    load: &PeriodLoad<'_>,
    record: impl FnOnce(u64, Vec<Rounding>) -> LoadRecord,
) -> Result<(u64, Option<String>, Vec<Rounding>)> {
    let PeriodLoad { table, period, .. } = *load;
    let action = format!("loading {table} for {period}");
    let stage = StageDb::attach(wh, &action)?;
    let result = (|| {
        let mut rounding = stage.fill(wh, load, &action)?;
        if let Some(focus) = &load.staged.focus {
            rounding.extend(stage.prepare_focus(wh, load, focus, &action)?);
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
        let (rows, cost) =
            replace_from_stage(wh, load, |rows| record(rows, rounding.clone()), &action)?;
        Ok((rows, cost, rounding))
    })();
    stage.detach(wh);
    result
}

/// The temporary view over the side database's raw rows, without hidden columns.
const ROWS_VIEW: &str = "finops_rows";
/// [`ROWS_VIEW`] under the raw table's names ([`crate::raw_columns`]).
const STORED_VIEW: &str = "finops_rows_stored";
/// The temporary view of the period's finished FOCUS rows, with the hidden rounding columns.
const FINISHED_VIEW: &str = "finops_focus_finished";
/// The temporary view of the period's FOCUS rows as stored: [`FINISHED_VIEW`] without the
/// hidden columns, with `x_source`, `x_billing_period` and [`ROW_ID`].
const FOCUS_VIEW: &str = "finops_focus_rows";
/// The temporary sequence numbering one period's FOCUS rows.
const ROW_SEQUENCE: &str = "finops_focus_row";

/// The side database of one period's load: attached, filled, detached and deleted.
struct StageDb {
    path: std::path::PathBuf,
    alias: String,
}

impl StageDb {
    fn attach(wh: &Warehouse, action: &str) -> Result<Self> {
        let dir = wh.staging_root();
        std::fs::create_dir_all(&dir).map_err(Error::io("creating the staging directory", &dir))?;
        let path = dir.join("load.duckdb");
        // We hold the warehouse's write lock, so a file here is left over from a crash.
        remove_db_files(&path)?;
        // The alias must not be the warehouse's own catalog (named after its file).
        let alias = if wh.catalog() == STAGE_DB {
            format!("{STAGE_DB}_1")
        } else {
            STAGE_DB.to_owned()
        };
        wh.conn()
            .execute_batch(&format!(
                "ATTACH {} AS {}",
                quote_literal(&path.to_string_lossy()),
                quote_ident(&alias)
            ))
            .map_err(Error::db(action))?;
        Ok(Self { path, alias })
    }

    fn table(&self, name: &str) -> String {
        format!("{}.main.{}", quote_ident(&self.alias), quote_ident(name))
    }

    /// Parses the staged files into the side database (committed there), makes
    /// [`ROWS_VIEW`] show them, and returns what was rounded.
    fn fill(&self, wh: &Warehouse, load: &PeriodLoad<'_>, action: &str) -> Result<Vec<Rounding>> {
        let PeriodLoad {
            table,
            period,
            staged,
            ..
        } = *load;
        let name = self.table("rows");
        let period_lit = quote_literal(&period.first_day());
        tracing::trace!("raw SELECT for {table} {period}: {}", staged.select_sql);
        let started = Instant::now();
        wh.conn()
            .execute_batch(&format!(
                "CREATE TABLE {name} AS SELECT CAST({period_lit} AS DATE) AS billing_period, * FROM ({})",
                staged.select_sql
            ))
            .map_err(|e| {
                crate::read::name_corrupt_parquet(&staged.files, with_line(Error::db(action)(e)))
            })?;
        tracing::debug!(
            "{table} {period}: files parsed in {} ms",
            started.elapsed().as_millis()
        );
        if let Some(expected) = staged.expected_rows {
            let actual: i64 = wh
                .conn()
                .query_row(&format!("SELECT count(*) FROM {name}"), [], |r| r.get(0))
                .map_err(Error::db(action))?;
            let actual = u64::try_from(actual).unwrap_or(0);
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
        &self,
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
        conn.execute_batch(&format!("CREATE OR REPLACE TEMP SEQUENCE {ROW_SEQUENCE} START 1"))
            .map_err(Error::db(action))?;
        let extra = format!(
            ", {source} AS x_source, CAST({period_lit} AS DATE) AS x_billing_period, \
             nextval('{ROW_SEQUENCE}') AS {}",
            quote_ident(ROW_ID)
        );
        visible_view(wh, FOCUS_VIEW, FINISHED_VIEW, &finished.roundings, &extra, action)?;
        let roundings = precision::read_roundings(conn, FINISHED_VIEW, "focus", &finished.roundings)
            .map_err(Error::db(action))?;
        tracing::debug!(
            "{} {}: FOCUS roundings counted in {} ms",
            load.table,
            load.period,
            started.elapsed().as_millis()
        );
        Ok(roundings)
    }

    fn detach(self, wh: &Warehouse) {
        let _ = wh.conn().execute_batch(&format!(
            "DROP VIEW IF EXISTS {FOCUS_VIEW}; DROP VIEW IF EXISTS {FINISHED_VIEW}; DROP VIEW IF EXISTS finops_focus_mapped; \
             DROP VIEW IF EXISTS {STORED_VIEW}; DROP VIEW IF EXISTS finops_period; DROP VIEW IF EXISTS {ROWS_VIEW}; \
             DROP SEQUENCE IF EXISTS {ROW_SEQUENCE}"
        ));
        if let Err(e) = wh
            .conn()
            .execute_batch(&format!("DETACH {}", quote_ident(&self.alias)))
        {
            tracing::warn!("detaching {}: {e}", self.path.display());
        }
        if let Err(e) = remove_db_files(&self.path) {
            tracing::warn!("{e}");
        }
    }
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

/// Removes a DuckDB file and its write-ahead log, if present.
fn remove_db_files(path: &std::path::Path) -> Result<()> {
    let mut wal = path.as_os_str().to_owned();
    wal.push(".wal");
    for p in [path.to_path_buf(), std::path::PathBuf::from(wal)] {
        if p.exists() {
            std::fs::remove_file(&p).map_err(Error::io("removing a stale staging database", &p))?;
        }
    }
    Ok(())
}

/// The transaction of [`replace_period`]: the period's old rows out, the staged raw and
/// FOCUS rows in, the state recorded.
fn replace_from_stage(
    wh: &Warehouse,
    load: &PeriodLoad<'_>,
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
    let scope_sql = scope.map_or_else(String::new, |(c, v)| {
        format!(" AND {} = {}", quote_ident(c), quote_literal(v))
    });
    let conn = wh.conn();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::db(action))?;
    let result = (|| {
        let period_lit = quote_literal(&period.first_day());
        stored_view(wh, table, &staged.columns, action)?;
        if wh.table_exists(&table.schema, &table.name)? {
            add_missing_columns(wh, table, STORED_VIEW, action)?;
        } else {
            let staged = wh.pairs(
                &format!("SELECT column_name, column_type FROM (DESCRIBE {STORED_VIEW})"),
                action,
            )?;
            let cols: Vec<String> = staged
                .iter()
                .map(|(n, t)| format!("{} {t}", quote_ident(n)))
                .collect();
            conn.execute_batch(&format!(
                "CREATE TABLE {} ({})",
                wh.qualified(table),
                cols.join(", ")
            ))
            .map_err(Error::db(action))?;
        }
        conn.execute(
            &format!(
                "DELETE FROM {} WHERE billing_period = CAST({period_lit} AS DATE){scope_sql}",
                wh.qualified(table)
            ),
            [],
        )
        .map_err(Error::db(action))?;
        let started = Instant::now();
        let timer = crate::fault::Timer::start("insert", 20);
        let rows = conn
            .execute(
                &format!(
                    "INSERT INTO {} BY NAME SELECT * FROM {STORED_VIEW}",
                    wh.qualified(table)
                ),
                [],
            )
            .map_err(Error::db(action))?;
        timer.finish();
        tracing::debug!(
            "{table} {period}: {rows} raw rows inserted in {} ms",
            started.elapsed().as_millis()
        );
        if staged.focus.is_some() {
            replace_focus_rows(wh, load, action)?;
        }
        // Summed over the staged rows: the same rows, and already committed.
        let cost_sql = cost_expression.map(|expr| format!("SELECT {expr} FROM {ROWS_VIEW}"));
        let rec = record(rows as u64);
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

/// Makes [`STORED_VIEW`] show [`ROWS_VIEW`] under the raw table's stable column names.
fn stored_view(
    wh: &Warehouse,
    table: &TableRef,
    columns: &[(String, String)],
    action: &str,
) -> Result<()> {
    let names = crate::raw_columns::assign(wh, table, columns, action)?;
    let renamed: Vec<&(String, String)> = names.iter().filter(|(d, s)| d != s).collect();
    let select = if renamed.is_empty() {
        "*".to_owned()
    } else {
        format!(
            "* EXCLUDE ({}), {}",
            renamed
                .iter()
                .map(|(d, _)| quote_ident(d))
                .collect::<Vec<_>>()
                .join(", "),
            renamed
                .iter()
                .map(|(d, s)| format!("{} AS {}", quote_ident(d), quote_ident(s)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    wh.conn()
        .execute_batch(&format!(
            "CREATE OR REPLACE TEMP VIEW {STORED_VIEW} AS SELECT {select} FROM {ROWS_VIEW}"
        ))
        .map_err(Error::db(action))
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
/// the side database's raw rows: they are computed here, written once. Runs inside the
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
