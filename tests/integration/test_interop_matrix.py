#!/usr/bin/env python3
"""The interop matrix (issue 11): xtalk logs in to Prosody and to ejabberd
over TLS 1.2 and 1.3, STARTTLS and direct TLS, once with each server's
whole SASL offer and once with the offer cut down to each password
mechanism it has (disable_sasl_mechanisms), and records what it
negotiated (`xtalk -v` names the TLS version, the channel-binding type and
the mechanism). The table goes to $XT_INTEROP_MD (build/tests/interop.md);
the README's "Interop" section is a copy of one run's table.

Every cell is a test. A cell that fails today for a reason in xtalk is an
expected failure naming that reason (KNOWN_FAILURES): it still runs, its
row says FAIL, and once the cause is fixed it passes as an "unexpected
success", which fails the run until the entry is removed. A cell where the
refusal is right (REFUSALS) checks that it is that refusal.

Runs both servers itself, so meson registers it once (not per XT_SERVER).
"""

import os
import re
import subprocess
import sys
import time
import unittest

from xtlib import SLOW, USERS, WRAPPER, XTALK, jid, main
from ejabberd import Ejabberd
from prosody import Prosody

# What each server offers, with our harness config (the packaged defaults
# for SASL): checked against the live offer by test_0_offer_is_as_expected,
# so a server upgrade that changes it is noticed rather than left out.
# X-OAUTH2 takes a token, not a password: not a cell.
OFFERS = {
    ("prosody", "1.2"): ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"],
    # Prosody 0.12 binds tls-unique only, which TLS 1.3 lacks: no -PLUS.
    ("prosody", "1.3"): ["SCRAM-SHA-1", "PLAIN"],
    ("ejabberd", "1.2"): ["PLAIN", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "X-OAUTH2"],
    ("ejabberd", "1.3"): ["PLAIN", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "X-OAUTH2"],
}
PASSWORD_MECHS = ("SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256",
                  "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN")
ALL = "all offered"
TRANSPORTS = ("starttls", "direct")

# Cells that fail today for a reason in xtalk, to be fixed (expected
# failures: the fix flips them). (server, tls, offer) -> reason.
KNOWN_FAILURES = {}
# Cells where the refusal is right, on both sides: the test checks that it
# is this refusal. (server, tls, offer) -> (reason, text in xtalk's stderr).
REFUSALS = {
    ("ejabberd", "1.3", "SCRAM-SHA-1-PLUS"): (
        "ejabberd 23.01 on TLS 1.3 rejects tls-exporter binding ('Invalid channel binding': "
        "it binds only tls-unique, which TLS 1.3 lacks, RFC 8446 §C.5); xtalk retries once "
        "without binding, and with only -PLUS offered no unbound mechanism is left",
        "no mechanism without binding is left in its offer"),
    ("prosody", "1.2", "SCRAM-SHA-1"): (
        "RFC 5802 §6 downgrade check: Prosody 0.12 can still bind on TLS 1.2 when its "
        "config removes -PLUS from the offer, so it takes xtalk's 'y' flag (\"I could bind, "
        "you offered none\") for an attacker's stripped list and answers malformed-request; "
        "a real deployment offers -PLUS there (the first Prosody 1.2 rows)",
        "malformed-request"),
}


def known_failure(server, tls, offer, transport=None):
    return KNOWN_FAILURES.get((server, tls, offer))


def refusal(server, tls, offer, transport=None):
    return REFUSALS.get((server, tls, offer))


def cells():
    for (server, tls), offered in sorted(OFFERS.items()):
        for offer in [ALL] + [m for m in offered if m in PASSWORD_MECHS]:
            for transport in TRANSPORTS:
                yield server, tls, offer, transport


def cell_name(server, tls, offer, transport):
    o = "all" if offer == ALL else offer.replace("-", "_")
    return "test_%s_tls%s_%s_%s" % (server, tls.replace(".", ""), o, transport)


def negotiated(stderr):
    """(offered mechanisms, TLS version, mechanism, binding) from xtalk -v."""
    offered, version, mech, binding = None, None, None, None
    for line in stderr.splitlines():
        m = re.search(r"TLS (1\.[0-9]) established", line)
        if m:
            version = m.group(1)
        m = re.search(r"channel binding ([a-z-]+)", line)
        if m:
            binding = m.group(1)
        if "<mechanisms" in line and "RECV" in line:
            offered = re.findall(r"<mechanism>([^<]+)</mechanism>", line)
        m = re.search(r"authenticated with (\S+)", line)
        if m:
            mech = m.group(1)
    return offered, version, mech, binding


def error_line(stderr):
    """The last line xtalk printed that is neither a log of the stream nor
    an info line: its error message."""
    lines = [l for l in stderr.splitlines()
             if l.strip() and not re.match(r"xtalk: (SEND|RECV|info|debug):", l)]
    line = lines[-1].strip() if lines else ""
    return re.sub(r"^xtalk: cannot connect as \S+: ", "", line)


