"""The heartbeat's key 10: how many emergencies (panic, fall, smoke, gas, water) wait in
the outbox undelivered, so the fleet never starts an update while one is pending."""

import asyncio
import gc
import sys
import time

import pytest

from emulator import clock as vclock
from protocol import cbor, codes
from tests.mpy import ROOT

sys.path[:0] = [str(ROOT / d) for d in ("firmware", "emulator/hw", "emulator/cpython")]

from hub.outbox import Outbox  # noqa: E402


@pytest.fixture
def hubapp(monkeypatch):
    # hub.app wants MicroPython's time.ticks_*: real time, for these tests only.
    clk = vclock.VirtualClock(virtual=False)
    monkeypatch.setattr(time, "ticks_ms", clk.ticks_ms, raising=False)
    monkeypatch.setattr(time, "ticks_diff", vclock._ticks_diff, raising=False)
    monkeypatch.setattr(time, "ticks_add", vclock._ticks_add, raising=False)
    monkeypatch.setattr(gc, "mem_free", lambda: 50_000, raising=False)
    from hub import app

    return app


class Clock:
    def now(self):
        return 1_700_000_000_000


class Reply:
    code = codes.CHANGED
    payload = cbor.dumps({})


class Uplink:
    clock = Clock()
    last_error = None

    def __init__(self):
        self.beats = []

    async def request(self, method, path, payload=None, *args, **kw):
        self.beats.append(cbor.loads(payload))
        return Reply()


class Wifi:
    def rssi(self):
        return -60


class Cfg:
    etag = b"\x00\x01"


def hub(hubapp, box):
    a = object.__new__(hubapp.App)
    a.uplink, a.wifi, a.box, a.cfg = Uplink(), Wifi(), box, Cfg()
    a.last_error, a.reset_cause, a.ota, a._in_uplink = None, "power-on", None, []
    a.beats = {}
    return a


def test_heartbeat_counts_undelivered_emergencies_only(tmp_path, hubapp):
    box = Outbox(str(tmp_path / "outbox"))
    a = hub(hubapp, box)
    asyncio.run(a.heartbeat())
    box.put(b"reading", False)
    panic = box.put(b"panic", True)
    smoke = box.put(b"smoke", True)
    asyncio.run(a.heartbeat())
    box.ack([panic])
    asyncio.run(a.heartbeat())
    box.ack([smoke])
    asyncio.run(a.heartbeat())
    assert [b[10] for b in a.uplink.beats] == [0, 2, 1, 0]
    assert [b[4] for b in a.uplink.beats] == [0, 3, 2, 1]  # queue depth counts readings too


def test_emergencies_still_count_after_a_reboot(tmp_path, hubapp):
    box = Outbox(str(tmp_path / "outbox"))
    box.put(b"fall", True)
    box.put(b"reading", False)
    box.flush()
    a = hub(hubapp, Outbox(str(tmp_path / "outbox")))  # the same flash, opened again
    asyncio.run(a.heartbeat())
    assert a.uplink.beats[0][10] == 1
