#!/usr/bin/env python3
"""Files in `xtalk chat` (issue 17), in tmux as test_chat.py drives it: a
file a slixmpp peer sends (XEP-0066) shows as a numbered file line;
/open N hands the URL to xdg-open (a stand-in here that records its
argument) or, without one, shows it; an unsafe link gets no number."""

import functools
import hashlib
import os
import subprocess
import time
import unittest

from test_chat import TMUX, Screen
from test_features import Base
from xtlib import SLOW, XTALK, jid, main

OOB = "<x xmlns='jabber:x:oob'><url>%s</url></x>"


@functools.lru_cache(None)
def http_missing():
    """Why this xtalk cannot move files over HTTP (built with -Dhttp=false,
    or its transfers not there yet), or None."""
    r = subprocess.run([XTALK, "get", "https://127.0.0.1:1/probe", "-o", os.devnull, "--force"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    return r.stderr.strip() if "without HTTP transfers" in r.stderr else None


@unittest.skipUnless(TMUX, "tmux not installed")
class FilesChat(Base):

    @classmethod
    def setUpClass(cls):
        from test_files_service import start_file_share
        start_file_share(cls)

    def screen(self, user="alice", **kw):
        s = Screen(self, user, **kw)
        self.addCleanup(s.close)
        return s

    def wait_file(self, path, timeout=15):
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            if os.path.exists(path):
                with open(path) as f:
                    s = f.read()
                if s.endswith("\n"):
                    return s
            time.sleep(0.05)
        raise AssertionError("%s never written" % path)

    def test_received_file_line_and_open(self):
        A = jid("alice", self.srv)
        bindir = os.path.join(self.srv.dir, "fake-bin")
        os.makedirs(bindir, exist_ok=True)
        opened = os.path.join(self.srv.dir, "opened.txt")
        opener = os.path.join(bindir, "xdg-open")
        with open(opener, "w") as f:
            f.write("#!/bin/sh\nprintf '%%s\\n' \"$1\" > %s.tmp && mv %s.tmp %s\n"
                    % (opened, opened, opened))
        os.chmod(opener, 0o755)
        s = self.screen(cols=140, env_extra={"PATH": bindir + ":" + os.environ["PATH"]})
        s.wait_for("[online]")
        carol = self.slix("carol")
        url = "https://upload.example.org/d/report%20v2.pdf"
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='f1'><body>%s</body>%s"
                  "</message>" % (A, url, OOB % url))
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='f2'><body>look</body>%s"
                  "</message>" % (A, OOB % "javascript:alert(1)"))
        carol.barrier()
        s.wait(lambda t: "(2)" in t or "(1)" in t, "carol's window")
        s.keys("M-1")
        scr = s.wait_for("[file 1] report v2.pdf  /open 1  /save 1")
        s.wait_for("[link, not a file] javascript:alert(1)")
        self.assertNotIn("[file 2]", s.text())
        s.type("/open 1")
        s.keys("Enter")
        self.assertEqual(self.wait_file(opened), url + "\n")
        s.wait_for("file 1: opening " + url)
        s.type("/open 2")
        s.keys("Enter")
        s.wait_for("no file 2")
        # Without an opener the URL is shown, to copy.
        os.unlink(opener)
        s.keys("C-l")
        s.type("/open 1")
        s.keys("Enter")
        s.wait(lambda t: ("file 1: " + url) in t.replace("file 1: opening", ""), "the URL shown")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def test_upload_then_save(self):
        """/upload PATH (Tab-completed) reaches a slixmpp peer as a URL
        with OOB; the file it sends back is a numbered line, and /save N
        writes the identical bytes."""
        if not getattr(self.srv, "upload_jid", None):
            self.skipTest("the %s harness has no HTTP upload service configured" % self.srv.name)
        if http_missing():
            self.skipTest(http_missing())
        A, C = jid("alice", self.srv), jid("carol", self.srv)
        d = os.path.join(self.srv.dir, "files-up")
        os.makedirs(d, exist_ok=True)
        data = os.urandom(300 * 1000 + 7)
        src = os.path.join(d, "report-2026.bin")
        with open(src, "wb") as f:
            f.write(data)
        s = self.screen(cols=160)
        s.wait_for("[online]")
        carol = self.slix("carol")
        s.type("/msg " + C)
        s.keys("Enter")
        s.wait_for("[1] " + C)
        # Tab completes the path (the one file starting so, then a blank,
        # which the screen capture does not keep).
        s.type("/upload " + os.path.join(d, "rep"))
        s.wait_for("> /upload " + os.path.join(d, "rep"))
        s.keys("Tab")
        s.wait(lambda t: t.split("\n")[-1].rstrip() == "> /upload " + src, "the completed path")
        s.keys("Enter")
        try:
            m = carol.json_until(lambda o: o["event"] == "message" and o.get("oob"), 60)
        except AssertionError as e:
            raise AssertionError("%s\nscreen:\n%s\nstderr: %s" % (e, s.text(), s.stderr()))
        url = m["oob"]
        self.assertTrue(url.startswith("https://"), m)
        self.assertEqual(m["body"], url)
        self.assertTrue(m["from"].startswith(A), m)
        s.wait_for("[file 1] report-2026.bin (300 kB) sent")
        # carol shares it back: a numbered file line; /save writes it.
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='back1'><body>%s</body>%s"
                  "</message>" % (A, url, OOB % url))
        s.wait_for("[file 2] report-2026.bin  /open 2  /save 2")
        out = os.path.join(d, "saved.bin")
        s.type("/save 2 " + out)
        s.keys("Enter")
        s.wait_for("file 2 saved: " + out, timeout=60)
        with open(out, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(data).hexdigest())
        # Never over an existing file; no temporary file left behind.
        s.type("/save 2 " + out)
        s.keys("Enter")
        s.wait_for("file 2 not saved: " + out + " exists")
        self.assertEqual(sorted(os.listdir(d)), ["report-2026.bin", "saved.bin"])
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())


if __name__ == "__main__":
    main()
