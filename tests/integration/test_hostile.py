#!/usr/bin/env python3
"""A hostile contact (issue 12, item 3): through the real Prosody, a
slixmpp peer sends messages with a forged type (an escaped newline that
would start a line of its own, a C1 CSI), C1 controls, a carriage return
and bidi overrides in the body. listen, listen --json and bot -v must
print no forged line and no raw control, bidi or format character."""

import json
import os
import subprocess
import unicodedata

from xtlib import HERE, SLOW, Proc, ServerTest, USERS, jid, main

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
        p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "slix_peer.py"),
                              jid(user, self.srv), str(self.srv.port), self.srv.ca_file, "raw"]
                             + list(args), env=e, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return Proc(p)

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
        self.assertIn(" normal: invoice\\u202etxt.exe \\u0085\\u009b31mred\\u009c\\n" + FORGED,
                      msg)
        self.assertIn("\\u2066iso\\u2069 zero\\u200bwidth \\ufeff", msg)
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


if __name__ == "__main__":
    main()
