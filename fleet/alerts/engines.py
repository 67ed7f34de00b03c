"""Each resident's rules Engine, kept in RuleState (settings and snapshot) and fed from
stored telemetry.

    observe_stored(db, hub, readings, events, now)   # after store_pack: new rows → alerts
    replay(db, since)                               # rows stored since, not yet seen
    evaluate_due(db, now)                           # residents whose engine is due
    resolve_condition(db, alert)                    # a person closed it: the engine forgets

Loaded engines are cached per database engine and resident; RuleState.version tells a
cached one it is stale (another process or a rolled-back save). Every change of an
engine is saved with the alert changes it caused, in one transaction. A cached Engine is
one object shared by every thread (CoAP's database threads, HTTP workers, the runner on
the loop), so the functions that feed or change engines run one at a time.
"""

import functools
import logging
import threading
import weakref
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from fleet.alerts import lifecycle
from fleet.api.deps import as_utc
from fleet.models import Event, Hub, Reading, Resident, RuleState, Sensor, TelemetryReceipt
from fleet.rules import Engine, Observation, SensorHealth, Settings
from fleet.rules.model import KINDS
from fleet.services import walktest

log = logging.getLogger("fleet.alerts")

_ALARM_STATES = ("panic", "fall", "smoke", "gas", "water")
_READINGS = ("temperature", "battery")  # the readings the rules use
_FED = "fed"  # RuleState.snapshot key: see fed_at()
_cache = weakref.WeakKeyDictionary()  # sqlalchemy Engine -> {resident id: (version, Engine)}
_engines_lock = threading.RLock()


def _one_at_a_time(fn):
    @functools.wraps(fn)
    def locked(*args, **kw):
        with _engines_lock:
            return fn(*args, **kw)

    return locked


def _epoch(when):
    return as_utc(when).timestamp()


def rule_settings(resident, overrides):
    """fleet.rules.Settings for `resident` from RuleState.settings (escalation aside)."""
    values = {k: v for k, v in (overrides or {}).items() if k != "escalation"}
    values.setdefault("name", resident.name.split(" ")[0])
    values.setdefault("language", resident.language)
    away = as_utc(resident.away_until)
    values.setdefault("away_until", away)
    return Settings.from_dict(values)


def load(db, resident):
    """(RuleState, Engine) of `resident`; the RuleState is new (unsaved) the first time."""
    state = db.get(RuleState, resident.id)
    if state is None:
        state = RuleState(resident_id=resident.id)
    settings = rule_settings(resident, state.settings)
    cache = _cache.setdefault(db.get_bind(), {})
    hit = cache.get(resident.id)
    if hit is not None and hit[0] == state.version:
        eng = hit[1]
        if eng.settings != settings:
            eng.set_settings(settings)
    elif state.snapshot:
        eng = Engine.restore(settings, state.snapshot)
    else:
        eng = Engine(settings)
    return state, eng


def fed_at(state):
    """Receipt time of the newest telemetry this resident's engine has seen; None if it
    has seen none (no snapshot). An older snapshot without the mark counts as up to date."""
    if not state.snapshot:
        return None
    fed = state.snapshot.get(_FED)
    return datetime.fromisoformat(fed) if fed else datetime.min.replace(tzinfo=UTC)


def save(db, state, eng, now, fed=None):
    """Store the engine; `fed`: the receipt time of the telemetry just fed to it (kept
    in the snapshot, so the mark commits with the state it describes)."""
    due = eng.next_due()
    before = (state.snapshot or {}).get(_FED)
    state.snapshot = eng.snapshot()
    state.snapshot[_FED] = as_utc(fed).isoformat() if fed is not None else before
    state.version += 1
    state.due_at = None if due is None else datetime.fromtimestamp(due, UTC)
    state.updated_at = now
    db.add(state)
    _cache.setdefault(db.get_bind(), {})[state.resident_id] = (state.version, eng)


