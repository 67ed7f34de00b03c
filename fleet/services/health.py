"""Hub health: what heartbeats report, when a hub counts as online, and the sweep that
marks silent hubs offline (protocol/README.md, heartbeat map).

    mark_seen(db, hub, now)                    # any authenticated message; activates
    heard(db, hub_row, now)                    # the same, cheaper, for every telemetry
    reply = heartbeat(db, settings, hub, beat, now)   # -> {1: time, 2: ETag[, 3: offer]}
    gone = sweep(db, settings, now)            # hub ids just marked offline
    rows = history(db, hub, since)             # the hub's heartbeat figures, oldest first

A hub is offline after settings.offline_after_missed heartbeat intervals without any
message, and online again with the next one. The first message of a claimed hub
activates it (enrolment.activate). Provisioned hubs not yet claimed are heard but stay
provisioned: a hub on a technician's bench is not "online" for anyone.
"""

from datetime import UTC, timedelta

from sqlalchemy import bindparam, delete, func, update
from sqlmodel import select

from fleet import metrics
from fleet.models import CLAIMED, OFFLINE, ONLINE, Hub, HubHealthSample
from fleet.ota import deployments
from fleet.services import config, enrolment
from fleet.services.audit import audit

# Heartbeat map keys (protocol/README.md).
UPTIME, FREE_HEAP, RSSI, QUEUE, FIRMWARE, LAST_ERROR, RESET_CAUSE, ETAG = range(1, 9)
OTA_REPORT, EMERGENCIES_HELD, IMAGE_VERSION = 9, 10, 11
# Reply map keys.
REPLY_TIME, REPLY_ETAG, REPLY_WORK = 1, 2, 3
_INTS = (UPTIME, FREE_HEAP, QUEUE, EMERGENCIES_HELD)
# Bounds on text a hub sends, so a confused hub cannot fill the database.
_TEXT_LIMITS = {FIRMWARE: 64, LAST_ERROR: 500, RESET_CAUSE: 32, IMAGE_VERSION: 64}
_INT_LIMIT = 1 << 40
SEEN_RESOLUTION = timedelta(seconds=10)
_TOUCH = (
    update(Hub.__table__)
    .where(Hub.__table__.c.id == bindparam("pk"))
    .values(last_seen=bindparam("now"))
)


