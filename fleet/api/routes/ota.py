"""Over-the-air updates over HTTP: technicians and admins upload signed releases (made by
`tools/release.py`; the fleet checks, stores and serves them but cannot sign) and run
campaigns. Every change is audited by fleet/ota. Other roles get 403. A refusal is
{"detail": English sentence, "code": fleet.ota's reason code, "params": its parts}."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import select

from fleet.api.deps import SessionDep, require
from fleet.models import ADMIN, TECHNICIAN, Campaign, User
from fleet.ota import OTAError, campaigns, releases

router = APIRouter(tags=["ota"])
Technician = Annotated[User, Depends(require(TECHNICIAN, ADMIN))]
MANIFEST_MAX = 64 * 1024  # a manifest lists files and digests: a few kilobytes


class ReleaseOut(BaseModel):
    id: int
    seq: int
    version: str
    hardware: str
    size: int
    component: str
    sha256: str
    created_at: str | None


class CampaignIn(BaseModel):
    release_id: int
    name: str = Field(default="", max_length=100)
    condominium_ids: list[int] = []
    hub_ids: list[str] = []
    from_versions: list[str] = []
    hardware: str | None = None
    waves: list[int] = [1, 10, 50, 100]
    success_share: float = 0.9
    failure_share: float = 0.2
    window: list[str] | None = Field(default=None, description='["HH:MM", "HH:MM"], local')
    start: bool = False


class PauseIn(BaseModel):
    reason: str = Field(default="", max_length=200)


def _refuse(e):
    body = {"detail": e.reason, "code": e.code, "params": e.params}
    return JSONResponse(status_code=e.status, content=body)


async def _read(upload, limit, what):
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise OTAError("too_big", 413, what=what, limit=limit)
    return data


@router.post("/releases", response_model=ReleaseOut, status_code=201)
async def upload_release(
    request: Request,
    db: SessionDep,
    user: Technician,
    manifest: Annotated[UploadFile, File()],
    bundle: Annotated[UploadFile, File()],
):
    """Store a release: manifest.cose and bundle.bin as tools/release.py wrote them. 400
    with the reason when the signature, key, size, digest or sequence number is refused;
    413 past settings.ota_max_bundle_bytes."""
    settings = request.app.state.settings
    try:
        m = await _read(manifest, MANIFEST_MAX, "manifest")
        b = await _read(bundle, settings.ota_max_bundle_bytes, "bundle")
        rel = releases.upload(db, settings, m, b, user)
    except OTAError as e:
        db.rollback()
        return _refuse(e)
    return releases.public(rel)


@router.get("/releases", response_model=list[ReleaseOut])
def list_releases(db: SessionDep, user: Technician):
    """Every stored release, newest sequence number first."""
    return [releases.public(r) for r in releases.list_releases(db)]


@router.post("/campaigns", status_code=201)
def create_campaign(body: CampaignIn, db: SessionDep, user: Technician):
    """A campaign (a draft, or running at once with "start": true)."""
    try:
        c = campaigns.create(
            db, user, body.release_id, condominium_ids=body.condominium_ids,
            hub_ids=body.hub_ids, from_versions=body.from_versions, hardware=body.hardware,
            waves=body.waves, success_share=body.success_share,
            failure_share=body.failure_share, window=body.window, name=body.name,
        )  # fmt: skip
        if body.start:
            c = campaigns.start(db, user, c.id)
    except OTAError as e:
        db.rollback()
        return _refuse(e)
    return campaigns.public(db, c)


@router.get("/campaigns")
def list_campaigns(db: SessionDep, user: Technician):
    """Every campaign, newest first, with wave figures (deployments: GET one)."""
    rows = db.exec(select(Campaign).order_by(Campaign.id.desc())).all()
    return [campaigns.public(db, c, with_deployments=False) for c in rows]


@router.get("/campaigns/{campaign_id}")
def read_campaign(campaign_id: int, db: SessionDep, user: Technician):
    """A campaign with its waves, counts per state and every hub's deployment: its
    "detail" in English beside "detail_code" and "detail_params" (fleet.ota.MESSAGES; both
    None for a detail stored as text before the codes). A pause fleet.ota explained gives
    "paused_code" and "paused_params" beside "paused_reason"."""
    return _act(db, campaigns.get, campaign_id)


def _act(db, action, *args):
    """The campaign's JSON after action(db, *args), or the refusal."""
    try:
        return campaigns.public(db, action(db, *args))
    except OTAError as e:
        db.rollback()
        return _refuse(e)


@router.post("/campaigns/{campaign_id}/start")
def start_campaign(campaign_id: int, db: SessionDep, user: Technician):
    return _act(db, campaigns.start, user, campaign_id)


@router.post("/campaigns/{campaign_id}/pause")
def pause_campaign(campaign_id: int, db: SessionDep, user: Technician, body: PauseIn | None = None):
    reason = (body or PauseIn()).reason
    return _act(db, campaigns.pause, user, campaign_id, reason)


@router.post("/campaigns/{campaign_id}/resume")
def resume_campaign(campaign_id: int, db: SessionDep, user: Technician):
    return _act(db, campaigns.resume, user, campaign_id)


@router.post("/campaigns/{campaign_id}/cancel")
def cancel_campaign(campaign_id: int, db: SessionDep, user: Technician):
    return _act(db, campaigns.cancel, user, campaign_id)
