"""The CPython side of one emulated hub: a board with virtual time, timers on the hub's
event loop, a watchdog that really resets the process, and state that outlives a reset
(RTC on soft/watchdog resets, NVS always) kept beside the flash directory."""

import json
import os
import sys
import threading

import emusim

from emulator.clock import _real_sleep

_VIRTUAL_WATCH_S = 0.05
STATE = "chip-state.json"  # RTC and NVS: what the chip keeps outside the filesystem


class HostBoard(emusim.Board):
    has_timers = True

    def __init__(self, clock, config, reset_cause, hub_dir):
        super().__init__(reset_cause, bytes.fromhex(config.get("uid", "240ac4000001")))
        self.clock = clock
        self.hub_dir = hub_dir
        self.loop = None
        self._queued = []  # timers asked for before the firmware started its loop
        self._wdt_handle = None
        self._wdt_thread = None
        clock.after_sleep = self.wdt_check
        self.wlan.update(config.get("wlan", {}))
        self.wlan_outages = [tuple(o) for o in config.get("wlan_outages", [])]
        state = self._load_state()
        self.nvs = state.get("nvs", {})
        # The RTC survives resets but not a power cut: then it restarts at 2000-01-01.
        if reset_cause in (emusim.SOFT_RESET, emusim.WDT_RESET) and "wall" in state:
            self.rtc_base = state["wall"]
        else:
            self.rtc_base = 946684800

    def _load_state(self):
        try:
            with open(os.path.join(self.hub_dir, STATE)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _save_state(self):
        path = os.path.join(self.hub_dir, STATE)
        with open(path + ".tmp", "w") as f:
            json.dump({"nvs": self.nvs, "wall": self.wall()}, f)
        os.replace(path + ".tmp", path)

    def now_ms(self):
        return int(self.clock.now() * 1000)

    def wall(self):
        return self.rtc_base + int(self.clock.now())

    def set_wall(self, secs):
        self.rtc_base = secs - int(self.clock.now())

    # Timers run on the firmware's event loop, so they follow virtual time.
    def set_loop(self, loop):
        self.loop = loop
        for t, fn, args in self._queued:
            loop.call_at(t, fn, *args)
        self._queued.clear()

    def call_at(self, t, fn, *args):
        """Run fn(*args) at t seconds since boot."""
        if self.loop is None:
            self._queued.append((t, fn, args))
            return None
        return self.loop.call_at(t, fn, *args)

    def call_later(self, ms, fn, *args):
        return self.call_at(self.clock.now() + ms / 1000, fn, *args)

    def soon(self, fn, *args):
        """Run fn(*args) on the hub's loop from any thread (the control channel)."""
        if self.loop is None:
            self._queued.append((0, fn, args))
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    # Watchdog: a timer catches a loop that sleeps past its deadline at the exact instant;
    # a thread catches a loop that stalls (busy, or blocked in time.sleep). The thread
    # sleeps until the deadline it last saw, so a fed watchdog wakes it about once a
    # timeout, not every few ms. Virtual time can jump the deadline closer while the
    # thread sleeps, so there it looks at least every _VIRTUAL_WATCH_S.
    def wdt_feed(self):
        super().wdt_feed()
        if self._wdt_handle is not None:
            self._wdt_handle.cancel()
        self._wdt_handle = self.call_later(self.wdt_timeout + 1, self.wdt_check)
        if self._wdt_thread is None:
            self._wdt_thread = threading.Thread(target=self._watch, daemon=True)
            self._wdt_thread.start()

    def _watch(self):
        while True:
            self.wdt_check()
            left = (self.wdt_deadline - self.now_ms() + 1) / 1000
            if self.clock.virtual:
                left = min(left, _VIRTUAL_WATCH_S)
            _real_sleep(max(left, 0.001))

    def nvs_commit(self):
        self._save_state()

    def reset(self, cause):
        self._save_state()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(emusim.RESET_EXIT_BASE + cause)
