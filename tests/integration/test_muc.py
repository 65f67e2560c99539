#!/usr/bin/env python3
"""Group chat (issue 16, XEP-0045): xtalk and slixmpp occupants
(tests/integration/slix_muc.py, slixmpp's XEP-0045 plugin) as the other
people in the room, on the server's MUC service (the harness's `muc`
JID: the test is the same whatever the server calls it).

join/leave seen both ways; messages both ways; private messages both
ways; a nick conflict (exit code and message); a kick seen by the kicked
xtalk; a password room (right and wrong password); send --muc exits 0
only once the room reflected the message (a refused one fails); no
message printed twice."""

import collections
import json
import os
import unittest

from xtlib import SLOW, Proc, ServerTest, USERS, expected_failure_on, jid, main


class Occupant(Proc):
    """slix_muc.py: JSON commands in, JSON events out."""

    def send(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()

    def join(self, room, nick, **kw):
        self.send(op="join", room=room, nick=nick, **kw)
        return self.json_until(lambda o: o["event"] in ("joined", "error") and
                               o.get("op", "join") == "join", 60)

    def barrier(self):
        self.send(op="ping")
        self.json_until(lambda o: o["event"] == "pong", 60)

    @classmethod
    def start(cls, test, user, env):
        """A slixmpp occupant for test (a ServerTest: its srv, its procs
        to stop) logged in as user with env (the password in it), online."""
        e = dict(env, XT_PEER_TIMEOUT=str(180 * SLOW))
        o = cls(test.slix_popen("slix_muc.py", jid(user, test.srv), env=e))
        o.json_until(lambda x: x["event"] == "online", 60)
        return o


class Muc(ServerTest):
    counter = 0

    def setUp(self):
        super().setUp()
        if not getattr(self.srv, "muc", None):
            self.skipTest("this server's harness has no MUC service")

    def room(self):
        """A fresh room per test: nothing of another test's traffic."""
        Muc.counter += 1
        return "%s-%d@%s" % (self._testMethodName.replace("_", "-"), Muc.counter, self.srv.muc)

    def occupant(self, user):
        return Occupant.start(self, user, dict(os.environ, XTALK_PASSWORD=USERS[user]))

    def listen(self, user, room, nick, *more, env=None):
        """A listener in room; p.before: what it printed up to its joined
        (the occupants already there come first, §7.2.3)."""
        p = self.spawn(user, "listen", "--json", "--join", "%s/%s" % (room, nick), *more, env=env)
        p.wait_stderr("online as")
        p.before = []
        p.json_until(lambda o: p.before.append(o) or
                     (o.get("event") == "joined" and o["room"] == room), 30)
        return p

    def send_muc(self, user, room, text, *more, env=None):
        return self.xtalk(user, "send", "--muc", room, text, *more, env=env, timeout=60)

    # -- tests -------------------------------------------------------------

    def test_join_leave_both_ways(self):
        """slixmpp sees xtalk enter and leave; xtalk sees slixmpp enter
        and leave, with role, affiliation and (non-anonymous or not) jid."""
        room = self.room()
        carol = self.occupant("carol")
        self.assertEqual(carol.join(room, "carol")["event"], "joined")
        alice = self.listen("alice", room, "alice")
        # Carol was there first: listed at our join, before "joined".
        j = [o for o in alice.before if o.get("event") == "join" and o["nick"] == "carol"][0]
        self.assertEqual(j["room"], room)
        self.assertEqual(j["affiliation"], "owner")
        self.assertEqual(j["role"], "moderator")
        carol.json_until(lambda o: o["event"] == "presence" and o["nick"] == "alice" and
                         o["type"] == "available")
        # Bob comes and goes.
        bob = self.occupant("bob")
        bob.join(room, "bob")
        j = alice.json_until(lambda o: o.get("event") == "join" and o["nick"] == "bob")
        self.assertEqual(j["role"], "participant")
        bob.send(op="leave", room=room, nick="bob")
        alice.json_until(lambda o: o.get("event") == "leave" and o["nick"] == "bob")
        # xtalk leaves: its clean close leaves the room; carol sees it.
        alice.terminate()
        carol.json_until(lambda o: o["event"] == "presence" and o["nick"] == "alice" and
                         o["type"] == "unavailable")

    def test_messages_both_ways(self):
        """Groupchat messages both ways, a mention, send --muc's exit 0
        after the reflection, and nothing printed twice."""
        room = self.room()
        carol = self.occupant("carol")
        carol.join(room, "carol")
        alice = self.listen("alice", room, "alice-listen")
        carol.send(op="say", room=room, body="hello room")
        m = alice.json_until(lambda o: o.get("event") == "message" and o["body"] == "hello room")
        self.assertEqual(m["type"], "groupchat")
        self.assertEqual(m["room"], room)
        self.assertEqual(m["nick"], "carol")
        self.assertFalse(m["mention"])
        carol.send(op="say", room=room, body="Alice-Listen: are you there?")
        m = alice.json_until(lambda o: o.get("event") == "message" and "there?" in o["body"])
        self.assertTrue(m["mention"], m)
        # send --muc: another nick of the same account (the listener holds
        # "alice-listen"); exit 0 only once the room reflected it.
        r = self.send_muc("alice", room, "from xtalk send", "--nick", "alice-send")
        self.assertOk(r, "send --muc")
        g = carol.json_until(lambda o: o["event"] == "groupchat" and o["body"] == "from xtalk send")
        self.assertEqual(g["nick"], "alice-send")
        self.assertTrue(g["origin_id"], g)
        # The listener saw it once, as someone else's (another nick).
        m = alice.json_until(lambda o: o.get("event") == "message" and
                             o["body"] == "from xtalk send")
        self.assertEqual(m["nick"], "alice-send")
        self.assertNotIn("self", m)
        # Its own messages: none here; the rest of its output, after the
        # send's nick left, must hold no repeat.
        alice.json_until(lambda o: o.get("event") == "leave" and o["nick"] == "alice-send")
        carol.send(op="say", room=room, body="last")
        alice.json_until(lambda o: o.get("event") == "message" and o["body"] == "last")
        alice.terminate()
        bodies = collections.Counter(
            o["body"] for o in map(json.loads, alice.rest()) if o.get("event") == "message")
        self.assertFalse([b for b, n in bodies.items() if n > 1], bodies)

    def test_no_message_twice(self):
        """Every message of a conversation shows exactly once in listen,
        the ones it sent itself included (one reflection each)."""
        room = self.room()
        carol = self.occupant("carol")
        carol.join(room, "carol")
        alice = self.spawn("alice", "listen", "--json", "--join", room + "/alice")
        alice.wait_stderr("online as")
        seen = []
        alice.json_until(lambda o: seen.append(o) or o.get("event") == "joined", 30)
        for i in range(5):
            carol.send(op="say", room=room, body="msg %d" % i)
        self.assertOk(self.send_muc("alice", room, "mine", "--nick", "alice2"))
        carol.send(op="say", room=room, body="end")
        alice.json_until(lambda o: seen.append(o) or (o.get("event") == "message" and
                                                     o["body"] == "end"))
        alice.terminate()
        seen += [json.loads(l) for l in alice.rest()]
        bodies = collections.Counter(o["body"] for o in seen if o.get("event") == "message")
        self.assertEqual(bodies, collections.Counter(
            ["msg 0", "msg 1", "msg 2", "msg 3", "msg 4", "mine", "end"]), seen)

    def test_private_both_ways(self):
        """A private message through the room (XEP-0045 §7.5), each way."""
        room = self.room()
        carol = self.occupant("carol")
        carol.join(room, "carol")
        alice = self.listen("alice", room, "alice")
        carol.send(op="pm", to=room + "/alice", body="psst, alice")
        m = alice.json_until(lambda o: o.get("event") == "message" and o["body"] == "psst, alice")
        self.assertEqual(m["type"], "chat")
        self.assertEqual(m["room"], room)
        self.assertEqual(m["nick"], "carol")
        self.assertTrue(m["private"], m)
        r = self.send_muc("alice", room, "psst, carol", "--nick", "alice-pm", "--pm", "carol")
        self.assertOk(r, "send --muc --pm")
        p = carol.json_until(lambda o: o["event"] == "private" and o["body"] == "psst, carol")
        self.assertEqual(p["from"], room + "/alice-pm")

    def test_nick_conflict(self):
        """A taken nick: exit 20 and a message naming the nick and the fix."""
        room = self.room()
        carol = self.occupant("carol")
        carol.join(room, "carol")
        r = self.send_muc("alice", room, "hi", "--nick", "carol")
        self.assertEqual(r.returncode, 20, r.stderr)
        self.assertIn("nick 'carol' is already in use in " + room, r.stderr)
        self.assertIn("--nick", r.stderr)
        # listen says so too, and stays up.
        p = self.spawn("alice", "listen", "--json", "--join", room + "/carol")
        f = p.json_until(lambda o: o.get("event") == "join_failed")
        self.assertEqual(f["condition"], "conflict")
        p.wait_stderr("already in use")

    def test_kicked(self):
        """The kicked xtalk's listen prints the kick with its reason."""
        room = self.room()
        carol = self.occupant("carol")
        carol.join(room, "carol")
        alice = self.listen("alice", room, "alice")
        carol.send(op="kick", room=room, nick="alice", reason="too noisy")
        carol.json_until(lambda o: o["event"] in ("done", "error") and o["op"] == "kick")
        left = alice.json_until(lambda o: o.get("event") == "left")
        self.assertEqual(left["room"], room)
        self.assertEqual(left["why"], "kicked")
        self.assertEqual(left["reason"], "too noisy")
        # The text form says it too.
        alice.terminate()
        bob = self.spawn("bob", "listen", "--join", room + "/bob")
        bob.wait_stderr("online as")
        line = bob.line()
        while not line.startswith("joined"):
            line = bob.line()
        carol.send(op="kick", room=room, nick="bob", reason="you too")
        line = bob.line()
        while not line.startswith("left"):
            line = bob.line()
        self.assertIn("kicked", line)
        self.assertIn("reason=you too", line)

    def test_password_room(self):
        """A password-protected room: the right password (environment or
        file) gets in, a wrong or missing one exits 21 and says why."""
        room = self.room()
        carol = self.occupant("carol")
        j = carol.join(room, "carol", config={"password": "cauldronburn"})
        self.assertTrue(j["created"], j)
        r = self.send_muc("alice", room, "no password")
        self.assertEqual(r.returncode, 21, r.stderr)
        self.assertIn("needs a password", r.stderr)
        self.assertIn("XTALK_ROOM_PASSWORD", r.stderr)
        r = self.send_muc("alice", room, "wrong", env={"XTALK_ROOM_PASSWORD": "wrong"})
        self.assertEqual(r.returncode, 21, r.stderr)
        r = self.send_muc("alice", room, "right", "-v",
                          env={"XTALK_ROOM_PASSWORD": "cauldronburn"})
        self.assertOk(r, "send --muc with the room password")
        # -v shows the join, never the password in it (core/log_redact.h).
        self.assertIn("<password>[redacted]</password>", r.stderr)
        self.assertNotIn("cauldronburn", r.stdout + r.stderr)
        carol.json_until(lambda o: o["event"] == "groupchat" and o["body"] == "right")
        pw = os.path.join(self.srv.dir, "room-password")
        with open(pw, "w") as f:
            f.write("cauldronburn\n")
        r = self.send_muc("alice", room, "from file", "--room-password-file", pw)
        self.assertOk(r, "send --muc --room-password-file")
        carol.json_until(lambda o: o["event"] == "groupchat" and o["body"] == "from file")
        # Never on the command line.
        self.assertNotIn("cauldronburn", " ".join(self.argv("alice", "send", "--muc", room, "x")))

    @expected_failure_on("ejabberd", "ejabberd gives newcomers voice in a moderated room "
                         "(members_by_default, on by default; off, it makes them visitors in "
                         "every room): the unvoiced message is accepted and reflected")
    def test_send_needs_reflection(self):
        """The server acknowledging the message is not enough: a room that
        refuses it (a visitor has no voice in a moderated room) makes
        send --muc fail, where a reflection makes it exit 0."""
        room = self.room()
        carol = self.occupant("carol")
        carol.join(room, "carol")
        self.assertOk(self.send_muc("alice", room, "voiced"), "send --muc")
        carol.json_until(lambda o: o["event"] == "groupchat" and o["body"] == "voiced")
        room2 = self.room()
        j = carol.join(room2, "carol", config={"moderated": True})
        self.assertTrue(j["created"], j)
        r = self.send_muc("alice", room2, "unvoiced")
        self.assertEqual(r.returncode, 24, r.stderr)
        self.assertIn("refused the message", r.stderr)


if __name__ == "__main__":
    main()
