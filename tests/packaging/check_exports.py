#!/usr/bin/env python3
"""libxtalk.so exports exactly the public API.

    check_exports.py LIBXTALK_SO PUBLIC_INCLUDE_DIR GENERATED_VERSION_H [XTALK_PROGRAM]

Every dynamic symbol the library defines (nm -D --defined-only) must start
with xt_ and be declared XT_EXTERN in a public header (include/xtalk/);
every XT_EXTERN declaration must be exported (a header must not promise
a function an application cannot link); xtalk.h includes every public
header. store.h counts only when the
library was built with the store (XT_HAVE_STORE in xtalk/version.h).
The xtalk program links this library and nothing else of ours, so this is
also everything the CLI can reach: given the program, checks that it needs
libxtalk.so.0 and defines none of the library's functions itself (no
copy of a layer's static library linked in beside it).

Runs a self-test on made-up lists first, so the check cannot pass by
comparing two empty sets.
"""
import os
import re
import subprocess
import sys

# Defined by the linker in every shared object on some toolchains.
LINKER_SYMBOLS = {'_init', '_fini', '_edata', '_end', '__bss_start'}
DECL_RE = re.compile(r'\bXT_EXTERN\b[^;{]*?\b(xt_[A-Za-z0-9_]+)\s*\(', re.S)


def exported(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            syms.add(parts[2].split('@')[0])
    return syms - LINKER_SYMBOLS


def declared(include_dir, have_store):
    names = set()
    for dirpath, _, files in os.walk(include_dir):
        for f in files:
            if not f.endswith('.h') or (f == 'store.h' and not have_store):
                continue
            with open(os.path.join(dirpath, f)) as fh:
                text = re.sub(r'/\*.*?\*/', ' ', fh.read(), flags=re.S)
            names.update(DECL_RE.findall(text))
    return names


def program_problems(prog, exp):
    out = []
    dyn = subprocess.run(['readelf', '-d', prog], check=True, capture_output=True, text=True).stdout
    if '[libxtalk.so.0]' not in dyn:
        out.append('%s does not link libxtalk.so.0' % prog)
    nm = subprocess.run(['nm', '--defined-only', prog], check=True, capture_output=True, text=True).stdout
    own = {line.split()[2] for line in nm.splitlines() if len(line.split()) >= 3}
    for s in sorted(own & exp):
        out.append('%s defines the library function %s itself' % (prog, s))
    return out


def umbrella_problems(include_dir, have_store):
    """xtalk.h includes every header directly in include/xtalk/ (headers in
    subdirectories, such as event-loop adapters, need other libraries and
    are included by the application itself)."""
    def includes(name):
        with open(os.path.join(include_dir, name)) as fh:
            return {os.path.basename(n) for n in
                    re.findall(r'^\s*#\s*include\s*["<]([^">]+)[">]', fh.read(), re.M)}
    included = includes('xtalk.h')
    # The generated version.h comes with common.h, so with every header.
    if 'common.h' in included:
        included |= includes('common.h')
    out = []
    for f in sorted(os.listdir(include_dir)):
        if f.endswith('.h') and f != 'xtalk.h' and f not in included and (f != 'store.h' or have_store):
            out.append('xtalk.h does not include the public header %s' % f)
    if 'version.h' not in included:
        out.append('xtalk.h does not include the generated xtalk/version.h')
    return out


def problems(exp, decl):
    out = []
    for s in sorted(exp):
        if not s.startswith('xt_'):
            out.append('exported without the xt_ prefix: %s' % s)
        elif s not in decl:
            out.append('exported but in no public header (an internal symbol marked XT_EXTERN?): %s' % s)
    for s in sorted(decl - exp):
        out.append('declared XT_EXTERN in include/xtalk/ but not exported: %s' % s)
    return out


def self_test():
    exp = {'xt_a', 'xt_internal', 'helper'}
    decl = {'xt_a', 'xt_missing'}
    got = problems(exp, decl)
    if len(got) != 3 or not all(any(n in g for g in got) for n in ('helper', 'xt_internal', 'xt_missing')):
        print('self-test FAILED:', got)
        return False
    if problems({'xt_a'}, {'xt_a'}):
        print('self-test FAILED: a matching set is reported')
        return False
    text = 'XT_EXTERN int\nxt_two_lines(int a);\n/* XT_EXTERN int xt_commented(void); */'
    if set(DECL_RE.findall(re.sub(r'/\*.*?\*/', ' ', text, flags=re.S))) != {'xt_two_lines'}:
        print('self-test FAILED: declaration parsing')
        return False
    return True


def main():
    lib, include_dir, version_h = sys.argv[1:4]
    if not self_test():
        return 1
    with open(version_h) as fh:
        have_store = re.search(r'#define XT_HAVE_STORE 1\b', fh.read()) is not None
    exp, decl = exported(lib), declared(include_dir, have_store)
    if len(exp) < 20:
        print('only %d exported symbols found in %s: not the library?' % (len(exp), lib))
        return 1
    bad = problems(exp, decl) + umbrella_problems(include_dir, have_store)
    if len(sys.argv) > 4:
        bad += program_problems(sys.argv[4], exp)
    for b in bad:
        print(b)
    if bad:
        return 1
    print('%d exported symbols, all xt_ and all declared in include/xtalk/%s' %
          (len(exp), '; %s uses them from libxtalk.so.0' % sys.argv[4] if len(sys.argv) > 4 else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
