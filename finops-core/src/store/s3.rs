//! The S3-compatible backend of [`Store`](super::Store) (feature `s3`): AWS S3, and any
//! storage that speaks the S3 API (Oracle Object Storage's compatibility endpoint, `MinIO`).
//! The vendor builds the client (with its own credential chain: AWS's default chain, an OCI
//! customer secret key) and says what to do about credentials; the rest is here.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::{DownloadFile, Downloaded, MAX_SMALL_OBJECT, Store, source_chain};
use crate::error::Error;
use crate::output::ProgressBar;
use crate::vendor::BoxFuture;

/// A bucket (and prefix) on an S3-compatible service.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    help: fn(Option<&str>) -> String,
    missing_help: &'static str,
}

impl S3Store {
    /// `bucket`, rooted at `prefix` (`p/` or empty), through `client`. `help` is the
    /// vendor's help for an error code ([`describe`]'s: `AccessDenied`, `NoCredentials`…;
    /// [`help`] is a neutral one to build on); `missing_help` what to do when a file a
    /// manifest names is not there.
    pub fn new(
        client: Client,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
        help: fn(Option<&str>) -> String,
        missing_help: &'static str,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            prefix: prefix.into(),
            help,
            missing_help,
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
        &self,
        operation: &'static str,
        key: &str,
        err: &SdkError<E, R>,
    ) -> Error {
        let (code, message) = describe(err);
        let help = (self.help)(code.as_deref());
        Error::Remote {
            service: "S3",
            operation,
            location: format!("s3://{}/{key}", self.bucket),
            code,
            message,
            help,
        }
    }
}

impl Store for S3Store {
    fn describe(&self, rel: &str) -> String {
        format!("s3://{}/{}{rel}", self.bucket, self.prefix)
    }

    fn prefix(&self) -> &str {
        &self.prefix
    }

    fn missing_help(&self) -> &str {
        self.missing_help
    }

    fn list_dirs<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Vec<String>>> {
        Box::pin(async move {
            let full = format!("{}{rel}", self.prefix);
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full)
                .delimiter("/")
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("ListObjectsV2", &full, &e))?;
                for p in page.common_prefixes() {
                    if let Some(name) = p.prefix().and_then(|p| p.strip_prefix(&full)) {
                        out.push(name.trim_end_matches('/').to_owned());
                    }
                }
            }
            out.sort();
            Ok(out)
        })
    }

    fn list_files<'a>(
        &'a self,
        rel: &'a str,
    ) -> BoxFuture<'a, miette::Result<BTreeMap<String, u64>>> {
        Box::pin(async move {
            let full = format!("{}{rel}", self.prefix);
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full)
                .into_paginator()
                .send();
            let mut out = BTreeMap::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("ListObjectsV2", &full, &e))?;
                for o in page.contents() {
                    if let (Some(k), Some(size)) = (o.key(), o.size()) {
                        out.insert(
                            k.strip_prefix(self.prefix.as_str()).unwrap_or(k).to_owned(),
                            u64::try_from(size).unwrap_or(0),
                        );
                    }
                }
            }
            Ok(out)
        })
    }

    fn read_small<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let key = format!("{}{rel}", self.prefix);
            let resp = match self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(self.error("GetObject", &key, &e).into()),
            };
            if resp
                .content_length()
                .is_some_and(|l| u64::try_from(l).unwrap_or(u64::MAX) > MAX_SMALL_OBJECT)
            {
                return Err(Error::DeliveryUnreadable {
                    message: format!(
                        "the manifest s3://{}/{key} is larger than 64 MiB",
                        self.bucket
                    ),
                    help: "a manifest is a small JSON file: check that the prefix is right".into(),
                }
                .into());
            }
            let bytes = resp.body.collect().await.map_err(|e| Error::Remote {
                service: "S3",
                operation: "GetObject",
                location: format!("s3://{}/{key}", self.bucket),
                code: None,
                message: e.to_string(),
                help: (self.help)(None),
            })?;
            Ok(Some(bytes.into_bytes().to_vec()))
        })
    }

    fn download<'a>(
        &'a self,
        rel: &'a str,
        dest: &'a Path,
        bar: &'a ProgressBar,
    ) -> BoxFuture<'a, miette::Result<Downloaded>> {
        Box::pin(async move {
            let key = format!("{}{rel}", self.prefix);
            let resp = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    if e.as_service_error().is_some_and(
                        aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                    ) {
                        Error::MissingDataFile {
                            key: format!("s3://{}/{key}", self.bucket),
                            help: self.missing_help().to_owned(),
                        }
                    } else {
                        self.error("GetObject", &key, &e)
                    }
                })?;
            let expected = resp.content_length().and_then(|l| u64::try_from(l).ok());
            let mut file = DownloadFile::create(dest, bar).await?;
            let mut body = resp.body;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| Error::Remote {
                    service: "S3",
                    operation: "GetObject",
                    location: format!("s3://{}/{key}", self.bucket),
                    code: None,
                    message: e.to_string(),
                    help: (self.help)(None),
                })?;
                file.write(&chunk).await?;
            }
            Ok(file.finish(expected).await?)
        })
    }
}

/// A code (`NoSuchBucket`, `NoCredentials`, `Dispatch`…) and a message for an SDK error.
pub fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    err: &SdkError<E, R>,
) -> (Option<String>, String) {
    match err {
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
                    format!("no credentials were found ({detail})"),
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
    }
}

/// A neutral help for an S3 error `code`; `credentials` is the vendor's help about
/// credentials.
pub fn help(code: Option<&str>, credentials: &str) -> String {
    match code {
        Some("AccessDenied" | "Forbidden" | "403") => {
            format!("the credentials in use may not read this bucket (s3:ListBucket and s3:GetObject are needed); {credentials}")
        }
        Some("NoSuchBucket") => "check the bucket name and the region".to_owned(),
        Some("InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken") => {
            format!("the credentials were rejected; {credentials}")
        }
        Some("PermanentRedirect" | "301") => "the bucket is in another region: pass --region".to_owned(),
        Some("NoCredentials") => credentials.to_owned(),
        Some("Dispatch") => "the endpoint could not be reached: check --endpoint-url, the network and proxy settings".to_owned(),
        _ => "check the bucket, prefix, region and credentials; run with -v for details".to_owned(),
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
