"""A local stand-in for OCI Object Storage's native API, for the Oracle end-to-end tests.

Serves one bucket (the files under --root, their paths the object names) at
/n/<namespace>/b/<bucket>/o, and checks every request as Object Storage does: an
`Authorization: Signature …` header (draft-cavage, rsa-sha256 over `date (request-target)
host`) from the expected keyId, verified with the public key (Python `cryptography`), and a
`Date` within 5 minutes of its clock. Failures answer as OCI does (401 NotAuthenticated,
404 BucketNotFound / ObjectNotFound, JSON bodies). Listings are paged (`limit`, `start`,
`nextStartWith`) with a small page size so that paging is exercised.

Each request is appended to --log as one JSON line (method, path, status), so a test can
count listings and downloads.

With --instance it is also an instance's metadata service (/opc/v2: region, a leaf certificate
naming the bucket's tenancy, its key, an intermediate certificate, all made at start) and the
federation endpoint (POST /v1/x509): the token request must be signed with the leaf key as
`<tenancy>/fed-x509/<SHA-1 of the certificate>` over `date (request-target) content-length
content-type x-content-sha256`, the body's SHA-256 must match, the leaf must be the one handed
out and issued by the intermediate; the reply is a JWT-shaped token bound to the session public
key sent, and Object Storage then takes `keyId="ST$<token>"` signed with that session key.

  python oci_objectstorage.py --port P --root DIR --bucket TENANCY --public-key PEM \
      --key-id TENANCY/USER/FINGERPRINT [--namespace bling] [--page 2] [--skew SECONDS]
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import json
import os
import re
import secrets
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography import x509
from cryptography.x509.oid import NameOID

ARGS = None
PUBLIC_KEY = None
INSTANCE = None  # the instance's identity, with --instance
SESSIONS = {}  # token -> (session public key, expiry)


def now():
    return time.time() + ARGS.skew


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(now(), usegmt=True)

    def record(self, status):
        with open(ARGS.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "status": status}) + "\n")

    def reply(self, status, body, content_type="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("opc-request-id", "finops-test")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        self.reply(status, {"code": code, "message": message})

    def authenticated(self):
        auth = self.headers.get("authorization", "")
        if not auth.startswith("Signature "):
            return "no Signature authorization header"
        params = dict(re.findall(r'(\w+)="([^"]*)"', auth))
        if params.get("version") != "1" or params.get("algorithm") != "rsa-sha256":
            return "unsupported signature version or algorithm"
        key_id = params.get("keyId", "")
        if self.command == "POST":
            key = INSTANCE["leaf"].public_key() if INSTANCE else None
            if key is None or key_id != INSTANCE["key_id"]:
                return "unknown keyId " + key_id
            required_headers = ("date", "(request-target)", "content-length", "content-type",
                                "x-content-sha256")
            sha = base64.b64encode(hashlib.sha256(self.body).digest()).decode()
            if self.headers.get("x-content-sha256") != sha:
                return "x-content-sha256 does not match the body"
        elif key_id.startswith("ST$"):
            key, expires = SESSIONS.get(key_id[3:], (None, 0))
            if key is None or expires < now():
                return "unknown or expired security token"
            required_headers = ("date", "(request-target)", "host")
        elif key_id == ARGS.key_id:
            key = PUBLIC_KEY
            required_headers = ("date", "(request-target)", "host")
        else:
            return "unknown keyId " + key_id
        names = params.get("headers", "").split()
        for required in required_headers:
            if required not in names:
                return "the signature does not cover " + required
        lines = []
        for name in names:
            if name == "(request-target)":
                lines.append(f"(request-target): {self.command.lower()} {self.path}")
            else:
                value = self.headers.get(name)
                if value is None:
                    return "signed header missing: " + name
                lines.append(f"{name}: {value}")
        try:
            key.verify(base64.b64decode(params.get("signature", "")),
                              "\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return "the signature does not verify"
        date = email.utils.parsedate_to_datetime(self.headers.get("date"))
        if abs(date.timestamp() - now()) > 300:
            return "date is not within the allowed clock skew"
        return None

    def do_POST(self):
        self.body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path != "/v1/x509" or INSTANCE is None:
            self.error(404, "NotFound", "no such route")
            return
        why = self.authenticated()
        if why is not None:
            self.error(401, "NotAuthenticated", "Failed to verify the request (" + why + ")")
            return
        request = json.loads(self.body)
        leaf = x509.load_der_x509_certificate(base64.b64decode(request["certificate"]))
        if leaf != INSTANCE["leaf"]:
            self.error(401, "NotAuthenticated", "not the instance's certificate")
            return
        inter = [x509.load_der_x509_certificate(base64.b64decode(c))
                 for c in request.get("intermediateCertificates", [])]
        try:
            leaf.verify_directly_issued_by(inter[0])
        except Exception:  # noqa: BLE001 - any failure is a refusal
            self.error(401, "NotAuthenticated", "the certificate chain does not verify")
            return
        session = serialization.load_der_public_key(base64.b64decode(request["publicKey"]))
        token = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                         for part in ({"alg": "none"},
                                      {"exp": int(now()) + ARGS.token_ttl, "jti": secrets.token_hex(8)}))
        token += "." + secrets.token_hex(16)
        SESSIONS[token] = (session, now() + ARGS.token_ttl)
        self.reply(200, {"token": token})

    def metadata(self):
        if self.headers.get("authorization") != "Bearer Oracle":
            self.error(401, "NotAuthenticated", "metadata v2 needs Authorization: Bearer Oracle")
            return
        docs = {
            "/opc/v2/instance/region": b"iad",
            "/opc/v2/instance/canonicalRegionName": b"us-ashburn-1",
            "/opc/v2/identity/cert.pem": INSTANCE["leaf"].public_bytes(serialization.Encoding.PEM),
            "/opc/v2/identity/intermediate.pem": INSTANCE["intermediate"].public_bytes(serialization.Encoding.PEM),
            "/opc/v2/identity/key.pem": INSTANCE["key"].private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption()),
        }
        if self.path not in docs:
            self.error(404, "NotFound", "no such metadata")
            return
        self.reply(200, docs[self.path], "text/plain")

    def do_GET(self):
        if self.path.startswith("/opc/v2/") and INSTANCE is not None:
            self.metadata()
            return
        why = self.authenticated()
        if why is not None:
            self.error(401, "NotAuthenticated",
                       "The required information to complete authentication was not provided or was incorrect. (" + why + ")")
            return
        url = urllib.parse.urlsplit(self.path)
        m = re.fullmatch(r"/n/([^/]+)/b/([^/]+)/o(?:/(.+))?", url.path)
        if not m:
            self.error(404, "NotFound", "no such route")
            return
        ns, bucket, name = (urllib.parse.unquote(g) if g else g for g in m.groups())
        if ns != ARGS.namespace or bucket != ARGS.bucket:
            self.error(404, "BucketNotFound",
                       f"Either the bucket named '{bucket}' does not exist in the namespace '{ns}' or you are not authorized to access it")
            return
        if name is None:
            self.list(urllib.parse.parse_qs(url.query, keep_blank_values=True))
        else:
            self.get(name)

    def list(self, query):
        prefix = query.get("prefix", [""])[0]
        start = query.get("start", [""])[0]
        limit = min(int(query.get("limit", ["1000"])[0]), ARGS.page)
        names = sorted(n for n in objects() if n.startswith(prefix) and n >= start)
        page = names[:limit]
        body = {"objects": [{"name": n, "size": os.path.getsize(os.path.join(ARGS.root, n)),
                             "etag": etag(n)} for n in page]}
        if len(names) > limit:
            body["nextStartWith"] = names[limit]
        self.reply(200, body)

    def get(self, name):
        path = os.path.join(ARGS.root, name)
        if name not in objects():
            self.error(404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{ARGS.bucket}'")
            return
        with open(path, "rb") as f:
            data = f.read()
        self.reply(200, data, "application/octet-stream", [("ETag", etag(name))])


def objects():
    out = set()
    for d, _, files in os.walk(ARGS.root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), ARGS.root).replace(os.sep, "/"))
    return out


def etag(name):
    st = os.stat(os.path.join(ARGS.root, name))
    return f"{st.st_size:x}-{st.st_mtime_ns:x}"


def make_instance(tenancy):
    """A CA, an intermediate and a leaf certificate naming `tenancy`, as OCI issues them."""
    def name(cn, *ous):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]
                         + [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, o) for o in ous])

    def cert(subject, key, issuer, issuer_key, ca):
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA256()))

    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
    root_name, inter_name = name("finops test root"), name("finops test intermediate")
    inter = cert(inter_name, keys[1], root_name, keys[0], True)
    leaf = cert(name("ocid1.instance.oc1.iad.finopstest", "opc-certtype:instance",
                     "opc-compartment:ocid1.compartment.oc1..finopstest",
                     "opc-tenant:" + tenancy),
                keys[2], inter_name, keys[1], False)
    sha1 = leaf.fingerprint(hashes.SHA1())
    return {"leaf": leaf, "intermediate": inter, "key": keys[2],
            "key_id": tenancy + "/fed-x509/" + ":".join(f"{b:02X}" for b in sha1)}


def main():
    global ARGS, PUBLIC_KEY, INSTANCE
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--namespace", default="bling")
    p.add_argument("--bucket", required=True)
    p.add_argument("--public-key", required=True)
    p.add_argument("--key-id", required=True)
    p.add_argument("--page", type=int, default=2)
    p.add_argument("--skew", type=float, default=0)
    p.add_argument("--log", default=os.devnull)
    p.add_argument("--instance", action="store_true")
    p.add_argument("--token-ttl", type=int, default=1200)
    ARGS = p.parse_args()
    if ARGS.instance:
        INSTANCE = make_instance(ARGS.bucket)
    with open(ARGS.public_key, "rb") as f:
        PUBLIC_KEY = serialization.load_pem_public_key(f.read())
    ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
