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

  python oci_objectstorage.py --port P --root DIR --bucket TENANCY --public-key PEM \
      --key-id TENANCY/USER/FINGERPRINT [--namespace bling] [--page 2] [--skew SECONDS]
"""

import argparse
import base64
import email.utils
import json
import os
import re
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ARGS = None
PUBLIC_KEY = None


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
        if params.get("keyId") != ARGS.key_id:
            return "unknown keyId " + params.get("keyId", "")
        names = params.get("headers", "").split()
        for required in ("date", "(request-target)", "host"):
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
            PUBLIC_KEY.verify(base64.b64decode(params.get("signature", "")),
                              "\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return "the signature does not verify"
        date = email.utils.parsedate_to_datetime(self.headers.get("date"))
        if abs(date.timestamp() - now()) > 300:
            return "date is not within the allowed clock skew"
        return None

    def do_GET(self):
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


def main():
    global ARGS, PUBLIC_KEY
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
    ARGS = p.parse_args()
    with open(ARGS.public_key, "rb") as f:
        PUBLIC_KEY = serialization.load_pem_public_key(f.read())
    ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
