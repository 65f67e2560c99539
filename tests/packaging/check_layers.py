#!/usr/bin/env python3
"""Fails on an #include that crosses the layers against their arrows.

    check_layers.py SOURCE_ROOT

STYLE.md: arrows point down only, net -> im -> core -> xml -> base, the
store beside them; cli/ (the xtalk program) and examples/ use only the
public headers in include/xtalk/; the core never includes a net/ or im/
header. src/net/ drives xt_conn from outside, so it gets from the protocol
layers only what any other driver gets: include/xtalk/ (issue 10, "No side
doors"). The public headers include only each other.

Each #include "..." (and <...> that names a project header) is resolved
the way the build's include path does (the including file's directory,
then src/ for the library's layers, then include/) and the file it lands
on decides its layer. A quoted include that resolves to nothing is an
error too: a renamed header must not hide a violation.

The build enforces most of this too (meson.build: each layer compiles with
build/layers/<layer>/ on its include path, links to the layers it may
see); this check gives the reason in words, and covers net (whose build
still sees im, core and xml for the known violation below), cli/ and
examples/.

Runs a self-test first (a made-up tree with one violation of each kind
that must all be reported), so this check cannot pass by finding nothing.
"""
import os
import re
import sys
import tempfile

# Which layers a file of each layer may include. 'public' is
# include/xtalk/ (and the generated xtalk/version.h).
ALLOWED = {
    'base': {'base', 'public'},
    'xml': {'xml', 'base', 'public'},
    'core': {'core', 'xml', 'base', 'public'},
    'im': {'im', 'core', 'xml', 'base', 'public'},
    'net': {'net', 'base', 'public'},
    'store': {'store', 'base', 'public'},
    'cli': {'cli', 'public'},
    'examples': {'examples', 'public'},
    'public': {'public'},
}

# Known violations being removed, each with who removes it. The check
# passes while they are there and fails once one is gone, so its line here
# is deleted with it (the list only shrinks).
KNOWN = {
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SOURCE_EXT = ('.c', '.h')


def layer_of(root, path):
    """The layer a file belongs to, from where it is; None outside them."""
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root)).split(os.sep)
    if rel[0] == 'src' and len(rel) > 2:
        return rel[1]
    if rel[0] == 'include' and len(rel) > 2 and rel[1] == 'xtalk':
        return 'public'
    if rel[0] in ('cli', 'examples') and len(rel) > 1:
        return rel[0]
    return None


def search_path(root, layer, including_dir):
    dirs = [including_dir]
    if layer in ('cli', 'examples'):
        dirs.append(os.path.join(root, layer))
    elif layer != 'public':
        dirs.append(os.path.join(root, 'src'))
    dirs.append(os.path.join(root, 'include'))
    return dirs


def resolve(root, layer, including_dir, name):
    for d in search_path(root, layer, including_dir):
        p = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(p):
            return p
        # Generated at configure time (include/xtalk/version.h.in).
        if os.path.isfile(p + '.in') and layer_of(root, p + '.in') == 'public':
            return p + '.in'
    return None


def scan(root, known):
    """Returns (violations, known_seen): lists of (file, include, why)."""
    bad, known_seen = [], set()
    dirs = [os.path.join(root, 'src'), os.path.join(root, 'cli'),
            os.path.join(root, 'examples'), os.path.join(root, 'include', 'xtalk')]
    for top in dirs:
        for dirpath, _, files in os.walk(top):
            for f in sorted(files):
                if not f.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                layer = layer_of(root, path)
                if layer not in ALLOWED:
                    bad.append((rel, '', 'directory %r is no known layer: give it a rule in '
                                'tests/packaging/check_layers.py ALLOWED' % os.path.dirname(rel)))
                    continue
                with open(path, encoding='utf-8', errors='replace') as fh:
                    text = fh.read()
                for m in INCLUDE_RE.finditer(text):
                    quote, name = m.group(1), m.group(2)
                    target = resolve(root, layer, dirpath, name)
                    if target is None:
                        if quote == '"':
                            bad.append((rel, name, 'resolves to no file on the include path'))
                        continue  # a system header
                    tlayer = layer_of(root, target)
                    if tlayer is None:
                        bad.append((rel, name, 'reaches outside the layers (%s)' %
                                    os.path.relpath(target, root)))
                    elif tlayer not in ALLOWED[layer]:
                        if (rel, name) in known:
                            known_seen.add((rel, name))
                            continue
                        bad.append((rel, name, 'a %s file may include only %s headers, this is %s' %
                                    (layer, '/'.join(sorted(ALLOWED[layer])), tlayer)))
    return bad, known_seen


