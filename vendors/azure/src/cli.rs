//! The `finops azure …` commands: clap definitions and their runners.

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use finops_core::commands;
use finops_core::config::FlagValue;
use finops_core::import;
use finops_core::output::{ExitStatus, Table, print_table};
use finops_core::vendor::DeliverySource;
use finops_core::{Context, Period};
use serde_json::json;

use crate::config::AzureConfig;
use crate::error::Error;
use crate::exports::{self, Dataset, ExportSource};
use crate::store::Store;

/// Azure commands.
#[derive(Debug, Subcommand)]
pub enum AzureCommand {
    /// Import Cost Management exports (FocusCost, ActualCost, AmortizedCost) into the warehouse.
    ///
    /// Every manifest.json under the container/prefix is one export run; the newest run of
    /// each month is that month's version (its runId). Without --export, every export found
    /// is imported, each into its own raw table (azure.focus_*, azure.actual_*,
    /// azure.amortized_*) and its own x_source in FOCUS. A month whose run is already loaded
    /// is skipped; a newer run replaces the month in one transaction. When an ActualCost and
    /// an AmortizedCost export cover the same scope, FOCUS takes every amortized row and only
    /// the commitment purchases and refunds from the actual export.
    #[command(alias = "import")]
    ImportExports(ImportArgs),
    /// List every export under the container/prefix: its dataset, each month delivered, and
    /// whether that run is loaded.
    ListExports(ListArgs),
    /// Show what is loaded: the current version of each month, and recent load attempts.
    ShowState(ShowStateArgs),
}

/// Where the exports live.
#[derive(Debug, Args)]
#[command(next_help_heading = "Location")]
pub struct LocationArgs {
    /// Storage account [config: azure.account]
    #[arg(long, value_name = "NAME")]
    account: Option<String>,
    /// Blob container the exports are written to [config: azure.container]
    #[arg(long, value_name = "NAME")]
    container: Option<String>,
    /// Folder inside the container (the exports' root folder path) [config: azure.prefix]
    #[arg(long, value_name = "PATH")]
    prefix: Option<String>,
    /// Only this export; default: every export found [config: azure.export]
    #[arg(long, value_name = "NAME")]
    export: Option<String>,
    /// Local copy of the container/prefix instead of Blob Storage [config: azure.path]
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// Blob endpoint URL (azurite: http://127.0.0.1:10000/devstoreaccount1) [config: azure.endpoint]
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Files downloaded at once [config: azure.concurrency; default 4]
    #[arg(long, value_name = "N")]
    concurrency: Option<u16>,
}

impl LocationArgs {
    fn flags(&self) -> Vec<(&'static str, FlagValue)> {
        let mut f = Vec::new();
        let mut s = |k, v: &Option<String>| {
            if let Some(v) = v {
                f.push((k, FlagValue::Str(v.clone())));
            }
        };
        s("azure.account", &self.account);
        s("azure.container", &self.container);
        s("azure.prefix", &self.prefix);
        s("azure.export", &self.export);
        s(
            "azure.path",
            &self.path.as_ref().map(|p| p.display().to_string()),
        );
        s("azure.endpoint", &self.endpoint);
        if let Some(c) = self.concurrency {
            f.push(("azure.concurrency", FlagValue::Int(i64::from(c))));
        }
        f
    }
}

/// Which months.
#[derive(Debug, Args)]
#[command(next_help_heading = "Periods")]
pub struct PeriodArgs {
    /// First month to consider, YYYY-MM
    #[arg(long, value_name = "YYYY-MM")]
    pub start: Option<Period>,
    /// Last month to consider (inclusive), YYYY-MM
    #[arg(long, value_name = "YYYY-MM")]
    pub end: Option<Period>,
}

/// `finops azure import-exports`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    location: LocationArgs,
    #[command(flatten)]
    periods: PeriodArgs,
    /// Reload months even when the same run is already loaded
    #[arg(long)]
    force: bool,
    /// Print what would be loaded and change nothing
    #[arg(long)]
    dry_run: bool,
}

/// `finops azure list-exports`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    location: LocationArgs,
    #[command(flatten)]
    periods: PeriodArgs,
}

/// `finops azure show-state`.
#[derive(Debug, Args)]
pub struct ShowStateArgs {
    /// Only this export [config: azure.export]
    #[arg(long, value_name = "NAME")]
    export: Option<String>,
    /// How many recent load attempts to show
    #[arg(long, value_name = "N", default_value_t = 20)]
    history: u32,
}

/// Runs an Azure command.
pub async fn run(cmd: AzureCommand, ctx: &mut Context) -> miette::Result<ExitStatus> {
    match cmd {
        AzureCommand::ImportExports(args) => import_exports(args, ctx).await,
        AzureCommand::ListExports(args) => list_exports(args, ctx).await,
        AzureCommand::ShowState(args) => show_state(&args, ctx),
    }
}

