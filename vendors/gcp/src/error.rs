//! Errors of the Google Cloud vendor: core's, with the facts and help of this vendor.

/// What went wrong reading Google Cloud billing exports.
pub type Error = finops_core::Error;

/// No `invoice_month=` folders at `location`; `found` is what is there.
pub(crate) fn no_exports(location: String, found: Vec<String>) -> Error {
    finops_core::Error::NoExports {
        what: "Google Cloud billing exports (invoice_month=YYYYMM folders of Parquet or JSON files)",
        help: if found.is_empty() {
            "the location is empty: check gcp.path (--path), the folder your EXPORT DATA statement writes to".into()
        } else {
            format!(
                "found there: {}; EXPORT DATA should write to <folder>/invoice_month=YYYYMM/*.parquet (the README's Google Cloud section shows the commands to schedule)",
                finops_core::error::found_list(&found)
            )
        },
        location,
        found,
    }
}

/// `--export` names an export that is not at `location`.
pub(crate) fn unknown_export(export: String, location: String, found: Vec<String>) -> Error {
    finops_core::Error::UnknownExport {
        what: "export named",
        export,
        location,
        help: format!(
            "exports found there: {}",
            finops_core::error::found_list(&found)
        ),
        found,
    }
}
