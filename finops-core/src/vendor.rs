//! The seam every vendor implements, at two levels: a [`Vendor`] (its name, config keys,
//! location arguments, the exports found at a location, extra commands) and each of its
//! [`Export`]s (its deliveries, one per billing period, and what their files mean). Core owns
//! everything else: the commands every vendor has ([`crate::vendor_commands`]), planning,
//! staging, the transactional replace, the FOCUS finishing step, state and history
//! ([`crate::import`]). A vendor never opens a transaction of its own.
//!
//! Both traits are dyn-compatible: the CLI's registry is a static list of `&dyn Vendor`, and
//! core works on `Box<dyn Export>`.

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::{FlagValue, KeySpec, Settings};
use crate::context::Context;
use crate::naming::TableRef;
use crate::output::{ExitStatus, Ui};
use crate::period::Period;
use crate::state::ExportKey;

/// A boxed, sendable future: what the traits' async methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed future that may hold the warehouse's connection (which is not `Sync`) across an
/// `await`: for commands, which run on the CLI's own thread.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One data file of a delivery.
#[derive(Clone, Debug)]
pub struct DeliveryFile {
    /// Object key or path, as the manifest names it.
    pub key: String,
    /// Size in bytes, when known before download.
    pub size: Option<u64>,
}

/// Whether a delivery can be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Its manifest was read.
    Ready,
    /// Its manifest (or run) cannot be read or used: loading it fails the period with this
    /// message and help ([`crate::Error::DeliveryUnreadable`]), and keeps what was loaded.
    Unreadable {
        /// What is wrong, naming the manifest.
        message: String,
        /// What the user can do (vendor-specific).
        help: String,
    },
}

/// What the cloud has delivered for one billing period of one export: one version of it.
#[derive(Clone)]
pub struct Delivery {
    /// The billing period.
    pub period: Period,
    /// The version id (AWS assemblyId / executionId, Azure runId, a content hash…).
    pub version_id: String,
    /// The data files.
    pub files: Vec<DeliveryFile>,
    /// Whether it can be loaded.
    pub status: DeliveryStatus,
    /// The export's own detail (its parsed manifest), for its [`Export::stage`].
    pub detail: Arc<dyn Any + Send + Sync>,
}

impl DeliveryStatus {
    /// The status of a delivery whose manifest gave `error` (its message and help).
    pub fn unreadable(error: &dyn miette::Diagnostic) -> Self {
        Self::Unreadable {
            message: error.to_string(),
            help: error.help().map(|h| h.to_string()).unwrap_or_default(),
        }
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("period", &self.period)
            .field("version_id", &self.version_id)
            .field("files", &self.files)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// A delivery known by its files alone, without a manifest of the export's own
    /// ([`Delivery::detail`] empty): `(key, size)` per file.
    pub fn of_files(
        period: Period,
        version_id: String,
        files: impl IntoIterator<Item = (String, Option<u64>)>,
        status: DeliveryStatus,
    ) -> Self {
        Self {
            period,
            version_id,
            files: files
                .into_iter()
                .map(|(key, size)| DeliveryFile { key, size })
                .collect(),
            status,
            detail: Arc::new(()),
        }
    }

    /// Total size of the data files that have a known size.
    pub fn bytes(&self) -> u64 {
        self.files.iter().filter_map(|f| f.size).sum()
    }

    /// Whether its manifest can be used.
    pub fn is_readable(&self) -> bool {
        self.status == DeliveryStatus::Ready
    }

    /// The export's detail as `T` (what its `deliveries` put there).
    pub fn detail<T: Any>(&self) -> Option<&T> {
        self.detail.downcast_ref()
    }
}

/// Files staged for one delivery, and the SQL that reads them.
#[derive(Clone, Debug, Default)]
pub struct Staged {
    /// A `SELECT` producing the normalised raw rows (without `billing_period`, which core adds).
    pub select_sql: String,
    /// The FOCUS mapping of these rows ([`crate::focus::mapping`]: a vendor's SQL file over
    /// the view `finops_period`, with its computed inputs and lookup tables), or `None` when
    /// the export has no FOCUS form.
    pub focus: Option<crate::focus::mapping::FocusSql>,
    /// Bytes staged or read.
    pub bytes: u64,
    /// The hidden columns of `select_sql` carrying each number column's rounding
    /// ([`crate::read::RawSelect::roundings`]).
    pub roundings: Vec<crate::precision::RoundingColumn>,
    /// (delivered name, raw name in `select_sql`) of its columns
    /// ([`crate::read::RawSelect::columns`]); the raw table's names are kept stable across
    /// deliveries from it ([`crate::raw_columns`]). Columns not listed keep their names.
    pub columns: Vec<(String, String)>,
    /// The number of rows the delivery says it has (Azure's `dataRowCount`), checked after
    /// the files are parsed: a truncated file must not replace a full month with a short one.
    pub expected_rows: Option<u64>,
    /// The local data files `select_sql` reads. When parsing them fails with an error that
    /// names none of them (DuckDB's Parquet reader does not, for a damaged page), each
    /// Parquet file is read alone to name the one that is damaged
    /// ([`crate::read::name_corrupt_parquet`]).
    pub files: Vec<std::path::PathBuf>,
}

impl Staged {
    /// The rows `raw` reads from `files` (`bytes` of them), with their FOCUS mapping; no row
    /// count is announced ([`Staged::expected_rows`]).
    pub fn of_raw(
        raw: crate::read::RawSelect,
        focus: Option<crate::focus::mapping::FocusSql>,
        bytes: u64,
        files: Vec<std::path::PathBuf>,
    ) -> Self {
        let columns = raw.columns();
        Self {
            select_sql: raw.sql,
            focus,
            bytes,
            roundings: raw.roundings,
            columns,
            expected_rows: None,
            files,
        }
    }
}

/// One export of a vendor, as core sees it.
pub trait Export: Send + Sync {
    /// Vendor, export and kind: the key of the load state.
    fn key(&self) -> &ExportKey;

