"""The pages in a real Chromium against the real server: a volunteer passes a walk-test
(telemetry stored through the fleet's own service turns each step green live, over
server-sent events); a caregiver sees her mother's status and day, the alert the rules
raise for a panic press stored through the same service appears without reloading, and
she acknowledges and resolves it. Screenshots of the main
pages are saved in var/screenshots/."""

from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import expect
from sqlmodel import select

from fleet.db import session
from fleet.models import Alert, Hub, Reading, Resident
from fleet.services import telemetry
from protocol import senml
from tests.fleet.api_support import PASSWORD

PHONE = {"width": 390, "height": 844}  # a common phone's CSS viewport
DESKTOP = {"width": 1100, "height": 900}
_seq = iter(range(1, 1000))


def fits_the_screen(page):
    """Nothing on the page makes a phone scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in(page, server, who):
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/login?next=%2F")
    page.fill("#email", f"{who}@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def hub_a(db):
    return db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()


def report(server, key, kind, value):
    """What the CoAP endpoint does with a hub's telemetry: one SenML pack, stored."""
    with session(server.engine) as db:
        hub = hub_a(db)
        pack = senml.encode([senml.reading(key, kind, value)], bn=senml.base_name(hub.hub_id))
        telemetry.store_pack(db, hub, next(_seq), pack, datetime.now(UTC))


def test_volunteer_walk_test_turns_green_live(server, chromium, shots):
    page = chromium.new_page(viewport=PHONE)
    log_in(page, server, "vol")
    expect(page).to_have_url(server.url + "/condo")
    expect(page.locator("h1")).to_have_text("I suoi condomini")
    assert fits_the_screen(page)
    page.screenshot(path=shots / "volunteer-condo-phone.png", full_page=True)
    page.get_by_role("link", name="Prova dei sensori").click()
    steps = page.locator(".step")
    expect(steps).to_have_count(2)
    panic = page.locator(".step", has_text="Prema ora il pulsante di emergenza")
    motion = page.locator(".step", has_text="Cammini ora davanti al sensore")
    expect(motion).to_have_class("step current")  # the first sensor (pir1) is first
    page.wait_for_timeout(300)  # the event stream connects
    report(server, "panic", "panic", True)
    expect(panic).to_have_class("step passed", timeout=5000)
    expect(panic.locator(".state")).to_have_text("ricevuto")
    expect(page.locator("#walk-done")).to_be_hidden()
    page.screenshot(path=shots / "walktest-half-phone.png", full_page=True)
    report(server, "pir1", "motion", True)
    expect(motion).to_have_class("step passed", timeout=5000)
    expect(page.locator("#walk-done")).to_be_visible()
    page.screenshot(path=shots / "walktest-done-phone.png", full_page=True)
    page.close()


def _a_day(server):
    """Readings and events of today for the day picture, and consent for Anna."""
    now = datetime.now(UTC)
    with session(server.engine) as db:
        hub = hub_a(db)
        anna = db.get(Resident, server.world.anna)
        anna.consent_date = date(2025, 1, 15)
        db.add(anna)
        for minutes in range(0, 24 * 60, 30):
            t = now - timedelta(minutes=minutes)
            value = 21.5 + (minutes % 300) / 100
            db.add(Reading(hub_id=hub.id, kind="temperature", value=value, t=t, seq=0))
        db.commit()
    for _ in range(3):
        report(server, "pir1", "motion", True)


def test_caregiver_sees_status_and_acknowledges_a_live_alert(server, chromium, shots):
    _a_day(server)
    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, server, "care")
    expect(page).to_have_url(server.url + "/care")
    card = page.locator(f"[data-resident='{server.world.anna}']")
    expect(card.locator(".status")).to_have_text("Tutto bene")
    expect(page.locator(".no-alerts")).to_be_visible()
    page.screenshot(path=shots / "caregiver-home.png", full_page=True)
    card.get_by_role("link", name="Vedi la giornata").click()
    expect(page.locator("svg[data-room='living'] rect.strip-on")).not_to_have_count(0)
    expect(page.locator("polyline.temp")).to_have_count(1)
    page.screenshot(path=shots / "resident-day.png", full_page=True)
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    page.screenshot(path=shots / "resident-day-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    page.goto(server.url + "/care")
    expect(page.locator("body[data-alerts-live=open]")).to_have_count(1)  # the stream is open
    report(server, "panic", "panic", True)  # the press, through telemetry and the rules
    alert = page.locator(".alert")
    expect(alert).to_have_count(1, timeout=5000)  # live: no reload
    expect(alert).to_contain_text("Anna ha premuto il pulsante di emergenza")
    expect(card.locator(".status")).to_have_text("Allarme")  # the card follows, live too
    page.screenshot(path=shots / "caregiver-alert.png", full_page=True)
    alert.get_by_role("button", name="Ho visto, me ne occupo").click()
    expect(page.locator(".acked")).to_contain_text("preso in carico da Care")
    with session(server.engine) as db:
        row = db.exec(select(Alert)).one()
        assert row.state == "acknowledged" and row.acknowledged_by == server.world.care.id
    page.reload()
    expect(card.locator(".status")).to_have_text("Allarme")  # until someone resolves it
    page.get_by_role("button", name="Risolto").click()
    expect(page.locator(".no-alerts")).to_be_visible()
    page.goto(server.url + "/lang/en?next=/care")
    expect(page.locator("h1")).to_have_text("The people you look after")
    page.close()


def test_technician_and_admin_pages_render(server, chromium, shots):
    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, server, "tech")
    expect(page).to_have_url(server.url + "/fleet")
    expect(page.locator("#hubs tbody tr")).to_have_count(2)
    page.select_option("select[name=state]", "online")
    expect(page).to_have_url(f"{server.url}/fleet?condominium=&state=online&firmware=")
    page.select_option("select[name=condominium]", str(server.world.condo_a))
    expect(page.locator("#hubs tbody tr")).to_have_count(1)  # htmx filtered in place
    expect(page).to_have_url(
        f"{server.url}/fleet?condominium={server.world.condo_a}&state=online&firmware="
    )
    page.screenshot(path=shots / "technician-fleet.png", full_page=True)
    page.get_by_role("link", name="hub-a").click()
    expect(page.locator("dl.facts")).to_contain_text("-61 dBm")
    page.screenshot(path=shots / "technician-hub.png", full_page=True)
    page.context.clear_cookies()
    log_in(page, server, "admin")
    expect(page).to_have_url(server.url + "/admin")
    expect(page.locator("#users tbody tr")).to_have_count(6)
    page.screenshot(path=shots / "admin.png", full_page=True)
    page.close()
