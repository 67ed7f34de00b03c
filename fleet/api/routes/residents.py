"""Residents — the personal data the whole fleet exists to protect.

- admin: full detail, and the only role that adds, moves or deletes residents.
- caregiver: full detail of the residents in their care circles; may change their
  language, notes and holiday (away_until) — a daughter knows her mother is away.
- volunteer: residents of their condominiums as ResidentSummary only: flat label,
  first name and status (enough to knock on the right door, nothing more).
- technician: no access (403): hubs and sensors never need a name.

status: "away" while away_until is in the future, else "monitored" once consent is on
record, else "no-consent" (the hub's events are stored; only alarms — panic, fall,
smoke, gas, water — and technical alerts go out, no wellbeing rule: fleet.alerts.lifecycle
.monitored).
"""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete
from sqlmodel import select

from fleet.api.deps import SessionDep, as_utc, require, visible_or_404
from fleet.models import (
    ADMIN,
    CAREGIVER,
    VOLUNTEER,
    CareCircleMember,
    Flat,
    Resident,
    User,
    utcnow,
)
from fleet.services import scope
from fleet.services.audit import audit, changes

router = APIRouter(prefix="/residents", tags=["residents"])
Reader = Annotated[User, Depends(require(ADMIN, CAREGIVER, VOLUNTEER))]
Editor = Annotated[User, Depends(require(ADMIN, CAREGIVER))]
Admin = Annotated[User, Depends(require(ADMIN))]
CAREGIVER_FIELDS = {"language", "notes", "away_until"}


class ResidentBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    language: str = Field(default="it", min_length=2, max_length=10)
    consent_date: date | None = Field(default=None, description="monitoring needs consent")
    away_until: datetime | None = Field(default=None, description="holiday: rules pause")
    notes: str = Field(default="", max_length=4000)

    @field_validator("away_until")
    @classmethod
    def _utc(cls, v):
        return as_utc(v)


class ResidentCreate(ResidentBase):
    flat_id: int


class ResidentUpdate(BaseModel):
    flat_id: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    language: str | None = Field(default=None, min_length=2, max_length=10)
    consent_date: date | None = None
    away_until: datetime | None = None
    notes: str | None = Field(default=None, max_length=4000)

    @field_validator("away_until")
    @classmethod
    def _utc(cls, v):
        return as_utc(v)


class ResidentPublic(ResidentBase):
    id: int
    flat_id: int
    status: str
    created_at: datetime


class ResidentSummary(BaseModel):
    """What a volunteer sees of a resident."""

    id: int
    flat_id: int
    flat_label: str
    first_name: str
    status: str


def status(resident, now=None):
    away = as_utc(resident.away_until)
    if away is not None and away > (now or utcnow()):
        return "away"
    return "monitored" if resident.consent_date else "no-consent"


def _view(db, user, resident):
    if user.role == VOLUNTEER:
        flat = db.get(Flat, resident.flat_id)
        return ResidentSummary(
            id=resident.id,
            flat_id=resident.flat_id,
            flat_label=flat.label,
            first_name=(resident.name.split() or [""])[0],
            status=status(resident),
        )
    data = resident.model_dump()
    data["away_until"] = as_utc(resident.away_until)
    data["created_at"] = as_utc(resident.created_at)
    return ResidentPublic(**data, status=status(resident))


def _flat_for(db, user, flat_id):
    if scope.get(db, user, Flat, flat_id) is None:
        raise HTTPException(status_code=422, detail="flat_id: no such flat")


@router.get("", response_model=list[ResidentPublic | ResidentSummary], summary="List residents")
def list_residents(db: SessionDep, user: Reader, flat_id: int | None = None):
    """The residents you may see, optionally of one flat. Volunteers get summaries.
    Roles: admin, caregiver (their circles), volunteer (their condominiums)."""
    stmt = scope.residents(user, select(Resident))
    if flat_id is not None:
        stmt = stmt.where(Resident.flat_id == flat_id)
    return [_view(db, user, r) for r in db.exec(stmt.order_by(Resident.id)).all()]


@router.post("", response_model=ResidentPublic, status_code=201, summary="Add a resident")
def create_resident(body: ResidentCreate, db: SessionDep, admin: Admin):
    """Roles: admin."""
    _flat_for(db, admin, body.flat_id)
    resident = Resident(**body.model_dump())
    db.add(resident)
    db.flush()
    # Which flat and whether consent is on record; the name and notes stay out of the log.
    audit(
        db,
        admin,
        "create",
        "resident",
        resident.id,
        flat_id=body.flat_id,
        consent_date=body.consent_date,
    )
    db.commit()
    return _view(db, admin, resident)


@router.get("/{resident_id}", response_model=ResidentPublic | ResidentSummary, summary="Read one")
def read_resident(resident_id: int, db: SessionDep, user: Reader):
    """Roles: admin, caregiver, volunteer (summary) — 404 outside your scope."""
    return _view(db, user, visible_or_404(db, user, Resident, resident_id, "resident"))


@router.patch("/{resident_id}", response_model=ResidentPublic, summary="Change a resident")
def update_resident(resident_id: int, body: ResidentUpdate, db: SessionDep, user: Editor):
    """Only the fields sent change. Caregivers may change language, notes and away_until
    of their residents (403 for other fields). Roles: admin, caregiver."""
    resident = visible_or_404(db, user, Resident, resident_id, "resident")
    fields = body.model_dump(exclude_unset=True)
    for name in ("flat_id", "name", "language", "notes"):
        if name in fields and fields[name] is None:
            del fields[name]  # null means "unchanged" for fields that cannot be empty
    if user.role == CAREGIVER and set(fields) - CAREGIVER_FIELDS:
        raise HTTPException(
            status_code=403,
            detail="caregivers may change only " + ", ".join(sorted(CAREGIVER_FIELDS)),
        )
    if "flat_id" in fields:
        _flat_for(db, user, fields["flat_id"])
    before = resident.model_dump()
    before["away_until"] = as_utc(before["away_until"])
    diff = changes(before, fields)
    for name, value in fields.items():
        setattr(resident, name, value)
    db.add(resident)
    if diff:
        # Field names only for name and notes: their values are personal data.
        logged = {k: ("changed" if k in ("name", "notes") else v) for k, v in diff.items()}
        audit(db, user, "update", "resident", resident.id, changed=logged)
    db.commit()
    return _view(db, user, resident)


@router.delete("/{resident_id}", status_code=204, summary="Delete a resident")
def delete_resident(resident_id: int, db: SessionDep, admin: Admin):
    """Removes the resident and their care circle. Roles: admin."""
    resident = visible_or_404(db, admin, Resident, resident_id, "resident")
    db.exec(delete(CareCircleMember).where(CareCircleMember.resident_id == resident.id))
    db.delete(resident)
    audit(db, admin, "delete", "resident", resident_id, flat_id=resident.flat_id)
    db.commit()
