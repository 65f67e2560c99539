#!/usr/bin/env python3
"""Joining a crowded room with a long archive (issue 16): a room with N
occupants (default 1,000) and M archived messages (default 10,000) since
the client was last there. `xtalk listen --join` (room disco, join with
maxstanzas=0, the occupant list, then the room's archive after its stored
position, XEP-0313 §6, pages of 50) against slixmpp 1.8's xep_0045 join
plus xep_0313 paging of the same room after the same id, in the same run,
against a private ejabberd (tests/harness/ejabberd.py: its mod_muc keeps a
MAM archive per room; max_users raised to 5,000).

    bench/muc_bench.py [--occupants N] [--msgs M]

Order: the clients first join once (the position: a marker message), the
M messages are sent, then the N occupants join (raw c2s sessions, 50 at a
time: the server-bound part is theirs), then each client joins and
catches up. Prints wall time to joined and to caught up, client CPU
(user+sys), peak RSS, and xtalk's RSS per occupant: (peak RSS in the
crowded room - peak RSS in an empty room with the same catch-up) / N."""
import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from ejabberd import Ejabberd  # noqa: E402

XTALK = os.environ.get("XTALK_BIN", os.path.join(ROOT, "build", "cli", "xtalk"))
PW = "benchpass"


# --- raw c2s sessions (occupants, the sender) -----------------------------------

class Raw:
    """A minimal client session: STARTTLS, PLAIN, bind. Reads are drained
    into a buffer the caller may wait on."""

    def __init__(self, srv, user):
        self.srv, self.user, self.buf = srv, user, ""

    async def _until(self, pattern, timeout=120):
        end = time.monotonic() + timeout
        while not re.search(pattern, self.buf):
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("%s: no %r in %r" % (self.user, pattern, self.buf[-300:]))
            data = await asyncio.wait_for(self.r.read(65536), left)
            if not data:
                raise ConnectionError("%s: closed: %r" % (self.user, self.buf[-300:]))
            self.buf += data.decode("utf-8", "replace")
        m = re.search(pattern, self.buf)
        out, self.buf = self.buf[:m.end()], self.buf[m.end():]
        return out

    def _send(self, s):
        self.w.write(s.encode())

    def _header(self):
        self._send("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" % self.srv.domain)

    async def login(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.srv.port)
        self._header()
        await self._until(r"</stream:features>")
        self._send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await self._until(r"<proceed[^>]*>")
        ctx = ssl.create_default_context(cafile=self.srv.ca_file)
        await self.w.start_tls(ctx, server_hostname="localhost")
        self._header()
        await self._until(r"</stream:features>")
        cred = base64.b64encode(("\0%s\0%s" % (self.user, PW)).encode()).decode()
        self._send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % cred)
        await self._until(r"<success[^>]*>(</success>)?")
        self._header()
        await self._until(r"</stream:features>")
        self._send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        await self._until(r"</iq>")

    async def join(self, room, nick):
        self._send("<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'>"
                   "<history maxstanzas='0'/></x></presence>" % (room, nick))
        await self._until(r"code=['\"]110['\"]")

    async def drain(self):
        """Reads and forgets everything (other occupants' presence)."""
        try:
            while await self.r.read(65536):
                self.buf = ""
        except (ConnectionError, asyncio.CancelledError):
            pass

    async def say_many(self, room, texts):
        for i, t in enumerate(texts):
            self._send("<message to='%s' type='groupchat' id='s%d'><body>%s</body></message>"
                       % (room, i, t))
            if i % 200 == 199:
                await self.w.drain()
        await self.w.drain()
        # The last one's reflection: scanned chunk by chunk (a 10,000-message
        # buffer searched whole at every read would be quadratic).
        needle, tail = ">%s</body>" % texts[-1], self.buf[-200:]
        end = time.monotonic() + 1200
        while needle not in tail:
            data = await asyncio.wait_for(self.r.read(65536), max(1, end - time.monotonic()))
            if not data:
                raise ConnectionError("%s: closed while sending" % self.user)
            tail = tail[-200:] + data.decode("utf-8", "replace")
        self.buf = ""


