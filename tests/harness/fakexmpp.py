#!/usr/bin/env python3
"""A scripted, hostile XMPP server for tests (issue 12 item 6): one
connection on loopback, real STARTTLS with a certificate from its own
test CA (prosody.make_ca_and_cert), then whatever the test's script does
with the TLS socket.

    with FakeXmpp(domain, script) as fx:
        ... run xtalk with --server 127.0.0.1:fx.port --ca-file fx.ca_file ...
    fx.received   # every byte the client sent after TLS, decoded
    fx.error      # an exception the script raised, or None

`script(conn)` gets a Conn with send(text), send_records(bytes, size)
(one TLS record per `size` bytes: the 1-byte-record attack), read_until
(needle) and the login steps (`header`, `features`, `plain_login`). The
server serves one connection, in a thread, and closes it when the script
returns.
"""

import os
import re
import socket
import ssl
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prosody import make_ca_and_cert  # noqa: E402

NS = ("xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'")


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock, domain, ctx):
        self.sock = sock
        self.domain = domain
        self.ctx = ctx
        self.buf = b""
        self.received = b""
        self.tls = False

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def send_records(self, data, size=1):
        """data in writes of `size` bytes: over TLS, one record each."""
        for i in range(0, len(data), size):
            self.sock.sendall(data[i:i + size])

    def read_until(self, needle, limit=1 << 20):
        """Reads until `needle` (a regex, bytes) has arrived; returns the
        text up to and including it, keeping the rest."""
        rx = re.compile(needle)
        while True:
            m = rx.search(self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out.decode("utf-8", "replace")
            if len(self.buf) > limit:
                raise Closed("no %r in %d bytes" % (needle, len(self.buf)))
            d = self.sock.recv(65536)
            if not d:
                raise Closed("the client closed the connection")
            self.buf += d
            if self.tls:
                self.received += d

    def seen(self, needle):
        """Waits until `needle` (a regex, bytes) matches somewhere in all
        the client sent since TLS, consuming nothing; returns the match."""
        rx = re.compile(needle, re.S)
        while True:
            m = rx.search(self.received)
            if m:
                return m
            d = self.sock.recv(65536)
            if not d:
                raise Closed("the client closed the connection")
            self.buf += d
            self.received += d

    def drain(self):
        """Reads until the client closes."""
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def answer_abort(self):
        """Until the client closes: an <abort/> (of an exchange it started
        ahead of the features, from its hint) gets <failure><aborted/>,
        RFC 6120 §6.4.4."""
        n = 0
        try:
            while True:
                m = list(re.finditer(rb"<abort[ />]", self.received))
                for _ in m[n:]:
                    self.send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/>"
                              "</failure>")
                n = len(m)
                d = self.sock.recv(65536)
                if not d:
                    return
                self.received += d
        except OSError:
            return

    def header(self, sid="s1"):
        """Reads the client's stream header, sends ours."""
        self.read_until(rb"<stream:stream[^>]*>")
        self.send("<?xml version='1.0'?><stream:stream %s from='%s' id='%s' version='1.0' "
                  "xml:lang='en'>" % (NS, self.domain, sid))

    def starttls(self):
        """Header, STARTTLS offered and done."""
        self.header("s0")
        self.send("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                  "<required/></starttls></stream:features>")
        self.read_until(rb"<starttls[^>]*>")
        self.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.buf = b""
        self.sock = self.ctx.wrap_socket(self.sock, server_side=True)
        self.tls = True

    def features(self, mechanisms, cb_types=None):
        """The post-TLS header and a SASL offer."""
        self.header("s1")
        m = "".join("<mechanism>%s</mechanism>" % x for x in mechanisms)
        cb = ""
        if cb_types is not None:
            cb = ("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>%s</sasl-channel-binding>"
                  % "".join("<channel-binding type='%s'/>" % t for t in cb_types))
        self.send("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s"
                  "</mechanisms>%s</stream:features>" % (m, cb))

    def plain_login(self, jid, sm=True, roster=""):
        """PLAIN accepted, resource bound, the roster answered; XEP-0198
        enabled when the client asks (and `sm`)."""
        self.features(["PLAIN"])
        self.read_until(rb"<auth[^>]*>[^<]*</auth>")
        self.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        self.header("s2")
        sm_f = "<sm xmlns='urn:xmpp:sm:3'/>" if sm else ""
        self.send("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>%s"
                  "</stream:features>" % sm_f)
        bind = self.read_until(rb"<iq[^>]*>.*?</iq>")
        bid = re.search(r"id='([^']*)'|id=\"([^\"]*)\"", bind)
        full = jid + "/fake"
        self.send("<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  "<jid>%s</jid></bind></iq>" % (bid.group(1) or bid.group(2), full))
        return full

    def answer_roster(self, items=""):
        m = self.seen(rb"<iq[^>]*id=['\"]([^'\"]*)['\"][^>]*>\s*<query xmlns=.jabber:iq:roster")
        rid = m.group(1).decode()
        self.send("<iq type='result' id='%s'><query xmlns='jabber:iq:roster'>%s</query></iq>"
                  % (rid, items))


class FakeXmpp:
    def __init__(self, domain, script):
        self.domain = domain
        self.script = script
        self.dir = tempfile.mkdtemp(prefix="xt-fake-")
        self.ca_file, cert, key = make_ca_and_cert(self.dir, names=(domain,))
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.received = ""
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        conn = None
        try:
            s, _ = self.lsock.accept()
            conn = Conn(s, self.domain, self.ctx)
            conn.starttls()
            self.script(conn)
        except (Closed, OSError, ssl.SSLError) as e:
            self.error = e
        except Exception as e:  # the script's own failure
            self.error = e
        finally:
            if conn:
                self.received = conn.received.decode("utf-8", "replace")
                try:
                    conn.sock.close()
                except OSError:
                    pass
            self.done.set()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.lsock.close()
        self.done.wait(30)
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)
