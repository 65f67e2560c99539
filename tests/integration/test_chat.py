#!/usr/bin/env python3
"""`xtalk chat` driven inside tmux: send-keys types, capture-pane reads the
screen; the other side is the CLI (`xtalk send`, `xtalk listen --json`)."""

import os
import shlex
import sqlite3
import shutil
import subprocess
import tempfile
import time
import unittest

from xtlib import SERVER, SLOW, WRAPPER, XTALK, ServerTest, jid, main

import sys  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from faultproxy import FaultProxy  # noqa: E402

TMUX = shutil.which("tmux")


class Screen:
    """One `xtalk chat` in a detached tmux session of a fixed size."""

    def __init__(self, test, user, cols=80, rows=24, extra=(), server=True):
        self.t = test
        self.dir = tempfile.mkdtemp(prefix="xtchat-", dir=test.srv.dir)
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.rc_file = os.path.join(self.dir, "rc")
        env = test.env(user)
        env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="tmux-256color", NO_COLOR="1")
        script = os.path.join(self.dir, "run.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n")
            for k in ("XTALK_PASSWORD", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "LANG", "LC_ALL",
                      "NO_COLOR", "PATH", "HOME"):
                if k in env:
                    f.write("export %s=%s\n" % (k, shlex.quote(env[k])))
            f.write("unset XTALK_JID\n")
            argv = test.argv(user, "chat", *extra, server=server)
            if WRAPPER and "valgrind" in WRAPPER[0]:
                # ncurses keeps its terminfo caches until exit, by design.
                supp = os.path.join(self.dir, "ncurses.supp")
                with open(supp, "w") as sf:
                    for lib in ("libtinfo.so*", "libncursesw.so*"):
                        sf.write("{\n  %s\n  Memcheck:Leak\n  ...\n  obj:*/%s\n}\n" % (lib, lib))
                argv.insert(1, "--suppressions=" + supp)
            f.write("%s 2>%s\n" % (" ".join(shlex.quote(a) for a in argv),
                                   shlex.quote(os.path.join(self.dir, "stderr"))))
            f.write("echo $? > %s\n" % shlex.quote(self.rc_file))
        os.chmod(script, 0o700)
        self.tmux("new-session", "-d", "-s", "chat", "-x", str(cols), "-y", str(rows), script)

    def tmux(self, *args):
        return subprocess.run([TMUX, "-u", "-S", self.sock] + list(args), check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8"))

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "chat", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "chat", "-l", text)

    def lines(self):
        r = self.tmux("capture-pane", "-t", "chat", "-p")
        out = r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout
        return out.split("\n")

    def text(self):
        return "\n".join(self.lines())

    def wait(self, pred, what, timeout=15):
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            s = self.text()
            if pred(s):
                return s
            time.sleep(0.1)
        raise AssertionError("screen never showed %s:\n%s\nstderr: %s"
                             % (what, self.text(), self.stderr()))

    def wait_for(self, needle, timeout=15):
        return self.wait(lambda s: needle in s, repr(needle), timeout)

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "stderr")) as f:
                return f.read()
        except OSError:
            return ""

    def exit_code(self, timeout=10):
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            if os.path.exists(self.rc_file):
                with open(self.rc_file) as f:
                    s = f.read().strip()
                if s:
                    return int(s)
            time.sleep(0.1)
        raise AssertionError("chat did not exit:\n%s" % self.text())

    def close(self):
        self.tmux("kill-server")


