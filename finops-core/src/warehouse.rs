//! The DuckDB warehouse: opening and locking the file, schemas, and settings.

use std::path::{Path, PathBuf};

use duckdb::{Config, Connection};

use crate::config::WarehouseConfig;
use crate::error::{Error, Result};
use crate::naming::{TableRef, quote_ident};

/// Schema holding finops' own tables (load state and history). Not `finops`: DuckDB names
/// the catalog after the file, so in `finops.duckdb` the name `finops.x` would be ambiguous.
pub const META_SCHEMA: &str = "meta";

/// An open warehouse: one read-write DuckDB connection, which holds DuckDB's file lock.
///
/// finops refers to its tables by catalog-qualified names (`"catalog"."schema"."table"`), so
/// that no file name can make a schema name ambiguous.
pub struct Warehouse {
    conn: Connection,
    path: PathBuf,
    catalog: String,
    /// A reader's own spill directory (removed after the connection closes: fields drop in
    /// order). Readers may run side by side, so they do not share the writer's.
    spill: Option<tempfile::TempDir>,
}

/// The settings every connection to the warehouse gets, reader or writer: no extension
/// loaded behind our back, and `memory_limit` and `threads` from the configuration.
fn settings(cfg: &WarehouseConfig, config: Config) -> Result<Config> {
    let mut config = config
        .enable_autoload_extension(false)
        .and_then(|c| c.with("autoinstall_known_extensions", "false"))
        .and_then(|c| c.max_memory(&cfg.memory_limit))
        .map_err(rejected("warehouse settings"))?;
    if let Some(threads) = cfg.threads {
        config = config
            .threads(i64::from(threads))
            .map_err(rejected("warehouse.threads"))?;
    }
    Ok(config)
}

/// A setting DuckDB refused, as a configuration error naming `what`.
fn rejected(what: &'static str) -> impl FnOnce(duckdb::Error) -> Error {
    move |source| Error::ConfigInvalid {
        message: format!("{what} rejected by DuckDB: {source}"),
    }
}

impl Warehouse {
    /// Opens (creating if needed) the DuckDB file read-write, applies the memory and thread
    /// settings, and creates finops' own schema and state tables.
    ///
    /// Another process with the file open for writing makes this fail with
    /// [`Error::WarehouseLocked`], after waiting up to `wait_lock` seconds for it to finish.
    pub fn open(cfg: &WarehouseConfig) -> Result<Self> {
        wait_for_lock(cfg.wait_lock, || Self::open_once(cfg))
    }

