# Run by bench_outbox_wear.py under MicroPython: RAM, open time and put() cost of the outbox.
import gc
import os
import time

from hub.outbox import Outbox

d = f"/tmp/outbox-bench-{time.ticks_ms()}"
os.mkdir(d)
box = Outbox(d, capacity=65536, batch=1024)
t0 = time.ticks_us()
n = 0
while box.bytes_used() + 52 <= 65536:  # fill it: the fleet is unreachable
    box.put(bytes(40), n % 100 == 0)
    n += 1
box.flush()
put_us = time.ticks_diff(time.ticks_us(), t0) / n
t0 = time.ticks_us()
box.put(bytes(40), True)
urgent_us = time.ticks_diff(time.ticks_us(), t0)
del box
gc.collect()
before = gc.mem_alloc()
t0 = time.ticks_us()
box = Outbox(d, capacity=65536, batch=1024)
open_ms = time.ticks_diff(time.ticks_us(), t0) / 1000
gc.collect()
held = gc.mem_alloc() - before
print(f"full log: {box.depth()} records, {box.bytes_used()} bytes queued")
print(f"open (scan) a full log: {open_ms:.1f} ms; RAM held by the Outbox: {held} bytes")
print(f"put(): {put_us:.0f} us average (mostly buffered); emergency put: {urgent_us} us")
t0 = time.ticks_us()
got = box.peek(900)
box.ack([s for s, _, _ in got])
print(f"peek(900) + ack of {len(got)} records: {time.ticks_diff(time.ticks_us(), t0)} us")
for f in os.listdir(d):
    os.remove(d + "/" + f)
os.rmdir(d)
