"""Campaigns and deployments through the doors a hub uses (heartbeats with keys 9 and 10,
telemetry receipts) and the server's tick: waves advance on success, pause by themselves
on failures, respect the maintenance window and the residents' safety, and a hub counts
as updated only once the new version has sent telemetry."""

from datetime import timedelta

import pytest
from sqlmodel import select

from fleet.db import session
from fleet.models import ALERT_RESOLVED, Alert, Deployment, Hub, Resident
from fleet.ota import OTAError, campaigns, deployments
from fleet.services import health
from tests.fleet.api_support import make_settings, seed
from tests.fleet.ota_support import (
    T0,
    add_hubs,
    at,
    campaign,
    keys_file,
    new_key,
    open_alert,
    serve_flat,
    telemetry,
    upload,
)


@pytest.fixture
def key():
    return new_key()


@pytest.fixture
def settings(db_url, tmp_path, key):
    return make_settings(db_url, release_keys=keys_file(tmp_path, key),
                         ota_deployment_timeout_s=600, ota_max_deferral_s=3600)  # fmt: skip


@pytest.fixture
def world(engine, settings):
    return seed(engine, settings)


def beat(engine, settings, hub_id, now, version=None, report=None, held=None):
    """A heartbeat from `hub_id` as the CoAP resource hands it over (key 9 `report`, key
    10 `held`); the reply map."""
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == hub_id)).one()
        b = {1: 100, 5: version or hub.firmware_version}
        for k, v in ((9, report), (10, held)):
            if v is not None:
                b[k] = v
        return health.heartbeat(db, settings, hub, b, now)


def offered(engine, settings, hub_ids, now):
    return [h for h in hub_ids if 3 in beat(engine, settings, h, now)]


def update_hub(engine, settings, hub_id, seq, now, version="0.2.0"):
    """What a hub does after a good update: reports, beats as the new version, sends
    telemetry."""
    beat(engine, settings, hub_id, now, report=["updating", seq, version])
    beat(engine, settings, hub_id, now + timedelta(seconds=5), version=version,
         report=["updated", seq, version])  # fmt: skip
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == hub_id)).one()
        telemetry(db, hub, 1000 + seq, now + timedelta(seconds=6))
    beat(engine, settings, hub_id, now + timedelta(seconds=7), version=version,
         report=["updated", seq, version])  # fmt: skip


def tick(engine, settings, now):
    with session(engine) as db:
        campaigns.tick(db, settings, now)
        return campaigns.summary(db, 1)


def states(engine):
    with session(engine) as db:
        rows = db.exec(select(Hub.hub_id, Deployment.state, Deployment.result)
                       .join(Deployment, Deployment.hub_id == Hub.id)).all()  # fmt: skip
        return {h: (s, r) for h, s, r in rows}


def test_waves_advance_on_success_share_and_the_campaign_finishes(engine, settings, world, key):
    with session(engine) as db:
        hubs = [h.hub_id for h in add_hubs(db, 20, world.condo_a)]
        rel = upload(db, settings, key, 2)
        c = campaign(db, settings, rel, waves=(1, 10, 50, 100), success_share=0.5)
        assert campaigns.wave_sizes(20, c.waves) == [1, 2, 10, 20]
    assert offered(engine, settings, hubs, at(1)) == hubs[:1]  # the canary only
    update_hub(engine, settings, hubs[0], 2, at(2))
    assert states(engine)[hubs[0]] == ("updated", "")
    s = tick(engine, settings, at(3))
    assert s["campaign"].current_wave == 2 and s["waves"][0]["updated"] == 1
    assert offered(engine, settings, hubs, at(4)) == hubs[1:2]
    update_hub(engine, settings, hubs[1], 2, at(5))
    tick(engine, settings, at(6))
    assert offered(engine, settings, hubs, at(7)) == hubs[2:10]
    for h in hubs[2:6]:  # half of wave 3: success_share 0.5 reached
        update_hub(engine, settings, h, 2, at(8))
    s = tick(engine, settings, at(9))
    assert s["campaign"].current_wave == 4
    assert s["waves"][2] == {"wave": 3, "hubs": 8, "updated": 4, "failed": 0, "in_progress": 4}
    # Wave 3's stragglers are still offered beside wave 4.
    assert offered(engine, settings, hubs, at(10)) == hubs[6:]
    for h in hubs[6:]:
        update_hub(engine, settings, h, 2, at(11))
    s = tick(engine, settings, at(12))
    assert s["campaign"].state == "finished" and s["counts"] == {"updated": 20}
    assert offered(engine, settings, hubs, at(13)) == []


