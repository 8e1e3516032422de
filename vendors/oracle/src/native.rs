//! Object Storage's native REST API (`/n/bling/b/<tenancy>/o`), signed with an API key
//! ([`crate::signer`]): listing page by page (`nextStartWith`) and streamed downloads, as a
//! core [`Store`]. HTTP is the `ureq` the build already has, run off the async runtime.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use finops_core::output::ProgressBar;
use finops_core::store::{DownloadFile, Downloaded, Store};
use finops_core::vendor::BoxFuture;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::principal::InstancePrincipal;
use crate::signer::ApiKey;

/// Who signs the requests.
pub(crate) enum Auth {
    /// An API key of an `~/.oci/config` profile.
    Key(ApiKey),
    /// The instance, through security tokens.
    Instance(InstancePrincipal),
}

/// What Object Storage leaves unescaped in a path segment or query value: RFC 3986's
/// unreserved characters (so `/` in an object name is `%2F`, a space `%20`).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The service, in messages.
const SERVICE: &str = "OCI Object Storage";

/// Objects per listing page (the API's maximum).
const PAGE: u32 = 1000;

/// Clock difference beyond which OCI refuses a signature.
const MAX_SKEW: Duration = Duration::from_secs(300);

/// Percent-encodes `s` for a path segment or a query value.
fn enc(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// The tenancy's reports bucket (`bling` namespace) through the native API.
pub(crate) struct NativeStore {
    inner: Arc<Inner>,
    missing_help: &'static str,
}

struct Inner {
    agent: ureq::Agent,
    /// `https://objectstorage.<region>.oraclecloud.com`.
    endpoint: String,
    /// The `Host` header: the endpoint's authority.
    host: String,
    /// `/n/bling/b/<tenancy>`, encoded.
    bucket_path: String,
    auth: Auth,
    /// For help: `profile [P] of FILE`.
    credentials: String,
    region: String,
}

impl NativeStore {
    /// The bucket `tenancy` in `namespace` at `endpoint`, signed by `auth`; `credentials`
    /// says where the key came from, in help.
    pub(crate) fn new(
        endpoint: &str,
        namespace: &str,
        tenancy: &str,
        region: &str,
        auth: Auth,
        credentials: String,
        missing_help: &'static str,
    ) -> finops_core::Result<Self> {
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let host = endpoint
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_owned())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| finops_core::Error::ConfigInvalid {
                message: format!(
                    "oracle.endpoint `{endpoint}` is not a URL (https://objectstorage.<region>.oraclecloud.com)"
                ),
            })?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_recv_body(Some(Duration::from_secs(600)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            inner: Arc::new(Inner {
                agent,
                bucket_path: format!("/n/{}/b/{}", enc(namespace), enc(tenancy)),
                endpoint,
                host,
                auth,
                credentials,
                region: region.to_owned(),
            }),
            missing_help,
        })
    }
}

/// A reply whose status is not 2xx, read into an error.
struct Refused {
    status: u16,
    code: Option<String>,
    message: String,
    /// The server's clock minus ours, when it sent a `Date`.
    skew: Option<i64>,
}

