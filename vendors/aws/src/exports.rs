//! AWS Data Exports — CUR 2.0 and "FOCUS 1.0 with AWS columns" — as an [`Export`](finops_core::vendor::Export),
//! and finding every export under a bucket/prefix with its kind.
//!
//! Layout: `<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<files>` and
//! `<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`; the manifest's
//! `executionId` is the version, its `dataFiles` the files to read. The kind is told by the
//! manifest's columns, never configured.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use finops_core::Period;
use finops_core::focus::mapping::FocusSql;
use finops_core::naming::{TableRef, export_table_name, quote_ident, validate_export_name};
use finops_core::output::Ui;
use finops_core::state::ExportKey;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryStatus, Export, Staged};
use serde::Deserialize;

use crate::cur::{CurReport, SCHEMA};
use crate::error::{Error, Result};
use crate::read::{self, ColumnType};
use crate::store::Store;

/// The kinds of AWS billing export finops reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportKind {
    /// Legacy Cost and Usage Report.
    Cur1,
    /// CUR 2.0 (Data Exports, table `COST_AND_USAGE_REPORT`).
    Cur2,
    /// FOCUS with AWS columns (Data Exports, `FOCUS_1_0_AWS`).
    Focus,
}

impl ExportKind {
    /// As recorded in the load state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cur1 => "cur1",
            Self::Cur2 => "cur2",
            Self::Focus => "focus",
        }
    }

    /// Prefix of its raw table name in schema `aws`.
    fn table_prefix(self) -> &'static str {
        match self {
            Self::Cur1 => "cur_",
            Self::Cur2 => "cur2_",
            Self::Focus => "focus_",
        }
    }
}

impl fmt::Display for ExportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cur1 => "CUR v1",
            Self::Cur2 => "CUR 2.0",
            Self::Focus => "FOCUS",
        })
    }
}

/// A Data Exports manifest (the fields finops uses; AWS documents the content, not a schema,
/// so every field but `executionId` and `dataFiles` is optional).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataManifest {
    /// The version of this delivery; changes on every refresh.
    pub execution_id: String,
    /// Data files, as `s3://bucket/key` URLs or keys.
    pub data_files: Vec<String>,
    /// The period covered.
    #[serde(default)]
    pub billing_period: Option<crate::manifest::BillingPeriod>,
    /// Exported columns.
    #[serde(default)]
    pub columns: Vec<DataColumn>,
}

/// A column of a Data Exports manifest.
#[derive(Clone, Debug, Deserialize)]
pub struct DataColumn {
    /// Name as in the files.
    pub name: String,
    /// `string`, `double`, `timestamp`, `map<string,string>`…
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
}

impl DataManifest {
    /// Parses and checks a manifest read from `location`.
    pub fn parse(bytes: &[u8], location: &str) -> Result<Self> {
        let invalid = |reason: String| crate::error::manifest_invalid(location.to_owned(), reason);
        let mut m: Self = serde_json::from_slice(finops_core::vendor::strip_bom(bytes))
            .map_err(|e| invalid(e.to_string()))?;
        finops_core::vendor::dedupe_files(&mut m.data_files, location);
        if m.execution_id.trim().is_empty() {
            return Err(invalid("executionId is empty".into()));
        }
        if m.data_files.is_empty() {
            return Err(invalid("dataFiles is empty".into()));
        }
        Ok(m)
    }

    /// The billing period the manifest states (compact `20240101T…` or ISO `2024-01-01T…`).
    pub fn period(&self) -> Option<Period> {
        let start = &self.billing_period.as_ref()?.start;
        let digits: String = start
            .chars()
            .take(10)
            .filter(char::is_ascii_digit)
            .collect();
        Period::from_yyyymmdd(digits.get(..8)?)
    }

