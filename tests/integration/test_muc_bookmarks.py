#!/usr/bin/env python3
"""Group chat bookmarks (issue 16): `xtalk bookmark add|remove` and
`xtalk rooms` against the real server, and interop with a slixmpp client
that knows only XEP-0048 private storage (what an older client of the
same account writes and reads).

Which store xtalk uses is the server's to say (XEP-0402 §3:
urn:xmpp:bookmarks:1#compat on the account): Prosody 0.12's
mod_bookmarks advertises it and mirrors PEP into private storage both
ways; the test reads the store xtalk reports and checks the other client
sees the same bookmarks either way.

Run as `test_muc_bookmarks.py peer JID PORT CA get|put ROOM NAME NICK PW`
it is that slixmpp client (password from XTALK_PASSWORD).
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

NS_PRIVATE = "jabber:iq:private"
NS_LEGACY = "storage:bookmarks"


def peer(argv):
    """XEP-0049 private storage from slixmpp: `get` prints the XEP-0048
    conferences as one JSON line; `put` writes one conference (with a
    password) in place of the whole storage, as a XEP-0048 client does."""
    import asyncio
    import xml.etree.ElementTree as ET
    import slixmpp

    jid_, port, ca, op = argv[:4]
    rest = argv[4:]

    class Peer(slixmpp.ClientXMPP):
        def __init__(self):
            super().__init__(jid_, os.environ["XTALK_PASSWORD"])
            self.add_event_handler("session_start", self.start)
            self.add_event_handler("failed_auth", lambda *_: self.fail("auth failed"))

        def fail(self, why):
            print(why, file=sys.stderr, flush=True)
            os._exit(1)

        async def start(self, _):
            try:
                iq = self.make_iq_get() if op == "get" else self.make_iq_set()
                q = ET.Element("{%s}query" % NS_PRIVATE)
                st = ET.SubElement(q, "{%s}storage" % NS_LEGACY)
                if op == "put":
                    room, name, nick, pw = rest
                    c = ET.SubElement(st, "{%s}conference" % NS_LEGACY,
                                      {"jid": room, "name": name, "autojoin": "true"})
                    ET.SubElement(c, "{%s}nick" % NS_LEGACY).text = nick
                    ET.SubElement(c, "{%s}password" % NS_LEGACY).text = pw
                iq.append(q)
                r = await iq.send(timeout=30)
                out = []
                for c in r.xml.iter("{%s}conference" % NS_LEGACY):
                    out.append({"room": c.get("jid"), "name": c.get("name"),
                                "autojoin": c.get("autojoin") in ("true", "1"),
                                "nick": c.findtext("{%s}nick" % NS_LEGACY),
                                "password": c.findtext("{%s}password" % NS_LEGACY)})
                print(json.dumps(out), flush=True)
            except Exception as e:  # noqa: BLE001 -- reported, then exit 1
                self.fail("%s: %r" % (op, e))
            os._exit(0)

    p = Peer()
    p.ca_certs = ca
    p.connect(("127.0.0.1", int(port)))
    asyncio.get_event_loop().run_until_complete(asyncio.sleep(60))
    print("peer timed out", file=sys.stderr)
    return 1


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "peer":
    sys.exit(peer(sys.argv[2:]))

import unittest  # noqa: E402

from xtlib import SLOW, USERS, ServerTest, jid, main  # noqa: E402


class Bookmarks(ServerTest):
    def room(self, name):
        return "%s@conference.%s" % (name, self.srv.domain)

    def rooms(self, user):
        r = self.xtalk(user, "rooms", "--json")
        self.assertOk(r, "rooms")
        return [json.loads(l) for l in r.stdout.splitlines()]

    def peer(self, user, *args):
        e = dict(os.environ, XTALK_PASSWORD=USERS[user])
        r = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "peer", jid(user, self.srv),
                            str(self.srv.port), self.srv.ca_file] + list(args),
                           env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=90 * SLOW)
        self.assertEqual(r.returncode, 0, "slixmpp peer %s: %s" % (args[0], r.stderr))
        return json.loads(r.stdout.strip().splitlines()[-1])

    def test_add_list_remove(self):
        room = self.room("lobby")
        self.assertEqual(self.rooms("alice"), [])
        r = self.xtalk("alice", "bookmark", "add", room.upper().replace("CONFERENCE", "conference"),
                       "--name", "The Lobby", "--nick", "ally", "--autojoin")
        self.assertOk(r, "bookmark add")
        got = self.rooms("alice")
        self.assertEqual(len(got), 1, got)
        b = got[0]
        # The room is prepared (one room, one bookmark, however typed).
        self.assertEqual((b["room"], b["name"], b["nick"], b["autojoin"], b["password"]),
                         (room, "The Lobby", "ally", True, False))
        self.assertIn(b["store"], ("pep", "private"))
        sys.stderr.write("%s keeps bookmarks in: %s\n" % (self.srv.name, b["store"]))
        if self.srv.name == "prosody":
            self.assertEqual(b["store"], "pep", "Prosody 0.12 advertises bookmarks:1#compat")
        # Text form: tab-separated.
        r = self.xtalk("alice", "rooms")
        self.assertOk(r, "rooms")
        self.assertEqual(r.stdout, "%s\tThe Lobby\tally\tautojoin\n" % room)
        # Replacing: one bookmark still, the new fields.
        self.assertOk(self.xtalk("alice", "bookmark", "add", room, "--nick", "al2"), "re-add")
        got = self.rooms("alice")
        self.assertEqual([(g["room"], g.get("name"), g["nick"], g["autojoin"]) for g in got],
                         [(room, None, "al2", False)])
        r = self.xtalk("alice", "bookmark", "remove", room)
        self.assertOk(r, "bookmark remove")
        self.assertEqual(self.rooms("alice"), [])
        r = self.xtalk("alice", "bookmark", "remove", room)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("there is none", r.stderr)

    def test_other_client_and_password(self):
        """A XEP-0048 client's bookmark (with a room password) is listed,
        the password never shown; xtalk's change keeps it, and the other
        client reads xtalk's bookmarks back."""
        secret = "pw-Never-Shown-7"
        room = self.room("attic")
        self.peer("bob", "put", room, "Attic", "bobby", secret)
        r = self.xtalk("bob", "rooms", "--json")
        self.assertOk(r, "rooms")
        self.assertNotIn(secret, r.stdout + r.stderr)
        got = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual([(g["room"], g["name"], g["nick"], g["autojoin"], g["password"])
                          for g in got], [(room, "Attic", "bobby", True, True)])
        r = self.xtalk("bob", "rooms")
        self.assertOk(r, "rooms")
        self.assertEqual(r.stdout, "%s\tAttic\tbobby\tautojoin\tpassword\n" % room)
        self.assertNotIn(secret, r.stderr)
        # -v shows the traffic, the bookmark's password hidden both ways
        # (read, and written back with the change).
        r = self.xtalk("bob", "bookmark", "add", room, "--name", "Attic 2", "--autojoin", "-v")
        self.assertOk(r, "bookmark add over it")
        self.assertNotIn(secret, r.stdout + r.stderr)
        self.assertGreaterEqual(r.stderr.count("<password>[redacted]</password>"), 2, r.stderr)
        self.assertOk(self.xtalk("bob", "bookmark", "add", self.room("cellar"), "--nick", "b"),
                      "second bookmark")
        seen = {c["room"]: c for c in self.peer("bob", "get")}
        self.assertEqual(set(seen), {room, self.room("cellar")}, seen)
        self.assertEqual((seen[room]["name"], seen[room]["autojoin"], seen[room]["password"]),
                         ("Attic 2", True, secret))
        self.assertEqual(seen[self.room("cellar")]["nick"], "b")


if __name__ == "__main__":
    main()
