#!/usr/bin/env python3
"""HTTP File Upload throughput and memory (issue 17): a file of S MB PUT
on loopback to the private server's XEP-0363 service by xtalk's HTTP
engine (libcurl multi socket on xt_loop, bench/xt_put.c, through the
public API only) and by `curl -T`, each to its own slot of the same
service, alternately in the same run; and `xtalk send --file` end to end
(login, disco, slot request, PUT, message) beside them.

    bench/upload_bench.py [--sizes 10,100] [--reps R] [--server prosody|ejabberd]

Prints, per size: median wall time and throughput (MB/s, 10^6 bytes),
min-max over R repetitions, peak RSS (the process's ru_maxrss) and the
ratio xtalk / curl of the medians. Slots are asked by slixmpp
(tests/integration/slix_upload.py) before each timed PUT, outside the
timing. The server is Prosody 0.12's mod_http_file_share (limit raised
to fit the largest file) unless --server ejabberd (mod_http_upload)."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from ejabberd import Ejabberd  # noqa: E402
from prosody import Prosody  # noqa: E402

BUILD = os.environ.get("XTB_BUILD") or os.path.join(ROOT, "build")
XTALK = os.path.join(BUILD, "cli", "xtalk")
XT_PUT = os.path.join(BUILD, "bench", "xt_put")
SLIX_UPLOAD = os.path.join(ROOT, "tests", "integration", "slix_upload.py")
USERS = {"alice": "bench-alice-1", "bob": "bench-bob-2"}
MB = 1000 * 1000


def run_measured(argv, env=None):
    """(wall seconds, peak RSS KiB, exit status, stderr) of one process.
    The peak RSS is GNU time's (%M, the program's own): a wait4 rusage of
    a child Python forked would include the interpreter's pages from
    before the exec."""
    fd, tf = tempfile.mkstemp(prefix="xtb-time-")
    os.close(fd)
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf] + argv, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    with open(tf) as f:
        rss = int(f.read().split()[-1])
    os.unlink(tf)
    return wall, rss, p.returncode, p.stderr.decode(errors="replace")


def slot(srv, name, size):
    e = dict(os.environ, XTALK_PASSWORD=USERS["alice"])
    r = subprocess.run(["/usr/bin/python3", SLIX_UPLOAD, "alice@" + srv.domain, str(srv.port),
                        srv.ca_file, srv.upload_jid, name, str(size), "application/octet-stream"],
                       env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if r.returncode:
        raise SystemExit("slot request failed: " + r.stderr)
    s = json.loads(r.stdout.strip().splitlines()[-1])
    if "error" in s:
        raise SystemExit("slot refused: %s" % s)
    return s


def make_file(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


def start_server(kind, max_size):
    if kind == "ejabberd":
        srv = Ejabberd(users=USERS, file_share=max_size)
    else:
        srv = Prosody(users=USERS, file_share=max_size)
    return srv.start()


def fmt(xs):
    return "%.2f (%.2f-%.2f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100", help="file sizes in MB, comma-separated")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--server", default="prosody", choices=("prosody", "ejabberd"))
    ap.add_argument("--no-send", action="store_true", help="skip the xtalk send --file rows")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    srv = start_server(a.server, max(sizes) * MB + MB)
    tmp = tempfile.mkdtemp(prefix="xtalk-upload-bench-")
    rows = []
    try:
        env = dict(os.environ, XTALK_PASSWORD=USERS["alice"],
                   XDG_CONFIG_HOME=os.path.join(tmp, "cfg"), XDG_DATA_HOME=os.path.join(tmp, "data"))
        for mb in sizes:
            path = os.path.join(tmp, "file-%dMB.bin" % mb)
            size = mb * MB
            make_file(path, size)
            res = {"xtalk": [], "curl": [], "send": []}
            for rep in range(a.reps):
                # Alternate who goes first: neither gets a warmer page cache.
                order = ("xtalk", "curl") if rep % 2 == 0 else ("curl", "xtalk")
                for who in order:
                    s = slot(srv, "bench-%s-%d.bin" % (who, rep), size)
                    hdr = ["%s: %s" % kv for kv in s["headers"].items()]
                    if who == "curl":
                        argv = ["curl", "-sS", "--fail", "--cacert", srv.ca_file, "-T", path,
                                "-H", "Content-Type: application/octet-stream", "-o", "/dev/null"]
                        for h in hdr:
                            argv += ["-H", h]
                        argv.append(s["put"])
                    else:
                        argv = [XT_PUT, "--ca-file", srv.ca_file, "--type",
                                "application/octet-stream"]
                        for h in hdr:
                            argv += ["--header", h]
                        argv += [s["put"], path]
                    wall, rss, rc, err = run_measured(argv)
                    if rc:
                        raise SystemExit("%s PUT failed (%d): %s" % (who, rc, err))
                    res[who].append((wall, rss))
                if not a.no_send:
                    argv = [XTALK, "send", "--jid", "alice@" + srv.domain, "--server",
                            "127.0.0.1:%d" % srv.port, "--ca-file", srv.ca_file, "--no-store",
                            "--file", path, "bob@" + srv.domain]
                    wall, rss, rc, err = run_measured(argv, env)
                    if rc:
                        raise SystemExit("xtalk send --file failed (%d): %s" % (rc, err))
                    res["send"].append((wall, rss))
            os.unlink(path)
            for who in ("xtalk", "curl", "send"):
                if not res[who]:
                    continue
                walls = [w for w, _ in res[who]]
                rows.append((mb, {"xtalk": "xtalk PUT (xt_put)", "curl": "curl -T",
                                  "send": "xtalk send --file"}[who],
                             fmt(walls), fmt([size / MB / w for w in walls]),
                             max(r for _, r in res[who]) // 1024,
                             statistics.median(size / MB / w for w in walls)))
        print("server: %s, %d repetitions, load average %.1f" % (srv.name, a.reps, os.getloadavg()[0]))
        print("| file | client | wall s (median, min-max) | MB/s (median, min-max) | peak RSS MiB |")
        print("| --- | --- | --- | --- | --- |")
        for mb, who, w, t, rss, _ in rows:
            print("| %d MB | %s | %s | %s | %d |" % (mb, who, w, t, rss))
        for mb in sizes:
            by = {who: thr for m, who, _, _, _, thr in rows if m == mb}
            if "xtalk PUT (xt_put)" in by and "curl -T" in by:
                print("%d MB: xtalk / curl throughput %.2fx" % (
                    mb, by["xtalk PUT (xt_put)"] / by["curl -T"]))
    finally:
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
