"""How long a week of 200 different residents takes to generate, and how many events.

.venv/bin/python tests/bench/bench_routine.py
"""

import statistics
import time
from collections import Counter

from emulator import routine, scenario


def main(n=200, days=7):
    people = routine.population(n, seed=1)
    t0 = time.perf_counter()
    plans = [routine.generate(p, days, seed=i) for i, p in enumerate(people)]
    t1 = time.perf_counter()
    streams = [scenario.events(sc) for sc in plans]
    t2 = time.perf_counter()
    sizes = [len(s) for s in streams]
    ops = Counter(ev.op for s in streams for ev in s)
    print(f"{n} residents x {days} days: plans {t1 - t0:.2f} s, events {t2 - t1:.2f} s")
    median = statistics.median(sizes)
    print(f"events per resident-week: median {median:.0f}, min {min(sizes)}, max {max(sizes)}")
    print("by kind:", ", ".join(f"{k} {v // n}" for k, v in ops.most_common()), "(per resident)")


if __name__ == "__main__":
    main()
