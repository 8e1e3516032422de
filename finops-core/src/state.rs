//! Load state: which version of each export × billing period is in the warehouse
//! (`meta.load_state`), and every attempt with its outcome (`meta.load_history`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::period::Period;
use crate::precision::Rounding;
use crate::warehouse::Warehouse;

/// `{state}` and `{history}` are replaced by the qualified table names.
const DDL: &str = "
CREATE TABLE IF NOT EXISTS {state} (
    source          VARCHAR NOT NULL,
    export          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    billing_period  DATE NOT NULL,
    version_id      VARCHAR NOT NULL,
    target_table    VARCHAR NOT NULL,
    loaded_at       TIMESTAMP NOT NULL,
    files           BIGINT NOT NULL,
    rows            BIGINT NOT NULL,
    bytes           BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    cost            DECIMAL(38, 18),
    rounding        VARCHAR
);
CREATE TABLE IF NOT EXISTS {history} (
    attempted_at    TIMESTAMP NOT NULL,
    source          VARCHAR NOT NULL,
    export          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    billing_period  DATE NOT NULL,
    version_id      VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    files           BIGINT,
    rows            BIGINT,
    bytes           BIGINT,
    duration_ms     BIGINT,
    error           VARCHAR,
    rounding        VARCHAR
);
ALTER TABLE {state} ADD COLUMN IF NOT EXISTS rounding VARCHAR;
ALTER TABLE {history} ADD COLUMN IF NOT EXISTS rounding VARCHAR;
";

/// Creates the state tables if they do not exist.
pub(crate) fn ensure_tables(wh: &Warehouse) -> Result<()> {
    wh.ensure_schema(crate::warehouse::META_SCHEMA)?;
    let ddl = DDL
        .replace("{state}", &wh.meta_table("load_state"))
        .replace("{history}", &wh.meta_table("load_history"))
        + &crate::raw_columns::DDL.replace("{table}", &wh.meta_table("raw_columns"));
    wh.conn()
        .execute_batch(&ddl)
        .map_err(Error::db("creating the finops state tables"))
}

/// What identifies a load: vendor, export and kind of export.
#[derive(Clone, Debug, Serialize)]
pub struct ExportKey {
    /// Vendor (`aws`); `source` in `meta.load_state` and in JSON output.
    #[serde(rename = "source")]
    pub vendor: String,
    /// Export or report name.
    pub export: String,
    /// Kind of export (`cur1`).
    pub kind: String,
}

/// The facts of one successful load, written to both tables.
#[derive(Clone, Debug, Serialize)]
pub struct LoadRecord {
    /// Billing period.
    pub period: Period,
    /// Version loaded (AWS assemblyId…).
    pub version_id: String,
    /// Destination table (`aws.cur_x`).
    pub target_table: String,
    /// Data files.
    pub files: u64,
    /// Rows inserted.
    pub rows: u64,
    /// Bytes of data files.
    pub bytes: u64,
    /// Wall time of the load.
    pub duration_ms: u64,
    /// The values rounded to the stored precision, per column (only columns with any).
    pub rounding: Vec<Rounding>,
}

/// One row of `meta.load_state`.
#[derive(Clone, Debug, Serialize)]
pub struct StateRow {
    /// Vendor; `source` in `meta.load_state` and in JSON output.
    #[serde(rename = "source")]
    pub vendor: String,
    /// Export name.
    pub export: String,
    /// Kind of export.
    pub kind: String,
    /// Billing period.
    pub period: Period,
    /// Version loaded.
    pub version_id: String,
    /// Destination table.
    pub target_table: String,
    /// When (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub loaded_at: String,
    /// Data files.
    pub files: u64,
    /// Rows.
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
    /// Duration.
    pub duration_ms: u64,
    /// Sum of the export's billed cost for the period, exact, as text.
    pub cost: Option<String>,
    /// The values rounded to the stored precision, per column.
    pub rounding: Vec<Rounding>,
}

/// One row of `meta.load_history`.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryRow {
    /// When (UTC).
    pub attempted_at: String,
    /// Export name.
    pub export: String,
    /// Billing period.
    pub period: Period,
    /// Version attempted.
    pub version_id: String,
    /// `loaded` or `failed`.
    pub status: String,
    /// Rows, for loaded attempts.
    pub rows: Option<u64>,
    /// The error, for failed attempts.
    pub error: Option<String>,
    /// The values rounded to the stored precision, per column, for loaded attempts.
    pub rounding: Vec<Rounding>,
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn parse_period(s: &str) -> duckdb::Result<Period> {
    s.parse().map_err(|e: String| {
        duckdb::Error::FromSqlConversionFailure(0, duckdb::types::Type::Text, e.into())
    })
}

