"""Alerts end to end without the network to the hub: stored telemetry → rules → Alert →
escalation along the care circle → e-mail at a real SMTP server (aiosmtpd), with a
controllable clock; acknowledgement, automatic and personal resolution; the API's scope.
Every test runs on SQLite and PostgreSQL."""

import asyncio
import email
import email.policy
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from emulator.ports import free_port
from fleet.alerts import engines, lifecycle
from fleet.alerts.runner import AlertRunner
from fleet.db import session
from fleet.models import (
    ADMIN,
    Alert,
    CareCircleMember,
    Hub,
    Notification,
    Resident,
    Sensor,
    User,
)
from fleet.services.telemetry import store_pack
from protocol import senml
from tests.fleet import api_support

T0 = datetime(2025, 7, 1, 10, 0, tzinfo=UTC)  # 12:00 in Rome


class Inbox:
    """An aiosmtpd handler keeping every message it accepted."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session_, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((envelope.rcpt_tos, msg))
        return "250 OK"

    def to(self, address):
        return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def at(self, seconds):
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


class AlertWorld:
    """api_support's world plus a panic button and a thermometer in Anna's flat, her
    consent on record, and a second caregiver (English) after `care` in her circle."""

    def __init__(self, engine, settings):
        self.engine, self.settings = engine, settings
        self.w = api_support.seed(engine, settings)
        with session(engine) as db:
            hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
            anna = db.get(Resident, self.w.anna)
            anna.consent_date = date(2025, 1, 10)  # monitored (tests/fleet/test_alerts_consent.py)
            db.add(anna)
            for key, kind, room in (("pb1", "panic", "bedroom"), ("t1", "temperature", "living")):
                db.add(Sensor(hub_id=hub.id, key=key, kind=kind, room=room, flat_id=self.w.flat_a))
            care2 = User(
                email="care2@example.org",
                name="Carla",
                role="caregiver",
                language="en",
                password_hash="x",
            )
            db.add(care2)
            db.flush()
            db.add(CareCircleMember(resident_id=self.w.anna, user_id=care2.id, position=2))
            db.commit()
            self.hub = hub
            self.care2 = care2.id
        self.seq = 0
        self.clock = Clock(T0)
        self.runner = AlertRunner(settings, engine, clock=self.clock)

    def send(self, *records, at=None):
        """Store one pack from hub-a at `at` seconds after T0."""
        now = self.clock.at(at) if at is not None else self.clock.now
        self.seq += 1
        payload = senml.encode(list(records), bn=senml.base_name("hub-a"))
        with session(self.engine) as db:
            assert not store_pack(db, self.hub, self.seq, payload, now).duplicate

    def press(self, at=None):
        self.send(senml.reading("pb1", "panic", True), at=at)

    async def tick(self, at):
        return await self.runner.tick(self.clock.at(at))

    def calls(self, rule):
        """Notifications sent about alerts of `rule`."""
        with session(self.engine) as db:
            stmt = select(Notification).join(Alert, Alert.id == Notification.alert_id)
            rows = db.exec(stmt.where(Alert.rule == rule, Notification.state == "sent")).all()
            return len(rows)

    def alerts(self, rule=None):
        with session(self.engine) as db:
            stmt = select(Alert).order_by(Alert.id)
            if rule is not None:
                stmt = stmt.where(Alert.rule == rule)
            return db.exec(stmt).all()


@pytest.fixture
def world(db_url, engine, smtp):
    engines.forget_cache()
    settings = api_support.make_settings(db_url, smtp_host="127.0.0.1", smtp_port=smtp.port)
    return AlertWorld(engine, settings)


async def test_a_panic_press_reaches_the_first_caregiver_in_italian(world, smtp):
    world.press(at=0)
    [alert] = world.alerts("panic")
    assert (alert.state, alert.severity, alert.auto) == ("open", "critical", False)
    assert await world.tick(0) == 1
    [msg] = smtp.to("care@example.org")
    assert "pulsante di emergenza" in msg["Subject"] and "Anna" in msg["Subject"]
    body = msg.get_content()
    assert "Anna ha premuto il pulsante di emergenza alle 12:00." in body
    assert f"/alerts/{alert.id}" in body
    [alert] = world.alerts("panic")
    assert alert.state == "notified" and alert.notified_at is not None
    assert smtp.to("care2@example.org") == []  # the second level waits for the timeout


async def test_nobody_acknowledges_so_the_next_in_the_circle_is_told_in_english(world, smtp):
    world.press(at=0)
    await world.tick(0)
    assert await world.tick(179) == 0
    assert await world.tick(180) == 1
    [msg] = smtp.to("care2@example.org")
    assert "panic button" in msg["Subject"]
    assert "Anna pressed the panic button at 12:00." in msg.get_content()
    # Still nobody: the ladder starts again from the first caregiver.
    assert await world.tick(360) == 1
    assert len(smtp.to("care@example.org")) == 2
    [alert] = world.alerts("panic")
    assert (alert.level, alert.round) == (0, 1)


async def test_acknowledging_stops_the_escalation(world, smtp):
    world.press(at=0)
    await world.tick(0)
    with session(world.engine) as db:
        alert = db.exec(select(Alert)).one()
        user = db.get(User, world.w.care.id)
        lifecycle.acknowledge(db, alert, user, world.clock.at(40))
        db.commit()
    for at in (180, 400, 3600):
        await world.tick(at)
    assert world.calls("panic") == 1
    [alert] = world.alerts("panic")
    assert alert.state == "acknowledged" and alert.acknowledged_by == world.w.care.id
    assert alert.acknowledged_at - alert.opened_at == timedelta(seconds=40)


async def test_repeated_presses_fold_into_the_open_alert(world, smtp):
    world.press(at=0)
    world.press(at=20)
    world.press(at=30)
    [alert] = world.alerts("panic")
    assert alert.repeats == 2


async def test_a_panic_never_resolves_by_itself_but_a_person_may_close_it(world, smtp):
    world.press(at=0)
    world.send(senml.reading("pir1", "motion", True), at=60)  # she moves about again
    await world.tick(7200)
    [alert] = world.alerts("panic")
    assert alert.state != "resolved" and alert.open_key is not None
    with session(world.engine) as db:
        alert = db.get(Alert, alert.id)
        lifecycle.resolve(db, alert, db.get(User, world.w.care.id), world.clock(), "false_alarm")
        db.commit()
    world.press(at=7300)  # a new press after the close is a new alert
    first, second = world.alerts("panic")
    assert (first.state, first.resolution) == ("resolved", "false_alarm")
    assert second.state == "open"


async def test_heat_opens_a_warning_and_resolves_itself_with_a_note(world, smtp):
    world.send(senml.reading("t1", "temperature", 27.0), at=0)
    await world.tick(3600)
    assert world.alerts("heat") == []
    world.send(senml.reading("t1", "temperature", 27.5), at=7100)
    await world.tick(7200)  # 2 h above 26 °C
    [alert] = world.alerts("heat")
    assert (alert.severity, alert.subject, alert.state) == ("warning", "living", "notified")
    body = smtp.to("care@example.org")[-1].get_content()
    assert "Caldo in casa in soggiorno: sopra 26 °C dalle 12:00 (ora 27,5 °C)." in body
    world.send(senml.reading("t1", "temperature", 25.0), at=7300)
    [alert] = world.alerts("heat")
    assert (alert.state, alert.resolved_by, alert.resolution) == (
        "resolved",
        None,
        "temperature_normal",
    )
    assert alert.resolution_note.startswith("Temperatura tornata normale")


async def test_an_alert_for_a_resident_without_a_circle_reaches_the_admins(world, smtp):
    with session(world.engine) as db:
        for m in db.exec(select(CareCircleMember)).all():
            db.delete(m)
        db.commit()
    world.press(at=0)
    await world.tick(0)
    with session(world.engine) as db:
        admins = db.exec(select(User).where(User.role == ADMIN)).all()
    assert [len(smtp.to(a.email)) for a in admins] == [1]


async def test_the_runner_wakes_at_once_when_telemetry_opens_an_alert(world, smtp):
    runner = AlertRunner(world.settings.model_copy(update={"alerts_tick_s": 60}), world.engine)
    await runner.start()
    try:
        start = time.monotonic()
        world.press()
        while not smtp.to("care@example.org") and time.monotonic() - start < 5:
            await asyncio.sleep(0.01)
        assert smtp.to("care@example.org"), "the e-mail waited for the next tick"
    finally:
        await runner.stop()


# --- the API -----------------------------------------------------------------------------


async def test_alert_routes_are_scoped(world, smtp):
    world.press(at=0)
    world.send(senml.reading("pb1", "battery", 5.0), at=10)  # a technical alert
    await world.tick(20)
    client = api_support.client(world.engine, world.settings)
    h = world.w.headers
    panic = world.alerts("panic")[0].id
    low = world.alerts("low_battery")[0].id

    def ids(who):
        r = client.get("/api/alerts", headers=h[who])
        assert r.status_code == 200
        return {a["id"] for a in r.json()}

    assert ids("admin") >= {panic, low}
    assert ids("care") == {panic}  # her resident's care alert, no technical one
    assert ids("care_b") == set()
    assert ids("vol") == {low}  # the technical alert of his condominium
    assert ids("vol_b") == set()
    assert ids("tech") == {low}
    assert client.get(f"/api/alerts/{panic}", headers=h["care_b"]).status_code == 404
    assert client.post(f"/api/alerts/{panic}/acknowledge", headers=h["care_b"]).status_code == 404
    assert client.post(f"/api/alerts/{panic}/acknowledge", headers=h["vol"]).status_code == 404
    r = client.get(f"/api/alerts/{panic}", headers=h["care"])
    assert r.json()["text"].startswith("Anna ha premuto il pulsante di emergenza")
    r = client.post(f"/api/alerts/{panic}/acknowledge", headers=h["care"])
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = client.post(
        f"/api/alerts/{panic}/resolve",
        headers=h["care"],
        json={"reason": "false_alarm", "note": "pressed by mistake"},
    )
    assert r.status_code == 200 and r.json()["resolution"] == "false_alarm"
    assert ids("care") == set()
    r = client.get("/api/alerts?unresolved=false", headers=h["care"])
    assert [a["id"] for a in r.json()] == [panic]
    assert client.get("/api/alerts/figures", headers=h["care"]).status_code == 403
    r = client.get("/api/alerts/figures?days=1", headers=h["admin"])
    assert r.status_code == 200


async def test_a_volunteer_in_the_circle_may_acknowledge_its_care_alerts(world, smtp):
    with session(world.engine) as db:
        db.add(CareCircleMember(resident_id=world.w.anna, user_id=world.w.vol.id, position=3))
        db.commit()
    world.press(at=0)
    panic = world.alerts("panic")[0].id
    client = api_support.client(world.engine, world.settings)
    r = client.post(f"/api/alerts/{panic}/acknowledge", headers=world.w.headers["vol"])
    assert r.status_code == 200 and r.json()["acknowledged_by"] == world.w.vol.id
    with session(world.engine) as db:
        assert db.exec(select(Notification)).all() == []  # acknowledged before any call
