"""The real server (`python -m fleet`, a separate process on a file SQLite database) is
killed with SIGKILL while alert notifications are pending: first while its SMTP server
hangs (sends stuck mid-way), then while the SMTP server is up and slowly accepting. After
the last restart every notification has been delivered, and the SMTP server saw each
Message-ID — the documented contract is at least once with dedup by Message-ID — so the
caregivers see every message exactly once. About 15 s."""

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlmodel import select

from fleet.alerts import engines, lifecycle
from fleet.db import make_engine, migrate, session
from fleet.models import CareCircleMember, Hub, Notification, Sensor, User
from fleet.services.telemetry import store_pack
from protocol import senml
from tests.fleet import api_support

ROOT = Path(__file__).resolve().parents[2]
CAREGIVERS = 12  # all first in Anna's circle: one e-mail each for one panic


class SlowInbox:
    """Takes a while over each message, so a kill can land between accepted messages."""

    def __init__(self):
        self.ids = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session_, envelope):
        await asyncio.sleep(0.15)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.ids.append(msg["Message-ID"])
        return "250 OK"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pending_panic(engine, settings):
    """Anna's panic alert with its e-mails queued in the outbox (committed), as a server
    that died right after the alert's transaction would leave it; returns the row count."""
    engines.forget_cache()
    w = api_support.seed(engine, settings)
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        db.add(Sensor(hub_id=hub.id, key="pb1", kind="panic", room="bedroom", flat_id=w.flat_a))
        for i in range(CAREGIVERS - 1):
            user = User(
                email=f"c{i}@example.org", name=f"C{i}", role="caregiver", password_hash="x"
            )
            db.add(user)
            db.flush()
            db.add(CareCircleMember(resident_id=w.anna, user_id=user.id, position=1))
        db.commit()
        payload = senml.encode([senml.reading("pb1", "panic", True)], bn=senml.base_name("hub-a"))
        assert not store_pack(db, hub, 1, payload, datetime.now(UTC)).duplicate
    with session(engine) as db:
        assert lifecycle.escalate_due(db, settings, datetime.now(UTC)) == CAREGIVERS
    engines.forget_cache()
    return CAREGIVERS


def _states(engine):
    with session(engine) as db:
        return [n.state for n in db.exec(select(Notification)).all()]


class Server:
    def __init__(self, env, cwd):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fleet"],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(cwd) / "server.log", "ab"),
        )

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


def _until(predicate, timeout, what, log):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}; server log:\n" + (
            log.read_text()[-3000:] if log.exists() else ""
        )
        time.sleep(0.02)


def test_sigkill_with_pending_notifications_delivers_each_exactly_once(tmp_path):
    url = f"sqlite:///{tmp_path}/fleet.db"
    smtp_port = free_port()
    settings = api_support.make_settings(url, smtp_host="127.0.0.1", smtp_port=smtp_port)
    migrate(url)
    engine = make_engine(url)
    total = _pending_panic(engine, settings)
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        FLEET_DATABASE_URL=url,
        FLEET_SECRET_KEY=settings.secret_key,
        FLEET_HTTP_PORT=str(free_port()),
        FLEET_COAP_PORT=str(free_port(socket.SOCK_DGRAM)),
        FLEET_SMTP_HOST="127.0.0.1",
        FLEET_SMTP_PORT=str(smtp_port),
        FLEET_SMTP_TIMEOUT_S="30",
        FLEET_ALERTS_TICK_S="0.1",
        FLEET_NOTIFY_BACKOFF_S="0.2",
        FLEET_NOTIFY_BACKOFF_MAX_S="0.5",
        FLEET_NOTIFY_MAX_ATTEMPTS="1000",
        FLEET_ALERT_TIMEOUT_CRITICAL_S="600",  # no second round within the test
    )
    log = tmp_path / "server.log"

    # 1. The SMTP server hangs: connections are queued by the kernel and never greeted,
    # so the server's sends stall inside "sending" — and it is killed there.
    hang = socket.socket()
    hang.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hang.bind(("127.0.0.1", smtp_port))
    hang.listen(64)
    assert set(_states(engine)) == {"pending"}
    server = Server(env, tmp_path)
    _until(lambda: "sending" in _states(engine), 30, "a send in progress", log)
    server.kill()
    hang.close()
    assert "sent" not in _states(engine)

    inbox = SlowInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        # 2. The SMTP server is up; killed again after a few messages were accepted.
        server = Server(env, tmp_path)
        _until(lambda: len(inbox.ids) >= 3, 30, "the first messages", log)
        server.kill()
        states = _states(engine)
        assert states.count("sent") < total  # killed with work left to do

        # 3. Started once more: it finishes.
        server = Server(env, tmp_path)
        _until(lambda: _states(engine) == ["sent"] * total, 30, "every notification", log)
        time.sleep(0.5)  # nothing further arrives
        server.stop()
    finally:
        smtp.stop()
        engine.dispose()
    with session(make_engine(url)) as db:
        keys = {f"<{n.idempotency_key}@portineria>" for n in db.exec(select(Notification))}
    repeats = len(inbox.ids) - len(set(inbox.ids))
    print(f"{total} notifications, {len(inbox.ids)} messages accepted, {repeats} repeated ids")
    assert set(inbox.ids) == keys and len(keys) == total
