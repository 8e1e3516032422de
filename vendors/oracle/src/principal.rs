//! Instance principals: on an OCI compute instance, the instance itself is the identity. Its
//! metadata service (`http://169.254.169.254/opc/v2`, or `$OCI_METADATA_BASE_URL` as for
//! Oracle's SDKs) hands out a leaf certificate naming the tenancy, its private key, an
//! intermediate certificate and the region; the federation endpoint
//! (`https://auth.<region>.oraclecloud.com/v1/x509`) exchanges them, with the public half of
//! a session key made here, for a security token; requests are then signed with the session
//! key as `keyId="ST$<token>"`. Tokens last minutes: one is fetched again shortly before it
//! expires, or when Object Storage refuses it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::signature::RsaKeyPair;

use crate::signer::{ApiKey, Pem, parse_key, subject_public_key_info};

/// Oracle's default metadata service.
pub(crate) const METADATA: &str = "http://169.254.169.254/opc/v2";

/// What to do when the metadata service does not answer.
const NOT_AN_INSTANCE: &str = "instance principals work on an OCI compute instance only (its metadata service at http://169.254.169.254/opc/v2, or $OCI_METADATA_BASE_URL); elsewhere use an API-key profile (--profile) or a customer secret key";
/// What to do when the federation endpoint refuses the instance.
pub(crate) const DENIED: &str = "the instance must be in a dynamic group (e.g. `ALL {instance.compartment.id = '<compartment OCID>'}`) with a policy `endorse dynamic-group <its name> to read objects in tenancy usage-report` beside `define tenancy usage-report as ocid1.tenancy.oc1..aaaaaaaaned4fkpkisbwjlr56u7cj63lf3wffbilvqknstgtvzub7vhqkggq`";

/// An instance's identity, and its current session.
pub(crate) struct InstancePrincipal {
    agent: ureq::Agent,
    metadata: String,
    federation: String,
    /// From the leaf certificate.
    pub(crate) tenancy: String,
    /// From the metadata service, unless given.
    pub(crate) region: String,
    session: Mutex<Option<Session>>,
}

struct Session {
    signer: Arc<ApiKey>,
    expires: SystemTime,
}

/// The instance's certificates and key, as the metadata service gives them now.
struct Identity {
    leaf: Vec<u8>,
    intermediate: Vec<u8>,
    key: RsaKeyPair,
}

fn failed(
    operation: &'static str,
    location: &str,
    message: String,
    help: &str,
) -> finops_core::Error {
    finops_core::Error::Remote {
        service: "OCI instance principals",
        operation,
        location: location.to_owned(),
        code: None,
        message,
        help: help.to_owned(),
    }
}

