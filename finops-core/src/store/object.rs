//! A [`Store`] over any `object_store` client (Azure Blob Storage, Google Cloud Storage…),
//! rooted at a prefix: listing, small reads and streamed downloads written once. A vendor
//! builds the client with its own credentials and says how its service's errors read.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt as _};

use super::{DownloadFile, Downloaded, MAX_SMALL_OBJECT, Store};
use crate::error::Error;
use crate::output::ProgressBar;
use crate::vendor::BoxFuture;

/// How a vendor turns a failed call into an error: (operation, location, the error).
pub type ErrorMapper =
    Box<dyn Fn(&'static str, String, &object_store::Error) -> Error + Send + Sync>;

/// A bucket or container, rooted at a prefix.
pub struct ObjectStoreBackend {
    client: Arc<dyn ObjectStore>,
    /// For messages: `gs://bucket`, `azure://account/container`.
    root: String,
    /// `prefix/` or empty.
    prefix: String,
    missing_help: &'static str,
    error: ErrorMapper,
}

impl ObjectStoreBackend {
    /// `client` rooted at `prefix` (slashes at either end ignored); `root` names the bucket
    /// in messages, `missing_help` says what to do about a file listed but gone, `error`
    /// reads the service's errors.
    pub fn new(
        client: Arc<dyn ObjectStore>,
        root: String,
        prefix: &str,
        missing_help: &'static str,
        error: ErrorMapper,
    ) -> Self {
        let prefix = prefix.trim_matches('/');
        Self {
            client,
            root,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            missing_help,
            error,
        }
    }

    fn error(&self, operation: &'static str, rel: &str, e: &object_store::Error) -> Error {
        (self.error)(operation, self.describe(rel), e)
    }

    /// Every object under the prefix, relative to it, with its metadata (size, time, entity tag,
    /// version).
    pub async fn list_meta(&self) -> miette::Result<BTreeMap<String, ObjectMeta>> {
        let mut out = BTreeMap::new();
        let p = ObjectPath::from(self.prefix.trim_end_matches('/'));
        let mut stream = self.client.list(if self.prefix.is_empty() {
            None
        } else {
            Some(&p)
        });
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|e| self.error("list", "", &e))?;
            if let Some(r) = meta.location.as_ref().strip_prefix(self.prefix.as_str()) {
                out.insert(r.to_owned(), meta);
            }
        }
        Ok(out)
    }
}

impl Store for ObjectStoreBackend {
    fn describe(&self, rel: &str) -> String {
        format!("{}/{}{rel}", self.root, self.prefix)
    }

    fn prefix(&self) -> &str {
        &self.prefix
    }

    fn missing_help(&self) -> &str {
        self.missing_help
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
            let mut out = BTreeMap::new();
            let full = format!("{}{rel}", self.prefix);
            let p = ObjectPath::from(full.trim_end_matches('/'));
            let mut stream = self
                .client
                .list(if full.is_empty() { None } else { Some(&p) });
            while let Some(meta) = stream.next().await {
                let meta = meta.map_err(|e| self.error("list", rel, &e))?;
                if let Some(r) = meta.location.as_ref().strip_prefix(self.prefix.as_str()) {
                    out.insert(r.to_owned(), meta.size);
                }
            }
            Ok(out)
        })
    }

    fn read_small<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let path = ObjectPath::from(format!("{}{rel}", self.prefix));
            let get = match self.client.get(&path).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(self.error("get", rel, &e).into()),
            };
            if get.meta.size > MAX_SMALL_OBJECT {
                return Err(Error::DeliveryUnreadable {
                    message: format!("the manifest {} is larger than 64 MiB", self.describe(rel)),
                    help: "a manifest is a small JSON file: check that the prefix is right".into(),
                }
                .into());
            }
            let bytes = get.bytes().await.map_err(|e| self.error("get", rel, &e))?;
            Ok(Some(bytes.to_vec()))
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
                    return Err(Error::MissingDataFile {
                        key: self.describe(rel),
                        help: self.missing_help.to_owned(),
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
