"""The role matrix, on both databases: a caregiver sees only the residents in their
care circles, a volunteer only their condominiums (residents as flat, first name and
status), a technician no resident personal data; outside your scope is 404, as if the
row did not exist."""

import pytest

from tests.fleet.api_support import ANNA, BRUNO, NOTE, client, make_settings, seed


@pytest.fixture
def api(engine, db_url):
    settings = make_settings(db_url)
    return client(engine, settings), seed(engine, settings)


def _ids(resp):
    assert resp.status_code == 200, resp.text
    return sorted(row["id"] for row in resp.json())


def test_caregiver_reads_only_the_residents_in_their_circle(api):
    c, w = api
    h = w.headers["care"]
    mine = c.get(f"/api/residents/{w.anna}", headers=h)
    assert mine.status_code == 200 and mine.json()["name"] == ANNA
    assert mine.json()["notes"] == NOTE  # full detail for their own
    other = c.get(f"/api/residents/{w.bruno}", headers=h)
    missing = c.get("/api/residents/999999", headers=h)
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()  # nothing tells "not yours" from "not there"
    assert _ids(c.get("/api/residents", headers=h)) == [w.anna]
    assert _ids(c.get(f"/api/residents?flat_id={w.flat_b}", headers=h)) == []
    assert c.get(f"/api/care-circles/{w.bruno}", headers=h).status_code == 404
    assert [m["name"] for m in c.get(f"/api/care-circles/{w.anna}", headers=h).json()] == ["Care"]
    # Their resident's flat and building, nothing else; no hubs or sensors at all.
    assert _ids(c.get("/api/flats", headers=h)) == [w.flat_a]
    assert _ids(c.get("/api/condominiums", headers=h)) == [w.condo_a]
    assert c.get(f"/api/condominiums/{w.condo_b}", headers=h).status_code == 404
    assert c.get("/api/hubs", headers=h).status_code == 403
    assert c.get(f"/api/sensors/{w.sensor}", headers=h).status_code == 403


def test_caregiver_edits_only_holiday_language_and_notes_of_their_own(api):
    c, w = api
    h = w.headers["care"]
    resp = c.patch(
        f"/api/residents/{w.anna}", headers=h, json={"away_until": "2999-01-01T00:00:00Z"}
    )
    assert resp.status_code == 200 and resp.json()["status"] == "away"
    assert c.patch(f"/api/residents/{w.anna}", headers=h, json={"name": "X"}).status_code == 403
    resp = c.patch(f"/api/residents/{w.bruno}", headers=h, json={"notes": "x"})
    assert resp.status_code == 404


def test_volunteer_sees_only_their_condominium_and_resident_summaries(api):
    c, w = api
    h = w.headers["vol"]
    assert _ids(c.get("/api/condominiums", headers=h)) == [w.condo_a]
    other = c.get(f"/api/condominiums/{w.condo_b}", headers=h)
    assert other.status_code == 404
    assert c.get(f"/api/flats/{w.flat_b}", headers=h).status_code == 404
    assert c.get(f"/api/residents/{w.bruno}", headers=h).status_code == 404
    assert [x["hub_id"] for x in c.get("/api/hubs", headers=h).json()] == ["hub-a"]
    assert c.get("/api/hubs/hub-b", headers=h).status_code == 404
    rows = c.get("/api/residents", headers=h).json()
    assert rows == [
        {
            "id": w.anna,
            "flat_id": w.flat_a,
            "flat_label": "3B",
            "first_name": "Anna",
            "status": "no-consent",
        }
    ]
    one = c.get(f"/api/residents/{w.anna}", headers=h)
    assert one.json() == rows[0]
    assert "Verdi" not in one.text and NOTE not in one.text
    # Reading is all: no resident, flat or condominium edits.
    assert c.patch(f"/api/residents/{w.anna}", headers=h, json={"notes": "x"}).status_code == 403
    assert c.patch(f"/api/flats/{w.flat_a}", headers=h, json={"floor": 2}).status_code == 403


def test_technician_gets_no_resident_personal_data(api):
    c, w = api
    h = w.headers["tech"]
    assert c.get("/api/residents", headers=h).status_code == 403
    assert c.get(f"/api/residents/{w.anna}", headers=h).status_code == 403
    assert c.get(f"/api/care-circles/{w.anna}", headers=h).status_code == 403
    seen = ""
    for path in ("/api/condominiums", "/api/flats", "/api/hubs", "/api/sensors", "/api/users/me"):
        resp = c.get(path, headers=h)
        assert resp.status_code == 200, path
        seen += resp.text
    for fragment in (ANNA, BRUNO, "Anna", "Bruno", NOTE):
        assert fragment not in seen
    # What they do need: every hub with its health.
    hubs = c.get("/api/hubs", headers=h).json()
    assert [x["hub_id"] for x in hubs] == ["hub-a", "hub-b"]
    assert hubs[0]["health"]["rssi"] == -61 and hubs[0]["sensors"] == 1


def test_only_admins_manage_users_and_admins_see_everything(api):
    c, w = api
    for role in ("tech", "vol", "care"):
        assert c.get("/api/users", headers=w.headers[role]).status_code == 403
        assert c.get(f"/api/users/{w.admin.id}", headers=w.headers[role]).status_code == 403
    h = w.headers["admin"]
    assert _ids(c.get("/api/residents", headers=h)) == sorted([w.anna, w.bruno])
    assert _ids(c.get("/api/condominiums", headers=h)) == sorted([w.condo_a, w.condo_b])
    assert len(c.get("/api/users", headers=h).json()) == 6
