"""Outbox flash wear and cost: simulate a day of a typical hub and print the figures.

    .venv/bin/python tests/bench/bench_outbox_wear.py

Typical load (assumed): 6 sensors each sending a 40-byte SenML reading every 5 minutes
(1,728 a day), 2 emergencies a day, the fleet reachable and acking what was sent each
minute (or unreachable), the application calling flush() every 10 minutes. Readings
acked while still in the RAM buffer never reach flash.

Flash model (LittleFS on the ESP32's 4 KB erase blocks, an estimate, not a measurement
of the chip): every append-and-close (a "commit") costs at most one block erase for the
file's partly filled tail block, which LittleFS copies on write, plus one metadata commit
(~64 bytes) into the directory's metadata pair, which is erased when its 4 KB fills; a
compaction writes a fresh file (its size in blocks). LittleFS spreads erases over all
free blocks (dynamic wear levelling), so lifetime = free blocks x 100,000 cycles /
erases per day. Free blocks: 400 of the ~2 MB file system partition of a 4 MB board.

It also runs on the MicroPython unix port: RAM held by an Outbox with a full 64 KB log,
the time to open (scan) it, and the cost of put().
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "firmware"), str(ROOT / "tests" / "mp"), str(ROOT)]

from hub.outbox import Outbox  # noqa: E402
from outbox_faultfs import FaultFS  # noqa: E402

BLOCK = 4096
FREE_BLOCKS = 400
CYCLES = 100_000
META_COMMIT = 64


class CountingFS(FaultFS):
    def __init__(self):
        super().__init__()
        self.commits = 0
        self.compactions = 0

    def open(self, path, mode):
        if "a" in mode:
            self.commits += 1
        elif "w" in mode:
            self.compactions += 1
        return super().open(path, mode)


def day(batch, flush_every_min=10, acks=True, capacity=65536, days=3):
    fs = CountingFS()
    box = Outbox("/q", capacity=capacity, fs=fs, batch=batch)
    for minute in range(days * 24 * 60):
        if minute % 5 == 0:
            for _ in range(6):
                box.put(bytes(40), False)
        if minute % 720 == 0:
            box.put(bytes(40), True)
        if acks:
            box.ack([s for s, _, _ in box.peek(1 << 20)])
        if minute % flush_every_min == 0:
            box.flush()
    per_day = {k: v / days for k, v in vars(fs).items() if isinstance(v, int)}
    erases = (
        per_day["commits"]  # tail block copy
        + per_day["written"] / BLOCK  # new data blocks filled
        + per_day["commits"] * META_COMMIT / BLOCK  # metadata pair fills
        + per_day["compactions"]  # a fresh file: the live records are few when acked
    )
    years = FREE_BLOCKS * CYCLES / erases / 365
    return per_day, erases, years


def main():
    print(__doc__.split("\n\n")[2])
    for label, batch, every, acks in (
        ("batched (1 KB buffer, flush every 10 min), fleet acks every minute", 1024, 10, True),
        ("batched, fleet unreachable (all written, queue full, oldest dropped)", 1024, 10, False),
        ("every reading synced at once (batch=1), fleet acks every minute", 1, 1, True),
    ):
        d, erases, years = day(batch, every, acks)
        print(f"\n{label}:")
        print(f"  commits/day {d['commits']:.0f}, write calls/day {d['writes']:.0f}")
        print(f"  bytes written/day {d['written']:.0f}, compactions/day {d['compactions']:.1f}")
        print(f"  estimated block erases/day {erases:.0f} -> flash lifetime ~{years:,.0f} years")
    mp = Path(sys.executable).with_name("micropython")
    code = (ROOT / "tests" / "bench" / "outbox_mp.py").read_text()
    env = {"MICROPYPATH": f"{ROOT / 'firmware'}:.frozen"}
    out = subprocess.run(
        [str(mp), "-X", "heapsize=100K", "-c", code], env=env, capture_output=True, text=True
    )
    print("\nMicroPython unix port, heap 100K:\n" + out.stdout + out.stderr)


if __name__ == "__main__":
    main()
