#!/usr/bin/env python3
"""One session path for every command: the store and its SASL hint for
every command, one account key, retrying a login cut during negotiation,
the store's real error, --wait-reply matching its own reply, and a demo
that runs on its own data."""

import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

from xtlib import SLOW, Proc, ServerTest, jid, main, skip_on

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from faultproxy import FaultProxy  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")


def refused_port():
    """A loopback port that refuses connections (bound, not listening)
    for as long as the returned socket stays open."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def cutting_proxy(target_port, cuts):
    """A proxy that cuts each of the first `cuts` connections (a reset or a
    FIN) after 200 bytes in one direction: in the middle of the stream
    header, STARTTLS or the TLS handshake, so before any login. Later
    connections are forwarded faithfully."""
    return FaultProxy(("127.0.0.1", target_port), seed=7, max_faults=cuts, fault_time=3600,
                      lifetime=600, early_bytes=200, late_bytes=200, stall_prob=0.0,
                      delay_prob=0.0)


class Session(ServerTest):

    def data_dir(self, user):
        return os.path.join(self.srv.dir, "xdg-data-" + user)

    def db(self, user):
        return os.path.join(self.data_dir(user), "xtalk", "xtalk.db")

    def rows(self, user, sql):
        with sqlite3.connect(self.db(user)) as c:
            return c.execute(sql).fetchall()

    def listen(self, user, *extra):
        p = self.spawn(user, "listen", "--json", *extra)
        p.wait_stderr("online")
        return p

    def fresh(self, user):
        """Forget user's store (each test starts without hint or outbox)."""
        d = os.path.join(self.data_dir(user), "xtalk")
        if os.path.isdir(d):
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))

    # -- every command takes the same path ---------------------------------
    def test_every_command_keeps_and_uses_the_sasl_hint(self):
        for argv in (["roster"], ["status", "away"], ["add", jid("carol", self.srv)],
                     ["approve", jid("carol", self.srv)]):
            self.fresh("alice")
            r1 = self.xtalk("alice", argv[0], "-v", *argv[1:])
            self.assertOk(r1, argv[0])
            # The store exists and holds the server's offer for the account.
            hints = self.rows("alice", "SELECT account FROM server_hint")
            self.assertEqual(hints, [("alice@localhost",)], argv)
            r2 = self.xtalk("alice", argv[0], "-v", *argv[1:])
            self.assertOk(r2, argv[0] + " again")
            self.assertRegex(r2.stderr, r"SCRAM-SHA-[0-9]+(-PLUS)? sent with the stream header",
                             argv)
        # --no-store: no store touched, the slow path.
        self.fresh("alice")
        r = self.xtalk("alice", "roster", "--no-store")
        self.assertOk(r, "roster --no-store")
        self.assertFalse(os.path.exists(self.db("alice")))

    # -- one account key ------------------------------------------------------
    def test_account_key_is_the_prepared_bare_jid(self):
        self.fresh("alice")
        sock, port = refused_port()
        try:
            # Offline, queued under the JID as typed, in another case.
            argv = self.argv("alice", "send", "--queue", "--timeout", "1", server=False) + [
                "--server", "127.0.0.1:%d" % port, jid("bob", self.srv), "queued as Alice"]
            argv[argv.index("--jid") + 1] = "Alice@LOCALHOST/typed"
            r = subprocess.run(argv, env=self.env("alice"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60 * SLOW)
            self.assertOk(r, "send --queue offline")
        finally:
            sock.close()
        self.assertEqual(self.rows("alice", "SELECT account FROM outbox"), [("alice@localhost",)])
        # The backlog belongs to alice@localhost: her flush sends it.
        bob = self.listen("bob")
        r = self.xtalk("alice", "send", "--flush")
        self.assertOk(r, "send --flush")
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertEqual(m["body"], "queued as Alice")
        self.assertEqual(self.rows("alice", "SELECT count(*) FROM outbox"), [(0,)])

    # -- the store's own error ------------------------------------------------
    def test_full_disk_names_the_cause(self):
        self.fresh("alice")
        # Creates the store (an empty outbox: nothing to connect for).
        self.assertOk(self.xtalk("alice", "send", "--flush"), "send --flush")
        limit = max(os.path.getsize(self.db("alice")), 64 * 1024) + 16 * 1024

        def small_disk():
            # Writes past `limit` bytes fail with EFBIG (SIGXFSZ ignored).
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        # A batch bigger than SQLite's page cache (2 MB): pages spill to the
        # WAL while the messages are added, so an add fails, not the commit.
        batch = "".join("%d %s\n" % (i, "x" * 100000) for i in range(40))
        r = subprocess.run(self.argv("alice", "send", "--lines", jid("bob", self.srv)), input=batch,
                           env=self.env("alice"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60 * SLOW, preexec_fn=small_disk)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot queue the messages", r.stderr)
        self.assertNotIn("rolled back after an earlier error", r.stderr)
        self.assertRegex(r.stderr, r"disk|full|I/O")
        self.assertEqual(self.rows("alice", "SELECT count(*) FROM outbox"), [(0,)])

    # -- a cut before the first login -----------------------------------------
    def test_send_lines_retries_cuts_during_negotiation(self):
        self.fresh("alice")
        bob = self.listen("bob")
        lines = ["line %d" % i for i in range(20)]
        with cutting_proxy(self.srv.port, 3) as fp:
            argv = self.argv("alice", "send", "--lines", "--timeout", "30", server=False) + [
                "--server", "127.0.0.1:%d" % fp.port, jid("bob", self.srv)]
            r = subprocess.run(argv, input="".join(l + "\n" for l in lines),
                               env=self.env("alice"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=120 * SLOW)
            cuts = fp.cuts
        self.assertEqual(cuts, 3, "the proxy did not cut: the test proves nothing")
        self.assertOk(r, "send --lines through cuts")
        self.assertIn("trying again", r.stderr)
        got = [bob.json_until(lambda o: o.get("event") == "message")["body"] for _ in lines]
        self.assertEqual(got, lines)
        self.assertEqual(self.rows("alice", "SELECT count(*) FROM outbox"), [(0,)])

    def test_listen_retries_cuts_during_negotiation(self):
        with cutting_proxy(self.srv.port, 2) as fp:
            argv = self.argv("bob", "listen", "--json", server=False) + [
                "--server", "127.0.0.1:%d" % fp.port]
            p = subprocess.Popen(argv, env=self.env("bob"), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.procs.append(p)
            bob = Proc(p)
            bob.wait_stderr("online as", timeout=60)
            self.assertEqual(fp.cuts, 2)
            bob.terminate()
        self.assertEqual(bob.p.returncode, 0, bob.err_lines)

    def test_send_gives_up_after_timeout_and_withdraws(self):
        self.fresh("alice")
        # Every connection is cut: retried until --timeout, then the last
        # failure is reported and this run's messages leave the outbox.
        limit = 3 * SLOW
        with cutting_proxy(self.srv.port, 10 ** 6) as fp:
            argv = self.argv("alice", "send", "--lines", "--timeout", str(limit), server=False) + [
                "--server", "127.0.0.1:%d" % fp.port, jid("bob", self.srv)]
            t0 = time.monotonic()
            r = subprocess.run(argv, input="a\nb\n", env=self.env("alice"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=120 * SLOW)
            took = time.monotonic() - t0
            cuts = fp.cuts
        self.assertGreaterEqual(cuts, 2, r.stderr)
        self.assertGreaterEqual(took, limit, r.stderr)
        self.assertIn(r.returncode, (4, 5, 8), r.stderr)
        self.assertRegex(r.stderr, r"cannot connect as .*attempts in %d s" % limit)
        self.assertEqual(self.rows("alice", "SELECT count(*) FROM outbox"), [(0,)])

    def test_definite_failure_is_not_retried(self):
        # A wrong password fails at once, even through the retrying path.
        t0 = time.monotonic()
        r = self.xtalk("alice", "send", "--timeout", "20", jid("bob", self.srv), "x",
                       password="wrong")
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertNotIn("trying again", r.stderr)
        self.assertLess(time.monotonic() - t0, 15 * SLOW)

    def test_name_not_found_is_not_retried(self):
        # RFC 6761: .invalid never exists. Where the resolver says so
        # (NXDOMAIN), that is an answer: one attempt, no retries.
        t0 = time.monotonic()
        argv = self.argv("alice", "send", "--no-store", "--timeout", "20", server=False) + [
            "--server", "nonexistent.invalid", jid("bob", self.srv), "x"]
        r = subprocess.run(argv, env=self.env("alice"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60 * SLOW)
        if "not found" not in r.stderr.lower():
            self.skipTest("this machine's resolver gives no NXDOMAIN: %s" % r.stderr.strip())
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertNotIn("trying again", r.stderr)
        self.assertLess(time.monotonic() - t0, 15 * SLOW)

    # -- --wait-reply takes its own reply --------------------------------------
    def test_wait_reply_ignores_the_answer_to_an_earlier_message(self):
        self.fresh("alice")
        sock, port = refused_port()
        try:
            argv = self.argv("alice", "send", "--queue", "--timeout", "1", server=False) + [
                "--server", "127.0.0.1:%d" % port, jid("bob", self.srv), "an old message"]
            r = subprocess.run(argv, env=self.env("alice"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60 * SLOW)
            self.assertOk(r, "send --queue offline")
        finally:
            sock.close()
        bot = self.spawn("bob", "bot", "--echo")
        bot.wait_stderr("online")
        r = self.xtalk("alice", "send", "--wait-reply=20", jid("bob", self.srv), "this run's")
        self.assertOk(r, "send --wait-reply")
        self.assertIn("left in the outbox by an earlier run", r.stderr)
        self.assertEqual(r.stdout, "this run's\n")


@skip_on("ejabberd", "./run-demo starts its own private Prosody whatever the tests run against; "
                     "the Prosody run of this file covers it")
class Demo(ServerTest):
    """./run-demo with a message queued in the user's own store."""

    def test_demo_runs_on_its_own_data(self):
        home = tempfile.mkdtemp(dir=self.srv.dir)
        env = dict(os.environ)
        env.update(HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
                   XDG_CONFIG_HOME=os.path.join(home, "config"), XTALK_PASSWORD="x")
        env.pop("XTALK_JID", None)
        sock, port = refused_port()
        try:
            r = subprocess.run([os.environ.get("XTALK_BIN", "xtalk"), "send", "--queue",
                                "--timeout", "1", "--jid", "alice@localhost", "--server",
                                "127.0.0.1:%d" % port, "bob@localhost", "queued by the user"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60 * SLOW)
            self.assertOk(r, "send --queue offline")
        finally:
            sock.close()
        user_db = os.path.join(home, "data", "xtalk", "xtalk.db")
        env.pop("XTALK_PASSWORD")
        env["XTALK_DEMO_BIN"] = os.environ.get("XTALK_BIN", "xtalk")
        r = subprocess.run([os.path.join(ROOT, "run-demo")], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=180 * SLOW)
        self.assertOk(r, "run-demo")
        self.assertIn("demo OK", r.stdout)
        with sqlite3.connect(user_db) as c:
            self.assertEqual(c.execute("SELECT body FROM outbox").fetchall(),
                             [("queued by the user",)])


if __name__ == "__main__":
    main()
