"""Runs a source plugin through describe, list and fetch (of every period), as finops does,
and validates each request and reply against the protocol's JSON Schemas (docs/plugins/).
Prints the number of messages validated.

  python validate.py DOCS_DIR CONFIG_JSON PLUGIN [ARGS…]
"""

import json
import os
import subprocess
import sys
import tempfile

import jsonschema

docs, config, command = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]


def schema(name):
    with open(os.path.join(docs, name + ".schema.json")) as f:
        return json.load(f)


count = 0


def call(request, cwd):
    global count
    jsonschema.validate(request, schema(request["call"] + "-request"))
    out = subprocess.run(command, input=json.dumps(request), capture_output=True, text=True,
                         cwd=cwd, env={"PATH": os.environ["PATH"]}, check=True)
    reply = json.loads(out.stdout)
    jsonschema.validate(reply, schema(request["call"] + "-reply"))
    count += 2
    return reply


with tempfile.TemporaryDirectory() as tmp:
    call({"call": "describe", "protocol": 1}, tmp)
    listed = call({"call": "list", "protocol": 1, "config": config}, tmp)
    for e in listed["exports"]:
        for p in e["periods"]:
            d = os.path.join(tmp, e["name"] + "-" + p["period"])
            os.mkdir(d)
            call({"call": "fetch", "protocol": 1, "config": config, "export": e["name"],
                  "period": p["period"], "version": p["version"], "files": p["files"], "dir": d}, d)
print(count)
