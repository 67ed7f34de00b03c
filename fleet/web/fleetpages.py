"""The technician's pages (admins see them too): the fleet list, filtered by
condominium, state and firmware version, and a hub's detail with its health, charts of
its heartbeat figures (RSSI, free heap, queue depth) over the last 24 hours or 7 days,
and the history of its lifecycle (the audit log's rows for it)."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import select

from fleet.api.deps import as_utc
from fleet.db import session
from fleet.models import (
    ADMIN,
    PROVISIONED,
    TECHNICIAN,
    VOLUNTEER,
    AuditLog,
    Campaign,
    Condominium,
    Deployment,
    Hub,
    Release,
    Sensor,
    utcnow,
)
from fleet.services import health, scope
from fleet.web import alerts, otareasons
from fleet.web.pages import TZ, Page, PageError, page_for
from fleet.web.volunteer import hub_health, sensor_health

router = APIRouter(include_in_schema=False)
Technician = Annotated[Page, Depends(page_for(ADMIN, TECHNICIAN))]
HubViewer = Annotated[Page, Depends(page_for(ADMIN, TECHNICIAN, VOLUNTEER))]
STATES = ("provisioned", "claimed", "online", "offline", "revoked")
HISTORY = 50
UPDATES = 10  # the hub's latest deployments shown


def _int(text):
    return int(text) if text and text.isdigit() else None


@router.get("/fleet")
def fleet_list(page: Technician, condominium: str = "", state: str = "", firmware: str = ""):

    stmt = scope.visible(page.user, Hub)
    condo_id = _int(condominium)
    if condo_id is not None:
        stmt = stmt.where(Hub.condominium_id == condo_id)
    if state in STATES:
        stmt = stmt.where(Hub.state == state)
    if firmware:
        stmt = stmt.where(Hub.firmware_version == firmware)
    with session(page.request.app.state.engine) as db:
        hubs = db.exec(stmt.order_by(Hub.hub_id)).all()
        condos = db.exec(scope.visible(page.user, Condominium).order_by(Condominium.name)).all()
        versions = db.exec(
            select(Hub.firmware_version).where(Hub.firmware_version != "").distinct()
        ).all()
        return page.render(
            "fleet.html",
            hubs=hubs,
            condos=condos,
            names={c.id: c.name for c in condos},
            states=STATES,
            versions=sorted(versions),
            chosen={"condominium": condo_id, "state": state, "firmware": firmware},
            hub_health=hub_health,
            alerts=alerts.rows(db, page.user, page.lang),
            resident_id=None,
        )


SPANS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
CHART_W, CHART_H, PAD = 720, 120, 14
# (sample field, label key, how a value is shown): the heartbeat figures charted.
METRICS = (
    ("rssi", "health_rssi", lambda v: v),
    ("free_heap", "health_heap", lambda v: round(v / 1024, 1)),
    ("queue_depth", "health_queue", lambda v: v),
)


def _ticks(start, span):
    """(x, label) every 6 hours over a day, every day over a week, local time."""
    step = timedelta(hours=6) if span <= timedelta(days=1) else timedelta(days=1)
    fmt = "%H:%M" if step < timedelta(days=1) else "%d/%m"
    local = start.astimezone(TZ)
    first = local.replace(minute=0, second=0, microsecond=0)
    if step == timedelta(days=1):
        first = first.replace(hour=0)
    first = first + step if first < local else first
    out, t = [], first
    while t <= local + span:
        out.append((round((t - local) / span * CHART_W, 2), t.strftime(fmt)))
        t += step
    return out


def health_charts(samples, start, span):
    """One server-rendered line chart per heartbeat figure over [start, start + span]:
    [{"label", "points" ("x,y …"), "lo", "hi", "last", "ticks", "width", "height"}];
    a figure no sample carries is left out (empty list: no history in the span)."""
    charts = []
    ticks = _ticks(start, span)
    for field, label, show in METRICS:
        pts = [(as_utc(s.at), getattr(s, field)) for s in samples]
        pts = [(at, show(v)) for at, v in pts if v is not None]
        if not pts:
            continue
        values = [v for _, v in pts]
        lo, hi = min(values), max(values)
        bottom, top = (lo - 1, hi + 1) if lo == hi else (lo, hi)

        def y(v, bottom=bottom, top=top):
            return round(PAD + (top - v) / (top - bottom) * (CHART_H - 2 * PAD), 2)

        points = " ".join(f"{round((at - start) / span * CHART_W, 2)},{y(v)}" for at, v in pts)
        charts.append(
            {
                "field": field,
                "label": label,
                "points": points,
                "lo": lo,
                "hi": hi,
                "last": values[-1],
                "grid": [(y(lo), lo), (y(hi), hi)] if lo != hi else [(y(lo), lo)],
                "ticks": ticks,
                "width": CHART_W,
                "height": CHART_H,
            }
        )
    return charts


@router.get("/hubs/{hub_pk}")
def hub_detail(hub_pk: int, page: HubViewer, span: str = "24h"):

    with session(page.request.app.state.engine) as db:
        hub = scope.get(db, page.user, Hub, hub_pk)
        if hub is None:
            raise PageError(404)
        sensors = db.exec(select(Sensor).where(Sensor.hub_id == hub.id).order_by(Sensor.id)).all()
        history = db.exec(
            select(AuditLog)
            .where(AuditLog.entity == "hub", AuditLog.entity_id == hub.hub_id)
            .order_by(AuditLog.at.desc())
            .limit(HISTORY)
        ).all()
        condo = db.get(Condominium, hub.condominium_id) if hub.condominium_id else None
        span = span if span in SPANS else "24h"
        now = utcnow()
        start = now - SPANS[span]
        charts = health_charts(health.history(db, hub, start), start, SPANS[span])
        updates = _updates(db, hub) if page.user.role in (ADMIN, TECHNICIAN) else []
        return page.render(
            "hub.html",
            hub=hub,
            condo=condo,
            sensors=sensors,
            history=history,
            charts=charts,
            span=span,
            spans=SPANS,
            now=now,
            bench=hub.state == PROVISIONED,
            sensor_health=sensor_health,
            hub_health=hub_health,
            updates=updates,
            ota_detail=lambda d: otareasons.detail(page.t, d),
        )


def _updates(db, hub):
    """[(deployment, campaign, release)]: the hub's latest updates, newest first (the
    OTA pages are technicians' and admins', so only they see these)."""
    return db.exec(
        select(Deployment, Campaign, Release)
        .join(Campaign, Campaign.id == Deployment.campaign_id)
        .join(Release, Release.id == Campaign.release_id)
        .where(Deployment.hub_id == hub.id)
        .order_by(Deployment.id.desc())
        .limit(UPDATES)
    ).all()
