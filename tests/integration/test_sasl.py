#!/usr/bin/env python3
"""SASL that never downgrades silently and that logs in to ejabberd
(issues 11 and 12): the pin the store keeps, a refused weaker login and
--allow-downgrade against the real Prosody; and, once the harness has
ejabberd (tests/harness/ejabberd.py), ejabberd 23.01 on TLS 1.3 (STARTTLS
and direct TLS: the channel-binding retry) and TLS 1.2 (tls-unique).
"""

import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtlib import USERS, ServerTest, jid, main  # noqa: E402

try:
    from ejabberd import Ejabberd  # noqa: E402  (tests/harness, on xtlib's path)
except ImportError:  # the harness has no ejabberd yet
    Ejabberd = None


def store_path(test, user):
    return os.path.join(test.srv.dir, "xdg-data-" + user, "xtalk", "xtalk.db")


def read_hint(test, user):
    with sqlite3.connect(store_path(test, user)) as db:
        rows = db.execute("SELECT sasl_hint FROM server_hint").fetchall()
    return rows[0][0] if rows else None


def write_hint(test, user, hint):
    with sqlite3.connect(store_path(test, user)) as db:
        db.execute("UPDATE server_hint SET sasl_hint = ?", (hint,))


class Pinning(ServerTest):
    """The store's hint pins the strongest login; a weaker one is refused."""

    def test_pin_kept_and_enforced(self):
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        r = self.xtalk("alice", "send", B, "one")
        self.assertOk(r, "first send")
        hint = read_hint(self, "alice")
        self.assertIsNotNone(hint)
        self.assertRegex(hint, r"(^| )pin:SCRAM-SHA-[0-9]+", hint)
        # What a stronger login before would have left: a server that now
        # offers less is refused before any credential goes out.
        write_hint(self, "alice", hint + " pin:SCRAM-SHA-512-PLUS:tls-exporter")
        r = self.xtalk("alice", "send", B, "two")
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("refusing a weaker login than before", r.stderr)
        self.assertIn("SCRAM-SHA-512-PLUS:tls-exporter", r.stderr)
        self.assertIn("--allow-downgrade", r.stderr)
        self.assertNotIn("password (", r.stderr)
        # The user accepts it; the pin stays the strongest.
        r = self.xtalk("alice", "send", "--allow-downgrade", B, "three")
        self.assertOk(r, "send --allow-downgrade")
        self.assertIn("pin:SCRAM-SHA-512-PLUS:tls-exporter", read_hint(self, "alice"))
        del A


@unittest.skipIf(Ejabberd is None, "tests/harness/ejabberd.py is not in the tree yet (W1)")
class EjabberdTLS13(ServerTest):
    """ejabberd 23.01, stock TLS settings (TLS 1.3): issue 11's proof."""

    tls13 = True

    @classmethod
    def setUpClass(cls):
        cls.srv = Ejabberd(users=USERS, tls13=cls.tls13).start()

    def login_twice(self, direct):
        B = jid("bob", self.srv)
        user = "alice" if direct else "carol"
        for n in range(2):
            r = self.xtalk(user, "send", "-v", B, "hi %d" % n, direct_tls=direct)
            self.assertOk(r, "send %d" % n)
            yield r.stderr

    def check(self, direct):
        first, second = self.login_twice(direct)
        if self.tls13:
            # -PLUS with tls-exporter is refused ("Invalid channel
            # binding"); one retry without binding, saying so.
            self.assertIn("Invalid channel binding", first)
            self.assertIn("retrying once without binding", first)
            self.assertNotIn("password", first.replace("XTALK_PASSWORD", ""))
            self.assertRegex(first, r"authenticated with SCRAM-SHA-1\n")
            # The hint remembers it: the next login goes without at once.
            self.assertNotIn("Invalid channel binding", second)
            self.assertRegex(second, r"authenticated with SCRAM-SHA-1\n")
        else:
            self.assertIn("authenticated with SCRAM-SHA-1-PLUS", first)
            self.assertIn("channel binding tls-unique", first)

    def test_starttls(self):
        self.check(direct=False)

    def test_direct_tls(self):
        self.check(direct=True)


class EjabberdTLS12(EjabberdTLS13):
    """ejabberd limited to TLS 1.2: SCRAM-SHA-1-PLUS with tls-unique."""

    tls13 = False


if __name__ == "__main__":
    main()
