"""The admin's page for issue 6's later parts: creating users (argon2id, audited, the new
user can log in; refusals re-render with a reason and keep what was typed) and each
resident's consent shown beside the care circle. Both databases."""

import re

from sqlmodel import select

from fleet import security
from fleet.db import session
from fleet.models import AuditLog, Resident, User
from tests.fleet.api_support import ANNA, BRUNO
from tests.fleet.test_web import browser, csrf_of, world  # noqa: F401  (fixture)


def _circle(html, name):
    start = html.index(f"<h3>{name}</h3>")
    return html[start : html.index("</div>", start)]


def test_an_admin_creates_a_user_who_can_then_log_in(world):  # noqa: F811
    c = browser(world, "admin")
    token = csrf_of(c.get("/admin").text)
    form = {
        "name": "Giulia Neri",
        "email": " Giulia@Example.org ",
        "role": "volunteer",
        "language": "en",
        "password": "una password lunga",
    }
    assert c.post("/admin/users", data=form).status_code == 403  # no CSRF token
    r = c.post("/admin/users", data={**form, "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/admin?saved=1"
    with session(world.engine) as db:
        user = db.exec(select(User).where(User.email == "giulia@example.org")).one()
        assert (user.name, user.role, user.language, user.active) == (
            "Giulia Neri",
            "volunteer",
            "en",
            True,
        )
        assert user.password_hash.startswith("$argon2id$")
        assert security.authenticate(db, "giulia@example.org", "una password lunga") is not None
        log = db.exec(select(AuditLog).where(AuditLog.entity == "user")).all()
    assert any(e.action == "create" and e.entity_id == str(user.id) for e in log)
    assert "una password lunga" not in str([e.detail for e in log])
    assert "Giulia Neri" in c.get("/admin").text


def test_refusals_say_why_and_keep_the_form(world):  # noqa: F811
    c = browser(world, "admin")
    token = csrf_of(c.get("/admin").text)
    good = {"name": "Ugo", "email": "ugo@example.org", "role": "caregiver", "language": "it"}
    cases = [
        ({**good, "password": "corta"}, "almeno 12 caratteri"),
        ({**good, "email": "care@example.org", "password": "x" * 12}, "Esiste già"),
        ({**good, "role": "root", "password": "x" * 12}, "Controlli nome"),
        ({**good, "name": "", "password": "x" * 12}, "Controlli nome"),
    ]
    for form, reason in cases:
        r = c.post("/admin/users", data={**form, "csrf": token})
        assert r.status_code == 400 and reason in r.text, form
        assert 'value="ugo@example.org"' in r.text or 'value="care@example.org"' in r.text
    with session(world.engine) as db:
        assert db.exec(select(User).where(User.name == "Ugo")).first() is None
    assert browser(world, "tech").post("/admin/users", data=good).status_code == 403


def test_the_circles_say_whose_consent_is_not_on_record(world):  # noqa: F811
    with session(world.engine) as db:
        anna = db.get(Resident, world.anna)
        anna.consent_date = anna.created_at.date().replace(year=2025, month=2, day=1)
        db.add(anna)
        db.commit()
    html = browser(world, "admin").get("/admin").text
    assert "consenso registrato il 01/02/2025" in _circle(html, ANNA)
    bruno = re.sub(r"\s+", " ", _circle(html, BRUNO))
    assert "consenso non registrato" in bruno and "solo allarmi" in bruno
