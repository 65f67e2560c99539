#!/usr/bin/env python3
"""The 2-round-trip login (issue 14): XEP-0388 SASL2 with XEP-0386 Bind2
and XEP-0484 FAST against the private Prosody serving Debian's
prosody-modules (Prosody(sasl2=True), with the harness's compatibility
module for 0.12). The first login authenticates with SCRAM and gets a
token; the next sends the token right behind the TLS handshake (the wire,
seen with -v, has the FAST mechanism and no SCRAM); a refused token is
forgotten and the password used; TLS 1.2 binds tls-unique. ejabberd 23.01
offers no SASL2: there the same commands log in through RFC 6120 SASL and
no token is kept.
"""

import os
import re
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtlib import SERVER, USERS, ServerTest, jid, main, make_server  # noqa: E402


def store_path(test, user):
    return os.path.join(test.srv.dir, "xdg-data-" + user, "xtalk", "xtalk.db")


def token_row(test, user):
    with sqlite3.connect(store_path(test, user)) as db:
        rows = db.execute("SELECT ua_id, mechanism, token, expiry FROM fast_token").fetchall()
    return rows[0] if rows else None


def sent(stderr):
    """The client's XML, as -v logs it."""
    return [l for l in stderr.splitlines() if "SEND: " in l]


class Sasl2Server(ServerTest):
    """A server for the class; Prosody with SASL2, Bind2 and FAST."""

    tls13 = True
    extra_config = ""

    @classmethod
    def setUpClass(cls):
        if SERVER == "ejabberd":
            return super().setUpClass()
        srv = make_server(USERS, sasl2=True, tls13=cls.tls13, extra_config=cls.extra_config)
        try:
            cls.srv = srv.start()
        except BaseException:
            srv.cleanup()
            raise


@unittest.skipIf(SERVER == "ejabberd", "not on ejabberd: 23.01 offers no SASL2 (XEP-0388), "
                 "so no Bind2 and no FAST; the SASL1 path is checked by Sasl1Path")
