"""Flats: everyone logged in reads the ones in their scope; only admins change them.
A flat's label is what is on the door, and no personal data."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlmodel import select

from fleet.api.deps import CurrentUser, SessionDep, refuse_if_used, require, visible_or_404
from fleet.models import ADMIN, Condominium, Flat, Resident, Sensor, User
from fleet.services import scope
from fleet.services.audit import audit, changes

router = APIRouter(prefix="/flats", tags=["flats"])
Admin = Annotated[User, Depends(require(ADMIN))]


class FlatBase(BaseModel):
    label: str = Field(min_length=1, max_length=60, description='as on the door: "3B"')
    floor: int | None = Field(default=None, ge=-5, le=200)


class FlatCreate(FlatBase):
    condominium_id: int


class FlatUpdate(BaseModel):
    label: str | None = Field(default=None, min_length=1, max_length=60)
    floor: int | None = Field(default=None, ge=-5, le=200)


class FlatPublic(FlatBase):
    id: int
    condominium_id: int


def _label_free(db, condominium_id, label, flat_id=None):
    other = db.exec(
        select(Flat).where(Flat.condominium_id == condominium_id, Flat.label == label)
    ).first()
    if other is not None and other.id != flat_id:
        raise HTTPException(status_code=409, detail="that condominium has a flat with that label")


@router.get("", response_model=list[FlatPublic], summary="List flats")
def list_flats(db: SessionDep, user: CurrentUser, condominium_id: int | None = None):
    """The flats you may see, optionally of one condominium. Roles: all (scoped)."""
    stmt = scope.flats(user, select(Flat))
    if condominium_id is not None:
        stmt = stmt.where(Flat.condominium_id == condominium_id)
    return db.exec(stmt.order_by(Flat.condominium_id, Flat.label)).all()


@router.post("", response_model=FlatPublic, status_code=201, summary="Add a flat")
def create_flat(body: FlatCreate, db: SessionDep, admin: Admin):
    """Roles: admin."""
    if db.get(Condominium, body.condominium_id) is None:
        raise HTTPException(status_code=422, detail="condominium_id: no such condominium")
    _label_free(db, body.condominium_id, body.label)
    flat = Flat(**body.model_dump())
    db.add(flat)
    db.flush()
    audit(db, admin, "create", "flat", flat.id, **body.model_dump())
    db.commit()
    return flat


@router.get("/{flat_id}", response_model=FlatPublic, summary="Read a flat")
def read_flat(flat_id: int, db: SessionDep, user: CurrentUser):
    """Roles: all (scoped; 404 outside your scope)."""
    return visible_or_404(db, user, Flat, flat_id, "flat")


@router.patch("/{flat_id}", response_model=FlatPublic, summary="Change a flat")
def update_flat(flat_id: int, body: FlatUpdate, db: SessionDep, admin: Admin):
    """Only the fields sent change (send floor: null to clear it). Roles: admin."""
    flat = visible_or_404(db, admin, Flat, flat_id, "flat")
    fields = body.model_dump(exclude_unset=True)
    if fields.get("label") is None:
        fields.pop("label", None)
    else:
        _label_free(db, flat.condominium_id, fields["label"], flat.id)
    diff = changes(flat.model_dump(), fields)
    for name, value in fields.items():
        setattr(flat, name, value)
    db.add(flat)
    if diff:
        audit(db, admin, "update", "flat", flat.id, changed=diff)
    db.commit()
    return flat


@router.delete("/{flat_id}", status_code=204, summary="Delete a flat")
def delete_flat(flat_id: int, db: SessionDep, admin: Admin):
    """Only an empty one: 409 while residents or sensors are in it. Roles: admin."""
    flat = visible_or_404(db, admin, Flat, flat_id, "flat")
    refuse_if_used(db, select(Resident).where(Resident.flat_id == flat.id), "it has residents")
    refuse_if_used(db, select(Sensor).where(Sensor.flat_id == flat.id), "it has sensors")
    db.delete(flat)
    audit(db, admin, "delete", "flat", flat_id, label=flat.label)
    db.commit()
