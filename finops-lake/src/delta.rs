//! The Delta table: open or create it, replace one partition in one commit, list what it
//! holds, vacuum. delta-rs (without datafusion) writes the log; DuckDB writes the data files.

use std::collections::{BTreeMap, HashMap};
use std::sync::Once;

use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, TransactionError};
use deltalake::kernel::{
    Action, Add, LogicalFileView, MetadataExt as _, Remove, StructField, StructType, Transaction,
};
use deltalake::logstore::object_store::{
    ObjectStore, PutMultipartOptions, WriteMultipart, path::Path,
};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use finops_core::Warehouse;
use finops_core::naming::quote_literal;
use futures_util::TryStreamExt as _;
use serde_json::{Value, json};

use crate::Synced;
use crate::periods::{self, Column, PARTITIONS, WarehousePeriod};

/// Upload part size.
const PART: usize = 8 << 20;

/// An open Delta table.
pub struct Lake {
    url: String,
    table: DeltaTable,
    /// `[lake] file_size` and `row_group_size`.
    pub(crate) files: (String, u64),
}

/// One partition as the lake holds it.
#[derive(Debug, serde::Serialize)]
pub struct LakePeriod {
    /// `x_source`.
    pub source: String,
    /// `YYYY-MM`.
    pub period: String,
    /// The load version recorded by the commit that wrote it (`None` once that commit's log
    /// entry has expired).
    pub version: Option<String>,
    /// Rows (the files' `numRecords`).
    pub rows: u64,
    /// Data files.
    pub files: usize,
    /// Exact sums from the commit's metadata.
    pub billed: Option<String>,
    /// Exact `sum(EffectiveCost)`.
    pub effective: Option<String>,
    /// Exact `sum(ListCost)`.
    pub list: Option<String>,
    /// The table version that wrote it.
    pub table_version: Option<u64>,
}

fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        deltalake::aws::register_handlers(None);
        deltalake::azure::register_handlers(None);
        deltalake::gcp::register_handlers(None);
    });
}

/// `s3://…`, `file:///…` as given; a path becomes a `file://` URL (created if missing).
fn parse_url(url: &str) -> miette::Result<url::Url> {
    let bad = |why: String| finops_core::Error::InvalidArguments {
        message: format!("`{url}` is not a lake location: {why}"),
        help: "give s3://bucket/prefix, az://container/prefix, gs://bucket/prefix, \
               file:///absolute/path or a local path"
            .into(),
    };
    if let Ok(u) = url::Url::parse(url)
        && u.scheme().len() > 1
    {
        return match u.scheme() {
            "s3" | "s3a" | "az" | "abfs" | "abfss" | "azure" | "gs" | "file" => Ok(u),
            other => Err(bad(format!("finops writes to s3, az, gs or file, not {other}")).into()),
        };
    }
    let path = std::path::Path::new(url);
    std::fs::create_dir_all(path).map_err(|e| bad(e.to_string()))?;
    let abs = std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))?;
    url::Url::from_directory_path(&abs).map_err(|()| bad("not an absolute path".into()).into())
}

fn lake_error(url: &str, doing: &str, e: &DeltaTableError) -> miette::Report {
    let help = match e {
        DeltaTableError::Transaction {
            source: TransactionError::CommitConflict(_),
        } => {
            "another finops replaced the same period at the same time; run again: the period is then current, or written over the other's commit"
        }
        DeltaTableError::ObjectStore { .. } => {
            "check the URL and the credentials (AWS_*, AZURE_STORAGE_*, GOOGLE_* as the cloud's own tools read them)"
        }
        _ => {
            "nothing was committed: the table is as it was; `finops lake status` shows what it holds"
        }
    };
    miette::miette!(
        code = "finops::lake",
        help = help,
        "{doing} in the lake {url}: {e}"
    )
}

/// The Delta type of a FOCUS column as a schema field.
fn field(c: &Column) -> miette::Result<StructField> {
    serde_json::from_value(
        json!({ "name": c.name, "type": c.delta_type, "nullable": true, "metadata": {} }),
    )
    .map_err(|e| miette::miette!("the column {} as Delta type {}: {e}", c.name, c.delta_type))
}

