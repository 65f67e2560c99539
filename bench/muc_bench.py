#!/usr/bin/env python3
"""Joining a crowded room with a long archive (issue 16): a room with N
occupants (default 1,000) and M archived messages (default 10,000) since
the client was last there. `xtalk listen --join` (room disco, join with
maxstanzas=0, the occupant list, then the room's archive after its stored
position, XEP-0313 §6, pages of 50) against slixmpp 1.8's xep_0045 join
plus xep_0313 paging of the same room after the same id, in the same run,
against a private ejabberd (tests/harness/ejabberd.py: its mod_muc keeps a
MAM archive per room; max_users raised to 5,000), configured here with the
rooms' archive in ejabberd's SQL backend (SQLite, on tmpfs) and room limits
raised for 1,000 occupants (BenchEjabberd below says why).

    bench/muc_bench.py [--occupants N] [--msgs M] [--reps R]

Order: xtalk first joins once (its position: a marker message), the M
messages are sent, then the N occupants join (raw c2s sessions, 50 at a
time: the server-bound part is theirs), then R times: xtalk joins an empty
room with the same catch-up, xtalk joins the crowded room, slixmpp joins
it. Each client's catch-up is checked (all M, once, in order). Prints the
medians: time to joined and to caught up (from the process's start),
client CPU (user+sys), peak RSS, and xtalk's RSS per occupant: (peak RSS
in the crowded room - peak RSS in the empty room) / N. The full size runs
in about 10 minutes on a loaded 2-core machine."""
import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from ejabberd import Ejabberd, _erl_bin  # noqa: E402
from prosody import free_port  # noqa: E402

XTALK = os.environ.get("XTALK_BIN", os.path.join(ROOT, "build", "cli", "xtalk"))
PW = "benchpass"


# --- the server -------------------------------------------------------------------