def test_a_failing_wave_pauses_the_campaign_by_itself(engine, settings, world, key):
    with session(engine) as db:
        hubs = [h.hub_id for h in add_hubs(db, 10, world.condo_a)]
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(1, 100), failure_share=0.2)
    beat(engine, settings, hubs[0], at(1), report=["rolled back", 2, "0.2.0"])
    assert states(engine)[hubs[0]] == ("failed", "rolled back")
    s = tick(engine, settings, at(2))
    assert s["campaign"].state == "paused"
    assert s["campaign"].paused_reason == "wave 1: 1 of 1 hubs failed"
    said = ("wave_failed", {"wave": 1, "failed": 1, "hubs": 1})
    assert campaigns.pause_code(s["campaign"]) == said  # what the pages translate
    assert offered(engine, settings, hubs, at(3)) == []
    # A person looks, accepts the canary's failure and resumes: wave 2 opens.
    with session(engine) as db:
        campaigns.resume(db, None, 1)
    s = tick(engine, settings, at(4))
    assert s["campaign"].state == "running" and s["campaign"].current_wave == 2
    assert offered(engine, settings, hubs, at(5)) == hubs[1:]
    # Three of nine refuse: past 20 %, paused again.
    for h, why in zip(hubs[1:4], ("signature", "space", "hardware"), strict=True):
        beat(engine, settings, h, at(6), report=["refused", 2, why])
    s = tick(engine, settings, at(7))
    assert s["campaign"].state == "paused" and "3 of 9" in s["campaign"].paused_reason
    said = ("wave_failed", {"wave": 2, "failed": 3, "hubs": 9})
    assert campaigns.pause_code(s["campaign"]) == said
    assert {states(engine)[h][1] for h in hubs[1:4]} == {"signature", "out of space", "hardware"}


def test_pause_resume_and_cancel_by_hand(engine, settings, world, key):
    with session(engine) as db:
        hubs = [h.hub_id for h in add_hubs(db, 3, world.condo_a)]
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(100,))
        campaigns.pause(db, None, 1, "Friday afternoon")
        with pytest.raises(OTAError) as e:
            campaigns.pause(db, None, 1, "again")
        assert e.value.status == 409 and e.value.code == "wrong_state"
        assert e.value.params == {"state": "paused", "action": "pause"}
    assert offered(engine, settings, hubs, at(1)) == []
    with session(engine) as db:
        campaigns.resume(db, None, 1)
    assert offered(engine, settings, hubs, at(2)) == hubs
    beat(engine, settings, hubs[0], at(3), report=["downloading", 2, 4096])
    with session(engine) as db:
        campaigns.cancel(db, None, 1)
        with pytest.raises(OTAError):
            campaigns.resume(db, None, 1)
    assert offered(engine, settings, hubs, at(4)) == []
    assert {s for s in states(engine).values()} == {("failed", "cancelled")}


def test_offers_only_inside_the_maintenance_window_local_time(engine, settings, world, key):
    with session(engine) as db:
        hubs = [h.hub_id for h in add_hubs(db, 1, world.condo_a)]
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(100,), window=("23:30", "01:00"))
    # March, Rome is UTC+1: 22:29 UTC is 23:29 there, 22:30 is 23:30, 23:59 is 00:59.
    day = T0.replace(hour=0, minute=0)
    assert offered(engine, settings, hubs, day.replace(hour=22, minute=29)) == []
    assert offered(engine, settings, hubs, day.replace(hour=22, minute=30)) == hubs
    assert offered(engine, settings, hubs, day.replace(hour=23, minute=59)) == hubs
    # Outside the window the untouched deployment does not time out.
    with session(engine) as db:
        c = campaigns.create(db, None, 1, waves=(100,), window=("02:00", "03:00"))
        assert c.window_start == "02:00"
        with pytest.raises(OTAError) as e:
            campaigns.create(db, None, 1, window=("2 am", "3 am"))
        assert (e.value.code, e.value.params) == ("window_time", {"text": "2 am"})


def test_no_offer_while_an_alert_is_open_for_a_resident_the_hub_serves(engine, settings, world,
                                                                       key):  # fmt: skip
    with session(engine) as db:
        (hub,) = add_hubs(db, 1, world.condo_a)
        serve_flat(db, hub, world.flat_a)
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(100,))
        alert = open_alert(db, world.anna, at(0))
        other = open_alert(db, world.bruno, at(0))  # not served by this hub
    assert offered(engine, settings, ["h0"], at(1)) == []
    assert states(engine)["h0"] == ("waiting", "")
    with session(engine) as db:
        pause = deployments.monitoring_pause(db, db.get(Resident, world.anna))
        assert pause["state"] == "waiting" and pause["expected_pause_s"] <= 60
        a = db.get(Alert, alert.id)
        a.state, a.open_key = ALERT_RESOLVED, None
        db.add(a)
        db.commit()
    assert offered(engine, settings, ["h0"], at(2)) == ["h0"]
    assert states(engine)["h0"] == ("idle", "") and other.id


