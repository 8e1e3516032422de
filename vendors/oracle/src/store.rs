//! Where the reports are: the tenancy's bucket in Object Storage, through its S3-compatible
//! endpoint with a customer secret key (core's S3 backend), or a local copy of it.

use std::sync::Arc;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use finops_core::store::s3::S3Store;
use finops_core::store::{LocalStore, Store};

use crate::config::{OracleConfig, spec};

/// What `oracle.path` is, when it is not a directory.
const DIRECTORY_HELP: &str = "oracle.path (--path) is a local copy of the tenancy's reports bucket (oci os object bulk-download --namespace bling --bucket-name <tenancy OCID> --download-dir DIR): the folder that holds `FOCUS Reports/` and `reports/`";
/// What to do about a report listed but gone.
const MISSING_HELP: &str = "Oracle removes reports after a year; the local copy may be incomplete; the month is retried on the next run";

/// Local when `oracle.path` is set; else the tenancy's bucket.
pub(crate) fn from_config(cfg: &OracleConfig) -> finops_core::Result<Arc<dyn Store>> {
    if let Some(dir) = &cfg.path {
        return Ok(Arc::new(LocalStore::new(dir, DIRECTORY_HELP, MISSING_HELP)));
    }
    let tenancy = cfg
        .tenancy
        .clone()
        .ok_or_else(|| spec("oracle.tenancy").missing())?;
    let region = cfg
        .region
        .clone()
        .ok_or_else(|| spec("oracle.region").missing())?;
    let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) else {
        return Err(finops_core::Error::ConfigInvalid {
            message: "reading Object Storage needs a customer secret key: set oracle.access_key_id and oracle.secret_access_key (FINOPS_ORACLE_ACCESS_KEY_ID, FINOPS_ORACLE_SECRET_ACCESS_KEY), or read a local copy with --path".into(),
        });
    };
    let endpoint = cfg
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://bling.compat.objectstorage.{region}.oraclecloud.com"));
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            id,
            secret.expose(),
            None,
            None,
            "finops-oracle",
        ))
        .build();
    Ok(Arc::new(S3Store::new(
        aws_sdk_s3::Client::from_conf(conf),
        tenancy,
        "",
        help,
        MISSING_HELP,
    )))
}

/// What to do about an error code of Object Storage's S3 endpoint.
fn help(code: Option<&str>) -> String {
    match code {
        Some("NoSuchBucket" | "BucketNotFound" | "NotFound" | "404") => "no reports bucket for this tenancy here: check oracle.tenancy, and that oracle.region is the tenancy's home region (Oracle writes the reports there only and answers 404 from every other region)".into(),
        Some("AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "403" | "401") => "the customer secret key was refused: check oracle.access_key_id and oracle.secret_access_key, and that the user's group is endorsed to read objects in tenancy usage-report".into(),
        Some("RequestTimeTooSkewed") => "this machine's clock is more than 5 minutes off: Object Storage refuses the signature; set the time (NTP) and run again".into(),
        other => finops_core::store::s3::help(other, "oracle.access_key_id and oracle.secret_access_key"),
    }
}
