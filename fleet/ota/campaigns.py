"""Campaigns: one release rolled out to a selection of hubs in waves, in the manner of
hawkBit's rollout groups and AWS IoT jobs' abort criteria.

    c = create(db, user, release_id, condominium_ids=(3,), waves=(1, 10, 50, 100))
    start(db, user, c.id)          # the targeted hubs are fixed now, each in its wave
    tick(db, settings, now)        # on the server's timer: timeouts, waves, pauses, end
    pause(db, user, c.id, "why") / resume(db, user, c.id) / cancel(db, user, c.id)
    pause_code(c)                  # (code, params) of a pause fleet.ota explained, or None
    summary(db, c.id)              # {"campaign", "waves", "deployments", "counts"}

Waves are cumulative percentages of the targeted hubs (a first wave of 1 is one canary
hub). Hubs of wave n are offered the release once wave n is open; the next wave opens
when the share of wave n's hubs "updated" reaches success_share; the campaign pauses by
itself when the share "failed" exceeds failure_share (after a resume by hand, failures
so far are accepted: they neither pause it again nor count against the success share);
it finishes when the last wave is open
and every deployment is updated or failed. Targets are the claimed hubs (online or
not) of the release's hardware class not yet running its version, and not in another
unfinished campaign.
"""

import math
from datetime import timedelta

from sqlmodel import select

from fleet.models import CLAIMED, OFFLINE, ONLINE, Campaign, Deployment, Hub, utcnow
from fleet.ota import (
    CANCELLED,
    CONFIRMING,
    DRAFT,
    FAILED,
    FINAL,
    FINISHED,
    IDLE,
    PAUSED,
    RUNNING,
    UPDATED,
    WAITING,
    OTAError,
    aware,
    coded,
    decoded,
    detail_text,
    hardware_class,
    message,
    releases,
    running_version,
    utc,
    version_column,
)
from fleet.ota import deployments as deps
from fleet.services.audit import audit

# action -> (states it may be taken from, the state it leads to)
_TRANSITIONS = {
    "start": ((DRAFT,), RUNNING),
    "pause": ((RUNNING,), PAUSED),
    "resume": ((PAUSED,), RUNNING),
    "cancel": ((DRAFT, RUNNING, PAUSED), CANCELLED),
}
_ACCEPTED = "accepted_failures"  # Campaign.target: {wave: failures a person resumed past}
_PAUSE = "pause_code"  # Campaign.target: {"code", "params"} of a pause fleet.ota explained
_PRIVATE = (_ACCEPTED, _PAUSE)  # not part of the selection the API shows


def _hhmm(text):
    try:
        h, m = str(text).split(":")
        if len(h) == 2 and len(m) == 2 and 0 <= int(h) < 24 and 0 <= int(m) < 60:
            return f"{int(h):02d}:{int(m):02d}"
    except ValueError:
        pass
    raise OTAError("window_time", text=str(text))


def _waves(waves):
    try:
        waves = [int(w) for w in waves]
    except (TypeError, ValueError):
        raise OTAError("waves_whole") from None
    if not waves or waves[-1] != 100 or any(not 0 < w <= 100 for w in waves):
        raise OTAError("waves_range")
    if any(a >= b for a, b in zip(waves, waves[1:], strict=False)):
        raise OTAError("waves_grow")
    return waves


def create(db, user, release_id, *, condominium_ids=(), hub_ids=(), from_versions=(),
           hardware=None, waves=(1, 10, 50, 100), success_share=0.9, failure_share=0.2,
           window=None, name=""):  # fmt: skip
    """A draft campaign (audited). `hub_ids` are the hubs' public ids; `window` is
    ("HH:MM", "HH:MM") local time or None."""
    rel = releases.get(db, release_id)
    if hardware is not None and hardware != rel.hardware:
        raise OTAError(
            "hardware_mismatch", version=rel.version, hw=rel.hardware, other=str(hardware)
        )
    if not 0 < success_share <= 1 or not 0 <= failure_share < 1:
        raise OTAError("shares")
    start = end = None
    if window is not None:
        if len(window) != 2:
            raise OTAError("window_shape")
        start, end = _hhmm(window[0]), _hhmm(window[1])
        if start == end:
            raise OTAError("window_empty")
    c = Campaign(
        name=str(name)[:100],
        release_id=rel.id,
        target={
            "condominium_ids": [int(i) for i in condominium_ids],
            "hub_ids": [str(h) for h in hub_ids],
            "from_versions": [str(v) for v in from_versions],
            "hardware": rel.hardware,
        },
        waves=_waves(waves),
        success_share=float(success_share),
        failure_share=float(failure_share),
        window_start=start,
        window_end=end,
        created_by=user.id if user is not None else None,
    )
    db.add(c)
    db.flush()
    audit(db, user, "create", "campaign", str(c.id), release=rel.seq, target=c.target,
          waves=c.waves, window=[start, end] if start else None)  # fmt: skip
    db.commit()
    db.refresh(c)
    return c


