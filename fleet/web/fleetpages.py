"""The technician's pages (admins see them too): the fleet list, filtered by
condominium, state and firmware version, and a hub's detail with its health and the
history of its lifecycle (the audit log's rows for it)."""

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import select

from fleet.db import session
from fleet.models import (
    ADMIN,
    PROVISIONED,
    TECHNICIAN,
    VOLUNTEER,
    AuditLog,
    Condominium,
    Hub,
    Sensor,
    utcnow,
)
from fleet.services import scope
from fleet.web import alerts
from fleet.web.pages import Page, PageError, page_for
from fleet.web.volunteer import hub_health, sensor_health

router = APIRouter(include_in_schema=False)
Technician = Annotated[Page, Depends(page_for(ADMIN, TECHNICIAN))]
HubViewer = Annotated[Page, Depends(page_for(ADMIN, TECHNICIAN, VOLUNTEER))]
STATES = ("provisioned", "claimed", "online", "offline", "revoked")
HISTORY = 50


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


@router.get("/hubs/{hub_pk}")
def hub_detail(hub_pk: int, page: HubViewer):

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
        return page.render(
            "hub.html",
            hub=hub,
            condo=condo,
            sensors=sensors,
            history=history,
            now=utcnow(),
            bench=hub.state == PROVISIONED,
            sensor_health=sensor_health,
            hub_health=hub_health,
        )
