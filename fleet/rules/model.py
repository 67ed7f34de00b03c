"""What the rules engine reads and returns: observations, a resident's settings, health
inputs, and the conditions it raises or clears. Pure data, no database.

Time: every instant is a float of UTC epoch seconds. Inputs may also be aware datetimes
(converted on the way in); naive datetimes are refused, because a wake time of "08:10"
means nothing without knowing which clock. Local times (wake, night window, hour of day)
are minutes of the day in the flat's own time zone (`Settings.tz`).
"""

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime

# Observation kinds (SenML kinds as stored in Event/Reading rows).
STATE_KINDS = ("motion", "door", "bed", "panic", "fall", "smoke", "gas", "water", "button")
READING_KINDS = ("temperature", "humidity", "battery")
KINDS = STATE_KINDS + READING_KINDS

CRITICAL, URGENT, WARNING, TECHNICAL = "critical", "urgent", "warning", "technical"
# Who a condition is for: the care circle, or volunteers and technicians only.
CARE, TECH = "care", "tech"


def epoch(t):
    """Epoch seconds from epoch seconds or an aware datetime (None stays None)."""
    if t is None or isinstance(t, int | float):
        return None if t is None else float(t)
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("naive datetime: give an aware one (UTC) or epoch seconds")
        return t.timestamp()
    raise TypeError(f"a time is epoch seconds or an aware datetime, not {type(t).__name__}")


def as_datetime(t):
    return None if t is None else datetime.fromtimestamp(t, UTC)


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing a sensor saw. `value`: True/False for state kinds (motion is always
    True; door True = opened; bed True = occupied; smoke/gas/water True = alarm on),
    a number for readings (°C, %RH, battery %), the button event text ("press",
    "long_press") for buttons. `sensor` is an optional sensor id for health tracking."""

    t: float
    kind: str
    room: str | None = None
    value: object = True
    sensor: object = None

    def __post_init__(self):
        object.__setattr__(self, "t", epoch(self.t))
        if self.kind not in KINDS:
            raise ValueError(f"unknown observation kind {self.kind!r}")


@dataclass(frozen=True, slots=True)
class SensorHealth:
    """A sensor as the fleet knows it (Sensor row): check-in interval in seconds or None."""

    id: object
    kind: str = ""
    room: str | None = None
    checkin_s: float | None = None
    last_seen: float | None = None
    battery: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "last_seen", epoch(self.last_seen))


def _hhmm(v):
    if isinstance(v, str):
        h, m = v.split(":")
        return int(h) * 60 + int(m)
    return int(v)


@dataclass(frozen=True)
class Settings:
    """A resident's rule settings; every field has a default. Durations in seconds, times
    of day in minutes (from_dict also takes "HH:MM")."""

    name: str = ""
    language: str = "it"
    tz: str = "Europe/Rome"
    away_until: float | None = None  # holiday mode until then (epoch s or aware datetime)
    # Inactivity.
    learn_days: int = 28  # the routine is learned from at most this many recent days
    min_days: int = 14  # learned rules start after this many
    gap_percentile: float = 0.95
    gap_factor: float = 1.25  # learned limit = factor * percentile + margin
    gap_margin_s: float = 20 * 60
    floor_s: float = 60 * 60
    ceiling_s: float = 12 * 3600
    hard_limit_s: float = 12 * 3600  # applies always, learned or not, home or out
    learning_day_s: float = 4 * 3600  # while learning: limit for quiet spells by day
    learning_day: tuple = (8 * 60, 18 * 60)  # ... that start in this window
    bedroom_resets: bool = False  # small movements in bed must not mask an emergency
    door_grace_s: float = 10.0  # motion this soon after a door event is the leaving itself
    # Not up by usual time.
    wake_time: int | None = None  # fixed instead of learned
    wake_margin_s: float = 60 * 60
    wake_percentile: float = 0.9
    wake_window: tuple = (4 * 60, 14 * 60)  # when getting up counts as the morning's
    # Night door.
    night: tuple = (22 * 60, 6 * 60)
    # Bathroom too long.
    bathroom_day_s: float = 45 * 60
    bathroom_night_s: float = 20 * 60
    # Heat and cold (°C); defaults after public heat-health guidance.
    heat_c: float = 26.0
    heat_for_s: float = 2 * 3600
    heat_urgent_c: float = 30.0
    heat_urgent_for_s: float = 15 * 60
    cold_c: float = 18.0
    cold_for_s: float = 60 * 60
    hysteresis_c: float = 0.5
    # Technical.
    hub_offline_s: float = 10 * 60
    family_after_s: float = 15 * 60  # the care circle hears once monitoring stops this long
    low_battery: float = 20.0
    battery_ok: float = 25.0
    button_panic: bool = True  # a button press is a panic; a long press a pendant's fall

    def __post_init__(self):
        object.__setattr__(self, "away_until", epoch(self.away_until))
        if self.wake_time is not None:
            object.__setattr__(self, "wake_time", _hhmm(self.wake_time))
        for key in ("night", "learning_day", "wake_window"):
            object.__setattr__(self, key, tuple(_hhmm(v) for v in getattr(self, key)))

    @classmethod
    def from_dict(cls, d):
        """Settings from stored overrides; unknown keys are an error (a typo would
        otherwise silently keep a default)."""
        names = {f.name for f in fields(cls)}
        bad = sorted(set(d) - names)
        if bad:
            raise ValueError("unknown rule settings: " + ", ".join(bad))
        return cls(**d)

    def with_(self, **changes):
        return replace(self, **changes)


@dataclass
class Condition:
    """A raised condition. `key` is (rule, subject): subject is a room or sensor id where a
    rule can hold several times at once, else None. `facts` hold what the explanation
    needs, captured when raised. `auto` False: it never clears by itself."""

    rule: str
    subject: object
    severity: str
    since: float
    at: float
    audience: str = CARE
    auto: bool = True
    facts: dict = field(default_factory=dict)

    @property
    def key(self):
        return (self.rule, self.subject)

    @property
    def since_dt(self):
        return as_datetime(self.since)

    def text(self, lang=None):
        from fleet.rules.explain import describe

        return describe(self, lang)


@dataclass
class Cleared:
    """A condition that no longer holds; reason is a code, text() says it to people."""

    condition: Condition
    at: float
    reason: str

    @property
    def key(self):
        return self.condition.key

    def text(self, lang=None):
        from fleet.rules.explain import describe_clear

        return describe_clear(self, lang)


@dataclass
class Changes:
    raised: list = field(default_factory=list)
    cleared: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.raised or self.cleared)

    def extend(self, other):
        self.raised += other.raised
        self.cleared += other.cleared
        return self
