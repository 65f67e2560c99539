#!/usr/bin/env python3
"""Roster and subscriptions (RFC 6121) between real accounts."""

import json
import time

from xtlib import SLOW, ServerTest, jid, main


class Roster(ServerTest):

    def roster(self, user):
        r = self.xtalk(user, "roster", "--json")
        self.assertOk(r, "roster")
        items = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        return {i["jid"]: i for i in items}

    def roster_until(self, user, pred, timeout=30):
        """`xtalk roster` prints once no presence came for --wait ms: a
        process that gets no CPU for that long (a loaded machine, valgrind)
        can print before a presence it has not read yet. Ask again until
        pred(roster) holds; the timeout is a safety net."""
        end = time.monotonic() + timeout * SLOW
        while True:
            r = self.roster(user)
            if pred(r) or time.monotonic() > end:
                return r

    def test_add_subscribe_approve_presence_both_ways(self):
        A, B = jid("alice", self.srv), jid("bob", self.srv)
        bob = self.spawn("bob", "listen", "--json", "--status", "away", "--status-message", "at lunch")
        bob.wait_stderr("online")
        self.assertOk(self.xtalk("alice", "add", B, "Bobby", "--group", "Friends"), "add")
        sub = bob.json_until(lambda o: o.get("event") == "subscription")
        self.assertEqual(sub["type"], "subscribe")
        self.assertTrue(sub["from"].startswith(A), sub)
        self.assertOk(self.xtalk("bob", "approve", A), "approve")
        # And the other way round, so that both see each other.
        self.assertOk(self.xtalk("bob", "add", A), "add back")
        alice = self.spawn("alice", "listen", "--json")
        alice.wait_stderr("online")
        sub = alice.json_until(lambda o: o.get("event") == "subscription")
        self.assertEqual(sub["type"], "subscribe")
        self.assertOk(self.xtalk("alice", "approve", B), "approve back")

        def sees_bob_away(r):
            return any(x.get("show") == "away" and x.get("status") == "at lunch"
                       for x in r.get(B, {}).get("resources", []))
        ra = self.roster_until("alice", sees_bob_away)
        self.assertIn(B, ra)
        self.assertEqual(ra[B]["name"], "Bobby")
        self.assertEqual(ra[B]["groups"], ["Friends"])
        self.assertEqual(ra[B]["subscription"], "both")
        online = ra[B].get("resources", [])
        self.assertTrue(any(x.get("show") == "away" and x.get("status") == "at lunch" for x in online), ra[B])

        rb = self.roster_until("bob", lambda r: r.get(A, {}).get("resources"))
        self.assertEqual(rb[A]["subscription"], "both")
        self.assertTrue(rb[A].get("resources"), "bob sees alice's listen session online: %r" % rb[A])
        # Alice's listener sees bob's presence change when bob leaves.
        bob.terminate()
        p = alice.json_until(lambda o: o.get("event") == "presence" and o["from"].startswith(B)
                             and o.get("type") == "unavailable")
        self.assertTrue(p)

    def test_remove(self):
        C = jid("carol", self.srv)
        self.assertOk(self.xtalk("alice", "add", C, "Carol"))
        self.assertIn(C, self.roster("alice"))
        self.assertOk(self.xtalk("alice", "remove", C))
        self.assertNotIn(C, self.roster("alice"))

    def test_deny(self):
        A = jid("alice", self.srv)
        carol = self.spawn("carol", "listen", "--json")
        carol.wait_stderr("online")
        self.assertOk(self.xtalk("carol", "add", A))
        self.assertOk(self.xtalk("alice", "deny", jid("carol", self.srv)))
        s = carol.json_until(lambda o: o.get("event") == "subscription")
        self.assertEqual(s["type"], "unsubscribed")
        self.assertTrue(s["from"].startswith(A))


if __name__ == "__main__":
    main()
