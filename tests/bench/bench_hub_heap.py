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

The PyPI unix port is 64-bit: pointers, object headers and GC blocks (32 bytes) take up
to twice an ESP32's room (4-byte pointers, 16-byte blocks); bytecode runs in place either
way. tests/bench/build_micropython32.sh builds the same port for 32 bits; when
build/micropython-32/micropython exists the hub runs on it too, in a second column: that
is the figure for an ESP32. Target for the issue: below 64 KB, goal 48 KB. Measured
2026-11-29: 46.3 KB on 32 bits, 81 KB on 64 (51.4 and 89.6 before the heap work that
dropped asyncio.stream, the outbox's resident 1 KB window and options' tuples, and lets
hub.identity and protocol.hkdf go after boot). A run's steady figure can sit up to 0.7 KB
above the usual one: the GC is conservative, and a stale pointer keeps a block alive.

Where this port overstates a hub: the hardware stand-ins the hub makes (Pin, WLAN, I2C) are
Python objects here (about 0.1 KB a Pin on 32 bits), static in an ESP32's firmware; and
cryptolib here is axTLS, whose AES context is 0.5 KB where an ESP32's mbedTLS one with the
AES hardware is a few tens of bytes (OSCORE keeps two). The qstr pools double from the
firmware's own (frozen) pool, so their steps fall elsewhere on a hub.

    .venv/bin/python -m tests.bench.bench_hub_heap [--heap 100K] [--heartbeats 5] [--dump]
"""

import argparse
import asyncio
import gc
import tempfile
from pathlib import Path

from tests.e2e.mphub import figures, run_alone
from tests.mpy import MICROPYTHON, ROOT

MICROPYTHON_32 = ROOT / "build" / "micropython-32" / "micropython"


async def run(micropython, heap, heartbeats, dump):
    with tempfile.TemporaryDirectory() as d:
        out, status, fleet = await run_alone(
            Path(d),
            heapsize=heap,
            heartbeats=heartbeats,
            extra=("dump",) if dump else (),
            micropython=micropython,
        )
        del fleet  # its OSCORE context saves itself when collected: while d exists
        gc.collect()
    if status != 0:
        raise SystemExit(f"hub failed on {micropython} (exit {status}):\n{out}")
    if dump:
        print(out)
    f = figures(out)
    # qstr_info() lines, the world's then the hub's: names interned for good, in pools
    # that double (each qstr is a pointer, a hash and a length).
    pools = [
        dict(kv.split("=") for kv in line[12:].split(", "))
        for line in out.splitlines()
        if line.startswith("qstr pool: ")
    ]
    f["qstrs"] = int(pools[1]["n_qstr"]) - int(pools[0]["n_qstr"])
    return f


def resident(f):
    """Heap of the modules still loaded in the steady state, as measured at import."""
    return sum(n for name, n in f["module"].items() if "gone_" + name not in f)


async def main(heap, heartbeats, dump):
    ports = [MICROPYTHON] + ([MICROPYTHON_32] if MICROPYTHON_32.exists() else [])
    runs = [await run(p, heap, heartbeats, dump) for p in ports]
    kb = lambda n: f"{n / 1024:7.1f} KB"  # noqa: E731
    cols = lambda values: "".join(f"  {kb(v)}" for v in values)  # noqa: E731
    print(f"MicroPython unix port, hub heap {heap}, {runs[0]['sent']} exchanges")
    print(f"{'':28s}" + "".join(f"  {str(f['bits']) + '-bit':>10s}" for f in runs))
    print("heap by module at import (*: gone after boot):")
    for name, _ in sorted(runs[0]["module"].items(), key=lambda kv: -kv[1]):
        mark = "*" if "gone_" + name in runs[0] else " "
        print(f"  {name:25s}{mark}" + cols(f["module"][name] for f in runs))
    rows = (
        ("world, not counted", lambda f: f["world"]),
        ("boot.py", lambda f: f["boot"]),
        ("all imports", lambda f: f["after_imports"]),
        ("after boot", lambda f: f["boot"] + f["booted"]),
        ("app data, steady", lambda f: f["steady"] - resident(f)),
        ("steady state (the hub)", lambda f: f["hub"]),
        ("peak sampled", lambda f: f["peak"]),
    )
    for label, fig in rows:
        print(f"{label:28s}" + cols(fig(f) for f in runs))
    print(f"{'names interned (qstrs)':28s}" + "".join(f"  {f['qstrs']:10d}" for f in runs))
    print(f"{'panic press to 2.04':28s}" + "".join(f"  {f['panic_ack_ms']:7d} ms" for f in runs))
    if len(runs) == 1:
        print(f"(no {MICROPYTHON_32}: tests/bench/build_micropython32.sh makes it)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--heap", default="100K")
    ap.add_argument("--heartbeats", type=int, default=5)
    ap.add_argument("--dump", action="store_true", help="print the heap's block map too")
    a = ap.parse_args()
    asyncio.run(main(a.heap, a.heartbeats, a.dump))
