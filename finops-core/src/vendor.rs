//! The seam every vendor implements. A vendor knows its exports (how to list deliveries and
//! stage their files, and the SQL that reads them); core knows how to plan, load, track and
//! replace ([`crate::import`]). A vendor never opens a transaction of its own.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;

use crate::naming::TableRef;
use crate::output::Ui;
use crate::period::Period;
use crate::state::ExportKey;

/// One data file of a delivery.
#[derive(Clone, Debug)]
pub struct DeliveryFile {
    /// Object key or path, as the manifest names it.
    pub key: String,
    /// Size in bytes, when known before download.
    pub size: Option<u64>,
}

/// What the cloud has delivered for one billing period of one export: one version of it.
#[derive(Clone, Debug)]
pub struct Delivery<D> {
    /// The billing period.
    pub period: Period,
    /// The version id (AWS assemblyId / executionId, Azure runId, a content hash…).
    pub version_id: String,
    /// The data files.
    pub files: Vec<DeliveryFile>,
    /// Vendor-specific detail (the parsed manifest).
    pub detail: D,
}

impl<D> Delivery<D> {
    /// Total size of the data files that have a known size.
    pub fn bytes(&self) -> u64 {
        self.files.iter().filter_map(|f| f.size).sum()
    }
}

/// Files staged for one delivery, and the SQL that reads them.
#[derive(Clone, Debug)]
pub struct Staged {
    /// A `SELECT` producing the normalised raw rows (without `billing_period`, which core adds).
    pub select_sql: String,
    /// A `SELECT` over the view `finops_period` (this period's rows as `select_sql` gives
    /// them, plus `billing_period`) producing FOCUS columns (and `x_` extensions), or `None`
    /// when the export has no FOCUS mapping.
    pub focus_sql: Option<String>,
    /// Bytes staged or read.
    pub bytes: u64,
    /// The hidden columns of `select_sql` carrying each number column's rounding
    /// ([`crate::load::RawSelect::roundings`]).
    pub roundings: Vec<crate::precision::RoundingColumn>,
}

/// A vendor's export, as core sees it.
pub trait DeliverySource: Sync {
    /// Vendor-specific detail carried by each delivery.
    type Detail: Send + Sync;

    /// Vendor, export and kind: the key of the load state.
    fn key(&self) -> &ExportKey;

    /// The raw table this export loads into.
    fn table(&self) -> TableRef;

    /// An SQL expression over the raw table summing the billed cost (for state and summaries).
    fn cost_expression(&self) -> Option<String>;

    /// When several sources share one raw table: the column and value marking this source's
    /// rows, so that replacing a period touches only them.
    fn scope(&self) -> Option<(String, String)> {
        None
    }

    /// Every delivery available, one per billing period (the current version of each).
    /// An empty or wrong location is an error, never an empty list.
    fn list(&self) -> impl Future<Output = miette::Result<Vec<Delivery<Self::Detail>>>> + Send;

    /// Brings a delivery's files to `dir` (or checks them in place) and returns the SQL that
    /// reads them. Must verify what it can: sizes, and that compressed files are complete.
    fn stage(
        &self,
        delivery: &Delivery<Self::Detail>,
        dir: &Path,
        ui: &Ui,
    ) -> impl Future<Output = miette::Result<Staged>> + Send;
}

/// Every file under `dir`, recursively: path relative to `dir` (with `/`) → size. For vendors
/// reading a local copy of an export tree; unreadable entries are skipped.
pub fn local_files(dir: &Path) -> BTreeMap<String, u64> {
    fn walk(path: &Path, rel: &str, out: &mut BTreeMap<String, u64>) {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for e in entries.filter_map(std::result::Result::ok) {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let child_rel = format!("{rel}{name}");
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path(), &format!("{child_rel}/"), out),
                Ok(t) if t.is_file() => {
                    out.insert(child_rel, e.metadata().map_or(0, |m| m.len()));
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}
