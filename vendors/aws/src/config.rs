//! `[aws]` configuration: where the export lives and how to reach it.

use std::path::PathBuf;

use finops_core::Redacted;
use finops_core::config::{KeySpec, Kind};
use serde::Deserialize;

/// Keys of the `[aws]` section.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "aws.bucket",
        kind: Kind::Str,
        default: None,
        flag: Some("--bucket"),
        doc: "S3 bucket the export is delivered to",
    },
    KeySpec {
        key: "aws.prefix",
        kind: Kind::Str,
        default: Some(""),
        flag: Some("--prefix"),
        doc: "S3 path prefix of the export",
    },
    KeySpec {
        key: "aws.report",
        kind: Kind::Str,
        default: None,
        flag: Some("--report"),
        doc: "report (export) name",
    },
    KeySpec {
        key: "aws.path",
        kind: Kind::Str,
        default: None,
        flag: Some("--path"),
        doc: "local directory holding a copy of the export instead of S3",
    },
    KeySpec {
        key: "aws.profile",
        kind: Kind::Str,
        default: None,
        flag: Some("--profile"),
        doc: "shared config/credentials profile",
    },
    KeySpec {
        key: "aws.region",
        kind: Kind::Str,
        default: None,
        flag: Some("--region"),
        doc: "region of the bucket (default: from the AWS config chain)",
    },
    KeySpec {
        key: "aws.endpoint_url",
        kind: Kind::Str,
        default: None,
        flag: Some("--endpoint-url"),
        doc: "S3-compatible endpoint; path-style addressing is used",
    },
    KeySpec {
        key: "aws.access_key_id",
        kind: Kind::Str,
        default: None,
        flag: None,
        doc: "static access key id (prefer the credential chain)",
    },
    KeySpec {
        key: "aws.secret_access_key",
        kind: Kind::Secret,
        default: None,
        flag: None,
        doc: "static secret access key (prefer the credential chain)",
    },
    KeySpec {
        key: "aws.session_token",
        kind: Kind::Secret,
        default: None,
        flag: None,
        doc: "session token for static credentials",
    },
    KeySpec {
        key: "aws.concurrency",
        kind: Kind::Int,
        default: Some("4"),
        flag: Some("--concurrency"),
        doc: "files downloaded at once",
    },
];

/// The spec of one key (a programming error if it is not declared).
pub(crate) fn spec(key: &str) -> &'static KeySpec {
    KEYS.iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("undeclared aws key {key}"))
}

/// `[aws]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsConfig {
    /// S3 bucket.
    pub bucket: Option<String>,
    /// Prefix inside the bucket (no leading or trailing `/` needed).
    pub prefix: String,
    /// Report name.
    pub report: Option<String>,
    /// Local export tree instead of S3.
    pub path: Option<PathBuf>,
    /// Profile.
    pub profile: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Custom endpoint.
    pub endpoint_url: Option<String>,
    /// Static access key id.
    pub access_key_id: Option<String>,
    /// Static secret.
    pub secret_access_key: Option<Redacted<String>>,
    /// Static session token.
    pub session_token: Option<Redacted<String>>,
    /// Parallel downloads.
    pub concurrency: u16,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            bucket: None,
            prefix: String::new(),
            report: None,
            path: None,
            profile: None,
            region: None,
            endpoint_url: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            concurrency: 4,
        }
    }
}

impl AwsConfig {
    /// The prefix without leading or trailing slashes.
    pub fn clean_prefix(&self) -> &str {
        self.prefix.trim_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_specs() {
        let c = AwsConfig::default();
        assert_eq!(spec("aws.concurrency").default, Some("4"));
        assert_eq!(c.concurrency, 4);
        assert_eq!(spec("aws.prefix").default, Some(c.prefix.as_str()));
        assert_eq!(
            spec("aws.endpoint_url").env_name(),
            "FINOPS_AWS_ENDPOINT_URL"
        );
    }
}
