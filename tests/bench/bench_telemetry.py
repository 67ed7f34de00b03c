# Building and protecting a 10-record telemetry pack (SenML CBOR → CoAP → OSCORE →
# bytes), as the hub does for each batch of readings: time per pack on CPython and on
# MicroPython (-X heapsize=100K), the ratio between them, and MicroPython's heap use.
# Run: .venv/bin/python tests/bench/bench_telemetry.py   (runs itself under MicroPython)

import gc
import sys
import time

try:
    ticks_us, ticks_diff = time.ticks_us, time.ticks_diff
except AttributeError:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b


if sys.implementation.name != "micropython":
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from protocol import coap, codes, options, senml  # noqa: E402
from protocol.oscore import Context  # noqa: E402

N = 300


def records():
    out = []
    for i in range(5):
        out.append(senml.reading("sht-living", "temperature", 21.5 + i, t=i * 30))
        out.append(senml.reading("sht-living", "humidity", 48.0 + i, t=i * 30))
    return out


def make_pack(hub, recs, bn):
    msg = coap.Message(coap.CON, codes.POST, 1, b"\x01\x02\x03\x04")
    msg.payload = senml.encode(recs, bn=bn, bt=1795000000)
    msg.add(options.URI_PATH, "t")
    msg.add(options.CONTENT_FORMAT, b"\x70")
    msg.add(options.URI_QUERY, "s=1000")
    return hub.protect_request(msg)[0].encode()


def main():
    hub = Context(bytes(range(16)), b"\x01", b"", b"salt")
    recs = records()
    bn = senml.base_name("h3b7f2c")
    size = len(make_pack(hub, recs, bn))
    best = None
    for _ in range(3):
        t = ticks_us()
        for _ in range(N):
            make_pack(hub, recs, bn)
        us = ticks_diff(ticks_us(), t) / N
        best = us if best is None or us < best else best
    line = f"{sys.implementation.name} us_per_pack={best:.0f} bytes={size}"
    if sys.implementation.name == "micropython":
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        make_pack(hub, recs, bn)
        line += f" heap_alloc_per_pack={gc.mem_alloc() - before} heap_in_use={before}"
        gc.enable()
    print(line)


def run_on_micropython():
    # As on a hub, protocol/ runs precompiled: compiling the sources on a 100 KB heap
    # would measure the compiler, not the protocol.
    import subprocess
    import tempfile
    from pathlib import Path

    from tests.mpy import MICROPYTHON, ROOT, run_micropython

    tmp = Path(tempfile.mkdtemp())
    (tmp / "protocol").mkdir()
    for src in (ROOT / "protocol").glob("*.py"):
        mpy = tmp / "protocol" / (src.stem + ".mpy")
        subprocess.run(
            [str(MICROPYTHON.with_name("mpy-cross")), "-o", str(mpy), str(src)], check=True
        )
    out, status = run_micropython(path=Path(__file__).resolve(), heapsize="100K", paths=[tmp])
    if status != 0:
        sys.exit("micropython failed:\n" + out)
    return out.strip()


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        main()
    else:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            main()
        cpython = buf.getvalue().strip()
        mp = run_on_micropython()
        print(cpython)
        print(mp)

        def us(line):
            return float(line.split("us_per_pack=")[1].split()[0])

        print(f"MicroPython/CPython time ratio: {us(mp) / us(cpython):.1f}")
