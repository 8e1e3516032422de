//! The Azure vendor of `finops`: Cost Management exports (FocusCost, ActualCost,
//! AmortizedCost; EA and MCA) from Blob Storage or a local copy.
//!
//! Owns what is specific to Azure: export run manifests, Blob Storage access through
//! `object_store` (connection string, account key, SAS, Entra ID), the cost-export columns and
//! their FOCUS mapping. The commands, loading, state and period
//! replacement belong to `finops-core`.

// Azure's dataset names (FocusCost, ActualCost…) are product names in prose, not code.
#![allow(clippy::doc_markdown)]

pub mod cli;
pub mod config;
pub mod error;
pub mod exports;
pub mod focus;
pub mod manifest;
mod store;

pub use cli::{AZURE, Azure};
pub use error::Error;
