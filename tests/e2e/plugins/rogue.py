"""A misbehaving source plugin for the end-to-end tests: the example focus-folder plugin
(examples/plugins/focus-folder), except for what $ROGUE_MODE breaks. It also records every
request and reply it exchanges into $ROGUE_LOG (JSON lines), which the tests validate against
the protocol's JSON Schemas (docs/plugins/).

  crash      list exits 3 with a traceback on stderr, no reply
  hang       list sleeps past its timeout
  garbage    list prints a log line on stdout before its reply
  protocol2  every reply says protocol 2
  duplicate  list names one period twice
  filetwice  list names one file of a period twice
  fetchtwice fetch names its first file twice in its reply
  outside    fetch writes its file beside the staging folder and names it ../
  symlink    fetch names a symbolic link to a file outside the staging folder
  badsha     fetch reports a wrong SHA-256
  notfocus   fetch delivers a CSV without FOCUS columns
  env        list fails, naming every environment variable it sees
  secret     list prints its token on stderr and in its error
  parquet    not a fault: describe says Parquet and fetch writes each CSV as Parquet (with
             the duckdb module of the test venv's Python)
"""

import importlib.machinery
import io
import json
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "..", "examples", "plugins", "focus-folder",
                       "finops-plugin-focus-folder")
MODE = os.environ.get("ROGUE_MODE", "ok")


def load_example():
    loader = importlib.machinery.SourceFileLoader("focus_folder", EXAMPLE)
    module = types.ModuleType(loader.name)
    loader.exec_module(module)
    return module


def main():
    raw = sys.stdin.read()
    request = json.loads(raw)
    call = request["call"]
    ex = load_example()
    # Run the example's handler, capturing its reply.
    out = io.StringIO()
    real = sys.stdout
    sys.stdout = out
    try:
        if call == "describe":
            ex.describe(request)
        elif call == "list":
            if MODE == "crash":
                sys.stdout = real
                print("Traceback (most recent call last):\n  RuntimeError: boom", file=sys.stderr)
                sys.stderr.flush()
                os._exit(3)
            if MODE == "hang":
                time.sleep(60)
            if MODE == "env":
                # LC_CTYPE is Python's own (PEP 538 sets it when the locale is C).
                names = sorted(n for n in os.environ if n != "LC_CTYPE")
                ex.reply({"error": {"message": "sees " + " ".join(names), "help": "-"}})
            elif MODE == "secret":
                token = request["config"].get("token", "")
                print("using token " + token, file=sys.stderr)
                ex.reply({"error": {"message": "token " + token + " refused", "help": "-"}})
            else:
                ex.list_exports(request)
        else:
            ex.fetch(request)
    except SystemExit:
        pass
    finally:
        sys.stdout = real
    reply = json.loads(out.getvalue())
    if call == "describe":
        reply["name"] = "rogue"
        reply["keys"].append({"name": "token", "doc": "an API token", "secret": True})
        if MODE == "parquet":
            reply["format"]["files"] = "parquet"
    if call == "fetch" and MODE == "parquet":
        import duckdb
        for f in reply["files"]:
            staged = os.path.join(request["dir"], f["path"])
            target = staged + ".parquet"
            duckdb.sql(f"COPY (SELECT * FROM read_csv('{staged}')) TO '{target}' (FORMAT parquet)")
            os.remove(staged)
            import hashlib
            data = open(target, "rb").read()
            f["path"], f["size"], f["sha256"] = os.path.basename(target), len(data), hashlib.sha256(data).hexdigest()
    if MODE == "protocol2":
        reply["protocol"] = 2
    if call == "list" and MODE == "duplicate":
        e = reply["exports"][0]
        e["periods"].append(e["periods"][0])
    if call == "list" and MODE == "filetwice":
        p = reply["exports"][0]["periods"][0]
        p["files"].append(p["files"][0])
    if call == "fetch" and MODE == "fetchtwice":
        reply["files"].append(reply["files"][0])
    if call == "fetch" and MODE in ("outside", "symlink", "badsha", "notfocus"):
        f = reply["files"][0]
        staged = os.path.join(request["dir"], f["path"])
        if MODE == "outside":
            outside = os.path.join(os.path.dirname(request["dir"].rstrip("/")), "escape.csv")
            os.replace(staged, outside)
            f["path"] = "../escape.csv"
        elif MODE == "symlink":
            target = os.path.join(os.path.dirname(request["dir"].rstrip("/")), "target.csv")
            os.replace(staged, target)
            os.symlink(target, staged)
        elif MODE == "badsha":
            f["sha256"] = "0" * 64
        else:
            with open(staged, "w") as h:
                h.write("invoice,amount\nINV-1,12.50\n")
            import hashlib
            data = open(staged, "rb").read()
            f["size"] = len(data)
            f["sha256"] = hashlib.sha256(data).hexdigest()
    log = os.environ.get("ROGUE_LOG")
    if log:
        with open(log, "a") as h:
            h.write(json.dumps({"mode": MODE, "call": call, "request": request, "reply": reply}) + "\n")
    if MODE == "garbage" and call == "list":
        print("listing the folder...")
    print(json.dumps(reply))


if __name__ == "__main__":
    main()
