//! The import loop every vendor shares: plan (compare deliveries with state) → stage →
//! replace the period in one transaction together with its state row → next period.
//!
//! The transactional replace of one period is [`crate::replace`]. A failed period is rolled back, recorded in `meta.load_history` with its error, and the
//! run goes on with the other periods; the exit status then says some failed.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::naming::{TableRef, quote_literal};
use crate::output::{ExitStatus, Ui};
use crate::period::Period;
use crate::precision::Rounding;
use crate::replace::{PeriodLoad, replace_period};
use crate::state::{self, ExportKey, LoadRecord};
use crate::vendor::{Delivery, DeliveryStatus, Export};
use crate::warehouse::Warehouse;

/// Which periods to consider and what to do with them.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Reload periods whose version is already loaded.
    pub force: bool,
    /// Print the plan and change nothing.
    pub dry_run: bool,
    /// First period to consider (inclusive).
    pub start: Option<Period>,
    /// Last period to consider (inclusive).
    pub end: Option<Period>,
    /// Largest total rounding of a money column in one period (`import.rounding_tolerance`).
    pub rounding_tolerance: f64,
    /// What another store already holds (`--lake`): a period it holds at the delivered
    /// version is not loaded, as if loaded here.
    pub held_elsewhere: Option<HeldElsewhere>,
}

/// `(x_source, period, version)` → whether the lake holds that version of the period.
pub type HeldFn = dyn Fn(&str, Period, &str) -> bool + Send + Sync;

/// What another store holds ([`ImportOptions::held_elsewhere`]).
#[derive(Clone)]
pub struct HeldElsewhere(pub std::sync::Arc<HeldFn>);

impl std::fmt::Debug for HeldElsewhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeldElsewhere")
    }
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            force: false,
            dry_run: false,
            start: None,
            end: None,
            rounding_tolerance: crate::precision::DEFAULT_TOLERANCE,
            held_elsewhere: None,
        }
    }
}

impl ImportOptions {
    fn wants(&self, p: Period) -> bool {
        self.start.is_none_or(|s| p >= s) && self.end.is_none_or(|e| p <= e)
    }
}

/// What the plan says to do with a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Not loaded before.
    New,
    /// Loaded before with another version: the cloud re-issued it.
    Reissued,
    /// Same version, reloaded because of `--force`.
    Forced,
    /// Same version already loaded: skipped.
    Unchanged,
}

/// How a period ended.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// Loaded and committed.
    Loaded {
        /// Rows inserted.
        rows: u64,
        /// Sum of the billed cost for the period, exact.
        cost: Option<String>,
        /// Wall time of staging and loading.
        duration_ms: u64,
        /// The values rounded to the stored precision, per column (only columns with any).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        rounding: Vec<Rounding>,
    },
    /// Nothing to do.
    Skipped,
    /// Dry run: would be loaded.
    Planned,
    /// Failed and rolled back; the previous version (if any) is still in place.
    Failed {
        /// The error, rendered.
        error: String,
    },
}

/// One period of a run.
#[derive(Clone, Debug, Serialize)]
pub struct PeriodReport {
    /// Billing period.
    pub period: Period,
    /// What the plan said.
    pub action: Action,
    /// The version delivered.
    pub version_id: String,
    /// The version that was loaded before, if any.
    pub previous_version: Option<String>,
    /// Data files.
    pub files: usize,
    /// Bytes of data files.
    pub bytes: u64,
    /// What happened.
    pub outcome: Outcome,
}

/// The result of a run.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// Vendor, export and kind.
    pub export: ExportKey,
    /// Destination table.
    pub table: String,
    /// One entry per period considered.
    pub periods: Vec<PeriodReport>,
    /// The full diagnostic of each failed period (with its help), for stderr.
    #[serde(skip)]
    pub failures: Vec<(Period, miette::Report)>,
}

impl ImportReport {
    /// 0 when nothing failed, 1 when every attempted period failed, 3 when some did.
    pub fn exit_status(&self) -> ExitStatus {
        let failed = self
            .periods
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Failed { .. }))
            .count();
        let loaded = self
            .periods
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Loaded { .. }))
            .count();
        match (failed, loaded) {
            (0, _) => ExitStatus::Success,
            (_, 0) => ExitStatus::Failure,
            _ => ExitStatus::Partial,
        }
    }
}

