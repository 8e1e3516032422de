//! `[gcp]` configuration: where the exported files are and how to reach them.

use finops_core::config::{KeySpec, Kind};
use serde::Deserialize;

/// Keys of the `[gcp]` section.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "gcp.path",
        kind: Kind::Str,
        default: None,
        flag: Some("--path"),
        value_name: Some("DIR|gs://BUCKET/PREFIX"),
        alias: None,
        doc: "the folder EXPORT DATA writes to: a local copy, or gs://bucket/prefix in Cloud Storage; it holds invoice_month=YYYYMM folders (or export folders that do)",
    },
    KeySpec {
        key: "gcp.table",
        kind: Kind::Str,
        default: None,
        flag: Some("--table"),
        value_name: Some("PROJECT.DATASET.TABLE"),
        alias: None,
        doc: "a billing export table in BigQuery, read directly (one query per invoice month) instead of files",
    },
    KeySpec {
        key: "gcp.max_bytes_billed",
        kind: Kind::Int,
        default: Some("10737418240"),
        flag: Some("--max-bytes-billed"),
        value_name: Some("BYTES"),
        alias: None,
        doc: "the most bytes one BigQuery query may bill (maximumBytesBilled); a query that would scan more is refused before it runs",
    },
    KeySpec {
        key: "gcp.bigquery_endpoint",
        kind: Kind::Str,
        default: None,
        flag: Some("--bigquery-endpoint"),
        value_name: Some("URL"),
        alias: None,
        doc: "BigQuery API endpoint (default https://bigquery.googleapis.com; bqemulator: http://127.0.0.1:9050)",
    },
    KeySpec {
        key: "gcp.job_project",
        kind: Kind::Str,
        default: None,
        flag: Some("--job-project"),
        value_name: Some("PROJECT"),
        alias: None,
        doc: "the project BigQuery query jobs run (and are billed) in; default: the table's project",
    },
    KeySpec {
        key: "gcp.export",
        kind: Kind::Str,
        default: None,
        flag: Some("--export"),
        value_name: Some("NAME"),
        alias: None,
        doc: "only this export (the folder holding the invoice_month= folders); default: every export found",
    },
    KeySpec {
        key: "gcp.endpoint",
        kind: Kind::Str,
        default: None,
        flag: Some("--endpoint"),
        value_name: Some("URL"),
        alias: None,
        doc: "Cloud Storage endpoint (default https://storage.googleapis.com; fake-gcs-server: http://127.0.0.1:4443)",
    },
    KeySpec {
        key: "gcp.credentials",
        kind: Kind::Str,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "service-account key file (JSON); default: application default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the GCE/GKE metadata server)",
    },
    finops_core::config::concurrency_key("gcp.concurrency"),
];

/// `[gcp]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpConfig {
    /// Local folder or `gs://bucket/prefix`.
    pub path: Option<String>,
    /// A BigQuery table.
    pub table: Option<String>,
    /// The byte ceiling of one query.
    pub max_bytes_billed: u64,
    /// BigQuery endpoint.
    pub bigquery_endpoint: Option<String>,
    /// The project query jobs run in.
    pub job_project: Option<String>,
    /// Export name.
    pub export: Option<String>,
    /// Cloud Storage endpoint.
    pub endpoint: Option<String>,
    /// Service-account key file.
    pub credentials: Option<String>,
    /// Parallel downloads.
    pub concurrency: u16,
}

impl Default for GcpConfig {
    /// The declared defaults of its keys.
    fn default() -> Self {
        finops_core::config::defaults(KEYS, "gcp")
    }
}

/// Where the files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A local folder.
    Local(std::path::PathBuf),
    /// A bucket and a prefix (without slashes at either end; may be empty).
    Gcs {
        /// Bucket name.
        bucket: String,
        /// Folder inside it.
        prefix: String,
    },
}

impl GcpConfig {
    /// Where `gcp.path` points.
    pub fn location(&self) -> finops_core::Result<Location> {
        let Some(path) = self.path.as_deref().filter(|p| !p.trim().is_empty()) else {
            return Err(finops_core::Error::ConfigInvalid {
                message: "say where the billing export is: gcp.path (--path DIR|gs://BUCKET/PREFIX) for the files EXPORT DATA writes, or gcp.table (--table PROJECT.DATASET.TABLE) for the BigQuery table".into(),
            });
        };
        parse_location(path).map_err(|message| finops_core::Error::ConfigInvalid { message })
    }
}

/// A BigQuery table `PROJECT.DATASET.TABLE` (the project may hold `-`, `:` and `.` of a
/// domain-scoped project: `example.com:proj`), as its three parts.
pub fn parse_table(table: &str) -> Result<(String, String, String), String> {
    let bad = || {
        format!(
            "gcp.table `{table}` is not PROJECT.DATASET.TABLE (letters, digits, `_`, and `-` or `:` in the project)"
        )
    };
    let (rest, table_id) = table.rsplit_once('.').ok_or_else(bad)?;
    let (project, dataset) = rest.rsplit_once('.').ok_or_else(bad)?;
    let word = |s: &str, extra: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c))
    };
    if word(project, "-:.") && word(dataset, "") && word(table_id, "-$") {
        Ok((project.to_owned(), dataset.to_owned(), table_id.to_owned()))
    } else {
        Err(bad())
    }
}

/// `gs://bucket/prefix` or a local path.
pub fn parse_location(path: &str) -> Result<Location, String> {
    let Some(rest) = path.strip_prefix("gs://") else {
        if path.contains("://") {
            return Err(format!(
                "gcp.path `{path}` is neither a local folder nor gs://BUCKET/PREFIX"
            ));
        }
        return Ok(Location::Local(path.into()));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!(
            "gcp.path `{path}` names no bucket: write gs://BUCKET/PREFIX"
        ));
    }
    Ok(Location::Gcs {
        bucket: bucket.to_owned(),
        prefix: prefix.trim_matches('/').to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("gs://b/billing/gcp/").unwrap(),
            Location::Gcs {
                bucket: "b".into(),
                prefix: "billing/gcp".into()
            }
        );
        assert_eq!(
            parse_location("gs://b").unwrap(),
            Location::Gcs {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            parse_location("./exports").unwrap(),
            Location::Local("./exports".into())
        );
        assert!(parse_location("gs:///x").is_err());
        assert!(parse_location("s3://b/x").is_err());
    }

    #[test]
    fn defaults() {
        assert_eq!(GcpConfig::default().concurrency, 4);
        assert_eq!(GcpConfig::default().max_bytes_billed, 10 << 30);
    }

    #[test]
    fn tables() {
        assert_eq!(
            parse_table("my-proj.billing.gcp_billing_export_v1_0123AB").unwrap(),
            (
                "my-proj".into(),
                "billing".into(),
                "gcp_billing_export_v1_0123AB".into()
            )
        );
        assert_eq!(
            parse_table("example.com:proj.b.t").unwrap().0,
            "example.com:proj"
        );
        assert!(parse_table("b.t").is_err());
        assert!(parse_table("p.b.t` WHERE 1=1; --").is_err());
        assert!(parse_table("p.d-x.t").is_err());
    }
}
