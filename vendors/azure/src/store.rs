//! Where the exports are: a Blob Storage container (through `object_store`, with its
//! credential chain) or a local copy of it. Paths are relative to the configured prefix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::ObjectStore as _;
use object_store::ObjectStoreExt as _;
use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::path::Path as BlobPath;
use tokio::io::AsyncWriteExt;

use crate::config::{AzureConfig, ConnectionString};
use crate::error::{Error, Result};

/// A container (and prefix) or a local directory.
#[derive(Clone)]
pub(crate) enum Store {
    /// Blob Storage.
    Blob {
        /// The client, scoped to the container.
        client: Arc<MicrosoftAzure>,
        /// For messages: `azure://account/container`.
        root: String,
        /// `prefix/` or empty.
        prefix: String,
    },
    /// A local copy of the container's prefix.
    Local {
        /// The directory.
        dir: PathBuf,
    },
}

impl Store {
    /// Local when `azure.path` is set; else the container, authenticated by (in order) a
    /// connection string, an account key, a SAS token, a service principal, the Azure CLI, or
    /// the ambient identity (workload identity, managed identity).
    pub(crate) fn from_config(cfg: &AzureConfig) -> Result<Self> {
        if let Some(dir) = &cfg.path {
            return Ok(Self::Local { dir: dir.clone() });
        }
        let spec = |k: &str| {
            crate::config::KEYS
                .iter()
                .find(|s| s.key == k)
                .expect("declared key")
        };
        let container = cfg
            .container
            .clone()
            .ok_or_else(|| spec("azure.container").missing())?;
        let conn = match &cfg.connection_string {
            Some(s) => ConnectionString::parse(s.expose()).map_err(|reason| {
                finops_core::Error::ConfigInvalid {
                    message: format!(
                        "azure.connection_string is not a storage connection string: {reason}"
                    ),
                }
            })?,
            None => ConnectionString::default(),
        };
        let account = cfg
            .account
            .clone()
            .or_else(|| conn.account.clone())
            .or_else(|| {
                conn.endpoint
                    .as_deref()
                    .and_then(|e| {
                        e.rsplit('/')
                            .next()
                            .filter(|s| !s.is_empty() && !s.contains(':'))
                    })
                    .map(str::to_owned)
            })
            .ok_or_else(|| spec("azure.account").missing())?;
        let endpoint = cfg.endpoint.clone().or(conn.endpoint.clone());
        let mut b = MicrosoftAzureBuilder::new()
            .with_account(&account)
            .with_container_name(&container)
            .with_retry(object_store::RetryConfig::default());
        if let Some(ep) = &endpoint {
            b = b
                .with_endpoint(ep.trim_end_matches('/').to_owned())
                .with_allow_http(ep.starts_with("http://"));
        }
        if let Some(key) = cfg
            .account_key
            .as_ref()
            .map(|k| k.expose().clone())
            .or(conn.key.clone())
        {
            b = b.with_access_key(key);
        } else if let Some(sas) = cfg
            .sas_token
            .as_ref()
            .map(|s| s.expose().clone())
            .or(conn.sas.clone())
        {
            let pairs = sas
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect::<Vec<_>>();
            b = b.with_sas_authorization(pairs);
        } else if let (Some(id), Some(secret), Some(tenant)) =
            (&cfg.client_id, &cfg.client_secret, &cfg.tenant_id)
        {
            b = b.with_client_secret_authorization(id, secret.expose(), tenant);
        } else if cfg.use_azure_cli {
            b = b.with_use_azure_cli(true);
        } else if let Some(id) = &cfg.client_id {
            // A user-assigned managed identity.
            b = b.with_client_id(id);
        }
        let client = b.build().map_err(|e| finops_core::Error::ConfigInvalid {
            message: format!("cannot configure Blob Storage access: {e}"),
        })?;
        let prefix = match cfg.clean_prefix() {
            "" => String::new(),
            p => format!("{p}/"),
        };
        Ok(Self::Blob {
            client: Arc::new(client),
            root: format!("azure://{account}/{container}"),
            prefix,
        })
    }

    /// `azure://account/container/prefix/rel` or the local path, for messages.
    pub(crate) fn describe(&self, rel: &str) -> String {
        match self {
            Self::Blob { root, prefix, .. } => format!("{root}/{prefix}{rel}"),
            Self::Local { dir } => dir.join(rel).display().to_string(),
        }
    }

