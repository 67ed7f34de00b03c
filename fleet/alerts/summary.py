"""The morning wellbeing summary: each family member of a resident's care circle hears,
at their NotificationSettings.summary_at (local minutes after midnight; None: never),
how the resident's night and previous day went beside her usual (the median of the
14 mornings before), through the alerts outbox.

    figures(db, resident, day, zone, now)     # one morning's figures (a dict)
    usual(db, resident, day, zone)            # the medians of the 14 mornings before
    compose(resident, day, figs, usual, lang) # the payload: subject and body
    enqueue_due(db, settings, now)            # queue what is due; returns rows queued

A morning `day` covers the night before it (22:00-06:00), its first activity (from
05:00) and the whole day before it (bathroom visits, time out of home, kitchen activity,
temperature range). Motion is what counts as activity; the bedroom is left out of
"first activity" and "night activity" (turning over in bed is not getting up).

Once per user, resident and morning, across restarts and processes: the rows'
idempotency keys name all three and are unique in the database. Residents without a
recorded consent are not monitored, so they have no summary.
"""

import logging
import statistics
from bisect import bisect_left
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fleet.alerts import outbox
from fleet.api.deps import as_utc
from fleet.models import (
    CAREGIVER,
    SUMMARY_AT,
    CareCircleMember,
    Event,
    Notification,
    NotificationSettings,
    Reading,
    Resident,
    Sensor,
    User,
)
from fleet.rules.explain import duration, language

log = logging.getLogger("fleet.alerts")
USUAL_DAYS = 14
DEFAULT_AT = SUMMARY_AT  # 08:30, for a user without NotificationSettings
LATE_S = 2 * 3600  # a summary more than this late (server down all morning) is stale: skipped
_SLOT_S = 15 * 60  # activity is counted in quarter hours
_VISIT_GAP_S = 10 * 60  # bathroom motion this far apart is another visit
_OUT_MIN_S = 10 * 60  # a door and then no motion for this long: she went out
_MIN_USUAL = 3  # fewer mornings with a figure than this: no usual value


def _local(day, minute, zone):
    return datetime.combine(day, time(), zone) + timedelta(minutes=minute)


def _rows(db, resident, start, end):
    """(events [(epoch, kind, room, state)], temperatures [(epoch, value)]) in the
    resident's flat from `start` to `end` (aware datetimes), oldest first."""
    sensors = {
        s.id: s for s in db.exec(select(Sensor).where(Sensor.flat_id == resident.flat_id)).all()
    }
    if not sensors:
        return [], []
    ids = list(sensors)
    events = db.exec(
        select(Event.t, Event.kind, Event.sensor_id, Event.state)
        .where(Event.sensor_id.in_(ids), Event.t >= start, Event.t < end)
        .where(Event.kind.in_(("motion", "door")))
        .order_by(Event.t)
    ).all()
    temps = db.exec(
        select(Reading.t, Reading.value)
        .where(Reading.sensor_id.in_(ids), Reading.t >= start, Reading.t < end)
        .where(Reading.kind == "temperature")
        .order_by(Reading.t)
    ).all()
    out = [(as_utc(t).timestamp(), k, sensors[s].room, st) for t, k, s, st in events]
    return out, [(as_utc(t).timestamp(), v) for t, v in temps]


