"""Ed25519 verification, SHA-512 and COSE_Sign1 speed, on CPython and on the MicroPython
unix port, plus the smallest MicroPython heap that imports the code and verifies.

    .venv/bin/python tests/bench/bench_ed25519.py

Run by CPython it measures there, then runs itself under MicroPython (64 KB heap) and
searches for the smallest heap that still works. Not a test: it prints figures.
"""

import sys
import time

_MP = sys.implementation.name == "micropython"

if not _MP:
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from protocol.ed25519 import verify  # noqa: E402
from protocol.sha512 import sha512  # noqa: E402

# RFC 8032 §7.1 TEST 2: a one-byte message, so the figure is the curve arithmetic.
PUBLIC = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
MESSAGE = b"\x72"
SIGNATURE = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)


def _now_us():
    if _MP:
        return time.ticks_us()  # pyright: ignore[reportAttributeAccessIssue]
    return time.perf_counter_ns() // 1000


def _per_call_us(fn, n):
    # (best, mean) over n calls: the best is the figure when the machine is not shared.
    fn()  # first call builds the base-point table
    best = None
    total = 0
    for _ in range(n):
        start = _now_us()
        fn()
        us = _now_us() - start
        total += us
        best = us if best is None or us < best else best
    return best, total / n


def measure(n):
    name = sys.implementation.name
    best, mean = _per_call_us(lambda: verify(PUBLIC, MESSAGE, SIGNATURE), n)
    print(f"{name}: Ed25519 verify {best / 1000:.2f} ms best, {mean / 1000:.2f} ms mean")
    block = b"\xa5" * 1024
    best, mean = _per_call_us(lambda: sha512(block), n)
    print(f"{name}: SHA-512 of 1 KB {best / 1000:.2f} ms best ({1e6 / best:.0f} KB/s)")
    if _MP:
        import gc

        import micropython  # pyright: ignore[reportMissingImports]

        gc.collect()
        before = micropython.mem_total()
        verify(PUBLIC, MESSAGE, SIGNATURE)
        allocated = micropython.mem_total() - before
        gc.collect()
        print(f"{name}: live heap after import {gc.mem_alloc()} B")
        print(f"{name}: allocated per verify {allocated} B (freed by GC)")


def _under_micropython():
    from tests.mpy import run_micropython

    res = run_micropython(path=__file__, heapsize="64K", args=["100"])
    print(res.output.strip() if res.status == 0 else "MicroPython failed:\n" + res.output)
    # Smallest heap (1 KB steps) that imports sha512 + ed25519 from source and verifies.
    call = f"verify({PUBLIC!r}, {MESSAGE!r}, {SIGNATURE!r})"
    code = f"from protocol.ed25519 import verify\nimport sys\nsys.exit(0 if {call} else 3)"
    lo, hi = 4, 64
    while lo < hi:
        mid = (lo + hi) // 2
        if run_micropython(code=code, heapsize=f"{mid}K").status == 0:
            hi = mid
        else:
            lo = mid + 1
    print(f"micropython: smallest heap that imports from source and verifies: {lo} KB")


if __name__ == "__main__":
    if _MP:
        measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
    else:
        measure(300)
        _under_micropython()