    /// The kind of export, from its columns.
    pub fn kind(&self) -> Option<ExportKind> {
        let has = |n: &str| self.columns.iter().any(|c| c.name.eq_ignore_ascii_case(n));
        if has("BilledCost") && has("ChargeCategory") {
            Some(ExportKind::Focus)
        } else if has("line_item_line_item_type") || has("identity_line_item_id") {
            Some(ExportKind::Cur2)
        } else {
            None
        }
    }
}

/// The period of a `BILLING_PERIOD=YYYY-MM` folder.
fn period_dir(name: &str) -> Option<Period> {
    name.strip_prefix("BILLING_PERIOD=")?.parse().ok()
}

/// The manifest of one delivery, or why it could not be read (the period then fails alone).
pub struct DataDetail {
    /// Where it is (for messages).
    pub location: String,
    /// The parsed manifest, or why it is not valid.
    pub manifest: std::result::Result<DataManifest, String>,
}

/// One CUR 2.0 or FOCUS export.
pub struct DataExport {
    store: Store,
    export: String,
    kind: ExportKind,
    key: ExportKey,
    concurrency: usize,
}

impl DataExport {
    /// The Data Exports export `export` of `kind` in `store`.
    pub(crate) fn new(
        store: Store,
        export: String,
        kind: ExportKind,
        concurrency: usize,
    ) -> finops_core::Result<Self> {
        validate_export_name(&export)?;
        Ok(Self {
            key: ExportKey {
                vendor: "aws".into(),
                export: export.clone(),
                kind: kind.as_str().into(),
            },
            store,
            export,
            kind,
            concurrency,
        })
    }

    /// CUR 2.0 or FOCUS.
    pub fn kind(&self) -> ExportKind {
        self.kind
    }

    fn manifest_rel(&self, dir: &str) -> String {
        format!(
            "{}/metadata/{dir}/{}-Manifest.json",
            self.export, self.export
        )
    }

    /// The FOCUS mapping of a staged delivery whose raw rows have `columns`.
    fn focus(&self, columns: &[(String, String)]) -> FocusSql {
        match self.kind {
            ExportKind::Focus => crate::focus::focus_upgrade(columns),
            _ => crate::focus::cur2(&columns.iter().map(|(n, _)| n.clone()).collect()),
        }
    }
}

