"""The outbox and its channels: a crash between the alert's commit and the send loses
nothing and sends nothing twice; a crash inside the send repeats the message with the
same Message-ID for the receiver to drop; failures retry with back-off; webhooks are
signed (HMAC-SHA256 over timestamp and body); apprise URLs deliver; service figures."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from fleet import secrets
from fleet.alerts import channels, engines, figures, lifecycle, outbox
from fleet.alerts.runner import AlertRunner
from fleet.db import session
from fleet.models import Alert, Notification, NotificationSettings, User
from tests.fleet import api_support
from tests.fleet.test_alerts import T0, smtp, world  # noqa: F401  (fixtures)


class Receiver:
    """A local HTTP server recording every POST (headers, body)."""

    def __init__(self, status=200):
        self.requests = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.headers, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _restart(w):
    """What a restart leaves: the database; no cached engines, a new runner."""
    engines.forget_cache()
    return AlertRunner(w.settings, w.engine, clock=w.clock)


async def test_a_crash_between_the_commit_and_the_send_loses_nothing(world, smtp):  # noqa: F811
    world.press(at=0)
    with session(world.engine) as db:  # the alert and its outbox rows committed, then…
        lifecycle.escalate_due(db, world.settings, world.clock())
    assert smtp.messages == []  # …the process dies before sending
    runner = _restart(world)
    await runner.start()
    await runner.stop()
    assert await runner.tick(world.clock.at(1)) == 1
    assert await runner.tick(world.clock.at(2)) == 0
    assert len(smtp.to("care@example.org")) == 1


async def test_a_crash_inside_the_send_repeats_it_with_the_same_message_id(world, smtp):  # noqa: F811
    world.press(at=0)
    with session(world.engine) as db:
        lifecycle.escalate_due(db, world.settings, world.clock())
    [(row_id, _)] = outbox._due(world.engine, world.clock())
    row, secret = outbox._claim(world.engine, row_id, world.clock())
    outbox._send(world.settings, row, secret, world.clock())  # delivered, never recorded
    runner = _restart(world)
    await runner.start()  # recover(): "sending" → pending
    await runner.stop()
    assert await runner.tick(world.clock.at(1)) == 1
    first, again = smtp.to("care@example.org")
    assert first["Message-ID"] == again["Message-ID"] == f"<{row.idempotency_key}@portineria>"
    with session(world.engine) as db:
        row = db.get(Notification, row.id)
    assert (row.state, row.attempts) == ("sent", 2)
    assert await runner.tick(world.clock.at(2)) == 0


async def test_a_failing_channel_retries_with_backoff_and_then_gives_up(world, smtp):  # noqa: F811
    world.settings = world.settings.model_copy(
        update={"smtp_port": 1, "notify_backoff_s": 10, "notify_max_attempts": 3}
    )
    world.runner.settings = world.settings
    world.press(at=0)
    await world.tick(0)
    with session(world.engine) as db:
        row = db.exec(select(Notification)).one()
    assert (row.state, row.attempts) == ("pending", 1) and "SMTP" in row.last_error
    assert row.next_try - world.clock() == timedelta(seconds=10)
    await world.tick(5)  # not yet due
    await world.tick(10)
    await world.tick(30)  # 10 s, then 20 s later
    with session(world.engine) as db:
        row = db.get(Notification, row.id)
    assert (row.state, row.attempts) == ("failed", 3)


async def test_webhooks_are_signed_and_the_signature_verifies(world, receiver):  # noqa: F811
    secret = b"s3cret-shared-with-the-receiver"
    with session(world.engine) as db:
        db.add(
            NotificationSettings(
                user_id=world.w.care.id,
                email="",
                webhook_url=receiver.url,
                webhook_secret_enc=secrets.seal(world.settings, secret),
                language="en",
            )
        )
        db.commit()
    world.press(at=0)
    assert await world.tick(0) == 1
    [(headers, body)] = receiver.requests
    payload = json.loads(body)
    assert payload["rule"] == "panic" and payload["text"].startswith("Anna pressed")
    assert headers[channels.IDEMPOTENCY].startswith(f"alert-{payload['alert']}-")
    now = world.clock()
    assert channels.verify_webhook(secret, headers, body, now)
    assert not channels.verify_webhook(secret, headers, body.replace(b"Anna", b"Anne"), now)
    assert not channels.verify_webhook(b"another secret", headers, body, now)
    assert not channels.verify_webhook(secret, headers, body, now + timedelta(minutes=6))


async def test_apprise_urls_deliver(world, receiver):  # noqa: F811
    url = receiver.url.replace("http://", "json://")
    with session(world.engine) as db:
        db.add(NotificationSettings(user_id=world.w.care.id, email="", apprise_urls=[url]))
        db.commit()
    world.press(at=0)
    assert await world.tick(0) == 1
    [(_headers, body)] = receiver.requests
    sent = json.loads(body)
    assert "pulsante di emergenza" in sent["title"]
    assert "Anna ha premuto il pulsante di emergenza" in sent["message"]


async def test_service_figures(world, smtp):  # noqa: F811
    with session(world.engine) as db:
        care = db.get(User, world.w.care.id)
        # The last is never acknowledged: closing it at 500 s counts as taking charge.
        for i, ack_after in enumerate((30, 90, 200, None)):
            world.press(at=i * 1000)
            alert = db.exec(select(Alert).where(Alert.open_key.is_not(None))).one()
            if ack_after is not None:
                lifecycle.acknowledge(db, alert, care, world.clock.at(i * 1000 + ack_after))
            reason = "false_alarm" if i == 0 else "handled"
            lifecycle.resolve(db, alert, care, world.clock.at(i * 1000 + 500), reason)
            db.commit()
        out = figures.figures(db, T0, T0 + timedelta(days=1))
    assert out["critical"] == 4
    assert (out["acked_60s"], out["acked_180s"], out["median_ack_s"]) == (0.25, 0.5, 145)
    assert out["false_alarms"] == 1 and out["resident_days"] == 2  # Anna and Bruno, one day
    assert out["false_alarm_rate"] == 0.5


async def test_a_caregiver_sets_a_signed_webhook_through_the_api(world, receiver):  # noqa: F811
    client = api_support.client(world.engine, world.settings)
    h = world.w.headers["care"]
    secret = "a-long-shared-secret-0123"
    r = client.put(
        "/api/alerts/notifications/me",
        headers=h,
        json={"email": "", "webhook_url": receiver.url, "webhook_secret": secret},
    )
    assert r.status_code == 200
    assert r.json()["has_webhook_secret"] and secret not in r.text
    assert client.get("/api/alerts/notifications/me", headers=h).json()["email"] == ""
    world.press(at=0)
    assert await world.tick(0) == 1
    [(headers, body)] = receiver.requests
    assert channels.verify_webhook(secret.encode(), headers, body, world.clock())