/// The transaction version of a load version: 63 bits of its FNV-1a hash (Delta's `txn`
/// versions are numbers; the load version itself is in the commit's metadata).
pub(crate) fn txn_version(version: &str) -> i64 {
    let h = finops_core::vendor::fnv1a(version.as_bytes(), finops_core::vendor::FNV_OFFSET);
    i64::try_from(h >> 1).expect("63 bits")
}

fn app_id(source: &str, period: &str) -> String {
    format!("finops:{source}:{period}")
}

/// A partition value in a path (as delta-rs and Spark write it: `aws%2Fcur`).
pub(crate) fn encode(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'!')
        .add(b'"')
        .add(b'#')
        .add(b'$')
        .add(b'%')
        .add(b'&')
        .add(b'\'')
        .add(b'(')
        .add(b')')
        .add(b'*')
        .add(b'+')
        .add(b',')
        .add(b'/')
        .add(b':')
        .add(b';')
        .add(b'<')
        .add(b'=')
        .add(b'>')
        .add(b'?')
        .add(b'@')
        .add(b'[')
        .add(b'\\')
        .add(b']')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

/// The object store at `url` (no table needed), rooted there.
pub(crate) fn object_store_at(url: &str) -> miette::Result<deltalake::logstore::ObjectStoreRef> {
    register();
    let u = parse_url(url)?;
    let table = DeltaTableBuilder::from_url(u)
        .and_then(DeltaTableBuilder::build)
        .map_err(|e| lake_error(url, "opening the location", &e))?;
    Ok(table.object_store())
}

impl Lake {
    async fn load(url: &str) -> miette::Result<(DeltaTable, bool)> {
        register();
        let u = parse_url(url)?;
        let mut table = DeltaTableBuilder::from_url(u)
            .map_err(|e| lake_error(url, "opening the table", &e))?
            .build()
            .map_err(|e| lake_error(url, "opening the table", &e))?;
        match table.load().await {
            Ok(()) => Ok((table, true)),
            Err(DeltaTableError::NotATable(_)) => Ok((table, false)),
            Err(e) => Err(lake_error(url, "reading the table", &e)),
        }
    }

    /// The table at `url`, if there is one.
    pub async fn open_existing(url: &str) -> miette::Result<Option<Self>> {
        let (table, exists) = Self::load(url).await?;
        Ok(exists.then(|| Self::new(url, table)))
    }

    /// Opens an existing table.
    pub async fn open(url: &str) -> miette::Result<Self> {
        let (table, exists) = Self::load(url).await?;
        if !exists {
            return Err(miette::miette!(
                code = "finops::lake::no_table",
                help = "`finops lake sync --to {url}` creates it",
                "there is no Delta table at {url}"
            ));
        }
        Ok(Self::new(url, table))
    }

    fn new(url: &str, table: DeltaTable) -> Self {
        Self {
            url: url.to_owned(),
            table,
            files: ("128MB".into(), 122_880),
        }
    }

    /// Opens the table, creating it with `cols` (partitioned by source and period) if there
    /// is none. Another finops creating it at the same moment is fine.
    pub(crate) async fn open_or_create(url: &str, cols: &[Column]) -> miette::Result<Self> {
        let (table, exists) = Self::load(url).await?;
        if exists {
            return Ok(Self::new(url, table));
        }
        let fields = cols.iter().map(field).collect::<miette::Result<Vec<_>>>()?;
        let created = table
            .create()
            .with_columns(fields)
            .with_partition_columns(PARTITIONS)
            .with_table_name("focus_cost_and_usage")
            .with_comment("FOCUS cost and usage rows written by finops")
            .with_save_mode(SaveMode::Ignore)
            .await;
        match created {
            // Another writer may have made version 0 first: theirs is as good.
            Ok(_) | Err(DeltaTableError::VersionAlreadyExists(_)) => {}
            Err(e) => return Err(lake_error(url, "creating the table", &e)),
        }
        Self::open(url).await
    }