/// Plans each delivery of `source` (`vendor/export`) against the load state.
pub fn plan(
    source: &str,
    deliveries: &[Delivery],
    current: &BTreeMap<Period, String>,
    opts: &ImportOptions,
) -> Vec<(usize, Action, Option<String>)> {
    deliveries
        .iter()
        .enumerate()
        .filter(|(_, d)| opts.wants(d.period))
        .map(|(i, d)| {
            let previous = current.get(&d.period).cloned();
            let held = || {
                opts.held_elsewhere
                    .as_ref()
                    .is_some_and(|h| (h.0)(source, d.period, &d.version_id))
            };
            let action = match &previous {
                _ if !opts.force && previous.as_deref() != Some(&d.version_id) && held() => {
                    Action::Unchanged
                }
                None => Action::New,
                Some(v) if *v != d.version_id => Action::Reissued,
                Some(_) if opts.force => Action::Forced,
                Some(_) => Action::Unchanged,
            };
            (i, action, previous)
        })
        .collect()
}

/// Runs one import of `export` into `wh`.
pub async fn run(
    wh: &Warehouse,
    export: &dyn Export,
    opts: &ImportOptions,
    ui: &Ui,
) -> miette::Result<ImportReport> {
    let key = export.key().clone();
    let table = resolve_table(wh, &key, export.table(), export.scope().is_some())?;
    let spinner = ui.spinner(format!("listing {}/{}", key.vendor, key.export));
    let mut deliveries = export.deliveries().await?;
    spinner.finish_and_clear();
    deliveries.sort_by_key(|d| d.period);
    let current = state::current_versions(wh, &key)?;
    let plan = plan(
        &format!("{}/{}", key.vendor, key.export),
        &deliveries,
        &current,
        opts,
    );
    tracing::info!(
        "{}/{}: {} period(s) delivered, {} to load",
        key.vendor,
        key.export,
        plan.len(),
        plan.iter()
            .filter(|(_, a, _)| *a != Action::Unchanged)
            .count()
    );

    let staging = wh.staging_root().join("downloads");
    if !opts.dry_run {
        // We hold the warehouse's write lock, so anything here is left over from a crash.
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .map_err(Error::io("removing stale staging files", &staging))?;
        }
        wh.ensure_schema(&table.schema)?;
    }

    let mut periods = Vec::new();
    let mut failures = Vec::new();
    let mut loaded_one = false;
    for (i, action, previous) in plan {
        let d = &deliveries[i];
        let mut report = PeriodReport {
            period: d.period,
            action,
            version_id: d.version_id.clone(),
            previous_version: previous,
            files: d.files.len(),
            bytes: d.bytes(),
            outcome: Outcome::Skipped,
        };
        if action == Action::Unchanged {
            let place = if current.get(&d.period) == Some(&d.version_id) {
                "loaded"
            } else {
                "in the lake"
            };
            tracing::info!(
                "{}/{} {}: version {} already {place}",
                key.vendor,
                key.export,
                d.period,
                d.version_id
            );
        } else if opts.dry_run {
            report.outcome = Outcome::Planned;
        } else {
            if loaded_one {
                crate::fault::point("between-periods");
            }
            loaded_one = true;
            report.outcome = match load_one(wh, export, &table, d, &staging, opts, ui).await {
                Ok(outcome) => outcome,
                Err(report_err) => {
                    let error = render_error(&report_err);
                    tracing::error!(
                        "{}/{} {}: failed: {}",
                        key.vendor,
                        key.export,
                        d.period,
                        error.lines().next().unwrap_or_default()
                    );
                    state::record_failure(wh, &key, d.period, &d.version_id, &error)?;
                    failures.push((d.period, report_err));
                    Outcome::Failed { error }
                }
            };
        }
        periods.push(report);
    }
    if !opts.dry_run && staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(Error::io("removing staging files", &staging))?;
    }
    Ok(ImportReport {
        export: key,
        table: table.to_string(),
        periods,
        failures,
    })
}