class BenchEjabberd(Ejabberd):
    """The test harness's ejabberd with this benchmark's own settings on top.

    The archive: ejabberd's Mnesia backend for mod_mam keeps a room's whole
    archive under one key of a disc_only_copies (dets) bag table, so storing
    one message rewrites every message the room already has: seeding 10,000
    took over 25 minutes (quadratic: 1.8 s for the first 500 messages, 8.1 s
    for the third 500). The SQL backend inserts a row (linear, as a
    deployment with a real archive runs it); SQLite on disk still costs an
    fsync per message (~7 ms), so the database lives on tmpfs (0.3-0.7 ms a
    message). It is what the server serves over XEP-0313: the messages are
    sent through the room, the room archives them.

    The rooms: ejabberd's default room options cap a room at 200 occupants
    (max_users) and the service stops broadcasting presence in rooms of
    over 1,000 (max_users_presence); both are raised so all N occupants are real and
    visible to the clients under test.

    The occupants (not under test) log in on a listener of their own
    without TLS: a room of N costs the server N*N presence stanzas as it
    fills, each written to an occupant, and TLS on a million of them only
    slowed the set-up. Its backlog, and the TLS listener's, are raised
    from ejabberd's default of 5 pending connections, beyond which logins
    in parallel were reset."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.mam_dir = tempfile.mkdtemp(prefix="xtb-muc-mam-", dir="/dev/shm")
        self.crowd_port = None

    def write_config(self):
        super().write_config()
        with open(self.config) as f:
            text = f.read()
        if not self.crowd_port:
            self.crowd_port = free_port()
        for old, new in (("listen:\n",
                          "listen:\n  - port: %d\n    ip: \"127.0.0.1\"\n    module: ejabberd_c2s\n"
                          "    shaper: none\n    backlog: 1024\n" % self.crowd_port),
                         ("    starttls_required: true\n",
                          "    starttls_required: true\n    backlog: 1024\n"),
                         ("  mod_mam:\n    default: always\n",
                          "  mod_mam:\n    default: always\n    db_type: sql\n"),
                         ("    max_users: 5000\n",
                          "    max_users: 5000\n    max_users_presence: 5000\n"),
                         ("    default_room_options:\n      mam: true\n",
                          "    default_room_options:\n      mam: true\n      max_users: 5000\n")):
            if old not in text:
                raise RuntimeError("the harness's ejabberd.yml changed: no %r to extend" % old)
            text = text.replace(old, new)
        text += 'sql_type: sqlite\nsql_database: "%s"\n' % os.path.join(self.mam_dir, "mam.db")
        with open(self.config, "w") as f:
            f.write(text)

    def cleanup(self):
        super().cleanup()
        shutil.rmtree(self.mam_dir, ignore_errors=True)


def register_occupants(srv, n):
    """Accounts occ0..occ<n-1>, password PW, in one call into the running
    node (the harness's register() starts a node per call: 1,000 of them,
    or even 10 calls of 100, took over a minute on a loaded machine)."""
    expr = ("H = %s, P = %s, "
            "Bad = [I || I <- lists:seq(0, %d), "
            "rpc:call(Node, ejabberd_auth, try_register, "
            "[list_to_binary(\"occ\" ++ integer_to_list(I)), H, P]) =/= ok], "
            "case Bad of [] -> halt(0); _ -> io:format(\"failed: ~p~n\", [Bad]), halt(3) end."
            % (_erl_bin(srv.domain), _erl_bin(PW), n - 1))
    rc, out = srv._ctl_eval(expr, timeout=600)
    if rc != 0:
        raise RuntimeError("registering %d occupants failed (%d): %s" % (n, rc, out[-2000:]))


# --- raw c2s sessions (occupants, the sender) -----------------------------------

class Raw:
    """A minimal client session: STARTTLS, PLAIN, bind. Reads are drained
    into a buffer the caller may wait on."""

    def __init__(self, srv, user, tls=True):
        self.srv, self.user, self.buf, self.tls = srv, user, "", tls

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
        self.r, self.w = await asyncio.open_connection(
            "127.0.0.1", self.srv.port if self.tls else self.srv.crowd_port)
        self._header()
        await self._until(r"</stream:features>")
        if self.tls:
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

    async def join(self, room, nick, timeout=120):
        self._send("<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'>"
                   "<history maxstanzas='0'/></x></presence>" % (room, nick))
        await self._until(r"code=['\"]110['\"]", timeout)

    async def drain(self):
        """Reads and forgets everything (other occupants' presence)."""
        try:
            while await self.r.read(65536):
                self.buf = ""
        except (ConnectionError, asyncio.CancelledError):
            pass

    async def say_many(self, room, texts):
        """Sends texts to room pipelined (no wait for each reflection) while
        reading the reflections as they come: unread, they would fill the
        socket, the server's session would block writing to us and stop
        reading what we send. Returns once the last one is reflected."""
        async def write():
            for i, t in enumerate(texts):
                self._send("<message to='%s' type='groupchat' id='s%d'><body>%s</body></message>"
                           % (room, i, t))
                if i % 200 == 199:
                    await self.w.drain()
            await self.w.drain()

        async def read():
            # Scanned chunk by chunk (a 10,000-message buffer searched whole
            # at every read would be quadratic).
            needle, tail = ">%s</body>" % texts[-1], self.buf[-200:]
            end = time.monotonic() + 1200
            while needle not in tail:
                data = await asyncio.wait_for(self.r.read(65536), max(1, end - time.monotonic()))
                if not data:
                    raise ConnectionError("%s: closed while sending" % self.user)
                tail = tail[-200:] + data.decode("utf-8", "replace")
            self.buf = ""

        await asyncio.gather(write(), read())


async def crowd(srv, room, n, parallel=50):
    """n occupants occ0..occN-1 in room (raw sessions on the plain
    listener), up to `parallel` logging in and joining at a time; each
    stays, its input drained. Returns the sessions, their drain tasks and
    the seconds until all had joined."""
    t0 = time.monotonic()
    gate = asyncio.Semaphore(parallel)
    sessions = [Raw(srv, "occ%d" % i, tls=False) for i in range(n)]
    drains = []

    async def one(s):
        async with gate:
            await s.login()
            # A join's wait grows with the room (every occupant's presence
            # comes first) and with the machine's load.
            await s.join(room, s.user, timeout=1800)
        # Read from now on: unread presence of those joining after it
        # would block the server's session for it.
        drains.append(asyncio.ensure_future(s.drain()))
        if len(drains) % 100 == 0:
            print("  %d occupants in after %.0f s" % (len(drains), time.monotonic() - t0),
                  flush=True)

    await asyncio.gather(*(one(s) for s in sessions))
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


def xtalk_join(srv, home, room, texts):
    """`xtalk listen --json --join room/me` until the last of texts is
    printed. Returns a dict: joined and done (s since the process started,
    done None if never caught up), bodies (the room's, in the order
    printed), ids (their stanza-ids), occupants (join events), cpu
    (user+sys s), rss (peak, KiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen([XTALK, "listen", "--json", "--jid", "me@" + srv.domain, "--server",
                          "127.0.0.1:%d" % srv.port, "--ca-file", srv.ca_file, "--resource", "bench",
                          "--join", room + "/me"],
                         env=xtalk_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    r = {"joined": None, "done": None, "bodies": [], "ids": [], "occupants": 0}
    for line in p.stdout:
        o = json.loads(line)
        if o.get("event") == "join" and o.get("room") == room:
            r["occupants"] += 1
        elif o.get("event") == "joined" and r["joined"] is None:
            r["joined"] = time.monotonic() - t0
        elif o.get("body") and o.get("room") == room:
            r["bodies"].append(o["body"])
            r["ids"].append(o.get("stanza_id"))
            if o["body"] == texts[-1]:
                r["done"] = time.monotonic() - t0
                break
    r["rss"] = vm_hwm(p.pid)
    p.terminate()
    p.stdout.close()
    p.stderr.close()
    _, _, ru = os.wait4(p.pid, 0)
    r["cpu"] = ru.ru_utime + ru.ru_stime
    return r


# The times are taken against the parent's monotonic clock (one clock for
# the whole machine): from the process's start, as xtalk's are, so both
# include the interpreter's start and the login.
SLIX = r"""
import asyncio, os, sys, time
import slixmpp
jid, port, ca, room, after, t0 = sys.argv[1:7]
t0 = float(t0)
class C(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, os.environ["XTALK_PASSWORD"])
        for p in ("xep_0030", "xep_0045", "xep_0059", "xep_0313"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)
    async def start(self, _):
        await self.plugin["xep_0045"].join_muc_wait(room, "slix", maxstanzas=0, timeout=600)
        joined = time.monotonic() - t0
        bodies = []
        async for m in self.plugin["xep_0313"].iterate(jid=room, rsm={"max": 50, "after": after}):
            bodies.append(m["mam_result"]["forwarded"]["stanza"]["body"])
        done = time.monotonic() - t0
        occ = self.plugin["xep_0045"].get_roster(room) or []
        hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
        print("joined %.3f done %.3f occupants %d hwm %s" % (joined, done, len(occ), hwm))
        print("\n".join(bodies), flush=True)
        os._exit(0)
c = C()
c.ca_certs = ca
c.connect(("127.0.0.1", int(port)))
asyncio.get_event_loop().run_forever()
"""


def slix_join(srv, room, after):
    """slixmpp's join and catch-up, the same dict as xtalk_join's (no ids:
    the same archive, so the bodies say it all)."""
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/python3", "-c", SLIX, "slix@" + srv.domain, str(srv.port),
                          srv.ca_file, room, after, repr(t0)],
                         env=dict(os.environ, XTALK_PASSWORD=PW), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out = p.stdout.read()
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    _, _, ru = os.wait4(p.pid, 0)
    r = {"joined": None, "done": None, "bodies": [], "ids": [], "occupants": -1, "rss": -1,
         "cpu": ru.ru_utime + ru.ru_stime}
    lines = out.split("\n")
    m = re.match(r"joined ([\d.]+) done ([\d.]+) occupants (\d+) hwm (\d+)", lines[0])
    if not m:
        raise RuntimeError("slixmpp failed: %s" % err[-1000:])
    r.update(joined=float(m.group(1)), done=float(m.group(2)), occupants=int(m.group(3)),
             rss=int(m.group(4)), bodies=[l for l in lines[1:] if l])
    return r


def check(r, texts, who):
    """r with its count, after checking the catch-up: every message, once,
    in order (a client that failed it is no row of the table)."""
    if r["done"] is None or r["bodies"] != texts:
        got = r["bodies"]
        raise RuntimeError("%s: caught up %d of %d messages (first %r, last %r)"
                           % (who, len(got), len(texts), got[:1], got[-1:]))
    if len(set(r["ids"])) != len(r["ids"]):
        raise RuntimeError("%s: a stanza-id printed twice" % who)
    r["count"] = len(r["bodies"])
    return r


def main():
    # SIGTERM (a `timeout` around the run) ends it through the finally
    # below, which stops the server: nothing is left running.
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ap = argparse.ArgumentParser()
    ap.add_argument("--occupants", type=int, default=1000)
    ap.add_argument("--msgs", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    users = {"me": PW, "slix": PW, "bob": PW}
    srv = BenchEjabberd(users=users)
    home = tempfile.mkdtemp(prefix="xtb-muc-")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        t = time.monotonic()
        srv.start(timeout=600)
        register_occupants(srv, a.occupants)
        print("ejabberd with %d accounts up in %.1f s" % (a.occupants + 3, time.monotonic() - t),
              flush=True)
        room = "crowd@" + srv.muc
        empty = "empty@" + srv.muc
        bob = Raw(srv, "bob")
        loop.run_until_complete(bob.login())
        loop.run_until_complete(bob.join(room, "bob"))
        loop.run_until_complete(bob.join(empty, "bob"))
        # 1. The position: xtalk sees a marker live in each room (its first
        # join: the marker is stored as the position when it comes).
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
        seed_s = (time.monotonic() - t) / 2
        print("%d messages archived in each room in %.1f s" % (a.msgs, 2 * seed_s), flush=True)
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

        # 4. The clients, in turn, --reps times: xtalk in the empty room
        # (the baseline for memory per occupant), xtalk in the crowded
        # room, slixmpp in the crowded room. Each xtalk run starts from a
        # copy of the store as the marker left it (a run moves the
        # position to the end).
        base = os.path.join(home, "base")
        os.rename(os.path.join(home, "data"), base)
        runs = {"empty": [], "xtalk": [], "slix": []}
        for rep in range(a.reps):
            for key, r in (("empty", empty), ("xtalk", room)):
                shutil.rmtree(os.path.join(home, "data"), ignore_errors=True)
                shutil.copytree(base, os.path.join(home, "data"))
                runs[key].append(check(pump(xtalk_join, srv, home, r, texts), texts, key))
            runs["slix"].append(check(pump(slix_join, srv, room, room_marker), texts, "slix"))
            print("run %d: %s" % (rep + 1, "; ".join(
                "%s joined %.2f s, caught up %.2f s, cpu %.2f s, rss %d KiB"
                % (k, v[-1]["joined"], v[-1]["done"], v[-1]["cpu"], v[-1]["rss"])
                for k, v in runs.items())), flush=True)

        def med(key, field):
            return statistics.median(x[field] for x in runs[key])
        x, sl = "xtalk", "slix"
        print()
        print("| join a room of %d occupants + catch up %d archived messages (median of %d) "
              "| xtalk listen --join | slixmpp 1.8 xep_0045 + xep_0313 |"
              % (a.occupants, a.msgs, a.reps))
        print("| --- | --- | --- |")
        print("| time to joined | %.2f s | %.2f s |" % (med(x, "joined"), med(sl, "joined")))
        print("| time to joined + caught up | %.2f s | %.2f s |" % (med(x, "done"), med(sl, "done")))
        print("| messages caught up (duplicates, in order) | %d (0, yes) | %d (0, yes) |"
              % (med(x, "count"), med(sl, "count")))
        print("| occupants listed | %d | %d |" % (med(x, "occupants"), med(sl, "occupants")))
        print("| client CPU (user+sys) | %.2f s (%.0f%% of wall) | %.2f s (%.0f%% of wall) |"
              % (med(x, "cpu"), 100 * med(x, "cpu") / med(x, "done"),
                 med(sl, "cpu"), 100 * med(sl, "cpu") / med(sl, "done")))
        print("| peak RSS | %.1f MiB | %.1f MiB |" % (med(x, "rss") / 1024, med(sl, "rss") / 1024))
        print("| peak RSS in an empty room, same catch-up | %.1f MiB | |" % (med("empty", "rss") / 1024))
        print("| RSS per occupant ((crowded - empty) / N) | %.0f B | |"
              % ((med(x, "rss") - med("empty", "rss")) * 1024 / a.occupants))
        print("| (setup: %d messages archived per room in %.1f s, %d occupants joined in %.1f s) | | |"
              % (a.msgs, seed_s, a.occupants, crowd_s))
        for d in drains:
            d.cancel()
    finally:
        srv.cleanup()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
