//! Reports over `focus.cost_and_usage`, so they serve every vendor: costs by dimension and
//! period (`finops report costs`), daily anomalies (`finops report anomalies`) and budgets
//! (`finops budgets check`).
//!
//! DuckDB does what it is best at, scanning and aggregating the FOCUS table with exact
//! decimals; the small aggregated result comes out as Arrow into polars, which does the
//! reshaping and the window work: top-N with an "(other)" row, period-over-period changes,
//! pivots, rolling medians. Money is a polars `Decimal` from end to end and is printed with
//! every digit the FOCUS table holds.

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

pub mod allocate;
mod anomalies;
mod budgets;
mod commitments;
mod costs;
pub mod error;
mod frame;
mod html;
pub mod rules;
mod tags;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use finops_core::focus;
use finops_core::naming::quote_literal;
use finops_core::notifications;
use finops_core::output::ExitStatus;
use finops_core::{Context, Period, Warehouse};

pub use error::Error;

pub use budgets::BudgetConfig;

/// `finops report …`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Cost by service, account, region, charge category or tag, per month or day, with the
    /// change from the previous period (--format table, json, csv or html)
    Costs(CostsArgs),
    /// Daily costs far from their own recent history (rolling median and MAD)
    Anomalies(AnomaliesArgs),
    /// Tag coverage: per tag key, the share of cost that carries it, the keys [tags] merged,
    /// and the largest resources without it (exit 1 below --min-coverage)
    Tags(tags::TagsArgs),
    /// Commitments (reservations, savings plans, CUDs) per period: utilisation, unused cost,
    /// coverage of eligible usage and savings against list prices
    Commitments(commitments::CommitmentsArgs),
}

/// `finops budgets …`.
#[derive(Debug, Subcommand)]
pub enum BudgetsCommand {
    /// Actual and forecast cost of the month against every [[budgets]] entry of finops.toml
    Check(BudgetsArgs),
}

/// A grouping of cost rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// `ServiceName`.
    Service,
    /// `SubAccountId` (with its name).
    Account,
    /// `RegionId`.
    Region,
    /// `ChargeCategory`.
    ChargeCategory,
    /// `ProviderName`.
    Provider,
    /// One key of `Tags`.
    Tag(String),
    /// A `[[dimensions]]` entry (virtual tag).
    Virtual(String),
    /// A tag or virtual tag made SQL by the rules ([`resolve`]).
    Resolved {
        /// `tag:team`, `dim:team`.
        label: String,
        /// Its value for a FOCUS row.
        sql: String,
    },
}

impl std::str::FromStr for Dimension {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "service" => Self::Service,
            "account" => Self::Account,
            "region" => Self::Region,
            "charge-category" => Self::ChargeCategory,
            "provider" => Self::Provider,
            _ => match (s.strip_prefix("tag:"), s.strip_prefix("dim:")) {
                (Some(key), _) if !key.is_empty() => Self::Tag(key.to_owned()),
                (_, Some(name)) if !name.is_empty() => Self::Virtual(name.to_owned()),
                _ => {
                    return Err(format!(
                        "`{s}` is not a dimension: service, account, region, charge-category, \
                         provider, tag:KEY or dim:NAME (a [[dimensions]] entry)"
                    ));
                }
            },
        })
    }
}

impl Dimension {
    /// The column name in every output.
    pub fn label(&self) -> String {
        match self {
            Self::Service => "service".into(),
            Self::Account => "account".into(),
            Self::Region => "region".into(),
            Self::ChargeCategory => "charge_category".into(),
            Self::Provider => "provider".into(),
            Self::Tag(k) => format!("tag:{k}"),
            Self::Virtual(n) => format!("dim:{n}"),
            Self::Resolved { label, .. } => label.clone(),
        }
    }

    /// The SQL expression over `focus.cost_and_usage`; user input only as a quoted literal.
    fn sql(&self) -> String {
        let expr = match self {
            Self::Service => r#""ServiceName""#.to_owned(),
            Self::Account => r#""SubAccountId""#.to_owned(),
            Self::Region => r#""RegionId""#.to_owned(),
            Self::ChargeCategory => r#""ChargeCategory""#.to_owned(),
            Self::Provider => r#""ProviderName""#.to_owned(),
            Self::Tag(key) => tag_value(key),
            // Unresolved only where no rules are read; `resolve` names the missing entry.
            Self::Virtual(_) => "NULL".to_owned(),
            Self::Resolved { sql, .. } => sql.clone(),
        };
        format!("coalesce(CAST({expr} AS VARCHAR), '{NONE}')")
    }
}

