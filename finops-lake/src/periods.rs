//! What the warehouse holds: its (source, period)s with their load versions and exact sums,
//! and the FOCUS columns as the lake stores them.

use finops_core::Warehouse;
use finops_core::error::{Error, Result};
use finops_core::naming::{quote_ident, quote_literal};

/// The partition columns, in the table's order.
pub(crate) const PARTITIONS: [&str; 2] = ["x_source", "x_billing_period"];

/// One (source, billing period) of `focus.cost_and_usage`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WarehousePeriod {
    /// `vendor/export` (`x_source`).
    pub source: String,
    /// `YYYY-MM`.
    pub period: String,
    /// The loaded version (`meta.load_state.version_id`; several kinds of one export joined
    /// by `+`, in kind order).
    pub version: String,
    /// When it was loaded (the latest kind's), in ms since the epoch.
    #[serde(skip)]
    pub loaded_ms: i64,
    /// FOCUS rows.
    pub rows: u64,
    /// Exact `sum(BilledCost)`, as DuckDB prints it.
    pub billed: String,
    /// Exact `sum(EffectiveCost)`.
    pub effective: String,
    /// Exact `sum(ListCost)`.
    pub list: String,
}

impl WarehousePeriod {
    /// `x_billing_period`'s value: the first day.
    pub(crate) fn first_day(&self) -> String {
        format!("{}-01", self.period)
    }

    /// The `WHERE` of this partition in the warehouse's FOCUS table.
    pub(crate) fn predicate(&self) -> String {
        format!(
            "x_source = {} AND x_billing_period = CAST({} AS DATE)",
            quote_literal(&self.source),
            quote_literal(&self.first_day())
        )
    }
}

/// Every (source, period) with FOCUS rows, with its version and sums.
pub(crate) fn list(wh: &Warehouse) -> Result<Vec<WarehousePeriod>> {
    let focus = wh.qualified(&finops_core::focus::table());
    let state = wh.meta_table("load_state");
    let sql = format!(
        "WITH v AS (
            SELECT source || '/' || export AS x_source, billing_period,
                   string_agg(version_id, '+' ORDER BY kind) AS version,
                   max(epoch_ms(loaded_at)) AS loaded_ms
            FROM {state} GROUP BY ALL),
         f AS (
            SELECT x_source, x_billing_period, count(*) AS n,
                   CAST(sum(\"BilledCost\") AS VARCHAR), CAST(sum(\"EffectiveCost\") AS VARCHAR),
                   CAST(sum(\"ListCost\") AS VARCHAR)
            FROM {focus} GROUP BY ALL)
         SELECT f.x_source, strftime(f.x_billing_period, '%Y-%m'), coalesce(v.version, ''),
                f.* EXCLUDE (x_source, x_billing_period), coalesce(v.loaded_ms, 0)
         FROM f LEFT JOIN v ON v.x_source = f.x_source AND v.billing_period = f.x_billing_period
         ORDER BY 1, 2"
    );
    let action = "reading the warehouse's periods";
    let mut stmt = wh.conn().prepare(&sql).map_err(Error::db(action))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(WarehousePeriod {
                source: r.get(0)?,
                period: r.get(1)?,
                version: r.get(2)?,
                rows: r.get(3)?,
                billed: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                effective: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                list: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                loaded_ms: r.get(7)?,
            })
        })
        .map_err(Error::db(action))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::db(action))
}

/// One column as the lake stores it.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    /// The name.
    pub name: String,
    /// The Delta type (`string`, `decimal(38,20)`, `timestamp`…).
    pub delta_type: String,
    /// The expression DuckDB writes for it.
    pub select: String,
}

/// The FOCUS table's columns, partition columns last, as Delta types. Timestamps become UTC
/// `TIMESTAMPTZ` (Delta `timestamp`, readable at protocol 1/2; a naive one would need
/// `timestampNtz`, reader 3 / writer 7); other types without a Delta equal become strings.
pub(crate) fn schema(wh: &Warehouse) -> Result<Vec<Column>> {
    let t = finops_core::focus::table();
    let mut cols: Vec<Column> = wh
        .columns(&t.schema, &t.name)?
        .into_iter()
        .map(|(name, ty)| column(name, &ty))
        .collect();
    // Partition columns last, in their order (Delta keeps them out of the data files).
    cols.sort_by_key(|c| PARTITIONS.iter().position(|p| *p == c.name));
    Ok(cols)
}