def _slots(events, start, end, keep):
    return len(
        {int(t // _SLOT_S) for t, k, room, _ in events if start <= t < end and keep(k, room)}
    )


def _motion(kind, room, state=None):
    return kind == "motion" and state is not False


def _morning(events, temps, day, zone, until):
    """The figures of morning `day` from rows covering it; `until`: epoch, the summary's
    time (first activity is looked for up to then, and no later than noon)."""
    prev = day - timedelta(days=1)
    y0, y1 = _local(prev, 0, zone).timestamp(), _local(day, 0, zone).timestamp()
    night0, night1 = _local(prev, 22 * 60, zone).timestamp(), _local(day, 6 * 60, zone).timestamp()
    up0, up1 = _local(day, 5 * 60, zone).timestamp(), _local(day, 12 * 60, zone).timestamp()
    up1 = min(up1, until)
    moving = [(t, k, room, s) for t, k, room, s in events if _motion(k, room, s)]
    first = next((t for t, _, room, _ in moving if up0 <= t < up1 and room != "bedroom"), None)
    visits, last_bath = 0, None
    out_s, left_at = 0.0, None
    for t, kind, room, state in events:
        if not y0 <= t < y1:
            continue
        if kind == "door" and room == "entrance" and state is not False:
            left_at = t if left_at is None else left_at
        elif _motion(kind, room, state):
            if left_at is not None and t - left_at >= _OUT_MIN_S:
                out_s += t - left_at
            left_at = None
            if room == "bathroom":
                if last_bath is None or t - last_bath > _VISIT_GAP_S:
                    visits += 1
                last_bath = t
    if left_at is not None and y1 - left_at >= _OUT_MIN_S:
        out_s += y1 - left_at  # still out at midnight
    day_temps = [v for t, v in temps if y0 <= t < y1]
    any_yesterday = any(y0 <= t < y1 for t, *_ in moving)
    return {
        "first_activity": None
        if first is None
        else (first - _local(day, 0, zone).timestamp()) / 60,
        "night_slots": _slots(moving, night0, night1, lambda k, room: room != "bedroom")
        if any(y0 <= t < night1 for t, *_ in moving)
        else None,
        "bathroom_visits": visits if any_yesterday else None,
        "out_min": round(out_s / 60) if any_yesterday else None,
        "kitchen_slots": _slots(moving, y0, y1, lambda k, room: room == "kitchen")
        if any_yesterday
        else None,
        "temp_min": min(day_temps) if day_temps else None,
        "temp_max": max(day_temps) if day_temps else None,
    }


def _zone(zone):
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def figures(db, resident, day, zone, now):
    zone = _zone(zone)
    start = _local(day - timedelta(days=1), 0, zone)
    events, temps = _rows(db, resident, start, _local(day, 12 * 60, zone))
    return _morning(events, temps, day, zone, now.timestamp())


def usual(db, resident, day, zone):
    """The median of each figure over the USUAL_DAYS mornings before `day` (None where
    fewer than three of them have it)."""
    zone = _zone(zone)
    start = _local(day - timedelta(days=USUAL_DAYS + 1), 0, zone)
    events, temps = _rows(db, resident, start, _local(day - timedelta(days=1), 12 * 60, zone))
    mornings = []
    for d in (day - timedelta(days=i) for i in range(1, USUAL_DAYS + 1)):
        # Each morning reads only its own 36 hours of rows (the rows are in time order).
        lo = _local(d - timedelta(days=1), 0, zone).timestamp()
        hi = _local(d, 12 * 60, zone).timestamp()
        ev = events[bisect_left(events, (lo,)) : bisect_left(events, (hi,))]
        tm = temps[bisect_left(temps, (lo,)) : bisect_left(temps, (hi,))]
        mornings.append(_morning(ev, tm, d, zone, float("inf")))
    out = {}
    for key in mornings[0]:
        values = [m[key] for m in mornings if m[key] is not None]
        out[key] = statistics.median(values) if len(values) >= _MIN_USUAL else None
    return out


_T = {
    "it": {
        "subject": "[Portineria] Buongiorno: come sta {name} ({date})",
        "intro": "Buongiorno. Ecco com'è andata per {name}:",
        "first_activity": "Prima attività stamattina: {v}",
        "night_slots": "Movimenti di notte (22-6): {v}",
        "bathroom_visits": "Visite al bagno ieri: {v}",
        "out_min": "Fuori casa ieri: {v}",
        "kitchen_slots": "Attività in cucina ieri: {v}",
        "temp": "Temperatura in casa ieri: {v}",
        "usual": " (di solito {u})",
        "more": " - più del solito",
        "less": " - meno del solito",
        "later": " - più tardi del solito",
        "none_yet": "nessuna finora",
        "no_data": "nessun dato",
        "slots": "in {v} quarti d'ora",
        "slot": "in un quarto d'ora",
        "no_slot": "nessuno",
        "learning": "\nLe abitudini sono ancora in apprendimento: i confronti arriveranno.",
        "outro": "\nÈ un riepilogo, non un allarme: gli allarmi arrivano subito e a parte.",
    },
    "en": {
        "subject": "[Portineria] Good morning: how {name} is ({date})",
        "intro": "Good morning. This is how it went for {name}:",
        "first_activity": "First activity this morning: {v}",
        "night_slots": "Moving about at night (22-6): {v}",
        "bathroom_visits": "Bathroom visits yesterday: {v}",
        "out_min": "Out of home yesterday: {v}",
        "kitchen_slots": "Kitchen activity yesterday: {v}",
        "temp": "Indoor temperature yesterday: {v}",
        "usual": " (usually {u})",
        "more": " - more than usual",
        "less": " - less than usual",
        "later": " - later than usual",
        "none_yet": "none so far",
        "no_data": "no data",
        "slots": "in {v} quarter hours",
        "slot": "in one quarter hour",
        "no_slot": "none",
        "learning": "\nThe routine is still being learned: comparisons will follow.",
        "outro": "\nThis is a summary, not an alarm: alarms come at once and separately.",
    },
}
# How far a figure may stray from the usual before the summary says so: (factor, at least).
_NOTABLE = {"night_slots": (2, 2), "bathroom_visits": (1.5, 3), "out_min": (2, 60)}
_NOTABLE.update(kitchen_slots=(2, 4))
_SLOTS = ("night_slots", "kitchen_slots")  # counted in quarter hours
_LATE_MIN = 60  # first activity this much after the usual is mentioned


def _hhmm(minute):
    h, m = divmod(int(round(minute)), 60)
    return f"{h:02d}:{m:02d}"


def _temps(lo, hi):
    if lo is None:
        return None
    return f"{lo:.1f}-{hi:.1f} °C" if lo != hi else f"{lo:.1f} °C"


def _show(key, value, lang):
    if value is None:
        return None
    if key == "first_activity":
        return _hhmm(value)
    if key == "out_min":
        return duration(value * 60, lang)
    return str(int(round(value)))


def _note(key, v, u, t):
    if v is None or u is None:
        return ""
    if key == "first_activity":
        return t["later"] if v - u >= _LATE_MIN else ""
    factor, least = _NOTABLE.get(key, (None, None))
    if factor is None:
        return ""
    if v - u >= least and v >= u * factor:
        return t["more"]
    if u - v >= least and u >= v * factor:
        return t["less"]
    return ""


def compose(resident, day, figs, usual_figs, lang):
    """{"subject", "body", "language", "kind": "summary", "resident_id", "date"}."""
    lang = language(lang)
    t = _T[lang]
    name = resident.name.split(" ")[0]
    lines = [t["intro"].format(name=name), ""]
    for key in ("first_activity", "night_slots", "bathroom_visits", "out_min", "kitchen_slots"):
        v, u = figs.get(key), usual_figs.get(key)
        shown = _show(key, v, lang)
        if shown is None:
            shown = t["none_yet"] if key == "first_activity" else t["no_data"]
        elif key in _SLOTS:
            # The unit goes with a count only: "nessun dato", never "in nessun dato quarti".
            shown = {"0": t["no_slot"], "1": t["slot"]}.get(shown) or t["slots"].format(v=shown)
        line = "- " + t[key].format(v=shown)
        if u is not None:
            line += t["usual"].format(u=_show(key, u, lang)) + _note(key, v, u, t)
        lines.append(line)
    temp = _temps(figs.get("temp_min"), figs.get("temp_max")) or t["no_data"]
    line = "- " + t["temp"].format(v=temp)
    usual_temp = _temps(usual_figs.get("temp_min"), usual_figs.get("temp_max"))
    if usual_temp:
        line += t["usual"].format(u=usual_temp)
    lines.append(line)
    if all(v is None for v in usual_figs.values()):
        lines.append(t["learning"])
    lines.append(t["outro"])
    if lang == "it":
        lines = [x.replace(".", ",") if "°C" in x else x for x in lines]
    return {
        "subject": t["subject"].format(name=resident.name, date=day.strftime("%d/%m/%Y")),
        "body": "\n".join(lines),
        "language": lang,
        "kind": "summary",
        "resident_id": resident.id,
        "date": day.isoformat(),
    }


def preview(db, resident, zone, now, lang):
    """Today's summary as it reads now (for the settings page)."""
    zone = _zone(zone)
    day = now.astimezone(zone).date()
    figs = figures(db, resident, day, zone, now)
    return compose(resident, day, figs, usual(db, resident, day, zone), lang)


def _family(db, resident):
    return db.exec(
        select(User)
        .join(CareCircleMember, CareCircleMember.user_id == User.id)
        .where(CareCircleMember.resident_id == resident.id)
        .where(User.role == CAREGIVER, User.active)
    ).all()


def _key(resident, user, day):
    return f"summary-{resident.id}-{user.id}-{day.isoformat()}-"


def enqueue_due(db, settings, now):
    """Queue the summaries whose time has come today (local, settings.timezone) and that
    are not queued yet; commits each on its own. Returns the number of rows queued."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    day, minute = local.date(), local.hour * 60 + local.minute
    queued = 0
    residents = db.exec(select(Resident).where(Resident.consent_date.is_not(None))).all()
    for resident in residents:
        made = None  # (figures, usual), computed once per resident and only if needed
        for user in _family(db, resident):
            ns = db.get(NotificationSettings, user.id)
            at = DEFAULT_AT if ns is None else ns.summary_at
            if at is None or not 0 <= (minute - at) * 60 < LATE_S:
                continue
            targets, lang = outbox.channels_of(db, settings, user)
            key = _key(resident, user, day)
            if (
                not targets
                or db.exec(
                    select(Notification.id).where(Notification.idempotency_key.startswith(key))
                ).first()
            ):
                continue
            if made is None:
                made = (figures(db, resident, day, zone, now), usual(db, resident, day, zone))
            payload = compose(resident, day, made[0], made[1], lang)
            for i, (channel, recipient) in enumerate(targets):
                db.add(
                    Notification(
                        user_id=user.id,
                        channel=channel,
                        recipient=recipient,
                        payload=payload,
                        idempotency_key=f"{key}{channel}-{i}",
                        next_try=now,
                    )
                )
            try:
                db.commit()
            except IntegrityError:  # another process queued it first
                db.rollback()
                continue
            queued += len(targets)
    return queued
