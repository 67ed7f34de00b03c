# Prints how long the hub's typical telemetry pack takes to build/encode and to
# decode/resolve, and the heap it needs. Runs on CPython and on MicroPython:
#   .venv/bin/micropython -X heapsize=100K tests/bench/bench_cbor_senml.py  (repo root on MICROPYPATH)
#   PYTHONPATH=. .venv/bin/python tests/bench/bench_cbor_senml.py

import gc
import time

from protocol import cbor, senml

try:
    ticks, diff = time.ticks_us, time.ticks_diff
except AttributeError:

    def ticks():
        return time.perf_counter_ns() // 1000

    def diff(a, b):
        return a - b


def readings():
    return [
        senml.reading("kitchen-pir", "motion", True, t=-42),
        senml.reading("entrance", "door", False, t=-7),
        senml.reading("bath", "temperature", 21.5, t=0),
        senml.reading("bath", "humidity", 48.0, t=0),
        senml.reading("bed-1", "bed", True, t=-300),
        senml.reading("hub", "rssi", -97, t=0),
        senml.reading("btn-1", "battery", 88, t=-60),
        senml.reading("hub", "mains", True, t=0),
    ]


def bench(label, fn, n):
    gc.collect()
    t0 = ticks()
    for _ in range(n):
        fn()
    us = diff(ticks(), t0) / n
    print(f"{label:34s} {us:8.1f} us")


bn = senml.base_name("a1b2c3d4")
wire = senml.encode(readings(), bn=bn, bt=1800000000)
print(f"8-record hub pack: {len(wire)} bytes")
bench("senml.encode (8 records)", lambda: senml.encode(readings(), bn=bn, bt=1800000000), 300)
bench("senml.decode (8 records)", lambda: senml.decode(wire), 300)
bench("cbor.loads (8 records)", lambda: cbor.loads(wire), 300)
raw = cbor.loads(wire)
bench("cbor.dumps (8 records)", lambda: cbor.dumps(raw), 300)
try:
    import micropython

    gc.collect()
    gc.disable()  # so the difference counts everything one round allocates
    free0 = gc.mem_free()
    senml.decode(senml.encode(readings(), bn=bn, bt=1800000000))
    print(f"heap allocated by one encode+decode: {free0 - gc.mem_free()} bytes")
    gc.enable()
    micropython.mem_info()
except ImportError:
    pass
