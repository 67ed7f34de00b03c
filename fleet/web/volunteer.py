"""The volunteer's pages: their condominiums' hubs and sensors with health, residents by
flat and status only, claiming a new hub (the label's QR code opens /claim?code=…), and
the guided sensor walk-test that turns each step green live, fed by server-sent events
of the hub's new Event rows.

The walk-test page also starts and ends the hub's test mode (fleet.services.walktest):
while it runs the family is not alerted by the volunteer's test presses, the page shows
the time left and lists every event as it arrives, each alarm saying whether it was taken
as the test or went to the family. The page's event stream keeps the test alive; once
nobody has the page open the test ends by itself, so a press after the volunteer has
left alerts the family."""

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
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
    WalkTest,
    utcnow,
)
from fleet.rules import ALARMS
from fleet.services import enrolment, scope, walktest
from fleet.web import alerts, i18n
from fleet.web.pages import Page, PageError, hhmm, page_for
from fleet.web.status import status

router = APIRouter(include_in_schema=False)
Volunteer = Annotated[Page, Depends(page_for(ADMIN, VOLUNTEER))]
HubViewer = Annotated[Page, Depends(page_for(ADMIN, TECHNICIAN, VOLUNTEER))]
POLL_S = 0.5  # how often the stream looks for new events: "live" to a person pressing
STREAM_S = 300  # then the browser reconnects (EventSource does) and scope is checked anew
LOW_BATTERY = 20.0
TEST_MINUTES = (10, 20, 30, 45, 60)  # the choices offered; walktest bounds any other
RECENT_S = 3600  # a test that ended this recently is still mentioned on the page
_VERDICT = {None: "walk_ok", "test": "wt_was_test", "real": "wt_was_real"}
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
    now = utcnow()
    with session(page.request.app.state.engine) as db:
        hub = _hub_or_404(db, page.user, hub_pk)
        test = walktest.current(db, hub.id, now)
        if test is not None:
            walktest.watch(db, test, now)
        db.commit()  # a lapsed test closed on the way, or this look recorded
        sensors = db.exec(select(Sensor).where(Sensor.hub_id == hub.id).order_by(Sensor.id)).all()
        # Only what happens from now on counts: an old press must not pass the test.
        after = db.exec(select(func.max(Event.id)).where(Event.hub_id == hub.id)).one() or 0
        steps = [(s, page.t(_INSTRUCTION.get(s.kind, "do_other"))) for s in sensors]
        flats = sorted({f.label for f in (db.get(Flat, s.flat_id) for s in sensors if s.flat_id)})
        alarm = any(s.kind in ALARMS or s.kind == "button" for s in sensors)
        lines = []
        if test is not None:
            # What the test has received so far, so a reload loses nothing of the list.
            rows = _event_rows(db, hub.id, Event.t >= test.started_at)
            lines = _described(db, hub.id, rows, page.t)
        last = db.exec(
            select(WalkTest)
            .where(WalkTest.hub_id == hub.id, WalkTest.ended_at.is_not(None))
            .order_by(WalkTest.ended_at.desc())
        ).first()
        if last is not None and (now - as_utc(last.ended_at)).total_seconds() > RECENT_S:
            last = None
        return page.render(
            "walktest.html",
            hub=hub,
            steps=steps,
            after=after,
            flats=flats,
            raises_alarm=alarm,
            test=test,
            # The bound, not window_end: the open page keeps the test from lapsing.
            left_s=int((as_utc(test.ends_at) - now).total_seconds()) if test else 0,
            lines=lines,
            last=last,
            minutes=TEST_MINUTES,
            default_minutes=walktest.DEFAULT_MINUTES,
        )


