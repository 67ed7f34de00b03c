"""End to end through the REAL fleet (the set-up of tests/fleet/test_ota_e2e.py): an alert
opens for a resident the hub serves while the hub downloads an update. The hub finishes
the download and verifies it, but installs nothing while the alert is open; once it is
resolved the hub installs, boots the new copy, and the deployment ends "updated"; the
pause it cost is what the fleet then tells caregivers."""

import asyncio
from datetime import UTC, datetime

from sqlmodel import select

from fleet.db import session
from fleet.models import ALERT_RESOLVED, Alert, Flat, Hub, Resident, Sensor
from fleet.ota import campaigns, decoded, deployments, releases
from tests.fleet.ota_support import open_alert
from tests.fleet.test_ota_e2e import HW, site  # noqa: F401  (the fixture)
from tools import release


def _serve_a_resident(engine, hub_pk):
    """Put the hub's sensors in a flat of its condominium; that flat's resident's id."""
    with session(engine) as db:
        condo_id = db.get(Hub, hub_pk).condominium_id
        flats = select(Flat.id).where(Flat.condominium_id == condo_id)
        resident = db.exec(select(Resident).where(Resident.flat_id.in_(flats))).first()
        for s in db.exec(select(Sensor).where(Sensor.hub_id == hub_pk)).all():
            s.flat_id = resident.flat_id
            db.add(s)
        db.commit()
        return resident.id


async def test_an_alert_opened_mid_download_holds_the_install_until_resolved(site, tmp_path):  # noqa: F811
    key = release._ed25519().Ed25519PrivateKey.generate()
    trusted = release.trusted_keys([release.public_bytes(key)])
    (tmp_path / "ota.keys").write_bytes(trusted)
    (site.flash / "ota.keys").write_bytes(trusted)
    manifest, bundle, _ = release.build(key, "0.2.0", 2, HW, trial=(2, 60))
    with session(site.engine) as db:
        rel = releases.upload(db, site.settings, manifest, bundle, site.tech)
        c = campaigns.create(db, site.tech, rel.id, hub_ids=[site.hub_id], waves=(100,))
        campaigns.start(db, site.tech, c.id)
    resident = _serve_a_resident(site.engine, site.deployment().hub_id)
    site.hub.start()
    await site.until(lambda: site.deployment().blocks >= 2, 60, "the download to begin")
    with session(site.engine) as db:
        alert = open_alert(db, resident, datetime.now(UTC)).id
    await site.until(lambda: site.deployment().state == "downloaded", 60, "the verified bundle")
    # Several heartbeats (1 s apart) with the bundle verified on flash: no install.
    await asyncio.sleep(4)
    d = site.deployment()
    assert (d.state, decoded(d.detail)) == ("downloaded", ("held_alert", {}))
    assert site.resets == 0 and not (site.flash / "ota.state").exists()
    with session(site.engine) as db:
        a = db.get(Alert, alert)
        a.state, a.open_key = ALERT_RESOLVED, None
        db.add(a)
        db.commit()
    await site.until(lambda: site.deployment().state == "updated", 90, "the update")
    assert site.resets == 1 and site.deployment().result == ""
    # What caregivers of the next hubs are told: this update's pause, as measured.
    with session(site.engine) as db:
        pause = deployments.measured_pause_s(db, rel.id)
    print(f"\nmonitoring paused {pause:.1f} s for the update (heartbeats)")
    assert 0 < pause < 60
