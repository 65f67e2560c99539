#!/usr/bin/env python3
"""`meson install` gives a library people can build against.

    check_install.py --meson MESON --cc CC --embed embed.c --version V
                     (--build-dir DIR | --setup SOURCE_ROOT [-DOPTION=VALUE...])

With --build-dir: installs that build (`meson install --destdir`, no
rebuild) into a temporary root. With --setup: first configures and builds
SOURCE_ROOT with the given -D options in a temporary directory (the
minimal configuration test: -Dcli=false -Dstore=false -Dtui=false -Dhttp=false
-Dtests=false, and -Ddefault_library=static to prove the .pc's private
requirements by linking statically).

Then checks the installed files (library, headers with the generated
xtalk/version.h, xtalk.pc, and the program and man page when the CLI is
built), and builds embed.c with nothing but `pkg-config --cflags --libs
xtalk` (--static for a static library) against that root
(PKG_CONFIG_PATH, PKG_CONFIG_SYSROOT_DIR), runs it against the installed
library (LD_LIBRARY_PATH) and compares what it prints.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit('FAILED (%d): %s\n%s%s' % (r.returncode, ' '.join(map(shlex.quote, cmd)),
                                                   r.stdout[-4000:], r.stderr[-4000:]))
    return r.stdout


def options(meson, build):
    opts = json.loads(run([meson, 'introspect', '--buildoptions', build]))
    return {o['name']: o['value'] for o in opts}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--meson', required=True)
    ap.add_argument('--cc', required=True, help='the C compiler command, shell-quoted')
    ap.add_argument('--embed', required=True)
    ap.add_argument('--version', required=True)
    ap.add_argument('--build-dir')
    ap.add_argument('--setup', metavar='SOURCE_ROOT')
    ap.add_argument('-D', action='append', default=[], dest='defs', metavar='OPTION=VALUE')
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix='xtalk-install-')
    ok = False
    try:
        if a.setup:
            build = os.path.join(tmp, 'build')
            run([a.meson, 'setup', build, a.setup] + ['-D' + d for d in a.defs])
            # One job: the machine is shared with the rest of the suite.
            run(['ninja', '-C', build, '-j1'])
        else:
            build = a.build_dir
        o = options(a.meson, build)
        root = os.path.join(tmp, 'root')
        run([a.meson, 'install', '-C', build, '--no-rebuild', '--destdir', root])

        def inst(*parts):  # an installed path under the temporary root
            return os.path.join(root, *[p.lstrip('/') for p in parts])

        prefix = o['prefix']
        libdir = os.path.join(prefix, o['libdir'])
        incdir = os.path.join(prefix, o['includedir'])
        static = o['default_library'] == 'static'
        expect = [inst(incdir, 'xtalk', h) for h in
                  ('xtalk.h', 'version.h', 'common.h', 'conn.h', 'client.h', 'jid.h', 'stanza.h')]
        expect.append(inst(libdir, 'pkgconfig', 'xtalk.pc'))
        expect.append(inst(libdir, 'libxtalk.a' if static else 'libxtalk.so.0'))
        if o['store']:
            expect.append(inst(incdir, 'xtalk', 'store.h'))
        if o['cli']:
            expect.append(inst(prefix, o['bindir'], 'xtalk'))
            expect.append(inst(prefix, o['mandir'], 'man1', 'xtalk.1'))
        missing = [p for p in expect if not os.path.exists(p)]
        if missing:
            print('not installed:\n  ' + '\n  '.join(missing))
            return 1
        unwanted = [p for p in (inst(incdir, 'xtalk', 'store.h'), inst(incdir, 'xtalk', 'meson.build'),
                                inst(incdir, 'xtalk', 'version.h.in'))
                    if os.path.exists(p) and not (p.endswith('store.h') and o['store'])]
        if unwanted:
            print('installed but should not be:\n  ' + '\n  '.join(unwanted))
            return 1
        with open(inst(incdir, 'xtalk', 'version.h')) as fh:
            vh = fh.read()
        want_store = '#define XT_HAVE_STORE %d' % (1 if o['store'] else 0)
        if ('#define XT_VERSION_STRING "%s"' % a.version) not in vh or want_store not in vh:
            print('installed xtalk/version.h does not match the build:\n' + vh)
            return 1

        env = dict(os.environ)
        env.update({
            'PKG_CONFIG_PATH': inst(libdir, 'pkgconfig'),
            'PKG_CONFIG_SYSROOT_DIR': root,
            # Keep -I/-L even where they look like system directories
            # (a --prefix=/usr build), so the sysroot applies to them.
            'PKG_CONFIG_ALLOW_SYSTEM_CFLAGS': '1',
            'PKG_CONFIG_ALLOW_SYSTEM_LIBS': '1',
        })
        pc = ['pkg-config'] + (['--static'] if static else [])
        cflags = shlex.split(run(pc + ['--cflags', 'xtalk'], env=env))
        libs = shlex.split(run(pc + ['--libs', 'xtalk'], env=env))
        if '-I' + inst(incdir) not in cflags or '-L' + inst(libdir) not in libs:
            print('pkg-config does not point into the installed tree:', cflags, libs)
            return 1
        with open(inst(libdir, 'pkgconfig', 'xtalk.pc')) as fh:
            pcs = fh.read()
        def field(name):  # package names in a Requires line, versions dropped
            m = re.search(r'^%s:(.*)$' % re.escape(name), pcs, re.M)
            return set(re.findall(r'[a-z][a-z0-9_-]*', re.sub(r'[<>=!]+\s*[0-9.]+', '', m.group(1) if m else '')))
        want = {'expat', 'openssl', 'libcares', 'libidn2'} | ({'sqlite3'} if o['store'] else set()) | \
            ({'libcurl'} if o.get('http') else set())
        # Shared: private, so a program is not linked against them itself.
        # Static only: meson makes them public (every user needs them).
        req, req_priv = field('Requires'), field('Requires.private')
        got = (req | req_priv) if static else req_priv
        if got != want or (req and not static) or '-lunistring' not in pcs:
            print('xtalk.pc: requires %s, private %s; expected %s%s, and -lunistring:\n%s'
                  % (sorted(req), sorted(req_priv), sorted(want), '' if static else ' all private', pcs))
            return 1

        # Each installed header compiles on its own (self-contained), with
        # the same strict flags as the program below.
        hdr_dir = inst(incdir, 'xtalk')
        for h in sorted(os.listdir(hdr_dir)):
            if h.endswith('.h'):
                r = subprocess.run(shlex.split(a.cc) + ['-std=c11', '-Wall', '-Wextra', '-pedantic', '-Werror',
                                                        '-fsyntax-only', '-x', 'c', '-'] + cflags,
                                   input='#include <xtalk/%s>\ntypedef int not_empty;\n' % h, capture_output=True, text=True)
                if r.returncode != 0:
                    print('the installed xtalk/%s does not compile on its own:\n%s' % (h, r.stderr[-3000:]))
                    return 1

        # A sanitized library needs a sanitized program (the runtime first).
        san = [] if o['b_sanitize'] == 'none' else ['-fsanitize=' + o['b_sanitize']]
        exe = os.path.join(tmp, 'embed')
        run(shlex.split(a.cc) + ['-std=c11', '-Wall', '-Wextra', '-pedantic', '-Werror'] + san +
            [a.embed, '-o', exe] + cflags + libs)
        env_run = dict(os.environ, LD_LIBRARY_PATH=inst(libdir))
        out = run([exe], env=env_run)
        lines = out.splitlines()
        if (len(lines) != 3 or lines[0] != 'version %s %s' % (a.version, a.version)
                or lines[1] != 'jid juliet@example.com balcony'
                or "<stream:stream to='example.com'" not in lines[2]):
            print('embed printed:\n' + out)
            return 1
        if not static:
            ldd = run(['ldd', exe], env=env_run)
            m = re.search(r'libxtalk\.so\.0 => (\S+)', ldd)
            if not m or not os.path.realpath(m.group(1)).startswith(os.path.realpath(root)):
                print('embed did not load the installed libxtalk:\n' + ldd)
                return 1
        if o['cli']:
            # The installed program runs on the installed library.
            xt = inst(prefix, o['bindir'], 'xtalk')
            got = run([xt, '--version'], env=env_run).strip()
            if got != 'xtalk %s (libxtalk %s)' % (a.version, a.version):
                print('installed xtalk --version printed %r' % got)
                return 1
            if not static:
                m = re.search(r'libxtalk\.so\.0 => (\S+)', run(['ldd', xt], env=env_run))
                if not m or not os.path.realpath(m.group(1)).startswith(os.path.realpath(root)):
                    print('the installed xtalk does not load the installed libxtalk')
                    return 1
        print('installed under %s (%s library, cli %s, store %s); embed built with pkg-config and ran:\n%s'
              % (prefix, 'static' if static else 'shared', o['cli'], o['store'], out.rstrip()))
        ok = True
        return 0
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print('kept for inspection:', tmp)


if __name__ == '__main__':
    sys.exit(main())
