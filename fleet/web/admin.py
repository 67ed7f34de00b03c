"""The admin's page: service figures (fleet.alerts.figures, last 30 days), users
(create with a first password or an invitation link, a new link for anyone, deactivate
and reactivate) and care circles (add and remove members; whether
the resident's consent is on record). Every change is audited like the API's."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import delete
from sqlmodel import select

from fleet import security
from fleet.alerts.figures import figures
from fleet.db import session
from fleet.models import (
    ADMIN,
    CAREGIVER,
    ROLES,
    VOLUNTEER,
    AuthToken,
    CareCircleMember,
    Resident,
    User,
    utcnow,
)
from fleet.services.audit import audit
from fleet.web.pages import Page, PageError, page_for

router = APIRouter(include_in_schema=False)
Admin = Annotated[Page, Depends(page_for(ADMIN))]
FIGURES_DAYS = 30
LANGUAGES = ("it", "en")
MIN_PASSWORD = 12  # as the API's UserCreate


@router.get("/admin")
def admin_home(page: Admin, saved: int = 0):
    return _home(page, saved=bool(saved))


def _home(page, saved=False, error=None, status=200, draft=None, invitation=None):
    with session(page.request.app.state.engine) as db:
        users = db.exec(select(User).order_by(User.role, User.name)).all()
        residents = db.exec(select(Resident).order_by(Resident.name)).all()
        members = db.exec(select(CareCircleMember).order_by(CareCircleMember.position)).all()
        by_id = {u.id: u for u in users}
        circles = [
            (r, [(m, by_id[m.user_id]) for m in members if m.resident_id == r.id])
            for r in residents
        ]
        helpers = [u for u in users if u.role in (CAREGIVER, VOLUNTEER) and u.active]
        end = utcnow()
        service = figures(db, end - timedelta(days=FIGURES_DAYS), end)
        return page.render(
            "admin.html",
            status=status,
            error=error,
            draft=draft or {"role": CAREGIVER, "language": "it"},
            roles=ROLES,
            languages=LANGUAGES,
            users=users,
            circles=circles,
            helpers=helpers,
            saved=saved,
            figures=service,
            days=FIGURES_DAYS,
            invitation=invitation,
            invite_hours=security.INVITE_HOURS,
        )


def _int(form, name):
    value = str(form.get(name) or "")
    if not value.isdigit():
        raise PageError(404)
    return int(value)


@router.post("/admin/users")
async def create_user(page: Admin, request: Request):
    """A new account with a password the admin sets once and hands over (the user can
    change it under /api/users/me/password; hashed with argon2id like every other) or,
    with the password left empty, none yet and an invitation link shown once, with which
    the user sets their own (fleet.web.invite)."""
    form = await request.form()
    page.check_csrf(form)
    draft = {k: str(form.get(k) or "").strip() for k in ("name", "email", "role", "language")}
    password = str(form.get("password") or "")
    error = None
    email = security.normalise_email(draft["email"]) if "@" in draft["email"] else ""
    if not draft["name"] or len(draft["name"]) > 100 or not email or len(email) > 254:
        error = "user_bad_fields"
    elif draft["role"] not in ROLES or draft["language"] not in LANGUAGES:
        error = "user_bad_fields"
    elif password and not MIN_PASSWORD <= len(password) <= 1024:
        error = "user_short_password"
    with session(request.app.state.engine) as db:
        if error is None and db.exec(select(User).where(User.email == email)).first():
            error = "user_email_taken"
        if error is not None:
            return _home(page, error=error, status=400, draft=draft)
        user = User(
            name=draft["name"],
            email=email,
            role=draft["role"],
            language=draft["language"],
            # "" matches no password (security.verify_password): no login until invited.
            password_hash=security.hash_password(password) if password else "",
        )
        db.add(user)
        db.flush()
        fields = {k: getattr(user, k) for k in ("name", "email", "role", "language")}
        audit(db, page.user, "create", "user", user.id, **fields)
        link = None if password else _invite(db, page, user)
        db.commit()
    return _done() if link is None else _home(page, saved=True, invitation=link)


def _invite(db, page, user):
    """(user's name, link): a new invitation, audited; the caller commits."""
    url, _ = security.invite(db, page.settings, user, by=page.user)
    return user.name, url


@router.post("/admin/users/{user_id}/invite")
async def reinvite(user_id: int, page: Admin, request: Request):
    """A new invitation link (the earlier one stops working): for a lost link, or a
    forgotten password. The password stays as it is until the link is used."""
    page.check_csrf(await request.form())
    with session(request.app.state.engine) as db:
        user = db.get(User, user_id)
        if user is None or not user.active or user.id == page.user.id:
            raise PageError(404)
        link = _invite(db, page, user)
        db.commit()
    return _home(page, saved=True, invitation=link)


def _done():
    return RedirectResponse("/admin?saved=1", status_code=303)


@router.post("/admin/users/{user_id}/active")
async def set_active(user_id: int, page: Admin, request: Request):
    form = await request.form()
    page.check_csrf(form)
    active = form.get("active") == "1"
    with session(request.app.state.engine) as db:
        user = db.get(User, user_id)
        if user is None or user.id == page.user.id:
            raise PageError(404)  # an admin cannot lock themselves out
        user.active = active
        db.add(user)
        if not active:
            # Sessions and tokens end with the account, as in the API.
            db.exec(delete(AuthToken).where(AuthToken.user_id == user.id))
        audit(db, page.user, "update", "user", user.id, changed={"active": active})
        db.commit()
    return _done()


@router.post("/admin/circles/{resident_id}/members")
async def add_member(resident_id: int, page: Admin, request: Request):
    form = await request.form()
    page.check_csrf(form)
    user_id, position = _int(form, "user_id"), _int(form, "position")
    relation = str(form.get("relation") or "")[:50]
    with session(request.app.state.engine) as db:
        user = db.get(User, user_id)
        if db.get(Resident, resident_id) is None or user is None:
            raise PageError(404)
        if user.role not in (CAREGIVER, VOLUNTEER):
            raise PageError(404)
        exists = db.exec(
            select(CareCircleMember).where(
                CareCircleMember.resident_id == resident_id, CareCircleMember.user_id == user_id
            )
        ).first()
        member = exists or CareCircleMember(resident_id=resident_id, user_id=user_id)
        member.position, member.relation = position, relation
        db.add(member)
        db.flush()
        detail = {"resident_id": resident_id, "user_id": user_id, "position": position}
        audit(db, page.user, "update", "care_circle", member.id, **detail)
        db.commit()
    return _done()


@router.post("/admin/circles/members/{member_id}/remove")
async def remove_member(member_id: int, page: Admin, request: Request):
    page.check_csrf(await request.form())
    with session(request.app.state.engine) as db:
        member = db.get(CareCircleMember, member_id)
        if member is None:
            raise PageError(404)
        db.delete(member)
        audit(db, page.user, "delete", "care_circle", member_id, resident_id=member.resident_id)
        db.commit()
    return _done()
