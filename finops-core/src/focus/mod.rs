//! FOCUS (FinOps Open Cost and Usage Specification): the CostAndUsage column model as data
//! ([`columns`]), the warehouse table every vendor's FOCUS rows go to, and the version choice.
//! DDL, export column order and checks are all derived from [`columns::COLUMNS`].

// FOCUS column names (BilledCost, CostAndUsage…) are words of the specification here, not code.
#![allow(clippy::doc_markdown)]

pub mod check;
pub mod columns;
pub mod export;
pub mod finish;
pub mod mapping;
pub mod upgrade;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::WarehouseConfig;
use crate::error::{Error, Result};
use crate::naming::TableRef;
use crate::warehouse::Warehouse;

/// Schema of the FOCUS table.
pub const SCHEMA: &str = "focus";
/// The FOCUS table: every source's rows, all FOCUS 1.3 columns, plus `x_` columns.
pub const TABLE: &str = "cost_and_usage";

/// `focus.cost_and_usage`.
pub fn table() -> TableRef {
    TableRef::new(SCHEMA, TABLE)
}

/// The warehouse of `cfg`, read-only (waiting for a writer's lock up to `wait_lock`), for a
/// command that reads `focus.cost_and_usage`: [`Error::NoFocusRows`] when there is no
/// warehouse or no FOCUS table in it.
pub fn open_read_only(cfg: &WarehouseConfig) -> Result<Warehouse> {
    let no_rows = || Error::NoFocusRows {
        path: cfg.path.clone(),
    };
    let wh = Warehouse::open_read_only(cfg)?.ok_or_else(no_rows)?;
    let t = table();
    if wh.table_exists(&t.schema, &t.name)? {
        Ok(wh)
    } else {
        Err(no_rows())
    }
}

/// A FOCUS version finops can produce.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Version {
    /// FOCUS 1.0 (only to describe when a column was introduced).
    #[serde(rename = "1.0")]
    V1_0,
    /// FOCUS 1.1 (likewise).
    #[serde(rename = "1.1")]
    V1_1,
    /// FOCUS 1.2 (June 2025).
    #[serde(rename = "1.2")]
    V1_2,
    /// FOCUS 1.3 (ratified December 2025): the default.
    #[default]
    #[serde(rename = "1.3")]
    V1_3,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
            Self::V1_2 => "1.2",
            Self::V1_3 => "1.3",
        })
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "1.2" => Ok(Self::V1_2),
            "1.3" => Ok(Self::V1_3),
            _ => Err(format!(
                "FOCUS version `{s}` is not supported; use 1.2 or 1.3"
            )),
        }
    }
}

/// `[focus]` configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FocusConfig {
    /// Version for export and validation.
    pub version: Version,
}

impl Default for FocusConfig {
    /// The declared defaults of its keys.
    fn default() -> Self {
        crate::config::defaults(crate::config::CORE_KEYS, "focus")
    }
}
