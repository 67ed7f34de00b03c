"""The fleet's counters and gauges, rendered in Prometheus' text format (version 0.0.4)
by `render()` for the ops route /metrics.

    metrics.received.inc(resource="t")
    metrics.rejected.inc(reason="replay")
    metrics.hubs_online.set(12)

One process-wide registry: the CoAP endpoint counts what it receives and refuses, the
health sweep sets the gauge. Label values are our own short words, never peer input.
"""

import threading

_lock = threading.Lock()  # uvicorn may render from a worker thread while CoAP counts


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Metric:
    kind = ""

    def __init__(self, name, help_text, labels=()):
        self.name = name
        self.help = help_text
        self.labels = tuple(labels)
        self._values = {}
        REGISTRY.append(self)

    def _key(self, labels):
        if set(labels) != set(self.labels):
            raise ValueError(self.name + " takes labels " + ", ".join(self.labels))
        return tuple(str(labels[k]) for k in self.labels)

    def value(self, **labels):
        return self._values.get(self._key(labels), 0)

    def reset(self):
        with _lock:
            self._values.clear()

    def lines(self):
        yield "# HELP " + self.name + " " + self.help
        yield "# TYPE " + self.name + " " + self.kind
        with _lock:
            items = sorted(self._values.items())
        if not items and not self.labels:
            items = [((), 0)]
        for key, value in items:
            if key:
                pairs = ",".join(
                    k + '="' + _escape(v) + '"' for k, v in zip(self.labels, key, strict=True)
                )
                yield self.name + "{" + pairs + "} " + _number(value)
            else:
                yield self.name + " " + _number(value)


def _number(value):
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Counter(_Metric):
    kind = "counter"

    def inc(self, amount=1, **labels):
        key = self._key(labels)
        with _lock:
            self._values[key] = self._values.get(key, 0) + amount


class Gauge(_Metric):
    kind = "gauge"

    def set(self, value, **labels):
        key = self._key(labels)
        with _lock:
            self._values[key] = value


REGISTRY = []

received = Counter(
    "portineria_coap_messages_received_total",
    "Authenticated CoAP requests from hubs, by resource.",
    ("resource",),
)
rejected = Counter(
    "portineria_coap_messages_rejected_total",
    "CoAP datagrams or requests refused, by reason.",
    ("reason",),
)
stored = Counter(
    "portineria_telemetry_records_stored_total",
    "SenML records stored as readings or events.",
)
hubs_online = Gauge("portineria_hubs_online", "Hubs whose heartbeats arrive on time.")


def render():
    """Every metric in Prometheus text exposition format."""
    out = []
    for metric in REGISTRY:
        out.extend(metric.lines())
    return "\n".join(out) + "\n"
