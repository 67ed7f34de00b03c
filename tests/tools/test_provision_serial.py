"""`portineria provision --port DEV` onto an emulated hub's serial port (the real mpremote
underneath): identity.cbor and ota.keys land on the hub's flash, checked there by SHA-256,
the fleet holds the same secret, and the secret is printed nowhere."""

import hashlib
import json

import pytest
from sqlmodel import select

from emulator.supervisor import Hub, provision
from fleet.db import session
from fleet.models import Hub as HubRow
from fleet.secrets import unseal_hub_secret
from fleet.settings import Settings
from tests.fleet.conftest import db_url, engine, pg_database  # noqa: F401 (fixtures)
from tools import identity, release
from tools.cli import main


@pytest.fixture
def hub(tmp_path):
    """A board fresh from `flash`: MicroPython's REPL on a pty, an empty filesystem."""
    h = Hub(provision(tmp_path / "hub", firmware=None, protocol=None), serial=True)
    h.start()
    yield h
    h.close()


def test_provision_writes_the_identity_onto_the_hub(
    hub,
    db_url,  # noqa: F811
    engine,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
):
    monkeypatch.setenv("FLEET_SECRET_KEY", "serial-test-key-" + "x" * 30)
    keys = tmp_path / "ota.keys"
    keys.write_bytes(release.trusted_keys([bytes(range(32))]))
    argv = ["--json", "--database", db_url, "provision", "--port", hub.tty, "--keys", str(keys)]
    argv += ["--label", str(tmp_path / "labels"), "--ssid", "casa", "--wkey", "wifi-pw"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    flash = hub.dir / "flash"
    ident = identity.read(flash)
    assert (ident["hub"], ident["ssid"], ident["wkey"]) == (report["hub"], "casa", "wifi-pw")
    assert (flash / "ota.keys").read_bytes() == keys.read_bytes()
    assert report["identity"] is None and report["on_hub"]["sha256"] == {
        "identity.cbor": hashlib.sha256((flash / "identity.cbor").read_bytes()).hexdigest(),
        "ota.keys": hashlib.sha256(keys.read_bytes()).hexdigest(),
    }
    assert not list(flash.glob("*.new"))
    with session(engine) as db:
        row = db.exec(select(HubRow).where(HubRow.hub_id == report["hub"])).one()
        assert unseal_hub_secret(Settings(), row.secret_enc) == (ident["ms"], ident["salt"])
    for secret in (ident["ms"].hex(), ident["salt"].hex(), "wifi-pw"):
        assert secret not in out + err
    assert (tmp_path / "labels" / f"{report['hub']}-label.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.glob("*/identity.cbor")), "the secret stays off this disk"


def test_no_hub_on_the_port_makes_no_hub_in_the_fleet(
    db_url,  # noqa: F811
    engine,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
):
    monkeypatch.setenv("FLEET_SECRET_KEY", "serial-test-key-" + "x" * 30)
    argv = ["--database", db_url, "provision", "--port", str(tmp_path / "ttyUSB9")]
    assert main(argv) == 1
    assert capsys.readouterr().err == f"portineria: {tmp_path}/ttyUSB9: no such serial port " + (
        "(is the hub plugged in?)\n"
    )
    with session(engine) as db:
        assert db.exec(select(HubRow)).all() == []
