"""What a hub's deployment says (Deployment.detail) is a reason code with its parameters:
holds for the residents' safety, timeouts, what the hub reported and why it refused are
said in the page's language on the campaign page, the API gives each code and its
parameters beside the English, a detail stored as free text before the codes is shown
as it was, and the caregiver's notice says why an update waits."""

from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import select

from fleet.db import session
from fleet.models import Deployment, Hub, Resident, utcnow
from fleet.ota import campaigns as camps
from fleet.ota import coded, decoded, deployments, detail_text
from fleet.web import i18n, otareasons
from tests.fleet import ota_support
from tests.fleet.test_web import browser

IT, EN = i18n.translator("it"), i18n.translator("en")
OLD = "failed: OSError(110)"  # as the fleet wrote a hub's failure before the codes


def test_a_detail_is_stored_as_a_code_and_old_text_reads_as_it_was():
    stored = coded("timed_out", in_state="downloading")
    assert stored == '{"code":"timed_out","params":{"in_state":"downloading"}}'
    assert decoded(stored) == ("timed_out", {"in_state": "downloading"})
    assert detail_text(stored) == "timed out in state downloading"
    assert decoded("2048") == ("progress", {"bytes": 2048})  # count_block writes "0"
    assert detail_text("2048") == "2048 bytes downloaded"
    for old in ("", OLD, "an alert is open for a resident", "0.2.0", "²", "{not json"):
        assert decoded(old) is None and detail_text(old) == old
    # JSON that is not a known code with params stays text too.
    for other in ('{"code":"moon","params":{}}', '{"code":"timed_out"}', "[1]"):
        assert decoded(other) is None and detail_text(other) == other
    long = decoded(coded("hub_failed", error="E" * 500))[1]["error"]
    assert long == "E" * 80  # a hub's words are bounded


@pytest.fixture
def world(engine, db_url, tmp_path):
    return ota_support.world(engine, db_url, tmp_path)


def _hub(db, hub_id):
    return db.exec(select(Hub).where(Hub.hub_id == hub_id)).one()


def _deployment(db, hub):
    return db.exec(select(Deployment).where(Deployment.hub_id == hub.id)).one()


def _campaign_of_every_kind(w):
    """hub-a (serving Anna) held by her open alert; d0 timed out while downloading; d1
    refused for space, d2 for a word the fleet does not know; d3 downloading; d4's detail
    written before the codes."""
    now = utcnow()
    with session(w.engine) as db:
        hubs = ota_support.add_hubs(db, 5, w.condo_a, hardware="esp32", prefix="d")
        rel = ota_support.upload(db, w.settings, w.key, 3, hw="micropython-esp32")
        c = camps.create(db, None, rel.id, hub_ids=["hub-a"] + [h.hub_id for h in hubs],
                         waves=(100,), failure_share=0.9)  # fmt: skip
        camps.start(db, None, c.id)
        ota_support.open_alert(db, w.anna, now)
        assert deployments.offer(db, w.settings, _hub(db, "hub-a"), now) is None
        for hub in hubs[:4]:
            assert deployments.offer(db, w.settings, hub, now) == {1: 3}
        deployments.report(db, hubs[0], ["downloading", 3, 1024], now, w.settings)
        deployments.report(db, hubs[1], ["refused", 3, "space"], now)
        deployments.report(db, hubs[2], ["refused", 3, "cosmic rays"], now)
        deployments.report(db, hubs[3], ["downloading", 3, 2048], now, w.settings)
        _deployment(db, hubs[4]).detail = OLD
        db.commit()
        late = now + timedelta(seconds=w.settings.ota_deployment_timeout_s - 1)
        deployments.report(db, hubs[3], ["downloading", 3, 4096], late, w.settings)
        db.commit()
        camps.tick(db, w.settings, now + timedelta(seconds=w.settings.ota_deployment_timeout_s))
        return c.id


def _rows(html):
    html = unescape(html)
    return {h: html.split(f'data-hub="{h}"')[1].split("</tr>")[0] for h in _HUBS}


_HUBS = ("hub-a", "d0", "d1", "d2", "d3", "d4")


def test_the_campaign_page_says_each_hubs_detail_in_its_language(world):
    cid = _campaign_of_every_kind(world)
    c = browser(world, "tech")
    rows = _rows(c.get(f"/ota/campaigns/{cid}").text)
    assert "rimandato per sicurezza" in rows["hub-a"]
    assert "c'è un allarme aperto per un residente" in rows["hub-a"]
    assert "scaduto il tempo" in rows["d0"]
    assert "tempo scaduto nella fase «scaricamento»" in rows["d0"]
    assert "rifiutato dall'hub: spazio insufficiente nella memoria" in rows["d1"]
    assert "rifiutato dall'hub: cosmic rays" in rows["d2"]  # the hub's own word, never lost
    assert "4096 byte scaricati" in rows["d3"]
    assert OLD in rows["d4"]
    c.cookies.set("portineria_lang", "en")
    rows = _rows(c.get(f"/ota/campaigns/{cid}").text)
    assert "an alert is open for a resident" in rows["hub-a"]
    assert "timed out while downloading" in rows["d0"]
    assert "refused by the hub: not enough flash" in rows["d1"]
    assert OLD in rows["d4"]
    # The hub's own page lists its updates in the same words, never the stored JSON.
    c.cookies.set("portineria_lang", "it")
    with session(world.engine) as db:
        d1 = _hub(db, "d1").id
    hub_page = unescape(c.get(f"/hubs/{d1}").text)
    assert "rifiutato dall'hub: spazio insufficiente nella memoria" in hub_page
    assert '"code"' not in hub_page


