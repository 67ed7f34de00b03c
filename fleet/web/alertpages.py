"""Open alerts on every role's home page, live: a fragment listing them with acknowledge
and resolve buttons (htmx posts), and a server-sent-event stream that says "changed"
whenever the unresolved alerts of the user's residents change, so the page fetches the
fragment again. Which alerts a user sees and may act on is the alerts API's rule
(fleet.web.alerts.mine): caregivers their residents' care alerts, volunteers those of
circles they are in and their condominiums' technical ones, technicians technical ones.

Each alert has a page of its own, /alerts/{id}: the link in every notification. It says
what happened, what to do now, who was told and who comes next, and after "I'm on it"
confirms that the others can see it."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from fleet.db import session
from fleet.models import FALSE_ALARM, ROLES, Alert, User, utcnow
from fleet.services import scope
from fleet.web.alerts import detail, fingerprint, mine, rows
from fleet.web.pages import Page, PageError, page_for

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Page, Depends(page_for(*ROLES))]
POLL_S = 0.5
STREAM_S = 300  # then EventSource reconnects, and login and scope are checked again
REASONS = ("handled", FALSE_ALARM)
DONE = ("acknowledge", "resolve")  # the confirmations a page shows after an action


@router.get("/alerts")
def alerts_fragment(page: Anyone, resident: int | None = None):
    with session(page.request.app.state.engine) as db:
        found = rows(db, page.user, page.lang, resident)
        return page.render("_alerts.html", alerts=found, resident_id=resident)


async def alert_stream(request, engine, user, seconds=STREAM_S):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    last = await asyncio.to_thread(fingerprint, engine, user)
    yield "retry: 1000\n\n"
    while loop.time() < deadline and not await request.is_disconnected():
        await asyncio.sleep(POLL_S)
        now = await asyncio.to_thread(fingerprint, engine, user)
        if now != last:
            last = now
            yield "data: changed\n\n"


@router.get("/alerts/stream")
def alerts_stream(page: Anyone, request: Request):
    return StreamingResponse(
        alert_stream(request, request.app.state.engine, page.user),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/alerts/{alert_id}")
def alert_page(alert_id: int, page: Anyone, done: str = ""):
    with session(page.request.app.state.engine) as db:
        alert = scope.get(db, page.user, Alert, alert_id)
        if alert is None:
            raise PageError(404)
        return page.render(
            "alert.html",
            d=detail(db, page.user, alert, page.lang),
            done=done if done in DONE else None,
        )


async def _act(alert_id, page, request, action):
    form = await request.form()
    page.check_csrf(form)
    reason = str(form.get("reason") or "handled")
    if reason not in REASONS:
        raise PageError(404)
    # fleet.alerts is the alerts engineer's part; imported here so the pages load without it.
    from fleet.alerts import lifecycle

    with session(request.app.state.engine) as db:
        user = db.get(User, page.user.id)
        alert = next((a for a in mine(db, user) if a.id == alert_id), None)
        if alert is None:
            raise PageError(404)  # someone else's alert answers as a missing one
        if action == "acknowledge":
            lifecycle.acknowledge(db, alert, user, utcnow())
        else:
            lifecycle.resolve(db, alert, user, utcnow(), reason)
        db.commit()
        if request.headers.get("hx-request"):
            resident = form.get("resident")
            resident_id = int(resident) if str(resident or "").isdigit() else None
            found = rows(db, page.user, page.lang, resident_id)
            return page.render("_alerts.html", alerts=found, resident_id=resident_id, done=action)
    # Without script: the alert's own page, with the confirmation.
    return RedirectResponse(f"/alerts/{alert_id}?done={action}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(alert_id: int, page: Anyone, request: Request):
    return await _act(alert_id, page, request, "acknowledge")


@router.post("/alerts/{alert_id}/resolve")
async def resolve(alert_id: int, page: Anyone, request: Request):
    return await _act(alert_id, page, request, "resolve")
