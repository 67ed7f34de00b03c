"""Helpers for the OTA tests: release keys, small signed releases made with
tools/release.py's own functions (a tiny bundle, so no compiling), hubs of a hardware
class, and a clock."""

from datetime import UTC, datetime, timedelta

from fleet.models import CLAIMED, Alert, Hub, Sensor, TelemetryReceipt
from fleet.ota import campaigns, releases
from tests.fleet.api_support import make_settings, seed
from tools import release

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 11:00 in Rome


def new_key():
    return release._ed25519().Ed25519PrivateKey.generate()


def keys_file(tmp_path, *keys):
    path = tmp_path / "ota.keys"
    path.write_bytes(release.trusted_keys([release.public_bytes(k) for k in keys]))
    return str(path)


def build(key, seq, version="0.2.0", hw="cpython-linux", body=b"print('hi')\n"):
    """(manifest, bundle) of a small release signed with `key`."""
    files = {"hub/version.py": b"VERSION = %r\n" % version, "hub/x.py": body}
    bundle = release.pack(files)
    return release.sign(release.manifest(files, bundle, seq, version, hw), key), bundle


def add_hubs(db, n, condominium_id, hardware="cpython-linux", version="0.1.0", prefix="h"):
    hubs = []
    for i in range(n):
        hub = Hub(
            hub_id=f"{prefix}{i}", oscore_id=f"{prefix}{i}".encode(), secret_enc=b"x",
            state=CLAIMED, condominium_id=condominium_id, hardware=hardware,
            firmware_version=version,
        )  # fmt: skip
        db.add(hub)
        hubs.append(hub)
    db.commit()
    return hubs


def upload(db, settings, key, seq, **kw):
    return releases.upload(db, settings, *build(key, seq, **kw), None)


def campaign(db, settings, rel, **kw):
    c = campaigns.create(db, None, rel.id, **kw)
    return campaigns.start(db, None, c.id, now=T0)


def telemetry(db, hub, seq, at):
    db.add(TelemetryReceipt(hub_id=hub.id, seq=seq, received_at=at))
    db.commit()


def open_alert(db, resident_id, at):
    alert = Alert(resident_id=resident_id, rule="panic", severity="critical", since=at,
                  opened_at=at, open_key=f"{resident_id}:panic:")  # fmt: skip
    db.add(alert)
    db.commit()
    return alert


def serve_flat(db, hub, flat_id, key="pir1"):
    db.add(Sensor(hub_id=hub.id, key=key, kind="motion", room="living", flat_id=flat_id))
    db.commit()


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def world(engine, db_url, tmp_path):
    """The API tests' world (tests/fleet/api_support.seed) with a release key the fleet
    trusts: w.settings, w.engine and w.key besides."""
    key = new_key()
    settings = make_settings(db_url, release_keys=keys_file(tmp_path, key))
    w = seed(engine, settings)
    w.settings, w.engine, w.key = settings, engine, key
    return w