impl Export for DataExport {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        TableRef::new(
            SCHEMA,
            export_table_name(self.kind.table_prefix(), &self.export),
        )
    }

    fn cost_expression(&self) -> Option<String> {
        Some(match self.kind {
            ExportKind::Focus => format!("sum({})", quote_ident("BilledCost")),
            _ => "sum(line_item_unblended_cost)".to_owned(),
        })
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

impl DataExport {
    async fn list(&self) -> miette::Result<Vec<Delivery>> {
        let dirs = self
            .store
            .list_dirs(&format!("{}/metadata/", self.export))
            .await?;
        let mut sizes: Option<BTreeMap<String, u64>> = None;
        let mut deliveries = Vec::new();
        for dir in dirs {
            let Some(period) = period_dir(&dir) else {
                continue;
            };
            let rel = self.manifest_rel(&dir);
            let location = self.store.full_key(&rel);
            let Some(bytes) = self.store.read_small(&rel).await? else {
                tracing::warn!("{location}: no manifest yet; skipping {period}");
                continue;
            };
            let manifest = DataManifest::parse(&bytes, &location).and_then(|m| match m.period() {
                Some(p) if p != period => Err(crate::error::manifest_invalid(
                    location.clone(),
                    format!("its billing period {p} does not match the folder {dir}"),
                )),
                _ => Ok(m),
            });
            let (version_id, files, status) = match &manifest {
                Ok(m) => {
                    let files = self
                        .store
                        .delivery_files(&self.export, &m.data_files, &location, &mut sizes)
                        .await?;
                    (m.execution_id.clone(), files, DeliveryStatus::Ready)
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
                detail: std::sync::Arc::new(DataDetail {
                    location,
                    manifest: manifest.map_err(Error::reason),
                }),
            });
        }
        if deliveries.is_empty() {
            return Err(crate::error::no_manifests(
                self.export.clone(),
                self.store.describe(&self.export),
                self.store.list_dirs("").await.unwrap_or_default(),
            )
            .into());
        }
        Ok(deliveries)
    }

    async fn stage_files(&self, d: &Delivery, dir: &Path, ui: &Ui) -> miette::Result<Staged> {
        let detail = d
            .detail::<DataDetail>()
            .ok_or_else(|| miette::miette!("not a Data Exports delivery"))?;
        let manifest = match &detail.manifest {
            Ok(m) => m,
            Err(reason) => {
                return Err(crate::error::manifest_invalid(
                    detail.location.clone(),
                    reason.clone(),
                )
                .into());
            }
        };
        let rels = manifest
            .data_files
            .iter()
            .map(|k| self.store.data_key(&self.export, k, &detail.location))
            .collect::<Result<Vec<_>>>()?;
        let mut rels = rels;
        // Two spellings of one file (a key and an s3:// URL) are one file.
        finops_core::vendor::dedupe_files(&mut rels, &detail.location);
        let parquet = rels.iter().filter(|r| r.ends_with(".parquet")).count();
        if parquet != 0 && parquet != rels.len() {
            return Err(crate::error::manifest_invalid(
                detail.location.clone(),
                "it mixes Parquet and CSV data files",
            )
            .into());
        }
        let bar = ui.bytes_bar(d.bytes(), format!("{} {}", self.export, d.period));
        let fetched = self
            .store
            .fetch_all(&rels, dir, self.concurrency, &bar)
            .await?;
        bar.finish_and_clear();
        let bytes = fetched.iter().map(|(_, s)| s).sum();
        let files: Vec<_> = fetched.into_iter().map(|(p, _)| p).collect();
        let rename = self.kind != ExportKind::Focus;
        let raw = if parquet > 0 {
            read::parquet_select(&files, &read::describe_parquet(&files)?, rename)
        } else {
            let header = read::csv_header(&files[0])?;
            let types: BTreeMap<&str, Option<&str>> = manifest
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.ty.as_deref()))
                .collect();
            let missing: Vec<String> = types
                .keys()
                .filter(|n| !header.iter().any(|h| h == *n))
                .take(5)
                .map(|n| (*n).to_owned())
                .collect();
            if !missing.is_empty() {
                return Err(Error::HeaderMismatch {
                    key: files[0].display().to_string(),
                    missing,
                }
                .into());
            }
            let columns: Vec<(String, ColumnType)> = header
                .iter()
                .map(|h| {
                    let ty = match self.kind {
                        ExportKind::Focus => read::focus_column_type(h),
                        _ => read::cur2_column_type(h, types.get(h.as_str()).copied().flatten()),
                    };
                    (h.clone(), ty)
                })
                .collect();
            read::csv_select(&files, &columns, rename)?
        };
        let columns: Vec<(String, String)> = finops_core::read::visible_columns(&raw.sql)?;
        Ok(Staged::of_raw(
            raw,
            Some(self.focus(&columns)),
            bytes,
            files,
        ))
    }
}

/// An export found under the bucket/prefix.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its name (the folder).
    pub name: String,
    /// Its kind, or why it could not be told.
    pub kind: std::result::Result<ExportKind, String>,
}

