#!/usr/bin/env python3
"""What the private test servers share (prosody.py, ejabberd.py): free
loopback ports, the throwaway CA and its certificate, and the life of a
server process started as a child of ours: start (with new ports when
another program took one first), readiness from its log, stop by PID
(SIGTERM, then SIGKILL to its process group), restart, cleanup, and the
`start DIR` / `stop DIR` commands' shared part.

A server class sets `name` and LOG_FILES, and implements write_config()
(which picks ports when self.port is None), _pick_ports() and
_start_once(timeout) (True once ready, False when a port was taken).
"""

import os
import shutil
import signal
import socket
import subprocess
import time

DOMAIN = "localhost"


def free_port():
    """A port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct free ports."""
    ports = []
    while len(ports) < n:
        p = free_port()
        if p not in ports:
            ports.append(p)
    return ports


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


def make_ca_and_cert(d, names=(DOMAIN,)):
    """A CA and a leaf for `names` signed by it, with the openssl tool.
    Returns (ca_file, cert_file, key_file)."""
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(d, "server.ext")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=xtalk test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=%s" % names[0]])
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=%s\n" % ",".join("DNS:" + n for n in names))
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext])
    os.chmod(key, 0o600)
    return ca_crt, crt, key


def write_env_file(d, lines):
    """DIR/env for `stop DIR` and the shell (passwords inside: mode 600)."""
    with open(os.path.join(d, "env"), "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write("\n".join(lines) + "\n")


def stop_pid(pid, tries, group=False):
    """SIGTERM to pid, then SIGKILL (to its process group with `group`)
    if it still runs after `tries` tenths of a second."""
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(tries):
            os.kill(pid, 0)
            time.sleep(0.1)
        if group:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Server:
    """A server process of ours; see the module's comment."""
    name = "server"
    LOG_FILES = ()        # paths under dir, for log_tail
    START_TIMEOUT = 60.0
    STOP_TIMEOUT = 10.0

    def __init__(self, users=None, dir=None, prefix="xtalk-server-"):
        self.users = dict(users or {})
        self._own_dir = dir is None
        self.dir = dir or tempfile_dir(prefix)
        self.domain = DOMAIN
        self.proc = None
        self._logf = None
        self._started_once = False
        self.port = self.tls_port = None
        self.ca_file = self.cert = self.key = None

    # -- set-up ------------------------------------------------------------
    def ensure_cert(self):
        if not self.ca_file:
            self.ca_file, self.cert, self.key = make_ca_and_cert(self.dir)

    def start(self, timeout=None):
        """Starts the server and returns once it is ready. The ports of a
        first start are picked free, but another program (another test
        run on the machine) may take one before the server binds it: then
        new ones are picked and it starts again. A restart keeps its ports
        (clients reconnect to them). The timeout is a safety net for a
        loaded machine, not an expected duration."""
        timeout = self.START_TIMEOUT if timeout is None else timeout
        first = not self._started_once
        for attempt in range(5):
            if self._start_once(timeout):
                self._started_once = True
                return self
            if not first:
                break
            self.port = None  # write_config picks new ones
        raise RuntimeError("%s could not open its ports %s and %s:\n%s"
                           % (self.name, self.port, self.tls_port, self.log_tail()))

    def spawn(self, argv, stdout_log, env=None):
        """The server process, in its own session (its process group is
        ours to kill), output appended to stdout_log."""
        self._logf = open(stdout_log, "a")
        self.proc = subprocess.Popen(argv, env=env, stdout=self._logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return self.proc

    @staticmethod
    def _log_since(path, offset):
        try:
            with open(path, errors="replace") as f:
                f.seek(offset)
                return f.read()
        except OSError:
            return ""

    @staticmethod
    def _listening(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def log_tail(self, n=40):
        out = []
        for name in self.LOG_FILES:
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += f.readlines()[-n:]
            except OSError:
                pass
        return "".join(out)

    # -- control -----------------------------------------------------------
    def stop(self, timeout=None, kill_group=False):
        """SIGTERM (the server closes every stream with system-shutdown),
        then SIGKILL to its process group; with kill_group the group is
        killed after a clean exit too (helpers that outlive it)."""
        timeout = self.STOP_TIMEOUT if timeout is None else timeout
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc and kill_group:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
        if self._logf:
            self._logf.close()
            self._logf = None

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def env(self):
        """Environment for running xtalk against this server (password aside)."""
        return {
            "XTALK_SERVER": "127.0.0.1:%d" % self.port,
            "XTALK_CA_FILE": self.ca_file,
        }

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def tempfile_dir(prefix):
    import tempfile
    return tempfile.mkdtemp(prefix=prefix)