    /// The table version.
    pub fn version(&self) -> Option<u64> {
        self.table.version()
    }

    /// (minReaderVersion, minWriterVersion).
    pub fn protocol(&self) -> (i32, i32) {
        self.table.snapshot().map_or((0, 0), |s| {
            let p = s.protocol();
            (p.min_reader_version(), p.min_writer_version())
        })
    }

    /// Every file of the current version.
    async fn active_files(&self) -> miette::Result<Vec<LogicalFileView>> {
        self.table
            .get_active_add_actions_by_partitions(&[])
            .try_collect()
            .await
            .map_err(|e| lake_error(&self.url, "listing the table's files", &e))
    }

    async fn files_of(&self, source: &str, period: &str) -> miette::Result<Vec<Remove>> {
        let first_day = format!("{period}-01");
        Ok(self
            .active_files()
            .await?
            .into_iter()
            .map(|v| v.remove_action(true))
            .filter(|r| {
                let pv = r.partition_values.as_ref();
                let get = |k: &str| pv.and_then(|m| m.get(k)).cloned().flatten();
                get("x_source").as_deref() == Some(source)
                    && get("x_billing_period").as_deref() == Some(first_day.as_str())
            })
            .collect())
    }

    /// The version of the application transaction `app`, if the table has one.
    async fn txn(&self, app: &str) -> miette::Result<Option<i64>> {
        self.table
            .snapshot()
            .map_err(|e| lake_error(&self.url, "reading the table", &e))?
            .transaction_version(self.table.log_store().as_ref(), app)
            .await
            .map_err(|e| lake_error(&self.url, "reading the table's transactions", &e))
    }

