//! The `finops aws …` commands: clap definitions and their runners.

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Subcommand};
use finops_core::config::FlagValue;
use finops_core::import::{self, ImportOptions, ImportReport, Outcome};
use finops_core::output::{ExitStatus, Format, Table, print_json, print_table};
use finops_core::state;
use finops_core::vendor::DeliverySource;
use finops_core::{Context, Period, Warehouse};
use serde_json::{Value, json};

use crate::config::AwsConfig;
use crate::cur::CurSource;

/// AWS commands.
#[derive(Debug, Subcommand)]
pub enum AwsCommand {
    /// Import legacy Cost and Usage Reports (CUR v1, csv.gz or Parquet) into the warehouse.
    ///
    /// Loads every billing period AWS has delivered; a period whose manifest assemblyId is
    /// already loaded is skipped, a re-issued one replaces the old rows in one transaction.
    #[command(
        after_help = "Examples:\n  finops aws import-cur --bucket my-billing --prefix cur --report hourly\n  finops aws import-cur --path ./cur-copy --report hourly --start 2024-01"
    )]
    ImportCur(ImportCurArgs),
    /// List the CUR deliveries (one manifest per billing period) and whether each is loaded.
    ListManifests(ListArgs),
    /// Show what is loaded: the current version of each period, and recent load attempts.
    ShowState(ShowStateArgs),
}

/// Where the export lives.
#[derive(Debug, Args)]
#[command(next_help_heading = "Export location")]
pub struct LocationArgs {
    /// S3 bucket the report is delivered to [config: aws.bucket]
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// Path prefix of the report inside the bucket [config: aws.prefix]
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Report name [config: aws.report]
    #[arg(long, value_name = "NAME")]
    pub report: Option<String>,
    /// Local copy of s3://BUCKET/PREFIX/ instead of S3 [config: aws.path]
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Named profile from ~/.aws/config [config: aws.profile]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region of the bucket [config: aws.region]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// S3-compatible endpoint, addressed path-style [config: aws.endpoint_url]
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Files downloaded at once [config: aws.concurrency; default 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,
}

impl LocationArgs {
    fn flags(&self) -> Vec<(&'static str, FlagValue)> {
        let mut f = Vec::new();
        let mut s = |k, v: &Option<String>| {
            if let Some(v) = v {
                f.push((k, FlagValue::Str(v.clone())));
            }
        };
        s("aws.bucket", &self.bucket);
        s("aws.prefix", &self.prefix);
        s("aws.report", &self.report);
        s(
            "aws.path",
            &self.path.as_ref().map(|p| p.display().to_string()),
        );
        s("aws.profile", &self.profile);
        s("aws.region", &self.region);
        s("aws.endpoint_url", &self.endpoint_url);
        if let Some(c) = self.concurrency {
            f.push(("aws.concurrency", FlagValue::Int(i64::from(c))));
        }
        f
    }
}

/// Which periods.
#[derive(Debug, Args)]
#[command(next_help_heading = "Periods")]
pub struct PeriodArgs {
    /// First billing period to consider, YYYY-MM
    #[arg(long, value_name = "YYYY-MM")]
    pub start: Option<Period>,
    /// Last billing period to consider (inclusive), YYYY-MM
    #[arg(long, value_name = "YYYY-MM")]
    pub end: Option<Period>,
}

/// `finops aws import-cur`.
#[derive(Debug, Args)]
pub struct ImportCurArgs {
    #[command(flatten)]
    location: LocationArgs,
    #[command(flatten)]
    periods: PeriodArgs,
    /// Reload periods even when the same version is already loaded
    #[arg(long)]
    force: bool,
    /// Print what would be loaded and change nothing
    #[arg(long)]
    dry_run: bool,
}

/// `finops aws list-manifests`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    location: LocationArgs,
    #[command(flatten)]
    periods: PeriodArgs,
}

/// `finops aws show-state`.
#[derive(Debug, Args)]
pub struct ShowStateArgs {
    /// Only this report [config: aws.report]
    #[arg(long, value_name = "NAME")]
    report: Option<String>,
    /// How many recent load attempts to show
    #[arg(long, value_name = "N", default_value_t = 20)]
    history: u32,
}

/// Runs an AWS command.
pub async fn run(cmd: AwsCommand, ctx: &mut Context) -> miette::Result<ExitStatus> {
    match cmd {
        AwsCommand::ImportCur(args) => import_cur(args, ctx).await,
        AwsCommand::ListManifests(args) => list_manifests(args, ctx).await,
        AwsCommand::ShowState(args) => show_state(&args, ctx),
    }
}

fn aws_config(ctx: &mut Context, location: &LocationArgs) -> finops_core::Result<AwsConfig> {
    ctx.settings.apply_flags(location.flags());
    ctx.settings.section("aws")
}

async fn import_cur(args: ImportCurArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    let cfg = aws_config(ctx, &args.location)?;
    let source = CurSource::new(&cfg).await?;
    let wh = ctx.open_warehouse()?;
    let opts = ImportOptions {
        force: args.force,
        dry_run: args.dry_run,
        start: args.periods.start,
        end: args.periods.end,
    };
    let report = import::run(&wh, &source, &opts, &ctx.ui).await?;
    print_import(ctx.ui.format, &report, args.dry_run);
    for (period, failure) in &report.failures {
        tracing::debug!("diagnostic for {period}");
        finops_core::output::print_diagnostic(failure);
    }
    Ok(report.exit_status())
}

