//! Exported billing data as [`Export`]s. `EXPORT DATA` writes one folder per invoice month,
//! `<export>/invoice_month=YYYYMM/<shard>.parquet|.json[.gz]` (`billing_period=YYYY-MM` is
//! accepted too); each folder is one delivery, its version a fingerprint of its files
//! (names, sizes, generations). A month whose files were written more than an hour apart
//! mixes two export runs and is refused: its stale shards would be counted twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use finops_core::Period;
use finops_core::naming::{TableRef, export_table_name, quote_literal};
use finops_core::output::Ui;
use finops_core::state::ExportKey;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryStatus, Export, Staged};

use crate::schema::{self, Column, FILE_COLUMN, Schema};
use crate::store::{FileMeta, Source};

/// Schema of Google Cloud raw tables.
pub const SCHEMA: &str = "gcp";

/// The most seconds between the first and the last file of one month written by one
/// `EXPORT DATA` run.
pub const RUN_WINDOW_SECS: i64 = 3600;

/// How a data file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Parquet.
    Parquet,
    /// Newline-delimited JSON, plain or gzip.
    Json,
}

/// The format of a data file, by its name; `None` for anything else.
pub fn format_of(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    match lower.rsplit_once('.').map(|(_, ext)| ext) {
        Some("parquet") => Some(Format::Parquet),
        Some("json" | "jsonl" | "ndjson") => Some(Format::Json),
        _ => None,
    }
}

/// The month a folder name stands for: `invoice_month=202610` or `billing_period=2026-10`.
pub fn period_of_folder(segment: &str) -> Option<Period> {
    let (key, value) = segment.split_once('=')?;
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let ok = match key.to_ascii_lowercase().as_str() {
        "invoice_month" => value.len() == 6 || value.len() == 7,
        "billing_period" => value.len() == 7 || value.len() == 6,
        _ => false,
    };
    if !ok || digits.len() != 6 {
        return None;
    }
    Period::from_yyyymmdd(&format!("{digits}01"))
}

/// One month's files: path relative to the root → metadata.
pub type Month = BTreeMap<String, FileMeta>;

/// An export found under the root.
#[derive(Debug)]
pub struct Found {
    /// Export name.
    pub name: String,
    /// Its folder, relative to the root (empty for the root itself).
    pub folder: String,
    /// Each month's data files.
    pub months: BTreeMap<Period, Month>,
    /// Data files in the folder itself, outside month folders: their months are read from
    /// the data ([`Found::by_data`]).
    pub loose: Month,
    /// The months come from the data, not from folders: every month's delivery is all the
    /// loose files, its rows those of its invoice month.
    pub by_data: bool,
}

/// Every export under the root: the folders holding `invoice_month=` folders, or, where a
/// folder holds data files and no month folders, those files (their months are then read
/// from the data).
pub fn discover(listing: &BTreeMap<String, FileMeta>, root_name: &str) -> Vec<Found> {
    let mut by_folder: BTreeMap<String, BTreeMap<Period, Month>> = BTreeMap::new();
    let mut loose: BTreeMap<String, Month> = BTreeMap::new();
    for (rel, meta) in listing {
        let parts: Vec<&str> = rel.split('/').collect();
        let file = parts[parts.len() - 1];
        if file.starts_with('.') || file.starts_with('_') {
            continue;
        }
        let Some(i) = parts.iter().position(|p| period_of_folder(p).is_some()) else {
            if format_of(file).is_some() {
                loose
                    .entry(parts[..parts.len() - 1].join("/"))
                    .or_default()
                    .insert(rel.clone(), meta.clone());
            }
            continue;
        };
        if i + 1 >= parts.len() {
            continue;
        }
        if format_of(file).is_none() {
            tracing::warn!("skipping {rel}: not a Parquet or JSON file");
            continue;
        }
        let period = period_of_folder(parts[i]).expect("checked");
        by_folder
            .entry(parts[..i].join("/"))
            .or_default()
            .entry(period)
            .or_default()
            .insert(rel.clone(), meta.clone());
    }
    let mut kept: BTreeMap<String, Month> = BTreeMap::new();
    for (folder, files) in loose {
        if by_folder.contains_key(&folder) {
            tracing::warn!(
                "skipping {} data file(s) directly in {}: the export's months are its invoice_month= folders",
                files.len(),
                if folder.is_empty() {
                    "the root"
                } else {
                    &folder
                }
            );
            continue;
        }
        kept.insert(folder, files);
    }
    for folder in kept.keys() {
        by_folder.insert(folder.clone(), BTreeMap::new());
    }
    by_folder
        .into_iter()
        .map(|(folder, months)| {
            let loose = kept.remove(&folder).unwrap_or_default();
            Found {
                name: folder
                    .rsplit('/')
                    .next()
                    .filter(|s| !s.is_empty())
                    .unwrap_or(root_name)
                    .to_owned(),
                folder,
                months,
                loose,
                by_data: false,
            }
        })
        .collect()
}

