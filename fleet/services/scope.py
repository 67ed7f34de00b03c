"""Which rows a user may see: the one place that decides, for every door.

    stmt = scope.condominiums(user, select(Condominium))   # narrowed to the user's rows
    row = scope.get(db, user, Resident, 7)                 # None when not visible

- admin: everything.
- technician: condominiums, flats, hubs and sensors; no residents at all (their names
  and notes are personal data a technician never needs).
- volunteer: only the condominiums linked in VolunteerCondominium, with their flats,
  hubs, sensors and residents. Routes show a volunteer a resident's flat label, first
  name and status only (api/routes/residents.py) — being in a care circle does not widen
  that: for a volunteer the circle is an escalation list, not a view.
- caregiver: only the residents in their care circles, their flats and condominiums;
  no hubs or sensors.

Alerts follow the same rule, by audience (fleet.rules CARE or TECH): admins all;
caregivers the care alerts of the residents in their circles; technicians the technical
alerts; volunteers the technical alerts of their condominiums' residents and the care
alerts of residents whose circle calls them (they are asked to acknowledge those — the
one place where the circle, not the condominium, decides).

A row outside the scope is answered exactly as a row that does not exist (404), so
nobody learns which ids exist elsewhere.
"""

from sqlalchemy import false, or_
from sqlmodel import select

from fleet.models import (
    ADMIN,
    CAREGIVER,
    TECHNICIAN,
    VOLUNTEER,
    Alert,
    CareCircleMember,
    Condominium,
    Flat,
    Hub,
    Resident,
    Sensor,
    VolunteerCondominium,
)
from fleet.rules import CARE, TECH


def _volunteer_condos(user):
    return select(VolunteerCondominium.condominium_id).where(
        VolunteerCondominium.user_id == user.id
    )


def _cared_residents(user):
    return select(CareCircleMember.resident_id).where(CareCircleMember.user_id == user.id)


def _cared_flats(user):
    return select(Resident.flat_id).where(Resident.id.in_(_cared_residents(user)))


def _condo_ids(user):
    """A subquery of the condominium ids `user` may see, or None for all of them."""
    if user.role in (ADMIN, TECHNICIAN):
        return None
    if user.role == VOLUNTEER:
        return _volunteer_condos(user)
    if user.role == CAREGIVER:
        return select(Flat.condominium_id).where(Flat.id.in_(_cared_flats(user)))
    return select(Condominium.id).where(false())


def condominiums(user, stmt):
    ids = _condo_ids(user)
    return stmt if ids is None else stmt.where(Condominium.id.in_(ids))


def flats(user, stmt):
    if user.role == CAREGIVER:
        return stmt.where(Flat.id.in_(_cared_flats(user)))
    ids = _condo_ids(user)
    return stmt if ids is None else stmt.where(Flat.condominium_id.in_(ids))


def residents(user, stmt):
    if user.role == ADMIN:
        return stmt
    if user.role == VOLUNTEER:
        flat_ids = select(Flat.id).where(Flat.condominium_id.in_(_volunteer_condos(user)))
        return stmt.where(Resident.flat_id.in_(flat_ids))
    if user.role == CAREGIVER:
        return stmt.where(Resident.id.in_(_cared_residents(user)))
    return stmt.where(false())


def hubs(user, stmt):
    if user.role in (ADMIN, TECHNICIAN):
        return stmt
    if user.role == VOLUNTEER:
        return stmt.where(Hub.condominium_id.in_(_volunteer_condos(user)))
    return stmt.where(false())


def sensors(user, stmt):
    if user.role in (ADMIN, TECHNICIAN):
        return stmt
    if user.role == VOLUNTEER:
        hub_ids = select(Hub.id).where(Hub.condominium_id.in_(_volunteer_condos(user)))
        return stmt.where(Sensor.hub_id.in_(hub_ids))
    return stmt.where(false())


def alerts(user, stmt):
    if user.role == ADMIN:
        return stmt
    care = (Alert.audience == CARE) & Alert.resident_id.in_(_cared_residents(user))
    if user.role == CAREGIVER:
        return stmt.where(care)
    if user.role == TECHNICIAN:
        return stmt.where(Alert.audience == TECH)
    if user.role == VOLUNTEER:
        tech = (Alert.audience == TECH) & Alert.resident_id.in_(
            residents(user, select(Resident.id))
        )
        return stmt.where(or_(care, tech))
    return stmt.where(false())


_BY_MODEL = {
    Condominium: condominiums,
    Flat: flats,
    Resident: residents,
    Hub: hubs,
    Sensor: sensors,
    Alert: alerts,
}


def visible(user, model):
    """select(model) narrowed to what `user` may see."""
    return _BY_MODEL[model](user, select(model))


def get(db, user, model, row_id):
    """The row of `model` with this primary key if `user` may see it, else None."""
    return db.exec(visible(user, model).where(model.id == row_id)).first()
