"""A user's notification settings: whether alerts come by e-mail and to which address,
and in which language. Webhooks and apprise URLs stay with the API (PUT
/api/alerts/notifications/me), which the page leaves as they are."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from fleet.api.routes.alerts import NotifyIn
from fleet.db import session
from fleet.models import ROLES, NotificationSettings
from fleet.services.audit import audit
from fleet.web.pages import Page, page_for

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Page, Depends(page_for(*ROLES))]


@router.get("/settings")
def settings_form(page: Anyone, saved: int = 0, error: str = ""):
    with session(page.request.app.state.engine) as db:
        ns = db.get(NotificationSettings, page.user.id)
    email_on = ns is None or ns.email != ""
    address = ns.email if ns is not None and ns.email else ""
    language = ns.language if ns is not None and ns.language else page.user.language
    return page.render(
        "settings.html",
        email_on=email_on,
        address=address,
        language=language,
        saved=bool(saved),
        error=error == "email",
    )


@router.post("/settings")
async def save_settings(page: Anyone, request: Request):
    form = await request.form()
    page.check_csrf(form)
    address = str(form.get("email") or "").strip()
    if form.get("email_on") != "1":
        email = ""  # "" turns e-mail off (None would mean the login address)
    else:
        email = address or None
    if email and ("@" not in email or " " in email):
        return RedirectResponse("/settings?error=email", status_code=303)
    try:
        # The API's own checks, so the page cannot store what the API would refuse.
        wanted = NotifyIn(email=email, language=str(form.get("language") or "") or None)
    except ValidationError:
        return RedirectResponse("/settings?error=email", status_code=303)
    with session(request.app.state.engine) as db:
        ns = db.get(NotificationSettings, page.user.id) or NotificationSettings(
            user_id=page.user.id
        )
        ns.email, ns.language = wanted.email, wanted.language
        db.add(ns)
        audit(db, page.user, "update", "notificationsettings", page.user.id, email=bool(email))
        db.commit()
    return RedirectResponse("/settings?saved=1", status_code=303)
