#!/usr/bin/env python3
"""Never lose a message, never show one twice (issue 3), proven through
faults: a fault-injecting proxy (tests/harness/faultproxy.py) between the
clients and Prosody cutting, stalling and delaying connections while two
accounts exchange messages both ways; a sender killed with SIGKILL in the
middle of a batch and restarted; Prosody restarted under a listener.

Every message must arrive exactly once and in order per sender; a loss, a
duplicate or a hang fails the test, naming the proxy's seed so the run can
be replayed (XT_FAULT_SEED=N).
"""

import json
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from xtlib import SLOW, WRAPPER, Proc, ServerTest, jid, main, skip_on

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from faultproxy import FaultProxy  # noqa: E402
import prosody  # noqa: E402

# Prosody keeps at most smacks_max_queue_size (default 500) unacknowledged
# stanzas for a session; past that the session cannot be resumed and the
# overflow is dropped by the server, whatever the client does. A receiver
# cut off (a stall takes a few seconds to notice) while 2,000 messages fly
# can pass 500: give the test server room, as a busy deployment would.
if "smacks_max_queue_size" not in prosody.CONFIG:
    prosody.CONFIG = prosody.CONFIG.replace(
        "modules_disabled", "smacks_max_queue_size = 20000\nmodules_disabled", 1)

VALGRIND = bool(WRAPPER)
# Full size normally; a much smaller run under valgrind (~20x slower).
MESSAGES = 100 if VALGRIND else 2000   # per direction
MIN_FAULTS = 5 if VALGRIND else 50
BATCH = 50
# No progress at all for this long is a hang.
STALL_S = 60 * (4 if VALGRIND else 1)
# A send run gives up after this long without progress (and is run again):
# short, so a run on a stalled link ends soon; longer under valgrind, where
# a login alone takes seconds of CPU, more on a loaded machine.
SEND_TIMEOUT_S = 10 * (3 if VALGRIND else 1)


class Collector:
    """Reads a `listen --json` process's messages, checking as they come
    that each sender's sequence numbers arrive once and in order. Bodies
    without the prefix are kept in `others`: a test sends a marker after
    everything else and waits for it (wait_for_body) instead of sleeping
    "long enough" for late duplicates; the receiver handles its stream in
    order, so once the marker is shown every copy sent before it was too."""

    def __init__(self, proc, prefix):
        self.proc = proc
        self.prefix = prefix
        self.got = []          # sequence numbers, in arrival order
        self.others = []       # bodies without the prefix (markers)
        self.problems = []
        self.last_progress = time.monotonic()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            line = self.proc.out.get()
            try:
                o = json.loads(line)
            except ValueError:
                self.problems.append("not JSON: %r" % line)
                continue
            if o.get("event") != "message":
                continue
            body = o.get("body", "")
            with self.lock:
                if not body.startswith(self.prefix):
                    self.others.append(body)
                    self.changed.notify_all()
                    continue
                n = int(body[len(self.prefix):].split()[0])
                if n in self.got:
                    self.problems.append("duplicate %s%d" % (self.prefix, n))
                elif self.got and n < self.got[-1]:
                    self.problems.append("out of order: %s%d after %d" % (self.prefix, n,
                                                                          self.got[-1]))
                self.got.append(n)
                self.last_progress = time.monotonic()
                self.changed.notify_all()

    def count(self):
        with self.lock:
            return len(set(self.got))

    def wait(self, pred, what, timeout):
        """Waits until pred() (called with the lock held) is true; the
        timeout is only a safety net against a hang."""
        end = time.monotonic() + timeout * SLOW
        with self.lock:
            while not pred():
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s never happened: got %d %s... messages, others %r; "
                                         "stderr: %s" % (what, len(set(self.got)), self.prefix,
                                                         self.others[-5:],
                                                         self.proc.err_lines[-10:]))
                self.changed.wait(min(left, 1.0))

    def wait_count(self, n, timeout=60):
        self.wait(lambda: len(set(self.got)) >= n, "%d messages" % n, timeout)

    def wait_for_body(self, body, timeout=60):
        self.wait(lambda: body in self.others, "the marker %r" % body, timeout)


