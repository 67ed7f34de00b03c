"""Walk-test mode on both databases: a volunteer starts a test of one hub from the
walk-test page; a test press is stored and listed but alerts nobody, a second press of
the same button is real, another hub of the same building alerts as ever, the test ends
from the page, at its bound or when nobody watches the page any more, and then alerting
is back with nothing left over from the test; the caregivers see a note; a volunteer of
another building cannot start one."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from fleet.alerts import engines, lifecycle
from fleet.db import session
from fleet.models import (
    Alert,
    AuditLog,
    CareCircleMember,
    Flat,
    Hub,
    Notification,
    Resident,
    Sensor,
    User,
    WalkTest,
    utcnow,
)
from fleet.services import walktest
from fleet.services.telemetry import store_pack
from fleet.web import i18n, volunteer
from protocol import senml
from tests.fleet.api_support import _hub, _user
from tests.fleet.test_web import browser, csrf_of
from tests.fleet.test_web import world as web_world  # noqa: F401  (the fixture)


class Building:
    """test_web's world plus Anna's panic button, door and bathroom PIR on hub-a, and a
    second hub, hub-c, in the same building for Carla in 3C, cared for by `care_c`."""

    def __init__(self, w):
        self.w, self.engine, self.settings = w, w.engine, w.settings
        self.seq = 0
        with session(self.engine) as db:
            anna = db.get(Resident, w.anna)
            anna.consent_date = date(2025, 1, 10)
            db.add(anna)
            self.hub_a = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one().id
            for key, kind, room in (
                ("pb1", "panic", "bedroom"),
                ("d1", "door", "entrance"),
                ("pirb", "motion", "bathroom"),
            ):
                db.add(Sensor(hub_id=self.hub_a, key=key, kind=kind, room=room, flat_id=w.flat_a))
            flat = Flat(condominium_id=w.condo_a, label="3C", floor=3)
            db.add(flat)
            db.flush()
            carla = Resident(flat_id=flat.id, name="Carla Neri", consent_date=date(2025, 1, 10))
            db.add(carla)
            db.flush()
            care_c = _user(db, "care_c@example.org", "caregiver")
            db.add(CareCircleMember(resident_id=carla.id, user_id=care_c.id))
            self.hub_c = _hub(db, self.settings, "hub-c", w.condo_a).id
            db.add(
                Sensor(hub_id=self.hub_c, key="pb3", kind="panic", room="living", flat_id=flat.id)
            )
            db.commit()
            w.care_c, self.carla = care_c, carla.id

    def send(self, hub_pk, key, kind, value, now):
        self.seq += 1
        with session(self.engine) as db:
            hub = db.get(Hub, hub_pk)
            pack = senml.encode([senml.reading(key, kind, value)], bn=senml.base_name(hub.hub_id))
            assert not store_pack(db, hub, self.seq, pack, now).duplicate

    def press(self, now, hub_pk=None, key="pb1"):
        self.send(hub_pk or self.hub_a, key, "panic", True, now)

    def notified(self, now):
        """{user email: notifications} after escalation has run at `now`."""
        with session(self.engine) as db:
            lifecycle.escalate_due(db, self.settings, now)
            db.commit()
            out = {}
            for n in db.exec(select(Notification)).all():
                email = db.get(User, n.user_id).email
                out[email] = out.get(email, 0) + 1
            return out

    def alerts(self):
        with session(self.engine) as db:
            return db.exec(select(Alert).order_by(Alert.id)).all()

    def start(self, who="vol", minutes="20"):
        c = browser(self.w, who)
        token = csrf_of(c.get(f"/hubs/{self.hub_a}/walktest").text)
        form = {"csrf": token, "minutes": minutes}
        return c, c.post(f"/hubs/{self.hub_a}/walktest/start", data=form)

    def start_at(self, now, minutes=20):
        """A test started at `now`, through the service (for a clock of our own)."""
        with session(self.engine) as db:
            user = db.get(User, self.w.vol.id)
            test = walktest.start(db, user, db.get(Hub, self.hub_a), now, minutes)
            db.commit()
            return test.id


@pytest.fixture
def b(web_world):  # noqa: F811
    engines.forget_cache()
    return Building(web_world)


def test_a_volunteer_starts_a_bounded_test_that_is_recorded_and_shown(b):
    c, r = b.start(minutes="30")
    assert r.status_code == 303 and r.headers["location"] == f"/hubs/{b.hub_a}/walktest"
    html = c.get(f"/hubs/{b.hub_a}/walktest").text
    assert 'id="wt-banner"' in html and "Prova in corso" in html
    left = re.search(r'data-left="(\d+)">(\d+):(\d\d)<', html)
    assert 29 * 60 < int(left.group(1)) <= 30 * 60 and left.group(2) in ("29", "30")
    assert "Termina la prova" in html and "Avvia la prova" not in html
    with session(b.engine) as db:
        [test] = db.exec(select(WalkTest)).all()
        assert (test.hub_id, test.started_by, test.running) == (b.hub_a, b.w.vol.id, b.hub_a)
        assert test.ends_at - test.started_at == timedelta(minutes=30)
        [row] = db.exec(select(AuditLog).where(AuditLog.action == "walktest_start")).all()
        assert (row.user_id, row.entity, row.entity_id) == (b.w.vol.id, "hub", str(b.hub_a))
        assert row.detail["minutes"] == 30
    # Starting again while it runs changes nothing; a test never runs past an hour.
    assert c.post(f"/hubs/{b.hub_a}/walktest/start", data={"csrf": csrf_of(html)}).status_code
    with session(b.engine) as db:
        assert len(db.exec(select(WalkTest)).all()) == 1
        test = walktest.start(db, db.get(User, b.w.vol.id), db.get(Hub, b.hub_c), utcnow(), 999)
        assert test.ends_at - test.started_at == timedelta(minutes=walktest.MAX_MINUTES)


def test_a_test_press_notifies_nobody_and_is_listed_on_the_page(b):
    c, _ = b.start()
    now = utcnow()
    b.press(now)
    assert b.alerts() == []
    assert b.notified(now + timedelta(hours=1)) == {}
    html = c.get(f"/hubs/{b.hub_a}/walktest").text
    assert "pulsante di emergenza, Camera: ricevuto, è la prova: famiglia non avvisata" in html
    # The stream tells the page the same, live.
    with session(b.engine) as db:
        user = db.get(User, b.w.vol.id)
        db.expunge(user)
    [row] = volunteer.new_events(b.engine, user, b.hub_a, 0, i18n.translator("it"))
    assert (row["kind"], row["verdict"]) == ("panic", "test")


def test_a_second_press_of_the_same_button_is_real(b):
    b.start()
    now = utcnow()
    b.press(now)
    b.press(now + timedelta(seconds=3))  # pressing again is asking for help
    [alert] = b.alerts()
    assert (alert.rule, alert.resident_id) == ("panic", b.w.anna)
    assert b.notified(now + timedelta(seconds=4)) == {"care@example.org": 1}
    with session(b.engine) as db:
        user = db.get(User, b.w.vol.id)
        db.expunge(user)
    rows = volunteer.new_events(b.engine, user, b.hub_a, 0, i18n.translator("it"))
    assert [r["verdict"] for r in rows] == ["test", "real"]
    assert rows[1]["line"].endswith("ricevuto, allarme vero: famiglia avvisata")


def test_another_hub_of_the_same_building_still_alerts(b):
    b.start()
    now = utcnow()
    b.press(now, hub_pk=b.hub_c, key="pb3")
    [alert] = b.alerts()
    assert (alert.rule, alert.resident_id) == ("panic", b.carla)
    assert b.notified(now) == {"care_c@example.org": 1}


def test_ending_early_from_the_page_restores_alerting_at_once(b):
    c, _ = b.start()
    html = c.get(f"/hubs/{b.hub_a}/walktest").text
    r = c.post(f"/hubs/{b.hub_a}/walktest/end", data={"csrf": csrf_of(html)})
    assert r.status_code == 303
    html = c.get(f"/hubs/{b.hub_a}/walktest").text
    assert 'id="wt-banner"' not in html and "Prova finita alle" in html
    assert "Avvia la prova" in html
    with session(b.engine) as db:
        test = db.exec(select(WalkTest)).one()
        assert (test.running, test.ended_by, test.end_reason) == (None, b.w.vol.id, "ended")
        assert db.exec(select(AuditLog).where(AuditLog.action == "walktest_end")).one()
    now = utcnow()
    b.press(now)
    assert [a.rule for a in b.alerts()] == ["panic"]
    assert b.notified(now) == {"care@example.org": 1}


def test_expiry_restores_alerting_and_nothing_from_the_test_fires_later(b):
    t0 = utcnow() - timedelta(hours=3)
    b.start_at(t0, minutes=20)
    with session(b.engine) as db:  # the page stayed open all along
        test = db.exec(select(WalkTest)).one()
        walktest.watch(db, test, t0 + timedelta(minutes=19))
        db.commit()
    # The volunteer presses, opens the door and checks the bathroom PIR last.
    b.press(t0 + timedelta(minutes=1))
    b.send(b.hub_a, "d1", "door", True, t0 + timedelta(minutes=2))
    b.send(b.hub_a, "pirb", "motion", True, t0 + timedelta(minutes=3))
    assert b.alerts() == []
    # After it: a press is real again, and long after, no bathroom or door timer from
    # the test goes off.
    b.press(t0 + timedelta(minutes=21))
    assert [a.rule for a in b.alerts()] == ["panic"]
    with session(b.engine) as db:
        hub = db.get(Hub, b.hub_a)
        hub.last_seen = t0 + timedelta(hours=2)  # its heartbeats
        db.add(hub)
        db.commit()
        engines.evaluate_due(db, t0 + timedelta(hours=2))
    assert [a.rule for a in b.alerts()] == ["panic"]
    with session(b.engine) as db:  # the alerts round closed the test and recorded it
        test = db.exec(select(WalkTest)).one()
        assert (test.running, test.end_reason, test.ended_by) == (None, "expired", None)
        assert test.ended_at == test.ends_at
        [row] = db.exec(select(AuditLog).where(AuditLog.action == "walktest_end")).all()
        assert row.detail["reason"] == "expired"


def test_a_press_after_the_volunteer_has_left_the_page_is_real(b):
    t0 = utcnow() - timedelta(hours=1)
    b.start_at(t0, minutes=60)
    b.press(t0 + walktest.UNWATCHED + timedelta(seconds=1))  # nobody has the page open
    [alert] = b.alerts()
    assert alert.rule == "panic"
    with session(b.engine) as db:
        walktest.current(db, b.hub_a, utcnow())
        db.commit()
        assert db.exec(select(WalkTest)).one().end_reason == "unwatched"


def test_a_test_press_stays_a_test_when_the_rules_replay_it(b):
    t0 = utcnow() - timedelta(minutes=5)
    b.start_at(t0)
    b.press(t0 + timedelta(seconds=30))
    engines.forget_cache()  # a restart: the runner replays the last day to the rules
    with session(b.engine) as db:
        engines.replay(db, t0 - timedelta(days=1))
    assert b.alerts() == []


def test_caregivers_of_the_hubs_residents_see_a_note(b):
    c, _ = b.start()
    care = browser(b.w, "care").get("/care").text
    assert "un volontario prova i sensori di casa di Anna" in care
    assert "prova i sensori" not in browser(b.w, "care_c").get("/care").text  # hub-c: none
    html = c.get(f"/hubs/{b.hub_a}/walktest").text
    c.post(f"/hubs/{b.hub_a}/walktest/end", data={"csrf": csrf_of(html)})
    assert "prova i sensori" not in browser(b.w, "care").get("/care").text


def test_only_a_volunteer_of_the_building_may_start_one(b):
    theirs = browser(b.w, "vol_b")
    token = csrf_of(theirs.get("/condo").text)
    r = theirs.post(f"/hubs/{b.hub_a}/walktest/start", data={"csrf": token})
    assert r.status_code == 404
    r = browser(b.w, "care").post(f"/hubs/{b.hub_a}/walktest/start", data={"csrf": token})
    assert r.status_code == 403
    mine = browser(b.w, "vol")
    assert mine.post(f"/hubs/{b.hub_a}/walktest/start", data={}).status_code == 403  # CSRF
    with session(b.engine) as db:
        assert db.exec(select(WalkTest)).all() == []
    _, r = b.start(who="tech")
    assert r.status_code == 303
