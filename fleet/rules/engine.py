"""The rules engine for one resident: feed it observations in time order (`observe`) and
call `evaluate(now)` on a timer (at the latest by `next_due()`); each returns the
Changes: conditions newly raised and conditions that cleared, with the reason.

Sans-IO: no database, no clock of its own. `snapshot()` / `Engine.restore()` carry the
learned days and the live state across restarts as JSON-able data.
"""

from zoneinfo import ZoneInfo

from fleet.rules.baseline import Baseline, Learner, LocalClock
from fleet.rules.model import (
    CARE,
    CRITICAL,
    TECH,
    TECHNICAL,
    URGENT,
    WARNING,
    Changes,
    Cleared,
    Condition,
    Observation,
    SensorHealth,
    epoch,
)

ALARMS = ("panic", "fall", "smoke", "gas", "water")  # raised at once, cleared only by a person
UP_ROOMS = ("kitchen", "living", "entrance")  # where being seen means she is up
_HALL = ("entrance", None)
_DOOR_PAIR_S = 600  # a closing this long after the last opening had its opening missed
BUTTON_ALARMS = {"press": "panic", "long_press": "fall"}  # a button event raising an alarm
# Why a condition cleared, by rule (inactivity, not_up and bathroom also clear on "away").
_REASONS = {
    "inactivity": "activity",
    "not_up": "up",
    "bathroom": "left_bathroom",
    "night_door": "back_inside",
    "heat": "temperature_normal",
    "heat_extreme": "temperature_normal",
    "cold": "temperature_normal",
    "hub_offline": "back_online",
    "monitoring_interrupted": "back_online",
    "sensor_silent": "sensor_back",
    "low_battery": "battery_ok",
}
_STATE = (
    "now", "last_act", "gap_door", "door_t", "open_t", "out", "in_bed", "last_up", "bath_since",
    "night_door", "hub_seen", "first_t", "next_rebuild",
)  # fmt: skip


def _in_window(minute, window):
    lo, hi = window
    return lo <= minute < hi if lo <= hi else minute >= lo or minute < hi


