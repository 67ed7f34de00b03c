"""What the world does to a hub's sensors: the API resident scenarios will call.

Each method acts now, or at `at` seconds since the hub booted (its virtual clock). Wired
sensors move GPIO levels (contacts bounce, as real ones do); BLE sensors advertise; the
I2C thermometer gets a new reading. `wiring` maps "kind" or "kind/room" to
{"gpio": n, "active": level}; DEFAULT_WIRING is the reference hub's.
"""

DEFAULT_WIRING = {
    "panic": {"gpio": 4, "active": 0},  # button to ground, pin pulled up
    "door/entrance": {"gpio": 5, "active": 1},  # reed opens, pull-up takes the pin high
    "motion/kitchen": {"gpio": 12, "active": 1},  # PIR output drives high on motion
    "motion/bathroom": {"gpio": 13, "active": 1},
    "motion/bedroom": {"gpio": 14, "active": 1},
    "motion/living": {"gpio": 15, "active": 1},
    "smoke": {"gpio": 16, "active": 0},
    "water/bathroom": {"gpio": 17, "active": 0},
    "bed/bedroom": {"gpio": 18, "active": 0},  # pressure mat closes to ground when occupied
}
CONTACT_BOUNCES = 4
WORLD_OPS = ("motion", "press_panic", "door", "alarm", "bed", "temperature", "ble", "script")


class Sensors:
    def __init__(self, board, wiring=None):
        self.board = board
        self.wiring = dict(DEFAULT_WIRING if wiring is None else wiring)
        for w in self.wiring.values():
            board.line(w["gpio"]).driven = 1 - w["active"]

    def _at(self, at, fn, *args):
        if at is None:
            fn(*args)
        else:
            self.board.call_at(at, fn, *args)

    def _set(self, name, active, bounces=0):
        w = self.wiring[name]
        level = w["active"] if active else 1 - w["active"]
        self.board.drive(w["gpio"], level, bounces=bounces)

    def _pulse(self, name, at, hold_s, bounces):
        start = self.board.clock.now() if at is None else at
        self._at(start, self._set, name, True, bounces)
        self.board.call_at(start + hold_s, self._set, name, False, bounces)

    def motion(self, room, at=None, hold_s=2.0):
        """A PIR in `room` sees someone: its output stays high for hold_s."""
        self._pulse("motion/" + room, at, hold_s, 0)

    def press_panic(self, at=None, hold_s=0.3):
        self._pulse("panic", at, hold_s, CONTACT_BOUNCES)

    def door(self, room, opened, at=None):
        self._at(at, self._set, "door/" + room, opened, CONTACT_BOUNCES)

    def alarm(self, kind, on=True, room=None, at=None):
        """A smoke, gas or water alarm's relay contact closes (or opens again)."""
        name = kind if room is None else kind + "/" + room
        self._at(at, self._set, name, on, 0)

    def bed(self, room, occupied, at=None):
        """A bed's pressure mat feels someone lying down (or getting up)."""
        self._at(at, self._set, "bed/" + room, occupied, 0)

    def temperature(self, celsius, humidity=50.0, at=None):
        """The I2C thermometer at the hub (address 0x44) reads this from now on."""
        dev = self.board.i2c.get(0x44)
        if dev is None:
            raise LookupError("no thermometer on the hub's I2C bus")
        self._at(at, dev.set, celsius, humidity)

    def ble(self, addr, adv, rssi=-70, at=None):
        """A BLE sensor sends one advertisement (bytes from emulator.bthome_sensor)."""
        self._at(at, self.board.advertise, bytes(addr), bytes(adv), rssi)

    def script(self, events, at=0.0):
        """Many timed events in one message, [[t_ms, op, args], ...] at `at` + t_ms: all
        are scheduled at once, so the hub's clock cannot jump past some of them while
        the rest are still on their way (emulator.scenario sends a whole day this way)."""
        for t_ms, op, args in events:
            self.command({"op": op, "args": dict(args, at=at + t_ms / 1000)})

    def command(self, msg):
        """One control-channel message: {"op": method name, "args": {...}}."""
        args = dict(msg.get("args", {}))
        for k in ("addr", "adv"):
            if k in args:
                args[k] = bytes.fromhex(args[k])
        op = msg["op"]
        if op == "drive":
            self.board.drive(args["gpio"], args["level"])
        elif op == "wlan_outage":
            now = self.board.now_ms()
            self.board.wlan_outages.append((now, now + int(args["seconds"] * 1000)))
        elif op in WORLD_OPS:
            getattr(self, op)(**args)
        else:
            raise ValueError("unknown op " + op)
