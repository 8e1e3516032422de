//! Legacy CUR (v1) as an [`Export`](finops_core::vendor::Export): lists `<report>/<YYYYMMDD-YYYYMMDD>/` folders and
//! their manifests, stages the data files, and hands core the SQL that reads them.

use std::collections::BTreeMap;
use std::path::Path;

use finops_core::Period;
use finops_core::naming::{TableRef, export_table_name, validate_export_name};
use finops_core::output::Ui;
use finops_core::state::ExportKey;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryStatus, Export, Staged};

use crate::error::{Error, Result};
use crate::manifest::{FileFormat, Manifest};
use crate::read;
use crate::store::Store;

/// Schema of AWS raw tables.
pub const SCHEMA: &str = "aws";
/// Kind of export, as recorded in the load state.
pub const KIND: &str = "cur1";

/// One legacy CUR report.
pub struct CurReport {
    store: Store,
    report: String,
    key: ExportKey,
    concurrency: usize,
}

/// The manifest of a delivery, or why it could not be read (the period then fails alone).
pub struct ManifestDetail {
    /// Where it is (for messages).
    pub location: String,
    /// `<period dir>/<report>-Manifest.json`, relative to the report root.
    pub rel: String,
    /// The parsed manifest, or the error it gave.
    pub manifest: std::result::Result<Manifest, String>,
}

impl CurReport {
    /// The legacy CUR report `report` in `store`.
    pub(crate) fn new(
        store: Store,
        report: String,
        concurrency: usize,
    ) -> finops_core::Result<Self> {
        validate_export_name(&report)?;
        Ok(Self {
            store,
            key: ExportKey {
                vendor: "aws".into(),
                export: report.clone(),
                kind: KIND.into(),
            },
            report,
            concurrency,
        })
    }

    /// The report name.
    pub fn report(&self) -> &str {
        &self.report
    }

    /// `s3://…/report/` or the local directory.
    pub fn location(&self) -> String {
        self.store.describe(&self.report)
    }

    /// The period of a billing period folder (`20240101-20240201`).
    pub(crate) fn is_period_dir(name: &str) -> Option<Period> {
        let (start, end) = name.split_once('-')?;
        let p = Period::from_yyyymmdd(start)?;
        (end.len() == 8 && end.bytes().all(|b| b.is_ascii_digit())).then_some(p)
    }
}

impl Export for CurReport {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        TableRef::new(SCHEMA, export_table_name("cur_", &self.report))
    }

    fn cost_expression(&self) -> Option<String> {
        Some("sum(line_item_unblended_cost)".to_owned())
    }

    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>> {
        Box::pin(self.list())
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

impl CurReport {
    async fn list(&self) -> miette::Result<Vec<Delivery>> {
        let root = format!("{}/", self.report);
        let dirs = self.store.list_dirs(&root).await?;
        let mut deliveries = Vec::new();
        let mut sizes: Option<BTreeMap<String, u64>> = None;
        for dir in dirs {
            let Some(period) = Self::is_period_dir(&dir) else {
                continue;
            };
            let rel = format!("{dir}/{}-Manifest.json", self.report);
            let location = self.store.full_key(&format!("{}/{rel}", self.report));
            let Some(bytes) = self.store.read_small(&format!("{root}{rel}")).await? else {
                tracing::warn!("{location}: no manifest yet; skipping {period}");
                continue;
            };
            let manifest = Manifest::parse(&bytes, &location).and_then(|m| match m.period() {
                Some(p) if p == period => Ok(m),
                other => Err(crate::error::manifest_invalid(location.clone(), format!(
                        "its billing period {} is not the one of its folder {dir} ({period}); the manifest belongs to another month, so the folder's data cannot be told apart",
                        other.map_or_else(|| "?".into(), |p| p.to_string())
                    ))),
            });
            let (version_id, files, status) = match &manifest {
                Ok(m) => {
                    let files = self
                        .store
                        .delivery_files(&self.report, &m.report_keys, &location, &mut sizes)
                        .await?;
                    (m.assembly_id.clone(), files, DeliveryStatus::Ready)
                }
                Err(e) => (
                    "(unreadable manifest)".to_owned(),
                    Vec::new(),
                    DeliveryStatus::unreadable(e),
                ),
            };
            deliveries.push(Delivery {
                period,
                version_id,
                files,
                status,
                detail: std::sync::Arc::new(ManifestDetail {
                    location,
                    rel,
                    manifest: manifest.map_err(Error::reason),
                }),
            });
        }
        if deliveries.is_empty() {
            let found = self.store.list_dirs("").await.unwrap_or_default();
            return Err(
                crate::error::no_manifests(self.report.clone(), self.location(), found).into(),
            );
        }
        Ok(deliveries)
    }

    async fn stage_files(&self, d: &Delivery, dir: &Path, ui: &Ui) -> miette::Result<Staged> {
        let detail = d
            .detail::<ManifestDetail>()
            .ok_or_else(|| miette::miette!("not a CUR delivery"))?;
        let manifest = match &detail.manifest {
            Ok(m) => m,
            // The reason found when listing (a parse error, or a billing period that is not
            // the folder's), with the manifest's help.
            Err(reason) => {
                return Err(crate::error::manifest_invalid(
                    detail.location.clone(),
                    reason.clone(),
                )
                .into());
            }
        };
        let format = manifest.format(&detail.location)?;
        let rels = manifest
            .report_keys
            .iter()
            .map(|k| self.store.data_key(&self.report, k, &detail.location))
            .collect::<Result<Vec<_>>>()?;
        let mut rels = rels;
        // Two spellings of one file (a key and an s3:// URL) are one file.
        finops_core::vendor::dedupe_files(&mut rels, &detail.location);
        let bar = ui.bytes_bar(d.bytes(), format!("{} {}", self.report, d.period));
        let fetched = self
            .store
            .fetch_all(&rels, dir, self.concurrency, &bar)
            .await?;
        bar.finish_and_clear();
        let bytes = fetched.iter().map(|(_, s)| s).sum();
        let files: Vec<_> = fetched.into_iter().map(|(p, _)| p).collect();
        let (raw, tags): (read::RawSelect, Vec<(String, String)>) = match format {
            FileFormat::CsvGzip => {
                let header = read::csv_header(&files[0])?;
                let columns = read::reconcile_columns(
                    &manifest.columns,
                    &header,
                    &files[0].display().to_string(),
                )?;
                let raw = read::csv_select(&files, &read::cur1_columns(&columns), true)?;
                let tags = columns
                    .iter()
                    .zip(&raw.names)
                    .filter(|(c, _)| c.category == "resourceTags")
                    .map(|(c, n)| (c.name.clone(), n.clone()))
                    .collect();
                (raw, tags)
            }
            FileFormat::Parquet => {
                let schema = read::describe_parquet(&files)?;
                let raw = read::parquet_select(&files, &schema, true);
                let tags = raw
                    .names
                    .iter()
                    .filter_map(|n| {
                        n.strip_prefix("resource_tags_")
                            .map(|k| (k.to_owned(), n.clone()))
                    })
                    .collect();
                (raw, tags)
            }
        };
        Ok(Staged::of_raw(
            raw,
            Some(crate::focus::cur1(&tags)),
            bytes,
            files,
        ))
    }
}
