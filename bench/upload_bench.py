#!/usr/bin/env python3
"""HTTP File Upload throughput, CPU and memory (issue 17): a file of S MB
PUT on loopback to the private server's XEP-0363 service by xtalk's HTTP
engine (libcurl multi socket on xt_loop, bench/xt_put.c, through the
public API only) and by `curl -T`, each to its own slot of the same
service, interleaved in the same run; and `xtalk send --file` end to end
(login, disco, slot request, PUT, message) beside them.

    bench/upload_bench.py [--sizes 10,100] [--reps 7] [--send-reps N]
                          [--server prosody|ejabberd] [--nice N]
                          [--prosody-read-size BYTES] [--json FILE]

How the figures are taken, so that a loaded machine moves both clients
alike:
  - Pairs: repetition r runs xtalk then curl (even r) or curl then xtalk
    (odd r), back to back, each to a fresh slot of the same size and
    type asked for by slixmpp (tests/integration/slix_upload.py) outside
    the timing. Both read the same file, read once before the first run
    so it is in the page cache for all. Both run under the same
    `nice -n N`, and the server's threads at N too (0 unless --nice; a
    negative N, as root, shields all three from the machine's other
    jobs, which otherwise decide most of the spread).
  - Throughput is the file's size over the client process's wall time
    (exec to exit: start-up, TLS handshake, body, response), in MB/s
    (10^6 bytes). Reported as median (min-max); "xtalk / curl" is the
    ratio of the medians and, beside it, the median of the per-pair
    ratios (each pair ran under nearly the same load).
  - CPU per MB is the client's user+sys time (wait4's rusage of
    GNU time and its child) over the size: stable under load when wall
    time is not. The server's CPU per MB is the same for the server's
    whole process group (/proc/PID/stat utime+stime, 10 ms ticks),
    sampled before and after each PUT: it says whether the server is
    what limits the rate.
  - Peak RSS is GNU time's %M for the client (the program's own; a
    rusage of a child Python forked would count the interpreter's pages
    from before the exec).
The server is Prosody 0.12's mod_http_file_share (limit raised to fit
the largest file) unless --server ejabberd (mod_http_upload)."""
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
TICK = os.sysconf("SC_CLK_TCK")


