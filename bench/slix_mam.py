#!/usr/bin/python3
"""slixmpp helper for bench/catchup_bench.py (Debian's python3, which has
python3-slixmpp).

  slix_mam.py fill JID PORT CA N PEER_FMT NPEERS   send N messages round-robin
      to PEER_FMT % i (i < NPEERS), then a ping round trip; prints "done SECONDS"
  slix_mam.py page JID PORT CA AFTER_ID PAGE       page the whole archive after
      AFTER_ID, PAGE per RSM page; prints "count N seconds S"
Password from XTALK_PASSWORD."""
import asyncio
import os
import sys
import time

import slixmpp


class C(slixmpp.ClientXMPP):
    def __init__(self, jid, pw, mode, args):
        super().__init__(jid, pw)
        self.mode, self.args = mode, args
        self.add_event_handler("session_start", self.start)

    async def start(self, _):
        if self.mode == "fill":
            n, fmt, npeers = int(self.args[0]), self.args[1], int(self.args[2])
            t = time.monotonic()
            for i in range(n):
                self.send_message(mto=fmt % (i % npeers), mbody="catch-up message %d" % i,
                                  mtype="chat")
                if i % 500 == 499:
                    await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=120)
            await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=120)
            print("done %.2f" % (time.monotonic() - t), flush=True)
        else:
            after, page = self.args[0], int(self.args[1])
            t = time.monotonic()
            n = 0
            rsm = {"max": page}
            if after:
                rsm["after"] = after
            async for _m in self.plugin["xep_0313"].iterate(rsm=rsm):
                n += 1
            print("count %d seconds %.3f" % (n, time.monotonic() - t), flush=True)
        self.disconnect()


def main():
    mode, jid, port, ca = sys.argv[1:5]
    c = C(jid, os.environ["XTALK_PASSWORD"], mode, sys.argv[5:])
    for p in ("xep_0199", "xep_0059", "xep_0313"):
        c.register_plugin(p)
    c.ca_certs = ca
    c.connect(address=("127.0.0.1", int(port)))
    c.process(forever=False)


if __name__ == "__main__":
    main()
