"""A real MicroPython hub (the unix port, the app and protocol/ precompiled with
mpy-cross) alone in its own process, talking UDP and OSCORE to the stand-in fleet:
aiocoap's OSCORE on the other side, so the two implementations must agree on the wire.

boot.py runs the app's code in place from a ROMFS partition. The hub has 100 KB of free
heap of its own, as on an ESP32: what a hub keeps in flash (hardware stand-ins, the
partition, which this port only has as a bytearray) comes on top (tests/e2e/mphub.py).
tests/bench/bench_hub_heap.py prints the breakdown."""

import time

from tests.e2e.mphub import HUB, figures, run_alone

HEAP = "100K"


async def test_micropython_hub_boots_heartbeats_and_delivers_once(tmp_path):
    out, status, fleet = await run_alone(tmp_path, heapsize=HEAP, heartbeats=3)
    assert status == 0 and out.rstrip().endswith("OK"), out
    figs = figures(out)
    # Boot: heartbeats carry what the firmware knows; the configuration was applied.
    beats = [b for h, b, _ in fleet.heartbeats if h == HUB]
    assert len(beats) >= 3
    assert beats[0][5] == "0.1.0" and beats[0][7] == "power-on"
    assert beats[-1][8] == fleet.configs[HUB]["v"]
    # The panic press and the door's open/close: each stored once, none twice.
    panics = fleet.events(HUB, "panic")
    assert [r["vb"] for _, r in panics] == [True]
    assert [r["vb"] for _, r in fleet.events(HUB, "door")] == [True, False]
    assert not fleet.repeats
    # The thermometer's readings, batched: 25.0 Cel from the simulated SHT3x.
    temps = fleet.events(HUB, "temperature")
    assert temps and all(r["v"] == 25.0 for _, r in temps)
    # The hub's clock came from the fleet: the press carries the fleet's time.
    assert abs(panics[0][1]["t"] - time.time()) < 60
    print("steady heap (bytes):", figs["hub"], "panic to 2.04 (ms):", figs["panic_ack_ms"])
