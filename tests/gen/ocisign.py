"""Golden request signatures from Oracle's own Python SDK (PyPI `oci`, pinned in
tests/requirements.txt), for the Rust signer's unit test (vendors/oracle/src/signer.rs).

Writes, into the folder given (vendors/oracle/tests/golden):
  test_key.pem            a 2048-bit RSA test key, PKCS#1 ("RSA PRIVATE KEY"), made once and kept
  test_key_pkcs8.pem      the same key as PKCS#8 ("PRIVATE KEY")
  test_key_encrypted.pem  the same key, traditional OpenSSL encryption, passphrase finops-test
  test_key_public.pem     its public key (for the test server)
  signatures.json         the key's fingerprint and, per request, the Authorization header
                          oci.signer.Signer puts on it

PKCS#1 v1.5 signatures are deterministic, so the file is the same on every run with the same
key. The key is a test key and nothing else: never a real one.

  .venv/bin/python tests/gen/ocisign.py vendors/oracle/tests/golden
"""

import json
import os
import sys

import oci
from oci._vendor import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TENANCY = "ocid1.tenancy.oc1..aaaaaaaafinopstestbucket"
USER = "ocid1.user.oc1..aaaaaaaafinopstestuser"
DATE = "Tue, 01 Dec 2026 18:32:07 GMT"
FED_FINGERPRINT = "46:16:B8:59:E2:86:4C:29:93:43:74:C7:29:AC:E1:7B:16:DF:88:63"
REQUESTS = [
    "https://objectstorage.us-ashburn-1.oraclecloud.com/n/bling/b/" + TENANCY
    + "/o?prefix=FOCUS%20Reports%2F&fields=name%2Csize%2Cetag&limit=1000",
    "https://objectstorage.us-ashburn-1.oraclecloud.com/n/bling/b/" + TENANCY
    + "/o?prefix=&fields=name%2Csize%2Cetag&limit=1000&start=reports%2Fcost-csv%2F0001.csv.gz",
    "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/bling/b/" + TENANCY
    + "/o/FOCUS%20Reports%2F2024%2F01%2F01%2Fpart-00001.csv.gz",
    "http://127.0.0.1:45678/n/bling/b/" + TENANCY + "/o/reports%2Fcost-csv%2Fa%20b.csv.gz",
]


def main(out):
    path = os.path.join(out, "test_key.pem")
    if not os.path.exists(path):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with open(path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    forms = {
        "test_key_pkcs8.pem": key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()),
        "test_key_public.pem": key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    enc = os.path.join(out, "test_key_encrypted.pem")
    if not os.path.exists(enc):  # random salt: made once, kept
        forms["test_key_encrypted.pem"] = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(b"finops-test"))
    for name, data in forms.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.MD5())
    digest.update(der)
    fingerprint = ":".join(f"{b:02x}" for b in digest.finalize())
    signer = oci.signer.Signer(TENANCY, USER, fingerprint, path)
    cases = []
    for url in REQUESTS:
        req = requests.Request("GET", url, headers={"date": DATE}).prepare()
        signer(req)
        parsed = requests.utils.urlparse(req.url)
        target = parsed.path + ("?" + parsed.query if parsed.query else "")
        cases.append({
            "method": "GET",
            "target": target,
            "host": parsed.netloc,
            "date": DATE,
            "authorization": req.headers["authorization"],
        })
    # The token request of instance principals: a POST signed with the instance key as
    # <tenancy>/fed-x509/<SHA-1 fingerprint>, without host.
    class Retriever:
        def get_private_key(self):
            return key

    fed = oci.auth.federation_client.AuthTokenRequestSigner(TENANCY, FED_FINGERPRINT, Retriever())
    body = json.dumps({"certificate": "MIIB", "publicKey": "MIIB", "intermediateCertificates": ["MIIC"]})
    req = requests.Request("POST", "https://auth.us-ashburn-1.oraclecloud.com/v1/x509", data=body,
                           headers={"date": DATE, "content-type": "application/json"}).prepare()
    fed(req)
    posts = [{
        "key_id": TENANCY + "/fed-x509/" + FED_FINGERPRINT,
        "target": "/v1/x509",
        "date": DATE,
        "content_type": "application/json",
        "body": body,
        "x_content_sha256": req.headers["x-content-sha256"],
        "authorization": req.headers["authorization"],
    }]
    # Then every request as the session: keyId ST$<token>.
    token = "eyJhbGciOiJub25lIn0.eyJleHAiOjE5MDAwMDAwMDB9.c2ln"
    st = oci.auth.signers.SecurityTokenSigner(token, key)
    req = requests.Request("GET", REQUESTS[0], headers={"date": DATE}).prepare()
    st(req)
    parsed = requests.utils.urlparse(req.url)
    sessions = [{
        "key_id": "ST$" + token,
        "method": "GET",
        "target": parsed.path + "?" + parsed.query,
        "host": parsed.netloc,
        "date": DATE,
        "authorization": req.headers["authorization"],
    }]
    golden = {
        "made_by": f"oci {oci.__version__} oci.signer.Signer (tests/gen/ocisign.py)",
        "tenancy": TENANCY,
        "user": USER,
        "fingerprint": fingerprint,
        "requests": cases,
        "posts": posts,
        "sessions": sessions,
    }
    with open(os.path.join(out, "signatures.json"), "w") as f:
        json.dump(golden, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
