//! Where an export lives: an S3 bucket (aws-sdk-s3, the default credential chain) or a local
//! directory holding a copy of `s3://<bucket>/<prefix>/`. Keys here are relative to the
//! export's root (`<prefix>/<report>/` in S3, `<dir>/<report>/` locally).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use tokio::io::AsyncWriteExt;

use crate::config::AwsConfig;
use crate::error::{Error, Result};

/// Largest manifest read into memory.
const MAX_MANIFEST_BYTES: usize = 64 << 20;

/// An export's storage.
#[derive(Clone)]
pub(crate) enum Store {
    /// S3 (or an S3-compatible endpoint).
    S3 {
        /// SDK client.
        client: Client,
        /// Bucket.
        bucket: String,
        /// `<prefix>/` or empty: where report folders live.
        prefix: String,
    },
    /// A local copy: `dir` holds `<report>/…`.
    Local {
        /// The directory.
        dir: PathBuf,
    },
}

/// The SDK configuration from `[aws]`: the default credential chain (env, profiles, SSO,
/// assume-role, IMDS) with the configured profile and region, or static keys from config.
pub(crate) async fn sdk_config(cfg: &AwsConfig) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &cfg.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) {
        loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
            id,
            secret.expose(),
            cfg.session_token.as_ref().map(|t| t.expose().clone()),
            None,
            "finops-config",
        ));
    }
    loader.load().await
}

/// Five attempts with exponential backoff: S3 and Cost Explorer throttle.
pub(crate) fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard().with_max_attempts(5)
}

impl Store {
    /// Builds the store from config: `path` means local, else `bucket` with the SDK's
    /// credential chain (env, profiles, SSO, assume-role, IMDS), or static keys from config.
    pub(crate) async fn from_config(cfg: &AwsConfig) -> finops_core::Result<Self> {
        if let Some(dir) = &cfg.path {
            return Ok(Self::Local { dir: dir.clone() });
        }
        let bucket = cfg
            .bucket
            .clone()
            .ok_or_else(|| crate::config::spec("aws.bucket").missing())?;
        let sdk = sdk_config(cfg).await;
        let mut b = aws_sdk_s3::config::Builder::from(&sdk).retry_config(retry_config());
        if sdk.region().is_none() {
            tracing::debug!("no region configured; using us-east-1");
            b = b.region(aws_config::Region::new("us-east-1"));
        }
        if let Some(ep) = &cfg.endpoint_url {
            b = b.endpoint_url(ep).force_path_style(true);
        }
        let prefix = match cfg.clean_prefix() {
            "" => String::new(),
            p => format!("{p}/"),
        };
        Ok(Self::S3 {
            client: Client::from_conf(b.build()),
            bucket,
            prefix,
        })
    }

