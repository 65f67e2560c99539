#!/usr/bin/env python3
"""`xtalk bot --join ROOM` (issue 16): in a room the bot answers only a
message that names its nick, in the room; a private message from an
occupant is answered privately; its own reflected answers and the rest
of the room's talk get nothing.

The other occupant is test_muc_mam.py's slixmpp peer (bob).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_muc_mam import MucOccupants  # noqa: E402
from xtlib import SERVER, SLOW, ServerTest, main  # noqa: E402


class Bot(MucOccupants, ServerTest):
    def until(self, p, prefix, timeout=30):
        """Lines the occupant printed until one starting with prefix."""
        seen = []
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            try:
                line = self.next_line(p, max(0.1, (end - time.monotonic()) / SLOW))
            except AssertionError as e:
                self.fail("no %r: %s; saw %r" % (prefix, e, seen))
            seen.append(line)
            if line.startswith(prefix):
                return seen
        self.fail("no %r within %ss; saw %r" % (prefix, timeout, seen))

    def test_answers_mentions_and_private(self):
        room = "botroom@%s" % self.srv.muc
        bob = self.occupant("bob", room, "bob")
        bot = self.spawn("alice", "bot", "--echo", "--join", room + "/helper")
        self.until(bob, "online helper")
        quiet = self.say(bob, "hello everyone")
        asked = self.say(bob, "Helper, are you there?")
        seen = self.until(bob, "group helper:")
        # The one answer is to the mention; nothing to the plain line.
        self.assertEqual([l for l in quiet + asked + seen if l.startswith("group helper:")],
                         ["group helper: Helper, are you there?"])
        self.assertFalse([l for l in quiet + asked if l.startswith("group helper")])
        bob.stdin.write("pm helper just between us\n")
        bob.stdin.flush()
        seen = self.until(bob, "pm helper:")
        self.assertEqual(seen[-1], "pm helper: just between us")
        # Its own reflected answer did not start an answer loop: one more
        # round trip, and still only the one room answer.
        later = self.say(bob, "done")
        self.assertFalse([l for l in later if l.startswith("group helper")], later)
        self.assertIsNone(bot.p.poll(), "the bot exited")
        sys.stderr.write("%s: bot answered the mention in the room and the private message\n"
                         % SERVER)

    def test_autojoin_bookmarks(self):
        """A bookmark with autojoin is joined by bot and by listen without
        --join: its nick, and nothing else from the list (no autojoin)."""
        room = "bookmarked@%s" % self.srv.muc
        other = "notjoined@%s" % self.srv.muc
        self.assertOk(self.xtalk("carol", "bookmark", "add", room, "--nick", "cbot", "--autojoin"),
                      "bookmark add")
        self.assertOk(self.xtalk("carol", "bookmark", "add", other, "--nick", "x"), "bookmark add")
        bob = self.occupant("bob", room, "bob")
        self.spawn("carol", "bot", "--echo")
        self.until(bob, "online cbot")
        self.say(bob, "cbot: echo?")
        self.assertEqual(self.until(bob, "group cbot:")[-1], "group cbot: cbot: echo?")
        l = self.spawn("carol", "listen", "--json", "--nick", "clisten")
        joined = l.json_until(lambda o: o.get("event") == "joined", timeout=60)
        # The bookmark's nick wins over --nick; the bot holds it already
        # from another resource, so the room may hand out a variant.
        self.assertEqual(joined["room"], room)
        self.say(bob, "to the listener")
        got = l.json_until(lambda o: o.get("body") == "to the listener", timeout=30)
        self.assertEqual(got["room"], room)


if __name__ == "__main__":
    main()
