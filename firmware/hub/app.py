"""The hub application: sensors in, telemetry out, a watchdog over all of it.

Tasks (each restarted by _guard if it crashes, each checking in with beat()):
- wifi: keeps the station associated, with back-off between failed attempts;
- send: drains the outbox (emergencies first, then oldest) with `POST t?s=<seq>`;
- hb: a heartbeat every cfg.hb seconds (key 10: emergencies not yet delivered); the reply
  sets the clock and, when the fleet's configuration ETag differs from ours, the hub GETs
  `c`, persists and applies it; an update offer (reply key 3) loads hub.ota, which also
  confirms a new copy on trial;
- sensor tasks from hub.sensors, started from the configuration (not from code).
The main coroutine feeds the hardware watchdog only while every task checked in lately
(a task inside an exchange counts as alive while the uplink is polling).

Every event is on flash (hub.outbox, through hub.telemetry) before anything tries to
send it.
"""

import asyncio
import time

from hub import config, hal, sensors
from hub.outbox import Outbox
from hub.telemetry import Telemetry
from hub.uplink import Uplink
from hub.version import VERSION
from protocol import cbor, codes
from protocol.errors import CBORError

try:
    from micropython import const
except ImportError:

    def _identity(x):
        return x

    const = _identity

_WDT_MS = const(30_000)
_STUCK_MS = const(20_000)  # a task silent this long stops the watchdog's feeding
_LOG = "hub.log"
_LOG_MAX = const(4096)
_PRESS = (400,)  # buzzer/LED pattern, ms on/off: the press was felt
_CONFIRMED = (100, 100, 100, 100, 100)  # the fleet has it
_CBOR = const(60)  # Content-Formats (protocol.contentformat, not imported: heap)
_SENML_CBOR = const(112)


