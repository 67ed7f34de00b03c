"""Invitations through the REST API: an admin who creates a user without a password gets a
single-use link (as on the admin page), and POST /api/users/{id}/invite makes a fresh
one. The link sets the password once at /invite/<token>; it never works as a bearer
token. Audited without the token. Both databases."""

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from fleet import security
from fleet.api.deps import COOKIE
from fleet.db import session
from fleet.models import AuditLog, AuthToken, User, utcnow
from tests.fleet.api_support import client, make_settings, seed
from tests.fleet.test_web import csrf_of

NEW = "una password scelta da lei"
BODY = {"email": "Giulia@Example.org", "name": "Giulia Neri", "role": "caregiver"}


@pytest.fixture
def api(engine, db_url):
    settings = make_settings(db_url)
    return client(engine, settings), seed(engine, settings), engine, settings


def _token(settings, invitation):
    prefix = settings.public_url.rstrip("/") + "/invite/"
    assert invitation["url"].startswith(prefix)
    return invitation["url"][len(prefix) :]


def _accept(c, token, password=NEW):
    page = c.get(f"/invite/{token}")
    if page.status_code != 200:
        return page
    form = {"csrf": csrf_of(page.text), "password": password, "again": password}
    return c.post(f"/invite/{token}", data=form, follow_redirects=False)


def _invite_audit(engine, user_id):
    with session(engine) as db:
        rows = db.exec(
            select(AuditLog).where(AuditLog.entity == "user", AuditLog.entity_id == str(user_id))
        ).all()
        return [(r.action, r.user_id, r.detail) for r in rows]


def test_a_user_created_without_password_gets_a_link_that_works_once(api):
    c, w, engine, settings = api
    resp = c.post("/api/users", headers=w.headers["admin"], json=BODY)
    assert resp.status_code == 201
    new = resp.json()
    assert new["email"] == "giulia@example.org" and "password" not in str(new)
    expires = datetime.fromisoformat(new["invitation"]["expires_at"])
    assert timedelta(hours=71) < expires - utcnow() <= timedelta(hours=security.INVITE_HOURS)
    token = _token(settings, new["invitation"])

    with session(engine) as db:
        assert db.get(User, new["id"]).password_hash == ""  # no login until the link is used
        assert security.authenticate(db, "giulia@example.org", "") is None
    # The invitation is no login: not as a bearer token, not as the session cookie.
    assert c.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    c.cookies.set(COOKIE, token)
    assert c.get("/api/users/me").status_code == 401
    c.cookies.clear()
    # Nor is it readable again: the admin's listing and the user's own record hold no link.
    listed = c.get(f"/api/users/{new['id']}", headers=w.headers["admin"]).json()
    assert "invitation" not in listed

    r = _accept(c, token)
    assert r.status_code == 303 and r.headers["location"] == "/care"
    c.cookies.clear()
    with session(engine) as db:
        assert security.authenticate(db, "giulia@example.org", NEW) is not None
    assert _accept(c, token, "un'altra password ancora").status_code == 404  # spent
    with session(engine) as db:
        assert security.authenticate(db, "giulia@example.org", NEW) is not None

    admin_id = w.admin.id
    actions = [(a, u) for a, u, _ in _invite_audit(engine, new["id"])]
    assert actions == [("create", admin_id), ("invite", admin_id), ("update", new["id"])]
    assert token not in str(_invite_audit(engine, new["id"]))


def test_a_user_created_with_a_password_gets_no_link(api):
    c, w, engine, _ = api
    resp = c.post("/api/users", headers=w.headers["admin"], json=dict(BODY, password=NEW))
    assert resp.status_code == 201 and resp.json()["invitation"] is None
    with session(engine) as db:
        kinds = db.exec(select(AuthToken.kind).where(AuthToken.user_id == resp.json()["id"]))
        assert kinds.all() == []
        assert security.authenticate(db, "giulia@example.org", NEW) is not None
    short = c.post("/api/users", headers=w.headers["admin"], json=dict(BODY, password="corta"))
    assert short.status_code == 422


def test_admin_reinvites_and_only_the_newest_link_works(api):
    c, w, engine, settings = api
    url = f"/api/users/{w.care.id}/invite"
    first = c.post(url, headers=w.headers["admin"])
    second = c.post(url, headers=w.headers["admin"])
    assert first.status_code == second.status_code == 201
    old, new = _token(settings, first.json()), _token(settings, second.json())
    assert old != new
    # The password stays as it is until the link is used.
    assert c.get("/api/users/me", headers=w.headers["care"]).status_code == 200

    assert _accept(c, old).status_code == 404
    assert _accept(c, new).status_code == 303
    c.cookies.clear()
    # Accepting ends every other token of the user, the bearer token included.
    assert c.get("/api/users/me", headers=w.headers["care"]).status_code == 401
    invites = [a for a, u, _ in _invite_audit(engine, w.care.id) if a == "invite"]
    assert invites == ["invite", "invite"]


def test_only_an_admin_invites_and_not_the_unfit(api):
    c, w, engine, _ = api
    for role in ("tech", "vol", "care"):
        assert (
            c.post(f"/api/users/{w.care_b.id}/invite", headers=w.headers[role]).status_code == 403
        )
        body = dict(BODY, email=f"x-{role}@example.org")
        assert c.post("/api/users", headers=w.headers[role], json=body).status_code == 403
    assert c.post(f"/api/users/{w.care_b.id}/invite").status_code == 401
    h = w.headers["admin"]
    assert c.post("/api/users/99999/invite", headers=h).status_code == 404
    assert c.post(f"/api/users/{w.admin.id}/invite", headers=h).status_code == 422
    assert c.delete(f"/api/users/{w.care_b.id}", headers=h).status_code == 204
    assert c.post(f"/api/users/{w.care_b.id}/invite", headers=h).status_code == 422
    with session(engine) as db:
        invites = db.exec(select(AuthToken).where(AuthToken.kind == security.INVITE)).all()
        assert invites == []
