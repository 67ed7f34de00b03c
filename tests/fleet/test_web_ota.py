"""The over-the-air update pages through TestClient on both databases: technicians and
admins only; a release uploaded by form (a refused one shows fleet.ota's reason); a
campaign created by form, started, paused by hand with a reason, resumed and cancelled,
each with the CSRF token; a wave's figures and the reason of a pause it made by itself;
and the caregiver's notice that her resident's monitoring will pause for an update, in
Italian and English, shown only to that resident's circle."""

from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import select

from fleet.db import session
from fleet.models import Campaign, Deployment, Hub, Release, utcnow
from fleet.ota import campaigns, deployments
from tests.fleet import ota_support
from tests.fleet.test_web import _hub_pk, browser, csrf_of

HW = "micropython-esp32"  # the seeded hubs' class (Hub.hardware "esp32")


@pytest.fixture
def world(engine, db_url, tmp_path):
    return ota_support.world(engine, db_url, tmp_path)


def _upload(c, w, seq, key=None, token=None):
    manifest, bundle = ota_support.build(key or w.key, seq, hw=HW)
    token = token or csrf_of(c.get("/ota").text)
    files = {"manifest": ("manifest.cose", manifest), "bundle": ("bundle.bin", bundle)}
    return c.post("/ota/releases", data={"csrf": token}, files=files)


def _release_id(w, seq):
    with session(w.engine) as db:
        return db.exec(select(Release.id).where(Release.seq == seq)).one()


def _campaign(w):
    with session(w.engine) as db:
        return db.exec(select(Campaign).order_by(Campaign.id.desc())).first()


def test_only_technicians_and_admins_reach_the_update_pages(world):
    for role in ("care", "vol"):
        c = browser(world, role)
        assert c.get("/ota").status_code == 403
        assert c.get("/ota/campaigns/new").status_code == 403
        assert 'href="/ota"' not in c.get("/settings").text  # no link in their navigation
    for role in ("tech", "admin"):
        page = browser(world, role).get("/ota")
        assert page.status_code == 200 and 'href="/ota"' in page.text
        assert "Nessun rilascio caricato." in page.text
    assert browser(world).get("/ota").status_code == 303  # to the login page


def test_upload_form_stores_a_release_and_shows_a_refusal(world):
    c = browser(world, "tech")
    assert _upload(c, world, 5, token="forged").status_code == 403
    r = _upload(c, world, 5)
    assert r.status_code == 303 and r.headers["location"] == "/ota"
    page = c.get("/ota").text
    assert "0.2.0" in page and f'data-release="{_release_id(world, 5)}"' in page
    refused = _upload(c, world, 5)  # the same sequence number again
    assert refused.status_code == 400
    assert "Una versione con numero di sequenza 5 è già caricata." in refused.text
    untrusted = _upload(c, world, 6, key=ota_support.new_key())
    assert untrusted.status_code == 400 and "chiave non fidata" in untrusted.text
    c.cookies.set("portineria_lang", "en")
    again = _upload(c, world, 6, key=ota_support.new_key())
    assert "The manifest is signed by an untrusted key." in again.text


def test_campaign_created_paused_resumed_and_cancelled_from_its_page(world):
    c = browser(world, "tech")
    _upload(c, world, 7)
    rid = _release_id(world, 7)
    form = c.get(f"/ota/campaigns/new?release={rid}").text
    assert f'<option value="{rid}" selected>' in form and "Via Padova 12" in form
    fields = {"csrf": csrf_of(form), "release_id": str(rid), "name": "spring",
              "condominium_ids": str(world.condo_a), "waves": "1 100", "success": "90",
              "failure": "20", "window_start": "", "window_end": "", "start": "1"}  # fmt: skip
    bad = c.post("/ota/campaigns", data={**fields, "waves": "10 50"})
    assert bad.status_code == 400 and "l'ultima è 100" in unescape(bad.text)
    assert 'value="spring"' in bad.text  # what was typed stays
    assert c.post("/ota/campaigns", data={**fields, "csrf": "x"}).status_code == 403
    r = c.post("/ota/campaigns", data=fields)
    camp = _campaign(world)
    assert r.status_code == 303 and r.headers["location"] == f"/ota/campaigns/{camp.id}"
    assert camp.state == "running" and camp.target["condominium_ids"] == [world.condo_a]
    page = c.get(r.headers["location"]).text
    assert "in corso" in page and "0 aggiornati, 0 falliti, 1 in corso su 1" in page
    assert "hub-a" in page and "hub-b" not in page  # condominium A only
    live = page[page.index('<div id="progress"') :]  # what refreshes itself every 5 s
    assert 'hx-trigger="every 5s"' in live[:300]
    assert f'action="/ota/campaigns/{camp.id}/pause"' in live and 'id="campaign-state"' in live
    token = csrf_of(page)
    base = f"/ota/campaigns/{camp.id}"
    assert c.post(base + "/pause", data={"csrf": "x", "reason": "r"}).status_code == 403
    r = c.post(base + "/pause", data={"csrf": token, "reason": "storm tonight"})
    assert r.status_code == 303
    page = c.get(base).text
    assert "Messa in pausa da Tech: storm tonight" in page and ">Riprendi<" in page
    again = c.post(base + "/pause", data={"csrf": token, "reason": "twice"})
    assert again.status_code == 409
    assert "Una campagna in pausa non si può mettere in pausa." in again.text
    assert c.post(base + "/resume", data={"csrf": token}).status_code == 303
    assert _campaign(world).state == "running"
    assert c.post(base + "/cancel", data={"csrf": token}).status_code == 303
    page = c.get(base).text
    assert "annullata" in page and "campagna annullata" in page  # the hub's result too
    assert c.post(base + "/launch", data={"csrf": token}).status_code == 404
    assert c.get("/ota/campaigns/999999").status_code == 404


