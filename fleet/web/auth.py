"""Logging in and out of the pages, switching language, the home page each role lands
on, and the project's static files."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse

from fleet import security
from fleet.api.deps import COOKIE, set_session_cookie
from fleet.api.routes.login import Credentials, check_credentials, client_address
from fleet.db import session
from fleet.models import ADMIN, CAREGIVER, ROLES, TECHNICIAN, VOLUNTEER
from fleet.services.audit import audit
from fleet.web import i18n
from fleet.web.pages import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    Page,
    PageError,
    anonymous,
    new_login_csrf,
    page_for,
    safe_next,
)

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
LANDING = {ADMIN: "/admin", TECHNICIAN: "/fleet", VOLUNTEER: "/condo", CAREGIVER: "/care"}
AnyUser = Annotated[Page, Depends(page_for(*ROLES))]


@router.get("/static/{name}")
def static(name: str):
    path = STATIC / name
    # Only files directly in static/ with a known type: no paths, no surprises.
    if "/" in name or path.suffix not in _STATIC_TYPES or not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(
        path, media_type=_STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=3600"}
    )


@router.get("/")
def home(page: AnyUser):
    return RedirectResponse(LANDING[page.user.role], status_code=303)


def _login_form(page, next_url, error=None, status=200):
    token = new_login_csrf()
    response = page.render(
        "login.html", status=status, next=next_url, error=error, login_csrf=token
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login")
def login_form(page: Annotated[Page, Depends(anonymous)], next: str = "/"):
    return _login_form(page, safe_next(next))


@router.post("/login")
async def login(request: Request, page: Annotated[Page, Depends(anonymous)]):
    form = await request.form()
    next_url = safe_next(form.get("next"))
    sent, cookie = form.get("csrf") or "", request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not cookie or sent != cookie:
        return _login_form(page, next_url, "bad_form", 403)
    try:
        creds = Credentials(email=form.get("email") or "", password=form.get("password") or "")
    except ValueError:
        return _login_form(page, next_url, "wrong_login", 401)
    settings = request.app.state.settings
    with session(request.app.state.engine) as db:
        try:
            user = check_credentials(db, request, creds)  # the API's checks: limits, audit
        except HTTPException as e:
            error = "too_many" if e.status_code == 429 else "wrong_login"
            return _login_form(page, next_url, error, e.status_code)
        token, _row = security.issue_token(db, settings, user, security.SESSION)
        audit(db, user, "login", "user", user.id, client=client_address(request))
        db.commit()
        role = user.role
    response = RedirectResponse(next_url if next_url != "/" else LANDING[role], status_code=303)
    set_session_cookie(response, settings, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, page: AnyUser):
    page.check_csrf(await request.form())
    with session(request.app.state.engine) as db:
        security.revoke_token(db, request.cookies.get(COOKIE))
        audit(db, page.user, "logout", "user", page.user.id)
        db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str = "/"):
    # A plain link, usable before logging in; it only sets a cookie for this browser.
    if lang not in i18n.LANGUAGES:
        raise PageError(404)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
