#!/usr/bin/env python3
"""What goes wrong must say so: wrong password, untrusted certificate,
pins, refused connections, missing password, unsafe config, bad input,
and the server closing the stream."""

import os
import socket
import subprocess

from xtlib import SLOW, ServerTest, XTALK, USERS, jid, main


def cert_sha256(path):
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().split("=", 1)[1].replace(":", "").lower()


class Errors(ServerTest):

    def test_wrong_password(self):
        r = self.xtalk("alice", "send", jid("bob", self.srv), "x", password="not-the-password")
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("not-authorized", r.stderr)
        self.assertNotIn("not-the-password", r.stderr + r.stdout)

    def test_untrusted_certificate_is_refused(self):
        r = self.xtalk("alice", "send", jid("bob", self.srv), "x", ca=False)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("certificate", r.stderr)
        self.assertIn("--ca-file", r.stderr)

    def test_untrusted_certificate_direct_tls(self):
        r = self.xtalk("alice", "send", jid("bob", self.srv), "x", ca=False, direct_tls=True)
        self.assertEqual(r.returncode, 5, r.stderr)

    def _with_store(self, cert_dir, **kw):
        """xtalk send without --ca-file, the system store pointed at
        cert_dir (SSL_CERT_DIR) and no bundle file (SSL_CERT_FILE unset:
        some environments export the system bundle's path)."""
        e = self.env("alice")
        e.pop("SSL_CERT_FILE", None)
        e["SSL_CERT_DIR"] = cert_dir
        return subprocess.run(self.argv("alice", "send", jid("bob", self.srv), "via the store",
                                        ca=False, **kw),
                              env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=30 * SLOW)

    def test_system_store_is_a_hashed_directory(self):
        # The system store is read as OpenSSL's hashed directory (issue
        # 14): only the issuer the chain names is opened, by its subject
        # hash. A directory made by `openssl rehash` holding the test CA
        # verifies the server's chain (leaf signed by that CA) on both
        # transports; the same directory before rehashing does not (the
        # lookup is by hash; with no hashed name there, the system bundle
        # is read in its place, and it lacks the test CA).
        d = os.path.join(self.srv.dir, "certs-hashed")
        os.makedirs(d, exist_ok=True)
        with open(self.srv.ca_file, "rb") as src, open(os.path.join(d, "test-ca.pem"), "wb") as dst:
            dst.write(src.read())
        r = self._with_store(d)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("not trusted", r.stderr)
        subprocess.run(["openssl", "rehash", d], check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
        self.assertTrue(any(n.endswith(".0") for n in os.listdir(d)), os.listdir(d))
        self.assertOk(self._with_store(d), "STARTTLS, hashed store")
        self.assertOk(self._with_store(d, direct_tls=True), "direct TLS, hashed store")

    def test_pin(self):
        good = cert_sha256(self.srv.cert)
        r = self.xtalk("alice", "send", "--pin", good, jid("bob", self.srv), "pinned", ca=False)
        self.assertOk(r, "right pin")
        r = self.xtalk("alice", "send", "--pin", "00" * 32, jid("bob", self.srv), "x")
        self.assertEqual(r.returncode, 5, r.stderr)

    def test_connection_refused(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]   # bound, not listening: refused
            # Retried (a server restarting refuses too) until --timeout;
            # then the last attempt's refusal is the error and the code.
            r = subprocess.run(
                self.argv("alice", "send", jid("bob", self.srv), "x", server=False)
                + ["--server", "127.0.0.1:%d" % port, "--timeout", "2"],
                env=self.env("alice"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60 * SLOW)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("refused", r.stderr.lower())

    def test_no_password_source(self):
        e = self.env("alice")
        del e["XTALK_PASSWORD"]
        r = subprocess.run(self.argv("alice", "send", jid("bob", self.srv), "x"), env=e,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=30 * SLOW, start_new_session=True)  # no controlling tty
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("XTALK_PASSWORD", r.stderr)

    def test_config_file_password_command_and_permissions(self):
        cfgdir = os.path.join(self.srv.dir, "cfg-alice", "xtalk")
        os.makedirs(cfgdir, exist_ok=True)
        cfg = os.path.join(cfgdir, "config")
        with open(cfg, "w") as f:
            f.write("# test account\njid = %s\nserver = 127.0.0.1:%d\nca_file = %s\n"
                    "password_command = printf '%%s\\n' '%s'\n"
                    % (jid("alice", self.srv), self.srv.port, self.srv.ca_file, USERS["alice"]))
        e = self.env("alice")
        del e["XTALK_PASSWORD"]
        e["XDG_CONFIG_HOME"] = os.path.dirname(cfgdir)
        os.chmod(cfg, 0o644)
        r = subprocess.run([XTALK, "send", jid("bob", self.srv), "from config"],
                           env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30 * SLOW)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("chmod 600", r.stderr)
        os.chmod(cfg, 0o600)
        r = subprocess.run([XTALK, "send", jid("bob", self.srv), "from config"], env=e, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30 * SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_input(self):
        r = self.xtalk("alice", "send", "not a jid@@", "x")
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.xtalk("alice", "send", jid("bob", self.srv), input="")
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.xtalk("alice", "send", jid("bob", self.srv), "x", "--no-such-flag")
        self.assertEqual(r.returncode, 2, r.stderr)
        r = subprocess.run(self.argv("alice", "send", jid("bob", self.srv)), env=self.env("alice"),
                           input=b"\xff\xfe bad utf-8", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30 * SLOW)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"UTF-8", r.stderr)

    def test_help_and_version(self):
        xt = XTALK
        for cmd in ("send", "roster", "listen", "bot", "add", "remove", "approve", "deny", "status"):
            r = subprocess.run([xt, cmd, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("Usage", r.stdout, cmd)
        r = subprocess.run([xt, "--version"], stdout=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"xtalk \d+\.\d+")

    def test_verbose_log_redacts_credentials(self):
        r = self.xtalk("alice", "send", "-v", jid("bob", self.srv), "logged")
        self.assertOk(r)
        self.assertIn("<message", r.stderr)
        self.assertNotIn(USERS["alice"], r.stderr)
        self.assertIn("redacted", r.stderr)


class ServerGoesAway(ServerTest):
    """The server shutting down closes the stream: a clean, named error."""

    def test_server_shutdown_while_listening(self):
        # listen reconnects by default (test_reliability covers that).
        bob = self.spawn("bob", "listen", "--json", "--no-reconnect")
        bob.wait_stderr("online")
        self.srv.stop()
        rc = bob.wait(20)
        self.assertEqual(rc, 8, bob.err_lines)
        self.assertTrue(any("system-shutdown" in l or "closed" in l for l in bob.err_lines), bob.err_lines)
        self.srv.start()


if __name__ == "__main__":
    main()
