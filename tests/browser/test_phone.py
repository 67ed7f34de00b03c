"""A caregiver's and a volunteer's pages on a phone (390×844), in Italian, in a real
Chromium: nothing scrolls sideways, everything tappable is at least 44 px tall, no
English words, no "tu"-form words and no raw timestamps, and the header one compact row
whose menu unfolds every link; and the alert e-mail's link works on a phone — it logs
her in, says what to do now and who else was told, and confirms her "I'm on it".
Screenshots go to var/screenshots/ (the header's to var/t9/)."""

import re
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import expect
from sqlmodel import select

from fleet.alerts import lifecycle, messages
from fleet.db import session
from fleet.models import Alert, CareCircleMember, Hub, Resident
from fleet.web import i18n
from fleet.web.pages import TZ
from tests.browser.test_pages import DESKTOP, PHONE, log_in, report
from tests.fleet.api_support import PASSWORD
from tests.fleet.test_web_lei import BUTTONS, tu_words

# English a page must never show in Italian: every phrase of the English catalogue that
# differs from its Italian word (so a forgotten translation shows up), and raw values
# the pages once printed as they came.
ENGLISH = sorted(
    {v for k, v in i18n._EN.items() if " " in v and v != i18n._IT.get(k) and "{" not in v}
    | {"power-on", "provision", "activate", "Not Found", "UTC", "OSCORE"}
)
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# The header on a phone, folded: one row of 48 px tap targets (brand, Menu) and its
# padding, about 57 px; 64 px leaves the page 92 % of an 844 px screen. It took ~160 px
# for a caregiver and ~375 px for an admin when every link wrapped onto rows of its own.
HEADER_MAX = 64
T9_SHOTS = Path(__file__).resolve().parents[2] / "var" / "t9"

# What the phone measures: sideways scrolling, tap targets smaller than 44 px (a
# checkbox counts by the label around it), and the text a person reads.
MEASURE = """() => {
  const small = [];
  for (const e of document.querySelectorAll('a, button, input, select')) {
    const r = (e.closest('label') || e).getBoundingClientRect();
    if (e.type !== 'hidden' && r.width > 0 && r.height < 44)
      small.push(e.tagName + ' ' + (e.textContent || e.name).trim() + ' ' + r.height);
  }
  return {wide: document.scrollingElement.scrollWidth > window.innerWidth, small,
          text: document.body.innerText,
          header: document.querySelector('header.top').getBoundingClientRect().height};
}"""


def check_phone_page(page, shots, name):
    page.wait_for_load_state()
    page.screenshot(path=shots / f"phone-{name}.png", full_page=True)
    seen = page.evaluate(MEASURE)
    assert not seen["wide"], f"{name} scrolls sideways on a phone"
    assert seen["small"] == [], f"{name}: too small to tap: {seen['small']}"
    english = [w for w in ENGLISH if w in seen["text"]]
    assert english == [], f"{name} shows English on an Italian page: {english}"
    assert not ISO_TIME.search(seen["text"]), f"{name} shows a raw timestamp"
    familiar = tu_words(re.sub("|".join(BUTTONS), "", seen["text"]))
    assert familiar == [], f"{name} speaks as tu, not Lei: {familiar}"
    assert seen["header"] <= HEADER_MAX, f"{name}: the header takes {seen['header']} px"
    return seen["text"]


def _panic_alert(server):
    """Anna's panic press through telemetry and the rules, and the first call of her
    circle (Care, then Vol as the neighbour at position 2) as the alert runner makes it."""
    with session(server.engine) as db:
        db.add(CareCircleMember(resident_id=server.world.anna, user_id=server.world.vol.id,
                                position=2, relation="neighbour"))  # fmt: skip
        db.commit()
    report(server, "panic", "panic", True)
    with session(server.engine) as db:
        alert = db.exec(select(Alert)).one()
        lifecycle.escalate(db, server.settings, alert, datetime.now(UTC))
        db.commit()
        db.refresh(alert)
        return alert.id, messages.compose(
            alert, db.get(Resident, alert.resident_id), "it", server.url
        )


def test_caregiver_and_volunteer_pages_fit_a_phone_in_italian(server, chromium, shots):
    alert_id, _mail = _panic_alert(server)
    with session(server.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one().id
    page = chromium.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, server, "care")
    for name, path in (
        ("care", "/care"),
        ("resident", f"/residents/{server.world.anna}"),
        ("alert", f"/alerts/{alert_id}"),
        ("settings", "/settings"),
    ):
        page.goto(server.url + path)
        check_phone_page(page, shots, f"caregiver-{name}")
    page.context.clear_cookies()
    log_in(page, server, "vol")
    expect(page).to_have_url(server.url + "/condo")
    text = check_phone_page(page, shots, "volunteer-condo")
    assert "Hub dell'interno 3B" in text  # named by the flat it serves, not only its id
    texts = {}
    for name, path in (
        ("claim", "/claim"),
        ("walktest", f"/hubs/{hub}/walktest"),
        ("hub", f"/hubs/{hub}"),
    ):
        page.goto(server.url + path)
        texts[name] = check_phone_page(page, shots, f"volunteer-{name}")
    # The hub has a panic button: pressing it in the test alerts the family for real.
    assert "fanno partire un allarme vero" in texts["walktest"]
    page.close()