@router.post("/hubs/{hub_pk}/walktest/start")
async def start_walk_test(hub_pk: int, page: HubViewer, request: Request):
    form = await request.form()
    page.check_csrf(form)
    minutes = str(form.get("minutes") or "")
    minutes = int(minutes) if minutes.isdigit() else walktest.DEFAULT_MINUTES
    with session(request.app.state.engine) as db:
        hub = _hub_or_404(db, page.user, hub_pk)
        try:
            walktest.start(db, page.user, hub, utcnow(), minutes)
            db.commit()
        except IntegrityError:
            db.rollback()  # started meanwhile from another phone: that one runs
    return RedirectResponse(f"/hubs/{hub_pk}/walktest", status_code=303)


@router.post("/hubs/{hub_pk}/walktest/end")
async def end_walk_test(hub_pk: int, page: HubViewer, request: Request):
    form = await request.form()
    page.check_csrf(form)
    with session(request.app.state.engine) as db:
        hub = _hub_or_404(db, page.user, hub_pk)
        now = utcnow()
        test = walktest.current(db, hub.id, now)
        if test is not None:
            walktest.end(db, page.user, test, now)
        db.commit()
    return RedirectResponse(f"/hubs/{hub_pk}/walktest", status_code=303)


def _event_rows(db, hub_pk, *where):
    return db.exec(
        select(Event, Sensor.room)
        .outerjoin(Sensor, Sensor.id == Event.sensor_id)
        .where(Event.hub_id == hub_pk, *where)
        .order_by(Event.id)
        .limit(100)
    ).all()


def _described(db, hub_pk, rows, t):
    """The stream's dicts of (Event, room) rows: ids, and the line the page lists."""
    tests = []
    if rows:
        oldest = min(as_utc(e.t) for e, _room in rows)
        tests = db.exec(
            select(WalkTest).where(
                WalkTest.hub_id == hub_pk,
                or_(WalkTest.ended_at.is_(None), WalkTest.ended_at > oldest),
            )
        ).all()
    out = []
    for e, room in rows:
        said = t.maybe("ev_" + e.kind, e.kind) + (", " + t("room_" + room) if room else "")
        verdict = walktest.verdict(tests, e)
        line = f"{hhmm(e.t)} · {said}: {t(_VERDICT[verdict])}"
        out.append(dict(id=e.id, sensor=e.sensor_id, kind=e.kind, verdict=verdict, line=line))
    return out


def new_events(engine, user, hub_pk, after, t=None):
    """Events of a hub the user may see with id > after, oldest first, as the stream
    sends them (None: not visible). Asking is the page being open: it keeps the hub's
    walk-test from lapsing as unwatched."""
    t = t or i18n.translator(None)
    with session(engine) as db:
        if scope.get(db, user, Hub, hub_pk) is None:
            return None
        now = utcnow()
        test = walktest.current(db, hub_pk, now)
        if test is not None:
            walktest.watch(db, test, now)
        db.commit()
        return _described(db, hub_pk, _event_rows(db, hub_pk, Event.id > after), t)


async def event_stream(request, engine, user, hub_pk, after, seconds=STREAM_S, t=None):
    """Server-sent events: one `data: {"id", "sensor", "kind", "verdict", "line"}` per
    new event (verdict: "test", "real" or null, see walktest.verdict)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    yield "retry: 1000\n\n"
    while loop.time() < deadline and not await request.is_disconnected():
        rows = await asyncio.to_thread(new_events, engine, user, hub_pk, after, t)
        if rows is None:
            return
        for row in rows:
            after = row["id"]
            yield f"id: {after}\ndata: {json.dumps(row)}\n\n"
        await asyncio.sleep(POLL_S)


@router.get("/hubs/{hub_pk}/events")
def hub_events(hub_pk: int, page: HubViewer, request: Request, after: int = 0):
    engine = request.app.state.engine
    with session(engine) as db:
        _hub_or_404(db, page.user, hub_pk)
    resumed = request.headers.get("last-event-id", "")
    after = int(resumed) if resumed.isdigit() else after
    return StreamingResponse(
        event_stream(request, engine, page.user, hub_pk, after, t=page.t),
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