fn column(name: String, duckdb_type: &str) -> Column {
    let q = quote_ident(&name);
    let ty = duckdb_type.to_ascii_uppercase();
    let (delta_type, select) = if let Some(args) = ty
        .strip_prefix("DECIMAL(")
        .and_then(|a| a.strip_suffix(')'))
    {
        (format!("decimal({})", args.replace(' ', "")), q.clone())
    } else {
        match ty.as_str() {
            "TIMESTAMP" | "TIMESTAMP_US" | "DATETIME" => {
                ("timestamp".into(), format!("CAST({q} AS TIMESTAMPTZ)"))
            }
            "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => ("timestamp".into(), q.clone()),
            "DATE" => ("date".into(), q.clone()),
            "BIGINT" | "INT8" => ("long".into(), q.clone()),
            "INTEGER" | "INT4" | "INT" => ("integer".into(), q.clone()),
            "SMALLINT" => ("short".into(), q.clone()),
            "TINYINT" => ("byte".into(), q.clone()),
            "DOUBLE" | "FLOAT8" => ("double".into(), q.clone()),
            "FLOAT" | "REAL" | "FLOAT4" => ("float".into(), q.clone()),
            "BOOLEAN" | "BOOL" => ("boolean".into(), q.clone()),
            "VARCHAR" => ("string".into(), q.clone()),
            _ => ("string".into(), format!("CAST({q} AS VARCHAR)")),
        }
    };
    Column {
        name,
        delta_type,
        select: format!("{select} AS {q}"),
    }
}

/// A column the lake has and the warehouse has not: NULL of its type, so that every data file
/// holds every column of the table (ClickHouse's own Delta reader refuses files whose columns
/// differ).
pub(crate) fn null_column(name: &str, delta_type: &str) -> Column {
    let sql = match delta_type {
        "string" => "VARCHAR".to_owned(),
        "timestamp" => "TIMESTAMPTZ".to_owned(),
        "date" => "DATE".to_owned(),
        "long" => "BIGINT".to_owned(),
        "integer" => "INTEGER".to_owned(),
        "short" => "SMALLINT".to_owned(),
        "byte" => "TINYINT".to_owned(),
        "double" => "DOUBLE".to_owned(),
        "float" => "FLOAT".to_owned(),
        "boolean" => "BOOLEAN".to_owned(),
        d => d
            .strip_prefix("decimal")
            .map_or_else(|| "VARCHAR".to_owned(), |args| format!("DECIMAL{args}")),
    };
    Column {
        name: name.to_owned(),
        delta_type: delta_type.to_owned(),
        select: format!("CAST(NULL AS {sql}) AS {}", quote_ident(name)),
    }
}

/// The `SELECT` list of a partition's data files: every column but the partition columns.
pub(crate) fn data_select(cols: &[Column]) -> String {
    cols.iter()
        .filter(|c| !PARTITIONS.contains(&c.name.as_str()))
        .map(|c| c.select.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_to_delta_at_protocol_1_2() {
        let c = column("ChargePeriodStart".into(), "TIMESTAMP");
        assert_eq!(c.delta_type, "timestamp");
        assert_eq!(
            c.select,
            "CAST(\"ChargePeriodStart\" AS TIMESTAMPTZ) AS \"ChargePeriodStart\""
        );
        assert_eq!(
            column("BilledCost".into(), "DECIMAL(38,20)").delta_type,
            "decimal(38,20)"
        );
        assert_eq!(column("x_RowId".into(), "BIGINT").delta_type, "long");
        assert_eq!(
            null_column("ListCost", "decimal(38,20)").select,
            "CAST(NULL AS DECIMAL(38,20)) AS \"ListCost\""
        );
        let j = column("Tags".into(), "JSON");
        assert_eq!(
            (j.delta_type.as_str(), j.select.as_str()),
            ("string", "CAST(\"Tags\" AS VARCHAR) AS \"Tags\"")
        );
    }
}
