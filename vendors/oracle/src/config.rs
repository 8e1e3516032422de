//! `[oracle]` configuration: which tenancy's reports, where, and how to reach them.

use finops_core::Redacted;
use finops_core::config::{KeySpec, Kind};
use serde::Deserialize;

/// Keys of the `[oracle]` section.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "oracle.tenancy",
        kind: Kind::Str,
        default: None,
        flag: Some("--tenancy"),
        value_name: Some("OCID"),
        alias: None,
        doc: "the tenancy OCID: Oracle's reports bucket in the bling namespace is named after it",
    },
    KeySpec {
        key: "oracle.region",
        kind: Kind::Str,
        default: None,
        flag: Some("--region"),
        value_name: Some("REGION"),
        alias: None,
        doc: "the tenancy's home region (us-ashburn-1…): the reports are there only",
    },
    KeySpec {
        key: "oracle.path",
        kind: Kind::Str,
        default: None,
        flag: Some("--path"),
        value_name: Some("DIR"),
        alias: None,
        doc: "local copy of the reports bucket (oci os object bulk-download --namespace bling --bucket-name <tenancy>), read instead of Object Storage",
    },
    KeySpec {
        key: "oracle.export",
        kind: Kind::Str,
        default: None,
        flag: Some("--export"),
        value_name: Some("NAME"),
        alias: None,
        doc: "only this export: focus (FOCUS Reports/) or cost (reports/cost-csv/); default: both",
    },
    KeySpec {
        key: "oracle.auth",
        kind: Kind::Str,
        default: None,
        flag: Some("--auth"),
        value_name: Some("HOW"),
        alias: None,
        doc: "how to reach Object Storage: api_key (an ~/.oci/config profile), instance_principal (the OCI compute instance finops runs on), secret_key (a customer secret key, S3-compatible API); default: secret_key when oracle.access_key_id is set, else api_key",
    },
    KeySpec {
        key: "oracle.federation_endpoint",
        kind: Kind::Str,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "instance principals: the endpoint that issues security tokens (default https://auth.<the instance's region>.oraclecloud.com/v1/x509); the metadata service is $OCI_METADATA_BASE_URL, else http://169.254.169.254/opc/v2",
    },
    KeySpec {
        key: "oracle.profile",
        kind: Kind::Str,
        default: None,
        flag: Some("--profile"),
        value_name: Some("NAME"),
        alias: None,
        doc: "the API-key profile of the OCI configuration file that signs requests (default $OCI_CLI_PROFILE, else DEFAULT); its tenancy and region are the defaults of oracle.tenancy and oracle.region",
    },
    KeySpec {
        key: "oracle.config_file",
        kind: Kind::Str,
        default: None,
        flag: Some("--oci-config"),
        value_name: Some("FILE"),
        alias: None,
        doc: "the OCI configuration file (default $OCI_CLI_CONFIG_FILE, else ~/.oci/config)",
    },
    KeySpec {
        key: "oracle.passphrase",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "passphrase of the profile's encrypted key_file (default: the profile's pass_phrase)",
    },
    KeySpec {
        key: "oracle.endpoint",
        kind: Kind::Str,
        default: None,
        flag: Some("--endpoint"),
        value_name: Some("URL"),
        alias: None,
        doc: "Object Storage endpoint (default https://objectstorage.<region>.oraclecloud.com; with a customer secret key the S3-compatible https://bling.compat.objectstorage.<region>.oraclecloud.com)",
    },
    KeySpec {
        key: "oracle.access_key_id",
        kind: Kind::Str,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "customer secret key: its access key (Identity > Users > Customer secret keys); when set, Object Storage is read through its S3-compatible API instead of with the API-key profile",
    },
    KeySpec {
        key: "oracle.secret_access_key",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "customer secret key: its secret",
    },
    finops_core::config::concurrency_key("oracle.concurrency"),
];

/// `[oracle]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConfig {
    /// Tenancy OCID (the bucket).
    pub tenancy: Option<String>,
    /// Home region.
    pub region: Option<String>,
    /// Local copy instead of Object Storage.
    pub path: Option<std::path::PathBuf>,
    /// Export name.
    pub export: Option<String>,
    /// How to authenticate.
    pub auth: Option<String>,
    /// Instance principals' token endpoint.
    pub federation_endpoint: Option<String>,
    /// API-key profile.
    pub profile: Option<String>,
    /// OCI configuration file.
    pub config_file: Option<std::path::PathBuf>,
    /// Passphrase of the profile's key.
    pub passphrase: Option<Redacted<String>>,
    /// Object Storage endpoint.
    pub endpoint: Option<String>,
    /// Customer secret key id.
    pub access_key_id: Option<String>,
    /// Customer secret key.
    pub secret_access_key: Option<Redacted<String>>,
    /// Parallel downloads.
    pub concurrency: u16,
}

impl Default for OracleConfig {
    /// The declared defaults of its keys.
    fn default() -> Self {
        finops_core::config::defaults(KEYS, "oracle")
    }
}

/// The spec of `key`.
pub(crate) fn spec(key: &str) -> &'static KeySpec {
    finops_core::config::spec_of(KEYS, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!(OracleConfig::default().concurrency, 4);
    }
}
