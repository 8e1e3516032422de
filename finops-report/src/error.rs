//! Errors of the reports, budgets and anomalies. Each names what was being done and says
//! what to do; none names a cloud vendor.

use std::path::PathBuf;

use miette::Diagnostic;

/// What went wrong making a report.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// The report's range has no FOCUS rows.
    ///
    /// Resolution: pick a range that was imported.
    #[error("no FOCUS rows in {range}")]
    #[diagnostic(
        code(finops::report::empty),
        help(
            "check --period against what was imported: `finops <vendor> show-state` lists the loaded periods of each export"
        )
    )]
    Empty {
        /// `2024-01..2024-03` or `the warehouse`.
        range: String,
    },

    /// `finops budgets check` without any `[[budgets]]`.
    ///
    /// Resolution: add one to finops.toml.
    #[error("no [[budgets]] in the configuration")]
    #[diagnostic(
        code(finops::budgets::none),
        help(
            "add one to finops.toml:\n\n[[budgets]]\nname = \"cloud\"\namount = \"1000\"\nthresholds = [80, 100]"
        )
    )]
    NoBudgets,

    /// A budget's settings are not usable.
    ///
    /// Resolution: fix the `[[budgets]]` entry.
    #[error("budget `{name}`: {why}")]
    #[diagnostic(
        code(finops::budgets::invalid),
        help("see [[budgets]] in docs/reports.md")
    )]
    InvalidBudget {
        /// The budget's name.
        name: String,
        /// What is wrong.
        why: String,
    },

    /// `--allocated` while `focus.allocated_cost` is older than the rules or the imports.
    ///
    /// Resolution: run `finops allocate`.
    #[error("focus.allocated_cost is not current for {periods}")]
    #[diagnostic(
        code(finops::report::allocation_stale),
        help(
            "run `finops allocate`: the rules or the imported data changed since the allocation was made"
        )
    )]
    AllocationStale {
        /// The periods.
        periods: String,
    },

    /// A report asked for in a form it does not have.
    ///
    /// Resolution: use one of the forms the help lists.
    #[error("`finops report {report}` has no {format} form")]
    #[diagnostic(code(finops::report::format), help("use --format {forms}"))]
    NoSuchForm {
        /// The report.
        report: &'static str,
        /// The form asked for (`HTML`).
        format: &'static str,
        /// The forms it has.
        forms: &'static str,
    },

    /// An anomaly window too short to tell an anomaly from noise.
    ///
    /// Resolution: a longer `--window`.
    #[error("--window {window} is too short to tell an anomaly from noise")]
    #[diagnostic(
        code(finops::report::window),
        help("use --window 7 or more; the default is 14")
    )]
    WindowTooShort {
        /// The window asked for, in days.
        window: usize,
    },

    /// A query of the warehouse (or a step of the report over its result) failed.
    ///
    /// Resolution: usually a damaged warehouse or a full disk; run with -v for the SQL.
    #[error("{action}: {message}")]
    #[diagnostic(
        code(finops::report::query),
        help("run with -v to see the query; `finops focus validate` checks the FOCUS table")
    )]
    Query {
        /// What was being done (`reading the tags`).
        action: String,
        /// What DuckDB or polars said.
        message: String,
    },

    /// The report could not be written as CSV, JSON or HTML.
    #[error("cannot encode {what}: {message}")]
    #[diagnostic(code(finops::report::encode))]
    Encode {
        /// `the report`, `CSV`.
        what: &'static str,
        /// What the encoder said.
        message: String,
    },

    /// The output file could not be written.
    ///
    /// Resolution: check the path, free space and permissions.
    #[error("cannot write `{}`", path.display())]
    #[diagnostic(
        code(finops::report::write),
        help("check the path, free disk space and permissions")
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A failed query (DuckDB, polars) while doing `action`.
    pub fn query<E: std::fmt::Display>(action: impl Into<String>) -> impl FnOnce(E) -> Self {
        let action = action.into();
        move |e| Self::Query {
            action,
            message: e.to_string(),
        }
    }

    /// `--format csv|html` for a report that has only a table and JSON.
    pub(crate) fn table_or_json_only(report: &'static str, format: &str) -> Self {
        Self::NoSuchForm {
            report,
            format: if format == "html" { "HTML" } else { "CSV" },
            forms: "table or --format json",
        }
    }

    /// A failed encoding of `what`.
    pub fn encode<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> Self {
        move |e| Self::Encode {
            what,
            message: e.to_string(),
        }
    }
}