def forget_cache(bind=None):
    """Drop cached engines (all, or one database's): what a restart does."""
    if bind is None:
        _cache.clear()
    else:
        _cache.pop(bind, None)


def _observation(row, sensor):
    kind = row["kind"]
    room = sensor.room if sensor is not None else None
    sid = sensor.id if sensor is not None else None
    if "value" in row:
        return Observation(row["t"], kind, room, row["value"], sid)
    state = row.get("state")
    if kind == "button":
        value = row.get("text")
    elif kind in _ALARM_STATES or kind == "motion":
        value = True if state is None else bool(state)  # a bare alarm record is an alarm
    else:
        value = bool(state)
    return Observation(row["t"], kind, room, value, sid)


@_one_at_a_time
def observe_stored(db, hub, readings, events, now):
    """Feed new Reading/Event rows (store_pack's dicts) of one receipt to the engines of
    the residents of the flats their sensors are in, and apply what changes. `now` is the
    receipt's time; a resident whose engine has already seen it is skipped. Commits when
    the rows concern a resident (the caller's transaction: telemetry's rows go with it),
    else leaves the transaction to the caller. Returns the alerts opened (for the caller to
    wake the notifier). A walk-test of the hub holds its events back (walktest.screen)."""
    rows = [r for r in readings if r["kind"] in _READINGS]
    events = [e for e in events if e["kind"] in KINDS]
    if events:
        rows += walktest.screen(db, hub.id, events)
    if not rows:
        return []
    ids = {r["sensor_id"] for r in rows if r["sensor_id"] is not None}
    sensors = {}
    if ids:
        sensors = {s.id: s for s in db.exec(select(Sensor).where(Sensor.id.in_(ids))).all()}
    hub_flats = None
    by_flat = {}
    for r in rows:
        sensor = sensors.get(r["sensor_id"])
        if sensor is not None:
            flats = [sensor.flat_id] if sensor.flat_id is not None else []
        else:
            if r["kind"] == "battery":
                continue  # the hub's own battery is the hub's health, not the flat's
            if hub_flats is None:
                hub_flats = _hub_flats(db, hub.id)
            flats = hub_flats
        for flat in flats:
            by_flat.setdefault(flat, []).append(_observation(r, sensor))
    if not by_flat:
        return []
    residents = db.exec(select(Resident).where(Resident.flat_id.in_(by_flat))).all()
    opened = []
    for resident in residents:
        state, eng = load(db, resident)
        fed = fed_at(state)
        if fed is not None and as_utc(fed) >= as_utc(now):
            continue  # a replay already gave it these
        eng.set_health(hub_last_seen=now)
        for obs in sorted(by_flat[resident.flat_id], key=lambda o: o.t):
            changes = eng.observe(obs)
            opened += lifecycle.apply(db, resident, eng, changes, now)
        save(db, state, eng, now, fed=now)
    db.commit()
    return opened


@_one_at_a_time
def replay(db, since):
    """Feed the engines what they missed: telemetry received after `since` that a
    resident's engine has not seen (its receipt is newer than the engine's mark), receipt
    by receipt in the order received. For when the hook failed or the process died
    between storing a pack and feeding it. Commits per receipt; returns alerts opened.
    Raises only for a database error; a pack the rules raise on is logged and skipped."""
    since = as_utc(since)
    receipts = []
    for hub_id, mark in _hub_marks(db).items():
        start = since if mark is None else max(since, as_utc(mark))
        receipts += db.exec(
            select(TelemetryReceipt).where(
                TelemetryReceipt.hub_id == hub_id, TelemetryReceipt.received_at >= start
            )
        ).all()
    receipts.sort(key=lambda r: (as_utc(r.received_at), r.hub_id, r.seq))
    opened = []
    for receipt in receipts:
        key = (Event.hub_id == receipt.hub_id) & (Event.seq == receipt.seq)
        events = [
            {"kind": e.kind, "state": e.state, "text": e.text, "sensor_id": e.sensor_id}
            | {"t": as_utc(e.t), "seq": e.seq}
            for e in db.exec(select(Event).where(key)).all()
        ]
        key = (Reading.hub_id == receipt.hub_id) & (Reading.seq == receipt.seq)
        readings = [
            {"kind": r.kind, "value": r.value, "sensor_id": r.sensor_id} | {"t": as_utc(r.t)}
            for r in db.exec(select(Reading).where(key)).all()
        ]
        hub = db.get(Hub, receipt.hub_id)
        try:
            opened += observe_stored(db, hub, readings, events, as_utc(receipt.received_at))
        except DBAPIError:
            db.rollback()
            raise  # the database: try it all again later
        except Exception:
            # The rules themselves fail on this pack: it must not hold up every later one
            # (a panic among them), so it is left out, loudly.
            db.rollback()
            log.exception("rules failed on hub %s seq %s: skipped", hub.hub_id, receipt.seq)
    return opened