def farm_problems(root, known_layers):
    """meson.build's xt_layer_sees (what each layer's include path shows)
    must not show a layer more than ALLOWED, except where a KNOWN
    violation still needs it."""
    path = os.path.join(root, 'meson.build')
    if not os.path.isfile(path):
        return []
    with open(path) as fh:
        text = fh.read()
    m = re.search(r'xt_layer_sees\s*=\s*\{(.*?)\n\}', text, re.S)
    if not m:
        return ["no xt_layer_sees table found"]
    out = []
    for layer, sees in re.findall(r"'(\w+)'\s*:\s*\[([^\]]*)\]", m.group(1)):
        seen = set(re.findall(r"'(\w+)'", sees))
        extra = seen - ALLOWED.get(layer, set())
        if extra and layer not in known_layers:
            out.append("xt_layer_sees lets %s see %s, which check_layers.py does not allow "
                       "(no KNOWN violation needs it any more: make it %s)"
                       % (layer, '/'.join(sorted(extra)), sorted(seen - extra)))
    return out


def self_test():
    """A tree with one violation of each kind; all must be found."""
    files = {
        'src/base/mem.h': '',
        'src/xml/parser.h': '#include "base/mem.h"\n#include "xtalk/common.h"\n',
        'src/core/stream.c': '#include "xml/parser.h"\n#include "net/tls.h"\n',   # core -> net
        'src/im/conn_int.h': '#include "core/stream.h"\n',
        'src/core/stream.h': '#include <stdio.h>\n#include "core/gone.h"\n',      # dangling
        'src/net/tls.h': '#include "xml/parser.h"\n',                             # net -> xml
        'src/net/client.c': '#include "im/conn_int.h"\n',                         # known
        'include/xtalk/common.h': '#include "xtalk/version.h"\n',
        'include/xtalk/version.h.in': '',
        'include/xtalk/conn.h': '#include "common.h"\n#include "../../src/base/mem.h"\n',  # public -> base
        'cli/main.c': '#include "args.h"\n#include "xtalk/conn.h"\n#include "core/stream.h"\n',  # cli -> src
        'cli/args.h': '',
        'src/newlayer/x.c': '',                                                   # no rule
    }
    with tempfile.TemporaryDirectory() as d:
        for p, text in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(p)), exist_ok=True)
            with open(os.path.join(d, p), 'w') as fh:
                fh.write(text)
        bad, known = scan(d, {('src/net/client.c', 'im/conn_int.h'): 'test'})
        with open(os.path.join(d, 'meson.build'), 'w') as fh:
            fh.write("xt_layer_sees = {\n  'core' : ['core', 'im'],\n  'net' : ['net', 'im'],\n}\n")
        farm = farm_problems(d, {'net'})
    if len(farm) != 1 or 'lets core see im' not in farm[0]:
        print('self-test FAILED: include-path table check reports %s' % farm)
        return False
    found = sorted((f, i) for f, i, _ in bad)
    want = sorted([('src/core/stream.c', 'net/tls.h'), ('src/core/stream.h', 'core/gone.h'),
                   ('src/net/tls.h', 'xml/parser.h'), ('include/xtalk/conn.h', '../../src/base/mem.h'),
                   ('cli/main.c', 'core/stream.h'), ('src/newlayer/x.c', '')])
    if found != want or known != {('src/net/client.c', 'im/conn_int.h')}:
        print('self-test FAILED: the checker reports\n  %s\nand known %s, expected\n  %s' %
              (found, sorted(known), want))
        return False
    return True


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
    if not self_test():
        return 1
    bad, known_seen = scan(root, KNOWN)
    stale = sorted(set(KNOWN) - known_seen)
    for f, name in stale:
        print('%s no longer includes "%s": delete its line from KNOWN in tests/packaging/check_layers.py'
              % (f, name))
    bad += [('meson.build', '', p) for p in
            farm_problems(root, {layer_of(root, os.path.join(root, f)) for f, _ in known_seen})]
    for f, name, why in bad:
        print('%s: #include "%s": %s' % (f, name, why) if name else '%s: %s' % (f, why))
    for (f, name), who in sorted(KNOWN.items()):
        if (f, name) in known_seen:
            print('known, to be removed: %s includes "%s" (%s)' % (f, name, who))
    if bad or stale:
        print('%d layering violation(s), %d stale known entr(ies)' % (len(bad), len(stale)))
        return 1
    print('layers OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
