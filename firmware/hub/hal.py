# The hub's thin hardware layer: the only module of the app that touches machine, network,
# bluetooth (its BLE scanner lives in hub.bthome, loaded only by a hub with BLE sensors),
# the RTC and the filesystem's free space, so the emulator's stand-ins for those MicroPython
# modules are all it takes to run the app off the hub.
#
# IRQ handlers here never allocate: they write into buffers made once at start-up, and the
# asyncio loop drains them. Debounce works on held levels: a level counts once it has been
# held for debounce_ms, judged by the next edge's IRQ (so a loop stall loses nothing) or by
# poll() for the level still held.
import asyncio
import binascii
import gc
import os
import time
from array import array

import machine
import micropython
from micropython import const

if hasattr(micropython, "alloc_emergency_exception_buf"):  # not on the unix port
    micropython.alloc_emergency_exception_buf(100)

ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add

_UNIX_2000 = const(946684800)
# Ports with the 2000 epoch count time.time() from 2000-01-01; hal speaks Unix seconds.
_EPOCH = 0 if time.gmtime(0)[0] == 1970 else _UNIX_2000
_VALID_AFTER = const(1704067200)  # 2024-01-01: an RTC before this was never set

_RESET_NAMES = {
    machine.PWRON_RESET: "power-on",
    machine.HARD_RESET: "hard",
    machine.WDT_RESET: "watchdog",
    machine.DEEPSLEEP_RESET: "deepsleep",
    machine.SOFT_RESET: "soft",
}


# --- time -------------------------------------------------------------------------------


def wall_time():
    """Unix seconds from the RTC (meaningful only if wall_valid())."""
    return time.time() + _EPOCH


def wall_valid():
    return wall_time() >= _VALID_AFTER


def set_wall_time(unix_seconds):
    """Set the RTC from the fleet's clock (whole seconds, UTC)."""
    tm = time.gmtime(int(unix_seconds) - _EPOCH)
    machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0))


# --- system -----------------------------------------------------------------------------


def mem_free():
    return gc.mem_free()


