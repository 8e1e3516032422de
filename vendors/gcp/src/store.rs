//! Where the exported files are: a Cloud Storage bucket (through `object_store`, with
//! Google's credential chain) as a core [`Store`], or a local folder (core's
//! [`LocalStore`]). Both also list each file's time and version tag, which the exports need
//! to fingerprint a month and to tell apart shards of different `EXPORT DATA` runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use finops_core::output::ProgressBar;
use finops_core::store::{DownloadFile, Downloaded, LocalStore, Store};
use finops_core::vendor::BoxFuture;
use futures_util::StreamExt;
use object_store::ObjectStore as _;
use object_store::ObjectStoreExt as _;
use object_store::gcp::{GoogleCloudStorage, GoogleCloudStorageBuilder};
use object_store::path::Path as ObjectPath;

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
    gcs: Option<Arc<GcsStore>>,
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
                let gcs = Arc::new(GcsStore::new(cfg, &bucket, &prefix)?);
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
            return gcs.list_meta().await;
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
    let h = crate::exports::fnv1a(
        &tail,
        crate::exports::fnv1a(&head, crate::exports::FNV_OFFSET),
    );
    Ok(format!("{h:016x}"))
}

/// A bucket, rooted at a prefix.
pub(crate) struct GcsStore {
    client: GoogleCloudStorage,
    /// For messages: `gs://bucket`.
    root: String,
    /// `prefix/` or empty.
    prefix: String,
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

impl GcsStore {
    fn new(cfg: &GcpConfig, bucket: &str, prefix: &str) -> finops_core::Result<Self> {
        let b = builder(cfg, bucket)?;
        let client = b.build().map_err(|e| finops_core::Error::ConfigInvalid {
            message: format!("cannot configure Cloud Storage access: {e}"),
        })?;
        Ok(Self {
            client,
            root: format!("gs://{bucket}"),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    fn error(
        &self,
        operation: &'static str,
        rel: &str,
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
        let text = source.to_string();
        finops_core::Error::Remote {
            service: "Cloud Storage",
            operation,
            location: self.describe(rel),
            code,
            message: text.lines().next().unwrap_or_default().to_owned(),
            help: help.to_owned(),
        }
    }

    async fn list_meta(&self) -> miette::Result<BTreeMap<String, FileMeta>> {
        let mut out = BTreeMap::new();
        let p = ObjectPath::from(self.prefix.trim_end_matches('/'));
        let mut stream = self.client.list(if self.prefix.is_empty() {
            None
        } else {
            Some(&p)
        });
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|e| self.error("list", "", &e))?;
            let name = meta.location.to_string();
            if let Some(r) = name.strip_prefix(self.prefix.as_str()) {
                out.insert(
                    r.to_owned(),
                    FileMeta {
                        size: meta.size,
                        modified: Some(meta.last_modified.timestamp()),
                        tag: meta
                            .version
                            .clone()
                            .or_else(|| meta.e_tag.clone())
                            .unwrap_or_default(),
                    },
                );
            }
        }
        Ok(out)
    }
}

impl Store for GcsStore {
    fn describe(&self, rel: &str) -> String {
        format!("{}/{}{rel}", self.root, self.prefix)
    }

    fn prefix(&self) -> &str {
        &self.prefix
    }

    fn missing_help(&self) -> &str {
        MISSING_HELP
    }

    fn list_dirs<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Vec<String>>> {
        Box::pin(async move {
            let p = ObjectPath::from(format!("{}{rel}", self.prefix).trim_end_matches('/'));
            let listing = self
                .client
                .list_with_delimiter(Some(&p))
                .await
                .map_err(|e| self.error("list", rel, &e))?;
            let mut out: Vec<String> = listing
                .common_prefixes
                .iter()
                .filter_map(|d| d.filename().map(str::to_owned))
                .collect();
            out.sort();
            Ok(out)
        })
    }

    fn list_files<'a>(
        &'a self,
        rel: &'a str,
    ) -> BoxFuture<'a, miette::Result<BTreeMap<String, u64>>> {
        Box::pin(async move {
            Ok(self
                .list_meta()
                .await?
                .into_iter()
                .filter(|(k, _)| k.starts_with(rel))
                .map(|(k, m)| (k, m.size))
                .collect())
        })
    }

    fn read_small<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let path = ObjectPath::from(format!("{}{rel}", self.prefix));
            match self.client.get(&path).await {
                Ok(g) => Ok(Some(
                    g.bytes()
                        .await
                        .map_err(|e| self.error("get", rel, &e))?
                        .to_vec(),
                )),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.error("get", rel, &e).into()),
            }
        })
    }

    fn download<'a>(
        &'a self,
        rel: &'a str,
        dest: &'a Path,
        bar: &'a ProgressBar,
    ) -> BoxFuture<'a, miette::Result<Downloaded>> {
        Box::pin(async move {
            let path = ObjectPath::from(format!("{}{rel}", self.prefix));
            let get = match self.client.get(&path).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(finops_core::Error::MissingDataFile {
                        key: self.describe(rel),
                        help: MISSING_HELP.to_owned(),
                    }
                    .into());
                }
                Err(e) => return Err(self.error("get", rel, &e).into()),
            };
            let expected = Some(get.meta.size);
            let mut file = DownloadFile::create(dest, bar).await?;
            let mut stream = get.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.error("get", rel, &e))?;
                file.write(&chunk).await?;
            }
            Ok(file.finish(expected).await?)
        })
    }
}
