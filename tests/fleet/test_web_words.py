"""Plain words on the pages, on both databases: a hub is named by the flats it serves,
its history and last reset cause are in the page's language instead of the hub's and the
audit log's raw words, and a flat without sensors says so instead of drawing an empty
day."""

from sqlmodel import select

from fleet.db import session
from fleet.models import Hub
from fleet.services.audit import audit
from tests.fleet.test_web import browser, world  # noqa: F401


def test_a_hub_is_named_by_its_flat_and_its_history_is_in_italian(world):  # noqa: F811
    with session(world.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        hub.reset_cause = "watchdog"
        db.add(hub)
        audit(db, world.tech, "provision", "hub", "hub-a")
        audit(db, world.vol, "claim", "hub", "hub-a")
        db.commit()
        hub_pk = hub.id
    vol = browser(world, "vol")
    assert "Hub dell&#39;interno 3B" in vol.get("/condo").text
    page = vol.get(f"/hubs/{hub_pk}").text
    assert "blocco, riavviato da solo" in page and "watchdog" not in page
    assert "— preparato</li>" in page and "— assegnato al condominio</li>" in page
    english = browser(world, "vol")
    english.cookies.set("portineria_lang", "en")
    assert "— assigned to the condominium</li>" in english.get(f"/hubs/{hub_pk}").text


def test_a_flat_without_sensors_says_so(world):  # noqa: F811
    bruno = browser(world, "care_b").get(f"/residents/{world.bruno}").text
    assert "Nessun sensore in casa per ora" in bruno and 'class="hours"' not in bruno
    anna = browser(world, "care").get(f"/residents/{world.anna}").text
    assert "Nessun sensore in casa" not in anna and 'class="hours"' in anna
