#!/usr/bin/env python3
"""A slixmpp occupant (its XEP-0045 plugin) driven line by line, for the
group chat tests: another person in the room.

  slix_muc.py JID PORT CA_FILE      (password from XTALK_PASSWORD)

Prints {"event":"online","jid"} once in session, then one JSON object per
room event:
  {"event":"joined","room","nick","created":bool}  (its own join, answering "join")
  {"event":"groupchat","room","nick","body","id","origin_id","oob","delayed":bool}
  {"event":"private","from","body"}                a message from an occupant
  {"event":"presence","room","nick","type","codes":[...],"jid"}
  {"event":"pong"} / {"event":"done","op"} / {"event":"error","op","error"}
Reads one JSON command per stdin line:
  {"op":"join","room","nick","password"?,"config"?:{"password":P,"membersonly":bool,"moderated":bool}}
      joins without history; a room it created is configured (the config
      given, else the defaults: an instant room) before "joined" is printed
  {"op":"say","room","body"}        groupchat
  {"op":"pm","to":"room@service/nick","body"}
  {"op":"kick","room","nick","reason"}
  {"op":"leave","room","nick"}
  {"op":"ping"}                     prints pong once the server handled what came before
  {"op":"quit"}"""

import asyncio
import json
import os
import sys

import slixmpp
import slixmpp.exceptions

MUC_USER = "http://jabber.org/protocol/muc#user"
SID = "urn:xmpp:sid:0"


def out(obj):
    print(json.dumps(obj), flush=True)


class Occupant(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("groupchat_message", self.groupchat)
        self.add_event_handler("message", self.message)
        self.add_event_handler("groupchat_presence", self.presence)
        self.add_event_handler("failed_auth", lambda *_: self.fail("auth failed"))

    def fail(self, why):
        print(why, file=sys.stderr, flush=True)
        os._exit(1)

    async def start(self, _):
        self.send_presence()
        asyncio.get_event_loop().add_reader(sys.stdin.fileno(), self.command)
        out({"event": "online", "jid": str(self.boundjid)})

    def command(self):
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            os._exit(0)
        self.inbuf = getattr(self, "inbuf", b"") + data
        while b"\n" in self.inbuf:
            line, self.inbuf = self.inbuf.split(b"\n", 1)
            if line.strip():
                asyncio.ensure_future(self.run(json.loads(line)))

    async def run(self, cmd):
        op = cmd["op"]
        muc = self.plugin["xep_0045"]
        try:
            if op == "join":
                await self.join(cmd)
                return
            if op == "say":
                self.send_message(mto=cmd["room"], mbody=cmd["body"], mtype="groupchat")
            elif op == "pm":
                m = self.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
                m.append(slixmpp.xmlstream.ET.Element("{%s}x" % MUC_USER))
                m.send()
            elif op == "kick":
                await muc.set_role(cmd["room"], cmd["nick"], "none", reason=cmd.get("reason", ""))
            elif op == "leave":
                muc.leave_muc(cmd["room"], cmd["nick"])
            elif op == "ping":
                await self.plugin["xep_0199"].ping(jid=self.boundjid.domain, timeout=60)
                out({"event": "pong"})
                return
            elif op == "quit":
                self.disconnect()
                return
            out({"event": "done", "op": op})
        except (slixmpp.exceptions.IqError, slixmpp.exceptions.IqTimeout) as e:
            out({"event": "error", "op": op, "error": str(e)})

    async def join(self, cmd):
        muc = self.plugin["xep_0045"]
        room, nick = cmd["room"], cmd["nick"]
        try:
            pres, _, _, _ = await muc.join_muc_wait(room, nick, password=cmd.get("password"),
                                                    maxstanzas=0, timeout=60)
        except slixmpp.exceptions.PresenceError as e:
            out({"event": "error", "op": "join", "error": e.condition})
            return
        codes = {int(s) for s in pres["muc"]["status_codes"]}
        created = 201 in codes
        if created:
            # XEP-0045 §10.1.3: a reserved room, configured as asked (an
            # unchanged form is the defaults, as for an instant room).
            form = await muc.get_room_config(room)
            fields = form.get_fields()
            conf = cmd.get("config") or {}
            new = {}
            if "password" in conf:
                new["muc#roomconfig_passwordprotectedroom"] = True
                new["muc#roomconfig_roomsecret"] = conf["password"]
            if conf.get("membersonly"):
                new["muc#roomconfig_membersonly"] = True
            if conf.get("moderated"):
                new["muc#roomconfig_moderatedroom"] = True
            submit = slixmpp.plugins.xep_0004.stanza.form.Form()
            submit["type"] = "submit"
            for var, f in fields.items():
                if f["type"] == "fixed" or not var:
                    continue
                value = new.pop(var, f["value"])
                submit.add_field(var=var, ftype=f["type"], value=value)
            for var, value in new.items():
                submit.add_field(var=var, value=value)
            await muc.set_room_config(room, submit)
        out({"event": "joined", "room": room, "nick": nick, "created": created})

    def groupchat(self, msg):
        if not msg["body"]:
            return
        oid = msg.xml.find("{%s}origin-id" % SID)
        oob = msg.xml.find("{jabber:x:oob}x/{jabber:x:oob}url")  # XEP-0066: a shared file
        out({"event": "groupchat", "room": str(msg["from"].bare), "nick": msg["from"].resource,
             "body": msg["body"], "id": msg["id"],
             "origin_id": oid.get("id") if oid is not None else None,
             "oob": oob.text if oob is not None else None,
             "delayed": msg.xml.find("{urn:xmpp:delay}delay") is not None})

    def message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            out({"event": "private", "from": str(msg["from"]), "body": msg["body"]})

    def presence(self, pres):
        x = pres.xml.find("{%s}x" % MUC_USER)
        codes = sorted(int(s.get("code")) for s in x.findall("{%s}status" % MUC_USER)) if x is not None else []
        item = x.find("{%s}item" % MUC_USER) if x is not None else None
        out({"event": "presence", "room": str(pres["from"].bare), "nick": pres["from"].resource,
             "type": pres["type"], "codes": codes,
             "jid": item.get("jid") if item is not None else None})


def main():
    jid, port, ca = sys.argv[1:4]
    xmpp = Occupant(jid, os.environ["XTALK_PASSWORD"])
    xmpp.register_plugin("xep_0199")
    xmpp.register_plugin("xep_0045")
    xmpp.register_plugin("xep_0004")
    xmpp.ca_certs = ca
    xmpp.connect(address=("127.0.0.1", int(port)))
    loop = asyncio.get_event_loop()
    # A safety net against a hang, not a measure (XT_PEER_TIMEOUT).
    loop.call_later(float(os.environ.get("XT_PEER_TIMEOUT", "120")), lambda: xmpp.fail("timeout"))
    xmpp.process(forever=False)


if __name__ == "__main__":
    main()
