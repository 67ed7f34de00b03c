"""Playing a scenario: events() turns a Scenario (emulator/scenario_file.py) into the
timed sensor events the flat would produce, as emulator.sensors.Sensors.command takes
them; feed() plays them into an in-process Sensors, send() to a hub process, both on the
hub's virtual clock.

Her day becomes segments (where she is, from when to when); each segment is what the
room's sensors see (PIR pulses, bed occupancy, the entrance door as she goes out and
comes back), each incident adds its own (a panic press, a fall seen once and then
stillness, alarms, a heat wave's temperatures), and BLE sensors advertise it all as
BTHome, each advertisement twice."""

import math
import random
from collections import namedtuple

from emulator.bthome_sensor import BTHomeSensor
from emulator.scenario_file import ScenarioError
from emulator.sensors import DEFAULT_WIRING

Event = namedtuple("Event", "t_ms op args")

DAY_S = 86400
_PIR_EVERY_S = (30.0, 90.0)  # a PIR retriggers while someone moves about the room
_PIR_BLIND_MS = 5000
_TEMP_EVERY_S = 300
_CLIMATE_EVERY_S = 600
_HEARTBEAT_S = 3600  # battery BLE sensors say they are alive, with their battery level
_REPEAT_S = 0.1  # each BLE advertisement goes out twice; the hub drops the copy


def _wiring_key(s, wiring):
    if s.kind in ("smoke", "gas", "water"):
        return s.kind + "/" + s.room if s.kind + "/" + s.room in wiring else s.kind
    name = {"pir": "motion"}.get(s.kind, s.kind)
    return name if s.kind == "panic" else name + "/" + s.room


def _day_segments(acts, incidents, initial):
    """[(start min, end min, place, room)] covering 0..1440 for one day."""
    points = sorted((a for a in acts if a.end is None), key=lambda a: a.start)
    spans = sorted((a for a in acts if a.end is not None), key=lambda a: a.start)
    stops = sorted((i for i in incidents if i.kind in ("fall", "still")), key=lambda i: i.start)
    cuts = {0, 1440} | {a.start for a in acts} | {min(a.end, 1440) for a in spans}
    cuts |= {stops[0].start} if stops else set()
    cuts = sorted(cuts)
    segs = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        state = initial
        for p in points:
            if p.start <= a:
                state = (p.place, p.room)
        for sp in spans:
            if sp.start <= a < sp.end:
                state = (sp.place, sp.room)
        if stops and a >= stops[0].start:
            stop = stops[0]
            if stop.room is not None:
                state = ("still", stop.room)
            elif state[0] != "out":
                state = ("still", state[1])
        segs.append((a, b) + state)
    return segs


def _segments(sc):
    """[start s, end s, place, room] over the whole scenario, equal neighbours merged."""
    out = []
    for day in range(1, sc.day_count() + 1):
        acts, incidents = sc.plan(day)
        prev = sc.plan(day - 1)[0] if day > 1 else acts
        last = max((a for a in prev if a.end is None), key=lambda a: a.start, default=None)
        initial = ("room", "living") if last is None else (last.place, last.room)
        for a, b, place, room in _day_segments(acts, incidents, initial):
            s, e = (day - 1) * DAY_S + 60 * a, (day - 1) * DAY_S + 60 * b
            if out and out[-1][2:] == [place, room] and out[-1][1] == s:
                out[-1][1] = e
            else:
                out.append([s, e, place, room])
    return out


def indoor_temperature(sc, t_s, heat=(), noise=0.0):
    """Degrees C at t_s: a gentle daily swing (coolest at 03:00, warmest at 15:00) and
    each heat wave (start s, end s, peak) reached through one-hour cosine ramps that lie
    inside its window, so the peak is held in the window and never felt outside it."""
    frac = (t_s % DAY_S) / DAY_S
    base = sc.indoor_c + 0.8 * math.sin(2 * math.pi * (frac - 0.375)) + noise
    for start, end, peak in heat:
        if start <= t_s < end:
            ramp = min(3600.0, (end - start) / 2)
            u = min(1.0, min(t_s - start, end - t_s) / ramp)
            base += (1 - math.cos(math.pi * u)) / 2 * (peak - base)
    return base