async def crowd(srv, room, n, batch=50):
    """n occupants occ0..occN-1 in room, 50 logins at a time; returns the
    sessions (kept open, their input drained) and the seconds it took."""
    t0 = time.monotonic()
    sessions, drains = [], []
    for start in range(0, n, batch):
        group = [Raw(srv, "occ%d" % i) for i in range(start, min(n, start + batch))]
        await asyncio.gather(*(s.login() for s in group))
        await asyncio.gather(*(s.join(room, s.user) for s in group))
        sessions += group
        drains += [asyncio.ensure_future(s.drain()) for s in group]
    return sessions, drains, time.monotonic() - t0


def vm_hwm(pid):
    """Peak RSS (KiB) of a live process. Not wait4's ru_maxrss: a child
    forked from this (large) Python process is charged the fork's RSS
    before its exec."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


# --- the clients -----------------------------------------------------------------

def xtalk_env(home):
    return dict(os.environ, XTALK_PASSWORD=PW, XDG_CONFIG_HOME=os.path.join(home, "cfg"),
                XDG_DATA_HOME=os.path.join(home, "data"))


def xtalk_join(srv, home, room, last_body):
    """`xtalk listen --json --join room/me` until last_body is printed (or,
    last_body None, until joined); returns (joined s, caught up s, bodies,
    cpu s, rss KiB, the stanza-ids printed)."""
    t0 = time.monotonic()
    p = subprocess.Popen([XTALK, "listen", "--json", "--jid", "me@" + srv.domain, "--server",
                          "127.0.0.1:%d" % srv.port, "--ca-file", srv.ca_file, "--resource", "bench",
                          "--join", room + "/me"],
                         env=xtalk_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    joined = done = None
    bodies, ids, occ = 0, [], 0
    for line in p.stdout:
        o = json.loads(line)
        if o.get("event") == "join":
            occ += 1
        if o.get("event") == "joined" and joined is None:
            joined = time.monotonic() - t0
            if last_body is None:
                break
        elif o.get("body") and o.get("room") == room:
            bodies += 1
            ids.append(o.get("stanza_id"))
            if o["body"] == last_body:
                done = time.monotonic() - t0
                break
    hwm = vm_hwm(p.pid)
    p.terminate()
    p.stdout.close()
    p.stderr.close()
    _, _, ru = os.wait4(p.pid, 0)
    return joined, done, bodies, ru.ru_utime + ru.ru_stime, hwm, ids, occ


SLIX = r'''
import asyncio, os, sys, time
import slixmpp
jid, port, ca, room, after = sys.argv[1:6]
class C(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, os.environ["XTALK_PASSWORD"])
        for p in ("xep_0030", "xep_0045", "xep_0059", "xep_0313"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)
    async def start(self, _):
        t0 = time.monotonic()
        await self.plugin["xep_0045"].join_muc_wait(room, "slix", maxstanzas=0, timeout=600)
        joined = time.monotonic() - t0
        n = 0
        async for _m in self.plugin["xep_0313"].iterate(jid=room, rsm={"max": 50, "after": after}):
            n += 1
        occ = self.plugin["xep_0045"].get_roster(room) or []
        hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
        print("joined %.3f count %d occupants %d hwm %s" % (joined, n, len(occ), hwm), flush=True)
        os._exit(0)
c = C()
c.ca_certs = ca
c.connect(("127.0.0.1", int(port)))
asyncio.get_event_loop().run_forever()
'''


def slix_join(srv, room, after):
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/python3", "-c", SLIX, "slix@" + srv.domain, str(srv.port),
                          srv.ca_file, room, after],
                         env=dict(os.environ, XTALK_PASSWORD=PW), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out = p.stdout.read()
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    _, _, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    m = re.search(r"joined ([\d.]+) count (\d+) occupants (\d+) hwm (\d+)", out)
    if not m:
        return None, wall, -1, -1, ru.ru_utime + ru.ru_stime, -1, err[-500:]
    return (float(m.group(1)), wall, int(m.group(2)), int(m.group(3)),
            ru.ru_utime + ru.ru_stime, int(m.group(4)), "")


def main():
    # SIGTERM (a `timeout` around the run) ends it through the finally
    # below, which stops the server: nothing is left running.
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ap = argparse.ArgumentParser()
    ap.add_argument("--occupants", type=int, default=1000)
    ap.add_argument("--msgs", type=int, default=10000)
    a = ap.parse_args()
    users = {"me": PW, "slix": PW, "bob": PW}
    srv = Ejabberd(users=users)
    home = tempfile.mkdtemp(prefix="xtb-muc-")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        t = time.monotonic()
        srv.start(timeout=600)
        # The occupants' accounts, 100 per call (one call's command line
        # holds them all).
        for start in range(0, a.occupants, 100):
            chunk = {"occ%d" % i: PW for i in range(start, min(a.occupants, start + 100))}
            if not srv._register_all(chunk):
                raise RuntimeError("registering occupants failed")
        print("ejabberd with %d accounts up in %.1f s" % (a.occupants + 3, time.monotonic() - t),
              flush=True)
        room = "crowd@" + srv.muc
        empty = "empty@" + srv.muc
        bob = Raw(srv, "bob")
        loop.run_until_complete(bob.login())
        loop.run_until_complete(bob.join(room, "bob"))
        loop.run_until_complete(bob.join(empty, "bob"))
        # 1. The position: xtalk sees a marker live in each room.
        for r in (room, empty):
            pj = subprocess.Popen([XTALK, "listen", "--json", "--jid", "me@" + srv.domain,
                                   "--server", "127.0.0.1:%d" % srv.port, "--ca-file", srv.ca_file,
                                   "--resource", "bench", "--join", r + "/me"],
                                  env=xtalk_env(home), stdout=subprocess.PIPE, text=True)
            for line in pj.stdout:
                if json.loads(line).get("event") == "joined":
                    break
            loop.run_until_complete(bob.say_many(r, ["marker"]))
            marker_id = None
            for line in pj.stdout:
                o = json.loads(line)
                if o.get("body") == "marker":
                    marker_id = o.get("stanza_id")
                    break
            pj.terminate()
            pj.wait()
            if r == room:
                room_marker = marker_id
        # 2. The archive while away.
        texts = ["m %d" % i for i in range(a.msgs)]
        t = time.monotonic()
        loop.run_until_complete(bob.say_many(room, texts))
        loop.run_until_complete(bob.say_many(empty, texts))
        print("%d messages archived in each room in %.1f s" % (a.msgs, time.monotonic() - t),
              flush=True)
        # 3. The crowd.
        sessions, drains, crowd_s = loop.run_until_complete(crowd(srv, room, a.occupants))
        print("%d occupants joined in %.1f s (raw sessions, 50 at a time)" % (a.occupants, crowd_s),
              flush=True)

        def pump(fn, *args):
            """Runs fn in a thread while the loop drains the occupants."""
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(1) as ex:
                fut = loop.run_in_executor(ex, fn, *args)
                return loop.run_until_complete(fut)

        # 4. The clients, each in turn (xtalk in the empty room first: the
        # baseline for memory per occupant).
        ej, ed, en, ecpu, erss, _, _ = pump(xtalk_join, srv, home, empty, texts[-1])
        xj, xd, xn, xcpu, xrss, ids, xocc = pump(xtalk_join, srv, home, room, texts[-1])
        sj, sw, sn, socc, scpu, srss, serr = pump(slix_join, srv, room, room_marker)
        dup = len(ids) - len(set(ids))
        print()
        print("| join a room of %d occupants + catch up %d archived messages | xtalk listen --join "
              "| slixmpp 1.8 xep_0045 + xep_0313 |" % (a.occupants, a.msgs))
        print("| --- | --- | --- |")
        print("| time to joined | %.2f s | %s |" % (xj, "%.2f s" % sj if sj is not None else "failed"))
        print("| time to joined + caught up | %.2f s | %.2f s |" % (xd or -1, sw))
        print("| messages caught up (duplicates) | %d (%d) | %d |" % (xn, dup, sn))
        print("| occupants listed | %d | %d |" % (xocc, socc))
        print("| client CPU (user+sys) | %.2f s | %.2f s |" % (xcpu, scpu))
        print("| peak RSS | %.1f MiB | %.1f MiB |" % (xrss / 1024, srss / 1024))
        print("| xtalk RSS per occupant ((crowded - empty room) / N) | %.0f B | |"
              % ((xrss - erss) * 1024 / a.occupants))
        print("| (the %d occupants' own join, server-bound) | %.1f s | |" % (a.occupants, crowd_s))
        if serr:
            print("slixmpp stderr: %s" % serr)
        for d in drains:
            d.cancel()
    finally:
        srv.cleanup()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
