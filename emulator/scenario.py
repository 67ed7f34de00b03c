"""Resident scenarios: a day in a flat written as a file a volunteer can read, turned into
the timed sensor events the flat would produce.

    resident: Maria Bianchi, flat 3B
    sensors: pir bedroom, pir kitchen, pir bathroom, pir living, pir entrance,
             door entrance, bed bedroom, panic living, temp living (sht3x),
             ble pendant 'A4:C1:38:00:00:01' key 231d39c1d7cc1ab1aee224cd096db932
    days: 7
    07:30 wakes in bedroom
    07:45 kitchen            # a time and a place: she is there until the next one
    08:10-08:25 bathroom     # an interval: then back where she was
    10:00-11:30 out
    22:30 bed
    day 3:                   # lines below hold for day 3 only
    14:10 fall in bathroom
    heat wave 31 C from 12:00 to 18:00

Places: the rooms (entrance, kitchen, bathroom, bedroom, living; a few synonyms such as
"breakfast" or "shower" name their room), `out`, `bed`, `nap [in ROOM]`, `wakes [in
ROOM]`. Incidents: `panic`, `fall [in ROOM]`, `no activity` (she stops moving for the
rest of that day), `front door opened|closed`, `smoke|gas|water leak [in ROOM] [for N
min]`, `heat wave 31 C` over an interval. Times come first (`07:30`, `08:10-08:25`) or
anywhere as `at 07:30`, `after 09:00`, `from 12:00 to 18:00`. `#` starts a comment.

A day block's own activities replace the routine's for that day; incidents add up. A fall
is seen by the PIR of that room, then by nothing: she lies still for the rest of the day.
If she wears a pendant (`ble pendant` or `ble button`), it reports the fall as a BTHome
`long_press` (a pendant's automatic fall alert; a press by hand is `press`).

events(scenario) gives [(t_ms, op, args)] sorted by time, args as Sensors.command takes
them (BLE bytes in hex); feed() plays them into an in-process Sensors, send() to a hub
process, both on the hub's virtual clock.
"""

import math
import random
import re
from collections import namedtuple

from emulator.bthome_sensor import BTHomeSensor
from emulator.sensors import DEFAULT_WIRING

ROOMS = ("entrance", "kitchen", "bathroom", "bedroom", "living")
_ROOM_WORDS = {r: r for r in ROOMS}
_ROOM_WORDS.update(
    hall="entrance", hallway="entrance", breakfast="kitchen", lunch="kitchen",
    dinner="kitchen", cooks="kitchen", cooking="kitchen", bath="bathroom",
    shower="bathroom", toilet="bathroom", wc="bathroom", lounge="living", tv="living",
    sofa="living", bedroom="bedroom", reads="living",
)  # fmt: skip
_SENSOR_KINDS = ("pir", "door", "bed", "panic", "temp", "smoke", "gas", "water")
_BLE_KINDS = ("button", "pendant", "door", "motion", "temp", "bed")
_ALIASES = {"motion": "pir", "thermometer": "temp", "climate": "temp", "leak": "water"}
_DEFAULT_ROOM = {"door": "entrance", "bed": "bedroom", "panic": "living", "temp": "living"}

_HEAT_HELP = "a heat wave needs a peak and an interval: 'heat wave 31 C from 12:00 to 18:00'"
_PLACE_HELP = f"expected a room ({', '.join(ROOMS)}), out, bed, nap, wakes, or an incident"
_MAC_HELP = "a BLE sensor needs its MAC address in quotes, six bytes like 'A4:C1:38:00:00:01'"
_SENSOR_HELP = f"expected {', '.join(_SENSOR_KINDS)} or ble KIND 'MAC'"

Sensor = namedtuple("Sensor", "kind room addr key every_s line")
Activity = namedtuple("Activity", "start end place room line")  # minutes of the day
Incident = namedtuple("Incident", "kind start end room value line")
Event = namedtuple("Event", "t_ms op args")


class ScenarioError(ValueError):
    """Everything wrong with a scenario file, each as (line number, sentence)."""

    def __init__(self, errors, name="scenario"):
        self.errors = sorted(errors)
        super().__init__("\n".join(f"{name}:{n}: {msg}" for n, msg in self.errors))


class DayPlan:
    def __init__(self):
        self.activities = []
        self.incidents = []


