"""Dependencies every route shares: the database session, the logged-in user and role
checks. The engine and settings live on app.state (set by fleet.app.create_app).

    @router.get("/x")
    def x(db: SessionDep, user: Annotated[User, Depends(require(ADMIN, TECHNICIAN))]): ...

A user is found from the `Authorization: Bearer …` header (tools) or the session cookie
(web). No credentials, or dead ones: 401. A role the route does not admit: 403.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from pydantic import AfterValidator
from sqlmodel import Session

from fleet import security
from fleet.db import session
from fleet.models import User

COOKIE = "portineria_session"


def set_session_cookie(response, settings, token):
    """The web session cookie, the same for the API's login and the login page."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https:"),
        path="/",
    )


def as_utc(value):
    """SQLite hands back naive datetimes; every one we store is UTC, so say so."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# A datetime field of a response model: always answered with its UTC offset.
UTCDatetime = Annotated[datetime, AfterValidator(as_utc)]


def get_db(request: Request):
    with session(request.app.state.engine) as db:
        yield db


SessionDep = Annotated[Session, Depends(get_db)]


def get_settings(request: Request):
    return request.app.state.settings


def presented_token(request):
    """The token a request carries: a bearer header wins over the cookie."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


def get_current_user(request: Request, db: SessionDep):
    user = security.user_for_token(db, presented_token(request))
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="not logged in: log in at /api/login or send a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(*roles):
    """A dependency giving the current user if their role is one of `roles`, else 403."""

    def dependency(user: CurrentUser):
        if user.role not in roles:
            raise HTTPException(status_code=403, detail="your role may not do this")
        return user

    dependency.__doc__ = "Roles: " + ", ".join(roles)
    return dependency


def visible_or_404(db, user, model, row_id, what):
    """The row if `user` may see it; otherwise 404 — the same answer as for an id that
    does not exist, so scoping reveals nothing."""
    from fleet.services import scope

    row = scope.get(db, user, model, row_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no such {what}")
    return row


def refuse_if_used(db, stmt, message):
    """409 with `message` if `stmt` (a select of referring rows) finds any."""
    if db.exec(stmt.limit(1)).first() is not None:
        raise HTTPException(status_code=409, detail=message)
