#!/usr/bin/env python3
"""A local HTTPS server for test_http (no XMPP server needed).

    https_stub.py DIR

Makes a throwaway CA and a certificate for 127.0.0.1 in DIR (openssl),
serves on a random loopback port, and prints one line

    PORT <port> CA <ca.pem>

then serves until stdin closes (the test ends: so it never outlives it).

    PUT  /store/NAME    stores the body, records the headers; 201 with a text body
    GET  /store/NAME    the stored body
    GET  /headers/NAME  the recorded request headers, "Name: value" lines
    PUT  /reset         reads 64 KiB of the body, then resets the connection
    PUT  /413           reads the body, answers 413 Payload Too Large
    PUT  /redirect      answers 307 to /store/redirected
    GET  /big           announces and sends 1,000,000 bytes
"""
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
ca_key, ca = os.path.join(d, 'ca.key'), os.path.join(d, 'ca.pem')
key, csr, crt = os.path.join(d, 'srv.key'), os.path.join(d, 'srv.csr'), os.path.join(d, 'srv.pem')
ext = os.path.join(d, 'ext.cnf')


def sh(*a):
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


sh('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
   '-nodes', '-keyout', ca_key, '-out', ca, '-days', '2', '-subj', '/CN=xtalk test_http CA')
with open(ext, 'w') as f:
    f.write('subjectAltName=IP:127.0.0.1\n')
sh('openssl', 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
   '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1')
sh('openssl', 'x509', '-req', '-in', csr, '-CA', ca, '-CAkey', ca_key, '-CAcreateserial',
   '-out', crt, '-days', '2', '-extfile', ext)

store, headers = {}, {}


class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def body(self, limit=None):
        n = int(self.headers.get('Content-Length', '0'))
        want = n if limit is None else min(n, limit)
        got = bytearray()
        while len(got) < want:
            chunk = self.rfile.read(min(65536, want - len(got)))
            if not chunk:
                break
            got += chunk
        return bytes(got)

    def answer(self, code, data=b'', extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path.startswith('/store/'):
            name = self.path[7:]
            headers[name] = ''.join('%s: %s\n' % kv for kv in self.headers.items())
            store[name] = self.body()
            self.answer(201, b'Upload successful.\n')  # as ejabberd says it
        elif self.path == '/reset':
            self.body(65536)
            s = self.connection
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            s.unwrap = None
            os.close(os.dup(s.fileno()))
            s.close()
            self.close_connection = True
        elif self.path == '/413':
            self.body()
            self.answer(413)
        elif self.path == '/redirect':
            self.body()
            self.answer(307, extra=[('Location', '/store/redirected')])
        else:
            self.answer(404)

    def do_GET(self):
        if self.path.startswith('/store/') and self.path[7:] in store:
            self.answer(200, store[self.path[7:]])
        elif self.path.startswith('/headers/') and self.path[9:] in headers:
            self.answer(200, headers[self.path[9:]].encode())
        elif self.path == '/big':
            self.answer(200, b'x' * 1000000)
        else:
            self.answer(404)


srv = ThreadingHTTPServer(('127.0.0.1', 0), H)
srv.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
print('PORT %d CA %s' % (srv.server_address[1], ca), flush=True)
sys.stdin.read()  # until the test closes our stdin (or dies)