@unittest.skipUnless(TMUX, "tmux not installed")
class Chat(ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # alice <-> bob both ways; alice sees carol (offline) too.
        t = cls("run")
        t.procs = []
        A, B, C = (jid(u, cls.srv) for u in ("alice", "bob", "carol"))
        # Prosody takes a pre-approval (RFC 6121 §3.4); ejabberd 23.01 does
        # not offer it (no <sub xmlns='urn:xmpp:features:pre-approval'/>),
        # so there bob and carol approve once alice's request has reached
        # them (seen by a listener: an event, not a pause).
        pre = SERVER != "ejabberd"
        asked = []
        for who in ("bob", "carol"):
            if pre:
                t.assertOk(t.xtalk(who, "approve", A), "pre-approve")
            else:
                asked.append((who, t.spawn(who, "listen", "--json")))
                asked[-1][1].wait_stderr("online")
        t.assertOk(t.xtalk("alice", "add", B, "--group", "Friends"), "add bob")
        t.assertOk(t.xtalk("alice", "add", C, "--group", "Work"), "add carol")
        for who, listener in asked:
            listener.json_until(lambda o: o.get("event") == "subscription" and o["from"].startswith(A))
            listener.terminate()
            t.assertOk(t.xtalk(who, "approve", A), "approve")
        alice = t.spawn("alice", "listen", "--json")
        alice.wait_stderr("online")
        t.assertOk(t.xtalk("bob", "add", A), "add alice")
        alice.json_until(lambda o: o.get("event") == "subscription")
        t.assertOk(t.xtalk("alice", "approve", B), "approve bob")
        alice.terminate()
        t.tearDown()

    def run(self, result=None):
        return super().run(result) if self._testMethodName != "run" else None

    def screen(self, user="alice", **kw):
        s = Screen(self, user, **kw)
        self.addCleanup(s.close)
        return s

    def test_roster_messages_unread_resize_utf8(self):
        A, B, C = (jid(u, self.srv) for u in ("alice", "bob", "carol"))
        bob = self.spawn("bob", "listen", "--json", "--status", "away", "--status-message", "lunch")
        bob.wait_stderr("online")
        s = self.screen()
        # The roster: groups, bob away (~), carol offline (-).
        scr = s.wait(lambda t: "~ " + B in t and "- " + C in t and "[online]" in t,
                     "bob away and carol offline")
        self.assertIn("Friends", scr)
        self.assertIn("Work", scr)

        # A typed message, with CJK and an emoji, reaches bob intact.
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)
        s.type("hello 你好 🎉 end")
        s.keys("Enter")
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertEqual(m["body"], "hello 你好 🎉 end")
        self.assertTrue(m["from"].startswith(A), m)
        s.wait_for("me: hello 你好 🎉 end")

        # Back to the console; bob's answer raises the unread marker.
        s.keys("M-0")
        s.wait_for("[0] xtalk console")
        self.assertOk(self.xtalk("bob", "send", A, "réponse 日本語 👍"), "bob send")
        s.wait(lambda t: ":%s(1)" % B in t, "the unread marker on bob's window")
        s.keys("M-1")
        scr = s.wait_for(": réponse 日本語 👍")
        # Read now: the marker is gone from the status bar.
        s.wait(lambda t: ":%s(1)" % B not in t and "*1:" + B in t, "the marker cleared")

        # A subscription request is a prompt; Alt-Y accepts it.
        carol = self.spawn("carol", "listen", "--json")
        carol.wait_stderr("online")
        self.assertOk(self.xtalk("carol", "add", A), "carol asks")
        s.wait_for(C + " asks to see your presence: Alt-Y allow")
        s.keys("M-y")
        sub = carol.json_until(lambda o: o.get("event") == "subscription")
        self.assertEqual(sub["type"], "subscribed")
        s.wait(lambda t: "Alt-Y allow" not in t and "[1] " + B in t, "the prompt gone")

        # Resize: the screen is redrawn at the new size, coherently.
        s.tmux("resize-window", "-t", "chat", "-x", "60", "-y", "20")
        def coherent(t):
            rows = t.split("\n")
            # Title on top, status bar and input line at the new bottom.
            return (len(rows) == 20 and rows[0].startswith(" [1] " + B)
                    and "[online]" in rows[18] and rows[19].startswith(">"))
        scr = s.wait(coherent, "a coherent 60x20 screen")
        rows = scr.split("\n")
        self.assertTrue(all(len(r) <= 60 for r in rows), rows)
        self.assertIn("réponse 日本語 👍", scr)
        self.assertIn(B, scr)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        bob.terminate()

    def test_search_after_restart(self):
        B = jid("bob", self.srv)
        s = self.screen()
        s.wait_for("[online]")
        s.type("/msg " + B + " zebra crossing 42")
        s.keys("Enter")
        s.wait_for("me: zebra crossing 42")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        s.close()

        s = self.screen()
        s.wait_for("[online]")
        s.type("/search zebra")
        s.keys("Enter")
        scr = s.wait_for("1 found")
        self.assertIn("me: zebra crossing 42", scr)
        # Opening the conversation shows the stored history too. Wait for
        # the window itself (the search result above already shows the
        # text), so the next keys cannot race with this Enter.
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)
        s.wait_for("me: zebra crossing 42")
        s.type("/search nothing-like-this")
        s.keys("Enter")
        s.wait_for("0 found")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        # The server's SASL offer is kept for the next login's pipelining.
        db = os.path.join(self.env("alice")["XDG_DATA_HOME"], "xtalk", "xtalk.db")
        with sqlite3.connect(db) as con:
            row = con.execute("SELECT sasl_hint FROM server_hint WHERE account = ?",
                              (jid("alice", self.srv),)).fetchone()
        self.assertIsNotNone(row)
        self.assertRegex(row[0], r"\bSCRAM-SHA-1\b")

    def wait_outbox_empty(self, user, timeout=15):
        db = os.path.join(self.env(user)["XDG_DATA_HOME"], "xtalk", "xtalk.db")
        end = time.monotonic() + timeout * SLOW
        n = None
        while time.monotonic() < end:
            with sqlite3.connect(db) as con:
                n = con.execute("SELECT count(*) FROM outbox").fetchone()[0]
            if n == 0:
                return
            time.sleep(0.1)
        self.fail("%s messages still in the outbox after %ss" % (n, timeout))

    def test_a_cut_connection_is_resumed(self):
        # chat reconnects through the library like listen: the same client,
        # XEP-0198 resumption (it used to start a new client each time).
        with FaultProxy(("127.0.0.1", self.srv.port), seed=1, enabled=False, max_faults=10 ** 6,
                        fault_time=3600, lifetime=600) as fp:
            s = self.screen(extra=("--server", "127.0.0.1:%d" % fp.port), server=False)
            s.wait_for("[online]")
            fp.cut_all()
            s.wait_for("(resumed", timeout=30)
            s.wait_for("[online]")
            s.type("/quit")
            s.keys("Enter")
            self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_conflict_is_not_retried(self):
        # Another login with the same resource replaces chat's session
        # (stream error conflict): the library says another try would fail
        # the same way (or kick the other login back), and chat, which used
        # its own list of permanent errors, now follows it.
        s = self.screen(extra=("--resource", "desk"))
        s.wait_for("[online]")
        self.assertOk(self.xtalk("alice", "status", "away", "--resource", "desk"), "status")
        s.wait_for("not retrying", timeout=20)
        self.assertNotIn("connecting again", s.text())
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_zz_offline_queue_then_reconnect(self):
        """Runs last: it stops the server for a moment."""
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        s = self.screen()
        s.wait_for("[online]")
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)
        self.srv.stop()
        s.wait(lambda t: "[offline:" in t, "the lost connection on the status bar")
        s.type("typed while offline ✈")
        s.keys("Enter")
        s.wait_for("typed while offline ✈ (queued)")
        self.srv.start()
        # Reconnected (backoff 1 s, 2 s, ...): the queued message goes out.
        # The next try comes about as long after the restart as the server
        # was down, which a loaded machine stretches (prosodyctl runs once
        # per account): a generous net, the wait ends on the screen.
        s.wait(lambda t: "[online]" in t and "(queued)" not in t, "online again, queue sent",
               timeout=60)
        bob = self.spawn("bob", "listen", "--json")
        m = bob.json_until(lambda o: o.get("event") == "message"
                           and o.get("body") == "typed while offline ✈")
        self.assertTrue(m["from"].startswith(A), m)
        # Acknowledged by the server (XT_EV_ACKED), so gone from the outbox;
        # a message sent online goes through the outbox the same way.
        s.type("sent online")
        s.keys("Enter")
        bob.json_until(lambda o: o.get("event") == "message" and o.get("body") == "sent online")
        self.wait_outbox_empty("alice")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        bob.terminate()


if __name__ == "__main__":
    main()