def group_pids(pgid):
    """The processes of process group pgid (the server, started in its own
    session) with their /proc/PID/stat fields after the command name."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        # The command name may hold spaces: fields count from after ')'.
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:
            out.append((int(p), fields))
    return out


def renice_group(pgid, nice):
    """Every thread of the server at `nice` (setpriority is per thread on
    Linux; Erlang's schedulers are threads)."""
    for pid, _ in group_pids(pgid):
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                os.setpriority(os.PRIO_PROCESS, int(tid), nice)
            except OSError:
                pass


def group_cpu(pgid):
    """CPU seconds (user+sys, with reaped children) of every process in
    process group pgid: the server (started in its own session)."""
    return sum(sum(int(x) for x in f[11:15]) for _, f in group_pids(pgid)) / TICK


def run_measured(argv, nice, env=None):
    """(wall s, peak RSS KiB, CPU s, exit status, stderr) of one process
    run under GNU time at `nice -n nice`."""
    fd, tf = tempfile.mkstemp(prefix="xtb-time-")
    os.close(fd)
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(["nice", "-n", str(nice), "/usr/bin/time", "-f", "%M", "-o", tf]
                             + argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errtext = err.read().decode(errors="replace")
    with open(tf) as f:
        rss = int(f.read().split()[-1])
    os.unlink(tf)
    return wall, rss, ru.ru_utime + ru.ru_stime, p.returncode, errtext


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
    # In the page cache for every run (it was just written; read it once
    # so that neither client's first run pays for it).
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def start_server(kind, max_size, read_size):
    if kind == "ejabberd":
        srv = Ejabberd(users=USERS, file_share=max_size)
    else:
        # Prosody's connections read network_default_read_size bytes (4096
        # unless set) per loop pass, with a timer between passes while
        # TLS holds more: that, not the client, sets its upload rate.
        extra = "network_default_read_size = %d" % read_size if read_size else ""
        srv = Prosody(users=USERS, file_share=max_size, extra_config=extra)
    return srv.start()


def fmt(xs, f="%.1f"):
    return (f + " (" + f + "–" + f + ")") % (statistics.median(xs), min(xs), max(xs))


def table(name, sizes, runs):
    """The README's rows (markdown) from every run's figures."""
    print("| server | file | xtalk PUT MB/s | `curl -T` MB/s | xtalk / curl: medians; per pair "
          "| CPU ms/MB xtalk / curl | server CPU ms/MB xtalk / curl | `send --file` MB/s "
          "| peak RSS MiB xtalk / curl / send |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for mb in sizes:
        by = {w: [r for r in runs if r["mb"] == mb and r["who"] == w]
              for w in ("xtalk", "curl", "send")}
        xt = {r["rep"]: r for r in by["xtalk"]}
        cu = {r["rep"]: r for r in by["curl"]}
        rate = {w: [mb / r["wall"] for r in rs] for w, rs in by.items()}
        med = statistics.median(rate["xtalk"]) / statistics.median(rate["curl"])
        pairs = [cu[k]["wall"] / xt[k]["wall"] for k in xt if k in cu]

        def ms(w, key):
            return statistics.median(1000 * r[key] / mb for r in by[w])

        print("| %s | %d MB | %s | %s | %.2f×; %s | %.2f / %.2f | %.1f / %.1f | %s | %s |" % (
            name, mb, fmt(rate["xtalk"]), fmt(rate["curl"]), med, fmt(pairs, "%.2f×"),
            ms("xtalk", "cpu"), ms("curl", "cpu"), ms("xtalk", "server_cpu"),
            ms("curl", "server_cpu"), fmt(rate["send"]) if rate["send"] else "–",
            " / ".join(str(max(r["rss"] for r in by[w]) // 1024) if by[w] else "–"
                       for w in ("xtalk", "curl", "send"))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100", help="file sizes in MB, comma-separated")
    ap.add_argument("--reps", type=int, default=7, help="xtalk/curl pairs per size")
    ap.add_argument("--send-reps", type=int, default=None,
                    help="xtalk send --file runs per size (default: --reps; 0: none)")
    ap.add_argument("--server", default="prosody", choices=("prosody", "ejabberd"))
    ap.add_argument("--nice", type=int, default=0,
                    help="nice value of both clients and the server (negative: root only; "
                    "shields the measurement from the machine's other jobs)")
    ap.add_argument("--prosody-read-size", type=int, default=0,
                    help="Prosody's network_default_read_size (default: Prosody's own, 4096)")
    ap.add_argument("--json", help="also write every run's figures to this file")
    a = ap.parse_args()
    send_reps = a.reps if a.send_reps is None else a.send_reps
    sizes = [int(s) for s in a.sizes.split(",")]
    srv = start_server(a.server, max(sizes) * MB + MB, a.prosody_read_size)
    pgid = srv.proc.pid
    if a.nice:
        renice_group(pgid, a.nice)
    tmp = tempfile.mkdtemp(prefix="xtalk-upload-bench-")
    runs = []
    load = []

    def keep(run):
        """Records a run (and rewrites --json: a stopped run keeps its figures)."""
        runs.append(run)
        load.append(os.getloadavg()[0])
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"server": srv.name, "nice": a.nice, "runs": runs, "load": load}, f,
                          indent=1)
    try:
        env = dict(os.environ, XTALK_PASSWORD=USERS["alice"],
                   XDG_CONFIG_HOME=os.path.join(tmp, "cfg"), XDG_DATA_HOME=os.path.join(tmp, "data"))
        for mb in sizes:
            path = os.path.join(tmp, "file-%dMB.bin" % mb)
            size = mb * MB
            make_file(path, size)
            for rep in range(max(a.reps, send_reps)):
                order = ("xtalk", "curl") if rep % 2 == 0 else ("curl", "xtalk")
                if rep >= a.reps:
                    order = ()
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
                    c0 = group_cpu(pgid)
                    wall, rss, cpu, rc, err = run_measured(argv, a.nice)
                    scpu = group_cpu(pgid) - c0
                    if rc:
                        raise SystemExit("%s PUT failed (%d): %s" % (who, rc, err))
                    keep(dict(mb=mb, who=who, rep=rep, wall=wall, rss=rss, cpu=cpu,
                              server_cpu=scpu))
                if rep < send_reps:
                    argv = [XTALK, "send", "--jid", "alice@" + srv.domain, "--server",
                            "127.0.0.1:%d" % srv.port, "--ca-file", srv.ca_file, "--no-store",
                            "--file", path, "bob@" + srv.domain]
                    c0 = group_cpu(pgid)
                    wall, rss, cpu, rc, err = run_measured(argv, a.nice, env)
                    scpu = group_cpu(pgid) - c0
                    if rc:
                        raise SystemExit("xtalk send --file failed (%d): %s" % (rc, err))
                    keep(dict(mb=mb, who="send", rep=rep, wall=wall, rss=rss, cpu=cpu,
                              server_cpu=scpu))
            os.unlink(path)
        name = {"prosody": "Prosody 0.12 `mod_http_file_share`",
                "ejabberd": "ejabberd 23.01 `mod_http_upload`"}[a.server]
        print("server: %s; %d pairs per size (%d send --file); nice %d; load average %.1f-%.1f"
              % (srv.name, a.reps, send_reps, a.nice, min(load or [0]), max(load or [0])))
        table(name, sizes, runs)
    finally:
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
