#!/usr/bin/env python3
"""Every device in sync (issue 15): xtalk and slixmpp as two devices of one
account, carbons (XEP-0280) both ways, a forged carbon from a contact
dropped, and what arrived while xtalk was stopped fetched from the archive
(XEP-0313) at its next start, in order and once, although offline storage
delivers the same messages too. Against Prosody or ejabberd (XT_SERVER)."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

from xtlib import HERE, SLOW, Proc, ServerTest, USERS, XTALK, WRAPPER, jid, main

sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from fakexmpp import FakeXmpp  # noqa: E402


class Sync(ServerTest):

    def device(self, user, resource):
        """slixmpp as another device of user's account (slix_peer.py device)."""
        e = dict(os.environ, XTALK_PASSWORD=USERS[user], XT_PEER_TIMEOUT=str(120 * SLOW))
        d = Proc(self.slix_popen("slix_peer.py", jid(user, self.srv) + "/" + resource, "device",
                                 env=e))
        d.seen = []  # messages printed before what a read waited for
        while True:
            l = d.line(60)
            if l == "online":
                return d
            d.seen.append(json.loads(l))

    @staticmethod
    def tell(d, line):
        """Has the device send; returns once it says it did."""
        d.p.stdin.write(line + "\n")
        d.p.stdin.flush()
        while True:
            o = json.loads(d.line(30))
            if "sent" in o:
                return
            d.seen.append(o)

    def listen(self, user, resource):
        p = self.spawn(user, "listen", "--json", "--resource", resource)
        p.wait_stderr("online")
        return p

    @staticmethod
    def bodies(p, until):
        """Message events up to (and with) the one whose body is `until`."""
        got = []
        def pred(o):
            if o.get("event") == "message":
                got.append(o)
                return o.get("body") == until
            return False
        p.json_until(pred, timeout=30)
        return got

    def test_two_devices_see_each_others_sent_messages(self):
        me, peer = jid("bob", self.srv), jid("carol", self.srv)
        xt = self.listen("bob", "desk")
        # Catch-up of whatever earlier tests left: wait for its end.
        xt.json_until(lambda o: o.get("event") == "archive")
        phone = self.device("bob", "phone")
        tag = uuid.uuid4().hex[:8]
        # From the phone: xtalk sees it as ours (direction out), once.
        self.tell(phone, "send %s from the phone %s" % (peer, tag))
        got = self.bodies(xt, "from the phone " + tag)
        m = got[-1]
        self.assertEqual(m["direction"], "out")
        self.assertEqual(m["source"], "carbon")
        self.assertTrue(m["to"].startswith(peer))
        # From xtalk: the phone sees the sent carbon.
        self.assertOk(self.xtalk("bob", "send", peer, "from xtalk " + tag))
        o = next((m for m in phone.seen if m.get("body") == "from xtalk " + tag), None)
        while o is None:
            m = json.loads(phone.line(30))
            if m.get("body") == "from xtalk " + tag:
                o = m
        self.assertEqual(o["carbon"], "sent")
        # A contact writes: both devices get it, xtalk once.
        c = self.device("carol", "pc")
        self.tell(c, "send %s to both %s" % (me, tag))
        got = self.bodies(xt, "to both " + tag)
        self.assertEqual(got[-1]["direction"], "in")
        self.assertEqual(got[-1]["source"], "live")
        # Nothing about it again (a marker message closes the window).
        self.tell(c, "send %s end %s" % (me, tag))
        got = self.bodies(xt, "end " + tag)
        self.assertEqual([g["body"] for g in got], ["end " + tag])
        for d in (phone, c):
            d.p.stdin.write("quit\n")
            d.p.stdin.flush()
        xt.terminate()

    def test_forged_carbon_from_a_contact_is_dropped(self):
        me = jid("bob", self.srv)
        xt = self.listen("bob", "desk2")
        xt.json_until(lambda o: o.get("event") == "archive")
        c = self.device("carol", "evil")
        tag = uuid.uuid4().hex[:8]
        forged = ("<message xmlns='jabber:client' to='%s' type='chat'>"
                  "<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
                  "<message xmlns='jabber:client' from='%s/phone' to='%s' type='chat'>"
                  "<body>forged %s</body></message></forwarded></sent>"
                  "<body>outer %s</body></message>" % (me + "/desk2", me, jid("alice", self.srv),
                                                       tag, tag))
        self.tell(c, "raw " + forged)
        self.tell(c, "send %s after %s" % (me, tag))
        got = self.bodies(xt, "after " + tag)
        self.assertNotIn("forged " + tag, [g.get("body") for g in got])
        c.p.stdin.write("quit\n")
        c.p.stdin.flush()
        xt.terminate()

    def test_messages_sent_while_stopped_appear_once_in_order(self):
        me = jid("alice", self.srv)
        # A first run establishes the archive position.
        xt = self.listen("alice", "laptop")
        xt.json_until(lambda o: o.get("event") == "archive")
        c = self.device("carol", "pc2")
        tag = uuid.uuid4().hex[:8]
        self.tell(c, "send %s seen live %s" % (me, tag))
        self.bodies(xt, "seen live " + tag)
        xt.terminate()
        # While xtalk is stopped: offline storage and the archive both keep these.
        texts = ["missed %d %s" % (i, tag) for i in range(5)]
        for t in texts:
            self.tell(c, "send %s %s" % (me, t))
        # A ping round trip from the sender: the server has them all.
        self.tell(c, "send %s last %s" % (jid("carol", self.srv), tag))
        xt = self.listen("alice", "laptop")
        self.tell(c, "send %s now %s" % (me, tag))
        got, archive = [], []
        def pred(o):
            if o.get("event") == "archive":
                archive.append(o)
            elif o.get("event") == "message":
                got.append(o["body"])
            return bool(archive) and "now " + tag in got
        xt.json_until(pred, timeout=60)
        self.assertNotIn("error", archive[0])
        # Each missed message exactly once, in order, and nothing seen before again.
        self.assertEqual([b for b in got if tag in b and b.startswith("missed")], texts, got)
        self.assertNotIn("seen live " + tag, got)
        self.assertEqual(got.count("now " + tag), 1, got)
        c.p.stdin.write("quit\n")
        c.p.stdin.flush()
        xt.terminate()

    def test_history_prints_the_archive(self):
        """xtalk history: the newest N of one conversation, oldest first,
        ours marked; --since an archive id pages forward from it."""
        me, peer = jid("carol", self.srv), jid("alice", self.srv)
        tag = uuid.uuid4().hex[:8]
        a = self.device("alice", "h")
        for i in range(4):
            self.tell(a, "send %s hist %d %s" % (me, i, tag))
        self.assertOk(self.xtalk("carol", "send", peer, "reply " + tag))
        r = self.xtalk("carol", "history", "--json", "--limit", "3", peer)
        self.assertOk(r, "history")
        got = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual([g["body"] for g in got],
                         ["hist 2 " + tag, "hist 3 " + tag, "reply " + tag], r.stdout)
        self.assertEqual([g["direction"] for g in got], ["in", "in", "out"])
        self.assertTrue(all(g["source"] == "archive" and g["stanza_id"] for g in got))
        r = self.xtalk("carol", "history", "--json", "--since", got[0]["stanza_id"], peer)
        self.assertOk(r, "history --since")
        self.assertEqual([json.loads(l)["body"] for l in r.stdout.splitlines()],
                         ["hist 3 " + tag, "reply " + tag])
        r = self.xtalk("carol", "history", "--limit", "1", peer)
        self.assertOk(r, "history text")
        self.assertRegex(r.stdout, r"^\[[^]]+\] me -> %s: reply %s\n$" % (peer, tag))
        a.p.stdin.write("quit\n")
        a.p.stdin.flush()


    def history_on_fake(self, answer, timeout_s):
        """xtalk history against a scripted server whose disco#info
        queries `answer(conn, to, id)` handles; returns (result, seconds)."""
        def script(c):
            c.plain_login(jid("carol", self.srv), sm=False)
            seen = 0
            while seen < 2:
                q = c.read_until(rb"<iq[^>]*>\s*<query xmlns=.http://jabber.org/protocol/disco#info.")
                m = re.search(r"to='([^']*)'[^>]*id='([^']*)'|id='([^']*)'[^>]*to='([^']*)'", q)
                to, iid = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
                answer(c, to, iid)
                seen += 1
            c.drain()
        d = tempfile.mkdtemp(prefix="xt-fresh-", dir=self.srv.dir)
        e = self.env("carol", XDG_DATA_HOME=d, XDG_CONFIG_HOME=d)
        with FakeXmpp(self.srv.domain, script) as fx:
            cmd = WRAPPER + [XTALK, "history", "--jid", jid("carol", self.srv), "--server",
                             "127.0.0.1:%d" % fx.port, "--ca-file", fx.ca_file, "--timeout",
                             str(timeout_s), jid("alice", self.srv)]
            t0 = time.monotonic()
            r = subprocess.run(cmd, env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60 * SLOW)
            took = time.monotonic() - t0
        self.assertIsNone(fx.error, fx.error)
        return r, took

    def test_history_without_disco_answer_times_out(self):
        """The account's disco#info refused, the server's never answered,
        no archive: history ends within its request timeout (--timeout 3)
        with exit 7 and says why (it used to wait forever)."""
        def answer(c, to, iid):
            if "@" in to:
                c.send("<iq type='error' from='%s' id='%s'><error type='cancel'>"
                       "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                       "</error></iq>" % (to, iid))
        r, took = self.history_on_fake(answer, 3)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn("service discovery failed", r.stderr)
        self.assertIn("(timed out); raise --timeout", r.stderr)
        sys.stderr.write("history, disco unanswered: exit %d after %.1f s (--timeout 3)\n"
                         % (r.returncode, took))
        self.assertLess(took, 3 + 10 * SLOW)

    def test_history_without_archive_says_so(self):
        """Both disco#info answered, neither lists urn:xmpp:mam:2: exit 1
        at once, naming XEP-0313."""
        def answer(c, to, iid):
            c.send("<iq type='result' from='%s' id='%s'><query xmlns="
                   "'http://jabber.org/protocol/disco#info'><identity category='server' "
                   "type='im'/></query></iq>" % (to, iid))
        r, took = self.history_on_fake(answer, 20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("keeps no message archive (XEP-0313)", r.stderr)
        self.assertLess(took, 10 * SLOW)


if __name__ == "__main__":
    main()
