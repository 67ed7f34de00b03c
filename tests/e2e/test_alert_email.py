"""A panic press on an emulated hub (the unchanged firmware in its own process, real time)
reaches the caregiver's inbox through the REAL fleet server (in-process `serve`: CoAP,
OSCORE, rules, alerts, outbox) and a real SMTP server (aiosmtpd): latency on loopback,
delivery through 20 % packet loss, and escalation to the next person in the care circle
when nobody acknowledges. About 30 s."""

import asyncio
import email
import email.policy
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from emulator.ports import free_port
from emulator.relay import Impairment, Relay
from emulator.standin_fleet import write_identity
from emulator.supervisor import Hub as EmulatedHub
from emulator.supervisor import provision as make_hub_dir

SENSORS = [
    {"id": "panic", "kind": "panic", "room": "living", "pin": 4, "active": 0},
    {"id": "pir-k", "kind": "motion", "room": "kitchen", "pin": 12, "active": 1},
]
TIMEOUT_S = 3  # alert_timeout_critical_s: how long the first level has to acknowledge


class Inbox:
    """aiosmtpd handler: (monotonic time accepted, recipients, message) per message."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session_, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.got.append((time.monotonic(), envelope.rcpt_tos, msg))
        return "250 OK"

    def to(self, address):
        with self.lock:
            return [(t, m) for t, rcpt, m in self.got if address in rcpt]


class Site:
    """One resident's flat with a hub, her care circle (caregiver first, volunteer next)
    and the server they all talk to."""

    def __init__(self, engine, relay, hub, inbox, caregiver, next_up):
        self.engine, self.relay, self.hub, self.inbox = engine, relay, hub, inbox
        self.caregiver, self.next_up = caregiver, next_up

    async def mail(self, address, count, timeout):
        end = time.monotonic() + timeout
        while len(self.inbox.to(address)) < count:
            assert time.monotonic() < end, (
                f"no e-mail #{count} to {address}; hub console:\n{self.hub.console()[-2000:]}"
            )
            await asyncio.sleep(0.005)
        return self.inbox.to(address)[count - 1]

    def queued(self, address):
        """When the server queued each e-mail to `address`, by its own clock."""
        from fleet.db import session
        from fleet.models import Notification

        with session(self.engine) as db:
            rows = db.exec(
                select(Notification)
                .where(Notification.recipient == address)
                .order_by(Notification.id)
            ).all()
            return [n.created_at for n in rows]

    def close_alerts(self, how):
        """A person acknowledges ("ack") or resolves ("resolve") the open panic alert."""
        from fleet.alerts import lifecycle
        from fleet.db import session
        from fleet.models import Alert, User

        with session(self.engine) as db:
            alert = db.exec(
                select(Alert).where(Alert.rule == "panic", Alert.open_key.is_not(None))
            ).one()
            user = db.exec(select(User).where(User.email == self.caregiver)).one()
            if how == "ack":
                lifecycle.acknowledge(db, alert, user, datetime.now(UTC))
            else:
                lifecycle.resolve(db, alert, user, datetime.now(UTC), "handled")
            db.commit()

    async def presses(self, n, bound_s):
        """Press n times, each after the previous alert's e-mail and resolution;
        returns the press → e-mail-accepted latencies in seconds."""
        lat = []
        for _ in range(n):
            seen = len(self.inbox.to(self.caregiver))
            self.hub.send("press_panic")
            at, msg = await self.mail(self.caregiver, seen + 1, bound_s)
            # From the hub's pin: our message to the hub may wait on a busy machine.
            lat.append(at - self.hub.acted("press_panic")[-1])
            self.close_alerts("resolve")
            await asyncio.sleep(0.3)  # spaced presses, as a person's would be
        return lat


def _enrol(db, settings, relay_port):
    """Provision and claim a hub for the first resident's flat as tools/demo.py does;
    returns (identity, caregiver's e-mail, next level's e-mail)."""
    from fleet.models import (
        CareCircleMember,
        Flat,
        NotificationSettings,
        Resident,
        User,
        VolunteerCondominium,
    )
    from fleet.services import enrolment

    tech = db.exec(select(User).where(User.role == "technician")).one()
    vol = db.exec(select(User).where(User.role == "volunteer")).one()
    condo = db.exec(
        select(VolunteerCondominium).where(VolunteerCondominium.user_id == vol.id)
    ).one()
    resident = db.exec(select(Resident).order_by(Resident.id)).first()
    flat = db.get(Flat, resident.flat_id)
    assert flat.condominium_id == condo.condominium_id
    made = enrolment.set_up(
        db, settings, tech, vol, condo.condominium_id, flat.id, SENSORS, "test",
        port=relay_port, ssid="p", wkey="", ack=200,
    )  # fmt: skip
    members = db.exec(
        select(User)
        .join(CareCircleMember, CareCircleMember.user_id == User.id)
        .where(CareCircleMember.resident_id == resident.id)
        .order_by(CareCircleMember.position)
    ).all()
    # These tests count alert e-mails on the real clock: no morning summary among them.
    for user in members:
        ns = db.get(NotificationSettings, user.id) or NotificationSettings(user_id=user.id)
        db.add(ns)
        db.flush()  # inserted first: an INSERT of None would store the default time
        ns.summary_at = None
    db.commit()
    circle = [u.email for u in members]
    assert len(circle) == 2 and all(circle)
    return made.identity, circle[0], circle[1]


@pytest.fixture
async def site(tmp_path):
    from fleet import demo
    from fleet.__main__ import serve
    from fleet.db import make_engine, migrate, session
    from fleet.settings import Settings

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port(socket.SOCK_STREAM))
    smtp.start()
    http_port = free_port(socket.SOCK_STREAM)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/fleet.db",
        coap_port=free_port(socket.SOCK_DGRAM),
        http_port=http_port,
        public_url=f"http://127.0.0.1:{http_port}",
        heartbeat_interval_s=10,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        alert_timeout_critical_s=TIMEOUT_S,
        alerts_tick_s=0.1,
    )
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    relay = Relay(("127.0.0.1", settings.coap_port), Impairment(), seed=3)
    _, relay_port = await relay.start()
    with session(engine) as db:
        demo.seed(db)
        identity, caregiver, next_up = _enrol(db, settings, relay_port)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, engine, stop))
    d = make_hub_dir(tmp_path / "hub", wlan={"ssid": "p", "key": "", "assoc_ms": 100})
    write_identity(d / "flash", identity)
    hub = EmulatedHub(d, real_time=True)
    hub.start()
    try:
        end = time.monotonic() + 30
        while "configuration " not in hub.console():
            assert time.monotonic() < end, f"hub never configured:\n{hub.console()[-2000:]}"
            await asyncio.sleep(0.05)
        yield Site(engine, relay, hub, inbox, caregiver, next_up)
    finally:
        hub.power_cut()
        relay.close()
        stop.set()
        await server
        engine.dispose()
        smtp.stop()


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


async def test_panic_presses_reach_the_caregivers_inbox_fast_even_with_packet_loss(site):
    lat = await site.presses(10, bound_s=5)
    p50, p99 = _pct(lat, 0.5), _pct(lat, 0.99)
    print(
        f"panic press → e-mail accepted, loopback: p50 {p50 * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms"
    )
    assert p50 < 1.0 and p99 < 3.0

    site.relay.imp.loss = 0.2  # both ways: requests, ACKs and responses
    before = dict(site.relay.stats)
    lossy = await site.presses(10, bound_s=15)
    lost = {k: v - before.get(k, 0) for k, v in site.relay.stats.items() if k.endswith("_lost")}
    print(
        f"with 20 % loss ({lost} datagrams dropped): p50 {_pct(lossy, 0.5) * 1e3:.0f} ms, "
        f"max {max(lossy) * 1e3:.0f} ms"
    )
    assert sum(lost.values()) > 0  # the loss did hit this exchange
    assert max(lossy) < 15.0
    # Every press was a separate alert and each e-mail went out once.
    ids = [m["Message-ID"] for _, m in site.inbox.to(site.caregiver)]
    assert len(ids) == len(set(ids)) == 20


async def test_nobody_acknowledges_so_the_next_in_the_circle_is_emailed(site):
    site.hub.send("press_panic")
    _, to_caregiver = await site.mail(site.caregiver, 1, 30)
    assert site.inbox.to(site.next_up) == []
    _, msg = await site.mail(site.next_up, 1, TIMEOUT_S + 30)
    # The ladder's timing by the server's own clock (when it queued each level's e-mail),
    # not by when our inbox got them: delivery on a busy machine may delay one more.
    waited = (site.queued(site.next_up)[0] - site.queued(site.caregiver)[0]).total_seconds()
    print(f"next level e-mailed {waited:.2f} s after the first (timeout {TIMEOUT_S} s)")
    assert TIMEOUT_S - 0.5 <= waited < TIMEOUT_S + 2.0
    assert msg["Subject"].startswith("[Portineria]") and msg["Subject"] == to_caregiver["Subject"]
    site.close_alerts("ack")  # acknowledged: the ladder stops
    calls = len(site.inbox.to(site.caregiver)) + len(site.inbox.to(site.next_up))
    await asyncio.sleep(TIMEOUT_S + 1)
    assert len(site.inbox.to(site.caregiver)) + len(site.inbox.to(site.next_up)) == calls