impl InstancePrincipal {
    /// Reads the instance's tenancy and region from the metadata service at `metadata`; the
    /// token comes from `federation` (default: the region's auth endpoint). `region` overrides
    /// the instance's region for Object Storage, not for the federation endpoint.
    pub(crate) fn discover(
        metadata: &str,
        federation: Option<&str>,
        region: Option<&str>,
    ) -> finops_core::Result<Self> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        let metadata = metadata.trim_end_matches('/').to_owned();
        let own_region = metadata_text(&agent, &metadata, "instance/canonicalRegionName")?
            .trim()
            .to_ascii_lowercase();
        let identity = identity(&agent, &metadata)?;
        let tenancy = tenancy_of(&identity.leaf).ok_or_else(|| {
            failed(
                "read the instance certificate",
                &format!("{metadata}/identity/cert.pem"),
                "the certificate names no tenancy (no opc-tenant: or opc-identity: in its subject)"
                    .into(),
                NOT_AN_INSTANCE,
            )
        })?;
        let federation = federation.map_or_else(
            || format!("https://auth.{own_region}.oraclecloud.com/v1/x509"),
            str::to_owned,
        );
        Ok(Self {
            agent,
            metadata,
            federation,
            tenancy,
            region: region.map_or(own_region, str::to_owned),
            session: Mutex::new(None),
        })
    }

    /// The signer of the current session, fetching a token when there is none or it expires
    /// within a minute.
    pub(crate) fn signer(&self) -> finops_core::Result<Arc<ApiKey>> {
        let mut session = self.session.lock().expect("session lock");
        if let Some(s) = session.as_ref()
            && s.expires > SystemTime::now() + Duration::from_secs(60)
        {
            return Ok(Arc::clone(&s.signer));
        }
        let fresh = self.federate()?;
        let signer = Arc::clone(&fresh.signer);
        *session = Some(fresh);
        Ok(signer)
    }

    /// Forgets the session (Object Storage refused its token).
    pub(crate) fn invalidate(&self) {
        *self.session.lock().expect("session lock") = None;
    }

    /// A new session: a fresh key pair, and a token for its public half.
    fn federate(&self) -> finops_core::Result<Session> {
        let identity = identity(&self.agent, &self.metadata)?;
        if tenancy_of(&identity.leaf).as_deref() != Some(self.tenancy.as_str()) {
            return Err(failed(
                "read the instance certificate",
                &format!("{}/identity/cert.pem", self.metadata),
                "the instance certificate now names another tenancy".into(),
                NOT_AN_INSTANCE,
            ));
        }
        let session = session_key()?;
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let body = serde_json::json!({
            "certificate": b64(&identity.leaf),
            "publicKey": b64(&subject_public_key_info(session.public().as_ref())),
            "intermediateCertificates": [b64(&identity.intermediate)],
        })
        .to_string();
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &identity.leaf);
        let fingerprint = sha1
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let signer = ApiKey::with_key_id(
            format!("{}/fed-x509/{fingerprint}", self.tenancy),
            identity.key,
        );
        let target = self
            .federation
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("/");
        let date = httpdate::fmt_http_date(SystemTime::now());
        let (auth, sha) =
            signer.authorization_post(target, &date, "application/json", body.as_bytes());
        let reply = self
            .agent
            .post(&self.federation)
            .header("date", &date)
            .header("content-type", "application/json")
            .header("x-content-sha256", &sha)
            .header("authorization", &auth)
            .send(body.as_bytes())
            .map_err(|e| {
                failed(
                    "request a security token",
                    &self.federation,
                    e.to_string(),
                    "check the network: the instance must reach the federation endpoint of its region",
                )
            })?;
        let status = reply.status().as_u16();
        let text = reply.into_body().read_to_string().unwrap_or_default();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let token = parsed["token"]
            .as_str()
            .filter(|_| status == 200)
            .ok_or_else(|| {
                failed(
                    "request a security token",
                    &self.federation,
                    format!(
                        "HTTP {status}{}",
                        parsed["message"]
                            .as_str()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    ),
                    DENIED,
                )
            })?;
        let expires =
            token_expiry(token).unwrap_or_else(|| SystemTime::now() + Duration::from_secs(15 * 60));
        tracing::debug!(
            "instance principal: a security token for tenancy {}",
            self.tenancy
        );
        Ok(Session {
            signer: Arc::new(ApiKey::with_key_id(format!("ST${token}"), session)),
            expires,
        })
    }
}

/// One text document of the metadata service.
fn metadata_text(agent: &ureq::Agent, base: &str, path: &str) -> finops_core::Result<String> {
    let url = format!("{base}/{path}");
    let reply = agent
        .get(&url)
        .header("authorization", "Bearer Oracle")
        .call()
        .map_err(|e| {
            failed(
                "ask the metadata service",
                &url,
                e.to_string(),
                NOT_AN_INSTANCE,
            )
        })?;
    let status = reply.status().as_u16();
    if status != 200 {
        return Err(failed(
            "ask the metadata service",
            &url,
            format!("HTTP {status}"),
            NOT_AN_INSTANCE,
        ));
    }
    reply.into_body().read_to_string().map_err(|e| {
        failed(
            "ask the metadata service",
            &url,
            e.to_string(),
            NOT_AN_INSTANCE,
        )
    })
}

