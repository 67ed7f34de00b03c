"""Enrolment over HTTP: technicians provision, re-provision and revoke hubs; volunteers
(and admins) claim a hub for a condominium with the code on its label.

The provisioning answers are the only responses that ever carry a hub's Master Secret:
once, to the technician's tool that writes identity.cbor, and marked no-store.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from fleet.api.deps import SessionDep, require
from fleet.models import ADMIN, TECHNICIAN, VOLUNTEER, User
from fleet.services import enrolment

router = APIRouter(prefix="/enrolment", tags=["enrolment"])

Technician = Annotated[User, Depends(require(TECHNICIAN, ADMIN))]
Claimer = Annotated[User, Depends(require(VOLUNTEER, ADMIN))]


class ProvisionIn(BaseModel):
    hardware: str = Field(default="esp32", max_length=40)
    # The fleet address the hub will use; the server's CoAP settings by default.
    host: str | None = Field(default=None, max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535)


class IdentityOut(BaseModel):
    """The fleet's half of identity.cbor, bytes as hex; Wi-Fi is added by the tool."""

    v: int
    hub: str
    sid: str
    rid: str
    ms: str
    salt: str
    host: str
    port: int


class ProvisionOut(BaseModel):
    hub_id: str
    claim_code: str | None  # None when a re-provisioned hub keeps its condominium
    claim_url: str | None
    identity: IdentityOut


class ClaimIn(BaseModel):
    code: str = Field(max_length=400, description="the label's code, or its QR code's URL")
    condominium_id: int


class RevokeIn(BaseModel):
    reason: str = Field(default="", max_length=400)


class HubState(BaseModel):
    hub_id: str
    state: str
    condominium_id: int | None


def _refuse(e):
    return HTTPException(status_code=e.status, detail=str(e))


def _settings(request):
    return request.app.state.settings


def _answer(request, response, p):
    response.headers["Cache-Control"] = "no-store"
    ident = {k: v.hex() if isinstance(v, bytes) else v for k, v in p.identity.items()}
    code = p.claim_code
    return ProvisionOut(
        hub_id=p.hub.hub_id,
        claim_code=enrolment.format_code(code) if code else None,
        claim_url=enrolment.claim_url(_settings(request), code) if code else None,
        identity=IdentityOut(**ident),
    )


@router.post("/provision", response_model=ProvisionOut, status_code=201)
def provision(
    body: ProvisionIn, request: Request, response: Response, db: SessionDep, user: Technician
):
    """Make a new hub; the answer holds its secret, never to be shown again."""
    p = enrolment.provision(
        db, _settings(request), user, host=body.host, port=body.port, hardware=body.hardware
    )
    return _answer(request, response, p)


@router.post("/hubs/{hub_id}/reprovision", response_model=ProvisionOut)
def reprovision(
    hub_id: str,
    request: Request,
    response: Response,
    db: SessionDep,
    user: Technician,
    body: ProvisionIn | None = None,
):
    """A new secret and sender id for the same hub; the old ones stop working now."""
    body = body or ProvisionIn()
    try:
        hub = enrolment.get_hub(db, hub_id)
    except enrolment.EnrolmentError as e:
        raise _refuse(e) from None
    p = enrolment.reprovision(db, _settings(request), hub, user, host=body.host, port=body.port)
    return _answer(request, response, p)


@router.post("/hubs/{hub_id}/revoke", response_model=HubState)
def revoke(hub_id: str, db: SessionDep, user: Technician, body: RevokeIn | None = None):
    """Refuse the hub's messages from now on, also after a server restart."""
    try:
        hub = enrolment.get_hub(db, hub_id)
    except enrolment.EnrolmentError as e:
        raise _refuse(e) from None
    hub = enrolment.revoke(db, hub, user, reason=(body or RevokeIn()).reason)
    return HubState(hub_id=hub.hub_id, state=hub.state, condominium_id=hub.condominium_id)


@router.post("/claim", response_model=HubState)
def claim(body: ClaimIn, request: Request, db: SessionDep, user: Claimer):
    """Attach the hub with this claim code to a condominium you look after. Wrong codes
    are limited per user and per address (429 past the hourly limit)."""
    client = request.client.host if request.client else "unknown"
    try:
        hub = enrolment.claim(db, _settings(request), user, body.code, client, body.condominium_id)
    except enrolment.EnrolmentError as e:
        raise _refuse(e) from None
    return HubState(hub_id=hub.hub_id, state=hub.state, condominium_id=hub.condominium_id)
