# A hub's surroundings for hub/ota.py without a network: a fake app whose uplink answers
# `m` and `i` from a release held in memory, cutting Block2 blocks as the fleet does.
# Runs on CPython and on MicroPython (tests/mp/ota_checks.py).
import asyncio

from protocol import codes, options
from protocol.coap import ACK, Message


class FakeUplink:
    def __init__(self, manifest, bundle, etag=None):
        self.bodies = {"m": manifest, "i": bundle}
        self.etag = etag  # of `i`; the fleet sends the first 8 bytes of its SHA-256
        self.gets = []  # (path, block number) of each request
        self.drop_after = -1  # requests answered before the link goes (-1: never)

    async def send(self, msg):
        path = msg.get(options.URI_PATH).decode()
        value = msg.get_uint(options.BLOCK2, 6)
        num, szx = value >> 4, value & 7
        self.gets.append((path, num))
        if self.drop_after == 0:
            return None
        if self.drop_after > 0:
            self.drop_after -= 1
        body = self.bodies[path]
        size = 16 << szx
        more = (num + 1) * size < len(body)
        resp = Message(ACK, codes.CONTENT, payload=body[num * size : (num + 1) * size])
        resp.add(options.ETAG, self.etag if path == "i" else b"m")
        resp.add(options.BLOCK2, num << 4 | (8 if more else 0) | szx)
        resp.add(options.SIZE2, len(body))
        return resp


class FakeBox:
    """The app's outbox as hub.ota sees it: how many emergencies wait to be delivered."""

    def __init__(self):
        self.urgent = 0

    def urgent_depth(self):
        return self.urgent


class FakeApp:
    def __init__(self, uplink):
        self.uplink = uplink
        self.box = FakeBox()
        self.beats = {}
        self.synced = False
        self.crashes = 0
        self.lines = []

    async def send(self, name, msg):
        # As App.send: the exchange, then the task's check-in.
        try:
            return await self.uplink.send(msg)
        finally:
            self.beat(name)

    def beat(self, name):
        self.beats[name] = 0

    def log(self, text):
        self.lines.append(text)


def run_offer(updater, seq):
    """Offer seq as a fleet that holds nothing back: run the task the offer starts to its
    end and, once the bundle is verified ("downloaded"), offer it again (the go)."""

    async def go():
        for _ in range(2):
            updater.offer(seq)
            if updater.task is not None:
                await updater.task
            if not (updater.report and updater.report[0] == "downloaded"):
                return

    asyncio.run(go())


def one_offer(updater, seq):
    """One heartbeat reply offering seq: run the task it starts (if any) to its end."""

    async def go():
        updater.offer(seq)
        if updater.task is not None:
            await updater.task

    asyncio.run(go())