/// The tag keys `tag:KEY` matches: the key itself and, for a key without a prefix, AWS's
/// spellings of a user-defined tag (`user:team` in CUR v1 and FOCUS exports, `user_team` in
/// CUR 2.0), so that `tag:team` reads the same tag from every cloud.
fn tag_keys(key: &str) -> Vec<String> {
    let mut keys = vec![key.to_owned()];
    if !key.contains(':') {
        keys.push(format!("user:{key}"));
        keys.push(format!("user_{key}"));
    }
    keys
}

/// The value of tag `key` (any of [`tag_keys`]) in `Tags`.
fn tag_value(key: &str) -> String {
    tag_lookup(&tag_keys(key))
}

/// The first of `spellings` that a row's `Tags` has, through a JSON pointer: exact for any
/// key, whatever characters it has; user input only as quoted literals.
pub(crate) fn tag_lookup(spellings: &[String]) -> String {
    let lookups: Vec<String> = spellings
        .iter()
        .map(|k| {
            let pointer = format!("/{}", k.replace('~', "~0").replace('/', "~1"));
            format!(
                r#"json_extract_string("Tags", {})"#,
                quote_literal(&pointer)
            )
        })
        .collect();
    format!("coalesce({})", lookups.join(", "))
}

/// Warns, naming the tag keys that exist, when no FOCUS row has a tag a report groups by:
/// every row would read `(none)`, which looks like an answer.
pub(crate) fn warn_unknown_tags(wh: &Warehouse, by: &[Dimension]) -> miette::Result<()> {
    let focus = wh.qualified(&finops_core::focus::table());
    for d in by {
        let Dimension::Tag(key) = d else { continue };
        let found: i64 = wh
            .conn()
            .query_row(
                &format!(
                    "SELECT count(*) FROM (SELECT 1 FROM {focus} WHERE {} IS NOT NULL LIMIT 1)",
                    tag_value(key)
                ),
                [],
                |r| r.get(0),
            )
            .map_err(Error::query("reading the tags"))?;
        if found > 0 {
            continue;
        }
        let keys: Vec<String> = crate::frame::rows(
            wh,
            &format!(
                "SELECT k FROM (SELECT unnest(json_keys(\"Tags\")) AS k FROM {focus} WHERE \"Tags\" IS NOT NULL) \
                 GROUP BY k ORDER BY count(*) DESC, k LIMIT 12"
            ),
            [],
            "reading the tags",
            |r| r.get(0),
        )?;
        let tried = tag_keys(key)
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if keys.is_empty() {
            tracing::warn!("no FOCUS row has tag `{key}` (looked for {tried}): no row has any tag");
        } else {
            tracing::warn!(
                "no FOCUS row has tag `{key}` (looked for {tried}); the most used tag keys are: {}",
                keys.join(", ")
            );
        }
    }
    Ok(())
}

/// The SQL of a grouping: columns `d0, d1…` for the dimensions, then `currency`.
pub(crate) struct Grouping {
    /// `d0`, `d1`…
    pub dims: Vec<String>,
    /// `<expr> AS d0, <expr> AS d1, ` (to put before the currency in a SELECT).
    pub select: String,
}

impl Grouping {
    pub(crate) fn new(by: &[Dimension]) -> Self {
        let dims: Vec<String> = (0..by.len()).map(|i| format!("d{i}")).collect();
        let select = by
            .iter()
            .zip(&dims)
            .map(|(d, name)| format!("{} AS {name}", d.sql()))
            .chain([String::new()])
            .collect::<Vec<_>>()
            .join(", ");
        Self { dims, select }
    }

