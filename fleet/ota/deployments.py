"""The hub-facing side of a campaign: what a hub is offered in its heartbeat reply (key 3),
what its OTA reports (key 9) mean for its deployment, and what `m` and `i` serve.

    reply[3] = offer(db, settings, hub, now)     # {1: seq} or None
    report(db, hub, [state, seq, detail], now)   # heartbeat key 9
    release_for(db, hub)                         # Release served as m/i, or None
    monitoring_pause(db, resident)               # for caregivers: an update pending
    measured_pause_s(db, release_id)             # what its updates cost so far, or None

An offer is held back while an alert of the care circle is open for a resident the hub
serves (the residents of the flats its sensors are in) or while the hub reports emergency
events it has not delivered (heartbeat key 10) — at most settings.ota_max_deferral_s, then
the deployment fails "deferred too long". A hub installs only on an offer that comes
after its bundle verified (report "downloaded"), so holding the offer back holds the
install too: before the download the deployment shows "waiting", after it "downloaded"
with the reason in its detail (a code, as every reason there: fleet.ota.coded). Outside
the campaign's maintenance window (local time, settings.timezone) nothing new is offered;
in a paused campaign only hubs whose download began are offered (and so may install)
their release.
A deployment is "updated" only once the hub reported "updated" with the release's
version, its heartbeat shows that version, and telemetry from it was stored after that.
"""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import select

from fleet.models import (
    ALERT_RESOLVED,
    Alert,
    Campaign,
    Deployment,
    HubHealthSample,
    Release,
    Resident,
    Sensor,
    TelemetryReceipt,
)
from fleet.ota import (
    CONFIRMING,
    DOWNLOADED,
    DOWNLOADING,
    FAILED,
    FINAL,
    IDLE,
    OFFERABLE,
    PAUSED,
    RUNNING,
    UPDATED,
    UPDATING,
    WAITING,
    aware,
    coded,
    decoded,
    running_version,
)

OFFER_SEQ = 1  # key of the pending-work map (heartbeat reply key 3)
# Seconds of lost monitoring an update costs a resident, told to caregivers before any hub
# finished this release (then measured_pause_s): the install, the reset into the new copy
# and its first heartbeat (4-13 s measured in the emulator, tests/bench/bench_ota_campaign).
EXPECTED_PAUSE_S = 60
_PAUSE_SAMPLES = 5  # the latest updates to a release whose pause is measured
DEFAULT_TIMEOUT_S = 1800  # settings.ota_deployment_timeout_s's default
# Key 9 "refused" words (firmware/hub/ota*.py) -> LwM2M-style results; each word has its
# reason code "refused_<word>", any other word is said by "refused" with the word as text.
_REFUSED = {
    "signature": "signature",
    "sequence": "sequence",
    "hardware": "hardware",
    "space": "out of space",
    "size": "integrity",
    "manifest": "integrity",
    "integrity": "integrity",
}
_HOLDS = ("held_emergencies", "held_alert")  # hold_reason's codes
# Key 9 states whose detail is the release's version -> the code that says it.
_VERSION_SAID = {
    "downloaded": "verified",
    "updating": "installing",
    "updated": "reported",
    "rolled back": "rolled_back",
}


def in_window(settings, campaign, now):
    """True when `now` is inside the campaign's maintenance window (or it has none); the
    window is local time in settings.timezone and may span midnight."""
    if not campaign.window_start or not campaign.window_end:
        return True
    local = aware(now).astimezone(ZoneInfo(settings.timezone)).time()
    start = time.fromisoformat(campaign.window_start)
    end = time.fromisoformat(campaign.window_end)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _rows(db, hub_pk, states, campaign_states):
    stmt = (
        select(Deployment, Campaign)
        .join(Campaign, Campaign.id == Deployment.campaign_id)
        .where(
            Deployment.hub_id == hub_pk,
            Deployment.state.in_(states),
            Campaign.state.in_(campaign_states),
            Deployment.wave <= Campaign.current_wave,
        )
        .order_by(Deployment.id.desc())
    )
    return db.exec(stmt).first()


def hold_reason(db, hub):
    """Why installing now would be unsafe for the hub's residents (a coded reason), or
    None."""
    if hub.emergencies_held:
        return coded("held_emergencies")
    served = select(Sensor.flat_id).where(Sensor.hub_id == hub.id, Sensor.flat_id.is_not(None))
    alert = db.exec(
        select(Alert.id)
        .join(Resident, Resident.id == Alert.resident_id)
        .where(
            Resident.flat_id.in_(served),
            Alert.state != ALERT_RESOLVED,
            Alert.audience == "care",
        )
        .limit(1)
    ).first()
    return None if alert is None else coded("held_alert")


def _fail(d, result, now, detail=None):
    d.state, d.result, d.deadline, d.updated_at = FAILED, result, None, now
    if detail is not None:
        d.detail = detail


def _timeout_s(settings):
    return DEFAULT_TIMEOUT_S if settings is None else settings.ota_deployment_timeout_s


