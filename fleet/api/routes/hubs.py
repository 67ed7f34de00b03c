"""Hubs, read-only here: their state and health as their heartbeats report it.
Provisioning, claiming and revoking are fleet/api/routes/enrolment.py. No response
ever carries a hub's secret or OSCORE state."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlmodel import func, select

from fleet.api.deps import SessionDep, UTCDatetime, require
from fleet.models import ADMIN, ONLINE, TECHNICIAN, VOLUNTEER, Hub, Sensor, User
from fleet.services import scope

router = APIRouter(prefix="/hubs", tags=["hubs"])
Reader = Annotated[User, Depends(require(ADMIN, TECHNICIAN, VOLUNTEER))]


class HubHealth(BaseModel):
    online: bool
    last_seen: UTCDatetime | None
    uptime_s: int | None
    rssi: int | None
    free_heap: int | None
    queue_depth: int | None
    restarts: int
    reset_cause: str | None
    last_error: str | None


class HubPublic(BaseModel):
    hub_id: str
    state: str
    condominium_id: int | None
    hardware: str
    firmware_version: str
    image_version: str  # the MicroPython image's (heartbeat key 11); "" if never said
    created_at: UTCDatetime
    claimed_at: UTCDatetime | None
    activated_at: UTCDatetime | None
    revoked_at: UTCDatetime | None
    sensors: int
    health: HubHealth


def _public(hub, sensors):
    return HubPublic(
        hub_id=hub.hub_id,
        state=hub.state,
        condominium_id=hub.condominium_id,
        hardware=hub.hardware,
        firmware_version=hub.firmware_version,
        image_version=hub.image_version,
        created_at=hub.created_at,
        claimed_at=hub.claimed_at,
        activated_at=hub.activated_at,
        revoked_at=hub.revoked_at,
        sensors=sensors,
        health=HubHealth(
            online=hub.state == ONLINE,
            last_seen=hub.last_seen,
            uptime_s=hub.uptime_s,
            rssi=hub.rssi,
            free_heap=hub.free_heap,
            queue_depth=hub.queue_depth,
            restarts=hub.restarts,
            reset_cause=hub.reset_cause,
            last_error=hub.last_error,
        ),
    )


def _with_counts(user):
    counts = (
        select(Sensor.hub_id, func.count(Sensor.id).label("n")).group_by(Sensor.hub_id).subquery()
    )
    stmt = select(Hub, counts.c.n).join(counts, counts.c.hub_id == Hub.id, isouter=True)
    return scope.hubs(user, stmt)


@router.get("", response_model=list[HubPublic], summary="List hubs with health")
def list_hubs(
    db: SessionDep, user: Reader, state: str | None = None, condominium_id: int | None = None
):
    """The hubs you may see, optionally by state or condominium. Roles: admin,
    technician, volunteer (their condominiums)."""
    stmt = _with_counts(user)
    if state is not None:
        stmt = stmt.where(Hub.state == state)
    if condominium_id is not None:
        stmt = stmt.where(Hub.condominium_id == condominium_id)
    return [_public(hub, n or 0) for hub, n in db.exec(stmt.order_by(Hub.hub_id)).all()]


@router.get("/{hub_id}", response_model=HubPublic, summary="Read a hub with health")
def read_hub(hub_id: str, db: SessionDep, user: Reader):
    """Roles: admin, technician, volunteer — 404 outside your scope."""
    row = db.exec(_with_counts(user).where(Hub.hub_id == hub_id)).first()
    if row is None:
        raise HTTPException(status_code=404, detail="no such hub")
    return _public(row[0], row[1] or 0)