/// A month's version: its file count, bytes and a fingerprint of names, sizes and tags.
pub fn fingerprint(month: &Month) -> String {
    finops_core::vendor::files_version(month.iter().map(|(rel, m)| {
        (
            rel.rsplit('/').next().unwrap_or(rel),
            m.size,
            m.tag.as_str(),
        )
    }))
}

/// Why a month's files cannot be one export run, if they were written too far apart.
pub fn mixed_runs(month: &Month) -> Option<String> {
    let times: Vec<(&String, i64)> = month
        .iter()
        .filter_map(|(k, m)| m.modified.map(|t| (k, t)))
        .collect();
    let oldest = times.iter().min_by_key(|(_, t)| *t)?;
    let newest = times.iter().max_by_key(|(_, t)| *t)?;
    let gap = newest.1 - oldest.1;
    (gap > RUN_WINDOW_SECS).then(|| {
        format!(
            "its {} files were written {} apart ({} is {} older than {}): they come from different EXPORT DATA runs, and the older run's shards would be counted again",
            month.len(),
            human(gap),
            oldest.0,
            human(gap),
            newest.0
        )
    })
}

fn human(secs: i64) -> String {
    if secs >= 2 * 86_400 {
        format!("{} days", secs / 86_400)
    } else if secs >= 7200 {
        format!("{} hours", secs / 3600)
    } else {
        format!("{} minutes", secs / 60)
    }
}

/// What to do about a month mixing runs.
pub const MIXED_HELP: &str = "delete the month's folder before each EXPORT DATA (the README's Google Cloud section shows the commands to schedule), then export the month again; the months before are kept as loaded";

/// One exported table (one folder of months).
pub struct BillingExport {
    source: Arc<Source>,
    found: Found,
    schema: Schema,
    key: ExportKey,
    concurrency: usize,
}

impl BillingExport {
    /// The export `found`, of schema `schema`.
    pub(crate) fn new(
        source: Arc<Source>,
        found: Found,
        schema: Schema,
        concurrency: usize,
    ) -> finops_core::Result<Self> {
        finops_core::naming::validate_export_name(&found.name)?;
        Ok(Self {
            key: ExportKey {
                vendor: "gcp".into(),
                export: found.name.clone(),
                kind: kind_of(schema).into(),
            },
            source,
            found,
            schema,
            concurrency,
        })
    }
}

/// The kind recorded in the load state.
pub fn kind_of(schema: Schema) -> &'static str {
    match schema {
        Schema::Standard => "standard",
        Schema::Detailed => "detailed",
        Schema::Focus => "focus",
    }
}

