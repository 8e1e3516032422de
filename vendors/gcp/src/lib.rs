//! The Google Cloud vendor of `finops`: Cloud Billing exports (standard, detailed and the
//! FOCUS export), as the files BigQuery's `EXPORT DATA` writes to Cloud Storage, read from
//! the bucket or from a local copy.
//!
//! Owns what is specific to Google Cloud: the `invoice_month=YYYYMM` folder layout, Cloud
//! Storage access through `object_store`, the export's nested schema read exactly, and its
//! FOCUS mapping. The commands, loading, state and period replacement belong to
//! `finops-core`.

// Google's product names (BigQuery, ServiceCategory…) are prose, not code.
#![allow(clippy::doc_markdown)]

pub mod bigquery;
pub mod cli;
pub mod config;
pub mod error;
pub mod exports;
pub mod focus;
pub mod schema;
mod store;

pub use cli::{GCP, Gcp};
pub use error::Error;
