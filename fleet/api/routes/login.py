"""Logging in and out: a session cookie for the web, bearer tokens for tools.

Wrong credentials answer 401 with one message whether or not the email exists, after
the same argon2 work. Failures are audited ("login-failed") and counted per email and
client address: past LOGIN_FAILURES_PER_WINDOW in LOGIN_WINDOW, that pair gets 429
until the window passes (counted in the database, so every process and restart agrees).
"""

import json
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import func, select

from fleet import security
from fleet.api.deps import (
    COOKIE,
    CurrentUser,
    SessionDep,
    get_settings,
    presented_token,
    set_session_cookie,
)
from fleet.api.routes.users import UserPublic, user_public
from fleet.models import AuditLog, utcnow
from fleet.services.audit import audit
from fleet.settings import Settings

router = APIRouter(tags=["auth"])

LOGIN_FAILURES_PER_WINDOW = 5
LOGIN_WINDOW = timedelta(minutes=15)
_BODY_LIMIT = 4096

SettingsDep = Annotated[Settings, Depends(get_settings)]


class Credentials(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TokenRequest(Credentials):
    name: str = Field(default="", max_length=100, description="what the token is for")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": "#/components/schemas/TokenRequest"}
            },
        },
    }
}


async def _read(request, model):
    """`model` from a JSON or form body; 422 with a readable message otherwise."""
    raw = await request.body()
    if len(raw) > _BODY_LIMIT:
        raise HTTPException(status_code=413, detail="request body too large")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/x-www-form-urlencoded":
            data = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        else:
            data = json.loads(raw or b"null")
        if not isinstance(data, dict):
            raise ValueError
        return model.model_validate(data)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(
            status_code=422, detail="send email and password as JSON or as a form"
        ) from None
    except ValidationError as e:
        fields = sorted({str(err["loc"][0]) for err in e.errors() if err.get("loc")})
        raise HTTPException(status_code=422, detail="check " + ", ".join(fields)) from None


def client_address(request):
    return request.client.host if request.client else "unknown"


def check_credentials(db, request, creds):
    """The user these credentials name, or HTTPException 429/401."""
    email, client = security.normalise_email(creds.email), client_address(request)
    since = utcnow() - LOGIN_WINDOW
    failures = db.exec(
        select(func.count(AuditLog.id)).where(
            AuditLog.action == "login-failed",
            AuditLog.at >= since,
            AuditLog.detail["email"].as_string() == email,
            AuditLog.detail["client"].as_string() == client,
        )
    ).one()
    if failures >= LOGIN_FAILURES_PER_WINDOW:
        raise HTTPException(
            status_code=429,
            detail="too many failed logins for this email; try again in 15 minutes",
            headers={"Retry-After": str(int(LOGIN_WINDOW.total_seconds()))},
        )
    user = security.authenticate(db, email, creds.password)
    if user is None:
        audit(db, None, "login-failed", "user", "", email=email, client=client)
        db.commit()
        raise HTTPException(status_code=401, detail="wrong email or password")
    return user


@router.post(
    "/login",
    response_model=UserPublic,
    summary="Log in (web)",
    openapi_extra=_BODY_DOC,
)
async def login(request: Request, response: Response, db: SessionDep, settings: SettingsDep):
    """Email and password (JSON or form) → a session cookie (HttpOnly, SameSite=Lax,
    Secure when the public URL is https) and the user's profile. Open to everyone."""
    creds = await _read(request, Credentials)
    user = check_credentials(db, request, creds)
    token, _row = security.issue_token(db, settings, user, security.SESSION)
    audit(db, user, "login", "user", user.id, client=client_address(request))
    db.commit()
    set_session_cookie(response, settings, token)
    return user_public(db, user)


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=201,
    summary="Issue a bearer token (tools)",
    openapi_extra=_BODY_DOC,
)
async def tokens(request: Request, response: Response, db: SessionDep, settings: SettingsDep):
    """Email and password → a bearer token for `Authorization: Bearer …`, shown once.
    Open to everyone; same limits as login."""
    creds = await _read(request, TokenRequest)
    user = check_credentials(db, request, creds)
    token, row = security.issue_token(db, settings, user, security.BEARER, creds.name)
    audit(db, user, "token", "user", user.id, name=creds.name, client=client_address(request))
    db.commit()
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(access_token=token, expires_at=row.expires_at.isoformat())


@router.post("/logout", status_code=204, summary="Log out")
def logout(request: Request, response: Response, db: SessionDep, user: CurrentUser):
    """Forget the token this request carries (cookie or bearer). Any logged-in user."""
    security.revoke_token(db, presented_token(request))
    audit(db, user, "logout", "user", user.id)
    db.commit()
    response.delete_cookie(COOKIE, path="/")
    response.status_code = 204
