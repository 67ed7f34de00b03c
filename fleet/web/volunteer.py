"""The volunteer's pages: their condominiums' hubs and sensors with health, residents by
flat and status only, claiming a new hub (the label's QR code opens /claim?code=…), and
the guided sensor walk-test that turns each step green live, fed by server-sent events
of the hub's new Event rows."""

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlmodel import func, select

from fleet.api.deps import as_utc
from fleet.db import session
from fleet.models import (
    ADMIN,
    OFFLINE,
    ONLINE,
    TECHNICIAN,
    VOLUNTEER,
    Condominium,
    Event,
    Flat,
    Hub,
    Resident,
    Sensor,
    utcnow,
)
from fleet.rules import ALARMS
from fleet.services import enrolment, scope
from fleet.web import alerts
from fleet.web.pages import Page, PageError, page_for
from fleet.web.status import status

router = APIRouter(include_in_schema=False)
Volunteer = Annotated[Page, Depends(page_for(ADMIN, VOLUNTEER))]
HubViewer = Annotated[Page, Depends(page_for(ADMIN, TECHNICIAN, VOLUNTEER))]
POLL_S = 0.5  # how often the stream looks for new events: "live" to a person pressing
STREAM_S = 300  # then the browser reconnects (EventSource does) and scope is checked anew
LOW_BATTERY = 20.0
_INSTRUCTION = {"panic": "do_panic", "button": "do_button", "door": "do_door"}
_INSTRUCTION.update(motion="do_motion", bed="do_bed", window="do_door", chair="do_bed")


def sensor_health(sensor, now):
    """ "ok", "silent", "low" or "unknown", for a dot beside the sensor."""
    seen = as_utc(sensor.last_seen)
    if seen is None:
        return "unknown"
    if sensor.checkin_s and (now - seen).total_seconds() > sensor.checkin_s:
        return "silent"
    if sensor.battery is not None and sensor.battery < LOW_BATTERY:
        return "low"
    return "ok"


def hub_health(hub):
    return {ONLINE: "ok", OFFLINE: "silent"}.get(hub.state, "unknown")


@router.get("/condo")
def my_condominiums(page: Volunteer):
    now = utcnow()
    condos = []
    with session(page.request.app.state.engine) as db:
        for condo in db.exec(scope.visible(page.user, Condominium).order_by(Condominium.id)):
            hubs = db.exec(
                scope.visible(page.user, Hub).where(Hub.condominium_id == condo.id)
            ).all()
            sensors = {
                h.id: db.exec(select(Sensor).where(Sensor.hub_id == h.id).order_by(Sensor.id)).all()
                for h in hubs
            }
            flats = db.exec(
                scope.visible(page.user, Flat)
                .where(Flat.condominium_id == condo.id)
                .order_by(Flat.floor, Flat.label)
            ).all()
            # A hub id means nothing on the stairs: which flats it serves does.
            label = {f.id: f.label for f in flats}
            served = {
                h.id: sorted({label[s.flat_id] for s in sensors[h.id] if s.flat_id in label})
                for h in hubs
            }
            people = []
            for flat in flats:
                for r in db.exec(
                    scope.visible(page.user, Resident).where(Resident.flat_id == flat.id)
                ):
                    level, _why = status(db, r, now, page.t)  # reasons stay with the family
                    people.append((flat.label, (r.name.split() or [""])[0], level))
            condos.append(
                {
                    "condo": condo,
                    "hubs": hubs,
                    "sensors": sensors,
                    "served": served,
                    "people": people,
                }
            )
        return page.render(
            "condo.html",
            condos=condos,
            now=now,
            sensor_health=sensor_health,
            hub_health=hub_health,
            alerts=alerts.rows(db, page.user, page.lang),
            resident_id=None,
        )


def _hub_or_404(db, user, hub_pk):
    hub = scope.get(db, user, Hub, hub_pk)
    if hub is None:
        raise PageError(404)
    return hub