class Scenario:
    def __init__(self):
        self.resident = ""
        self.sensors = []
        self.days = None  # None: as many as the day blocks reach, at least 1
        self.seed = 0
        self.indoor_c = 21.0
        self.routine = DayPlan()  # every day
        self.blocks = []  # (first day, last day, DayPlan)

    def day_count(self):
        if self.days is not None:
            return self.days
        return max([1] + [last for _, last, _ in self.blocks])

    def plan(self, day):
        """The activities and incidents of day (1-based)."""
        own = [p for first, last, p in self.blocks if first <= day <= last]
        acts = [a for p in own for a in p.activities] or self.routine.activities
        incidents = self.routine.incidents + [i for p in own for i in p.incidents]
        return acts, incidents

    def sensor(self, kind):
        """The first declared sensor of that kind, or None."""
        for s in self.sensors:
            if s.kind == kind:
                return s
        return None


# --- parsing ------------------------------------------------------------------------------

_T = r"(\d{1,2})[:.h](\d{2})"
_RANGE = _T + r"\s*(?:-|–|to|until)\s*" + _T
_TIME_FORMS = (
    ("range", re.compile(r"^\s*" + _RANGE + r"\b")),
    ("point", re.compile(r"^\s*" + _T + r"\b")),
    ("range", re.compile(r"\b(?:from|between)\s+" + _T + r"\s*(?:-|–|to|until|and)\s*" + _T)),
    ("range", re.compile(r"\b" + _RANGE + r"\b")),
    ("point", re.compile(r"\b(?:at|after|from)\s+" + _T + r"\b")),
)
_FOR = re.compile(r"\bfor\s+(\d+)\s*(m|min|mins|minutes|h|hours?)\b")
_DAY = re.compile(r"^days?\s+(\d+)(?:\s*(?:\.\.|-|–|to)\s*(\d+))?\s*:?$")
_HEADER = re.compile(r"^(resident|sensors|days|seed|indoor)\s*:\s*(.*)$")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")


def _minutes(h, m, errors, n):
    h, m = int(h), int(m)
    if h > 23 or m > 59:
        errors.append((n, f"'{h:02d}:{m:02d}' is not a time of day (00:00 to 23:59)"))
        return 0
    return 60 * h + m


def _times(text, errors, n):
    """(start, end or None, text without the time words); start None when there is none."""
    for form, rx in _TIME_FORMS:
        m = rx.search(text)
        if m:
            g = m.groups()
            start = _minutes(g[0], g[1], errors, n)
            end = _minutes(g[2], g[3], errors, n) if form == "range" else None
            if end is not None and end <= start:
                errors.append((n, f"the interval ends at {g[2]}:{g[3]}, not after it starts"))
            return start, end, text[: m.start()] + " " + text[m.end() :]
    return None, None, text


def _room(words):
    for w in words:
        if w in _ROOM_WORDS:
            return _ROOM_WORDS[w]
    return None


def _timeline(text, plan, errors, n):
    start, end, rest = _times(text, errors, n)
    if start is None:
        errors.append((n, "no time: begin with HH:MM (e.g. '07:45 kitchen') or say 'at HH:MM'"))
        return
    duration = None
    m = _FOR.search(rest)
    if m:
        duration = int(m.group(1)) * (60 if m.group(2).startswith("h") else 1)
        rest = rest[: m.start()] + rest[m.end() :]
    words = re.findall(r"[a-z]+|\d+(?:\.\d+)?", rest)
    has = set(words).__contains__
    room = _room(words)
    if end is None and duration is not None:
        end = start + duration

    def incident(kind, room=room, value=None, end=end):
        plan.incidents.append(Incident(kind, start, end, room, value, n))

    if has("heat"):
        nums = [float(w) for w in words if w[0].isdigit()]
        if end is None or not nums:
            errors.append((n, _HEAT_HELP))
        else:
            incident("heat", value=nums[0])
    elif has("panic"):
        incident("panic")
    elif has("fall") or has("falls") or has("fallen"):
        incident("fall")
    elif has("activity") or has("inactive") or has("motionless"):
        incident("still")
    elif has("smoke") or has("gas") or has("water") or has("leak") or has("flood"):
        kind = "smoke" if has("smoke") else "gas" if has("gas") else "water"
        incident(kind, end=start + 10 if end is None else end)
    elif has("door") and (has("opened") or has("open") or has("opens")):
        incident("door", room=room or "entrance", value=True)
    elif has("door") and (has("closed") or has("close") or has("closes") or has("shut")):
        incident("door", room=room or "entrance", value=False)
    else:
        if has("out") or has("outside") or has("leaves") or has("shopping") or has("walk"):
            place, room = "out", None
        elif has("nap") or has("naps"):
            place, room = ("bed", "bedroom") if room in (None, "bedroom") else ("still", room)
        elif has("bed") or has("sleeps") or has("sleep") or has("asleep"):
            place, room = "bed", "bedroom"
        elif room is not None or has("wakes") or has("up"):
            place, room = "room", room or "bedroom"
        else:
            errors.append((n, f"don't know what '{text.strip()}' means: " + _PLACE_HELP))
            return
        plan.activities.append(Activity(start, end, place, room, n))


