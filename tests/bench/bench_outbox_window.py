# The outbox's residual window for a repeat: from the SMTP server accepting a message
# (its handler returning, just before the 250 goes out) to the commit that records it
# "sent". A SIGKILL inside it sends that message again after restart (same Message-ID).
# 200 pending e-mails delivered by deliver_due to a local aiosmtpd, on SQLite (file) and,
# if FLEET_TEST_POSTGRES_URL is set, PostgreSQL; prints the window's median, p99 and max,
# and its share of the whole time spent delivering.
# Run: .venv/bin/python tests/bench/bench_outbox_window.py

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import text  # noqa: E402

from fleet.alerts import outbox  # noqa: E402
from fleet.db import make_engine, migrate, session  # noqa: E402
from fleet.models import Notification  # noqa: E402

N = 200


class Inbox:
    def __init__(self):
        self.accepted = {}  # Message-ID -> perf_counter at acceptance

    async def handle_DATA(self, server, session_, envelope):
        for line in envelope.content.decode(errors="replace").splitlines():
            if line.lower().startswith("message-id:"):
                self.accepted[line.split(":", 1)[1].strip()] = time.perf_counter()
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run(url, label):
    from tests.fleet import api_support

    migrate(url)
    engine = make_engine(url)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = api_support.make_settings(url, smtp_host="127.0.0.1", smtp_port=smtp.port)
    now = datetime.now(UTC)
    with session(engine) as db:
        for i in range(N):
            db.add(
                Notification(
                    channel="email",
                    recipient=f"c{i}@example.org",
                    payload={"subject": "s", "body": "b"},
                    idempotency_key=f"bench-{label}-{i}",
                    next_try=now,
                )
            )
        db.commit()
    recorded = {}
    record = outbox._record

    def timed(engine_, settings_, row, error, when):
        record(engine_, settings_, row, error, when)
        recorded[row.id] = time.perf_counter()

    outbox._record = timed
    t0 = time.perf_counter()
    sent = 0
    while sent < N:
        sent += await outbox.deliver_due(engine, settings, datetime.now(UTC))
    total = time.perf_counter() - t0
    outbox._record = record
    smtp.stop()
    with session(engine) as db:
        keys = dict(db.exec(text("SELECT id, idempotency_key FROM notification")).all())
    windows = sorted(
        (recorded[i] - inbox.accepted[outbox.channels.message_id(k)]) * 1e3 for i, k in keys.items()
    )
    engine.dispose()
    p99 = windows[int(len(windows) * 0.99) - 1]
    print(
        f"{label}: {N} e-mails in {total:.2f} s ({total / N * 1e3:.1f} ms each); window from "
        f"the server accepting to our commit: median {statistics.median(windows):.2f} ms, "
        f"p99 {p99:.2f} ms, max {windows[-1]:.2f} ms "
        f"({sum(windows) / 1e3 / total:.0%} of the delivering time)"
    )


async def main():
    tmp = tempfile.mkdtemp()
    await run(f"sqlite:///{tmp}/fleet.db", "SQLite")
    pg = os.environ.get("FLEET_TEST_POSTGRES_URL")
    if pg:
        from sqlalchemy import make_url

        from fleet.db import make_engine as mk

        name = f"bench_window_{os.getpid()}"
        admin = mk(pg).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(pg).set(database=name).render_as_string(hide_password=False)
            await run(url, "PostgreSQL")
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
