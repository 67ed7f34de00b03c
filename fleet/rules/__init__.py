"""Wellbeing rules: pure logic over one resident's observations (no database).

    from fleet.rules import Engine, Observation, Settings
    eng = Engine(Settings(name="Maria", language="it"))
    changes = eng.observe(Observation(t, "motion", "kitchen"))   # as readings arrive
    changes = eng.evaluate(now)                                   # on a timer, by next_due()
    for c in changes.raised: c.rule, c.severity, c.since, c.text("it")
    for c in changes.cleared: c.key, c.reason, c.text("en")
    routine(eng, "it")                                            # what was learned

Times are UTC epoch seconds (aware datetimes accepted); local times use Settings.tz.
"""

from fleet.rules.engine import ALARMS, BUTTON_ALARMS, Engine
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
    Settings,
)
from fleet.rules.routine import routine

__all__ = [
    "ALARMS",
    "BUTTON_ALARMS",
    "CARE",
    "CRITICAL",
    "TECH",
    "TECHNICAL",
    "URGENT",
    "WARNING",
    "Changes",
    "Cleared",
    "Condition",
    "Engine",
    "Observation",
    "SensorHealth",
    "Settings",
    "routine",
]