def test_a_campaign_that_paused_by_itself_says_why(world):
    c = browser(world, "admin")
    _upload(c, world, 8)
    with session(world.engine) as db:
        camp = campaigns.create(db, None, _release_id(world, 8), waves=(1, 100))
        campaigns.start(db, None, camp.id)
        d = db.exec(select(Deployment).where(Deployment.campaign_id == camp.id)).first()
        d.state, d.result, d.detail = "failed", "rolled back", "0.2.0"
        db.add(d)
        db.commit()
        campaigns.tick(db, world.settings, utcnow())
        cid = camp.id
    page = c.get(f"/ota/campaigns/{cid}").text
    assert "Si è fermata da sola: ondata 1: 1 hub su 1 non si sono aggiornati" in page
    assert "tornato alla versione precedente" in page
    assert "0 aggiornati, 1 falliti, 0 in corso su 1" in page
    home = c.get("/ota").text
    assert "in pausa" in home and "0 aggiornati, 1 falliti su 2" in home


def _offer_to_hub_a(w):
    """A running campaign to hub-a (which serves Anna's flat) and its offer taken."""
    c = browser(w, "tech")
    _upload(c, w, 9)
    with session(w.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        camp = campaigns.create(db, None, _release_id(w, 9), hub_ids=["hub-a"], waves=(100,))
        campaigns.start(db, None, camp.id)
        assert deployments.offer(db, w.settings, hub, utcnow()) is not None
        db.commit()
        return hub.id


def test_caregiver_is_told_monitoring_will_pause_for_an_update(world):
    care, other = browser(world, "care"), browser(world, "care_b")
    notice = "Aggiornamento del sistema: il monitoraggio di Anna si fermerà per circa"
    assert notice not in care.get("/care").text  # nothing pending yet
    hub_pk = _offer_to_hub_a(world)
    home = care.get("/care").text
    assert f"{notice} {deployments.EXPECTED_PAUSE_S} secondi" in home
    assert notice in care.get(f"/residents/{world.anna}").text
    assert "Aggiornamento del sistema" not in other.get("/care").text  # Bruno's hub: no update
    care.cookies.set("portineria_lang", "en")
    english = unescape(care.get("/care").text)
    assert "System update: Anna's monitoring will pause for about 60 seconds" in english
    with session(world.engine) as db:  # installing now: "is paused", not "will pause"
        d = db.exec(select(Deployment).where(Deployment.hub_id == hub_pk)).one()
        d.state = "updating"
        d.updated_at = utcnow() - timedelta(seconds=5)
        db.add(d)
        db.commit()
    now = unescape(care.get("/care").text)
    assert "System update under way: Anna's monitoring is paused for about 60 seconds" in now
    with session(world.engine) as db:
        d = db.exec(select(Deployment).where(Deployment.hub_id == hub_pk)).one()
        d.state = "updated"
        db.add(d)
        db.commit()
    assert "System update" not in care.get("/care").text  # over: the notice goes


def test_the_hub_page_lists_its_updates_for_technicians_only(world):
    tech = browser(world, "tech")
    _upload(tech, world, 10)
    with session(world.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        camp = campaigns.create(db, None, _release_id(world, 10), hub_ids=["hub-a"], name="Estate")
        campaigns.start(db, None, camp.id)
        d = db.exec(select(Deployment).where(Deployment.campaign_id == camp.id)).one()
        d.state, d.result, d.detail = "failed", "rolled back", "0.2.0"
        db.add(d)
        db.commit()
        hub_pk, cid = hub.id, camp.id
    page = tech.get(f"/hubs/{hub_pk}").text
    section = page[page.index('id="hub-updates"') :]
    row = section[section.index(f'data-campaign="{cid}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/ota/campaigns/{cid}"' in row and "Estate" in row
    assert "fallito" in row and "tornato alla versione precedente" in row and "0.2.0" in row
    other = tech.get(f"/hubs/{_hub_pk(world, 'hub-b')}").text
    assert "Nessun aggiornamento per questo hub." in other
    vol = browser(world, "vol").get(f"/hubs/{hub_pk}").text  # no OTA pages for volunteers
    assert f'data-sensor="{world.sensor}"' in vol  # the hub's page, with its sensors
    assert 'id="hub-updates"' not in vol and "/ota/campaigns/" not in vol
