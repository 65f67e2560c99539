#!/usr/bin/env python3
"""A slixmpp peer for interop tests.
  slix_peer.py JID PORT CA_FILE recv N     prints "online", then each received body as a JSON line
  slix_peer.py JID PORT CA_FILE send TO TEXT
  slix_peer.py JID/RES PORT CA_FILE device
      another device of an account: enables carbons (XEP-0280), prints "online",
      then one JSON line per message it sees ({"from", "to", "body", "carbon":
      "sent"|"received"|null}), and sends what stdin asks: "send TO TEXT" lines
      (TEXT with \n escapes), "raw XML" lines (a stanza as is), "quit"
  slix_peer.py JID PORT CA_FILE disco TO   prints TO's disco#info and disco#items
      as one JSON line {"identities": [[cat, type, name]], "features": [...],
      "items": [...], "ver": XEP-0115 ver of the info as slixmpp computes it}
  slix_peer.py JID PORT CA_FILE raw TO TYPE BODY [TO TYPE BODY...]
      sends each message with exactly that type and body, every character
      outside printable ASCII as a character reference (&#10; in the type
      survives XML attribute normalization), as a hostile contact would
Password from XTALK_PASSWORD."""

import asyncio
import json
import os
import sys

import slixmpp
import slixmpp.exceptions


def ref(text, attr):
    """XML text (a quoted attribute when attr): markup and every character
    outside printable ASCII as a character reference."""
    out = "".join(c if 0x20 <= ord(c) < 0x7f and c not in "<>&'\"" else "&#x%x;" % ord(c)
                  for c in text)
    return "'%s'" % out if attr else out


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mode, args):
        super().__init__(jid, password)
        self.mode, self.args, self.got = mode, args, 0
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)
        self.add_event_handler("failed_auth", lambda *_: self.fail("auth failed"))

    def fail(self, why):
        print(why, file=sys.stderr, flush=True)
        os._exit(1)

    async def start(self, _):
        self.send_presence()
        await self.get_roster()
        if self.mode == "device":
            await self.plugin["xep_0280"].enable()
            self.add_event_handler("carbon_received",
                                   lambda m: self.show(m["carbon_received"], "received"))
            self.add_event_handler("carbon_sent", lambda m: self.show(m["carbon_sent"], "sent"))
            asyncio.get_event_loop().add_reader(sys.stdin.fileno(), self.command)
            print("online", flush=True)
            return
        if self.mode == "raw":
            a = self.args
            for i in range(0, len(a), 3):
                self.send_raw("<message xmlns='jabber:client' to=%s type=%s id='raw%d'>"
                              "<body>%s</body></message>" % (ref(a[i], True), ref(a[i + 1], True),
                                                               i, ref(a[i + 2], False)))
            await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=10)
            self.disconnect()
        elif self.mode == "disco":
            to = self.args[0]
            info = await self.plugin["xep_0030"].get_info(jid=to, timeout=20)
            items = await self.plugin["xep_0030"].get_items(jid=to, timeout=20)
            q = info["disco_info"]
            ver = self.plugin["xep_0115"].generate_verstring(q, "sha-1")
            # xtalk answers at NODE#VER only for its own ver (XEP-0115 §6.2):
            # an answer there means the ver it announces is the one computed here.
            try:
                await self.plugin["xep_0030"].get_info(
                    jid=to, node="https://xtalk.invalid/caps#" + ver, timeout=20)
                node_ok = True
            except slixmpp.exceptions.IqError:
                node_ok = False
            print(json.dumps({"identities": [[i[0], i[1], i[3]] for i in q["identities"]],
                              "features": sorted(q["features"]),
                              "items": [str(i[0]) for i in items["disco_items"]["items"]],
                              "ver": ver, "node_ok": node_ok}), flush=True)
            self.disconnect()
        elif self.mode == "send":
            self.send_message(mto=self.args[0], mbody=self.args[1], mtype="chat")
            await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=10)
            self.disconnect()
        else:
            print("online", flush=True)

    def show(self, msg, carbon):
        if msg["body"]:
            print(json.dumps({"from": str(msg["from"]), "to": str(msg["to"]), "body": msg["body"],
                              "carbon": carbon}), flush=True)

    def command(self):
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            asyncio.get_event_loop().remove_reader(sys.stdin.fileno())
            self.disconnect()
            return
        asyncio.ensure_future(self.run_command(line))

    async def run_command(self, line):
        verb, _, rest = line.rstrip("\n").partition(" ")
        if verb == "send":
            to, _, text = rest.partition(" ")
            self.send_message(mto=to, mbody=text.replace("\\n", "\n"), mtype="chat")
        elif verb == "raw":
            self.send_raw(rest)
        # "sent" once the server has handled it (a ping round trip after it).
        await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=30)
        print(json.dumps({"sent": verb}), flush=True)

    def message(self, msg):
        if self.mode == "device" and msg["type"] in ("chat", "normal"):
            self.show(msg, None)
            return
        if self.mode == "recv" and msg["type"] in ("chat", "normal") and msg["body"]:
            out = {"from": str(msg["from"]), "body": msg["body"]}
            oob = msg.xml.find("{jabber:x:oob}x/{jabber:x:oob}url")
            if oob is not None:  # XEP-0066, as a file link (send --file)
                out["oob"] = oob.text
            print(json.dumps(out), flush=True)
            self.got += 1
            if self.got >= int(self.args[0]):
                self.disconnect()


def main():
    jid, port, ca, mode = sys.argv[1:5]
    xmpp = Peer(jid, os.environ["XTALK_PASSWORD"], mode, sys.argv[5:])
    xmpp.register_plugin("xep_0199")
    xmpp.register_plugin("xep_0030")
    xmpp.register_plugin("xep_0115")
    xmpp.register_plugin("xep_0280")
    xmpp.ca_certs = ca
    xmpp.connect(address=("127.0.0.1", int(port)))
    loop = asyncio.get_event_loop()
    # A safety net against a hang, not a measure: the test scales it for
    # an xtalk under valgrind on the other side (XT_PEER_TIMEOUT).
    loop.call_later(float(os.environ.get("XT_PEER_TIMEOUT", "60")), lambda: xmpp.fail("timeout"))
    xmpp.process(forever=False)


if __name__ == "__main__":
    main()