    fn open_once(cfg: &WarehouseConfig) -> Result<Self> {
        let path = cfg.path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(Error::io("creating the warehouse directory", dir))?;
        }
        // Loads ignore row order (raw tables have none), which keeps large inserts in flat
        // memory; readers keep DuckDB's order, which reports and exports may show.
        let config = Config::default()
            .with("preserve_insertion_order", "false")
            .map_err(rejected("warehouse settings"))?;
        let config = settings(cfg, config)?;
        let conn = Connection::open_with_flags(&path, config).map_err(|e| open_error(&path, &e))?;
        let wh = Self::with_catalog(conn, path, None)?;
        wh.set_temp_directory(&wh.staging_root().join("duckdb-spill"))?;
        crate::state::ensure_tables(&wh)?;
        crate::notifications::ensure_table(&wh)?;
        Ok(wh)
    }

    /// Opens an existing warehouse read-only (for reports, exports and listing state), with
    /// the writer's memory and thread settings: a large sort or join spills to a directory of
    /// its own beside the warehouse instead of growing to DuckDB's default of 80% of RAM
    /// (measured: `finops lake sync` of a 10 M-row month peaked at 14.7 GiB without them).
    /// Returns `None` when the file does not exist. A writer holds DuckDB's lock against
    /// readers too: this waits up to `wait_lock` seconds for it, as [`Warehouse::open`] does.
    pub fn open_read_only(cfg: &WarehouseConfig) -> Result<Option<Self>> {
        wait_for_lock(cfg.wait_lock, || Self::open_read_only_once(cfg))
    }

    fn open_read_only_once(cfg: &WarehouseConfig) -> Result<Option<Self>> {
        let path = &cfg.path;
        if !path.exists() {
            return Ok(None);
        }
        let config = Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .map_err(|source| Error::WarehouseOpen {
                path: path.clone(),
                source: crate::error::DbMessage::of(&source),
            })?;
        let config = settings(cfg, config)?;
        // A reader that cannot write beside the warehouse keeps DuckDB's own choice.
        let root = Self::staging_root_of(path);
        let spill = match std::fs::create_dir_all(&root)
            .and_then(|()| tempfile::Builder::new().prefix("spill-").tempdir_in(&root))
        {
            Ok(dir) => Some(dir),
            Err(e) => {
                tracing::debug!("no spill directory in {}: {e}", root.display());
                None
            }
        };
        let conn = Connection::open_with_flags(path, config).map_err(|e| open_error(path, &e))?;
        let wh = Self::with_catalog(conn, path.clone(), spill)?;
        if let Some(dir) = &wh.spill {
            wh.set_temp_directory(dir.path())?;
        }
        Ok(Some(wh))
    }

    fn with_catalog(
        conn: Connection,
        path: PathBuf,
        spill: Option<tempfile::TempDir>,
    ) -> Result<Self> {
        let catalog = conn
            .query_row("SELECT current_database()", [], |r| r.get(0))
            .map_err(Error::db("reading the warehouse's catalog name"))?;
        Ok(Self {
            conn,
            path,
            catalog,
            spill,
        })
    }

    /// `"catalog"."schema"."name"` for a table of this warehouse.
    pub fn qualified(&self, table: &TableRef) -> String {
        format!("{}.{}", quote_ident(&self.catalog), table.quoted())
    }

    /// The qualified name of one of finops' own tables (`load_state`, `load_history`).
    pub fn meta_table(&self, name: &str) -> String {
        self.qualified(&TableRef::new(META_SCHEMA, name))
    }

    /// Spill to a directory beside the warehouse, not to the working directory.
    fn set_temp_directory(&self, tmp: &Path) -> Result<()> {
        self.conn
            .execute_batch(&format!(
                "SET temp_directory = {}",
                crate::naming::quote_literal(&tmp.to_string_lossy())
            ))
            .map_err(Error::db("setting the spill directory"))
    }

    /// The DuckDB connection.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The warehouse's catalog name (DuckDB names it after the file).
    pub fn catalog(&self) -> &str {
        &self.catalog
    }

    /// The warehouse file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Directory for staging downloads and spills: `<warehouse>.staging` beside the file,
    /// so that it is on the same disk as the warehouse.
    pub fn staging_root(&self) -> PathBuf {
        Self::staging_root_of(&self.path)
    }

    fn staging_root_of(path: &Path) -> PathBuf {
        let mut name = path
            .file_name()
            .map(std::ffi::OsStr::to_os_string)
            .unwrap_or_default();
        name.push(".staging");
        path.with_file_name(name)
    }

    /// Creates `schema` if it does not exist.
    pub fn ensure_schema(&self, schema: &str) -> Result<()> {
        self.conn
            .execute_batch(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}.{}",
                quote_ident(&self.catalog),
                quote_ident(schema)
            ))
            .map_err(Error::db(format!("creating schema {schema}")))
    }

    /// The first column of every row of `sql`, as text.
    pub fn strings(&self, sql: &str, action: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(sql).map_err(Error::db(action))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(Error::db(action))?;
        rows.collect::<duckdb::Result<_>>()
            .map_err(Error::db(action))
    }

    /// The first two columns of every row of `sql`, as text (names and types, typically).
    pub fn pairs(&self, sql: &str, action: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(sql).map_err(Error::db(action))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(Error::db(action))?;
        rows.collect::<duckdb::Result<_>>()
            .map_err(Error::db(action))
    }

    /// Column names and types of `schema.table`, in order.
    pub fn columns(&self, schema: &str, table: &str) -> Result<Vec<(String, String)>> {
        self.pairs(
            &format!(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = {} AND table_schema = {} AND table_name = {} ORDER BY ordinal_position",
                crate::naming::quote_literal(&self.catalog),
                crate::naming::quote_literal(schema),
                crate::naming::quote_literal(table)
            ),
            &format!("reading the columns of {schema}.{table}"),
        )
    }

    /// Whether `schema.table` exists (a table or a view).
    pub fn table_exists(&self, schema: &str, table: &str) -> Result<bool> {
        Ok(self.relation_kind(schema, table)?.is_some())
    }

    /// What `schema.table` is, if it exists.
    pub fn relation_kind(&self, schema: &str, table: &str) -> Result<Option<Relation>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT table_type FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? AND table_name = ?",
            )
            .map_err(Error::db(format!("looking up {schema}.{table}")))?;
        let kinds = stmt
            .query_map([self.catalog.as_str(), schema, table], |r| {
                r.get::<_, String>(0)
            })
            .map_err(Error::db(format!("looking up {schema}.{table}")))?
            .collect::<duckdb::Result<Vec<_>>>()
            .map_err(Error::db(format!("looking up {schema}.{table}")))?;
        Ok(kinds.first().map(|k| {
            if k == "VIEW" {
                Relation::View
            } else {
                Relation::Table
            }
        }))
    }
}

/// What a name in the warehouse is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// A table.
    Table,
    /// A view.
    View,
}

