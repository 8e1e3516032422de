//! The commands every vendor has, once: `finops <vendor> import`, `list-exports` and
//! `show-state`, with the same flags, validation, output and exit codes for all; the
//! vendor's older verbs are aliases (`aws import-cur`, `azure import-exports`). Also what
//! they print: an import's report and the load state.

use std::collections::BTreeMap;

use clap::{Args, FromArgMatches};
use serde_json::{Value, json};

use crate::Context;
use crate::config::FlagValue;
use crate::error::Result;
use crate::events::EventKind;
use crate::import::{self, ImportReport, Outcome};
use crate::output::{self, ExitStatus, Format, Table, print_json, print_table};
use crate::period::Period;
use crate::precision::{NumberKind, Rounding};
use crate::state::{self, ExportKey};
use crate::vendor::{Vendor, Verb};
use crate::warehouse::{META_SCHEMA, Warehouse};

/// Which billing periods.
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

/// The options of `finops <vendor> import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Reload periods even when the same version is already loaded
    #[arg(long)]
    force: bool,
    /// Print what would be loaded and change nothing
    #[arg(long)]
    dry_run: bool,
    /// Files downloaded at once [default 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: Option<u16>,
    /// Worker mode: the Delta table at URL, not the warehouse, says what is loaded (a period it
    /// holds at the delivered version is skipped), and gets what this run loads [config: lake.url]
    #[arg(long, value_name = "URL")]
    lake: Option<String>,
    #[command(flatten)]
    periods: PeriodArgs,
}

/// The options of `finops <vendor> list-exports`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    periods: PeriodArgs,
}

/// The options of `finops <vendor> show-state`.
#[derive(Debug, Args)]
pub struct ShowStateArgs {
    /// Only this export
    #[arg(long, visible_alias = "report", value_name = "NAME")]
    export: Option<String>,
    /// How many recent load attempts to show
    #[arg(long, value_name = "N", default_value_t = 20)]
    history: u32,
}

/// The `finops <vendor>` command: core's three verbs (with the vendor's location arguments
/// and aliases) and the vendor's own commands.
pub fn command(v: &dyn Vendor) -> clap::Command {
    let config = |name: &str| v.key(name).unwrap_or("");
    // `augment_args` sets the command's about from the arguments' type: set ours after it.
    let import = v
        .location_args(ImportArgs::augment_args(clap::Command::new("import")))
        .about(format!(
            "Import {} billing exports into the warehouse (raw rows, FOCUS rows, load state)",
            v.display_name()
        ))
        .long_about(v.import_help())
        .visible_aliases(v.aliases(Verb::Import).iter().copied())
        .mut_arg("concurrency", |a| {
            a.help(format!(
                "Files downloaded at once [config: {}; default 4]",
                config("concurrency")
            ))
        });
    let list = v
        .location_args(ListArgs::augment_args(clap::Command::new("list-exports")))
        .about("List every export at the location: its kind, each billing period delivered, and whether that version is loaded")
        .visible_aliases(v.aliases(Verb::ListExports).iter().copied());
    let state = ShowStateArgs::augment_args(clap::Command::new("show-state"))
        .about("Show what is loaded: the current version of each period, and recent load attempts")
        .visible_aliases(v.aliases(Verb::ShowState).iter().copied())
        .mut_arg("export", |a| {
            a.help(format!("Only this export [config: {}]", v.export_key()))
        });
    clap::Command::new(v.name())
        .about(v.about())
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(import)
        .subcommand(list)
        .subcommand(state)
        .subcommands(v.extra_commands())
}

/// Runs `finops <vendor> …` from its matches.
pub async fn run(
    v: &dyn Vendor,
    matches: &clap::ArgMatches,
    ctx: &mut Context,
) -> miette::Result<ExitStatus> {
    let Some((verb, sub)) = matches.subcommand() else {
        return Err(miette::miette!("a subcommand is required"));
    };
    match verb {
        "import" => {
            let result = import_command(v, sub, ctx).await;
            if let Err(e) = &result {
                import_failed(ctx, v.name(), e);
            }
            result
        }
        "list-exports" => list_exports(v, sub, ctx).await,
        "show-state" => {
            let args = ShowStateArgs::from_arg_matches(sub).map_err(|e| miette::miette!("{e}"))?;
            if let Some(e) = &args.export {
                ctx.settings
                    .apply_flags([(v.export_key(), FlagValue::Str(e.clone()))]);
            }
            let export = ctx.settings.get_str(v.export_key());
            Ok(show_state(
                ctx,
                v.name(),
                v.labels().0,
                export.as_deref(),
                args.history,
            )?)
        }
        other => v.run_extra(other, sub, ctx).await,
    }
}

