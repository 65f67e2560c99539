#!/usr/bin/env python3
"""README's "Security" table against the code (issue 12 item 7).

Each default the table states is read from the constant that sets it;
a change to either side alone fails here, so the one place that lists
every limit cannot drift from what the code does.

Usage: check_security.py README.md SRCDIR

Runs a self-test on made-up files first, so the check cannot pass by
finding nothing.
"""
import os
import re
import sys
import tempfile

# (row name, text its default cell must hold, file under src/, regex whose
# groups, joined by ',', must equal `want` when given, else must match).
CHECKS = [
    ('stanza size', '1 MiB', 'xml/parser.c', r'#define DEFAULT_MAX_STANZA \(\(size_t\)1 << 20\)', None),
    ('element depth', '64', 'xml/parser.c', r'#define DEFAULT_MAX_DEPTH (\d+)u', '64'),
    ('attributes per element', '64', 'xml/parser.c', r'#define DEFAULT_MAX_ATTRS (\d+)u', '64'),
    ('child elements per element', '16,384', 'xml/parser.c', r'#define DEFAULT_MAX_CHILDREN (\d+)u',
     '16384'),
    ('elements / attributes / text runs per stanza', '65,536 / 131,072 / 65,536', 'xml/parser.c',
     r'#define STANZA_ELEMS (\d+)u\s+#define STANZA_ATTRS (\d+)u\s+#define STANZA_TEXTS (\d+)u',
     '65536,131072,65536'),
    ("a stanza's tree", '4 × the stanza\'s bytes so far + 64 KiB', 'xml/parser.c',
     r'#define TREE_RATIO (\d+)u\s+#define TREE_SLACK \(\(uint64_t\)(\d+) \* 1024\)', '4,64'),
    ("expat's own heap", '3 × the bytes of the stanza in progress + 256 KiB', 'xml/parser.c',
     r'#define EX_RATIO (\d+)u\s+#define EX_SLACK \(\(uint64_t\)(\d+) \* 1024\)', '3,256'),
    ('parse time', '2 KiB', 'xml/parser.c', r'#define HOLD_ABOVE \(\(uint64_t\)(\d+)\)', '2048'),
    ('XEP-0198 unacked queue', '5000', 'core/stream.c',
     r'cfg->sm_max_unacked \? cfg->sm_max_unacked : (\d+);', '5000'),
    ('output buffer', '16 MiB', 'core/stream.h', r'#define XT_OUT_LIMIT \(\(size_t\)(\d+) << 20\)',
     '16'),
    ('presence table', '64 resources per bare JID, 50,000 in all, status cut to 1024 bytes',
     'im/presence.h',
     r'#define XT_PRESENCE_MAX_RESOURCES (\d+)\s+#define XT_PRESENCE_MAX_TOTAL (\d+)\s+'
     r'#define XT_PRESENCE_MAX_STATUS (\d+)', '64,50000,1024'),
    ('roster', '20,000', 'im/roster.h', r'#define XT_ROSTER_MAX (\d+)', '20000'),
    ('hash tables (roster, presence)', 'SipHash-1-3', 'im/index.c',
     r'xt_siphash\(ix->key, s, strlen\(s\), (\d), (\d)\)', '1,3'),
    ('SCRAM iterations', 'at least 4096; at most 600,000 (SHA-1, SHA-256), 300,000 (SHA-512)',
     'core/scram.c', r'return h == XT_SCRAM_SHA512 \? (\d+)u : (\d+)u;', '300000,600000'),
    ('SCRAM iterations', 'up to 10,000,000', 'core/scram.h',
     r'#define XT_SCRAM_MAX_ITERATIONS (\d+)u', '10000000'),
    ('SCRAM iterations', 'at least 4096', 'core/scram.h', r'#define XT_SCRAM_MIN_ITERATIONS (\d+)u',
     '4096'),
]


def table(readme):
    """{row name: whole row text} of the Security table."""
    with open(readme, encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'^### Security: every limit and policy\n(.*?)(?=^### )', text, re.M | re.S)
    if not m:
        return None
    rows = {}
    for line in m.group(1).splitlines():
        if line.startswith('| ') and not line.startswith('| ---') and not line.startswith('| what'):
            cells = [c.strip() for c in line.strip('|').split('|')]
            rows.setdefault(cells[0], '')
            rows[cells[0]] += ' | '.join(cells[1:]) + '\n'
    return rows


def check(readme, src):
    errs = []
    rows = table(readme)
    if rows is None:
        return ['README has no "### Security: every limit and policy" section']
    for name, text, path, rx, want in CHECKS:
        if name not in rows:
            errs.append('README Security table has no row "%s"' % name)
        elif text not in rows[name]:
            errs.append('README row "%s" does not say "%s"' % (name, text))
        try:
            with open(os.path.join(src, path), encoding='utf-8') as f:
                code = f.read()
        except OSError as e:
            errs.append('%s: %s' % (path, e))
            continue
        # clang-format may align the values of adjacent #defines.
        m = re.search(re.sub(r'(#define \w+) ', r'\1\\s+', rx), code)
        if not m:
            errs.append('%s: no match for %s (row "%s": update README and this check)'
                        % (path, rx, name))
        elif want is not None and ','.join(m.groups()) != want:
            errs.append('%s: row "%s" says %s, the code says %s' % (path, name, want,
                                                                  ','.join(m.groups())))
    return errs


def self_test():
    with tempfile.TemporaryDirectory() as d:
        readme = os.path.join(d, 'README.md')
        os.makedirs(os.path.join(d, 'src', 'im'))
        with open(readme, 'w', encoding='utf-8') as f:
            f.write('### Security: every limit and policy\n\n| what | default |\n| --- | --- |\n'
                    '| roster | 20,000 |\n\n### Next\n')
        with open(os.path.join(d, 'src', 'im', 'roster.h'), 'w') as f:
            f.write('#define XT_ROSTER_MAX 30000\n')
        errs = check(readme, os.path.join(d, 'src'))
        assert any('the code says 30000' in e for e in errs), errs
        assert any('no row "stanza size"' in e for e in errs), errs


def main():
    self_test()
    errs = check(sys.argv[1], sys.argv[2])
    for e in errs:
        print(e)
    if not errs:
        print('README Security table: %d defaults match the code' % len(CHECKS))
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())