def get(db, campaign_id):
    c = db.get(Campaign, campaign_id)
    if c is None:
        raise OTAError("no_campaign", 404)
    return c


def targets(db, c, release):
    """The hubs `c` would update now, by id."""
    t = c.target or {}
    stmt = select(Hub).where(Hub.state.in_((CLAIMED, ONLINE, OFFLINE)))
    if t.get("condominium_ids"):
        stmt = stmt.where(Hub.condominium_id.in_(t["condominium_ids"]))
    if t.get("hub_ids"):
        stmt = stmt.where(Hub.hub_id.in_(t["hub_ids"]))
    if t.get("from_versions"):
        stmt = stmt.where(version_column(release.component).in_(t["from_versions"]))
    busy = (
        select(Deployment.hub_id)
        .join(Campaign, Campaign.id == Deployment.campaign_id)
        .where(Campaign.state.in_((RUNNING, PAUSED)), Deployment.state.not_in(FINAL))
    )
    stmt = stmt.where(Hub.id.not_in(busy)).order_by(Hub.id)
    return [
        h
        for h in db.exec(stmt).all()
        if hardware_class(h) == release.hardware
        and running_version(h, release.component) != release.version
    ]


def wave_sizes(n, waves):
    """Cumulative hub counts of each wave for n targeted hubs."""
    out, before = [], 0
    for i, pct in enumerate(waves):
        count = 1 if i == 0 and pct == 1 else math.ceil(n * pct / 100)
        before = min(n, max(count, before))
        out.append(before)
    return out


def _transition(db, user, campaign_id, action, **detail):
    c = get(db, campaign_id)
    allowed, to = _TRANSITIONS[action]
    if c.state not in allowed:
        raise OTAError("wrong_state", 409, state=c.state, action=action)
    c.state = to
    audit(db, user, action, "campaign", str(c.id), **detail)
    return c


def start(db, user, campaign_id, now=None):
    """Fix the targeted hubs and their waves, and open the first wave."""
    c = get(db, campaign_id)
    rel = releases.get(db, c.release_id)
    hubs = targets(db, c, rel) if c.state == DRAFT else []
    if c.state == DRAFT and not hubs:
        raise OTAError("no_hub", 409)
    c = _transition(db, user, campaign_id, "start", hubs=len(hubs))
    sizes = wave_sizes(len(hubs), c.waves)
    wave = 0
    for i, hub in enumerate(hubs):
        while i >= sizes[wave]:
            wave += 1
        db.add(Deployment(campaign_id=c.id, hub_id=hub.id, wave=wave + 1))
    c.current_wave = 1
    c.started_at = now or utcnow()
    db.add(c)
    db.commit()
    return c


def _paused(c, typed="", code=None, **params):
    """Note why `c` is paused: what a person typed, as typed, or fleet.ota's reason `code`
    (paused_reason keeps its English; pause_code() gives the code to translate)."""
    target = {k: v for k, v in (c.target or {}).items() if k != _PAUSE}
    if code is not None:
        target[_PAUSE] = {"code": code, "params": params}
        typed = message(code, params)
    c.target, c.paused_reason = target, typed


def pause_code(c):
    """(code, params) of the reason a paused campaign gives, or None when a person typed
    it (shown as typed)."""
    p = (c.target or {}).get(_PAUSE) if c.state == PAUSED else None
    return (p["code"], p["params"]) if p else None


def pause(db, user, campaign_id, reason=""):
    c = _transition(db, user, campaign_id, "pause", reason=reason)
    typed = str(reason)[:200]
    if typed:
        _paused(c, typed)
    else:
        _paused(c, code="paused_by_hand")
    db.add(c)
    db.commit()
    return c


def resume(db, user, campaign_id):
    """Running again; the failures of the current wave so far are accepted."""
    c = _transition(db, user, campaign_id, "resume")
    wave = _wave_rows(db, c, c.current_wave)
    target = dict(c.target or {})
    accepted = dict(target.get(_ACCEPTED) or {})
    accepted[str(c.current_wave)] = sum(d.state == FAILED for d in wave)
    target[_ACCEPTED] = accepted
    c.target = target
    _paused(c)
    db.add(c)
    db.commit()
    return c


def cancel(db, user, campaign_id, now=None):
    """Cancelled: no more offers; unfinished deployments fail "cancelled"."""
    c = _transition(db, user, campaign_id, "cancel")
    for d in db.exec(select(Deployment).where(Deployment.campaign_id == c.id)).all():
        if d.state not in FINAL:
            d.state, d.result, d.deadline = FAILED, "cancelled", None
            db.add(d)
    c.finished_at = now or utcnow()
    db.add(c)
    db.commit()
    return c


def _wave_rows(db, c, wave):
    stmt = select(Deployment).where(Deployment.campaign_id == c.id, Deployment.wave == wave)
    return db.exec(stmt).all()


