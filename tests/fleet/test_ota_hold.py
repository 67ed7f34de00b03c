"""A hub installs only on an offer that comes after its bundle verified (report
"downloaded"), so the fleet holds an install by holding the offer: while an alert is open
for a resident the hub serves, or the hub holds emergency events — after the download
began as well as before it — for at most ota_max_deferral_s."""

from datetime import timedelta

from sqlmodel import select

from fleet.db import session
from fleet.models import ALERT_RESOLVED, Alert, Deployment, Hub, Resident
from fleet.ota import campaigns, decoded, deployments
from tests.fleet.ota_support import (
    add_hubs,
    at,
    campaign,
    open_alert,
    serve_flat,
    telemetry,
    upload,
)
from tests.fleet.test_ota_campaigns import (  # noqa: F401  (fixtures)
    beat,
    key,
    settings,
    states,
    tick,
    update_hub,
    world,
)


def deployment(engine):
    with session(engine) as db:
        return db.exec(select(Deployment)).one()


def downloaded(engine, settings, hub_id, minute):  # noqa: F811
    """The hub was offered the release, downloaded and verified it."""
    assert 3 in beat(engine, settings, hub_id, at(minute))
    beat(engine, settings, hub_id, at(minute), report=["downloading", 2, 1024])
    return beat(engine, settings, hub_id, at(minute + 1), report=["downloaded", 2, "0.2.0"])


def test_an_alert_opened_during_the_download_holds_the_install(engine, settings, world, key):  # noqa: F811
    with session(engine) as db:
        (hub,) = add_hubs(db, 1, world.condo_a)
        serve_flat(db, hub, world.flat_a)
        campaign(db, settings, upload(db, settings, key, 2), waves=(100,))
    assert 3 in beat(engine, settings, "h0", at(0))
    beat(engine, settings, "h0", at(1), report=["downloading", 2, 1024])
    with session(engine) as db:
        alert = open_alert(db, world.anna, at(2)).id
    # The download ends; the reply that would be the go carries no offer.
    reply = beat(engine, settings, "h0", at(3), report=["downloaded", 2, "0.2.0"])
    assert 3 not in reply
    d = deployment(engine)
    assert (d.state, decoded(d.detail)) == ("downloaded", ("held_alert", {}))
    # Longer than the deployment timeout (10 min), shorter than the deferral bound.
    tick(engine, settings, at(30))
    assert 3 not in beat(engine, settings, "h0", at(30), report=["downloaded", 2, "0.2.0"])
    assert states(engine)["h0"] == ("downloaded", "")
    with session(engine) as db:
        pause = deployments.monitoring_pause(db, db.get(Resident, world.anna))
        assert pause["state"] == "downloaded"
        a = db.get(Alert, alert)
        a.state, a.open_key = ALERT_RESOLVED, None
        db.add(a)
        db.commit()
    assert beat(engine, settings, "h0", at(31), report=["downloaded", 2, "0.2.0"])[3] == {1: 2}
    d = deployment(engine)
    assert d.deferred_since is None and d.detail == ""
    update_hub(engine, settings, "h0", 2, at(32))
    assert states(engine)["h0"] == ("updated", "")


def test_emergencies_held_by_the_hub_hold_the_install(engine, settings, world, key):  # noqa: F811
    with session(engine) as db:
        add_hubs(db, 1, world.condo_a)
        campaign(db, settings, upload(db, settings, key, 2), waves=(100,))
    downloaded(engine, settings, "h0", 0)
    report = ["downloaded", 2, "0.2.0"]
    assert 3 not in beat(engine, settings, "h0", at(2), report=report, held=1)
    d = deployment(engine)
    assert (d.state, decoded(d.detail)) == ("downloaded", ("held_emergencies", {}))
    assert 3 in beat(engine, settings, "h0", at(3), report=report, held=0)


def test_a_held_install_is_deferred_only_so_long(engine, settings, world, key):  # noqa: F811
    with session(engine) as db:
        add_hubs(db, 2, world.condo_a)
        campaign(db, settings, upload(db, settings, key, 2), waves=(100,), failure_share=0.9)
    report = ["downloaded", 2, "0.2.0"]
    for h in ("h0", "h1"):
        downloaded(engine, settings, h, 0)
        beat(engine, settings, h, at(2), report=report, held=1)
    assert 3 not in beat(engine, settings, "h0", at(61), report=report, held=1)
    assert states(engine)["h0"] == ("downloaded", "")
    # The deferral bound (an hour from the first hold): failed, and never offered again.
    assert 3 not in beat(engine, settings, "h0", at(62), report=report, held=1)
    assert states(engine)["h0"] == ("failed", "deferred too long")
    assert 3 not in beat(engine, settings, "h0", at(63), report=report, held=0)
    tick(engine, settings, at(62))  # h1 fell silent while held: the tick fails it too
    assert states(engine)["h1"] == ("failed", "deferred too long")


def test_a_paused_campaign_lets_a_download_under_way_install(engine, settings, world, key):  # noqa: F811
    with session(engine) as db:
        add_hubs(db, 2, world.condo_a)
        campaign(db, settings, upload(db, settings, key, 2), waves=(100,))
    assert 3 in beat(engine, settings, "h0", at(0))
    beat(engine, settings, "h0", at(1), report=["downloading", 2, 1024])
    with session(engine) as db:
        campaigns.pause(db, None, 1, "by hand")
    assert 3 not in beat(engine, settings, "h1", at(2))  # not begun: nothing new
    assert 3 in beat(engine, settings, "h0", at(2), report=["downloaded", 2, "0.2.0"])


def test_caregivers_are_told_the_pause_the_release_has_cost_so_far(engine, settings, world, key):  # noqa: F811
    with session(engine) as db:
        h0, h1 = add_hubs(db, 2, world.condo_a)
        serve_flat(db, h1, world.flat_a)  # Anna's hub updates second
        campaign(db, settings, upload(db, settings, key, 2), waves=(100,))

    def told():
        with session(engine) as db:
            return deployments.monitoring_pause(db, db.get(Resident, world.anna))

    downloaded(engine, settings, "h1", 0)
    assert told()["expected_pause_s"] == deployments.EXPECTED_PAUSE_S  # nothing measured yet
    downloaded(engine, settings, "h0", 0)
    go = at(2)
    assert 3 in beat(engine, settings, "h0", go, report=["downloaded", 2, "0.2.0"])
    # The new copy's first heartbeat 23 s after the reply that said go.
    new = go + timedelta(seconds=23)
    beat(engine, settings, "h0", new, version="0.2.0", report=["updating", 2, "0.2.0"])
    beat(engine, settings, "h0", new + timedelta(seconds=5), version="0.2.0",
         report=["updated", 2, "0.2.0"])  # fmt: skip
    with session(engine) as db:
        telemetry(db, db.get(Hub, h0.id), 7, new + timedelta(seconds=6))
    beat(engine, settings, "h0", new + timedelta(seconds=7), version="0.2.0",
         report=["updated", 2, "0.2.0"])  # fmt: skip
    assert states(engine)["h0"] == ("updated", "")
    with session(engine) as db:
        assert deployments.measured_pause_s(db, 1) == 23
    assert told() == {"state": "downloaded", "expected_pause_s": 25, "since": at(0), "held": None}
