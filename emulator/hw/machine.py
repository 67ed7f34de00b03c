# Stand-in for MicroPython's `machine` on an ESP32, backed by emusim.board. On the
# MicroPython unix port this file extends the built-in `machine` (which has no Pin): a .py
# module of a built-in's name is imported instead of it, and pulls the built-in in by
# importing it again with sys.path emptied. On CPython there is nothing to extend.
import sys

if sys.implementation.name == "micropython":
    _path = sys.path
    sys.path = []
    try:
        from machine import *  # noqa: F403
    finally:
        sys.path = _path

import emusim

PWRON_RESET = emusim.PWRON_RESET
HARD_RESET = emusim.HARD_RESET
WDT_RESET = emusim.WDT_RESET
DEEPSLEEP_RESET = emusim.DEEPSLEEP_RESET
SOFT_RESET = emusim.SOFT_RESET


class Pin:
    # ESP32 port values
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self._line = emusim.board.line(id)
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        ln = self._line
        if value is not None:
            ln.out = 1 if value else 0
        if mode != -1:
            ln.mode = mode
        if pull != -1:
            ln.pull = pull

    def value(self, v=None):
        if v is None:
            return self._line.level()
        self._line.out = 1 if v else 0
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self._line.out = 1

    def off(self):
        self._line.out = 0

    def irq(self, handler=None, trigger=3, hard=False):
        ln = self._line
        ln.handler = handler
        ln.trigger = trigger if handler is not None else 0
        ln.pin = self

    def __repr__(self):
        return "Pin(" + str(self._line.gpio) + ")"


class I2C:
    """Routes transfers to the devices attached to emusim.board; absent ones NACK."""

    def __init__(self, id=0, *, scl=None, sda=None, freq=400_000, timeout=50_000):
        self.freq = freq

    def _dev(self, addr):
        dev = emusim.board.i2c.get(addr)
        if dev is None:
            raise OSError(19)  # ENODEV: what the ESP32 port raises on an address NACK
        return dev

    def scan(self):
        return sorted(emusim.board.i2c)

    def writeto(self, addr, buf, stop=True):
        self._dev(addr).writeto(bytes(buf))
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        self._dev(addr).readfrom_into(buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf)
        return bytes(buf)


class SoftI2C(I2C):
    def __init__(self, scl=None, sda=None, *, freq=400_000, timeout=50_000):
        super().__init__(0, scl=scl, sda=sda, freq=freq)


class WDT:
    def __init__(self, id=0, timeout=5000):
        emusim.board.wdt_start(timeout)

    def feed(self):
        emusim.board.wdt_feed()


class RTC:
    def datetime(self, dt=None):
        import time

        if dt is None:
            t = time.gmtime(emusim.board.wall())
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
        tm = (dt[0], dt[1], dt[2], dt[4], dt[5], dt[6], 0, 0, 0)
        if sys.implementation.name == "micropython":
            emusim.board.set_wall(time.mktime(tm))  # UTC there
        else:
            import calendar  # CPython's mktime is local time; the RTC keeps UTC

            emusim.board.set_wall(calendar.timegm(tm))
        return None


def reset():
    emusim.board.reset(SOFT_RESET)


def reset_cause():
    return emusim.board.reset_cause


def unique_id():
    return emusim.board.uid


def freq(hz=None):
    if hz is None:
        return emusim.board.freq
    emusim.board.freq = hz
    return None


def disable_irq():
    return 1


def enable_irq(state=1):
    pass