    /// `s3://bucket/prefix/report/` or the local directory, for messages.
    pub(crate) fn describe(&self, report: &str) -> String {
        match self {
            Self::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}{report}/"),
            Self::Local { dir } => dir.join(report).display().to_string(),
        }
    }

    /// The full key (or path) of `rel`, a key relative to the prefix (`<report>/…`).
    pub(crate) fn full_key(&self, rel: &str) -> String {
        match self {
            Self::S3 { prefix, .. } => format!("{prefix}{rel}"),
            Self::Local { dir } => dir.join(rel).display().to_string(),
        }
    }

    /// The names of the folders directly under `rel` (`""` = the folder holding reports).
    /// `rel` is relative to the prefix; it ends with `/` unless empty.
    pub(crate) async fn list_dirs(&self, rel: &str) -> Result<Vec<String>> {
        match self {
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let full = format!("{prefix}{rel}");
                let mut pages = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(&full)
                    .delimiter("/")
                    .into_paginator()
                    .send();
                let mut out = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| s3_error("ListObjectsV2", bucket, &full, &e))?;
                    for p in page.common_prefixes() {
                        if let Some(name) = p.prefix().and_then(|p| p.strip_prefix(&full)) {
                            out.push(name.trim_end_matches('/').to_owned());
                        }
                    }
                }
                Ok(out)
            }
            Self::Local { dir } => {
                let path = dir.join(rel);
                if !dir.is_dir() {
                    return Err(Error::NoLocalPath {
                        path: dir.display().to_string(),
                        is_file: dir.is_file(),
                    });
                }
                let Ok(entries) = std::fs::read_dir(&path) else {
                    return Ok(Vec::new());
                };
                let mut out: Vec<String> = entries
                    .filter_map(std::result::Result::ok)
                    .filter(|e| {
                        matches!(
                            finops_core::vendor::local_entry(dir, &e.path()),
                            finops_core::vendor::LocalEntry::Dir(_)
                        )
                    })
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect();
                out.sort();
                Ok(out)
            }
        }
    }

    /// Sizes of every object under `rel` (relative to the prefix), recursively.
    pub(crate) async fn sizes(&self, rel: &str) -> Result<BTreeMap<String, u64>> {
        match self {
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let full = format!("{prefix}{rel}");
                let mut pages = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(&full)
                    .into_paginator()
                    .send();
                let mut out = BTreeMap::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| s3_error("ListObjectsV2", bucket, &full, &e))?;
                    for o in page.contents() {
                        if let (Some(k), Some(size)) = (o.key(), o.size()) {
                            out.insert(
                                k.strip_prefix(prefix.as_str()).unwrap_or(k).to_owned(),
                                u64::try_from(size).unwrap_or(0),
                            );
                        }
                    }
                }
                Ok(out)
            }
            Self::Local { dir } => Ok(finops_core::vendor::local_files(&dir.join(rel), dir)
                .into_iter()
                .map(|(k, v)| (format!("{rel}{k}"), v))
                .collect()),
        }
    }

    /// Reads a small object (a manifest). `Ok(None)` when it does not exist.
    pub(crate) async fn read_small(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let key = format!("{prefix}{rel}");
                let resp = match client.get_object().bucket(bucket).key(&key).send().await {
                    Ok(r) => r,
                    Err(e)
                        if e.as_service_error().is_some_and(
                            aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                        ) =>
                    {
                        return Ok(None);
                    }
                    Err(e) => return Err(s3_error("GetObject", bucket, &key, &e)),
                };
                if resp
                    .content_length()
                    .is_some_and(|l| usize::try_from(l).unwrap_or(usize::MAX) > MAX_MANIFEST_BYTES)
                {
                    return Err(Error::ManifestInvalid {
                        location: format!("s3://{bucket}/{key}"),
                        reason: "larger than 64 MiB".into(),
                    });
                }
                let bytes = resp.body.collect().await.map_err(|e| Error::S3 {
                    operation: "GetObject",
                    bucket: bucket.clone(),
                    key: key.clone(),
                    code: None,
                    message: e.to_string(),
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Self::Local { dir } => {
                let path = dir.join(rel);
                match std::fs::read(&path) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(Error::Io {
                        action: "reading",
                        path: path.display().to_string(),
                        source,
                    }),
                }
            }
        }
    }

    /// Makes the object `rel` available as a local file: downloads it into `dir` (S3,
    /// streaming, memory flat) or returns the local path. Verifies the size when known.
    pub(crate) async fn fetch(
        &self,
        rel: &str,
        dir: &Path,
        bar: &finops_core::output::ProgressBar,
    ) -> Result<(PathBuf, u64)> {
        match self {
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let key = format!("{prefix}{rel}");
                let resp = client
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| {
                        if e.as_service_error().is_some_and(
                            aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                        ) {
                            Error::MissingDataFile {
                                key: format!("s3://{bucket}/{key}"),
                            }
                        } else {
                            s3_error("GetObject", bucket, &key, &e)
                        }
                    })?;
                let expected = resp.content_length().and_then(|l| u64::try_from(l).ok());
                let dest = dir.join(rel.replace('/', "__"));
                let io_err = |source| Error::Io {
                    action: "writing",
                    path: dest.display().to_string(),
                    source,
                };
                let mut file = tokio::fs::File::create(&dest).await.map_err(io_err)?;
                let mut body = resp.body;
                let mut written = 0u64;
                while let Some(chunk) = body.next().await {
                    let chunk = chunk.map_err(|e| Error::S3 {
                        operation: "GetObject",
                        bucket: bucket.clone(),
                        key: key.clone(),
                        code: None,
                        message: e.to_string(),
                    })?;
                    file.write_all(&chunk).await.map_err(|source| Error::Io {
                        action: "writing",
                        path: dest.display().to_string(),
                        source,
                    })?;
                    written += chunk.len() as u64;
                    bar.inc(chunk.len() as u64);
                    finops_core::fault::point("download");
                }
                file.flush().await.map_err(|source| Error::Io {
                    action: "writing",
                    path: dest.display().to_string(),
                    source,
                })?;
                if let Some(expected) = expected.filter(|e| *e != written) {
                    return Err(Error::SizeMismatch {
                        key: format!("s3://{bucket}/{key}"),
                        expected,
                        actual: written,
                    });
                }
                Ok((dest, written))
            }
            Self::Local { dir: root } => {
                let path = root.join(rel);
                let meta = std::fs::metadata(&path).map_err(|_| Error::MissingDataFile {
                    key: path.display().to_string(),
                })?;
                bar.inc(meta.len());
                Ok((path, meta.len()))
            }
        }
    }
}

