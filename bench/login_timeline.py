#!/usr/bin/env python3
"""The timeline of one login through the 25 ms/way proxy (bench/run row 3).

    bench/login_timeline.py [--starttls] [--sasl1] [--reps N] [--strace]
                            [--server-strace] [--nagle-off] [--no-presence]

Starts a private Prosody (SASL2, Bind2, FAST), makes one password login
to get a FAST token and the SASL offer (the hint), then times N logins
(default 7; FAST unless --sasl1: the RFC 6120 path with the hint) and
prints, for the last one, every event on one clock (CLOCK_REALTIME, ms
from the client process's start):

  proxy  the delay proxy's log (bench/delay_proxy.c): each chunk read from
         one side ("in", when the sender wrote it) and written to the other
         ("out", 25 ms later)
  xt     the client's own log ($XTB_LOG=1 in bench/xt_client.c): TLS
         established, each XML chunk sent and received, "online"
  sys    with --strace, the client's socket syscalls (strace -ttt)
  srv    with --server-strace, Prosody's reads and writes (strace -ttt -p)

then the login cut into turns: the client's (process start, handshake
work, ...), each way of the wire (the proxy's 25 ms), and the server's
(from the chunk reaching it to its answer leaving it), and how many
round trips the proxy saw against the wall time / 50 ms. What bench/run
counts as done is the same event: the roster loaded ("online": bound,
roster answered, initial presence sent).

--no-presence logs in without initial presence (XT_CONN_NO_PRESENCE):
the difference in the server's last turn is Prosody's handling of the
presence (roster broadcast, offline messages, the avatar hash), which it
does before it writes the answer to the whole flight.

Prosody is configured as bench/run configures it (Nagle's algorithm on,
Prosody's default); --nagle-off turns it off (network_settings), to see
what it costs. Also prints the median of each turn over the N logins:
a single login on this shared machine says little.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("XTB_BUILD") or os.path.join(ROOT, "build-bench")
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from prosody import Prosody  # noqa: E402

PW = "benchpass"
UA_ID = "5b0e7d8a-1c2f-4e3a-9b6d-7f8e9a0b1c2d"
DELAY = 0.025


def exe(name):
    return os.path.join(BUILD, "bench", name)


def build():
    if not os.path.isdir(BUILD):
        subprocess.run(["meson", "setup", BUILD], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", BUILD, "-j2", "bench/xt_client", "bench/delay_proxy"],
                   check=True, stdout=subprocess.DEVNULL)


class Proxy:
    def __init__(self, port, log):
        self.log = log
        self.p = subprocess.Popen([exe("delay_proxy"), str(port), str(int(DELAY * 1e6)), log],
                                  stdout=subprocess.PIPE, text=True)
        self.port = int(self.p.stdout.readline())

    def close(self):
        self.p.kill()
        self.p.wait()

    def events(self):
        """[(time, conn, text)] of the log so far."""
        out = []
        with open(self.log) as f:
            for line in f:
                t, conn, rest = line.split(" ", 2)
                out.append((float(t), int(conn), rest.strip()))
        return out


def login(port, srv, direct, fast=None, hint=None, sasl1=False, log=False, strace=None,
          no_presence=False):
    """(seconds to online, stdout fields, stderr, t0 on CLOCK_REALTIME)."""
    argv = [exe("xt_client"), "login", "dave@localhost", PW, "127.0.0.1", str(port), srv.ca_file]
    if direct:
        argv.append("direct")
    if strace:
        argv = ["strace", "-ttt", "-f", "-o", strace, "-e",
                "trace=connect,read,write,recvfrom,sendto,recvmsg,sendmsg,poll,ppoll,epoll_wait",
                ] + argv
    env = dict(os.environ)
    for k in ("XTB_SASL_HINT", "XTB_FAST", "XTB_UA_ID", "XTB_NO_SASL2", "XTB_LOG", "XTB_NO_PRESENCE"):
        env.pop(k, None)
    if no_presence:
        env["XTB_NO_PRESENCE"] = "1"
    if sasl1:
        env["XTB_NO_SASL2"] = "1"
    else:
        env["XTB_UA_ID"] = UA_ID
    if fast:
        env["XTB_FAST"] = fast
    if hint:
        env["XTB_SASL_HINT"] = hint
    if log:
        env["XTB_LOG"] = "1"
    errf = tempfile.TemporaryFile(mode="w+")  # a file: a full pipe would stall the client
    t0w = time.time()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errf, text=True, env=env)
    line = p.stdout.readline()
    t = time.monotonic() - t0
    rest = p.stdout.read()  # communicate() would miss what readline() buffered
    p.wait()
    errf.seek(0)
    err = errf.read()
    errf.close()
    if line.strip() != "online":
        raise RuntimeError("login failed: %s %s" % (line, err[-2000:]))
    fields = dict(re.findall(r"^(\w+)=(.*)$", rest, re.M))
    return t, fields, err, t0w


def short(text, n=110):
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[: n - 3] + "..."


def client_events(err):
    out = []
    for line in err.splitlines():
        m = re.match(r"^(\d+\.\d+) (\w+) (.*)$", line)
        if m:
            out.append((float(m.group(1)), "xt", "%-5s %s" % (m.group(2), short(m.group(3)))))
    return out


def strace_events(path, who):
    out = []
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return out
    for line in lines:
        m = re.match(r"^(?:\d+\s+)?(\d+\.\d+) (\w+)\((.*)$", line)
        if not m:
            continue
        name, rest = m.group(2), m.group(3)
        if name in ("poll", "ppoll", "epoll_wait"):
            continue  # the waits: the gaps show them
        ret = rest.rsplit("=", 1)[-1].strip()
        fd = rest.split(",", 1)[0]
        if name in ("openat", "rename"):
            path = re.search(r'"([^"]*)"', rest)
            out.append((float(m.group(1)), who, "%s(%s) = %s"
                        % (name, path.group(1)[-60:] if path else "?", short(ret, 20))))
            continue
        if ret.startswith("-1") and "EAGAIN" in ret:
            continue
        out.append((float(m.group(1)), who, "%s(fd %s) = %s" % (name, fd, short(ret, 40))))
    return out


def turns(pev, t0, t_online):
    """The login cut into turns, from the proxy's chunks: (label, ms) in
    order. Chunks are grouped into flights (consecutive chunks one way,
    ordered by when their sender wrote them); a flight's sender worked
    from the previous flight's arrival (25 ms after it was written) to
    its own last chunk: the server's several writes (the TLS 1.3 tickets,
    then the answer) are one turn, listed chunk by chunk."""
    chunks = []
    for t, _, what in pev:
        m = re.match(r"^(c>s|s>c) in (\d+)$", what)
        if m and t <= t_online:
            chunks.append((t, m.group(1), int(m.group(2))))
    flights = []
    for t, d, n in chunks:
        if flights and flights[-1][0] == d:
            flights[-1][1].append((t, n))
        else:
            flights.append((d, [(t, n)]))
    res = []
    arrived = t0  # when the sender of the next flight could start
    for d, ch in flights:
        who = "client" if d == "c>s" else "server"
        start = arrived
        parts = ", ".join("%d B at +%.2f" % (n, (t - start) * 1000) for t, n in ch)
        res.append(("%s (%s)" % (who, parts), (ch[-1][0] - start) * 1000))
        res.append(("wire %s (the proxy's delay)" % d, DELAY * 1000))
        arrived = ch[-1][0] + DELAY
    res.append(("client, from the last arrival to online", (t_online - arrived) * 1000))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--sasl1", action="store_true", help="the RFC 6120 path with the hint")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--strace", action="store_true", help="also the client's syscalls")
    ap.add_argument("--server-strace", action="store_true", help="also Prosody's syscalls")
    ap.add_argument("--no-presence", action="store_true", help="no initial presence")
    ap.add_argument("--nagle-off", action="store_true",
                    help="Prosody with network_settings nagle = false (not bench/run's setting)")
    a = ap.parse_args()
    build()
    extra = "limits = {}\nc2s_stanza_size_limit = 262144\n"
    extra += "network_settings = { tcp_backlog = 4096%s }" % ("; nagle = false" if a.nagle_off else "")
    srv = Prosody(loglevel="warn", sasl2=True, users={"dave": PW}, extra_config=extra)
    tmp = tempfile.mkdtemp(prefix="xtb-timeline-")
    px = None
    sp = None
    try:
        srv.start()
        direct = not a.starttls
        px = Proxy(srv.tls_port if direct else srv.port, os.path.join(tmp, "proxy.log"))
        _, f, _, _ = login(px.port, srv, direct)  # the password login: token, hint
        hint, token = f.get("hint") or None, f.get("fast") or None
        if not a.sasl1 and not token:
            raise RuntimeError("no FAST token from the password login")
        times = []
        per_rep = []  # each login's turns, ms
        for i in range(a.reps):
            last = i == a.reps - 1
            if last and a.server_strace:
                sp = subprocess.Popen(["strace", "-ttt", "-f", "-o", os.path.join(tmp, "srv.strace"),
                                       "-e", "trace=openat,read,write,recvfrom,sendto,epoll_wait,fsync,fdatasync,rename",
                                       "-p", str(srv.proc.pid)], stderr=subprocess.DEVNULL)
                time.sleep(1.0)  # strace attaches
            nconn = len([e for e in px.events() if e[2] == "accept"])
            t, f, err, t0w = login(px.port, srv, direct, fast=None if a.sasl1 else token,
                                   hint=hint, sasl1=a.sasl1, log=last, no_presence=a.no_presence,
                                   strace=os.path.join(tmp, "xt.strace") if last and a.strace else None)
            if not a.sasl1:
                token = f.get("fast") or token
            times.append(t / (2 * DELAY))
            rep_ev = [(te, c, w) for te, c, w in px.events() if c == nconn + 1]
            per_rep.append([ms for _, ms in turns(rep_ev, t0w, t0w + t)])
        if sp:
            time.sleep(0.3)
            sp.terminate()
            sp.wait()
        conn = nconn + 1
        pev = [(t, c, w) for t, c, w in px.events() if c == conn]
        cev = client_events(err)
        online = [t for t, _, w in cev if "bench: online" in w]
        t_online = online[0] if online else t0w + times[-1] * 2 * DELAY
        ev = [(t, "proxy", w) for t, _, w in pev] + cev
        if a.strace:
            ev += strace_events(os.path.join(tmp, "xt.strace"), "sys")
        if a.server_strace:
            ev += [e for e in strace_events(os.path.join(tmp, "srv.strace"), "srv")
                   if t0w <= e[0] <= t_online + 0.05]
        ev.sort(key=lambda e: e[0])
        print("login: %s, %s; round trips (time to online / 50 ms) over %d: median %.2f (%.2f-%.2f)"
              % ("STARTTLS" if a.starttls else "direct TLS", "SASL1 + hint" if a.sasl1 else "FAST",
                 len(times), statistics.median(times), min(times), max(times)))
        print("timeline of the last (ms from the client's start; proxy: 'in' = written by "
              "that side, 'out' = delivered 25 ms later):")
        print("  %9s  %s" % (0.0, "start (fork+exec by the runner)"))
        for t, who, w in ev:
            print("  %9.2f  %-5s %s" % ((t - t0w) * 1000, who, w))
        print("turns:")
        tt = turns(pev, t0w, t_online)
        rt = sum(1 for label, _ in tt if label.startswith("wire s>c"))
        local = {"client": 0.0, "server": 0.0}
        for label, ms in tt:
            print("  %8.2f ms  %s" % (ms, label))
            for k in local:
                if label.startswith(k):
                    local[k] += ms
        print("round trips the proxy saw: %d (%.0f ms of wire); client %.2f ms, server %.2f ms; "
              "wall %.2f ms = %.2f round trips"
              % (rt, rt * 2 * DELAY * 1000, local["client"], local["server"],
                 (t_online - t0w) * 1000, (t_online - t0w) / (2 * DELAY)))
        same = [r for r in per_rep if len(r) == len(tt)]
        if same:
            print("the turns over the %d logins with this shape, median (min-max) ms:" % len(same))
            for k, (label, _) in enumerate(tt):
                if label.startswith("wire"):
                    continue
                v = [r[k] for r in same]
                print("  %7.2f (%.2f-%.2f)  %s" % (statistics.median(v), min(v), max(v),
                                                  re.sub(r" \(.*", "", label)))
            cl = [sum(r[k] for k, (lb, _) in enumerate(tt) if lb.startswith("client")) for r in same]
            sv = [sum(r[k] for k, (lb, _) in enumerate(tt) if lb.startswith("server")) for r in same]
            print("  %7.2f (%.2f-%.2f)  all the client's turns" % (statistics.median(cl), min(cl), max(cl)))
            print("  %7.2f (%.2f-%.2f)  all the server's turns" % (statistics.median(sv), min(sv), max(sv)))
    finally:
        if sp and sp.poll() is None:
            sp.kill()
        if px:
            px.close()
        srv.cleanup()


if __name__ == "__main__":
    main()