    /// Writes one (source, period) unless the lake holds its version (`force`: even then;
    /// `rewrite`: even then, but never an older load over a newer one).
    /// `wh_cols` are the warehouse's FOCUS columns ([`periods::schema`]).
    pub(crate) async fn sync_period(
        &mut self,
        wh: &Warehouse,
        wh_cols: &[Column],
        p: &WarehousePeriod,
        force: bool,
        rewrite: bool,
    ) -> miette::Result<Synced> {
        let app = app_id(&p.source, &p.period);
        let want = txn_version(&p.version);
        let have = self.txn(&app).await?;
        let lake_loaded = self.txn(&format!("{app}:loaded")).await?;
        if !force && !rewrite && have == Some(want) {
            let files = self.files_of(&p.source, &p.period).await?;
            return Ok(Synced {
                source: p.source.clone(),
                period: p.period.clone(),
                status: "current",
                rows: p.rows,
                files: files.len(),
                table_version: None,
            });
        }
        // Never an older load over a newer one (a worker's stale scratch warehouse).
        if !force && lake_loaded.is_some_and(|l| l > p.loaded_ms) {
            let files = self.files_of(&p.source, &p.period).await?;
            return Ok(Synced {
                source: p.source.clone(),
                period: p.period.clone(),
                status: "newer in lake",
                rows: 0,
                files: files.len(),
                table_version: None,
            });
        }
        let metadata = self.evolved_metadata(wh_cols)?;
        let cols = self.file_columns(wh_cols)?;
        let staging = staging_dir(wh)?;
        let dir = staging.path().join("data");
        let focus = wh.qualified(&finops_core::focus::table());
        let rows = wh
            .conn()
            .execute(
                &format!(
                    "COPY (SELECT {} FROM {focus} WHERE {} ORDER BY \"ChargePeriodStart\") TO {} \
                     (FORMAT parquet, FILE_SIZE_BYTES {}, ROW_GROUP_SIZE {}, COMPRESSION snappy)",
                    periods::data_select(&cols),
                    p.predicate(),
                    quote_literal(&dir.to_string_lossy()),
                    quote_literal(&self.files.0),
                    self.files.1,
                ),
                [],
            )
            .map_err(finops_core::Error::db(format!(
                "writing {} {} as Parquet",
                p.source, p.period
            )))?;
        let mut local: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| miette::miette!("reading {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        local.sort();
        let counts = file_rows(wh, &local)?;
        let prefix = format!(
            "x_source={}/x_billing_period={}-01",
            encode(&p.source),
            p.period
        );
        let store = self.table.object_store();
        let run = uuid::Uuid::new_v4();
        let mut adds = Vec::new();
        for (i, (file, n)) in local.iter().zip(&counts).enumerate() {
            let key = format!("{prefix}/part-{i:05}-{run}-c000.snappy.parquet");
            let size = upload(store.as_ref(), file, &key).await.map_err(|e| {
                miette::miette!(
                    code = "finops::lake::upload",
                    help = "nothing was committed: the table is as it was; run again",
                    "uploading {key} to {}: {e}",
                    self.url
                )
            })?;
            adds.push(Action::Add(Add {
                // delta-rs URI-encodes it in the log: `%2F` in the key is `%252F` there.
                path: key.clone(),
                partition_values: HashMap::from([
                    ("x_source".to_owned(), Some(p.source.clone())),
                    ("x_billing_period".to_owned(), Some(p.first_day())),
                ]),
                size,
                modification_time: chrono::Utc::now().timestamp_millis(),
                data_change: true,
                stats: Some(json!({ "numRecords": n }).to_string()),
                tags: None,
                deletion_vector: None,
                base_row_id: None,
                default_row_commit_version: None,
                clustering_provider: None,
            }));
        }
        finops_core::fault::point("lake-before-commit");
        let removes = self.files_of(&p.source, &p.period).await?;
        finops_core::fault::barrier();
        let mut actions: Vec<Action> = metadata.into_iter().map(Action::Metadata).collect();
        actions.extend(removes.into_iter().map(Action::Remove));
        actions.extend(adds);
        let files = counts.len();
        let info = json!({
            "source": p.source, "period": p.period, "version": p.version,
            "rows": rows, "files": files,
            "BilledCost": p.billed, "EffectiveCost": p.effective, "ListCost": p.list,
        });
        let props = CommitProperties::default()
            .with_application_transaction(Transaction::new(&app, want))
            .with_application_transaction(Transaction::new(format!("{app}:loaded"), p.loaded_ms))
            .with_metadata([("finops".to_owned(), info)]);
        let op = DeltaOperation::Write {
            mode: SaveMode::Overwrite,
            partition_by: Some(PARTITIONS.iter().map(|s| (*s).to_owned()).collect()),
            predicate: Some(format!(
                "x_source = {} AND x_billing_period = '{}'",
                quote_literal(&p.source),
                p.first_day()
            )),
        };
        let snapshot = self
            .table
            .snapshot()
            .map_err(|e| lake_error(&self.url, "reading the table", &e))?;
        let done = CommitBuilder::from(props)
            .with_actions(actions)
            .build(Some(snapshot), self.table.log_store(), op)
            .await
            .map_err(|e| {
                lake_error(
                    &self.url,
                    &format!("committing {} {}", p.source, p.period),
                    &e,
                )
            })?;
        let version = done.version();
        self.table
            .update_state()
            .await
            .map_err(|e| lake_error(&self.url, "reading the table", &e))?;
        Ok(Synced {
            source: p.source.clone(),
            period: p.period.clone(),
            status: "written",
            rows: u64::try_from(rows).unwrap_or(u64::MAX),
            files,
            table_version: Some(version),
        })
    }

    /// The columns of a data file: the table's, in its order (NULL where the warehouse has
    /// none), then the warehouse's new ones (which this commit adds to the schema).
    fn file_columns(&self, wh_cols: &[Column]) -> miette::Result<Vec<Column>> {
        let schema = self
            .table
            .snapshot()
            .map_err(|e| lake_error(&self.url, "reading the table", &e))?
            .schema();
        let mut out: Vec<Column> = Vec::new();
        for f in schema.fields() {
            let have = wh_cols.iter().find(|c| c.name == *f.name());
            out.push(if let Some(c) = have {
                c.clone()
            } else {
                let ty = serde_json::to_value(f.data_type())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "string".into());
                periods::null_column(f.name(), &ty)
            });
        }
        out.extend(
            wh_cols
                .iter()
                .filter(|c| schema.field(&c.name).is_none())
                .cloned(),
        );
        Ok(out)
    }

