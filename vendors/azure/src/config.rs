//! `[azure]` configuration: where the exports live and how to reach them.

use std::path::PathBuf;

use finops_core::Redacted;
use finops_core::config::{KeySpec, Kind};
use serde::Deserialize;

/// Keys of the `[azure]` section.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "azure.account",
        kind: Kind::Str,
        default: None,
        flag: Some("--account"),
        value_name: Some("NAME"),
        alias: None,
        doc: "storage account name",
    },
    KeySpec {
        key: "azure.container",
        kind: Kind::Str,
        default: None,
        flag: Some("--container"),
        value_name: Some("NAME"),
        alias: None,
        doc: "blob container the exports are written to",
    },
    KeySpec {
        key: "azure.prefix",
        kind: Kind::Str,
        default: Some(""),
        flag: Some("--prefix"),
        value_name: Some("PATH"),
        alias: None,
        doc: "folder inside the container (the exports' root folder path)",
    },
    KeySpec {
        key: "azure.export",
        kind: Kind::Str,
        default: None,
        flag: Some("--export"),
        value_name: Some("NAME"),
        alias: None,
        doc: "only this export; default: every export found",
    },
    KeySpec {
        key: "azure.path",
        kind: Kind::Str,
        default: None,
        flag: Some("--path"),
        value_name: Some("DIR"),
        alias: None,
        doc: "local copy of the container's prefix, read instead of Blob Storage",
    },
    KeySpec {
        key: "azure.endpoint",
        kind: Kind::Str,
        default: None,
        flag: Some("--endpoint"),
        value_name: Some("URL"),
        alias: None,
        doc: "blob endpoint URL (default https://<account>.blob.core.windows.net; azurite: http://127.0.0.1:10000/devstoreaccount1)",
    },
    KeySpec {
        key: "azure.connection_string",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "storage connection string (AccountName, AccountKey or SharedAccessSignature, BlobEndpoint)",
    },
    KeySpec {
        key: "azure.account_key",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "storage account key",
    },
    KeySpec {
        key: "azure.sas_token",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "shared access signature (the query string, with or without a leading ?)",
    },
    KeySpec {
        key: "azure.client_id",
        kind: Kind::Str,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "Entra ID application (client) id, for a service principal or a user-assigned managed identity",
    },
    KeySpec {
        key: "azure.tenant_id",
        kind: Kind::Str,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "Entra ID tenant id, for a service principal",
    },
    KeySpec {
        key: "azure.client_secret",
        kind: Kind::Secret,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "Entra ID client secret, for a service principal",
    },
    KeySpec {
        key: "azure.use_azure_cli",
        kind: Kind::Bool,
        default: Some("false"),
        flag: None,
        value_name: None,
        alias: None,
        doc: "authenticate with the Azure CLI's login (az login)",
    },
    finops_core::config::concurrency_key("azure.concurrency"),
];

/// `[azure]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// Local copy instead of Blob Storage.
    pub path: Option<PathBuf>,
    /// Storage account.
    pub account: Option<String>,
    /// Container.
    pub container: Option<String>,
    /// Folder inside the container.
    pub prefix: String,
    /// Export name.
    pub export: Option<String>,
    /// Blob endpoint.
    pub endpoint: Option<String>,
    /// Connection string.
    pub connection_string: Option<Redacted<String>>,
    /// Account key.
    pub account_key: Option<Redacted<String>>,
    /// SAS token.
    pub sas_token: Option<Redacted<String>>,
    /// Entra ID client id.
    pub client_id: Option<String>,
    /// Entra ID tenant.
    pub tenant_id: Option<String>,
    /// Entra ID client secret.
    pub client_secret: Option<Redacted<String>>,
    /// Use `az login`.
    pub use_azure_cli: bool,
    /// Parallel downloads.
    pub concurrency: u16,
}

impl Default for AzureConfig {
    /// The declared defaults of its keys.
    fn default() -> Self {
        finops_core::config::defaults(KEYS, "azure")
    }
}

impl AzureConfig {
    /// The prefix without leading or trailing slashes.
    pub fn clean_prefix(&self) -> &str {
        self.prefix.trim_matches('/')
    }
}

/// The parts of a storage connection string finops uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConnectionString {
    /// `AccountName`.
    pub account: Option<String>,
    /// `AccountKey`.
    pub key: Option<String>,
    /// `SharedAccessSignature`.
    pub sas: Option<String>,
    /// `BlobEndpoint`, or one built from `DefaultEndpointsProtocol` and `EndpointSuffix`.
    pub endpoint: Option<String>,
}

impl ConnectionString {
    /// Parses `Key=Value;…` (values may contain `=`); `UseDevelopmentStorage=true` is
    /// azurite's well-known account on 127.0.0.1:10000. Unknown keys are ignored.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut c = Self::default();
        let (mut protocol, mut suffix) = (None, None);
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!(
                    "`{}` is not Key=Value",
                    part.split('=').next().unwrap_or(part)
                ));
            };
            match k.to_ascii_lowercase().as_str() {
                "accountname" => c.account = Some(v.to_owned()),
                "accountkey" => c.key = Some(v.to_owned()),
                "sharedaccesssignature" => c.sas = Some(v.to_owned()),
                "blobendpoint" => c.endpoint = Some(v.trim_end_matches('/').to_owned()),
                "defaultendpointsprotocol" => protocol = Some(v.to_owned()),
                "endpointsuffix" => suffix = Some(v.to_owned()),
                "usedevelopmentstorage" if v.eq_ignore_ascii_case("true") => {
                    c.account = Some(EMULATOR_ACCOUNT.to_owned());
                    c.key = Some(EMULATOR_KEY.to_owned());
                    c.endpoint = Some(format!("http://127.0.0.1:10000/{EMULATOR_ACCOUNT}"));
                }
                _ => {}
            }
        }
        if c.endpoint.is_none()
            && let (Some(account), Some(suffix)) = (&c.account, suffix)
        {
            c.endpoint = Some(format!(
                "{}://{account}.blob.{suffix}",
                protocol.as_deref().unwrap_or("https")
            ));
        }
        if c.account.is_none() && c.endpoint.is_none() {
            return Err("it names neither AccountName nor BlobEndpoint".into());
        }
        Ok(c)
    }
}

/// Azurite's well-known development account (public, documented by Microsoft).
pub const EMULATOR_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development key (public, documented by Microsoft).
pub const EMULATOR_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings() {
        let c = ConnectionString::parse(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5==;EndpointSuffix=core.windows.net",
        )
        .unwrap();
        assert_eq!(c.account.as_deref(), Some("acct"));
        assert_eq!(c.key.as_deref(), Some("a2V5=="));
        assert_eq!(
            c.endpoint.as_deref(),
            Some("https://acct.blob.core.windows.net")
        );
        let c = ConnectionString::parse(
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;SharedAccessSignature=sv=2022&sig=x%3D",
        )
        .unwrap();
        assert_eq!(c.sas.as_deref(), Some("sv=2022&sig=x%3D"));
        assert_eq!(
            c.endpoint.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1")
        );
        let c = ConnectionString::parse("UseDevelopmentStorage=true").unwrap();
        assert_eq!(c.account.as_deref(), Some(EMULATOR_ACCOUNT));
        assert!(ConnectionString::parse("nonsense").is_err());
        assert!(ConnectionString::parse("Foo=bar").is_err());
    }

    #[test]
    fn defaults() {
        let c = AzureConfig::default();
        assert_eq!(c.concurrency, 4);
        assert_eq!(
            KEYS.iter()
                .find(|k| k.key == "azure.concurrency")
                .unwrap()
                .default,
            Some("4")
        );
    }
}
