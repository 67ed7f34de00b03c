# Stand-in for MicroPython's `bluetooth` (ESP32, NimBLE) for passive scanning only: while
# gap_scan runs, each advertisement a simulated sensor sends (emusim.board.advertise)
# raises _IRQ_SCAN_RESULT with memoryviews valid only during the call, as on the hub.
import emusim

_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6


class BLE:
    def __init__(self):
        self._active = False
        self._handler = None
        self._scanning = False
        self._scan_end = None
        self._scan_id = 0
        emusim.board.ble = self

    def active(self, active=None):
        if active is None:
            return self._active
        self._active = bool(active)
        if not self._active:
            self._scanning = False
        return None

    def irq(self, handler):
        self._handler = handler

    def config(self, *args, **kw):
        if args and args[0] == "mac":
            return (0, bytes(emusim.board.uid))
        return None

    def gap_scan(self, duration_ms, interval_us=1280000, window_us=11250, active=False):
        if not self._active:
            raise OSError(19)
        self._scan_id += 1
        if duration_ms is None:
            if self._scanning:
                self._done()
            return
        self._scanning = True
        b = emusim.board
        self._scan_end = b.now_ms() + duration_ms if duration_ms else None
        if duration_ms and b.has_timers:
            b.call_later(duration_ms, self._expire, self._scan_id)

    def _expire(self, scan_id):
        if scan_id == self._scan_id and self._scanning:
            self._done()

    def _done(self):
        self._scanning = False
        if self._handler is not None:
            self._handler(_IRQ_SCAN_DONE, None)

    def _advert(self, addr_type, addr, adv_type, rssi, adv):
        if not self._scanning:
            return
        if self._scan_end is not None and emusim.board.now_ms() >= self._scan_end:
            self._done()
            return
        if self._handler is not None:
            data = (addr_type, memoryview(bytes(addr)), adv_type, rssi, memoryview(bytes(adv)))
            self._handler(_IRQ_SCAN_RESULT, data)
