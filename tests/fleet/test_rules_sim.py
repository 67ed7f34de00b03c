"""Emulated residents (emulator.routine) through the rules engine: a normal routine
raises almost no inactivity alerts once learned, and a fall at 10:00 is found within 2 h.
Days 1-14 teach the routine; 15-20 are watched for false alarms; day 21 has the fall. The
run starts on 16 March 2026, so the DST change (29 March) falls inside it."""

from datetime import date

from tests.fleet.rules_sim import ROME, LocalClock, engine_for, observations, play, resident_days

N, DAYS, START = 5, 21, date(2026, 3, 16)


def test_normal_routine_quiet_and_fall_at_ten_found_within_two_hours():
    clock = LocalClock(ROME)
    learned_from = clock.epoch(START.toordinal() + 14, 0)
    fall = clock.epoch(START.toordinal() + DAYS - 1, 600)
    false_alarms, delays = 0, []
    for i, sc in enumerate(resident_days(N, DAYS, seed=3, fall_day=DAYS)):
        e = engine_for(f"R{i}")
        log = play(e, observations(sc, START), end=fall + 4 * 3600)
        raised = [c for c in log if getattr(c, "rule", None) == "inactivity"]
        false_alarms += sum(1 for c in raised if learned_from <= c.at < fall)
        found = [c.at - fall for c in raised if c.at >= fall and c.since >= fall]
        delays.append(found[0] if found else None)
        assert e.baseline.days >= 14
    assert false_alarms / (N * (DAYS - 15)) < 0.05
    assert all(d is not None and d < 2 * 3600 for d in delays), delays
