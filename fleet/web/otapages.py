"""The technician's over-the-air update pages (admins see them too): releases with an
upload form, campaigns, a form to create one, and a campaign's page with each wave's
progress, every hub's deployment and the buttons to start, pause, resume and cancel it.

    /ota                        releases (upload) and campaigns
    /ota/campaigns/new          the create-campaign form
    /ota/campaigns/{id}         a campaign; its progress refreshes itself every few seconds

Every change goes through fleet.ota (releases.upload, campaigns.create/start/pause/
resume/cancel), which checks and audits it as the REST API's does; a refusal is shown on
the page in the page's language, said from fleet.ota's reason code (otareasons.py), as
are why a campaign paused by itself and each hub's deployment detail. Forms carry the
CSRF token.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import select

from fleet.db import session
from fleet.models import ADMIN, TECHNICIAN, AuditLog, Campaign, Condominium, Hub, Release, User
from fleet.ota import OTAError, campaigns, releases
from fleet.web import otareasons
from fleet.web.pages import Page, PageError, page_for

router = APIRouter(include_in_schema=False)
Technician = Annotated[Page, Depends(page_for(ADMIN, TECHNICIAN))]
MANIFEST_MAX = 64 * 1024  # as the API: a manifest lists files and digests, a few kB
ACTIONS = {
    "start": lambda db, user, cid, form: campaigns.start(db, user, cid),
    "pause": lambda db, user, cid, form: campaigns.pause(db, user, cid, _text(form, "reason")),
    "resume": lambda db, user, cid, form: campaigns.resume(db, user, cid),
    "cancel": lambda db, user, cid, form: campaigns.cancel(db, user, cid),
}
# Which buttons a campaign in each state shows (campaigns' own transition table decides).
BUTTONS = {
    "draft": ("start", "cancel"),
    "running": ("pause", "cancel"),
    "paused": ("resume", "cancel"),
}


def _text(form, name, limit=200):
    return str(form.get(name) or "").strip()[:limit]


def _words(text):
    """Hub ids or versions typed into a box: separated by commas, spaces or lines."""
    return [w for w in text.replace(",", " ").split() if w]


def _share(form, name, default):
    """A percentage typed by a person, as a share: "90" -> 0.9."""
    text = _text(form, name)
    if not text:
        return default
    try:
        return float(text.replace(",", ".")) / 100
    except ValueError:
        raise OTAError("not_percentage", text=text) from None


def _waves(text):
    try:
        return [int(w) for w in _words(text)] or [1, 10, 50, 100]
    except ValueError:
        raise OTAError("waves_whole") from None


def _said(page, error):
    """An OTAError in the page's language, or None."""
    return None if error is None else otareasons.refusal(page.t, error)


def _home(page, db, error=None, status=200):
    rels = releases.list_releases(db)
    rows = db.exec(select(Campaign).order_by(Campaign.id.desc())).all()
    versions = {r.id: r.version for r in rels}
    found = [(c, campaigns.summary(db, c.id)) for c in rows]
    return page.render(
        "ota_home.html",
        status=status,
        releases=rels,
        campaigns=found,
        versions=versions,
        error=_said(page, error),
        max_kb=page.settings.ota_max_bundle_bytes // 1024,
    )


@router.get("/ota")
def ota_home(page: Technician):
    with session(page.request.app.state.engine) as db:
        return _home(page, db)


async def _read(upload, limit, what):
    if upload is None or not hasattr(upload, "read"):
        raise OTAError("choose_file", what=what)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise OTAError("too_big", 413, what=what, limit=limit)
    return data


@router.post("/ota/releases")
async def upload_release(page: Technician, request: Request):
    form = await request.form()
    page.check_csrf(form)
    settings = page.settings
    with session(request.app.state.engine) as db:
        try:
            manifest = await _read(form.get("manifest"), MANIFEST_MAX, "manifest")
            bundle = await _read(form.get("bundle"), settings.ota_max_bundle_bytes, "bundle")
            releases.upload(db, settings, manifest, bundle, page.user)
        except OTAError as e:
            db.rollback()
            return _home(page, db, error=e, status=e.status)
    return RedirectResponse("/ota", status_code=303)


def _form_page(page, db, values, error=None, status=200):
    condos = db.exec(select(Condominium).order_by(Condominium.name)).all()
    versions = db.exec(
        select(Hub.firmware_version).where(Hub.firmware_version != "").distinct()
    ).all()
    return page.render(
        "ota_new.html",
        status=status,
        releases=releases.list_releases(db),
        condos=condos,
        versions=sorted(versions),
        values=values,
        error=_said(page, error),
    )


