//! Cost Management exports as [`Export`](finops_core::vendor::Export)s: every `manifest.json` under the prefix is
//! one run; runs are grouped by export name and month, and the newest run of a month (by
//! `submittedTime`) is that month's delivery, its `runId` the version.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use finops_core::Period;
use finops_core::naming::{TableRef, export_table_name, validate_export_name};
use finops_core::output::Ui;
use finops_core::read::{self, ColumnType, FileKind, ReadColumn};
use finops_core::state::ExportKey;
use finops_core::store::Store;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryFile, DeliveryStatus, Export, Staged};

use crate::error::{Error, Result};
use crate::focus;
use crate::manifest::Manifest;

/// Schema of Azure raw tables.
pub const SCHEMA: &str = "azure";

/// What an export holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dataset {
    /// `FocusCost`: FOCUS 1.0, 1.0r2 or 1.2 with Microsoft's `x_` columns.
    Focus,
    /// `ActualCost` (EA 2024-08-01, MCA 2023-12-01-preview…): billed cost.
    Actual,
    /// `AmortizedCost`: commitment purchases spread over the usage they cover.
    Amortized,
}

impl Dataset {
    /// From `exportConfig.type`.
    pub fn from_type(t: &str) -> Option<Self> {
        match t.to_ascii_lowercase().as_str() {
            "focuscost" => Some(Self::Focus),
            "actualcost" | "usage" => Some(Self::Actual),
            "amortizedcost" => Some(Self::Amortized),
            _ => None,
        }
    }

    /// As recorded in the load state (`kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Focus => "focus",
            Self::Actual => "actual",
            Self::Amortized => "amortized",
        }
    }
}

/// One run's manifest, or why it could not be read (the month then fails alone).
#[derive(Clone, Debug)]
pub struct Run {
    /// `…/manifest.json`, relative to the prefix.
    pub rel: String,
    /// The manifest.
    pub manifest: std::result::Result<Manifest, String>,
}

/// An export found under the prefix.
#[derive(Debug)]
pub struct Found {
    /// Export name.
    pub name: String,
    /// Its dataset, or why finops cannot load it.
    pub dataset: std::result::Result<Dataset, String>,
    /// The scope its newest run covers (to pair actual with amortized exports).
    pub scope: Option<String>,
    /// The newest run of each month.
    pub runs: BTreeMap<Period, Run>,
}

/// The export name and month of a manifest path that could not be parsed, from the layout
/// `<export>/<YYYYMMDD-YYYYMMDD>/…/manifest.json`.
fn name_and_period_from_path(rel: &str) -> Option<(String, Period)> {
    let parts: Vec<&str> = rel.split('/').collect();
    let i = parts.iter().position(|p| {
        p.len() == 17
            && p.as_bytes()[8] == b'-'
            && p.bytes().filter(u8::is_ascii_digit).count() == 16
    })?;
    let name = parts.get(i.checked_sub(1)?)?;
    let period = Period::from_yyyymmdd(&format!("{}01", &parts[i][..6]))?;
    Some(((*name).to_owned(), period))
}

/// How runs of a month are ordered: by the run folder's time stamp
/// (`<export>/<range>/<yyyyMMddHHmm>/<runId>/manifest.json`), which even an unreadable
/// manifest has, else by the manifest's `submittedTime`.
fn run_order(rel: &str, submitted: Option<&str>) -> String {
    let parts: Vec<&str> = rel.split('/').collect();
    parts
        .windows(2)
        .find(|w| {
            w[0].len() == 17
                && w[0].as_bytes()[8] == b'-'
                && w[1].len() >= 12
                && w[1].bytes().all(|b| b.is_ascii_digit())
        })
        .map(|w| w[1].to_owned())
        .or_else(|| submitted.map(|s| s.chars().filter(char::is_ascii_digit).take(12).collect()))
        .unwrap_or_default()
}

