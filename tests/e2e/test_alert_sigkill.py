"""Exactly once through SIGKILL: the real server (`python -m fleet`, its own process, on a
file SQLite database) is killed with SIGKILL again and again while alert e-mails are
pending and being sent to a real SMTP server (aiosmtpd), then restarted; in the end
every notification reached the SMTP server, and none twice.

The kills land where a sending server spends its time: waiting for the receiver (the
SMTP server hangs before greeting, or takes its time over a recipient). The residual
window, honestly: a kill between the SMTP server accepting a message (its 250 to DATA)
and the server's commit of "sent" repeats that message after restart, with the same
Message-ID for the receiver to drop. tests/bench/bench_outbox_window.py measures that
window here at about 0.6 ms median (SQLite file) and 1.8 ms (PostgreSQL), p99 under 3 ms;
against this fast local SMTP server that is 15-30 % of the delivering time, against a
real one (tens of ms a message) a few per cent. This test does not aim kills into the
window; it proves the window is no wider than that, where the former per-batch claim and
record repeated about half the messages. About 30 s."""

import asyncio
import collections
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

from emulator.ports import free_port
from fleet.alerts import engines, lifecycle
from fleet.db import make_engine, migrate, session
from fleet.models import CareCircleMember, Hub, Notification, Sensor, User
from fleet.services.telemetry import store_pack
from protocol import senml
from tests.fleet import api_support

ROOT = Path(__file__).resolve().parents[2]
CAREGIVERS = 16  # all first in Anna's circle: one e-mail each for one panic
RCPT_S = 0.12  # the SMTP server's pause over each recipient
KILLS = 4  # while the SMTP server is up
# Deadlines for what must happen, not how fast: a server start and sixteen paused SMTP
# deliveries took over 30 s on 2 busy cores.
WAIT_S = 120


class SlowInbox:
    """Counts each message accepted, by Message-ID, the moment it accepts it; pauses
    over each recipient first, which is when the test's kills land."""

    def __init__(self):
        self.ids = []
        self.in_pause = False
        self.held = False  # a kill is on its way: the current pause lasts until it lands
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session_, envelope, address, options):
        self.in_pause = True
        await asyncio.sleep(RCPT_S)
        while True:
            with self.lock:
                if not self.held:
                    self.in_pause = False
                    break
            await asyncio.sleep(0.005)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session_, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.ids.append(msg["Message-ID"])
        return "250 OK"

    def accepted(self):
        with self.lock:
            return len(self.ids)

    def hold(self):
        """If a recipient pause is on, keep it on until release(), and say so: the kill
        then lands before that message is accepted, however late a busy machine runs it
        (a pause alone lets a late kill fall after the acceptance: a message sent twice)."""
        with self.lock:
            self.held = self.in_pause
            return self.held

    def release(self):
        with self.lock:
            self.held = False


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


def _until(predicate, timeout, what, log, poll=0.02):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}; server log:\n" + (
            log.read_text()[-3000:] if log.exists() else ""
        )
        time.sleep(poll)


def test_sigkill_again_and_again_delivers_every_notification_exactly_once(tmp_path):
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
    # so the first send stalls inside "sending" — and the server is killed there.
    hang = socket.socket()
    hang.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hang.bind(("127.0.0.1", smtp_port))
    hang.listen(64)
    assert set(_states(engine)) == {"pending"}
    server = Server(env, tmp_path)
    _until(lambda: "sending" in _states(engine), WAIT_S, "a send in progress", log)
    server.kill()
    hang.close()
    states = _states(engine)
    assert states.count("sending") == 1 and "sent" not in states  # one claim at a time

    inbox = SlowInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        # 2. The SMTP server is up; the server is killed every few messages, mid-send.
        for k in range(KILLS):
            server = Server(env, tmp_path)
            target = (k + 1) * total // (KILLS + 2)
            _until(
                lambda t=target: inbox.accepted() >= t and inbox.hold(),
                WAIT_S,
                f"message {target} under way",
                log,
                poll=0.002,
            )
            server.kill()
            inbox.release()
            assert _states(engine).count("sent") < total  # killed with work left to do

        # 3. Started once more: it finishes.
        server = Server(env, tmp_path)
        _until(lambda: _states(engine) == ["sent"] * total, WAIT_S, "every notification", log)
        time.sleep(0.5)  # nothing further arrives
        server.stop()
    finally:
        smtp.stop()
        engine.dispose()
    with session(make_engine(url)) as db:
        keys = {f"<{n.idempotency_key}@portineria>" for n in db.exec(select(Notification))}
    counts = collections.Counter(inbox.ids)
    print(f"{total} notifications, {KILLS + 1} kills, {len(inbox.ids)} messages accepted")
    assert set(counts) == keys and len(keys) == total  # every one delivered…
    assert [key for key, n in counts.items() if n > 1] == []  # …none twice
