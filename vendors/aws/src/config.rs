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
        value_name: Some("BUCKET"),
        alias: None,
        doc: "S3 bucket the export is delivered to",
    },
    KeySpec {
        key: "aws.prefix",
        kind: Kind::Str,
        default: Some(""),
        flag: Some("--prefix"),
        value_name: Some("PREFIX"),
        alias: None,
        doc: "path prefix of the exports inside the bucket (the folder that holds the export folders)",
    },
    KeySpec {
        key: "aws.report",
        kind: Kind::Str,
        default: None,
        flag: Some("--report"),
        value_name: Some("NAME"),
        alias: Some("export"),
        doc: "only this export (report); default: every export found",
    },
    KeySpec {
        key: "aws.path",
        kind: Kind::Str,
        default: None,
        flag: Some("--path"),
        value_name: Some("DIR"),
        alias: None,
        doc: "local copy of s3://BUCKET/PREFIX/, read instead of S3",
    },
    KeySpec {
        key: "aws.profile",
        kind: Kind::Str,
        default: None,
        flag: Some("--profile"),
        value_name: Some("NAME"),
        alias: None,
        doc: "named profile of ~/.aws/config and ~/.aws/credentials",
    },
    KeySpec {
        key: "aws.region",
        kind: Kind::Str,
        default: None,
        flag: Some("--region"),
        value_name: Some("REGION"),
        alias: None,
        doc: "region of the bucket (default: the AWS config chain's, else us-east-1)",
    },
    KeySpec {
        key: "aws.endpoint_url",
        kind: Kind::Str,
        default: None,
        flag: Some("--endpoint-url"),
        value_name: Some("URL"),
        alias: None,
        doc: "S3-compatible endpoint, addressed path-style",
    },
    KeySpec {
        key: "aws.access_key_id",
        kind: Kind::Str,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "static access key id (prefer the credential chain)",
    },
    KeySpec {
        key: "aws.secret_access_key",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "static secret access key (prefer the credential chain)",
    },
    KeySpec {
        key: "aws.session_token",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "session token for static credentials",
    },
    finops_core::config::concurrency_key("aws.concurrency"),
];

/// The spec of one key (a programming error if it is not declared).
pub(crate) fn spec(key: &str) -> &'static KeySpec {
    finops_core::config::spec_of(KEYS, key)
}

/// `[aws]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The declared defaults of its keys.
    fn default() -> Self {
        finops_core::config::defaults(KEYS, "aws")
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
