//! Errors of the AWS vendor. Each carries the facts (bucket, key, period) and a help line.

use miette::Diagnostic;

/// Result with the AWS [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong reading an AWS export.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A folder holds an export finops cannot classify.
    ///
    /// Resolution: the manifest must list CUR 2.0 or FOCUS columns.
    #[error("cannot tell what kind of export `{export}` is: {reason}")]
    #[diagnostic(
        code(finops::aws::unknown_kind),
        help(
            "finops reads CUR v1 (<report>/<YYYYMMDD-YYYYMMDD>/), CUR 2.0 and FOCUS Data Exports (<export>/metadata/BILLING_PERIOD=YYYY-MM/); check --report and --prefix"
        )
    )]
    UnknownKind {
        /// The folder name.
        export: String,
        /// Why.
        reason: String,
    },

    /// A manifest names a data file outside the export's own location.
    ///
    /// Resolution: refuse it; a manifest must only name files of its own export.
    #[error("the manifest {location} names `{key}`, which is outside the export location `{root}`")]
    #[diagnostic(
        code(finops::aws::key_outside_prefix),
        help(
            "finops only reads files under the export's own prefix; check that the manifest was not tampered with"
        )
    )]
    KeyOutsidePrefix {
        /// The manifest.
        location: String,
        /// The offending key.
        key: String,
        /// The export's root.
        root: String,
    },

    /// The manifest's compression is not supported.
    ///
    /// Resolution: configure the export with GZIP or Parquet.
    #[error("the manifest {location} uses compression `{compression}`, which finops does not read")]
    #[diagnostic(
        code(finops::aws::unsupported_compression),
        help("configure the report with GZIP or Parquet compression")
    )]
    UnsupportedCompression {
        /// The manifest.
        location: String,
        /// What it says.
        compression: String,
    },

    /// A CSV file's header does not match the manifest's column list.
    ///
    /// Resolution: the file belongs to another delivery or is damaged; re-sync it.
    #[error("`{key}` does not have the columns its manifest lists: missing {}", missing.join(", "))]
    #[diagnostic(
        code(finops::aws::header_mismatch),
        help(
            "the data file and the manifest are from different deliveries, or the file is damaged; re-sync the period"
        )
    )]
    HeaderMismatch {
        /// The file.
        key: String,
        /// Manifest columns absent from the header (first few).
        missing: Vec<String>,
    },

    /// A vendor-neutral failure (a corrupt data file, a warehouse error).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Core(#[from] finops_core::Error),

    /// A Cost Explorer call failed (after the SDK's retries).
    ///
    /// Resolution: follow the help for the specific error.
    #[error("Cost Explorer GetCostAndUsage failed: {message}")]
    #[diagnostic(code(finops::aws::cost_explorer), help("{}", ce_help(code.as_deref())))]
    CostExplorer {
        /// AWS's error code, if any.
        code: Option<String>,
        /// The message.
        message: String,
    },
}

/// What an AWS manifest is, in messages.
const MANIFEST: &str = "CUR manifest";
/// What to do about an invalid manifest.
const MANIFEST_HELP: &str =
    "this period is skipped until AWS delivers a readable manifest; other periods still load";

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

/// No manifests for `report` (or no such report) at `location`; `found` is what is there.
pub(crate) fn no_manifests(report: String, location: String, found: Vec<String>) -> Error {
    finops_core::Error::UnknownExport {
        what: "CUR manifests for report",
        export: report,
        location,
        help: no_manifest_help(&found),
        found,
    }
    .into()
}

/// Nothing at `location` looks like an export.
pub(crate) fn no_exports(location: String, found: Vec<String>) -> Error {
    finops_core::Error::NoExports {
        what: "AWS billing exports",
        location,
        help: no_exports_help(&found),
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

fn no_manifest_help(found: &[String]) -> String {
    if found
        .iter()
        .any(|f| crate::cur::CurReport::is_period_dir(f).is_some() || f == "metadata")
    {
        format!(
            "the folders there ({}) are billing periods, not reports: --path (or --prefix) is one level too deep. Pass the folder that holds the report's folder",
            found.join(", ")
        )
    } else if found.is_empty() {
        "nothing is there at all: check the bucket, the prefix (it is the part before the report name) and the report name".to_owned()
    } else {
        format!(
            "reports found at that prefix: {}; check --report and --prefix",
            finops_core::error::found_list(found)
        )
    }
}

fn no_exports_help(found: &[String]) -> String {
    let inside_an_export = found.iter().any(|f| {
        crate::cur::CurReport::is_period_dir(f).is_some() || f == "metadata" || f == "data"
    });
    if inside_an_export {
        format!(
            "the folders there ({}) are one export's billing periods: this is an export's own folder. Pass its parent (the folder that holds export folders) as --path or --prefix; --report picks one export",
            found.join(", ")
        )
    } else if found.is_empty() {
        "nothing is there at all: check the bucket and the prefix (the folder that holds the export folders)".to_owned()
    } else {
        format!(
            "folders there: {}; none holds CUR manifests (<name>/<YYYYMMDD-YYYYMMDD>/) or Data Exports metadata (<name>/metadata/); check --prefix",
            found.join(", ")
        )
    }
}

fn ce_help(code: Option<&str>) -> String {
    match code {
        Some("NoCredentials") => s3_help(code),
        Some("AccessDeniedException") => "the credentials in use need ce:GetCostAndUsage (Cost Explorer must be enabled in the payer account)".to_owned(),
        Some("LimitExceededException" | "ThrottlingException") => "Cost Explorer throttled every retry; run again later or ask for fewer months".to_owned(),
        Some("DataUnavailableException") => "Cost Explorer has no data for this range yet (it keeps 13 months, 38 with multi-year data enabled)".to_owned(),
        Some("ValidationException") => "check --group-by (at most two; DIMENSION:KEY, TAG:KEY, COST_CATEGORY:KEY) and --metrics".to_owned(),
        _ => "check the credentials (--profile), --endpoint-url and the network; run with -v for details".to_owned(),
    }
}

/// AWS's help for an S3 error code (core's [`finops_core::store::s3::describe`] codes).
pub(crate) fn s3_help(code: Option<&str>) -> String {
    match code {
        Some("AccessDenied" | "Forbidden" | "403") => {
            "the credentials in use may not read this bucket: check --profile, AWS_PROFILE or the role, and the bucket policy (s3:ListBucket and s3:GetObject)".to_owned()
        }
        Some("NoSuchBucket") => "check the bucket name (--bucket or aws.bucket) and --region".to_owned(),
        Some("InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken") => {
            "the credentials were rejected: refresh them (aws sso login, new keys) or pick another --profile".to_owned()
        }
        Some("PermanentRedirect" | "301") => "the bucket is in another region: pass --region".to_owned(),
        Some("NoCredentials") => {
            "finops uses the AWS credential chain: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or aws.access_key_id and aws.secret_access_key), pick a profile of ~/.aws/credentials or ~/.aws/config with --profile or AWS_PROFILE, log in with `aws sso login`, or run where an instance, task or pod role is available".to_owned()
        }
        Some("Dispatch") => "the endpoint could not be reached: check --endpoint-url, the network and proxy settings".to_owned(),
        _ => "check the bucket, prefix, region and credentials; run with -v for details".to_owned(),
    }
}
