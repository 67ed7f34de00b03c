"""Enrolment over HTTP, on SQLite and PostgreSQL: who may provision, claim and revoke;
the secret is answered once and never again; the technician's CLI works against it."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from fleet.app import create_app
from fleet.db import session
from fleet.models import (
    ADMIN,
    CAREGIVER,
    CLAIMED,
    REVOKED,
    TECHNICIAN,
    VOLUNTEER,
    Condominium,
    Hub,
    User,
    VolunteerCondominium,
)
from fleet.secrets import unseal_hub_secret
from fleet.security import BEARER, issue_token
from fleet.settings import Settings
from tools import cli, fleetapi, identity


@pytest.fixture
def api(db_url, engine):
    settings = Settings(database_url=db_url, secret_key="api-test-" + "k" * 32, coap_port=5683)
    tokens = {}
    with session(engine) as db:
        condo = Condominium(name="Via Padova 12")
        db.add(condo)
        for role in (ADMIN, TECHNICIAN, VOLUNTEER, CAREGIVER):
            user = User(email=f"{role}@example.org", name=role, role=role, password_hash="")
            db.add(user)
            db.flush()
            tokens[role] = issue_token(db, settings, user, kind=BEARER)[0]
            if role == VOLUNTEER:
                db.add(VolunteerCondominium(user_id=user.id, condominium_id=condo.id))
        db.commit()
        condo_id = condo.id
    client = TestClient(create_app(settings, engine))

    def call(role, path, body=None):
        headers = {"Authorization": "Bearer " + tokens[role]} if role else {}
        return client.post("/api/enrolment" + path, json=body, headers=headers)

    call.settings, call.condo_id, call.tokens, call.client = settings, condo_id, tokens, client
    return call


def test_only_technicians_and_admins_provision(api):
    assert api(None, "/provision", {}).status_code == 401
    for role in (VOLUNTEER, CAREGIVER):
        assert api(role, "/provision", {}).status_code == 403
    assert api(ADMIN, "/provision", {}).status_code == 201


def test_provision_answers_the_secret_once(api, engine):
    resp = api(TECHNICIAN, "/provision", {"host": "fleet.example.org"})
    assert resp.status_code == 201 and resp.headers["cache-control"] == "no-store"
    body = resp.json()
    ident = body["identity"]
    assert ident["host"] == "fleet.example.org" and ident["port"] == 5683
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == body["hub_id"])).one()
    ms, salt = unseal_hub_secret(api.settings, hub.secret_enc)
    assert (ident["ms"], ident["salt"], ident["sid"]) == (ms.hex(), salt.hex(), hub.oscore_id.hex())
    assert body["claim_url"].endswith("/claim?code=" + body["claim_code"].replace("-", ""))
    # Nothing afterwards repeats it: revoke's answer, or a re-provision (a new secret).
    after = api(TECHNICIAN, f"/hubs/{hub.hub_id}/revoke", {"reason": "test"})
    assert ms.hex() not in after.text and salt.hex() not in after.text


def test_claim_single_use_wrong_code_and_rate_limit(api, engine):
    code = api(TECHNICIAN, "/provision", {}).json()["claim_code"]
    claim = {"code": code.lower(), "condominium_id": api.condo_id}
    assert api(CAREGIVER, "/claim", claim).status_code == 403
    assert api(TECHNICIAN, "/claim", claim).status_code == 403
    resp = api(VOLUNTEER, "/claim", claim)
    assert resp.status_code == 200 and resp.json()["state"] == CLAIMED
    again = api(VOLUNTEER, "/claim", claim)
    assert again.status_code == 404 and again.json()["detail"] == "no hub waits for that claim code"
    # 1 refusal so far; the limit (10 an hour) is reached by 9 more wrong codes.
    for _ in range(9):
        wrong = api(VOLUNTEER, "/claim", {"code": "0000-0000-0000", "condominium_id": api.condo_id})
        assert wrong.status_code == 404
    fresh = api(TECHNICIAN, "/provision", {}).json()["claim_code"]
    limited = api(VOLUNTEER, "/claim", {"code": fresh, "condominium_id": api.condo_id})
    assert limited.status_code == 429


def test_claim_into_someone_elses_condominium_is_refused(api, engine):
    with session(engine) as db:
        other = Condominium(name="Corso Lodi 3")
        db.add(other)
        db.commit()
        other_id = other.id
    code = api(TECHNICIAN, "/provision", {}).json()["claim_code"]
    resp = api(VOLUNTEER, "/claim", {"code": code, "condominium_id": other_id})
    assert resp.status_code == 403


def test_revoke_and_reprovision(api, engine):
    hub_id = api(TECHNICIAN, "/provision", {}).json()["hub_id"]
    assert api(VOLUNTEER, f"/hubs/{hub_id}/revoke").status_code == 403
    assert api(TECHNICIAN, "/hubs/hub-none/revoke").status_code == 404
    resp = api(TECHNICIAN, f"/hubs/{hub_id}/revoke")
    assert resp.status_code == 200 and resp.json()["state"] == REVOKED
    again = api(TECHNICIAN, f"/hubs/{hub_id}/reprovision", {})
    assert again.status_code == 200 and again.json()["claim_code"]
    with session(engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == hub_id)).one()
    assert hub.oscore_id.hex() == again.json()["identity"]["sid"]


def test_cli_provisions_through_the_api(api, tmp_path, capsys, monkeypatch):
    class Client:  # the CLI's HTTP client, pointed at the app in this process
        def __init__(self, server, token):
            self.headers = {"Authorization": "Bearer " + token}

        def request(self, method, path, json=None, files=None):
            return api.client.request(method, path, json=json, files=files, headers=self.headers)

        def close(self):
            pass

    monkeypatch.setattr(fleetapi, "open_client", Client)
    monkeypatch.setenv("PORTINERIA_TOKEN", api.tokens[TECHNICIAN])
    argv = ["--json", "--server", "http://fleet.test", "provision", "--out", str(tmp_path)]
    assert cli.main(argv + ["--label", str(tmp_path), "--ssid", "casa"]) == 0
    report = json.loads(capsys.readouterr().out)
    written = identity.read(tmp_path)
    assert written["hub"] == report["hub"] and written["ssid"] == "casa"
    assert report["claim_url"].startswith("http://fleet.test/claim?code=")
    revoked = ["--server", "http://fleet.test", "revoke", report["hub"]]
    assert cli.main(revoked) == 0
    capsys.readouterr()
    assert cli.main(["--server", "http://fleet.test", "--token", "bad", "revoke", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("portineria: the fleet refused: ") and err.endswith("(HTTP 401)\n")