def _sensors(text, scenario, errors, n):
    for item in re.split(r",(?=(?:[^']*'[^']*')*[^']*$)", text):
        item = item.strip()
        if not item:
            continue
        addrs = [a or b for a, b in _QUOTED.findall(item)]
        words = re.findall(r"[a-z0-9]+", _QUOTED.sub(" ", item).lower())
        ble = words[:1] == ["ble"]
        words = words[1:] if ble else words
        kind = words[0] if words else ""
        kind = kind if ble and kind == "motion" else _ALIASES.get(kind, kind)
        room = _room(words)
        every = None
        m = re.search(r"\bevery\s+(\d+)\s*(s|sec|m|min)", " ".join(words))
        if m:
            every = int(m.group(1)) * (60 if m.group(2).startswith("m") else 1)
        if ble:
            kind = "pendant" if kind == "button" else kind
            if kind not in _BLE_KINDS and kind != "pendant":
                errors.append((n, f"unknown BLE sensor '{kind}': expected {', '.join(_BLE_KINDS)}"))
                continue
            if len(addrs) != 1 or not _MAC.match(addrs[0].lower()):
                errors.append((n, f"'{item}': " + _MAC_HELP))
                continue
            key = None
            if "key" in words:
                key = words[words.index("key") + 1] if words[-1] != "key" else ""
                if not re.fullmatch(r"[0-9a-f]{32}", key):
                    errors.append((n, f"'{item}': a key is 32 hex digits (16 bytes)"))
                    continue
                key = bytes.fromhex(key)
            addr = addrs[0].lower().replace(":", "")
            room = room or _DEFAULT_ROOM.get(kind, "living")
            scenario.sensors.append(Sensor(kind, room, addr, key, every, n))
        elif kind not in _SENSOR_KINDS:
            errors.append((n, f"unknown sensor '{item}': " + _SENSOR_HELP))
        elif kind == "pir" and room is None:
            errors.append((n, f"'{item}': which room is the PIR in?"))
        else:
            room = room or _DEFAULT_ROOM.get(kind)
            scenario.sensors.append(Sensor(kind, room, None, None, every, n))


def parse(text, name="scenario"):
    """A scenario from its text; raises ScenarioError listing every bad line."""
    sc = Scenario()
    errors = []
    plan = sc.routine
    in_sensors = False
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        low = re.sub(r"\([^)]*\)", " ", line.lower()).strip()  # asides in brackets
        if not low:
            continue
        if in_sensors and raw[:1] in " \t":
            _sensors(line, sc, errors, n)
            continue
        in_sensors = False
        m = _HEADER.match(low)
        if m:
            key, value = m.groups()
            if key == "resident":
                sc.resident = line.split(":", 1)[1].strip()
            elif key == "sensors":
                in_sensors = True
                _sensors(line.split(":", 1)[1], sc, errors, n)
            elif key == "indoor":
                num = re.match(r"(-?\d+(?:\.\d+)?)", value)
                if num:
                    sc.indoor_c = float(num.group(1))
                else:
                    errors.append(
                        (n, f"indoor: expected a temperature, e.g. '21 C', not '{value}'")
                    )
            elif value.isdigit() and (int(value) > 0 or key == "seed"):
                setattr(sc, key, int(value))
            else:
                errors.append((n, f"{key}: expected a whole number, not '{value}'"))
            continue
        m = _DAY.match(low)
        if m:
            first = int(m.group(1))
            last = int(m.group(2) or first)
            if first < 1 or last < first:
                errors.append((n, f"days run from 1 upwards: '{low}' is not a range of days"))
            plan = DayPlan()
            sc.blocks.append((first, last, plan))
            continue
        _timeline(low, plan, errors, n)
    _check_sensors(sc, errors)
    if errors:
        raise ScenarioError(errors, name)
    return sc


