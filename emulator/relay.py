"""A UDP impairment relay between hubs and the fleet: loss, delay with jitter,
duplication, reordering and scheduled outages, from a seeded RNG so runs repeat.

Hubs send to the relay's address; for each hub address the relay opens its own upstream
socket (as a NAT would), so the fleet's answers find their way back. Both directions are
impaired alike. Outages are (start, end) in seconds since start().
"""

import asyncio
import random
from collections import Counter


class Impairment:
    def __init__(self, loss=0.0, dup=0.0, delay=0.0, jitter=0.0, reorder=0.0, outages=()):
        self.loss = loss
        self.dup = dup
        self.delay = delay
        self.jitter = jitter
        self.reorder = reorder  # share of datagrams held back by an extra 2*delay+jitter
        self.outages = list(outages)


class _Side(asyncio.DatagramProtocol):
    def __init__(self, on_datagram):
        self.on_datagram = on_datagram
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.on_datagram(data, addr)


class Relay:
    def __init__(self, upstream, impairment=None, seed=0, listen=("127.0.0.1", 0)):
        self.upstream = upstream
        self.imp = impairment or Impairment()
        self.rng = random.Random(seed)
        self.listen = listen
        self.stats = Counter()
        self._front = None
        self._clients = {}  # hub address -> upstream transport
        self._t0 = 0.0

    async def start(self):
        loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        self._front, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_hub), local_addr=self.listen
        )
        return self._front.get_extra_info("sockname")

    def close(self):
        for t in self._clients.values():
            t.close()
        if self._front is not None:
            self._front.close()

    def in_outage(self):
        t = asyncio.get_running_loop().time() - self._t0
        return any(start <= t < end for start, end in self.imp.outages)

    def _from_hub(self, data, addr):
        up = self._clients.get(addr)
        if up is None:
            asyncio.ensure_future(self._open(data, addr))
            return
        self._impair("up", data, lambda d: up.sendto(d, self.upstream))

    async def _open(self, data, addr):
        loop = asyncio.get_running_loop()
        if addr not in self._clients:
            up, _ = await loop.create_datagram_endpoint(
                lambda: _Side(lambda d, _a: self._impair("down", d, self._to_hub(addr))),
                local_addr=("127.0.0.1", 0),
            )
            self._clients[addr] = up
        self._from_hub(data, addr)

    def _to_hub(self, addr):
        return lambda d: self._front.sendto(d, addr)

    def _impair(self, direction, data, send):
        imp = self.imp
        self.stats[direction + "_in"] += 1
        if self.in_outage():
            self.stats[direction + "_outage"] += 1
            return
        if self.rng.random() < imp.loss:
            self.stats[direction + "_lost"] += 1
            return
        copies = 2 if self.rng.random() < imp.dup else 1
        self.stats[direction + "_dup"] += copies - 1
        loop = asyncio.get_running_loop()
        for _ in range(copies):
            d = imp.delay + self.rng.uniform(0, imp.jitter)
            if self.rng.random() < imp.reorder:
                d += 2 * imp.delay + imp.jitter + 0.001
                self.stats[direction + "_reordered"] += 1
            self.stats[direction + "_out"] += 1
            if d > 0:
                loop.call_later(d, send, data)
            else:
                send(data)