/// Tells the kind of the export in folder `name`: a `metadata/BILLING_PERIOD=…` manifest
/// (whose columns say CUR 2.0 or FOCUS) or a `YYYYMMDD-YYYYMMDD` folder (CUR v1).
pub(crate) async fn detect(
    store: &Store,
    name: &str,
) -> miette::Result<Option<std::result::Result<ExportKind, String>>> {
    let dirs = store.list_dirs(&format!("{name}/")).await?;
    if dirs.iter().any(|d| d == "metadata") {
        // The newest readable manifest tells; an unreadable one fails its period at import.
        let periods = store.list_dirs(&format!("{name}/metadata/")).await?;
        let mut first_error = None;
        for dir in periods.iter().rev().filter(|d| period_dir(d).is_some()) {
            let rel = format!("{name}/metadata/{dir}/{name}-Manifest.json");
            if let Some(bytes) = store.read_small(&rel).await? {
                let location = store.full_key(&rel);
                match DataManifest::parse(&bytes, &location).map(|m| m.kind()) {
                    Ok(Some(kind)) => return Ok(Some(Ok(kind))),
                    Ok(None) => {
                        first_error.get_or_insert(format!(
                            "the manifest {location} lists no CUR 2.0 or FOCUS columns"
                        ));
                    }
                    Err(e) => {
                        first_error.get_or_insert(e.to_string());
                    }
                }
            }
        }
        return Ok(Some(Err(first_error.unwrap_or_else(|| {
            format!(
                "{} has a metadata folder but no manifest yet",
                store.describe(name)
            )
        }))));
    }
    if dirs.iter().any(|d| CurReport::is_period_dir(d).is_some()) {
        return Ok(Some(Ok(ExportKind::Cur1)));
    }
    Ok(None)
}

/// Every export under the bucket/prefix (or local directory), by name.
pub(crate) async fn discover(store: &Store) -> miette::Result<Vec<Found>> {
    let mut found = Vec::new();
    for name in store.list_dirs("").await? {
        // A folder whose name no export can have ("finops-sample copy") is not one: skipped
        // with a warning, so that one stray folder does not stop every export's import.
        if let Err(e) = finops_core::naming::validate_export_name(&name) {
            if detect(store, &name).await.ok().flatten().is_some() {
                tracing::warn!("skipping the folder `{name}`, which looks like an export: {e}");
            }
            continue;
        }
        if let Some(kind) = detect(store, &name).await? {
            found.push(Found { name, kind });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{
      "executionId": "e-1", "exportName": "x",
      "billingPeriod": {"start": "2024-01-01T00:00:00.000Z", "end": "2024-02-01T00:00:00.000Z"},
      "columns": [{"name": "identity_line_item_id", "type": "string"}],
      "dataFiles": ["s3://b/p/x/data/BILLING_PERIOD=2024-01/x-00001.snappy.parquet"]
    }"#;

    #[test]
    fn parses_a_data_exports_manifest() {
        let m = DataManifest::parse(MANIFEST.as_bytes(), "m").unwrap();
        assert_eq!(m.execution_id, "e-1");
        assert_eq!(m.period().unwrap().to_string(), "2024-01");
        assert_eq!(m.kind(), Some(ExportKind::Cur2));
        let focus = MANIFEST.replace(
            r#"{"name": "identity_line_item_id", "type": "string"}"#,
            r#"{"name": "BilledCost"}, {"name": "ChargeCategory"}"#,
        );
        let m = DataManifest::parse(focus.as_bytes(), "m").unwrap();
        assert_eq!(m.kind(), Some(ExportKind::Focus));
        let compact = MANIFEST.replace("2024-01-01T00:00:00.000Z", "20240101T000000.000Z");
        assert_eq!(
            DataManifest::parse(compact.as_bytes(), "m")
                .unwrap()
                .period()
                .unwrap()
                .to_string(),
            "2024-01"
        );
        for bad in [
            MANIFEST.replace("\"e-1\"", "\" \""),
            MANIFEST.replace(
                "[\"s3://b/p/x/data/BILLING_PERIOD=2024-01/x-00001.snappy.parquet\"]",
                "[]",
            ),
            "{}".to_owned(),
        ] {
            assert!(matches!(
                DataManifest::parse(bad.as_bytes(), "m"),
                Err(Error::Core(finops_core::Error::ManifestInvalid { .. }))
            ));
        }
    }

    #[test]
    fn billing_period_folders() {
        assert_eq!(
            period_dir("BILLING_PERIOD=2024-03").unwrap().to_string(),
            "2024-03"
        );
        assert!(period_dir("BILLING_PERIOD=2024-13").is_none());
        assert!(period_dir("data").is_none());
    }
}
