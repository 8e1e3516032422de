//! The `finops aws …` commands: clap definitions and their runners.

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Subcommand};
use finops_core::commands;
use finops_core::config::FlagValue;
use finops_core::import;
use finops_core::output::{ExitStatus, Table, print_table};
use finops_core::vendor::DeliverySource;
use finops_core::{Context, Period};
use serde_json::json;

use crate::config::AwsConfig;
use crate::cur::CurSource;
use crate::error::Error;
use crate::exports::{self, DataExportSource, ExportKind, Found};
use crate::store::Store;

/// AWS commands.
#[derive(Debug, Subcommand)]
pub enum AwsCommand {
    /// Import AWS billing exports (CUR v1, CUR 2.0, FOCUS) into the warehouse.
    ///
    /// Without --report, every export under the bucket/prefix is imported, each into its own
    /// raw table (aws.cur_*, aws.cur2_*, aws.focus_*) and its own x_source in FOCUS; the kind
    /// is told from the files. Every billing period delivered is loaded: a period whose
    /// version (assemblyId, executionId) is already loaded is skipped, a re-issued one
    /// replaces the old rows in one transaction.
    #[command(
        alias = "import",
        after_help = "Examples:\n  finops aws import-cur --bucket my-billing --prefix exports\n  finops aws import-cur --bucket my-billing --prefix cur --report hourly --start 2024-01\n  finops aws import-cur --path ./billing-copy --dry-run"
    )]
    ImportCur(ImportCurArgs),
    /// List every export under the bucket/prefix: its kind, each billing period delivered,
    /// and whether that version is loaded.
    #[command(alias = "list-manifests")]
    ListExports(ListArgs),
    /// Import AWS Cost Explorer figures (GetCostAndUsage) into aws.cost_explorer.
    ///
    /// One query per month of the range, every page; a re-run over the same months replaces
    /// that query's rows (the table holds every query, told apart by its name). Each request
    /// costs $0.01 on AWS's side.
    #[command(
        after_help = "Examples:\n  finops aws import-ce --start 2024-01 --end 2024-03 --group-by SERVICE\n  finops aws import-ce --granularity monthly --group-by LINKED_ACCOUNT --group-by TAG:Team"
    )]
    ImportCe(ImportCeArgs),
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
    /// Only this export (report) name; default: every export found [config: aws.report]
    #[arg(long, visible_alias = "export", value_name = "NAME")]
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

/// `finops aws import-ce`.
#[derive(Debug, Args)]
pub struct ImportCeArgs {
    /// First month, YYYY-MM [default: two months before this one]
    #[arg(long, value_name = "YYYY-MM")]
    start: Option<Period>,
    /// Last month (inclusive), YYYY-MM [default: this month]
    #[arg(long, value_name = "YYYY-MM")]
    end: Option<Period>,
    /// Time granularity of the figures
    #[arg(long, value_enum, default_value = "daily")]
    granularity: CeGranularity,
    /// Group by a dimension or tag: SERVICE, DIMENSION:LINKED_ACCOUNT, TAG:Team,
    /// COST_CATEGORY:Name (at most twice)
    #[arg(long, value_name = "TYPE:KEY", value_parser = crate::ce::parse_group_by)]
    group_by: Vec<(aws_sdk_costexplorer::types::GroupDefinitionType, String)>,
    /// Metrics to fetch
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "UnblendedCost,AmortizedCost,UsageQuantity"
    )]
    metrics: Vec<String>,
    /// Name of the query in aws.cost_explorer [default: from granularity and groups]
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Named profile from ~/.aws/config [config: aws.profile]
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Cost Explorer endpoint (for testing) [config: aws.endpoint_url]
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Print the months that would be fetched and change nothing
    #[arg(long)]
    dry_run: bool,
}

/// Cost Explorer granularity.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum CeGranularity {
    Daily,
    Monthly,
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
        AwsCommand::ListExports(args) => list_exports(args, ctx).await,
        AwsCommand::ImportCe(args) => import_ce(args, ctx).await,
        AwsCommand::ShowState(args) => show_state(&args, ctx),
    }
}

fn aws_config(ctx: &mut Context, location: &LocationArgs) -> finops_core::Result<AwsConfig> {
    ctx.settings.apply_flags(location.flags());
    ctx.settings.section("aws")
}

async fn import_cur(args: ImportCurArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    let cfg = aws_config(ctx, &args.location)?;
    let single = cfg.report.is_some();
    let sources = Source::resolve(&cfg).await?;
    let wh = ctx.open_warehouse()?;
    let opts = ctx.import_options(
        args.force,
        args.dry_run,
        args.periods.start,
        args.periods.end,
    )?;
    let mut reports = Vec::new();
    for source in &sources {
        reports.push(match source {
            Source::Cur(s) => import::run(&wh, s, &opts, &ctx.ui).await?,
            Source::Data(s) => import::run(&wh, s, &opts, &ctx.ui).await?,
        });
    }
    Ok(commands::finish_imports(
        ctx,
        &reports,
        single,
        args.dry_run,
    ))
}

/// One AWS export, whatever its kind.
enum Source {
    Cur(CurSource),
    Data(DataExportSource),
}

