"""What a hub's telemetry means: one SenML pack (an outbox record, protocol/README.md)
checked against the hub's sensor map and stored as Reading and Event rows, once per
(hub, outbox seq) however often the hub retransmits it.

    result = store_pack(db, hub, seq, payload, now)   # -> Stored; TelemetryRejected if not
    result.duplicate                                  # True: an earlier copy was stored

Every door (CoAP `t`, an HTTP import, a test) calls store_pack, so one place decides
what a reading means. The caller owns the transaction's outcome only through this call:
store_pack commits on success and rolls back on refusal.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

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


def store_pack(db, hub, seq, payload, now):
    """Store the pack once per (hub, seq); a repeat is acknowledged (Stored.duplicate)
    without touching anything. Raises TelemetryRejected for a pack the hub must not
    resend unchanged (unknown sensor or kind, malformed SenML)."""
    if not isinstance(seq, int) or not 0 <= seq < SEQ_LIMIT:
        raise TelemetryRejected("s must be a 32-bit sequence number")
    if db.get(TelemetryReceipt, (hub.id, seq)) is not None:
        return Stored(True)
    rows = db.exec(select(Sensor).where(Sensor.hub_id == hub.id)).all()
    checked = check_pack(hub, {s.key: s for s in rows}, payload, now)
    result = Stored(False)
    db.add(TelemetryReceipt(hub_id=hub.id, seq=seq, received_at=now))
    for sensor, kind, rec, when in checked:
        sensor_pk = sensor.id if sensor is not None else None
        if "v" in rec:
            value = float(rec["v"])
            db.add(
                Reading(
                    hub_id=hub.id,
                    sensor_id=sensor_pk,
                    kind=kind,
                    value=value,
                    unit=rec.get("u"),
                    t=when,
                    seq=seq,
                )
            )
            result.readings += 1
            if sensor is not None and kind == "battery":
                sensor.battery = value
        else:
            state = rec.get("vb")
            db.add(
                Event(
                    hub_id=hub.id,
                    sensor_id=sensor_pk,
                    kind=kind,
                    state=state,
                    text=rec.get("vs"),
                    t=when,
                    seq=seq,
                )
            )
            result.events += 1
        if sensor is not None and (sensor.last_seen is None or _aware(sensor.last_seen) < when):
            sensor.last_seen = when
            db.add(sensor)
    try:
        db.commit()
    except IntegrityError:
        # Another copy of the same record won the race to the receipt's primary key.
        db.rollback()
        return Stored(True)
    return result


def _aware(dt):
    # SQLite hands datetimes back naive; they were stored as UTC.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
