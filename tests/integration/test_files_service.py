#!/usr/bin/env python3
"""The test servers' XEP-0363 upload service (issue 17), probed with no
xtalk code: slixmpp asks for a slot by raw IQs (slix_upload.py), the file
is PUT to its HTTPS URL (the test CA) and fetched back identical; a file
over the service's limit is refused at the slot request. This checks the
harness (tests/harness/ejabberd.py's mod_http_upload, prosody.py's
mod_http_file_share) that the xtalk upload tests stand on."""

import hashlib
import json
import os
import ssl
import subprocess
import unittest
import urllib.request

from xtlib import HERE, SERVER, SLOW, ServerTest, USERS, jid, main, make_server

# The upload limit of the file tests' servers (bytes).
FILE_SHARE_LIMIT = 50 * 1000 * 1000


def start_file_share(cls):
    """setUpClass for the file tests: the class's server with its XEP-0363
    service on (prosody.py's file_share; ejabberd.py always serves one)."""
    srv = make_server(USERS, file_share=FILE_SHARE_LIMIT)
    try:
        cls.srv = srv.start()
    except BaseException:
        srv.cleanup()
        raise


class UploadService(ServerTest):

    @classmethod
    def setUpClass(cls):
        start_file_share(cls)

    def setUp(self):
        super().setUp()
        if not getattr(self.srv, "upload_jid", None):
            raise unittest.SkipTest("the %s harness has no HTTP upload service configured"
                                    % SERVER)

    def slot(self, name, size, ctype=None):
        e = dict(os.environ, XTALK_PASSWORD=USERS["alice"], XT_PEER_TIMEOUT=str(120 * SLOW))
        argv = ["/usr/bin/python3", os.path.join(HERE, "slix_upload.py"), jid("alice", self.srv),
                str(self.srv.port), self.srv.ca_file, self.srv.upload_jid, name, str(size)]
        r = subprocess.run(argv + ([ctype] if ctype else []), env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=150 * SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def test_slot_put_get(self):
        data = os.urandom(256 * 1024)
        s = self.slot("probe one.bin", len(data), "application/octet-stream")
        self.assertNotIn("error", s)
        self.assertTrue(s["put"].startswith("https://"), s)
        self.assertIsNotNone(s["max_size"])
        ctx = ssl.create_default_context(cafile=self.srv.ca_file)
        headers = dict(s["headers"], **{"Content-Type": "application/octet-stream"})
        req = urllib.request.Request(s["put"], data=data, method="PUT", headers=headers)
        with urllib.request.urlopen(req, context=ctx, timeout=60 * SLOW) as r:
            self.assertIn(r.status, (200, 201))
        with urllib.request.urlopen(s["get"], context=ctx, timeout=60 * SLOW) as r:
            got = r.read()
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_over_limit_refused(self):
        s = self.slot("probe", 10)
        s = self.slot("huge.bin", s["max_size"] + 1)
        # XEP-0363 §4: not-acceptable with <file-too-large/>.
        self.assertEqual(s.get("error"), "not-acceptable", s)


if __name__ == "__main__":
    main()
