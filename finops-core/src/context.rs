//! What every command gets: the resolved settings and how to talk to the user.

use crate::config::{Settings, WarehouseConfig};
use crate::error::Result;
use crate::output::Ui;
use crate::warehouse::Warehouse;

/// The context a command runs in.
pub struct Context {
    /// Resolved configuration.
    pub settings: Settings,
    /// Output format, quietness, progress.
    pub ui: Ui,
}

impl Context {
    /// The `[warehouse]` section.
    pub fn warehouse_config(&self) -> Result<WarehouseConfig> {
        self.settings.section("warehouse")
    }

    /// Opens the warehouse read-write (taking DuckDB's file lock).
    pub fn open_warehouse(&self) -> Result<Warehouse> {
        let cfg = self.warehouse_config()?;
        tracing::debug!("opening warehouse {}", cfg.path.display());
        Warehouse::open(&cfg)
    }
}