def _move(settings, d, state, now, detail=None):
    """Into `state` with a fresh deadline."""
    d.state, d.updated_at = state, now
    d.deadline = now + timedelta(seconds=_timeout_s(settings))
    if detail is not None:
        d.detail = detail


def offer(db, settings, hub, now):
    """The heartbeat reply's pending-work map for `hub`, or None (caller commits)."""
    row = _rows(db, hub.id, OFFERABLE, (RUNNING, PAUSED))
    if row is None:
        return None
    d, campaign = row
    fresh = d.state in (IDLE, WAITING)
    if fresh and (campaign.state == PAUSED or not in_window(settings, campaign, now)):
        return None
    reason = hold_reason(db, hub)
    if reason is not None:
        if d.state in (IDLE, WAITING, DOWNLOADING, DOWNLOADED):
            _hold(settings, d, reason, now)
            db.add(d)
        return None
    if fresh and (d.state == WAITING or d.offered_at is None):
        d.offered_at = d.offered_at or now
        d.deferred_since = None
        _move(settings, d, IDLE, now, "")
        db.add(d)
    elif d.deferred_since is not None:
        # Held after its download began: the go now; installing gets a fresh deadline.
        d.deferred_since = None
        _move(settings, d, d.state, now, "")
        db.add(d)
    seq = db.exec(select(Release.seq).where(Release.id == campaign.release_id)).one()
    return {OFFER_SEQ: seq}


def _hold(settings, d, reason, now):
    """No offer, so no install, for `reason`; past the deferral bound, fail."""
    since = aware(d.deferred_since) or now
    d.deferred_since, d.detail, d.updated_at = since, reason, now
    limit = since + timedelta(seconds=settings.ota_max_deferral_s)
    if now >= limit:
        _fail(d, "deferred too long", now)
    elif d.state in (IDLE, WAITING):
        d.state, d.deadline = WAITING, limit
    elif d.state == DOWNLOADED:
        d.deadline = limit  # the hub waits for us, not we for it: the deferral bound rules
    # DOWNLOADING: the download goes on under its own deadline, then waits as DOWNLOADED.


def _valid(report_list):
    return (
        isinstance(report_list, list)
        and len(report_list) == 3
        and isinstance(report_list[0], str)
        and isinstance(report_list[1], int)
        and not isinstance(report_list[1], bool)
    )


def report(db, hub, report_list, now, settings=None):
    """Apply heartbeat key 9 to the hub's deployment of that seq (caller commits). The
    hub repeats its last report in every heartbeat: the same report twice changes
    nothing. `settings` gives the deadline of a new state (default timeout without)."""
    if not _valid(report_list):
        return
    what, seq, detail = report_list
    d = db.exec(
        select(Deployment)
        .join(Campaign, Campaign.id == Deployment.campaign_id)
        .join(Release, Release.id == Campaign.release_id)
        .where(Deployment.hub_id == hub.id, Release.seq == seq)
        .order_by(Deployment.id.desc())
    ).first()
    if d is None or d.state in FINAL:
        return
    text = "" if detail is None else str(detail)
    said = _said(what, text)
    if what == "downloading":
        if d.state in (IDLE, WAITING, DOWNLOADING) and (d.state != DOWNLOADING or d.detail != said):
            _move(settings, d, DOWNLOADING, now, said)  # progress: the deadline moves on
    elif what == "downloaded":
        if d.state in (IDLE, WAITING, DOWNLOADING):
            _move(settings, d, DOWNLOADED, now, said)  # verified; installs at the next offer
    elif what == "refused":
        _fail(d, _REFUSED.get(text, "integrity"), now, said)
    elif what == "failed":
        d.detail, d.updated_at = said, now  # retried by the hub
    elif what == "updating":
        if d.state not in (UPDATING, CONFIRMING):
            _move(settings, d, UPDATING, now, said)
    elif what == "updated":
        if d.state != CONFIRMING:
            _move(settings, d, CONFIRMING, now, said)
            d.reported_at = now
    elif what == "rolled back":
        _fail(d, "rolled back", now, said)
    else:
        return
    db.add(d)
    if d.state == CONFIRMING:
        confirm(db, d, hub, now)


def _said(what, text):
    """The detail a key 9 report leaves on the deployment, as a code (fleet.ota.coded)."""
    if what == "downloading":
        return text if text.isascii() and text.isdigit() and len(text) < 16 else ""  # bytes
    if what == "refused":
        return coded("refused_" + text) if text in _REFUSED else coded("refused", text=text)
    if what == "failed":
        return coded("hub_failed", error=text)
    return coded(_VERSION_SAID[what], version=text) if what in _VERSION_SAID and text else ""


