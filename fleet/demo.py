"""Demo data for `python -m fleet --demo`: one user per role, two condominiums with flats
and residents, and care circles — enough to see every role's view of the fleet.

seed() may run on every start: the data is made once, and each run gives the demo users
fresh random passwords (returned, for printing), so no fixed password ever works.
"""

import secrets
from datetime import date

from sqlmodel import select

from fleet.models import (
    ADMIN,
    CAREGIVER,
    TECHNICIAN,
    VOLUNTEER,
    CareCircleMember,
    Condominium,
    Flat,
    Resident,
    User,
    VolunteerCondominium,
)
from fleet.security import hash_password
from fleet.services.audit import audit

USERS = (
    (ADMIN, "admin@demo.portineria.org", "Ada Admin"),
    (TECHNICIAN, "tech@demo.portineria.org", "Tito Tecnico"),
    (VOLUNTEER, "volunteer@demo.portineria.org", "Vera Volontaria"),
    (CAREGIVER, "caregiver@demo.portineria.org", "Carla Figlia"),
)
# (condominium, address, [(flat, floor, [(resident, language)])])
PLACES = (
    (
        "Condominio Via Padova 12",
        "Via Padova 12, Milano",
        [
            ("1A", 1, [("Giuseppina Rossi", "it")]),
            ("2B", 2, [("Ernesto Bianchi", "it"), ("Maria Bianchi", "it")]),
            ("3C", 3, [("Amina Haddad", "ar")]),
        ],
    ),
    ("Casa di Corso Lodi 3", "Corso Lodi 3, Milano", [("4", 0, [("Franco Neri", "it")])]),
)


def _password():
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def _users(db):
    made = []
    for role, email, name in USERS:
        password = _password()
        user = db.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, name=name, role=role, password_hash="")
        user.password_hash = hash_password(password)
        user.active = True
        db.add(user)
        made.append((role, email, password))
    db.flush()
    return made


def _places(db, volunteer, caregiver):
    first = None
    for name, address, flats in PLACES:
        condo = Condominium(name=name, address=address)
        db.add(condo)
        db.flush()
        first = first or condo
        for label, floor, residents in flats:
            flat = Flat(condominium_id=condo.id, label=label, floor=floor)
            db.add(flat)
            db.flush()
            for who, language in residents:
                db.add(
                    Resident(
                        flat_id=flat.id, name=who, language=language, consent_date=date(2025, 1, 15)
                    )
                )
    db.flush()
    # The volunteer looks after the first condominium only; the caregiver cares for its
    # first resident only: the API's scoping is visible from the first login.
    db.add(VolunteerCondominium(user_id=volunteer.id, condominium_id=first.id))
    mother = db.exec(select(Resident).order_by(Resident.id)).first()
    db.add(CareCircleMember(resident_id=mother.id, user_id=caregiver.id, relation="daughter"))
    db.add(CareCircleMember(resident_id=mother.id, user_id=volunteer.id, position=2))


def seed(db):
    """Make the demo data if it is missing; returns [(role, email, password)]."""
    made = _users(db)
    if db.exec(select(Condominium).where(Condominium.name == PLACES[0][0])).first() is None:
        by_role = {
            u.role: u
            for u in db.exec(select(User)).all()
            if u.email.endswith("@demo.portineria.org")
        }
        _places(db, by_role[VOLUNTEER], by_role[CAREGIVER])
        audit(db, None, "create", "demo", "", what="demo data")
    audit(db, None, "update", "user", "", what="demo users re-passworded")
    db.commit()
    return made
