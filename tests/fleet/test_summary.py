"""The morning wellbeing summary: figures of synthetic days (first activity, night
activity, bathroom visits, time out, kitchen, temperature range) against the usual of
the 14 mornings before; Italian by default, English on request; queued by the alerts
runner at each family member's time, once per user, resident and morning even across
a restart; nobody outside the family, nothing without consent or with summary_at None.
Every test runs on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from fleet.alerts import engines, summary
from fleet.alerts.runner import AlertRunner
from fleet.db import session
from fleet.models import (
    CareCircleMember,
    Event,
    Notification,
    NotificationSettings,
    Reading,
    Resident,
    Sensor,
    User,
)
from tests.fleet import api_support
from tests.fleet.test_alerts import smtp  # noqa: F401  (fixture)
from tests.fleet.test_web import browser, csrf_of

ROME = ZoneInfo("Europe/Rome")
DAY = date(2025, 3, 20)  # the morning summarised (no DST change in the 15 days before)
ROOMS = ("bedroom", "bathroom", "kitchen", "living")


def local(day, hhmm):
    h, m = divmod(hhmm, 100)
    return datetime(day.year, day.month, day.day, h, m, tzinfo=ROME).astimezone(UTC)


# A usual day for Anna: (hhmm, room, kind); the door is the entrance's.
ROUTINE = [
    (300, "bathroom", "motion"),  # once at night
    (725, "bedroom", "motion"),
    (735, "bathroom", "motion"),
    (745, "kitchen", "motion"),
    (800, "kitchen", "motion"),
    (1000, "entrance", "door"),  # out for an hour
    (1100, "entrance", "door"),
    (1101, "living", "motion"),
    (1200, "bathroom", "motion"),
    (1230, "kitchen", "motion"),
    (1600, "bathroom", "motion"),
    (1900, "kitchen", "motion"),
    (2130, "bathroom", "motion"),
]


class Flat:
    def __init__(self, engine, settings):
        self.engine, self.settings = engine, settings
        self.w = api_support.seed(engine, settings)
        self.seq = 0
        with session(engine) as db:
            anna = db.get(Resident, self.w.anna)
            anna.consent_date = date(2025, 1, 10)
            db.add(anna)
            self.hub = db.get(Sensor, self.w.sensor).hub_id
            self.sensors = {}
            for room in (*ROOMS, "entrance"):
                kind = "door" if room == "entrance" else "motion"
                s = Sensor(hub_id=self.hub, key=f"s-{room}", kind=kind, room=room)
                s.flat_id = self.w.flat_a
                db.add(s)
                db.flush()
                self.sensors[room] = s.id
            t = Sensor(hub_id=self.hub, key="t1", kind="temperature", room="living")
            t.flat_id = self.w.flat_a
            db.add(t)
            db.flush()
            self.sensors["temp"] = t.id
            db.commit()

    def day(self, day, events=ROUTINE, temps=(20.0, 22.0)):
        with session(self.engine) as db:
            for hhmm, room, kind in events:
                self.seq += 1
                db.add(
                    Event(
                        hub_id=self.hub,
                        sensor_id=self.sensors[room],
                        kind=kind,
                        state=True,
                        t=local(day, hhmm),
                        seq=self.seq,
                    )
                )
            for hhmm, value in zip((600, 1500), temps, strict=True):
                self.seq += 1
                db.add(
                    Reading(
                        hub_id=self.hub,
                        sensor_id=self.sensors["temp"],
                        kind="temperature",
                        value=value,
                        t=local(day, hhmm),
                        seq=self.seq,
                    )
                )
            db.commit()

    def usual_days(self, until=DAY, n=15):
        for i in range(1, n + 1):
            self.day(until - timedelta(days=i))

    def resident(self, db):
        return db.get(Resident, self.w.anna)


@pytest.fixture
def flat(db_url, engine, smtp):  # noqa: F811
    engines.forget_cache()
    settings = api_support.make_settings(db_url, smtp_host="127.0.0.1", smtp_port=smtp.port)
    return Flat(engine, settings)


def test_a_usual_morning_reads_like_her_usual(flat):
    flat.usual_days()
    flat.day(DAY, [e for e in ROUTINE if e[0] < 830])
    with session(flat.engine) as db:
        anna = flat.resident(db)
        figs = summary.figures(db, anna, DAY, ROME, local(DAY, 830))
        usual = summary.usual(db, anna, DAY, ROME)
    assert figs == {
        "first_activity": 7 * 60 + 35,  # the bathroom at 07:35; the bedroom does not count
        "night_slots": 1,
        "bathroom_visits": 5,  # 03:00 (the night before), 07:35, 12:00, 16:00, 21:30
        "out_min": 61,  # door at 10:00, next motion at 11:01
        "kitchen_slots": 4,
        "temp_min": 20.0,
        "temp_max": 22.0,
    }
    assert usual == figs
    payload = summary.compose(anna, DAY, figs, usual, "it")
    body = payload["body"]
    assert (
        payload["subject"] == f"[Portineria] Buongiorno: come sta {api_support.ANNA} (20/03/2025)"
    )
    assert "- Prima attività stamattina: 07:35 (di solito 07:35)" in body
    assert "- Visite al bagno ieri: 5 (di solito 5)" in body
    assert "- Fuori casa ieri: 1 ora e 1 minuto (di solito 1 ora e 1 minuto)" in body
    assert "- Temperatura in casa ieri: 20,0-22,0 °C (di solito 20,0-22,0 °C)" in body
    assert "del solito" not in body  # nothing out of the ordinary


def test_a_restless_night_and_a_late_morning_are_pointed_out_in_english(flat):
    flat.usual_days()
    night = [(2300 + i * 15, "kitchen", "motion") for i in range(4)]  # up and about
    night += [(100, "living", "motion"), (200, "bathroom", "motion"), (400, "living", "motion")]
    flat.day(DAY - timedelta(days=1), night[:4], temps=(17.5, 27.0))  # and her routine
    flat.day(DAY, night[4:] + [(945, "kitchen", "motion")])
    with session(flat.engine) as db:
        anna = flat.resident(db)
        at_830 = summary.figures(db, anna, DAY, ROME, local(DAY, 830))
        at_1000 = summary.figures(db, anna, DAY, ROME, local(DAY, 1000))
        usual = summary.usual(db, anna, DAY, ROME)
    assert at_830["first_activity"] is None and at_1000["first_activity"] == 9 * 60 + 45
    assert at_830["night_slots"] == 4 + 3
    with session(flat.engine) as db:
        anna = flat.resident(db)
    body = summary.compose(anna, DAY, at_830, usual, "en")["body"]
    assert "- First activity this morning: none so far (usually 07:35)" in body
    assert (
        "- Moving about at night (22-6): in 7 quarter hours (usually 1) - more than usual" in body
    )
    assert "- Indoor temperature yesterday: 17.5-27.0 °C (usually 20.0-22.0 °C)" in body
    late = summary.compose(anna, DAY, at_1000, usual, "en")
    assert "09:45 (usually 07:35) - later than usual" in late["body"]


def test_without_a_usual_yet_it_says_the_routine_is_being_learned(flat):
    flat.day(DAY - timedelta(days=1))
    with session(flat.engine) as db:
        anna = flat.resident(db)
        usual = summary.usual(db, anna, DAY, ROME)
        figs = summary.figures(db, anna, DAY, ROME, local(DAY, 830))
        body = summary.compose(anna, DAY, figs, usual, "it")["body"]
    assert set(usual.values()) == {None}
    assert "di solito" not in body and "ancora in apprendimento" in body


async def test_the_runner_sends_each_family_member_one_summary_a_morning(flat, smtp):  # noqa: F811
    flat.usual_days()
    flat.day(DAY, [e for e in ROUTINE if e[0] < 830])
    with session(flat.engine) as db:
        daughter2 = User(email="d2@example.org", name="Dora", role="caregiver", language="en")
        daughter2.password_hash = "x"
        db.add(daughter2)
        db.flush()
        db.add(CareCircleMember(resident_id=flat.w.anna, user_id=daughter2.id, position=2))
        db.add(NotificationSettings(user_id=daughter2.id, summary_at=9 * 60))
        # A volunteer in the circle is told of alerts, not of Anna's mornings.
        db.add(CareCircleMember(resident_id=flat.w.anna, user_id=flat.w.vol.id, position=1))
        db.commit()
    runner = AlertRunner(flat.settings, flat.engine)
    assert await runner.tick(local(DAY, 829)) == 0
    assert await runner.tick(local(DAY, 830)) == 1
    [msg] = smtp.to("care@example.org")
    assert msg["Subject"] == f"[Portineria] Buongiorno: come sta {api_support.ANNA} (20/03/2025)"
    assert "Visite al bagno ieri: 5" in msg.get_content()
    assert await runner.tick(local(DAY, 831)) == 0
    engines.forget_cache()
    runner = AlertRunner(flat.settings, flat.engine)  # a restart: still once
    await runner.start()
    await runner.stop()
    assert await runner.tick(local(DAY, 832)) == 0
    assert await runner.tick(local(DAY, 900)) == 1  # Dora's time, in English
    [msg] = smtp.to("d2@example.org")
    assert msg["Subject"].startswith(f"[Portineria] Good morning: how {api_support.ANNA} is")
    assert smtp.to("vol@example.org") == []
    assert await runner.tick(local(DAY + timedelta(days=1), 830)) == 1  # the next morning
    with session(flat.engine) as db:
        rows = db.exec(select(Notification).where(Notification.alert_id.is_(None))).all()
    assert sorted(r.payload["date"] for r in rows) == ["2025-03-20", "2025-03-20", "2025-03-21"]


async def test_no_summary_when_turned_off_without_consent_or_hours_late(flat, smtp):  # noqa: F811
    flat.usual_days()
    with session(flat.engine) as db:
        ns = NotificationSettings(user_id=flat.w.care.id)
        db.add(ns)
        db.flush()
        ns.summary_at = None  # an INSERT of None would take the column default, 510
        db.commit()
    runner = AlertRunner(flat.settings, flat.engine)
    assert await runner.tick(local(DAY, 830)) == 0
    with session(flat.engine) as db:
        ns = db.get(NotificationSettings, flat.w.care.id)
        ns.summary_at = 510
        anna = flat.resident(db)
        anna.consent_date = None
        db.add_all([ns, anna])
        db.commit()
    assert await runner.tick(local(DAY, 835)) == 0
    with session(flat.engine) as db:
        anna = flat.resident(db)
        anna.consent_date = date(2025, 1, 10)
        db.add(anna)
        db.commit()
    assert await runner.tick(local(DAY, 1231)) == 0  # the server was down all morning
    assert await runner.tick(local(DAY + timedelta(days=1), 840)) == 1
    assert smtp.messages


def test_the_settings_page_sets_the_time_and_previews_the_summary(flat):
    flat.usual_days(until=datetime.now(ROME).date())
    flat.w.engine, flat.w.settings = flat.engine, flat.settings  # what browser() needs
    c = browser(flat.w, "care")
    html = c.get("/settings").text
    assert 'name="summary_at" type="time" value="08:30"' in html
    assert "Anteprima di oggi: " + api_support.ANNA in html
    assert "Visite al bagno ieri: 5 (di solito 5)" in html
    form = {"csrf": csrf_of(html), "email_on": "1", "language": "it", "summary_at": ""}
    assert c.post("/settings", data=form).status_code == 303
    with session(flat.engine) as db:
        assert db.get(NotificationSettings, flat.w.care.id).summary_at is None  # off
    assert "Nessun riepilogo del mattino." in c.get("/settings").text
    r = c.post("/settings", data={**form, "summary_at": "7:65"})
    assert r.headers["location"] == "/settings?error=time"
    assert c.post("/settings", data={**form, "summary_at": "07:15"}).status_code == 303
    with session(flat.engine) as db:
        assert db.get(NotificationSettings, flat.w.care.id).summary_at == 7 * 60 + 15
    tech = browser(flat.w, "tech").get("/settings").text
    assert 'name="summary_at"' not in tech and "summary-preview" not in tech
