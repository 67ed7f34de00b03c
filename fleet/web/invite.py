"""The invitation page: a new user (or one an admin sent a fresh link) opens
/invite/{token}, chooses a password and is logged in. The link works once and for
security.INVITE_HOURS; a login token is no invitation and an invitation no login.

The token in the path is the secret; the form still carries a double-submit CSRF token
like the login form's, so no other site can make a browser set a password it chose."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from fleet import security
from fleet.api.deps import set_session_cookie
from fleet.db import session
from fleet.services.audit import audit
from fleet.web import i18n
from fleet.web.auth import LANDING
from fleet.web.pages import LOGIN_CSRF_COOKIE, Page, anonymous, language, new_login_csrf

router = APIRouter(include_in_schema=False)
Anonymous = Annotated[Page, Depends(anonymous)]
MIN_PASSWORD = 12  # as the API's UserCreate


def _form(page, token, user, error=None, status=200):
    # In the invited user's language, unless this browser chose one.
    page.lang = language(page.request, user)
    page.t = i18n.translator(page.lang)
    csrf = new_login_csrf()
    response = page.render(
        "invite.html", status=status, token=token, invited=user, error=error, form_csrf=csrf
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/invite/")
    return response


def _gone(page):
    return page.render("error.html", status=404, title="invite_gone", text="invite_gone_text")


@router.get("/invite/{token}")
def invitation(token: str, page: Anonymous):
    with session(page.request.app.state.engine) as db:
        user = security.invited_user(db, token)
        if user is None:
            return _gone(page)
        return _form(page, token, user)


@router.post("/invite/{token}")
async def accept(token: str, request: Request, page: Anonymous):
    form = await request.form()
    sent, cookie = form.get("csrf") or "", request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    password, again = str(form.get("password") or ""), str(form.get("again") or "")
    settings = request.app.state.settings
    with session(request.app.state.engine) as db:
        user = security.invited_user(db, token)
        if user is None:
            return _gone(page)
        if not cookie or sent != cookie:
            return _form(page, token, user, "bad_form", 403)
        if not MIN_PASSWORD <= len(password) <= 1024:
            return _form(page, token, user, "user_short_password", 400)
        if password != again:
            return _form(page, token, user, "invite_mismatch", 400)
        security.accept_invitation(db, token, password)
        session_token, _row = security.issue_token(db, settings, user, security.SESSION)
        audit(db, user, "update", "user", user.id, changed={"password": "set by invitation"})
        db.commit()
        role = user.role
    response = RedirectResponse(LANDING[role], status_code=303)
    set_session_cookie(response, settings, session_token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/invite/")
    return response