/// Every export under the store's prefix, with the newest run of each month, and the listing
/// (file → size).
pub(crate) async fn discover(
    store: &dyn Store,
) -> miette::Result<(Vec<Found>, BTreeMap<String, u64>)> {
    // export -> period -> (order, rel, manifest)
    type Candidate = (String, String, std::result::Result<Manifest, String>);
    let listing = store.list_files("").await?;
    let mut by_export: BTreeMap<String, BTreeMap<Period, Candidate>> = BTreeMap::new();
    for rel in listing
        .keys()
        .filter(|k| *k == "manifest.json" || k.ends_with("/manifest.json"))
    {
        let location = store.describe(rel);
        let parsed = match store.read_small(rel).await {
            Ok(Some(bytes)) => Manifest::parse(&bytes, &location),
            Ok(None) => Err(crate::error::manifest_invalid(
                location.clone(),
                "it was deleted while the exports were listed",
            )),
            // A manifest that cannot be read fails its month alone, with the reason.
            Err(e) => Err(crate::error::manifest_invalid(
                location.clone(),
                e.to_string(),
            )),
        };
        let (name, period, order) = match &parsed {
            Ok(m) => (
                m.export_config.export_name.clone(),
                m.period().expect("checked by parse"),
                run_order(rel, m.run_info.submitted_time.as_deref()),
            ),
            Err(e) => {
                let Some((n, p)) = name_and_period_from_path(rel) else {
                    tracing::warn!("{location}: {e}; skipping it");
                    continue;
                };
                tracing::warn!("{e}");
                // A run of more than one month never outranks a month's own runs.
                let order = if matches!(e, Error::Core(finops_core::Error::ManifestInvalid { reason, .. }) if reason.contains("more than one billing period"))
                {
                    String::new()
                } else {
                    run_order(rel, None)
                };
                (n, p, order)
            }
        };
        let candidate = (order, rel.clone(), parsed.map_err(Error::reason));
        let months = by_export.entry(name).or_default();
        match months.get(&period) {
            // The newest run is the month's version, readable or not: an unreadable newer run
            // fails its month (the previous load is kept) rather than hide behind an older one.
            Some(old) if (&old.0, &old.1) >= (&candidate.0, &candidate.1) => {}
            _ => {
                months.insert(period, candidate);
            }
        }
    }
    let found = by_export
        .into_iter()
        .map(|(name, months)| {
            let newest = months.values().rev().find_map(|c| c.2.as_ref().ok());
            let dataset = match newest {
                Some(m) => Dataset::from_type(&m.export_config.dataset).ok_or_else(|| {
                    format!(
                        "it is a {} export (version {}), which finops does not load",
                        m.export_config.dataset,
                        m.export_config.data_version.as_deref().unwrap_or("?")
                    )
                }),
                None => Err("none of its manifests is readable".to_owned()),
            };
            let scope = newest.and_then(Manifest::scope);
            let runs = months
                .into_iter()
                .map(|(p, (_, rel, manifest))| (p, Run { rel, manifest }))
                .collect();
            Found {
                name,
                dataset,
                scope,
                runs,
            }
        })
        .collect();
    Ok((found, listing))
}

/// One Cost Management export.
pub struct CostExport {
    store: Arc<dyn Store>,
    name: String,
    dataset: Dataset,
    /// An ActualCost export whose scope also has an AmortizedCost export: its FOCUS rows are
    /// only the commitment purchases and refunds (the amortized export carries the rest).
    purchases_only: bool,
    runs: BTreeMap<Period, Run>,
    listing: std::sync::Arc<BTreeMap<String, u64>>,
    key: ExportKey,
    concurrency: usize,
}

