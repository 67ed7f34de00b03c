"""A user's notification settings: whether alerts come by e-mail and to which address,
in which language and, for family members, at what time the morning summary comes (with
a preview of today's for each of their residents). Webhooks and apprise URLs stay with
the API (PUT /api/alerts/notifications/me), which the page leaves as they are."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from fleet.alerts import summary
from fleet.api.routes.alerts import NotifyIn
from fleet.db import session
from fleet.models import CAREGIVER, ROLES, NotificationSettings, Resident, utcnow
from fleet.services import scope
from fleet.services.audit import audit
from fleet.web.pages import Page, page_for

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Page, Depends(page_for(*ROLES))]


PREVIEWS = 5  # residents previewed at most


def _hhmm(minutes):
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text):
    """Minutes after midnight from "HH:MM"; None for ""; ValueError otherwise."""
    if not text:
        return None
    h, m = text.split(":")
    if not (h.isdigit() and m.isdigit() and int(h) < 24 and int(m) < 60):
        raise ValueError(text)
    return int(h) * 60 + int(m)


def _previews(db, page, lang):
    """[(resident, payload)]: today's summary as it reads now, for a family member."""
    if page.user.role != CAREGIVER:
        return []
    stmt = scope.visible(page.user, Resident).where(Resident.consent_date.is_not(None))
    now = utcnow()
    return [
        (r, summary.preview(db, r, page.settings.timezone, now, lang))
        for r in db.exec(stmt.order_by(Resident.name).limit(PREVIEWS)).all()
    ]


@router.get("/settings")
def settings_form(page: Anyone, saved: int = 0, error: str = ""):
    with session(page.request.app.state.engine) as db:
        ns = db.get(NotificationSettings, page.user.id)
        email_on = ns is None or ns.email != ""
        address = ns.email if ns is not None and ns.email else ""
        language = ns.language if ns is not None and ns.language else page.user.language
        at = summary.DEFAULT_AT if ns is None else ns.summary_at
        return page.render(
            "settings.html",
            email_on=email_on,
            address=address,
            language=language,
            family=page.user.role == CAREGIVER,
            summary_at=_hhmm(at),
            previews=_previews(db, page, language),
            saved=bool(saved),
            error={"email": "bad_email", "time": "bad_time"}.get(error),
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
        at = _minutes(str(form.get("summary_at") or "").strip())
    except ValueError:
        return RedirectResponse("/settings?error=time", status_code=303)
    try:
        # The API's own checks, so the page cannot store what the API would refuse.
        wanted = NotifyIn(email=email, language=str(form.get("language") or "") or None)
    except ValidationError:
        return RedirectResponse("/settings?error=email", status_code=303)
    with session(request.app.state.engine) as db:
        ns = db.get(NotificationSettings, page.user.id)
        ns = ns or NotificationSettings(user_id=page.user.id)
        ns.email, ns.language = wanted.email, wanted.language
        if "summary_at" in form:  # only family members see the field
            ns.summary_at = at
        db.add(ns)
        detail = {"email": bool(email), "summary_at": ns.summary_at}
        audit(db, page.user, "update", "notificationsettings", page.user.id, **detail)
        db.commit()
    return RedirectResponse("/settings?saved=1", status_code=303)
