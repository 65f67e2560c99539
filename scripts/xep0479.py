#!/usr/bin/env python3
"""XEP-0479 (XMPP Compliance Suites 2023), client side, against doap.xml.

    xep0479.py [--doap DOAP_XML]                  print the Markdown table
    xep0479.py [--doap DOAP_XML] --check README   exit 1 (with a diff) when
                                                  README's section differs
    xep0479.py [--doap DOAP_XML] --write README   rewrite README's section

The section is the text between the lines <!-- xep0479:begin --> and
<!-- xep0479:end -->. DOAP_XML defaults to the doap.xml beside scripts/.

The requirements below are the client columns of the Core and IM suites of
XEP-0479 version 0.1.0 (2023-05-04), restated; the server columns, the
server-only Server Extensibility row (XEP-0114) and the Web, Mobile and A/V
suites are left out. XEP-0479 asks every feature of the Core suite of a
level for the IM suite of that level, so the IM columns here include the
Core rows.

What xtalk supports comes from doap.xml alone: an xmpp:SupportedXep's
xmpp:status, and for an RFC (which DOAP only calls "implemented") a comment
just before it that begins with "partial". Anything not listed is missing.

--check and --write first run a self-test on made-up files, and every run
refuses a parse that finds no RFC 6120 support or no unsupported row, so
an empty or misread doap.xml cannot pass.
"""
import argparse
import difflib
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = {
    'rdf': 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
    'doap': 'http://usefulinc.com/ns/doap#',
    'xmpp': 'https://linkmauve.fr/ns/xmpp-doap#',
}
RDF_RESOURCE = '{%s}resource' % NS['rdf']
BEGIN = '<!-- xep0479:begin -->'
END = '<!-- xep0479:end -->'

# Levels, in column order. Each level's requirements include those of the
# levels it builds on.
LEVELS = [
    ('core', 'Core Client', 'Core client'),
    ('adv_core', 'Advanced Core Client', 'Advanced core'),
    ('im', 'IM Client', 'IM client'),
    ('adv_im', 'Advanced IM Client', 'Advanced IM'),
]
# A Core-suite row asked of the Client level is asked of every level; one
# asked of the Advanced Client level only of the two advanced levels.
# IM-suite rows count for the IM levels only.
SPREAD = {
    ('core', 'client'): {'core', 'adv_core', 'im', 'adv_im'},
    ('core', 'advanced'): {'adv_core', 'adv_im'},
    ('im', 'client'): {'im', 'adv_im'},
    ('im', 'advanced'): {'adv_im'},
}

# Footnotes, by number; marks are placed on the feature name, or on a level
# column (TERMINAL) where the note is about that level.
NOTES = {
    1: 'XEP-0479 leaves RFC 7622 (PRECIS addresses) out of this row on purpose, '
       'as mixing PRECIS and stringprep peers has unclear interop effects.',
    2: 'Not required of command-line or terminal clients; xtalk is one, so '
       'this row does not count against any level below.',
    3: 'Of XEP-0045, only its entity and occupant use cases are required; '
       'the others are recommended.',
    4: 'XEP-0313 here means fetching a room\'s history from the room\'s own '
       'archive rather than from the account\'s; XEP-0402 is to be used '
       'when the server advertises its bookmarks compatibility '
       '(urn:xmpp:bookmarks:1#compat), XEP-0049 otherwise.',
    5: 'Only recommended for old-style bookmarks.',
}
TERMINAL = 2
SUPERSCRIPT = str.maketrans('0123456789', '⁰¹²³⁴⁵⁶⁷⁸⁹')

