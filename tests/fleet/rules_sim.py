"""Emulated residents for the rules engine: emulator scenarios turned into observations
(as the fleet would store them) and played through an Engine with its timer."""

from datetime import date
from zoneinfo import ZoneInfo

from emulator import routine, scenario
from fleet.rules import Engine, Observation, Settings
from fleet.rules.baseline import LocalClock

DAY_MS = 86_400_000
ROME = ZoneInfo("Europe/Rome")


def observations(sc, start=date(2026, 3, 2), zone=ROME):
    """The scenario's sensor events as Observations. Day k of the scenario is local day k
    from `start`, and her habits follow the wall clock (so across a DST change her
    07:00 stays 07:00 local)."""
    clock = LocalClock(zone)
    d0 = start.toordinal()
    midnights = {}
    out = []
    for t_ms, op, a in scenario.events(sc):
        day, ms = divmod(t_ms, DAY_MS)
        if day not in midnights:
            midnights[day] = clock.epoch(d0 + day, 0)
        t = midnights[day] + ms / 1000
        if op == "motion":
            out.append(Observation(t, "motion", a["room"]))
        elif op == "door":
            out.append(Observation(t, "door", a["room"], a["opened"]))
        elif op == "bed":
            out.append(Observation(t, "bed", a["room"], a["occupied"]))
        elif op == "press_panic":
            out.append(Observation(t, "panic", "living"))
        elif op == "alarm":
            out.append(Observation(t, a["kind"], a.get("room"), a["on"]))
        elif op == "temperature":
            out.append(Observation(t, "temperature", "living", a["celsius"]))
    return out


def play(engine, obs, end=None):
    """Feed the observations, running evaluate() whenever the engine asked to be called
    before the next one arrives (as the alert layer's timer would). Returns the raised and
    cleared items in order, each with the instant it happened."""
    log = []

    def record(changes):
        log.extend(changes.raised)
        log.extend(changes.cleared)

    for o in obs:
        due = engine.next_due()
        while due is not None and due <= o.t:
            record(engine.evaluate(due))
            due = engine.next_due()
        record(engine.observe(o))
    due = engine.next_due()
    while end is not None and due is not None and due <= end:
        record(engine.evaluate(due))
        due = engine.next_due()
    if end is not None:
        record(engine.evaluate(end))
    return log


def resident_days(n, days, seed=1, fall_day=None, fall_at="10:00"):
    """n residents' scenarios: `days` days of their routine, and optionally on fall_day a
    fall in the living room at fall_at after which she lies still."""
    out = []
    for i, r in enumerate(routine.population(n, seed=seed)):
        sc = routine.generate(r, days=days, seed=seed * 1000 + i)
        if fall_day is not None:
            h, m = map(int, fall_at.split(":"))
            plan = scenario.DayPlan()
            plan.incidents.append(scenario.Incident("fall", 60 * h + m, None, "living", None, 0))
            sc.blocks.append((fall_day, fall_day, plan))
        out.append(sc)
    return out


def engine_for(name="Maria", **kw):
    return Engine(Settings(name=name, **kw))
