"""Logging in: cookie for the web, bearer tokens for tools, logout, wrong passwords and
the per email+address limit, and 401 for anonymous callers on every API route."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from fleet.api.routes.login import LOGIN_FAILURES_PER_WINDOW
from fleet.db import session
from fleet.models import AuditLog, AuthToken, utcnow
from tests.fleet.api_support import PASSWORD, client, make_settings, seed


@pytest.fixture
def api(engine, db_url):
    settings = make_settings(db_url)
    world = seed(engine, settings)
    return client(engine, settings), world, engine


def test_login_json_sets_a_httponly_lax_cookie_that_authenticates(api):
    c, w, _ = api
    resp = c.post("/api/login", json={"email": "Care@Example.org ", "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == "caregiver"
    cookie = resp.headers["set-cookie"]
    assert "portineria_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert "password" not in resp.text
    assert c.get("/api/users/me").json()["email"] == "care@example.org"


def test_login_form_works_and_https_makes_the_cookie_secure(engine, db_url):
    settings = make_settings(db_url, public_url="https://fleet.example.org")
    seed(engine, settings)
    c = client(engine, settings)
    resp = c.post("/api/login", data={"email": "admin@example.org", "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    assert "Secure" in resp.headers["set-cookie"]


def test_wrong_password_and_unknown_email_get_the_same_401(api):
    c, _, _ = api
    wrong = c.post("/api/login", json={"email": "admin@example.org", "password": "nope"})
    unknown = c.post("/api/login", json={"email": "ghost@example.org", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong email or password"}
    assert "set-cookie" not in wrong.headers


def test_failures_are_limited_per_email_and_address(api):
    c, _, engine = api
    for _ in range(LOGIN_FAILURES_PER_WINDOW):
        assert (
            c.post("/api/login", json={"email": "vol@example.org", "password": "x"}).status_code
            == 401
        )
    # Now even the right password is refused for this email from this address…
    resp = c.post("/api/login", json={"email": "vol@example.org", "password": PASSWORD})
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    # …while another email from the same address still logs in.
    assert (
        c.post("/api/login", json={"email": "care@example.org", "password": PASSWORD}).status_code
        == 200
    )
    # Failures older than the window no longer count.
    with session(engine) as db:
        for row in db.exec(select(AuditLog).where(AuditLog.action == "login-failed")).all():
            row.at = utcnow() - timedelta(hours=1)
            db.add(row)
        db.commit()
    assert (
        c.post("/api/login", json={"email": "vol@example.org", "password": PASSWORD}).status_code
        == 200
    )


def test_login_rejects_malformed_bodies_without_echoing_them(api):
    c, _, _ = api
    for kwargs in (
        {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
        {"json": ["admin@example.org", "pw"]},
        {"json": {"email": "admin@example.org"}},
    ):
        resp = c.post("/api/login", **kwargs)
        assert resp.status_code == 422, resp.text
    resp = c.post("/api/login", json={"email": "x" * 300, "password": "secret-pw-123"})
    assert resp.status_code == 422 and "secret-pw-123" not in resp.text


def test_bearer_token_is_shown_once_stored_hashed_and_ends_at_logout(api):
    c, w, engine = api
    resp = c.post(
        "/api/tokens", json={"email": "tech@example.org", "password": PASSWORD, "name": "cli"}
    )
    assert resp.status_code == 201 and resp.headers["cache-control"] == "no-store"
    token = resp.json()["access_token"]
    with session(engine) as db:
        stored = [t.token_hash for t in db.exec(select(AuthToken)).all()]
    assert token not in stored and all(re.fullmatch("[0-9a-f]{64}", h) for h in stored)
    headers = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/users/me", headers=headers).json()["role"] == "technician"
    assert c.post("/api/logout", headers=headers).status_code == 204
    assert c.get("/api/users/me", headers=headers).status_code == 401


def test_expired_token_and_deactivated_user_get_401(api):
    c, w, engine = api
    with session(engine) as db:
        for row in db.exec(select(AuthToken).where(AuthToken.user_id == w.care.id)).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.add(row)
        db.commit()
    assert c.get("/api/users/me", headers=w.headers["care"]).status_code == 401
    assert c.delete(f"/api/users/{w.vol.id}", headers=w.headers["admin"]).status_code == 204
    assert c.get("/api/users/me", headers=w.headers["vol"]).status_code == 401
    resp = c.post("/api/login", json={"email": "vol@example.org", "password": PASSWORD})
    assert resp.status_code == 401


def test_anonymous_gets_401_on_every_api_route(api):
    c, _, _ = api
    open_routes = {"/api/login", "/api/tokens"}
    checked = 0
    for path, methods in c.app.openapi()["paths"].items():
        if not path.startswith("/api/") or path in open_routes:
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in methods:
            resp = c.request(method.upper(), concrete, headers={"Authorization": "Bearer bogus"})
            assert resp.status_code == 401, (method, path, resp.status_code)
            assert c.request(method.upper(), concrete).status_code == 401
            checked += 1
    assert checked >= 20


def test_changing_your_password_needs_the_old_one_and_ends_your_sessions(api):
    c, w, _ = api
    h = w.headers["care"]
    url = "/api/users/me/password"
    wrong = {"current_password": "guess", "new_password": "a brand new password"}
    assert c.post(url, headers=h, json=wrong).status_code == 403
    short = {"current_password": PASSWORD, "new_password": "short"}
    assert c.post(url, headers=h, json=short).status_code == 422
    good = {"current_password": PASSWORD, "new_password": "a brand new password"}
    assert c.post(url, headers=h, json=good).status_code == 204
    assert c.get("/api/users/me", headers=h).status_code == 401
    old = c.post("/api/login", json={"email": "care@example.org", "password": PASSWORD})
    new = c.post(
        "/api/login", json={"email": "care@example.org", "password": "a brand new password"}
    )
    assert old.status_code == 401 and new.status_code == 200