/// The instance's certificates and key.
fn identity(agent: &ureq::Agent, base: &str) -> finops_core::Result<Identity> {
    let cert = |path: &str| -> finops_core::Result<Vec<u8>> {
        let text = metadata_text(agent, base, path)?;
        Pem::parse(&text)
            .filter(|p| p.label == "CERTIFICATE")
            .map(|p| p.der)
            .ok_or_else(|| {
                failed(
                    "read the instance certificate",
                    &format!("{base}/{path}"),
                    "not a PEM certificate".into(),
                    NOT_AN_INSTANCE,
                )
            })
    };
    let leaf = cert("identity/cert.pem")?;
    let intermediate = cert("identity/intermediate.pem")?;
    let key_url = format!("{base}/identity/key.pem");
    let key = parse_key(
        &metadata_text(agent, base, "identity/key.pem")?,
        std::path::Path::new(&key_url),
        None,
    )
    .map_err(|e| {
        failed(
            "read the instance key",
            &key_url,
            e.message,
            NOT_AN_INSTANCE,
        )
    })?;
    Ok(Identity {
        leaf,
        intermediate,
        key,
    })
}

/// The tenancy a leaf certificate names: its subject holds `opc-tenant:<OCID>` (or
/// `opc-identity:<OCID>`) as a DER string (tag, one length byte, the text), found here
/// without a full X.509 parser.
fn tenancy_of(der: &[u8]) -> Option<String> {
    for tag in [&b"opc-tenant:"[..], b"opc-identity:"] {
        let mut from = 0;
        while let Some(at) = der[from..].windows(tag.len()).position(|w| w == tag) {
            let i = from + at;
            from = i + 1;
            let Some(&len) = i.checked_sub(1).and_then(|l| der.get(l)) else {
                continue;
            };
            let Some(value) = der.get(i..i + usize::from(len)) else {
                continue;
            };
            if let Some(ocid) = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.strip_prefix(std::str::from_utf8(tag).ok()?))
                .filter(|o| o.starts_with("ocid1."))
            {
                return Some(ocid.to_owned());
            }
        }
    }
    None
}

/// A 2048-bit RSA session key (`ring` signs but does not generate RSA keys: `rsa` does).
fn session_key() -> finops_core::Result<RsaKeyPair> {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .and_then(|k| k.to_pkcs1_der().map_err(rsa::Error::Pkcs1))
        .map_err(|e| failed("make a session key", "", e.to_string(), "run again"))?;
    RsaKeyPair::from_der(key.as_bytes())
        .map_err(|e| failed("make a session key", "", e.to_string(), "run again"))
}

/// The `exp` of a JWT security token.
fn token_expiry(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let exp = serde_json::from_slice::<serde_json::Value>(&json).ok()?["exp"].as_u64()?;
    Some(UNIX_EPOCH + Duration::from_secs(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenancy_from_a_certificate_subject() {
        let ou = b"opc-tenant:ocid1.tenancy.oc1..abc";
        let mut der = b"\x30\x82\x01\x00junk\x0c".to_vec();
        der.push(u8::try_from(ou.len()).unwrap());
        der.extend_from_slice(ou);
        der.extend_from_slice(b"0\x0cmore");
        assert_eq!(tenancy_of(&der).as_deref(), Some("ocid1.tenancy.oc1..abc"));
        let id = b"opc-identity:ocid1.tenancy.oc1..xyz";
        let mut der = vec![0x13, u8::try_from(id.len()).unwrap()];
        der.extend_from_slice(id);
        assert_eq!(tenancy_of(&der).as_deref(), Some("ocid1.tenancy.oc1..xyz"));
        assert_eq!(tenancy_of(b"\x0c\x12opc-tenant:nothing"), None);
        assert_eq!(
            tenancy_of(b"opc-tenant:ocid1.x"),
            None,
            "no length byte before it"
        );
    }

    #[test]
    fn token_expiry_is_read_from_the_jwt() {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":1900000000}"#);
        assert_eq!(
            token_expiry(&format!("e30.{payload}.sig")),
            Some(UNIX_EPOCH + Duration::from_secs(1_900_000_000))
        );
        assert_eq!(token_expiry("garbage"), None);
    }
}