/// The version currently loaded for each period of one export.
pub fn current_versions(wh: &Warehouse, key: &ExportKey) -> Result<BTreeMap<Period, String>> {
    let action = || format!("reading the load state of {}/{}", key.vendor, key.export);
    let mut stmt = wh
        .conn()
        .prepare(&format!(
            "SELECT CAST(billing_period AS VARCHAR), version_id FROM {} WHERE source = ? AND export = ?",
            wh.meta_table("load_state")
        ))
        .map_err(Error::db(action()))?;
    let rows = stmt
        .query_map([&key.vendor, &key.export], |r| {
            Ok((
                parse_period(&r.get::<_, String>(0)?)?,
                r.get::<_, String>(1)?,
            ))
        })
        .map_err(Error::db(action()))?;
    rows.collect::<duckdb::Result<BTreeMap<_, _>>>()
        .map_err(Error::db(action()))
}

/// Records a successful load. Call inside the load's transaction, so that data and state
/// commit together. `cost_sql` computes the period's cost total, or is `None`.
pub(crate) fn record_success(
    wh: &Warehouse,
    key: &ExportKey,
    rec: &LoadRecord,
    cost_sql: Option<&str>,
) -> Result<()> {
    let action = format!(
        "recording the load of {}/{} {}",
        key.vendor, key.export, rec.period
    );
    let conn = wh.conn();
    let period = rec.period.first_day();
    let (state_table, history_table) = (wh.meta_table("load_state"), wh.meta_table("load_history"));
    conn.execute(
        &format!("DELETE FROM {state_table} WHERE source = ? AND export = ? AND billing_period = CAST(? AS DATE)"),
        [&key.vendor, &key.export, &period],
    )
    .map_err(Error::db(&action))?;
    let cost_expr = cost_sql.map_or_else(|| "NULL".to_owned(), |sql| format!("({sql})"));
    let rounding = rounding_json(&rec.rounding);
    conn.execute(
        &format!(
            "INSERT INTO {state_table} VALUES (?, ?, ?, CAST(? AS DATE), ?, ?, make_timestamp(?), ?, ?, ?, ?, {cost_expr}, ?)"
        ),
        duckdb::params![
            key.vendor,
            key.export,
            key.kind,
            period,
            rec.version_id,
            rec.target_table,
            now_micros(),
            to_i64(rec.files),
            to_i64(rec.rows),
            to_i64(rec.bytes),
            to_i64(rec.duration_ms),
            rounding
        ],
    )
    .map_err(Error::db(&action))?;
    conn.execute(
        &format!("INSERT INTO {history_table} VALUES (make_timestamp(?), ?, ?, ?, CAST(? AS DATE), ?, 'loaded', ?, ?, ?, ?, NULL, ?)"),
        duckdb::params![
            now_micros(),
            key.vendor,
            key.export,
            key.kind,
            period,
            rec.version_id,
            to_i64(rec.files),
            to_i64(rec.rows),
            to_i64(rec.bytes),
            to_i64(rec.duration_ms),
            rounding
        ],
    )
    .map_err(Error::db(&action))?;
    Ok(())
}

/// The JSON text stored for `rounding` (NULL when nothing was rounded).
fn rounding_json(rounding: &[Rounding]) -> Option<String> {
    (!rounding.is_empty())
        .then(|| serde_json::to_string(rounding).ok())
        .flatten()
}

/// `rounding`, or NULL in a warehouse written before it existed (opened read-only, so not
/// upgraded).
fn rounding_column(wh: &Warehouse, table: &str) -> Result<&'static str> {
    let columns = wh.columns(crate::warehouse::META_SCHEMA, table)?;
    Ok(if columns.iter().any(|(n, _)| n == "rounding") {
        "rounding"
    } else {
        "CAST(NULL AS VARCHAR)"
    })
}

