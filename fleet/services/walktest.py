"""A volunteer's walk-test of one hub: the test mode that keeps a test press from
alarming the family.

    test = walktest.start(db, user, hub, now, minutes=20)   # recorded in the audit log
    walktest.current(db, hub_pk, now)       # the running test or None (closes a lapsed one)
    walktest.close_lapsed(db, now)          # every lapsed one (the alerts runner's round)
    walktest.watch(db, test, now)           # the walk-test page is still open
    walktest.end(db, user, test, now)       # ended from the page
    walktest.screen(db, hub_pk, events)     # the hub's events the rules may see
    walktest.verdict(tests, event)          # "test", "real" or None, for the page's list
    walktest.serving(db, resident, now)     # when a test of her hub ends, for her family

Callers commit. What the rules see of a hub under test, for the events that happened
(their time t) while the test ran:

- Nothing of its motion, doors, bed: the volunteer walking about is not the resident's
  day, so no timer (inactivity, bathroom, a door at night, "she went out") starts from
  them and nothing from the test can fire after it. The events are stored as usual, and
  the page lists them.
- Not a sensor's first alarm (a panic press, a fall, smoke, gas, water): that is the test
  of that sensor, and no alert opens. Every later alarm of the same sensor in the test,
  two presses a few seconds apart included, goes to the rules as a real one: someone
  pressing again is asking for help, and a volunteer need not, since the page shows the
  first press as received at once.
- Readings (temperature, batteries) still reach the rules: a test does not fake them.

No alert is opened for a test press, not even one marked as test and closed at once: the
family's list, the morning summary and the false-alarm figures would count it. The
test's record is its WalkTest row, the audit log and the page.

A test ends by itself at its bound (DEFAULT_MINUTES unless chosen, at most MAX_MINUTES)
or UNWATCHED after the walk-test page last looked (the volunteer closed it, or left the
building with it open on a phone gone to sleep), so a press after the volunteer has gone
is a real alarm. Other hubs, in the same building or not, are never affected.
"""

from datetime import timedelta

from sqlalchemy import bindparam, or_
from sqlalchemy import select as core_select
from sqlmodel import select

from fleet.api.deps import as_utc
from fleet.models import Sensor, WalkTest
from fleet.rules import ALARMS, BUTTON_ALARMS
from fleet.services.audit import audit

DEFAULT_MINUTES = 20
MAX_MINUTES = 60
UNWATCHED = timedelta(minutes=2)  # the page looks every WATCH_EVERY while it is open
WATCH_EVERY = timedelta(seconds=15)

_WT = WalkTest.__table__
# Built once, Core and not the ORM: telemetry asks it for every pack with events, and
# almost always for a hub that has no test to hold them back.
_OVERLAPPING = (
    core_select(_WT.c.id)
    .where(_WT.c.hub_id == bindparam("hub"), _WT.c.started_at <= bindparam("hi"))
    .where(or_(_WT.c.ended_at.is_(None), _WT.c.ended_at > bindparam("lo")))
)


def window_end(test):
    """When `test` stops (or stopped) holding back the hub's events."""
    if test.ended_at is not None:
        return as_utc(test.ended_at)
    return min(as_utc(test.ends_at), as_utc(test.watched_at) + UNWATCHED)


def _within(test, t):
    return as_utc(test.started_at) <= t < window_end(test)


def event_key(seq, t):
    """An event's identity across a replay: its pack and its time to the millisecond."""
    return f"{seq}/{round(as_utc(t).timestamp() * 1000)}"


def is_alarm(kind, state, text):
    """Whether the rules would raise an alarm for this event (engine.observe)."""
    if kind == "button":
        return text in BUTTON_ALARMS
    return kind in ALARMS and state is not False  # a bare alarm record is an alarm


def _close(db, user, test, at, reason):
    test.ended_at, test.running, test.end_reason = at, None, reason
    test.ended_by = user.id if user is not None else None
    db.add(test)
    audit(db, user, "walktest_end", "hub", test.hub_id, walktest=test.id, reason=reason)


