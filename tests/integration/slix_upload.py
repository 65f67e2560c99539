#!/usr/bin/env python3
"""XEP-0363 slot requests from slixmpp, by raw IQs: the probe that the
test server's upload service answers, and the slots the benchmark's
`curl -T` uses (no xtalk code involved).

  slix_upload.py JID PORT CA_FILE SERVICE NAME SIZE [TYPE]
  (password from XTALK_PASSWORD)

Asks SERVICE (e.g. upload.localhost) for its disco#info first, then one
slot for a file NAME of SIZE bytes, and prints one JSON object:
  {"max_size": N or null, "put": URL, "get": URL, "headers": {name: value}}
or {"error": CONDITION} when the service refuses (e.g. file-too-large),
exit 0 either way; exit 1 when the login fails."""

import asyncio
import json
import os
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError

NS = "urn:xmpp:http:upload:0"


class Prober(slixmpp.ClientXMPP):
    def __init__(self, jid, password, service, name, size, ctype):
        super().__init__(jid, password)
        self.service, self.name, self.size, self.ctype = service, name, size, ctype
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda *_: self.fail("auth failed"))

    def fail(self, why):
        print(why, file=sys.stderr, flush=True)
        os._exit(1)

    async def start(self, _):
        out = {"max_size": None}
        info = await self.plugin["xep_0030"].get_info(jid=self.service, timeout=30)
        # XEP-0363 §2: the limit is a data form field of the service's info.
        for field in info.xml.iter("{jabber:x:data}field"):
            if field.get("var") == "max-file-size":
                v = field.find("{jabber:x:data}value")
                out["max_size"] = int(v.text) if v is not None else None
        iq = self.Iq(stype="get", sto=self.service)
        req = ET.Element("{%s}request" % NS, filename=self.name, size=str(self.size))
        if self.ctype:
            req.set("content-type", self.ctype)
        iq.append(req)
        try:
            res = await iq.send(timeout=30)
            slot = res.xml.find("{%s}slot" % NS)
            put = slot.find("{%s}put" % NS)
            out["put"] = put.get("url")
            out["get"] = slot.find("{%s}get" % NS).get("url")
            out["headers"] = {h.get("name"): h.text or "" for h in put.findall("{%s}header" % NS)}
        except IqError as e:
            out["error"] = e.iq["error"]["condition"]
        print(json.dumps(out), flush=True)
        self.disconnect()
        os._exit(0)


def main():
    jid, port, ca, service, name, size = sys.argv[1:7]
    ctype = sys.argv[7] if len(sys.argv) > 7 else None
    xmpp = Prober(jid, os.environ["XTALK_PASSWORD"], service, name, int(size), ctype)
    xmpp.register_plugin("xep_0030")
    xmpp.ca_certs = ca
    xmpp.connect(address=("127.0.0.1", int(port)))
    asyncio.get_event_loop().call_later(float(os.environ.get("XT_PEER_TIMEOUT", "120")),
                                        lambda: xmpp.fail("timeout"))
    xmpp.process(forever=False)


if __name__ == "__main__":
    main()
