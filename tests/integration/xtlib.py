"""Shared helpers for the integration tests: a private server per test
class (Prosody or ejabberd), and running the real `xtalk` binary against it.

Environment (set by tests/meson.build):
  XTALK_BIN   the xtalk binary under test
  XT_WRAPPER  optional command prefix, e.g. "valgrind --error-exitcode=99 ..."
  XT_SERVER   prosody (default) or ejabberd: which server the tests run
              against; meson registers each integration test once per server
              (`messaging`, `messaging-ejabberd`)
  XT_EJABBERD_TLS13
              0 to limit ejabberd to TLS 1.2; by default it runs on TLS 1.3,
              its stock setting on Debian 12 (issue 11: ejabberd 23.01
              binds only tls-unique, which TLS 1.3 lacks, and xtalk logs in
              with its one retry without binding); test_interop_matrix
              covers both versions whatever this says.
"""

import functools
import json
import os
import queue
import shlex
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from ejabberd import Ejabberd  # noqa: E402
from prosody import Prosody  # noqa: E402

XTALK = os.environ.get("XTALK_BIN", os.path.join(HERE, "..", "..", "build", "cli", "xtalk"))
WRAPPER = shlex.split(os.environ.get("XT_WRAPPER", ""))
# Under valgrind everything is ~20x slower.
SLOW = 20 if WRAPPER else 1


