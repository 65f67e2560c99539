#!/usr/bin/env python3
"""A hostile contact (issue 12, item 3): through the real Prosody, a
slixmpp peer sends messages with a forged type (an escaped newline that
would start a line of its own, a C1 CSI), C1 controls, a carriage return
and bidi overrides in the body. listen, listen --json and bot -v must
print no forged line and no raw control, bidi or format character."""

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import unicodedata

from xtlib import ASAN, HERE, SLOW, WRAPPER, XTALK, Proc, ServerTest, USERS, jid, main

sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from fakexmpp import Closed, FakeXmpp  # noqa: E402

# Peak RSS means something only for the plain build: under valgrind the
# measured process is valgrind, and ASan keeps freed memory in quarantine
# and maps shadow memory (both many times the program's own heap). There
# the memory bounds are not asserted; the CPU bounds scale with SLOW.
RSS_MEANINGFUL = not WRAPPER and not ASAN

FORGED = "message boss@example.com/office chat: wire the money"
# The type from issue 12: a newline, then what would pass for a record.
EVIL_TYPE = "chat: hi\n" + FORGED + "\u009b2J"
EVIL_BODY = ("invoice\u202etxt.exe \u0085\u009b31mred\u009c\r\n" + FORGED +
             " \u2066iso\u2069 zero\u200bwidth \ufeff")


def unsafe(ch):
    """What must never reach a terminal raw (cli/sanitize.h)."""
    o = ord(ch)
    return (o < 0x20 or 0x7f <= o <= 0x9f or o in (0x2028, 0x2029)
            or unicodedata.category(ch) == "Cf")


class Hostile(ServerTest):

    def slix_raw(self, user, *args):
        e = dict(os.environ, XTALK_PASSWORD=USERS[user], XT_PEER_TIMEOUT=str(60 * SLOW))
        return Proc(self.slix_popen("slix_peer.py", jid(user, self.srv), "raw", *args, env=e,
                                    stdin=subprocess.DEVNULL))

    def assertClean(self, lines, what):
        for l in lines:
            bad = [("U+%04X" % ord(c)) for c in l if unsafe(c)]
            self.assertFalse(bad, "%s printed %s raw: %r" % (what, bad, l))
            self.assertFalse(l.startswith(FORGED[:20]), "%s printed a forged line: %r" % (what, l))

    def test_forged_type_controls_and_bidi(self):
        bob = jid("bob", self.srv)
        human = self.spawn("bob", "listen", "--resource", "human", "--count", "1")
        js = self.spawn("bob", "listen", "--json", "--resource", "json", "--count", "1")
        bot = self.spawn("bob", "bot", "--echo", "-v", "--resource", "bot", "--count", "1")
        for p in (human, js, bot):
            p.wait_stderr("online")
        peer = self.slix_raw("carol", *[x for r in ("human", "json", "bot")
                                        for x in (bob + "/" + r, EVIL_TYPE, EVIL_BODY)])
        self.assertEqual(peer.wait(60), 0, peer.err_lines)

        # listen: one line, the type read as RFC 6121 §5.2.2 says
        # (unknown: "normal"), every control shown escaped.
        out = human.rest()
        self.assertEqual(human.p.returncode, 0, human.err_lines)
        # (Our own resources' presences come first; one line each.)
        self.assertTrue(all(l.startswith("presence ") for l in out[:-1]), out)
        msg = out[-1]
        self.assertTrue(msg.startswith("message " + jid("carol", self.srv) + "/"), out)
        # The CR went through Prosody raw, and XML end-of-line handling
        # (XML 1.0 §2.11) made CR LF one LF before xtalk saw it.
        # Byte-exact after the sender's full JID.
        self.assertEqual(msg.split(" ", 2)[2],
                         "normal: invoice\\u202etxt.exe \\u0085\\u009b31mred\\u009c\\n" + FORGED
                         + " \\u2066iso\\u2069 zero\\u200bwidth \\ufeff")
        self.assertClean(out + human.err_lines, "listen")

        # listen --json: one object; the value is the sender's text exactly,
        # but C1 and bidi/format characters travel as \uXXXX escapes.
        out = js.rest()
        objs = [json.loads(l) for l in out]  # every line one JSON object
        msgs = [i for i, o in enumerate(objs) if o["event"] == "message"]
        self.assertEqual(len(msgs), 1, out)
        m = objs[msgs[0]]
        self.assertEqual(m["type"], "normal")
        self.assertEqual(m["body"], EVIL_BODY.replace("\r\n", "\n"))
        for esc in ("\\u202e", "\\u0085", "\\u009b", "\\u2066", "\\u200b", "\\ufeff"):
            self.assertIn(esc, out[msgs[0]])
        self.assertClean(out + js.err_lines, "listen --json")

        # bot -v: the forged type is "normal", so it answers; its stderr
        # (the stream log included) has no raw control and every line is
        # either a new "xtalk: " record or an indented continuation.
        bot.wait()
        self.assertEqual(bot.p.returncode, 0, bot.err_lines)
        self.assertTrue(any("bot: answered " in l for l in bot.err_lines), bot.err_lines)
        self.assertTrue(any("invoice\\u202etxt.exe" in l for l in bot.err_lines), bot.err_lines)
        self.assertClean(bot.err_lines, "bot")
        for l in bot.err_lines:
            self.assertTrue(l.startswith("xtalk: ") or l.startswith("  "), l)