    /// Whether the warehouse has columns the table has not (the next commit evolves the
    /// schema).
    pub(crate) fn evolves(&self, wh_cols: &[Column]) -> miette::Result<bool> {
        Ok(self.evolved_metadata(wh_cols)?.is_some())
    }

    /// A Metadata action adding the columns the table lacks (schema evolution), if any; a
    /// column whose type changed is refused.
    fn evolved_metadata(
        &self,
        cols: &[Column],
    ) -> miette::Result<Option<deltalake::kernel::Metadata>> {
        let snapshot = self
            .table
            .snapshot()
            .map_err(|e| lake_error(&self.url, "reading the table", &e))?;
        let schema = snapshot.schema();
        let mut fields: Vec<StructField> = schema.fields().cloned().collect();
        let mut added = false;
        for c in cols {
            let want = field(c)?;
            match schema.field(&c.name) {
                Some(have) if have.data_type() == want.data_type() => {}
                Some(have) => {
                    return Err(miette::miette!(
                        code = "finops::lake::schema",
                        help = "write to a new table (another --to), or rewrite this one from the warehouse",
                        "the lake's column {} is {:?}, the warehouse's is {}",
                        c.name,
                        have.data_type(),
                        c.delta_type
                    ));
                }
                None => {
                    fields.push(want);
                    added = true;
                }
            }
        }
        if !added {
            return Ok(None);
        }
        let st = StructType::try_new(fields)
            .map_err(|e| miette::miette!("the new schema of the lake: {e}"))?;
        let m = snapshot
            .metadata()
            .clone()
            .with_schema(&st)
            .map_err(|e| miette::miette!("adding columns to the lake's schema: {e}"))?;
        Ok(Some(m))
    }

    /// The `txn` version of every partition, by (source, `YYYY-MM`).
    pub(crate) async fn txn_versions(&self) -> miette::Result<BTreeMap<(String, String), i64>> {
        let mut out = BTreeMap::new();
        for (source, period) in self.partitions().await?.into_keys() {
            if let Some(v) = self.txn(&app_id(&source, &period)).await? {
                out.insert((source, period), v);
            }
        }
        Ok(out)
    }

    /// (rows, files) of every partition, from the log.
    async fn partitions(&self) -> miette::Result<BTreeMap<(String, String), (u64, usize)>> {
        let mut parts: BTreeMap<(String, String), (u64, usize)> = BTreeMap::new();
        for v in &self.active_files().await? {
            let r = v.remove_action(false);
            let pv = r.partition_values.unwrap_or_default();
            let get = |k: &str| pv.get(k).cloned().flatten().unwrap_or_default();
            let period = get("x_billing_period");
            let e = parts
                .entry((
                    get("x_source"),
                    period.get(..7).unwrap_or(&period).to_owned(),
                ))
                .or_default();
            e.0 += v.num_records().unwrap_or_default() as u64;
            e.1 += 1;
        }
        Ok(parts)
    }

    /// Every partition: rows and files from the log, version and sums from the commit that
    /// wrote it.
    pub async fn periods(&self) -> miette::Result<Vec<LakePeriod>> {
        let parts = self.partitions().await?;
        let mut infos: HashMap<(String, String), (Value, Option<u64>)> = HashMap::new();
        let history = self
            .table
            .history(None)
            .await
            .map_err(|e| lake_error(&self.url, "reading the table's history", &e))?;
        // Newest first, one per version down from the latest: the first commit naming a
        // partition is the one that wrote it.
        let latest = self.table.version().unwrap_or_default();
        for (i, c) in history.enumerate() {
            let Some(info) = c.info.get("finops") else {
                continue;
            };
            let version = latest.checked_sub(i as u64);
            let key = (
                info["source"].as_str().unwrap_or_default().to_owned(),
                info["period"].as_str().unwrap_or_default().to_owned(),
            );
            infos.entry(key).or_insert((info.clone(), version));
        }
        Ok(parts
            .into_iter()
            .map(|((source, period), (rows, files))| {
                let info = infos.get(&(source.clone(), period.clone()));
                let s = |k: &str| info.and_then(|(i, _)| i[k].as_str().map(str::to_owned));
                LakePeriod {
                    version: s("version"),
                    billed: s("BilledCost"),
                    effective: s("EffectiveCost"),
                    list: s("ListCost"),
                    table_version: info.and_then(|(_, v)| *v),
                    source,
                    period,
                    rows,
                    files,
                }
            })
            .collect())
    }

