#!/usr/bin/env python3
"""`xtalk get URL [-o FILE]` (issue 17): a file on the server's upload
service (put there by slixmpp and a plain HTTPS PUT, no xtalk code) is
fetched byte-identical (SHA-256); the TLS rules are the XMPP
connection's (a CA that did not sign the server's certificate fails with
exit 5); an HTTP error names its status and exits with its code; an
existing file is kept without --force; a failed download leaves no file,
partial or temporary, behind."""

import hashlib
import json
import os
import ssl
import subprocess
import unittest
import urllib.request

from xtlib import HERE, SERVER, SLOW, WRAPPER, XTALK, ServerTest, USERS, jid, main
from prosody import make_ca_and_cert
from test_files_chat import http_missing
from test_files_service import start_file_share

# The exit code of an HTTP transfer refused or failed by the server
# (README "Exit codes").
EXIT_HTTP = 10


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Get(ServerTest):

    @classmethod
    def setUpClass(cls):
        start_file_share(cls)
        if not getattr(cls.srv, "upload_jid", None) or http_missing():
            return
        # One uploaded file for every test: 3 MB of random bytes.
        cls.data = os.urandom(3 * 1000 * 1000 + 17)
        e = dict(os.environ, XTALK_PASSWORD=USERS["alice"], XT_PEER_TIMEOUT=str(120 * SLOW))
        r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "slix_upload.py"),
                            jid("alice", cls.srv), str(cls.srv.port), cls.srv.ca_file,
                            cls.srv.upload_jid, "report 2026.bin", str(len(cls.data))],
                           env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=150 * SLOW, check=True)
        s = json.loads(r.stdout.strip().splitlines()[-1])
        ctx = ssl.create_default_context(cafile=cls.srv.ca_file)
        req = urllib.request.Request(s["put"], data=cls.data, method="PUT",
                                     headers=dict(s["headers"], **{"Content-Type": "application/octet-stream"}))
        urllib.request.urlopen(req, context=ctx, timeout=60 * SLOW).close()
        cls.url = s["get"]

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.srv.dir, "get-" + self._testMethodName)
        os.makedirs(self.dir, exist_ok=True)
        if self._testMethodName == "test_unsafe_urls_refused":
            return  # refused before any transfer: runs everywhere
        if not getattr(self.srv, "upload_jid", None):
            raise unittest.SkipTest("the %s harness has no HTTP upload service configured" % SERVER)
        if http_missing():
            raise unittest.SkipTest(http_missing())

    def get_argv(self, *args, ca=None):
        return WRAPPER + [XTALK, "get"] + list(args) + ["--ca-file", ca or self.srv.ca_file]

    def get(self, *args, ca=None):
        return subprocess.run(self.get_argv(*args, ca=ca), env=self.env("alice"), cwd=self.dir,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=120 * SLOW)

    def test_identical_bytes_and_default_name(self):
        r = self.get(self.url)
        self.assertOk(r, "get")
        # The name from the URL's path, percent-decoded ("report 2026.bin"
        # or the server's rendering of it).
        files = os.listdir(self.dir)
        self.assertEqual(len(files), 1, files)
        with open(os.path.join(self.dir, files[0]), "rb") as f:
            self.assertEqual(sha(f.read()), sha(self.data))
        self.assertEqual(r.stdout, "")
        # Not a terminal: no progress bar.
        self.assertNotIn("\r", r.stderr)

    def test_output_and_no_overwrite(self):
        out = os.path.join(self.dir, "copy.bin")
        with open(out, "w") as f:
            f.write("mine")
        r = self.get(self.url, "-o", out)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--force", r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "mine")
        self.assertEqual(os.listdir(self.dir), ["copy.bin"])
        self.assertOk(self.get(self.url, "-o", out, "--force"), "get --force")
        with open(out, "rb") as f:
            self.assertEqual(sha(f.read()), sha(self.data))
        # -o - writes to stdout.
        p = subprocess.run(self.get_argv(self.url, "-o", "-"), env=self.env("alice"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sha(p.stdout), sha(self.data))

    def test_wrong_ca_is_a_tls_error(self):
        other = os.path.join(self.dir, "other-ca")
        os.makedirs(other)
        ca, _, _ = make_ca_and_cert(other)
        r = self.get(self.url, "-o", os.path.join(self.dir, "x.bin"), ca=ca)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("certificate", r.stderr)
        self.assertEqual(os.listdir(self.dir), ["other-ca"])

    def test_http_error_and_no_partial_file(self):
        # Another slot's path (Prosody finds a file by its slot id alone).
        missing = self.url.rsplit("/", 2)[0] + "/0000nothere/nothing-here.bin"
        r = self.get(missing, "-o", os.path.join(self.dir, "x.bin"))
        self.assertEqual(r.returncode, EXIT_HTTP, r.stderr)
        self.assertIn("404", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_unsafe_urls_refused(self):
        for url in ("file:///etc/passwd", "javascript:alert(1)", "https://x.example/a b"):
            r = self.get(url)
            self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(os.listdir(self.dir), [])


if __name__ == "__main__":
    main()
