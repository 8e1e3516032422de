//! `finops focus validate` and `finops focus export`.

use finops_core::focus::{self, FocusConfig, Version, check, export};
use finops_core::output::{self, ExitStatus, Format, Table};
use finops_core::{Context, Warehouse};
use serde_json::json;

use crate::cli::FocusCommand;

/// Runs a `finops focus` command; `file_format` is `--format parquet|csv` for export.
pub(crate) fn run(
    cmd: FocusCommand,
    ctx: &mut Context,
    file_format: Option<&str>,
) -> miette::Result<ExitStatus> {
    #[cfg(not(feature = "lake"))]
    if matches!(&cmd, FocusCommand::Export { layout, .. } if layout == "hive") {
        return Err(finops_core::Error::InvalidArguments {
            message: "--layout hive is not in this build".into(),
            help: "cargo install finops-cli --features lake (or --features all)".into(),
        }
        .into());
    }
    let configured: FocusConfig = ctx.settings.section("focus")?;
    let wh = focus::open_read_only(&ctx.warehouse_config()?)?;
    match cmd {
        FocusCommand::Validate { focus_version, all } => validate(
            &wh,
            focus_version.unwrap_or(configured.version),
            all,
            ctx.ui.format,
        ),
        FocusCommand::Export {
            out,
            layout,
            period,
            focus_version,
        } => {
            if layout == "hive" {
                if file_format == Some("csv") {
                    return Err(finops_core::Error::InvalidArguments {
                        message: "--layout hive writes Parquet, not csv".into(),
                        help: "leave out --format, or use --layout files for csv".into(),
                    }
                    .into());
                }
                return hive(&wh, &out.to_string_lossy(), period, ctx.ui.format);
            }
            let format = match file_format.unwrap_or("parquet") {
                "csv" => export::Format::Csv,
                _ => export::Format::Parquet,
            };
            let version = focus_version.unwrap_or(configured.version);
            let files = export::export(&wh, version, format, &out, period)?;
            if files.is_empty() {
                return Err(miette::miette!(
                    code = "finops::focus::nothing_to_export",
                    help = "check --period against what was imported: `finops <vendor> show-state` lists the loaded periods of each export",
                    "no FOCUS rows for {}",
                    period.map_or_else(|| "any period".to_owned(), |p| p.to_string())
                ));
            }
            let mut t = Table::new(vec!["period", "rows", "file"]);
            for f in &files {
                t.push(vec![
                    json!(f.period.to_string()),
                    json!(f.rows),
                    json!(f.path.display().to_string()),
                ]);
            }
            output::print_table(ctx.ui.format, &t);
            Ok(ExitStatus::Success)
        }
    }
}

#[cfg(feature = "lake")]
fn hive(
    wh: &Warehouse,
    url: &str,
    period: Option<finops_core::Period>,
    format: Format,
) -> miette::Result<ExitStatus> {
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    let objects = rt.block_on(finops_lake::hive::export(wh, url, period))?;
    let mut t = Table::new(vec!["source", "period", "rows", "object"]);
    for o in &objects {
        t.push(vec![
            json!(o.source),
            json!(o.period),
            json!(o.rows),
            json!(o.key),
        ]);
    }
    output::print_table(format, &t);
    Ok(ExitStatus::Success)
}

#[cfg(not(feature = "lake"))]
fn hive(
    _: &Warehouse,
    _: &str,
    _: Option<finops_core::Period>,
    _: Format,
) -> miette::Result<ExitStatus> {
    unreachable!("refused before the warehouse is opened")
}

fn validate(
    wh: &Warehouse,
    version: Version,
    all: bool,
    format: Format,
) -> miette::Result<ExitStatus> {
    let results = check::check(wh, version)?;
    let failed: Vec<_> = results.iter().filter(|r| r.violations > 0).collect();
    if format == Format::Json {
        output::print_json(
            &json!({ "version": version.to_string(), "rules": results.len(), "failed": failed.len(), "results": results }),
        );
    } else {
        let mut t = Table::new(vec!["rule", "result", "violations", "requirement"]);
        for r in results.iter().filter(|r| all || r.violations > 0) {
            let result = if r.violations > 0 { "FAIL" } else { "pass" };
            t.push(vec![
                json!(r.id),
                json!(result),
                json!(r.violations),
                json!(r.must),
            ]);
        }
        if !t.rows.is_empty() {
            output::print_table(Format::Table, &t);
        }
        for r in &failed {
            for e in &r.examples {
                output::print_text(&format!("  {}: {e}", r.id));
            }
        }
        output::print_text(&format!(
            "FOCUS {version} check of focus.cost_and_usage: {} rules, {} passed, {} failed",
            results.len(),
            results.len() - failed.len(),
            failed.len()
        ));
    }
    Ok(if failed.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
