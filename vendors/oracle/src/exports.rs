//! The two report streams of a tenancy as [`Export`]s: FOCUS reports
//! (`FOCUS Reports/YYYY/MM/DD/*.csv.gz`, a month's files are those under its folders) and cost
//! reports (`reports/cost-csv/*.csv.gz`, numbered incremental files, each holding whatever
//! usage and corrections arrived since the last: a month's files are those holding its rows,
//! read from the data). Files are immutable: a month's version is a fingerprint of its
//! files' names and sizes, so a new file (a late one, a correction, a split `-00002` part)
//! rebuilds its month whole, and nothing is counted twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use finops_core::Period;
use finops_core::naming::{TableRef, quote_ident, quote_literal};
use finops_core::output::Ui;
use finops_core::read::{self, ColumnType, FileKind, ReadColumn};
use finops_core::state::ExportKey;
use finops_core::store::Store;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryStatus, Export, Staged};

/// Schema of Oracle raw tables.
pub const SCHEMA: &str = "oracle";
/// Where Oracle writes FOCUS reports.
pub const FOCUS_PREFIX: &str = "FOCUS Reports/";
/// Where Oracle writes cost reports.
pub const COST_PREFIX: &str = "reports/cost-csv/";

/// Which reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// FOCUS reports (FOCUS 1.0-preview names beside newer columns, `oci_*` extensions).
    Focus,
    /// Cost reports (`lineItem/…`, `cost/…`, `tags/…` columns).
    Cost,
}

impl Kind {
    /// The export's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Focus => "focus-reports",
            Self::Cost => "cost-reports",
        }
    }

    /// The kind in the load state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Focus => "focus",
            Self::Cost => "cost",
        }
    }

    /// From `oracle.export`: `focus`, `cost`, or the export's name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "focus" | "focus-reports" => Some(Self::Focus),
            "cost" | "cost-reports" => Some(Self::Cost),
            _ => None,
        }
    }
}

/// Whether an object is a report file (`.csv` or `.csv.gz`, any case).
pub fn is_report(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    lower.rsplit_once('.').is_some_and(|(_, ext)| ext == "csv")
}

/// The FOCUS report files by month, from the folder `FOCUS Reports/YYYY/MM/DD/`.
pub fn focus_months(listing: &BTreeMap<String, u64>) -> BTreeMap<Period, Vec<(String, u64)>> {
    let mut out: BTreeMap<Period, Vec<(String, u64)>> = BTreeMap::new();
    for (rel, size) in listing {
        let Some(rest) = rel.strip_prefix(FOCUS_PREFIX) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < 3 || !is_report(rel) {
            continue;
        }
        let Some(period) = Period::from_yyyymmdd(&format!("{}{}01", parts[0], parts[1])) else {
            tracing::warn!("skipping {rel}: not under FOCUS Reports/YYYY/MM/DD/");
            continue;
        };
        out.entry(period).or_default().push((rel.clone(), *size));
    }
    out
}

/// The cost report files.
pub fn cost_files(listing: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    listing
        .iter()
        .filter(|(rel, _)| {
            rel.strip_prefix(COST_PREFIX)
                .is_some_and(|r| !r.contains('/'))
                && is_report(rel)
        })
        .map(|(r, s)| (r.clone(), *s))
        .collect()
}

/// The column of a cost report holding a row's usage start.
const COST_START: &str = "lineItem/intervalUsageStart";