impl Export for BillingExport {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        raw_table(self.schema, &self.found.name)
    }

    fn cost_expression(&self) -> Option<String> {
        Some(cost_expression(self.schema))
    }

    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>> {
        let out = self
            .found
            .months
            .iter()
            .map(|(period, month)| {
                let status = match mixed_runs(month) {
                    Some(reason) => DeliveryStatus::Unreadable {
                        message: format!(
                            "{}: {reason}",
                            self.source.store.describe(&month_folder(month))
                        ),
                        help: MIXED_HELP.to_owned(),
                    },
                    None => DeliveryStatus::Ready,
                };
                Delivery::of_files(
                    *period,
                    fingerprint(month),
                    month.iter().map(|(k, m)| (k.clone(), Some(m.size))),
                    status,
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
                self.source.store.as_ref(),
                d,
                &rels,
                dir,
                self.concurrency,
                ui,
                format!("{} {}", self.found.name, d.period),
            )
            .await?;
            let location = self
                .source
                .store
                .describe(&month_folder(&self.found.months[&d.period]));
            let read = read_files(&files, &rels, &location)?;
            if read.schema != self.schema {
                return Err(finops_core::Error::DeliveryUnreadable {
                    message: format!(
                        "{location} holds a {} export, but export {} is a {} export",
                        read.schema.as_str(),
                        self.found.name,
                        self.schema.as_str()
                    ),
                    help: "write each BigQuery table to its own folder".into(),
                }
                .into());
            }
            tracing::info!(
                "{} {}: {} export, {} file(s)",
                self.found.name,
                d.period,
                read.schema.as_str(),
                files.len()
            );
            let mut read = read;
            if self.found.by_data {
                read.sql = format!(
                    "SELECT * FROM ({}) WHERE {} = '{}'",
                    read.sql,
                    month_expr(self.schema),
                    &d.period.yyyymmdd()[..6]
                );
            }
            Ok(staged(read, self.schema, bytes, files))
        })
    }
}

/// The invoice month (`YYYYMM`) of a raw row of `schema`, in SQL.
pub fn month_expr(schema: Schema) -> &'static str {
    match schema {
        Schema::Focus => "strftime(\"BillingPeriodStart\", '%Y%m')",
        Schema::Standard | Schema::Detailed => "\"invoice\".\"month\"",
    }
}

/// The invoice months of raw rows read as `read`.
pub fn months_in(read: &Read) -> finops_core::Result<Vec<Period>> {
    let conn = finops_core::duckdb::Connection::open_in_memory()
        .map_err(finops_core::Error::db("opening an in-memory database"))?;
    let sql = format!(
        "SELECT DISTINCT {} AS m FROM ({}) ORDER BY m",
        month_expr(read.schema),
        read.sql
    );
    let action = "reading the invoice months of the files";
    let mut stmt = conn.prepare(&sql).map_err(finops_core::Error::db(action))?;
    let months = stmt
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .map_err(finops_core::Error::db(action))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(finops_core::Error::db(action))?;
    Ok(months
        .into_iter()
        .flatten()
        .filter_map(|m| Period::from_yyyymmdd(&format!("{m}01")))
        .collect())
}

/// The raw table of export `name` of `schema`: `gcp.billing_<name>` or `gcp.focus_<name>`.
pub(crate) fn raw_table(schema: Schema, name: &str) -> TableRef {
    let prefix = match schema {
        Schema::Focus => "focus_",
        Schema::Standard | Schema::Detailed => "billing_",
    };
    TableRef::new(SCHEMA, export_table_name(prefix, name))
}

/// The billed cost of a raw table of `schema`, for the load state and the summary.
pub(crate) fn cost_expression(schema: Schema) -> String {
    match schema {
        Schema::Focus => "sum(\"BilledCost\")".to_owned(),
        Schema::Standard | Schema::Detailed => {
            "sum(cost) + COALESCE(sum(list_sum(list_transform(credits, lambda c: c.amount))), 0)"
                .to_owned()
        }
    }
}

/// What core loads for a delivery read as `read`.
pub(crate) fn staged(read: Read, schema: Schema, bytes: u64, files: Vec<PathBuf>) -> Staged {
    let focus = Some(match schema {
        Schema::Focus => crate::focus::focus_upgrade(&read.columns),
        Schema::Standard | Schema::Detailed => crate::focus::billing(),
    });
    Staged {
        columns: read
            .columns
            .iter()
            .map(|(n, _)| (n.clone(), n.clone()))
            .collect(),
        select_sql: read.sql,
        focus,
        bytes,
        roundings: read.roundings,
        expected_rows: None,
        files,
    }
}