impl CostExport {
    /// The export `found` in `store`.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        found: Found,
        dataset: Dataset,
        purchases_only: bool,
        listing: std::sync::Arc<BTreeMap<String, u64>>,
        concurrency: usize,
    ) -> finops_core::Result<Self> {
        validate_export_name(&found.name)?;
        Ok(Self {
            key: ExportKey {
                vendor: "azure".into(),
                export: found.name.clone(),
                kind: dataset.as_str().into(),
            },
            store,
            name: found.name,
            dataset,
            purchases_only,
            runs: found.runs,
            listing,
            concurrency,
        })
    }

    /// The dataset.
    pub fn dataset(&self) -> Dataset {
        self.dataset
    }

    /// Whether only commitment purchases go to FOCUS (see the field).
    pub fn purchases_only(&self) -> bool {
        self.purchases_only
    }

    /// A data file named by a manifest, as a path relative to the prefix: the blob name less
    /// the prefix, or (for a local copy of another root) the file beside the manifest. Only
    /// files that exist in the listing are returned, so a manifest cannot point outside.
    fn data_rel(&self, manifest_rel: &str, blob_name: &str, location: &str) -> Result<String> {
        let name = blob_name.trim_start_matches('/');
        if name.split('/').any(|s| s == ".." || s == ".") {
            return Err(crate::error::manifest_invalid(
                location.to_owned(),
                format!("blob `{blob_name}` is outside the export location"),
            ));
        }
        let dir = manifest_rel.rsplit_once('/').map_or("", |(d, _)| d);
        let base = name.rsplit('/').next().unwrap_or(name);
        let candidates = [
            name.strip_prefix(self.store.prefix()).map(str::to_owned),
            Some(if dir.is_empty() {
                base.to_owned()
            } else {
                format!("{dir}/{base}")
            }),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|c| self.listing.contains_key(c))
            .ok_or_else(|| {
                crate::error::manifest_invalid(
                    location.to_owned(),
                    format!("it lists `{blob_name}`, which is not there"),
                )
            })
    }
}

impl Export for CostExport {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        TableRef::new(
            SCHEMA,
            export_table_name(&format!("{}_", self.dataset.as_str()), &self.name),
        )
    }

    fn cost_expression(&self) -> Option<String> {
        Some(match self.dataset {
            Dataset::Focus => "sum(\"BilledCost\")".to_owned(),
            Dataset::Actual | Dataset::Amortized => "sum(cost_in_billing_currency)".to_owned(),
        })
    }

    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>> {
        let deliveries = self.list();
        Box::pin(async move { Ok(deliveries) })
    }

    fn stage<'a>(
        &'a self,
        d: &'a Delivery,
        dir: &'a Path,
        ui: &'a Ui,
    ) -> BoxFuture<'a, miette::Result<Staged>> {
        Box::pin(self.stage_files(d, dir, ui))
    }
}

impl CostExport {
    /// One delivery per month: its newest run (already read by [`discover`]).
    fn list(&self) -> Vec<Delivery> {
        let mut out = Vec::new();
        for (period, run) in &self.runs {
            let location = self.store.describe(&run.rel);
            let (version_id, files, status) = match &run.manifest {
                Ok(m) => {
                    let mut files = Vec::new();
                    for b in &m.blobs {
                        // Unresolvable files fail the month at staging, with the reason.
                        let key = self
                            .data_rel(&run.rel, &b.blob_name, &location)
                            .unwrap_or_else(|_| b.blob_name.clone());
                        let size = self.listing.get(&key).copied().or(b.byte_count);
                        files.push(DeliveryFile { key, size });
                    }
                    let v = if self.purchases_only {
                        format!("{}/purchases", m.run_info.run_id)
                    } else {
                        m.run_info.run_id.clone()
                    };
                    (v, files, DeliveryStatus::Ready)
                }
                Err(reason) => (
                    "(unreadable manifest)".to_owned(),
                    Vec::new(),
                    DeliveryStatus::unreadable(&crate::error::manifest_invalid(
                        location.clone(),
                        reason.clone(),
                    )),
                ),
            };
            out.push(Delivery {
                period: *period,
                version_id,
                files,
                status,
                detail: std::sync::Arc::new(run.clone()),
            });
        }
        out
    }

