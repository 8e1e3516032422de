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
    /// (delivered name, raw name in `select_sql`) of its columns
    /// ([`crate::load::RawSelect::columns`]); the raw table's names are kept stable across
    /// deliveries from it ([`crate::raw_columns`]). Columns not listed keep their names.
    pub columns: Vec<(String, String)>,
    /// The number of rows the delivery says it has (Azure's `dataRowCount`), checked after
    /// the files are parsed: a truncated file must not replace a full month with a short one.
    pub expected_rows: Option<u64>,
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

/// `bytes` without a leading UTF-8 byte order mark (some tools write one before JSON).
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// Drops later copies of a data file a manifest lists more than once (which would load its
/// rows twice), with a warning naming the manifest.
pub fn dedupe_files(keys: &mut Vec<String>, location: &str) {
    let mut seen = std::collections::HashSet::new();
    let before = keys.len();
    keys.retain(|k| seen.insert(k.clone()));
    if keys.len() < before {
        tracing::warn!(
            "{location} lists {} data file(s) more than once; each is loaded once",
            before - keys.len()
        );
    }
}

/// Every file under `dir`, recursively: path relative to `dir` (with `/`) → size. For vendors
/// reading a local copy of an export tree, `root` (`dir` or a folder inside it). Symbolic
/// links are followed while they stay inside `root` (a billing-period folder linked from
/// elsewhere in the tree); one that points outside it, or nowhere, is skipped with a warning
/// that names it, never silently.
pub fn local_files(dir: &Path, root: &Path) -> BTreeMap<String, u64> {
    fn walk(
        root: &Path,
        path: &Path,
        rel: &str,
        seen: &mut std::collections::HashSet<std::path::PathBuf>,
        out: &mut BTreeMap<String, u64>,
    ) {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for e in entries.filter_map(std::result::Result::ok) {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let child_rel = format!("{rel}{name}");
            match local_entry(root, &e.path()) {
                LocalEntry::Dir(target) => {
                    if seen.insert(target) {
                        walk(root, &e.path(), &format!("{child_rel}/"), seen, out);
                    }
                }
                LocalEntry::File(size) => {
                    out.insert(child_rel, size);
                }
                LocalEntry::Skip => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    if let Ok(real) = dir.canonicalize() {
        seen.insert(real);
    }
    walk(root, dir, "", &mut seen, &mut out);
    out
}

/// What a directory entry of a local export tree is.
#[derive(Debug, PartialEq, Eq)]
pub enum LocalEntry {
    /// A directory (its real path, to walk each one once).
    Dir(std::path::PathBuf),
    /// A file and its size.
    File(u64),
    /// Neither, or a link that leaves `root` or leads nowhere (warned about).
    Skip,
}

/// What `path`, an entry under the export tree `root`, is; symbolic links followed while
/// they stay inside `root` ([`local_files`]).
pub fn local_entry(root: &Path, path: &Path) -> LocalEntry {
    let Ok(link) = std::fs::symlink_metadata(path) else {
        return LocalEntry::Skip;
    };
    if link.file_type().is_symlink() {
        let (Ok(target), Ok(base)) = (path.canonicalize(), root.canonicalize()) else {
            tracing::warn!(
                "skipping {}: a symbolic link that leads nowhere",
                path.display()
            );
            return LocalEntry::Skip;
        };
        if !target.starts_with(&base) {
            tracing::warn!(
                "skipping {}: a symbolic link to {}, outside {}; copy the files into the tree, or link the whole tree",
                path.display(),
                target.display(),
                root.display()
            );
            return LocalEntry::Skip;
        }
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => LocalEntry::Dir(path.canonicalize().unwrap_or_else(|_| path.into())),
        Ok(m) if m.is_file() => LocalEntry::File(m.len()),
        _ => LocalEntry::Skip,
    }
}
