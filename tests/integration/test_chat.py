#!/usr/bin/env python3
"""`xtalk chat` driven inside tmux: send-keys types, capture-pane reads the
screen; the other side is the CLI (`xtalk send`, `xtalk listen --json`)."""

import os
import re
import shlex
import sqlite3
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

from xtlib import ASAN, HERE, SERVER, SLOW, USERS, WRAPPER, XTALK, ServerTest, jid, main

import sys  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from faultproxy import FaultProxy  # noqa: E402

TMUX = shutil.which("tmux")


class Screen:
    """One `xtalk chat` in a detached tmux session of a fixed size."""

    def __init__(self, test, user, cols=80, rows=24, extra=(), server=True, env_extra=None,
                 with_jid=True):
        self.t = test
        self.dir = tempfile.mkdtemp(prefix="xtchat-", dir=test.srv.dir)
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.rc_file = os.path.join(self.dir, "rc")
        env = test.env(user)
        env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="tmux-256color", NO_COLOR="1")
        env.update(env_extra or {})
        script = os.path.join(self.dir, "run.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n")
            for k in ("XTALK_PASSWORD", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "LANG", "LC_ALL",
                      "NO_COLOR", "PATH", "HOME"):
                if k in env:
                    f.write("export %s=%s\n" % (k, shlex.quote(env[k])))
            f.write("unset XTALK_JID\n")
            argv = test.argv(user, "chat", *extra, server=server)
            if not with_jid:
                i = argv.index("--jid")
                del argv[i:i + 2]
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
    SUBJECTS = ("chat",)  # bob's sends and listeners are helpers (xtlib)

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

    def test_enter_sends_paste_stays_one_message(self):
        # Issue 13 item 1: keys arriving together are not a paste; only
        # what the terminal brackets (xterm mode 2004) is.
        B = jid("bob", self.srv)
        bob = self.spawn("bob", "listen", "--json")
        bob.wait_stderr("online")
        s = self.screen()
        s.wait_for("[online]")
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)

        def body_is(text):
            return lambda o: o.get("event") == "message" and o.get("body") == text

        # One send-keys: the text, Enter and more text in one write.
        s.keys("ok, see you", "Enter", "bye")
        bob.json_until(body_is("ok, see you"))
        s.wait(lambda t: t.split("\n")[-1].startswith("> bye"), "'bye' left in the input")
        s.keys("C-u")
        s.wait(lambda t: t.split("\n")[-1].rstrip() == ">", "the input cleared")
        # Two quick lines are two messages.
        s.keys("quick one", "Enter", "quick two", "Enter")
        bob.json_until(body_is("quick one"))
        bob.json_until(body_is("quick two"))
        # A real paste (tmux brackets it: -p) is one multi-line input.
        s.tmux("set-buffer", "-b", "p", "pasted one\npasted two")
        s.tmux("paste-buffer", "-p", "-b", "p", "-t", "chat")
        s.wait(lambda t: t.split("\n")[-1].startswith("> pasted one\u21b5pasted two"),
               "the paste in the input as one line")
        s.keys("Enter")
        bob.json_until(body_is("pasted one\npasted two"))
        # Alt-Enter inserts a line break.
        s.keys("first", "M-Enter", "second", "Enter")
        bob.json_until(body_is("first\nsecond"))
        # /help says so.
        s.type("/help")
        s.keys("Enter")
        s.wait_for("Alt-Enter new line")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        bob.terminate()

    def slix(self, user):
        """slixmpp as user (slix_im.py: JSON commands in, events out)."""
        from test_features import Slix
        return Slix.start(self, user)

    def test_nick_shown_reactions_gathered(self):
        """bob (slixmpp, both ways with alice, no roster name) publishes a
        nickname (XEP-0172): alice's chat shows it in the roster pane, the
        window title and the message lines. bob's reactions (XEP-0444)
        to one of his messages gather on that line as a suffix, updated
        in place, alice's own included; one to a message not on screen
        is a line of its own."""
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        nick = "http://jabber.org/protocol/nick"
        # slixmpp first: it settles the subscription (it answers a request
        # still pending from the class set-up), so alice's presence, with
        # caps asking for nicknames (nick+notify), reaches bob's PEP service
        # when chat logs in (XEP-0163 §4).
        bob = self.slix("bob")
        bob.barrier()
        s = self.screen()
        s.wait(lambda t: "[online]" in t and B in t, "online with bob in the roster")
        bob.raw("<iq xmlns='jabber:client' type='set' id='n1'>"
                "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='%s'>"
                "<item id='current'><nick xmlns='%s'>Bobby Tables</nick></item></publish>"
                "</pubsub></iq>" % (nick, nick))
        # The roster pane (bob has no roster name).
        s.wait(lambda t: re.search(r"^ \S Bobby Tables", t, re.M), "the nickname in the roster")
        # A message opens bob's window: its store page is short, so the
        # archive is read too, and the archive's copy of that very message
        # (stamped a moment before its arrival here) is not shown again.
        bob.raw("<message xmlns='jabber:client' to='%s' type='chat' id='r-open'>"
                "<body>opening line</body></message>" % A)
        # (the status line may wrap anywhere after "server"; and on ejabberd
        # a bounce left by an earlier test can open a window first, so
        # bob's window number is not fixed)
        s.wait(lambda t: re.search(re.escape(B) + r": \d+ older messages from the server", t),
               "the archive read")
        s.type("/msg " + B)
        s.keys("Enter")
        scr = s.wait(lambda t: re.search(r"\[\d+\] %s \(Bobby Tables\)" % re.escape(B), t),
                     "bob's window titled with his nickname")
        self.assertEqual(scr.count("opening line"), 1, scr)
        for i, body in enumerate(("first one", "second one")):
            bob.raw("<message xmlns='jabber:client' to='%s' type='chat' id='r%d'><body>%s</body>"
                    "</message>" % (A, i, body))
        scr = s.wait_for("Bobby Tables: second one")
        self.assertIn("Bobby Tables: first one", scr)

        def react(mid, *emoji):
            bob.raw("<message xmlns='jabber:client' to='%s' type='chat'>"
                    "<reactions xmlns='urn:xmpp:reactions:0' id='%s'>%s</reactions>"
                    "<store xmlns='urn:xmpp:hints'/></message>"
                    % (A, mid, "".join("<reaction>%s</reaction>" % e for e in emoji)))

        def line_of(t, body):
            return [l for l in t.split("\n") if body in l]

        react("r0", "\U0001F44D")
        scr = s.wait(lambda t: "first one [\U0001F44D 1]" in t, "the reaction on its line")
        self.assertNotIn("[", line_of(scr, "second one")[0].split("second one")[1])
        # Ours to bob's last message, then bob's again on the first: in place.
        s.type("/react \u2764")
        s.keys("Enter")
        m = bob.json_until(lambda o: o["event"] == "message" and o.get("reactions"))
        self.assertEqual(m["reactions"], {"id": "r1", "list": ["\u2764"]})
        s.wait_for("second one [\u2764 1]")
        react("r0", "\U0001F44D", "\u2764")
        scr = s.wait(lambda t: "first one [\U0001F44D 1 \u2764 1]" in t, "bob's new set")
        self.assertEqual(len(line_of(scr, "first one")), 1, scr)
        react("r1", "\u2764")
        s.wait_for("second one [\u2764 2]")
        # Taken back: the suffix goes.
        react("r0")
        s.wait(lambda t: line_of(t, "first one") and "[" not in
               line_of(t, "first one")[0].split("first one")[1], "the suffix gone")
        # Not on screen: a line says so.
        react("gone-id", "\U0001F389")
        s.wait_for("Bobby Tables: reacted \U0001F389 to a message not shown")
        # Taken back: the other tests show bob by his JID.
        self.delete_nick(bob, nick)
        # (in the roster pane: lines keep the name they were drawn with)
        s.wait(lambda t: "Bobby Tables" not in t.split("\n")[2].split("\u2502")[0] and
               " + " + B in t, "the nickname gone")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    @staticmethod
    def delete_nick(peer, node):
        """Publishes an empty nickname (what a client does to stop
        showing one: notified by both servers, where ejabberd 23.01's
        defaults notify neither a retraction nor a node deletion) and
        deletes the node (XEP-0060 §8.4): later logins get none either."""
        peer.raw("<iq xmlns='jabber:client' type='set' id='empty-nick'>"
                 "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='%s'>"
                 "<item id='current'><nick xmlns='%s'/></item></publish></pubsub></iq>"
                 % (node, node))
        peer.barrier()
        peer.raw("<iq xmlns='jabber:client' type='set' id='del-nick'>"
                 "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>"
                 "<delete node='%s'/></pubsub></iq>" % node)
        peer.barrier()

    def test_names_resolve_and_server_errors(self):
        # Issue 13 item 2: /msg Bob used to send to the JID "bob".
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        dom = B.split("@")[1]
        r1, r2 = "robert@" + dom, "roberta@" + dom
        self.assertOk(self.xtalk("alice", "add", B, "Bob", "--group", "Friends"), "name bob")
        self.addCleanup(self.xtalk, "alice", "add", B, "--group", "Friends")
        for j, n in ((r1, "Robert"), (r2, "Roberta")):
            self.assertOk(self.xtalk("alice", "add", j, n), "add " + n)
            self.addCleanup(self.xtalk, "alice", "remove", j)
        bob = self.spawn("bob", "listen", "--json")
        bob.wait_stderr("online")
        s = self.screen(cols=140)
        s.wait(lambda t: "[online]" in t and "Roberta" in t, "online with the roster")

        def body_is(text):
            return lambda o: o.get("event") == "message" and o.get("body") == text

        # A roster name, in any ASCII case, is its JID.
        s.type("/msg Bob hi by name")
        s.keys("Enter")
        m = bob.json_until(body_is("hi by name"))
        self.assertTrue(m["from"].startswith(A), m)
        s.wait_for("[1] " + B)
        # An unambiguous prefix of a name or JID too; /close takes us back.
        s.type("/close")
        s.keys("Enter")
        s.type("/msg bo by prefix")
        s.keys("Enter")
        bob.json_until(body_is("by prefix"))
        s.wait_for("[1] " + B)
        # A whole name beats a prefix of another ("Robert" starts "Roberta").
        s.type("/msg robert")
        s.keys("Enter")
        s.wait_for("[2] " + r1)
        # An ambiguous one lists the matches and sends nothing.
        s.type("/msg Rob x")
        s.keys("Enter")
        scr = s.wait_for("is ambiguous")
        s.wait_for("Robert (%s), Roberta (%s)" % (r1, r2))
        self.assertNotIn("[3] ", scr)
        # A bare word matching nobody is refused, not sent to a server "zed".
        s.type("/msg zed hello")
        s.keys("Enter")
        s.wait_for("no contact named 'zed'")
        # The server's errors say their condition: a message to nobody...
        s.type("/msg nobody@%s are you there" % dom)
        s.keys("Enter")
        s.wait_for("not delivered to nobody@%s: service-unavailable" % dom)
        # ... and a refused roster change (a name resolves for /remove too).
        s.type("/remove Roberta")
        s.keys("Enter")
        s.wait_for("removed " + r2)
        s.type("/remove ghost@" + dom)
        s.keys("Enter")
        if SERVER == "ejabberd":
            # ejabberd 23.01 answers the removal of an item that is not in
            # the roster with success, where RFC 6121 §2.5.3 says
            # item-not-found: chat shows what the server said.
            s.wait_for("removed ghost@" + dom)
        else:
            s.wait_for("could not remove ghost@%s: the server said item-not-found" % dom)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        bob.terminate()

    def test_status_bar_at_60_columns(self):
        # Issue 13 item 3: the window list and unread counts stay on the
        # bar; a long error is in full in the window, the bar cuts it.
        B, C = jid("bob", self.srv), jid("carol", self.srv)
        s = self.screen(cols=60)
        s.wait_for("[online]")
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)
        s.keys("M-0")
        s.wait_for("[0] xtalk console")
        self.assertOk(self.xtalk("bob", "send", "alice@" + B.split("@")[1], "unread one"), "send")
        bar = lambda t: t.split("\n")[-2]
        s.wait(lambda t: "1:%s(1)" % B in bar(t), "bob's unread count on the bar")
        s.type("/msg zed hello")
        s.keys("Enter")
        scr = s.wait_for("no contact named 'zed'")
        # The bar: state, every window with its count, the notice cut.
        b = bar(scr)
        self.assertTrue(b.startswith("[online] [*0:console 1:%s(1)] no contact" % B), b)
        self.assertIn("\u2026", b)
        self.assertLessEqual(len(b), 60)
        # The window: the whole text, wrapped (no word of it lost).
        # (the roster pane is 16 columns at this width)
        conv = " ".join(" ".join(r[16:].split()) for r in scr.split("\n")[1:-2])
        self.assertIn("no contact named 'zed' (give a name from the roster or a JID, like "
                      "user@example.org)", conv)
        # The next key clears the bar's copy; the window keeps the text.
        s.keys("x")
        s.wait(lambda t: "\u2026" not in bar(t) and "no contact named" in t, "the bar's copy gone")
        s.keys("C-u")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_own_presence_shown_live(self):
        # Issue 13 item 4: after /status the screen says so (it kept
        # saying "[online]"), and others see it.
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        bob = self.spawn("bob", "listen", "--json")
        bob.wait_stderr("online")
        s = self.screen(cols=100)
        s.wait(lambda t: "[online]" in t and A + " + available" in t, "our presence on the title")
        s.type("/status away out for lunch")
        s.keys("Enter")
        scr = s.wait_for("[away: out for lunch]")
        self.assertIn(A + " ~ away: out for lunch", scr.split("\n")[0])
        p = bob.json_until(lambda o: o.get("event") == "presence" and o.get("show") == "away")
        self.assertEqual(p.get("status"), "out for lunch")
        s.type("/status available")
        s.keys("Enter")
        s.wait(lambda t: "[away" not in t and A + " + available" in t.split("\n")[0],
               "back to available")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        bob.terminate()

    def test_first_start_asks_for_the_account(self):
        # Issue 13 item 8: no account configured used to be one error line
        # and an exit; now chat asks, and offers to save it (0600).
        A = jid("alice", self.srv)
        cfg_home = tempfile.mkdtemp(prefix="cfg-", dir=self.srv.dir)
        s = self.screen(with_jid=False, env_extra={"XDG_CONFIG_HOME": cfg_home})
        s.wait_for("no account is configured yet")
        s.wait_for("Your JID")
        s.type("nobody")
        s.keys("Enter")
        s.wait_for("'nobody' is not an account JID")
        s.type(A + "/laptop")
        s.keys("Enter")
        s.wait_for("[Y/n]")
        s.keys("Enter")
        s.wait_for("[online]")
        path = os.path.join(cfg_home, "xtalk", "config")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o700)
        with open(path) as f:
            self.assertEqual(f.read(), "jid = %s\n" % A)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        s.close()
        # The next start takes it from the file and asks nothing.
        s = self.screen(with_jid=False, env_extra={"XDG_CONFIG_HOME": cfg_home})
        s.wait_for("[online]")
        self.assertNotIn("Your JID", s.text())
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_continuation_lines_indented(self):
        # Issue 13 item 8: wrapped and multi-line messages continue under
        # the text, not under the time and sender.
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        s = self.screen(cols=70)
        s.wait_for("[online]")
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)
        self.assertOk(self.xtalk("bob", "send", A, "first line\nsecond line"), "send")
        long = " ".join("w%02d" % i for i in range(20))
        self.assertOk(self.xtalk("bob", "send", A, long), "send")
        scr = s.wait_for("w19")
        rows = scr.split("\n")
        i = next(k for k, r in enumerate(rows) if "%s: first line" % B in r)
        col, sep = rows[i].index("first line"), rows[i].index("\u2502")
        # The second line starts in the text's column, blanks before it.
        self.assertEqual(rows[i + 1].index("second line"), col, rows[i:i + 2])
        self.assertEqual(rows[i + 1][sep + 1:col].strip(), "", rows[i:i + 2])
        # A long line wraps into the same column.
        j = next(k for k, r in enumerate(rows) if "%s: w00" % B in r)
        col = rows[j].index("w00")
        self.assertNotIn("w19", rows[j])
        self.assertRegex(rows[j + 1][col:], r"^w\d\d ", rows[j:j + 2])
        self.assertEqual(rows[j + 1][sep + 1:col].strip(), "", rows[j:j + 2])
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    @unittest.skipUnless(shutil.which("strace"), "strace not installed")
    def test_zy_idle_cost(self):
        # Issue 13: at most one wakeup per 10 s while nothing happens (it
        # was one a second). Counted, not timed: strace counts the loop's
        # waits (poll/epoll) over 30 s of idle; each wait is one wakeup.
        # Runs late (zy): the other tests' presence traffic is over.
        if WRAPPER:
            self.skipTest("counts the syscalls of xtalk itself, not of a wrapper")
        if ASAN:
            # 35-100 s per run of mostly waiting; the idle loop's code is
            # the same, and every other chat case runs it under ASan.
            self.skipTest("the wakeups are counted in the plain build; ASan checks the same "
                          "idle loop in every other case")
        # Earlier tests' chats quit before some of bob's XEP-0184 receipts
        # came: the server keeps those offline (RFC 6121 §8.5.2.2) and
        # would hand them to this login inside the window. A listener takes
        # them first: bob's marker comes after them on alice's stream.
        A = jid("alice", self.srv)
        drain = self.spawn("alice", "listen", "--json")
        drain.wait_stderr("online")
        self.assertOk(self.xtalk("bob", "send", A, "drained"), "marker")
        drain.json_until(lambda o: o.get("event") == "message" and o.get("body") == "drained")
        drain.terminate()
        s = self.screen()
        s.wait_for("[online]")
        # The login's archive catch-up (issue 15) is traffic, not idling.
        s.wait_for("caught up")
        pane = int(s.tmux("display", "-p", "-t", "chat", "#{pane_pid}").stdout.strip())
        pid = None
        for _ in range(50):
            with open("/proc/%d/task/%d/children" % (pane, pane)) as f:
                kids = f.read().split()
            if kids:
                pid = int(kids[0])
                break
            time.sleep(0.1)
        self.assertIsNotNone(pid, "xtalk's pid")
        out = os.path.join(s.dir, "strace")

        def waits():
            # Completed waits that could block (a last argument, the
            # timeout, other than 0: ncurses' own typeahead checks poll
            # with 0 and are no wakeup).
            try:
                with open(out) as f:
                    return [l for l in f if re.search(r", (-?[1-9]\d*)\) += ", l)]
            except FileNotFoundError:  # strace has not written yet
                return []
        st = subprocess.Popen(["strace", "-f", "-qq", "-o", out, "-e",
                               "trace=poll,ppoll,epoll_wait,epoll_pwait,select,pselect6",
                               "-p", str(pid)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            # The 30 s are the measurement window itself, not a guess at
            # how long something takes. A window in which the server sent
            # something (a wait that returned a ready fd) measured traffic,
            # not idling: on ejabberd a presence or an ack request of its
            # own sometimes lands there, and handling it takes a wakeup and
            # the timers it sets. Such a window is measured again, up to
            # three times.
            for _ in range(3):
                start = len(waits())
                time.sleep(30)
                seen = waits()
                idle = seen[start:]
                if not any(re.search(r"\) += [1-9]", l) for l in idle):
                    break
            # The count can fail: a key is a wakeup strace must see.
            s.type("x")
            s.wait(lambda t: t.split("\n")[-1].startswith("> x"), "the key shown")
            end = time.monotonic() + 10 * SLOW
            while len(waits()) <= len(seen) and time.monotonic() < end:
                time.sleep(0.1)
            self.assertGreater(len(waits()), len(seen), "strace saw no wakeup at all")
        finally:
            st.terminate()
            st.wait()
        # Up to 3 in 30 s; the clock's minute and a keepalive may fall in.
        self.assertLessEqual(len(idle), 3, "".join(idle[:20]))
        s.keys("C-u")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_hostile_text_is_shown_escaped(self):
        # Issue 12: a contact's bidi override, C1 CSI and a line that
        # would pass for another message reach the chat window escaped
        # and indented, never raw.
        A, B = (jid(u, self.srv) for u in ("alice", "bob"))
        s = self.screen()
        s.wait_for("[online]")
        body = "pay \u202eexe.txt \u009b31m zero\u200bwidth\n12:00 boss: forged"
        self.assertOk(self.xtalk("bob", "send", A, body), "bob send")
        s.wait(lambda t: ":%s(1)" % B in t, "bob's window")
        s.keys("M-1")
        scr = s.wait_for("pay \\u202eexe.txt \\u009b31m")
        self.assertIn("zero\\u200bwidth", scr)  # (wrapped to the next row)
        for ch in ("\u202e", "\u009b", "\u200b"):
            self.assertNotIn(ch, scr)
        # The conversation starts after the roster's "│": the body's
        # second line is drawn under the text, never at the column a
        # message's "HH:MM who:" starts.
        row = next(r for r in scr.split("\n") if "12:00 boss: forged" in r)
        self.assertNotIn("\u250212:00 boss", row)
        self.assertRegex(row, "\u2502 {2,}12:00 boss: forged")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_sent_elsewhere_and_missed_while_away(self):
        """Issue 15: a message alice sends from another device (a carbon)
        shows in chat as hers; what bob sent while chat was stopped comes
        at its next start, after a marker, from the archive/offline store."""
        B = jid("bob", self.srv)
        tag = uuid.uuid4().hex[:6]
        s = self.screen()
        s.wait_for("[online]")
        self.slix_send("alice", "phone", B, "from my phone " + tag)
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("me: from my phone " + tag)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())
        s.close()
        self.assertOk(self.xtalk("bob", "send", jid("alice", self.srv), "while away " + tag))
        s = self.screen()
        s.wait_for("caught up")
        s.type("/msg " + B)
        s.keys("Enter")
        scr = s.wait_for("while away " + tag)
        self.assertIn("-- while you were away --", scr)
        self.assertEqual(scr.count("while away " + tag), 1, scr)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_scroll_back_past_the_store_reads_the_archive(self):
        """Issue 15: older than what the store holds comes from the
        server's archive (XEP-0313), above the window's lines, in order."""
        C = jid("carol", self.srv)
        tag = uuid.uuid4().hex[:6]
        # 60 messages from another device of alice's; a fresh store's
        # first run fetches only the newest window (50) of them.
        args = []
        for i in range(60):
            args += [C, "chat", "old %02d %s" % (i, tag)]
        e = dict(os.environ, XTALK_PASSWORD=USERS["alice"], XT_PEER_TIMEOUT=str(60 * SLOW))
        r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "slix_peer.py"),
                            jid("alice", self.srv) + "/phone2", str(self.srv.port),
                            self.srv.ca_file, "raw"] + args, env=e, capture_output=True,
                           text=True, timeout=90 * SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        store = os.path.join(tempfile.mkdtemp(dir=self.srv.dir), "fresh.db")
        s = self.screen(extra=("--store", store))
        s.wait_for("caught up")
        s.type("/msg " + C)
        s.keys("Enter")
        s.wait_for("me: old 59 " + tag)
        s.type("/history 100")
        s.keys("Enter")
        s.wait_for("older messages from the server")
        for _ in range(8):  # up a page at a time until the oldest shows
            s.keys("PPage")
            try:
                scr = s.wait_for("me: old 00 " + tag, timeout=2)
                break
            except AssertionError:
                continue
        scr = s.wait_for("me: old 00 " + tag)
        self.assertLess(scr.index("old 00 " + tag), scr.index("old 01 " + tag), scr)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def slix_send(self, user, resource, to, text):
        """slixmpp as another device of user's account sends one message."""
        e = dict(os.environ, XTALK_PASSWORD=USERS[user], XT_PEER_TIMEOUT=str(60 * SLOW))
        r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "slix_peer.py"),
                            jid(user, self.srv) + "/" + resource, str(self.srv.port),
                            self.srv.ca_file, "send", to, text], env=e, capture_output=True,
                           text=True, timeout=90 * SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)

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
        # (Its number depends on the windows the login's archive catch-up
        # opened for what arrived meanwhile: only the JID is certain.)
        s.wait_for("] " + B + " -")
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

    def test_dates_separators_and_full_search_stamps(self):
        # Issue 13 item 6: a message from two days ago shows its date, a
        # day separator comes before today's lines, and a search result
        # has the full date and time.
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        db = os.path.join(self.env("alice")["XDG_DATA_HOME"], "xtalk", "xtalk.db")
        old_s = int(time.time()) - 2 * 86400
        with sqlite3.connect(db) as con:
            # The store's index triggers call its own SQL functions; for
            # ASCII text on one line they are a blank in front and "".
            con.create_function("xt_fts_text", 1, lambda t: " " + t)
            con.create_function("xt_grams", 1, lambda t: "")
            con.execute("INSERT INTO history(account, peer, from_jid, body, stanza_id, outgoing,"
                        " ts_ms) VALUES(?, ?, ?, 'walrus from the day before yesterday', NULL,"
                        " 0, ?)", (A, B, B + "/x", old_s * 1000))
        old = time.localtime(old_s)
        s = self.screen()
        s.wait_for("[online]")
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)
        s.wait_for(time.strftime("%Y-%m-%d %H:%M", old) + " " + B + ": walrus from")
        s.type("walrus today")
        s.keys("Enter")
        scr = s.wait_for("me: walrus today")
        rows = scr.split("\n")
        today = time.localtime()
        sep = [i for i, r in enumerate(rows)
               if time.strftime("%Y-%m-%d", today) + " ---" in r and "---" in r]
        mine = [i for i, r in enumerate(rows) if "me: walrus today" in r]
        old_row = [i for i, r in enumerate(rows) if "walrus from" in r]
        self.assertTrue(sep and mine and old_row, scr)
        self.assertLess(old_row[0], sep[0], scr)
        self.assertLess(sep[0], mine[0], scr)
        # Today's line has the time alone.
        self.assertRegex(rows[mine[0]], r"[\s│]\d\d:\d\d me: walrus today")
        s.type("/search walrus")
        s.keys("Enter")
        scr = s.wait_for("2 found")
        self.assertIn(time.strftime("%Y-%m-%d %H:%M:%S", old), scr)
        self.assertRegex(scr, time.strftime("%Y-%m-%d", today)
                         + r" \d\d:\d\d:\d\d " + B + " < me: walrus today")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_search_every_script(self):
        # Issue 13 item 5: a Chinese word inside a run without spaces, and
        # an emoji, are found (the word index found neither).
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        s = self.screen()
        s.wait_for("[online]")
        self.assertOk(self.xtalk("bob", "send", A, "他说你好世界 😀"), "bob send")
        s.wait(lambda t: ":%s(1)" % B in t, "bob's message arriving")
        for term in ("世界", "😀", "你好世"):
            s.type("/search " + term)
            s.keys("Enter")
            scr = s.wait_for("-- search: %s --" % term)
            scr = s.wait(lambda t: t.count(" found (newest first)") >= 1
                         and t.rfind("-- search: %s --" % term) < t.rfind(" found (newest"),
                         "the result of " + term)
            self.assertIn("1 found", scr.split("-- search: %s --" % term)[-1], scr)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_one_stable_resource(self):
        # Issue 13 item 7: without --resource, every run binds the
        # installation's resource (kept in the data directory, 0600), not
        # a new random one; a run beside it takes a resource of its own,
        # so neither is replaced (a conflict) by the other.
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        bob = self.spawn("bob", "listen", "--json")
        bob.wait_stderr("online")
        froms = []
        for n in range(2):
            s = self.screen()
            s.wait_for("[online]")
            s.type("/msg %s resource run %d" % (B, n))
            s.keys("Enter")
            m = bob.json_until(lambda o: o.get("event") == "message"
                               and o.get("body") == "resource run %d" % n)
            froms.append(m["from"])
            if n == 1:
                # A send while chat runs: another resource, chat stays.
                self.assertOk(self.xtalk("alice", "send", B, "beside chat"), "send beside")
                m = bob.json_until(lambda o: o.get("event") == "message"
                                   and o.get("body") == "beside chat")
                self.assertNotEqual(m["from"], froms[0])
                self.assertEqual(m["from"], froms[0] + "-2")
                s.type("still here")
                s.keys("Enter")
                m = bob.json_until(lambda o: o.get("event") == "message"
                                   and o.get("body") == "still here")
                self.assertEqual(m["from"], froms[0])
                self.assertNotIn("conflict", s.text())
            s.type("/quit")
            s.keys("Enter")
            self.assertEqual(s.exit_code(), 0, s.stderr())
            s.close()
        self.assertEqual(froms[0], froms[1])
        path = os.path.join(self.env("alice")["XDG_DATA_HOME"], "xtalk", "resource")
        with open(path) as f:
            self.assertEqual(A + "/" + f.read().strip(), froms[0])
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        # Alone again, `send` binds the first resource too.
        self.assertOk(self.xtalk("alice", "send", B, "alone"), "send alone")
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("body") == "alone")
        self.assertEqual(m["from"], froms[0])
        bob.terminate()

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
            # Online (bound) is not yet resumable: XEP-0198's <enabled/>
            # comes after it. chat pipelines <enable/> before the roster
            # query and the server answers in order, so the roster on the
            # screen means the session can be resumed. Cutting at "[online]"
            # alone lost that race under load (1 run in 3 at load 20): a
            # new session, no "(resumed".
            s.wait(lambda t: "[online]" in t and jid("bob", self.srv) in t,
                   "online with the roster")
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
        s.wait(lambda t: t.split("\n")[-2].startswith("[offline, not retrying]"), "the bar")
        # Issue 13 item 8: /reconnect tries again when the user says so
        # (the other login is gone by now), through the library's own
        # reconnection.
        s.type("/reconnect")
        s.keys("Enter")
        s.wait(lambda t: t.split("\n")[-2].startswith("[online]"), "online again")
        s.type("/reconnect")
        s.keys("Enter")
        s.wait_for("already online")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_zz_offline_queue_then_reconnect(self):
        """Runs last: it stops the server. Three rounds of the same
        scenario (issue 11: on ejabberd a message queued while offline was
        once missing, in one run of six; not seen again in 26 repeats of
        this test there, TLS 1.2 and 1.3): each round stops the server,
        queues a message, starts it and waits for the queue to empty; bob
        then must get every one of them exactly once."""
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        s = self.screen(cols=60)  # issue 13 item 3: the state fits at 60 columns
        s.wait_for("[online]")
        s.type("/msg " + B)
        s.keys("Enter")
        s.wait_for("[1] " + B)
        rounds = ["typed while offline ✈ %d" % n for n in range(3)]
        for text in rounds:
            self.srv.stop()
            # Issue 13 item 4: the state shows as it changes, without a key.
            s.wait(lambda t: t.split("\n")[-2].startswith("[offline] "),
                   "the lost connection on the status bar")
            s.type(text)
            s.keys("Enter")
            s.wait_for(text + " (queued)")
            s.wait(lambda t: t.split("\n")[-2].startswith("[offline] [1 queued] "),
                   "the queued count")
            self.srv.start()
            # Reconnected (backoff 1 s, 2 s, ...): the queued message goes
            # out. The next try comes about as long after the restart as
            # the server was down, which a loaded machine stretches: a
            # generous net, the wait ends on the screen, and no key is
            # pressed meanwhile: the screen follows the state alone.
            s.wait(lambda t: t.split("\n")[-2].startswith("[online] [0:console")
                   and "(queued)" not in t and "queued:" not in t, "online again, queue sent",
                   timeout=60)
            # Acknowledged by the server (XT_EV_ACKED), so gone from the outbox.
            self.wait_outbox_empty("alice")
        bob = self.spawn("bob", "listen", "--json")
        got = []
        while len(got) < len(rounds):
            m = bob.json_until(lambda o: o.get("event") == "message"
                               and o.get("body", "").startswith("typed while offline"), timeout=30)
            self.assertTrue(m["from"].startswith(A), m)
            got.append(m["body"])
        self.assertEqual(got, rounds)
        # A message sent online goes through the outbox the same way.
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