class Fast(Sasl2Server):

    def login_twice(self, direct_tls):
        user = "alice" if direct_tls else "bob"
        to = jid("carol", self.srv)
        r = self.xtalk(user, "send", "-v", to, "first", direct_tls=direct_tls)
        self.assertOk(r, "first send")
        out = "\n".join(sent(r.stderr))
        # One <authenticate/>: SCRAM, the user agent, Bind2 and the token
        # request; no bind IQ.
        self.assertRegex(out, r"<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-1")
        self.assertIn("<user-agent id='", out)
        self.assertIn("<bind xmlns='urn:xmpp:bind:0'>", out)
        self.assertIn("<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-EXPR'/>", out)
        self.assertNotIn("urn:ietf:params:xml:ns:xmpp-bind", out)
        self.assertIn("<enable xmlns='urn:xmpp:sm:3'", out)
        row = token_row(self, user)
        self.assertIsNotNone(row, r.stderr)
        ua, mech, token, expiry = row
        self.assertEqual(mech, "HT-SHA-256-EXPR")
        self.assertTrue(token.startswith("secret-token:"), token)
        self.assertRegex(expiry, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn("<user-agent id='%s'>" % ua, out)
        self.assertNotIn(token, r.stderr)  # never logged
        self.assertEqual(os.stat(store_path(self, user)).st_mode & 0o077, 0)
        # The hint records that the server offered SASL2 (its pin: a later
        # offer without it is refused as a downgrade).
        with sqlite3.connect(store_path(self, user)) as db:
            hint = db.execute("SELECT sasl_hint FROM server_hint").fetchall()[0][0]
        self.assertRegex(hint, r"(^| )sasl2:( |$)")
        self.assertRegex(hint, r"(^| )pin:SCRAM-SHA-1")

        r = self.xtalk(user, "send", "-v", to, "second", direct_tls=direct_tls)
        self.assertOk(r, "second send")
        out = sent(r.stderr)
        self.assertIn("authenticated with HT-SHA-256-EXPR (FAST token)", r.stderr)
        self.assertFalse([l for l in out if "SCRAM" in l], "\n".join(out))
        # The token's <authenticate/> leaves with the post-TLS stream header
        # (one write, logged as the next line), before any server answer.
        lines = r.stderr.splitlines()
        i = next(k for k, l in enumerate(lines) if "mechanism='HT-SHA-256-EXPR'" in l)
        self.assertIn("SEND: <?xml version='1.0'?><stream:stream from='", lines[i - 1])
        self.assertNotIn(token, r.stderr)
        self.assertIn("online as %s/" % jid(user, self.srv), r.stderr)

    def test_token_then_fast_starttls(self):
        self.login_twice(direct_tls=False)

    def test_token_then_fast_direct_tls(self):
        self.login_twice(direct_tls=True)

    def test_refused_token_falls_back(self):
        to = jid("bob", self.srv)
        r = self.xtalk("carol", "send", to, "one")
        self.assertOk(r, "first send")
        with sqlite3.connect(store_path(self, "carol")) as db:
            db.execute("UPDATE fast_token SET token = 'secret-token:fast-revoked'")
        r = self.xtalk("carol", "send", "-v", to, "two")
        self.assertOk(r, "send with a refused token")
        self.assertIn("the server refused the FAST token", r.stderr)
        self.assertRegex(r.stderr, r"authenticated with SCRAM-SHA-1")
        row = token_row(self, "carol")
        self.assertIsNotNone(row[2])
        self.assertNotEqual(row[2], "secret-token:fast-revoked")
        # And the new token works.
        r = self.xtalk("carol", "send", "-v", to, "three")
        self.assertOk(r, "third send")
        self.assertIn("authenticated with HT-SHA-256-EXPR (FAST token)", r.stderr)


@unittest.skipIf(SERVER == "ejabberd", "not on ejabberd: 23.01 offers no SASL2 (XEP-0388)")
class FastTls12(Sasl2Server):
    """TLS 1.2 has no tls-exporter: the token is HT-SHA-256-UNIQ."""

    tls13 = False

    def test_uniq(self):
        to = jid("bob", self.srv)
        r = self.xtalk("alice", "send", to, "one", direct_tls=True)
        self.assertOk(r)
        self.assertEqual(token_row(self, "alice")[1], "HT-SHA-256-UNIQ")
        r = self.xtalk("alice", "send", "-v", to, "two", direct_tls=True)
        self.assertOk(r)
        self.assertIn("authenticated with HT-SHA-256-UNIQ (FAST token)", r.stderr)


@unittest.skipIf(SERVER == "ejabberd", "not on ejabberd: 23.01 offers no SASL2 (XEP-0388)")
class FastRotation(Sasl2Server):
    """A server that rotates the token at every FAST login (its minimum
    token age set to 0 seconds): each login stores the new token, and the
    next one logs in with it."""

    extra_config = "sasl2_fast_token_min_ttl = 0"

    def test_rotated_token_is_kept_and_used(self):
        to = jid("bob", self.srv)
        r = self.xtalk("alice", "send", to, "one")
        self.assertOk(r)
        tokens = [token_row(self, "alice")[2]]
        for i in range(2):
            r = self.xtalk("alice", "send", "-v", to, "again %d" % i)
            self.assertOk(r)
            self.assertIn("authenticated with HT-SHA-256-EXPR (FAST token)", r.stderr)
            self.assertIn("the server issued a FAST token", r.stderr)
            tokens.append(token_row(self, "alice")[2])
            self.assertNotIn(tokens[-1], r.stderr)
        self.assertEqual(len(set(tokens)), 3, "each FAST login stored a new token")


@unittest.skipIf(SERVER == "ejabberd", "not on ejabberd: 23.01 offers no SASL2 (XEP-0388), so no "
                 "Bind2 to carry carbons inline; there carbons are enabled by an IQ (test_sync)")
class InlineCarbons(Sasl2Server):
    """XEP-0386 inline features: Prosody's Bind2 lists urn:xmpp:carbons:2,
    so the <bind/> of the login (a password login, then a FAST one)
    enables carbons and no <enable/> IQ follows; a message sent from
    another device of the account reaches the listener as a sent carbon.
    Inline XEP-0198 is not asked for: Prosody 0.12 cannot serve
    mod_sasl2_sm, so its Bind2 does not list it."""

    def listen_once(self, resource):
        xt = self.spawn("bob", "listen", "--json", "-v", "--resource", resource)
        xt.wait_stderr("online as")
        xt.json_until(lambda o: o.get("event") == "archive")  # the catch-up ended
        out = "\n".join(sent("\n".join(xt.err_lines)))
        self.assertIn("<enable xmlns='urn:xmpp:carbons:2'/></bind>", out)
        self.assertNotRegex(out, r"<iq type='set'[^>]*><enable xmlns='urn:xmpp:carbons:2'")
        self.assertNotIn("<sm xmlns='urn:xmpp:sm:3'", out)
        self.assertTrue(any("inline in Bind2" in l for l in xt.err_lines), xt.err_lines)
        return xt

    def test_carbons_enabled_in_bind2(self):
        peer = jid("carol", self.srv)
        for i, resource in enumerate(("desk", "desk2")):
            # The first run logs in with the password (and gets a token),
            # the second with the token: both carry carbons in the <bind/>.
            xt = self.listen_once(resource)
            if i == 1:
                self.assertTrue(any("(FAST token)" in l for l in xt.err_lines), xt.err_lines)
            tag = "from the phone %d" % i
            # Another installation (its own store): this one's would know
            # its own message as seen and show no carbon of it.
            phone = {"XDG_DATA_HOME": os.path.join(self.srv.dir, "xdg-data-bob-phone")}
            self.assertOk(self.xtalk("bob", "send", "--resource", "phone", peer, tag, env=phone))
            m = xt.json_until(lambda o: o.get("body") == tag, timeout=30)
            self.assertEqual(m["source"], "carbon", m)
            self.assertEqual(m["direction"], "out", m)
            xt.terminate()


class Sasl1Path(ServerTest):
    """Without SASL2 (ejabberd 23.01; Prosody without the modules) the
    login is RFC 6120's: <auth/>, a bind IQ; no token is kept."""

    def test_sasl1(self):
        r = self.xtalk("alice", "send", "-v", jid("bob", self.srv), "hi")
        self.assertOk(r)
        out = "\n".join(sent(r.stderr))
        self.assertIn("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-", out)
        self.assertNotIn("urn:xmpp:sasl:2", out)
        self.assertIn("urn:ietf:params:xml:ns:xmpp-bind", out)
        row = token_row(self, "alice")
        self.assertTrue(row is None or row[2] is None, row)


if __name__ == "__main__":
    main()
