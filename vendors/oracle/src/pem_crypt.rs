//! Decryption of a legacy OpenSSL encrypted PEM key (`Proc-Type: 4,ENCRYPTED`,
//! `DEK-Info: AES-256-CBC,<iv>`), the form OCI's tools write a key with a passphrase in:
//! the AES key is OpenSSL's `EVP_BytesToKey` (MD5, one round, the IV's first 8 bytes as
//! salt) of the passphrase.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};

/// The plaintext DER of `der`, encrypted as `dek` (the `DEK-Info` value) says.
pub(crate) fn decrypt(dek: &str, passphrase: &str, der: &[u8]) -> Result<Vec<u8>, String> {
    let (cipher, iv) = dek
        .split_once(',')
        .ok_or_else(|| format!("DEK-Info `{dek}` has no IV"))?;
    let key_len = match cipher.trim().to_ascii_uppercase().as_str() {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        other => {
            return Err(format!(
                "it is encrypted with {other}; finops reads AES-128/192/256-CBC (`openssl rsa -in KEY -aes256 -traditional -out key.pem`)"
            ));
        }
    };
    let iv = hex(iv.trim()).ok_or_else(|| format!("DEK-Info IV `{iv}` is not hex"))?;
    if iv.len() != 16 {
        return Err(format!("DEK-Info IV has {} bytes, not 16", iv.len()));
    }
    let key = bytes_to_key(passphrase.as_bytes(), &iv[..8], key_len);
    let wrong = |_| "wrong passphrase (the decrypted key is not padded)".to_owned();
    match key_len {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .expect("sizes checked")
            .decrypt_padded_vec_mut::<Pkcs7>(der)
            .map_err(wrong),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .expect("sizes checked")
            .decrypt_padded_vec_mut::<Pkcs7>(der)
            .map_err(wrong),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .expect("sizes checked")
            .decrypt_padded_vec_mut::<Pkcs7>(der)
            .map_err(wrong),
    }
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration.
fn bytes_to_key(pass: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    use md5::Digest as _;
    let mut out = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut h = md5::Md5::new();
        h.update(&prev);
        h.update(pass);
        h.update(salt);
        prev = h.finalize().to_vec();
        out.extend_from_slice(&prev);
    }
    out.truncate(len);
    out
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dek_info_errors() {
        assert!(
            decrypt("AES-256-CBC", "p", &[])
                .unwrap_err()
                .contains("no IV")
        );
        assert!(
            decrypt("DES-EDE3-CBC,0011223344556677", "p", &[])
                .unwrap_err()
                .contains("DES-EDE3-CBC")
        );
        assert!(
            decrypt("AES-128-CBC,zz", "p", &[])
                .unwrap_err()
                .contains("not hex")
        );
    }
}
