//! The AWS vendor of `finops`: legacy Cost and Usage Reports (CUR v1), CUR 2.0 and FOCUS
//! Data Exports from S3 or a local copy.
//!
//! Owns what is specific to AWS: manifests, S3 access through aws-sdk-s3 and the default
//! credential chain, the CUR column types, and `finops aws import-ce`. It never opens a
//! transaction: loading, state and period replacement belong to `finops-core`.

pub mod ce;
pub mod cli;
pub mod config;
pub mod cur;
pub mod error;
pub mod exports;
pub mod focus;
pub mod manifest;
pub mod read;
mod store;

pub use cli::{AWS, Aws};
pub use error::Error;