def test_no_offer_while_the_hub_holds_emergency_events(engine, settings, world, key):
    with session(engine) as db:
        add_hubs(db, 1, world.condo_a)
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(100,))
    assert 3 not in beat(engine, settings, "h0", at(1), held=2)
    assert states(engine)["h0"] == ("waiting", "")
    assert 3 in beat(engine, settings, "h0", at(2), held=0)
    assert 3 not in beat(engine, settings, "h0", at(3), held=1)
    assert 3 in beat(engine, settings, "h0", at(4))  # no key 10: nothing held


def test_deferral_is_bounded_then_the_deployment_fails(engine, settings, world, key):
    with session(engine) as db:
        add_hubs(db, 2, world.condo_a)
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(100,), failure_share=0.9)
    beat(engine, settings, "h0", at(0), held=1)
    beat(engine, settings, "h1", at(0), held=1)
    beat(engine, settings, "h0", at(59), held=1)
    assert states(engine)["h0"] == ("waiting", "")
    beat(engine, settings, "h0", at(60), held=1)  # ota_max_deferral_s is an hour
    assert states(engine)["h0"] == ("failed", "deferred too long")
    tick(engine, settings, at(61))  # h1 fell silent while held: the tick fails it too
    assert states(engine)["h1"] == ("failed", "deferred too long")


def test_a_stuck_deployment_times_out_in_any_state(engine, settings, world, key):
    with session(engine) as db:
        add_hubs(db, 4, world.condo_a)
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(100,), failure_share=0.9)
    tick(engine, settings, at(0))  # h3 is never heard from: its clock runs from here
    beat(engine, settings, "h0", at(1), report=["downloading", 2, 1024])
    beat(engine, settings, "h1", at(1), report=["updating", 2, "0.2.0"])
    beat(engine, settings, "h2", at(1), version="0.2.0", report=["updated", 2, "0.2.0"])
    beat(engine, settings, "h0", at(8), report=["downloading", 2, 8192])  # progress
    tick(engine, settings, at(12))
    assert states(engine) == {
        "h0": ("downloading", ""),
        "h1": ("failed", "timed out"),
        "h2": ("failed", "timed out"),
        "h3": ("failed", "timed out"),
    }
    tick(engine, settings, at(18))  # fmt: skip
    assert states(engine)["h0"] == ("failed", "timed out")


def test_updated_only_after_version_report_and_telemetry(engine, settings, world, key):
    with session(engine) as db:
        (hub,) = add_hubs(db, 1, world.condo_a)
        rel = upload(db, settings, key, 2)
        campaign(db, settings, rel, waves=(100,))
        telemetry(db, hub, 1, at(1))  # from the old version, before the report
    beat(engine, settings, "h0", at(2), report=["updated", 2, "0.2.0"])  # still runs 0.1.0
    assert states(engine)["h0"] == ("confirming", "")
    beat(engine, settings, "h0", at(3), version="0.2.0", report=["updated", 2, "0.2.0"])
    assert states(engine)["h0"] == ("confirming", "")  # no telemetry since
    with session(engine) as db:
        telemetry(db, hub, 2, at(4))
    s = tick(engine, settings, at(5))  # the tick sees it too, not only the next heartbeat
    assert states(engine)["h0"] == ("updated", "") and s["campaign"].state == "finished"


def test_only_hubs_of_the_release_hardware_class_are_targeted(engine, settings, world, key):
    with session(engine) as db:
        add_hubs(db, 2, world.condo_a, hardware="esp32", prefix="e")  # provisioning's default
        add_hubs(db, 1, world.condo_a, hardware="micropython-esp32", prefix="m")
        add_hubs(db, 1, world.condo_b, hardware="micropython-esp32", prefix="b")
        add_hubs(db, 2, world.condo_a, prefix="c")  # cpython-linux
        add_hubs(db, 1, world.condo_a, hardware="esp32", version="0.2.0", prefix="n")
        rel = upload(db, settings, key, 2, hw="micropython-esp32")
        campaign(db, settings, rel, waves=(100,), condominium_ids=[world.condo_a])
    assert set(states(engine)) == {"e0", "e1", "m0", "hub-a"}  # hub-a: seed's esp32 hub
    with session(engine) as db:
        with pytest.raises(OTAError) as e:  # every hub is in the running campaign already
            campaign(db, settings, rel, waves=(100,), condominium_ids=[world.condo_a])
        assert (e.value.code, e.value.status) == ("no_hub", 409)
        with pytest.raises(OTAError) as e:
            campaigns.create(db, None, rel.id, hardware="cpython-linux")
        assert e.value.code == "hardware_mismatch"
        assert e.value.params == {"version": "0.2.0", "hw": "micropython-esp32",
                                  "other": "cpython-linux"}  # fmt: skip
        c = campaigns.create(db, None, rel.id, hub_ids=["b0"], waves=(100,))
        assert campaigns.targets(db, c, rel)[0].hub_id == "b0"
