"""Invitations (issue 7): the admin creates a user without a password and gets a link,
shown once, that works once and for 72 hours; the user sets a password (argon2id) and is
logged in. An invitation never works as a login token and a login token never as an
invitation. Both databases."""

import re
from datetime import timedelta

from sqlmodel import select

from fleet import security
from fleet.db import session
from fleet.models import AuditLog, AuthToken, User, utcnow
from tests.fleet.test_web import browser, csrf_of, world  # noqa: F401  (fixture)

NEW = "una password tutta nuova"


def _invite_new_user(w):
    c = browser(w, "admin")
    form = {
        "name": "Giulia Neri",
        "email": "giulia@example.org",
        "role": "caregiver",
        "language": "it",
        "password": "",
        "csrf": csrf_of(c.get("/admin").text),
    }
    r = c.post("/admin/users", data=form)
    assert r.status_code == 200 and "valido 72 ore" in r.text
    url = re.search(r'id="invitation-link"[^>]* value="([^"]+)"', r.text).group(1)
    assert url.startswith(w.settings.public_url.rstrip("/") + "/invite/")
    return c, url.split("/invite/", 1)[1]


def _accept(w, token, password=NEW, again=None):
    c = browser(w)
    page = c.get(f"/invite/{token}")
    data = {"csrf": csrf_of(page.text), "password": password, "again": again or password}
    return page, c.post(f"/invite/{token}", data=data), c


def test_an_invited_user_sets_a_password_once_and_is_logged_in(world):  # noqa: F811
    admin, token = _invite_new_user(world)
    with session(world.engine) as db:
        user = db.exec(select(User).where(User.email == "giulia@example.org")).one()
        assert user.password_hash == ""  # nobody can log in as her yet
        assert security.authenticate(db, "giulia@example.org", "") is None
        row = db.exec(select(AuthToken).where(AuthToken.user_id == user.id)).one()
        assert row.kind == security.INVITE and row.token_hash != token
        life = security._aware(row.expires_at) - utcnow()
        assert timedelta(hours=71) < life <= timedelta(hours=72)
    assert "invito in attesa" in admin.get("/admin").text
    assert token not in admin.get("/admin").text  # shown once only

    page, r, c = _accept(world, token, again="una password diversa")
    assert "Giulia Neri" in page.text and "giulia@example.org" in page.text
    assert r.status_code == 400 and "non coincidono" in r.text
    _, r, c = _accept(world, token, password="corta")
    assert r.status_code == 400 and "almeno 12 caratteri" in r.text
    no_csrf = browser(world).post(f"/invite/{token}", data={"password": NEW, "again": NEW})
    assert no_csrf.status_code == 403

    _, r, c = _accept(world, token)
    assert r.status_code == 303 and r.headers["location"] == "/care"
    assert c.get("/care").status_code == 200  # logged in by the invitation's answer
    with session(world.engine) as db:
        user = db.get(User, user.id)
        assert user.password_hash.startswith("$argon2id$")
        assert security.authenticate(db, "giulia@example.org", NEW) is not None
        kinds = [t.kind for t in db.exec(select(AuthToken).where(AuthToken.user_id == user.id))]
        assert kinds == [security.SESSION]  # the invitation is spent
        actions = [
            e.action
            for e in db.exec(select(AuditLog).where(AuditLog.entity_id == str(user.id))).all()
        ]
        assert {"create", "invite", "update"} <= set(actions)
        assert NEW not in str([e.detail for e in db.exec(select(AuditLog)).all()])

    again = browser(world).get(f"/invite/{token}")
    assert again.status_code == 404 and "scaduto o è già stato usato" in again.text


def test_an_expired_or_replaced_invitation_is_refused(world):  # noqa: F811
    admin, token = _invite_new_user(world)
    with session(world.engine) as db:
        user = db.exec(select(User).where(User.email == "giulia@example.org")).one()
    r = admin.post(
        f"/admin/users/{user.id}/invite", data={"csrf": csrf_of(admin.get("/admin").text)}
    )
    fresh = re.search(r'value="[^"]+/invite/([^"]+)"', r.text).group(1)
    assert browser(world).get(f"/invite/{token}").status_code == 404  # replaced
    assert browser(world).get(f"/invite/{fresh}").status_code == 200
    with session(world.engine) as db:
        row = db.exec(select(AuthToken).where(AuthToken.user_id == user.id)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()
    gone = browser(world).get(f"/invite/{fresh}")
    assert gone.status_code == 404 and 'name="password"' not in gone.text
    r = browser(world).post(f"/invite/{fresh}", data={"csrf": "x", "password": NEW, "again": NEW})
    assert r.status_code == 404
    with session(world.engine) as db:
        assert db.get(User, user.id).password_hash == ""


def test_an_invitation_is_no_login_and_a_login_no_invitation(world):  # noqa: F811
    admin, token = _invite_new_user(world)
    c = browser(world)
    c.cookies.set("portineria_session", token)
    assert c.get("/care").status_code == 303  # to the login page
    api = c.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    with session(world.engine) as db:
        bearer, _ = security.issue_token(db, world.settings, world.care, security.BEARER)
        cookie, _ = security.issue_token(db, world.settings, world.care, security.SESSION)
        db.commit()
    for login_token in (bearer, cookie):
        assert browser(world).get(f"/invite/{login_token}").status_code == 404
        r = browser(world).post(
            f"/invite/{login_token}", data={"csrf": "x", "password": NEW, "again": NEW}
        )
        assert r.status_code == 404
    with session(world.engine) as db:
        assert security.accept_invitation(db, cookie, NEW) is None
        assert security.authenticate(db, "care@example.org", NEW) is None


def test_a_new_link_for_a_user_with_a_password_resets_it_only_when_used(world):  # noqa: F811
    admin = browser(world, "admin")
    r = admin.post(
        f"/admin/users/{world.care.id}/invite", data={"csrf": csrf_of(admin.get("/admin").text)}
    )
    token = re.search(r'value="[^"]+/invite/([^"]+)"', r.text).group(1)
    care = browser(world, "care")
    assert care.get("/care").status_code == 200  # the old password and session still work
    _, r, _ = _accept(world, token)
    assert r.status_code == 303
    assert care.get("/care").status_code == 303  # the change ended the old session
    with session(world.engine) as db:
        assert security.authenticate(db, "care@example.org", NEW) is not None
    assert browser(world, "tech").post(f"/admin/users/{world.care.id}/invite").status_code == 403
