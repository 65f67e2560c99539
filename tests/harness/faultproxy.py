#!/usr/bin/env python3
"""A fault-injecting TCP proxy for tests: client <-> proxy <-> server, on
loopback only, that cuts connections at random moments, stalls them and
delays their data.

Every connection gets its own fault plan, drawn from a random generator
seeded with (seed, connection number), so a run is replayable from the
seed it prints at start (timing aside: the plan says *where* in the byte
stream each fault happens, which is what matters for the protocol):

- cut: after a chosen number of bytes in one direction (possibly in the
  middle of a chunk, so in the middle of a TLS record, a stanza, SASL or
  a resumption), both sides are closed, half the time with a TCP reset
  (SO_LINGER 0), half with a FIN.
- stall: from that point nothing is forwarded either way and nothing is
  closed (no FIN): only the endpoints' own timeouts can notice. A stall
  ends after `stall_max` seconds by closing both sides, so nothing hangs
  for ever.
- delay: any chunk may wait a few milliseconds before being forwarded
  (order within a direction is kept).
- hold (`hold_after=N`, no randomness): once N bytes in total have gone
  from clients to the server, over every connection the proxy carried,
  nothing more goes that way (the rest is read and kept back, nothing is
  closed; server-to-client traffic still flows, so what the server got is
  acknowledged). The byte stream is TLS, so the proxy cannot count
  stanzas; a test that needs "stopped after some messages, before all of
  them" makes its messages big enough that N bytes hold more than the
  login and less than the batch. `held` is a threading.Event set at that
  moment: tests wait on it instead of on time.

Cut points are drawn half from the first few kilobytes of a connection
(the TLS handshake, SASL, binding or <resume/>: a fresh reconnection is
as fragile as it gets) and half from further on (mid-stanza traffic).
Faults stop once `max_faults` were injected or `fault_time` seconds have
passed; from then on the proxy forwards faithfully. The whole proxy stops
by itself after `lifetime` seconds.

As a module (runs its own event loop in a thread):
    with FaultProxy(("127.0.0.1", srv.port), seed=1234) as fp:
        fp.port  # connect clients here
        fp.faults, fp.connections
From the shell:
    faultproxy.py --target 127.0.0.1:5222 [--listen PORT] [--seed N] [--lifetime S]
"""

import argparse
import asyncio
import os
import random
import socket
import struct
import sys
import threading
import time


