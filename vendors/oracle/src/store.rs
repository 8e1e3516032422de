//! Where the reports are: the tenancy's bucket in Object Storage, through the native API
//! signed with an `~/.oci/config` API key ([`crate::native`]) or through the S3-compatible
//! endpoint with a customer secret key (core's S3 backend), or a local copy of it.

use std::sync::Arc;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use finops_core::store::s3::S3Store;
use finops_core::store::{LocalStore, Store};

use crate::config::{OracleConfig, spec};

/// What `oracle.path` is, when it is not a directory.
const DIRECTORY_HELP: &str = "oracle.path (--path) is a local copy of the tenancy's reports bucket (oci os object bulk-download --namespace bling --bucket-name <tenancy OCID> --download-dir DIR): the folder that holds `FOCUS Reports/` and `reports/`";
/// What to do about a report listed but gone.
const MISSING_HELP: &str = "Oracle removes reports after a year; the local copy may be incomplete; the month is retried on the next run";

/// Local when `oracle.path` is set; else the tenancy's bucket: through the S3-compatible API
/// when a customer secret key is set, else the native API signed with the API-key profile.
pub(crate) fn from_config(cfg: &OracleConfig) -> finops_core::Result<Arc<dyn Store>> {
    if let Some(dir) = &cfg.path {
        return Ok(Arc::new(LocalStore::new(dir, DIRECTORY_HELP, MISSING_HELP)));
    }
    match Auth::of(cfg)? {
        Auth::SecretKey => secret_key(cfg),
        Auth::ApiKey => native(cfg),
        Auth::InstancePrincipal => instance(cfg),
    }
}

/// How Object Storage is reached (`oracle.auth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    ApiKey,
    InstancePrincipal,
    SecretKey,
}

impl Auth {
    /// `oracle.auth`, or what the other keys imply.
    pub(crate) fn of(cfg: &OracleConfig) -> finops_core::Result<Self> {
        match cfg.auth.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None if cfg.access_key_id.is_some() || cfg.secret_access_key.is_some() => {
                Ok(Self::SecretKey)
            }
            None | Some("api_key" | "api-key") => Ok(Self::ApiKey),
            Some("instance_principal" | "instance-principal") => Ok(Self::InstancePrincipal),
            Some("secret_key" | "secret-key") => Ok(Self::SecretKey),
            Some(other) => Err(finops_core::Error::ConfigInvalid {
                message: format!(
                    "oracle.auth `{other}` is none of api_key (an ~/.oci/config profile), instance_principal (this OCI instance), secret_key (a customer secret key)"
                ),
            }),
        }
    }
}

/// The native API as the OCI compute instance finops runs on.
fn instance(cfg: &OracleConfig) -> finops_core::Result<Arc<dyn Store>> {
    let metadata = finops_core::env::var("OCI_METADATA_BASE_URL")
        .unwrap_or_else(|| crate::principal::METADATA.to_owned());
    let principal = crate::principal::InstancePrincipal::discover(
        &metadata,
        cfg.federation_endpoint.as_deref(),
        cfg.region.as_deref(),
    )?;
    let tenancy = cfg
        .tenancy
        .clone()
        .unwrap_or_else(|| principal.tenancy.clone());
    let region = principal.region.clone();
    let endpoint = cfg
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://objectstorage.{region}.oraclecloud.com"));
    Ok(Arc::new(crate::native::NativeStore::new(
        &endpoint,
        NAMESPACE,
        &tenancy,
        &region,
        crate::native::Auth::Instance(principal),
        "the instance principal".into(),
        MISSING_HELP,
    )?))
}