    /// `d0, d1, currency`, each prefixed by `table.` when given.
    pub(crate) fn keys(&self, table: Option<&str>) -> String {
        let prefix = table.map(|t| format!("{t}.")).unwrap_or_default();
        self.dims
            .iter()
            .map(String::as_str)
            .chain(["currency"])
            .map(|k| format!("{prefix}{k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The value shown for a row without the dimension (no tag, no region).
pub const NONE: &str = "(none)";
/// The row that gathers everything below `--top`.
pub const OTHER: &str = "(other)";

/// Which FOCUS cost column to sum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostColumn {
    /// EffectiveCost: amortized, after discounts (the default)
    #[default]
    Effective,
    /// BilledCost: what the invoice says
    Billed,
    /// ListCost: at public prices
    List,
    /// ContractedCost: at negotiated prices
    Contracted,
}

impl CostColumn {
    fn column(self) -> &'static str {
        match self {
            Self::Effective => "EffectiveCost",
            Self::Billed => "BilledCost",
            Self::List => "ListCost",
            Self::Contracted => "ContractedCost",
        }
    }
}

/// Months `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodRange {
    first: Period,
    last: Period,
}

impl std::str::FromStr for PeriodRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once("..").unwrap_or((s, s));
        let first: Period = a.parse()?;
        let last: Period = b.parse()?;
        if last < first {
            return Err(format!("{last} is before {first}"));
        }
        Ok(Self { first, last })
    }
}

impl PeriodRange {
    /// `[start, end)` as SQL timestamps.
    fn bounds(self) -> (String, String) {
        (self.first.first_day(), self.last.next().first_day())
    }
}

/// Time buckets of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Granularity {
    /// Calendar months
    #[default]
    Month,
    /// Days
    Day,
}

