#!/usr/bin/env python3
"""A slixmpp peer driven line by line, for the message-feature tests.

  slix_im.py JID PORT CA_FILE      (password from XTALK_PASSWORD)

Prints {"event":"online"} once in session, then one JSON object per
received message: {"event":"message","from","type","id","body",
"request":bool,"received":ID,"chatstate":NAME,"origin_id":ID,
"replace":ID,"reactions":{"id","list"},"oob":URL}. Reads
one JSON command per stdin line:
  {"op":"raw","xml":"<message .../>"}   sends it as is (jabber:client)
  {"op":"ping"}                         pings the server, then prints
                                        {"event":"pong"}: everything sent
                                        before was processed (RFC 6120 §10.1)
  {"op":"subscribe","to":JID}           asks to see JID's presence
  {"op":"get_vcard","jid":JID}          prints {"event":"vcard","jid",
                                        "fields":{"FN","NICKNAME","EMAIL",
                                        "URL","NOTE"}} (XEP-0054; error: "error")
  {"op":"get_nick","jid":JID}           prints {"event":"nick","jid","nick"}
                                        (XEP-0172 over XEP-0163 items; error: "error")
  {"op":"quit"}
slixmpp's XEP-0184 plugin answers receipt requests by itself (its
default), as a deployed client would."""

import asyncio
import json
import os
import sys

import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

RECEIPTS = "urn:xmpp:receipts"
CHATSTATES = "http://jabber.org/protocol/chatstates"
SID = "urn:xmpp:sid:0"


def out(obj):
    print(json.dumps(obj), flush=True)


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.add_event_handler("session_start", self.start)
        # Every <message/>: slixmpp's "message" event skips those without
        # a body (receipts, chat states).
        self.register_handler(Callback("any message", MatchXPath("{jabber:client}message"),
                                       self.message))
        self.add_event_handler("failed_auth", lambda *_: self.fail("auth failed"))

    def fail(self, why):
        print(why, file=sys.stderr, flush=True)
        os._exit(1)

    async def start(self, _):
        self.send_presence()
        await self.get_roster()
        asyncio.get_event_loop().add_reader(sys.stdin.fileno(), self.command)
        out({"event": "online", "jid": str(self.boundjid)})

    def command(self):
        # Raw reads: commands written together arrive in one read, and a
        # buffered readline would leave the rest where the reader never
        # looks again.
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            os._exit(0)
        self.inbuf = getattr(self, "inbuf", b"") + data
        while b"\n" in self.inbuf:
            line, self.inbuf = self.inbuf.split(b"\n", 1)
            if line.strip():
                self.run(json.loads(line))

    def run(self, cmd):
        op = cmd["op"]
        if op == "raw":
            self.send_raw(cmd["xml"])
        elif op == "ping":
            asyncio.ensure_future(self.pong())
        elif op == "subscribe":
            self.send_presence(pto=cmd["to"], ptype="subscribe")
        elif op == "get_vcard":
            asyncio.ensure_future(self.get_vcard(cmd["jid"]))
        elif op == "get_nick":
            asyncio.ensure_future(self.get_nick(cmd["jid"]))
        elif op == "quit":
            self.disconnect()
            os._exit(0)

    async def get_vcard(self, jid):
        # A plain iq: what a peer sees on the wire, no plugin's caching.
        iq = self.make_iq_get(ito=jid)
        iq.append(ET.Element("{vcard-temp}vCard"))
        try:
            r = await iq.send(timeout=30)
        except (IqError, IqTimeout) as e:
            out({"event": "vcard", "jid": jid, "error": str(e)})
            return
        v = r.xml.find("{vcard-temp}vCard")
        fields = {}
        for name, path in (("FN", "FN"), ("NICKNAME", "NICKNAME"), ("NOTE", "NOTE"),
                           ("URL", "URL"), ("EMAIL", "EMAIL/USERID")):
            el = v.find("/".join("{vcard-temp}" + p for p in path.split("/"))) if v is not None else None
            if el is not None and el.text:
                fields[name] = el.text
        out({"event": "vcard", "jid": jid, "fields": fields})

    async def get_nick(self, jid):
        iq = self.make_iq_get(ito=jid)
        ps = ET.SubElement(iq.xml, "{http://jabber.org/protocol/pubsub}pubsub")
        ET.SubElement(ps, "{http://jabber.org/protocol/pubsub}items",
                      node="http://jabber.org/protocol/nick", max_items="1")
        try:
            r = await iq.send(timeout=30)
        except (IqError, IqTimeout) as e:
            out({"event": "nick", "jid": jid, "error": str(e)})
            return
        n = r.xml.find(".//{http://jabber.org/protocol/nick}nick")
        out({"event": "nick", "jid": jid, "nick": n.text if n is not None else None})

    async def pong(self):
        await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=30)
        out({"event": "pong"})

    def message(self, msg):
        x = msg.xml
        obj = {"event": "message", "from": str(msg["from"]), "type": msg["type"],
               "id": msg["id"], "body": msg["body"] or None,
               "request": x.find("{%s}request" % RECEIPTS) is not None}
        rec = x.find("{%s}received" % RECEIPTS)
        if rec is not None:
            obj["received"] = rec.get("id")
        for ch in x:
            if ch.tag.startswith("{%s}" % CHATSTATES):
                obj["chatstate"] = ch.tag.split("}")[1]
        oid = x.find("{%s}origin-id" % SID)
        if oid is not None:
            obj["origin_id"] = oid.get("id")
        rep = x.find("{urn:xmpp:message-correct:0}replace")
        if rep is not None:
            obj["replace"] = rep.get("id")
        oob = x.find("{jabber:x:oob}x/{jabber:x:oob}url")
        if oob is not None:
            obj["oob"] = oob.text
        rs = x.find("{urn:xmpp:reactions:0}reactions")
        if rs is not None:
            obj["reactions"] = {"id": rs.get("id"),
                                "list": [r.text for r in rs.findall("{urn:xmpp:reactions:0}reaction")]}
        out(obj)


def main():
    jid, port, ca = sys.argv[1:4]
    xmpp = Peer(jid, os.environ["XTALK_PASSWORD"])
    xmpp.register_plugin("xep_0199")
    xmpp.register_plugin("xep_0184")
    xmpp.ca_certs = ca
    xmpp.connect(address=("127.0.0.1", int(port)))
    loop = asyncio.get_event_loop()
    # A safety net against a hang, not a measure (XT_PEER_TIMEOUT).
    loop.call_later(float(os.environ.get("XT_PEER_TIMEOUT", "120")), lambda: xmpp.fail("timeout"))
    xmpp.process(forever=False)


if __name__ == "__main__":
    main()