class Matrix(unittest.TestCase):
    servers = {}
    current = None   # (server, tls, offer) the running server is set up for
    results = {}     # cell -> row

    @classmethod
    def server(cls, kind, tls, offer):
        """The one server of `kind`, (re)started with TLS 1.3 on or off and
        the offer cut to `offer`. One server runs at a time."""
        want = (kind, tls, offer)
        if cls.current == want:
            return cls.servers[kind]
        for s in cls.servers.values():
            s.stop()
        srv = cls.servers.get(kind)
        if srv is None:
            srv = (Ejabberd if kind == "ejabberd" else Prosody)(users=USERS)
            cls.servers[kind] = srv
        srv.tls13 = tls == "1.3"
        srv.disable_sasl_mechanisms = ([] if offer == ALL else
                                       [m for m in OFFERS[(kind, tls)] if m != offer])
        srv.start()
        cls.current = want
        return srv

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers.values():
            s.cleanup()
        cls.write_table()

    @classmethod
    def write_table(cls):
        path = os.environ.get("XT_INTEROP_MD")
        if not path:
            return
        versions = []
        for pkg in ("prosody", "ejabberd"):
            v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
            versions.append("%s %s" % (pkg.capitalize() if pkg == "prosody" else pkg, v or "?"))
        xv = subprocess.run([XTALK, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
        out = ["<!-- written by tests/integration/test_interop_matrix.py -->",
               "%s against %s; run %s." % (xv, " and ".join(versions),
                                           time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
               "",
               "| server | TLS | transport | offered | xtalk negotiated | result |",
               "| --- | --- | --- | --- | --- | --- |"]
        for c in cells():
            row = cls.results.get(c)
            if row is None:
                continue
            out.append("| %s |" % " | ".join(row))
        notes = sorted({known_failure(*c) for c in cells() if known_failure(*c)})
        if notes:
            out.append("")
            out += ["FAIL (to fix): %s." % n for n in notes]
        notes = sorted({refusal(*c)[0] for c in cells() if refusal(*c)})
        if notes:
            out.append("")
            out += ["refused (right): %s." % n for n in notes]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        sys.stderr.write("interop table: %s\n" % path)

    def login(self, srv, transport):
        direct = transport == "direct"
        port = srv.tls_port if direct else srv.port
        env = dict(os.environ, XTALK_PASSWORD=USERS["alice"],
                   XDG_CONFIG_HOME=os.path.join(srv.dir, "xdg-config-matrix"),
                   XDG_DATA_HOME=os.path.join(srv.dir, "xdg-data-matrix"))
        env.pop("XTALK_JID", None)
        # --no-store: no SASL hint from an earlier cell shapes the choice.
        cmd = WRAPPER + [XTALK, "send", "-v", "--no-store", "--jid", jid("alice", srv),
                         "--server", "127.0.0.1:%d" % port, "--ca-file", srv.ca_file,
                         "--timeout", str(20 * SLOW)]
        if direct:
            cmd.append("--direct-tls")
        return subprocess.run(cmd + [jid("bob", srv), "interop matrix"], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=60 * SLOW)

    def run_cell(self, server, tls, offer, transport):
        srv = self.server(server, tls, offer)
        r = self.login(srv, transport)
        offered, version, mech, binding = negotiated(r.stderr)
        # Strongest first (Prosody's own order varies between runs).
        shown = ", ".join(sorted(offered, key=lambda m: (PASSWORD_MECHS.index(m) if m in PASSWORD_MECHS
                                                         else len(PASSWORD_MECHS), m))) if offered else "?"
        if r.returncode == 0:
            got = mech or "?"
            if got.endswith("-PLUS"):
                got += " (%s)" % (binding or "?")
            result = "ok"
        else:
            got = "—"
            result = "**FAIL** (exit %d: %s)" % (r.returncode, error_line(r.stderr).replace("|", "/"))
        ref = refusal(server, tls, offer)
        if ref and r.returncode != 0:
            result = result.replace("**FAIL**", "refused (right)")
        self.results[(server, tls, offer, transport)] = [
            "Prosody" if server == "prosody" else "ejabberd", version or tls,
            "STARTTLS" if transport == "starttls" else "direct TLS", shown, got, result]
        if ref:
            self.assertEqual(r.returncode, 6, "expected a refusal: %s\n%s" % (ref[0], r.stderr[-3000:]))
            self.assertIn(ref[1], r.stderr)
            return
        self.assertEqual(r.returncode, 0, "%s\n%s" % (r.stdout, r.stderr[-3000:]))
        # The cell is what it says: the TLS version the server was limited
        # to, and (cut to one mechanism) that mechanism.
        self.assertEqual(version, tls, r.stderr[-2000:])
        if offer != ALL:
            self.assertEqual(offered, [offer], "the offer was not shaped as asked")
            self.assertEqual(mech, offer)

    def test_0_offer_is_as_expected(self):
        for (server, tls), offered in sorted(OFFERS.items()):
            srv = self.server(server, tls, ALL)
            r = self.login(srv, "starttls")
            got = negotiated(r.stderr)[0]
            # Prosody's order varies from run to run; the set is what counts.
            self.assertEqual(sorted(got or []), sorted(offered),
                             "%s on TLS %s offers %r, the matrix assumes %r" % (server, tls, got, offered))


def _add_cells():
    for c in cells():
        def run(self, c=c):
            self.run_cell(*c)
        reason = known_failure(*c)
        if reason:
            run.__doc__ = "expected to fail: " + reason
            run = unittest.expectedFailure(run)
        setattr(Matrix, cell_name(*c), run)


_add_cells()

if __name__ == "__main__":
    main()