def _check_sensors(sc, errors):
    # An incident that no declared sensor could ever show is a mistake worth naming.
    plans = [sc.routine] + [p for _, _, p in sc.blocks]
    for inc in (i for p in plans for i in p.incidents):
        if inc.kind == "panic" and not (sc.sensor("panic") or sc.sensor("pendant")):
            errors.append((inc.line, "a panic needs a 'panic' button or a 'ble pendant'"))
        if inc.kind in ("smoke", "gas", "water") and not sc.sensor(inc.kind):
            errors.append((inc.line, f"no {inc.kind} alarm among the sensors"))


def load(path):
    with open(path) as f:
        return parse(f.read(), str(path))


def _hhmm(m):
    return f"{m // 60:02d}:{m % 60:02d}"


def _when(x):
    return _hhmm(x.start) + ("" if x.end is None else "-" + _hhmm(x.end))


def _activity_text(a):
    what = {"out": "out", "bed": "bed"}.get(a.place)
    if a.place == "still":
        what = "nap in " + a.room
    elif a.place == "bed" and a.end is not None:
        what = "nap"
    return _when(a) + " " + (what or a.room)


def _incident_text(i):
    where = "" if i.room is None else " in " + i.room
    if i.kind == "heat":
        what = f"heat wave {i.value:g} C"
    elif i.kind == "door":
        what = f"door {i.room} {'opened' if i.value else 'closed'}"
    else:
        what = {"still": "no activity", "water": "water leak"}.get(i.kind, i.kind) + where
    return _when(i) + " " + what


def _plan_text(plan):
    return [_activity_text(a) for a in plan.activities] + [
        _incident_text(i) for i in plan.incidents
    ]


def to_text(sc):
    """The scenario as a file that parse() reads back to the same plans and events."""
    lines = [f"resident: {sc.resident}" if sc.resident else "", f"days: {sc.day_count()}"]
    lines += [f"seed: {sc.seed}", f"indoor: {sc.indoor_c:g} C", "sensors:"]
    for s in sc.sensors:
        every = f" every {s.every_s} s" if s.every_s else ""
        if s.addr is None:
            lines.append(f"    {s.kind} {s.room}{every},")
        else:
            mac = ":".join(s.addr[i : i + 2] for i in range(0, 12, 2))
            key = f" key {s.key.hex()}" if s.key else ""
            lines.append(f"    ble {s.kind} '{mac}'{key} in {s.room}{every},")
    lines[-1] = lines[-1].rstrip(",")
    lines += _plan_text(sc.routine)
    for first, last, plan in sc.blocks:
        lines.append(f"day {first}..{last}:" if last != first else f"day {first}:")
        lines += _plan_text(plan)
    return "\n".join(ln for ln in lines if ln) + "\n"


# --- the runner -----------------------------------------------------------------------------

_DAY_S = 86400
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
            s, e = (day - 1) * _DAY_S + 60 * a, (day - 1) * _DAY_S + 60 * b
            if out and out[-1][2:] == [place, room] and out[-1][1] == s:
                out[-1][1] = e
            else:
                out.append([s, e, place, room])
    return out


def indoor_temperature(sc, t_s, heat=(), noise=0.0):
    """Degrees C at t_s: a gentle daily swing (coolest at 03:00, warmest at 15:00) and
    each heat wave (start s, end s, peak) reached through one-hour cosine ramps that lie
    inside its window, so the peak is held in the window and never felt outside it."""
    frac = (t_s % _DAY_S) / _DAY_S
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
        self.end_s = sc.day_count() * _DAY_S
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
        t = (day - 1) * _DAY_S + 60 * inc.start
        end = None if inc.end is None else (day - 1) * _DAY_S + 60 * inc.end
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


def main(argv=None):
    """`python -m emulator.scenario FILE [--events]`: check a scenario and summarise what
    the sensors will see each day (or print every event); errors as FILE:LINE: sentence."""
    import argparse
    import json
    import sys
    from collections import Counter

    ap = argparse.ArgumentParser(prog="python -m emulator.scenario")
    ap.add_argument("file")
    ap.add_argument("--events", action="store_true", help="print every event as a JSON line")
    a = ap.parse_args(argv)
    try:
        sc = load(a.file)
        evs = events(sc)
    except (OSError, ScenarioError) as e:
        print(f"scenario: {e}", file=sys.stderr)
        return 1
    if a.events:
        for ev in evs:
            print(json.dumps(list(ev)))
        return 0
    print(f"{sc.resident or a.file}: {sc.day_count()} day(s), {len(sc.sensors)} sensors")
    for day in range(sc.day_count()):
        n = Counter(ev.op for ev in evs if ev.t_ms // (_DAY_S * 1000) == day)
        print(f"day {day + 1}: " + ", ".join(f"{k} {v}" for k, v in sorted(n.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