class HeartbeatRejected(ValueError):
    """A heartbeat that is not the documented map; `reason` is safe to send back."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _audit(db, action, hub, **detail):
    audit(db, None, action, "hub", hub.hub_id, **detail)


def mark_seen(db, hub, now):
    """Record that `hub` was just heard from (not committed unless its state changes,
    which enrolment.activate commits)."""
    hub.last_seen = now
    db.add(hub)
    if hub.state == OFFLINE:
        _audit(db, "online", hub)
    if hub.state in (CLAIMED, OFFLINE):
        enrolment.activate(db, hub)


def heard(db, hub, now):
    """mark_seen for the hot path: `hub` needs only `id`, `state` and `last_seen` (a row
    will do). Writes last_seen at most every SEEN_RESOLUTION, far finer than the offline
    sweep needs, unless the state must change. Not committed."""
    if hub.state in (CLAIMED, OFFLINE):
        mark_seen(db, db.get(Hub, hub.id), now)
        return
    last = hub.last_seen
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if last is None or now - last >= SEEN_RESOLUTION:
        db.connection().execute(_TOUCH, {"pk": hub.id, "now": now})


def _check(beat):
    if not isinstance(beat, dict):
        raise HeartbeatRejected("a heartbeat is a CBOR map")
    for key in _INTS:
        value = beat.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT_LIMIT
        ):
            raise HeartbeatRejected(f"heartbeat key {key} is a non-negative integer")
    rssi = beat.get(RSSI)
    if rssi is not None and (isinstance(rssi, bool) or not isinstance(rssi, int)):
        raise HeartbeatRejected("heartbeat key 3 is an integer or null")
    if rssi is not None and not -200 <= rssi <= 50:
        raise HeartbeatRejected("heartbeat RSSI out of range")
    for key in _TEXT_LIMITS:
        value = beat.get(key)
        if value is not None and not isinstance(value, str):
            raise HeartbeatRejected(f"heartbeat key {key} is text")
    etag = beat.get(ETAG)
    if etag is not None and (not isinstance(etag, bytes) or len(etag) > 8):
        raise HeartbeatRejected("heartbeat key 8 is an ETag")
    report = beat.get(OTA_REPORT)
    if report is not None and not (
        isinstance(report, list)
        and len(report) == 3
        and isinstance(report[0], str)
        and len(report[0]) <= 32
        and isinstance(report[1], int)
        and not isinstance(report[1], bool)
    ):
        raise HeartbeatRejected("heartbeat key 9 is [state, seq, detail]")


def heartbeat(db, settings, hub, beat, now):
    """Store a heartbeat's health fields on the hub, apply its OTA report, commit, and
    return the reply map: the fleet's time, the ETag of the hub's current configuration
    and, when an update is offered to it, the pending work (fleet/ota/deployments.py)."""
    _check(beat)
    uptime = beat.get(UPTIME)
    if uptime is not None:
        # A smaller uptime than last time: the hub rebooted in between.
        if hub.uptime_s is not None and uptime < hub.uptime_s:
            hub.restarts += 1
        hub.uptime_s = uptime
    if FREE_HEAP in beat:
        hub.free_heap = beat[FREE_HEAP]
    if RSSI in beat:
        hub.rssi = beat[RSSI]
    if QUEUE in beat:
        hub.queue_depth = beat[QUEUE]
    if beat.get(FIRMWARE) is not None:
        hub.firmware_version = beat[FIRMWARE][: _TEXT_LIMITS[FIRMWARE]]
    if beat.get(IMAGE_VERSION) is not None:
        hub.image_version = beat[IMAGE_VERSION][: _TEXT_LIMITS[IMAGE_VERSION]]
    if LAST_ERROR in beat:
        err = beat[LAST_ERROR]
        hub.last_error = None if err is None else err[: _TEXT_LIMITS[LAST_ERROR]]
    if beat.get(RESET_CAUSE) is not None:
        hub.reset_cause = beat[RESET_CAUSE][: _TEXT_LIMITS[RESET_CAUSE]]
    if ETAG in beat:
        hub.config_etag = beat[ETAG]
    # Absent key 10: a hub that does not report it holds nothing we know of.
    hub.emergencies_held = beat.get(EMERGENCIES_HELD)
    mark_seen(db, hub, now)
    db.add(
        HubHealthSample(
            hub_id=hub.id,
            at=now,
            uptime_s=hub.uptime_s,
            rssi=hub.rssi,
            free_heap=hub.free_heap,
            queue_depth=hub.queue_depth,
            firmware_version=hub.firmware_version or None,
            last_error=hub.last_error,
        )
    )
    etag = config.config_etag(db, settings, hub)
    db.add(hub)
    if beat.get(OTA_REPORT) is not None:
        deployments.report(db, hub, beat[OTA_REPORT], now, settings)
    work = deployments.offer(db, settings, hub, now)
    db.commit()
    reply = {REPLY_TIME: int(now.timestamp()), REPLY_ETAG: etag}
    if work is not None:
        reply[REPLY_WORK] = work
    return reply


def history(db, hub, since):
    """The hub's heartbeat figures from `since` on, oldest first."""
    query = (
        select(HubHealthSample)
        .where(HubHealthSample.hub_id == hub.id, HubHealthSample.at >= since)
        .order_by(HubHealthSample.at)
    )
    return db.exec(query).all()


def offline_deadline(settings, now):
    """Hubs last heard before this instant are offline."""
    return now - timedelta(seconds=settings.heartbeat_interval_s * settings.offline_after_missed)


def sweep(db, settings, now):
    """Mark every online hub that has been silent too long offline (audited); drop
    health history older than settings.health_history_days; refresh the hubs-online
    gauge. Returns the hub ids marked offline, for logs."""
    expired = now - timedelta(days=settings.health_history_days)
    db.exec(delete(HubHealthSample).where(HubHealthSample.at < expired))
    deadline = offline_deadline(settings, now)
    stale = db.exec(select(Hub).where(Hub.state == ONLINE, Hub.last_seen < deadline)).all()
    gone = []
    for hub in stale:
        hub.state = OFFLINE
        db.add(hub)
        seen = hub.last_seen if hub.last_seen.tzinfo else hub.last_seen.replace(tzinfo=UTC)
        _audit(db, "offline", hub, last_seen=seen.isoformat())
        gone.append(hub.hub_id)
    db.commit()
    online = db.exec(select(func.count(Hub.id)).where(Hub.state == ONLINE)).one()
    metrics.hubs_online.set(online)
    return gone
