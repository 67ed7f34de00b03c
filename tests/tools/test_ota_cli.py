"""`portineria release upload|list` and `portineria rollout …` against the fleet's real OTA
routes (fleet/api/routes/ota.py, an app bound to a test database): what a technician
types, what the fleet then holds, and refusals as one sentence naming the HTTP status."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from fleet.app import create_app
from fleet.db import session
from fleet.models import Campaign, Release
from tests.fleet.api_support import make_settings, seed
from tests.fleet.conftest import db_url, engine, pg_database  # noqa: F401 (fixtures)
from tests.fleet.ota_support import add_hubs, build, keys_file, new_key
from tools import fleetapi
from tools.cli import main


@pytest.fixture
def fleet(engine, db_url, tmp_path, monkeypatch):  # noqa: F811
    key = new_key()
    settings = make_settings(db_url, release_keys=keys_file(tmp_path, key))
    w = seed(engine, settings)
    with session(engine) as db:
        add_hubs(db, 3, w.condo_a)
    app = create_app(settings, engine)

    def open_client(server, token):
        headers = {"Authorization": "Bearer " + token} if token else {}
        return TestClient(app, base_url=server, headers=headers)

    monkeypatch.setattr(fleetapi, "open_client", open_client)
    monkeypatch.setenv("PORTINERIA_SERVER", "http://fleet.test")
    w.token = {r: h["Authorization"].split()[1] for r, h in w.headers.items()}
    monkeypatch.setenv("PORTINERIA_TOKEN", w.token["tech"])
    w.key, w.engine = key, engine
    return w


def release_dir(tmp_path, key, seq):
    manifest, bundle = build(key, seq)
    folder = tmp_path / f"r{seq}"
    folder.mkdir()
    (folder / "manifest.cose").write_bytes(manifest)
    (folder / "bundle.bin").write_bytes(bundle)
    return folder


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys, *argv):
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == "" and err.count("\n") == 1, err
    assert err.startswith("portineria: ") and "Traceback" not in err
    return err


def test_upload_then_a_rollout_from_start_to_cancel(fleet, tmp_path, capsys):
    folder = release_dir(tmp_path, fleet.key, 5)
    status, out, _ = run(capsys, "--json", "release", "upload", folder)
    assert status == 0
    rel = json.loads(out)
    assert (rel["seq"], rel["version"], rel["hardware"]) == (5, "0.2.0", "cpython-linux")
    err = refused(capsys, "release", "upload", folder)
    assert "already stored" in err and "(HTTP 400)" in err
    status, out, _ = run(capsys, "release", "list")
    assert out == f"release {rel['id']}: 0.2.0 seq 5 for cpython-linux, {rel['size']} bytes\n"

    status, out, _ = run(
        capsys, "rollout", "create", "--json", "--release", rel["id"], "--name", "spring",
        "--condominium", fleet.condo_a, "--waves", "1,100", "--window", "22:00-06:00", "--start",
    )  # fmt: skip
    assert status == 0
    camp = json.loads(out)
    assert camp["state"] == "running" and camp["window"] == ["22:00", "06:00"]
    assert camp["waves_pct"] == [1, 100] and camp["target"]["condominium_ids"] == [fleet.condo_a]
    cid = camp["id"]

    status, out, _ = run(capsys, "rollout", "status", cid)
    assert status == 0
    assert out.startswith(f"campaign {cid} 'spring': running, release {rel['id']}, wave 1 of 2")
    assert "waves" in out and "hubs" in out
    for hub in ("h0", "h1", "h2"):
        assert hub in out
    status, out, _ = run(capsys, "--json", "rollout", "status")
    assert [c["id"] for c in json.loads(out)] == [cid]

    status, out, _ = run(capsys, "rollout", "pause", cid, "--reason", "lunch", "--json")
    assert json.loads(out)["state"] == "paused" and json.loads(out)["paused_reason"] == "lunch"
    assert "(HTTP 409)" in refused(capsys, "rollout", "pause", cid)
    status, out, _ = run(capsys, "--json", "rollout", "resume", cid)
    assert json.loads(out)["state"] == "running"
    status, out, _ = run(capsys, "--json", "rollout", "cancel", cid)
    assert json.loads(out)["counts"] == {"failed": 3}
    with session(fleet.engine) as db:
        assert db.get(Campaign, cid).state == "cancelled"
        assert [r.seq for r in db.exec(select(Release)).all()] == [5]


def test_a_draft_is_started_later(fleet, tmp_path, capsys):
    run(capsys, "release", "upload", release_dir(tmp_path, fleet.key, 7))
    with session(fleet.engine) as db:
        rid = db.exec(select(Release)).one().id
    status, out, _ = run(capsys, "--json", "rollout", "create", "--release", rid, "--hub", "h1")
    camp = json.loads(out)
    assert camp["state"] == "draft" and camp["target"]["hub_ids"] == ["h1"]
    status, out, _ = run(capsys, "--json", "rollout", "start", camp["id"])
    assert json.loads(out)["state"] == "running"
    assert [d["hub_id"] for d in json.loads(out)["deployments"]] == ["h1"]


def test_refusals_are_one_sentence(fleet, tmp_path, capsys, monkeypatch):
    err = refused(capsys, "release", "upload", release_dir(tmp_path, new_key(), 3))
    assert err == "portineria: the fleet refused: manifest signed by an untrusted key (HTTP 400)\n"
    assert "has no manifest.cose" in refused(capsys, "release", "upload", tmp_path)
    assert "(HTTP 404)" in refused(capsys, "rollout", "status", 99)
    assert "--window wants START-END" in refused(
        capsys, "rollout", "create", "--release", 1, "--window", "late"
    )
    assert "--waves wants" in refused(capsys, "rollout", "create", "--release", 1, "--waves", "a")
    monkeypatch.setenv("PORTINERIA_TOKEN", fleet.token["vol"])
    assert "(HTTP 403)" in refused(capsys, "rollout", "status")