    /// The configured prefix (`p/` or empty; empty for a local copy).
    pub(crate) fn prefix(&self) -> &str {
        match self {
            Self::Blob { prefix, .. } => prefix,
            Self::Local { .. } => "",
        }
    }

    /// Every file under the prefix (recursively): path relative to the prefix → size.
    pub(crate) async fn list(&self) -> Result<BTreeMap<String, u64>> {
        match self {
            Self::Blob { client, prefix, .. } => {
                let mut out = BTreeMap::new();
                let p = BlobPath::from(prefix.trim_end_matches('/'));
                let mut stream = client.list(if prefix.is_empty() { None } else { Some(&p) });
                while let Some(meta) = stream.next().await {
                    let meta = meta.map_err(|source| Error::Blob {
                        action: "listing",
                        location: self.describe(""),
                        source,
                    })?;
                    let full = meta.location.to_string();
                    if let Some(rel) = full.strip_prefix(prefix.as_str()) {
                        out.insert(rel.to_owned(), meta.size);
                    }
                }
                Ok(out)
            }
            Self::Local { dir } => {
                if !dir.is_dir() {
                    return Err(finops_core::Error::Io {
                        action: "reading the directory".into(),
                        path: dir.clone(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "not a directory",
                        ),
                    }
                    .into());
                }
                Ok(finops_core::vendor::local_files(dir, dir))
            }
        }
    }

    /// A small file (a manifest), whole.
    pub(crate) async fn read(&self, rel: &str) -> Result<Vec<u8>> {
        match self {
            Self::Blob { client, prefix, .. } => {
                let path = BlobPath::from(format!("{prefix}{rel}"));
                let get = client.get(&path).await.map_err(|source| Error::Blob {
                    action: "reading",
                    location: self.describe(rel),
                    source,
                })?;
                Ok(get
                    .bytes()
                    .await
                    .map_err(|source| Error::Blob {
                        action: "reading",
                        location: self.describe(rel),
                        source,
                    })?
                    .to_vec())
            }
            Self::Local { dir } => {
                let path = dir.join(rel);
                std::fs::read(&path)
                    .map_err(finops_core::Error::io("reading", path))
                    .map_err(Into::into)
            }
        }
    }

    /// Brings one data file to `dir` (a local copy is read in place) and checks a `.gz`
    /// decodes to its end. Returns the local path and size.
    pub(crate) async fn fetch(
        &self,
        rel: &str,
        dir: &Path,
        bar: &finops_core::output::ProgressBar,
    ) -> Result<(PathBuf, u64)> {
        let (path, size) = match self {
            Self::Blob { client, prefix, .. } => {
                let blob = BlobPath::from(format!("{prefix}{rel}"));
                let blob_err = |source| Error::Blob {
                    action: "downloading",
                    location: self.describe(rel),
                    source,
                };
                let get = client.get(&blob).await.map_err(blob_err)?;
                let expected = get.meta.size;
                let dest = dir.join(rel.replace('/', "__"));
                let io = |e| Error::from(finops_core::Error::io("writing", &dest)(e));
                let mut file = tokio::fs::File::create(&dest).await.map_err(io)?;
                let mut stream = get.into_stream();
                let mut written = 0u64;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|source| Error::Blob {
                        action: "downloading",
                        location: self.describe(rel),
                        source,
                    })?;
                    file.write_all(&chunk).await.map_err(io)?;
                    written += chunk.len() as u64;
                    bar.inc(chunk.len() as u64);
                    finops_core::fault::point("download");
                }
                file.flush().await.map_err(io)?;
                if written != expected {
                    return Err(finops_core::Error::Io {
                        action: format!("downloading (got {written} of {expected} bytes)"),
                        path: dest,
                        source: std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
                    }
                    .into());
                }
                (dest, written)
            }
            Self::Local { dir: root } => {
                let path = root.join(rel);
                let len = std::fs::metadata(&path)
                    .map_err(finops_core::Error::io("reading", &path))?
                    .len();
                bar.inc(len);
                (path, len)
            }
        };
        if rel.to_ascii_lowercase().ends_with(".gz") {
            let (p, key) = (path.clone(), self.describe(rel));
            tokio::task::spawn_blocking(move || finops_core::load::verify_gzip(&p, &key))
                .await
                .map_err(|e| finops_core::Error::Io {
                    action: "verifying".into(),
                    path: path.clone(),
                    source: std::io::Error::other(e),
                })??;
        }
        Ok((path, size))
    }
}

/// `%XX` escapes decoded (SAS tokens are copied from the portal URL-encoded).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
