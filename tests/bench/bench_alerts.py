# Cost of the rules hook on the telemetry path: store_pack of a one-motion pack for a
# flat with a resident (engine loaded from cache, observed, snapshot saved) against the
# same pack for a flat without one (no engine), on SQLite; and panic → e-mail latency
# through the outbox to a local aiosmtpd.
# Run: .venv/bin/python tests/bench/bench_alerts.py

import asyncio
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlmodel import select  # noqa: E402

from fleet.alerts.runner import AlertRunner  # noqa: E402
from fleet.db import make_engine, migrate, session  # noqa: E402
from fleet.models import Hub, Resident, Sensor  # noqa: E402
from fleet.services.telemetry import store_pack  # noqa: E402
from protocol import senml  # noqa: E402
from tests.fleet import api_support  # noqa: E402

N = 400


class Inbox:
    def __init__(self):
        self.at = []

    async def handle_DATA(self, server, session_, envelope):
        self.at.append(time.perf_counter())
        return "250 OK"


def per_pack(engine, hub, seq0, start):
    payload = senml.encode([senml.reading("pir1", "motion", True)], bn=senml.base_name("hub-a"))
    t = time.perf_counter()
    with session(engine) as db:
        for i in range(N):
            store_pack(db, hub, seq0 + i, payload, start + timedelta(seconds=60 * i))
    return (time.perf_counter() - t) / N * 1e3


async def main():
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/fleet.db"
    migrate(url)
    engine = make_engine(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = api_support.make_settings(url, smtp_host="127.0.0.1", smtp_port=port)
    w = api_support.seed(engine, settings)
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        db.add(Sensor(hub_id=hub.id, key="pb1", kind="panic", room="bedroom", flat_id=w.flat_a))
        db.commit()
    start = datetime(2025, 7, 1, tzinfo=UTC)
    with_resident = per_pack(engine, hub, 0, start)
    with session(engine) as db:  # Anna moves out of the flat: no rules to feed
        db.get(Resident, w.anna).flat_id = w.flat_b
        db.commit()
    without = per_pack(engine, hub, N, start + timedelta(days=1))
    with session(engine) as db:
        db.get(Resident, w.anna).flat_id = w.flat_a
        db.commit()
    print(
        f"store_pack, one motion record: {with_resident:.2f} ms with a resident's rules, "
        f"{without:.2f} ms without"
    )

    runner = AlertRunner(settings.model_copy(update={"alerts_tick_s": 60}), engine)
    await runner.start()
    lat = []
    payload = senml.encode([senml.reading("pb1", "panic", True)], bn=senml.base_name("hub-a"))
    from fleet.alerts import lifecycle
    from fleet.models import Alert, User

    for i in range(20):
        t = time.perf_counter()
        with session(engine) as db:
            store_pack(db, hub, 10_000 + i, payload, datetime.now(UTC))
        while len(inbox.at) <= i:
            await asyncio.sleep(0.001)
        lat.append((inbox.at[i] - t) * 1e3)
        with session(engine) as db:  # close it, so the next press opens a new alert
            alert = db.exec(
                select(Alert).where(Alert.rule == "panic", Alert.open_key.is_not(None))
            ).one()
            lifecycle.resolve(db, alert, db.get(User, w.care.id), datetime.now(UTC), "handled")
            db.commit()
    await runner.stop()
    smtp.stop()
    lat.sort()
    print(
        f"panic stored → e-mail accepted by aiosmtpd: p50 {lat[len(lat) // 2]:.1f} ms, "
        f"max {lat[-1]:.1f} ms over {len(lat)} presses"
    )


asyncio.run(main())