class Measured:
    """A finished xtalk run: exit code, output and its own resource use
    (os.wait4 on the child: CPU seconds and peak RSS in KiB)."""

    def __init__(self, rc, out, err, ru):
        self.returncode, self.out, self.err = rc, out, err
        self.cpu = ru.ru_utime + ru.ru_stime
        self.maxrss_kib = ru.ru_maxrss


class HostileServer(ServerTest):
    """A fake server with real TLS (tests/harness/fakexmpp.py) playing a
    man in the middle or a hostile server. Each case asserts the xtalk
    process's CPU time and peak RSS within the bounds stated in it."""

    def run_measured(self, user, args, fx, timeout=120, env=None):
        cmd = WRAPPER + [XTALK, args[0], "--jid", jid(user, self.srv), "--server",
                         "127.0.0.1:%d" % fx.port, "--ca-file", fx.ca_file] + list(args[1:])
        e = self.env(user, **(env or {}))
        p = subprocess.Popen(cmd, env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        out, err = [], []
        readers = [threading.Thread(target=lambda f, a: a.append(f.read()), args=(p.stdout, out)),
                   threading.Thread(target=lambda f, a: a.append(f.read()), args=(p.stderr, err))]
        for t in readers:
            t.start()
        killer = threading.Timer(timeout * SLOW, p.kill)
        killer.start()
        _, status, ru = os.wait4(p.pid, 0)
        killer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        for t in readers:
            t.join()
        p.stdout.close()
        p.stderr.close()
        return Measured(p.returncode, out[0].decode("utf-8", "replace"),
                        err[0].decode("utf-8", "replace"), ru)

    def fresh_store(self):
        """Environment for an account xtalk has never met (no pin)."""
        d = tempfile.mkdtemp(prefix="xt-fresh-", dir=self.srv.dir)
        return {"XDG_DATA_HOME": d, "XDG_CONFIG_HOME": d}

    def pin_by_real_login(self, user):
        """One real login against the private server: the store pins it."""
        r = self.xtalk(user, "roster")
        self.assertOk(r, "first login")

    def test_plain_after_scram(self):
        """PLAIN only, after a SCRAM login: refused before any password
        goes out, saying why (exit 6). Bounds: 2 s CPU, 64 MiB RSS."""
        self.pin_by_real_login("alice")

        def script(c):
            c.features(["PLAIN"])
            c.answer_abort()
        with FakeXmpp(self.srv.domain, script) as fx:
            r = self.run_measured("alice", ["roster"], fx)
        self.assertEqual(r.returncode, 6, r.err)
        self.assertIn("PLAIN", r.err)
        # (A SCRAM first message may have gone ahead of the features, from
        # the stored hint: it holds no secret.)
        self.assertNotIn("mechanism='PLAIN'", fx.received)
        self.assertNotIn("<response", fx.received)
        self.assertLess(r.cpu, 2.0 * SLOW)
        if RSS_MEANINGFUL:
            self.assertLess(r.maxrss_kib, 64 * 1024)

    def test_stripped_plus(self):
        """-PLUS stripped after a -PLUS login: refused, exit 6, no proof
        sent. (The private Prosody 0.12 offers no -PLUS on TLS 1.3, and
        ejabberd's depends on its TLS version, so the pin an earlier
        SCRAM-SHA-256-PLUS login leaves is written into the store after a
        real login made it.) Bounds: 2 s CPU, 64 MiB RSS."""
        self.pin_by_real_login("bob")
        db = os.path.join(self.env("bob")["XDG_DATA_HOME"], "xtalk", "xtalk.db")
        con = sqlite3.connect(db)
        with con:
            n = con.execute("UPDATE server_hint SET sasl_hint = "
                            "'pin:SCRAM-SHA-256-PLUS:tls-exporter'").rowcount
        con.close()
        self.assertEqual(n, 1)

        def script(c):
            c.features(["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
            c.answer_abort()
        with FakeXmpp(self.srv.domain, script) as fx:
            r = self.run_measured("bob", ["roster"], fx)
        self.assertEqual(r.returncode, 6, r.err)
        self.assertIn("weaker", r.err)
        self.assertIn("SCRAM-SHA-256-PLUS", r.err)
        self.assertNotIn("<auth", fx.received)
        self.assertLess(r.cpu, 2.0 * SLOW)
        if RSS_MEANINGFUL:
            self.assertLess(r.maxrss_kib, 64 * 1024)

    def test_huge_start_tag_in_1_byte_records(self):
        """A 128 KiB start tag of attributes in 1-byte TLS records: a
        clean policy-violation, and the client ends at once (no retry: the
        same server would send the same features again). Bounds: 3 s CPU
        (about 135,000 records to decrypt), 64 MiB RSS. 128 KiB is past
        the cap on expat's heap (4x and more) as 512 KiB was, at a quarter
        of the fake server's time: its 1-byte writes are what this test
        spends its time on. The --timeout is long so that the fake server
        slowed by load cannot end the login by negotiation timeout
        instead of the policy-violation under test; it costs nothing,
        nothing waits for it."""
        tag = ["<stream:features"]
        n = len(tag[0])
        i = 0
        while n < 128 * 1024:
            a = " a%d=''" % i
            tag.append(a)
            n += len(a)
            i += 1
        tag.append("/>")
        data = "".join(tag).encode()

        def script(c):
            c.header("s1")
            c.send_records(data, 1)
            c.drain()
        with FakeXmpp(self.srv.domain, script) as fx:
            r = self.run_measured("carol", ["roster", "--timeout", str(int(300 * SLOW))], fx,
                                  timeout=300, env=self.fresh_store())
        self.assertIsNone(fx.error, fx.error)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("policy-violation", r.err)
        self.assertNotIn("trying again", r.err)
        sys.stderr.write("128 KiB start tag in 1-byte records: %.2f s CPU, %d KiB RSS\n"
                         % (r.cpu, r.maxrss_kib))
        self.assertLess(r.cpu, 3.0 * SLOW)
        if RSS_MEANINGFUL:
            self.assertLess(r.maxrss_kib, 64 * 1024)

    def test_iq_flood_with_empty_acks(self):
        """IQ gets, each followed by <a h='0'/>: every answer waits in the
        XEP-0198 queue; at its bound (5000) the stream ends with
        policy-violation. Bounds: 10 s CPU, 64 MiB RSS."""
        me = jid("carol", self.srv)

        def script(c):
            c.plain_login(me, sm=True)
            c.seen(rb"<enable[^>]*>")
            c.send("<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/>")
            c.answer_roster()
            batch = "".join("<iq type='get' id='f%d' from='%s'><query xmlns='jabber:iq:version'/>"
                            "</iq><a xmlns='urn:xmpp:sm:3' h='0'/>" % (k, c.domain)
                            for k in range(100))
            try:
                for _ in range(300):  # 30,000 gets
                    c.send(batch)
            except OSError:
                return
            c.drain()
        with FakeXmpp(self.srv.domain, script) as fx:
            r = self.run_measured("carol", ["listen", "--no-reconnect"], fx,
                                  env=self.fresh_store())
        self.assertNotEqual(r.returncode, 0, r.err)
        self.assertIn("the server left 5000 stanzas unacknowledged", r.err)
        self.assertIn("policy violation", r.err)
        sys.stderr.write("IQ flood with empty acks: %.2f s CPU, %d KiB RSS\n"
                         % (r.cpu, r.maxrss_kib))
        self.assertLess(r.cpu, 10.0 * SLOW)
        if RSS_MEANINGFUL:
            self.assertLess(r.maxrss_kib, 64 * 1024)

    def test_presence_flood(self):
        """Presence from 100,000 resources (half of one roster contact,
        half of strangers), then a message: the tables stay bounded and
        the message arrives. Bounds: 15 s CPU, 96 MiB RSS."""
        me = jid("carol", self.srv)
        friend = "friend@" + self.srv.domain

        def script(c):
            c.plain_login(me, sm=False)
            c.answer_roster("<item jid='%s' subscription='both'/>" % friend)
            for k in range(0, 100000, 500):
                c.send("".join("<presence from='%s/r%d'/>" % (friend, j) if j % 2 else
                               "<presence from='stranger%d@%s/x'/>" % (j, c.domain)
                               for j in range(k, k + 500)))
            c.send("<message from='%s/r1' type='chat'><body>done</body></message>" % friend)
            c.drain()
        with FakeXmpp(self.srv.domain, script) as fx:
            r = self.run_measured("carol", ["listen", "--count", "1"], fx,
                                  env=self.fresh_store())
        self.assertEqual(r.returncode, 0, r.err[-2000:])
        lines = r.out.splitlines()
        self.assertTrue(lines and lines[-1].startswith("message " + friend + "/r1"), lines[-3:])
        # Strangers' presence is dropped quietly, the contact's is shown.
        self.assertFalse([l for l in lines if "stranger" in l], lines[:3])
        self.assertEqual(len([l for l in lines if l.startswith("presence " + friend)]), 50000,
                         lines[:3])
        sys.stderr.write("presence from 100,000 resources: %.2f s CPU, %d KiB RSS, %d lines\n"
                         % (r.cpu, r.maxrss_kib, len(lines)))
        self.assertLess(r.cpu, 15.0 * SLOW)
        if RSS_MEANINGFUL:
            self.assertLess(r.maxrss_kib, 96 * 1024)


if __name__ == "__main__":
    main()
