#!/usr/bin/env python3
"""Roster and subscriptions (RFC 6121) between real accounts."""

import json
import time

from xtlib import SERVER, SLOW, ServerTest, jid, main, skip_on


class Roster(ServerTest):

    def roster(self, user):
        r = self.xtalk(user, "roster", "--json")
        self.assertOk(r, "roster")
        items = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        return {i["jid"]: i for i in items}

    def roster_until(self, user, pred, timeout=30):
        """For what the server need not have answered when `xtalk roster`
        prints (a subscription just approved: the presence it triggers
        travels on its own). Ask again until pred(roster) holds; the
        timeout is a safety net."""
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

    def _carol_sees_bob(self, *wait):
        """bob and carol subscribed both ways, bob online (dnd); one
        `roster` run of carol's (no retry as in roster_until) must show
        him."""
        B, C = jid("bob", self.srv), jid("carol", self.srv)
        if not getattr(self, "_bob_carol", False):
            self.assertOk(self.xtalk("carol", "add", B), "carol adds bob")
            self.assertOk(self.xtalk("bob", "approve", C), "bob approves")
            self.assertOk(self.xtalk("bob", "add", C), "bob adds carol")
            self.assertOk(self.xtalk("carol", "approve", B), "carol approves")
            type(self)._bob_carol = True
        bob = self.spawn("bob", "listen", "--json", "--status", "dnd", "--status-message", "roster test")
        bob.wait_stderr("online")
        r = self.xtalk("carol", "roster", "--json", *wait)
        self.assertOk(r, "roster %s" % (wait,))
        items = {i["jid"]: i for i in (json.loads(l) for l in r.stdout.splitlines() if l.strip())}
        self.assertEqual(items[B]["subscription"], "both", items)
        self.assertTrue(any(x.get("show") == "dnd" and x.get("status") == "roster test"
                            for x in items[B].get("resources", [])),
                        "roster %s: bob's presence missing: %r" % (wait, items[B]))
        bob.terminate()

    def test_local_contact_presence_default_wait(self):
        # `roster` prints once the server answered a ping sent after our
        # initial presence, plus --wait (default 150 ms) for contacts on
        # other servers (issue 14; it used to wait for 1.5 s without
        # presence). A contact on the same server is shown. ejabberd
        # relays the contact's answer to our probe from the contact's own
        # session process, just after the ping's answer (a few ms here,
        # inside the default wait); on a machine as loaded as the test
        # runs see, that process may not run within 150 ms, so there the
        # wait is 2 s: what is tested is that the presence is waited for
        # at all, not the machine's scheduling.
        if SERVER == "ejabberd":
            self._carol_sees_bob("--wait", "2000")
        else:
            self._carol_sees_bob()

    @skip_on("ejabberd", "its answer to our presence probe comes from the contact's own session "
             "process, so it can arrive just after the answer to the ping sent behind our "
             "presence (seen in 3 of 4 runs): there the contact needs the short --wait, which "
             "test_local_contact_presence_default_wait covers")
    def test_local_contact_presence_no_wait(self):
        # Prosody handles a client's stanzas in order and answers a probe
        # of a local contact at once (RFC 6120 §10.1): the contact's
        # presence is in before the ping's answer, so --wait 0 suffices.
        self._carol_sees_bob("--wait", "0")

if __name__ == "__main__":
    main()
