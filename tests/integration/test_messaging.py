#!/usr/bin/env python3
"""Messages between two real accounts through a private server (Prosody or
ejabberd, XT_SERVER): send, listen --json, bots, direct TLS."""

import json
import os
import queue
import sys
import tempfile

from xtlib import SERVER, SLOW, ServerTest, jid, main

# --wait-reply: how long a send waits for the bot's answer; a safety net
# (the answer comes in milliseconds), longer where everything runs under
# valgrind.
REPLY_S = "--wait-reply=%d" % (15 * SLOW)


class Messaging(ServerTest):

    def listen(self, user, *extra):
        p = self.spawn(user, "listen", "--json", *extra)
        p.wait_stderr("online")
        return p

    def test_send_is_received_with_all_fields(self):
        bob = self.listen("bob")
        text = "hello <&> 'quotes' \"dq\" ünïcødé 漢字 😀"
        r = self.xtalk("alice", "send", jid("bob", self.srv), text)
        self.assertOk(r, "send")
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertEqual(m["body"], text)
        self.assertEqual(m["type"], "chat")
        self.assertTrue(m["from"].startswith(jid("alice", self.srv) + "/"), m)
        self.assertTrue(m["to"].startswith(jid("bob", self.srv)), m)
        self.assertTrue(m.get("id"), m)
        bob.terminate()
        self.assertEqual(bob.p.returncode, 0, bob.err_lines)

    def test_send_lines_each_line_a_message_in_order(self):
        bob = self.listen("bob")
        r = self.xtalk("alice", "send", "--lines", jid("bob", self.srv), input="one\ntwo\n\nthree\n")
        self.assertOk(r, "send --lines")
        bodies = []
        while len(bodies) < 3:
            m = bob.json_until(lambda o: o.get("event") == "message")
            bodies.append(m["body"])
        self.assertEqual(bodies, ["one", "two", "three"])

    def test_send_stdin_whole_is_one_message(self):
        bob = self.listen("bob")
        r = self.xtalk("alice", "send", jid("bob", self.srv), input="line 1\nline 2\n")
        self.assertOk(r, "send stdin")
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertIn("line 1\nline 2", m["body"])

    def test_direct_tls(self):
        bob = self.listen("bob", "--direct-tls", "--server", "127.0.0.1:%d" % self.srv.tls_port)
        r = self.xtalk("alice", "send", jid("bob", self.srv), "over direct TLS", direct_tls=True)
        self.assertOk(r, "send direct TLS")
        m = bob.json_until(lambda o: o.get("event") == "message")
        self.assertEqual(m["body"], "over direct TLS")

    def test_next_login_pipelines_scram_with_the_servers_earlier_offer(self):
        # The store keeps what the server offered for SASL; the next run
        # sends its first SCRAM message with the stream header, and the
        # server takes it (no "differs from the hint" detour).
        bob = self.listen("bob")
        store = tempfile.mkdtemp(dir=self.srv.dir) + "/xtalk.db"
        r1 = self.xtalk("alice", "send", "-v", "--store", store, jid("bob", self.srv), "first")
        self.assertOk(r1, "first send")
        self.assertNotIn("sent with the stream header", r1.stderr)
        r2 = self.xtalk("alice", "send", "-v", "--store", store, jid("bob", self.srv), "second")
        self.assertOk(r2, "second send")
        self.assertRegex(r2.stderr, r"SCRAM-SHA-[0-9]+(-PLUS)? sent with the stream header")
        self.assertNotIn("differs from the hint", r2.stderr)
        self.assertIn("authenticated with SCRAM", r2.stderr)
        got = [bob.json_until(lambda o: o.get("event") == "message") for _ in range(2)]
        self.assertEqual([g["body"] for g in got], ["first", "second"], got)

    def test_listen_count_exits_after_n(self):
        bob = self.listen("bob", "--count", "2")
        for t in ("a", "b"):
            self.assertOk(self.xtalk("alice", "send", jid("bob", self.srv), t))
        self.assertEqual(bob.wait(), 0, bob.err_lines)

    def bodies(self, proc, until=None):
        """Message bodies proc printed: up to the one equal to `until`,
        or (until None) all of them once it has exited and its output is
        all read (an event, not two quiet seconds)."""
        if until is None:
            objs = [json.loads(l) for l in proc.rest()]
            return [o["body"] for o in objs if o.get("event") == "message"]
        got = []
        while True:
            try:
                line = proc.out.get(timeout=15 * SLOW)
            except queue.Empty:
                raise AssertionError("no %r in time; got %r" % (until, got))
            o = json.loads(line)
            if o.get("event") == "message":
                if o["body"] == until:
                    return got
                got.append(o["body"])

    def test_clean_exit_loses_and_repeats_nothing(self):
        # listen --count 1 leaves as soon as the first of a burst is in.
        # The server takes what the listener did not acknowledge (XEP-0198)
        # as undelivered and stores it offline (ejabberd with its packaged
        # resend_on_timeout: if_offline): between what the listener printed
        # and what the next login gets, every message exactly once.
        burst = ["d%d" % i for i in range(20)]
        bob = self.listen("bob", "--count", "1")
        self.assertOk(self.xtalk("alice", "send", "--lines", jid("bob", self.srv),
                                 input="".join(b + "\n" for b in burst)), "send")
        self.assertEqual(bob.wait(), 0, bob.err_lines)
        first = self.bodies(bob)
        bob = self.listen("bob")
        self.assertOk(self.xtalk("alice", "send", jid("bob", self.srv), "end"), "send end")
        rest = self.bodies(bob, until="end")
        bob.terminate()
        if SERVER == "ejabberd":
            # ejabberd 23.01 re-routes the unacknowledged stanzas to offline
            # storage while the rest of the burst is still arriving there,
            # so the offline store can hold them out of order (seen:
            # d0 d4 d1 d2 d3 d5 ...). Nothing lost or repeated is what the
            # client controls; the order is the server's.
            sys.stderr.write("ejabberd: offline order not checked, only exactly-once\n")
            self.assertEqual(first, burst[:1])
            self.assertCountEqual(first + rest, burst)
        else:
            self.assertEqual(first + rest, burst)

    def test_echo_bot_answers(self):
        bot = self.spawn("bob", "bot", "--echo")
        bot.wait_stderr("online")
        r = self.xtalk("alice", "send", REPLY_S, jid("bob", self.srv), "ping? ✓")
        self.assertOk(r, "send --wait-reply")
        self.assertEqual(r.stdout.strip(), "ping? ✓")

    def test_exec_bot_no_shell_injection(self):
        d = tempfile.mkdtemp(dir=self.srv.dir)
        marker = os.path.join(d, "pwned")
        bot = self.spawn("bob", "bot", "--exec", "tr a-z A-Z")
        bot.wait_stderr("online")
        evil = "$(touch %s); `touch %s`; ' \" ; touch %s" % (marker, marker, marker)
        r = self.xtalk("alice", "send", REPLY_S, jid("bob", self.srv), evil)
        self.assertOk(r, "send to exec bot")
        self.assertEqual(r.stdout.strip(), evil.upper())
        self.assertFalse(os.path.exists(marker), "message content reached a shell")

    def test_exec_bot_sees_sender_in_environment(self):
        bot = self.spawn("bob", "bot", "--exec", 'printf "%s" "$XTALK_FROM"')
        bot.wait_stderr("online")
        r = self.xtalk("alice", "send", REPLY_S, jid("bob", self.srv), "who am I?")
        self.assertOk(r)
        self.assertTrue(r.stdout.strip().startswith(jid("alice", self.srv) + "/"), r.stdout)

    def test_exec_bot_timeout_kills_and_keeps_serving(self):
        # The limit is 1 s, the fast answer takes milliseconds; under
        # valgrind the bot itself may not run for a second on a loaded
        # machine, so the limit is longer there (the slow command sleeps 60).
        bot = self.spawn("bob", "bot", "--exec-timeout", str(1 if SLOW == 1 else 20), "--exec",
                         'read x; case "$x" in slow) sleep 60;; *) echo "ok $x";; esac')
        bot.wait_stderr("online")
        r = self.xtalk("alice", "send", "--wait-reply=4", jid("bob", self.srv), "slow")
        self.assertEqual(r.returncode, 7, "a timed-out command must not answer: %s" % r.stdout)
        bot.wait_stderr("timed out")
        r = self.xtalk("alice", "send", REPLY_S, jid("bob", self.srv), "fast")
        self.assertOk(r)
        self.assertEqual(r.stdout.strip(), "ok fast")


if __name__ == "__main__":
    main()
