//! The Oracle Cloud vendor of `finops`: a tenancy's FOCUS reports and cost reports, which
//! Oracle writes into its own Object Storage (namespace `bling`, a bucket named after the
//! tenancy OCID, in the home region), read through Object Storage's native API signed with
//! the API key of an `~/.oci/config` profile or as the instance it runs on (instance
//! principals), through its S3-compatible endpoint with a customer secret key, or from a
//! local copy (`oci os object bulk-download`).
//!
//! Owns what is specific to Oracle: the report layout, the drifting report headers, and the
//! cost report's FOCUS mapping. The commands, loading, state and period replacement belong
//! to `finops-core`.

// Oracle's names (FOCUS Reports, ChargeSubcategory…) are prose, not code.
#![allow(clippy::doc_markdown)]

pub mod cli;
pub mod config;
pub mod exports;
pub mod focus;
mod native;
mod ociconfig;
mod pem_crypt;
mod principal;
pub mod signer;
mod store;

pub use cli::{ORACLE, Oracle};
