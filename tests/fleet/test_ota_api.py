"""The OTA REST API: technicians and admins upload releases and run campaigns, every step
audited; volunteers and caregivers get 403; refusals carry their English reason, its
code and parameters, and a campaign that paused by itself says so by code."""

import pytest
from sqlmodel import select

from fleet.db import session
from fleet.models import AuditLog
from tests.fleet.api_support import client, make_settings, seed
from tests.fleet.ota_support import add_hubs, build, keys_file, new_key


@pytest.fixture
def key():
    return new_key()


@pytest.fixture
def api(engine, db_url, tmp_path, key):
    settings = make_settings(db_url, release_keys=keys_file(tmp_path, key),
                             ota_max_bundle_bytes=4096)  # fmt: skip
    w = seed(engine, settings)
    with session(engine) as db:
        add_hubs(db, 3, w.condo_a)
    return client(engine, settings), w


def _post_release(c, headers, manifest, bundle):
    files = {"manifest": ("manifest.cose", manifest), "bundle": ("bundle.bin", bundle)}
    return c.post("/api/releases", files=files, headers=headers)


def test_technician_uploads_a_release_and_runs_a_campaign(api, key, engine):
    c, w = api
    h = w.headers["tech"]
    r = _post_release(c, h, *build(key, 5))
    assert r.status_code == 201, r.text
    rel = r.json()
    assert {k: rel[k] for k in ("seq", "version", "hardware")} == {
        "seq": 5, "version": "0.2.0", "hardware": "cpython-linux"}  # fmt: skip
    assert [x["id"] for x in c.get("/api/releases", headers=h).json()] == [rel["id"]]
    body = {"release_id": rel["id"], "name": "spring", "condominium_ids": [w.condo_a],
            "waves": [1, 100], "window": None, "start": True}  # fmt: skip
    r = c.post("/api/campaigns", json=body, headers=h)
    assert r.status_code == 201, r.text
    camp = r.json()
    assert camp["state"] == "running" and camp["counts"] == {"idle": 3}
    assert camp["waves"][0] == {"wave": 1, "hubs": 1, "updated": 0, "failed": 0,
                                "in_progress": 1}  # fmt: skip
    assert [d["hub_id"] for d in camp["deployments"]] == ["h0", "h1", "h2"]
    cid = camp["id"]
    r = c.post(f"/api/campaigns/{cid}/pause", json={"reason": "lunch"}, headers=h)
    assert r.json()["state"] == "paused" and r.json()["paused_reason"] == "lunch"
    assert (r.json()["paused_code"], r.json()["paused_params"]) == (None, None)  # typed
    assert "pause_code" not in r.json()["target"]
    r = c.post(f"/api/campaigns/{cid}/pause", headers=h)
    assert r.status_code == 409 and r.json() == {
        "detail": "a paused campaign cannot pause",
        "code": "wrong_state",
        "params": {"state": "paused", "action": "pause"},
    }
    assert c.post(f"/api/campaigns/{cid}/start", headers=h).json()["code"] == "wrong_state"
    r = c.post(f"/api/campaigns/{cid}/resume", headers=h).json()
    assert r["state"] == "running" and (r["paused_reason"], r["paused_code"]) == ("", None)
    r = c.post(f"/api/campaigns/{cid}/pause", headers=h).json()  # no reason given
    assert (r["paused_reason"], r["paused_code"]) == ("paused by hand", "paused_by_hand")
    assert r["paused_params"] == {}
    c.post(f"/api/campaigns/{cid}/resume", headers=h)
    r = c.post(f"/api/campaigns/{cid}/cancel", headers=w.headers["admin"])
    assert r.json()["state"] == "cancelled"
    assert r.json()["counts"] == {"failed": 3}
    assert c.get(f"/api/campaigns/{cid}", headers=h).json()["state"] == "cancelled"
    assert [x["id"] for x in c.get("/api/campaigns", headers=h).json()] == [cid]
    r = c.get("/api/campaigns/999", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "no_campaign"
    with session(engine) as db:
        done = db.exec(select(AuditLog.action, AuditLog.entity)
                       .where(AuditLog.entity.in_(("release", "campaign")))).all()  # fmt: skip
    assert [a for a, _ in done] == [
        "upload", "create", "start", "pause", "resume", "pause", "resume", "cancel"]  # fmt: skip


def test_refused_releases_say_why(api, key):
    c, w = api
    h = w.headers["admin"]
    r = _post_release(c, h, *build(new_key(), 5))
    assert r.status_code == 400 and r.json() == {
        "detail": "manifest signed by an untrusted key", "code": "untrusted_key", "params": {}}  # fmt: skip
    manifest, bundle = build(key, 5)
    r = _post_release(c, h, manifest, bundle[:-1] + bytes([bundle[-1] ^ 1]))
    assert r.status_code == 400 and "SHA-256" in r.json()["detail"]
    assert r.json()["code"] == "digest_mismatch"
    r = _post_release(c, h, manifest, bundle[:-1])
    assert r.status_code == 400 and r.json()["code"] == "size_mismatch"
    assert r.json()["params"] == {"size": len(bundle) - 1, "said": len(bundle)}
    assert (
        r.json()["detail"] == f"bundle is {len(bundle) - 1} bytes, the manifest says {len(bundle)}"
    )
    assert _post_release(c, h, manifest, bundle).status_code == 201
    r = _post_release(c, h, manifest, bundle)
    assert r.status_code == 400 and "already stored" in r.json()["detail"]
    assert (r.json()["code"], r.json()["params"]) == ("duplicate_seq", {"seq": 5})
    r = _post_release(c, h, *build(key, 6, body=b"#" * 5000))  # over ota_max_bundle_bytes
    assert r.status_code == 413 and r.json() == {
        "detail": "bundle larger than 4096 bytes",
        "code": "too_big",
        "params": {"what": "bundle", "limit": 4096},
    }
    r = c.post("/api/campaigns", json={"release_id": 1, "waves": [50, 10, 100]}, headers=h)
    assert r.status_code == 400 and r.json()["detail"] == "waves must grow"
    assert r.json()["code"] == "waves_grow"
    body = {"release_id": 1, "hardware": "micropython-esp32"}
    r = c.post("/api/campaigns", json=body, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "hardware_mismatch"
    assert r.json()["detail"] == "release 0.2.0 is for cpython-linux, not micropython-esp32"
    r = c.post("/api/campaigns", json={"release_id": 99}, headers=h)
    assert r.status_code == 404 and r.json()["code"] == "no_release"


@pytest.mark.parametrize("role", ["vol", "care"])
def test_volunteers_and_caregivers_may_not_touch_updates(api, key, role):
    c, w = api
    h = w.headers[role]
    assert _post_release(c, h, *build(key, 5)).status_code == 403
    assert c.get("/api/releases", headers=h).status_code == 403
    assert c.get("/api/campaigns", headers=h).status_code == 403
    assert c.get("/api/campaigns/1", headers=h).status_code == 403
    assert c.post("/api/campaigns", json={"release_id": 1}, headers=h).status_code == 403
    assert c.post("/api/campaigns/1/pause", headers=h).status_code == 403
    assert c.get("/api/releases").status_code == 401
