#!/usr/bin/env python3
"""XEP-0410 self-ping (issue 16): a room membership the server dropped
without telling us is noticed and the room joined again.

`xtalk listen --join ROOM --selfping 2` sits in a room; the room is then
ended on the server with no word to its occupants (ejabberd: the room's
process killed, as a crash would). The next self-ping after the quiet
spell gets an error (the room is gone), listen says "left" with the
self-ping's reason and "joined" again, and a message sent to the room
afterwards reaches it.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtlib import SERVER, SLOW, ServerTest, main, skip_on  # noqa: E402


@skip_on("prosody", "the Prosody harness has no way yet to end a room without telling its "
                    "occupants (no admin shell in its config; a restart also ends our c2s "
                    "session, which rejoins by reconnecting, not by self-ping)")
class SelfPing(ServerTest):
    def test_dropped_membership_rejoined(self):
        room = "selfping@%s" % self.srv.muc
        listener = self.spawn("alice", "listen", "--json", "--join", room + "/alice",
                              "--selfping", "2")
        listener.json_until(lambda o: o.get("event") == "joined" and o.get("room") == room,
                            timeout=30)
        self.assertTrue(self.srv.muc_drop_room("selfping"), "the room was not running")
        t0 = time.monotonic()
        left = listener.json_until(lambda o: o.get("event") == "left", timeout=30)
        self.assertEqual(left["room"], room)
        self.assertIn("self-ping", json.dumps(left))
        listener.json_until(lambda o: o.get("event") == "joined" and o.get("room") == room,
                            timeout=30)
        sys.stderr.write("%s: dropped membership noticed (%s) and rejoined in %.1fs "
                         "(quiet spell 2 s)\n" % (SERVER, left.get("reason"),
                                                   time.monotonic() - t0))
        # In again for real: a message to the room reaches the listener.
        r = self.xtalk("bob", "send", "--muc", room, "back in?", timeout=60)
        self.assertOk(r, "send --muc")
        msg = listener.json_until(lambda o: o.get("body") == "back in?", timeout=30)
        self.assertEqual(msg.get("type"), "groupchat")


if __name__ == "__main__":
    main()
