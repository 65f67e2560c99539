#!/usr/bin/env python3
"""`xtalk send --file` (issue 17): XEP-0363 HTTP File Upload against the
server's upload service over HTTPS (the harness's throwaway CA), the URL
sent with XEP-0066 out-of-band data.

Prosody 0.12: mod_http_file_share as a component, HTTPS on a random
loopback port (tests/harness/prosody.py, file_share=LIMIT). ejabberd 23.01:
mod_http_upload on its own HTTPS listener (tests/harness/ejabberd.py); it
logs no slot requests (xtalk's -v log shows none was sent) and serves a
file with the type its name's extension maps to.

  - a 10 MB file uploaded, its URL received by a slixmpp peer (body and
    <x xmlns='jabber:x:oob'><url/>), the bytes fetched back identical
    (SHA-256);
  - a file over the server's limit refused before uploading: exit 9, both
    sizes in the message, and no slot issued (the server's log);
  - an upload cut by stopping the server: exit 10, no message sent;
  - Ctrl-C during the upload: cancelled, nothing sent;
  - the XMPP link dropped after the upload (a proxy holds everything the
    client sends from the slot on): the URL message stays in the outbox
    with its OOB data, and `send --flush` later delivers it with the OOB
    (the same stanza), the bytes still fetched back identical;
  - send --file --muc: uploaded, then the room joined and the URL sent
    with its OOB data to a slixmpp occupant, exit 0 on the reflection, the
    bytes fetched back identical; over the limit: exit 9, never joined;
  - peak RSS of a 50 MB upload within a few MB of a 1 MB one (plain
    builds only: valgrind and ASan measure themselves).
"""
import hashlib
import inspect
import json
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
import unittest
import urllib.request

from test_muc import Occupant
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from faultproxy import FaultProxy  # noqa: E402
from xtlib import (SERVER, SLOW, USERS, WRAPPER, XTALK, Ejabberd, Proc, Prosody,
                   ServerTest, jid, main, make_server, skip_on)

LIMIT = 512 * 1000 * 1000  # the service's max-file-size (bytes)
MB = 1000 * 1000


def _asan_build():
    with open(XTALK, "rb") as f:
        return b"__asan_init" in f.read()


RSS_MEANINGFUL = not WRAPPER and not _asan_build()


def write_random(path, size):
    """A file of `size` pseudo-random bytes; returns its SHA-256 (hex)."""
    h = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        i = 0
        while left:
            chunk = block[:min(left, len(block))]
            # Each MiB differs, so a misplaced block cannot go unnoticed.
            chunk = i.to_bytes(8, "big") + chunk[8:] if len(chunk) >= 8 else chunk
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
            i += 1
    return h.hexdigest()


