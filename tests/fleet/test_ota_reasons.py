"""fleet.ota's reasons as codes: every code has its English sentence and its words in both
page languages; the pages say a refusal and a campaign's own pause reason from the code
and its parameters; a reason a technician typed is shown as typed, even one that reads
like fleet.ota's English; a code the pages have no words for is said in English; what
hubs refused (heartbeat key 9) is said in Italian on the campaign page."""

from string import Formatter

import pytest

from fleet.db import session
from fleet.models import Campaign, utcnow
from fleet.ota import MESSAGES, OTAError, campaigns, deployments
from fleet.web import i18n, otareasons
from tests.fleet import ota_support
from tests.fleet.test_web import browser, csrf_of

IT, EN = i18n.translator("it"), i18n.translator("en")
# A value for each parameter: words that have their own keys get a word that has one.
SAMPLE = {"state": "paused", "in_state": "downloading", "action": "pause", "what": "bundle"}


def _fields(text):
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_is_said_in_both_languages_with_its_own_parameters(code):
    params = {name: SAMPLE.get(name, "X" + name) for name in _fields(MESSAGES[code])}
    key = "ota_r_" + code
    assert key in i18n._IT and key in i18n._EN, key
    for words in (i18n._IT[key], i18n._EN[key]):
        assert _fields(words) <= set(params), (code, words)  # nothing the code lacks
    said = otareasons.say(IT, code, params)
    assert said != key and "{" not in said
    for name in _fields(i18n._IT[key]) - set(SAMPLE):
        assert params[name] in said, (code, name)


def test_the_error_carries_code_params_status_and_the_english_built_from_them():
    e = OTAError("hardware_mismatch", version="0.3.0", hw="micropython-esp32", other="x-y")
    assert (e.code, e.status) == ("hardware_mismatch", 400)
    assert e.params == {"version": "0.3.0", "hw": "micropython-esp32", "other": "x-y"}
    assert e.reason == str(e) == "release 0.3.0 is for micropython-esp32, not x-y"
    assert otareasons.refusal(IT, e) == "La versione 0.3.0 è per micropython-esp32, non per x-y."
    big = OTAError("too_big", 413, what="bundle", limit=1024)
    assert big.reason == "bundle larger than 1024 bytes" and big.status == 413
    assert otareasons.refusal(IT, big) == "Il file del pacchetto supera 1024 byte."
    assert otareasons.refusal(EN, big) == "The bundle file is larger than 1024 bytes."
    state = OTAError("wrong_state", 409, state="draft", action="resume")
    assert state.reason == "a draft campaign cannot resume"
    assert otareasons.refusal(EN, state) == "A draft campaign cannot be resumed."
    assert otareasons.refusal(IT, state) == "Una campagna bozza non si può riprendere."
    typed = OTAError("window_time", text="25:00")
    assert typed.reason == "a window time is HH:MM, not '25:00'"
    assert otareasons.refusal(IT, typed) == (
        "Scriva gli orari della finestra come 02:00, non «25:00»."
    )


def test_a_code_the_pages_have_no_words_for_is_said_in_english(monkeypatch):
    monkeypatch.setitem(MESSAGES, "moon_phase", "not while the moon is {phase}")
    e = OTAError("moon_phase", phase="full")
    assert otareasons.refusal(IT, e) == "not while the moon is full"  # never hidden


@pytest.fixture
def world(engine, db_url, tmp_path):
    w = ota_support.world(engine, db_url, tmp_path)
    with session(engine) as db:
        rel = ota_support.upload(db, w.settings, w.key, 3, hw="micropython-esp32")
        c = campaigns.create(db, None, rel.id, hub_ids=["hub-a"], waves=(100,))
        campaigns.start(db, None, c.id)
        w.cid = c.id
    return w


def _pause(c, w, reason):
    page = c.get(f"/ota/campaigns/{w.cid}").text
    r = c.post(f"/ota/campaigns/{w.cid}/pause", data={"csrf": csrf_of(page), "reason": reason})
    assert r.status_code == 303
    return c.get(f"/ota/campaigns/{w.cid}").text


def _resume(c, w, page):
    r = c.post(f"/ota/campaigns/{w.cid}/resume", data={"csrf": csrf_of(page)})
    assert r.status_code == 303


def test_a_pause_reason_is_said_by_code_and_a_typed_one_as_typed(world):
    c = browser(world, "tech")
    page = _pause(c, world, "")
    assert "Messa in pausa da Tech: in pausa a mano" in page
    with session(world.engine) as db:
        camp = db.get(Campaign, world.cid)
        assert camp.paused_reason == "paused by hand"  # the API's English
        assert campaigns.pause_code(camp) == ("paused_by_hand", {})
    _resume(c, world, page)
    # Typed words are the technician's, even when they read like fleet.ota's English.
    page = _pause(c, world, "wave 1: 3 of 4 hubs failed")
    assert "Messa in pausa da Tech: wave 1: 3 of 4 hubs failed" in page
    assert "non si sono aggiornati" not in page
    c.cookies.set("portineria_lang", "en")
    _resume(c, world, page)
    page = _pause(c, world, "")
    assert "Paused by Tech: paused by hand" in page
    _resume(c, world, page)
    with session(world.engine) as db:
        camp = db.get(Campaign, world.cid)
        assert camp.paused_reason == "" and campaigns.pause_code(camp) is None
        assert "pause_code" not in camp.target  # a later pause by hand starts afresh


def test_the_campaign_page_says_why_hubs_refused_in_italian(world):
    with session(world.engine) as db:
        hubs = ota_support.add_hubs(db, 3, world.condo_a, hardware="esp32", prefix="r")
        rel = ota_support.upload(db, world.settings, world.key, 4, hw="micropython-esp32")
        camp = campaigns.create(db, None, rel.id, hub_ids=["r0", "r1", "r2"], waves=(100,))
        campaigns.start(db, None, camp.id)
        for hub, code in zip(hubs, ("signature", "space", "hardware"), strict=True):
            deployments.report(db, hub, ["refused", 4, code], utcnow())  # heartbeat key 9
        db.commit()
        cid = camp.id
    page = browser(world, "tech").get(f"/ota/campaigns/{cid}").text
    rows = {h: page.split(f'data-hub="{h}"')[1].split("</tr>")[0] for h in ("r0", "r1", "r2")}
    assert "firma non valida" in rows["r0"]
    assert "spazio insufficiente" in rows["r1"]
    assert "hardware diverso" in rows["r2"]
