"""Care circles: a resident's caregivers in escalation order (position 1 is asked
first). Admins set a circle as a whole ordered list; a caregiver reads the circles of
their own residents (to know who else is called)."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import delete
from sqlmodel import select

from fleet.api.deps import SessionDep, require, visible_or_404
from fleet.models import ADMIN, CAREGIVER, VOLUNTEER, CareCircleMember, Resident, User
from fleet.services.audit import audit

router = APIRouter(prefix="/care-circles", tags=["care circles"])
Reader = Annotated[User, Depends(require(ADMIN, CAREGIVER))]
Admin = Annotated[User, Depends(require(ADMIN))]
MAX_MEMBERS = 20


class MemberBase(BaseModel):
    user_id: int
    relation: str = Field(default="", max_length=60, description='"daughter", "neighbour"…')


class MemberPublic(MemberBase):
    position: int
    name: str
    role: str


class CircleIn(BaseModel):
    members: list[MemberBase] = Field(max_length=MAX_MEMBERS, description="first is asked first")


def _members(db, resident_id):
    rows = db.exec(
        select(CareCircleMember, User)
        .join(User, User.id == CareCircleMember.user_id)
        .where(CareCircleMember.resident_id == resident_id)
        .order_by(CareCircleMember.position, CareCircleMember.id)
    ).all()
    return [
        MemberPublic(
            user_id=u.id, relation=m.relation, position=m.position, name=u.name, role=u.role
        )
        for m, u in rows
    ]


@router.get("/{resident_id}", response_model=list[MemberPublic], summary="Read a care circle")
def read_circle(resident_id: int, db: SessionDep, user: Reader):
    """The resident's circle in escalation order. Roles: admin, caregiver (their
    residents; 404 otherwise)."""
    visible_or_404(db, user, Resident, resident_id, "resident")
    return _members(db, resident_id)


@router.put("/{resident_id}", response_model=list[MemberPublic], summary="Set a care circle")
def set_circle(resident_id: int, body: CircleIn, db: SessionDep, admin: Admin):
    """Replace the circle with this ordered list of caregivers or volunteers (positions
    1, 2, …). An empty list empties it. Roles: admin."""
    visible_or_404(db, admin, Resident, resident_id, "resident")
    ids = [m.user_id for m in body.members]
    if len(set(ids)) != len(ids):
        raise HTTPException(status_code=422, detail="members: a user appears twice")
    users = {u.id: u for u in db.exec(select(User).where(User.id.in_(ids))).all()} if ids else {}
    for uid in ids:
        user = users.get(uid)
        if user is None or not user.active or user.role not in (CAREGIVER, VOLUNTEER):
            raise HTTPException(
                status_code=422,
                detail=f"members: user {uid} is not an active caregiver or volunteer",
            )
    old = [(m.user_id, m.relation) for m in _members(db, resident_id)]
    db.exec(delete(CareCircleMember).where(CareCircleMember.resident_id == resident_id))
    db.flush()  # the unique (resident, user) rows must be gone before they are re-added
    for position, member in enumerate(body.members, start=1):
        db.add(
            CareCircleMember(
                resident_id=resident_id,
                user_id=member.user_id,
                position=position,
                relation=member.relation,
            )
        )
    new = [(m.user_id, m.relation) for m in body.members]
    if old != new:
        audit(
            db,
            admin,
            "update",
            "care_circle",
            resident_id,
            changed={"members": [[u for u, _ in old], [u for u, _ in new]]},
        )
    db.commit()
    return _members(db, resident_id)
