"""hub/identity.py and hub/config.py: what provisioning and the fleet hand the hub is
checked before use, and a bad file never crashes the hub with a stray exception."""

import sys

import pytest

from protocol import cbor
from tests.mpy import ROOT

sys.path.insert(0, str(ROOT / "firmware"))  # on the hub the package is `hub`

from hub import config, identity  # noqa: E402

FIELDS = {
    "v": 1, "hub": "hub-7", "sid": b"\x07", "ms": bytes(16), "salt": bytes(8),
    "host": "fleet.example", "port": 5683, "ssid": "casa", "wkey": "segreto",
}  # fmt: skip


def test_identity_round_trip_with_defaults(tmp_path):
    path = tmp_path / "identity.cbor"
    path.write_bytes(identity.dumps(FIELDS))
    ident = identity.load(str(path))
    assert (ident.hub, ident.sender_id, ident.recipient_id) == ("hub-7", b"\x07", b"")
    assert (ident.ack_timeout, ident.scl, ident.sda, ident.buzzer) == (2000, 22, 21, None)
    assert ident.wifi_key == "segreto"


def test_identity_repr_carries_no_secret():
    ident = identity.Identity(identity.check(dict(FIELDS, ms=b"S" * 16)))
    assert "SSSS" not in repr(ident) and "segreto" not in repr(ident)
    assert "hub-7" in repr(ident)


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"ms": bytes(15)},
        {"sid": b""},
        {"sid": bytes(8)},
        {"rid": b"\x07"},
        {"port": 0},
        {"hub": b"hub"},
        {"ack": 5},
        {"led": "2"},
    ],
)
def test_identity_refuses_bad_fields(change):
    with pytest.raises(identity.IdentityError):
        identity.dumps(dict(FIELDS, **change))


@pytest.mark.parametrize("data", [b"", b"\xff\x00", cbor.dumps([1, 2]), cbor.dumps({"v": 1})])
def test_identity_load_refuses_garbage(tmp_path, data):
    path = tmp_path / "identity.cbor"
    path.write_bytes(data)
    with pytest.raises(identity.IdentityError):
        identity.load(str(path))
    with pytest.raises(identity.IdentityError):
        identity.load(str(tmp_path / "missing.cbor"))


PANIC = {"id": "p1", "kind": "panic", "room": "bedroom", "flat": "3A", "pin": 4, "active": 0}
BLE = {"id": "b1", "kind": "door", "room": "entrance", "flat": "3A", "ble": bytes(6)}


def test_config_parse_save_load(tmp_path):
    m = {"v": b"\x01", "hb": 30, "rd": 600, "s": [PANIC, BLE]}
    payload = cbor.dumps(m)
    cfg = config.parse(payload)
    assert (cfg.etag, cfg.hb, cfg.rd) == (b"\x01", 30, 600)
    assert cfg.where("pin") == [PANIC] and cfg.where("ble") == [BLE] and cfg.where("i2c") == []
    path = str(tmp_path / "config.cbor")
    config.save(payload, path)
    config.save(payload, path)  # replacing works too
    assert config.load(path).sensors == [PANIC, BLE]


def test_config_defaults_when_missing_or_bad(tmp_path):
    cfg = config.load(str(tmp_path / "none.cbor"))
    assert (cfg.etag, cfg.hb, cfg.rd, cfg.sensors) == (None, 60, 300, [])
    (tmp_path / "bad.cbor").write_bytes(b"\xa1")
    assert config.load(str(tmp_path / "bad.cbor")).etag is None


@pytest.mark.parametrize(
    "m",
    [
        [],
        {"v": b""},
        {"v": b"\x01", "hb": 0},
        {"v": b"\x01", "rd": 1.5},
        {"v": b"\x01", "s": [dict(PANIC, kind="teleport")]},
        {"v": b"\x01", "s": [dict(PANIC, room="attic")]},
        {"v": b"\x01", "s": [dict(PANIC, i2c=0x44)]},
        {"v": b"\x01", "s": [dict(PANIC, active=2)]},
        {"v": b"\x01", "s": [dict(BLE, ble=bytes(5))]},
        {"v": b"\x01", "s": [dict(BLE, key=bytes(15))]},
        {"v": b"\x01", "s": [PANIC, PANIC]},
        {"v": b"\x01", "s": [dict(PANIC, id="a/b")]},
    ],
)
def test_config_refuses_what_it_cannot_apply(m):
    with pytest.raises(config.ConfigError):
        config.parse(cbor.dumps(m))