# (suite, feature, providers, level within the suite, footnotes on the
# feature, terminal exemption). Every provider is needed; a tuple is a
# choice of one.
FEATURES = [
    ('core', 'Core features', ['RFC 6120'], 'client', [1], False),
    ('core', 'TLS', ['RFC 7590'], 'client', [], False),
    ('core', 'Direct TLS', ['XEP-0368'], 'advanced', [], False),
    ('core', 'Feature discovery', ['XEP-0030'], 'client', [], False),
    ('core', 'Feature broadcasts', ['XEP-0115'], 'client', [], False),
    ('core', 'Event publishing', ['XEP-0163'], 'advanced', [], False),
    ('im', 'IM core features', ['RFC 6121'], 'client', [], False),
    ('im', 'The /me command', ['XEP-0245'], 'client', [], False),
    ('im', 'User avatars', ['XEP-0084'], 'advanced', [], True),
    ('im', 'User avatar compatibility', ['XEP-0398', 'XEP-0153'], 'advanced', [], True),
    ('im', 'vcard-temp', ['XEP-0054'], 'client', [], False),
    ('im', 'Outbound message synchronization', ['XEP-0280'], 'client', [], False),
    ('im', 'User blocking', ['XEP-0191'], 'advanced', [], False),
    ('im', 'Group chat', ['XEP-0045', 'XEP-0249'], 'client', [3], False),
    ('im', 'Advanced group chat', ['XEP-0048', 'XEP-0313', ('XEP-0402', 'XEP-0049'), 'XEP-0410'],
     'advanced', [4], False),
    ('im', 'Private data in PubSub', ['XEP-0223'], 'advanced', [], False),
    ('im', 'Private XML storage', ['XEP-0049'], 'advanced', [5], False),
    ('im', 'Stream management', ['XEP-0198'], 'advanced', [], False),
    ('im', 'Message acknowledgements', ['XEP-0184'], 'advanced', [], False),
    ('im', 'History storage and retrieval', ['XEP-0313'], 'advanced', [], False),
    ('im', 'Chat states', ['XEP-0085'], 'advanced', [], False),
    ('im', 'Message correction', ['XEP-0308'], 'advanced', [], False),
    ('im', 'File upload', ['XEP-0363'], 'client', [], False),
    ('im', 'Direct file transfer', ['XEP-0234', 'XEP-0261'], 'advanced', [], False),
]

# doap statuses, best first; anything else (deprecated, removed, wontfix,
# not listed) is "missing" for compliance but shown by its own word.
RANK = {'complete': 0, 'partial': 1, 'planned': 2}
SUPPORTED = ('complete', 'partial')


def read_doap(path):
    """{'RFC 6120': ('complete', ''), 'XEP-0198': ('complete', '1.6.3'), ...}"""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser).getroot()
    project = root.find('doap:Project', NS)
    if project is None:
        raise ValueError('%s: no doap:Project' % path)
    support = {}
    comment = ''
    for el in project:
        if el.tag is ET.Comment:
            comment = (el.text or '').strip()
            continue
        if el.tag == '{%s}implements' % NS['doap']:
            res = el.get(RDF_RESOURCE)
            if res is not None:
                m = re.search(r'rfc(\d+)$', res)
                if m:
                    status = 'partial' if comment.lower().startswith('partial') else 'complete'
                    support['RFC %d' % int(m.group(1))] = (status, '')
            for sx in el.findall('xmpp:SupportedXep', NS):
                x = sx.find('xmpp:xep', NS)
                m = re.search(r'xep-(\d{4})\.html$', x.get(RDF_RESOURCE, '')) if x is not None else None
                if m:
                    support['XEP-%s' % m.group(1)] = (
                        (sx.findtext('xmpp:status', namespaces=NS) or '').strip() or 'missing',
                        (sx.findtext('xmpp:version', namespaces=NS) or '').strip())
        comment = ''
    return support


def status_of(support, provider):
    """(status, label) of one provider, or of the best of a choice."""
    if isinstance(provider, tuple):
        best = min((status_of(support, p) for p in provider),
                   key=lambda s: RANK.get(s[0], 9))
        return best[0], ' or '.join(provider)
    status = support.get(provider, ('missing', ''))[0]
    return status, provider


def provider_text(provider):
    return ' or '.join(provider) if isinstance(provider, tuple) else provider


def describe(support, providers):
    """The xtalk cell: one status, or each provider's."""
    if len(providers) == 1 and not isinstance(providers[0], tuple):
        status, ver = support.get(providers[0], ('missing', ''))
        return '%s (%s)' % (status, ver) if ver and status in SUPPORTED else status
    parts = []
    for p in providers:
        if isinstance(p, tuple):
            parts.append(' / '.join('%s %s' % (q, support.get(q, ('missing', ''))[0]) for q in p))
        else:
            parts.append('%s %s' % (p, support.get(p, ('missing', ''))[0]))
    return ', '.join(parts)