    /// Deletes the files that no version of the last `retain_days` reads (and files that no
    /// commit ever added, such as uploads of a sync that died before its commit).
    pub async fn vacuum(&mut self, retain_days: u32, dry_run: bool) -> miette::Result<Vec<String>> {
        let (table, metrics) = self
            .table
            .clone()
            .vacuum()
            .with_retention_period(chrono::Duration::days(i64::from(retain_days)))
            .with_enforce_retention_duration(false)
            .with_mode(deltalake::operations::vacuum::VacuumMode::Full)
            .with_dry_run(dry_run)
            .await
            .map_err(|e| lake_error(&self.url, "vacuuming", &e))?;
        self.table = table;
        // delta-rs lists a removed file twice: from the log as an absolute, once more encoded
        // path (`%252F`), and from the listing of Full mode as the key (`%2F`). One each.
        let root = self.table.table_url().path().to_owned();
        let mut files: Vec<String> = metrics
            .files_deleted
            .into_iter()
            .map(|f| match f.strip_prefix(root.as_str()) {
                Some(rel) => percent_encoding::percent_decode_str(rel)
                    .decode_utf8_lossy()
                    .into_owned(),
                None => f,
            })
            .collect();
        files.sort();
        files.dedup();
        Ok(files)
    }
}

/// A directory for a period's files beside the warehouse (its disk has room for the period;
/// the system's temporary directory may be a small tmpfs).
pub(crate) fn staging_dir(wh: &Warehouse) -> miette::Result<tempfile::TempDir> {
    let root = wh.staging_root();
    std::fs::create_dir_all(&root)
        .and_then(|()| tempfile::Builder::new().prefix("lake-").tempdir_in(&root))
        .map_err(|e| miette::miette!("creating a staging directory in {}: {e}", root.display()))
}

/// Rows of each local Parquet file (from its footer).
fn file_rows(wh: &Warehouse, files: &[std::path::PathBuf]) -> miette::Result<Vec<u64>> {
    files
        .iter()
        .map(|f| {
            wh.conn()
                .query_row(
                    &format!(
                        "SELECT num_rows FROM parquet_file_metadata({})",
                        quote_literal(&f.to_string_lossy())
                    ),
                    [],
                    |r| r.get::<_, u64>(0),
                )
                .map_err(|e| miette::miette!("reading {}: {e}", f.display()))
        })
        .collect()
}

/// Uploads a local file in parts; its size.
pub(crate) async fn upload(
    store: &dyn ObjectStore,
    file: &std::path::Path,
    key: &str,
) -> Result<i64, String> {
    use tokio::io::AsyncReadExt as _;
    let path = Path::parse(key).map_err(|e| e.to_string())?;
    let upload = store
        .put_multipart_opts(&path, PutMultipartOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
    let mut f = tokio::fs::File::open(file)
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; PART];
    let mut size = 0i64;
    loop {
        let n = f.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        size += i64::try_from(n).expect("a read's length");
        w.write(&buf[..n]);
    }
    w.finish().await.map_err(|e| e.to_string())?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_encoded_as_delta_rs_and_spark_do() {
        assert_eq!(encode("aws/finops sample:1"), "aws%2Ffinops%20sample%3A1");
        assert_eq!(encode("2026-01-01"), "2026-01-01");
    }

    #[test]
    fn txn_versions_are_positive_and_differ() {
        let a = txn_version("v1");
        assert!(a >= 0);
        assert_ne!(a, txn_version("v2"));
        assert_eq!(a, txn_version("v1"));
    }
}