class _Run:
    def __init__(self, sc, wiring):
        self.sc = sc
        self.wiring = wiring
        self.rng = random.Random(sc.seed)
        self.end_s = sc.day_count() * DAY_S
        self.out = []
        self.ble = []  # (t, seq, sensor, readings): encoded in time order at the end
        self.radios = {}

    def emit(self, t, op, **args):
        if 0 <= t < self.end_s + 600:
            self.out.append(Event(round(t * 1000), op, args))

    def pirs(self, room):
        return [s for s in self.sc.sensors if s.kind in ("pir", "motion") and s.room == room]

    def motion(self, t, room):
        for s in self.pirs(room):
            if s.addr is None:
                self.emit(t, "motion", room=room)

    def advertise(self, t, sensor, readings):
        self.ble.append((t, len(self.ble), sensor, readings))

    def each(self, kind, ble=None):
        return [
            s for s in self.sc.sensors if s.kind == kind and (ble is None or ble == bool(s.addr))
        ]

    def segment(self, s, e, place, room, doors):
        u = self.rng.uniform
        if place == "room":
            t = s + u(0.5, 3.0)
            while t < e:
                self.motion(t, room)
                t += u(*_PIR_EVERY_S)
            for b in self.pirs(room):
                if b.addr is not None:
                    self.advertise(s + u(0.5, 2.0), b, [("motion", 1)])
                    self.advertise(e + u(30.0, 60.0), b, [("motion", 0)])
        elif place == "bed":
            if s > 0:
                self.motion(s - u(5.0, 20.0), "bedroom")
            for b in self.each("bed"):
                on, off = s + u(2.0, 10.0) if s > 0 else 0, e + u(0.0, 1.0)
                if b.addr is None:
                    self.emit(on, "bed", room=b.room, occupied=True)
                    if e < self.end_s:
                        self.emit(off, "bed", room=b.room, occupied=False)
                else:
                    self.advertise(on, b, [("occupancy", 1)])
                    self.advertise(off, b, [("occupancy", 0)])
            if e < self.end_s:
                self.motion(e + u(1.0, 4.0), "bedroom")
        elif place == "out":
            if s > 0:  # she leaves: the hall PIR, then the door opens and closes behind her
                self.motion(s - u(20.0, 60.0), "entrance")
                doors += [(s, "entrance", True), (s + u(5.0, 15.0), "entrance", False)]
            if e < self.end_s:
                doors += [(e, "entrance", True), (e + u(3.0, 10.0), "entrance", False)]
                self.motion(e + u(2.0, 6.0), "entrance")

    def doors(self, actions):
        state = {}
        for t, room, opened in sorted(actions):
            if state.get(room, False) == opened:
                continue  # left open (or shut) already
            state[room] = opened
            for d in self.each("door"):
                if d.room != room:
                    continue
                if d.addr is None:
                    self.emit(t, "door", room=room, opened=opened)
                else:
                    self.advertise(t + 0.2, d, [("door", int(opened))])

    def incident(self, day, inc, doors, heat):
        t = (day - 1) * DAY_S + 60 * inc.start
        end = None if inc.end is None else (day - 1) * DAY_S + 60 * inc.end
        pendants = self.each("pendant")
        if inc.kind == "panic":
            if self.each("panic", ble=False):
                self.emit(t + self.rng.uniform(0.0, 5.0), "press_panic")
            else:
                self.advertise(t + self.rng.uniform(0.0, 5.0), pendants[0], [("button", 1)])
        elif inc.kind == "fall":
            if inc.room is not None:
                self.motion(t + 0.5, inc.room)
            for p in pendants:
                self.advertise(t + self.rng.uniform(3.0, 10.0), p, [("button", 4)])
        elif inc.kind == "door":
            doors.append((t, inc.room, inc.value))
        elif inc.kind in ("smoke", "gas", "water"):
            for a in self.each(inc.kind):
                where = {"room": a.room} if inc.kind + "/" + a.room in self.wiring else {}
                self.emit(t, "alarm", kind=inc.kind, on=True, **where)
                self.emit(end, "alarm", kind=inc.kind, on=False, **where)
        elif inc.kind == "heat":
            heat.append((t, end, inc.value))

    def climate(self, heat):
        for s in self.each("temp"):
            every = s.every_s or (_CLIMATE_EVERY_S if s.addr else _TEMP_EVERY_S)
            t = self.rng.uniform(0.0, every)
            while t < self.end_s:
                c = indoor_temperature(self.sc, t, heat, self.rng.gauss(0.0, 0.05))
                rh = max(20.0, min(90.0, 55.0 - 1.5 * (c - self.sc.indoor_c)))
                if s.addr is None:
                    self.emit(t, "temperature", celsius=round(c, 2), humidity=round(rh, 1))
                else:
                    self.advertise(t, s, [("temperature", c), ("humidity", rh)])
                t += every

    def heartbeats(self):
        for s in self.sc.sensors:
            if s.addr is not None and s.kind != "temp":
                battery = self.rng.randint(60, 100)
                t = self.rng.uniform(0.0, _HEARTBEAT_S)
                while t < self.end_s:
                    self.advertise(t, s, [("battery", battery)])
                    t += s.every_s or _HEARTBEAT_S

    def encode(self):
        for t, _, s, readings in sorted(self.ble, key=lambda b: b[:2]):
            radio = self.radios.get(s.addr)
            if radio is None:
                radio = self.radios[s.addr] = BTHomeSensor(s.addr, key=s.key)
                radio.rssi = self.rng.randint(-85, -60)
            adv = radio.advertisement(readings).hex()
            for k in range(2):
                rssi = radio.rssi + self.rng.randint(-3, 3)
                self.emit(t + k * _REPEAT_S, "ble", addr=s.addr, adv=adv, rssi=rssi)