impl Inner {
    /// `GET target` (path and query, encoded), signed; a transport error or a 5xx/429 is
    /// retried twice.
    fn get(
        &self,
        operation: &'static str,
        location: &str,
        target: &str,
    ) -> finops_core::Result<Result<ureq::http::Response<ureq::Body>, Refused>> {
        let url = format!("{}{target}", self.endpoint);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let date = httpdate::fmt_http_date(SystemTime::now());
            let auth = match &self.auth {
                Auth::Key(k) => k.authorization("GET", target, &self.host, &date),
                Auth::Instance(p) => p.signer()?.authorization("GET", target, &self.host, &date),
            };
            let sent = self
                .agent
                .get(&url)
                .header("date", &date)
                .header("host", &self.host)
                .header("authorization", &auth)
                .header("accept", "application/json")
                .call();
            match sent {
                Ok(r) if r.status().is_success() => return Ok(Ok(r)),
                Ok(r) if attempt < 3 && (r.status().is_server_error() || r.status() == 429) => {}
                Ok(r)
                    if attempt == 1
                        && r.status() == 401
                        && matches!(self.auth, Auth::Instance(_)) =>
                {
                    // A token revoked or expired early: one more try with a new one.
                    if let Auth::Instance(p) = &self.auth {
                        p.invalidate();
                    }
                    continue;
                }
                Ok(r) => return Ok(Err(refused(r))),
                Err(e) if attempt < 3 => {
                    tracing::debug!("{operation} {location}: {e}; retrying");
                }
                Err(e) => {
                    return Err(finops_core::Error::Remote {
                        service: SERVICE,
                        operation,
                        location: location.to_owned(),
                        code: None,
                        message: e.to_string(),
                        help: format!(
                            "check the network and oracle.endpoint (now {})",
                            self.endpoint
                        ),
                    });
                }
            }
            std::thread::sleep(Duration::from_millis(250 * (1 << attempt)));
        }
    }

    /// The error for a refused call.
    fn error(&self, operation: &'static str, location: &str, r: Refused) -> finops_core::Error {
        let skewed = r
            .skew
            .filter(|s| s.unsigned_abs() > MAX_SKEW.as_secs())
            .map(|s| {
                format!(
                    "this machine's clock is {} s {} Object Storage's: OCI refuses a signature dated more than 5 minutes off; set the time (NTP) and run again",
                    s.abs(),
                    if s > 0 { "behind" } else { "ahead of" }
                )
            });
        let help = match (r.status, r.code.as_deref()) {
            (401, _) if skewed.is_some() => skewed.unwrap_or_default(),
            (401, _) if matches!(self.auth, Auth::Instance(_)) => format!(
                "Object Storage refused the instance's security token: {}",
                crate::principal::DENIED
            ),
            (401, _) => format!(
                "the API key was refused: check user, fingerprint and key_file of {} (the key's public half must be uploaded to that user: Identity > Users > API keys), and that tenancy is the user's tenancy",
                self.credentials
            ),
            (404, Some("BucketNotFound") | None) => format!(
                "no reports bucket for this tenancy in {}: check oracle.tenancy, and that oracle.region is the tenancy's home region (Oracle writes the reports there only and answers 404 from every other region)",
                self.region
            ),
            (403 | 404, _) => "the user may not read the reports: a policy must say `define tenancy usage-report as ocid1.tenancy.oc1..aaaaaaaaned4fkpkisbwjlr56u7cj63lf3wffbilvqknstgtvzub7vhqkggq` and `endorse group <its group> to read objects in tenancy usage-report`".into(),
            _ => format!(
                "Object Storage answered HTTP {}; check oracle.endpoint (now {}) and run again",
                r.status, self.endpoint
            ),
        };
        finops_core::Error::Remote {
            service: SERVICE,
            operation,
            location: location.to_owned(),
            code: r.code.or_else(|| Some(r.status.to_string())),
            message: if r.message.is_empty() {
                format!("HTTP {}", r.status)
            } else {
                r.message
            },
            help,
        }
    }

    /// The URL of `rel`, for messages.
    fn describe(&self, rel: &str) -> String {
        format!("{}{}/o/{rel}", self.endpoint, self.bucket_path)
    }

    /// Every object under `prefix`: name → size, page by page.
    fn list(&self, prefix: &str) -> finops_core::Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        let mut start: Option<String> = None;
        let location = self.describe(prefix);
        loop {
            let mut target = format!(
                "{}/o?prefix={}&fields=name%2Csize&limit={PAGE}",
                self.bucket_path,
                enc(prefix)
            );
            if let Some(s) = &start {
                target.push_str("&start=");
                target.push_str(&enc(s));
            }
            let r = match self.get("ListObjects", &location, &target)? {
                Ok(r) => r,
                Err(refused) => return Err(self.error("ListObjects", &location, refused)),
            };
            let page: ListPage = read_json(r).map_err(|message| finops_core::Error::Remote {
                service: SERVICE,
                operation: "ListObjects",
                location: location.clone(),
                code: None,
                message,
                help: "Object Storage answered something that is not an object listing; check oracle.endpoint".into(),
            })?;
            for o in page.objects {
                out.insert(o.name, o.size.unwrap_or(0));
            }
            match page.next_start_with {
                Some(next) if !next.is_empty() && start.as_deref() != Some(next.as_str()) => {
                    start = Some(next);
                }
                _ => return Ok(out),
            }
        }
    }

    /// `GET` the object `rel`: the response, or `None` when it does not exist.
    fn object(&self, rel: &str) -> finops_core::Result<Option<ureq::http::Response<ureq::Body>>> {
        let location = self.describe(rel);
        let target = format!("{}/o/{}", self.bucket_path, enc(rel));
        match self.get("GetObject", &location, &target)? {
            Ok(r) => Ok(Some(r)),
            Err(r) if r.status == 404 && r.code.as_deref() == Some("ObjectNotFound") => Ok(None),
            Err(r) => Err(self.error("GetObject", &location, r)),
        }
    }
}

/// One listing page.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListPage {
    #[serde(default)]
    objects: Vec<ObjectSummary>,
    next_start_with: Option<String>,
}

#[derive(serde::Deserialize)]
struct ObjectSummary {
    name: String,
    size: Option<u64>,
}

/// The JSON body of `r`.
fn read_json<T: serde::de::DeserializeOwned>(
    r: ureq::http::Response<ureq::Body>,
) -> Result<T, String> {
    let mut body = String::new();
    r.into_body()
        .into_reader()
        .take(64 << 20)
        .read_to_string(&mut body)
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&body)
        .map_err(|e| format!("{e}: {}", body.chars().take(200).collect::<String>()))
}

