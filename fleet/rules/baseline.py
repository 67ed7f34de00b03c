"""The resident's routine as learned from recent days: per local hour, how long she is
usually quiet; when she is usually up; her bedtime, bathroom visits and time out.

The engine reports what happened (quiet spells, getting up, bathroom visits) and the
Learner keeps one small record per local day. A day's record is final at noon of the
next day (by then the night that began on it has ended); the Baseline is rebuilt from
the final days once a day.
"""

from datetime import UTC, date, datetime, time

_NIGHT_FROM, _NIGHT_TO = 19 * 60, 3 * 60  # a bedtime is a long quiet spell starting here
_MIN_NIGHT_S = 3 * 3600
_MIN_SAMPLES = 3  # fewer quiet spells in an hour window than this: no learned limit


class LocalClock:
    """Epoch seconds to (local date ordinal, wall-clock minute of the day) and back, in one
    time zone. Offsets and their changes fall on UTC quarter hours, so one conversion per
    quarter hour serves every instant in it."""

    def __init__(self, zone):
        self.zone = zone
        self._bucket = None
        self._cached = (0, 0.0)

    def local(self, t):
        bucket = t // 900
        if bucket != self._bucket:
            dt = datetime.fromtimestamp(t, self.zone)
            midnight = datetime.combine(dt.date(), time(), UTC).timestamp()
            self._bucket = bucket
            self._cached = (dt.toordinal(), midnight - dt.utcoffset().total_seconds())
        day, wall_midnight = self._cached
        return day, (t - wall_midnight) / 60.0

    def epoch(self, day, minute):
        """The instant of a wall-clock minute of a local day (the earlier one in a DST fold;
        a minute skipped by DST is read with the offset before the change)."""
        h, m = divmod(int(minute), 60)
        d = date.fromordinal(day + h // 24)
        return datetime.combine(d, time(h % 24, m), self.zone).timestamp()


def percentile(values, p):
    """Linear interpolation between closest ranks; values need not be sorted."""
    v = sorted(values)
    x = p * (len(v) - 1)
    i = int(x)
    return v[i] if i + 1 >= len(v) else v[i] + (x - i) * (v[i + 1] - v[i])


class Day:
    __slots__ = ("gaps", "bed_gaps", "wake", "bed", "bed_s", "bath", "out_s", "away")

    def __init__(self):
        self.gaps = [0.0] * 24  # longest quiet spell starting in each local hour, seconds
        self.bed_gaps = [0.0] * 24  # the same for spells that began in bed
        self.wake = None  # minute of the first getting-up in the wake window
        self.bed = None  # bedtime: start minute of the night's quiet (may exceed 1440)
        self.bed_s = 0.0
        self.bath = 0
        self.out_s = 0.0
        self.away = False

    def to_list(self):
        return [
            self.gaps,
            self.bed_gaps,
            self.wake,
            self.bed,
            self.bed_s,
            self.bath,
            self.out_s,
            self.away,
        ]

    @classmethod
    def from_list(cls, v):
        d = cls()
        d.gaps, d.bed_gaps, d.wake, d.bed, d.bed_s, d.bath, d.out_s, d.away = v
        return d


class Baseline:
    """A learned routine. limits[h]: seconds of quiet allowed for a spell starting in local
    hour h while up (None: not enough seen, the ceiling applies); bed_limits[h] the same
    for spells that began in bed (where not enough was seen: her longest learned in bed);
    wake/bedtime in local minutes."""

    def __init__(
        self, days=0, limits=None, bed_limits=None, wake=None, bedtime=None, bath=None, out_s=None
    ):
        self.days = days
        self.limits = limits or [None] * 24
        self.bed_limits = bed_limits or [None] * 24
        self.wake = wake
        self.bedtime = bedtime
        self.bath_per_day = bath
        self.out_per_day_s = out_s


class Learner:
    def __init__(self, settings, clock):
        self.s = settings
        self.clock = clock
        self.days = {}
        self.since = None  # first instant watched: days before it are partial

    def start(self, t):
        if self.since is None:
            self.since = t

    def _day(self, d):
        day = self.days.get(d)
        if day is None:
            day = self.days[d] = Day()
        return day

    def gap(self, start, end, out, in_bed=False):
        """A quiet spell between two activities (out: she was out of the flat; in_bed: it
        began with her in bed)."""
        d, m = self.clock.local(start)
        day = self._day(d)
        dur = end - start
        if out:
            day.out_s += dur
            return
        h = int(m // 60)
        gaps = day.bed_gaps if in_bed else day.gaps
        if dur > gaps[h]:
            gaps[h] = dur
        if dur >= _MIN_NIGHT_S and (m >= _NIGHT_FROM or m < _NIGHT_TO):
            evening, bed = (d, m) if m >= _NIGHT_FROM else (d - 1, m + 1440)
            night = self._day(evening)
            if dur > night.bed_s:
                night.bed, night.bed_s = bed, dur

    def up(self, t):
        d, m = self.clock.local(t)
        lo, hi = self.s.wake_window
        if lo <= m < hi:
            day = self._day(d)
            if day.wake is None and self.since <= self.clock.epoch(d, lo):
                day.wake = m

    def bath_visit(self, t):
        self._day(self.clock.local(t)[0]).bath += 1

    def away(self, t):
        self._day(self.clock.local(t)[0]).away = True

    def final_days(self, now):
        """Ordinals of the finished, fully watched, not-away days, newest last (at most
        learn_days); older records are dropped."""
        d, m = self.clock.local(now)
        cut = d if m >= 720 else d - 1  # days before `cut` have had their next noon
        first = None
        if self.since is not None:
            d0, m0 = self.clock.local(self.since)
            first = d0 if m0 < 1 else d0 + 1
        for old in [k for k in self.days if k < cut - self.s.learn_days - 1]:
            del self.days[old]
        keep = [
            k
            for k in sorted(self.days)
            if first is not None and first <= k < cut and not self.days[k].away
        ]
        return keep[-self.s.learn_days :]

    def build(self, now):
        s = self.s
        days = [self.days[k] for k in self.final_days(now)]
        if not days:
            return Baseline()
        limits = self._limits([day.gaps for day in days])
        bed_limits = self._limits([day.bed_gaps for day in days])
        longest = max((x for x in bed_limits if x is not None), default=s.ceiling_s)
        bed_limits = [longest if x is None else x for x in bed_limits]
        wakes = [day.wake for day in days if day.wake is not None]
        beds = [day.bed for day in days if day.bed is not None]
        return Baseline(
            days=len(days),
            limits=limits,
            bed_limits=bed_limits,
            wake=percentile(wakes, s.wake_percentile) if len(wakes) * 2 >= len(days) else None,
            bedtime=percentile(beds, 0.5) % 1440 if beds else None,
            bath=sum(day.bath for day in days) / len(days),
            out_s=percentile([day.out_s for day in days], 0.5),
        )

    def _limits(self, per_day):
        s = self.s
        limits = []
        for h in range(24):
            near = ((h - 1) % 24, h, (h + 1) % 24)  # smoothing: the neighbours' spells count
            samples = [x for x in (max(g[i] for i in near) for g in per_day) if x > 0]
            if len(samples) < _MIN_SAMPLES:
                limits.append(None)
                continue
            q = percentile(samples, s.gap_percentile)
            limits.append(min(s.ceiling_s, max(s.floor_s, s.gap_factor * q + s.gap_margin_s)))
        return limits

    def to_dict(self):
        return {"since": self.since, "days": {str(k): v.to_list() for k, v in self.days.items()}}

    def load(self, d):
        self.since = d["since"]
        self.days = {int(k): Day.from_list(v) for k, v in d["days"].items()}