def row_state(support, providers):
    """'complete', 'partial' or 'missing' for the row, and the providers
    that are partial and missing."""
    partial, missing = [], []
    for p in providers:
        status, label = status_of(support, p)
        if status == 'partial':
            partial.append(label)
        elif status != 'complete':
            missing.append(label)
    return ('missing' if missing else 'partial' if partial else 'complete'), partial, missing


def evaluate(support):
    """Rows for the table, and per level: (met, missing, partial, exempt)."""
    rows, levels = [], {key: ([], [], []) for key, _, _ in LEVELS}
    for suite, feature, providers, level, notes, terminal in FEATURES:
        required = SPREAD[(suite, level)]
        state, partial, missing = row_state(support, providers)
        for key in required:
            miss, part, exempt = levels[key]
            if terminal and key == 'adv_im':
                if state != 'complete':
                    exempt.append(feature)
            elif state == 'missing':
                miss.append('%s (%s)' % (feature, ', '.join(missing)))
            elif state == 'partial':
                part.append('%s (%s)' % (feature, ', '.join(partial)))
        rows.append((feature, notes, providers, required, terminal, state))
    return rows, levels


def render(support):
    rows, levels = evaluate(support)
    out = ['| Feature | Providers | Core client | Advanced core | IM client | Advanced IM | xtalk |',
           '| --- | --- | :---: | :---: | :---: | :---: | --- |']
    for feature, notes, providers, required, terminal, state in rows:
        name = feature + ''.join(str(n) for n in notes).translate(SUPERSCRIPT)
        cells = []
        for key, _, _ in LEVELS:
            cell = '✓' if key in required else '–'
            if terminal and key == 'adv_im':
                cell += str(TERMINAL).translate(SUPERSCRIPT)
            cells.append(cell)
        out.append('| %s | %s | %s | %s |' % (
            name, ', '.join(provider_text(p) for p in providers), ' | '.join(cells),
            describe(support, providers)))
    out.append('')
    out.append('✓ required, – not. The IM columns include the Core rows: XEP-0479 '
               'asks for the Core suite at the same level for IM compliance. A '
               'provider list needs every provider; "A or B" needs one of them.')
    out.append('')
    for n in sorted(NOTES):
        out.append('%s %s' % (str(n).translate(SUPERSCRIPT), NOTES[n]))
        out.append('')
    out.append('A level is met when doap.xml lists every provider it requires as '
               'complete or partial; the partial ones are named.')
    out.append('')
    for key, title, _ in LEVELS:
        miss, part, exempt = levels[key]
        line = '- %s: %s' % (title, 'not met' if miss else 'met')
        extra = []
        if miss:
            extra.append('missing: ' + '; '.join(miss))
        if part:
            extra.append('partial: ' + '; '.join(part))
        if exempt:
            extra.append('not required of a terminal client: ' + ', '.join(exempt))
        if extra:
            line += ' (%s)' % '. '.join(extra)
        out.append(line)
    return '\n'.join(out) + '\n'


def sane(support):
    """Errors when the parse cannot be right: RFC 6120 not supported, or
    every row supported (xtalk has no multi-user chat yet)."""
    errs = []
    if support.get('RFC 6120', ('missing', ''))[0] not in SUPPORTED:
        errs.append('doap.xml: RFC 6120 not found as implemented')
    states = [row_state(support, f[2])[0] for f in FEATURES]
    if 'missing' not in states:
        errs.append('doap.xml: no XEP-0479 row found unsupported (XEP-0045 is not implemented)')
    if not any(k.startswith('XEP-') for k in support):
        errs.append('doap.xml: no SupportedXep found')
    return errs


def section(text):
    """The README text between the markers (without them), or None."""
    m = re.search(r'^%s\n(.*?)^%s$' % (re.escape(BEGIN), re.escape(END)), text, re.S | re.M)
    return m.group(1) if m else None


def check(readme, table):
    """[] when README's section is the table, else the diff lines."""
    with open(readme, encoding='utf-8') as fh:
        have = section(fh.read())
    if have is None:
        return ['%s: no section between %s and %s' % (readme, BEGIN, END)]
    if have == table:
        return []
    return list(difflib.unified_diff(have.splitlines(), table.splitlines(),
                                     '%s (section)' % readme, 'scripts/xep0479.py', lineterm=''))


