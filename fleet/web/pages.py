"""What every page shares: the logged-in user or a redirect to the login page, the
language, the CSRF token, and rendering with security headers.

    @router.get("/x")
    def x(page: Annotated[Page, Depends(page_for(ADMIN))]):
        return page.render("x.html", rows=...)

CSRF: a form post carries a token in a hidden field (or the X-CSRF-Token header, for
htmx). Logged in, it is an HMAC of the session token under the server's key, so it is
per session and needs no storage; on the login form, before any session exists, it is a
random cookie the form must echo (double submit).
"""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from fleet import security
from fleet.api.deps import COOKIE
from fleet.db import session
from fleet.web import i18n

LANG_COOKIE = "portineria_lang"
LOGIN_CSRF_COOKIE = "portineria_login_csrf"
CSRF_FIELD = "csrf"
TZ = ZoneInfo("Europe/Rome")  # the fleet's residents live in Italy; pages show local time
# No inline script or style anywhere: the pages' own files are the only code a browser runs.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def local(dt):
    """An aware local datetime from a stored UTC one (SQLite hands them back naive)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(TZ)


def hhmm(dt):
    return local(dt).strftime("%H:%M") if dt else ""


def when(dt):
    return local(dt).strftime("%d/%m %H:%M") if dt else ""


@pass_context
def said(ctx, dt):
    """A time as a person says it, in the page's language: "oggi alle 11:05", "ieri alle
    23:40", "12/03 alle 08:15"."""
    if dt is None:
        return ""
    t, at = ctx["t"], local(dt)
    days = (datetime.now(TZ).date() - at.date()).days
    key = {0: "today_at", 1: "yesterday_at"}.get(days, "date_at")
    return t(key, date=at.strftime("%d/%m"), time=at.strftime("%H:%M"))


templates.env.filters["hhmm"] = hhmm
templates.env.filters["when"] = when
templates.env.filters["said"] = said


def csrf_for(request, session_token):
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, b"csrf|" + session_token.encode(), hashlib.sha256).hexdigest()


def language(request, user=None):
    return i18n.pick(request.cookies.get(LANG_COOKIE), user.language if user else None)


class PageError(Exception):
    """Raised by a page dependency: answered as an HTML page or a redirect."""

    def __init__(self, status, location=None):
        super().__init__(status)
        self.status = status
        self.location = location


class Page:
    """One request's view: user, language, translator and CSRF token."""

    def __init__(self, request, user, token):
        self.request = request
        self.user = user
        self.lang = language(request, user)
        self.t = i18n.translator(self.lang)
        self.csrf = csrf_for(request, token) if token else None

    @property
    def settings(self):
        return self.request.app.state.settings

    def check_csrf(self, form):
        sent = form.get(CSRF_FIELD) or self.request.headers.get("x-csrf-token") or ""
        if not (self.csrf and hmac.compare_digest(str(sent), self.csrf)):
            raise PageError(403)

    def render(self, name, status=200, **ctx):
        ctx.update(page=self, user=self.user, t=self.t, lang=self.lang, csrf=self.csrf)
        response = templates.TemplateResponse(self.request, name, ctx, status_code=status)
        response.headers.update(HEADERS)
        return response


def _session_user(request):
    token = request.cookies.get(COOKIE)
    if not token:
        return None, None
    with session(request.app.state.engine) as db:
        user = security.user_for_token(db, token)
        if user is not None:
            db.expunge(user)
    return user, token


def page_for(*roles):
    """A dependency giving the Page of a logged-in user whose role is in `roles`; others
    are sent to the login page (and brought back after), wrong roles get 403."""

    def dependency(request: Request):
        user, token = _session_user(request)
        if user is None:
            here = request.url.path + ("?" + request.url.query if request.url.query else "")
            raise PageError(303, "/login?next=" + quote(here, safe=""))
        if user.role not in roles:
            raise PageError(403)
        return Page(request, user, token)

    return dependency


def anonymous(request: Request):
    """The page of someone not (or not yet) logged in: the login form."""
    return Page(request, None, None)


def new_login_csrf():
    return secrets.token_urlsafe(24)


_ERRORS = {
    400: ("bad_request", "bad_request_text"),
    403: ("forbidden", "forbidden_text"),
    404: ("not_found", "not_found_text"),
}


def browsing(request):
    """A browser asking for a page: it gets HTML in its language; the API and other
    clients keep their JSON."""
    html = "text/html" in request.headers.get("accept", "")
    return html and not request.url.path.startswith("/api")


def error_page(request, status):
    page = Page(request, None, None)
    page.user, _ = _session_user(request)
    title, text = _ERRORS.get(status, _ERRORS[404])
    return page.render("error.html", status=status, title=title, text=text)


async def page_error(request, exc):
    if exc.location:
        return RedirectResponse(exc.location, status_code=exc.status)
    return error_page(request, exc.status)


async def missing_page(request, exc):
    """A browser asking for an address that does not exist gets the page, in its
    language, not the API's JSON; the API and other clients keep their JSON."""
    if exc.status_code == 404 and browsing(request):
        return error_page(request, 404)
    return await http_exception_handler(request, exc)


def safe_next(target):
    """Only a path on this site, so the login form cannot bounce anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
