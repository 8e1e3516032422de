//! Errors of the Azure vendor. Each carries the facts (container, blob, export) and a help line.

use miette::Diagnostic;

/// Result with the Azure [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong reading Azure Cost Management exports.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// An export of a dataset finops does not load (PriceSheet, ReservationDetails…).
    ///
    /// Resolution: export FocusCost, ActualCost or AmortizedCost.
    #[error("export `{export}` is a {dataset} export, which finops does not load")]
    #[diagnostic(
        code(finops::azure::unsupported_dataset),
        help(
            "finops loads FocusCost (FOCUS 1.0, 1.0r2, 1.2), ActualCost and AmortizedCost exports"
        )
    )]
    UnsupportedDataset {
        /// Export name.
        export: String,
        /// `exportConfig.type` and `dataVersion`.
        dataset: String,
    },

    /// A vendor-neutral failure (a corrupt data file, a warehouse error, a setting).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Core(#[from] finops_core::Error),
}

/// What a Cost Management manifest is, in messages.
const MANIFEST: &str = "Cost Management export manifest";
/// What to do about an invalid manifest.
const MANIFEST_HELP: &str = "re-run the export for that month (Cost Management > Exports > Run now); the other months load normally";

/// The manifest at `location` is not valid (core's [`finops_core::Error::ManifestInvalid`]).
pub(crate) fn manifest_invalid(location: impl Into<String>, reason: impl Into<String>) -> Error {
    finops_core::Error::ManifestInvalid {
        location: location.into(),
        what: MANIFEST,
        reason: reason.into(),
        help: MANIFEST_HELP,
    }
    .into()
}

/// No export run manifests at `location`; `found` is what is there.
pub(crate) fn no_exports(location: String, found: Vec<String>) -> Error {
    finops_core::Error::NoExports {
        what: "Cost Management export manifests (manifest.json)",
        location,
        help: found_help(&found, "folders"),
        found,
    }
    .into()
}

/// `--export` names an export that has no manifests at `location`.
pub(crate) fn unknown_export(export: String, location: String, found: Vec<String>) -> Error {
    finops_core::Error::UnknownExport {
        what: "export named",
        export,
        location,
        help: found_help(&found, "exports"),
        found,
    }
    .into()
}

impl Error {
    /// Why a manifest is invalid, or the message of any other error.
    pub(crate) fn reason(self) -> String {
        match self {
            Self::Core(c) => c.reason(),
            other => other.to_string(),
        }
    }
}

fn found_help(found: &[String], what: &str) -> String {
    if found.is_empty() {
        "the location is empty: check the account, container and --prefix (the export's root folder path)".into()
    } else {
        format!(
            "{what} found there: {}",
            finops_core::error::found_list(found)
        )
    }
}
