//! The core error type. Each variant carries facts, not preformatted text, and a help line
//! that names the next step.

use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};

use crate::output::ExitStatus;

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors raised by `finops-core`.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A config file could not be read.
    ///
    /// Resolution: fix the path given by `--config` or `FINOPS_CONFIG`, or its permissions.
    #[error("cannot read the config file `{}`", path.display())]
    #[diagnostic(
        code(finops::config::read),
        help("check the path given by --config or FINOPS_CONFIG")
    )]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },

    /// A config file is not valid TOML.
    ///
    /// Resolution: fix the syntax at the marked place.
    #[error("the config file `{path}` is not valid TOML")]
    #[diagnostic(
        code(finops::config::syntax),
        help("fix the TOML syntax at the marked place")
    )]
    ConfigSyntax {
        /// The file, for messages.
        path: String,
        /// Its text.
        #[source_code]
        src: NamedSource<String>,
        /// Where the parser stopped.
        #[label("{message}")]
        span: Option<SourceSpan>,
        /// The parser's message.
        message: String,
    },

    /// A config file or flag names a key that does not exist.
    ///
    /// Resolution: correct the key (the help names the closest valid one) or remove it.
    #[error("unknown config key `{key}` in {origin}")]
    #[diagnostic(code(finops::config::unknown_key), help("{}", unknown_key_help(key, suggestion.as_deref(), *unknown_section)))]
    UnknownConfigKey {
        /// The key as written (`aws.bukcet`).
        key: String,
        /// Where it was found (`finops.toml`).
        origin: String,
        /// The closest valid key, if any is close.
        suggestion: Option<String>,
        /// No vendor or plugin has the key's section (`[acme]` while the plugin acme is not
        /// found).
        unknown_section: bool,
    },

    /// A config value has the wrong type or form.
    ///
    /// Resolution: correct the value at the named place.
    #[error("invalid configuration: {message}")]
    #[diagnostic(
        code(finops::config::invalid),
        help("`finops config show` prints every key with its source")
    )]
    ConfigInvalid {
        /// What is wrong, naming the key and its source.
        message: String,
    },

    /// A setting that the command needs has no value in any layer.
    ///
    /// Resolution: pass the flag, set the environment variable, or add the key to finops.toml.
    #[error("`{key}` is not set")]
    #[diagnostic(
        code(finops::config::missing),
        help("pass `{flag}`, set `{env}`, or add `{key}` to finops.toml")
    )]
    MissingSetting {
        /// Config key (`aws.report`).
        key: String,
        /// Command-line flag (`--report`).
        flag: String,
        /// Environment variable (`FINOPS_AWS_REPORT`).
        env: String,
    },

    /// A command that reads FOCUS rows found no warehouse, or no FOCUS table in it.
    ///
    /// Resolution: import an export first.
    #[error("there are no FOCUS rows in `{}` yet", path.display())]
    #[diagnostic(
        code(finops::focus::empty),
        help(
            "import something first: `finops <vendor> import` (`finops --help` lists the vendors of this build)"
        )
    )]
    NoFocusRows {
        /// The DuckDB file.
        path: PathBuf,
    },

    /// Another process holds the warehouse file.
    ///
    /// Resolution: wait for the other run to finish; only one writer can use a DuckDB file.
    #[error("the warehouse `{}` is locked by another process ({holder})", path.display())]
    #[diagnostic(
        code(finops::warehouse::locked),
        help(
            "another finops run (or a DuckDB client, dbt) has it open for writing; wait for it to finish, or close that client"
        )
    )]
    WarehouseLocked {
        /// The DuckDB file.
        path: PathBuf,
        /// What DuckDB said about the holder (program and PID).
        holder: String,
    },

    /// The warehouse file could not be opened.
    ///
    /// Resolution: check the path, its directory and permissions, and that it is a DuckDB file.
    #[error("cannot open the warehouse `{}`", path.display())]
    #[diagnostic(
        code(finops::warehouse::open),
        help(
            "check that the path is a DuckDB file written by DuckDB 1.x and that its directory is writable"
        )
    )]
    WarehouseOpen {
        /// The DuckDB file.
        path: PathBuf,
        /// DuckDB's message.
        #[source]
        source: DbMessage,
    },

    /// A statement failed in DuckDB.
    ///
    /// Resolution: read DuckDB's message; it names the file, column or value at fault.
    #[error("DuckDB failed while {action}")]
    #[diagnostic(code(finops::warehouse::sql))]
    Db {
        /// What finops was doing (`loading aws.cur_x for 2023-11`).
        action: String,
        /// DuckDB's message.
        #[source]
        source: DbMessage,
    },

    /// A delivered value that should be a number is not one, is NaN or infinite, or has more
    /// digits before the point than finops keeps.
    ///
    /// Resolution: check the file at the named place; re-sync it if it is damaged.
    #[error("value `{value}` in {location} {reason}")]
    #[diagnostic(
        code(finops::data::bad_number),
        help(
            "nothing of this period was loaded and its previous data is kept. If the file is damaged, re-sync it; if the cloud wrote it so, please report it: finops stores numbers as DECIMAL(38, 18)"
        )
    )]
    BadNumber {
        /// The value as delivered.
        value: String,
        /// Column and file (and line, when found).
        location: String,
        /// Why it cannot be stored.
        reason: String,
    },

    /// A name from user input is not safe to use as an export name.
    ///
    /// Resolution: use the export's exact name as the cloud shows it.
    #[error("`{name}` is not a valid export name: {reason}")]
    #[diagnostic(
        code(finops::naming::unsafe_name),
        help(
            "export names may use ASCII letters, digits and ! - _ . * ' ( ), up to 128 characters"
        )
    )]
    UnsafeName {
        /// The name, escaped for display.
        name: String,
        /// Why it was refused.
        reason: String,
    },

    /// A vendor's subcommand was used but its crate is not compiled in.
    ///
    /// Resolution: reinstall with the feature named in the help.
    #[error("the `{vendor}` vendor is not compiled into this binary")]
    #[diagnostic(
        code(finops::vendor::not_compiled),
        help("cargo install finops-cli --features {feature}   (or --features all)")
    )]
    VendorNotCompiled {
        /// Vendor name.
        vendor: String,
        /// The cargo feature that adds it.
        feature: String,
    },

    /// Arguments that parse but do not go together.
    ///
    /// Resolution: follow the help.
    #[error("{message}")]
    #[diagnostic(code(finops::usage), help("{help}"))]
    InvalidArguments {
        /// What is wrong.
        message: String,
        /// What to do instead.
        help: String,
    },

    /// A `.gz` data file is truncated or corrupt.
    ///
    /// Resolution: re-download or re-sync the file; nothing of this period was loaded.
    #[error("`{key}` is not a complete gzip file")]
    #[diagnostic(
        code(finops::data::corrupt_gzip),
        help(
            "the file is truncated or damaged; re-sync it (or wait for the cloud to re-deliver) and run again; the period's previous data is kept"
        )
    )]
    CorruptGzip {
        /// The key or path.
        key: String,
        /// What the decoder said.
        #[source]
        source: std::io::Error,
    },

    /// A Parquet data file cannot be read.
    ///
    /// Resolution: re-sync the file or wait for a re-delivery; nothing of this period was loaded.
    #[error("`{key}` is not a readable Parquet file: {detail}")]
    #[diagnostic(
        code(finops::data::corrupt_parquet),
        help(
            "the file is empty, truncated or damaged; re-sync it (or wait for the cloud to re-deliver) and run again; the period's previous data is kept"
        )
    )]
    CorruptParquet {
        /// The file (first of the delivery when the reader does not say which).
        key: String,
        /// What DuckDB said.
        detail: String,
    },

    /// Rounding a money column to the stored precision would change the period's total by
    /// more than the tolerance: that would be real money, so the period is not loaded.
    ///
    /// Resolution: check the column's values in the source; raise
    /// `import.rounding_tolerance` only if a change of that size is acceptable.
    #[error(
        "rounding `{column}` ({table}) to {scale} decimals would change {period}'s total by up to {total:e}, more than the tolerance {tolerance:e} ({values} values rounded, the largest by {largest:e})"
    )]
    #[diagnostic(
        code(finops::data::rounding_tolerance),
        help(
            "the source has values with more decimals than finops keeps, and enough of them to show in a total; nothing of {period} was loaded and its previous data is kept. If that much is acceptable, raise `import.rounding_tolerance` (FINOPS_IMPORT_ROUNDING_TOLERANCE)"
        )
    )]
    RoundingTolerance {
        /// The billing period.
        period: String,
        /// `raw` or `focus`.
        table: String,
        /// The column.
        column: String,
        /// Decimal places it keeps.
        scale: u32,
        /// Values rounded.
        values: u64,
        /// The largest rounding.
        largest: f64,
        /// The sum of the absolute roundings.
        total: f64,
        /// The tolerance.
        tolerance: f64,
    },

    /// A FOCUS mapping produced a column of the wrong kind (a bug in the mapping).
    ///
    /// Resolution: report it; the mapping must write FOCUS numbers as decimals.
    #[error("the FOCUS mapping wrote `{column}` wrongly: {detail}")]
    #[diagnostic(
        code(finops::focus::mapping),
        help("this is a bug in the vendor's FOCUS mapping; please report it with the export kind")
    )]
    FocusMapping {
        /// The FOCUS column.
        column: String,
        /// What is wrong.
        detail: String,
    },

    /// A FOCUS mapping file could not be set up (a lookup table missing or malformed).
    ///
    /// Resolution: report it; it is a bug in the vendor's mapping.
    #[error("the FOCUS mapping {mapping} cannot be prepared: {detail}")]
    #[diagnostic(
        code(finops::focus::mapping_setup),
        help("this is a bug in the vendor's FOCUS mapping; please report it with the export kind")
    )]
    MappingSetup {
        /// The mapping file (or lookup table).
        mapping: String,
        /// What is wrong.
        detail: String,
    },

    /// A delivery's manifest cannot be read or used; the period fails alone.
    ///
    /// Resolution: follow the vendor's help (usually: wait for the next delivery, or re-sync).
    #[error("{message}")]
    #[diagnostic(code(finops::data::unreadable_manifest), help("{help}"))]
    DeliveryUnreadable {
        /// What is wrong, naming the manifest.
        message: String,
        /// What to do.
        help: String,
    },

    /// The files of a delivery hold another number of rows than its manifest says.
    ///
    /// Resolution: re-sync the files (one is probably truncated) and run again.
    #[error("the files of {period} hold {actual} rows, but the manifest says {expected}")]
    #[diagnostic(
        code(finops::data::row_count),
        help(
            "a file is truncated or the export was still being written; nothing of this period was loaded and its previous data is kept. Re-sync the files (or wait for the export to finish) and run again"
        )
    )]
    RowCount {
        /// The billing period.
        period: String,
        /// Rows the manifest states.
        expected: u64,
        /// Rows in the files.
        actual: u64,
    },

    /// A CSV data file's header does not match the columns to read.
    ///
    /// Resolution: re-sync the file; if the cloud wrote it so, report it.
    #[error("`{file}` {problem}")]
    #[diagnostic(
        code(finops::data::csv_header),
        help(
            "columns are read by the names in each file's header; a part that disagrees with the manifest (or the first part) is damaged or from another delivery. Nothing of this period was loaded and its previous data is kept; re-sync the files and run again"
        )
    )]
    CsvHeader {
        /// The file.
        file: String,
        /// What is wrong with its header.
        problem: String,
    },

    /// Nothing at a location looks like an export of the vendor.
    ///
    /// Resolution: check the location (bucket, container, prefix, path); the help lists what
    /// is there.
    #[error("no {what} under {location}")]
    #[diagnostic(code(finops::no_exports), help("{help}"))]
    NoExports {
        /// What was looked for, in the vendor's words (`AWS billing exports`).
        what: &'static str,
        /// Where.
        location: String,
        /// The folders that are there.
        found: Vec<String>,
        /// The vendor's help (usually built with [`found_list`]).
        help: String,
    },

    /// The export asked for by name is not at the location.
    ///
    /// Resolution: use one of the names the help lists.
    #[error("no {what} `{export}` under {location}")]
    #[diagnostic(code(finops::unknown_export), help("{help}"))]
    UnknownExport {
        /// What was looked for (`export named`, `CUR manifests for report`).
        what: &'static str,
        /// The name asked for.
        export: String,
        /// Where.
        location: String,
        /// The exports (or folders) that are there.
        found: Vec<String>,
        /// The vendor's help.
        help: String,
    },

    /// A delivery's manifest could not be read, or is not what the cloud writes. Only its
    /// period fails.
    ///
    /// Resolution: the vendor's help (usually: the next delivery rewrites it).
    #[error("the manifest {location} is not a valid {what}: {reason}")]
    #[diagnostic(code(finops::data::manifest_invalid), help("{help}"))]
    ManifestInvalid {
        /// Where the manifest is.
        location: String,
        /// What it should be (`CUR manifest`).
        what: &'static str,
        /// What is wrong.
        reason: String,
        /// The vendor's help.
        help: &'static str,
    },

    /// The local copy of an export's storage is not a directory.
    ///
    /// Resolution: pass the directory that holds the export folders.
    #[error("the local export directory `{}` {}", path.display(), if *is_file { "is a file, not a directory" } else { "does not exist" })]
    #[diagnostic(code(finops::store::no_directory), help("{help}"))]
    NoLocalDirectory {
        /// The directory.
        path: PathBuf,
        /// It exists, as a file.
        is_file: bool,
        /// The vendor's words on what the directory is.
        help: String,
    },

    /// A data file a manifest names is not in the store.
    ///
    /// Resolution: wait for the delivery to finish, or re-sync the local copy.
    #[error("data file `{key}` named by the manifest is missing")]
    #[diagnostic(code(finops::store::missing_file), help("{help}"))]
    MissingDataFile {
        /// Where it should be.
        key: String,
        /// The vendor's words.
        help: String,
    },

    /// A download's size differs from what the store announced.
    ///
    /// Resolution: run again; the connection was cut.
    #[error("`{key}` downloaded {actual} bytes, expected {expected}")]
    #[diagnostic(
        code(finops::store::size_mismatch),
        help("the download was cut short; nothing of this period was loaded; run again")
    )]
    SizeMismatch {
        /// The object.
        key: String,
        /// Announced size.
        expected: u64,
        /// Bytes received.
        actual: u64,
    },

    /// A call to a cloud's storage or API failed (after retries).
    ///
    /// Resolution: follow the help for the specific error.
    #[error("{service} {operation} on `{location}` failed: {message}")]
    #[diagnostic(code(finops::remote), help("{help}"))]
    Remote {
        /// `S3`, `Blob Storage`, `GCS`.
        service: &'static str,
        /// `ListObjectsV2`, `GetObject`, `list`…
        operation: &'static str,
        /// The object or prefix (`s3://bucket/key`).
        location: String,
        /// The service's error code (`AccessDenied`, `NoSuchBucket`…), if any.
        code: Option<String>,
        /// The message.
        message: String,
        /// What to do.
        help: String,
    },

    /// A source plugin misbehaved: it crashed, hung, answered something that is not its
    /// protocol, or delivered what it did not announce. Nothing already loaded changed.
    ///
    /// Resolution: follow the help; `finops plugins check <name>` runs its handshake.
    #[error("plugin `{plugin}` ({call}): {message}")]
    #[diagnostic(code(finops::plugin), help("{help}"))]
    Plugin {
        /// The plugin's name.
        plugin: String,
        /// The call (`describe`, `list`, `fetch 2026-10`…).
        call: String,
        /// What went wrong.
        message: String,
        /// What to do.
        help: String,
    },

    /// A file-system operation failed.
    ///
    /// Resolution: check the path, free space and permissions.
    #[error("{action} `{}` failed", path.display())]
    #[diagnostic(
        code(finops::io),
        help("check the path, free disk space and permissions")
    )]
    Io {
        /// What was attempted (`creating the staging directory`).
        action: String,
        /// The path.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// DuckDB's message for a failed statement.
#[derive(Debug)]
pub struct DbMessage(pub String);

impl DbMessage {
    /// The message of `e`: DuckDB's own text when it gave one, else the error's; a CSV
    /// reader's error without the line it echoes (it can be megabytes) and without its advice
    /// on reader options, which finops sets, not the user.
    pub fn of(e: &duckdb::Error) -> Self {
        let text = match e {
            duckdb::Error::DuckDBFailure(_, Some(msg)) => msg.trim_end().to_owned(),
            other => other.to_string(),
        };
        Self(if text.contains("CSV Error") {
            clean_csv_error(&text)
        } else {
            text
        })
    }
}

/// DuckDB's CSV error: its first lines and the file, the echoed line cut short, the option
/// advice and settings dump dropped.
fn clean_csv_error(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_fixes = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Possible Solution") {
            continue;
        }
        if t.starts_with("Maximum line size") {
            out.push(format!(
                "{t} finops reads lines of up to 8 MiB; a longer one means a damaged file"
            ));
            continue;
        }
        if t.starts_with("Possible fixes") {
            in_fixes = true;
            continue;
        }
        if in_fixes {
            if t.is_empty() {
                in_fixes = false;
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("Original Line:") {
            let rest = rest.trim();
            if rest.chars().count() > 120 {
                let cut: String = rest.chars().take(120).collect();
                out.push(format!("Original Line: {cut}… (cut here)"));
            } else {
                out.push(format!("Original Line: {rest}"));
            }
        } else if let Some(file) = t.strip_prefix("file = ") {
            out.push(format!("file: {file}"));
        } else if line.starts_with("  ") && t.contains(" = ") {
            // The reader's settings, which finops chose.
        } else if !t.is_empty() {
            out.push(t.to_owned());
        }
    }
    out.join("\n")
}

impl std::fmt::Display for DbMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbMessage {}

/// `found` as a list for a help line: at most ten names, then `…`.
pub fn found_list(found: &[String]) -> String {
    let mut list: Vec<&str> = found.iter().map(String::as_str).take(10).collect();
    if found.len() > 10 {
        list.push("…");
    }
    list.join(", ")
}

fn unknown_key_help(key: &str, suggestion: Option<&str>, unknown_section: bool) -> String {
    match suggestion {
        Some(s) => format!("did you mean `{s}`? `finops config show` lists every valid key"),
        None if unknown_section => {
            let section = key.split('.').next().unwrap_or(key);
            format!(
                "no vendor of this build and no plugin is named `{section}`; a plugin's section needs the plugin: an executable finops-plugin-{section} on PATH (cron's PATH is short) or a [[plugins]] entry with its absolute path; `finops plugins list` shows what is found"
            )
        }
        None => "`finops config show` lists every valid key".to_owned(),
    }
}

impl Error {
    /// A DuckDB failure while doing `action`: its message without the C API's error code
    /// (`Error code 1: Unknown error code` on every DuckDB error), or, when it is a value
    /// that is not an amount ([`crate::precision::bad_number`]), [`Error::BadNumber`].
    pub fn db(action: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Self {
        let action = action.into();
        move |source| {
            let message = DbMessage::of(&source);
            if let Some((value, location)) = crate::precision::bad_number(&message.0) {
                return Self::BadNumber {
                    reason: crate::precision::bad_number_reason(&value).to_owned(),
                    value,
                    location,
                };
            }
            Self::Db {
                action,
                source: message,
            }
        }
    }

    /// A file-system failure while doing `action` on `path`.
    pub fn io(
        action: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let (action, path) = (action.into(), path.into());
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }

    /// Why a manifest is invalid, for a [`ManifestInvalid`](Self::ManifestInvalid) error;
    /// any other error's message.
    pub fn reason(self) -> String {
        match self {
            Self::ManifestInvalid { reason, .. } => reason,
            other => other.to_string(),
        }
    }

    /// The exit status this error maps to: 2 for usage and configuration, 1 otherwise.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::ConfigRead { .. }
            | Self::ConfigSyntax { .. }
            | Self::UnknownConfigKey { .. }
            | Self::ConfigInvalid { .. }
            | Self::MissingSetting { .. }
            | Self::UnsafeName { .. }
            | Self::VendorNotCompiled { .. }
            | Self::InvalidArguments { .. } => ExitStatus::Usage,
            Self::WarehouseLocked { .. }
            | Self::NoFocusRows { .. }
            | Self::WarehouseOpen { .. }
            | Self::Db { .. }
            | Self::BadNumber { .. }
            | Self::CsvHeader { .. }
            | Self::RowCount { .. }
            | Self::DeliveryUnreadable { .. }
            | Self::CorruptGzip { .. }
            | Self::CorruptParquet { .. }
            | Self::RoundingTolerance { .. }
            | Self::FocusMapping { .. }
            | Self::MappingSetup { .. }
            | Self::NoExports { .. }
            | Self::UnknownExport { .. }
            | Self::ManifestInvalid { .. }
            | Self::NoLocalDirectory { .. }
            | Self::MissingDataFile { .. }
            | Self::SizeMismatch { .. }
            | Self::Remote { .. }
            | Self::Plugin { .. }
            | Self::Io { .. } => ExitStatus::Failure,
        }
    }
}
