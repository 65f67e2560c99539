#!/usr/bin/env python3
"""Writes the fuzz seed corpus from the protocol transcripts: the server's
side (the S: lines, one per line, INCLUDE expanded, {{...}} vector substitutions resolved
from ../shared/vectors as tests/unit/test_stream.c does) of every
transcript becomes one seed for fuzz_conn and fuzz_parser.
Run from anywhere; rewrites tests/fuzz/corpus/{conn,parser}/t_*."""
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
