#!/usr/bin/env python3
"""Names people publish (issue 15): XEP-0163 PEP notifications and
XEP-0172 nicknames between slixmpp (slix_im.py) and xtalk through the
same server (Prosody or ejabberd, XT_SERVER): slixmpp publishes its
nickname and `xtalk listen --json` prints it as a "pep" event; `xtalk
profile` publishes our vCard and nickname and slixmpp reads them; `xtalk
info` shows what a contact published."""

import json

from test_features import Base
from xtlib import SLOW, jid, main

NICK_NODE = "http://jabber.org/protocol/nick"


def publish_nick_xml(nick):
    """A XEP-0172 §4.5 publish to our own PEP node (default access model:
    presence, XEP-0163 §5)."""
    return ("<iq xmlns='jabber:client' type='set' id='nick-%s'>"
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
            "<publish node='%s'><item id='current'>"
            "<nick xmlns='%s'>%s</nick></item></publish></pubsub></iq>"
            % (abs(hash(nick)), NICK_NODE, NICK_NODE, nick))


class Profile(Base):

    def befriend(self, user, slix_user):
        """user (xtalk) and slix_user subscribed both ways: slixmpp
        approves by itself and asks back; user approves. Both are needed
        for PEP notifications: the publisher's service learns our caps
        from our presence, which only goes to those subscribed to it."""
        sj = jid(slix_user, self.srv)
        self.assertOk(self.xtalk(user, "add", sj), "add")
        for _ in range(100):
            r = self.xtalk(user, "roster", "--json")
            self.assertOk(r, "roster")
            items = [json.loads(l) for l in r.stdout.splitlines()]
            it = [i for i in items if i.get("jid") == sj]
            if it and it[0].get("subscription") == "both":
                return
            if it and it[0].get("subscription") == "to":
                self.xtalk(user, "approve", sj)
        self.fail("%s and %s never subscribed both ways" % (user, slix_user))

    def test_listen_prints_contact_nick(self):
        """slixmpp publishes its nickname; the listener (whose caps say
        nick+notify) prints {"event":"pep","node":nick,"nick":...} with the
        publisher's bare JID; a new nickname comes as a new event."""
        alice = self.slix("alice")
        self.befriend("bob", "alice")
        bob = self.listen("bob")
        aj = jid("alice", self.srv)
        alice.raw(publish_nick_xml("Ali"))
        alice.barrier()
        ev = bob.json_until(lambda o: o.get("event") == "pep" and o.get("nick") == "Ali",
                            timeout=60)
        self.assertEqual(ev["from"], aj)
        self.assertEqual(ev["node"], NICK_NODE)
        self.assertEqual(ev["kind"], "item")
        alice.raw(publish_nick_xml("Alice the Second"))
        ev = bob.json_until(lambda o: o.get("event") == "pep" and
                            o.get("nick") == "Alice the Second", timeout=60)
        self.assertEqual(ev["from"], aj)
        # A notification forged by a client (from its full JID) is dropped.
        alice.raw("<message xmlns='jabber:client' to='%s' type='headline'>"
                  "<event xmlns='http://jabber.org/protocol/pubsub#event'>"
                  "<items node='%s'><item id='current'><nick xmlns='%s'>Forged</nick>"
                  "</item></items></event></message>" % (jid("bob", self.srv), NICK_NODE,
                                                         NICK_NODE))
        alice.raw(publish_nick_xml("After"))
        got = []
        bob.json_until(lambda o: got.append(o) or (o.get("event") == "pep" and
                                                   o.get("nick") == "After"), timeout=60)
        self.assertFalse([o for o in got if o.get("nick") == "Forged"], got)


    def test_profile_set_then_peer_reads(self):
        """xtalk profile --name/--nick/--email/--url/--note publishes the
        vCard (XEP-0054) and the nickname (XEP-0172, access model
        presence); slixmpp, a contact, reads both; profile --json shows
        them; a later change of one field keeps the others."""
        alice = self.slix("alice")
        self.befriend("bob", "alice")
        bj = jid("bob", self.srv)
        note = "hello & <you> \u2764"
        r = self.xtalk("bob", "profile", "--name", "Bob Builder", "--nick", "Bobby", "--email",
                       "bob@example.org", "--url", "https://bob.example/", "--note", note)
        self.assertOk(r, "profile set")
        self.assertIn("profile published", r.stdout)
        r = self.xtalk("bob", "profile", "--json")
        self.assertOk(r, "profile --json")
        o = json.loads(r.stdout)
        self.assertEqual((o["jid"], o["name"], o["nickname"], o["vcard_nickname"], o["email"],
                          o["url"], o["note"]),
                         (bj, "Bob Builder", "Bobby", "Bobby", "bob@example.org",
                          "https://bob.example/", note))
        alice.send(op="get_vcard", jid=bj)
        v = alice.json_until(lambda o: o["event"] == "vcard", 60)
        self.assertEqual(v.get("fields"), {"FN": "Bob Builder", "NICKNAME": "Bobby",
                                           "EMAIL": "bob@example.org",
                                           "URL": "https://bob.example/", "NOTE": note}, v)
        alice.send(op="get_nick", jid=bj)
        n = alice.json_until(lambda o: o["event"] == "nick", 60)
        self.assertEqual(n.get("nick"), "Bobby", n)
        # One field changed, one removed: the rest stays.
        r = self.xtalk("bob", "profile", "--name", "Robert", "--url", "")
        self.assertOk(r, "profile change")
        alice.send(op="get_vcard", jid=bj)
        v = alice.json_until(lambda o: o["event"] == "vcard", 60)
        self.assertEqual(v.get("fields"), {"FN": "Robert", "NICKNAME": "Bobby",
                                           "EMAIL": "bob@example.org", "NOTE": note}, v)
        r = self.xtalk("bob", "profile")
        self.assertOk(r, "profile")
        self.assertIn("  name: Robert\n", r.stdout)
        self.assertIn("  nickname: Bobby\n", r.stdout)
        self.assertNotIn("url:", r.stdout)

    def test_info_shows_what_a_contact_published(self):
        """slixmpp publishes a vCard with a note and a nickname (presence
        access); xtalk info, from a contact, shows both."""
        carol = self.slix("carol")
        self.befriend("bob", "carol")
        carol.raw("<iq xmlns='jabber:client' type='set' id='v1'><vCard xmlns='vcard-temp'>"
                  "<FN>Carol C.</FN><URL>https://carol.example/</URL><NOTE>at lunch</NOTE>"
                  "<EMAIL><INTERNET/><USERID>carol@example.org</USERID></EMAIL></vCard></iq>")
        carol.raw(publish_nick_xml("Caro"))
        carol.barrier()
        r = self.xtalk("bob", "info", "--json", jid("carol", self.srv))
        self.assertOk(r, "info")
        o = json.loads(r.stdout)
        self.assertEqual((o.get("name"), o.get("nickname"), o.get("email"), o.get("url"),
                          o.get("note")),
                         ("Carol C.", "Caro", "carol@example.org", "https://carol.example/",
                          "at lunch"), o)


if __name__ == "__main__":
    main()
