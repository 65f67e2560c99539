"""The transport (src/net) drives the protocol from outside, through the
public API only: it may include its own headers, src/base (allocator,
buffers) and include/xtalk, never another layer's internals (im/, core/,
xml/, store/). src/net/client.c once included im/conn_int.h for two
functions; they are public now (xtalk/conn.h). Exits 1 naming each
forbidden include."""
import os
import re
import sys

NET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "net")
ALLOWED = ("net/", "base/", "xtalk/")
bad = []
for name in sorted(os.listdir(NET)):
    if not name.endswith((".c", ".h")):
        continue
    with open(os.path.join(NET, name), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m and not m.group(1).startswith(ALLOWED):
                bad.append("src/net/%s:%d: %s" % (name, n, m.group(1)))
for b in bad:
    print("forbidden include:", b)
sys.exit(1 if bad else 0)
