"""Condominiums: everyone logged in reads the ones in their scope (services/scope.py);
only admins create, change or delete them."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import select

from fleet.api.deps import (
    CurrentUser,
    SessionDep,
    UTCDatetime,
    refuse_if_used,
    require,
    visible_or_404,
)
from fleet.models import ADMIN, Condominium, Flat, Hub, User, VolunteerCondominium
from fleet.services import scope
from fleet.services.audit import audit, changes

router = APIRouter(prefix="/condominiums", tags=["condominiums"])
Admin = Annotated[User, Depends(require(ADMIN))]


class CondominiumBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=400)


class CondominiumCreate(CondominiumBase):
    pass


class CondominiumUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=400)


class CondominiumPublic(CondominiumBase):
    id: int
    created_at: UTCDatetime


@router.get("", response_model=list[CondominiumPublic], summary="List condominiums")
def list_condominiums(db: SessionDep, user: CurrentUser):
    """The condominiums you may see. Roles: all (scoped)."""
    return db.exec(scope.condominiums(user, select(Condominium)).order_by(Condominium.id)).all()


@router.post("", response_model=CondominiumPublic, status_code=201, summary="Add a condominium")
def create_condominium(body: CondominiumCreate, db: SessionDep, admin: Admin):
    """Roles: admin."""
    condo = Condominium(**body.model_dump())
    db.add(condo)
    db.flush()
    audit(db, admin, "create", "condominium", condo.id, **body.model_dump())
    db.commit()
    return condo


@router.get("/{condominium_id}", response_model=CondominiumPublic, summary="Read a condominium")
def read_condominium(condominium_id: int, db: SessionDep, user: CurrentUser):
    """Roles: all (scoped; 404 outside your scope)."""
    return visible_or_404(db, user, Condominium, condominium_id, "condominium")


@router.patch("/{condominium_id}", response_model=CondominiumPublic, summary="Change one")
def update_condominium(condominium_id: int, body: CondominiumUpdate, db: SessionDep, admin: Admin):
    """Only the fields sent change. Roles: admin."""
    condo = visible_or_404(db, admin, Condominium, condominium_id, "condominium")
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    diff = changes(condo.model_dump(), fields)
    for name, value in fields.items():
        setattr(condo, name, value)
    db.add(condo)
    if diff:
        audit(db, admin, "update", "condominium", condo.id, changed=diff)
    db.commit()
    return condo


@router.delete("/{condominium_id}", status_code=204, summary="Delete a condominium")
def delete_condominium(condominium_id: int, db: SessionDep, admin: Admin):
    """Only an empty one: 409 while it has flats or hubs. Roles: admin."""
    condo = visible_or_404(db, admin, Condominium, condominium_id, "condominium")
    refuse_if_used(db, select(Flat).where(Flat.condominium_id == condo.id), "it still has flats")
    refuse_if_used(db, select(Hub).where(Hub.condominium_id == condo.id), "it still has hubs")
    for link in db.exec(
        select(VolunteerCondominium).where(VolunteerCondominium.condominium_id == condo.id)
    ).all():
        db.delete(link)
    db.delete(condo)
    audit(db, admin, "delete", "condominium", condominium_id, name=condo.name)
    db.commit()
