//! `finops lake`: `focus.cost_and_usage` as a Delta Lake table on object storage (file://,
//! s3://, az://, gs://), partitioned by `x_source` and `x_billing_period`.
//!
//! Each (source, billing period) is written by DuckDB as Parquet, uploaded, and committed by
//! delta-rs in one commit that removes the partition's old files and adds the new ones, with an
//! application transaction `finops:<source>:<period>` whose version is a number derived from
//! the period's load version, and the version itself, the rows and the exact cost sums in the
//! commit's metadata. A period whose version is the lake's is not written, so a re-run writes
//! nothing. A reader of the table sees a period's old rows or its new ones, never both.

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

mod delta;
pub mod hive;
mod periods;

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use finops_core::Context;
use finops_core::output::{self, ExitStatus, Table};
use serde::Deserialize;
use serde_json::json;

pub use delta::Lake;
pub use periods::WarehousePeriod;

/// The `[lake]` section of finops.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// Where the table is: `s3://bucket/prefix`, `az://container/prefix`, `gs://bucket/prefix`,
    /// `file:///path` or a local path. When set, every import syncs what it loaded.
    pub url: Option<String>,
    /// Target size of a data file: DuckDB starts the next file past it.
    #[serde(default = "default_file_size")]
    pub file_size: String,
    /// Rows per Parquet row group.
    #[serde(default = "default_row_group_size")]
    pub row_group_size: u64,
}

fn default_file_size() -> String {
    "128MB".into()
}

fn default_row_group_size() -> u64 {
    122_880
}

/// `finops lake …`.
#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Write every (source, billing period) whose loaded version is not the lake's, one Delta
    /// commit each
    #[command(
        after_help = "Credentials and endpoints as the cloud's own tools read them: AWS_* (profiles, SSO, \
                      instance roles; AWS_ENDPOINT_URL and AWS_ALLOW_HTTP=true for an S3-compatible \
                      server), AZURE_STORAGE_* and GOOGLE_* (application default credentials).\n\n\
                      Examples:\n  finops lake sync --to s3://billing-lake/focus\n  \
                      finops lake sync --to /srv/lake/focus --period 2026-10"
    )]
    Sync(SyncArgs),
    /// Periods, versions, rows and exact cost sums in the lake against the warehouse
    Status(TargetArgs),
    /// Delete files no version younger than --retain days needs (queries that started before
    /// a replace keep reading until then)
    Vacuum {
        #[command(flatten)]
        target: TargetArgs,
        /// Keep files that a table version of the last DAYS days still reads
        #[arg(long, value_name = "DAYS", default_value_t = 7)]
        retain: u32,
        /// List what would be deleted, delete nothing
        #[arg(long)]
        dry_run: bool,
    },
}

/// Which table.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The table's URL: s3://, az://, gs://, file:// or a path [config: lake.url]
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
}

/// `finops lake sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only this billing period, YYYY-MM
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<finops_core::Period>,
    /// Only this source (`aws/<export>`, as in x_source)
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,
    /// Write the periods even when the lake holds their version
    #[arg(long)]
    pub force: bool,
}

/// What a sync did with one (source, period).
#[derive(Debug, serde::Serialize)]
pub struct Synced {
    /// `vendor/export`.
    pub source: String,
    /// `YYYY-MM`.
    pub period: String,
    /// `written` or `current`.
    pub status: &'static str,
    /// Rows in the lake's partition now.
    pub rows: u64,
    /// Data files written.
    pub files: usize,
    /// The table version of the commit (`None` when nothing was written).
    pub table_version: Option<u64>,
}

/// The table URL: `--to`, else `[lake] url`.
fn url(ctx: &Context, to: Option<&str>) -> miette::Result<String> {
    if let Some(u) = to {
        return Ok(u.to_owned());
    }
    let cfg: LakeConfig = ctx.settings.section("lake")?;
    cfg.url.ok_or_else(|| {
        finops_core::Error::InvalidArguments {
            message: "no lake given".into(),
            help: "pass --to s3://bucket/prefix (or az://, gs://, file://, a path), or set \
                   `[lake] url` in finops.toml"
                .into(),
        }
        .into()
    })
}

