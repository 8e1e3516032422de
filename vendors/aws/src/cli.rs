//! The AWS vendor as core sees it ([`Aws`]): its location arguments, how its exports are
//! found and classified, and `finops aws import-ce`. `import`, `list-exports` and
//! `show-state` are core's ([`finops_core::vendor_commands`]).

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

use clap::{Args, FromArgMatches};
use finops_core::config::{FlagValue, KeySpec, Settings};
use finops_core::output::ExitStatus;
use finops_core::vendor::{BoxFuture, Export, LocalBoxFuture, Vendor, Verb};
use finops_core::{Context, Period};

use crate::config::AwsConfig;
use crate::cur::CurReport;
use crate::error::Error;
use crate::exports::{self, DataExport, ExportKind, Found};
use crate::store::Store;

/// The AWS vendor.
pub struct Aws;

/// The AWS vendor, for the CLI's registry.
pub static AWS: Aws = Aws;

const IMPORT_HELP: &str = "Import AWS billing exports (CUR v1, CUR 2.0, FOCUS) into the warehouse.

Without --report, every export under the bucket/prefix is imported, each into its own raw table (aws.cur_*, aws.cur2_*, aws.focus_*) and its own x_source in FOCUS; the kind is told from the files. Every billing period delivered is loaded: a period whose version (assemblyId, executionId) is already loaded is skipped, a re-issued one replaces the old rows in one transaction.

Examples:
  finops aws import --bucket my-billing --prefix exports
  finops aws import --bucket my-billing --prefix cur --report hourly --start 2024-01
  finops aws import --path ./billing-copy --dry-run";

impl Vendor for Aws {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn about(&self) -> &'static str {
        "AWS: Cost and Usage Reports and Data Exports from S3 or a local copy"
    }

    fn display_name(&self) -> &'static str {
        "AWS"
    }

    fn import_help(&self) -> &'static str {
        IMPORT_HELP
    }

    fn keys(&self) -> &'static [KeySpec] {
        crate::config::KEYS
    }

    fn export_key(&self) -> &'static str {
        "aws.report"
    }

    fn aliases(&self, verb: Verb) -> &'static [&'static str] {
        match verb {
            Verb::Import => &["import-cur"],
            Verb::ListExports => &["list-manifests"],
            Verb::ShowState => &[],
        }
    }

    fn check_config(&self, settings: &Settings) -> finops_core::Result<()> {
        settings.section::<AwsConfig>("aws").map(drop)
    }

    fn exports<'a>(
        &'a self,
        ctx: &'a Context,
    ) -> BoxFuture<'a, miette::Result<Vec<Box<dyn Export>>>> {
        Box::pin(async move {
            let cfg: AwsConfig = ctx.settings.section("aws")?;
            resolve(&cfg).await
        })
    }

    fn extra_commands(&self) -> Vec<clap::Command> {
        vec![ImportCeArgs::augment_args(clap::Command::new("import-ce"))
                .about("Import AWS Cost Explorer figures (GetCostAndUsage) into aws.cost_explorer")
                .long_about(
                    "Import AWS Cost Explorer figures (GetCostAndUsage) into aws.cost_explorer.\n\n\
                     One query per month of the range, every page; a re-run over the same months replaces \
                     that query's rows (the table holds every query, told apart by its name). Each request \
                     costs $0.01 on AWS's side.",
                )
                .after_help(
                    "Examples:\n  finops aws import-ce --start 2024-01 --end 2024-03 --group-by SERVICE\n  finops aws import-ce --granularity monthly --group-by LINKED_ACCOUNT --group-by TAG:Team",
                )]
    }

    fn run_extra<'a>(
        &'a self,
        name: &'a str,
        matches: &'a clap::ArgMatches,
        ctx: &'a mut Context,
    ) -> LocalBoxFuture<'a, miette::Result<ExitStatus>> {
        Box::pin(async move {
            match name {
                "import-ce" => {
                    let args = ImportCeArgs::from_arg_matches(matches)
                        .map_err(|e| miette::miette!("{e}"))?;
                    import_ce(args, ctx).await
                }
                other => Err(miette::miette!("unknown command `aws {other}`")),
            }
        })
    }
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

/// The export named by `aws.report` (its kind detected), or every export found.
async fn resolve(cfg: &AwsConfig) -> miette::Result<Vec<Box<dyn Export>>> {
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
                    return Err(crate::error::no_manifests(
                        name.clone(),
                        store.describe(name),
                        store.list_dirs("").await.unwrap_or_default(),
                    )
                    .into());
                }
            }
        }
        None => exports::discover(&store).await?,
    };
    if found.is_empty() {
        return Err(crate::error::no_exports(
            store.describe("").trim_end_matches('/').to_owned() + "/",
            store.list_dirs("").await.unwrap_or_default(),
        )
        .into());
    }
    let mut exports: Vec<Box<dyn Export>> = Vec::new();
    for f in found {
        match f.kind {
            Ok(ExportKind::Cur1) => exports.push(Box::new(CurReport::new(
                store.clone(),
                f.name,
                concurrency,
            )?)),
            Ok(kind) => exports.push(Box::new(DataExport::new(
                store.clone(),
                f.name,
                kind,
                concurrency,
            )?)),
            Err(reason) if cfg.report.is_some() => {
                return Err(Error::UnknownKind {
                    export: f.name,
                    reason,
                }
                .into());
            }
            Err(reason) => tracing::warn!("skipping {}: {reason}", f.name),
        }
    }
    Ok(exports)
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
    let source = crate::ce::CostExplorerQuery::new(&cfg, name, query, months).await?;
    let wh = ctx.open_warehouse()?;
    let opts = ctx.import_options(true, args.dry_run, None, None)?;
    let report = finops_core::import::run(&wh, &source, &opts, &ctx.ui).await?;
    Ok(finops_core::vendor_commands::finish_imports(
        ctx,
        &[report],
        true,
        args.dry_run,
    ))
}
