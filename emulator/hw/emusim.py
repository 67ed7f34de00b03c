# The simulated board of one emulated hub: what the stand-in modules (machine, network,
# bluetooth, esp32) read and what simulations drive. Runs on CPython and on MicroPython;
# on CPython emulator.host replaces `board` with a subclass that has virtual time, timers
# and a watchdog that really resets the process.
import sys
import time

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
RESET_EXIT_BASE = 100  # a hub process that resets exits with this + the reset cause


class Line:
    """One GPIO: the level the world drives, the pin's own config and its IRQ."""

    def __init__(self, gpio):
        self.gpio = gpio
        self.driven = None  # level forced by the simulation, None when floating
        self.mode = 1
        self.pull = None
        self.out = 0
        self.handler = None
        self.trigger = 0
        self.pin = None  # the Pin object the IRQ handler is given

    def level(self):
        if self.mode == 3:  # Pin.OUT
            return self.out
        if self.driven is not None:
            return self.driven
        return 1 if self.pull == 2 else 0  # Pin.PULL_UP pulls a floating input high

    def drive(self, level):
        before = self.level()
        self.driven = level
        after = self.level()
        if before != after and self.handler is not None:
            if self.trigger & (1 if after else 2):  # IRQ_RISING / IRQ_FALLING
                self.handler(self.pin)


class Board:
    def __init__(self, reset_cause=PWRON_RESET, uid=b"\x24\x0a\xc4\x00\x00\x01"):
        self.reset_cause = reset_cause
        self.uid = uid
        self.freq = 160_000_000
        self.lines = {}
        self.i2c = {}  # address -> device with writeto(buf) and readfrom_into(buf)
        self.wdt_timeout = None
        self.wdt_deadline = None
        self.ble = None  # the active bluetooth.BLE stand-in
        self.wlan = {"ssid": "portineria", "key": "", "rssi": -60, "assoc_ms": 1500}
        self.wlan_outages = []  # (start_ms, end_ms): the access point is unreachable
        self.nvs = {}
        self.rtc_base = 0  # wall seconds at now_ms() == 0, 1970 epoch
        self._t0 = time.ticks_ms()

    # Time: ms since this boot, never wrapping (simulation time, not the firmware's ticks).
    def now_ms(self):
        return time.ticks_diff(time.ticks_ms(), self._t0)

    def wall(self):
        return self.rtc_base + self.now_ms() // 1000

    def set_wall(self, secs):
        self.rtc_base = secs - self.now_ms() // 1000

    has_timers = False  # no event loop to hook on MicroPython: timing is up to the script

    def call_later(self, ms, fn, *args):
        raise NotImplementedError

    # GPIO
    def line(self, gpio):
        ln = self.lines.get(gpio)
        if ln is None:
            ln = self.lines[gpio] = Line(gpio)
        return ln

    def drive(self, gpio, level, bounces=0, bounce_ms=1):
        """Set an input's level as the world sees it; a contact can first bounce."""
        ln = self.line(gpio)
        if bounces and self.has_timers:
            for k in range(bounces):
                self.call_later(k * bounce_ms, ln.drive, (k & 1) ^ (1 - level))
            self.call_later(bounces * bounce_ms, ln.drive, level)
        else:
            for k in range(bounces):
                ln.drive((k & 1) ^ (1 - level))
            ln.drive(level)

    def attach_i2c(self, addr, device):
        self.i2c[addr] = device

    # Watchdog
    def wdt_start(self, timeout_ms):
        self.wdt_timeout = timeout_ms
        self.wdt_feed()

    def wdt_feed(self):
        self.wdt_check()
        self.wdt_deadline = self.now_ms() + self.wdt_timeout

    def wdt_check(self):
        if self.wdt_deadline is not None and self.now_ms() > self.wdt_deadline:
            self.reset(WDT_RESET)

    def nvs_commit(self):
        pass  # NVS lives as long as this process on MicroPython

    def reset(self, cause):
        sys.exit(RESET_EXIT_BASE + cause)

    # Wi-Fi: is the access point reachable now?
    def ap_up(self):
        now = self.now_ms()
        for start, end in self.wlan_outages:
            if start <= now < end:
                return False
        return True

    # BLE: a simulated sensor advertises; a scanning BLE stand-in raises its IRQ.
    def advertise(self, addr, adv, rssi=-70, addr_type=0, adv_type=0):
        if self.ble is not None:
            self.ble._advert(addr_type, addr, adv_type, rssi, adv)


# CPython's emulator.hubproc installs its own board before the firmware starts.
board = Board() if sys.implementation.name == "micropython" else None
