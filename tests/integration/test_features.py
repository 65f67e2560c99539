#!/usr/bin/env python3
"""The message features (issue 15): XEP-0184 receipts, XEP-0085 chat
states, XEP-0308 corrections, XEP-0444 reactions and XEP-0424
retractions between xtalk and slixmpp (tests/integration/slix_im.py)
through the same server (Prosody or ejabberd, XT_SERVER)."""

import json
import os
import shutil
import time
import unittest

from xtlib import SLOW, Proc, ServerTest, USERS, jid, main


class Slix(Proc):
    """slix_im.py: JSON commands in, JSON events out."""

    @classmethod
    def start(cls, test, user):
        """slixmpp as user for test (a ServerTest), online; .full is
        its full JID."""
        e = dict(os.environ, XTALK_PASSWORD=USERS[user], XT_PEER_TIMEOUT=str(120 * SLOW))
        s = cls(test.slix_popen("slix_im.py", jid(user, test.srv), env=e))
        s.full = s.json_until(lambda o: o["event"] == "online", 60)["jid"]
        return s

    def send(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()

    def raw(self, xml):
        self.send(op="raw", xml=xml)

    def barrier(self):
        """Everything sent before was processed by the server."""
        self.send(op="ping")
        self.json_until(lambda o: o["event"] == "pong", 60)


class Base(ServerTest):
    """Helpers: a slixmpp peer, a listener."""

    def slix(self, user):
        return Slix.start(self, user)

    def listen(self, user):
        p = self.spawn(user, "listen", "--json")
        p.wait_stderr("online as")
        return p


class Features(Base):

    # -- XEP-0184 -------------------------------------------------------------

    def test_send_receipt(self):
        """xtalk send --receipt waits for slixmpp's receipt of each message."""
        carol = self.slix("carol")
        r = self.xtalk("alice", "send", "--receipt=30", carol.full, "did you get it?", timeout=60)
        self.assertOk(r, "send --receipt")
        m = carol.json_until(lambda o: o["event"] == "message" and o["body"] == "did you get it?")
        self.assertTrue(m["request"], m)
        # To the bare JID the server routes it to carol's one resource.
        r = self.xtalk("alice", "send", "--receipt=30", jid("carol", self.srv), "and this?",
                       timeout=60)
        self.assertOk(r, "send --receipt to the bare JID")

    def test_send_receipt_timeout(self):
        """Nobody online to confirm: exit 7 once --receipt's time is up,
        after the server took the message."""
        r = self.xtalk("alice", "send", "--receipt=2", jid("bob", self.srv), "offline", timeout=60)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn("no delivery receipt", r.stderr)

    def test_listen_answers_receipts(self):
        """xtalk answers a receipt request once the sender may see its
        presence (XEP-0184 §8), and listen shows receipts as events."""
        bob = self.listen("bob")
        carol = self.slix("carol")
        bj = jid("bob", self.srv)
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='early'>"
                  "<body>before</body><request xmlns='urn:xmpp:receipts'/></message>" % bj)
        bob.json_until(lambda o: o.get("event") == "message" and o.get("body") == "before")
        # carol asks to see bob's presence; bob approves.
        # XEP-0172 §4.1: with the nickname carol gives herself.
        carol.raw("<presence xmlns='jabber:client' to='%s' type='subscribe'>"
                  "<nick xmlns='http://jabber.org/protocol/nick'>Caro</nick></presence>" % bj)
        sub = bob.json_until(lambda o: o.get("event") == "subscription" and o.get("type") == "subscribe")
        self.assertEqual(sub.get("nick"), "Caro")
        self.assertOk(self.xtalk("bob", "approve", jid("carol", self.srv)), "approve")
        bob.json_until(lambda o: o.get("event") == "roster" and o.get("subscription") in ("from", "both"))
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='late'>"
                  "<body>after</body><request xmlns='urn:xmpp:receipts'/></message>" % bj)
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("body") == "after")
        self.assertTrue(m.get("receipt_request"), m)
        # bob's stream is ordered: a receipt for 'early' would come first.
        got = carol.json_until(lambda o: o["event"] == "message" and o.get("received"))
        self.assertEqual(got["received"], "late")
        # carol's receipt for bob's message: a receipt event on bob's side.
        carol.raw("<message xmlns='jabber:client' to='%s' id='rcpt1'>"
                  "<received xmlns='urn:xmpp:receipts' id='bob-msg-1'/></message>" % bj)
        r = bob.json_until(lambda o: o.get("event") == "receipt")
        self.assertEqual(r["id"], "bob-msg-1")
        self.assertTrue(r["from"].startswith(jid("carol", self.srv)))

    # -- XEP-0085, 0308, 0444, 0424 ------------------------------------------------

    def test_chatstate_correction_reaction(self):
        bob = self.listen("bob")
        carol = self.slix("carol")
        bj = jid("bob", self.srv)
        cs = "http://jabber.org/protocol/chatstates"
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='cs1'>"
                  "<composing xmlns='%s'/></message>" % (bj, cs))
        e = bob.json_until(lambda o: o.get("event") in ("chatstate", "message"))
        self.assertEqual((e["event"], e.get("state")), ("chatstate", "composing"))
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='m1'><body>helo</body>"
                  "<origin-id xmlns='urn:xmpp:sid:0' id='m1'/><active xmlns='%s'/></message>" % (bj, cs))
        bob.json_until(lambda o: o.get("event") == "message" and o.get("body") == "helo")
        bob.json_until(lambda o: o.get("event") == "chatstate" and o.get("state") == "active")
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='m2'><body>hello</body>"
                  "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>" % bj)
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("body") == "hello")
        self.assertEqual(m["replaces"], "m1")
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='m3'><body>/me waves</body></message>" % bj)
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("id") == "m3")
        self.assertTrue(m.get("me"))
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='r1'>"
                  "<reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍</reaction>"
                  "<reaction>🐢</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>" % bj)
        r = bob.json_until(lambda o: o.get("event") in ("reaction", "message"))
        self.assertEqual(r["event"], "reaction")
        self.assertEqual((r["id"], r["reactions"]), ("m1", ["👍", "🐢"]))

    def test_retraction_and_forgery(self):
        """A retraction counts only from the original sender: alice's
        retraction of carol's message is dropped, carol's is shown."""
        bob = self.listen("bob")
        carol = self.slix("carol")
        alice = self.slix("alice")
        bj = jid("bob", self.srv)
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='orig'><body>oops</body>"
                  "<origin-id xmlns='urn:xmpp:sid:0' id='orig-1'/></message>" % bj)
        bob.json_until(lambda o: o.get("event") == "message" and o.get("body") == "oops")
        retract = ("<message xmlns='jabber:client' to='%s' type='chat' id='%s'>"
                   "<retract xmlns='urn:xmpp:message-retract:1' id='orig-1'/>"
                   "<body>/me retracted a previous message</body>"
                   "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>"
                   "<store xmlns='urn:xmpp:hints'/></message>")
        alice.raw(retract % (bj, "forged"))
        bob.wait_stderr("ignored a retraction of message orig-1")
        carol.raw(retract % (bj, "real"))
        r = bob.json_until(lambda o: o.get("event") in ("retraction", "message"))
        self.assertEqual(r["event"], "retraction")
        self.assertEqual(r["id"], "orig-1")
        self.assertTrue(r["from"].startswith(jid("carol", self.srv)), r)


    # -- XEP-0191 -------------------------------------------------------------

    def test_block_stops_messages(self):
        C = jid("carol", self.srv)
        bj = jid("bob", self.srv)
        self.assertOk(self.xtalk("bob", "block", C), "block")
        r = self.xtalk("bob", "blocklist", "--json")
        self.assertOk(r, "blocklist")
        self.assertEqual(json.loads(r.stdout), {"blocked": [C]})
        bob = self.listen("bob")
        carol = self.slix("carol")
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='b1'><body>let me in</body>"
                  "</message>" % bj)
        # XEP-0191 §3.5: the server answers a blocked sender's message with
        # an error, and delivers nothing.
        e = carol.json_until(lambda o: o["event"] == "message" and o["id"] == "b1", 60)
        self.assertEqual(e["type"], "error")
        self.assertOk(self.xtalk("bob", "unblock", C), "unblock")
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='b2'><body>thanks</body>"
                  "</message>" % bj)
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertEqual(m["body"], "thanks")  # the first never arrived
        r = self.xtalk("bob", "blocklist")
        self.assertOk(r, "blocklist")
        self.assertEqual(r.stdout, "")

    # -- XEP-0054, XEP-0172: xtalk info ---------------------------------------

    def test_info_names(self):
        carol = self.slix("carol")
        carol.raw("<iq xmlns='jabber:client' type='set' id='v1'><vCard xmlns='vcard-temp'>"
                  "<FN>Carol Caroline</FN><ORG><ORGNAME>Acme</ORGNAME></ORG></vCard></iq>")
        # Open access: alice does not see carol's presence here.
        carol.raw("<iq xmlns='jabber:client' type='set' id='n1'>"
                  "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                  "<publish node='http://jabber.org/protocol/nick'><item>"
                  "<nick xmlns='http://jabber.org/protocol/nick'>Caro</nick></item></publish>"
                  "<publish-options><x xmlns='jabber:x:data' type='submit'>"
                  "<field var='FORM_TYPE' type='hidden'>"
                  "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
                  "<field var='pubsub#access_model'><value>open</value></field></x>"
                  "</publish-options></pubsub></iq>")
        carol.barrier()
        r = self.xtalk("alice", "info", "--json", "--wait", "300", jid("carol", self.srv))
        self.assertOk(r, "info")
        o = json.loads(r.stdout)
        self.assertEqual(o["jid"], jid("carol", self.srv))
        self.assertEqual(o["name"], "Carol Caroline")
        self.assertEqual(o["organization"], "Acme")
        self.assertEqual(o["nickname"], "Caro")
        r = self.xtalk("alice", "info", jid("carol", self.srv))
        self.assertOk(r, "info")
        self.assertIn("name: Carol Caroline", r.stdout)
        # Once alice sees carol's presence (slixmpp approves by itself),
        # info shows carol's resource and its client (disco#info).
        self.assertOk(self.xtalk("alice", "add", jid("carol", self.srv)), "add")
        for _ in range(100):
            r = self.xtalk("alice", "info", "--json", "--wait", "500", jid("carol", self.srv))
            self.assertOk(r, "info")
            o = json.loads(r.stdout)
            if o["resources"]:
                break
        res = o["resources"]
        self.assertEqual([x["jid"] for x in res], [carol.full])
        self.assertIn("urn:xmpp:receipts", res[0]["features"])
        self.assertTrue(res[0]["identity"].startswith("client/"), res[0])