fn parse_rounding(text: Option<String>) -> Vec<Rounding> {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Records a failed attempt, in its own transaction (the load's was rolled back).
pub(crate) fn record_failure(
    wh: &Warehouse,
    key: &ExportKey,
    period: Period,
    version_id: &str,
    error: &str,
) -> Result<()> {
    wh.conn()
        .execute(
            &format!(
                "INSERT INTO {} VALUES (make_timestamp(?), ?, ?, ?, CAST(? AS DATE), ?, 'failed', NULL, NULL, NULL, NULL, ?, NULL)",
                wh.meta_table("load_history")
            ),
            duckdb::params![now_micros(), key.vendor, key.export, key.kind, period.first_day(), version_id, error],
        )
        .map(drop)
        .map_err(Error::db(format!("recording the failed load of {}/{} {period}", key.vendor, key.export)))
}

/// Every state row of a vendor, optionally of one export, by export and period.
pub fn list_state(wh: &Warehouse, vendor: &str, export: Option<&str>) -> Result<Vec<StateRow>> {
    let action = || format!("reading the load state of {vendor}");
    let mut stmt = wh
        .conn()
        .prepare(&format!(
            "SELECT source, export, kind, CAST(billing_period AS VARCHAR), version_id, target_table,
                    strftime(loaded_at, '%Y-%m-%d %H:%M:%S'), files, rows, bytes, duration_ms, CAST(cost AS VARCHAR), {}
             FROM {} WHERE source = ? AND (? IS NULL OR export = ?)
             ORDER BY export, billing_period",
            rounding_column(wh, "load_state")?,
            wh.meta_table("load_state")
        ))
        .map_err(Error::db(action()))?;
    let rows = stmt
        .query_map(duckdb::params![vendor, export, export], |r| {
            Ok(StateRow {
                vendor: r.get(0)?,
                export: r.get(1)?,
                kind: r.get(2)?,
                period: parse_period(&r.get::<_, String>(3)?)?,
                version_id: r.get(4)?,
                target_table: r.get(5)?,
                loaded_at: r.get(6)?,
                files: to_u64(r.get(7)?),
                rows: to_u64(r.get(8)?),
                bytes: to_u64(r.get(9)?),
                duration_ms: to_u64(r.get(10)?),
                cost: r.get::<_, Option<String>>(11)?.map(|c| trim_decimal(&c)),
                rounding: parse_rounding(r.get(12)?),
            })
        })
        .map_err(Error::db(action()))?;
    rows.collect::<duckdb::Result<Vec<_>>>()
        .map_err(Error::db(action()))
}

/// The most recent `limit` attempts of a vendor (optionally one export), newest first.
pub fn list_history(
    wh: &Warehouse,
    vendor: &str,
    export: Option<&str>,
    limit: u32,
) -> Result<Vec<HistoryRow>> {
    let action = || format!("reading the load history of {vendor}");
    let mut stmt = wh
        .conn()
        .prepare(&format!(
            "SELECT strftime(attempted_at, '%Y-%m-%d %H:%M:%S'), export, CAST(billing_period AS VARCHAR), version_id, status, rows, error, {}
             FROM {} WHERE source = ? AND (? IS NULL OR export = ?)
             ORDER BY attempted_at DESC LIMIT ?",
            rounding_column(wh, "load_history")?,
            wh.meta_table("load_history")
        ))
        .map_err(Error::db(action()))?;
    let rows = stmt
        .query_map(duckdb::params![vendor, export, export, limit], |r| {
            Ok(HistoryRow {
                attempted_at: r.get(0)?,
                export: r.get(1)?,
                period: parse_period(&r.get::<_, String>(2)?)?,
                version_id: r.get(3)?,
                status: r.get(4)?,
                rows: r.get::<_, Option<i64>>(5)?.map(to_u64),
                error: r.get(6)?,
                rounding: parse_rounding(r.get(7)?),
            })
        })
        .map_err(Error::db(action()))?;
    rows.collect::<duckdb::Result<Vec<_>>>()
        .map_err(Error::db(action()))
}

/// `12.340000000000000000` → `12.34`; `5.000` → `5`. Exact: only trailing zeros go.
pub fn trim_decimal(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_decimals_exactly() {
        assert_eq!(trim_decimal("12.340000000000000000"), "12.34");
        assert_eq!(trim_decimal("5.000"), "5");
        assert_eq!(
            trim_decimal("-0.000000000000000001"),
            "-0.000000000000000001"
        );
        assert_eq!(trim_decimal("100"), "100");
    }
}
