"""A hub on the real MicroPython unix port, alone in its process, against the stand-in
fleet (aiocoap's OSCORE) in this one. The hub's flash is a directory holding what a cable
deploy leaves: boot.py, the app and protocol/ precompiled with mpy-cross, the identity the
fleet enrolled. boot.py runs them in place from a ROMFS partition. tests/mp/hub_alone.py
is the hub's world: what a hub has in flash (the hardware stand-ins, the partition, which
this port only has as a bytearray, and the script itself) is made first, then a ballast
leaves the hub exactly `heapsize` of free heap, as a hub whose firmware is in flash has.
It prints "FIG name value" lines; used by tests/e2e/test_micropython_hub.py and
tests/bench/bench_hub_heap.py."""

import asyncio
import os
import shutil
import subprocess

from emulator.standin_fleet import StandinFleet, write_identity
from tests.mpy import MICROPYTHON, ROOT, compile_dir, hub_lib
from tools import romfs

HUB = "mp-hub"
SENSORS = [
    {"id": "panic1", "kind": "panic", "room": "bedroom", "flat": "3A", "pin": 4, "active": 0},
    {"id": "door1", "kind": "door", "room": "entrance", "flat": "3A", "pin": 5, "active": 1},
    {"id": "t1", "kind": "temperature", "room": "living", "flat": "3A", "i2c": 0x44},
]


def figures(output):
    """{name: value} from the script's FIG lines; module sizes under "module"."""
    figs = {"module": {}}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "FIG":
            if parts[1] == "module":
                figs["module"][parts[2]] = int(parts[3])
            else:
                figs[parts[1]] = int(parts[2])
    return figs


def kbytes(size):
    return int(size[:-1]) * 1024 if size[-1] in "Kk" else int(size)


def partition_size(flash):
    """The ROMFS partition a hub needs for the code on its flash: image and key, in
    whole 4 KB erase blocks."""
    n = len(romfs.partition(romfs.slot_files(flash)))
    return -(-n // 4096) * 4096


# The process heap: the hub's, the partition's (twice: room for the allocation table and
# slack, the ballast takes any excess) and the world's besides (the script's bytecode and
# the stand-ins take about 24 KB); hub_alone.py fails loudly if this is too little.
_WORLD = 96 * 1024


async def run_alone(
    work, heapsize="100K", heartbeats=3, timeout=60, extra=(), micropython=MICROPYTHON
):
    """Run one MicroPython hub with `heapsize` of free heap of its own (the world, the
    partition included, comes on top) against a fresh stand-in fleet; returns (output,
    exit status, fleet) with the fleet stopped but its records kept. `micropython`: the
    binary (tests/bench/build_micropython32.sh makes a 32-bit one)."""
    fleet = StandinFleet(work / "fleet")
    port = await fleet.start()
    try:
        flash = work / "flash"
        flash.mkdir(parents=True)
        write_identity(flash, fleet.enrol(HUB, port=port, ack=300, buzzer=25))
        lib = hub_lib()
        for pkg in ("hub", "protocol"):
            shutil.copytree(lib / pkg, flash / pkg)
        shutil.copy(ROOT / "firmware" / "boot.py", flash / "boot.py")
        part = partition_size(flash)
        fleet.set_config(HUB, SENSORS, hb=1, rd=1)
        # The hardware stand-ins are built into a hub's firmware: precompiled here too,
        # so that compiling them at run time does not inflate the heap.
        hw = compile_dir(ROOT / "emulator" / "hw", work / "hw")
        search = [".frozen", str(hw), str(ROOT / "tests" / "mp"), str(flash)]
        env = dict(os.environ, MICROPYPATH=os.pathsep.join(search))
        script = ROOT / "tests" / "mp" / "hub_alone.py"
        hub = kbytes(heapsize)
        cmd = [str(micropython), "-X", f"heapsize={hub + 2 * part + _WORLD}", str(script)]
        cmd += [str(heartbeats), str(part), str(hub), *extra]
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=flash, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
        return out.decode(errors="replace"), proc.returncode, fleet
    finally:
        await fleet.stop()