_DEFAULTS = {"waves": "1, 10, 50, 100", "success": "90", "failure": "20"}


@router.get("/ota/campaigns/new")
def new_campaign(page: Technician, release: int | None = None):
    with session(page.request.app.state.engine) as db:
        return _form_page(page, db, dict(_DEFAULTS, release_id=release))


@router.post("/ota/campaigns")
async def create_campaign(page: Technician, request: Request):
    form = await request.form()
    page.check_csrf(form)
    rid = _text(form, "release_id")
    values = {
        "release_id": int(rid) if rid.isdigit() else None,
        "name": _text(form, "name", 100),
        "condominium_ids": [int(v) for v in form.getlist("condominium_ids") if str(v).isdigit()],
        "hub_ids": _text(form, "hub_ids", 4000),
        "from_versions": [str(v) for v in form.getlist("from_versions") if v],
        "waves": _text(form, "waves"),
        "success": _text(form, "success"),
        "failure": _text(form, "failure"),
        "window_start": _text(form, "window_start"),
        "window_end": _text(form, "window_end"),
        "start": form.get("start") == "1",
    }
    with session(request.app.state.engine) as db:
        try:
            if values["release_id"] is None:
                raise OTAError("choose_release")
            window = None
            if values["window_start"] or values["window_end"]:
                window = (values["window_start"], values["window_end"])
            c = campaigns.create(
                db, page.user, values["release_id"], condominium_ids=values["condominium_ids"],
                hub_ids=_words(values["hub_ids"]), from_versions=values["from_versions"],
                waves=_waves(values["waves"]), success_share=_share(form, "success", 0.9),
                failure_share=_share(form, "failure", 0.2), window=window, name=values["name"],
            )  # fmt: skip
        except OTAError as e:
            db.rollback()
            return _form_page(page, db, values, error=e, status=400)
        if values["start"]:
            try:
                campaigns.start(db, page.user, c.id)
            except OTAError as e:
                db.rollback()  # the draft stays: it can be started once hubs match
                return _campaign_page(page, db, c.id, error=e, status=e.status)
        cid = c.id
    return RedirectResponse(f"/ota/campaigns/{cid}", status_code=303)


def _campaign_page(page, db, campaign_id, error=None, status=200):
    try:
        s = campaigns.summary(db, campaign_id)
    except OTAError:
        raise PageError(404) from None
    c = s["campaign"]
    rel = db.get(Release, c.release_id)
    pks = [d.hub_id for d in s["deployments"]]
    hubs = dict(db.exec(select(Hub.id, Hub.hub_id).where(Hub.id.in_(pks))).all()) if pks else {}
    target = c.target or {}
    condo_ids = target.get("condominium_ids") or []
    condos = (
        db.exec(select(Condominium.name).where(Condominium.id.in_(condo_ids))).all()
        if condo_ids
        else []
    )
    paused_by = None  # who paused it: a person, or None when the campaign paused by itself
    if c.state == "paused":
        last = db.exec(
            select(AuditLog.user_id)
            .where(AuditLog.entity == "campaign", AuditLog.entity_id == str(c.id))
            .where(AuditLog.action == "pause")
            .order_by(AuditLog.id.desc())
        ).first()
        paused_by = db.get(User, last) if last is not None else None
    return page.render(
        "ota_campaign.html",
        paused_by=paused_by,
        status=status,
        c=c,
        rel=rel,
        waves=s["waves"],
        counts=s["counts"],
        deployments=s["deployments"],
        details={d.id: otareasons.detail(page.t, d) for d in s["deployments"]},
        hubs=hubs,
        target=target,
        condos=condos,
        buttons=BUTTONS.get(c.state, ()),
        paused_reason=otareasons.pause(page.t, c),
        error=_said(page, error),
    )


@router.get("/ota/campaigns/{campaign_id}")
def campaign_detail(campaign_id: int, page: Technician):
    with session(page.request.app.state.engine) as db:
        return _campaign_page(page, db, campaign_id)


@router.post("/ota/campaigns/{campaign_id}/{action}")
async def campaign_action(campaign_id: int, action: str, page: Technician, request: Request):
    form = await request.form()
    page.check_csrf(form)
    act = ACTIONS.get(action)
    if act is None:
        raise PageError(404)
    with session(request.app.state.engine) as db:
        try:
            act(db, page.user, campaign_id, form)
        except OTAError as e:
            db.rollback()
            if e.status == 404:
                raise PageError(404) from None
            return _campaign_page(page, db, campaign_id, error=e, status=e.status)
    return RedirectResponse(f"/ota/campaigns/{campaign_id}", status_code=303)