/// `finops report costs`.
#[derive(Debug, Args)]
pub struct CostsArgs {
    /// Group by: service, account, region, charge-category, provider or tag:KEY (repeatable;
    /// default service)
    #[arg(long = "by", value_name = "DIMENSION")]
    pub by: Vec<Dimension>,
    /// Months to report, YYYY-MM or YYYY-MM..YYYY-MM (default: every month with data)
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    pub period: Option<PeriodRange>,
    /// Time buckets
    #[arg(long, value_enum, default_value_t)]
    pub granularity: Granularity,
    /// Keep the N largest groups of each currency; the rest is summed into "(other)"
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// The FOCUS cost column to sum
    #[arg(long, value_enum, default_value_t)]
    pub cost: CostColumn,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Costs after the [[allocations]] of finops.toml (focus.allocated_cost, made by
    /// `finops allocate`): shared costs appear under the values they were split to
    #[arg(long)]
    pub allocated: bool,
}

/// `finops report anomalies`.
#[derive(Debug, Args)]
pub struct AnomaliesArgs {
    /// Series to watch: service, account, region, charge-category, provider or tag:KEY
    /// (repeatable; default service and account)
    #[arg(long = "by", value_name = "DIMENSION")]
    pub by: Vec<Dimension>,
    /// Days of history each day is compared with
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub window: usize,
    /// How many scaled MADs from the median a day must be to be an anomaly
    #[arg(long, value_name = "K", default_value_t = 3.5)]
    pub threshold: f64,
    /// Ignore changes smaller than this amount (in the billing currency)
    #[arg(long, value_name = "AMOUNT", default_value_t = 1.0)]
    pub min_change: f64,
    /// Report anomalies of the last N days of data
    #[arg(long, value_name = "N", default_value_t = 7, conflicts_with = "period")]
    pub days: usize,
    /// Report anomalies in these months instead, YYYY-MM or YYYY-MM..YYYY-MM
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    pub period: Option<PeriodRange>,
    /// The FOCUS cost column
    #[arg(long, value_enum, default_value_t)]
    pub cost: CostColumn,
    /// Write the list to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also watch purchases, fees, taxes, credits and adjustments (by default only
    /// ChargeCategory Usage: a monthly fee or a yearly purchase would be an anomaly every time)
    #[arg(long)]
    pub all_charges: bool,
    /// Send anomaly.detected for every anomaly found, also those hooks were told before
    #[arg(long)]
    pub renotify: bool,
}

/// `finops budgets check`.
#[derive(Debug, Args)]
pub struct BudgetsArgs {
    /// The month to check, YYYY-MM (default: the newest month with data)
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<Period>,
    /// Send budget.threshold_exceeded for every threshold reached, also those hooks were told
    /// before
    #[arg(long)]
    pub renotify: bool,
}

/// Runs `finops report …`; `file_format` is `--format csv|html`.
pub fn run_report(
    cmd: ReportCommand,
    ctx: &Context,
    file_format: Option<&str>,
) -> miette::Result<ExitStatus> {
    let rules = rules::Rules::load(&ctx.settings)?;
    let wh = open_focus(ctx)?;
    match cmd {
        ReportCommand::Costs(mut args) => {
            args.by = resolve(&wh, &rules, &args.by, args.allocated)?;
            costs::run(&wh, ctx, &args, &rules, file_format)
        }
        ReportCommand::Tags(args) => tags::run(&wh, ctx, &args, &rules, file_format),
        ReportCommand::Commitments(args) => commitments::run(&wh, ctx, &args, file_format),
        ReportCommand::Anomalies(mut args) => {
            args.by = resolve(&wh, &rules, &args.by, false)?;
            let pending = anomalies::run(&wh, ctx, &args, file_format)?;
            // The read-only connection goes before the notification record is written.
            drop(wh);
            notifications::send(ctx, pending.into_iter().collect())?;
            Ok(ExitStatus::Success)
        }
    }
}

/// Runs `finops budgets …`.
pub fn run_budgets(cmd: BudgetsCommand, ctx: &Context) -> miette::Result<ExitStatus> {
    let BudgetsCommand::Check(args) = cmd;
    let configs: Vec<BudgetConfig> = ctx.settings.list("budgets")?;
    if configs.is_empty() {
        return Err(Error::NoBudgets.into());
    }
    let wh = open_focus(ctx)?;
    let pending = budgets::run(&wh, ctx, &configs, &args)?;
    drop(wh);
    notifications::send(ctx, pending)?;
    Ok(ExitStatus::Success)
}

/// Tags through `[tags]`, `dim:NAME` through `[[dimensions]]`: the dimensions as SQL.
/// `allocated`: over `focus.allocated_cost`, whose columns hold the dimensions.
fn resolve(
    wh: &Warehouse,
    rules: &rules::Rules,
    by: &[Dimension],
    allocated: bool,
) -> miette::Result<Vec<Dimension>> {
    let needs_tags = rules.tags.is_some()
        && by
            .iter()
            .any(|d| matches!(d, Dimension::Tag(_) | Dimension::Virtual(_)));
    let tags = if needs_tags {
        rules::TagIndex::load(wh, rules.tags.as_ref())?
    } else {
        rules::TagIndex::default()
    };
    by.iter()
        .map(|d| match d {
            Dimension::Tag(key) if tags.normalises() => Ok(Dimension::Resolved {
                label: d.label(),
                sql: tags.value_sql(key),
            }),
            Dimension::Virtual(name) => {
                let Some(dim) = rules.dimension(name) else {
                    let known: Vec<&str> =
                        rules.dimensions.iter().map(|d| d.name.as_str()).collect();
                    return Err(finops_core::Error::InvalidArguments {
                        message: format!(
                            "--by dim:{name}: there is no [[dimensions]] entry `{name}`"
                        ),
                        help: if known.is_empty() {
                            "add one to finops.toml (docs/allocation.md)".to_owned()
                        } else {
                            format!("the dimensions are: {}", known.join(", "))
                        },
                    }
                    .into());
                };
                Ok(Dimension::Resolved {
                    label: d.label(),
                    sql: if allocated {
                        finops_core::naming::quote_ident(&dim.name)
                    } else {
                        dim.sql(&tags)
                    },
                })
            }
            other => Ok(other.clone()),
        })
        .collect()
}

/// The warehouse, read-only, with a FOCUS table in it.
fn open_focus(ctx: &Context) -> miette::Result<Warehouse> {
    Ok(focus::open_read_only(&ctx.warehouse_config()?)?)
}

/// `"focus"."cost_and_usage"` in the warehouse's catalog.
fn focus_table(wh: &Warehouse) -> String {
    wh.qualified(&focus::table())
}

/// Writes `text` to `out`, or to standard output.
fn write_out(out: Option<&std::path::Path>, text: &str) -> miette::Result<()> {
    let Some(path) = out else {
        finops_core::output::print_text(text);
        return Ok(());
    };
    std::fs::write(path, text).map_err(|source| {
        Error::Write {
            path: path.to_owned(),
            source,
        }
        .into()
    })
}