def _asan_build():
    try:
        with open(XTALK, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# The xtalk under test is built with AddressSanitizer.
ASAN = _asan_build()
USERS = {"alice": "alice-Secret-1", "bob": "bob-Secret-2", "carol": "carol-Secret-3"}
SERVER = os.environ.get("XT_SERVER", "prosody")
if SERVER not in ("prosody", "ejabberd"):
    raise SystemExit("XT_SERVER must be prosody or ejabberd, not %r" % SERVER)
EJABBERD_TLS13 = os.environ.get("XT_EJABBERD_TLS13", "1") != "0"


def make_server(users, **kw):
    """A private server of the kind XT_SERVER names, not started yet."""
    if SERVER == "ejabberd":
        return Ejabberd(users=users, tls13=EJABBERD_TLS13, **kw)
    return Prosody(users=users, **kw)


def skip_on(server, reason):
    """Skips a test (or class) on one server, saying why: a feature that
    server lacks, never a silent gap."""
    return unittest.skipIf(SERVER == server, "not on %s: %s" % (server, reason))


def expected_failure_on(server, reason):
    """Marks a test as failing on one server today, for a known reason
    (printed when it runs): it is still run, and its passing is reported
    as an unexpected success, so whoever fixes the cause flips it."""
    def deco(f):
        if SERVER != server:
            return f

        @functools.wraps(f)
        def run(*a, **kw):
            sys.stderr.write("expected to fail on %s: %s\n" % (server, reason))
            return f(*a, **kw)
        return unittest.expectedFailure(run)
    return deco


def jid(user, server):
    return "%s@%s" % (user, server.domain)


class ServerTest(unittest.TestCase):
    """One private server (XT_SERVER: Prosody or ejabberd) for every test
    in the class."""

    srv = None
    # The commands a class tests. Under valgrind only they run wrapped;
    # None: every xtalk the class starts. A class whose other xtalk runs
    # are helpers (the other person sending, a listener as witness) names
    # its subject: those helpers are the commands other tests run under
    # valgrind, and wrapping them cost test_chat most of its 5 minutes
    # there.
    SUBJECTS = None

    @classmethod
    def setUpClass(cls):
        srv = make_server(USERS)
        try:
            cls.srv = srv.start()
        except BaseException:
            # tearDownClass does not run when setUpClass fails: the
            # server's directory (and any half-started node) goes here.
            srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv:
            cls.srv.cleanup()

    def setUp(self):
        self.procs = []

    def slix_popen(self, script, address, *args, env, stdin=subprocess.PIPE):
        """A slixmpp helper of this directory (`script`: slix_im.py,
        slix_muc.py, slix_peer.py, slix_upload.py) logged in as `address`
        (a JID) on this class's server, `args` after its port and CA file;
        stdout and stderr piped, stopped with the test. Debian's python3 is
        the one with python3-slixmpp (not a pyenv one on PATH)."""
        p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, script), address,
                              str(self.srv.port), self.srv.ca_file] + list(args), env=env,
                             stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        self.procs.append(p)
        return p

    def tearDown(self):
        # SIGTERM first: a listener's clean close acknowledges what it
        # showed. Killed, it may have shown a burst whose repeat records
        # and ack it had not written yet, and the server then hands those
        # messages to the next test's listener again (shown twice rather
        # than lost: cli/dedup.h). SIGKILL only for one that hangs.
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10 * SLOW)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            for f in (p.stdout, p.stderr, p.stdin):
                if f:
                    f.close()

    # -- running xtalk -----------------------------------------------------
    def argv(self, user, *args, ca=True, server=True, direct_tls=False):
        wrap = WRAPPER if self.SUBJECTS is None or args[:1] and args[0] in self.SUBJECTS else []
        cmd = wrap + [XTALK] + list(args[:1]) + ["--jid", jid(user, self.srv)]
        if server:
            port = self.srv.tls_port if direct_tls else self.srv.port
            cmd += ["--server", "127.0.0.1:%d" % port]
        if direct_tls:
            cmd += ["--direct-tls"]
        if ca:
            cmd += ["--ca-file", self.srv.ca_file]
        return cmd + list(args[1:])

    def env(self, user, password=None, **extra):
        e = dict(os.environ)
        e.pop("XTALK_JID", None)
        e["XTALK_PASSWORD"] = USERS[user] if password is None else password
        # No config file from the developer's home may leak in.
        e["XDG_CONFIG_HOME"] = os.path.join(self.srv.dir, "xdg-config-" + user)
        e["XDG_DATA_HOME"] = os.path.join(self.srv.dir, "xdg-data-" + user)
        e.update(extra)
        return e

    def xtalk(self, user, *args, input=None, timeout=30, password=None, env=None, **kw):
        """Runs xtalk to completion; returns CompletedProcess (text)."""
        e = self.env(user, password)
        e.update(env or {})
        return subprocess.run(self.argv(user, *args, **kw), input=input, env=e,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout * SLOW)

    def spawn(self, user, *args, password=None, env=None, **kw):
        """Starts a long-running xtalk (listen, bot); returns a Proc."""
        e = self.env(user, password)
        e.update(env or {})
        p = subprocess.Popen(self.argv(user, *args, **kw), env=e, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return Proc(p)

    def assertOk(self, r, what=""):
        self.assertEqual(r.returncode, 0, "%s exit %d\nstdout: %s\nstderr: %s"
                         % (what, r.returncode, r.stdout, r.stderr))


class Proc:
    """A running xtalk whose stdout/stderr lines are read by threads."""

    def __init__(self, p):
        self.p = p
        self.out = queue.Queue()
        self.err_lines = []
        # Set once every stdout line is in `out` (the process closed it):
        # "all it printed" is an event to wait for, not a quiet spell.
        self.out_done = threading.Event()
        threading.Thread(target=self._pump, args=(p.stdout, self.out.put, self.out_done),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(p.stderr, self.err_lines.append, None),
                         daemon=True).start()

    @staticmethod
    def _pump(f, put, done):
        for line in f:
            put(line.rstrip("\n"))
        if done:
            done.set()

    def rest(self, timeout=15):
        """Every stdout line not read yet, once the process has exited."""
        self.wait(timeout)
        if not self.out_done.wait(timeout * SLOW):
            raise AssertionError("stdout never closed")
        lines = []
        while not self.out.empty():
            lines.append(self.out.get_nowait())
        return lines

    def line(self, timeout=15):
        """Next stdout line, or AssertionError after timeout seconds."""
        try:
            return self.out.get(timeout=timeout * SLOW)
        except queue.Empty:
            raise AssertionError("no output within %ss; exit=%s stderr:\n%s"
                                 % (timeout, self.p.poll(), "\n".join(self.err_lines)))

    def json_until(self, pred, timeout=15):
        """Reads JSON lines until pred(obj) is true; returns obj."""
        end = time.monotonic() + timeout * SLOW
        seen = []
        while time.monotonic() < end:
            try:
                l = self.out.get(timeout=max(0.05, end - time.monotonic()))
            except queue.Empty:
                break
            obj = json.loads(l)  # every line must be one JSON object
            seen.append(obj)
            if pred(obj):
                return obj
        raise AssertionError("no matching JSON line in %ss; saw %r; stderr:\n%s"
                             % (timeout, seen, "\n".join(self.err_lines)))

    def wait_stderr(self, needle, timeout=15):
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            if any(needle in l for l in self.err_lines):
                return
            time.sleep(0.05)
        raise AssertionError("stderr never said %r:\n%s" % (needle, "\n".join(self.err_lines)))

    def wait(self, timeout=15):
        return self.p.wait(timeout * SLOW)

    def terminate(self):
        self.p.terminate()
        return self.wait()


class _TimedResult(unittest.TextTestResult):
    """Each case's wall time on stderr ("case 12.3 s test_x"): the suite's
    time is measured from meson's testlog, where this lands (issue: keep
    CI under its budget; find the slow cases without guessing)."""

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        sys.stderr.write("case %.1f s %s\n" % (time.monotonic() - self._t0, test.id()))


def main():
    unittest.main(verbosity=2, testRunner=unittest.TextTestRunner(resultclass=_TimedResult,
                                                                  verbosity=2))
