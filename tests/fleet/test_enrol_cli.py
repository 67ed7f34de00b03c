"""`portineria --database URL …` against SQLite and PostgreSQL: the identity file holds
the secret the fleet sealed, the label carries the claim code, revoke takes effect."""

import json

from sqlmodel import select

from fleet.db import session
from fleet.models import REVOKED, Hub
from fleet.secrets import unseal_hub_secret
from fleet.services import enrolment
from fleet.settings import Settings
from tools import identity
from tools.cli import main


def test_provision_then_revoke_then_reprovision(db_url, engine, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FLEET_SECRET_KEY", "cli-test-key-" + "x" * 30)
    flash, label = tmp_path / "flash", tmp_path / "label"
    argv = ["--json", "--database", db_url, "provision", "--out", str(flash)]
    argv += ["--label", str(label), "--ssid", "casa", "--wkey", "pw", "--ack", "300"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    ident = identity.read(flash)
    assert (ident["hub"], ident["ssid"], ident["wkey"], ident["ack"]) == (
        report["hub"],
        "casa",
        "pw",
        300,
    )
    settings = Settings()
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == report["hub"])).one()
        assert unseal_hub_secret(settings, hub.secret_enc) == (ident["ms"], ident["salt"])
        assert hub.oscore_id == ident["sid"]
        code = enrolment.normalise_code(report["claim_code"])
        assert hub.claim_code_hash == enrolment.hash_code(settings, code)
    assert report["claim_url"].endswith("/claim?code=" + code)
    assert (label / f"{hub.hub_id}-label.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (label / f"{hub.hub_id}-label.svg").read_bytes()
    assert ident["ms"].hex() not in json.dumps(report)

    assert main(["--database", db_url, "revoke", hub.hub_id, "--reason", "lost"]) == 0
    with session(engine) as db:
        assert db.get(Hub, hub.id).state == REVOKED

    assert main(["--database", db_url, "reprovision", hub.hub_id, "--out", str(flash)]) == 1
    assert "exists" in capsys.readouterr().err
    argv = ["--database", db_url, "reprovision", hub.hub_id, "--out", str(flash), "--force"]
    assert main(argv + ["--label", str(label)]) == 0
    again = identity.read(flash)
    assert again["hub"] == hub.hub_id and again["ms"] != ident["ms"]
    with session(engine) as db:
        hub = db.get(Hub, hub.id)
        assert unseal_hub_secret(settings, hub.secret_enc) == (again["ms"], again["salt"])


def test_database_mode_refuses_another_secret_key(db_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FLEET_SECRET_KEY", "the-servers-key-" + "x" * 30)
    argv = ["--database", db_url, "provision", "--label", str(tmp_path)]
    assert main(argv + ["--out", str(tmp_path / "a")]) == 0
    monkeypatch.setenv("FLEET_SECRET_KEY", "another-key-" + "y" * 30)
    capsys.readouterr()
    assert main(argv + ["--out", str(tmp_path / "b")]) == 1
    assert capsys.readouterr().err == (
        "portineria: FLEET_SECRET_KEY is not the fleet server's: set the same key\n"
    )
    assert not (tmp_path / "b").exists()
