//! What every command gets: the resolved settings and how to talk to the user.

use crate::config::{ImportConfig, Settings, WarehouseConfig};
use crate::error::Result;
use crate::events::{Event, EventKind, Hooks};
use crate::output::Ui;
use crate::warehouse::Warehouse;

/// The context a command runs in.
pub struct Context {
    /// Resolved configuration.
    pub settings: Settings,
    /// Output format, quietness, progress.
    pub ui: Ui,
    /// The `[[hooks]]` that receive events.
    pub hooks: Hooks,
    /// What the lake holds, for an import with `--lake` (the lake, not the warehouse, says
    /// what is loaded).
    pub held_elsewhere: Option<crate::import::HeldElsewhere>,
}

impl Context {
    /// The `[warehouse]` section.
    pub fn warehouse_config(&self) -> Result<WarehouseConfig> {
        self.settings.section("warehouse")
    }

    /// The `[import]` section.
    pub fn import_config(&self) -> Result<ImportConfig> {
        self.settings.section("import")
    }

    /// Import options for `force`/`dry_run` and a period range, with `[import]` applied.
    pub fn import_options(
        &self,
        force: bool,
        dry_run: bool,
        start: Option<crate::Period>,
        end: Option<crate::Period>,
    ) -> Result<crate::import::ImportOptions> {
        crate::period::check_range(start, end)?;
        Ok(crate::import::ImportOptions {
            force,
            dry_run,
            start,
            end,
            rounding_tolerance: self.import_config()?.rounding_tolerance,
            held_elsewhere: self.held_elsewhere.clone(),
        })
    }

    /// Sends an event to the hooks that listen to it (nothing when none does); `data` is
    /// built only then. False when a listening hook failed.
    pub fn emit(&self, kind: EventKind, data: impl FnOnce() -> serde_json::Value) -> bool {
        if self.hooks.is_idle(kind) {
            return true;
        }
        let warehouse = self.warehouse_config().map(|c| c.path).unwrap_or_default();
        self.hooks.emit(&Event::new(kind, &warehouse, data()))
    }

    /// Opens the warehouse read-write (taking DuckDB's file lock).
    pub fn open_warehouse(&self) -> Result<Warehouse> {
        let cfg = self.warehouse_config()?;
        tracing::debug!("opening warehouse {}", cfg.path.display());
        Warehouse::open(&cfg)
    }
}
