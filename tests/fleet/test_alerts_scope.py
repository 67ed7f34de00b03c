"""One scoping rule for alerts (fleet.services.scope.alerts): the role matrix, and the
API list and the pages' list give every role the same alerts. Both databases."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from fleet.db import session
from fleet.models import Alert, CareCircleMember, User
from fleet.services import scope
from fleet.web import alerts as web_alerts
from tests.fleet.test_web import browser, world  # noqa: F401  (fixture)


def _alert(db, resident, rule, audience):
    now = datetime.now(UTC)
    alert = Alert(
        resident_id=resident,
        rule=rule,
        severity="critical" if audience == "care" else "technical",
        audience=audience,
        auto=False,
        since=now,
        opened_at=now,
        open_key=f"{resident}:{rule}:",
        facts={"name": "x"},
    )
    db.add(alert)
    db.flush()
    return alert.id


@pytest.fixture
def matrix(world):  # noqa: F811
    with session(world.engine) as db:
        ids = {
            "anna_care": _alert(db, world.anna, "panic", "care"),
            "anna_tech": _alert(db, world.anna, "hub_offline", "tech"),
            "bruno_care": _alert(db, world.bruno, "panic", "care"),
            "bruno_tech": _alert(db, world.bruno, "hub_offline", "tech"),
        }
        # vol_b (condominium B) is also in Anna's circle: called for her care alerts.
        db.add(CareCircleMember(resident_id=world.anna, user_id=world.vol_b.id, position=2))
        db.commit()
    return ids


EXPECTED = {
    "admin": {"anna_care", "anna_tech", "bruno_care", "bruno_tech"},
    "tech": {"anna_tech", "bruno_tech"},
    "vol": {"anna_tech"},
    "vol_b": {"bruno_tech", "anna_care"},
    "care": {"anna_care"},
    "care_b": {"bruno_care"},
}


def test_the_role_matrix_is_the_same_for_scope_api_and_pages(world, matrix):  # noqa: F811
    names = {v: k for k, v in matrix.items()}
    for role, expected in EXPECTED.items():
        with session(world.engine) as db:
            user = db.get(User, getattr(world, role).id)
            seen = {names[a.id] for a in db.exec(scope.visible(user, Alert)).all()}
            page = {names[a.id] for a in web_alerts.mine(db, user)}
        api = browser(world)  # not logged in: the bearer token says who
        listed = api.get("/api/alerts", headers=world.headers[role]).json()
        assert seen == expected, role
        assert page == expected, role
        assert {names[a["id"]] for a in listed} == expected, role
        for key, alert_id in matrix.items():
            status = api.get(f"/api/alerts/{alert_id}", headers=world.headers[role]).status_code
            assert status == (200 if key in expected else 404), (role, key)


def test_an_unknown_role_sees_no_alert(world, matrix):  # noqa: F811
    with session(world.engine) as db:
        user = db.get(User, world.care.id)
        user.role = "guest"
        assert db.exec(scope.visible(user, Alert)).all() == []
        assert db.exec(select(Alert)).all()  # they exist