class App:
    def __init__(self, ident, uplink=None, wifi=None, outbox=None):
        # What the app needs of the identity, copied: holding `ident` would keep
        # hub.identity on the heap (see boot()).
        self.hub_id = ident.hub
        self.i2c_pins = (ident.scl, ident.sda)
        self._wifi_login = (ident.ssid, ident.wifi_key)
        self._ack_timeout = ident.ack_timeout
        self.cfg = config.load()
        self.box = outbox or Outbox("outbox")
        self.uplink = uplink or Uplink(ident)
        self.uplink.beat = self._uplink_alive
        self.wake = asyncio.Event()
        self.wifi = wifi or hal.Wifi()
        self.tele = Telemetry(self.box, ident.hub, self.wake, self.error)
        self.reset_cause = hal.reset_cause()
        self.beats = {}
        self.tasks = {}
        self.last_error = None
        self.synced = False
        self.crashes = 0  # task crashes since boot: a copy on trial must have none
        self.ota = _updater(self) if _ota_pending() else None
        self._in_uplink = []
        self._uplink_beat = time.ticks_ms()
        self._outs = [hal.Output(g) for g in (ident.buzzer, ident.led) if g is not None]
        self._signal_lock = asyncio.Lock()

    # --- bookkeeping ---------------------------------------------------------------------

    def beat(self, name):
        self.beats[name] = time.ticks_ms()

    def _uplink_alive(self):
        self._uplink_beat = time.ticks_ms()

    def stuck(self):
        """The name of a task that has not checked in for too long, or None."""
        now = time.ticks_ms()
        uplink_ok = time.ticks_diff(now, self._uplink_beat) < _STUCK_MS
        for name, t in self.beats.items():
            if time.ticks_diff(now, t) > _STUCK_MS:
                if not (uplink_ok and name in self._in_uplink):
                    return name
        return None

    def log(self, text):
        import os

        line = str(self.uplink.clock.now() // 1000) + " " + text
        print(line)
        try:
            if os.stat(_LOG)[6] > _LOG_MAX:
                os.rename(_LOG, _LOG + ".1")  # keep two small files, never fill the flash
        except OSError:
            pass
        try:
            with open(_LOG, "a") as f:
                f.write(line + "\n")
        except OSError:
            pass

    def error(self, text):
        if text != self.last_error:  # a repeating error is news once, not a flash writer
            self.log("error: " + text)
        self.last_error = text[:80]

    async def nap(self, name, seconds):
        """Sleep, checking in at least once a second."""
        end = time.ticks_add(time.ticks_ms(), int(seconds * 1000))
        while True:
            self.beat(name)
            left = time.ticks_diff(end, time.ticks_ms())
            if left <= 0:
                return
            await asyncio.sleep_ms(min(left, 1000))

    # request() and send() return the coroutine to await rather than being coroutines:
    # one generator frame less on the heap for every exchange.
    def request(self, name, *args, **kw):
        """Uplink.request for task `name`, which counts as alive while it waits."""
        return self._exchange(name, self.uplink.request(*args, **kw))

    def send(self, name, msg):
        """Uplink.send (a Message built by the caller, e.g. a Block2 GET) for task `name`."""
        return self._exchange(name, self.uplink.send(msg))

    async def _exchange(self, name, exchange):
        self._in_uplink.append(name)
        try:
            resp = await exchange
            if resp is None and self.uplink.last_error is not None:
                self.error(self.uplink.last_error)
            return resp
        finally:
            self._in_uplink.remove(name)
            self.beat(name)

    def online(self):
        return self.wifi.isconnected()

    # --- tasks -------------------------------------------------------------------------

    def spawn(self, name, fn, *args):
        self.tasks[name] = asyncio.create_task(self._guard(name, fn, args))

    async def _guard(self, name, fn, args):
        delay = 1
        while True:
            self.beat(name)
            try:
                await fn(*args)
                self.error(name + " ended")
            except asyncio.CancelledError:
                self.beats.pop(name, None)
                raise
            except Exception as e:  # one sensor's bug must not take the hub down
                self.crashes += 1
                self.error(name + " crashed: " + repr(e))
            await self.nap(name, delay)
            delay = min(delay * 2, 60)

    def start_sensors(self):
        """(Re)start the sensor tasks for the current configuration."""
        for name in ("wired", "climate", "ble", "readings"):
            task = self.tasks.pop(name, None)
            if task is not None:
                task.cancel()
                self.beats.pop(name, None)
        cfg = self.cfg
        if cfg.where("pin"):
            self.spawn("wired", sensors.wired, self, cfg.where("pin"))
        if cfg.where("i2c"):
            self.spawn("climate", sensors.climate, self, cfg.where("i2c"))
        else:
            self.spawn("readings", self._readings)
        if cfg.where("ble"):
            self.spawn("ble", sensors.ble, self, cfg.where("ble"))

    async def _readings(self):
        while True:
            await self.nap("readings", self.cfg.rd)
            self.tele.flush()

    async def _wifi(self):
        delay = 1
        while True:
            if self.online():
                delay = 1
                await self.nap("wifi", 1)
                continue
            self.uplink.close()
            self.wifi.connect(*self._wifi_login)
            for _ in range(100):
                await self.nap("wifi", 0.1)
                if self.online():
                    self.wake.set()  # whatever waited for the network can go now
                    break
            else:
                self.error("Wi-Fi: not connected, status " + str(self.wifi.status()))
                await self.nap("wifi", delay)
                delay = min(delay * 2, 60)

    async def _wait_wake(self, name):
        try:
            await asyncio.wait_for_ms(self.wake.wait(), 1000)
        except asyncio.TimeoutError:  # noqa: UP041 (MicroPython has no builtin one)
            pass
        self.wake.clear()
        self.beat(name)

    async def _sender(self):
        retry_min = self._ack_timeout
        delay = retry_min
        while True:
            self.beat("send")
            recs = self.box.peek(0) if self.online() else None
            if not recs:
                if recs is not None:
                    self.box.flush()  # idle: acks to flash now, not at the next event
                await self._wait_wake("send")
                continue
            seq, urgent, payload = recs[0]
            resp = await self.request(
                "send", codes.POST, "t", self.tele.timed(seq, payload), "s=" + str(seq), _SENML_CBOR
            )
            code = 0 if resp is None else resp.code
            # A reading the fleet refuses outright (4.xx but 4.01) would block the queue
            # forever; an emergency is kept and retried whatever the answer.
            refused = not urgent and 0x80 <= code < 0xA0 and code != codes.UNAUTHORIZED
            if code == codes.CHANGED or refused:
                if refused:
                    self.error("fleet refused record " + str(seq) + ": " + codes.dotted(code))
                self.box.ack([seq])
                self.tele.sent(seq)
                if urgent:
                    self.box.flush()
                    self.signal(_CONFIRMED)
                delay = retry_min
            else:
                await self.nap("send", delay / 1000)
                delay = min(delay * 2, 30 * retry_min)

    async def _heartbeat(self):
        while True:
            if not self.online():
                await self.nap("hb", 1)
                continue
            ok = await self.heartbeat()
            await self.nap("hb", self.cfg.hb if ok else min(self.cfg.hb, 10))

    async def heartbeat(self):
        """Send one heartbeat; apply the reply. True if the fleet answered."""
        m = {
            1: self.uplink.clock.now() // 1000,
            2: hal.mem_free(),
            3: self.wifi.rssi(),
            4: self.box.depth(),
            5: VERSION,
            6: self.last_error,
            7: self.reset_cause,
            8: self.cfg.etag,
            10: self.box.urgent_depth(),  # while one waits, the fleet starts no update
        }
        try:
            # Key 11, what the fleet compares with a "micropython" release's version: the
            # image release last confirmed here (hub.ota_image keeps it; a rollback returns
            # to the image it names), else the firmware's own release number. Read here,
            # not held: the steady heap stays as it was.
            with open("ota.iver") as f:
                m[11] = f.read()
        except OSError:
            import sys

            impl = sys.implementation
            if impl.name == "micropython":  # CPython (an emulated hub) runs no image
                m[11] = "{}.{}.{}".format(*impl.version[:3])  # os.uname().release on ESP32s
        if self.ota is not None and self.ota.report is not None:
            m[9] = self.ota.report
        resp = await self.request("hb", codes.POST, "hb", cbor.dumps(m), cf=_CBOR)
        if resp is None or resp.code != codes.CHANGED:
            return False
        try:
            reply = cbor.loads(resp.payload)
        except CBORError:
            reply = None
        if not isinstance(reply, dict):
            self.error("heartbeat reply is not a CBOR map")
            return False
        now = reply.get(1)
        if isinstance(now, int):
            hal.set_wall_time(now)
        self.synced = True
        work = reply.get(3)
        if isinstance(work, dict) and isinstance(work.get(1), int):
            self.ota = self.ota or _updater(self)  # the OTA code loads only when needed
            self.ota.offer(work[1])
        etag = reply.get(2)
        if isinstance(etag, bytes) and etag != self.cfg.etag:
            await self.fetch_config()
        return True

    async def fetch_config(self):
        resp = await self.request("hb", codes.GET, "c", etag=self.cfg.etag)
        if resp is None or resp.code == codes.VALID:
            return
        if resp.code != codes.CONTENT:
            self.error("configuration: fleet answered " + codes.dotted(resp.code))
            return
        try:
            cfg = config.parse(resp.payload)
        except config.ConfigError as e:
            self.error("configuration refused: " + str(e))
            return
        config.save(resp.payload)
        self.cfg = cfg
        etag = cfg.etag or b""
        self.log("configuration " + etag.hex() + ": " + str(len(cfg.sensors)) + " sensors")
        self.start_sensors()

    # --- what the sensors report ---------------------------------------------------------

    def event(self, s, value):
        """A change at sensor `s` (its configuration map): queued on flash, sent at once."""
        kind = s["kind"]
        if kind == "panic" and value is True:
            self.signal(_PRESS)
        self.tele.event(s["id"], kind, value, kind in config.EMERGENCIES)

    # --- local signals -------------------------------------------------------------------

    def signal(self, pattern):
        """Buzzer and LED play the pattern (ms on, off, on, ...) after any pattern still
        playing; a press signal (the first one) switches them on at once."""
        if self._outs:
            if not self._signal_lock.locked():
                for o in self._outs:
                    o.on()
            asyncio.create_task(self._play(pattern))

    async def _play(self, pattern):
        await self._signal_lock.acquire()
        try:
            for i in range(len(pattern)):
                for o in self._outs:
                    if i % 2:
                        o.off()
                    else:
                        o.on()
                await asyncio.sleep_ms(pattern[i])
            for o in self._outs:
                o.off()
            await asyncio.sleep_ms(200)  # a gap, so two patterns are heard as two
        finally:
            self._signal_lock.release()

    # --- main loop -------------------------------------------------------------------------

    async def main(self):
        wdt = hal.watchdog(_WDT_MS)
        hal.collect_early()
        self.log("Portineria " + VERSION + ", hub " + self.hub_id + ", " + self.reset_cause)
        self.spawn("wifi", self._wifi)
        self.spawn("send", self._sender)
        self.spawn("hb", self._heartbeat)
        self.start_sensors()
        reported = False
        while True:
            name = self.stuck()
            if self.ota is not None:
                self.ota.tick()
            if name is None:
                wdt.feed()
                reported = False
            elif not reported:
                self.error("task stuck: " + name + "; watchdog will reset")
                reported = True
            await asyncio.sleep_ms(1000)


def _ota_pending():
    # A copy on trial (boot.py's ota.state, or an image's ota.image) must prove itself; a
    # rollback must be reported. (Two plain tries: a tuple of the names would stay on the
    # heap with the module.)
    try:
        with open("ota.state") as f:
            if f.read().split()[2:] != ["ok"]:
                return True
    except OSError:
        pass
    try:
        open("ota.rollback").close()
        return True
    except OSError:
        pass
    try:
        open("ota.image").close()
        return True
    except OSError:
        return False


def _updater(app):
    from hub import ota

    return ota.Updater(app)


def boot():
    """The App as run() starts it. What only boot needed then leaves the heap (1.3 KB on a
    32-bit hub): hub.identity, as App and Uplink copy the values they use, and
    protocol.hkdf, as the OSCORE context is derived; a later import loads either again."""
    import hub
    import protocol
    from hub import identity

    app = App(identity.load())
    _forget(hub, "identity")
    _forget(protocol, "hkdf")
    return app


def _forget(package, name):
    # MicroPython holds every module in sys.modules and on its package, and collects it
    # once neither does (and nothing else refers to it).
    import sys

    sys.modules.pop(package.__name__ + "." + name, None)
    if hasattr(package, name):
        delattr(package, name)


def run():
    asyncio.run(boot().main())
