//! Request signing for Oracle Cloud's native APIs: the draft-cavage HTTP signature OCI uses
//! (RSA-SHA256 over `date (request-target) host`), with an API key. The cryptography is
//! `ring`'s (already in the build for TLS); only the signing string, the PEM reading and the
//! key fingerprint are written here.

use std::path::Path;

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// An API signing key: whose it is (`keyId`) and the private key.
pub struct ApiKey {
    /// `<tenancy OCID>/<user OCID>/<fingerprint>`.
    key_id: String,
    key: RsaKeyPair,
}

/// Why a key file cannot be used: what to say, what to do.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

impl KeyError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: help.into(),
        }
    }
}

/// How to make a key OCI accepts.
const KEY_HELP: &str = "OCI API keys are RSA keys of 2048 bits or more in PEM (`oci setup keys`, or Identity > Users > API keys > Add API key, which downloads the private key)";

/// Reads a PEM private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`, legacy
/// OpenSSL encryption with `passphrase`) from `text`; `path` names it in errors.
pub fn parse_key(
    text: &str,
    path: &Path,
    passphrase: Option<&str>,
) -> Result<RsaKeyPair, KeyError> {
    let shown = path.display();
    let pem = Pem::parse(text).ok_or_else(|| {
        KeyError::new(
            format!("{shown} is not a PEM private key (no -----BEGIN … PRIVATE KEY----- block)"),
            KEY_HELP,
        )
    })?;
    if pem.label == "ENCRYPTED PRIVATE KEY" {
        return Err(KeyError::new(
            format!("{shown} is an encrypted PKCS#8 key, which finops cannot read yet"),
            format!(
                "write it as a traditional OpenSSL key, which OCI's own tools make and finops reads with pass_phrase: `openssl rsa -in {shown} -aes256 -traditional -out key.pem`, or without a passphrase: `openssl rsa -in {shown} -traditional -out key.pem`"
            ),
        ));
    }
    let der = match pem.encryption {
        None => pem.der,
        Some(dek) => {
            let Some(passphrase) = passphrase else {
                return Err(KeyError::new(
                    format!("{shown} is encrypted and no passphrase was given"),
                    "set pass_phrase in the ~/.oci/config profile, or FINOPS_ORACLE_PASSPHRASE",
                ));
            };
            crate::pem_crypt::decrypt(&dek, passphrase, &pem.der).map_err(|why| {
                KeyError::new(
                    format!("cannot decrypt {shown}: {why}"),
                    "check pass_phrase in the ~/.oci/config profile (or FINOPS_ORACLE_PASSPHRASE)",
                )
            })?
        }
    };
    let parsed = match pem.label.as_str() {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        other => {
            return Err(KeyError::new(
                format!("{shown} holds a `{other}`, not an RSA private key"),
                KEY_HELP,
            ));
        }
    };
    parsed.map_err(|e| {
        KeyError::new(
            format!("{shown} is not a usable RSA private key ({e})"),
            if passphrase.is_some() {
                format!("{KEY_HELP}; a wrong pass_phrase also gives this")
            } else {
                KEY_HELP.to_owned()
            },
        )
    })
}

/// The key's fingerprint as OCI shows it: MD5 of the DER public key (SubjectPublicKeyInfo),
/// lowercase hex pairs joined by `:`.
pub fn fingerprint(key: &RsaKeyPair) -> String {
    use md5::Digest as _;
    let digest = md5::Md5::digest(subject_public_key_info(key.public().as_ref()));
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `SubjectPublicKeyInfo { rsaEncryption, BIT STRING { RSAPublicKey } }` in DER.
pub(crate) fn subject_public_key_info(rsa_public_key: &[u8]) -> Vec<u8> {
    const RSA_ENCRYPTION: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0x03];
    der_length(&mut bits, rsa_public_key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(rsa_public_key);
    let mut out = vec![0x30];
    der_length(&mut out, RSA_ENCRYPTION.len() + bits.len());
    out.extend_from_slice(RSA_ENCRYPTION);
    out.extend_from_slice(&bits);
    out
}

/// Appends a DER length.
fn der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).expect("short"));
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).expect("few bytes"));
        out.extend(bytes);
    }
}

impl ApiKey {
    /// The key `key` of `user` in `tenancy`, with its `fingerprint` as registered.
    pub fn new(tenancy: &str, user: &str, fingerprint: &str, key: RsaKeyPair) -> Self {
        Self {
            key_id: format!("{tenancy}/{user}/{fingerprint}"),
            key,
        }
    }

    /// A key whose `keyId` is given whole (`ST$<token>` for a session, `<tenancy>/fed-x509/…`
    /// for an instance certificate).
    pub(crate) fn with_key_id(key_id: String, key: RsaKeyPair) -> Self {
        Self { key_id, key }
    }

    /// The `Authorization` header for a body-less request (`GET`, `HEAD`, `DELETE`):
    /// `method` and `target` (path and query, exactly as sent), `host` (the `Host` header),
    /// `date` (the `Date` header, RFC 7231).
    pub fn authorization(&self, method: &str, target: &str, host: &str, date: &str) -> String {
        let signing = format!(
            "date: {date}\n(request-target): {} {target}\nhost: {host}",
            method.to_ascii_lowercase()
        );
        self.header("date (request-target) host", &signing)
    }

