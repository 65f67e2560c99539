#!/usr/bin/env python3
"""libxtalk.so needs no library that only an optional part uses at run time.

    check_needed.py LIBXTALK_SO

libcurl serves only xtalk/http.h (XEP-0363 transfers) and brings 25 more
shared libraries (GnuTLS, Kerberos, LDAP, SSH...) into every process that
links it: 7.5 M instructions and 4-8 ms before main on this machine, in
every `xtalk send` and every login timed from process start (issue 14).
So src/net/curl_lazy.c loads it on the first xt_http_new; a DT_NEEDED
entry for it would undo that without failing anything else.

Runs a self-test on made-up lists first.
"""
import re
import subprocess
import sys

# Loaded on first use, never at start (sonames' stems).
LAZY = ('libcurl',)


def problems(needed):
    return ['libxtalk.so needs %s at start: it is loaded on first use (src/net/curl_lazy.c)' % n
            for n in needed if n.startswith(LAZY)]


def needed(lib):
    out = subprocess.run(['readelf', '-d', lib], check=True, capture_output=True, text=True).stdout
    return re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]', out)


def self_test():
    assert problems(['libssl.so.3', 'libcurl.so.4'])
    assert problems(['libcurl-gnutls.so.4'])
    assert not problems(['libssl.so.3', 'libc.so.6'])


def main():
    self_test()
    n = needed(sys.argv[1])
    if not n:
        print('no NEEDED entries read from %s' % sys.argv[1])
        return 1
    p = problems(n)
    for line in p:
        print(line)
    return 1 if p else 0


if __name__ == '__main__':
    sys.exit(main())
