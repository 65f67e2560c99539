#!/usr/bin/env python3
"""Measures (not a test; prints figures):

1. Time from a cut to a resumed session, through the fault proxy: a
   `listen` connected through tests/harness/faultproxy.py, every
   connection reset at once (cut_all), the time until it prints
   "online as JID (resumed)". The client's reconnect backoff (first retry
   after 500 ms..1 s, jittered) is part of it, as a user would see it.
2. Messages per second for `xtalk send --lines` (N messages, acknowledged
   before exit) with XEP-0198 acks (Prosody with mod_smacks) and without
   (the same Prosody without it: the library acks with XEP-0199 pings),
   with the outbox on and off (--no-store).

Usage: bench/reliability_bench.py [BUILD_DIR] (default build)
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
import prosody  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build")
XTALK = os.path.join(BUILD, "cli", "xtalk")
USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}


def env(srv, user):
    e = dict(os.environ)
    e["XTALK_PASSWORD"] = USERS[user]
    e["XDG_CONFIG_HOME"] = os.path.join(srv.dir, "cfg-" + user)
    e["XDG_DATA_HOME"] = os.path.join(srv.dir, "data-" + user)
    return e


def argv(srv, user, cmd, port, *rest):
    return [XTALK, cmd, "--jid", "%s@localhost" % user, "--server", "127.0.0.1:%d" % port,
            "--ca-file", srv.ca_file] + list(rest)


def resume_times(srv, rounds=20):
    fp = FaultProxy(("127.0.0.1", srv.port), seed=1, max_faults=0, delay_prob=0).start()
    p = subprocess.Popen(argv(srv, "bob", "listen", fp.port, "--keepalive", "5"),
                         env=env(srv, "bob"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    times = []
    try:
        line = p.stderr.readline()
        assert "online as" in line, line
        time.sleep(1.0)  # let <enabled/> arrive: a cut before it cannot resume
        for _ in range(rounds):
            t0 = time.monotonic()
            fp.cut_all()
            while True:
                line = p.stderr.readline()
                if not line:
                    raise RuntimeError("listen exited")
                if "online as" in line:
                    times.append((time.monotonic() - t0) * 1000)
                    if "(resumed)" not in line:
                        print("  note: not resumed:", line.strip())
                    break
            time.sleep(0.2)
    finally:
        p.terminate()
        p.wait()
        fp.stop()
    return times


def throughput(srv, n, store):
    lines = "".join("message number %d with some text\n" % i for i in range(n))
    extra = [] if store else ["--no-store"]
    t0 = time.monotonic()
    r = subprocess.run(argv(srv, "alice", "send", srv.port, "--lines", *extra,
                            "bob@localhost"), input=lines, env=env(srv, "alice"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return n / dt


def main():
    n = 5000
    base_config = prosody.CONFIG
    results = {}
    for sm in (True, False):
        prosody.CONFIG = base_config if sm else base_config.replace(' "smacks";', "")
        prosody.CONFIG = prosody.CONFIG.replace(
            "modules_disabled", "smacks_max_queue_size = 20000\nmodules_disabled", 1)
        srv = prosody.Prosody(users=USERS).start()
        try:
            if sm:
                t = resume_times(srv)
                print("cut -> resumed session through the proxy: median %.0f ms, min %.0f, "
                      "max %.0f (%d cuts)" % (statistics.median(t), min(t), max(t), len(t)))
                # A fresh server: no session of the cut-off listener left
                # hibernating (Prosody copies a hibernating session's whole
                # queue for every stanza queued to it: quadratic).
                srv.restart()
            # A receiver online, so the server routes rather than stores.
            bob = subprocess.Popen(argv(srv, "bob", "listen", srv.port, "--no-store"),
                                   env=env(srv, "bob"), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
            assert "online as" in bob.stderr.readline()
            for store in (True, False):
                rates = [throughput(srv, n, store) for _ in range(3)]
                results[(sm, store)] = statistics.median(rates)
                print("send --lines %d messages, SM %s, outbox %s: %.0f msg/s (median of 3)"
                      % (n, "on " if sm else "off", "on " if store else "off",
                         results[(sm, store)]))
            bob.terminate()
            bob.wait()
        finally:
            srv.cleanup()
    prosody.CONFIG = base_config


if __name__ == "__main__":
    main()