def confirm(db, d, hub, now):
    """ "confirming" → "updated" once the hub runs the release's version (heartbeat key 5,
    key 11 for an image: running_version) and telemetry arrived after its "updated"
    report. True if it did."""
    if d.state != CONFIRMING or d.reported_at is None:
        return False
    version, component = db.exec(
        select(Release.version, Release.component)
        .join(Campaign, Campaign.release_id == Release.id)
        .where(Campaign.id == d.campaign_id)
    ).one()
    if running_version(hub, component) != version:
        return False
    fresh = db.exec(
        select(TelemetryReceipt.seq)
        .where(TelemetryReceipt.hub_id == hub.id, TelemetryReceipt.received_at > d.reported_at)
        .limit(1)
    ).first()
    if fresh is None:
        return False
    d.state, d.result, d.deadline, d.updated_at = UPDATED, "", None, now
    db.add(d)
    return True


def serving(db, hub_pk):
    """(deployment id, release id) whose m/i the hub may fetch now, or None: an offered
    deployment of a running or paused campaign (a pause lets downloads under way end)."""
    stmt = (
        select(Deployment.id, Campaign.release_id, Deployment.state)
        .join(Campaign, Campaign.id == Deployment.campaign_id)
        .where(
            Deployment.hub_id == hub_pk,
            Deployment.state.in_((IDLE, DOWNLOADING, DOWNLOADED, UPDATING)),
            Deployment.offered_at.is_not(None),
            Campaign.state.in_((RUNNING, PAUSED)),
        )
        .order_by(Deployment.id.desc())
    )
    return db.exec(stmt).first()


def release_for(db, hub):
    """The Release `m` and `i` serve to `hub`, or None."""
    row = serving(db, hub.id)
    return None if row is None else db.get(Release, row[1])


def count_block(db, deployment_id, first_of_bundle, blocks=1):
    """`blocks` more m/i blocks served (the CoAP endpoint counts them in memory and adds
    them in batches; 0 writes no count); the first bundle block means the download began."""
    table = Deployment.__table__
    stmt = update(table).where(table.c.id == deployment_id)
    if blocks:
        db.connection().execute(stmt.values(blocks=table.c.blocks + blocks))
    if first_of_bundle:
        db.connection().execute(
            stmt.where(table.c.state == IDLE).values(state=DOWNLOADING, detail="0")
        )


def monitoring_pause(db, resident):
    """For the resident's caregivers: an update pending or under way on a hub serving
    them — {"state", "expected_pause_s", "since", "held"} — or None. "held" is the
    (code, params) of why the install is held back for the residents' safety, or None."""
    hubs = select(Sensor.hub_id).where(Sensor.flat_id == resident.flat_id)
    row = db.exec(
        select(Deployment, Campaign)
        .join(Campaign, Campaign.id == Deployment.campaign_id)
        .where(
            Deployment.hub_id.in_(hubs),
            Deployment.state.in_(OFFERABLE),
            Campaign.state.in_((RUNNING, PAUSED)),
            Deployment.wave <= Campaign.current_wave,
        )
        .order_by(Deployment.id.desc())
    ).first()
    if row is None:
        return None
    d, campaign = row
    since = d.offered_at or d.deferred_since or d.updated_at
    measured = measured_pause_s(db, campaign.release_id)
    expected = EXPECTED_PAUSE_S if measured is None else max(5, -(-int(measured) // 5) * 5)
    held = decoded(d.detail) if d.deferred_since is not None else None
    if held is not None and held[0] not in _HOLDS:
        held = None  # a download held back goes on: its detail is its progress till it ends
    return {"state": d.state, "expected_pause_s": expected, "since": aware(since), "held": held}


def measured_pause_s(db, release_id):
    """Seconds of lost monitoring the latest updates to this release cost, as the fleet
    saw them, or None before any hub finished it: the median, over the last few hubs
    updated, of the gap from the old version's last heartbeat (the reply that said go,
    after which the hub installs and resets) to the new version's first (sent as it
    starts, with its sensor tasks). Wired alarms are watched again from then on; a
    periodic reading comes within its own interval after that."""
    version = db.get(Release, release_id).version
    done = db.exec(
        select(Deployment.hub_id, Deployment.offered_at)
        .join(Campaign, Campaign.id == Deployment.campaign_id)
        .where(
            Campaign.release_id == release_id,
            Deployment.state == UPDATED,
            Deployment.offered_at.is_not(None),
        )
        .order_by(Deployment.updated_at.desc())
        .limit(_PAUSE_SAMPLES)
    ).all()
    gaps = []
    for hub_pk, offered_at in done:
        first_new = db.exec(
            select(func.min(HubHealthSample.at)).where(
                HubHealthSample.hub_id == hub_pk,
                HubHealthSample.firmware_version == version,
                HubHealthSample.at >= offered_at,
            )
        ).one()
        if first_new is None:
            continue  # its history is gone (health_history_days)
        last_old = db.exec(
            select(func.max(HubHealthSample.at)).where(
                HubHealthSample.hub_id == hub_pk, HubHealthSample.at < first_new
            )
        ).one()
        if last_old is not None:
            gaps.append((aware(first_new) - aware(last_old)).total_seconds())
    return sorted(gaps)[len(gaps) // 2] if gaps else None