def test_the_alert_emails_link_on_a_phone(server, chromium, shots):
    alert_id, mail = _panic_alert(server)
    assert "Chiami subito Anna" in mail["body"] and "critica" not in mail["body"]
    [link] = [line for line in mail["body"].splitlines() if line.startswith("http")]
    page = chromium.new_page(viewport=PHONE, locale="it-IT")
    page.goto(link)  # not logged in yet: the login page brings her back to the alert
    page.fill("#email", "care@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(link)
    expect(page.locator("h1")).to_have_text("Allarme: pulsante di emergenza")
    expect(page.locator(".advice")).to_contain_text("Chiami subito Anna")
    expect(page.locator("#alert")).to_contain_text("Nessuno se ne sta ancora occupando")
    expect(page.locator("#told li")).to_have_text(re.compile(r"^Lei · (oggi|ieri) alle \d\d:\d\d$"))
    expect(page.locator("#next-told")).to_contain_text("avviseremo: Vol")
    check_phone_page(page, shots, "alert-from-email")
    page.get_by_role("button", name="Ho visto, me ne occupo").click()
    expect(page.locator("#done")).to_contain_text("ora tutti vedono che se ne occupa lei")
    with session(server.engine) as db:
        row = db.get(Alert, alert_id)
        assert (row.state, row.acknowledged_by) == ("acknowledged", server.world.care.id)
        at = row.acknowledged_at.replace(tzinfo=UTC).astimezone(TZ).strftime("%H:%M")
    # Italian time, and the next person is no longer going to be called.
    expect(page.locator("#alert .acked")).to_have_text(f"preso in carico da Care alle {at}")
    expect(page.locator("#next-told")).to_have_count(0)
    check_phone_page(page, shots, "alert-acknowledged")
    page.close()


def test_acknowledging_on_the_home_page_is_confirmed(server, chromium, shots):
    alert_id, _mail = _panic_alert(server)
    page = chromium.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, server, "care")
    alert = page.locator(".alert")
    expect(alert).to_contain_text("Nessuno se ne sta ancora occupando")
    alert.get_by_role("button", name="Ho visto, me ne occupo").click()
    expect(page.locator("#done")).to_contain_text("ora tutti vedono che se ne occupa lei")
    expect(alert).to_contain_text("preso in carico da Care")
    check_phone_page(page, shots, "care-acknowledged")
    alert.get_by_role("button", name="Risolto").click()
    expect(page.locator("#done")).to_have_text("Allarme chiuso. Grazie.")
    expect(page.locator(".no-alerts")).to_be_visible()
    with session(server.engine) as db:
        assert db.get(Alert, alert_id).resolution == "handled"
    page.close()


LINKS = {
    "care": ["Le persone che segue", "Notifiche"],
    "admin": ["Le persone che segue", "I suoi condomini", "Flotta", "Aggiornamenti",
              "Amministrazione", "Notifiche"],
}  # fmt: skip


def test_the_header_folds_into_a_menu_on_a_phone(server, chromium):
    T9_SHOTS.mkdir(parents=True, exist_ok=True)
    for who, links in LINKS.items():
        page = chromium.new_page(viewport=PHONE, locale="it-IT")
        log_in(page, server, who)
        page.goto(server.url + "/settings")
        header = page.locator("header.top")
        menu = header.get_by_role("button", name="Menu")
        expect(menu).to_have_attribute("aria-expanded", "false")
        assert header.bounding_box()["height"] <= HEADER_MAX
        for name in links:
            expect(header.get_by_role("link", name=name, exact=True)).to_be_hidden()
        page.screenshot(path=T9_SHOTS / f"phone-{who}-menu-closed.png")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        # Unfolded: every link, the language, her name and the logout, each one a full
        # tap target, and still nothing scrolls sideways.
        for name in [*links, "English", "Esci"]:
            target = header.get_by_role("button" if name == "Esci" else "link", name=name)
            expect(target).to_be_visible()
            assert target.bounding_box()["height"] >= 44, name
        expect(header).to_contain_text(f"{who.capitalize()} · ")
        seen = page.evaluate(MEASURE)
        assert not seen["wide"] and seen["small"] == [], seen["small"]
        page.screenshot(path=T9_SHOTS / f"phone-{who}-menu-open.png")
        page.keyboard.press("Escape")  # folds it again, the focus back on the button
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_focused()
        expect(header.get_by_role("link", name=links[0])).to_be_hidden()
        menu.click()
        header.get_by_role("link", name=links[0]).click()
        expect(page).to_have_url(server.url + "/care")
        expect(page.locator("header.top .menu-toggle")).to_have_attribute("aria-expanded", "false")
        page.close()
    # On a wide screen nothing folds: every link is in the header, no Menu button.
    page = chromium.new_page(viewport=DESKTOP, locale="it-IT")
    log_in(page, server, "admin")
    expect(page.locator("header.top .menu-toggle")).to_be_hidden()
    for name in LINKS["admin"]:
        expect(
            page.locator("header.top").get_by_role("link", name=name, exact=True)
        ).to_be_visible()
    page.screenshot(path=T9_SHOTS / "desktop-admin.png")
    page.close()
