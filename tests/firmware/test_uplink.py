"""hub/uplink.py on CPython: OSCORE-protected requests over real UDP to aiocoap's OSCORE
(the stand-in fleet) and to protocol/'s server side (MiniFleet), timeouts, sequence
numbers that survive a restart, and Echo recovery."""

import asyncio
import sys
import time

import pytest

from emulator import clock as vclock
from emulator.ports import free_udp_port
from emulator.standin_fleet import StandinFleet
from protocol import codes, senml
from tests.mpy import ROOT

sys.path.insert(0, str(ROOT / "firmware"))  # on the hub the package is `hub`
sys.path.insert(0, str(ROOT / "tests" / "mp"))

from hub import identity  # noqa: E402
from hub.uplink import SeqStore, Uplink  # noqa: E402
from minifleet import MiniFleet  # noqa: E402

PACK = senml.encode([senml.reading("p1", "panic", True)], bn="urn:dev:hub:hub-1:")


@pytest.fixture(autouse=True)
def micropython_time(monkeypatch):
    # The MicroPython time and asyncio extras the uplink uses, on real time.
    clk = vclock.VirtualClock(virtual=False)
    monkeypatch.setattr(time, "ticks_ms", clk.ticks_ms, raising=False)
    monkeypatch.setattr(time, "ticks_diff", vclock._ticks_diff, raising=False)

    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)

    monkeypatch.setattr(asyncio, "sleep_ms", sleep_ms, raising=False)


@pytest.fixture
async def fleet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # oscore.seq lands here, as on the hub's flash
    f = StandinFleet(tmp_path / "fleet")
    fields = f.enrol("hub-1", ack=50)
    fields["port"] = await f.start()
    yield f, identity.Identity(identity.check(fields))
    await f.stop()


async def test_telemetry_is_stored_once_per_seq(fleet):
    f, ident = fleet
    up = Uplink(ident)
    for _ in range(2):
        resp = await up.request(codes.POST, "t", PACK, query="s=9", cf=112)
        assert resp.code == codes.CHANGED
    assert f.records[("hub-1", 9)][0]["vb"] is True and f.repeats[("hub-1", 9)] == 1
    assert up.sent == 2 and up.failed == 0


async def test_config_etag_is_sent_and_valid_comes_back(fleet):
    f, ident = fleet
    etag = f.set_config("hub-1", [], hb=30)
    up = Uplink(ident)
    resp = await up.request(codes.GET, "c", etag=b"old")
    assert resp.code == codes.CONTENT and resp.get(4) == etag
    resp = await up.request(codes.GET, "c", etag=etag)
    assert resp.code == codes.VALID


async def test_sequence_numbers_survive_a_restart(fleet, tmp_path):
    f, ident = fleet
    up = Uplink(ident)
    for s in range(3):
        assert (await up.request(codes.POST, "t", PACK, query=f"s={s}")).code == codes.CHANGED
    assert SeqStore().load() == 0  # written before number 0 was used
    # A restarted hub resumes past the saved mark: the fleet accepts it ...
    again = Uplink(ident)
    assert again.ctx.sender_seq == 64
    assert (await again.request(codes.POST, "t", PACK, query="s=3")).code == codes.CHANGED
    # ... while one that forgot its numbers is refused as a replay.
    forgetful = Uplink(ident, storage=SeqStore(str(tmp_path / "elsewhere")))
    assert await forgetful.request(codes.POST, "t", PACK, query="s=4") is None
    assert "4.01" in forgetful.last_error and ("hub-1", 4) not in f.records


async def test_no_fleet_means_none_after_the_retransmissions(fleet):
    f, ident = fleet
    await f.stop()
    up = Uplink(ident)
    t0 = time.monotonic()
    assert await up.request(codes.POST, "hb", b"\xa0") is None
    # ACK_TIMEOUT 50 ms: 4 retransmissions, 31 x 50-75 ms in all.
    assert 1.5 <= time.monotonic() - t0 < 3.0
    assert up.failed == 1 and "no answer" in up.last_error


async def test_echo_challenge_is_answered_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    port = free_udp_port()
    fields = {
        "v": 1, "hub": "hub-2", "sid": b"\x02", "ms": bytes(range(16)), "salt": b"salt",
        "host": "127.0.0.1", "port": port, "ssid": "x", "wkey": "", "ack": 50,
    }  # fmt: skip
    mini = MiniFleet(fields["ms"], fields["salt"], b"\x02", port, fresh=True)
    task = asyncio.ensure_future(mini.run())
    try:
        up = Uplink(identity.Identity(identity.check(fields)))
        resp = await up.request(codes.POST, "t", PACK, query="s=1")
        assert resp.code == codes.CHANGED and list(mini.records) == [1]
        assert up.ctx.sender_seq == 2  # the challenged request, then its retry
    finally:
        task.cancel()
        mini.sock.close()
