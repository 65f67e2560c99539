#!/usr/bin/env python3
"""Room archive catch-up (issue 16, XEP-0313 §6): a room with an archive
is joined with no history and caught up from the archive since the last
room stanza-id seen, exactly once, in order.

A slixmpp occupant (bob) stays in the room and speaks; alice's `xtalk
listen --join` sees a message live, goes away, bob says five more, and
alice's next listen prints those five, each once and in order, then a
live one; never the first again (the room's history would have repeated
it: the join asks for none, maxstanzas='0').

Run as `test_muc_mam.py peer JID PORT CA ROOM NICK` it is the slixmpp
occupant (test_muc_bot.py uses it too): prints "joined", then for each
stdin line "say TEXT" sends it to the room and prints "said TEXT" once the
room reflected it, for "pm NICK TEXT" sends TEXT privately to that
occupant; prints "online NICK" when an occupant comes in, "group NICK:
BODY" for others' room messages and "pm NICK: BODY" for private ones.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def peer(argv):
    import asyncio
    import slixmpp

    jid_, port, ca, room, nick = argv

    class Peer(slixmpp.ClientXMPP):
        def __init__(self):
            super().__init__(jid_, os.environ["XTALK_PASSWORD"])
            self.register_plugin("xep_0045")
            self.add_event_handler("session_start", self.start)
            self.add_event_handler("groupchat_message", self.on_group)
            self.add_event_handler("groupchat_presence", self.on_presence)
            self.add_event_handler("message", self.on_chat)
            self.add_event_handler("failed_auth", lambda *_: os._exit(1))
            self.waiting = {}

        async def start(self, _):
            self.send_presence()
            muc = self.plugin["xep_0045"]
            pres, _, _, _ = await muc.join_muc_wait(room, nick, maxstanzas=0, timeout=60)
            if 201 in {int(c) for c in pres["muc"]["status_codes"]}:
                # XEP-0045 §10.1.2: we created it; Prosody keeps a new room
                # locked until its owner accepts the configuration: the
                # form sent back unchanged (an instant room).
                form = await muc.get_room_config(room)
                submit = slixmpp.plugins.xep_0004.stanza.form.Form()
                submit["type"] = "submit"
                for var, f in form.get_fields().items():
                    if var and f["type"] != "fixed":
                        submit.add_field(var=var, ftype=f["type"], value=f["value"])
                await muc.set_room_config(room, submit)
            print("joined", flush=True)
            asyncio.get_event_loop().add_reader(sys.stdin.fileno(), self.command)

        def on_group(self, msg):
            if msg["mucnick"] == nick and msg["body"] in self.waiting:
                self.waiting.pop(msg["body"])
                print("said %s" % msg["body"], flush=True)
            elif msg["mucnick"] != nick and msg["body"]:
                print("group %s: %s" % (msg["mucnick"], msg["body"]), flush=True)

        def on_presence(self, pres):
            if pres["type"] == "available" and pres["muc"]["nick"] != nick:
                print("online %s" % pres["muc"]["nick"], flush=True)

        def on_chat(self, msg):
            if msg["type"] in ("chat", "normal") and msg["body"] and \
                    msg["from"].bare == room:
                print("pm %s: %s" % (msg["from"].resource, msg["body"]), flush=True)

        def command(self):
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                os._exit(0)
            if line.startswith("pm "):
                to, text = line[3:].rstrip("\n").split(" ", 1)
                self.send_message(mto="%s/%s" % (room, to), mbody=text, mtype="chat")
            if line.startswith("say "):
                text = line[4:].rstrip("\n")
                self.waiting[text] = True
                self.send_message(mto=room, mbody=text, mtype="groupchat")

    p = Peer()
    p.ca_certs = ca
    p.connect(("127.0.0.1", int(port)))
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "peer":
    sys.exit(peer(sys.argv[2:]))

import subprocess  # noqa: E402
import unittest  # noqa: E402

from xtlib import SERVER, SLOW, USERS, ServerTest, jid, main  # noqa: E402


class MucOccupants:
    """Helpers for ServerTest classes with slixmpp occupants (mixed in
    before ServerTest)."""

    def setUp(self):
        super().setUp()
        if not getattr(self.srv, "muc", None):
            self.skipTest("not on %s: its test harness has no MUC service yet" % SERVER)

    @staticmethod
    def _pump(p):
        import queue
        import threading
        p.lines = queue.Queue()

        def run():
            for line in p.stdout:
                p.lines.put(line.strip())
            p.lines.put(None)
        threading.Thread(target=run, daemon=True).start()

    @staticmethod
    def next_line(p, timeout=60):
        """The occupant's next line; AssertionError after timeout or at its end."""
        import queue
        try:
            line = p.lines.get(timeout=timeout * SLOW)
        except queue.Empty:
            raise AssertionError("the occupant said nothing in %ss" % timeout)
        if line is None:
            raise AssertionError("the occupant ended: %s" % p.stderr.read()[-2000:])
        return line

    def occupant(self, user, room, nick):
        e = dict(os.environ, XTALK_PASSWORD=USERS[user])
        p = subprocess.Popen(["/usr/bin/python3", os.path.abspath(__file__), "peer",
                              jid(user, self.srv), str(self.srv.port), self.srv.ca_file, room, nick],
                             env=e, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        self._pump(p)
        self.assertEqual(self.next_line(p), "joined")
        return p

    @staticmethod
    def say(p, text):
        """Says text; returns the lines the occupant printed meanwhile."""
        p.stdin.write("say %s\n" % text)
        p.stdin.flush()
        other = []
        while True:
            line = MucOccupants.next_line(p)
            if line == "said %s" % text:
                return other
            other.append(line)


class RoomArchive(MucOccupants, ServerTest):
    def listen(self, room):
        l = self.spawn("alice", "listen", "--json", "--join", room + "/alice")
        l.json_until(lambda o: o.get("event") == "joined" and o.get("room") == room, timeout=60)
        return l

    def test_catch_up_once_in_order(self):
        room = "archive@%s" % self.srv.muc
        bob = self.occupant("bob", room, "bob")
        l = self.listen(room)
        self.say(bob, "before")
        l.json_until(lambda o: o.get("body") == "before" and o.get("room") == room)
        l.terminate()
        away = ["away %d" % i for i in range(1, 6)]
        for t in away:
            self.say(bob, t)
        l = self.spawn("alice", "listen", "--json", "--join", room + "/alice")
        bodies, sources = [], []
        live_sent = False
        got = None
        while True:
            o = l.json_until(lambda o: o.get("body") or o.get("event") == "joined", timeout=60)
            if o.get("event") == "joined":
                continue
            self.assertEqual(o.get("room"), room, o)
            self.assertEqual(o.get("type"), "groupchat", o)
            bodies.append(o["body"])
            sources.append(o.get("source"))
            if o["body"] == away[-1] and not live_sent:
                # Caught up: one said now comes live.
                self.say(bob, "after")
                live_sent = True
            if o["body"] == "after":
                got = o
                break
        self.assertEqual(bodies, away + ["after"])
        # From the room's archive (the join asked for no history), then live.
        self.assertEqual(sources, ["archive"] * len(away) + [got.get("source")])
        self.assertNotEqual(got.get("source"), "archive")
        sys.stderr.write("%s: %d archived messages caught up once, in order\n"
                         % (SERVER, len(away)))


if __name__ == "__main__":
    main()