async fn import_command(
    v: &dyn Vendor,
    sub: &clap::ArgMatches,
    ctx: &mut Context,
) -> miette::Result<ExitStatus> {
    let args = ImportArgs::from_arg_matches(sub).map_err(|e| miette::miette!("{e}"))?;
    let mut flags = v.location_flags(sub);
    if let (Some(c), Some(key)) = (args.concurrency, v.key("concurrency")) {
        flags.push((key, FlagValue::Int(i64::from(c))));
    }
    if let Some(url) = &args.lake {
        flags.push(("lake.url", FlagValue::Str(url.clone())));
    }
    ctx.settings.apply_flags(flags);
    let opts = ctx.import_options(
        args.force,
        args.dry_run,
        args.periods.start,
        args.periods.end,
    )?;
    let single = ctx.settings.get_str(v.export_key()).is_some();
    let exports = v.exports(ctx).await?;
    let wh = ctx.open_warehouse()?;
    let mut reports = Vec::new();
    for e in &exports {
        reports.push(import::run(&wh, e.as_ref(), &opts, &ctx.ui).await?);
    }
    Ok(finish_imports(ctx, &reports, single, args.dry_run))
}

/// An import that failed before it had per-export reports (a wrong bucket, refused
/// credentials…) still tells the `import.failed` hooks.
fn import_failed(ctx: &Context, vendor: &str, error: &miette::Report) {
    let _ = ctx.emit(EventKind::ImportFailed, || {
        json!({
            "vendor": vendor,
            "command": format!("{vendor} import"),
            "error": error.to_string(),
            "code": error.code().map(|c| c.to_string()),
            "help": error.help().map(|h| h.to_string()),
        })
    });
}

async fn list_exports(
    v: &dyn Vendor,
    sub: &clap::ArgMatches,
    ctx: &mut Context,
) -> miette::Result<ExitStatus> {
    let args = ListArgs::from_arg_matches(sub).map_err(|e| miette::miette!("{e}"))?;
    crate::period::check_range(args.periods.start, args.periods.end)?;
    ctx.settings.apply_flags(v.location_flags(sub));
    let exports = v.exports(ctx).await?;
    let state = LoadedVersions::open(ctx)?;
    let (export_label, kind_label) = v.labels();
    let mut t = Table::new(vec![
        export_label,
        kind_label,
        "period",
        "version",
        "files",
        "bytes",
        "loaded",
    ]);
    for e in &exports {
        let current = state.of(e.key())?;
        let mut deliveries = e.deliveries().await?;
        deliveries.sort_by_key(|d| d.period);
        for d in deliveries.iter().filter(|d| {
            args.periods.start.is_none_or(|s| d.period >= s)
                && args.periods.end.is_none_or(|end| d.period <= end)
        }) {
            t.push(vec![
                json!(e.key().export),
                json!(e.key().kind),
                json!(d.period.to_string()),
                json!(d.version_id),
                json!(d.files.len()),
                json!(d.bytes()),
                json!(loaded_label(
                    &current,
                    d.period,
                    &d.version_id,
                    d.is_readable()
                )),
            ]);
        }
    }
    print_table(ctx.ui.format, &t);
    Ok(ExitStatus::Success)
}

/// Prints the reports of one command's imports (one per export) and each failure's full
/// diagnostic; returns the combined exit status. `single`: one export was asked for, so
/// JSON output is its report rather than a list.
pub fn finish_imports(
    ctx: &Context,
    reports: &[ImportReport],
    single: bool,
    dry_run: bool,
) -> ExitStatus {
    for report in reports {
        if ctx.ui.format != Format::Json {
            print_import(ctx.ui.format, report, dry_run);
        }
        for (period, failure) in &report.failures {
            tracing::debug!("diagnostic for {period}");
            output::print_diagnostic(failure);
        }
    }
    if !dry_run {
        for report in reports {
            emit_import(ctx, report);
        }
    }
    if ctx.ui.format == Format::Json {
        let value = if single && reports.len() == 1 {
            serde_json::to_value(&reports[0])
        } else {
            serde_json::to_value(reports)
        };
        print_json(&value.unwrap_or(Value::Null));
    }
    combined_status(reports)
}

/// `import.failed` when any period failed, else `import.completed` (also when every period
/// was unchanged: `data.loaded` says how many were loaded).
fn emit_import(ctx: &Context, report: &ImportReport) {
    let count = |f: fn(&Outcome) -> bool| report.periods.iter().filter(|p| f(&p.outcome)).count();
    let loaded = count(|o| matches!(o, Outcome::Loaded { .. }));
    let skipped = count(|o| matches!(o, Outcome::Skipped));
    let failed = count(|o| matches!(o, Outcome::Failed { .. }));
    let kind = if failed > 0 {
        EventKind::ImportFailed
    } else {
        EventKind::ImportCompleted
    };
    let _ = ctx.emit(kind, || {
        let mut data = serde_json::to_value(report).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut data {
            map.insert("loaded".into(), json!(loaded));
            map.insert("skipped".into(), json!(skipped));
            map.insert("failed".into(), json!(failed));
        }
        data
    });
}

/// 0 when every export succeeded, 1 when every one failed, 3 otherwise.
pub fn combined_status(reports: &[ImportReport]) -> ExitStatus {
    let statuses: Vec<ExitStatus> = reports.iter().map(ImportReport::exit_status).collect();
    if statuses.iter().all(|s| *s == ExitStatus::Success) {
        ExitStatus::Success
    } else if statuses.iter().all(|s| *s == ExitStatus::Failure) {
        ExitStatus::Failure
    } else {
        ExitStatus::Partial
    }
}