def write(readme, table):
    with open(readme, encoding='utf-8') as fh:
        text = fh.read()
    if section(text) is None:
        raise SystemExit('%s: no section between %s and %s' % (readme, BEGIN, END))
    text = re.sub(r'^(%s\n).*?^(%s)$' % (re.escape(BEGIN), re.escape(END)),
                  lambda m: m.group(1) + table + m.group(2), text, count=1, flags=re.S | re.M)
    with open(readme, 'w', encoding='utf-8') as fh:
        fh.write(text)


def self_test():
    doap = '''<rdf:RDF xmlns:rdf="%(rdf)s" xmlns="%(doap)s" xmlns:xmpp="%(xmpp)s"><Project>
      <name>t</name>
      <implements rdf:resource="https://www.rfc-editor.org/info/rfc6120"/>
      <implements rdf:resource="https://www.rfc-editor.org/info/rfc7590"/>
      <!-- partial: no roster versioning -->
      <implements rdf:resource="https://www.rfc-editor.org/info/rfc6121"/>
      %(xeps)s</Project></rdf:RDF>'''
    xep = ('<implements><xmpp:SupportedXep><xmpp:xep rdf:resource="https://xmpp.org/extensions/'
           'xep-%s.html"/><xmpp:status>%s</xmpp:status><xmpp:version>1.0</xmpp:version>'
           '</xmpp:SupportedXep></implements>')
    core = xep % ('0030', 'complete') + xep % ('0115', 'complete') + xep % ('0045', 'planned')
    fails = []
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'doap.xml')

        def parse(xeps):
            with open(p, 'w') as fh:
                fh.write(doap % dict(NS, xeps=xeps))
            return read_doap(p)

        s = parse(core)
        if s.get('RFC 6121', ('',))[0] != 'partial' or s.get('RFC 6120', ('',))[0] != 'complete':
            fails.append('RFC statuses from comments: %r' % s)
        table = render(s)
        for want in ('- Core Client: met\n', '- Advanced Core Client: not met (missing: Direct TLS (XEP-0368)',
                     '| Group chat³ | XEP-0045, XEP-0249 | – | – | ✓ | ✓ | XEP-0045 planned, XEP-0249 missing |',
                     '| IM core features | RFC 6121 | – | – | ✓ | ✓ | partial |',
                     'partial: IM core features (RFC 6121)'):
            if want not in table:
                fails.append('table lacks %r' % want)
        if sane(s):
            fails.append('sane() rejected a good parse: %s' % sane(s))
        if not sane(parse('')):
            fails.append('sane() accepted a doap.xml with no XEPs')
        every = ''.join(xep % (n[4:], 'complete') for f in FEATURES for p in f[2]
                        for n in (p if isinstance(p, tuple) else (p,)) if n.startswith('XEP-'))
        if not sane(parse(every)) or '- Advanced IM Client: met\n' not in render(parse(every) | {'RFC 6121': ('complete', '')}):
            fails.append('sane() accepted a doap.xml that supports every row, or the levels are wrong')
        r = os.path.join(d, 'README.md')
        for body, want in (('x\n%s\n%s%s\ny\n' % (BEGIN, table, END), 0),
                           ('x\n%s\n%s%s\ny\n' % (BEGIN, table.replace('✓', '–', 1), END), 1),
                           ('x\n', 1)):
            with open(r, 'w') as fh:
                fh.write(body)
            if bool(check(r, table)) != bool(want):
                fails.append('check() on %r: %r' % (body[:60], check(r, table)))
    for f in fails:
        print('self-test FAILED: %s' % f)
    return not fails


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--doap', default=os.path.join(here, '..', 'doap.xml'))
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--check', metavar='README')
    g.add_argument('--write', metavar='README')
    args = ap.parse_args()

    if (args.check or args.write) and not self_test():
        return 1
    support = read_doap(args.doap)
    errs = sane(support)
    for e in errs:
        print(e, file=sys.stderr)
    if errs:
        return 1
    table = render(support)
    if args.check:
        diff = check(args.check, table)
        for line in diff:
            print(line)
        if diff:
            print('%s: the XEP-0479 section is not what scripts/xep0479.py prints; '
                  'run scripts/xep0479.py --write %s' % (args.check, args.check))
            return 1
        print('%s: XEP-0479 section matches doap.xml' % args.check)
    elif args.write:
        write(args.write, table)
    else:
        sys.stdout.write(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