    /// The headers of a `POST` of `body` (`content_type`) to `target`, without `host`, as
    /// OCI's federation endpoint takes it: (`Authorization`, `x-content-sha256`).
    pub(crate) fn authorization_post(
        &self,
        target: &str,
        date: &str,
        content_type: &str,
        body: &[u8],
    ) -> (String, String) {
        let sha = base64::engine::general_purpose::STANDARD
            .encode(ring::digest::digest(&ring::digest::SHA256, body));
        let signing = format!(
            "date: {date}\n(request-target): post {target}\ncontent-length: {}\ncontent-type: {content_type}\nx-content-sha256: {sha}",
            body.len()
        );
        (
            self.header(
                "date (request-target) content-length content-type x-content-sha256",
                &signing,
            ),
            sha,
        )
    }

    /// `Signature …` over `signing`, which holds `headers`.
    fn header(&self, headers: &str, signing: &str) -> String {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing of a short message");
        format!(
            "Signature algorithm=\"rsa-sha256\",headers=\"{headers}\",keyId=\"{}\",signature=\"{}\",version=\"1\"",
            self.key_id,
            base64::engine::general_purpose::STANDARD.encode(signature)
        )
    }
}

/// One PEM block.
pub(crate) struct Pem {
    /// `RSA PRIVATE KEY`, `PRIVATE KEY`…
    pub(crate) label: String,
    /// `DEK-Info` of a legacy encrypted key: `AES-256-CBC,<iv hex>`.
    encryption: Option<String>,
    pub(crate) der: Vec<u8>,
}

impl Pem {
    /// The first block of `text`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines().map(str::trim);
        let label = lines.find_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
        })?;
        let mut encryption = None;
        let mut body = String::new();
        for line in lines {
            if line.starts_with("-----END ") {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(&body)
                    .ok()?;
                return Some(Self {
                    label: label.to_owned(),
                    encryption,
                    der,
                });
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("DEK-Info") {
                    encryption = Some(value.trim().to_owned());
                }
                continue;
            }
            body.push_str(line);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures made by Oracle's Python SDK (`oci.signer.Signer`, PyPI `oci` 2.189.0) for
    /// the requests in the file, with the test key beside it: `tests/gen/ocisign.py` writes
    /// them.
    #[test]
    fn signatures_match_oracles_sdk() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("signatures.json")).unwrap())
                .unwrap();
        let cases = golden["requests"].as_array().unwrap();
        assert!(cases.len() >= 3);
        for (file, passphrase) in [
            ("test_key.pem", None),
            ("test_key_pkcs8.pem", None),
            ("test_key_encrypted.pem", Some("finops-test")),
        ] {
            let path = dir.join(file);
            let key =
                parse_key(&std::fs::read_to_string(&path).unwrap(), &path, passphrase).unwrap();
            assert_eq!(
                fingerprint(&key),
                golden["fingerprint"].as_str().unwrap(),
                "{file}"
            );
            let key = ApiKey::new(
                golden["tenancy"].as_str().unwrap(),
                golden["user"].as_str().unwrap(),
                golden["fingerprint"].as_str().unwrap(),
                key,
            );
            for case in cases {
                let s = |k: &str| case[k].as_str().unwrap();
                assert_eq!(
                    key.authorization(s("method"), s("target"), s("host"), s("date")),
                    s("authorization"),
                    "{file}: {}",
                    s("target")
                );
            }
        }
    }

    /// The token request of instance principals (a signed POST) and a request of the session
    /// (`ST$<token>`), against Oracle's SDK likewise.
    #[test]
    fn federation_and_session_signatures_match_oracles_sdk() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("signatures.json")).unwrap())
                .unwrap();
        let path = dir.join("test_key.pem");
        let key = || parse_key(&std::fs::read_to_string(&path).unwrap(), &path, None).unwrap();
        let post = &golden["posts"][0];
        let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap().to_owned();
        let (auth, sha) = ApiKey::with_key_id(s(post, "key_id"), key()).authorization_post(
            &s(post, "target"),
            &s(post, "date"),
            &s(post, "content_type"),
            s(post, "body").as_bytes(),
        );
        assert_eq!(sha, s(post, "x_content_sha256"));
        assert_eq!(auth, s(post, "authorization"));
        let get = &golden["sessions"][0];
        assert_eq!(
            ApiKey::with_key_id(s(get, "key_id"), key()).authorization(
                &s(get, "method"),
                &s(get, "target"),
                &s(get, "host"),
                &s(get, "date")
            ),
            s(get, "authorization")
        );
    }

    #[test]
    fn bad_keys_say_what_they_are() {
        let p = Path::new("/k/key.pem");
        let e = parse_key("hello", p, None).err().unwrap();
        assert!(e.message.contains("/k/key.pem is not a PEM"), "{e:?}");
        let e = parse_key(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            p,
            None,
        )
        .err()
        .unwrap();
        assert!(e.help.contains("-traditional"), "{e:?}");
        let e = parse_key(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            p,
            None,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("`PUBLIC KEY`"), "{e:?}");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let enc = std::fs::read_to_string(dir.join("test_key_encrypted.pem")).unwrap();
        let e = parse_key(&enc, p, None).err().unwrap();
        assert!(e.message.contains("no passphrase"), "{e:?}");
        let e = parse_key(&enc, p, Some("wrong")).err().unwrap();
        assert!(
            e.message.contains("cannot decrypt") || e.help.contains("wrong pass_phrase"),
            "{e:?}"
        );
    }

    #[test]
    fn der_lengths() {
        let mut v = Vec::new();
        der_length(&mut v, 5);
        der_length(&mut v, 200);
        der_length(&mut v, 270);
        assert_eq!(v, [5, 0x81, 200, 0x82, 1, 14]);
    }
}
