"""The walk-test mode on a volunteer's phone (390×844, Italian, real Chromium): she starts
the test, the banner counts the time left down, a test press turns its step green and is
listed as the test (nobody alerted), a second press is listed as a real alarm (and is
one), the caregiver's page notes the test, and ending the test says that alarms alert
the family again. Screenshots go to
var/screenshots/."""

import re

from playwright.sync_api import expect
from sqlmodel import select

from fleet.db import session
from fleet.models import Alert, Hub
from tests.browser.test_pages import PHONE, log_in, report
from tests.browser.test_phone import check_phone_page


def _alerts(server):
    with session(server.engine) as db:
        return [a.rule for a in db.exec(select(Alert)).all()]


def test_walk_test_mode_on_a_phone(server, chromium, shots):
    with session(server.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one().id
    page = chromium.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, server, "vol")
    expect(page).to_have_url(server.url + "/condo")
    page.goto(f"{server.url}/hubs/{hub}/walktest")
    text = check_phone_page(page, shots, "walktest-before")
    assert "fanno partire un allarme vero" in text and "Avvia la prova" in text

    page.get_by_role("button", name="Avvia la prova").click()
    banner = page.locator("#wt-banner")
    expect(banner).to_contain_text("Prova in corso")
    left = page.locator("#wt-left")
    expect(left).to_have_text(re.compile(r"^(19:5\d|20:00)$"))
    first = left.text_content()
    expect(left).not_to_have_text(first, timeout=3000)  # it counts down, live

    page.wait_for_timeout(300)  # the event stream connects
    report(server, "panic", "panic", True)
    panic = page.locator(".step", has_text="pulsante di emergenza")
    expect(panic).to_have_class(re.compile(r"\bpassed\b"), timeout=5000)
    log = page.locator("#wt-log li")
    expect(log.first).to_contain_text("è la prova: famiglia non avvisata", timeout=5000)
    assert _alerts(server) == []
    report(server, "panic", "panic", True)  # pressed again: real
    expect(log.nth(1)).to_contain_text("allarme vero: famiglia avvisata", timeout=5000)
    expect(log.nth(1)).to_have_class("error")
    assert _alerts(server) == ["panic"]
    text = check_phone_page(page, shots, "walktest-running")
    assert "Tempo rimasto" in text and "Termina la prova" in text

    family = chromium.new_page(viewport=PHONE, locale="it-IT")
    log_in(family, server, "care")  # Anna's daughter, meanwhile
    expect(family.locator(".walktest-note")).to_contain_text(
        "un volontario prova i sensori di casa di Anna"
    )
    check_phone_page(family, shots, "caregiver-walktest-note")
    family.close()

    page.get_by_role("button", name="Termina la prova").click()
    expect(page.locator("#wt-ended")).to_contain_text("avvisano di nuovo la famiglia")
    expect(banner).to_have_count(0)
    check_phone_page(page, shots, "walktest-ended")
    page.close()
