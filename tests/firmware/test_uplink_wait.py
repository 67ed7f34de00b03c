"""hub/uplink.py waits on the event loop for a reply or its next retransmission, never
polling: what lets 200 emulated hubs share two cores, and a real hub sleep while the
fleet is slow. Checked on CPython (the emulator's path) and on MicroPython."""

import asyncio
import sys
import time

import pytest

from emulator import clock as vclock
from emulator.ports import free_udp_port
from tests.mpy import ROOT, run_micropython

SCRIPT = ROOT / "tests" / "mp" / "uplink_wait.py"
PATHS = (ROOT / "firmware", ROOT / "tests" / "mp")


def _ports():
    return f"{free_udp_port()},{free_udp_port()}"


@pytest.fixture
def micropython_time(monkeypatch):
    # The MicroPython time and asyncio extras the uplink uses, on real time.
    clk = vclock.VirtualClock(virtual=False)
    monkeypatch.setattr(time, "ticks_ms", clk.ticks_ms, raising=False)
    monkeypatch.setattr(time, "ticks_diff", vclock._ticks_diff, raising=False)

    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)

    monkeypatch.setattr(asyncio, "sleep_ms", sleep_ms, raising=False)
    for p in PATHS:
        monkeypatch.syspath_prepend(str(p))
    yield
    for mod in ("uplink_wait", "minifleet"):
        sys.modules.pop(mod, None)


async def test_uplink_waits_instead_of_polling_on_cpython(micropython_time, capsys):
    import uplink_wait

    await uplink_wait.main(_ports())
    assert capsys.readouterr().out.endswith("OK\n")


def test_uplink_waits_instead_of_polling_on_micropython():
    # Compiled from source here, so it needs more heap than the precompiled app does.
    out, status = run_micropython(path=SCRIPT, paths=PATHS, args=(_ports(),), heapsize="400K")
    assert status == 0 and out.endswith("OK\n"), out