def _expire(db, settings, c, rows, now):
    """Time out stuck deployments of the open waves; confirm those waiting on telemetry."""
    timeout = timedelta(seconds=settings.ota_deployment_timeout_s)
    window_open = deps.in_window(settings, c, now)
    for d in rows:
        if d.state in FINAL or d.wave > c.current_wave:
            continue
        if d.state == CONFIRMING and deps.confirm(db, d, db.get(Hub, d.hub_id), now):
            continue
        # Not offered yet and nothing may be offered now: the clock does not run.
        held = d.offered_at is None and d.state == IDLE and (c.state == PAUSED or not window_open)
        if d.deadline is None or held:
            d.deadline = now + timeout
        elif aware(d.deadline) <= now:
            deferred = d.state == WAITING or d.deferred_since is not None
            result = "deferred too long" if deferred else "timed out"
            d.detail = coded("deferred_too_long" if deferred else "timed_out", in_state=d.state)
            d.state, d.result, d.deadline, d.updated_at = FAILED, result, None, now
        db.add(d)


def _judge(db, c, rows, now):
    wave = [d for d in rows if d.wave == c.current_wave]
    n = len(wave)
    failed = sum(d.state == FAILED for d in wave)
    updated = sum(d.state == UPDATED for d in wave)
    accepted = int(((c.target or {}).get(_ACCEPTED) or {}).get(str(c.current_wave), 0))
    if n and failed > accepted and failed / n > c.failure_share:
        c.state = PAUSED
        _paused(c, code="wave_failed", wave=c.current_wave, failed=failed, hubs=n)
        audit(db, None, "pause", "campaign", str(c.id), reason=c.paused_reason)
    elif n - accepted <= 0 or updated / (n - accepted) >= c.success_share:
        later = sorted({d.wave for d in rows if d.wave > c.current_wave})
        if later:
            c.current_wave = later[0]
            audit(db, None, "wave", "campaign", str(c.id), wave=c.current_wave)
        elif all(d.state in FINAL for d in rows):
            c.state, c.finished_at = FINISHED, now
            audit(db, None, "finish", "campaign", str(c.id), updated=updated, failed=failed)
    db.add(c)


def tick(db, settings, now):
    """Run every settings.ota_tick_s: timeouts, confirmations, wave advances, automatic
    pauses and ends, for every running or paused campaign."""
    live = db.exec(select(Campaign).where(Campaign.state.in_((RUNNING, PAUSED)))).all()
    for c in live:
        rows = db.exec(select(Deployment).where(Deployment.campaign_id == c.id)).all()
        _expire(db, settings, c, rows, now)
        if c.state == RUNNING:
            _judge(db, c, rows, now)
    db.commit()


def summary(db, campaign_id):
    c = get(db, campaign_id)
    rows = db.exec(
        select(Deployment).where(Deployment.campaign_id == c.id).order_by(Deployment.id)
    ).all()
    waves, counts = [], {}
    for n in sorted({d.wave for d in rows}):
        wave = [d for d in rows if d.wave == n]
        updated = sum(d.state == UPDATED for d in wave)
        failed = sum(d.state == FAILED for d in wave)
        waves.append(
            {
                "wave": n,
                "hubs": len(wave),
                "updated": updated,
                "failed": failed,
                "in_progress": len(wave) - updated - failed,
            }
        )
    for d in rows:
        counts[d.state] = counts.get(d.state, 0) + 1
    return {"campaign": c, "waves": waves, "deployments": rows, "counts": counts}


def _detail(detail):
    """A deployment's detail for the API: the English text, and the code and params it
    was said from (None for text stored before the codes)."""
    reason = decoded(detail)
    return {
        "detail": detail_text(detail),
        "detail_code": reason and reason[0],
        "detail_params": reason and reason[1],
    }


def public(db, c, with_deployments=True):
    """The API's JSON for a campaign."""
    s = summary(db, c.id)
    paused = pause_code(c)
    hub_names = {}
    if with_deployments:
        names = select(Hub.id, Hub.hub_id).join(Deployment, Deployment.hub_id == Hub.id)
        hub_names = dict(db.exec(names.where(Deployment.campaign_id == c.id)).all())
    out = {
        "id": c.id,
        "name": c.name,
        "release_id": c.release_id,
        "state": c.state,
        "target": {k: v for k, v in (c.target or {}).items() if k not in _PRIVATE},
        "waves_pct": c.waves,
        "success_share": c.success_share,
        "failure_share": c.failure_share,
        "window": [c.window_start, c.window_end] if c.window_start else None,
        "current_wave": c.current_wave,
        "paused_reason": c.paused_reason,
        "paused_code": paused[0] if paused else None,  # None: a person's words, or running
        "paused_params": paused[1] if paused else None,
        "created_at": utc(c.created_at),
        "started_at": utc(c.started_at),
        "finished_at": utc(c.finished_at),
        "waves": s["waves"],
        "counts": s["counts"],
    }
    if with_deployments:
        out["deployments"] = [
            {
                "hub_id": hub_names.get(d.hub_id),
                "wave": d.wave,
                "state": d.state,
                "result": d.result,
                **_detail(d.detail),
                "blocks": d.blocks,
                "updated_at": utc(d.updated_at),
            }
            for d in s["deployments"]
        ]
    return out
