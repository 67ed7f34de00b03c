"""What a hub's telemetry means: one SenML pack (an outbox record, protocol/README.md)
checked against the hub's sensor map and stored as Reading and Event rows, once per
(hub, outbox seq) however often the hub retransmits it.

    result = store_pack(db, hub, seq, payload, now)   # -> Stored; TelemetryRejected if not
    result.duplicate                                  # True: an earlier copy was stored

Every door (CoAP `t`, an HTTP import, a test) calls store_pack, so one place decides
what a reading means. The caller owns the transaction's outcome only through this call:
store_pack commits on success and rolls back on refusal. The rules see the pack in the
same transaction (alerts.stored): the pack, the engines' changes and whatever the caller
wrote before (the CoAP endpoint's replay window) commit once, together.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fleet import alerts
from fleet.models import Event, Reading, Sensor, TelemetryReceipt
from protocol import senml
from protocol.errors import ProtocolError

SEQ_LIMIT = 1 << 32  # outbox sequence numbers are 32-bit
HUB_SENSOR = "hub"  # the sensor id of the hub's own readings (protocol/README.md)
HUB_KINDS = ("mains", "rssi", "temperature", "humidity", "battery")
# Besides its own kind, any sensor may report its battery and radio signal.
EXTRA_KINDS = ("battery", "rssi")
MAX_FUTURE = timedelta(days=1)  # an absolute time further ahead is a broken clock


class TelemetryRejected(ValueError):
    """A pack the fleet refuses to store; `reason` says why in a few words (safe to send
    back to the hub and to log: it names only sensor ids and kinds)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Stored:
    def __init__(self, duplicate, readings=0, events=0):
        self.duplicate = duplicate
        self.readings = readings
        self.events = events

    def __repr__(self):
        return f"<Stored duplicate={self.duplicate} readings={self.readings} events={self.events}>"


def parse_seq(text):
    """The outbox sequence number from a Uri-Query value `s=<seq>`; None if absent."""
    if not text.startswith("s="):
        return None
    digits = text[2:]
    if not digits.isdigit() or not digits.isascii() or len(digits) > 10:
        raise TelemetryRejected("s must be a decimal number")
    seq = int(digits)
    if seq >= SEQ_LIMIT:
        raise TelemetryRejected("s is beyond 32 bits")
    return seq


def _when(t, now):
    # Resolved SenML times: relative ones (< 2**28) are seconds before `now`.
    if t < senml.RELATIVE_TIME_LIMIT:
        return now + timedelta(seconds=t)
    try:
        when = datetime.fromtimestamp(t, UTC)
    except (OverflowError, OSError, ValueError):
        raise TelemetryRejected("time out of range") from None
    if when > now + MAX_FUTURE:
        raise TelemetryRejected("time is in the future")
    return when


def check_pack(hub, sensors, payload, now):
    """Decode `payload` and check every record against the hub's sensors (a dict key ->
    Sensor); returns [(sensor or None, kind, record, time)]. Pure: no database."""
    try:
        records = senml.decode(payload)
    except ProtocolError as e:
        raise TelemetryRejected("not a SenML pack: " + str(e)) from None
    if not records:
        raise TelemetryRejected("empty pack")
    out = []
    for rec in records:
        try:
            hub_id, key, kind = senml.split_name(rec["n"])
        except ProtocolError:
            raise TelemetryRejected(
                "record name is not urn:dev:hub:<hub>:<sensor>/<kind>"
            ) from None
        if hub_id != hub.hub_id:
            raise TelemetryRejected("record names another hub")
        spec = senml.KINDS.get(kind)
        if spec is None:
            raise TelemetryRejected("unknown kind " + kind)
        if spec[0] not in rec:
            raise TelemetryRejected(key + "/" + kind + " needs a " + spec[0] + " value")
        if key == HUB_SENSOR:
            sensor = None
            if kind not in HUB_KINDS:
                raise TelemetryRejected("the hub does not report " + kind)
        else:
            sensor = sensors.get(key)
            if sensor is None:
                raise TelemetryRejected("unknown sensor " + key)
            if kind != sensor.kind and kind not in EXTRA_KINDS:
                raise TelemetryRejected("sensor " + key + " does not report " + kind)
        out.append((sensor, kind, rec, _when(rec["t"], now)))
    return out


