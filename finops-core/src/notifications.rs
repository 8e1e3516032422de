//! What the hooks have been told (`meta.notifications`), so that a command run every night
//! tells each budget threshold and each anomaly once, not every night while it lasts.
//!
//! A notification is a `(kind, key)` pair: `budget` / `cloud|2024-03|actual|80`, `anomaly` /
//! `2024-03-11|service=…|USD|EffectiveCost`. It is recorded only once every hook listening to
//! its event has received it: a webhook that is down is tried again on the next run.

use std::collections::HashSet;

use duckdb::params;

use crate::Context;
use crate::error::{Error, Result};
use crate::events::EventKind;
use crate::warehouse::{META_SCHEMA, Warehouse};

const TABLE: &str = "notifications";

/// Creates `meta.notifications` (on every read-write open, like the state tables).
pub(crate) fn ensure_table(wh: &Warehouse) -> Result<()> {
    wh.conn()
        .execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} (
                 kind VARCHAR NOT NULL,
                 key VARCHAR NOT NULL,
                 notified_at TIMESTAMP NOT NULL,
                 PRIMARY KEY (kind, key))",
            wh.meta_table(TABLE)
        ))
        .map_err(Error::db("creating meta.notifications"))
}

/// The keys of `kind` already notified (none when the warehouse has no such table yet).
pub fn already(wh: &Warehouse, kind: &str) -> Result<HashSet<String>> {
    if !wh.table_exists(META_SCHEMA, TABLE)? {
        return Ok(HashSet::new());
    }
    let mut stmt = wh
        .conn()
        .prepare(&format!(
            "SELECT key FROM {} WHERE kind = ?",
            wh.meta_table(TABLE)
        ))
        .map_err(Error::db("reading meta.notifications"))?;
    let keys = stmt
        .query_map(params![kind], |r| r.get::<_, String>(0))
        .and_then(Iterator::collect)
        .map_err(Error::db("reading meta.notifications"))?;
    Ok(keys)
}

/// One event to send once: `keys` are recorded under `kind` when every hook received it.
#[derive(Debug)]
pub struct Pending {
    /// The event.
    pub event: EventKind,
    /// Its `data`.
    pub data: serde_json::Value,
    /// The notification kind (`budget`, `anomaly`).
    pub kind: &'static str,
    /// What this event tells, for `meta.notifications`.
    pub keys: Vec<String>,
}

/// Sends each pending event to its hooks and records the delivered ones in the warehouse
/// (opened read-write here, waiting for the lock like any writer). With no hook listening,
/// nothing is sent and nothing recorded.
pub fn send(ctx: &Context, pending: Vec<Pending>) -> Result<()> {
    let mut delivered: Vec<(&'static str, String)> = Vec::new();
    for p in pending {
        if ctx.hooks.is_idle(p.event) {
            continue;
        }
        let data = p.data;
        if ctx.emit(p.event, || data) {
            delivered.extend(p.keys.into_iter().map(|k| (p.kind, k)));
        }
    }
    if delivered.is_empty() {
        return Ok(());
    }
    let wh = ctx.open_warehouse()?;
    let sql = format!(
        "INSERT OR IGNORE INTO {} VALUES (?, ?, CAST(now() AS TIMESTAMP))",
        wh.meta_table(TABLE)
    );
    for (kind, key) in delivered {
        wh.conn()
            .execute(&sql, params![kind, key])
            .map_err(Error::db("recording a notification"))?;
    }
    Ok(())
}