def test_the_api_gives_each_detail_code_and_params_beside_the_english(world):
    cid = _campaign_of_every_kind(world)
    r = browser(world).get(f"/api/campaigns/{cid}", headers=world.headers["tech"])
    got = {d["hub_id"]: d for d in r.json()["deployments"]}
    said = {h: (got[h]["detail_code"], got[h]["detail_params"], got[h]["detail"]) for h in _HUBS}
    assert said == {
        "hub-a": ("held_alert", {}, "an alert is open for a resident"),
        "d0": ("timed_out", {"in_state": "downloading"}, "timed out in state downloading"),
        "d1": ("refused_space", {}, "the hub refused it: not enough flash"),
        "d2": ("refused", {"text": "cosmic rays"}, "the hub refused it: cosmic rays"),
        "d3": ("progress", {"bytes": 4096}, "4096 bytes downloaded"),
        "d4": (None, None, OLD),
    }
    assert (got["d0"]["result"], got["d1"]["result"]) == ("timed out", "out of space")


def test_hub_reports_leave_a_code_for_every_state(world):
    now = utcnow()
    with session(world.engine) as db:
        hubs = ota_support.add_hubs(db, 3, world.condo_a, hardware="esp32", prefix="r")
        rel = ota_support.upload(db, world.settings, world.key, 4, hw="micropython-esp32")
        c = camps.create(db, None, rel.id, hub_ids=[h.hub_id for h in hubs], waves=(100,))
        camps.start(db, None, c.id)
        steps = (
            (hubs[0], ["downloaded", 4, "0.4.0"], ("verified", {"version": "0.4.0"})),
            (hubs[0], ["updating", 4, "0.4.0"], ("installing", {"version": "0.4.0"})),
            (hubs[0], ["updated", 4, "0.4.0"], ("reported", {"version": "0.4.0"})),
            (hubs[1], ["failed", 4, "OSError(110)"], ("hub_failed", {"error": "OSError(110)"})),
            (hubs[1], ["rolled back", 4, "0.4.0"], ("rolled_back", {"version": "0.4.0"})),
        )
        for hub, report, reason in steps:
            deployments.report(db, hub, report, now, world.settings)
            assert decoded(_deployment(db, hub).detail) == reason, report
        for junk in ("9" * 5000, "half", -1):  # progress is a byte count, nothing else
            deployments.report(db, hubs[2], ["downloading", 4, junk], now, world.settings)
            assert _deployment(db, hubs[2]).detail == ""
        for word in ("signature", "manifest", "sequence", "hardware", "size", "integrity"):
            d = _deployment(db, hubs[2])
            d.state, d.result = "downloading", ""
            deployments.report(db, hubs[2], ["refused", 4, word], now)
            assert decoded(d.detail) == ("refused_" + word, {})
            assert otareasons.detail(IT, d).startswith("rifiutato dall'hub: ")
            assert otareasons.detail(EN, d).startswith("refused by the hub: ")


def test_the_caregiver_notice_says_why_the_update_waits(world):
    now = utcnow()
    with session(world.engine) as db:
        rel = ota_support.upload(db, world.settings, world.key, 5, hw="micropython-esp32")
        c = camps.create(db, None, rel.id, hub_ids=["hub-a"], waves=(100,))
        camps.start(db, None, c.id)
        alert = ota_support.open_alert(db, world.anna, now)
        hub = _hub(db, "hub-a")
        assert deployments.offer(db, world.settings, hub, now) is None
        db.commit()
        anna = db.get(Resident, world.anna)
        held = deployments.monitoring_pause(db, anna)
        assert held["held"] == ("held_alert", {})
        # Anna's daughter reads it on her page.
        care = unescape(browser(world, "care").get("/care").text)
        assert "rimandato finché c'è un allarme aperto per un residente" in care
        assert otareasons.notice(IT, held, "Anna") == (
            "Aggiornamento del sistema: il monitoraggio di Anna si fermerà per circa 60 "
            "secondi. L'aggiornamento è rimandato finché c'è un allarme aperto per un residente"
        )
        assert otareasons.notice(EN, held, "Anna") == (
            "System update: Anna's monitoring will pause for about 60 seconds. "
            "The update waits while an alert is open for a resident"
        )
        db.delete(alert)
        db.commit()
        assert deployments.offer(db, world.settings, hub, now) == {1: 5}
        db.commit()
        go = deployments.monitoring_pause(db, anna)
        assert go["held"] is None
        assert otareasons.notice(IT, go, "Anna") == (
            "Aggiornamento del sistema: il monitoraggio di Anna si fermerà per circa 60 secondi"
        )
        # Held after the download began, the download goes on: the notice tells of a hold
        # while the hub's detail says why, never its progress as if it were the reason.
        deployments.report(db, hub, ["downloading", 5, 1024], now, world.settings)
        ota_support.open_alert(db, world.anna, now)
        assert deployments.offer(db, world.settings, hub, now) is None
        db.commit()
        assert deployments.monitoring_pause(db, anna)["held"] == ("held_alert", {})
        deployments.report(db, hub, ["downloading", 5, 2048], now, world.settings)
        db.commit()
        assert deployments.monitoring_pause(db, anna)["held"] is None
