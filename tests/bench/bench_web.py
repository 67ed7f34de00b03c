"""How long the main pages take to render on SQLite (TestClient, one process): a
caregiver's list and a resident's day with a full day of events and readings, a
volunteer's condominium page. Prints the median milliseconds per page.

    .venv/bin/python -m tests.bench.bench_web
"""

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from fleet import security
from fleet.db import make_engine, migrate, session
from fleet.models import Event, Hub, Reading
from tests.fleet.api_support import client, make_settings, seed

ROUNDS = 30


def main():
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/fleet.db"
        migrate(url)
        settings, engine = make_settings(url), make_engine(url)
        w = seed(engine, settings)
        now = datetime.now(UTC)
        with session(engine) as db:
            hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
            for i in range(24 * 60 // 2):  # a motion event every 2 minutes, all day
                t = now - timedelta(minutes=2 * i)
                db.add(
                    Event(hub_id=hub.id, sensor_id=w.sensor, kind="motion", state=True, t=t, seq=i)
                )
            for i in range(24 * 12):  # a temperature every 5 minutes
                t = now - timedelta(minutes=5 * i)
                db.add(Reading(hub_id=hub.id, kind="temperature", value=21.0, t=t, seq=i))
            tokens = {}
            for role in ("care", "vol"):
                tokens[role], _ = security.issue_token(db, settings, getattr(w, role))
            db.commit()
        c = client(engine, settings)
        pages = (("care", "/care"), ("care", f"/residents/{w.anna}"), ("vol", "/condo"))
        for role, path in pages:
            c.cookies.set("portineria_session", tokens[role])
            times = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                assert c.get(path).status_code == 200
                times.append((time.perf_counter() - start) * 1000)
            print(f"{path:<16} median {statistics.median(times):6.1f} ms over {ROUNDS}")


if __name__ == "__main__":
    main()