class Upload(ServerTest):

    @classmethod
    def setUpClass(cls):
        # Each harness names its upload limit its own way (Prosody's
        # mod_http_file_share, ejabberd's mod_http_upload).
        params = inspect.signature((Ejabberd if SERVER == "ejabberd" else Prosody).__init__)
        if "file_share" in params.parameters:
            srv = make_server(USERS, file_share=LIMIT)
        elif "upload_max_size" in params.parameters:
            srv = make_server(USERS, upload_max_size=LIMIT)
        else:
            raise unittest.SkipTest("not on %s: its harness does not serve XEP-0363 uploads "
                                    "(mod_http_upload) yet" % SERVER)
        try:
            cls.srv = srv.start()
        except BaseException:
            srv.cleanup()
            raise

    # -- helpers -------------------------------------------------------------
    def peer(self, user, *args):
        return Proc(self.slix_popen("slix_peer.py", jid(user, self.srv), *args, env=self.env(user),
                                    stdin=subprocess.DEVNULL))

    def path(self, name):
        return os.path.join(self.srv.dir, name)

    def fetch(self, url):
        ctx = ssl.create_default_context(cafile=self.srv.ca_file)
        h = hashlib.sha256()
        with urllib.request.urlopen(url, context=ctx, timeout=60 * SLOW) as r:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                h.update(b)
        return h.hexdigest()

    def server_log(self):
        with open(os.path.join(self.srv.dir, "prosody.log"), errors="replace") as f:
            return f.read()

    def slots_issued(self):
        """Slots the server issued so far (Prosody logs each at info);
        None where the log does not say."""
        if SERVER != "prosody":
            return None
        return self.server_log().count("Issuing upload slot")

    def wait_for(self, pred, what, timeout=60):
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            if pred():
                return
            time.sleep(0.02)
        raise AssertionError("never happened: " + what)

    def uploads(self):
        """The server's stored (or partly received) uploads: path -> size."""
        out = {}
        top, mark = ((os.path.join(self.srv.dir, "data"), "http_file_share") if SERVER == "prosody"
                     else (os.path.join(self.srv.dir, "upload"), ""))
        for root, _, files in os.walk(top):
            if mark in root:
                for f in files:
                    try:
                        out[os.path.join(root, f)] = os.path.getsize(os.path.join(root, f))
                    except OSError:
                        pass
        return out

    def assertNothingSentThen(self, marker):
        """bob's next message is `marker` (sent by alice now): whatever the
        failed run might have sent would have come first (one sender's
        messages keep their order, RFC 6120 §10.1)."""
        bob = self.peer("bob", "recv", "1")
        self.assertEqual(bob.line(60), "online")
        self.assertOk(self.xtalk("alice", "send", jid("bob", self.srv), marker))
        got = json.loads(bob.line(60))
        self.assertEqual(got["body"], marker)

    # -- tests -----------------------------------------------------------------
    def test_10mb_roundtrip(self):
        src = self.path("ten.bin")
        digest = write_random(src, 10 * MB)
        bob = self.peer("bob", "recv", "1")
        self.assertEqual(bob.line(60), "online")
        r = self.xtalk("alice", "send", "--file", src, jid("bob", self.srv), timeout=120)
        self.assertOk(r, "send --file")
        got = json.loads(bob.line(60))
        url = got["body"]
        self.assertTrue(url.startswith("https://%s:" % self.srv.domain), url)
        self.assertTrue(url.endswith("/ten.bin"), url)
        self.assertEqual(got.get("oob"), url)  # XEP-0066 beside the body
        self.assertEqual(self.fetch(url), digest)
        self.assertEqual(r.stderr, "")  # no progress bar: stderr is not a terminal

    @skip_on("ejabberd", "mod_http_upload serves a file with the type of its name's extension, "
                         "not the one the slot was asked for")
    def test_type_given_and_guessed(self):
        png = self.path("pixel.png")
        with open(png, "wb") as f:  # a PNG signature and header: libmagic says image/png
            f.write(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                  "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049"
                                  "454e44ae426082"))
        bob = self.peer("bob", "recv", "2")
        self.assertEqual(bob.line(60), "online")
        self.assertOk(self.xtalk("alice", "send", "--file", png, jid("bob", self.srv)))
        self.assertOk(self.xtalk("alice", "send", "--file", png, "--type", "text/plain",
                                 jid("bob", self.srv)))
        ctx = ssl.create_default_context(cafile=self.srv.ca_file)
        types = []
        for _ in range(2):
            url = json.loads(bob.line(60))["body"]
            with urllib.request.urlopen(url, context=ctx, timeout=60 * SLOW) as r:
                types.append(r.headers.get("Content-Type", ""))
        self.assertTrue(types[0].startswith("image/png"), types)
        if SERVER == "ejabberd":
            # ejabberd's mod_http_upload serves the type its content_type
            # map gives the name's extension, whatever was uploaded.
            self.assertTrue(types[1].startswith("image/png"), types)
        else:
            self.assertTrue(types[1].startswith("text/plain"), types)

    def test_over_limit_refused_before_upload(self):
        big = self.path("huge.iso")
        with open(big, "wb") as f:  # sparse: never read, never written to disk
            f.truncate(LIMIT + 1)
        before = self.slots_issued()
        r = self.xtalk("alice", "send", "-v", "--file", big, jid("bob", self.srv))
        self.assertEqual(r.returncode, 9, r.stderr)
        self.assertNotIn("urn:xmpp:http:upload:0' filename", r.stderr)  # no slot request sent
        self.assertIn("%d bytes" % (LIMIT + 1), r.stderr)
        self.assertIn("%d bytes" % LIMIT, r.stderr)
        self.assertIn("nothing was sent", r.stderr)
        self.assertEqual(self.slots_issued(), before)  # not even a slot asked for
        self.assertNothingSentThen("after the refused file")

    def test_usage(self):
        r = self.xtalk("alice", "send", "--file", self.path("missing.bin"), jid("bob", self.srv))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot read", r.stderr)
        r = self.xtalk("alice", "send", "--file", self.srv.dir, "x", jid("bob", self.srv))
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.xtalk("alice", "send", "--type", "text/plain", jid("bob", self.srv), "hi")
        self.assertEqual(r.returncode, 2, r.stderr)
        empty = self.path("empty.txt")
        open(empty, "w").close()
        r = self.xtalk("alice", "send", "--file", empty, jid("bob", self.srv))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("empty", r.stderr)
        r = self.xtalk("alice", "send", "--help")
        self.assertOk(r)
        self.assertIn("--file PATH", r.stdout)

    def big_upload(self, name):
        """Starts alice uploading a 300 MB file and returns once the server
        is receiving it (its partial file on disk over 1 MB)."""
        src = self.path(name)
        with open(src, "wb") as f:
            f.truncate(300 * MB)  # sparse: read as zeros, fast
        old = set(self.uploads())
        p = self.spawn("alice", "send", "-v", "--file", src, jid("bob", self.srv),
                       "--timeout", "120")

        def receiving():
            if SERVER == "prosody":  # a new file on the server, over 1 MB so far
                return any(n > MB for f, n in self.uploads().items() if f not in old)
            # ejabberd keeps no partial file we know of: the slot has come
            # (-v shows the stream), so the PUT of 300 MB is starting or
            # under way; either way a failure now is the upload's.
            return any("urn:xmpp:http:upload:0" in l and "<put " in l for l in p.err_lines)
        self.wait_for(lambda: receiving() or p.p.poll() is not None,
                      "the server receiving the upload")
        self.assertIsNone(p.p.poll(), "\n".join(p.err_lines))
        return p

    def test_ctrl_c_cancels(self):
        p = self.big_upload("cancel.bin")
        p.p.send_signal(signal.SIGINT)
        rc = p.wait(60)
        self.assertNotEqual(rc, 0)
        p.wait_stderr("was cancelled; nothing was sent")
        self.assertNothingSentThen("after the cancelled upload")

    def test_server_stopped_midway(self):
        p = self.big_upload("cut.bin")
        self.srv.stop()
        try:
            rc = p.wait(120)
        finally:
            self.srv.start()
        self.assertEqual(rc, 10, "\n".join(p.err_lines))
        p.wait_stderr("upload failed")
        p.wait_stderr("nothing was sent")
        self.assertNothingSentThen("after the cut upload")

    def test_outbox_keeps_oob(self):
        src = self.path("later.bin")
        digest = write_random(src, 5 * MB)  # its PUT outlasts the test's reaction
        fp = FaultProxy(("127.0.0.1", self.srv.port), seed=1, max_faults=0, delay_prob=0)
        fp.start()
        try:
            # --timeout: how long the held link may go without an ack; under
            # valgrind the PUT itself must also end within it (the session
            # may fail its reconnections to the held link in the meantime).
            argv = self.argv("alice", "send", "-v", "--file", src, "--timeout",
                             "30" if WRAPPER else "5",
                             "--server", "127.0.0.1:%d" % fp.port, jid("bob", self.srv),
                             server=False)
            p = subprocess.Popen(argv, env=self.env("alice"), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.procs.append(p)
            proc = Proc(p)
            # The slot has come (the request went through): from now on
            # nothing the client sends reaches the server; the PUT goes
            # to the HTTPS service directly and still succeeds.
            self.wait_for(lambda: any("urn:xmpp:http:upload:0" in l and "<put " in l
                                      for l in proc.err_lines) or p.poll() is not None,
                          "the slot")
            fp.hold_after = fp.c2s_bytes
            rc = proc.wait(120)
        finally:
            fp.stop()
        self.assertEqual(rc, 7, "\n".join(proc.err_lines))  # not acknowledged within --timeout
        db = os.path.join(self.srv.dir, "xdg-data-alice", "xtalk", "xtalk.db")
        with sqlite3.connect(db) as c:
            rows = c.execute("SELECT o.body, f.url, f.name, f.size FROM outbox o"
                             " JOIN outbox_file f ON f.seq = o.seq").fetchall()
        self.assertEqual(len(rows), 1, rows)
        url = rows[0][0]
        self.assertEqual(rows[0][1:], (url, "later.bin", 5 * MB))
        bob = self.peer("bob", "recv", "1")
        self.assertEqual(bob.line(60), "online")
        r = self.xtalk("alice", "send", "--flush", timeout=60)
        self.assertOk(r, "send --flush")
        got = json.loads(bob.line(60))
        self.assertEqual(got["body"], url)
        self.assertEqual(got.get("oob"), url)  # re-sent with its XEP-0066 data
        self.assertEqual(self.fetch(url), digest)

    def occupant(self, user, room):
        """A slixmpp occupant (slix_muc.py) in room as `user`."""
        o = Occupant.start(self, user, self.env(user))
        self.assertEqual(o.join(room, user)["event"], "joined")
        return o

    def test_muc_file(self):
        room = "files-%d@%s" % (os.getpid(), self.srv.muc)
        carol = self.occupant("carol", room)
        src = self.path("room.bin")
        digest = write_random(src, 1 * MB)
        r = self.xtalk("alice", "send", "--file", src, "--muc", room, "--nick", "alice-f",
                       timeout=120)
        self.assertOk(r, "send --file --muc")
        got = carol.json_until(lambda o: o["event"] == "groupchat" and o["nick"] == "alice-f", 60)
        url = got["body"]
        self.assertTrue(url.endswith("/room.bin"), url)
        self.assertEqual(got["oob"], url)  # XEP-0066 beside the body
        self.assertEqual(self.fetch(url), digest)

        # Over the limit: exit 9 before anything, the room never joined.
        big = self.path("room-huge.iso")
        with open(big, "wb") as f:
            f.truncate(LIMIT + 1)
        r = self.xtalk("alice", "send", "--file", big, "--muc", room, "--nick", "alice-big")
        self.assertEqual(r.returncode, 9, r.stderr)
        self.assertIn("nothing was sent", r.stderr)
        seen = []
        self.assertOk(self.xtalk("alice", "send", "--muc", room, "marker", "--nick", "alice-m"))
        carol.json_until(lambda o: seen.append(o) or (o["event"] == "groupchat" and
                                                      o["body"] == "marker"), 60)
        self.assertEqual([o for o in seen if o.get("nick") == "alice-big"], [])

        r = self.xtalk("alice", "send", "--file", src, "--muc", room, "--pm", "carol")
        self.assertEqual(r.returncode, 2, r.stderr)

    @unittest.skipUnless(RSS_MEANINGFUL, "peak RSS is the program's only in a plain build "
                                         "(not under valgrind or ASan)")
    def test_rss_independent_of_size(self):
        rss = {}
        for size in (1 * MB, 50 * MB):
            src = self.path("rss-%d.bin" % size)
            write_random(src, size)
            # To carol, whom no test reads: bob's tests count his messages.
            cmd = self.argv("alice", "send", "--file", src, jid("carol", self.srv))
            p = subprocess.Popen(cmd, env=self.env("alice"), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            err = p.stderr.read()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            p.stderr.close()
            self.assertEqual(p.returncode, 0, err)
            rss[size] = ru.ru_maxrss  # KiB
        print("peak RSS: 1 MB upload %d KiB, 50 MB upload %d KiB" % (rss[MB], rss[50 * MB]))
        self.assertLess(rss[50 * MB], rss[MB] + 4 * 1024, rss)


if __name__ == "__main__":
    main()
