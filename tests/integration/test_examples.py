"""The example programs (examples/) against the test server (XT_SERVER,
Prosody or ejabberd): echo_loop (the built-in epoll loop) answers as bob; echo_uv (libuv, through
xtalk/adapters/libuv.h) logs in as alice, asks and checks the answer.
Each must log in and exchange a message.

Environment (tests/meson.build): ECHO_LOOP, ECHO_UV (empty when libuv
was not found: that part is skipped, and says so), XTALK_BIN (unset in a
build without the program: the test against it is skipped).
"""

import os
import queue
import subprocess
import threading
import unittest

from xtlib import SLOW, USERS, WRAPPER, ServerTest, jid, main

ECHO_LOOP = os.environ.get("ECHO_LOOP", "")
ECHO_UV = os.environ.get("ECHO_UV", "")


class ExamplesTest(ServerTest):
    def start_bot(self, user):
        env = dict(os.environ, XTALK_PASSWORD=USERS[user])
        p = subprocess.Popen(
            WRAPPER + [ECHO_LOOP, jid(user, self.srv), "127.0.0.1", str(self.srv.port), self.srv.ca_file, "1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        # Waits for the event, not a time: the bot prints "online" when
        # bound. The bound on the wait only turns a hang into a failure.
        q = queue.Queue()
        threading.Thread(target=lambda: q.put(p.stdout.readline()), daemon=True).start()
        try:
            line = q.get(timeout=30 * SLOW)
        except queue.Empty:
            p.kill()
            line = "(nothing in %d s) " % (30 * SLOW)
        if not line.startswith("online as %s/" % jid(user, self.srv)):
            p.kill()
            self.fail("echo_loop did not come online: " + line + p.stderr.read())
        return p

    def finish(self, p):
        out, err = p.communicate(timeout=30 * SLOW)
        return p.returncode, out, err

    @unittest.skipUnless(ECHO_LOOP, "examples not built")
    def test_loop_bot_answers_uv_client(self):
        if not ECHO_UV:
            self.skipTest("libuv not found at build time: echo_uv not built")
        bot = self.start_bot("bob")
        text = "hello from libuv"
        env = dict(os.environ, XTALK_PASSWORD=USERS["alice"])
        r = subprocess.run(
            WRAPPER + [ECHO_UV, jid("alice", self.srv), "127.0.0.1", str(self.srv.port), self.srv.ca_file,
                       jid("bob", self.srv), text],
            env=env, capture_output=True, text=True, timeout=60 * SLOW)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("online as %s/" % jid("alice", self.srv), r.stdout)
        self.assertIn("reply: " + text, r.stdout)
        rc, out, err = self.finish(bot)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("echoed to %s/" % jid("alice", self.srv), out)
        self.assertIn(": " + text, out)

    @unittest.skipUnless(ECHO_LOOP and os.environ.get("XTALK_BIN"), "examples or the xtalk program not built")
    def test_loop_bot_answers_xtalk(self):
        """echo_loop alone, against the xtalk CLI (runs without libuv)."""
        bot = self.start_bot("carol")
        r = self.xtalk("alice", "send", "--wait-reply=15", jid("carol", self.srv), "hello from xtalk")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("hello from xtalk", r.stdout)
        rc, out, err = self.finish(bot)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("echoed to %s/" % jid("alice", self.srv), out)


if __name__ == "__main__":
    main()
