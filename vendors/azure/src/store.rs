//! Where the exports are: a Blob Storage container (through `object_store`, with its
//! credential chain) as a core [`Store`], or a local copy of it (core's [`LocalStore`]).
//! Paths are relative to the configured prefix.

use std::sync::Arc;

use finops_core::store::object::ObjectStoreBackend;
use finops_core::store::{LocalStore, Store};
use object_store::azure::MicrosoftAzureBuilder;

use crate::config::{AzureConfig, ConnectionString};
use crate::error::Result;

/// What `azure.path` is, when it is not a directory.
const DIRECTORY_HELP: &str = "azure.path (--path) is the local copy of the container's export root: the folder that holds the export folders, each with <YYYYMMDD-YYYYMMDD>/<run>/manifest.json";
/// What to do about a data file a manifest names that is not there.
const MISSING_HELP: &str = "the export run may still be writing, or the local copy is incomplete; the month is retried on the next run";

/// Local when `azure.path` is set; else the container, authenticated by (in order) a
/// connection string, an account key, a SAS token, a service principal, the Azure CLI, or
/// the ambient identity (workload identity, managed identity).
pub(crate) fn from_config(cfg: &AzureConfig) -> Result<Arc<dyn Store>> {
    if let Some(dir) = &cfg.path {
        return Ok(Arc::new(LocalStore::new(dir, DIRECTORY_HELP, MISSING_HELP)));
    }
    Ok(Arc::new(blob_store(cfg)?))
}

/// The container of `cfg`, as core's `object_store` backend.
fn blob_store(cfg: &AzureConfig) -> Result<ObjectStoreBackend> {
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
    Ok(ObjectStoreBackend::new(
        Arc::new(client),
        format!("azure://{account}/{container}"),
        cfg.clean_prefix(),
        MISSING_HELP,
        Box::new(|operation, location, e| {
            let (code, message) = blob_message(e);
            let help = blob_help(e, code.as_deref());
            finops_core::Error::Remote {
                service: "Blob Storage",
                operation,
                location,
                code,
                message,
                help,
            }
        }),
    ))
}

/// The service's error code and a one-line message for a failed call. `object_store` nests
/// the response (an XML document with `<Code>` and `<Message>`) three times in its text; the
/// code and the first line of the message say it all.
fn blob_message(e: &object_store::Error) -> (Option<String>, String) {
    let text = e.to_string();
    let between = |open: &str, close: &str| {
        let start = text.find(open)? + open.len();
        let end = text[start..].find(close)? + start;
        Some(text[start..end].trim().to_owned())
    };
    if let Some(code) = between("<Code>", "</Code>") {
        let message = between("<Message>", "</Message>")
            .and_then(|m| m.lines().next().map(str::to_owned))
            .unwrap_or_default();
        return (Some(code.clone()), format!("{code}: {message}"));
    }
    let code = match e {
        object_store::Error::NotFound { .. } => Some("NotFound".to_owned()),
        object_store::Error::Unauthenticated { .. } => Some("Unauthenticated".to_owned()),
        object_store::Error::PermissionDenied { .. } => Some("PermissionDenied".to_owned()),
        _ => None,
    };
    // The first line, without the request URL's query (it may hold a SAS signature).
    let first = text.lines().next().unwrap_or_default();
    (code, redact_query(first))
}

/// `text` with every URL query string (`?…` up to a space) replaced by `?…`.
fn redact_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_query = false;
    for c in text.chars() {
        if c == '?' && !in_query {
            in_query = true;
            out.push_str("?…");
        } else if in_query && c.is_whitespace() {
            in_query = false;
            out.push(c);
        } else if !in_query {
            out.push(c);
        }
    }
    out
}

/// What to do about a failed Blob Storage call, from the error's kind or the service's error
/// code (`code`, as [`blob_message`] read it). Matched on whole codes, never on digits in the
/// text: a request id or a date can hold "404".
fn blob_help(e: &object_store::Error, code: Option<&str>) -> String {
    const REFUSED: &str = "the credentials were refused: check azure.connection_string, azure.account_key, azure.sas_token or the Entra ID identity (it needs the Storage Blob Data Reader role)";
    match (e, code) {
        (object_store::Error::Unauthenticated { .. } | object_store::Error::PermissionDenied { .. }, _) => REFUSED.into(),
        (_, Some(code)) if code.starts_with("Authentication") || code.starts_with("Authorization") || code.starts_with("InvalidAuthentication") => REFUSED.into(),
        (_, Some("ContainerNotFound")) => "the container does not exist: check --container".into(),
        (object_store::Error::NotFound { .. }, _) | (_, Some("BlobNotFound" | "ResourceNotFound")) => {
            "check the account, container and prefix (`finops azure list-exports` lists what is there)".into()
        }
        _ => "check the endpoint, the network and the credentials; the call was retried before failing".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "MicrosoftAzure",
            source: text.to_owned().into(),
        }
    }

    #[test]
    fn help_follows_the_service_code_not_digits_in_the_text() {
        // A refused key whose request id happens to hold "404".
        let e = generic(
            "Error performing list request: <Code>AuthorizationFailure</Code><Message>Server failed to authenticate the request.\nRequestId:3404-4404</Message>",
        );
        let (code, message) = blob_message(&e);
        assert_eq!(code.as_deref(), Some("AuthorizationFailure"));
        assert_eq!(
            message,
            "AuthorizationFailure: Server failed to authenticate the request."
        );
        assert!(blob_help(&e, code.as_deref()).starts_with("the credentials were refused"));

        let e = generic(
            "<Code>ContainerNotFound</Code><Message>The specified container does not exist.</Message>",
        );
        let (code, _) = blob_message(&e);
        assert_eq!(
            blob_help(&e, code.as_deref()),
            "the container does not exist: check --container"
        );

        // No code at all: no guess from digits.
        let e = generic("connection reset after 404 ms?sig=secret x");
        let (code, message) = blob_message(&e);
        assert_eq!(code, None);
        assert_eq!(
            message,
            "Generic MicrosoftAzure error: connection reset after 404 ms?… x"
        );
        assert!(blob_help(&e, None).starts_with("check the endpoint"));
    }
}
