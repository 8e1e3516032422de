//! Where an export lives: an S3 bucket (core's [`S3Store`], the AWS SDK's default
//! credential chain) or a local directory holding a copy of `s3://<bucket>/<prefix>/`
//! (core's [`LocalStore`]). Keys here are relative to the export's root (`<prefix>/` in S3,
//! the directory locally): `<report>/…`. What is AWS's own: the credential chain, the words
//! of its help, and where a manifest's keys may point.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::Client;
use finops_core::store::LocalStore;
use finops_core::store::s3::S3Store;

use crate::config::AwsConfig;
use crate::error::Result;

/// An export's storage.
#[derive(Clone)]
pub(crate) struct Store {
    inner: Arc<dyn finops_core::store::Store>,
    /// A local copy (the original S3 prefix of a manifest's keys is then unknown).
    local: bool,
}

/// What `--path` is, when it is not a directory.
const DIRECTORY_HELP: &str = "--path is the local copy of s3://<bucket>/<prefix>/: the folder that holds the export folders (<report>/<YYYYMMDD-YYYYMMDD>/ or <export>/metadata/)";
/// What to do about a data file a manifest names that is not there.
const MISSING_HELP: &str = "AWS may still be delivering this period, or the local copy is incomplete; the period is retried on the next run";

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
            return Ok(Self {
                inner: Arc::new(LocalStore::new(dir, DIRECTORY_HELP, MISSING_HELP)),
                local: true,
            });
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
        let s3 = S3Store::new(
            Client::from_conf(b.build()),
            bucket,
            prefix,
            crate::error::s3_help,
            MISSING_HELP,
        );
        Ok(Self {
            inner: Arc::new(s3),
            local: false,
        })
    }

    /// `s3://bucket/prefix/report/` or the local directory, for messages.
    pub(crate) fn describe(&self, report: &str) -> String {
        if self.local || report.is_empty() {
            self.inner.describe(report)
        } else {
            self.inner.describe(&format!("{report}/"))
        }
    }

    /// Where `rel` (`<report>/…`) is, for messages: `s3://bucket/prefix/rel` or a path.
    pub(crate) fn full_key(&self, rel: &str) -> String {
        self.inner.describe(rel)
    }

    /// The names of the folders directly under `rel` (`""` = the folder holding reports).
    /// `rel` is relative to the prefix; it ends with `/` unless empty.
    pub(crate) async fn list_dirs(&self, rel: &str) -> miette::Result<Vec<String>> {
        self.inner.list_dirs(rel).await
    }

    /// Reads a small object (a manifest). `Ok(None)` when it does not exist.
    pub(crate) async fn read_small(&self, rel: &str) -> miette::Result<Option<Vec<u8>>> {
        self.inner.read_small(rel).await
    }

    /// Fetches `rels` into `dir` (in place locally), `concurrency` at a time, with core's
    /// size and gzip checks. Returns each file's local path and size, in order.
    pub(crate) async fn fetch_all(
        &self,
        rels: &[String],
        dir: &Path,
        concurrency: usize,
        bar: &finops_core::output::ProgressBar,
    ) -> miette::Result<Vec<(PathBuf, u64)>> {
        finops_core::store::fetch_all(self.inner.as_ref(), rels, dir, concurrency, bar).await
    }

    /// Turns a data file named by a manifest (a key, or an `s3://bucket/key` URL) into a key
    /// relative to the store, checking it lies under `<prefix>/<export>/`. Locally the
    /// original S3 prefix is unknown, so it is taken from the key itself.
    pub(crate) fn data_key(&self, export: &str, key: &str, location: &str) -> Result<String> {
        let key = key
            .strip_prefix("s3://")
            .map_or(key, |rest| rest.split_once('/').map_or(rest, |(_, k)| k));
        let root = if self.local {
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
                    crate::cur::CurReport::is_period_dir(first).is_some()
                        || first == "data"
                        || first == "metadata"
                })
                .or_else(|| starts.first().copied())
                .unwrap_or(0);
            format!("{}{marker}", &key[..at])
        } else {
            format!("{}{export}/", self.inner.prefix())
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
    ) -> miette::Result<Vec<finops_core::vendor::DeliveryFile>> {
        if sizes.is_none() {
            *sizes = Some(self.inner.list_files(&format!("{export}/")).await?);
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
}