/// Runs a `(name, type)` query (such as `DESCRIBE SELECT … FROM read_parquet(…)`) on a
/// private in-memory DuckDB: for vendors that need a file's schema before they write SQL.
pub fn describe(sql: &str) -> Result<Vec<(String, String)>> {
    let conn = Connection::open_in_memory().map_err(Error::db("opening an in-memory database"))?;
    let mut stmt = conn
        .prepare(sql)
        .map_err(Error::db("reading a file's schema"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(Error::db("reading a file's schema"))?;
    rows.collect::<duckdb::Result<Vec<_>>>()
        .map_err(Error::db("reading a file's schema"))
}

/// Turns DuckDB's lock conflict into [`Error::WarehouseLocked`].
fn open_error(path: &Path, source: &duckdb::Error) -> Error {
    let text = source.to_string();
    if text.contains("Could not set lock") || text.contains("Conflicting lock") {
        let holder = text.split_once("Conflicting lock is held in ").map_or_else(
            || "another process".to_owned(),
            |(_, rest)| {
                rest.split(". See also")
                    .next()
                    .unwrap_or(rest)
                    .trim()
                    .to_owned()
            },
        );
        return Error::WarehouseLocked {
            path: path.into(),
            holder,
        };
    }
    Error::WarehouseOpen {
        path: path.into(),
        source: crate::error::DbMessage::of(source),
    }
}

/// Runs `open` until it succeeds, fails other than with [`Error::WarehouseLocked`], or
/// `wait_lock` seconds have passed.
fn wait_for_lock<T>(wait_lock: u64, mut open: impl FnMut() -> Result<T>) -> Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait_lock);
    let mut told = false;
    loop {
        match open() {
            Err(Error::WarehouseLocked { holder, .. }) if std::time::Instant::now() < deadline => {
                if !told {
                    tracing::info!(
                        "waiting up to {wait_lock} s for the warehouse lock held by {holder}"
                    );
                    told = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_creates_state_and_reopens() {
        // A file named like a schema must not make names ambiguous.
        for name in ["finops.duckdb", "meta.duckdb", "aws.duckdb"] {
            let dir = tempfile::tempdir().unwrap();
            let wh = Warehouse::open(&WarehouseConfig {
                path: dir.path().join(name),
                ..WarehouseConfig::default()
            })
            .unwrap();
            wh.ensure_schema("aws").unwrap();
            assert!(
                crate::state::list_state(&wh, "aws", None)
                    .unwrap()
                    .is_empty()
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let cfg = WarehouseConfig {
            path: dir.path().join("sub/w.duckdb"),
            ..WarehouseConfig::default()
        };
        {
            let wh = Warehouse::open(&cfg).unwrap();
            assert!(wh.table_exists(META_SCHEMA, "load_state").unwrap());
            assert!(wh.table_exists(META_SCHEMA, "load_history").unwrap());
            assert_eq!(wh.meta_table("load_state"), "\"w\".\"meta\".\"load_state\"");
            wh.ensure_schema("we\"ird").unwrap();
        }
        let wh = Warehouse::open(&cfg).unwrap();
        assert!(!wh.table_exists("aws", "nope").unwrap());
        assert_eq!(wh.staging_root(), dir.path().join("sub/w.duckdb.staging"));
    }

    #[test]
    fn readers_get_the_memory_limit_and_a_spill_directory_of_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = WarehouseConfig {
            path: dir.path().join("w.duckdb"),
            memory_limit: "300MB".into(),
            threads: Some(1),
            ..WarehouseConfig::default()
        };
        drop(Warehouse::open(&cfg).unwrap());
        let setting = |wh: &Warehouse, name: &str| -> String {
            wh.conn()
                .query_row(
                    &format!("SELECT CAST(current_setting('{name}') AS VARCHAR)"),
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let a = Warehouse::open_read_only(&cfg).unwrap().unwrap();
        let b = Warehouse::open_read_only(&cfg).unwrap().unwrap();
        // DuckDB prints 300 MB as MiB.
        assert_eq!(setting(&a, "memory_limit"), "286.1 MiB");
        assert_eq!(setting(&a, "threads"), "1");
        let (ta, tb) = (setting(&a, "temp_directory"), setting(&b, "temp_directory"));
        assert_ne!(ta, tb, "two readers share a spill directory");
        let root = dir.path().join("w.duckdb.staging");
        assert!(std::path::Path::new(&ta).starts_with(&root), "{ta}");
        // A sort larger than the limit spills there and finishes.
        let n: i64 = a
            .conn()
            .query_row(
                "SELECT count(*) FROM (SELECT i, repeat('x', 100) || i AS s FROM range(3000000) t(i) ORDER BY s DESC)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 3_000_000);
        drop((a, b));
        assert!(!std::path::Path::new(&ta).exists(), "{ta} is left behind");
        assert!(!std::path::Path::new(&tb).exists(), "{tb} is left behind");
        assert_eq!(
            Warehouse::open_read_only(&WarehouseConfig {
                path: dir.path().join("none.duckdb"),
                ..cfg
            })
            .unwrap()
            .map(|_| ()),
            None
        );
    }

    #[test]
    fn lock_error_is_friendly() {
        let e = open_error(
            Path::new("w.duckdb"),
            &duckdb::Error::DuckDBFailure(
                duckdb::ffi::Error::new(1),
                Some("IO Error: Could not set lock on file \"w.duckdb\": Conflicting lock is held in /usr/bin/finops (PID 42). See also https://duckdb.org".into()),
            ),
        );
        match e {
            Error::WarehouseLocked { holder, .. } => assert_eq!(holder, "/usr/bin/finops (PID 42)"),
            other => panic!("{other:?}"),
        }
    }
}