    async fn stage_files(&self, d: &Delivery, dir: &Path, ui: &Ui) -> miette::Result<Staged> {
        let run = d
            .detail::<Run>()
            .ok_or_else(|| miette::miette!("not a Cost Management delivery"))?;
        let location = self.store.describe(&run.rel);
        let manifest = match &run.manifest {
            Ok(m) => m,
            Err(reason) => {
                return Err(crate::error::manifest_invalid(location, reason.clone()).into());
            }
        };
        if manifest.blobs.is_empty() {
            return Err(
                crate::error::manifest_invalid(location, "it lists no data files (blobs)").into(),
            );
        }
        let mut rels = Vec::new();
        for b in &manifest.blobs {
            let rel = self.data_rel(&run.rel, &b.blob_name, &location)?;
            if let (Some(want), Some(have)) = (b.byte_count, self.listing.get(&rel))
                && want != *have
            {
                return Err(crate::error::manifest_invalid(location, format!(
                        "it says `{}` has {want} bytes, but it has {have}; the export may still be writing",
                        b.blob_name
                    ))
                .into());
            }
            rels.push(rel);
        }
        // Two names of one file (a full blob name and one beside the manifest) are one file.
        finops_core::vendor::dedupe_files(&mut rels, &location);
        let (files, bytes) = finops_core::store::fetch_delivery(
            self.store.as_ref(),
            d,
            &rels,
            dir,
            self.concurrency,
            ui,
            format!("{} {}", self.name, d.period),
        )
        .await?;
        let rename = self.dataset != Dataset::Focus;
        let type_of = |h: &str| match self.dataset {
            Dataset::Focus => match read::focus_column_type(h) {
                ColumnType::Timestamp => ColumnType::LooseTimestamp,
                t => t,
            },
            Dataset::Actual | Dataset::Amortized => focus::cost_column_type(h),
        };
        let (sources, kind, from): (Vec<(String, String)>, FileKind, String) =
            if manifest.is_parquet() {
                (
                    read::describe_parquet(&files)?,
                    FileKind::Parquet,
                    read::parquet_source(&files),
                )
            } else {
                let header = read::csv_header(&files[0])?;
                let from = read::csv_relation(&files, &header)?;
                (
                    header
                        .into_iter()
                        .map(|h| (h, "VARCHAR".to_owned()))
                        .collect(),
                    FileKind::Csv,
                    from,
                )
            };
        // Output names: FOCUS exports keep theirs; cost exports are snake_cased from the
        // canonical spelling, so that EA's `CostInBillingCurrency` and MCA's
        // `costInBillingCurrency` land in the same column. Text that should be a number or a
        // date (Parquet written with strings) is typed as for CSV.
        let names = if rename {
            finops_core::naming::snake_case_all(
                sources
                    .iter()
                    .map(|(h, _)| focus::canonical_name(h))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            )
        } else {
            sources.iter().map(|(h, _)| h.clone()).collect()
        };
        let read: Vec<ReadColumn> = sources
            .iter()
            .zip(names)
            .map(|((delivered, delivered_type), name)| ReadColumn {
                target: type_of(delivered),
                delivered: delivered.clone(),
                delivered_type: delivered_type.clone(),
                name,
            })
            .collect();
        let raw = read::select_columns(&from, kind, &read);
        let columns: Vec<(String, String)> = read::visible_columns(&raw.sql)?;
        let present: BTreeSet<String> = columns.iter().map(|(n, _)| n.clone()).collect();
        let focus = Some(match self.dataset {
            Dataset::Focus => focus::focus_upgrade(&columns),
            Dataset::Actual | Dataset::Amortized => focus::cost_to_focus(&focus::Inputs {
                present,
                dataset: self.dataset,
                purchases_only: self.purchases_only,
            }),
        });
        Ok(Staged {
            expected_rows: manifest.data_row_count,
            ..Staged::of_raw(raw, focus, bytes, files)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_paths() {
        assert_eq!(
            name_and_period_from_path(
                "exports/daily/20240101-20240131/202402031833/abc/manifest.json"
            ),
            Some((
                "daily".to_owned(),
                Period::from_yyyymmdd("20240101").unwrap()
            ))
        );
        assert_eq!(name_and_period_from_path("x/manifest.json"), None);
    }
}
