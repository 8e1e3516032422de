//! Vendor-neutral core of `finops`.
//!
//! Owns configuration layering, the DuckDB warehouse (opening, locking, schemas, naming,
//! the atomic replacement of one billing period), load-state tracking, errors and output.
//! It must never name a cloud vendor: vendors plug in through [`vendor::Vendor`] and [`vendor::Export`], and
//! describe their configuration with [`config::KeySpec`] tables.

#![warn(missing_docs)]

pub mod config;
pub mod context;
pub mod env;
pub mod error;
pub mod events;
pub mod fault;
pub mod focus;
pub mod import;
pub mod naming;
pub mod notifications;
pub mod output;
pub mod period;
pub mod precision;
pub mod process;
pub mod raw_columns;
pub mod read;
pub mod redacted;
pub mod replace;
pub mod state;
pub mod store;
pub mod vendor;
pub mod vendor_commands;
pub mod warehouse;

pub use context::Context;
/// The DuckDB crate finops is built on, for vendors' mapping tests.
pub use duckdb;
pub use error::{Error, Result};
pub use output::ExitStatus;
pub use period::Period;
pub use redacted::Redacted;
pub use warehouse::Warehouse;