/// Runs a `finops lake` command.
pub fn run(ctx: &Context, cmd: &LakeCommand) -> miette::Result<ExitStatus> {
    let rt = runtime()?;
    match cmd {
        LakeCommand::Sync(args) => {
            let url = url(ctx, args.target.to.as_deref())?;
            let done = rt.block_on(sync(ctx, &url, args))?;
            print_synced(ctx, &done);
            Ok(ExitStatus::Success)
        }
        LakeCommand::Status(t) => {
            let url = url(ctx, t.to.as_deref())?;
            rt.block_on(status(ctx, &url))
        }
        LakeCommand::Vacuum {
            target,
            retain,
            dry_run,
        } => {
            let url = url(ctx, target.to.as_deref())?;
            let deleted = rt.block_on(async {
                let mut lake = Lake::open(&url).await?;
                lake.vacuum(*retain, *dry_run).await
            })?;
            let verb = if *dry_run { "would delete" } else { "deleted" };
            if ctx.ui.format == output::Format::Json {
                output::print_json(&json!({ "dry_run": dry_run, "files": deleted }));
            } else {
                for f in &deleted {
                    output::print_text(&format!("{verb} {f}"));
                }
                output::print_text(&format!(
                    "{verb} {} files older than {retain} days that no current version reads",
                    deleted.len()
                ));
            }
            Ok(ExitStatus::Success)
        }
    }
}

/// After an import: syncs to `[lake] url` when one is set. A failure leaves the warehouse
/// committed, says so, and the caller exits 3.
pub fn after_import(ctx: &Context) -> miette::Result<()> {
    let cfg: LakeConfig = ctx.settings.section("lake")?;
    let Some(url) = cfg.url else { return Ok(()) };
    // Nothing imported yet (a worker that found everything in the lake): nothing to sync.
    match finops_core::focus::open_read_only(&ctx.warehouse_config()?) {
        Err(finops_core::Error::NoFocusRows { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
        Ok(_) => {}
    }
    let args = SyncArgs {
        target: TargetArgs { to: None },
        period: None,
        source: None,
        force: false,
    };
    let done = runtime()?
        .block_on(sync(ctx, &url, &args))
        .map_err(|e| {
            miette::miette!(
                code = "finops::lake::after_import",
                help = "the import committed to the warehouse; `finops lake sync` finishes the lake once the cause is fixed",
                "syncing the lake {url} failed: {e:?}"
            )
        })?;
    for s in done.iter().filter(|s| s.status == "written") {
        tracing::info!(
            "lake: {} {} written ({} rows, {} files, table version {})",
            s.source,
            s.period,
            s.rows,
            s.files,
            s.table_version.unwrap_or_default()
        );
    }
    Ok(())
}

/// What the lake at `url` holds, for an import in worker mode (`--lake`): a period is held when
/// its `txn` version is the delivered version's. An absent table holds nothing.
pub async fn held(url: &str) -> miette::Result<finops_core::import::HeldElsewhere> {
    let versions = match Lake::open_existing(url).await? {
        Some(lake) => lake.txn_versions().await?,
        None => BTreeMap::new(),
    };
    Ok(finops_core::import::HeldElsewhere(std::sync::Arc::new(
        move |source: &str, period: finops_core::Period, version: &str| {
            versions.get(&(source.to_owned(), period.to_string()))
                == Some(&delta::txn_version(version))
        },
    )))
}

fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))
}

async fn sync(ctx: &Context, url: &str, args: &SyncArgs) -> miette::Result<Vec<Synced>> {
    let cfg: LakeConfig = ctx.settings.section("lake")?;
    let wh = finops_core::focus::open_read_only(&ctx.warehouse_config()?)?;
    let periods = periods::list(&wh)?;
    let cols = periods::schema(&wh)?;
    let mut lake = Lake::open_or_create(url, &cols).await?;
    lake.files = (cfg.file_size, cfg.row_group_size);
    // New columns: the periods written before lack them, and ClickHouse's own Delta reader
    // refuses files whose columns differ; so every period of the warehouse is written again,
    // each holding every column.
    let evolves = lake.evolves(&cols)?;
    if evolves {
        tracing::info!("lake: new columns; every period of the warehouse is written again");
    }
    let mut out = Vec::new();
    for p in periods.iter().filter(|p| {
        args.period.is_none_or(|want| want.to_string() == p.period)
            && args.source.as_deref().is_none_or(|s| s == p.source)
    }) {
        out.push(lake.sync_period(&wh, &cols, p, args.force, evolves).await?);
    }
    Ok(out)
}