/// Reads every cost report file (downloaded to `dir` when remote) for the months its rows
/// fall in: month → the files holding some of its rows.
pub async fn cost_months(
    store: &dyn Store,
    files: &[(String, u64)],
    dir: &Path,
    concurrency: usize,
) -> miette::Result<BTreeMap<Period, Vec<(String, u64)>>> {
    let rels: Vec<String> = files.iter().map(|(r, _)| r.clone()).collect();
    let bar = finops_core::output::ProgressBar::hidden();
    let fetched = finops_core::store::fetch_all(store, &rels, dir, concurrency, &bar).await?;
    let paths: Vec<PathBuf> = fetched.into_iter().map(|(p, _)| p).collect();
    let (headers, from) = read::csv_union_relation(&paths)?;
    let Some(i) = headers.iter().position(|h| h == COST_START) else {
        return Err(finops_core::Error::DeliveryUnreadable {
            message: format!(
                "{} holds no {COST_START} column: these are not OCI cost reports",
                store.describe(COST_PREFIX)
            ),
            help: "oracle.path should be the copy of the reports bucket (with reports/cost-csv/)"
                .into(),
        }
        .into());
    };
    let start = read::loose_timestamp(
        &format!(
            "NULLIF(trim({}), '')",
            quote_ident(&format!("{}c{i}", finops_core::precision::HIDDEN_PREFIX))
        ),
        COST_START,
    );
    let sql = format!(
        "SELECT DISTINCT {file} AS f, strftime({start}, '%Y%m01') AS m FROM {from}",
        file = quote_ident(read::FILE_COLUMN)
    );
    let conn = finops_core::duckdb::Connection::open_in_memory()
        .map_err(finops_core::Error::db("opening an in-memory database"))?;
    let action = "reading the months of the cost reports";
    let mut stmt = conn.prepare(&sql).map_err(finops_core::Error::db(action))?;
    let pairs = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .map_err(finops_core::Error::db(action))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(finops_core::Error::db(action))?;
    let mut out: BTreeMap<Period, Vec<(String, u64)>> = BTreeMap::new();
    for (file, month) in pairs {
        let Some(period) = month.as_deref().and_then(Period::from_yyyymmdd) else {
            continue;
        };
        let Some(k) = paths.iter().position(|p| p.to_string_lossy() == file) else {
            continue;
        };
        out.entry(period).or_default().push(files[k].clone());
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

/// One report stream of a tenancy.
pub struct ReportExport {
    store: Arc<dyn Store>,
    kind: Kind,
    months: BTreeMap<Period, Vec<(String, u64)>>,
    key: ExportKey,
    concurrency: usize,
}

impl ReportExport {
    /// The reports of `kind` in `store`, by month.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        kind: Kind,
        months: BTreeMap<Period, Vec<(String, u64)>>,
        concurrency: usize,
    ) -> Self {
        Self {
            key: ExportKey {
                vendor: "oracle".into(),
                export: kind.name().into(),
                kind: kind.as_str().into(),
            },
            store,
            kind,
            months,
            concurrency,
        }
    }
}

/// Cost report columns that are numbers.
const COST_NUMBERS: &[&str] = &[
    "usage/billedQuantity",
    "usage/billedQuantityOverage",
    "cost/unitPrice",
    "cost/unitPriceOverage",
    "cost/myCost",
    "cost/myCostOverage",
];

/// How a report column is read.
fn column_type(kind: Kind, header: &str) -> ColumnType {
    let h = header.trim();
    match kind {
        Kind::Focus => {
            let lower = h.to_ascii_lowercase();
            if lower.starts_with("oci_")
                && ["cost", "quantity", "usage", "price"]
                    .iter()
                    .any(|w| lower.contains(w))
            {
                return ColumnType::Decimal;
            }
            if lower == "usagequantity" {
                return ColumnType::Decimal;
            }
            match read::focus_column_type(h) {
                ColumnType::Timestamp => ColumnType::LooseTimestamp,
                t => t,
            }
        }
        Kind::Cost => {
            if COST_NUMBERS.contains(&h) {
                ColumnType::Decimal
            } else if h == COST_START || h == "lineItem/intervalUsageEnd" {
                ColumnType::LooseTimestamp
            } else {
                ColumnType::Text
            }
        }
    }
}

/// A FOCUS report column's raw name: as delivered (trimmed), Oracle's `oci_*` extensions
/// as `x_oci_*` (FOCUS's prefix for extensions).
fn focus_name(header: &str) -> String {
    let h = header.trim();
    if h.len() > 4 && h[..4].eq_ignore_ascii_case("oci_") {
        format!("x_{h}")
    } else {
        h.to_owned()
    }
}

impl Export for ReportExport {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        TableRef::new(SCHEMA, self.kind.name().replace('-', "_"))
    }

    fn cost_expression(&self) -> Option<String> {
        Some(match self.kind {
            Kind::Focus => "sum(\"BilledCost\")".to_owned(),
            Kind::Cost => "sum(cost_my_cost)".to_owned(),
        })
    }

    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>> {
        let out = self
            .months
            .iter()
            .map(|(period, files)| {
                Delivery::of_files(
                    *period,
                    finops_core::vendor::files_version(
                        files
                            .iter()
                            .map(|(rel, size)| (rel.rsplit('/').next().unwrap_or(rel), *size, "")),
                    ),
                    files.iter().map(|(key, size)| (key.clone(), Some(*size))),
                    DeliveryStatus::Ready,
                )
            })
            .collect();
        Box::pin(async move { Ok(out) })
    }

    fn stage<'a>(
        &'a self,
        d: &'a Delivery,
        dir: &'a Path,
        ui: &'a Ui,
    ) -> BoxFuture<'a, miette::Result<Staged>> {
        Box::pin(async move {
            let rels: Vec<String> = d.files.iter().map(|f| f.key.clone()).collect();
            let (files, bytes) = finops_core::store::fetch_delivery(
                self.store.as_ref(),
                d,
                &rels,
                dir,
                self.concurrency,
                ui,
                format!("{} {}", self.kind.name(), d.period),
            )
            .await?;
            let (headers, from) = read::csv_union_relation(&files)?;
            let names = match self.kind {
                Kind::Focus => headers.iter().map(|h| focus_name(h)).collect(),
                Kind::Cost => {
                    finops_core::naming::snake_case_all(headers.iter().map(String::as_str))
                }
            };
            let columns: Vec<ReadColumn> = headers
                .iter()
                .zip(names)
                .map(|(h, name)| ReadColumn {
                    target: column_type(self.kind, h),
                    delivered: h.clone(),
                    delivered_type: "VARCHAR".into(),
                    name,
                })
                .collect();
            let mut raw = read::select_columns(&from, FileKind::Csv, &columns);
            if self.kind == Kind::Cost {
                // A cost report file holds the rows of every month it covers: this month's.
                raw.sql = format!(
                    "SELECT * FROM ({}) WHERE line_item_interval_usage_start >= {} AND line_item_interval_usage_start < {}",
                    raw.sql,
                    quote_literal(&format!("{} 00:00:00", d.period.first_day())),
                    quote_literal(&format!("{} 00:00:00", d.period.next().first_day()))
                );
            }
            let described: Vec<(String, String)> = read::visible_columns(&raw.sql)?;
            let focus = Some(match self.kind {
                Kind::Focus => crate::focus::focus_upgrade(&described),
                Kind::Cost => crate::focus::cost(&raw),
            });
            Ok(Staged::of_raw(raw, focus, bytes, files))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_found_by_their_folders() {
        let listing: BTreeMap<String, u64> = [
            ("FOCUS Reports/2026/10/01/0001-00001.csv.gz", 10),
            ("FOCUS Reports/2026/10/01/0001-00002.csv.gz", 11),
            ("FOCUS Reports/2026/10/02/0002.csv.gz", 12),
            ("FOCUS Reports/2026/11/01/0003.csv.gz", 13),
            ("FOCUS Reports/README.txt", 1),
            (
                "reports/cost-csv/reports_cost-csv_0000000030000269.csv.gz",
                14,
            ),
            ("reports/usage-csv/reports_usage-csv_1.csv.gz", 15),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let months = focus_months(&listing);
        assert_eq!(months.len(), 2);
        assert_eq!(months[&Period::from_yyyymmdd("20261001").unwrap()].len(), 3);
        assert_eq!(cost_files(&listing).len(), 1);
        assert_eq!(
            focus_name("oci_BackReferenceNumber"),
            "x_oci_BackReferenceNumber"
        );
        assert_eq!(
            focus_name("PricingCurrencyEffectiveCost "),
            "PricingCurrencyEffectiveCost"
        );
        assert_eq!(Kind::parse("FOCUS"), Some(Kind::Focus));
    }
}