/// The native API, signed with the API key of an `~/.oci/config` profile.
fn native(cfg: &OracleConfig) -> finops_core::Result<Arc<dyn Store>> {
    let file = cfg
        .config_file
        .clone()
        .unwrap_or_else(crate::ociconfig::default_file);
    let name = cfg
        .profile
        .clone()
        .unwrap_or_else(crate::ociconfig::default_profile);
    let profile = crate::ociconfig::load(&file, &name)?;
    let user_tenancy = profile.require("tenancy")?;
    let tenancy = cfg.tenancy.as_deref().unwrap_or(user_tenancy);
    let region = match cfg.region.as_deref() {
        Some(r) => r,
        None => profile.require("region")?,
    };
    let fingerprint = profile.require("fingerprint")?;
    let user = profile.require("user")?;
    let key_file = profile.key_file()?;
    let invalid = |message: String| finops_core::Error::ConfigInvalid { message };
    let text = std::fs::read_to_string(&key_file).map_err(|e| {
        invalid(format!(
            "cannot read key_file {} of profile [{name}] in {} ({e})",
            key_file.display(),
            file.display()
        ))
    })?;
    let passphrase = cfg
        .passphrase
        .as_ref()
        .map(|p| p.expose().as_str())
        .or_else(|| profile.get("pass_phrase"));
    let key = crate::signer::parse_key(&text, &key_file, passphrase)
        .map_err(|e| invalid(format!("{}: {}", e.message, e.help)))?;
    let actual = crate::signer::fingerprint(&key);
    if !actual.eq_ignore_ascii_case(fingerprint.trim()) {
        return Err(invalid(format!(
            "key_file {} does not match the fingerprint of profile [{name}] in {}: the profile says {fingerprint}, the key's is {actual}; point key_file at the private key whose public half was uploaded with that fingerprint (Identity > Users > API keys), or correct the fingerprint",
            key_file.display(),
            file.display()
        )));
    }
    let endpoint = cfg
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://objectstorage.{region}.oraclecloud.com"));
    let key = crate::signer::ApiKey::new(user_tenancy, user, fingerprint.trim(), key);
    Ok(Arc::new(crate::native::NativeStore::new(
        &endpoint,
        NAMESPACE,
        tenancy,
        region,
        crate::native::Auth::Key(key),
        format!("profile [{name}] of {}", file.display()),
        MISSING_HELP,
    )?))
}

/// Oracle's namespace for the reports buckets.
const NAMESPACE: &str = "bling";

/// The S3-compatible API with a customer secret key.
fn secret_key(cfg: &OracleConfig) -> finops_core::Result<Arc<dyn Store>> {
    let tenancy = cfg
        .tenancy
        .clone()
        .ok_or_else(|| spec("oracle.tenancy").missing())?;
    let region = cfg
        .region
        .clone()
        .ok_or_else(|| spec("oracle.region").missing())?;
    let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) else {
        return Err(finops_core::Error::ConfigInvalid {
            message: "a customer secret key needs both oracle.access_key_id and oracle.secret_access_key (FINOPS_ORACLE_ACCESS_KEY_ID, FINOPS_ORACLE_SECRET_ACCESS_KEY); without them Object Storage is read with the API-key profile of ~/.oci/config".into(),
        });
    };
    let endpoint = cfg.endpoint.clone().unwrap_or_else(|| {
        format!("https://{NAMESPACE}.compat.objectstorage.{region}.oraclecloud.com")
    });
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            id,
            secret.expose(),
            None,
            None,
            "finops-oracle",
        ))
        .build();
    Ok(Arc::new(S3Store::new(
        aws_sdk_s3::Client::from_conf(conf),
        tenancy,
        "",
        help,
        MISSING_HELP,
    )))
}

/// What to do about an error code of Object Storage's S3 endpoint.
fn help(code: Option<&str>) -> String {
    match code {
        Some("NoSuchBucket" | "BucketNotFound" | "NotFound" | "404") => "no reports bucket for this tenancy here: check oracle.tenancy, and that oracle.region is the tenancy's home region (Oracle writes the reports there only and answers 404 from every other region)".into(),
        Some("AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "403" | "401") => "the customer secret key was refused: check oracle.access_key_id and oracle.secret_access_key, and that the user's group is endorsed to read objects in tenancy usage-report".into(),
        Some("RequestTimeTooSkewed") => "this machine's clock is more than 5 minutes off: Object Storage refuses the signature; set the time (NTP) and run again".into(),
        other => finops_core::store::s3::help(other, "oracle.access_key_id and oracle.secret_access_key"),
    }
}
