"""The Italian pages speak one way and in plain words (T9), on both databases: every page
addresses the reader as Lei (no "tu"-form word on any page or in the catalogue); a page
address with a part of the wrong type (/residents/abc) gives a browser the error page in
its language while the API keeps its JSON; the morning summary's preview reads as a
sentence when there is no data; the technical rule on a resident's day says what it
watches and when the family hears; a volunteer sees each sensor named by what it is,
and only a technician sees its key."""

import html
import re
from datetime import date

from sqlmodel import select

from fleet.alerts import summary
from fleet.db import session
from fleet.models import Hub, Resident, RuleState, Sensor
from fleet.rules import Engine, explain
from fleet.rules import Settings as RuleSettings
from fleet.rules.model import WARNING, Condition
from fleet.web import i18n
from tests.fleet.test_web import browser, world  # noqa: F401  (fixture)

# Words of the familiar "tu" an Italian page must not use: possessives, verbs of the
# second person and the imperatives the pages once had. Short command labels on buttons
# (Salva, Accedi, Esci) are the convention of Italian interfaces in either register.
TU_WORDS = re.compile(
    r"\b(tu|tuo|tua|tuoi|tue|ti|puoi|vuoi|devi|hai|segui|accedi|ricevo|premi|scrivi|fai|"
    r"apri|cammina|siediti|inquadra|riprova(?= tra|\.))\b",
    re.IGNORECASE,
)
BUTTONS = {"Accedi", "Salva e accedi"}  # whole labels, not sentences


def tu_words(text):
    return sorted({m.group(0) for m in TU_WORDS.finditer(text)})


def page_text(markup):
    """What a reader sees: the text outside tags, scripts and attributes."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    markup = re.sub(r"</?(strong|em|small|span|a)\b[^>]*>", "", markup)  # inline: no gap
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def test_the_italian_catalogue_speaks_as_lei():
    found = {k: tu_words(v) for k, v in i18n._IT.items() if v not in BUTTONS and tu_words(v)}
    assert found == {}


def test_the_word_list_catches_the_familiar_form():
    # The check can fail: the sentences the pages had before T9 are caught.
    for old in ("I tuoi condomini", "Le persone che segui", "riprova tra 15 minuti", "Premi ora"):
        assert tu_words(old), old
    assert tu_words("l'hub riprova alla prossima offerta") == []  # the hub, third person


def test_no_italian_page_uses_the_familiar_form(world):  # noqa: F811
    with session(world.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one().id
    pages = {
        "care": ["/care", f"/residents/{world.anna}", "/settings"],
        "vol": ["/condo", "/claim", f"/hubs/{hub}", f"/hubs/{hub}/walktest", "/settings"],
        "tech": ["/fleet", f"/hubs/{hub}", "/ota"],
        "admin": ["/admin", "/settings", "/residents/999999", "/residents/abc"],
    }
    seen = 0
    for role, paths in pages.items():
        c = browser(world, role)
        for path in paths:
            r = c.get(path, headers={"accept": "text/html"})
            assert r.status_code in (200, 404), (path, r.status_code)
            assert 'lang="it"' in r.text
            text = page_text(r.text)
            for label in BUTTONS:
                text = text.replace(label, "")
            assert tu_words(text) == [], (role, path, tu_words(text))
            seen += 1
    login = browser(world).get("/login")
    assert tu_words(page_text(login.text).replace("Accedi", "")) == []
    assert seen == 15


def test_a_wrong_type_in_a_page_address_is_the_error_page_for_a_browser(world):  # noqa: F811
    c = browser(world, "care")
    r = c.get("/residents/abc", headers={"accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Pagina non trovata</h1>" in r.text and "Le persone che segue" in r.text
    c.cookies.set("portineria_lang", "en")
    r = c.get("/residents/abc", headers={"accept": "text/html"})
    assert r.status_code == 404 and "<h1>Page not found</h1>" in r.text
    # A query of the wrong type is a request the page cannot use, said as such.
    r = c.get("/alerts?resident=abc", headers={"accept": "text/html"})
    assert r.status_code == 400 and "<h1>Request not valid</h1>" in r.text


def test_the_api_keeps_its_json_for_a_wrong_type(world):  # noqa: F811
    c = browser(world, "care")
    for path, accept in (
        ("/residents/abc", "application/json"),
        ("/residents/abc", "*/*"),
        ("/api/residents/abc", "text/html"),
    ):
        r = c.get(path, headers={"accept": accept})
        assert r.status_code == 422, (path, accept)
        assert r.json()["errors"][0]["field"] == "resident_id"


def test_the_summary_preview_reads_as_sentences_without_data(world):  # noqa: F811
    with session(world.engine) as db:
        db.get(Resident, world.anna).consent_date = date(2025, 1, 1)  # a summary needs it
        db.commit()
    text = page_text(browser(world, "care").get("/settings").text)
    assert "Movimenti di notte (22-6): nessun dato" in text
    assert "Attività in cucina ieri: nessun dato" in text
    assert "in nessun dato" not in text and "nessun dato quarti" not in text
    with session(world.engine) as db:
        anna = db.get(Resident, world.anna)
        for figs, it, en in (
            ({"night_slots": 0}, ": nessuno", ": none"),
            ({"night_slots": 1}, ": in un quarto d'ora", ": in one quarter hour"),
            ({"night_slots": 6}, ": in 6 quarti d'ora", ": in 6 quarter hours"),
        ):
            for lang, want in (("it", it), ("en", en)):
                body = summary.compose(anna, date(2025, 3, 20), figs, {}, lang)["body"]
                [line] = [x for x in body.splitlines() if "22-6" in x]
                assert line.endswith(want), line


def test_the_technical_rule_is_said_in_plain_words(world):  # noqa: F811
    with session(world.engine) as db:
        db.add(RuleState(resident_id=world.anna, snapshot=Engine(RuleSettings()).snapshot()))
        db.commit()
    text = page_text(browser(world, "care").get(f"/residents/{world.anna}").text)
    assert "Regole" in text
    assert "sensori silenziosi" not in text and "ai tecnici" not in text
    assert (
        "Apparecchi: se un sensore non risponde o ha la batteria scarica avvisiamo i tecnici; "
        "se l'apparecchio del condominio resta scollegato per più di 15 minuti, avvisiamo "
        "anche la famiglia"
    ) in text
    # Every rule is named, so "oltre 45 minuti di giorno" says what it is about.
    assert "Tempo in bagno: oltre 45 minuti di giorno" in text


def test_a_volunteer_reads_what_each_sensor_is_and_a_technician_its_key(world):  # noqa: F811
    with session(world.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        db.add(Sensor(hub_id=hub.id, key="panic", kind="panic", room="living"))
        db.commit()
        hub = hub.id
    vol = page_text(browser(world, "vol").get("/condo").text)
    assert "Sensore di movimento" in vol and "Pulsante di emergenza" in vol
    assert not re.search(r"\b(pir1|panic)\b", vol)
    tech = page_text(browser(world, "tech").get(f"/hubs/{hub}").text)
    assert "Sensore di movimento" in tech and re.search(r"\bpir1\b", tech)


def test_the_family_hears_of_the_building_device_not_the_hub():
    # The family's alert when monitoring stops says "device", as the status line does.
    c = Condition("monitoring_interrupted", None, WARNING, 1742461200.0, 1742462100.0)
    c.facts = {"name": "Anna", "tz": "Europe/Rome"}
    assert explain.describe(c, "it") == (
        "Il monitoraggio di Anna è interrotto dalle 10:00: l'apparecchio del condominio "
        "non risponde."
    )
