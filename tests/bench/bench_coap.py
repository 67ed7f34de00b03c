# CoAP codec and endpoint cost, on CPython or MicroPython (prints figures, asserts nothing):
#   .venv/bin/python tests/bench/bench_coap.py
#   MICROPYPATH=. .venv/bin/micropython -X heapsize=100K tests/bench/bench_coap.py
import gc
import sys
import time
from binascii import unhexlify

sys.path.append(".")

from protocol import codes, options  # noqa: E402
from protocol.coap import ACK, CON, Message, decode  # noqa: E402
from protocol.endpoint import Endpoint  # noqa: E402

try:
    ticks_us, ticks_diff = time.ticks_us, time.ticks_diff  # type: ignore[attr-defined]
except AttributeError:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b


def bench(name, fn, n):
    gc.collect()
    t = ticks_us()
    for _ in range(n):
        fn()
    us = ticks_diff(ticks_us(), t) / n
    extra = ""
    if hasattr(gc, "mem_alloc"):  # MicroPython: heap bytes allocated per op, gc paused
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(20):
            fn()
        extra = f", {(gc.mem_alloc() - before) // 20} B allocated"
        gc.enable()
    print(f"{name:<44} {us:8.1f} us{extra}")


DATA = unhexlify("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e")
MSG = decode(DATA)

ep = Endpoint()


def round_trip():
    token = ep.request(Message(CON, codes.GET).add(options.URI_PATH, "heartbeat"), 0)
    req = decode(ep.datagrams()[0])
    ep.receive(Message(ACK, codes.CONTENT, req.mid, token, payload=b"ok").encode(), 1)
    ep.next_event()


print(sys.implementation.name)
bench("decode (RFC 8613 C.4 protected, 35 B)", lambda: decode(DATA), 2000)
bench("encode (same message)", MSG.encode, 2000)
bench("endpoint CON request + piggy-backed reply", round_trip, 1000)
