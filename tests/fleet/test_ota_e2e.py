"""End to end through the REAL fleet: an emulated hub (the unchanged firmware in its own
CPython process, real time, real UDP and OSCORE) set up by enrolment.set_up as a
cpython-linux hub, a release built and signed by tools/release.py and uploaded, a campaign
started. The hub learns of it from its heartbeat reply, pulls m and i block by block
(cut by the fleet), survives a power cut mid-download and fetches only the missing
blocks, installs, trial-boots, confirms, sends telemetry — and only then is the
deployment "updated" and the campaign finished. About 30 s."""

import asyncio
import time

import pytest
from sqlmodel import select

from emulator.ports import free_udp_port
from emulator.standin_fleet import write_identity
from emulator.supervisor import RESET_EXIT_BASE
from emulator.supervisor import Hub as EmulatedHub
from emulator.supervisor import provision as make_hub_dir
from fleet.coap import CoapServer
from fleet.db import make_engine, session
from fleet.models import Deployment, HubHealthSample, User, VolunteerCondominium
from fleet.ota import campaigns, decoded, releases
from fleet.services import enrolment
from fleet.settings import Settings
from tools import release

HW = "cpython-linux"
SENSORS = [
    {"id": "panic", "kind": "panic", "room": "living", "pin": 4, "active": 0},
    {"id": "pir-k", "kind": "motion", "room": "kitchen", "pin": 12, "active": 1},
]


class Site:
    def __init__(self, engine, hub, hub_id):
        self.engine, self.hub, self.hub_id = engine, hub, hub_id
        self.resets = 0

    async def keep_running(self):
        # The hub's power supply after a reset, and a resident walking about the
        # kitchen now and then (motion events: telemetry).
        n = 0
        while True:
            await asyncio.sleep(0.05)
            code = self.hub.proc.poll()
            if code is not None and code > RESET_EXIT_BASE:
                self.resets += 1
                self.hub.start(code - RESET_EXIT_BASE)
            n += 1
            if n % 40 == 0 and self.hub.running():
                self.hub.send("motion", room="kitchen")

    def deployment(self):
        with session(self.engine) as db:
            return db.exec(select(Deployment)).one()

    async def until(self, predicate, timeout, what):
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, (
                f"timed out waiting for {what}: {self.deployment()}\n{self.hub.console()[-3000:]}"
            )
            await asyncio.sleep(0.05)


@pytest.fixture
async def site(tmp_path, db_url):
    from fleet import demo

    settings = Settings(
        database_url=db_url,  # migrated, SQLite or PostgreSQL
        coap_port=free_udp_port(),
        heartbeat_interval_s=1,
        ota_tick_s=0.2,
        release_keys=str(tmp_path / "ota.keys"),
    )
    engine = make_engine(settings.database_url)
    with session(engine) as db:
        demo.seed(db)
        tech = db.exec(select(User).where(User.role == "technician")).first()
        vol = db.exec(select(User).where(User.role == "volunteer")).first()
        condo = db.exec(select(VolunteerCondominium).where(VolunteerCondominium.user_id == vol.id)
                        ).first().condominium_id  # fmt: skip
        made = enrolment.set_up(db, settings, tech, vol, condo, None, SENSORS, "test",
                                hardware=HW, port=settings.coap_port, ssid="p", wkey="", ack=200,
                                )  # fmt: skip
    server = CoapServer(settings, engine)
    await server.start()
    d = make_hub_dir(tmp_path / "hub", wlan={"ssid": "p", "key": "", "assoc_ms": 100})
    write_identity(d / "flash", made.identity)
    hub = EmulatedHub(d, real_time=True)
    s = Site(engine, hub, made.hub.hub_id)
    s.settings = settings
    s.tech = tech
    s.flash = d / "flash"
    keeper = asyncio.ensure_future(s.keep_running())
    try:
        yield s
    finally:
        keeper.cancel()
        hub.power_cut()
        await server.stop()
        engine.dispose()


async def test_a_campaign_updates_a_real_emulated_hub_through_the_real_fleet(site, tmp_path):
    key = release._ed25519().Ed25519PrivateKey.generate()
    trusted = release.trusted_keys([release.public_bytes(key)])
    (tmp_path / "ota.keys").write_bytes(trusted)  # the fleet's list: public keys only
    (site.flash / "ota.keys").write_bytes(trusted)  # as provisioning does on the hub
    manifest, bundle, _ = release.build(key, "0.2.0", 2, HW, trial=(2, 60))
    blocks = (len(manifest) + 1023) // 1024 + (len(bundle) + 1023) // 1024
    with session(site.engine) as db:
        rel = releases.upload(db, site.settings, manifest, bundle, site.tech)
        c = campaigns.create(db, site.tech, rel.id, hub_ids=[site.hub_id], waves=(100,))
        campaigns.start(db, site.tech, c.id)
    site.hub.start()
    # Cut the power halfway through the bundle; the hub resumes from its flash.
    await site.until(lambda: site.deployment().blocks >= blocks // 2, 60, "half the blocks")
    site.hub.power_cut()
    served_before_cut = site.deployment().blocks
    await asyncio.sleep(0.3)
    site.hub.start()
    await site.until(lambda: site.deployment().state == "confirming", 90, "the hub's report")
    d = site.deployment()
    assert d.result == "" and decoded(d.detail) == ("reported", {"version": "0.2.0"})
    # The block in flight at the cut may come twice; nothing else is fetched again.
    assert blocks <= d.blocks <= blocks + 1, (d.blocks, blocks, served_before_cut)
    await site.until(lambda: site.deployment().state == "updated", 30, "telemetry")
    with session(site.engine) as db:
        s = campaigns.summary(db, c.id)
        samples = db.exec(select(HubHealthSample).order_by(HubHealthSample.at)).all()
    await site.until(lambda: _campaign_state(site, c.id) == "finished", 5, "the campaign's end")
    assert s["counts"] == {"updated": 1} and site.resets == 1
    # Lost monitoring: the last heartbeat of the old version to the first of the new.
    old = [x.at for x in samples if x.firmware_version == "0.1.0"]
    new = [x.at for x in samples if x.firmware_version == "0.2.0"]
    gap = (new[0] - max(t for t in old if t < new[0])).total_seconds()
    print(f"\nbundle {len(bundle)} B, {blocks} blocks, {d.blocks} served (power cut after "
          f"{served_before_cut}); heartbeats paused {gap:.1f} s for the update")  # fmt: skip
    assert gap < 60


def _campaign_state(site, cid):
    with session(site.engine) as db:
        return campaigns.get(db, cid).state