class FaultProxy:
    def __init__(self, target, seed=None, listen_port=0, max_faults=50, fault_time=60.0,
                 lifetime=600.0, early_bytes=6000, late_bytes=60000, stall_prob=0.2,
                 stall_max=6.0, delay_prob=0.05, delay_max_ms=30, min_gap=0.0, log=None,
                 enabled=True, hold_after=None):
        self.target = target
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
        self.listen_port = listen_port
        self.max_faults = max_faults
        self.fault_time = fault_time
        self.lifetime = lifetime
        self.early_bytes = early_bytes
        self.late_bytes = late_bytes
        self.stall_prob = stall_prob
        self.stall_max = stall_max
        self.delay_prob = delay_prob
        self.delay_max_ms = delay_max_ms
        self.min_gap = min_gap  # seconds between faults (lets sessions make progress)
        self.log = log or (lambda msg: None)
        self.port = None
        self.faults = 0
        self.cuts = 0
        self.stalls = 0
        self.connections = 0
        self.fault_log = []
        self._loop = None
        self._thread = None
        self._server = None
        self._started = threading.Event()
        self._t0 = None
        self._last_fault = 0.0
        self._writers = set()
        self._pairs = {}  # (client writer, server writer) -> connection number
        self._enabled = enabled
        self.hold_after = hold_after
        self.c2s_bytes = 0            # client -> server, every connection
        self.held = threading.Event()

    # -- control -----------------------------------------------------------
    def start(self):
        print("faultproxy: seed=%d" % self.seed, file=sys.stderr, flush=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("faultproxy did not start")
        return self

    def stop(self):
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._shutdown)
        if self._thread:
            self._thread.join(10)

    def faults_on(self):
        self._enabled = True

    def faults_off(self):
        """From now on, forward faithfully (connections already stalled
        end at their stall deadline)."""
        self._enabled = False

    def cut_all(self):
        """Reset every open connection now, wherever it is (one fault,
        one cut, per client connection)."""
        def go():
            for cw, sw in list(self._pairs):
                self.faults += 1
                self.cuts += 1
                self.fault_log.append("cut_all conn %d" % self._pairs[(cw, sw)])
                self._abort(cw)
                self._abort(sw)
        self._loop.call_soon_threadsafe(go)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- internals ---------------------------------------------------------
    def _run(self):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self):
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._t0 = time.monotonic()
        self._stop_ev = asyncio.Event()
        self._started.set()
        try:
            await asyncio.wait_for(self._stop_ev.wait(), self.lifetime)
        except asyncio.TimeoutError:
            self.log("faultproxy: lifetime over, stopping")
        self._server.close()
        for w in list(self._writers):
            self._abort(w)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _shutdown(self):
        self._stop_ev.set()

    def _may_fault(self):
        now = time.monotonic()
        return (self._enabled and self.faults < self.max_faults
                and now - self._t0 < self.fault_time
                and now - self._last_fault >= self.min_gap)

    def _abort(self, w, rst=True):
        try:
            if rst:
                sock = w.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.close()
        except OSError:
            pass
        self._writers.discard(w)

    async def _handle(self, cr, cw):
        try:
            await self._handle_conn(cr, cw)
        except asyncio.CancelledError:
            pass  # shutting down: asyncio's stream callback must not see it

    async def _handle_conn(self, cr, cw):
        n = self.connections
        self.connections += 1
        rng = random.Random("%d/%d" % (self.seed, n))
        try:
            sr, sw = await asyncio.open_connection(*self.target)
        except OSError:
            self._abort(cw)
            return
        self._writers.update((cw, sw))
        self._pairs[(cw, sw)] = n
        # The plan: which direction, after how many bytes, what fault.
        if rng.random() < 0.5:
            at = rng.randint(0, self.early_bytes)
        else:
            at = rng.randint(self.early_bytes, self.late_bytes)
        plan = {
            "dir": rng.choice(("c2s", "s2c")),
            "at": at,
            "kind": "stall" if rng.random() < self.stall_prob else "cut",
            "rst": rng.random() < 0.5,
            "rng": rng,
            "done": False,
            "stalled": asyncio.Event(),
        }
        t1 = asyncio.ensure_future(self._pump(cr, sw, "c2s", plan, n, (cw, sw)))
        t2 = asyncio.ensure_future(self._pump(sr, cw, "s2c", plan, n, (cw, sw)))
        await asyncio.wait([t1, t2], return_when=asyncio.FIRST_COMPLETED)
        if plan["stalled"].is_set():
            # Hold both sockets open, silent, until the stall ends.
            await asyncio.sleep(self.stall_max)
        for t in (t1, t2):
            t.cancel()
        self._pairs.pop((cw, sw), None)
        for w in (cw, sw):
            self._abort(w, rst=False)

    async def _pump(self, r, w, direction, plan, n, pair):
        count = 0
        rng = plan["rng"]
        try:
            while True:
                data = await r.read(16384)
                if not data:
                    # An orderly end from one side: pass the FIN on.
                    try:
                        w.write_eof()
                        await w.drain()
                    except OSError:
                        pass
                    return
                if plan["stalled"].is_set():
                    continue  # swallowed: a stalled link forwards nothing
                if direction == "c2s" and self.hold_after is not None:
                    room = self.hold_after - self.c2s_bytes
                    if room <= 0:
                        continue  # held: kept back for good
                    if len(data) >= room:
                        w.write(data[:room])
                        await w.drain()
                        self.c2s_bytes += room
                        self.log("faultproxy: holding client data after %d bytes" % self.c2s_bytes)
                        self.held.set()
                        continue
                    self.c2s_bytes += len(data)
                if (not plan["done"] and plan["dir"] == direction
                        and count + len(data) > plan["at"] and self._may_fault()):
                    plan["done"] = True
                    cut = max(0, plan["at"] - count)
                    if cut:
                        w.write(data[:cut])
                        await w.drain()
                    self.faults += 1
                    self._last_fault = time.monotonic()
                    what = "%s conn %d %s after %d bytes" % (plan["kind"], n, direction,
                                                            count + cut)
                    self.fault_log.append(what)
                    self.log("faultproxy: " + what)
                    if plan["kind"] == "stall":
                        self.stalls += 1
                        plan["stalled"].set()
                        return
                    self.cuts += 1
                    for x in pair:
                        self._abort(x, rst=plan["rst"])
                    return
                if self.delay_prob and rng.random() < self.delay_prob and self._enabled:
                    await asyncio.sleep(rng.uniform(0, self.delay_max_ms) / 1000.0)
                w.write(data)
                await w.drain()
                count += len(data)
        except (OSError, asyncio.IncompleteReadError):
            return


def _main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True, help="HOST:PORT of the server (loopback)")
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--max-faults", type=int, default=50)
    ap.add_argument("--fault-time", type=float, default=60.0)
    ap.add_argument("--lifetime", type=float, default=120.0)
    a = ap.parse_args(argv)
    host, _, port = a.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        ap.error("the target must be on loopback")
    fp = FaultProxy((host.strip("[]"), int(port)), seed=a.seed, listen_port=a.listen,
                    max_faults=a.max_faults, fault_time=a.fault_time, lifetime=a.lifetime,
                    log=lambda m: print(m, file=sys.stderr, flush=True))
    fp.start()
    print("PORT=%d" % fp.port, flush=True)
    try:
        fp._thread.join()
    except KeyboardInterrupt:
        fp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
