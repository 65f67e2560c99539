#!/usr/bin/env python3
"""doap.xml is well-formed and claims only what the code cites.

    check_doap.py DOAP_XML SRC_DIR PROJECT_VERSION

- the file parses (xml.etree) and has the DOAP Project with a name;
- its release revision is the meson project version;
- each xmpp:SupportedXep has a xep-NNNN resource, a known status and a
  version; a partial one has a note saying what is missing;
- every RFC and XEP it lists is cited ("RFC N", "XEP-NNNN") somewhere in
  src/, so the file cannot drift into claims with no code;
- every XEP that src/ cites is listed, or named in NOT_CLAIMED with the
  reason, so new support does not go unlisted either.

Runs a self-test on made-up files first, so the check cannot pass by
finding nothing.
"""
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
STATUSES = {'complete', 'partial', 'planned', 'deprecated', 'removed', 'wontfix'}

# XEPs src/ mentions without implementing them.
NOT_CLAIMED = {
    60: 'cited in pep.c for the publish/items requests PEP (XEP-0163) is built on; no pubsub service client',
    103: 'named in oob.c for the url-data element XEP-0447 carries its source in, read only there; no URL address information otherwise',
    422: 'named in retraction.c for the pre-0.4 XEP-0424 form (apply-to) that is read, not as fastening support',
}


def cited(src):
    """RFC and XEP numbers cited in src/."""
    rfcs, xeps = set(), set()
    for dirpath, _, files in os.walk(src):
        for f in files:
            with open(os.path.join(dirpath, f), encoding='utf-8', errors='replace') as fh:
                text = fh.read()
            rfcs.update(int(n) for n in re.findall(r'\bRFC ?(\d{3,5})\b', text))
            xeps.update(int(n) for n in re.findall(r'\bXEP-(\d{4})\b', text))
    return rfcs, xeps


def check(doap, src, version):
    errs = []
    try:
        root = ET.parse(doap).getroot()
    except ET.ParseError as e:
        return ['%s is not well-formed XML: %s' % (doap, e)]
    project = root.find('doap:Project', NS)
    if project is None or not (project.findtext('doap:name', namespaces=NS) or '').strip():
        return ['no doap:Project with a doap:name']
    revs = [r.text.strip() for r in project.findall('doap:release/doap:Version/doap:revision', NS) if r.text]
    if version not in revs:
        errs.append('no release with revision %s (the meson project version); found %s' % (version, revs))

    rfcs_cited, xeps_cited = cited(src)
    rfcs, xeps = set(), set()
    for imp in project.findall('doap:implements', NS):
        res = imp.get(RDF_RESOURCE)
        if res is not None:
            m = re.search(r'rfc(\d+)', res)
            if not m:
                errs.append('implements %s: not an RFC address' % res)
                continue
            n = int(m.group(1))
            if n in rfcs:
                errs.append('RFC %d listed twice' % n)
            rfcs.add(n)
            if n not in rfcs_cited:
                errs.append('RFC %d is listed but no file in src/ cites "RFC %d"' % (n, n))
            continue
        for sx in imp.findall('xmpp:SupportedXep', NS):
            x = sx.find('xmpp:xep', NS)
            m = re.search(r'xep-(\d{4})\.html$', x.get(RDF_RESOURCE, '')) if x is not None else None
            if not m:
                errs.append('a SupportedXep without an xmpp:xep resource .../xep-NNNN.html')
                continue
            n = int(m.group(1))
            status = (sx.findtext('xmpp:status', namespaces=NS) or '').strip()
            ver = (sx.findtext('xmpp:version', namespaces=NS) or '').strip()
            note = (sx.findtext('xmpp:note', namespaces=NS) or '').strip()
            if n in xeps:
                errs.append('XEP-%04d listed twice' % n)
            xeps.add(n)
            if status not in STATUSES:
                errs.append('XEP-%04d: status %r is not one of %s' % (n, status, sorted(STATUSES)))
            if not re.fullmatch(r'\d+(\.\d+)+', ver):
                errs.append('XEP-%04d: version %r is not the XEP version implemented' % (n, ver))
            if status == 'partial' and not note:
                errs.append('XEP-%04d: partial without a note saying what is missing' % n)
            if status in ('complete', 'partial') and n not in xeps_cited:
                errs.append('XEP-%04d is listed as %s but no file in src/ cites "XEP-%04d"' % (n, status, n))
    for n in sorted(xeps_cited - xeps - set(NOT_CLAIMED)):
        errs.append('src/ cites XEP-%04d but doap.xml does not list it (or add it to NOT_CLAIMED '
                    'in tests/packaging/check_doap.py with the reason)' % n)
    for n in sorted(set(NOT_CLAIMED) & xeps):
        errs.append('XEP-%04d is both listed and in NOT_CLAIMED' % n)
    if not xeps or not rfcs:
        errs.append('no XEPs or no RFCs listed')
    return errs


def self_test():
    good = '''<rdf:RDF xmlns:rdf="%(rdf)s" xmlns="%(doap)s" xmlns:xmpp="%(xmpp)s"><Project>
      <name>t</name><release><Version><revision>1.2.3</revision></Version></release>
      <implements rdf:resource="https://www.rfc-editor.org/info/rfc6120"/>
      <implements><xmpp:SupportedXep><xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-0198.html"/>
        <xmpp:status>complete</xmpp:status><xmpp:version>1.6</xmpp:version></xmpp:SupportedXep></implements>
      %(extra)s</Project></rdf:RDF>'''
    extra = '''<implements><xmpp:SupportedXep><xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-0045.html"/>
        <xmpp:status>partial</xmpp:status><xmpp:version>1.34</xmpp:version></xmpp:SupportedXep></implements>'''
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, 'src')
        os.makedirs(src)
        with open(os.path.join(src, 'a.c'), 'w') as fh:
            fh.write('/* RFC 6120 and XEP-0198, XEP-0313 */\n')
        p = os.path.join(d, 'doap.xml')
        cases = [
            (good % dict(NS, extra=''), '1.2.3', 1),     # XEP-0313 cited, not listed
            (good % dict(NS, extra=extra), '1.2.3', 3),  # + 0045 not cited, partial without note
            (good % dict(NS, extra=''), '9.9.9', 2),     # + wrong release
            ('<rdf:RDF><unclosed></rdf:RDF>', '1.2.3', 1),
        ]
        for text, ver, want in cases:
            with open(p, 'w') as fh:
                fh.write(text)
            got = check(p, src, ver)
            if len(got) != want:
                print('self-test FAILED: expected %d errors, got %s' % (want, got))
                return False
    return True


def main():
    doap, src, version = sys.argv[1:4]
    if not self_test():
        return 1
    errs = check(doap, src, version)
    for e in errs:
        print(e)
    if errs:
        return 1
    print('doap.xml OK: release %s, every listed RFC and XEP cited in src/' % version)
    return 0


if __name__ == '__main__':
    sys.exit(main())
