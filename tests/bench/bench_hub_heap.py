"""The firmware's steady-state heap on the MicroPython unix port: one hub alone in its
process (tests/mp/hub_alone.py), booted by boot.py, which runs the app's .mpy files in
place from a ROMFS partition, against the stand-in fleet. After boot, a panic press, door
events, readings and heartbeats, gc.collect(): prints gc.mem_alloc(), the highest use
sampled while running, and each module's heap at import (leaves first, so a delta is
about that module alone).

This port cannot map flash: the partition is a bytearray on the GC heap. Its exact cost
(measured in-process, "ROMFS partition stand-in") is subtracted from every figure that
says so, and the heap given to MicroPython is --heap plus that cost (tests/e2e/mphub.py).

    .venv/bin/python -m tests.bench.bench_hub_heap [--heap 200K] [--heartbeats 5]

This port is 64-bit: pointers and object headers take twice an ESP32's room, bytecode
the same. Target for the issue: below 64 KB on the hub."""

import argparse
import asyncio
import tempfile
from pathlib import Path

from tests.e2e.mphub import figures, run_alone

STAND_INS = ("emusim", "machine")  # built into a hub's firmware, not on its heap


async def main(heap, heartbeats):
    with tempfile.TemporaryDirectory() as d:
        out, status, _ = await run_alone(Path(d), heapsize=heap, heartbeats=heartbeats)
    if status != 0:
        raise SystemExit(f"hub failed (exit {status}):\n{out}")
    f = figures(out)
    kb = lambda n: f"{n / 1024:7.1f} KB"  # noqa: E731
    print(f"MicroPython unix port (64-bit), heap {heap}, {f['sent']} exchanges")
    print("heap by module at import:")
    for name, n in sorted(f["module"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:24s} {kb(n)}")
    code = sum(f["module"].values())
    stand_ins = sum(f["module"].get(m, 0) for m in STAND_INS)
    print(f"all imports                {kb(f['after_imports'])}  (stand-ins {kb(stand_ins)})")
    print(f"after boot (vs start)      {kb(f['booted'])}")
    print(f"steady state (vs start)    {kb(f['steady'])}")
    rom = f["rom"]
    print(f"steady gc.mem_alloc()      {kb(f['steady_total'])}")
    print(f"  ROMFS partition stand-in {kb(rom)}  (flash on a hub: subtracted below)")
    print(f"  of which app data        {kb(f['steady'] - code)}")
    print(f"steady, partition out      {kb(f['steady_total'] - rom)}")
    print(f"  and stand-ins out        {kb(f['steady_total'] - rom - stand_ins)}")
    print(f"peak sampled, partition out {kb(f['peak'] - rom)}")
    print(f"panic press to 2.04        {f['panic_ack_ms']} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--heap", default="200K")
    ap.add_argument("--heartbeats", type=int, default=5)
    a = ap.parse_args()
    asyncio.run(main(a.heap, a.heartbeats))
