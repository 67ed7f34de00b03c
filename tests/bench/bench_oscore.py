# OSCORE protect time for a 60-byte payload, beside the bare AES-CCM floor measured in
# the same run, on CPython and on MicroPython (100 KB heap), plus MicroPython's heap use.
# Run: .venv/bin/python tests/bench/bench_oscore.py   (it runs itself under MicroPython too)

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


from protocol import codes, coap, options
from protocol.ccm import CCM
from protocol.oscore import Context

N = 2000
PAYLOAD = bytes(range(60))


def per_call_us(fn):
    fn()
    best = None
    for _ in range(5):  # best of 5 runs: the least disturbed by the rest of the machine
        t = ticks_us()
        for _ in range(N):
            fn()
        us = ticks_diff(ticks_us(), t) / N
        best = us if best is None or us < best else best
    return best


def main():
    hub = Context(bytes(range(16)), b"\x01", b"", b"salt")
    msg = coap.Message(coap.CON, codes.POST, 1, b"\x01\x02\x03\x04", payload=PAYLOAD)
    msg.add(options.URI_PATH, "t")
    msg.add(options.CONTENT_FORMAT, b"\x70")  # 112; bytes as coap.encode_uint needs bit_length
    ccm = CCM(bytes(16))
    nonce, aad = bytes(13), bytes(20)  # the AAD of a request with a 1-byte kid is 20 bytes

    floor = per_call_us(lambda: ccm.encrypt(nonce, PAYLOAD, aad))
    protect = per_call_us(lambda: hub.protect_request(msg)[0].encode())
    name = sys.implementation.name
    print(
        "%-11s CCM floor %6.1f us   OSCORE protect+encode %6.1f us   ratio %.2f"
        % (name, floor, protect, protect / floor)
    )
    if name == "micropython":
        gc.collect()
        gc.disable()  # nothing is freed, so the growth is everything one protect allocates
        before = gc.mem_alloc()
        hub.protect_request(msg)[0].encode()
        grown = gc.mem_alloc() - before
        gc.enable()
        gc.collect()
        print(
            "micropython heap: %d bytes in use after setup, %d bytes allocated per protect"
            % (gc.mem_alloc(), grown)
        )


if __name__ == "__main__":
    main()
    if sys.implementation.name != "micropython":
        from pathlib import Path

        from tests.mpy import run_micropython

        print(run_micropython(path=Path(__file__), heapsize="100K").output.rstrip())