class Backoffs:
    """The end of the latest reconnection wait each process announced on
    stderr ("reconnecting in N ms", "trying again in N ms"), read as the
    lines come (the wait counts from when the line is seen)."""

    RX = re.compile(r"again in (\d+) ms|reconnecting in (\d+) ms")

    def __init__(self, procs):
        self.procs = list(procs)
        self.seen = [0] * len(self.procs)
        self.end = 0.0

    def until(self):
        now = time.monotonic()
        for i, p in enumerate(self.procs):
            lines = p.err_lines[self.seen[i]:]
            self.seen[i] += len(lines)
            for l in lines:
                m = self.RX.search(l)
                if m:
                    self.end = max(self.end, now + int(m.group(1) or m.group(2)) / 1000.0)
        return self.end


class Reliability(ServerTest):

    def proxied(self, user, port, *args):
        """argv for xtalk through the proxy at port."""
        return self.argv(user, args[0], "--server", "127.0.0.1:%d" % port, *args[1:],
                         server=False)

    def run_xtalk(self, user, argv, input=None, timeout=120):
        return subprocess.run(argv, input=input, env=self.env(user), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout * SLOW)

    def spawn_argv(self, user, argv):
        p = subprocess.Popen(argv, env=self.env(user), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return Proc(p)

    def outbox_count(self, user):
        db = os.path.join(self.srv.dir, "xdg-data-" + user, "xtalk", "xtalk.db")
        with sqlite3.connect(db) as c:
            return c.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def wait_faults(self, fp, frac):
        """Holds a sender back until the proxy has injected its share of
        MIN_FAULTS for `frac` of the run: the faults keep pace with the
        messages by construction (the main loop cuts connections while a
        sender waits here), however fast or slow the machine delivers."""
        want = math.ceil(MIN_FAULTS * frac)
        with self.pace_lock:
            self.fault_floor = max(self.fault_floor, want)
        end = time.monotonic() + STALL_S
        while fp.faults < want and time.monotonic() < end:
            time.sleep(0.05)

    def deliver(self, user, fp, to, lines, seed, errors):
        """Sends lines in batches through the proxy: each batch durably
        queued (--queue), then the outbox flushed until empty."""
        port = fp.port
        for i in range(0, len(lines), BATCH):
            self.wait_faults(fp, min(len(lines), i + BATCH) / len(lines))
            batch = "".join(l + "\n" for l in lines[i:i + BATCH])
            argv = self.proxied(user, port, "send", "--lines", "--queue", "--keepalive", "2",
                                "--timeout", str(SEND_TIMEOUT_S), to)
            t0 = time.monotonic()
            r = self.run_xtalk(user, argv, input=batch)
            self.send_log.setdefault(user, []).append(
                (i, "queue", r.returncode, round(time.monotonic() - t0, 1), r.stderr[-300:]))
            # Queued whatever happened on the network: --queue exits 0
            # unless the failure is not the network's (none is expected).
            if r.returncode != 0:
                errors.append("%s: send --queue exit %d (seed %d): %s"
                              % (user, r.returncode, seed, r.stderr))
                return
            for attempt in range(100):
                if self.outbox_count(user) == 0:
                    break
                argv = self.proxied(user, port, "send", "--flush", "--keepalive", "2",
                                    "--timeout", str(SEND_TIMEOUT_S))
                t0 = time.monotonic()
                r = self.run_xtalk(user, argv)
                self.send_log[user].append((i, "flush %d" % attempt, r.returncode,
                                           round(time.monotonic() - t0, 1), r.stderr[-300:]))
                if r.returncode == 0:
                    break
            else:
                errors.append("%s: the outbox never emptied (seed %d): %s" % (user, seed, r.stderr))
                return

    # ejabberd 23.01 with mod_mam on Mnesia (its default backend, which it
    # warns against at start) archives more slowly as the archive grows:
    # 50-message batches without faults were acknowledged in 0.4 s at first
    # and in 2-5 s after ~850 messages (MAM off: 0.3-0.7 s throughout;
    # MAM on SQLite: 0.7-2.5 s throughout; measured 2026-12-02). Here
    # --keepalive 2 makes that a dead link: the sender reconnects, the
    # resumption fails ("Session state copying timed out": the old
    # session is still archiving) and the resent batch is archived again:
    # no progress at 450-900 of 2,000 messages. Server behaviour, not a
    # loss (nothing was missing or shown twice before the stall).
    @skip_on("ejabberd", "its Mnesia MAM acknowledges 50 messages in over 2 s once ~850 are "
             "archived, slower than this test's 2 s keepalive (see the comment above)")
    def test_exchange_both_ways_through_faults(self):
        seed = int(os.environ.get("XT_FAULT_SEED", "0")) or int.from_bytes(os.urandom(4), "big")
        fp = FaultProxy(("127.0.0.1", self.srv.port), seed=seed, max_faults=10 ** 6,
                        fault_time=3600, lifetime=3600, early_bytes=6000, late_bytes=30000,
                        stall_prob=0.15, stall_max=6.0, delay_prob=0.02, delay_max_ms=20,
                        min_gap=0.02, enabled=False)
        fp.start()
        try:
            self._exchange(fp, seed)
        finally:
            fp.stop()

    def _exchange(self, fp, seed):
        where = "(faultproxy seed %d; replay with XT_FAULT_SEED=%d)" % (seed, seed)
        listeners = {}
        for user in ("alice", "bob"):
            p = self.spawn_argv(user, self.proxied(user, fp.port, "listen", "--json",
                                                   "--keepalive", "2"))
            listeners[user] = p
        for p in listeners.values():
            p.wait_stderr("online", timeout=60)
        # Faults from now on: the listeners are up (a first connection
        # that fails is reported, not retried; later ones are retried).
        fp.faults_on()
        to_bob = ["a2b %d" % n for n in range(MESSAGES)]
        to_alice = ["b2a %d" % n for n in range(MESSAGES)]
        col_bob = Collector(listeners["bob"], "a2b ")
        col_alice = Collector(listeners["alice"], "b2a ")
        errors = []
        self.send_log = {}  # user -> [(batch, what, exit, seconds, stderr tail)]
        self.pace_lock = threading.Lock()
        self.fault_floor = 0
        senders = [
            threading.Thread(target=self.deliver,
                             args=("alice", fp, jid("bob", self.srv), to_bob, seed, errors)),
            threading.Thread(target=self.deliver,
                             args=("bob", fp, jid("alice", self.srv), to_alice, seed, errors)),
        ]
        for t in senders:
            t.start()
        # Wait for everything, failing on a hang (no progress for STALL_S
        # after the end of any reconnection wait a listener announced).
        # The cuts below hit the listeners' logins too, and each login cut
        # before it is online doubles the library's backoff (up to 60 s):
        # under load that once passed STALL_S with nothing lost ("stalled
        # at 1900/2000"), a wait the library announced, not a hang.
        backoff = Backoffs(listeners.values())
        while True:
            done = col_bob.count() == MESSAGES and col_alice.count() == MESSAGES
            if done and not any(t.is_alive() for t in senders):
                break
            last = max(col_bob.last_progress, col_alice.last_progress, backoff.until())
            if time.monotonic() - last > STALL_S:
                self.fail("hang: no message for %d s; bob has %d/%d, alice %d/%d; %d faults %s\n"
                          "bob stderr: %s\nalice stderr: %s\nlast faults: %s\n"
                          "senders (outbox left, last send runs): %r"
                          % (STALL_S, col_bob.count(), MESSAGES, col_alice.count(), MESSAGES,
                             fp.faults, where, listeners["bob"].err_lines[-10:],
                             listeners["alice"].err_lines[-10:], fp.fault_log[-10:],
                             {u: (self.outbox_count(u), self.send_log.get(u, [])[-4:])
                              for u in ("alice", "bob")}))
            if errors:
                self.fail("; ".join(errors) + " " + where)
            # The random plans fault a connection only when its traffic
            # reaches the drawn byte count; when they fall behind the
            # required number (a small or lucky run), or a sender waits
            # for its share (wait_faults), cut everything open, wherever
            # it is, to keep pace with the progress.
            progress = (col_bob.count() + col_alice.count()) / (2.0 * MESSAGES)
            with self.pace_lock:
                want = max(MIN_FAULTS * min(1.0, 1.25 * progress + 0.05), self.fault_floor)
            if fp.faults < want:
                fp.cut_all()
                time.sleep(0.5)
            time.sleep(0.2)
        for t in senders:
            t.join()
        self.assertEqual(errors, [], where)
        # Any late duplicate shows before a marker sent after everything
        # (each listener handles its stream in order): wait for the markers.
        fp.faults_off()
        for user, other, col in (("alice", "bob", col_bob), ("bob", "alice", col_alice)):
            marker = "end %s to %s" % (user, other)
            r = self.run_xtalk(user, self.argv(user, "send", jid(other, self.srv), marker))
            self.assertOk(r, "the end marker " + where)
            col.wait_for_body(marker, timeout=60)
        for col in (col_bob, col_alice):
            self.assertEqual(col.problems, [], where)
            self.assertEqual(sorted(set(col.got)), list(range(MESSAGES)), where)
            self.assertEqual(len(col.got), MESSAGES, "duplicates " + where)
        self.assertGreaterEqual(fp.faults, MIN_FAULTS, "too few faults injected " + where)
        # The listeners lived through it: each reconnected and said so.
        for user, p in listeners.items():
            self.assertIsNone(p.p.poll(), "%s listen exited: %s" % (user, p.err_lines[-5:]))
        print("reliability: %d messages each way, %d faults (%d cuts, %d stalls) over %d "
              "connections %s" % (MESSAGES, fp.faults, fp.cuts, fp.stalls, fp.connections, where),
              file=sys.stderr)
        for p in listeners.values():
            p.terminate()

    def test_kill9_mid_batch_then_restart(self):
        # The kill is placed by construction, not by timing: the proxy
        # forwards only HOLD bytes from the sender (its login and some
        # messages, never the whole batch: see the sizes below) and then
        # holds the rest back without closing anything. The sender cannot
        # finish (what the server never got is never acknowledged), so it
        # is killed while it waits, mid-batch, however slow the machine.
        # The sender writes the whole batch in one burst behind its login
        # (pipelined, before <enabled/> comes back), its <r/> after it: the
        # server gets the first messages, the sender sees none of them
        # acknowledged, the restart sends them again and bob must drop
        # those repeats (origin-id), besides getting the rest.
        n = 60
        pad = "x" * 1000  # >= 1,000 bytes a message, whatever TLS adds
        HOLD = 32 * 1024  # > the login (~3 KB) + one full 16 KiB TLS record
        assert n * len(pad) > HOLD, "the batch must not fit through the hold"
        bob = self.spawn("bob", "listen", "--json")
        bob.wait_stderr("online")
        col = Collector(bob, "k ")
        fp = FaultProxy(("127.0.0.1", self.srv.port), seed=1, max_faults=0, delay_prob=0,
                        hold_after=HOLD)
        fp.start()
        try:
            lines = "".join("k %d %s\n" % (i, pad) for i in range(n))
            # --timeout: the sender must still be waiting when it is killed.
            argv = self.proxied("alice", fp.port, "send", "--lines", "--timeout", "3600",
                                jid("bob", self.srv))
            p = subprocess.Popen(argv, env=self.env("alice"), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.procs.append(p)
            p.stdin.write(lines)
            p.stdin.close()
            # Both events, in either order: the proxy has held, and bob has
            # shown a message (some of the batch got through before it).
            self.assertTrue(fp.held.wait(120 * SLOW), "the proxy never reached its hold")
            col.wait_count(1)
            if p.poll() is not None:
                self.fail("the sender exited (%d) though its link was held: %s"
                          % (p.returncode, p.stderr.read()))
            p.send_signal(signal.SIGKILL)
            p.wait()
            at_kill = col.count()
            self.assertEqual(p.returncode, -signal.SIGKILL)
        finally:
            fp.stop()
        left = self.outbox_count("alice")
        # What the server never got was never acknowledged: it must still
        # be in the outbox, whatever the kill interrupted.
        self.assertGreater(left, 0, "nothing left in the outbox after kill -9")
        self.assertLess(at_kill, n)
        # The next run sends what the killed one left, with the same ids.
        r = self.xtalk("alice", "send", "--flush", timeout=60)
        self.assertOk(r, "send --flush after kill -9")
        self.assertIn("left in the outbox", r.stderr)
        self.assertEqual(self.outbox_count("alice"), 0)
        # A marker after the flush: once bob shows it, he has shown every
        # copy of every message sent before it (repeats included).
        self.assertOk(self.xtalk("alice", "send", jid("bob", self.srv), "end of kill test"))
        col.wait_for_body("end of kill test")
        self.assertEqual(col.problems, [])
        self.assertEqual(sorted(col.got), list(range(n)),
                         "killed after %d of %d; outbox held %d" % (at_kill, n, left))
        print("kill -9: held after %d bytes, bob had %d of %d at the kill, the outbox kept %d"
              % (fp.c2s_bytes, at_kill, n, left), file=sys.stderr)
        bob.terminate()

    def test_listen_survives_prosody_restart(self):
        bob = self.spawn("bob", "listen", "--json", "--keepalive", "2")
        bob.wait_stderr("online")
        r = self.xtalk("alice", "send", jid("bob", self.srv), "before restart")
        self.assertOk(r)
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertEqual(m["body"], "before restart")
        n_online = sum("online as" in l for l in bob.err_lines)
        self.srv.restart()
        bob.wait_stderr("reconnecting in", timeout=30)
        end = time.monotonic() + 60 * SLOW
        while sum("online as" in l for l in bob.err_lines) <= n_online:
            self.assertIsNone(bob.p.poll(), bob.err_lines)
            self.assertLess(time.monotonic(), end, "never back online: %s" % bob.err_lines)
            time.sleep(0.1)
        r = self.xtalk("alice", "send", jid("bob", self.srv), "after restart")
        self.assertOk(r)
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("body") != "before restart",
                           timeout=30)
        self.assertEqual(m["body"], "after restart")
        self.assertTrue(any("reconnecting in" in l and "ms:" in l for l in bob.err_lines))
        self.assertEqual(bob.terminate(), 0, bob.err_lines)

    def queue_row(self, user, to, body, origin_id):
        """Puts a message into user's outbox as a killed run would leave it."""
        db = os.path.join(self.srv.dir, "xdg-data-" + user, "xtalk", "xtalk.db")
        with sqlite3.connect(db) as c:
            c.execute("INSERT INTO outbox(account, to_jid, type, body, origin_id, created_ms)"
                      " VALUES(?, ?, 'chat', ?, ?, 0)", (jid(user, self.srv), to, body, origin_id))

    def test_repeat_is_shown_and_answered_once(self):
        handled = os.path.join(self.srv.dir, "bot-handled")
        # -v: the bot says when it drops a repeat, an event to wait for.
        bot = self.spawn("bob", "bot", "-v", "--exec", "echo x >> '%s'; cat" % handled)
        bot.wait_stderr("online")
        carol = self.spawn("carol", "listen", "--json")
        carol.wait_stderr("online")
        col = Collector(carol, "dup ")
        # --queue with the server unreachable: exit 0, kept for later.
        dead = self.argv("alice", "send", "--server", "127.0.0.1:1", "--queue",
                         jid("carol", self.srv), "dup 0", server=False)
        r = self.run_xtalk("alice", dead)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("outbox", r.stderr)
        self.assertEqual(self.outbox_count("alice"), 1)
        r = self.xtalk("alice", "send", "--flush")
        self.assertOk(r, "flush")
        self.assertEqual(self.outbox_count("alice"), 0)
        # The same message (same origin-id) delivered twice, as after a
        # crash between the server's ack and the outbox removal.
        for _ in range(2):
            self.queue_row("alice", jid("carol", self.srv), "dup 1", "xt-fixed-id-1")
            self.queue_row("alice", jid("bob", self.srv), "to the bot", "xt-fixed-id-2")
            r = self.xtalk("alice", "send", "--flush")
            self.assertOk(r, "flush")
        # Events, not a pause: carol has shown a marker sent after the
        # repeat (she handles her stream in order); the bot has said it
        # dropped the repeat and its command has run for the first copy.
        self.assertOk(self.xtalk("alice", "send", jid("carol", self.srv), "after the repeat"))
        col.wait_for_body("after the repeat")
        self.assertEqual(col.problems, [])
        self.assertEqual(col.got, [0, 1])
        bot.wait_stderr("not answering a repeat", timeout=30)
        end = time.monotonic() + 30 * SLOW
        def ran():
            try:
                with open(handled) as f:
                    return f.read().endswith("\n")
            except FileNotFoundError:
                return False
        while not ran():
            self.assertLess(time.monotonic(), end, "the bot never ran its command: %s"
                            % bot.err_lines[-10:])
            time.sleep(0.05)
        with open(handled) as f:
            self.assertEqual(f.read(), "x\n", "the bot handled the repeat again")
        # An empty outbox: --flush has nothing to do.
        r = self.xtalk("alice", "send", "--flush")
        self.assertOk(r, "empty flush")
        bot.terminate()
        carol.terminate()


if __name__ == "__main__":
    main()
