"""A hub's configuration, the `c` resource of protocol/README.md: its sensor map (from
the Sensor rows) and intervals, with an ETag that changes exactly when the map does.

    cfg, etag = hub_config(db, settings, hub)   # cfg["v"] == etag
    etag = config_etag(db, settings, hub)       # what a heartbeat reply carries

The ETag is computed from the map's canonical CBOR, so nothing has to remember to bump
a version when a sensor changes: every door that edits Sensor rows changes it.
"""

import hashlib

from sqlmodel import select

from fleet import secrets
from fleet.models import Flat, Sensor
from protocol import cbor

ETAG_LENGTH = 8  # the most a CoAP ETag holds


def sensor_entry(sensor, flat_label, settings):
    """One sensor as the hub reads it: id, kind, room, flat and exactly one of pin, i2c
    or ble (with its bind key, unsealed: it travels inside OSCORE only)."""
    entry = {"id": sensor.key, "kind": sensor.kind, "room": sensor.room}
    if flat_label is not None:
        entry["flat"] = flat_label
    if sensor.ble_addr is not None:
        entry["ble"] = bytes(sensor.ble_addr)
        if sensor.ble_key_enc:
            entry["key"] = secrets.unseal(settings, sensor.ble_key_enc)
    elif sensor.i2c_addr is not None:
        entry["i2c"] = sensor.i2c_addr
    elif sensor.pin is not None:
        entry["pin"] = sensor.pin
        entry["active"] = sensor.active_level
    return entry


def hub_config(db, settings, hub):
    """(configuration map, ETag) for `hub`, sensors in a stable order (by key)."""
    rows = db.exec(
        select(Sensor, Flat.label)
        .join(Flat, Flat.id == Sensor.flat_id, isouter=True)
        .where(Sensor.hub_id == hub.id)
        .order_by(Sensor.key)
    ).all()
    cfg = {
        "hb": settings.heartbeat_interval_s,
        "rd": settings.readings_interval_s,
        "s": [sensor_entry(sensor, label, settings) for sensor, label in rows],
    }
    etag = hashlib.sha256(cbor.dumps(cfg)).digest()[:ETAG_LENGTH]
    cfg["v"] = etag
    return cfg, etag


def config_etag(db, settings, hub):
    """The current ETag of `hub`'s configuration."""
    return hub_config(db, settings, hub)[1]
