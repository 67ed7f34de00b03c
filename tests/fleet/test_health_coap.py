"""Heartbeats and configuration over CoAP, and the offline sweep: what a technician
sees of a hub's health, and the ETag flow that keeps unchanged configuration off air."""

from datetime import timedelta

from aiocoap.numbers.codes import Code
from sqlmodel import select

from fleet import metrics
from fleet.db import session
from fleet.models import OFFLINE, ONLINE, AuditLog, Hub, Sensor, utcnow
from fleet.services import health
from protocol import cbor
from tests.fleet.coap_support import RawHub, add_hub, aiocoap_context, make_settings, running


def beat(uptime, etag=None, cause="power-on"):
    return cbor.dumps({1: uptime, 2: 81234, 3: -67, 4: 2, 5: "0.3.1", 6: None, 7: cause, 8: etag})


async def test_heartbeat_updates_health_and_replies_time_and_etag(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            inner, _ = await hub.request(Code.POST, "hb", beat(3600), cf=60)
            assert inner.code == Code.CHANGED
            reply = cbor.loads(inner.payload)
            assert abs(reply[1] - utcnow().timestamp()) < 5
            cfg, _ = await hub.request(Code.GET, "c")
            assert reply[2] == cfg.opt.etag == cbor.loads(cfg.payload)["v"]
            # A smaller uptime: the hub restarted, after a watchdog reset.
            inner, _ = await hub.request(Code.POST, "hb", beat(5, reply[2], "watchdog"))
            assert inner.code == Code.CHANGED
            bad, _ = await hub.request(Code.POST, "hb", cbor.dumps({1: "long"}))
            assert bad.code == Code.BAD_REQUEST
            bad, _ = await hub.request(Code.POST, "hb", b"\x1f")
            assert bad.code == Code.BAD_REQUEST
        finally:
            hub.close()
    with session(engine) as db:
        row = db.exec(select(Hub)).one()
    assert (row.uptime_s, row.free_heap, row.rssi, row.queue_depth) == (5, 81234, -67, 2)
    assert (row.firmware_version, row.reset_cause, row.restarts) == ("0.3.1", "watchdog", 1)
    assert row.config_etag == reply[2] and row.state == ONLINE and row.last_seen
    # Each valid heartbeat is kept for the hub's history; the rejected ones are not.
    with session(engine) as db:
        kept = health.history(db, row, utcnow() - timedelta(hours=1))
        assert [(s.uptime_s, s.rssi, s.firmware_version) for s in kept] == [
            (3600, -67, "0.3.1"),
            (5, -67, "0.3.1"),
        ]
        # The sweep drops history older than health_history_days (30 by default).
        health.sweep(db, settings, utcnow() + timedelta(days=30, minutes=1))
        assert health.history(db, row, utcnow() - timedelta(days=1)) == []


async def test_config_etag_flow(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            first, _ = await hub.request(Code.GET, "c")
            assert first.code == Code.CONTENT and first.opt.content_format == 60
            cfg = cbor.loads(first.payload)
            assert (cfg["hb"], cfg["rd"]) == (settings.heartbeat_interval_s, 300)
            assert cfg["s"] == [
                {"id": "door", "kind": "door", "room": "entrance", "flat": "3B"}
                | {"pin": 5, "active": 0},
                {"id": "pir1", "kind": "motion", "room": "living", "flat": "3B"}
                | {"pin": 4, "active": 1},
                {"id": "t1", "kind": "temperature", "room": "bedroom", "flat": "3B", "i2c": 0x44},
            ]
            same, _ = await hub.request(Code.GET, "c", etags=(first.opt.etag,))
            assert same.code == Code.VALID and same.payload == b""
            assert same.opt.etag == first.opt.etag
            with session(engine) as db:
                pir = db.exec(select(Sensor).where(Sensor.key == "pir1")).one()
                pir.room = "kitchen"
                db.add(pir)
                db.commit()
            changed, _ = await hub.request(Code.GET, "c", etags=(first.opt.etag,))
            assert changed.code == Code.CONTENT and changed.opt.etag != first.opt.etag
            assert cbor.loads(changed.payload)["s"][1]["room"] == "kitchen"
        finally:
            hub.close()


async def test_silent_hub_goes_offline_and_comes_back(db_url, engine, tmp_path):
    settings = make_settings(db_url, heartbeat_interval_s=60, offline_after_missed=5)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            inner, _ = await hub.request(Code.POST, "hb", beat(10))
            assert inner.code == Code.CHANGED
            now = utcnow()
            with session(engine) as db:
                # Four missed heartbeats: still online.
                assert health.sweep(db, settings, now + timedelta(seconds=4 * 60)) == []
                assert metrics.hubs_online.value() == 1
                assert health.sweep(db, settings, now + timedelta(seconds=5 * 60 + 1)) == ["hub-a"]
                assert db.exec(select(Hub)).one().state == OFFLINE
                assert metrics.hubs_online.value() == 0
            inner, _ = await hub.request(Code.POST, "hb", beat(400))
            assert inner.code == Code.CHANGED
        finally:
            hub.close()
    with session(engine) as db:
        assert db.exec(select(Hub)).one().state == ONLINE
        actions = [a.action for a in db.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert actions == ["activate", "offline", "online"]
