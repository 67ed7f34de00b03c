"""A resident's status at a glance — all well, check, alert (or away) — with the
reasons in words, and the rows behind a resident's day.

The status reads what the fleet already stored: the resident's open alerts once the
rules engine watches them (fleet.web.alerts), before that a critical event of the last
day; "check" when
the flat's sensors have been silent beyond the rules' hard limit or its hub is offline.
Rows are always reached through scope-checked residents: callers pass residents the
user may see (fleet.services.scope), never ids from the request.
"""

from datetime import UTC, timedelta

from sqlalchemy import or_
from sqlmodel import func, select

from fleet.api.deps import as_utc
from fleet.models import OFFLINE, Event, Hub, Reading, Sensor
from fleet.rules import ALARMS
from fleet.rules import Settings as RuleSettings
from fleet.web import alerts
from fleet.web.pages import hhmm

WELL, CHECK, ALERT, AWAY = "well", "check", "alert", "away"
QUIET_LIMIT = timedelta(seconds=RuleSettings().hard_limit_s)  # the rules' absolute limit
CRITICAL_WINDOW = timedelta(days=1)


def flat_sensors(db, flat_id):
    return db.exec(select(Sensor).where(Sensor.flat_id == flat_id).order_by(Sensor.id)).all()


def _critical(event):
    return (
        event.kind in ALARMS
        and event.state is not False
        or (event.kind == "button" and event.text in ("press", "long_press"))
    )


def status(db, resident, now, t):
    """(level, [reasons]) for one resident the caller may see."""
    # A resident the rules engine watches is judged by its alerts; until it does, a
    # critical event of the last day is the alert.
    watched = alerts.rules_snapshot(db, resident.id) is not None
    open_alerts = alerts.open_for(db, [resident.id])
    urgent = [a for a in open_alerts if alerts.is_urgent(a)]
    if urgent:
        return ALERT, [alerts.text(a, t.lang) for a in urgent]
    away = as_utc(resident.away_until)
    if away is not None and away > now:
        return AWAY, []  # an urgent alert still shows: someone may be in the flat
    if resident.consent_date is None:
        return CHECK, [t("why_no_consent")]
    level = CHECK if open_alerts else WELL
    reasons = [alerts.text(a, t.lang) for a in open_alerts]
    sensors = flat_sensors(db, resident.flat_id)
    ids = [s.id for s in sensors]
    if not watched and ids:
        recent = db.exec(
            select(Event)
            .where(Event.sensor_id.in_(ids), Event.t >= now - CRITICAL_WINDOW)
            .where(or_(Event.kind.in_(ALARMS), Event.kind == "button"))
            .order_by(Event.t.desc())
        ).all()
        hit = next((e for e in recent if _critical(e)), None)
        if hit is not None:
            return ALERT, [t("why_critical", what=t("ev_" + hit.kind), time=hhmm(hit.t))]
    hubs = {s.hub_id for s in sensors}
    if hubs and db.exec(select(Hub.id).where(Hub.id.in_(hubs), Hub.state == OFFLINE)).first():
        level, reasons = CHECK, reasons + [t("why_hub_offline")]
    last = last_activity(db, ids)
    if not ids or last is None:
        return CHECK, reasons + [t("why_no_data")]
    if now - last > QUIET_LIMIT:
        hours = int((now - last).total_seconds() // 3600)
        return CHECK, reasons + [t("why_quiet", hours=hours)]
    return level, reasons


def last_activity(db, sensor_ids):
    if not sensor_ids:
        return None
    return as_utc(db.exec(select(func.max(Event.t)).where(Event.sensor_id.in_(sensor_ids))).one())


def day_rows(db, resident, start, end):
    """(sensors, events, temperature readings) of the resident's flat in [start, end)."""
    # Stored times are UTC, and SQLite compares them as text: bind UTC too.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    sensors = flat_sensors(db, resident.flat_id)
    ids = [s.id for s in sensors]
    if not ids:
        return sensors, [], []
    events = db.exec(
        select(Event)
        .where(Event.sensor_id.in_(ids), Event.t >= start, Event.t < end)
        .order_by(Event.t)
    ).all()
    # The hub's own thermometer reports without a sensor id: it counts for the flat
    # whose sensors that hub serves.
    hub_ids = sorted({s.hub_id for s in sensors})
    temps = db.exec(
        select(Reading)
        .where(Reading.kind == "temperature", Reading.t >= start, Reading.t < end)
        .where(
            or_(
                Reading.sensor_id.in_(ids),
                Reading.sensor_id.is_(None) & Reading.hub_id.in_(hub_ids),
            )
        )
        .order_by(Reading.t)
    ).all()
    return sensors, events, temps