#[allow(clippy::too_many_arguments)]
async fn load_one(
    wh: &Warehouse,
    export: &dyn Export,
    table: &TableRef,
    d: &Delivery,
    staging: &std::path::Path,
    opts: &ImportOptions,
    ui: &Ui,
) -> miette::Result<Outcome> {
    let key = export.key();
    let started = Instant::now();
    std::fs::create_dir_all(staging)
        .map_err(Error::io("creating the staging directory", staging))?;
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}-", d.period))
        .tempdir_in(staging)
        .map_err(Error::io("creating the staging directory", staging))?;
    tracing::info!(
        "{}/{} {}: fetching {} file(s), {} bytes, version {}",
        key.vendor,
        key.export,
        d.period,
        d.files.len(),
        d.bytes(),
        d.version_id
    );
    if let DeliveryStatus::Unreadable { message, help } = &d.status {
        return Err(Error::DeliveryUnreadable {
            message: message.clone(),
            help: help.clone(),
        }
        .into());
    }
    let staged = export.stage(d, dir.path(), ui).await?;
    tracing::debug!(
        "{}/{} {}: staged (fetched and checked) in {} ms",
        key.vendor,
        key.export,
        d.period,
        started.elapsed().as_millis()
    );
    crate::fault::point("before-load");
    let spinner = ui.spinner(format!("loading {} {}", key.export, d.period));
    let cost = export.cost_expression();
    let scope = export.scope();
    let load = PeriodLoad {
        key,
        table,
        period: d.period,
        staged: &staged,
        cost_expression: cost.as_deref(),
        scope: scope.as_ref().map(|(c, v)| (c.as_str(), v.as_str())),
        rounding_tolerance: opts.rounding_tolerance,
    };
    let (rows, cost, rounding) = replace_period(wh, &load, |rows, rounding| LoadRecord {
        period: d.period,
        version_id: d.version_id.clone(),
        target_table: table.to_string(),
        files: d.files.len() as u64,
        rows,
        bytes: staged.bytes,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        rounding,
    })?;
    spinner.finish_and_clear();
    crate::fault::point("after-commit");
    drop(dir);
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        "{}/{} {}: loaded {rows} rows into {table} in {duration_ms} ms",
        key.vendor,
        key.export,
        d.period
    );
    for r in &rounding {
        tracing::info!(
            "{}/{} {}: {}",
            key.vendor,
            key.export,
            d.period,
            r.describe()
        );
    }
    Ok(Outcome::Loaded {
        rows,
        cost,
        duration_ms,
        rounding,
    })
}

/// The raw table of `key`: the one its loads recorded, else `table`, unless another export
/// of the vendor records `table` (their names normalise alike: `team-cur` and `team_cur`),
/// then a name of its own ([`crate::naming::disambiguated_table_name`]). Two exports never
/// share a raw table (unless `shared`: exports that scope their rows in one table): replacing
/// one's period would delete the other's rows.
fn resolve_table(
    wh: &Warehouse,
    key: &ExportKey,
    table: TableRef,
    shared: bool,
) -> Result<TableRef> {
    if shared || !wh.table_exists(crate::warehouse::META_SCHEMA, "load_state")? {
        return Ok(table);
    }
    let recorded = wh.pairs(
        &format!(
            "SELECT DISTINCT export, target_table FROM {} WHERE source = {}",
            wh.meta_table("load_state"),
            quote_literal(&key.vendor)
        ),
        "reading the raw tables of the load state",
    )?;
    if let Some((schema, name)) = recorded
        .iter()
        .find(|(e, _)| *e == key.export)
        .and_then(|(_, t)| t.split_once('.'))
    {
        return Ok(TableRef::new(schema, name));
    }
    let plain = table.to_string();
    match recorded
        .iter()
        .find(|(e, t)| *t == plain && *e != key.export)
    {
        Some((other, _)) => {
            let own = TableRef::new(
                &table.schema,
                crate::naming::disambiguated_table_name(&table.name, &key.export),
            );
            tracing::warn!(
                "{}/{}: its name normalises like `{other}`'s, whose rows are in {plain}; loading it into {own}",
                key.vendor,
                key.export
            );
            Ok(own)
        }
        None => Ok(table),
    }
}

/// An error and its causes on one line, for the history table and logs.
pub fn render_error(report: &miette::Report) -> String {
    let mut text = report.to_string();
    for cause in report.chain().skip(1) {
        text.push_str(": ");
        text.push_str(&cause.to_string());
    }
    text
}
