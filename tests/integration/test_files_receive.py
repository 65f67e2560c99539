#!/usr/bin/env python3
"""Received files (issue 17): a message with XEP-0066 out-of-band data (or
XEP-0447 file sharing) from a slixmpp peer shows in `listen --json` as
"file": {url, name, size, type} and in plain `listen` as a file line; a
hostile URL is flagged, never passed on as a file."""

from test_features import Base
from xtlib import jid, main

OOB = "<x xmlns='jabber:x:oob'><url>%s</url>%s</x>"


class FilesReceive(Base):

    def oob(self, carol, to, mid, url, desc=""):
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='%s'><body>%s</body>%s"
                  "</message>" % (to, mid, url, OOB % (url, "<desc>%s</desc>" % desc if desc else "")))

    def test_listen_json_file(self):
        bob = self.listen("bob")
        carol = self.slix("carol")
        bj = jid("bob", self.srv)
        url = "https://upload.example.org/8f2a/holiday%20photo.jpg"
        self.oob(carol, bj, "f1", url, "the beach")
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("id") == "f1")
        self.assertEqual(m["file"], {"url": url, "name": "holiday photo.jpg", "desc": "the beach"})
        # XEP-0447 with XEP-0446 metadata: name, size and type are known.
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='f2'>"
                  "<file-sharing xmlns='urn:xmpp:sfs:0'><file xmlns='urn:xmpp:file:metadata:0'>"
                  "<media-type>application/pdf</media-type><name>report.pdf</name><size>12345</size>"
                  "</file><sources><url-data xmlns='http://jabber.org/protocol/url-data' "
                  "target='https://upload.example.org/x/y'/></sources></file-sharing></message>" % bj)
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("id") == "f2")
        self.assertEqual(m["file"], {"url": "https://upload.example.org/x/y", "name": "report.pdf",
                                     "size": 12345, "type": "application/pdf"})
        self.assertNotIn("body", m)  # shared without a body: printed all the same
        # The same with a chat state beside it (as clients send): still a
        # message with its file, not a chat state alone.
        carol.raw("<message xmlns='jabber:client' to='%s' type='chat' id='f2b'>"
                  "<active xmlns='http://jabber.org/protocol/chatstates'/>"
                  "<file-sharing xmlns='urn:xmpp:sfs:0'><file xmlns='urn:xmpp:file:metadata:0'>"
                  "<name>b.txt</name></file><sources><url-data "
                  "xmlns='http://jabber.org/protocol/url-data' target='https://upload.example.org/b'/>"
                  "</sources></file-sharing></message>" % bj)
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("id") == "f2b")
        self.assertEqual(m["file"], {"url": "https://upload.example.org/b", "name": "b.txt"})
        self.assertNotIn("body", m)
        # Hostile: a javascript: URL is unsafe and has no name; a name
        # that climbs directories is one harmless component.
        self.oob(carol, bj, "f3", "javascript:alert(document.cookie)")
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("id") == "f3")
        self.assertEqual(m["file"], {"url": "javascript:alert(document.cookie)", "unsafe": True})
        self.oob(carol, bj, "f4", "https://upload.example.org/a/..%2F..%2Fetc%2Fpasswd")
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("id") == "f4")
        self.assertEqual(m["file"]["name"], "_._.._etc_passwd")
        # A URL over 4096 bytes is no file; the message still arrives.
        self.oob(carol, bj, "f5", "https://upload.example.org/" + "a" * 5000)
        m = bob.json_until(lambda o: o.get("event") == "message" and o.get("id") == "f5")
        self.assertNotIn("file", m)

    def test_listen_plain_file_line(self):
        p = self.spawn("bob", "listen")
        p.wait_stderr("online as")
        carol = self.slix("carol")
        bj = jid("bob", self.srv)
        url = "https://upload.example.org/8f2a/notes%E2%80%AE.txt"
        self.oob(carol, bj, "p1", url)
        line = p.line()
        while not line.startswith("message "):
            line = p.line()
        self.assertTrue(line.endswith(": " + url), line)
        line = p.line()
        # The bidi override the name decodes to is replaced: never shown raw.
        self.assertRegex(line, r"^file carol@\S+ name=notes_\.txt: " + url.replace(".", r"\.") + "$")
        self.oob(carol, bj, "p2", "file:///etc/passwd")
        line = p.line()
        while not line.startswith("file "):
            line = p.line()
        self.assertRegex(line, r"^file carol@\S+ unsafe: file:///etc/passwd$")


if __name__ == "__main__":
    main()
