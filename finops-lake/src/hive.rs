//! `finops focus export --layout hive`: for readers without Delta support, one Parquet object
//! per (source, period) under `x_source=…/x_billing_period=YYYY-MM-01/part-0.parquet`, each
//! replaced by a single upload. A query running during a replace may fail or mix a period's
//! old and new rows (no log says which files are current); a new query sees one or the other.

use finops_core::Warehouse;
use finops_core::naming::quote_literal;

use crate::delta::{encode, object_store_at, staging_dir, upload};
use crate::periods;

/// One object written.
#[derive(Debug, serde::Serialize)]
pub struct HiveObject {
    /// `x_source`.
    pub source: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Rows.
    pub rows: u64,
    /// Where, relative to the root.
    pub key: String,
}

/// Writes every (source, period) of the warehouse (or only `period`) under `url`.
pub async fn export(
    wh: &Warehouse,
    url: &str,
    period: Option<finops_core::Period>,
) -> miette::Result<Vec<HiveObject>> {
    let store = object_store_at(url)?;
    let cols = periods::schema(wh)?;
    let focus = wh.qualified(&finops_core::focus::table());
    let staging = staging_dir(wh)?;
    let mut out = Vec::new();
    for p in periods::list(wh)?
        .into_iter()
        .filter(|p| period.is_none_or(|want| want.to_string() == p.period))
    {
        let file = staging.path().join("part-0.parquet");
        let rows = wh
            .conn()
            .execute(
                &format!(
                    "COPY (SELECT {} FROM {focus} WHERE {} ORDER BY \"ChargePeriodStart\") TO {} \
                     (FORMAT parquet, COMPRESSION snappy)",
                    periods::data_select(&cols),
                    p.predicate(),
                    quote_literal(&file.to_string_lossy()),
                ),
                [],
            )
            .map_err(finops_core::Error::db(format!(
                "writing {} {} as Parquet",
                p.source, p.period
            )))?;
        let key = format!(
            "x_source={}/x_billing_period={}/part-0.parquet",
            encode(&p.source),
            p.first_day()
        );
        upload(store.as_ref(), &file, &key).await.map_err(|e| {
            miette::miette!(
                code = "finops::export::upload",
                help = "the objects written before stay; run again to write the rest",
                "uploading {key} to {url}: {e}"
            )
        })?;
        out.push(HiveObject {
            source: p.source,
            period: p.period,
            rows: u64::try_from(rows).unwrap_or(u64::MAX),
            key,
        });
    }
    Ok(out)
}
