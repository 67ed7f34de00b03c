"""CRUD through the API: what is stored, what is refused (422 readable, 404, 409), what
the audit log says — and that it never holds a password, hash, bind key or a
resident's name."""

import json

import pytest
from sqlmodel import select

from fleet import secrets
from fleet.db import session
from fleet.models import AuditLog, Hub, Sensor, User
from fleet.services.config import config_etag
from tests.fleet.api_support import ANNA, PASSWORD, client, make_settings, seed

BIND_KEY = "00112233445566778899aabbccddeeff"


@pytest.fixture
def api(engine, db_url):
    settings = make_settings(db_url)
    return client(engine, settings), seed(engine, settings), engine, settings


def _audit(engine, entity):
    with session(engine) as db:
        rows = db.exec(select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id))
        return [(r.action, r.entity_id, r.detail, r.user_id) for r in rows.all()]


def _all_audit_text(engine):
    with session(engine) as db:
        return json.dumps([r.detail for r in db.exec(select(AuditLog)).all()])


def test_condominium_and_flat_lifecycle_is_audited(api):
    c, w, engine, _ = api
    h = w.headers["admin"]
    resp = c.post("/api/condominiums", headers=h, json={"name": "Via Po 1", "address": "Torino"})
    assert resp.status_code == 201
    cid = resp.json()["id"]
    flat = c.post("/api/flats", headers=h, json={"condominium_id": cid, "label": "2A"})
    assert flat.status_code == 201
    dup = c.post("/api/flats", headers=h, json={"condominium_id": cid, "label": "2A"})
    assert dup.status_code == 409
    assert c.delete(f"/api/condominiums/{cid}", headers=h).status_code == 409  # has a flat
    patched = c.patch(f"/api/condominiums/{cid}", headers=h, json={"name": "Via Po 2"})
    assert patched.json()["name"] == "Via Po 2" and patched.json()["address"] == "Torino"
    assert patched.json()["created_at"].endswith(("Z", "+00:00"))  # UTC on both databases
    assert c.delete(f"/api/flats/{flat.json()['id']}", headers=h).status_code == 204
    assert c.delete(f"/api/condominiums/{cid}", headers=h).status_code == 204
    assert c.get(f"/api/condominiums/{cid}", headers=h).status_code == 404
    log = _audit(engine, "condominium")
    assert [a for a, *_ in log] == ["create", "update", "delete"]
    assert log[1][2] == {"changed": {"name": ["Via Po 1", "Via Po 2"]}}
    assert {u for *_, u in log} == {w.admin.id}
    assert [a for a, *_ in _audit(engine, "flat")] == ["create", "delete"]


def test_validation_errors_are_422_sentences_and_unknown_ids_404(api):
    c, w, _, _ = api
    h = w.headers["admin"]
    resp = c.post("/api/condominiums", headers=h, json={"address": "no name"})
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("name: ")
    resp = c.post("/api/flats", headers=h, json={"condominium_id": 999999, "label": "1"})
    assert resp.status_code == 422 and "condominium_id" in resp.json()["detail"]
    for path in ("condominiums", "flats", "residents", "sensors", "users"):
        assert c.get(f"/api/{path}/999999", headers=h).status_code == 404, path
    assert c.get("/api/condominiums/not-a-number", headers=h).status_code == 422
    assert c.get("/api/hubs/nope", headers=h).status_code == 404