@unittest.skipUnless(shutil.which("tmux"), "tmux not installed")
class ChatFeatures(Base):
    """The same in `xtalk chat` (driven in tmux, test_chat.Screen):
    ✓ on delivery, "typing…", chat states sent, Up-arrow correction,
    /react, /me, an incoming correction and retraction in place."""

    def screen(self, user, extra=()):
        from test_chat import Screen
        s = Screen(self, user, extra=extra)
        self.addCleanup(s.close)
        return s

    def test_chat_features(self):
        carol = self.slix("carol")
        C = jid("carol", self.srv)
        s = self.screen("alice")
        s.wait_for("[online]")
        s.type("/msg " + C)
        s.keys("Enter")
        s.wait_for("[1] " + C)
        s.type("hello")
        s.keys("Enter")
        m = carol.json_until(lambda o: o["event"] == "message" and o.get("body") == "hello")
        self.assertTrue(m["request"], m)
        self.assertEqual(m.get("chatstate"), "active")
        first = m["origin_id"]
        # slixmpp's receipt: the check mark.
        s.wait_for("me: hello \u2713")
        cs = "http://jabber.org/protocol/chatstates"
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat'><composing xmlns='%s'/>"
                  "</message>" % (jid("alice", self.srv), cs))
        s.wait_for("typing\u2026")
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='c1'><body>hi there</body>"
                  "<origin-id xmlns='urn:xmpp:sid:0' id='c1'/><active xmlns='%s'/></message>"
                  % (jid("alice", self.srv), cs))
        s.wait(lambda t: "hi there" in t and "typing\u2026" not in t, "the message, typing gone")
        # carol has shown chat states: typing sends composing now.
        s.type("x")
        m = carol.json_until(lambda o: o["event"] == "message" and o.get("chatstate") == "composing")
        self.assertIsNone(m["body"])
        s.keys("C-u")
        carol.json_until(lambda o: o["event"] == "message" and o.get("chatstate") == "active")
        # An incoming correction replaces the line in place.
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='c2'><body>hi there!</body>"
                  "<replace xmlns='urn:xmpp:message-correct:0' id='c1'/></message>"
                  % jid("alice", self.srv))
        scr = s.wait_for("hi there! (edited)")
        self.assertEqual(scr.count("hi there"), 1, scr)
        # Up on the empty input edits our last message.
        s.keys("Up")
        s.wait(lambda t: t.rstrip().endswith("hello") or "> hello" in t, "hello in the input")
        s.type(" world")
        s.keys("Enter")
        m = carol.json_until(lambda o: o["event"] == "message" and o.get("body") == "hello world")
        self.assertEqual(m["replace"], first)
        s.wait_for("me: hello world (edited)")
        s.type("/react \U0001F44D")
        s.keys("Enter")
        m = carol.json_until(lambda o: o["event"] == "message" and o.get("reactions"))
        self.assertEqual(m["reactions"], {"id": "c1", "list": ["\U0001F44D"]})
        s.type("/me waves")
        s.keys("Enter")
        carol.json_until(lambda o: o["event"] == "message" and o.get("body") == "/me waves")
        s.wait_for("* me waves")
        # carol retracts her message: the line says so.
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='c3'>"
                  "<retract xmlns='urn:xmpp:message-retract:1' id='c1'/>"
                  "<body>/me retracted a previous message</body></message>" % jid("alice", self.srv))
        scr = s.wait_for("(retracted)")
        self.assertNotIn("hi there!", scr)
        self.assertNotIn("retracted a previous message", scr)
        # /info in the conversation: carol has no vCard or nickname here.
        s.type("/info")
        s.keys("Enter")
        s.wait_for("%s: name -, nickname -" % C)
        # Quitting tells carol: gone.
        s.keys("C-c")
        carol.json_until(lambda o: o["event"] == "message" and o.get("chatstate") == "gone")

    def test_focus_sends_csi(self):
        """XEP-0352: a terminal's focus-out report (mode 1004) makes chat
        tell the server inactive, focus-in active (the bytes: csi.txt).
        Here: both servers offer CSI and take the nonzas without harm to
        the stream (they are not counted as XEP-0198 stanzas: a miscount
        would end the session at the next ack)."""
        carol = self.slix("carol")
        C = jid("carol", self.srv)
        s = self.screen("alice")
        s.wait_for("[online]")
        s.type("/msg " + C)
        s.keys("Enter")
        s.wait_for("[1] " + C)
        s.type("\x1b[O")
        s.type("while away")
        s.keys("Enter")
        carol.json_until(lambda o: o["event"] == "message" and o.get("body") == "while away")
        s.type("\x1b[I")
        s.type("back")
        s.keys("Enter")
        carol.json_until(lambda o: o["event"] == "message" and o.get("body") == "back")
        # Acknowledged (no "(queued)"), still the same session.
        s.wait(lambda t: "me: back" in t and "(queued)" not in t and "[online]" in t, "acked")
        self.assertNotIn("reconnect", s.text())

if __name__ == "__main__":
    main()
