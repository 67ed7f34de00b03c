"""Helpers for the REST API tests: one small world (two condominiums, users of every
role, residents, hubs and a sensor) made straight in the database, bearer tokens issued
without the argon2 cost of a login, and a TestClient on a fresh app."""

import os

from fastapi.testclient import TestClient

from fleet import security
from fleet.app import create_app
from fleet.db import session
from fleet.models import (
    ADMIN,
    CAREGIVER,
    CLAIMED,
    ONLINE,
    TECHNICIAN,
    VOLUNTEER,
    CareCircleMember,
    Condominium,
    Flat,
    Hub,
    Resident,
    Sensor,
    User,
    VolunteerCondominium,
)
from fleet.secrets import seal_hub_secret
from fleet.settings import Settings

SECRET_KEY = "test-secret-key-for-the-rest-api-0123456789"
PASSWORD = "correct horse battery staple"
# One argon2 hash for every seeded user: hashing per user would dominate the suite.
_HASH = security.hash_password(PASSWORD)
# Names that must never reach a technician, nor (beyond the first name) a volunteer.
ANNA, BRUNO = "Anna Verdi", "Bruno Gialli"
NOTE = "diabetic; key with the neighbour in 2A"


def make_settings(db_url, **overrides):
    return Settings(database_url=db_url, secret_key=SECRET_KEY, **overrides)


class World:
    """Ids of the seeded rows and a bearer header per user."""


def _user(db, email, role):
    user = User(email=email, name=email.split("@")[0].title(), role=role, password_hash=_HASH)
    db.add(user)
    db.flush()
    return user


def _hub(db, settings, hub_id, condo):
    hub = Hub(
        hub_id=hub_id,
        oscore_id=os.urandom(4),
        secret_enc=seal_hub_secret(settings, os.urandom(16), os.urandom(8)),
        state=ONLINE if condo else CLAIMED,
        condominium_id=condo,
        rssi=-61,
        free_heap=81234,
        restarts=2,
    )
    db.add(hub)
    db.flush()
    return hub


def seed(engine, settings):
    """Condominium A (volunteer `vol`, resident Anna cared for by `care`) and condominium B
    (resident Bruno cared for by `care_b`), a hub in each, a sensor on A's hub."""
    w = World()
    with session(engine) as db:
        for name, role in (
            ("admin", ADMIN),
            ("tech", TECHNICIAN),
            ("vol", VOLUNTEER),
            ("vol_b", VOLUNTEER),
            ("care", CAREGIVER),
            ("care_b", CAREGIVER),
        ):
            setattr(w, name, _user(db, f"{name}@example.org", role))
        condo_a, condo_b = Condominium(name="Via Padova 12"), Condominium(name="Corso Lodi 3")
        db.add_all([condo_a, condo_b])
        db.flush()
        flat_a = Flat(condominium_id=condo_a.id, label="3B", floor=3)
        flat_b = Flat(condominium_id=condo_b.id, label="1A", floor=1)
        db.add_all([flat_a, flat_b])
        db.flush()
        anna = Resident(flat_id=flat_a.id, name=ANNA, notes=NOTE)
        bruno = Resident(flat_id=flat_b.id, name=BRUNO, notes=NOTE)
        db.add_all([anna, bruno])
        db.flush()
        db.add(VolunteerCondominium(user_id=w.vol.id, condominium_id=condo_a.id))
        db.add(VolunteerCondominium(user_id=w.vol_b.id, condominium_id=condo_b.id))
        db.add(CareCircleMember(resident_id=anna.id, user_id=w.care.id, relation="daughter"))
        db.add(CareCircleMember(resident_id=bruno.id, user_id=w.care_b.id, relation="son"))
        hub_a = _hub(db, settings, "hub-a", condo_a.id)
        _hub(db, settings, "hub-b", condo_b.id)
        sensor = Sensor(hub_id=hub_a.id, key="pir1", kind="motion", room="living", pin=4)
        sensor.flat_id = flat_a.id
        db.add(sensor)
        db.flush()
        w.headers = {}
        for role in ("admin", "tech", "vol", "vol_b", "care", "care_b"):
            token, _row = security.issue_token(db, settings, getattr(w, role), security.BEARER)
            w.headers[role] = {"Authorization": f"Bearer {token}"}
        db.commit()
        w.condo_a, w.condo_b = condo_a.id, condo_b.id
        w.flat_a, w.flat_b = flat_a.id, flat_b.id
        w.anna, w.bruno = anna.id, bruno.id
        w.sensor = sensor.id
    return w


def client(engine, settings):
    return TestClient(create_app(settings, engine))
