//! Stable names for raw columns: which delivered column (a CSV header, a Parquet field) lands
//! in which column of a raw table, recorded once in `meta.raw_columns` and kept for the
//! table's lifetime.
//!
//! A delivery's names are snake-cased (`resourceTags/user:CostCenter` →
//! `resource_tags_user_cost_center`), which is not one-to-one: `user:CostCenter` and
//! `user:cost-center`, or `user:Team` and `user:team` (AWS tag keys are case-sensitive),
//! normalise alike. Within one delivery the later one gets `_2`; across deliveries only a
//! record keeps one raw column holding one tag: a month that has only `user:cost-center`
//! must not put it in the column another month filled with `user:CostCenter`.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::naming::TableRef;
use crate::warehouse::Warehouse;

/// `{table}` is replaced by the qualified table name.
pub(crate) const DDL: &str = "CREATE TABLE IF NOT EXISTS {table} (
    table_name      VARCHAR NOT NULL,
    source_column   VARCHAR NOT NULL,
    column_name     VARCHAR NOT NULL
);";

/// For each (delivered name, this delivery's raw name) of `columns`, the raw table's name for
/// it: the recorded one, or, for a delivered name seen for the first time, this delivery's
/// name unless another delivered name holds it (then `_2`, `_3`…), recorded. Runs inside the
/// load's transaction.
pub fn assign(
    wh: &Warehouse,
    table: &TableRef,
    columns: &[(String, String)],
    action: &str,
) -> Result<Vec<(String, String)>> {
    let registry = wh.meta_table("raw_columns");
    let key = table.to_string();
    let recorded: BTreeMap<String, String> = wh
        .pairs(
            &format!(
                "SELECT source_column, column_name FROM {registry} WHERE table_name = {}",
                crate::naming::quote_literal(&key)
            ),
            action,
        )?
        .into_iter()
        .collect();
    let mut taken: BTreeSet<String> = recorded.values().map(|c| c.to_lowercase()).collect();
    let mut out = Vec::with_capacity(columns.len());
    let mut new = Vec::new();
    for (source, name) in columns {
        let stored = if let Some(c) = recorded.get(source) {
            c.clone()
        } else {
            let mut candidate = name.clone();
            let mut i = 2;
            while taken.contains(&candidate.to_lowercase()) {
                candidate = format!("{name}_{i}");
                i += 1;
            }
            if &candidate != name {
                tracing::info!(
                    "{table}: `{source}` goes to column {candidate} ({name} holds another column)"
                );
            }
            new.push((source.clone(), candidate.clone()));
            candidate
        };
        taken.insert(stored.to_lowercase());
        out.push((name.clone(), stored));
    }
    for (source, column) in &new {
        wh.conn()
            .execute(
                &format!("INSERT INTO {registry} VALUES (?, ?, ?)"),
                [&key, source, column],
            )
            .map_err(Error::db(action))?;
    }
    Ok(out)
}
