# The hub application ALONE in a MicroPython unix-port process, as on a hub: its identity
# is on the flash (the working directory), the fleet is another process reached over
# UDP/OSCORE. The emulator's stand-ins (emulator/hw) are the hardware; this script is the
# world: it presses the panic button, opens the door, and keeps a thermometer on I2C.
#
# The hub boots as on an ESP32 with a ROMFS partition: boot.py (on the flash, beside the
# app's .mpy files) packs them into the partition and mounts it, so their code runs in
# place.
#
# What a hub keeps in flash, this port keeps on the GC heap; it is all made first, before
# boot.py, and is "the world", not the hub's heap: this script's own bytecode, the
# hardware stand-ins (C modules in a hub's firmware: imported here first) and the ROMFS
# partition (a bytearray: this port cannot map flash). "FIG world" is its cost. Then a
# ballast takes all free heap but argv[3] bytes: the hub runs with exactly that much, as
# with -X heapsize on a hub whose firmware is all in flash.
#
# argv[1]: heartbeats to wait for after the events; argv[2]: the partition's size;
# argv[3]: the hub's heap in bytes; argv[4] (any): dump the heap's block map at the end.
# Prints "FIG name value" lines (heap figures, latency) and "OK" at the end; any failure
# raises (non-zero exit).
import gc
import sys
import time

import bluetooth  # noqa: F401  (the stand-ins, built into a hub's firmware)
import emusim
import esp32  # noqa: F401
import machine  # noqa: F401
import micropython
import network  # noqa: F401
import rompart

# The world's own code and names come first, so that they count as the world's.
base = 0  # heap in use once boot.py has run
_main = hubapp = asyncio = None  # the hub's, bound by _load_hub()
_MODULES = (
    "asyncio",
    "protocol.errors",
    "protocol.cbor",
    "protocol.codes",
    "protocol.options",
    "protocol.coap",
    "protocol.senml",
    "protocol.aes",
    "protocol.ccm",
    "protocol.hkdf",
    "protocol.oscore",
    "protocol.endpoint",
    "hub.version",
    "hub.config",
    "hub.hal",
    "hub.identity",
    "hub.outbox",
    "hub.telemetry",
    "hub.uplink",
    "hub.sht3x",
    "hub.sensors",
    "hub.app",
)


def _load_hub():
    global asyncio, hubapp
    import asyncio

    from hub import app as hubapp


def _import_all():
    # Import leaves first, so each delta is (about) that module's own heap.
    for name in _MODULES:
        gc.collect()
        before = gc.mem_alloc()
        __import__(name)
        gc.collect()
        print("FIG module", name, gc.mem_alloc() - before)


board = emusim.board
HEARTBEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
peak = [0]


class Thermo:
    # An SHT3x answering 0x6666 / 0x8000 with good CRCs: 25.0 Cel, 50 %RH.
    def writeto(self, buf):
        pass

    def readfrom_into(self, buf):
        buf[:] = b"\x66\x66\x93\x80\x00\xa2"


async def sample():
    # The highest heap use seen between collections, every few ms (a lower bound of the
    # true peak, which falls between samples).
    while True:
        a = gc.mem_alloc()
        if a > peak[0]:
            peak[0] = a
        await asyncio.sleep_ms(3)


async def until(pred, ms, what):
    t0 = time.ticks_ms()
    while not pred():
        if time.ticks_diff(time.ticks_ms(), t0) > ms:
            raise AssertionError("timed out: " + what)
        await asyncio.sleep_ms(2)


async def main():
    board.wlan["assoc_ms"] = 10
    board.attach_i2c(0x44, Thermo())
    board.line(4).driven = 1  # panic button released (pulled up)
    board.line(5).driven = 0  # door closed
    hub = hubapp.boot()  # as app.run() does: boot-only modules then leave the heap
    asyncio.create_task(hub.main())
    asyncio.create_task(sample())
    up = hub.uplink

    # Boot: the first heartbeat's reply names a configuration, which the hub fetches.
    await until(lambda: len(hub.cfg.sensors) == 3 and board.line(4).handler, 20000, "boot")
    gc.collect()
    print("FIG booted", gc.mem_alloc() - base)

    board.drive(4, 0, bounces=3)
    t0 = time.ticks_ms()
    # The buzzer sounds once the press is debounced and on flash; then it must go.
    await until(lambda: board.line(25).out == 1, 200, "buzzer on press")
    await until(lambda: hub.box.depth() == 0, 5000, "panic acked")
    print("FIG panic_ack_ms", time.ticks_diff(time.ticks_ms(), t0))
    board.drive(4, 1)
    board.drive(5, 1, bounces=2)
    await asyncio.sleep_ms(60)  # past the debounce: the door event is on flash
    await until(lambda: hub.box.depth() == 0, 5000, "door acked")
    board.drive(5, 0, bounces=2)
    sent = up.sent
    # With hb 1 s and rd 1 s: readings batches and heartbeats go by; wait for them.
    await until(lambda: up.sent >= sent + 2 * HEARTBEATS, 5000 + 2000 * HEARTBEATS, "traffic")
    await until(lambda: hub.box.depth() == 0, 5000, "all acked")
    assert up.failed == 0 and hub.last_error is None, (up.failed, hub.last_error)
    gc.collect()
    print("FIG steady", gc.mem_alloc() - base)
    print("FIG hub", gc.mem_alloc() - _world)
    print("FIG free", gc.mem_free())
    print("FIG peak", peak[0] - _world)
    print("FIG sent", up.sent)
    for name in _MODULES:
        if name not in sys.modules:
            print("FIG gone_" + name, 1)  # boot let it go (hub.app.boot)
    micropython.qstr_info()
    micropython.mem_info(1 if len(sys.argv) > 4 else 0)
    print("OK")


_part = bytearray(int(sys.argv[2]))
gc.collect()
print("FIG bits", 64 if sys.maxsize >> 32 else 32)
print("FIG world", gc.mem_alloc())
_free = gc.mem_free() - int(sys.argv[3])
assert _free >= 0, "the process heap is too small for the world and the hub"
_ballast = bytearray(max(0, _free - 64))  # 64: the bytearray's own header, rounded up
gc.collect()
_world = gc.mem_alloc()
micropython.qstr_info()  # the world's interned names, before the hub's


# As on a hub, boot.py's globals stay alive: they are __main__'s, which main.py shares.
_main = {"__name__": "__main__", "rom_ioctl": rompart.lend(_part)}
exec(open("boot.py").read(), _main)

gc.collect()
base = gc.mem_alloc()
print("FIG boot", base - _world)
_import_all()
gc.collect()
print("FIG after_imports", gc.mem_alloc() - base)
assert sys.modules["hub.app"].__file__.startswith("/rom/"), "the app is not running from ROMFS"

_load_hub()
asyncio.run(main())
