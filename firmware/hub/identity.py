"""The hub's identity: one CBOR map in `identity.cbor` at the flash root, written once at
provisioning (tools/ or the emulator's test helpers), never part of the firmware image,
never printed or logged. Text keys, so a technician can read a dump of it:

| key | value |
| --- | --- |
| "v" | format version: 1 |
| "hub" | hub id, text (the SenML base name is `urn:dev:hub:<hub>:`) |
| "sid" | OSCORE Sender ID of the hub, 1-7 bytes |
| "rid" | OSCORE Recipient ID (the fleet), bytes; empty by default |
| "ms" | OSCORE Master Secret, 16 bytes |
| "salt" | OSCORE Master Salt, 8 bytes (may be empty) |
| "host" | fleet host name or IPv4 address, text |
| "port" | fleet UDP port (5683) |
| "ssid", "wkey" | Wi-Fi network name and key, text |

Optional facts about the board and its link, also fixed at provisioning:

| "ack" | CoAP ACK_TIMEOUT in ms (2000); test benches shorten it |
| "buzzer", "led" | GPIO of the buzzer and the LED that acknowledge a panic press |
| "scl", "sda" | GPIOs of the I2C bus for the thermometer (22, 21) |

`Identity` keeps the values as attributes; its repr names only the hub, so an error
message or a log line can never carry a secret.
"""

from protocol import cbor
from protocol.errors import CBORError

PATH = "identity.cbor"
VERSION = 1

_BYTES = ("sid", "rid", "ms", "salt")
_TEXT = ("hub", "host", "ssid", "wkey")
_INTS = ("port", "ack", "buzzer", "led", "scl", "sda")
_DEFAULTS = {"rid": b"", "salt": b"", "port": 5683, "ack": 2000, "scl": 22, "sda": 21}


class IdentityError(Exception):
    """identity.cbor is missing or malformed: the hub was not (properly) provisioned."""


class Identity:
    def __init__(self, fields):
        self.hub = fields["hub"]
        self.sender_id = fields["sid"]
        self.recipient_id = fields["rid"]
        self.master_secret = fields["ms"]
        self.master_salt = fields["salt"]
        self.host = fields["host"]
        self.port = fields["port"]
        self.ssid = fields["ssid"]
        self.wifi_key = fields["wkey"]
        self.ack_timeout = fields["ack"]
        self.buzzer = fields.get("buzzer")
        self.led = fields.get("led")
        self.scl = fields["scl"]
        self.sda = fields["sda"]

    def __repr__(self):
        return "<Identity of hub " + self.hub + ">"


def check(fields):
    """Validate a decoded identity map; returns it with defaults filled in."""
    if not isinstance(fields, dict):
        raise IdentityError("identity is not a map")
    out = dict(_DEFAULTS)
    out.update(fields)
    if out.get("v") != VERSION:
        raise IdentityError("identity format version is not 1")
    for key in _BYTES:
        if not isinstance(out.get(key), bytes):
            raise IdentityError("identity field " + key + " must be bytes")
    for key in _TEXT:
        if not isinstance(out.get(key), str):
            raise IdentityError("identity field " + key + " must be text")
    for key in _INTS:
        if key in out and not isinstance(out[key], int):
            raise IdentityError("identity field " + key + " must be an integer")
    if len(out["ms"]) != 16 or not 1 <= len(out["sid"]) <= 7 or len(out["rid"]) > 7:
        raise IdentityError("identity has a bad OSCORE secret or id length")
    if out["sid"] == out["rid"]:
        raise IdentityError("identity sender and recipient ids are equal")
    if not 0 < out["port"] < 65536 or out["ack"] < 10:
        raise IdentityError("identity has a bad port or ack timeout")
    return out


def load(path=PATH):
    """Read and validate identity.cbor; IdentityError if it is missing or malformed."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise IdentityError("no " + path + ": the hub is not provisioned") from None
    try:
        fields = cbor.loads(data)
    except CBORError:
        raise IdentityError(path + " is not CBOR") from None
    return Identity(check(fields))


def dumps(fields):
    """The bytes of identity.cbor for `fields` (validated); for provisioning tools."""
    check(fields)
    return cbor.dumps(fields)
