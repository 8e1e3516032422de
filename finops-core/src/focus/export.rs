//! `finops focus export`: FOCUS rows as Parquet or CSV, one file per billing period.
//!
//! Columns are the chosen version's, in specification order, then the `x_` columns. The
//! warehouse keeps every decimal exact; in the export, the columns of the two product rules
//! (`ListCost = ListUnitPrice × PricingQuantity`, `ContractedCost = ContractedUnitPrice ×
//! PricingQuantity`) are written as DOUBLE with the cost computed from the DOUBLE factors, so
//! that a consumer checking the rule in floating point (as FOCUS validators do) finds it exact.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Version;
use super::columns::{self, DataType};
use crate::error::{Error, Result};
use crate::naming::{quote_ident, quote_literal};
use crate::period::Period;
use crate::warehouse::Warehouse;

/// Output file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// CSV with a header; times as `YYYY-MM-DDTHH:MM:SSZ`, nulls empty.
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "parquet" => Ok(Self::Parquet),
            "csv" => Ok(Self::Csv),
            _ => Err(format!("`{s}` is not an export format; use parquet or csv")),
        }
    }
}

/// One file written.
#[derive(Debug, Serialize)]
pub struct Exported {
    /// Billing period.
    pub period: Period,
    /// The file.
    pub path: PathBuf,
    /// Rows written.
    pub rows: u64,
}

/// The `SELECT` list of an export of `version` from a table with `x_columns`.
pub fn select_list(version: Version, format: Format, x_columns: &[String]) -> String {
    let mut out: Vec<String> = columns::of(version)
        .map(|c| {
            let q = quote_ident(c.name);
            let expr = match (c.name, c.data_type) {
                ("ListCost", _) => product("ListUnitPrice", "ListCost"),
                ("ContractedCost", _) => product("ContractedUnitPrice", "ContractedCost"),
                ("ListUnitPrice" | "ContractedUnitPrice" | "PricingQuantity", _) => {
                    format!("CAST({q} AS DOUBLE)")
                }
                (_, DataType::DateTime) if format == Format::Csv => {
                    format!("strftime({q}, '%Y-%m-%dT%H:%M:%SZ')")
                }
                _ => q.clone(),
            };
            format!("{expr} AS {q}")
        })
        .collect();
    out.extend(x_columns.iter().map(|c| quote_ident(c)));
    out.join(", ")
}

fn product(price: &str, cost: &str) -> String {
    // Only where the stored cost is the exact product: a wrong value stays wrong in the export.
    format!(
        "CASE WHEN {p} IS NOT NULL AND \"PricingQuantity\" IS NOT NULL AND {c} = {p} * \"PricingQuantity\" \
         THEN CAST({p} AS DOUBLE) * CAST(\"PricingQuantity\" AS DOUBLE) ELSE CAST({c} AS DOUBLE) END",
        p = quote_ident(price),
        c = quote_ident(cost)
    )
}

/// Writes `dir/focus-<version>-<YYYY-MM>.<ext>` for each period (or only `period`).
pub fn export(
    wh: &Warehouse,
    version: Version,
    format: Format,
    dir: &Path,
    period: Option<Period>,
) -> Result<Vec<Exported>> {
    let table = super::table();
    if !wh.table_exists(&table.schema, &table.name)? {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(Error::io("creating the export directory", dir))?;
    let qualified = wh.qualified(&table);
    let action = "exporting FOCUS rows";
    let x_columns: Vec<String> = wh
        .columns(&table.schema, &table.name)?
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("x_"))
        .collect();
    let periods = wh.strings(
        &format!("SELECT DISTINCT CAST(x_billing_period AS VARCHAR) FROM {qualified} ORDER BY 1"),
        action,
    )?;
    let list = select_list(version, format, &x_columns);
    let (ext, options) = match format {
        Format::Parquet => ("parquet", "FORMAT parquet"),
        Format::Csv => ("csv", "FORMAT csv, HEADER true"),
    };
    let mut out = Vec::new();
    for p in periods {
        let Ok(p) = p.parse::<Period>() else { continue };
        if period.is_some_and(|want| want != p) {
            continue;
        }
        let path = dir.join(format!("focus-{version}-{p}.{ext}"));
        let rows = wh
            .conn()
            .execute(
                &format!(
                    "COPY (SELECT {list} FROM {qualified} WHERE x_billing_period = CAST({} AS DATE) ORDER BY x_source, \"ChargePeriodStart\") TO {} ({options})",
                    quote_literal(&p.first_day()),
                    quote_literal(&path.to_string_lossy())
                ),
                [],
            )
            .map_err(Error::db(format!("writing {}", path.display())))?;
        out.push(Exported {
            period: p,
            path,
            rows: rows as u64,
        });
    }
    Ok(out)
}
