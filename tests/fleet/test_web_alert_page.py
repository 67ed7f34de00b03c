"""The alert's own page, /alerts/{id} — the link in every notification — on both
databases: only people who may see the alert open it (others get the 404 page, not
JSON), it says what to do now and who was told and comes next, a form post without
script lands back on it with a confirmation, and a closed alert says who closed it; a
mistyped link is the 404 page too. And the notification itself: what to do now, local time, no ids or severities up front."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from fleet.alerts import lifecycle, messages
from fleet.db import session
from fleet.models import Alert, CareCircleMember, Resident
from fleet.web.i18n import translator
from fleet.web.pages import TZ, said
from tests.fleet.test_web import _panic_alert, browser, csrf_of, world  # noqa: F401


@pytest.fixture
def called(world):  # noqa: F811
    """Anna's panic alert with her daughter (Care) called first and Vol next."""
    alert_id = _panic_alert(world, world.anna)
    with session(world.engine) as db:
        db.add(CareCircleMember(resident_id=world.anna, user_id=world.vol.id, position=2))
        alert = db.get(Alert, alert_id)
        lifecycle.escalate(db, world.settings, alert, datetime.now(UTC))
        db.commit()
    return alert_id


def test_the_alert_page_says_what_to_do_and_who_was_told(world, called):  # noqa: F811
    c = browser(world, "care")
    html = c.get(f"/alerts/{called}").text
    assert "<h1>Allarme: pulsante di emergenza</h1>" in html
    assert "Chiami subito Anna" in html and "112" in html
    assert "Nessuno se ne sta ancora occupando." in html
    assert "<li>Lei · " in html  # she was told; Vol comes next
    assert "avviseremo: Vol." in html
    english = browser(world, "care")
    english.cookies.set("portineria_lang", "en")
    assert "Call Anna at once" in english.get(f"/alerts/{called}").text


def test_only_those_who_may_see_it_open_it(world, called):  # noqa: F811
    for who in ("care_b", "vol_b", "tech"):
        r = browser(world, who).get(f"/alerts/{called}")
        assert r.status_code == 404 and "Pagina non trovata" in r.text
    assert browser(world, "vol").get(f"/alerts/{called}").status_code == 200  # in the circle
    r = browser(world).get(f"/alerts/{called}")
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=%2Falerts%2F{called}"


def test_acknowledging_without_script_confirms_on_the_alert_page(world, called):  # noqa: F811
    c = browser(world, "care")
    token = csrf_of(c.get(f"/alerts/{called}").text)
    r = c.post(f"/alerts/{called}/acknowledge", data={"csrf": token})
    assert r.status_code == 303 and r.headers["location"] == f"/alerts/{called}?done=acknowledge"
    html = c.get(r.headers["location"]).text
    assert "ora tutti vedono che se ne occupa lei" in html
    assert "preso in carico da Care" in html and 'id="next-told"' not in html
    r = c.post(f"/alerts/{called}/resolve", data={"csrf": token, "reason": "false_alarm"})
    html = c.get(r.headers["location"]).text
    assert "Allarme chiuso. Grazie." in html
    assert re.search(r"Chiuso da Care (oggi|ieri) alle \d\d:\d\d: falso allarme", html)
    assert "Ho visto, me ne occupo" not in html


def test_the_email_says_what_to_do_in_italian_time(world, called):  # noqa: F811
    with session(world.engine) as db:
        resident = db.get(Resident, world.anna)
        alert = db.get(Alert, called)
        # 10:00 UTC on a winter day is 11:00 in Rome.
        alert.opened_at = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
        alert.rule = "inactivity"
        it = messages.compose(alert, resident, "it", "https://portineria.example/")
        en = messages.compose(alert, resident, "en", "https://portineria.example/")
    assert f"\nhttps://portineria.example/alerts/{called}\n" in it["body"]
    assert "Cosa fare adesso: Chiami Anna per sapere come sta." in it["body"]
    assert "allarme delle 11:00 del 15/01 (ora italiana)" in it["body"]
    assert "gravità" not in it["body"] and "critical" not in it["body"]
    assert "What to do now: Call Anna to ask how things are." in en["body"]
    assert it["subject"] == f"[Portineria] {resident.name} · Nessuna attività"
    assert "avviseremo la prossima persona tra quelle che seguono Anna." in it["body"]
    # A device's alert goes to volunteers, then technicians, and asks for a check.
    alert.rule, alert.audience = "sensor_silent", "tech"
    tech = messages.compose(alert, resident, "it", "https://portineria.example/")["body"]
    assert "Cosa fare adesso: Controlli l'apparecchio" in tech
    assert "avviseremo un tecnico." in tech and "seguono Anna" not in tech


def test_a_wrong_address_is_a_page_for_a_browser_and_json_for_the_api(world):  # noqa: F811
    c = browser(world, "care")
    page = c.get("/alerts/x/y", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "Pagina non trovata" in page.text
    assert c.get("/alerts/x/y").json() == {"detail": "Not Found"}
    api = c.get("/api/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_times_are_said_as_a_person_says_them_in_italian_time():
    it, en = {"t": translator("it")}, {"t": translator("en")}
    now = datetime.now(TZ).replace(hour=12, minute=5)
    assert said(it, now.astimezone(UTC)) == "oggi alle 12:05"
    assert said(en, now - timedelta(days=1)) == "yesterday at 12:05"
    assert said(it, now - timedelta(days=3)) == f"il {(now - timedelta(days=3)):%d/%m} alle 12:05"
    # SQLite hands back naive UTC: 23:30 UTC on 14 January is 00:30 on the 15th in Rome.
    assert said(it, datetime(2026, 1, 14, 23, 30)) == "il 15/01 alle 00:30"
