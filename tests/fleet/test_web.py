"""Web pages through TestClient on both databases: login with CSRF, every page behind
login, role and scope (another resident's page or another condominium's hub is a 404),
the caregiver's day picture, claiming a hub, the walk-test's event stream, admin edits,
and the language switch."""

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from fleet import security
from fleet.api.deps import as_utc
from fleet.db import session
from fleet.models import Alert, CareCircleMember, Event, Hub, Reading, Resident, RuleState, User
from fleet.services import enrolment
from fleet.web import alertpages, volunteer
from fleet.web.pages import TZ
from tests.fleet.api_support import ANNA, BRUNO, NOTE, PASSWORD, client, make_settings, seed


@pytest.fixture
def world(engine, db_url):
    settings = make_settings(db_url)
    w = seed(engine, settings)
    w.settings, w.engine = settings, engine
    return w


def browser(w, role=None):
    """A TestClient logged in as `role` with a session cookie (no argon2 per test)."""
    c = client(w.engine, w.settings)
    c.follow_redirects = False
    if role:
        with session(w.engine) as db:
            token, _ = security.issue_token(db, w.settings, getattr(w, role), security.SESSION)
            db.commit()
        c.cookies.set("portineria_session", token)
    return c


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_pages_need_login_and_come_back_after(world):
    c = browser(world)
    for path in ("/", "/care", f"/residents/{world.anna}", "/condo", "/fleet", "/admin"):
        r = c.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
    page = c.get("/login?next=/care")
    assert page.status_code == 200 and 'lang="it"' in page.text and "Accedi" in page.text
    form = {"email": "care@example.org", "password": PASSWORD, "next": "/care"}
    assert c.post("/login", data=form).status_code == 403  # no CSRF token: refused
    page = c.get("/login?next=/care")  # each form shows a new token
    r = c.post("/login", data={**form, "csrf": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/care"
    assert ANNA in c.get("/care").text


def test_wrong_password_and_foreign_next(world):
    c = browser(world)
    page = c.get("/login")
    form = {"email": "care@example.org", "password": "nope", "csrf": csrf_of(page.text)}
    r = c.post("/login", data=form)
    assert r.status_code == 401 and "Email o password sbagliate" in r.text
    page = c.get("/login")
    form.update(password=PASSWORD, csrf=csrf_of(page.text), next="//evil.example/")
    r = c.post("/login", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/care"  # role's home instead


def test_logout_needs_csrf_and_ends_the_session(world):
    c = browser(world, "care")
    html = c.get("/care").text
    assert c.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert c.get("/care").status_code == 200
    assert c.post("/logout", data={"csrf": csrf_of(html)}).status_code == 303
    c.cookies.set("portineria_session", c.cookies.get("portineria_session") or "gone")
    assert c.get("/care").status_code == 303


def test_caregiver_sees_only_their_residents(world):
    c = browser(world, "care")
    care = c.get("/care")
    assert ANNA in care.text and BRUNO not in care.text
    assert c.get(f"/residents/{world.anna}").status_code == 200
    other = c.get(f"/residents/{world.bruno}")
    assert other.status_code == 404 and BRUNO not in other.text
    assert c.get("/residents/999999").status_code == 404
    for path in ("/condo", "/fleet", "/admin", "/claim"):
        assert c.get(path).status_code == 403
    hub = _hub_pk(world, "hub-a")
    assert c.get(f"/hubs/{hub}").status_code == 403


def _hub_pk(w, hub_id):
    with session(w.engine) as db:
        return db.exec(select(Hub.id).where(Hub.hub_id == hub_id)).one()


def test_volunteer_sees_own_condominium_only_and_residents_by_first_name(world):
    c = browser(world, "vol")
    html = c.get("/condo").text
    assert "Via Padova 12" in html and "Corso Lodi 3" not in html
    assert "hub-a" in html and "hub-b" not in html
    assert "Anna" in html and ANNA not in html and NOTE not in html  # first name only
    assert c.get(f"/residents/{world.anna}").status_code == 403  # no day picture
    mine, theirs = _hub_pk(world, "hub-a"), _hub_pk(world, "hub-b")
    for path in ("/hubs/{}", "/hubs/{}/walktest"):
        assert c.get(path.format(mine)).status_code == 200
    for path in ("/hubs/{}", "/hubs/{}/walktest", "/hubs/{}/events"):
        assert c.get(path.format(theirs)).status_code == 404
    assert c.get("/fleet").status_code == 403


def test_technician_fleet_filters_and_no_residents(world):
    with session(world.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-b")).one()
        hub.firmware_version = "1.2.0"
        db.add(hub)
        db.commit()
    c = browser(world, "tech")
    all_hubs = c.get("/fleet").text
    assert "hub-a" in all_hubs and "hub-b" in all_hubs
    only = c.get("/fleet", params={"firmware": "1.2.0"}).text
    assert "hub-b" in only and ">hub-a<" not in only
    by_condo = c.get("/fleet", params={"condominium": str(world.condo_a)}).text
    assert ">hub-a<" in by_condo and ">hub-b<" not in by_condo
    assert ">hub-" not in c.get("/fleet", params={"state": "revoked"}).text
    detail = c.get(f"/hubs/{_hub_pk(world, 'hub-a')}").text
    assert "-61 dBm" in detail and "pir1" in detail
    assert c.get("/care").status_code == 403
    assert c.get(f"/residents/{world.anna}").status_code == 403


def test_resident_day_draws_activity_and_temperature(world):
    local_noon = datetime.now(TZ).replace(hour=12, minute=5, second=0, microsecond=0)
    noon = local_noon.astimezone(UTC)
    with session(world.engine) as db:
        hub = _hub_pk(world, "hub-a")
        db.add(Event(hub_id=hub, sensor_id=world.sensor, kind="motion", state=True, t=noon, seq=1))
        for i, value in enumerate((21.0, 22.5, 24.0)):
            t = noon - timedelta(hours=i)
            db.add(Reading(hub_id=hub, kind="temperature", value=value, t=t, seq=1))
        resident = db.get(Resident, world.anna)
        resident.consent_date = datetime(2025, 1, 1).date()
        db.add(resident)
        db.commit()
    c = browser(world, "care")
    html = c.get(f"/residents/{world.anna}").text
    # 12:05 falls in the 10-minute cell 72 of 144, at x = 72 * 720 / 144.
    assert 'data-room="living"' in html and '<rect x="360.0"' in html
    assert "21.0–24.0 °C" in html
    assert "Tutto bene" in html  # activity today, consent, no alarm
    assert "In apprendimento" in html  # no learned routine stored yet
    c.cookies.set("portineria_lang", "en")
    english = c.get(f"/residents/{world.anna}").text
    assert "All well" in english and "Living room" in english
    yesterday = (local_noon - timedelta(days=1)).date().isoformat()
    assert "Giorno prima" not in english
    assert '<rect x="360.0"' not in c.get(f"/residents/{world.anna}?day={yesterday}").text
    assert c.get(f"/residents/{world.anna}?day=notaday").status_code == 404


def test_panic_in_the_last_day_is_an_alert(world):
    with session(world.engine) as db:
        resident = db.get(Resident, world.anna)
        resident.consent_date = datetime(2025, 1, 1).date()
        db.add(resident)
        hub = _hub_pk(world, "hub-a")
        t = datetime.now(UTC) - timedelta(minutes=3)
        db.add(Event(hub_id=hub, sensor_id=world.sensor, kind="panic", state=True, t=t, seq=2))
        db.commit()
    html = browser(world, "care").get("/care").text
    assert "st-alert" in html and "pulsante di emergenza" in html
    assert "st-alert" in browser(world, "vol").get("/condo").text


def test_language_switch_is_a_cookie_and_stays_on_site(world):
    c = browser(world, "care")
    r = c.get("/lang/en", params={"next": "/care"})
    assert r.status_code == 303 and r.headers["location"] == "/care"
    assert c.get("/lang/en", params={"next": "https://evil.example"}).headers["location"] == "/"
    assert "The people you look after" in c.get("/care").text
    assert c.get("/lang/xx").status_code == 404


def test_claim_from_the_qr_url(world):
    with session(world.engine) as db:
        p = enrolment.provision(db, world.settings, db.get(User, world.tech.id))
        code, hub_id = p.claim_code, p.hub.hub_id
    c = browser(world, "vol")
    form = c.get("/claim", params={"code": code})
    assert f'value="{code}"' in form.text and "Corso Lodi 3" not in form.text
    token = csrf_of(form.text)
    wrong = c.post(
        "/claim", data={"code": "0" * 12, "condominium_id": world.condo_a, "csrf": token}
    )
    assert wrong.status_code == 404 and "Nessun hub aspetta" in wrong.text
    other = c.post("/claim", data={"code": code, "condominium_id": world.condo_b, "csrf": token})
    assert other.status_code == 403
    assert c.post("/claim", data={"code": code, "condominium_id": world.condo_a}).status_code == 403
    ok = c.post("/claim", data={"code": code, "condominium_id": world.condo_a, "csrf": token})
    assert ok.status_code == 200 and hub_id in ok.text
    assert hub_id in c.get("/condo").text


async def test_walk_test_stream_sends_only_new_events_of_a_visible_hub(world):
    hub = _hub_pk(world, "hub-a")
    html = browser(world, "vol").get(f"/hubs/{hub}/walktest").text
    after = int(re.search(r"events\?after=(\d+)", html).group(1))
    with session(world.engine) as db:
        t = datetime.now(UTC)
        db.add(Event(hub_id=hub, sensor_id=world.sensor, kind="motion", state=True, t=t, seq=3))
        db.commit()
        vol = db.get(User, world.vol.id)
        vol_b = db.get(User, world.vol_b.id)
        db.expunge_all()

    class Connected:
        async def is_disconnected(self):
            return False

    async def collect(user):
        stream = volunteer.event_stream(Connected(), world.engine, user, hub, after, seconds=0.2)
        return [chunk async for chunk in stream]

    chunks = await collect(vol)
    data = [json.loads(c.split("data: ")[1]) for c in chunks if "data: " in c]
    assert [(d["sensor"], d["kind"]) for d in data] == [(world.sensor, "motion")]
    assert not [c for c in await collect(vol_b) if "data: " in c]
    await asyncio.sleep(0)


def test_admin_edits_users_and_circles(world):
    c = browser(world, "admin")
    html = c.get("/admin").text
    token = csrf_of(html)
    assert c.post(f"/admin/users/{world.care.id}/active", data={"active": "0"}).status_code == 403
    r = c.post(f"/admin/users/{world.care.id}/active", data={"active": "0", "csrf": token})
    assert r.status_code == 303
    assert browser(world, "care").get("/care").status_code == 303  # deactivated: logged out
    form = {"user_id": world.care_b.id, "position": "2", "relation": "nipote", "csrf": token}
    assert c.post(f"/admin/circles/{world.anna}/members", data=form).status_code == 303
    with session(world.engine) as db:
        member = db.exec(
            select(CareCircleMember).where(
                CareCircleMember.resident_id == world.anna,
                CareCircleMember.user_id == world.care_b.id,
            )
        ).one()
    assert ANNA in browser(world, "care_b").get("/care").text
    r = c.post(f"/admin/circles/members/{member.id}/remove", data={"csrf": token})
    assert r.status_code == 303
    assert browser(world, "care_b").get(f"/residents/{world.anna}").status_code == 404


def test_static_files_and_headers(world):
    c = browser(world)
    assert c.get("/static/htmx.min.js").status_code == 200
    assert c.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert c.get("/static/README.md").status_code == 404
    assert c.get("/static/..%2Fpages.py").status_code == 404
    login = c.get("/login")
    assert "script-src 'self'" in login.headers["content-security-policy"]
    assert "<script>" not in login.text  # no inline script: the policy would block it


def _panic_alert(w, resident_id, name="Anna"):
    now = datetime.now(UTC)
    with session(w.engine) as db:
        alert = Alert(
            resident_id=resident_id,
            rule="panic",
            severity="critical",
            auto=False,
            since=now,
            opened_at=now,
            open_key=f"{resident_id}:panic:",
            facts={"name": name},
        )
        db.add(alert)
        db.add(RuleState(resident_id=resident_id, snapshot=None))
        db.commit()
        return alert.id


def test_open_alert_acknowledge_and_resolve_in_scope_only(world):
    alert_id = _panic_alert(world, world.anna)
    c = browser(world, "care")
    care = c.get("/care").text
    assert f'data-alert="{alert_id}"' in care and "Anna ha premuto il pulsante" in care
    assert "st-alert" in care
    other = browser(world, "care_b")
    other_html = other.get("/care").text
    assert f'data-alert="{alert_id}"' not in other_html
    forged = {"csrf": csrf_of(other_html)}
    assert other.post(f"/alerts/{alert_id}/acknowledge", data=forged).status_code == 404
    token = csrf_of(care)
    assert c.post(f"/alerts/{alert_id}/acknowledge", data={}).status_code == 403  # no CSRF
    fragment = c.post(
        f"/alerts/{alert_id}/acknowledge", data={"csrf": token}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "preso in carico da Care" in fragment.text
    with session(world.engine) as db:
        alert = db.get(Alert, alert_id)
        assert (alert.state, alert.acknowledged_by) == ("acknowledged", world.care.id)
    r = c.post(f"/alerts/{alert_id}/resolve", data={"csrf": token, "reason": "false_alarm"})
    assert r.status_code == 303
    with session(world.engine) as db:
        assert db.get(Alert, alert_id).resolution == "false_alarm"
    assert f'data-alert="{alert_id}"' not in c.get("/care").text
    assert "st-alert" not in c.get("/care").text


async def test_alert_stream_says_changed_when_an_alert_opens(world):
    with session(world.engine) as db:
        care = db.get(User, world.care.id)
        db.expunge(care)

    class Connected:
        async def is_disconnected(self):
            return False

    async def opener():
        await asyncio.sleep(0.2)
        await asyncio.to_thread(_panic_alert, world, world.anna)

    task = asyncio.create_task(opener())
    stream = alertpages.alert_stream(Connected(), world.engine, care, seconds=1.5)
    chunks = [chunk async for chunk in stream]
    await task
    assert chunks.count("data: changed\n\n") == 1


def test_volunteer_in_the_circle_acknowledges_from_the_condominium_page(world):
    alert_id = _panic_alert(world, world.anna)
    with session(world.engine) as db:
        db.add(CareCircleMember(resident_id=world.anna, user_id=world.vol.id, position=2))
        db.commit()
    vol = browser(world, "vol")
    html = vol.get("/condo").text
    assert f'data-alert="{alert_id}"' in html and ANNA not in html  # first name and flat
    assert "Anna · 3B" in html
    assert f'data-alert="{alert_id}"' not in browser(world, "tech").get("/fleet").text
    other = browser(world, "vol_b")
    token_b = csrf_of(other.get("/condo").text)
    assert other.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": token_b}).status_code == 404
    r = vol.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": csrf_of(html)})
    assert r.status_code == 303
    with session(world.engine) as db:
        assert db.get(Alert, alert_id).acknowledged_by == world.vol.id


def test_notification_settings_change_how_alerts_reach_me(world):
    from fleet.alerts.outbox import channels_of

    c = browser(world, "care")
    html = c.get("/settings").text
    assert 'name="email_on" value="1" checked' in html
    token = csrf_of(html)
    r = c.post("/settings", data={"csrf": token, "email": "", "language": "en"})
    assert r.status_code == 303 and r.headers["location"] == "/settings?saved=1"
    with session(world.engine) as db:
        assert channels_of(db, world.settings, db.get(User, world.care.id)) == ([], "en")
    form = {"csrf": token, "email_on": "1", "email": "anna.figlia@example.org", "language": "it"}
    c.post("/settings", data=form)
    with session(world.engine) as db:
        got = channels_of(db, world.settings, db.get(User, world.care.id))
    assert got == ([("email", "anna.figlia@example.org")], "it")
    bad = c.post("/settings", data={**form, "email": "not an address"})
    assert bad.headers["location"] == "/settings?error=email"
    assert c.post("/settings", data={**form, "csrf": "x"}).status_code == 403


def test_admin_sees_service_figures(world):
    alert_id = _panic_alert(world, world.anna)
    with session(world.engine) as db:
        alert = db.get(Alert, alert_id)
        alert.acknowledged_at = as_utc(alert.opened_at) + timedelta(seconds=42)
        alert.acknowledged_by = world.care.id
        db.add(alert)
        db.commit()
    html = browser(world, "admin").get("/admin").text
    figures = html[html.index('id="figures"') :]
    assert "100 %" in figures and "42 s" in figures
    assert browser(world, "care").get("/admin").status_code == 403