def test_resident_create_update_delete_keeps_personal_data_out_of_the_log(api):
    c, w, engine, _ = api
    h = w.headers["admin"]
    body = {
        "flat_id": w.flat_a,
        "name": "Carla Neri",
        "language": "en",
        "consent_date": "2025-02-01",
        "notes": "lives alone",
    }
    resp = c.post("/api/residents", headers=h, json=body)
    assert resp.status_code == 201, resp.text
    rid = resp.json()["id"]
    assert resp.json()["status"] == "monitored" and resp.json()["language"] == "en"
    resp = c.patch(f"/api/residents/{rid}", headers=h, json={"name": "Carla Bianchi"})
    assert resp.json()["name"] == "Carla Bianchi"
    assert c.patch(f"/api/residents/{rid}", headers=h, json={"flat_id": 999999}).status_code == 422
    assert c.delete(f"/api/residents/{rid}", headers=h).status_code == 204
    assert [a for a, *_ in _audit(engine, "resident")] == ["create", "update", "delete"]
    text = _all_audit_text(engine)
    assert "Carla" not in text and "lives alone" not in text and ANNA not in text


def test_sensor_bind_key_is_sealed_never_returned_and_changes_the_hub_config(api):
    c, w, engine, settings = api
    h = w.headers["tech"]
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        etag_before = config_etag(db, settings, hub)
    body = {
        "hub_id": "hub-a",
        "key": "btn",
        "kind": "button",
        "room": "bedroom",
        "flat_id": w.flat_a,
        "ble_addr": "A4:C1:38:00:11:22",
        "ble_key": BIND_KEY,
    }
    resp = c.post("/api/sensors", headers=h, json=body)
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["has_ble_key"] is True and out["ble_addr"] == "a4:c1:38:00:11:22"
    assert BIND_KEY not in resp.text and "ble_key" not in out and "ble_key_enc" not in out
    listed = c.get("/api/sensors?hub_id=hub-a", headers=h)
    assert BIND_KEY not in listed.text and [s["key"] for s in listed.json()] == ["btn", "pir1"]
    with session(engine) as db:
        row = db.get(Sensor, out["id"])
        assert secrets.unseal(settings, row.ble_key_enc) == bytes.fromhex(BIND_KEY)
        assert config_etag(db, settings, hub) != etag_before
    assert BIND_KEY not in _all_audit_text(engine)
    # Clearing the key; moving the sensor from BLE to a pin in one request.
    resp = c.patch(
        f"/api/sensors/{out['id']}", headers=h, json={"ble_key": "", "ble_addr": None, "pin": 7}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["has_ble_key"] is False and resp.json()["pin"] == 7
    assert c.delete(f"/api/sensors/{out['id']}", headers=h).status_code == 204
    assert [a for a, *_ in _audit(engine, "sensor")] == ["create", "update", "delete"]


@pytest.mark.parametrize(
    "change, status",
    [
        ({"kind": "teleport"}, 422),
        ({"room": "attic"}, 422),
        ({"ble_key": "abcd"}, 422),
        ({"pin": None}, 422),  # then it is read nowhere
        ({"i2c_addr": 0x44}, 422),  # then it is read in two places
        ({"key": "a/b"}, 422),
        ({"flat_id": "FLAT_B"}, 422),  # a flat in another building
        ({"hub_id": "hub-zz"}, 422),
        ({"key": "pir1"}, 409),  # the hub has a sensor with that key
    ],
)
def test_sensors_the_hub_could_not_read_are_refused(api, change, status):
    c, w, _, _ = api
    body = {"hub_id": "hub-a", "key": "door", "kind": "door", "room": "entrance", "pin": 5}
    body.update({k: (w.flat_b if v == "FLAT_B" else v) for k, v in change.items()})
    resp = c.post("/api/sensors", headers=w.headers["admin"], json=body)
    assert resp.status_code == status, resp.text
    assert isinstance(resp.json()["detail"], str)


def test_users_are_created_with_hashed_passwords_and_never_show_them(api):
    c, w, engine, _ = api
    h = w.headers["admin"]
    body = {
        "email": "New@Example.org",
        "name": "Nina",
        "role": "volunteer",
        "password": "a long enough password",
        "condominium_ids": [w.condo_b],
    }
    resp = c.post("/api/users", headers=h, json=body)
    assert resp.status_code == 201, resp.text
    new = resp.json()
    assert new["email"] == "new@example.org" and new["condominium_ids"] == [w.condo_b]
    assert "password" not in resp.text and "hash" not in resp.text
    assert c.post("/api/users", headers=h, json=body).status_code == 409
    short = dict(body, email="s@example.org", password="short")
    resp = c.post("/api/users", headers=h, json=short)
    assert resp.status_code == 422 and "short" not in resp.text
    bad_role = dict(body, email="r@example.org", role="overlord")
    assert c.post("/api/users", headers=h, json=bad_role).status_code == 422
    login = c.post(
        "/api/tokens", json={"email": "new@example.org", "password": "a long enough password"}
    )
    assert login.status_code == 201
    tok = {"Authorization": "Bearer " + login.json()["access_token"]}
    assert [x["id"] for x in c.get("/api/condominiums", headers=tok).json()] == [w.condo_b]
    # A new password ends existing tokens; the audit notes the change, not the value.
    resp = c.patch(
        f"/api/users/{new['id']}",
        headers=h,
        json={"password": "another long password", "condominium_ids": []},
    )
    assert resp.status_code == 200 and resp.json()["condominium_ids"] == []
    assert c.get("/api/users/me", headers=tok).status_code == 401
    with session(engine) as db:
        stored = db.get(User, new["id"]).password_hash
    text = _all_audit_text(engine)
    assert "long enough" not in text and "another long" not in text and stored not in text
    assert PASSWORD not in text


def test_admin_cannot_lock_themselves_out(api):
    c, w, _, _ = api
    h = w.headers["admin"]
    assert c.delete(f"/api/users/{w.admin.id}", headers=h).status_code == 422
    resp = c.patch(f"/api/users/{w.admin.id}", headers=h, json={"role": "volunteer"})
    assert resp.status_code == 422
    assert c.get("/api/users/me", headers=h).json()["role"] == "admin"


def test_care_circle_is_set_in_escalation_order(api):
    c, w, engine, _ = api
    h = w.headers["admin"]
    members = [
        {"user_id": w.vol.id, "relation": "neighbour"},
        {"user_id": w.care.id, "relation": "daughter"},
    ]
    resp = c.put(f"/api/care-circles/{w.anna}", headers=h, json={"members": members})
    assert resp.status_code == 200, resp.text
    assert [(m["user_id"], m["position"]) for m in resp.json()] == [(w.vol.id, 1), (w.care.id, 2)]
    assert [m["user_id"] for m in c.get(f"/api/care-circles/{w.anna}", headers=h).json()] == [
        w.vol.id,
        w.care.id,
    ]
    twice = {"members": [{"user_id": w.care.id}, {"user_id": w.care.id}]}
    assert c.put(f"/api/care-circles/{w.anna}", headers=h, json=twice).status_code == 422
    tech = {"members": [{"user_id": w.tech.id}]}
    assert c.put(f"/api/care-circles/{w.anna}", headers=h, json=tech).status_code == 422
    assert (
        c.put(
            f"/api/care-circles/{w.anna}", headers=w.headers["care"], json={"members": []}
        ).status_code
        == 403
    )
    # Emptying the circle ends the caregiver's view of Anna.
    assert c.put(f"/api/care-circles/{w.anna}", headers=h, json={"members": []}).json() == []
    assert c.get(f"/api/residents/{w.anna}", headers=w.headers["care"]).status_code == 404
    log = _audit(engine, "care_circle")
    assert log[0][2] == {"changed": {"members": [[w.care.id], [w.vol.id, w.care.id]]}}
    assert len(log) == 2


def test_openapi_documents_every_route_with_a_summary_and_tag(api):
    c, _, _, _ = api
    paths = c.get("/openapi.json").json()["paths"]
    for path, methods in paths.items():
        if path.startswith("/api/"):
            for method, op in methods.items():
                assert op.get("summary") and op.get("tags"), (method, path)