/// What a refused reply says: OCI's `{"code", "message"}` body, and its clock.
fn refused(r: ureq::http::Response<ureq::Body>) -> Refused {
    #[derive(serde::Deserialize)]
    struct Body {
        code: Option<String>,
        message: Option<String>,
    }
    let status = r.status().as_u16();
    let skew = r
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .map(|server| {
            let now = SystemTime::now();
            match server.duration_since(now) {
                Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
                Err(behind) => -i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX),
            }
        });
    let body: Option<Body> = read_json(r).ok();
    let (code, message) = body.map_or((None, String::new()), |b| {
        (b.code, b.message.unwrap_or_default())
    });
    Refused {
        status,
        code,
        message,
        skew,
    }
}

/// Runs blocking HTTP off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> finops_core::Result<T> + Send + 'static,
) -> miette::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await.map_err(|e| {
        finops_core::Error::io("calling Object Storage", ".")(std::io::Error::other(e))
    })??)
}

impl Store for NativeStore {
    fn describe(&self, rel: &str) -> String {
        self.inner.describe(rel)
    }

    fn prefix(&self) -> &'static str {
        ""
    }

    fn missing_help(&self) -> &str {
        self.missing_help
    }

    fn list_dirs<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Vec<String>>> {
        Box::pin(async move {
            let files = self.list_files(rel).await?;
            let mut dirs: Vec<String> = files
                .keys()
                .filter_map(|k| {
                    k.strip_prefix(rel)?
                        .split_once('/')
                        .map(|(d, _)| d.to_owned())
                })
                .collect();
            dirs.dedup();
            Ok(dirs)
        })
    }

    fn list_files<'a>(
        &'a self,
        rel: &'a str,
    ) -> BoxFuture<'a, miette::Result<BTreeMap<String, u64>>> {
        let inner = Arc::clone(&self.inner);
        let rel = rel.to_owned();
        Box::pin(async move { blocking(move || inner.list(&rel)).await })
    }

    fn read_small<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Option<Vec<u8>>>> {
        let inner = Arc::clone(&self.inner);
        let rel = rel.to_owned();
        Box::pin(async move {
            blocking(move || {
                let Some(r) = inner.object(&rel)? else {
                    return Ok(None);
                };
                let mut out = Vec::new();
                r.into_body()
                    .into_reader()
                    .take(finops_core::store::MAX_SMALL_OBJECT)
                    .read_to_end(&mut out)
                    .map_err(|e| finops_core::Error::Remote {
                        service: SERVICE,
                        operation: "GetObject",
                        location: inner.describe(&rel),
                        code: None,
                        message: e.to_string(),
                        help: "the download was cut; run again".into(),
                    })?;
                Ok(Some(out))
            })
            .await
        })
    }

    fn download<'a>(
        &'a self,
        rel: &'a str,
        dest: &'a Path,
        bar: &'a ProgressBar,
    ) -> BoxFuture<'a, miette::Result<Downloaded>> {
        Box::pin(async move {
            let inner = Arc::clone(&self.inner);
            let name = rel.to_owned();
            let missing = self.missing_help;
            // The blocking reader sends chunks; this task writes them (progress, fault points).
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, String>>(8);
            let reader =
                tokio::task::spawn_blocking(move || -> finops_core::Result<Option<u64>> {
                    let Some(r) = inner.object(&name)? else {
                        return Err(finops_core::Error::MissingDataFile {
                            key: inner.describe(&name),
                            help: missing.to_owned(),
                        });
                    };
                    let expected = r
                        .headers()
                        .get("content-length")
                        .and_then(|v| v.to_str().ok()?.parse().ok());
                    let mut body = r.into_body().into_reader();
                    let mut buf = vec![0; 256 << 10];
                    loop {
                        match body.read(&mut buf) {
                            Ok(0) => return Ok(expected),
                            Ok(n) => {
                                if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                                    return Ok(expected);
                                }
                            }
                            Err(e) => {
                                let _ = tx.blocking_send(Err(e.to_string()));
                                return Ok(expected);
                            }
                        }
                    }
                });
            let mut file = DownloadFile::create(dest, bar).await?;
            let mut cut = None;
            while let Some(chunk) = rx.recv().await {
                match chunk {
                    Ok(c) => file.write(&c).await?,
                    Err(e) => cut = Some(e),
                }
            }
            let expected = reader.await.map_err(|e| {
                finops_core::Error::io("downloading", dest)(std::io::Error::other(e))
            })??;
            if let Some(message) = cut {
                return Err(finops_core::Error::Remote {
                    service: SERVICE,
                    operation: "GetObject",
                    location: self.describe(rel),
                    code: None,
                    message,
                    help: "the download was cut; run again".into(),
                }
                .into());
            }
            Ok(file.finish(expected).await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_as_oracles_sdk_does() {
        assert_eq!(
            enc("FOCUS Reports/2024/01/01/a-00001.csv.gz"),
            "FOCUS%20Reports%2F2024%2F01%2F01%2Fa-00001.csv.gz"
        );
        assert_eq!(enc("name,size"), "name%2Csize");
        assert_eq!(enc("ocid1.tenancy.oc1..a_b~"), "ocid1.tenancy.oc1..a_b~");
    }
}
