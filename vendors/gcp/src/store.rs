//! Where the exported files are: a Cloud Storage bucket (through `object_store`, with
//! Google's credential chain) as a core [`Store`], or a local folder (core's
//! [`LocalStore`]). Both also list each file's time and version tag, which the exports need
//! to fingerprint a month and to tell apart shards of different `EXPORT DATA` runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use finops_core::store::object::ObjectStoreBackend;
use finops_core::store::{LocalStore, Store};
use object_store::gcp::GoogleCloudStorageBuilder;

use crate::config::{GcpConfig, Location};

/// One listed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    /// Size in bytes.
    pub size: u64,
    /// When it was written, in seconds since the epoch.
    pub modified: Option<i64>,
    /// Its version: the object's generation or ETag in Cloud Storage, a hash of its ends
    /// locally.
    pub tag: String,
}

/// What `gcp.path` is, when it is not a folder.
const DIRECTORY_HELP: &str = "gcp.path (--path) is the folder EXPORT DATA writes to (or a local copy of it): it holds invoice_month=YYYYMM folders, or export folders that do";
/// What to do about a file listed but gone.
const MISSING_HELP: &str =
    "the export may have been re-run while finops read it; the month is retried on the next run";

/// The files and their store.
pub(crate) struct Source {
    /// The store the files are fetched from.
    pub store: Arc<dyn Store>,
    /// The bucket, when remote.
    gcs: Option<Arc<ObjectStoreBackend>>,
    /// The local folder, when local.
    local: Option<std::path::PathBuf>,
}

impl Source {
    /// The location `gcp.path` names.
    pub(crate) fn from_config(cfg: &GcpConfig) -> finops_core::Result<Self> {
        match cfg.location()? {
            Location::Local(dir) => Ok(Self {
                store: Arc::new(LocalStore::new(&dir, DIRECTORY_HELP, MISSING_HELP)),
                gcs: None,
                local: Some(dir),
            }),
            Location::Gcs { bucket, prefix } => {
                let gcs = Arc::new(gcs_store(cfg, &bucket, &prefix)?);
                Ok(Self {
                    store: gcs.clone(),
                    gcs: Some(gcs),
                    local: None,
                })
            }
        }
    }

    /// Every file under the root, with its metadata.
    pub(crate) async fn list(&self) -> miette::Result<BTreeMap<String, FileMeta>> {
        if let Some(gcs) = &self.gcs {
            return Ok(gcs
                .list_meta()
                .await?
                .into_iter()
                .map(|(rel, m)| {
                    let meta = FileMeta {
                        size: m.size,
                        modified: Some(m.last_modified.timestamp()),
                        tag: m.version.or(m.e_tag).unwrap_or_default(),
                    };
                    (rel, meta)
                })
                .collect());
        }
        let dir = self.local.as_ref().expect("local or remote");
        let sizes = self.store.list_files("").await?;
        let mut out = BTreeMap::new();
        for (rel, size) in sizes {
            let path = dir.join(&rel);
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_secs()).ok());
            let tag = content_tag(&path, size).map_err(finops_core::Error::io("reading", &path))?;
            out.insert(
                rel,
                FileMeta {
                    size,
                    modified,
                    tag,
                },
            );
        }
        Ok(out)
    }
}

/// Bytes read from each end of a local file for its tag.
const TAG_BYTES: u64 = 64 << 10;

/// A local file's version tag: a hash of its first and last 64 KiB (with its size, in the
/// fingerprint). The same bytes give the same tag wherever the copy is and whenever it was
/// made; a re-export differs in its Parquet footer or gzip trailer, at least. Reading the
/// ends only keeps a run with nothing new fast however large the files.
fn content_tag(path: &Path, size: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let mut head = Vec::new();
    (&mut f).take(TAG_BYTES).read_to_end(&mut head)?;
    let mut tail = Vec::new();
    if size > TAG_BYTES {
        f.seek(SeekFrom::Start((size - TAG_BYTES).max(TAG_BYTES)))?;
        f.read_to_end(&mut tail)?;
    }
    let h = finops_core::vendor::fnv1a(
        &tail,
        finops_core::vendor::fnv1a(&head, finops_core::vendor::FNV_OFFSET),
    );
    Ok(format!("{h:016x}"))
}

/// A Cloud Storage client builder with the configured endpoint and credentials: the key
/// file of `gcp.credentials`, else `GOOGLE_APPLICATION_CREDENTIALS`, else the gcloud
/// application default credentials or the GCE/GKE metadata server (workload identity).
pub(crate) fn builder(
    cfg: &GcpConfig,
    bucket: &str,
) -> finops_core::Result<GoogleCloudStorageBuilder> {
    let mut b = GoogleCloudStorageBuilder::new()
        .with_bucket_name(bucket)
        .with_retry(object_store::RetryConfig::default());
    if let Some(ep) = &cfg.endpoint {
        b = b
            .with_base_url(ep.trim_end_matches('/'))
            .with_client_options(
                object_store::ClientOptions::new().with_allow_http(ep.starts_with("http://")),
            );
    }
    if let Some(key) = &cfg.credentials {
        if !Path::new(key).is_file() {
            return Err(finops_core::Error::ConfigInvalid {
                message: format!(
                    "gcp.credentials `{key}` is not a file: it should be a service-account key (JSON)"
                ),
            });
        }
        b = b.with_service_account_path(key);
    } else if let Some(path) = finops_core::env::var("GOOGLE_APPLICATION_CREDENTIALS") {
        b = b.with_application_credentials(path);
    }
    Ok(b)
}

/// The bucket `bucket` of `cfg`, rooted at `prefix`, as core's `object_store` backend.
fn gcs_store(
    cfg: &GcpConfig,
    bucket: &str,
    prefix: &str,
) -> finops_core::Result<ObjectStoreBackend> {
    let client = builder(cfg, bucket)?
        .build()
        .map_err(|e| finops_core::Error::ConfigInvalid {
            message: format!("cannot configure Cloud Storage access: {e}"),
        })?;
    Ok(ObjectStoreBackend::new(
        Arc::new(client),
        format!("gs://{bucket}"),
        prefix,
        MISSING_HELP,
        Box::new(gcs_error),
    ))
}

/// A failed Cloud Storage call, with what to do about it.
fn gcs_error(
    operation: &'static str,
    location: String,
    source: &object_store::Error,
) -> finops_core::Error {
    let (code, help) = match source {
        object_store::Error::NotFound { .. } => (
            Some("NotFound".to_owned()),
            "check the bucket and prefix in gcp.path (gs://BUCKET/PREFIX)",
        ),
        object_store::Error::Unauthenticated { .. } => (
            Some("Unauthenticated".to_owned()),
            "no valid credentials: set gcp.credentials to a service-account key file, or run `gcloud auth application-default login`",
        ),
        object_store::Error::PermissionDenied { .. } => (
            Some("PermissionDenied".to_owned()),
            "the credentials were refused: the account needs roles/storage.objectViewer on the bucket",
        ),
        _ => (
            None,
            "check gcp.path, the endpoint, the network and the credentials; the call was retried before failing",
        ),
    };
    finops_core::Error::Remote {
        service: "Cloud Storage",
        operation,
        location,
        code,
        message: source
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        help: help.to_owned(),
    }
}
