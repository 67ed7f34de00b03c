"""Users (admin only, except /users/me). A user is never deleted — their name stays on
the audit log — but deactivated, which also ends their sessions and tokens. Password
hashes are never returned or audited.

A user created without a password gets none (no login) and a single-use invitation link,
returned once, with which they choose their own at /invite/{token} (fleet.web.invite), as
on the admin page; POST /users/{id}/invite makes a fresh link."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete
from sqlmodel import select

from fleet import security
from fleet.api.deps import CurrentUser, SessionDep, UTCDatetime, get_settings, require
from fleet.models import ADMIN, AuthToken, Condominium, User, VolunteerCondominium
from fleet.services.audit import audit, changes
from fleet.settings import Settings

router = APIRouter(prefix="/users", tags=["users"])
Admin = Annotated[User, Depends(require(ADMIN))]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Role = Literal["admin", "technician", "volunteer", "caregiver"]


def _email(value):
    value = security.normalise_email(value)
    local, at, domain = value.partition("@")
    if not (local and at and "." in domain) or " " in value:
        raise ValueError("not an email address")
    return value


class UserBase(BaseModel):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    language: str = Field(default="it", min_length=2, max_length=10)
    phone: str = Field(default="", max_length=40)

    @field_validator("email")
    @classmethod
    def _check_email(cls, v):
        return _email(v)


class UserCreate(UserBase):
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=1024,
        description="left out: no password yet, and an invitation link in the answer",
    )
    condominium_ids: list[int] = Field(
        default_factory=list, description="for volunteers: the condominiums they look after"
    )


class UserUpdate(BaseModel):
    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    language: str | None = Field(default=None, min_length=2, max_length=10)
    phone: str | None = Field(default=None, max_length=40)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=12, max_length=1024)
    condominium_ids: list[int] | None = None

    @field_validator("email")
    @classmethod
    def _check_email(cls, v):
        return None if v is None else _email(v)


class UserPublic(UserBase):
    id: int
    active: bool
    created_at: UTCDatetime
    condominium_ids: list[int]


class Invitation(BaseModel):
    url: str = Field(description="works once, until expires_at; shown only in this answer")
    expires_at: UTCDatetime


class UserCreated(UserPublic):
    invitation: Invitation | None = None


def _condo_ids(db, user):
    rows = db.exec(
        select(VolunteerCondominium.condominium_id).where(VolunteerCondominium.user_id == user.id)
    ).all()
    return sorted(rows)


def user_public(db, user):
    return UserPublic(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        language=user.language,
        phone=user.phone,
        active=user.active,
        created_at=user.created_at,
        condominium_ids=_condo_ids(db, user),
    )


def _get(db, user_id):
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="no such user")
    return user


def _email_free(db, email, user_id=None):
    other = db.exec(select(User).where(User.email == email)).first()
    if other is not None and other.id != user_id:
        raise HTTPException(status_code=409, detail="a user with that email exists")


def _set_condos(db, user, ids):
    ids = sorted(set(ids))
    if ids and user.role != "volunteer":
        raise HTTPException(status_code=422, detail="only volunteers are linked to condominiums")
    found = db.exec(select(Condominium.id).where(Condominium.id.in_(ids))).all() if ids else []
    if len(found) != len(ids):
        raise HTTPException(status_code=422, detail="condominium_ids: unknown condominium")
    db.exec(delete(VolunteerCondominium).where(VolunteerCondominium.user_id == user.id))
    for cid in ids:
        db.add(VolunteerCondominium(user_id=user.id, condominium_id=cid))


def _end_sessions(db, user):
    db.exec(delete(AuthToken).where(AuthToken.user_id == user.id))


def invitation(db, settings, admin, user):
    """A fresh invitation for `user` (any earlier one stops working), audited as made by
    `admin`; the caller commits."""
    url, expires_at = security.invite(db, settings, user, by=admin)
    return Invitation(url=url, expires_at=expires_at)


@router.get("/me", response_model=UserPublic, summary="Who am I")
def me(db: SessionDep, user: CurrentUser):
    """Your own profile. Any logged-in user."""
    return user_public(db, user)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


@router.post("/me/password", status_code=204, summary="Change your password")
def change_password(body: PasswordChange, db: SessionDep, user: CurrentUser):
    """Needs the current password; ends every session and token of yours, this one
    included, so a stolen session does not outlive the change. Any logged-in user."""
    if not security.verify_password(user.password_hash, body.current_password):
        raise HTTPException(status_code=403, detail="the current password is wrong")
    user.password_hash = security.hash_password(body.new_password)
    db.add(user)
    _end_sessions(db, user)
    audit(db, user, "update", "user", user.id, changed={"password": "changed"})
    db.commit()


@router.get("", response_model=list[UserPublic], summary="List users")
def list_users(db: SessionDep, _admin: Admin):
    """Every user, by id. Roles: admin."""
    return [user_public(db, u) for u in db.exec(select(User).order_by(User.id)).all()]


@router.post("", response_model=UserCreated, status_code=201, summary="Create a user")
def create_user(body: UserCreate, db: SessionDep, admin: Admin, settings: SettingsDep):
    """With a password, which the admin hands over; without one, the answer's `invitation`
    holds a link with which the user sets their own. Roles: admin."""
    _email_free(db, body.email)
    data = body.model_dump(exclude={"password", "condominium_ids"})
    # "" matches no password (security.verify_password): no login until invited.
    password_hash = "" if body.password is None else security.hash_password(body.password)
    user = User(**data, password_hash=password_hash)
    db.add(user)
    db.flush()
    _set_condos(db, user, body.condominium_ids)
    audit(db, admin, "create", "user", user.id, **data, condominium_ids=body.condominium_ids)
    link = None if body.password is not None else invitation(db, settings, admin, user)
    db.commit()
    return UserCreated(**user_public(db, user).model_dump(), invitation=link)


@router.get("/{user_id}", response_model=UserPublic, summary="Read a user")
def read_user(user_id: int, db: SessionDep, _admin: Admin):
    """Roles: admin."""
    return user_public(db, _get(db, user_id))


@router.patch("/{user_id}", response_model=UserPublic, summary="Change a user")
def update_user(user_id: int, body: UserUpdate, db: SessionDep, admin: Admin):
    """Only the fields sent change. A new password, a role change or deactivation ends
    the user's sessions and tokens. Roles: admin."""
    user = _get(db, user_id)
    if user.id == admin.id and (body.active is False or body.role not in (None, ADMIN)):
        raise HTTPException(status_code=422, detail="you cannot demote or deactivate yourself")
    fields = body.model_dump(exclude_unset=True, exclude={"password", "condominium_ids"})
    if fields.get("email"):
        _email_free(db, fields["email"], user.id)
    fields = {k: v for k, v in fields.items() if v is not None}
    before = {k: getattr(user, k) for k in fields}
    for name, value in fields.items():
        setattr(user, name, value)
    diff = changes(before, fields)
    if body.password is not None:
        user.password_hash = security.hash_password(body.password)
        diff["password"] = "changed"
    if "password" in diff or "role" in diff or "active" in diff:
        _end_sessions(db, user)
    if body.condominium_ids is not None or ("role" in diff and user.role != "volunteer"):
        old = _condo_ids(db, user)
        _set_condos(db, user, body.condominium_ids or [])
        if old != sorted(set(body.condominium_ids or [])):
            diff["condominium_ids"] = [old, sorted(set(body.condominium_ids or []))]
    db.add(user)
    if diff:
        audit(db, admin, "update", "user", user.id, changed=diff)
    db.commit()
    return user_public(db, user)


@router.post(
    "/{user_id}/invite", response_model=Invitation, status_code=201, summary="Invite a user again"
)
def reinvite(user_id: int, db: SessionDep, admin: Admin, settings: SettingsDep):
    """A new invitation link (the earlier one stops working): for a lost link or a
    forgotten password, which stays as it is until the link is used. Not for a
    deactivated user, nor for yourself (/users/me/password). Roles: admin."""
    user = _get(db, user_id)
    if not user.active:
        raise HTTPException(status_code=422, detail="the user is deactivated")
    if user.id == admin.id:
        raise HTTPException(
            status_code=422, detail="change your own password at /users/me/password"
        )
    link = invitation(db, settings, admin, user)
    db.commit()
    return link


@router.delete("/{user_id}", status_code=204, summary="Deactivate a user")
def deactivate_user(user_id: int, db: SessionDep, admin: Admin):
    """The user can no longer log in; their sessions and tokens end. Roles: admin."""
    user = _get(db, user_id)
    if user.id == admin.id:
        raise HTTPException(status_code=422, detail="you cannot deactivate yourself")
    user.active = False
    db.add(user)
    _end_sessions(db, user)
    audit(db, admin, "delete", "user", user.id, email=user.email)
    db.commit()
