#!/usr/bin/env python3
"""Files in `xtalk chat` (issue 17), in tmux as test_chat.py drives it: a
file a slixmpp peer sends (XEP-0066) shows as a numbered file line;
/open N hands the URL to xdg-open (a stand-in here that records its
argument) or, without one, shows it; an unsafe link gets no number. A
file shared without a body (XEP-0447) is a file line too, and file
messages read back (the local store after a restart, the server's archive
on scroll-back) come back as file lines that /open works on."""

import functools
import hashlib
import os
import re
import tempfile
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
        self.wait_re(s, r"carol@\S*\(\d+\)")
        s.keys("M-1")
        n = int(self.wait_re(s, r"\[file (\d+)\] report v2\.pdf  /open \1  /save \1").group(1))
        s.wait_for("[link, not a file] javascript:alert(1)")
        self.assertNotIn("[file %d]" % (n + 1), s.text())
        s.type("/open %d" % n)
        s.keys("Enter")
        self.assertEqual(self.wait_file(opened), url + "\n")
        s.wait_for("file %d: opening %s" % (n, url))
        s.type("/open %d" % (n + 1))
        s.keys("Enter")
        s.wait_for("no file %d" % (n + 1))
        # Without an opener the URL is shown, to copy.
        os.unlink(opener)
        s.keys("C-l")
        s.type("/open %d" % n)
        s.keys("Enter")
        s.wait(lambda t: ("file %d: %s" % (n, url)) in t.replace("file %d: opening" % n, ""),
               "the URL shown")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

    def wait_re(self, s, pattern, timeout=15):
        """The first match of pattern on the screen, once there. File
        numbers are this run's: lines caught up from the archive (earlier
        tests' files) may have taken the first ones."""
        found = []
        s.wait(lambda t: found.append(re.search(pattern, t)) or found[-1], repr(pattern), timeout)
        return found[-1]

    def opener(self):
        """A stand-in xdg-open that records its argument: (PATH, record)."""
        bindir = tempfile.mkdtemp(prefix="fake-bin-", dir=self.srv.dir)
        opened = os.path.join(bindir, "opened.txt")
        with open(os.path.join(bindir, "xdg-open"), "w") as f:
            f.write("#!/bin/sh\nprintf '%%s\\n' \"$1\" > %s.tmp && mv %s.tmp %s\n"
                    % (opened, opened, opened))
        os.chmod(os.path.join(bindir, "xdg-open"), 0o755)
        return bindir + ":" + os.environ["PATH"], opened

    def open_file(self, s, scr, name, url, opened):
        """/open on the file line naming `name`; the opener gets url."""
        n = re.search(r"\[file (\d+)\] " + re.escape(name), scr).group(1)
        s.type("/open " + n)
        s.keys("Enter")
        self.assertEqual(self.wait_file(opened), url + "\n")
        os.unlink(opened)

    def test_file_lines_read_back(self):
        """A body-less XEP-0447 share is shown as a file line; after a
        restart the store's lines are file lines again, and so are the
        archive's on scroll-back past the store; /open works on each."""
        A, C = jid("alice", self.srv), jid("carol", self.srv)
        path, opened = self.opener()
        store = os.path.join(tempfile.mkdtemp(dir=self.srv.dir), "files.db")
        s = self.screen(cols=160, extra=("--store", store), env_extra={"PATH": path})
        s.wait_for("[online]")
        carol = self.slix("carol")
        sfs_url = "https://upload.example.org/s/summit.jpg"
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='h1'>"
                  "<active xmlns='http://jabber.org/protocol/chatstates'/>"
                  "<file-sharing xmlns='urn:xmpp:sfs:0'><file xmlns='urn:xmpp:file:metadata:0'>"
                  "<media-type>image/jpeg</media-type><name>summit.jpg</name><size>3032449</size>"
                  "<desc>Photo from the summit</desc></file><sources><url-data "
                  "xmlns='http://jabber.org/protocol/url-data' target='%s'/></sources>"
                  "</file-sharing></message>" % (A, sfs_url))
        oob_url = "https://upload.example.org/o/notes.txt"
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='h2'><body>%s</body>%s"
                  "</message>" % (A, oob_url, OOB % oob_url))
        carol.barrier()
        s.wait(lambda t: "(2)" in t or "(1)" in t, "carol's window")
        s.keys("M-1")
        s.wait_for("Photo from the summit")
        scr = s.wait_for("] summit.jpg (3.0 MB, image/jpeg)  /open")
        s.wait_for("] notes.txt  /open")
        self.open_file(s, scr, "summit.jpg", sfs_url, opened)
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

        # The same store after a restart: the lines read back are file lines.
        s = self.screen(cols=160, extra=("--store", store), env_extra={"PATH": path})
        s.wait_for("[online]")
        s.type("/msg " + C)
        s.keys("Enter")
        s.wait_for("Photo from the summit")
        scr = s.wait_for("] summit.jpg (3.0 MB, image/jpeg)  /open")
        scr = s.wait_for("] notes.txt  /open")
        self.open_file(s, scr, "notes.txt", oob_url, opened)
        self.open_file(s, scr, "summit.jpg", sfs_url, opened)
        # Fillers while online (archived, not held offline): a fresh
        # store's first page of the archive is theirs, the file older.
        for i in range(55):
            carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='fill%d'>"
                      "<body>filler %02d</body></message>" % (A, i, i))
        carol.barrier()
        s.wait_for("filler 54")
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())

        # A fresh store: the window's first page comes from the archive
        # (the newest: fillers), the file on scroll-back past it. (The
        # body-less share is not archived by either server: their MAM
        # keeps messages with a body.)
        fresh = os.path.join(tempfile.mkdtemp(dir=self.srv.dir), "fresh.db")
        s = self.screen(cols=160, extra=("--store", fresh), env_extra={"PATH": path})
        s.wait_for("caught up")  # the login's catch-up (the newest 50) first
        s.type("/msg " + C)
        s.keys("Enter")
        s.wait_for("filler 54")
        s.type("/history 100")
        s.keys("Enter")
        s.wait_for("older messages from the server")
        scr = None
        for _ in range(10):  # up a page at a time until the file shows
            s.keys("PPage")
            try:
                scr = s.wait_for("] notes.txt  /open", timeout=2)
                break
            except AssertionError:
                continue
        scr = scr or s.wait_for("] notes.txt  /open")
        self.open_file(s, scr, "notes.txt", oob_url, opened)
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
        src = os.path.join(d, "report 2026.bin")  # a blank: completion escapes it
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
        s.wait(lambda t: t.split("\n")[-1].rstrip() == "> /upload " + src.replace(" ", "\\ "),
               "the completed path")
        s.keys("Enter")
        try:
            m = carol.json_until(lambda o: o["event"] == "message" and o.get("oob"), 60)
        except AssertionError as e:
            raise AssertionError("%s\nscreen:\n%s\nstderr: %s" % (e, s.text(), s.stderr()))
        url = m["oob"]
        self.assertTrue(url.startswith("https://"), m)
        self.assertEqual(m["body"], url)
        self.assertTrue(m["from"].startswith(A), m)
        n = int(self.wait_re(s, r"\[file (\d+)\] report 2026\.bin \(300 kB\) sent").group(1)) + 1
        # carol shares it back: a numbered file line; /save writes it.
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='back1'><body>%s</body>%s"
                  "</message>" % (A, url, OOB % url))
        # Its name is the URL's (ejabberd's mod_http_upload rewrites the blank).
        self.wait_re(s, r"\[file %d\] report.2026\.bin  /open %d  /save %d" % (n, n, n))
        out = os.path.join(d, "saved.bin")
        s.type("/save %d %s" % (n, out))
        s.keys("Enter")
        s.wait_for("file %d saved: %s" % (n, out), timeout=60)
        with open(out, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(data).hexdigest())
        # Never over an existing file; no temporary file left behind.
        s.type("/save %d %s" % (n, out))
        s.keys("Enter")
        s.wait_for("file %d not saved: %s exists" % (n, out))
        self.assertEqual(sorted(os.listdir(d)), ["report 2026.bin", "saved.bin"])
        s.type("/quit")
        s.keys("Enter")
        self.assertEqual(s.exit_code(), 0, s.stderr())


if __name__ == "__main__":
    main()
