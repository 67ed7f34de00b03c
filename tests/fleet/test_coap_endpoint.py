"""The CoAP endpoint end to end, on SQLite and PostgreSQL: a hub client built on
aiocoap's own OSCORE sends telemetry, heartbeats and config requests over UDP."""

import aiocoap
from aiocoap.numbers.codes import Code
from sqlmodel import select

from fleet.db import session
from fleet.models import ONLINE, Event, Hub, Reading, TelemetryReceipt
from protocol import senml
from tests.fleet.coap_support import RawHub, add_hub, aiocoap_context, make_settings, pack, running


async def test_aiocoap_client_stores_a_pack(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        client = await aiocoap.Context.create_client_context()
        try:
            client.client_credentials[f"coap://127.0.0.1:{server.port}/*"] = aiocoap_context(
                tmp_path / "hub", ident
            )
            payload = pack(
                "hub-a",
                senml.reading("pir1", "motion", True),
                senml.reading("t1", "temperature", 0.0),
            )
            req = aiocoap.Message(
                code=Code.POST,
                uri=f"coap://127.0.0.1:{server.port}/t?s=7",
                payload=payload,
                content_format=112,
            )
            resp = await client.request(req).response
        finally:
            await client.shutdown()
    assert resp.code == Code.CHANGED
    with session(engine) as db:
        hub = db.exec(select(Hub)).one()
        assert hub.state == ONLINE and hub.activated_at is not None and hub.last_seen
        events = db.exec(select(Event)).all()
        readings = db.exec(select(Reading)).all()
    assert [(e.kind, e.state, e.seq) for e in events] == [("motion", True, 7)]
    assert [(r.kind, r.value, r.unit) for r in readings] == [("temperature", 0.0, "Cel")]


async def test_replayed_and_flipped_requests_are_refused(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            body = pack("hub-a", senml.reading("door", "door", True))
            inner, wire = await hub.request(Code.POST, "t", body, query=("s=1",))
            assert inner.code == Code.CHANGED
            # Same OSCORE request, new message ID: only the replay window can catch it.
            replay = bytearray(wire)
            replay[2] ^= 0x55
            resp = await hub.send_raw(bytes(replay))
            assert resp.code == Code.UNAUTHORIZED and resp.opt.oscore is None
            # One flipped byte in the ciphertext of a fresh request.
            body2 = pack("hub-a", senml.reading("door", "door", False))
            wire2, _ = hub.protect(Code.POST, "t", body2, query=("s=2",))
            flipped = bytearray(wire2)
            flipped[-3] ^= 0x01
            resp = await hub.send_raw(bytes(flipped))
            assert resp.code == Code.BAD_REQUEST
        finally:
            hub.close()
    with session(engine) as db:
        assert [e.state for e in db.exec(select(Event)).all()] == [True]


async def test_retransmitted_telemetry_is_stored_once(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            body = pack("hub-a", senml.reading("pir1", "motion", True))
            for _ in range(3):  # the hub lost our 2.04 twice: new OSCORE requests, same s
                inner, _ = await hub.request(Code.POST, "t", body, query=("s=41",))
                assert inner.code == Code.CHANGED
        finally:
            hub.close()
    with session(engine) as db:
        assert len(db.exec(select(Event)).all()) == 1
        assert [r.seq for r in db.exec(select(TelemetryReceipt)).all()] == [41]


async def test_unknown_sensor_or_kind_is_refused_with_a_reason(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            body = pack("hub-a", senml.reading("ghost", "motion", True))
            inner, _ = await hub.request(Code.POST, "t", body, query=("s=1",))
            assert inner.code == Code.BAD_REQUEST and b"unknown sensor ghost" in inner.payload
            body = pack("hub-a", senml.reading("pir1", "smoke", True))
            inner, _ = await hub.request(Code.POST, "t", body, query=("s=2",))
            assert inner.code == Code.BAD_REQUEST and b"does not report smoke" in inner.payload
            inner, _ = await hub.request(Code.POST, "t", b"\xff", query=("s=3",))
            assert inner.code == Code.BAD_REQUEST
            inner, _ = await hub.request(Code.POST, "t", pack("hub-a"), query=())
            assert inner.code == Code.BAD_REQUEST
        finally:
            hub.close()
    with session(engine) as db:
        assert db.exec(select(TelemetryReceipt)).all() == []
