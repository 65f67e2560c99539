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
from xtlib import SERVER, USERS, ServerTest, jid, main  # noqa: E402

from ejabberd import Ejabberd  # noqa: E402  (tests/harness, on xtlib's path)


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


@unittest.skipIf(SERVER != "ejabberd", "these start their own ejabberd: run once, in sasl-ejabberd")
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
            # binding"); one retry without binding on the same stream,
            # saying so.
            self.assertIn("Invalid channel binding", first)
            self.assertIn("retrying once without binding, on this stream", first)
            self.assertNotIn("trying again", first)
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

    def test_no_reconnect(self):
        """Issue 11 item 2: the retry without binding runs on the same
        stream (RFC 6120 §6.4.5; ejabberd 23.01 allows it), so a run that
        never reconnects logs in too, in one connection."""
        if not self.tls13:
            self.skipTest("on TLS 1.2 tls-unique binds: there is nothing to retry")
        fresh = {"XDG_DATA_HOME": os.path.join(self.srv.dir, "xdg-data-bob-noreconnect")}
        for direct in (False, True):
            p = self.spawn("bob", "listen", "-v", "--no-reconnect", env=fresh, direct_tls=direct)
            p.wait_stderr("online as")
            err = "\n".join(p.err_lines)
            self.assertIn("Invalid channel binding", err)
            self.assertIn("retrying once without binding, on this stream", err)
            self.assertRegex(err, r"authenticated with SCRAM-SHA-1\n")
            self.assertNotIn("trying again", err)
            self.assertNotIn("reconnecting", err)
            self.assertEqual(err.count("connecting to "), 1, err)
            self.assertNotIn("password", err.replace("XTALK_PASSWORD", ""))
            p.terminate()
            # The next login goes without binding at once (the hint's nocb:).
            fresh = {"XDG_DATA_HOME": os.path.join(self.srv.dir, "xdg-data-bob-nr-%d" % direct)}


class EjabberdTLS12(EjabberdTLS13):
    """ejabberd limited to TLS 1.2: SCRAM-SHA-1-PLUS with tls-unique."""

    tls13 = False


if __name__ == "__main__":
    main()