    /// The raw table this export loads into (core gives it another when two exports' names
    /// normalise alike).
    fn table(&self) -> TableRef;

    /// An SQL expression over the raw rows summing the billed cost (for state and summaries).
    fn cost_expression(&self) -> Option<String>;

    /// When several exports share one raw table: the column and value marking this one's
    /// rows, so that replacing a period touches only them.
    fn scope(&self) -> Option<(String, String)> {
        None
    }

    /// Every delivery available, one per billing period (the current version of each); one
    /// whose manifest cannot be used is [`DeliveryStatus::Unreadable`], never left out. An
    /// empty or wrong location is an error, never an empty list.
    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>>;

    /// Brings a readable delivery's files to `dir` (or checks them in place) and returns the
    /// SQL that reads them. Must verify what it can: sizes, and that compressed files are
    /// complete ([`crate::store::fetch_all`] does both).
    fn stage<'a>(
        &'a self,
        delivery: &'a Delivery,
        dir: &'a Path,
        ui: &'a Ui,
    ) -> BoxFuture<'a, miette::Result<Staged>>;
}

/// A vendor's own verbs for the commands every vendor has, kept as aliases (`aws import-cur`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `import`.
    Import,
    /// `list-exports`.
    ListExports,
    /// `show-state`.
    ShowState,
}

/// A cloud (or any source of billing data), as core sees it.
pub trait Vendor: Sync {
    /// The subcommand and config section (`aws`).
    fn name(&self) -> &'static str;

    /// One line for `finops --help`.
    fn about(&self) -> &'static str;

    /// Its name in sentences (`AWS`, `Azure`).
    fn display_name(&self) -> &'static str;

    /// The long help of `finops <vendor> import` (what it reads, where it puts it).
    fn import_help(&self) -> &'static str;

    /// Its config keys (`aws.bucket`…), each declared once.
    fn keys(&self) -> &'static [KeySpec];

    /// The key naming one export to work on (`aws.report`, `azure.export`).
    fn export_key(&self) -> &'static str;

    /// What its list and state tables call an export (`report`) and its kind (`dataset`).
    fn labels(&self) -> (&'static str, &'static str) {
        ("export", "kind")
    }

    /// The vendor's older verbs, kept as aliases of core's.
    fn aliases(&self, verb: Verb) -> &'static [&'static str] {
        let _ = verb;
        &[]
    }

    /// Adds its location arguments (bucket, path…) to a command: by default the keys of
    /// [`Vendor::keys`] that declare a value name ([`crate::config::location_args`]).
    fn location_args(&self, cmd: clap::Command) -> clap::Command {
        crate::config::location_args(cmd, self.keys())
    }

    /// The config values the location arguments of `matches` set.
    fn location_flags(&self, matches: &clap::ArgMatches) -> Vec<(&'static str, FlagValue)> {
        crate::config::location_flags(self.keys(), matches)
    }

    /// Reads its config section as its commands do (for `config show`).
    fn check_config(&self, settings: &Settings) -> crate::Result<()>;

    /// The exports at the configured location (only the one named by [`Vendor::export_key`]
    /// when set), with the store's concurrency of downloads.
    fn exports<'a>(
        &'a self,
        ctx: &'a Context,
    ) -> BoxFuture<'a, miette::Result<Vec<Box<dyn Export>>>>;

    /// Commands only this vendor has (`aws import-ce`).
    fn extra_commands(&self) -> Vec<clap::Command> {
        Vec::new()
    }

    /// Runs one of [`Vendor::extra_commands`].
    fn run_extra<'a>(
        &'a self,
        name: &'a str,
        matches: &'a clap::ArgMatches,
        ctx: &'a mut Context,
    ) -> LocalBoxFuture<'a, miette::Result<ExitStatus>> {
        let _ = (matches, ctx);
        Box::pin(async move { Err(miette::miette!("unknown command `{name}`")) })
    }

    /// The static key `<vendor>.<name>` among [`Vendor::keys`], if declared.
    fn key(&self, name: &str) -> Option<&'static str> {
        let want = format!("{}.{name}", self.name());
        self.keys().iter().find(|k| k.key == want).map(|k| k.key)
    }
}

/// FNV-1a's starting value.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, 64 bits, continuing from `h`: a hash that stays the same across builds and
/// platforms (std's hasher may not), for versions derived from files.
pub fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The version of a delivery known only by its files (no manifest): their count, bytes and
/// a fingerprint of each one's name, size and tag (a generation, an entity tag, a content hash;
/// empty for immutable files), in the order given: `files=2;bytes=20;fp=…`.
pub fn files_version<'a>(files: impl IntoIterator<Item = (&'a str, u64, &'a str)>) -> String {
    let (mut h, mut count, mut bytes) = (FNV_OFFSET, 0, 0);
    for (name, size, tag) in files {
        h = fnv1a(format!("{name}\0{size}\0{tag}\n").as_bytes(), h);
        count += 1;
        bytes += size;
    }
    format!("files={count};bytes={bytes};fp={h:016x}")
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
