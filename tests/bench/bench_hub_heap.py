"""The firmware's steady-state heap on the MicroPython unix port: one hub alone in its
process (tests/mp/hub_alone.py), booted by boot.py, which runs the app's .mpy files in
place from a ROMFS partition, against the stand-in fleet. After boot, a panic press, door
events, readings and heartbeats, gc.collect(): prints the hub's gc.mem_alloc(), the
highest use sampled while running, and each module's heap at import (leaves first, so a
delta is about that module alone).

What is subtracted, and why: everything the process holds before boot.py starts, which
a hub keeps in flash, not on its heap: the hardware stand-ins (emulator/hw: machine,
network, bluetooth, esp32, emusim; C modules in a hub's firmware), the ROMFS partition
(this port cannot map flash: it is a bytearray) and the world script's own bytecode.
hub_alone.py measures it in-process ("world") and then leaves the hub exactly --heap of
free heap. Everything from boot.py on counts: boot.py itself, asyncio, the app and
protocol/ modules, their data, the tasks.

    .venv/bin/python -m tests.bench.bench_hub_heap [--heap 100K] [--heartbeats 5]

This port is 64-bit: pointers, object headers and GC blocks (32 bytes, 16 on an ESP32)
take up to twice an ESP32's room; bytecode runs in place either way. Target for the
issue: below 64 KB here."""

import argparse
import asyncio
import tempfile
from pathlib import Path

from tests.e2e.mphub import figures, run_alone


async def main(heap, heartbeats, dump):
    with tempfile.TemporaryDirectory() as d:
        out, status, _ = await run_alone(
            Path(d), heapsize=heap, heartbeats=heartbeats, extra=("dump",) if dump else ()
        )
    if status != 0:
        raise SystemExit(f"hub failed (exit {status}):\n{out}")
    if dump:
        print(out)
    f = figures(out)
    kb = lambda n: f"{n / 1024:7.1f} KB"  # noqa: E731
    print(f"MicroPython unix port (64-bit), hub heap {heap}, {f['sent']} exchanges")
    print("heap by module at import:")
    for name, n in sorted(f["module"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:24s} {kb(n)}")
    code = sum(f["module"].values())
    print(f"world, not counted          {kb(f['world'])}  (stand-ins, partition, script)")
    print(f"boot.py                     {kb(f['boot'])}")
    print(f"all imports                 {kb(f['after_imports'])}")
    print(f"after boot                  {kb(f['boot'] + f['booted'])}")
    print(f"app data, steady            {kb(f['steady'] - code)}")
    print(f"steady state (the hub)      {kb(f['hub'])}")
    print(f"peak sampled                {kb(f['peak'])}")
    print(f"panic press to 2.04         {f['panic_ack_ms']} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--heap", default="100K")
    ap.add_argument("--heartbeats", type=int, default=5)
    ap.add_argument("--dump", action="store_true", help="print the heap's block map too")
    a = ap.parse_args()
    asyncio.run(main(a.heap, a.heartbeats, a.dump))