def events(sc, wiring=None):
    """The scenario's sensor events, [(t_ms, op, args)] sorted by time (ms since 00:00 of
    day 1), args as emulator.sensors.Sensors.command takes them. Same scenario (and
    seed), same events. Raises ScenarioError when a sensor has no wiring on the hub."""
    wiring = DEFAULT_WIRING if wiring is None else wiring
    bad = [
        (s.line, f"the hub has no input wired for '{s.kind} {s.room}' ({_wiring_key(s, wiring)})")
        for s in sc.sensors
        if s.addr is None and s.kind != "temp" and _wiring_key(s, wiring) not in wiring
    ]
    if bad:
        raise ScenarioError(bad)
    run = _Run(sc, wiring)
    doors = []
    heat = []
    for day in range(1, sc.day_count() + 1):
        for inc in sc.plan(day)[1]:
            run.incident(day, inc, doors, heat)
    for s, e, place, room in _segments(sc):
        run.segment(s, e, place, room, doors)
    run.doors(doors)
    run.climate(heat)
    run.heartbeats()
    run.encode()
    run.out.sort(key=lambda ev: ev.t_ms)  # stable: a door's open stays before its close
    return _pir_blind(run.out)


def _pir_blind(evs):
    # A PIR cannot fire again within a few seconds of firing (its output is still high, then
    # blind): two reasons to see her at once are one pulse.
    last = {}
    kept = []
    for ev in evs:
        if ev.op == "motion":
            room = ev.args["room"]
            if ev.t_ms - last.get(room, -_PIR_BLIND_MS) < _PIR_BLIND_MS:
                continue
            last[room] = ev.t_ms
        kept.append(ev)
    return kept


def feed(sensors, evs, start_s=0.0):
    """Schedule the events on an in-process Sensors, 00:00 of day 1 at start_s seconds of
    the hub's virtual clock."""
    sensors.script(evs, at=start_s)


def send(hub, evs, start_s=0.0):
    """The same for a hub process (supervisor.Hub), as one control message."""
    hub.send("script", events=[list(ev) for ev in evs], at=start_s)
