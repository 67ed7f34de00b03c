"""Virtual time for one emulated hub under CPython.

The clock runs with real time, plus every jump the event loop makes when all tasks sleep:
the loop's selector polls for I/O and, if nothing is ready, advances the clock by the
timeout instead of waiting. A week of sleeping firmware runs in seconds; a busy or stalled
loop still burns virtual time at the real rate (so a watchdog notices a stall). With
virtual=False the clock is plain real time, for hubs talking to a real fleet server.

install() grafts MicroPython's time and asyncio extras onto CPython's modules so the
unchanged firmware runs; they all follow the clock.
"""

import asyncio
import calendar
import selectors
import threading
import time

_real_monotonic = time.monotonic
_real_sleep = time.sleep
TICKS_PERIOD = 1 << 30  # MicroPython's ticks_* wrap here
_TICKS_MAX = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD // 2


class VirtualClock:
    def __init__(self, virtual=True, ticks_start_ms=0):
        self.virtual = virtual
        self.ticks_start_ms = ticks_start_ms  # start near the wrap to shake out ticks bugs
        self._t0 = _real_monotonic()
        self._skipped = 0.0
        self._lock = threading.Lock()
        self.after_sleep = None  # called after a blocking sleep jumped: the watchdog's check

    def now(self):
        """Seconds since boot."""
        return _real_monotonic() - self._t0 + self._skipped

    def advance(self, seconds):
        if self.virtual and seconds > 0:
            with self._lock:
                self._skipped += seconds

    def sleep(self, seconds):
        """A blocking sleep: a jump in virtual time, a real wait otherwise."""
        if self.virtual:
            self.advance(seconds)
            if self.after_sleep is not None:
                self.after_sleep()
        else:
            _real_sleep(seconds)

    def ticks_ms(self):
        return (int(self.now() * 1000) + self.ticks_start_ms) & _TICKS_MAX

    def ticks_us(self):
        return (int(self.now() * 1_000_000) + self.ticks_start_ms * 1000) & _TICKS_MAX


class _JumpingSelector(selectors.BaseSelector):
    def __init__(self, clock):
        self._sel = selectors.DefaultSelector()
        self._clock = clock

    def register(self, fileobj, events, data=None):
        return self._sel.register(fileobj, events, data)

    def unregister(self, fileobj):
        return self._sel.unregister(fileobj)

    def modify(self, fileobj, events, data=None):
        return self._sel.modify(fileobj, events, data)

    def get_map(self):
        return self._sel.get_map()

    def close(self):
        self._sel.close()

    def select(self, timeout=None):
        if not self._clock.virtual or timeout is None:
            return self._sel.select(timeout)  # nothing scheduled: only I/O can wake us
        ready = self._sel.select(0)
        if not ready:
            self._clock.advance(timeout)
        return ready


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock):
        super().__init__(_JumpingSelector(clock))
        self.clock = clock

    def time(self):
        return self.clock.now()


class _Policy(asyncio.DefaultEventLoopPolicy):
    def __init__(self, clock, on_new_loop):
        super().__init__()
        self._clock = clock
        self._on_new_loop = on_new_loop

    def new_event_loop(self):
        loop = VirtualLoop(self._clock)
        self._on_new_loop(loop)
        return loop


class ThreadSafeFlag:
    """MicroPython's asyncio.ThreadSafeFlag: set() from an IRQ (here: any thread)."""

    def __init__(self):
        self._event = asyncio.Event()
        self._loop = None

    def set(self):
        loop = self._loop
        if loop is None or loop.is_closed():
            self._event.set()
        elif threading.get_ident() == loop._thread_id:
            self._event.set()
        else:
            loop.call_soon_threadsafe(self._event.set)

    def clear(self):
        self._event.clear()

    async def wait(self):
        self._loop = asyncio.get_running_loop()
        await self._event.wait()
        self._event.clear()


def _ticks_diff(a, b):
    return ((a - b + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


def _ticks_add(t, delta):
    return (t + delta) & _TICKS_MAX


def install(clock, wall, on_new_loop=lambda loop: None):
    """Graft MicroPython's time/asyncio API onto CPython, all following `clock`; `wall()`
    gives the RTC's Unix seconds."""
    time.ticks_ms = clock.ticks_ms
    time.ticks_us = clock.ticks_us
    time.ticks_cpu = clock.ticks_us
    time.ticks_diff = _ticks_diff
    time.ticks_add = _ticks_add
    time.sleep = clock.sleep
    time.sleep_ms = lambda ms: clock.sleep(ms / 1000)
    time.sleep_us = lambda us: clock.sleep(us / 1_000_000)
    time.time = wall
    time.time_ns = lambda: wall() * 1_000_000_000
    real_gmtime = time.gmtime
    time.gmtime = lambda secs=None: real_gmtime(wall() if secs is None else secs)
    time.localtime = time.gmtime  # hubs keep UTC
    time.mktime = lambda tm: calendar.timegm(tuple(tm)[:6] + (0, 0, 0))

    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)

    async def wait_for_ms(aw, timeout_ms):
        return await asyncio.wait_for(aw, timeout_ms / 1000)

    asyncio.sleep_ms = sleep_ms
    asyncio.wait_for_ms = wait_for_ms
    asyncio.ThreadSafeFlag = ThreadSafeFlag
    asyncio.set_event_loop_policy(_Policy(clock, on_new_loop))
