"""A release of the MicroPython image itself (tools/release.py build_image, component
"micropython") is stored and offered by the fleet as any release: the same manifest
format, the bundle being the image."""

import pytest
from sqlmodel import select

from fleet.db import session
from fleet.models import Deployment, Hub, utcnow
from fleet.ota import campaigns, deployments, releases
from fleet.services import health
from tests.fleet import ota_support
from tests.fleet.api_support import make_settings, seed
from tests.fleet.test_web import browser
from tools import release

IMAGE = (
    bytes([0xE9, 1, 2, 0]) + bytes(60) + b"\xa5" * 3000
)  # an app image, as far as the fleet cares


def test_an_image_release_is_stored_and_offered_like_an_application(engine, db_url, tmp_path):
    key = ota_support.new_key()
    settings = make_settings(db_url, release_keys=ota_support.keys_file(tmp_path, key))
    w = seed(engine, settings)
    manifest, bundle, _ = release.build_image(key, IMAGE, "1.25.0", 8, "micropython-esp32")
    with session(engine) as db:
        (hub,) = ota_support.add_hubs(db, 1, w.condo_a, hardware="esp32", prefix="img")
        rel = releases.upload(db, settings, manifest, bundle, None)
        assert releases.public(rel)["component"] == "micropython"
        assert (rel.size, rel.bundle, rel.manifest) == (len(IMAGE), IMAGE, manifest)
        c = campaigns.create(db, None, rel.id, hub_ids=[hub.hub_id], waves=(100,))
        campaigns.start(db, None, c.id)
        assert deployments.offer(db, settings, hub, utcnow()) == {1: 8}


def _image_world(engine, db_url, tmp_path, **target):
    """Three esp32 hubs: i0 already on image 1.25.0, i1 on 1.24.1 with an application
    numbered like the image, i2 not yet reporting its image; a running campaign of image
    1.25.0 (seq 8). Returns (settings, campaign, hubs by id)."""
    key = ota_support.new_key()
    settings = make_settings(db_url, release_keys=ota_support.keys_file(tmp_path, key))
    w = seed(engine, settings)
    manifest, bundle, _ = release.build_image(key, IMAGE, "1.25.0", 8, "micropython-esp32")
    with session(engine) as db:
        hubs = ota_support.add_hubs(db, 3, w.condo_a, hardware="esp32", prefix="i")
        by_id = {h.hub_id: h for h in hubs}
        hubs[0].image_version = "1.25.0"
        hubs[1].image_version, hubs[1].firmware_version = "1.24.1", "1.25.0"
        db.add_all(hubs)
        db.commit()
        rel = releases.upload(db, settings, manifest, bundle, None)
        c = campaigns.create(db, None, rel.id, hub_ids=list(by_id), waves=(100,), **target)
        campaigns.start(db, None, c.id, now=ota_support.T0)
    return settings, c, by_id


def test_hubs_already_on_the_image_are_not_offered_it(engine, db_url, tmp_path):
    # By the image's version (key 11), not the application's (key 5).
    settings, c, _ = _image_world(engine, db_url, tmp_path)
    with session(engine) as db:
        deps = db.exec(select(Deployment).where(Deployment.campaign_id == c.id)).all()
        assert sorted(db.get(Hub, d.hub_id).hub_id for d in deps) == ["i1", "i2"]


def test_an_image_campaign_from_versions_means_image_versions(engine, db_url, tmp_path):
    settings, c, _ = _image_world(engine, db_url, tmp_path, from_versions=["1.24.1"])
    with session(engine) as db:
        deps = db.exec(select(Deployment).where(Deployment.campaign_id == c.id)).all()
        assert [db.get(Hub, d.hub_id).hub_id for d in deps] == ["i1"]


def _beat(engine, settings, hub_id, now, keys):
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == hub_id)).one()
        return health.heartbeat(db, settings, hub, {1: 100, **keys}, now)


def _state(engine, hub_id):
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == hub_id)).one()
        d = db.exec(select(Deployment).where(Deployment.hub_id == hub.id)).one()
        return d.state, d.result


def test_an_image_deployment_is_updated_once_key_11_shows_its_version(engine, db_url, tmp_path):
    settings, _, _ = _image_world(engine, db_url, tmp_path)
    at = ota_support.at
    assert 3 in _beat(engine, settings, "i2", at(1), {5: "0.1.0", 11: "1.24.1"})  # offered
    # Confirmed on the hub, but key 11 still names the old image (the application's
    # version is no evidence either way).
    _beat(engine, settings, "i2", at(2), {5: "1.25.0", 11: "1.24.1", 9: ["updated", 8, "1.25.0"]})
    with session(engine) as db:
        ota_support.telemetry(db, db.exec(select(Hub).where(Hub.hub_id == "i2")).one(), 1, at(3))
    _beat(engine, settings, "i2", at(4), {5: "1.25.0", 11: "1.24.1", 9: ["updated", 8, "1.25.0"]})
    assert _state(engine, "i2") == ("confirming", "")
    _beat(engine, settings, "i2", at(5), {5: "0.1.0", 11: "1.25.0", 9: ["updated", 8, "1.25.0"]})
    assert _state(engine, "i2") == ("updated", "")
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "i2")).one()
        assert (hub.image_version, hub.firmware_version) == ("1.25.0", "0.1.0")


def test_heartbeat_key_11_is_short_text(engine, db_url, tmp_path):
    settings, _, _ = _image_world(engine, db_url, tmp_path)
    with pytest.raises(health.HeartbeatRejected):
        _beat(engine, settings, "i2", ota_support.at(1), {11: 125})
    _beat(engine, settings, "i2", ota_support.at(2), {11: "9" * 100})
    with session(engine) as db:
        assert db.exec(select(Hub).where(Hub.hub_id == "i2")).one().image_version == "9" * 64


def test_technicians_see_the_image_version_in_the_api_and_on_the_hub_page(engine, db_url):
    settings = make_settings(db_url)
    w = seed(engine, settings)
    w.engine, w.settings = engine, settings
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        hub.image_version = "1.25.0"
        db.commit()
        pk = hub.id
    c = browser(w, "tech")
    assert c.get("/api/hubs/hub-a", headers=w.headers["tech"]).json()["image_version"] == "1.25.0"
    page = c.get(f"/hubs/{pk}").text
    assert "Sistema di base" in page and "MicroPython 1.25.0" in page