def collect_early():
    """Have the GC also run after each quarter of the free heap is allocated, not only
    when an allocation fails: smaller collections, less fragmentation (MicroPython)."""
    threshold = getattr(gc, "threshold", None)  # CPython has none
    if threshold is not None:
        gc.collect()
        threshold(gc.mem_free() // 4)


def flash_free(path="/"):
    """(free bytes, total bytes) of the filesystem holding path."""
    st = os.statvfs(path)
    return st[0] * st[4], st[1] * st[2]


def unique_id():
    return binascii.hexlify(machine.unique_id()).decode()


def reset_cause():
    return _RESET_NAMES.get(machine.reset_cause(), "unknown")


def reset():
    machine.reset()


def watchdog(timeout_ms):
    """Start the hardware watchdog; it cannot be stopped. Feed it with .feed()."""
    return machine.WDT(timeout=timeout_ms)


def i2c(scl, sda, freq=100_000):
    return machine.SoftI2C(scl=machine.Pin(scl), sda=machine.Pin(sda), freq=freq)


class Output:
    """A buzzer, LED or relay on one GPIO."""

    def __init__(self, gpio, active_high=True):
        self._on = 1 if active_high else 0
        self.pin = machine.Pin(gpio, machine.Pin.OUT, value=1 - self._on)

    def on(self):
        self.pin.value(self._on)

    def off(self):
        self.pin.value(1 - self._on)

    def is_on(self):
        return self.pin.value() == self._on


# --- debounced inputs -------------------------------------------------------------------


class Inputs:
    """Contacts and PIR outputs on GPIOs, debounced into a ring of (index, level, ticks).

    specs: sequence of (gpio, pull) with pull None, machine.Pin.PULL_UP or PULL_DOWN.
    ticks is when the reported level began (its first edge), so latency can be measured.
    """

    def __init__(self, specs, debounce_ms=30, size=32):
        n = len(specs)
        self.debounce_ms = debounce_ms
        self.flag = asyncio.ThreadSafeFlag()
        self.overflows = 0
        self._size = size
        self._ring = bytearray(2 * size)  # input index and level of each change
        self._ring_t = array("i", [0] * size)  # and its ticks
        self._head = 0  # next slot to write (IRQ and poll)
        self._tail = 0  # next slot to read (loop)
        self._edge = array("i", [0] * n)  # ticks of the last edge seen per input
        self._level = bytearray(n)  # level read at that edge
        self._stable = bytearray(n)  # last level reported
        self._pending = bytearray(n)  # level not yet judged
        self.pins = []
        now = ticks_ms()
        for i in range(n):
            gpio, pull = specs[i]
            pin = machine.Pin(gpio, machine.Pin.IN, pull)
            self.pins.append(pin)
            self._stable[i] = self._level[i] = pin.value()
            self._edge[i] = now
        both = machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING
        for pin in self.pins:
            pin.irq(self._irq, both)

    def _irq(self, pin):
        i = self.pins.index(pin)
        now = ticks_ms()
        self._judge(i, now)
        self._edge[i] = now
        self._level[i] = pin.value()
        self._pending[i] = 1
        self.flag.set()

    def _judge(self, i, now):
        # The level read at the last edge has been held since then: report it if long enough.
        if not self._pending[i] or ticks_diff(now, self._edge[i]) < self.debounce_ms:
            return
        self._pending[i] = 0
        level = self._level[i]
        if level == self._stable[i]:
            return
        self._stable[i] = level
        nxt = (self._head + 1) % self._size
        if nxt == self._tail:
            self.overflows += 1
            return
        h = self._head
        self._ring[2 * h] = i
        self._ring[2 * h + 1] = level
        self._ring_t[h] = self._edge[i]
        self._head = nxt

    def poll(self):
        """Judge levels held since the last edge; returns ms until one is due, or -1."""
        state = machine.disable_irq()
        now = ticks_ms()
        wait = -1
        for i in range(len(self.pins)):
            self._judge(i, now)
            if self._pending[i]:
                left = self.debounce_ms - ticks_diff(now, self._edge[i])
                wait = left if wait < 0 else min(wait, left)
        machine.enable_irq(state)
        return wait

    def value(self, i):
        """The debounced level of input i."""
        return self._stable[i]

    def get(self):
        """The oldest debounced change as (index, level, ticks), or None."""
        if self._tail == self._head:
            return None
        t = self._tail
        ev = (self._ring[2 * t], self._ring[2 * t + 1], self._ring_t[t])
        self._tail = (t + 1) % self._size
        return ev

    async def wait(self):
        """Return once get() has something."""
        while True:
            wait = self.poll()
            if self._tail != self._head:
                return
            if wait < 0:
                await self.flag.wait()
            else:
                await asyncio.sleep_ms(wait + 1)


# --- Wi-Fi ------------------------------------------------------------------------------


class Wifi:
    """The station interface. connect() returns at once; poll isconnected()."""

    def __init__(self):
        import network

        self._network = network
        self.wlan = network.WLAN(network.STA_IF)

    def connect(self, ssid, key):
        self.wlan.active(True)
        self.wlan.connect(ssid, key)

    def disconnect(self):
        self.wlan.disconnect()

    def isconnected(self):
        return self.wlan.isconnected()

    def status(self):
        return self.wlan.status()

    def rssi(self):
        """Signal strength of the access point in dBm, or None when not associated."""
        if not self.wlan.isconnected():
            return None
        return self.wlan.status("rssi")

    def ip(self):
        return self.wlan.ifconfig()[0]


# --- BLE scanning -----------------------------------------------------------------------


def Scanner(size=16, adv_max=31, uuid16=None):  # noqa: N802 (it stands for the class)
    """A passive BLE scan, hub.bthome.Scanner: loaded only by a hub with BLE sensors, so
    the others keep its heap."""
    from hub import bthome

    return bthome.Scanner(size, adv_max, uuid16)
