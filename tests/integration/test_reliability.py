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
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from xtlib import SLOW, WRAPPER, Proc, ServerTest, jid, main

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


class Collector:
    """Reads a `listen --json` process's messages, checking as they come
    that each sender's sequence numbers arrive once and in order."""

    def __init__(self, proc, prefix):
        self.proc = proc
        self.prefix = prefix
        self.got = []          # sequence numbers, in arrival order
        self.problems = []
        self.last_progress = time.monotonic()
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            line = self.proc.out.get()
            try:
                o = json.loads(line)
            except ValueError:
                self.problems.append("not JSON: %r" % line)
                continue
            if o.get("event") != "message" or not o.get("body", "").startswith(self.prefix):
                continue
            n = int(o["body"][len(self.prefix):].split()[0])
            with self.lock:
                if n in self.got:
                    self.problems.append("duplicate %s%d" % (self.prefix, n))
                elif self.got and n < self.got[-1]:
                    self.problems.append("out of order: %s%d after %d" % (self.prefix, n,
                                                                          self.got[-1]))
                self.got.append(n)
                self.last_progress = time.monotonic()

    def count(self):
        with self.lock:
            return len(set(self.got))


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

    def deliver(self, user, port, to, lines, seed, errors):
        """Sends lines in batches through the proxy: each batch durably
        queued (--queue), then the outbox flushed until empty."""
        for i in range(0, len(lines), BATCH):
            batch = "".join(l + "\n" for l in lines[i:i + BATCH])
            argv = self.proxied(user, port, "send", "--lines", "--queue", "--keepalive", "2",
                                "--timeout", "10", to)
            r = self.run_xtalk(user, argv, input=batch)
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
                                    "--timeout", "10")
                r = self.run_xtalk(user, argv)
                if r.returncode == 0:
                    break
            else:
                errors.append("%s: the outbox never emptied (seed %d): %s" % (user, seed, r.stderr))
                return

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
        senders = [
            threading.Thread(target=self.deliver,
                             args=("alice", fp.port, jid("bob", self.srv), to_bob, seed, errors)),
            threading.Thread(target=self.deliver,
                             args=("bob", fp.port, jid("alice", self.srv), to_alice, seed, errors)),
        ]
        for t in senders:
            t.start()
        # Wait for everything, failing on a hang (no progress for STALL_S).
        while True:
            done = col_bob.count() == MESSAGES and col_alice.count() == MESSAGES
            if done and not any(t.is_alive() for t in senders):
                break
            last = max(col_bob.last_progress, col_alice.last_progress)
            if time.monotonic() - last > STALL_S:
                self.fail("hang: no message for %d s; bob has %d/%d, alice %d/%d; %d faults %s\n"
                          "bob stderr: %s\nalice stderr: %s\nlast faults: %s"
                          % (STALL_S, col_bob.count(), MESSAGES, col_alice.count(), MESSAGES,
                             fp.faults, where, listeners["bob"].err_lines[-10:],
                             listeners["alice"].err_lines[-10:], fp.fault_log[-10:]))
            if errors:
                self.fail("; ".join(errors) + " " + where)
            # The random plans fault a connection only when its traffic
            # reaches the drawn byte count; when they fall behind the
            # required number (a small or lucky run), cut everything
            # open, wherever it is, to keep pace with the progress.
            progress = (col_bob.count() + col_alice.count()) / (2.0 * MESSAGES)
            if fp.faults < MIN_FAULTS * min(1.0, 1.25 * progress + 0.05):
                fp.cut_all()
                time.sleep(0.5)
            time.sleep(0.2)
        for t in senders:
            t.join()
        self.assertEqual(errors, [], where)
        # A moment for any late duplicate to show up.
        fp.faults_off()
        time.sleep(1.0 * SLOW)
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
        n = 60 if VALGRIND else 400
        bob = self.spawn("bob", "listen", "--json")
        bob.wait_stderr("online")
        col = Collector(bob, "k ")
        # A slow path (every chunk delayed, no faults) so the kill lands
        # in the middle of the batch.
        fp = FaultProxy(("127.0.0.1", self.srv.port), seed=1, max_faults=0, delay_prob=1.0,
                        delay_max_ms=15)
        fp.start()
        try:
            lines = "".join("k %d\n" % i for i in range(n))
            argv = self.proxied("alice", fp.port, "send", "--lines", jid("bob", self.srv))
            p = subprocess.Popen(argv, env=self.env("alice"), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            p.stdin.write(lines)
            p.stdin.close()
            end = time.monotonic() + 60 * SLOW
            while col.count() < n // 10 and time.monotonic() < end and p.poll() is None:
                time.sleep(0.01)
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stdout.close()
            p.stderr.close()
            at_kill = col.count()
            self.assertEqual(p.returncode, -signal.SIGKILL, "sender finished before the kill")
            self.assertLess(at_kill, n, "the kill came too late to be mid-batch")
        finally:
            fp.stop()
        left = self.outbox_count("alice")
        # Under valgrind the receiver prints so slowly that the sender may
        # already hold every acknowledgement when the kill lands (the kill
        # is timed on what bob has printed): then there is nothing left to
        # flush, and only the exactly-once check below is meaningful.
        if not VALGRIND:
            self.assertGreater(left, 0, "nothing left in the outbox after kill -9")
        # The next run sends what the killed one left, with the same ids.
        r = self.xtalk("alice", "send", "--flush", timeout=60)
        self.assertOk(r, "send --flush after kill -9")
        if left:
            self.assertIn("left in the outbox", r.stderr)
        self.assertEqual(self.outbox_count("alice"), 0)
        end = time.monotonic() + 30 * SLOW
        while col.count() < n and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.5 * SLOW)
        self.assertEqual(col.problems, [])
        self.assertEqual(sorted(col.got), list(range(n)),
                         "killed after %d of %d; outbox held %d" % (at_kill, n, left))
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
        bot = self.spawn("bob", "bot", "--exec", "echo x >> '%s'; cat" % handled)
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
        end = time.monotonic() + 20 * SLOW
        while col.count() < 2 and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(1.0 * SLOW)
        self.assertEqual(col.problems, [])
        self.assertEqual(col.got, [0, 1])
        with open(handled) as f:
            self.assertEqual(f.read(), "x\n", "the bot handled the repeat again")
        # An empty outbox: --flush has nothing to do.
        r = self.xtalk("alice", "send", "--flush")
        self.assertOk(r, "empty flush")
        bot.terminate()
        carol.terminate()


if __name__ == "__main__":
    main()