/// One import's table and summary line (or its JSON).
pub fn print_import(format: Format, report: &ImportReport, dry_run: bool) {
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
    let rounded: Vec<String> = report
        .periods
        .iter()
        .filter_map(|p| match &p.outcome {
            Outcome::Loaded { rounding, .. } if !rounding.is_empty() => {
                Some(format!("  {}  {}", p.period, rounding_summary(rounding)))
            }
            _ => None,
        })
        .collect();
    if !rounded.is_empty() {
        output::print_text(&format!(
            "\nrounded half to even to the stored precision (per column: `show-state --format json`):\n{}",
            rounded.join("\n")
        ));
    }
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
    output::print_text(&format!(
        "\n{}/{} into {}: {} period(s), {verb} {}, failed {failed}",
        report.export.vendor,
        report.export.export,
        report.table,
        report.periods.len(),
        if dry_run { planned } else { loaded },
    ));
}

/// One line on what a period's load rounded, by kind of number: how many values and the
/// largest rounding; for money also the largest column total (what the tolerance checks);
/// for the derived costs how far the source's own figure was.
pub fn rounding_summary(rounding: &[Rounding]) -> String {
    let mut parts = Vec::new();
    for (kind, label) in [
        (NumberKind::Money, "money"),
        (NumberKind::UnitPrice, "unit prices"),
        (NumberKind::Quantity, "quantities"),
        (NumberKind::DerivedCost, "ListCost/ContractedCost"),
    ] {
        let of: Vec<&Rounding> = rounding.iter().filter(|r| r.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        let values: u64 = of.iter().map(|r| r.values).sum();
        let largest = of.iter().map(|r| r.largest).fold(0.0_f64, f64::max);
        parts.push(match kind {
            NumberKind::Money => {
                let total = of.iter().map(|r| r.total).fold(0.0_f64, f64::max);
                format!("{label} {values} values, largest {largest:.1e}, column total at most {total:.1e}")
            }
            NumberKind::DerivedCost => format!(
                "{label} = unit price × quantity, {values} differ from the source's figure, by up to {largest:.1e}"
            ),
            _ => format!("{label} {values} values, largest {largest:.1e}"),
        });
    }
    parts.join("; ")
}

/// `finops <vendor> show-state`: the current version of each period of `vendor`'s exports
/// (only `export` when given) and the `history` most recent load attempts. `label` heads the
/// export column (`report` for AWS, `export` elsewhere).
pub fn show_state(
    ctx: &Context,
    vendor: &str,
    label: &'static str,
    export: Option<&str>,
    history: u32,
) -> Result<ExitStatus> {
    let wh_cfg = ctx.warehouse_config()?;
    let Some(wh) = Warehouse::open_read_only(&wh_cfg)? else {
        output::print_text(&format!(
            "no warehouse at {} yet: nothing has been imported",
            wh_cfg.path.display()
        ));
        return Ok(ExitStatus::Success);
    };
    let rows = state::list_state(&wh, vendor, export)?;
    let history = state::list_history(&wh, vendor, export, history)?;
    if ctx.ui.format == Format::Json {
        print_json(&json!({ "state": rows, "history": history }));
        return Ok(ExitStatus::Success);
    }
    let mut t = Table::new(vec![
        label,
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
        label,
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
    output::print_text("\nrecent load attempts:");
    print_table(Format::Table, &h);
    Ok(ExitStatus::Success)
}

/// The load state as `list-exports` reads it: the warehouse opened read-only, or nothing when
/// there is none yet (or it cannot be read, which is logged): every period then reads "no".
pub struct LoadedVersions(Option<Warehouse>);

impl LoadedVersions {
    /// Opens the configured warehouse read-only, if it has load state.
    pub fn open(ctx: &Context) -> Result<Self> {
        let cfg = crate::config::WarehouseConfig {
            wait_lock: 0,
            ..ctx.warehouse_config()?
        };
        Ok(Self(match Warehouse::open_read_only(&cfg) {
            Ok(Some(wh)) if wh.table_exists(META_SCHEMA, "load_state")? => Some(wh),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!("cannot read the load state: {e}");
                None
            }
        }))
    }

    /// The current version of each period of `key`.
    pub fn of(&self, key: &ExportKey) -> Result<BTreeMap<Period, String>> {
        self.0.as_ref().map_or_else(
            || Ok(BTreeMap::new()),
            |wh| state::current_versions(wh, key),
        )
    }
}

/// What `list-exports` says of `version` of `period`, given the `current` versions: loaded,
/// not, an older version, or that its manifest cannot be read.
pub fn loaded_label(
    current: &BTreeMap<Period, String>,
    period: Period,
    version: &str,
    readable: bool,
) -> String {
    match current.get(&period) {
        _ if !readable => "manifest unreadable".to_owned(),
        None => "no".to_owned(),
        Some(v) if v == version => "yes".to_owned(),
        Some(v) => format!("older version {v}"),
    }
}
