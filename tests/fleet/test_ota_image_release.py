"""A release of the MicroPython image itself (tools/release.py build_image, component
"micropython") is stored and offered by the fleet as any release: the same manifest
format, the bundle being the image."""

from fleet.db import session
from fleet.models import utcnow
from fleet.ota import campaigns, deployments, releases
from tests.fleet import ota_support
from tests.fleet.api_support import make_settings, seed
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