fn print_import(format: Format, report: &ImportReport, dry_run: bool) {
    if format == Format::Json {
        print_json(&serde_json::to_value(report).unwrap_or(Value::Null));
        return;
    }
    let mut t = Table::new(vec![
        "period", "action", "version", "files", "bytes", "rows", "cost", "result",
    ]);
    for p in &report.periods {
        let (rows, cost, result) = match &p.outcome {
            Outcome::Loaded { rows, cost, .. } => (json!(rows), json!(cost), "loaded".to_owned()),
            Outcome::Skipped => (Value::Null, Value::Null, "up to date".to_owned()),
            Outcome::Planned => (Value::Null, Value::Null, "would load".to_owned()),
            Outcome::Failed { error } => (
                Value::Null,
                Value::Null,
                format!("FAILED: {}", error.lines().next().unwrap_or_default()),
            ),
        };
        t.push(vec![
            json!(p.period.to_string()),
            serde_json::to_value(p.action).unwrap_or(Value::Null),
            json!(p.version_id),
            json!(p.files),
            json!(p.bytes),
            rows,
            cost,
            json!(result),
        ]);
    }
    print_table(format, &t);
    let loaded = report
        .periods
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Loaded { .. }))
        .count();
    let failed = report
        .periods
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Failed { .. }))
        .count();
    let verb = if dry_run { "would load" } else { "loaded" };
    let planned = report
        .periods
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Planned))
        .count();
    finops_core::output::print_text(&format!(
        "\n{}/{} into {}: {} period(s), {verb} {}, failed {failed}",
        report.export.source,
        report.export.export,
        report.table,
        report.periods.len(),
        if dry_run { planned } else { loaded },
    ));
}

async fn list_manifests(args: ListArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    let cfg = aws_config(ctx, &args.location)?;
    let source = CurSource::new(&cfg).await?;
    let mut deliveries = source.list().await?;
    deliveries.sort_by_key(|d| d.period);
    let wh_cfg = ctx.warehouse_config()?;
    let current = match Warehouse::open_read_only(&wh_cfg.path) {
        Ok(Some(wh)) if wh.table_exists(finops_core::warehouse::META_SCHEMA, "load_state")? => {
            state::current_versions(&wh, source.key())?
        }
        Ok(_) => std::collections::BTreeMap::default(),
        Err(e) => {
            tracing::warn!("cannot read the load state: {e}");
            std::collections::BTreeMap::default()
        }
    };
    let mut t = Table::new(vec!["period", "assembly_id", "files", "bytes", "loaded"]);
    for d in deliveries.iter().filter(|d| {
        args.periods.start.is_none_or(|s| d.period >= s)
            && args.periods.end.is_none_or(|e| d.period <= e)
    }) {
        let loaded = match current.get(&d.period) {
            None => "no".to_owned(),
            Some(v) if *v == d.version_id => "yes".to_owned(),
            Some(v) => format!("older version {v}"),
        };
        let loaded = if d.detail.manifest.is_err() {
            "manifest unreadable".to_owned()
        } else {
            loaded
        };
        t.push(vec![
            json!(d.period.to_string()),
            json!(d.version_id),
            json!(d.files.len()),
            json!(d.bytes()),
            json!(loaded),
        ]);
    }
    print_table(ctx.ui.format, &t);
    Ok(ExitStatus::Success)
}

fn show_state(args: &ShowStateArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    if let Some(r) = &args.report {
        ctx.settings
            .apply_flags([("aws.report", FlagValue::Str(r.clone()))]);
    }
    let cfg: AwsConfig = ctx.settings.section("aws")?;
    let report = args.report.clone().or(cfg.report);
    let wh_cfg = ctx.warehouse_config()?;
    let Some(wh) = Warehouse::open_read_only(&wh_cfg.path)? else {
        finops_core::output::print_text(&format!(
            "no warehouse at {} yet: nothing has been imported",
            wh_cfg.path.display()
        ));
        return Ok(ExitStatus::Success);
    };
    let rows = state::list_state(&wh, "aws", report.as_deref())?;
    let history = state::list_history(&wh, "aws", report.as_deref(), args.history)?;
    if ctx.ui.format == Format::Json {
        print_json(&json!({ "state": rows, "history": history }));
        return Ok(ExitStatus::Success);
    }
    let mut t = Table::new(vec![
        "report",
        "period",
        "version",
        "loaded_at",
        "files",
        "rows",
        "cost",
        "table",
    ]);
    for r in &rows {
        t.push(vec![
            json!(r.export),
            json!(r.period.to_string()),
            json!(r.version_id),
            json!(r.loaded_at),
            json!(r.files),
            json!(r.rows),
            json!(r.cost),
            json!(r.target_table),
        ]);
    }
    print_table(Format::Table, &t);
    let mut h = Table::new(vec![
        "attempted_at",
        "report",
        "period",
        "version",
        "status",
        "rows",
        "error",
    ]);
    for r in &history {
        h.push(vec![
            json!(r.attempted_at),
            json!(r.export),
            json!(r.period.to_string()),
            json!(r.version_id),
            json!(r.status),
            json!(r.rows),
            json!(r.error),
        ]);
    }
    finops_core::output::print_text("\nrecent load attempts:");
    print_table(Format::Table, &h);
    Ok(ExitStatus::Success)
}
