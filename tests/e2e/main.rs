//! End-to-end tests of the built `finops` binary against real components: a moto S3 server,
//! the DuckDB CLI reading the warehouse back, and the sample export in `examples/`.
//! Run through `scripts/test`, which installs the components into `.venv`.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::type_complexity,
    clippy::format_collect,
    clippy::redundant_closure_for_method_calls,
    clippy::unreadable_literal,
    unreachable_pub
)]

// One module per vendor; then the suites that run across vendors.
mod aws;
mod azure;
mod gcp;
mod oracle;

mod allocation;
mod conformance;
mod dbt;
mod dirty;
mod harness;
mod hostile;
mod lake;
mod plugins;
mod reports;