fn print_synced(ctx: &Context, done: &[Synced]) {
    if ctx.ui.format == output::Format::Json {
        output::print_json(&json!(done));
        return;
    }
    let mut t = Table::new(vec![
        "source",
        "period",
        "status",
        "rows",
        "files",
        "table version",
    ]);
    for s in done {
        t.push(vec![
            json!(s.source),
            json!(s.period),
            json!(s.status),
            json!(s.rows),
            json!(s.files),
            json!(s.table_version),
        ]);
    }
    output::print_table(output::Format::Table, &t);
    let written = done.iter().filter(|s| s.status == "written").count();
    output::print_text(&format!(
        "{written} of {} periods written, {} current",
        done.len(),
        done.len() - written
    ));
}

async fn status(ctx: &Context, url: &str) -> miette::Result<ExitStatus> {
    let lake = Lake::open(url).await?;
    // A worker's scratch warehouse may be gone: the lake alone then.
    let local = match finops_core::focus::open_read_only(&ctx.warehouse_config()?) {
        Ok(wh) => periods::list(&wh)?,
        Err(finops_core::Error::NoFocusRows { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let mut local: BTreeMap<(String, String), WarehousePeriod> = local
        .into_iter()
        .map(|p| ((p.source.clone(), p.period.clone()), p))
        .collect();
    let remote = lake.periods().await?;
    let mut t = Table::new(vec![
        "source",
        "period",
        "state",
        "lake version",
        "lake rows",
        "lake BilledCost",
        "warehouse version",
        "warehouse rows",
        "warehouse BilledCost",
    ]);
    let mut rows = Vec::new();
    let mut behind = 0;
    for r in remote {
        let w = local.remove(&(r.source.clone(), r.period.clone()));
        let state = match &w {
            Some(w) if r.version.as_deref() == Some(w.version.as_str()) => "current",
            Some(_) => {
                behind += 1;
                "behind"
            }
            None => "lake only",
        };
        rows.push(json!({
            "source": r.source, "period": r.period, "state": state,
            "lake": { "version": r.version, "rows": r.rows, "BilledCost": r.billed, "EffectiveCost": r.effective, "ListCost": r.list, "files": r.files, "table_version": r.table_version },
            "warehouse": w.as_ref().map(|w| json!({ "version": w.version, "rows": w.rows, "BilledCost": w.billed, "EffectiveCost": w.effective, "ListCost": w.list })),
        }));
    }
    for w in local.into_values() {
        behind += 1;
        rows.push(json!({
            "source": w.source, "period": w.period, "state": "missing",
            "lake": null,
            "warehouse": { "version": w.version, "rows": w.rows, "BilledCost": w.billed, "EffectiveCost": w.effective, "ListCost": w.list },
        }));
    }
    if ctx.ui.format == output::Format::Json {
        output::print_json(&json!({
            "url": url,
            "table_version": lake.version(),
            "protocol": lake.protocol(),
            "periods": rows,
        }));
    } else {
        for r in &rows {
            t.push(vec![
                r["source"].clone(),
                r["period"].clone(),
                r["state"].clone(),
                r["lake"]["version"].clone(),
                r["lake"]["rows"].clone(),
                r["lake"]["BilledCost"].clone(),
                r["warehouse"]["version"].clone(),
                r["warehouse"]["rows"].clone(),
                r["warehouse"]["BilledCost"].clone(),
            ]);
        }
        output::print_table(output::Format::Table, &t);
        let (reader, writer) = lake.protocol();
        output::print_text(&format!(
            "{url}: table version {}, protocol reader {reader} / writer {writer}; {behind} periods to sync",
            lake.version().unwrap_or_default()
        ));
    }
    Ok(if behind == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
