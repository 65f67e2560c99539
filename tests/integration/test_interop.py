#!/usr/bin/env python3
"""Interoperability with a peer implementation: slixmpp (python3-slixmpp)
sends to xtalk and receives from it through the same server (Prosody or
ejabberd, XT_SERVER)."""

import json
import os
import subprocess
import sys

from xtlib import SLOW, Proc, ServerTest, USERS, jid, main


class Interop(ServerTest):

    def slix(self, user, *args):
        e = dict(os.environ, XTALK_PASSWORD=USERS[user], XT_PEER_TIMEOUT=str(60 * SLOW))
        return Proc(self.slix_popen("slix_peer.py", jid(user, self.srv), *args, env=e,
                                    stdin=subprocess.DEVNULL))

    def test_slixmpp_to_xtalk(self):
        bob = self.spawn("bob", "listen", "--json")
        bob.wait_stderr("online")
        text = "from slixmpp: <ok> & ünïcødé"
        s = self.slix("carol", "send", jid("bob", self.srv), text)
        self.assertEqual(s.wait(60), 0, s.err_lines)
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertEqual(m["body"], text)
        self.assertTrue(m["from"].startswith(jid("carol", self.srv)))

    def test_xtalk_to_slixmpp(self):
        s = self.slix("carol", "recv", "1")
        self.assertEqual(s.line(60), "online")
        text = "from xtalk: 'quotes' \"dq\" 😀"
        self.assertOk(self.xtalk("alice", "send", jid("carol", self.srv), text))
        got = json.loads(s.line(30))
        self.assertEqual(got["body"], text)
        self.assertTrue(got["from"].startswith(jid("alice", self.srv)))

    def test_disco_answers(self):
        """XEP-0030/0115: slixmpp asks a running xtalk what it is; the
        answer is an identity and our features, no items, and the caps ver
        slixmpp computes from it is the one xtalk announces (xtalk answers
        at NODE#VER for its own ver only)."""
        bob = self.spawn("bob", "listen", "--json", "--resource", "disco")
        bob.wait_stderr("online")
        s = self.slix("carol", "disco", jid("bob", self.srv) + "/disco")
        got = json.loads(s.line(60))
        self.assertEqual(s.wait(60), 0, s.err_lines)
        self.assertEqual(got["identities"], [["client", "pc", "xtalk"]])
        for f in ("http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/caps",
                  "urn:xmpp:ping"):
            self.assertIn(f, got["features"])
        self.assertEqual(got["items"], [])
        self.assertTrue(got["node_ok"], "slixmpp's ver %s is not the one xtalk announces" % got["ver"])


if __name__ == "__main__":
    main()