_RECEIPT = TelemetryReceipt.__table__
_SENSOR = Sensor.__table__
# Statements built once: constructing them per message costs more than running them.
_SENSORS = select(_SENSOR.c.id, _SENSOR.c.key, _SENSOR.c.kind).where(
    _SENSOR.c.hub_id == bindparam("hub")
)
# The receipt first, as the test for a repeat: a repeat inserts and returns nothing
# and, unlike an IntegrityError, leaves the transaction (the caller's replay window)
# usable; no SELECT beforehand.
_ADD_RECEIPT = {
    name: dialect.insert(_RECEIPT).on_conflict_do_nothing().returning(_RECEIPT.c.seq)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_ADD_READINGS = insert(Reading.__table__)
_ADD_EVENTS = insert(Event.__table__)
_SENSOR_SEEN = (
    update(_SENSOR)
    .where(_SENSOR.c.id == bindparam("pk"))
    .where(or_(_SENSOR.c.last_seen.is_(None), _SENSOR.c.last_seen < bindparam("when")))
    .values(last_seen=bindparam("when"))
)
_SENSOR_BATTERY = update(_SENSOR).where(_SENSOR.c.id == bindparam("pk"))


def store_pack(db, hub, seq, payload, now):
    """Store the pack once per (hub, seq); a repeat is acknowledged (Stored.duplicate)
    without touching anything. Raises TelemetryRejected for a pack the hub must not
    resend unchanged (unknown sensor or kind, malformed SenML). `hub` needs only `id`
    and `hub_id` (a Hub or a row). Core statements on the session's connection, not the
    ORM: this runs for every message a hub sends, and the ORM would cost more than
    OSCORE does."""
    if not isinstance(seq, int) or not 0 <= seq < SEQ_LIMIT:
        raise TelemetryRejected("s must be a 32-bit sequence number")
    conn = db.connection()
    if not _add_receipt(conn, hub.id, seq, now):
        return Stored(True)
    try:
        rows = conn.execute(_SENSORS, {"hub": hub.id}).all()
        checked = check_pack(hub, {s.key: s for s in rows}, payload, now)
    except TelemetryRejected:
        db.rollback()  # the receipt with it: a corrected pack may come under this seq
        raise
    readings, events = [], []
    latest, battery = {}, {}  # sensor pk -> newest time heard / battery level
    for sensor, kind, rec, when in checked:
        sensor_pk = sensor.id if sensor is not None else None
        if "v" in rec:
            value = float(rec["v"])
            row = {"kind": kind, "value": value, "unit": rec.get("u")}
            readings.append(row)
            if sensor is not None and kind == "battery":
                battery[sensor_pk] = value
        else:
            row = {"kind": kind, "state": rec.get("vb"), "text": rec.get("vs")}
            events.append(row)
        row.update(hub_id=hub.id, sensor_id=sensor_pk, t=when, seq=seq)
        if sensor is not None and (sensor_pk not in latest or latest[sensor_pk] < when):
            latest[sensor_pk] = when
    parts = (readings, events, latest, battery)
    _insert(conn, *parts)
    if not alerts.stored(db, hub, readings, events, now):
        # The rules failed and took the pack down with their rollback: it is stored
        # alone now, and reaches the rules with the next replay (need_replay).
        conn = db.connection()
        if not _add_receipt(conn, hub.id, seq, now):
            return Stored(True)  # another copy was stored meanwhile
        _insert(conn, *parts)
    db.commit()
    return Stored(False, len(readings), len(events))


def _add_receipt(conn, hub_pk, seq, now):
    """True if this (hub, seq) is new; its receipt is then written, uncommitted."""
    params = {"hub_id": hub_pk, "seq": seq, "received_at": now}
    return conn.execute(_ADD_RECEIPT[conn.dialect.name], params).first() is not None


def _insert(conn, readings, events, latest, battery):
    if readings:
        conn.execute(_ADD_READINGS, readings)
    if events:
        conn.execute(_ADD_EVENTS, events)
    if latest:
        conn.execute(_SENSOR_SEEN, [{"pk": k, "when": w} for k, w in latest.items()])
    for sensor_pk, value in battery.items():
        conn.execute(_SENSOR_BATTERY.values(battery=value), {"pk": sensor_pk})