@router.get("/hubs/{hub_pk}/walktest")
def walk_test(hub_pk: int, page: HubViewer):
    with session(page.request.app.state.engine) as db:
        hub = _hub_or_404(db, page.user, hub_pk)
        sensors = db.exec(select(Sensor).where(Sensor.hub_id == hub.id).order_by(Sensor.id)).all()
        # Only what happens from now on counts: an old press must not pass the test.
        after = db.exec(select(func.max(Event.id)).where(Event.hub_id == hub.id)).one() or 0
        steps = [(s, page.t(_INSTRUCTION.get(s.kind, "do_other"))) for s in sensors]
        flats = sorted({f.label for f in (db.get(Flat, s.flat_id) for s in sensors if s.flat_id)})
        # Setting off these raises a real alert for the family (the rules know no test).
        alarm = any(s.kind in ALARMS or s.kind == "button" for s in sensors)
        return page.render(
            "walktest.html", hub=hub, steps=steps, after=after, flats=flats, raises_alarm=alarm
        )


def new_events(engine, user, hub_pk, after):
    """Events of a hub the user may see with id > after, oldest first (None: not visible)."""
    with session(engine) as db:
        if scope.get(db, user, Hub, hub_pk) is None:
            return None
        return db.exec(
            select(Event.id, Event.sensor_id, Event.kind)
            .where(Event.hub_id == hub_pk, Event.id > after)
            .order_by(Event.id)
            .limit(100)
        ).all()


async def event_stream(request, engine, user, hub_pk, after, seconds=STREAM_S):
    """Server-sent events: one `data: {"id", "sensor", "kind"}` per new event."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    yield "retry: 1000\n\n"
    while loop.time() < deadline and not await request.is_disconnected():
        rows = await asyncio.to_thread(new_events, engine, user, hub_pk, after)
        if rows is None:
            return
        for row in rows:
            after = row.id
            data = json.dumps({"id": row.id, "sensor": row.sensor_id, "kind": row.kind})
            yield f"id: {row.id}\ndata: {data}\n\n"
        await asyncio.sleep(POLL_S)


@router.get("/hubs/{hub_pk}/events")
def hub_events(hub_pk: int, page: HubViewer, request: Request, after: int = 0):
    engine = request.app.state.engine
    if new_events(engine, page.user, hub_pk, 0) is None:
        raise PageError(404)
    resumed = request.headers.get("last-event-id", "")
    after = int(resumed) if resumed.isdigit() else after
    return StreamingResponse(
        event_stream(request, engine, page.user, hub_pk, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _claimable_condos(db, user):
    return db.exec(scope.visible(user, Condominium).order_by(Condominium.name)).all()


@router.get("/claim")
def claim_form(page: Volunteer, code: str = ""):
    with session(page.request.app.state.engine) as db:
        condos = _claimable_condos(db, page.user)
        return page.render("claim.html", code=code[:40], condos=condos, error=None, done=None)


_CLAIM_ERRORS = {429: "claim_too_many", 403: "claim_forbidden"}


@router.post("/claim")
async def claim(page: Volunteer, request: Request):
    form = await request.form()
    page.check_csrf(form)
    code = str(form.get("code") or "")[:40]
    condo = str(form.get("condominium_id") or "")
    client = request.client.host if request.client else "unknown"
    with session(request.app.state.engine) as db:
        condos = _claimable_condos(db, page.user)
        try:
            if not condo.isdigit():
                raise enrolment.EnrolmentError("no condominium", 403)
            hub = enrolment.claim(db, page.settings, page.user, code, client, int(condo))
        except enrolment.EnrolmentError as e:
            error = _CLAIM_ERRORS.get(e.status, "claim_no_hub")
            return page.render(
                "claim.html", status=e.status, code=code, condos=condos, error=error, done=None
            )
        return page.render("claim.html", code="", condos=condos, error=None, done=hub.hub_id)
