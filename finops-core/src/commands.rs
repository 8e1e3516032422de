//! What every vendor's commands print the same way: an import's report, and `show-state`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Context;
use crate::error::Result;
use crate::events::EventKind;
use crate::import::{ImportReport, Outcome};
use crate::output::{self, ExitStatus, Format, Table, print_json, print_table};
use crate::period::Period;
use crate::precision::{NumberKind, Rounding};
use crate::state::{self, ExportKey};
use crate::warehouse::{META_SCHEMA, Warehouse};

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
        report.export.source,
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
    let Some(wh) = Warehouse::open_read_only(&wh_cfg.path, wh_cfg.wait_lock)? else {
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
        let path = ctx.warehouse_config()?.path;
        Ok(Self(match Warehouse::open_read_only(&path, 0) {
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
