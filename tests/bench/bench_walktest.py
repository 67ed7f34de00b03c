# Cost of walk-test mode on the telemetry path: walktest.screen for a one-motion pack of
# a hub with no test (what almost every pack pays), and of a hub under test, on SQLite.
# Run: .venv/bin/python tests/bench/bench_walktest.py

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fleet.db import make_engine, migrate, session  # noqa: E402
from fleet.models import Hub, User, utcnow  # noqa: E402
from fleet.services import walktest  # noqa: E402
from tests.fleet import api_support  # noqa: E402

N = 2000


def per_call_us(db, hub_pk, events):
    for _ in range(N // 10):
        walktest.screen(db, hub_pk, events)
    start = time.perf_counter()
    for _ in range(N):
        walktest.screen(db, hub_pk, events)
    return (time.perf_counter() - start) / N * 1e6


def main():
    url = f"sqlite:///{tempfile.mkdtemp()}/fleet.db"
    migrate(url)
    engine = make_engine(url)
    w = api_support.seed(engine, api_support.make_settings(url))
    now = utcnow()
    motion = {"kind": "motion", "state": True, "text": None, "sensor_id": w.sensor}
    events = [motion | {"t": now, "seq": 1}]
    with session(engine) as db:
        hub = db.exec(Hub.__table__.select().where(Hub.hub_id == "hub-a")).one()
        print(f"screen, hub without a test: {per_call_us(db, hub.id, events):.0f} µs")
        walktest.start(db, db.get(User, w.vol.id), db.get(Hub, hub.id), now)
        db.commit()
        print(f"screen, hub under test:     {per_call_us(db, hub.id, events):.0f} µs")


if __name__ == "__main__":
    main()
