"""Stochastic resident routines: a few habits and a seed give a Scenario, day by day, that
emulator.scenario turns into sensor events exactly as it does a written file (and
scenario.to_text writes it out as one).

    maria = Routine(wake=(7.0, 0.4), bedtime=(22.5, 0.5), outings_per_week=3)
    sc = generate(maria, days=30, seed=7)
    evs = scenario.events(sc)
    week = [generate(r, days=7, seed=i) for i, r in enumerate(population(200, seed=1))]

Times are hours of the day as (mean, standard deviation). Each day: she wakes, washes,
has her meals in the kitchen, spends the rest of the day in the living room, goes to the
bathroom now and then (a Poisson count), goes out on some days (each day with
probability outings_per_week / 7, at most once), may nap after lunch and may get up at
night for the bathroom; then bed. Overlapping plans are dropped, first come first
served, in the order: outing, meals, nap, bathroom.
"""

import random

from emulator import scenario

DEFAULT_SENSORS = (
    "sensors: pir bedroom, pir kitchen, pir bathroom, pir living, door entrance, "
    "bed bedroom, panic living, temp living"
)
_EARLIEST_WAKE = 5 * 60
_LATEST_WAKE = 11 * 60
_LATEST_BED = 23 * 60 + 50


class Routine:
    def __init__(
        self,
        wake=(7.0, 0.5),
        bedtime=(22.5, 0.5),
        meals=((8.0, 20), (12.5, 40), (19.0, 35)),  # (hour, minutes at table)
        meal_sd=0.3,
        bathroom_visits=5.0,  # a day, the morning wash included
        outings_per_week=3.0,
        outing_hours=(1.5, 0.5),
        nap_prob=0.4,
        nap_minutes=(45, 15),
        night_bathroom=0.5,  # probability of getting up in the night
    ):
        self.wake = wake
        self.bedtime = bedtime
        self.meals = meals
        self.meal_sd = meal_sd
        self.bathroom_visits = bathroom_visits
        self.outings_per_week = outings_per_week
        self.outing_hours = outing_hours
        self.nap_prob = nap_prob
        self.nap_minutes = nap_minutes
        self.night_bathroom = night_bathroom

    def __repr__(self):
        return "Routine(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


def _clamp(x, lo, hi):
    return max(lo, min(hi, int(round(x))))


def _poisson(rng, mean):
    # Knuth's method: fine for the small means of daily habits.
    limit, k, p = 2.718281828459045**-mean, 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class _Day:
    def __init__(self, line):
        self.busy = []
        self.acts = []
        self.line = line

    def point(self, start, place, room):
        self.acts.append(scenario.Activity(start, None, place, room, self.line))

    def span(self, start, minutes, place, room, lo, hi):
        """Plan an interval if it fits in [lo, hi] and clashes with nothing planned."""
        end = start + max(1, int(minutes))
        if start < lo or end > hi or any(s - 2 < end and start < e + 2 for s, e in self.busy):
            return False
        self.busy.append((start, end))
        self.acts.append(scenario.Activity(start, end, place, room, self.line))
        return True


def _day(r, rng, day):
    d = _Day(day)
    g = rng.gauss
    wake = _clamp(g(60 * r.wake[0], 60 * r.wake[1]), _EARLIEST_WAKE, _LATEST_WAKE)
    bed = _clamp(g(60 * r.bedtime[0], 60 * r.bedtime[1]), wake + 8 * 60, _LATEST_BED)
    d.point(wake, "room", "bedroom")
    d.point(wake + rng.randint(20, 40), "room", "living")
    d.point(bed, "bed", "bedroom")
    awake = (wake + 1, bed - 1)
    if rng.random() < min(1.0, r.outings_per_week / 7):
        minutes = _clamp(g(60 * r.outing_hours[0], 60 * r.outing_hours[1]), 20, 300)
        for _ in range(5):  # a few tries to find a free slot between 09:30 and 17:00
            if d.span(rng.randint(570, 1020), minutes, "out", None, *awake):
                break
    lunch_end = None
    for hour, minutes in r.meals:
        start = _clamp(g(60 * hour, 60 * r.meal_sd), wake + 30, bed - 30)
        if (
            d.span(start, minutes + rng.randint(-5, 5), "room", "kitchen", *awake)
            and 11 <= hour < 15
        ):
            lunch_end = start + minutes
    if lunch_end is not None and rng.random() < r.nap_prob:
        start = lunch_end + rng.randint(10, 40)
        d.span(start, _clamp(g(*r.nap_minutes), 10, 120), "bed", "bedroom", *awake)
    d.span(wake + rng.randint(2, 10), rng.randint(10, 20), "room", "bathroom", *awake)
    for _ in range(max(0, _poisson(rng, r.bathroom_visits - 1))):
        d.span(rng.randint(wake + 30, bed - 10), rng.randint(4, 12), "room", "bathroom", *awake)
    if wake > 90 and rng.random() < r.night_bathroom:
        d.span(rng.randint(30, wake - 60), rng.randint(4, 10), "room", "bathroom", 0, wake)
    d.acts.sort(key=lambda a: a.start)
    return d.acts


def generate(routine, days=7, seed=0, sensors=DEFAULT_SENSORS, resident=""):
    """A Scenario of `days` days drawn from the routine; the same seed, the same days."""
    sc = scenario.parse(sensors)
    rng = random.Random(seed)
    sc.resident = resident
    sc.days = days
    sc.seed = seed
    for day in range(1, days + 1):
        plan = scenario.DayPlan()
        plan.activities = _day(routine, rng, day)
        sc.blocks.append((day, day, plan))
    return sc


def population(n, seed=0):
    """n different residents' routines: early and late risers, homebodies and walkers."""
    rng = random.Random(seed)
    u = rng.uniform
    return [
        Routine(
            wake=(u(6.0, 8.5), u(0.2, 0.7)),
            bedtime=(u(21.0, 23.3), u(0.2, 0.6)),
            meal_sd=u(0.15, 0.5),
            bathroom_visits=u(3.0, 8.0),
            outings_per_week=u(0.0, 7.0),
            outing_hours=(u(0.5, 3.0), u(0.2, 0.8)),
            nap_prob=u(0.0, 0.9),
            night_bathroom=u(0.0, 0.9),
        )
        for _ in range(n)
    ]