impl Store {
    /// Turns a data file named by a manifest (a key, or an `s3://bucket/key` URL) into a key
    /// relative to the store, checking it lies under `<prefix>/<export>/`. Locally the
    /// original S3 prefix is unknown, so it is taken from the key itself.
    pub(crate) fn data_key(&self, export: &str, key: &str, location: &str) -> Result<String> {
        let key = key
            .strip_prefix("s3://")
            .map_or(key, |rest| rest.split_once('/').map_or(rest, |(_, k)| k));
        let root = match self {
            Self::S3 { prefix, .. } => format!("{prefix}{export}/"),
            Self::Local { .. } => {
                // `<export>/` where a path segment starts and the export's own folders follow
                // (a billing-period folder, `data`, `metadata`): the prefix may itself end in
                // a folder named like the export (`s3://b/cur/cur/20240101-20240201/…`).
                let marker = format!("{export}/");
                let starts: Vec<usize> = key
                    .match_indices(&marker)
                    .map(|(i, _)| i)
                    .filter(|&i| i == 0 || key.as_bytes()[i - 1] == b'/')
                    .collect();
                let at = starts
                    .iter()
                    .copied()
                    .find(|&i| {
                        let first = key[i + marker.len()..].split('/').next().unwrap_or("");
                        crate::cur::CurSource::is_period_dir(first).is_some()
                            || first == "data"
                            || first == "metadata"
                    })
                    .or_else(|| starts.first().copied())
                    .unwrap_or(0);
                format!("{}{marker}", &key[..at])
            }
        };
        let rel = crate::manifest::relative_key(key, &root, location)?;
        Ok(format!("{export}/{rel}"))
    }

    /// The data files a manifest at `location` names (`keys`), each with its size from a
    /// listing of `<export>/`, made on first use and kept in `sizes` for the other periods.
    pub(crate) async fn delivery_files(
        &self,
        export: &str,
        keys: &[String],
        location: &str,
        sizes: &mut Option<BTreeMap<String, u64>>,
    ) -> Result<Vec<finops_core::vendor::DeliveryFile>> {
        if sizes.is_none() {
            *sizes = Some(self.sizes(&format!("{export}/")).await?);
        }
        let sizes = sizes.as_ref().expect("just set");
        Ok(keys
            .iter()
            .map(|k| finops_core::vendor::DeliveryFile {
                size: self
                    .data_key(export, k, location)
                    .ok()
                    .and_then(|r| sizes.get(&r).copied()),
                key: k.clone(),
            })
            .collect())
    }

    /// Fetches `rels` into `dir`, `concurrency` at a time, checking each `.gz` file decodes
    /// completely. Returns each file's local path and size, in order.
    pub(crate) async fn fetch_all(
        &self,
        rels: &[String],
        dir: &Path,
        concurrency: usize,
        bar: &finops_core::output::ProgressBar,
    ) -> Result<Vec<(PathBuf, u64)>> {
        use futures_util::{StreamExt, TryStreamExt, stream};
        stream::iter(rels.iter().cloned().map(|rel| async move {
            let (path, size) = self.fetch(&rel, dir, bar).await?;
            if rel.to_ascii_lowercase().ends_with(".gz") {
                let p = path.clone();
                let key = self.full_key(&rel);
                tokio::task::spawn_blocking(move || finops_core::load::verify_gzip(&p, &key))
                    .await
                    .map_err(|e| Error::Io {
                        action: "verifying",
                        path: path.display().to_string(),
                        source: std::io::Error::other(e),
                    })??;
            }
            Ok::<_, Error>((path, size))
        }))
        .buffered(concurrency.max(1))
        .try_collect()
        .await
    }
}

fn s3_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
    bucket: &str,
    key: &str,
    err: &SdkError<E, R>,
) -> Error {
    let (code, message) = match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e
                .code()
                .map(str::to_owned)
                .or_else(|| Some(status_code(se.raw())));
            let message = e.message().map_or_else(|| e.to_string(), str::to_owned);
            let message = match code.as_deref() {
                Some(c) if !c.is_empty() => format!("{c}: {message}"),
                _ => message,
            };
            (code, message)
        }
        SdkError::DispatchFailure(d) => {
            let detail = d
                .as_connector_error()
                .map_or_else(|| format!("{d:?}"), |c| source_chain(c));
            // The SDK reports a credential chain that found nothing as a dispatch failure.
            if detail.contains("credential") {
                (
                    Some("NoCredentials".into()),
                    format!("no AWS credentials were found ({detail})"),
                )
            } else {
                (
                    Some("Dispatch".into()),
                    format!("cannot reach the endpoint: {detail}"),
                )
            }
        }
        SdkError::TimeoutError(_) => (Some("Dispatch".into()), "timed out".into()),
        other => {
            let text = source_chain(other);
            let code = text
                .contains("credentials")
                .then(|| "NoCredentials".to_owned());
            (code, text)
        }
    };
    Error::S3 {
        operation,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        code,
        message,
    }
}

fn status_code<R: std::fmt::Debug>(raw: &R) -> String {
    // The raw response's Debug form starts with its status; good enough for a code hint.
    let text = format!("{raw:?}");
    ["403", "404", "301", "500", "503"]
        .iter()
        .find(|c| text.contains(*c))
        .map_or_else(String::new, |c| (*c).to_owned())
}

/// An error and its sources on one line.
pub(crate) fn source_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cur = e.source();
    }
    text
}
