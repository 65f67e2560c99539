#!/usr/bin/env python3
"""A slixmpp peer for interop tests.
  slix_peer.py JID PORT CA_FILE recv N     prints "online", then each received body as a JSON line
  slix_peer.py JID PORT CA_FILE send TO TEXT
Password from XTALK_PASSWORD."""

import asyncio
import json
import os
import sys

import slixmpp


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
        if self.mode == "send":
            self.send_message(mto=self.args[0], mbody=self.args[1], mtype="chat")
            await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=10)
            self.disconnect()
        else:
            print("online", flush=True)

    def message(self, msg):
        if self.mode == "recv" and msg["type"] in ("chat", "normal") and msg["body"]:
            print(json.dumps({"from": str(msg["from"]), "body": msg["body"]}), flush=True)
            self.got += 1
            if self.got >= int(self.args[0]):
                self.disconnect()


def main():
    jid, port, ca, mode = sys.argv[1:5]
    xmpp = Peer(jid, os.environ["XTALK_PASSWORD"], mode, sys.argv[5:])
    xmpp.register_plugin("xep_0199")
    xmpp.ca_certs = ca
    xmpp.connect(address=("127.0.0.1", int(port)))
    loop = asyncio.get_event_loop()
    # A safety net against a hang, not a measure: the test scales it for
    # an xtalk under valgrind on the other side (XT_PEER_TIMEOUT).
    loop.call_later(float(os.environ.get("XT_PEER_TIMEOUT", "60")), lambda: xmpp.fail("timeout"))
    xmpp.process(forever=False)


if __name__ == "__main__":
    main()