fn azure_config(ctx: &mut Context, location: &LocationArgs) -> finops_core::Result<AzureConfig> {
    ctx.settings.apply_flags(location.flags());
    ctx.settings.section("azure")
}

/// The exports to work on: the one named by `azure.export`, or every one found. An
/// ActualCost export is paired with an AmortizedCost export of the same scope.
async fn resolve(cfg: &AzureConfig) -> miette::Result<Vec<ExportSource>> {
    let store = Store::from_config(cfg)?;
    let (found, listing) = exports::discover(&store).await?;
    if found.is_empty() {
        let mut top: Vec<String> = listing
            .keys()
            .filter_map(|k| k.split('/').next())
            .map(str::to_owned)
            .collect();
        top.dedup();
        return Err(Error::NoExports {
            location: store.describe(""),
            found: top,
        }
        .into());
    }
    let amortized_scopes: Vec<Option<String>> = found
        .iter()
        .filter(|f| f.dataset == Ok(Dataset::Amortized))
        .map(|f| f.scope.clone())
        .collect();
    let names: Vec<String> = found.iter().map(|f| f.name.clone()).collect();
    if let Some(want) = &cfg.export {
        finops_core::naming::validate_export_name(want)?;
        if !names.contains(want) {
            return Err(Error::UnknownExport {
                export: want.clone(),
                location: store.describe(""),
                found: names,
            }
            .into());
        }
    }
    let listing = Arc::new(listing);
    let concurrency = usize::from(cfg.concurrency.max(1));
    let mut sources = Vec::new();
    for f in found {
        if cfg.export.as_ref().is_some_and(|w| *w != f.name) {
            continue;
        }
        match f.dataset.clone() {
            Ok(dataset) => {
                let paired = dataset == Dataset::Actual
                    && f.scope.is_some()
                    && amortized_scopes.contains(&f.scope);
                sources.push(ExportSource::new(
                    store.clone(),
                    f,
                    dataset,
                    paired,
                    Arc::clone(&listing),
                    concurrency,
                )?);
            }
            Err(reason) if cfg.export.is_some() => {
                return Err(Error::UnsupportedDataset {
                    export: f.name,
                    dataset: reason,
                }
                .into());
            }
            Err(reason) => tracing::warn!("skipping export {}: {reason}", f.name),
        }
    }
    Ok(sources)
}

async fn import_exports(args: ImportArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    let cfg = azure_config(ctx, &args.location)?;
    let single = cfg.export.is_some();
    let sources = resolve(&cfg).await?;
    let wh = ctx.open_warehouse()?;
    let opts = ctx.import_options(
        args.force,
        args.dry_run,
        args.periods.start,
        args.periods.end,
    )?;
    let mut reports = Vec::new();
    for source in &sources {
        if source.purchases_only() {
            tracing::info!(
                "{}: an AmortizedCost export covers the same scope; FOCUS takes only its commitment purchases and refunds",
                source.key().export
            );
        }
        reports.push(import::run(&wh, source, &opts, &ctx.ui).await?);
    }
    Ok(commands::finish_imports(
        ctx,
        &reports,
        single,
        args.dry_run,
    ))
}

async fn list_exports(args: ListArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    finops_core::period::check_range(args.periods.start, args.periods.end)?;
    let cfg = azure_config(ctx, &args.location)?;
    let sources = resolve(&cfg).await?;
    let state = commands::LoadedVersions::open(ctx)?;
    let mut t = Table::new(vec![
        "export", "dataset", "period", "version", "files", "bytes", "loaded",
    ]);
    for source in &sources {
        let current = state.of(source.key())?;
        for d in source.list().await?.into_iter().filter(|d| {
            args.periods.start.is_none_or(|s| d.period >= s)
                && args.periods.end.is_none_or(|e| d.period <= e)
        }) {
            let loaded = commands::loaded_label(
                &current,
                d.period,
                &d.version_id,
                d.detail.manifest.is_ok(),
            );
            t.push(vec![
                json!(source.key().export),
                json!(source.dataset().as_str()),
                json!(d.period.to_string()),
                json!(d.version_id),
                json!(d.files.len()),
                json!(d.bytes()),
                json!(loaded),
            ]);
        }
    }
    print_table(ctx.ui.format, &t);
    Ok(ExitStatus::Success)
}

fn show_state(args: &ShowStateArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    if let Some(e) = &args.export {
        ctx.settings
            .apply_flags([("azure.export", FlagValue::Str(e.clone()))]);
    }
    let cfg: AzureConfig = ctx.settings.section("azure")?;
    Ok(commands::show_state(
        ctx,
        "azure",
        "export",
        cfg.export.as_deref(),
        args.history,
    )?)
}
