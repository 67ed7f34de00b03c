"""An update of the MicroPython image end to end through the REAL fleet (fleet.coap,
campaigns, deployments): an emulated hub in its own process, with the emulated ESP32's
two OTA partitions (emulator/hw/esp32.py), is offered an image release built by
tools/release.py build_image. The deployment is "updated" only once the hub's heartbeat
key 11 names the release's version and telemetry followed; an image that crashes before
it confirms itself is booted out by the bootloader and the deployment fails "rolled
back"."""

import json
import sys

from fleet.db import session
from fleet.models import Hub
from fleet.ota import campaigns, releases
from tests.fleet.test_ota_e2e import HW, site  # noqa: F401  (the fixture)
from tests.mpy import ROOT
from tools import release

sys.path.insert(0, str(ROOT / "emulator" / "hw"))

import esp32  # noqa: E402


def _release(site, tmp_path, image, version, seq):  # noqa: F811 (the fixture's value)
    """Upload the image release and start a campaign for the hub; its id."""
    key = release._ed25519().Ed25519PrivateKey.generate()
    trusted = release.trusted_keys([release.public_bytes(key)])
    (tmp_path / "ota.keys").write_bytes(trusted)
    (site.flash / "ota.keys").write_bytes(trusted)
    cose, bundle, _ = release.build_image(key, image, version, seq, HW, trial=(1, 60))
    with session(site.engine) as db:
        rel = releases.upload(db, site.settings, cose, bundle, site.tech)
        c = campaigns.create(db, site.tech, rel.id, hub_ids=[site.hub_id], waves=(100,))
        campaigns.start(db, site.tech, c.id)
        return c.id


def _otadata(s):
    return json.loads((s.hub.dir / "otadata.json").read_text())


def _hub(s):
    with session(s.engine) as db:
        return db.get(Hub, s.deployment().hub_id)


async def test_an_image_campaign_ends_updated_once_the_hub_reports_the_image(site, tmp_path):  # noqa: F811
    image = esp32.emulated_image(b"MicroPython emulated 1.25.0", size=8_000)
    cid = _release(site, tmp_path, image, "1.25.0", 2)
    site.hub.start()
    await site.until(lambda: site.deployment().state == "updated", 60, "the update")
    assert site.resets == 1  # into the new image, which stayed
    assert _otadata(site) == {"boot": "ota_1", "state": {"ota_0": "valid", "ota_1": "valid"}}
    hub = _hub(site)
    assert (hub.image_version, hub.firmware_version) == ("1.25.0", "0.1.0")
    await site.until(
        lambda: _campaign(site, cid)["campaign"].state == "finished", 5, "the campaign's end"
    )
    assert _campaign(site, cid)["counts"] == {"updated": 1}


async def test_an_image_that_crashes_ends_rolled_back_on_the_fleet(site, tmp_path):  # noqa: F811
    image = esp32.emulated_image(b"MicroPython emulated 1.26.0 crash", size=8_000)
    _release(site, tmp_path, image, "1.26.0", 3)
    site.hub.start()
    await site.until(lambda: site.deployment().state == "failed", 60, "the rollback's report")
    d = site.deployment()
    assert d.result == "rolled back"
    assert site.resets == 2  # into the new image; its crash, before it marked itself valid
    assert _otadata(site) == {"boot": "ota_0", "state": {"ota_0": "valid", "ota_1": "aborted"}}
    assert _hub(site).image_version == ""  # still the factory image: nothing confirmed


def _campaign(s, cid):
    with session(s.engine) as db:
        return campaigns.summary(db, cid)
