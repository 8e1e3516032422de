//! Errors of the Azure vendor. Each carries the facts (container, blob, export) and a help line.

use miette::Diagnostic;

/// Result with the Azure [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong reading Azure Cost Management exports.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// No export run manifest (`manifest.json`) under the location.
    ///
    /// Resolution: check account, container and prefix; the help lists what is there.
    #[error("no Cost Management export manifests (manifest.json) under {location}")]
    #[diagnostic(
        code(finops::azure::no_exports),
        help("{}", found_help(found, "folders"))
    )]
    NoExports {
        /// `azure://account/container/prefix/` or the local directory.
        location: String,
        /// Top-level folders that do exist there.
        found: Vec<String>,
    },

    /// `--export` names an export that has no manifests.
    ///
    /// Resolution: use one of the export names the help lists.
    #[error("no export named `{export}` under {location}")]
    #[diagnostic(
        code(finops::azure::unknown_export),
        help("{}", found_help(found, "exports"))
    )]
    UnknownExport {
        /// The name asked for.
        export: String,
        /// Where we looked.
        location: String,
        /// Exports that do exist.
        found: Vec<String>,
    },

    /// A manifest is not what Cost Management writes.
    ///
    /// Resolution: re-run the export in the Azure portal; only that month fails.
    #[error("manifest {location} is invalid: {reason}")]
    #[diagnostic(
        code(finops::azure::manifest_invalid),
        help(
            "re-run the export for that month (Cost Management > Exports > Run now); the other months load normally"
        )
    )]
    ManifestInvalid {
        /// The manifest's path.
        location: String,
        /// What is wrong.
        reason: String,
    },

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

fn found_help(found: &[String], what: &str) -> String {
    if found.is_empty() {
        "the location is empty: check the account, container and --prefix (the export's root folder path)".into()
    } else {
        let mut list: Vec<&str> = found.iter().map(String::as_str).take(10).collect();
        if found.len() > 10 {
            list.push("…");
        }
        format!("{what} found there: {}", list.join(", "))
    }
}