def _hub_marks(db):
    """{hub pk: the oldest mark (fed_at) among the residents of the flats its sensors are
    in}; None where one of them has never been fed. A hub's receipts older than its mark
    were seen by every engine they concern, so a replay need not read them."""
    pairs = db.exec(
        select(Sensor.hub_id, Resident.id)
        .join(Resident, Resident.flat_id == Sensor.flat_id)
        .distinct()
    ).all()
    states = {s.resident_id: fed_at(s) for s in db.exec(select(RuleState)).all()}
    marks = {}
    for hub_id, resident_id in pairs:
        mark = states.get(resident_id)
        if hub_id in marks and (marks[hub_id] is None or mark is None):
            marks[hub_id] = None
        elif hub_id in marks:
            marks[hub_id] = min(as_utc(marks[hub_id]), as_utc(mark))
        else:
            marks[hub_id] = mark
    return marks


def _hub_flats(db, hub_pk):
    # The hub's own readings (its temperature) belong to its flat if it serves just one.
    flats = db.exec(
        select(Sensor.flat_id).where(Sensor.hub_id == hub_pk, Sensor.flat_id.is_not(None))
    ).all()
    flats = set(flats)
    return list(flats) if len(flats) == 1 else []


def _health(db, resident):
    """(hub last seen, [SensorHealth]) of the sensors in the resident's flat."""
    sensors = db.exec(select(Sensor).where(Sensor.flat_id == resident.flat_id)).all()
    hubs = {s.hub_id for s in sensors}
    seen = None
    if hubs:
        seen = db.exec(select(func.max(Hub.last_seen)).where(Hub.id.in_(hubs))).first()
    health = [
        SensorHealth(s.id, s.kind, s.room, s.checkin_s, as_utc(s.last_seen), s.battery)
        for s in sensors
    ]
    return (as_utc(seen) if seen is not None else None), health


@_one_at_a_time
def evaluate_due(db, now):
    """Evaluate every engine whose next_due has come; commits once per resident. Walk-tests
    that ran out are closed first, so their end is on record when it happens."""
    if walktest.close_lapsed(db, now):
        db.commit()
    opened = []
    due = db.exec(select(RuleState.resident_id).where(RuleState.due_at <= now)).all()
    for resident_id in due:
        resident = db.get(Resident, resident_id)
        state, eng = load(db, resident)
        seen, health = _health(db, resident)
        eng.set_health(seen, health)
        opened += lifecycle.apply(db, resident, eng, eng.evaluate(_epoch(now)), now)
        save(db, state, eng, now)
        db.commit()
    return opened


@_one_at_a_time
def resolve_condition(db, alert, now):
    """Tell the resident's engine a person closed `alert` (not committed)."""
    resident = db.get(Resident, alert.resident_id)
    state, eng = load(db, resident)
    key = lifecycle.engine_key(alert)
    if key in eng.raised or key in eng.alarms:
        eng.resolve(key[0], key[1], _epoch(now))
        save(db, state, eng, now)