/// The folder of a month's files (relative to the root).
fn month_folder(month: &Month) -> String {
    month
        .keys()
        .next()
        .and_then(|k| k.rsplit_once('/'))
        .map_or_else(String::new, |(d, _)| format!("{d}/"))
}

/// A delivery's files, read.
pub struct Read {
    /// Which export they are.
    pub schema: Schema,
    /// The raw `SELECT`.
    pub sql: String,
    /// Its columns (name, DuckDB type), hidden ones left out.
    pub columns: Vec<(String, String)>,
    /// Its hidden rounding columns.
    pub roundings: Vec<finops_core::precision::RoundingColumn>,
}

/// Reads local `files` (`rels` name them in messages) of one month: tells the schema apart
/// and builds the exact raw `SELECT`.
pub fn read_files(files: &[PathBuf], rels: &[String], location: &str) -> miette::Result<Read> {
    let formats: Vec<Format> = rels.iter().filter_map(|r| format_of(r)).collect();
    let parquet = formats.first() == Some(&Format::Parquet);
    if formats.iter().any(|f| *f != formats[0]) {
        return Err(finops_core::Error::DeliveryUnreadable {
            message: format!("{location} mixes Parquet and JSON files"),
            help: "export each month in one format (EXPORT DATA … format='PARQUET' or 'JSON')"
                .into(),
        }
        .into());
    }
    let list = files
        .iter()
        .map(|f| quote_literal(&f.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(", ");
    let detected: Vec<(String, String)> = if parquet {
        finops_core::read::describe_parquet(files)?
    } else {
        finops_core::warehouse::describe(&format!(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_json([{list}], format = 'newline_delimited', union_by_name = true))"
        ))
        .map_err(|e| json_error(&e, rels, location))?
    };
    let names: Vec<String> = detected.iter().map(|(n, _)| n.clone()).collect();
    let Some(schema) = Schema::detect(&names) else {
        return Err(finops_core::Error::DeliveryUnreadable {
            message: format!(
                "{location} is not a Google Cloud billing export: its columns are {}",
                finops_core::error::found_list(&names)
            ),
            help: "point gcp.path at the folder EXPORT DATA writes a billing export table to (standard, detailed or FOCUS)".into(),
        }
        .into());
    };
    let columns: Vec<Column> = detected
        .iter()
        .filter(|(n, _)| n != FILE_COLUMN)
        .map(|(name, ty)| Column {
            field: match schema {
                Schema::Focus => schema::focus_field(name),
                Schema::Standard | Schema::Detailed => schema::billing_field(name),
            },
            name: name.clone(),
            delivered_type: ty.clone(),
        })
        .collect();
    let from = if parquet {
        finops_core::read::parquet_source(files)
    } else {
        let types = columns
            .iter()
            .map(|c| {
                let ty = c
                    .field
                    .as_ref()
                    .map_or_else(|| c.delivered_type.clone(), schema::read_type);
                format!("{}: {}", quote_literal(&c.name), quote_literal(&ty))
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "read_json([{list}], format = 'newline_delimited', columns = {{{types}}}, filename = {})",
            quote_literal(FILE_COLUMN)
        )
    };
    let (sql, roundings) = schema::select(&from, &columns, parquet);
    let columns =
        finops_core::read::visible_columns(&sql).map_err(|e| json_error(&e, rels, location))?;
    Ok(Read {
        schema,
        sql,
        columns,
        roundings,
    })
}

/// A file DuckDB cannot read as JSON, named.
fn json_error(e: &finops_core::Error, rels: &[String], location: &str) -> miette::Report {
    let detail = std::error::Error::source(e).map_or_else(|| e.to_string(), ToString::to_string);
    let file = rels
        .iter()
        .find(|r| detail.contains(r.rsplit('/').next().unwrap_or(r)))
        .cloned()
        .unwrap_or_else(|| location.to_owned());
    finops_core::Error::DeliveryUnreadable {
        message: format!("{file} cannot be read: {}", detail.lines().next().unwrap_or_default()),
        help: "the file may be truncated or still being written: export the month again (delete its folder first)".into(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(size: u64, modified: i64) -> FileMeta {
        FileMeta {
            size,
            modified: Some(modified),
            tag: modified.to_string(),
        }
    }

    #[test]
    fn folders_name_months() {
        assert_eq!(
            period_of_folder("invoice_month=202610"),
            Period::from_yyyymmdd("20261001")
        );
        assert_eq!(
            period_of_folder("billing_period=2026-10"),
            Period::from_yyyymmdd("20261001")
        );
        assert_eq!(period_of_folder("invoice_month=2026"), None);
        assert_eq!(period_of_folder("month=202610"), None);
    }

    #[test]
    fn exports_are_the_folders_above_the_months() {
        let listing: BTreeMap<String, FileMeta> = [
            ("detailed/invoice_month=202609/000000000000.parquet", 10),
            ("detailed/invoice_month=202610/000000000000.parquet", 11),
            ("detailed/invoice_month=202610/000000000001.parquet", 12),
            ("detailed/invoice_month=202610/_SUCCESS", 0),
            ("focus/billing_period=2026-10/000000000000.json.gz", 13),
            ("README.txt", 1),
        ]
        .into_iter()
        .map(|(k, s)| (k.to_owned(), meta(s, 100)))
        .collect();
        let found = discover(&listing, "root");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name, "detailed");
        assert_eq!(found[0].months.len(), 2);
        assert_eq!(
            found[0].months[&Period::from_yyyymmdd("20261001").unwrap()].len(),
            2
        );
        assert_eq!(found[1].name, "focus");
        let root: BTreeMap<String, FileMeta> =
            [("invoice_month=202610/a.json".to_owned(), meta(1, 1))].into();
        assert_eq!(discover(&root, "exports")[0].name, "exports");
    }

    #[test]
    fn files_outside_month_folders_are_an_export_read_by_its_data() {
        let listing: BTreeMap<String, FileMeta> = [
            ("flat/000000000000.parquet", 1),
            ("flat/000000000001.parquet", 2),
            ("monthly/invoice_month=202610/a.json", 3),
            ("monthly/stray.json", 4),
        ]
        .into_iter()
        .map(|(k, s)| (k.to_owned(), meta(s, 100)))
        .collect();
        let found = discover(&listing, "root");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name, "flat");
        assert!(found[0].months.is_empty());
        assert_eq!(found[0].loose.len(), 2);
        assert_eq!(found[1].name, "monthly");
        assert_eq!(found[1].months.len(), 1);
        assert!(
            found[1].loose.is_empty(),
            "beside month folders, loose files are not read"
        );
    }

    #[test]
    fn versions_and_runs() {
        let month: Month = [
            ("m/000000000000.parquet".to_owned(), meta(10, 1_000)),
            ("m/000000000001.parquet".to_owned(), meta(10, 1_100)),
        ]
        .into();
        let v = fingerprint(&month);
        assert!(v.starts_with("files=2;bytes=20;fp="), "{v}");
        assert_eq!(v, fingerprint(&month.clone()));
        let mut other = month.clone();
        other.get_mut("m/000000000001.parquet").unwrap().tag = "2".into();
        assert_ne!(v, fingerprint(&other));
        assert_eq!(mixed_runs(&month), None);
        let mut stale = month;
        stale.insert(
            "m/000000000002.parquet".to_owned(),
            meta(10, 1_000 - 86_400 * 3),
        );
        let why = mixed_runs(&stale).unwrap();
        assert!(why.contains("3 days apart"), "{why}");
        assert!(why.contains("000000000002.parquet"), "{why}");
    }
}
