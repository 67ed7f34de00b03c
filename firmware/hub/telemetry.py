"""What the hub reports, as SenML packs in the outbox (protocol/README.md, SenML naming).

    tele = Telemetry(outbox, hub_id, wake, on_error)
    tele.event("panic1", "panic", True, urgent=True)  # one record, on flash at once
    tele.reading("t1", "temperature", 21.5)           # kept, the latest per sensor/kind
    tele.flush()                                       # the kept readings as packs
    payload = tele.timed(seq, payload)                 # just before sending a record
    tele.sent(seq)                                     # after the fleet's 2.04

Times: `bt` from the RTC once the fleet has set it. Before that a record goes on flash
without a time; the moment is kept in RAM and sent as a relative `t` (age at sending).
A record queued with an unset clock before a reboot goes without a time: the fleet takes
its arrival.
"""

import time

from hub import hal
from protocol import cbor, senml
from protocol.errors import CBORError

try:
    from micropython import const
except ImportError:

    def _identity(x):
        return x

    const = _identity

_PACK_RECORDS = const(16)  # readings per outbox record: well inside its 1012 bytes
_UNTIMED_MAX = const(64)


class Telemetry:
    def __init__(self, box, hub_id, wake, on_error):
        self.box = box
        self.bn = senml.base_name(hub_id)
        self.wake = wake  # an asyncio.Event the sender waits on
        self.on_error = on_error
        self.readings = {}
        self.untimed = {}  # seq -> ticks_ms of the event, for records queued without a clock

    def event(self, sensor_id, kind, value, urgent):
        self._queue([senml.reading(sensor_id, kind, value)], urgent)

    def reading(self, sensor_id, kind, value):
        at = hal.wall_time() if hal.wall_valid() else None
        self.readings[sensor_id + "/" + kind] = (sensor_id, kind, value, at)

    def flush(self):
        """Queue the kept readings as packs (non-urgent outbox records)."""
        batch = list(self.readings.values())
        self.readings = {}
        bt = hal.wall_time() if hal.wall_valid() else None
        for i in range(0, len(batch), _PACK_RECORDS):
            recs = []
            for sid, kind, value, at in batch[i : i + _PACK_RECORDS]:
                t = at - bt if at is not None and bt is not None else None
                recs.append(senml.reading(sid, kind, value, t))
            self._queue(recs, False, bt)

    def _queue(self, records, urgent, bt=None):
        if bt is None and hal.wall_valid():
            bt = hal.wall_time()
        try:
            seq = self.box.put(senml.encode(records, bn=self.bn, bt=bt), urgent)
        except OSError as e:
            self.on_error("outbox: " + repr(e))
            return
        if seq is None:
            self.on_error("outbox full: reading refused")
            return
        if bt is None and len(self.untimed) < _UNTIMED_MAX:
            self.untimed[seq] = time.ticks_ms()
        self.wake.set()

    def timed(self, seq, payload):
        """The payload to send for record seq: with its age if it was queued untimed."""
        t0 = self.untimed.get(seq)
        if t0 is None:
            return payload
        age = time.ticks_diff(time.ticks_ms(), t0) // 1000
        try:
            pack = cbor.loads(payload)
        except CBORError:
            return payload
        if not isinstance(pack, list):
            return payload
        for rec in pack:
            if isinstance(rec, dict):
                rec[senml.T] = rec.get(senml.T, 0) - age
        return cbor.dumps(pack)

    def sent(self, seq):
        self.untimed.pop(seq, None)
