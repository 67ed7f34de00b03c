"""A scenario file both ways (the grammar is in emulator/scenario.py): parse() reads one
into a Scenario (sensors, the daily routine, day blocks with their own activities and
incidents), naming every bad line; to_text() writes a Scenario out so that parse() reads
it back to the same plans."""

import re
from collections import namedtuple

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