impl Source {
    /// The export named by `aws.report` (its kind detected), or every export found.
    async fn resolve(cfg: &AwsConfig) -> miette::Result<Vec<Self>> {
        let store = Store::from_config(cfg).await?;
        let concurrency = usize::from(cfg.concurrency.max(1));
        let found = match &cfg.report {
            Some(name) => {
                finops_core::naming::validate_export_name(name)?;
                match exports::detect(&store, name).await? {
                    Some(kind) => vec![Found {
                        name: name.clone(),
                        kind,
                    }],
                    None => {
                        return Err(Error::NoManifests {
                            report: name.clone(),
                            location: store.describe(name),
                            found: store.list_dirs("").await.unwrap_or_default(),
                        }
                        .into());
                    }
                }
            }
            None => exports::discover(&store).await?,
        };
        if found.is_empty() {
            return Err(Error::NoExports {
                location: store.describe("").trim_end_matches('/').to_owned() + "/",
                found: store.list_dirs("").await.unwrap_or_default(),
            }
            .into());
        }
        let mut sources = Vec::new();
        for f in found {
            match f.kind {
                Ok(ExportKind::Cur1) => sources.push(Self::Cur(CurSource::new(
                    store.clone(),
                    f.name,
                    concurrency,
                )?)),
                Ok(kind) => sources.push(Self::Data(DataExportSource::new(
                    store.clone(),
                    f.name,
                    kind,
                    concurrency,
                )?)),
                Err(reason) if cfg.report.is_some() => {
                    return Err(Error::UnknownExport {
                        export: f.name,
                        reason,
                    }
                    .into());
                }
                Err(reason) => tracing::warn!("skipping {}: {reason}", f.name),
            }
        }
        Ok(sources)
    }

    fn kind(&self) -> ExportKind {
        match self {
            Self::Cur(_) => ExportKind::Cur1,
            Self::Data(s) => s.kind(),
        }
    }

    fn key(&self) -> &finops_core::state::ExportKey {
        match self {
            Self::Cur(s) => s.key(),
            Self::Data(s) => s.key(),
        }
    }

    /// Each delivery: period, version, file count, bytes, whether its manifest is readable.
    async fn deliveries(&self) -> miette::Result<Vec<(Period, String, usize, u64, bool)>> {
        fn rows<D>(
            list: &[finops_core::vendor::Delivery<D>],
            readable: impl Fn(&D) -> bool,
        ) -> Vec<(Period, String, usize, u64, bool)> {
            list.iter()
                .map(|d| {
                    (
                        d.period,
                        d.version_id.clone(),
                        d.files.len(),
                        d.bytes(),
                        readable(&d.detail),
                    )
                })
                .collect()
        }
        Ok(match self {
            Self::Cur(s) => rows(&s.list().await?, |d| d.manifest.is_ok()),
            Self::Data(s) => rows(&s.list().await?, |d| d.manifest.is_ok()),
        })
    }
}

async fn import_ce(args: ImportCeArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    use aws_sdk_costexplorer::types::Granularity;
    let mut flags = Vec::new();
    if let Some(p) = &args.profile {
        flags.push(("aws.profile", FlagValue::Str(p.clone())));
    }
    if let Some(e) = &args.endpoint_url {
        flags.push(("aws.endpoint_url", FlagValue::Str(e.clone())));
    }
    ctx.settings.apply_flags(flags);
    let cfg: AwsConfig = ctx.settings.section("aws")?;
    if args.group_by.len() > 2 {
        return Err(finops_core::Error::InvalidArguments {
            message: format!("{} --group-by values given", args.group_by.len()),
            help: "Cost Explorer groups by at most two dimensions or tags; pass --group-by at most twice".into(),
        }
        .into());
    }
    let end = args.end.unwrap_or_else(Period::current);
    let start = args.start.unwrap_or_else(|| end.prev().prev());
    if start > end {
        return Err(finops_core::Error::InvalidArguments {
            message: format!("--start {start} is after --end {end}"),
            help: "give the first month with --start and the last with --end".into(),
        }
        .into());
    }
    let mut months = vec![start];
    while *months.last().expect("non-empty") < end {
        months.push(months.last().expect("non-empty").next());
    }
    let query = crate::ce::Query {
        granularity: match args.granularity {
            CeGranularity::Daily => Granularity::Daily,
            CeGranularity::Monthly => Granularity::Monthly,
        },
        group_by: args.group_by,
        metrics: args.metrics,
    };
    let name = args.name.unwrap_or_else(|| query.default_name());
    let source = crate::ce::CostExplorerSource::new(&cfg, name, query, months).await?;
    let wh = ctx.open_warehouse()?;
    let opts = ctx.import_options(true, args.dry_run, None, None)?;
    let report = import::run(&wh, &source, &opts, &ctx.ui).await?;
    Ok(commands::finish_imports(ctx, &[report], true, args.dry_run))
}

async fn list_exports(args: ListArgs, ctx: &mut Context) -> miette::Result<ExitStatus> {
    finops_core::period::check_range(args.periods.start, args.periods.end)?;
    let cfg = aws_config(ctx, &args.location)?;
    let sources = Source::resolve(&cfg).await?;
    let state = commands::LoadedVersions::open(ctx)?;
    let mut t = Table::new(vec![
        "export", "kind", "period", "version", "files", "bytes", "loaded",
    ]);
    for source in &sources {
        let current = state.of(source.key())?;
        let mut deliveries = source.deliveries().await?;
        deliveries.sort_by_key(|d| d.0);
        for (period, version, files, bytes, readable) in deliveries.into_iter().filter(|d| {
            args.periods.start.is_none_or(|s| d.0 >= s) && args.periods.end.is_none_or(|e| d.0 <= e)
        }) {
            let loaded = commands::loaded_label(&current, period, &version, readable);
            t.push(vec![
                json!(source.key().export),
                json!(source.kind().as_str()),
                json!(period.to_string()),
                json!(version),
                json!(files),
                json!(bytes),
                json!(loaded),
            ]);
        }
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
    Ok(commands::show_state(
        ctx,
        "aws",
        "report",
        report.as_deref(),
        args.history,
    )?)
}
