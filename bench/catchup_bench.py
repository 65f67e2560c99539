#!/usr/bin/env python3
"""Catch-up after a week offline (issue 15): N archived messages (default
10,000) across P conversations (default 100) fetched and stored by `xtalk
listen` at its next start (XEP-0313 from the stored archive position, RSM
pages of 50), against slixmpp paging the same archive after the same id,
in the same run, against a private Prosody.

    bench/catchup_bench.py [--msgs N] [--peers P] [--reps R]

Prints wall time, client CPU (user+sys) and its share of the wall time,
and peak RSS of each client process. xtalk's figures include writing every
message's dedup record and the archive position into its SQLite store."""
import argparse
import importlib.machinery
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from prosody import Prosody  # noqa: E402

benchrun = importlib.machinery.SourceFileLoader("benchrun", os.path.join(ROOT, "bench", "run")).load_module()
PW = benchrun.PW
XTALK = os.environ.get("XTALK_BIN", os.path.join(ROOT, "build", "cli", "xtalk"))


def wait_proc(p):
    """(exit status, rusage) of a finished child."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = status
    return status, ru


def xtalk_env(srv, home):
    return dict(os.environ, XTALK_PASSWORD=PW, XDG_CONFIG_HOME=os.path.join(home, "cfg"),
                XDG_DATA_HOME=os.path.join(home, "data"))


def xtalk_listen_until_archive(srv, home, jid):
    """Runs `xtalk listen --json` until its catch-up ends; returns (seconds,
    messages printed, cpu seconds, max rss KiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen([XTALK, "listen", "--json", "--jid", jid, "--server",
                          "127.0.0.1:%d" % srv.port, "--ca-file", srv.ca_file, "--resource", "bench"],
                         env=xtalk_env(srv, home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    n, wall = 0, None
    for line in p.stdout:
        o = json.loads(line)
        if o.get("event") == "message":
            n += 1
        elif o.get("event") == "archive":
            wall = time.monotonic() - t0
            break
    p.terminate()
    p.stdout.close()
    p.stderr.close()
    _, ru = wait_proc(p)
    return wall, n, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def slix(mode, srv, jid, *args):
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "bench", "slix_mam.py"), mode, jid,
                          str(srv.port), srv.ca_file] + [str(a) for a in args],
                         env=dict(os.environ, XTALK_PASSWORD=PW), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    p.stdout.close()
    _, ru = wait_proc(p)
    return time.monotonic() - t0, out, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--msgs", type=int, default=10000)
    ap.add_argument("--peers", type=int, default=100)
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    srv = Prosody(loglevel="warn", extra_config=(
        "limits = {}\nc2s_stanza_size_limit = 262144\nmax_archive_query_results = 50\n"
        "archive_expires_after = \"never\"\n"
        # Prosody keeps at most 10,000 items per archive by default (its
        # internal storage): the position must survive the fill.
        "storage_archive_item_limit = 1000000"))
    srv.write_config()
    benchrun.write_accounts(srv, "me", 1)
    benchrun.write_accounts(srv, "peer", a.peers)
    srv.start()
    home = tempfile.mkdtemp(prefix="xtb-catchup-")
    try:
        me = "me0@" + srv.domain
        peer_fmt = "peer%d@" + srv.domain
        rows = []
        for rep in range(a.reps):
            shutil.rmtree(os.path.join(home, "data"), ignore_errors=True)
            # A first run: one message, so the store keeps an archive position.
            slix("fill", srv, me, 1, peer_fmt, 1)
            w, n, _, _ = xtalk_listen_until_archive(srv, home, me)
            db = os.path.join(home, "data", "xtalk", "xtalk.db")
            import sqlite3
            pos = sqlite3.connect(db).execute(
                "SELECT last_id FROM archive_pos WHERE peer = ''").fetchone()[0]
            # A week's worth while xtalk is away.
            fill_s, out, _, _ = slix("fill", srv, me, a.msgs, peer_fmt, a.peers)
            xw, xn, xcpu, xrss = xtalk_listen_until_archive(srv, home, me)
            sw, sout, scpu, srss = slix("page", srv, me, pos, 50)
            sn = int(sout.split()[1]) if sout.startswith("count") else -1
            rows.append((xw, xn, xcpu, xrss, sw, sn, scpu, srss))
            print("rep %d: filled %d in %s; xtalk %.2f s (%d msgs, cpu %.2f s, rss %d KiB); "
                  "slixmpp %.2f s (%d msgs, cpu %.2f s, rss %d KiB)"
                  % (rep, a.msgs, out.strip(), xw, xn, xcpu, xrss, sw, sn, scpu, srss), flush=True)
        med = lambda i: statistics.median(r[i] for r in rows)
        print()
        print("| catch-up of %d archived messages, %d conversations | xtalk listen | slixmpp 1.8 paging |" % (a.msgs, a.peers))
        print("| --- | --- | --- |")
        print("| messages fetched | %d | %d |" % (med(1), med(5)))
        print("| wall time | %.2f s | %.2f s |" % (med(0), med(4)))
        print("| client CPU (user+sys) | %.2f s (%.0f%% of wall) | %.2f s (%.0f%% of wall) |"
              % (med(2), 100 * med(2) / med(0), med(6), 100 * med(6) / med(4)))
        print("| peak RSS | %.1f MiB | %.1f MiB |" % (med(3) / 1024, med(7) / 1024))
    finally:
        srv.cleanup()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