class Engine:
    def __init__(self, settings, sensors=()):
        self.settings = settings
        self.zone = ZoneInfo(settings.tz)
        self.clock = LocalClock(self.zone)
        self.learner = Learner(settings, self.clock)
        self.baseline = Baseline()
        self.now = None
        self.last_act = None  # last activity that resets the inactivity clock
        self.gap_door = False  # ... and whether it was a door
        self.door_t = None  # last door event
        self.open_t = None  # last opening (a closing without one counts as one)
        self.out = False  # a door, and no motion inside since: she is out
        self.in_bed = False  # the bed sensor says occupied (and nothing seen elsewhere since)
        self.last_up = None
        self.bath_since = None  # in the bathroom since, with nothing elsewhere after
        self.night_door = None
        self.hub_seen = None
        self.first_t = None
        self.next_rebuild = None
        self.climate = {}  # room -> [°C, above since, urgent since, below since]
        self.sensors = {}  # id -> [kind, room, checkin_s, last_seen, battery, low]
        self.raised = {}  # key -> Condition
        self.alarms = {}  # key -> Condition not yet raised by evaluate
        self.silenced = set()  # resolved by a person while still holding
        self._due = None
        self.set_health(sensors=sensors)

    # --- inputs ---------------------------------------------------------------------------

    def set_settings(self, settings):
        """New settings (e.g. holiday mode); the learned days stay."""
        self.settings = self.learner.s = settings

    def set_health(self, hub_last_seen=None, sensors=()):
        """The hub's last contact and the sensors as the fleet knows them (SensorHealth)."""
        if hub_last_seen is not None:
            self.hub_seen = max(self.hub_seen or 0.0, epoch(hub_last_seen))
        for h in sensors:
            cur = self.sensors.get(h.id)
            seen = h.last_seen if cur is None else max(h.last_seen or 0.0, cur[3] or 0.0) or None
            self.sensors[h.id] = [h.kind, h.room, h.checkin_s, seen, None, False]
            if h.battery is not None:
                self._battery(h.id, h.battery)

    def observe(self, obs):
        """Take one observation (Observation or its fields as a tuple) and evaluate."""
        if not isinstance(obs, Observation):
            obs = Observation(*obs)
        t, kind, room, value, s = obs.t, obs.kind, obs.room, obs.value, self.settings
        if self.first_t is None:
            self.first_t = t
            self.learner.start(t)
        if self.hub_seen is not None:  # only once heartbeats are tracked (set_health)
            self.hub_seen = max(self.hub_seen, t)
        if obs.sensor is not None:
            self._sensor_seen(obs.sensor, t, kind, room)
        if self._away(t):
            self.learner.away(t)
        if kind == "motion":
            if value:
                self._motion(t, room)
        elif kind == "door":
            self.bath_since = None
            self._activity(t, True)
            self._up(t)
            if value or self.open_t is None or t - self.open_t > _DOOR_PAIR_S:
                self.open_t, self.out = t, True  # maybe leaving: out until seen inside
            self.door_t = t
            if value and _in_window(self.clock.local(t)[1], s.night):
                self.night_door = self.night_door or t
        elif kind == "bed":
            self.bath_since = None
            self._activity(t, False)
            self.in_bed = bool(value)
        elif kind == "button":
            alarm = BUTTON_ALARMS.get(value) if s.button_panic else None
            if alarm:
                self._alarm(alarm, None, t, {"button": value})
        elif kind in ALARMS:
            if value:
                self._alarm(kind, room if kind in ("smoke", "gas", "water") else None, t, {})
        elif kind == "temperature":
            self._temperature(t, room, float(value))
        elif kind == "battery" and obs.sensor is not None:
            self._battery(obs.sensor, float(value))
        return self.evaluate(t if self.now is None else max(self.now, t))

    def resolve(self, rule, subject=None, at=None):
        """A person closed the condition. An alarm can then be raised anew; a condition
        that still holds stays quiet until it has cleared once."""
        key = (rule, subject)
        self.alarms.pop(key, None)
        cond = self.raised.pop(key, None)
        if cond is not None and cond.auto:
            self.silenced.add(key)
        return None if cond is None else Cleared(cond, epoch(at) or self.now, "resolved")

    def _motion(self, t, room):
        # Seen inside: in a room past the entrance after the door opened, or anywhere once
        # the door has been still for a moment (the hall PIR may see her leave).
        if self.out and (
            t > self.door_t + self.settings.door_grace_s or (room not in _HALL and t > self.open_t)
        ):
            self.out = False  # someone moves inside: she is home (or came back)
            self.night_door = None
        if room == "bathroom":
            if self.bath_since is None:
                self.bath_since = t
                if not self._away(t):
                    self.learner.bath_visit(t)
        else:
            self.bath_since = None
        if room in UP_ROOMS:
            self._up(t)
        if room != "bedroom":
            self.in_bed = False  # a missed bed exit
        if room != "bedroom" or self.settings.bedroom_resets:
            self._activity(t, False)

    def _activity(self, t, door):
        last = self.last_act
        if last is not None and t > last and not self._away(last):
            # Door to door with nobody moving inside in between: time out of the flat.
            self.learner.gap(last, t, self.gap_door and self.out and door, self.in_bed)
        if last is None or t >= last:
            self.last_act, self.gap_door = t, door

    def _up(self, t):
        if self.last_up is None or t > self.last_up:
            self.last_up = t
            self.learner.up(t)

    def _alarm(self, rule, subject, t, facts):
        key = (rule, subject)
        cond = self.raised.get(key) or self.alarms.get(key)
        if cond is not None:
            cond.facts["repeats"] = cond.facts.get("repeats", 0) + 1  # folded into the open one
            return
        self.alarms[key] = Condition(rule, subject, CRITICAL, t, t, CARE, False, facts)

    def _temperature(self, t, room, c):
        s = self.settings
        st = self.climate.setdefault(room, [c, None, None, None])
        st[0] = c
        for i, over, limit in (
            (1, True, s.heat_c),
            (2, True, s.heat_urgent_c),
            (3, False, s.cold_c),
        ):
            beyond = c > limit if over else c < limit
            back = c <= limit - s.hysteresis_c if over else c >= limit + s.hysteresis_c
            if beyond and st[i] is None:
                st[i] = t
            elif back:
                st[i] = None

    def _sensor_seen(self, sid, t, kind, room):
        st = self.sensors.setdefault(sid, [kind, room, None, None, None, False])
        st[3] = t if st[3] is None else max(st[3], t)

    def _battery(self, sid, pct):
        st = self.sensors.setdefault(sid, ["", None, None, None, None, False])
        st[4] = pct
        if pct < self.settings.low_battery:
            st[5] = True
        elif pct >= self.settings.battery_ok:
            st[5] = False

    def _away(self, t):
        until = self.settings.away_until
        return until is not None and t < until

    # --- evaluation -------------------------------------------------------------------------

    def next_due(self):
        """The instant by which evaluate() should next run, if nothing arrives before."""
        return self._due

    def evaluate(self, now):
        now = epoch(now)
        if self.now is not None and now < self.now:
            now = self.now
        self.now = now
        if self.first_t is None:
            return Changes()
        if self.next_rebuild is None or now >= self.next_rebuild:
            self.baseline = self.learner.build(now)
            d, m = self.clock.local(now)
            self.next_rebuild = self.clock.epoch(d if m < 720 else d + 1, 720)
        want, dues = {}, [self.next_rebuild]
        away = self._away(now)
        if away:
            dues.append(self.settings.away_until)
        offline = self._offline(now, want, dues)
        blind = offline or away  # no new care alert about quiet while nothing is watched
        self._inactivity(now, want, dues, blind, away)
        self._not_up(now, want, dues, blind, away)
        self._bathroom(now, want, dues, blind, away)
        if self.night_door is not None:
            want[("night_door", None)] = (WARNING, self.night_door, CARE, {})
        self._climate(now, want, dues)
        self._technical(now, want, dues, offline)
        self._due = min((d for d in dues if d is not None and d > now), default=None)
        return self._diff(now, want, away)

    def _diff(self, now, want, away):
        changes = Changes()
        for key, cond in self.alarms.items():
            cond.facts.update(name=self.settings.name, tz=self.settings.tz)
            self.raised[key] = cond
            changes.raised.append(cond)
        self.alarms.clear()
        for key, (severity, since, audience, facts) in want.items():
            if key in self.raised or key in self.silenced:
                continue
            facts.update(name=self.settings.name, tz=self.settings.tz)
            cond = Condition(key[0], key[1], severity, since, now, audience, True, facts)
            self.raised[key] = cond
            changes.raised.append(cond)
        for key in [k for k, c in self.raised.items() if c.auto and k not in want]:
            cond = self.raised.pop(key)
            reason = _REASONS[key[0]]
            if away and key[0] in ("inactivity", "not_up", "bathroom"):
                reason = "away"
            changes.cleared.append(Cleared(cond, now, reason))
        self.silenced.intersection_update(want)
        return changes

    def quiet_limit(self, start):
        """(seconds, how) of quiet allowed for a spell that started at `start`."""
        if self.out:
            return self.settings.hard_limit_s, "out"
        return self.limit_at(self.clock.local(start)[1], self.in_bed)

    def limit_at(self, minute, in_bed=False):
        """(seconds, how) for a spell at home starting at that local minute (in bed or up);
        how is "learned", "learned_bed", "ceiling" (hour not learned), "default" or "hard"
        (still learning)."""
        s = self.settings
        if self.baseline.days < s.min_days:
            if _in_window(minute, s.learning_day):
                return min(s.learning_day_s, s.hard_limit_s), "default"
            return s.hard_limit_s, "hard"
        learned, how = self.baseline.limits[int(minute // 60) % 24], "learned"
        if in_bed:
            learned, how = self.baseline.bed_limits[int(minute // 60) % 24], "learned_bed"
        if learned is None:
            return min(s.ceiling_s, s.hard_limit_s), "ceiling"
        return min(learned, s.hard_limit_s), how

    def _inactivity(self, now, want, dues, blind, away):
        key = ("inactivity", None)
        if self.last_act is None or away or (blind and key not in self.raised):
            return
        start = self.last_act
        until = self.settings.away_until
        if until is not None and start < until <= now:
            start = until  # back from holiday: count from the return, not the departure
        limit, how = self.quiet_limit(start)
        if now - start >= limit:
            facts = {"limit_s": limit, "how": how, "start": start, "usual_s": limit}
            want[key] = (URGENT, start, CARE, facts)
        else:
            dues.append(start + limit)

    def wake_time(self):
        """The usual getting-up minute (fixed in settings, else learned), or None."""
        s = self.settings
        if s.wake_time is not None:
            return s.wake_time
        return self.baseline.wake if self.baseline.days >= s.min_days else None

    def _not_up(self, now, want, dues, blind, away):
        key = ("not_up", None)
        wake = self.wake_time()
        if wake is None or away or self.out or (blind and key not in self.raised):
            return
        s = self.settings
        d, _ = self.clock.local(now)
        deadline = self.clock.epoch(d, wake + s.wake_margin_s / 60)
        if now < deadline:
            dues.append(deadline)
            d -= 1
            deadline = self.clock.epoch(d, wake + s.wake_margin_s / 60)
        else:
            dues.append(self.clock.epoch(d + 1, wake + s.wake_margin_s / 60))
        window = self.clock.epoch(d, s.wake_window[0])
        if self.first_t <= window and (self.last_up is None or self.last_up < window):
            want[key] = (URGENT, deadline, CARE, {"wake": wake, "deadline": deadline})

    def _bathroom(self, now, want, dues, blind, away):
        key = ("bathroom", None)
        since = self.bath_since
        if since is None or away or (blind and key not in self.raised):
            return
        s = self.settings
        night = _in_window(self.clock.local(since)[1], s.night)
        limit = s.bathroom_night_s if night else s.bathroom_day_s
        if now - since >= limit:
            want[key] = (URGENT, since, CARE, {"limit_s": limit, "night": night})
        else:
            dues.append(since + limit)

    def _climate(self, now, want, dues):
        s = self.settings
        for room, (c, above, urgent, below) in self.climate.items():
            for rule, since, hold, sev, limit in (
                ("heat", above, s.heat_for_s, WARNING, s.heat_c),
                ("heat_extreme", urgent, s.heat_urgent_for_s, URGENT, s.heat_urgent_c),
                ("cold", below, s.cold_for_s, WARNING, s.cold_c),
            ):
                if since is None:
                    continue
                if now - since >= hold:
                    want[(rule, room)] = (sev, since, CARE, {"c": c, "limit_c": limit})
                else:
                    dues.append(since + hold)

    def _offline(self, now, want, dues):
        s = self.settings
        seen = self.hub_seen
        if seen is None:
            return False
        if now - seen >= s.family_after_s:
            want[("monitoring_interrupted", None)] = (WARNING, seen, CARE, {})
        else:
            dues.append(seen + s.family_after_s)
        if now - seen >= s.hub_offline_s:
            want[("hub_offline", None)] = (TECHNICAL, seen, TECH, {})
            return True
        dues.append(seen + s.hub_offline_s)
        return False

    def _technical(self, now, want, dues, offline):
        for sid, (kind, room, checkin, seen, battery, low) in self.sensors.items():
            facts = {"sensor": sid, "kind": kind, "room": room}
            if low:
                want[("low_battery", sid)] = (TECHNICAL, now, TECH, dict(facts, battery=battery))
            if checkin is None or seen is None:
                continue
            key = ("sensor_silent", sid)
            if now - seen >= checkin and (not offline or key in self.raised):
                want[key] = (TECHNICAL, seen, TECH, dict(facts, checkin_s=checkin))
            else:
                dues.append(seen + checkin)

    # --- persistence ----------------------------------------------------------------------

    def snapshot(self):
        """Learned days and live state as JSON-able data (raised conditions included)."""
        state = {name: getattr(self, name) for name in _STATE}
        return {
            "learner": self.learner.to_dict(),
            "state": state,
            "climate": [[room, *v] for room, v in self.climate.items()],
            "sensors": [[sid, *v] for sid, v in self.sensors.items()],
            "raised": [vars(c) for c in self.raised.values()],
            "silenced": [list(k) for k in self.silenced],
        }

    @classmethod
    def restore(cls, settings, snap):
        eng = cls(settings)
        eng.learner.load(snap["learner"])
        for name in _STATE:
            setattr(eng, name, snap["state"][name])
        eng.climate = {v[0]: list(v[1:]) for v in snap["climate"]}
        eng.sensors = {v[0]: list(v[1:]) for v in snap["sensors"]}
        for c in snap["raised"]:
            cond = Condition(**c)
            eng.raised[cond.key] = cond
        eng.silenced = {tuple(k) for k in snap["silenced"]}
        if eng.now is not None:
            eng.baseline = eng.learner.build(eng.now)
        return eng

    def __repr__(self):
        return f"Engine({self.settings.name!r}, {len(self.raised)} raised)"


__all__ = ["Engine", "SensorHealth"]
