"""The shared services without the network: what a pack means (telemetry), the
configuration map a hub accepts (config), and the metrics text Prometheus scrapes."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from firmware.hub import config as hub_config
from fleet import metrics, secrets
from fleet.db import session
from fleet.models import Event, Hub, Reading, Sensor
from fleet.services import config
from fleet.services.telemetry import TelemetryRejected, parse_seq, store_pack
from protocol import cbor, senml
from tests.fleet.coap_support import add_hub, make_settings, pack

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_parse_seq():
    assert parse_seq("s=0") == 0 and parse_seq("s=4294967295") == 4294967295
    assert parse_seq("x=1") is None
    for bad in ("s=", "s=-1", "s=1e3", "s=4294967296", "s=٣", "s=00000000000"):
        with pytest.raises(TelemetryRejected):
            parse_seq(bad)


def _hub(engine):
    with session(engine) as db:
        return db.exec(select(Hub)).one()


def test_store_pack_resolves_times_and_kinds(db_url, engine):
    settings = make_settings(db_url)
    add_hub(engine, settings)
    hub = _hub(engine)
    payload = senml.encode(
        [
            senml.reading("door", "door", False, t=-30),
            senml.reading("t1", "temperature", 21.5, t=-10),
            senml.reading("t1", "battery", 0),
            senml.reading("hub", "mains", True),
        ],
        bn=senml.base_name("hub-a"),
    )
    with session(engine) as db:
        stored = store_pack(db, hub, 9, payload, NOW)
        assert (stored.duplicate, stored.readings, stored.events) == (False, 2, 2)
        assert store_pack(db, hub, 9, payload, NOW).duplicate
        events = db.exec(select(Event).order_by(Event.id)).all()
        readings = db.exec(select(Reading).order_by(Reading.id)).all()
        t1 = db.exec(select(Sensor).where(Sensor.key == "t1")).one()
    assert [(e.kind, e.state, e.t) for e in events] == [
        ("door", False, NOW - timedelta(seconds=30)),
        ("mains", True, NOW),
    ]
    assert events[1].sensor_id is None  # the hub's own reading
    assert [(r.kind, r.value) for r in readings] == [("temperature", 21.5), ("battery", 0.0)]
    assert t1.battery == 0.0 and t1.last_seen == NOW


def test_absolute_times_and_refusals(db_url, engine):
    settings = make_settings(db_url)
    add_hub(engine, settings)
    hub = _hub(engine)
    at = int(NOW.timestamp()) - 60
    ok = senml.encode([senml.reading("pir1", "motion", True)], bn=senml.base_name("hub-a"), bt=at)
    with session(engine) as db:
        store_pack(db, hub, 1, ok, NOW)
        assert db.exec(select(Event)).one().t == NOW - timedelta(seconds=60)
    future = senml.encode(
        [senml.reading("pir1", "motion", True)], bn=senml.base_name("hub-a"), bt=at + 86400 * 2
    )
    refused = {
        "time is in the future": future,
        "record names another hub": pack("hub-b", senml.reading("pir1", "motion", True)),
        "the hub does not report panic": pack("hub-a", senml.reading("hub", "panic", True)),
        "empty pack": cbor.dumps([]),
        "needs a vb value": pack("hub-a", {"n": "pir1/motion", "v": 1}),
    }
    for reason, payload in refused.items():
        with session(engine) as db, pytest.raises(TelemetryRejected, match=reason):
            store_pack(db, hub, 2, payload, NOW)
    with session(engine) as db:
        assert len(db.exec(select(Event)).all()) == 1


def test_hub_accepts_the_configuration_map(db_url, engine):
    settings = make_settings(db_url)
    add_hub(engine, settings)
    key = bytes(range(16))
    with session(engine) as db:
        hub = db.exec(select(Hub)).one()
        db.add(
            Sensor(
                hub_id=hub.id,
                key="btn",
                kind="button",
                room="bedroom",
                ble_addr=bytes.fromhex("a4c138000001"),
                ble_key_enc=secrets.seal(settings, key),
            )
        )
        db.commit()
        cfg, etag = config.hub_config(db, settings, hub)
        again = config.config_etag(db, settings, hub)
    parsed = hub_config.parse(cbor.dumps(cfg))  # the firmware's own check
    assert parsed.etag == etag == again and len(etag) == 8
    assert [s["id"] for s in parsed.where("ble")] == ["btn"]
    assert parsed.where("ble")[0]["key"] == key


def test_metrics_render_prometheus_text():
    metrics.rejected.inc(reason="replay")
    metrics.rejected.inc(reason='odd"\nreason')
    text = metrics.render()
    assert "# TYPE portineria_coap_messages_rejected_total counter\n" in text
    assert 'portineria_coap_messages_rejected_total{reason="odd\\"\\nreason"} 1\n' in text
    assert "# TYPE portineria_hubs_online gauge\n" in text
    assert text.endswith("\n") and all(line.strip() for line in text.splitlines())
    with pytest.raises(ValueError):
        metrics.received.inc(path="t")
