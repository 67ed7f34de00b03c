"""Stochastic routines: the same seed gives the same days, and a month of them looks like
the habits it was drawn from, as the sensors see them."""

import statistics

import pytest

from emulator import routine as R
from emulator import scenario as S

DAY = 86_400_000
HOUR = 3_600_000
MARIA = R.Routine(wake=(7.0, 0.5), bedtime=(22.5, 0.5), outings_per_week=3, nap_prob=0.4)
SEEDS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def month():
    """Four months of Maria as the sensors saw them: [(scenario, events)]."""
    return [(sc, S.events(sc)) for sc in (R.generate(MARIA, 30, seed) for seed in SEEDS)]


def per_day(evs, op, pred=lambda e: True):
    days = {}
    for e in evs:
        if e.op == op and pred(e):
            days.setdefault(e.t_ms // DAY, []).append(e.t_ms % DAY)
    return days


def test_same_seed_same_events_other_seed_other_events():
    a = S.events(R.generate(MARIA, 3, seed=11))
    assert S.events(R.generate(MARIA, 3, seed=11)) == a
    assert S.events(R.generate(MARIA, 3, seed=12)) != a


def test_wake_and_bed_times_follow_the_habits(month):
    wakes, beds = [], []
    for _, evs in month:
        for day, times in per_day(evs, "bed", lambda e: not e.args["occupied"]).items():
            morning = [t for t in times if 4 * HOUR < t < 12 * HOUR]
            if day < 30 and morning:
                wakes.append(morning[-1] / HOUR)  # a night visit to the bathroom comes first
        for day, times in per_day(evs, "bed", lambda e: e.args["occupied"]).items():
            if 0 < day < 30:
                beds.append(max(times) / HOUR)
    assert len(wakes) == 120 and len(beds) == 116
    assert statistics.mean(wakes) == pytest.approx(7.0, abs=0.15)
    assert 0.35 < statistics.stdev(wakes) < 0.65
    assert statistics.mean(beds) == pytest.approx(22.5, abs=0.15)


def test_outings_per_week_and_no_motion_while_out(month):
    outings = 0
    for _, evs in month:
        doors = [e for e in evs if e.op == "door"]
        opens = [e.t_ms for e in doors if e.args["opened"]]
        assert [e.args["opened"] for e in doors] == [True, False] * (len(doors) // 2)
        assert len(opens) % 2 == 0  # every outing ends with her coming back
        outings += len(opens) // 2
        for leave, back in zip(opens[::2], opens[1::2], strict=True):
            assert not [e for e in evs if e.op == "motion" and leave < e.t_ms < back]
            assert 9.5 * HOUR <= leave % DAY and back % DAY <= 23 * HOUR
    weeks = 4 * 30 / 7
    assert 3 * weeks * 0.7 < outings < 3 * weeks * 1.3


def visits(times, gap_ms=180_000):
    """Stays in a room, from motion times there: a gap of 3 minutes starts a new one."""
    return sum(1 for a, b in zip([-gap_ms] + times, times, strict=False) if b - a > gap_ms)


def test_bathroom_visits_meals_and_naps_are_plausible(month):
    bath, lunches, naps, days = 0, 0, 0, 0
    for _, evs in month:
        for times in per_day(evs, "motion", lambda e: e.args["room"] == "bathroom").values():
            bath += visits(times)
        kitchen = per_day(evs, "motion", lambda e: e.args["room"] == "kitchen")
        lunches += sum(1 for t in kitchen.values() if [x for x in t if 11 * HOUR < x < 14 * HOUR])
        beds = per_day(evs, "bed", lambda e: e.args["occupied"])
        naps += sum(1 for t in beds.values() if [x for x in t if 12 * HOUR < x < 17 * HOUR])
        days += 30
    assert 4.0 < bath / days < 6.0  # 5 planned a day, a few dropped where plans clash
    assert lunches / days > 0.9
    assert 0.25 < naps / days < 0.55


def test_a_generated_month_written_out_reads_back_to_the_same_events(month):
    sc, evs = month[0]
    text = S.to_text(sc)
    assert text.count("\nday ") == 30 and "22:" in text
    assert S.events(S.parse(text)) == evs


def test_a_population_is_varied_and_each_resident_plays():
    people = R.population(20, seed=5)
    assert R.population(20, seed=5)[7].__dict__ == people[7].__dict__
    wakes = [p.wake[0] for p in people]
    assert max(wakes) - min(wakes) > 1.0
    counts = [len(S.events(R.generate(p, 2, seed=i))) for i, p in enumerate(people)]
    assert len(set(counts)) > 15  # different lives make different streams
    assert min(counts) > 500  # two days of a flat: motion, beds, doors, temperatures