def current(db, hub_pk, now):
    """The hub's running test, or None; one that has lapsed is closed on the way."""
    test = db.exec(select(WalkTest).where(WalkTest.running == hub_pk)).first()
    if test is None:
        return None
    end = window_end(test)
    if as_utc(now) < end:
        return test
    _close(db, None, test, end, "expired" if end == as_utc(test.ends_at) else "unwatched")
    return None


def close_lapsed(db, now):
    """Close and record every test that has run out; returns how many."""
    hubs = db.exec(select(WalkTest.running).where(WalkTest.running.is_not(None))).all()
    return sum(current(db, hub_pk, now) is None for hub_pk in hubs)


def start(db, user, hub, now, minutes=DEFAULT_MINUTES):
    """Start a test of `hub` for `minutes` (1 to MAX_MINUTES); a running one is returned
    as it is (a second start does not stretch the bound)."""
    test = current(db, hub.id, now)
    if test is not None:
        return test
    minutes = max(1, min(MAX_MINUTES, int(minutes)))
    test = WalkTest(
        hub_id=hub.id,
        running=hub.id,
        started_by=user.id,
        started_at=now,
        ends_at=now + timedelta(minutes=minutes),
        watched_at=now,
    )
    db.add(test)
    db.flush()
    audit(db, user, "walktest_start", "hub", hub.id, walktest=test.id, minutes=minutes)
    return test


def end(db, user, test, now):
    """The volunteer ends the test early: alerting is back from `now`."""
    if test.ended_at is None:
        _close(db, user, test, min(as_utc(now), window_end(test)), "ended")


def watch(db, test, now):
    """The page is open: keep the test from lapsing as unwatched. Writes at most every
    WATCH_EVERY; True if it wrote."""
    if as_utc(now) - as_utc(test.watched_at) < WATCH_EVERY:
        return False
    test.watched_at = now
    db.add(test)
    return True


def screen(db, hub_pk, events):
    """The events (store_pack's dicts, with "seq") the rules may see: those of a running
    test of the hub are held back, but for a sensor's repeated alarm (see the module's
    doc). Records in the test each sensor's first alarm, in the caller's transaction."""
    if not events:
        return events
    times = [as_utc(e["t"]) for e in events]
    params = {"hub": hub_pk, "hi": max(times), "lo": min(times)}
    ids = db.connection().execute(_OVERLAPPING, params).scalars().all()
    if not ids:
        return events
    tests = db.exec(select(WalkTest).where(WalkTest.id.in_(ids))).all()
    kept = []
    for e in sorted(events, key=lambda e: as_utc(e["t"])):
        test = next((x for x in tests if _within(x, as_utc(e["t"]))), None)
        if test is None:
            kept.append(e)
        elif is_alarm(e["kind"], e.get("state"), e.get("text")) and not _take(db, test, e):
            kept.append(e)  # a repeat: real
    return kept


def _take(db, test, e):
    """True if `e` is its sensor's one test alarm (the first, or the same one replayed)."""
    sensor, key = str(e["sensor_id"]), event_key(e["seq"], e["t"])
    taken = test.taken or {}
    if sensor not in taken:
        test.taken = dict(taken, **{sensor: key})  # a new dict: the JSON column sees it
        db.add(test)
        return True
    return taken[sensor] == key


def verdict(tests, event):
    """For the page: "test" for an alarm a test took, "real" for any other alarm (the
    rules had it), None for an event that is no alarm."""
    if not is_alarm(event.kind, event.state, event.text):
        return None
    key = event_key(event.seq, event.t)
    if any((x.taken or {}).get(str(event.sensor_id)) == key for x in tests):
        return "test"
    return "real"


def serving(db, resident, now):
    """The bound of a running test of a hub that serves the resident's flat, or None."""
    hubs = select(Sensor.hub_id).where(Sensor.flat_id == resident.flat_id)
    tests = db.exec(select(WalkTest).where(WalkTest.running.in_(hubs))).all()
    ends = [as_utc(x.ends_at) for x in tests if window_end(x) > as_utc(now)]
    return max(ends) if ends else None
