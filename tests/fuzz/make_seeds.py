#!/usr/bin/env python3
"""Writes the fuzz seed corpus from the protocol transcripts and the shared
vectors (loaded, never re-typed):
- conn, parser: the server's side (the S: lines, one per line, INCLUDE
  expanded, {{...}} vector substitutions resolved from ../shared/vectors as
  tests/unit/test_stream.c does) of every transcript, one seed each;
- scram: each exchange of scram.json in fuzz_scram.c's line format, and
  its negative cases applied to the exchange they are based on;
- jid: every input of jid.tsv and both columns of jid-escaping.tsv.
Run from anywhere; rewrites tests/fuzz/corpus/{conn,parser}/t_*,
corpus/scram/v_* and corpus/jid/v_*. The h_* seeds are hand-made and
the rest (no prefix) grew in fuzzing campaigns (libFuzzer -merge=1)."""
import base64
import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
TR = os.path.join(HERE, "..", "transcripts")
VEC = os.environ.get("XT_VECTORS", os.path.join(HERE, "..", "..", "..", "shared", "vectors"))
SCRAM = json.load(open(os.path.join(VEC, "scram.json")))
PLAIN = json.load(open(os.path.join(VEC, "sasl-misc.json")))["plain"]["vectors"]


def lookup(kind, ref):
    ident, field = ref.split(".", 1)
    if kind == "plain":
        rows = PLAIN
    else:
        rows = SCRAM["exchanges"] + SCRAM["negative"]
    row = next(r for r in rows if r.get("id") == ident)
    for part in field.split("/"):
        row = row[part]
    return row


def substitute(text):
    def one(m):
        body = m.group(1)
        b64 = body.startswith("b64:")
        if b64:
            body = body[4:]
        if ":" not in body:
            # {{caps}}/{{caps_ver}}: the client's own XEP-0115 hash, computed
            # at run time by test_stream.c; any value does for a seed (the
            # client answers a node it does not know with an error).
            return "caps-ver-of-the-client"
        kind, ref = body.split(":", 1)
        v = lookup(kind, ref)
        return base64.b64encode(v.encode()).decode() if b64 else v
    return re.sub(r"\{\{([^}]*)\}\}", one, text)


def server_bytes(path):
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("INCLUDE: "):
            out.append(server_bytes(os.path.join(TR, line[9:].strip())))
        elif line.startswith("S: "):
            out.append(substitute(line[3:]) + "\n")
    return "".join(out)


for kind in ("conn", "parser"):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, "t_*")):
        os.remove(old)
for path in sorted(glob.glob(os.path.join(TR, "*.txt"))):
    data = server_bytes(path)
    if not data:
        continue
    name = "t_" + os.path.basename(path)[:-4]
    for kind in ("conn", "parser"):
        with open(os.path.join(HERE, "corpus", kind, name), "w", encoding="utf-8") as f:
            f.write(data)


# SCRAM: fuzz_scram.c's fields, one per line.
HASH = {"sha1": "1", "sha256": "2", "sha512": "3"}


def scram_seed(ex, server_first=None, server_final=None):
    gs2 = ex["gs2_header"]
    flag = gs2[0]
    cb = ex.get("channel_binding", {}).get("cb_data_ascii", "") if flag == "p" else ""
    final = ex["client_final"]
    ext = ",".join(a for a in final.split(",") if a.startswith("x="))
    return "\n".join([HASH[ex["hash"]] + flag, cb, ex["username"], ex["password"],
                      ex["client_nonce"], ext,
                      server_first if server_first is not None else ex["server_first"],
                      server_final if server_final is not None else ex["server_final"]])


def write_set(kind, prefix, seeds):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, prefix + "*")):
        os.remove(old)
    for name, data in seeds:
        with open(os.path.join(d, prefix + name), "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)


by_id = {e["id"]: e for e in SCRAM["exchanges"]}
seeds = [(e["id"], scram_seed(e)) for e in SCRAM["exchanges"]]
for neg in SCRAM["negative"]:
    base = by_id[neg.get("based_on", "rfc5802-sha1")]
    seeds.append((neg["id"], scram_seed(base, neg.get("server_first"), neg.get("server_final"))))
write_set("scram", "v_", seeds)


def tsv_rows(name):
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(VEC, name), encoding="utf-8")
            if not l.startswith("#") and l.strip()]
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:]]


seeds = [(r["id"], bytes.fromhex(r["input_hex"])) for r in tsv_rows("jid.tsv") if r.get("input_hex")]
for r in tsv_rows("jid-escaping.tsv"):
    seeds += [(r["id"] + "-u", r["unescaped"]), (r["id"] + "-e", r["escaped"])]
write_set("jid", "v_", seeds)
