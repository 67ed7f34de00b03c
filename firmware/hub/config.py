"""The hub's configuration from the fleet (the `c` resource, protocol/README.md): its
sensor map and intervals, kept in `config.cbor` on flash so a hub that reboots during an
outage still watches its sensors. Until the fleet sent one, the hub has no sensors and
the default intervals.

    cfg = config.load()            # what flash holds, or the defaults
    cfg = config.parse(payload)    # a `c` response body; ConfigError if unusable
    config.save(payload)           # persist it (write aside, rename: never half a file)
"""

from protocol import cbor
from protocol.errors import CBORError
from protocol.senml import KINDS

PATH = "config.cbor"
ROOMS = ("entrance", "kitchen", "bathroom", "bedroom", "living")
EMERGENCIES = ("panic", "fall", "smoke", "gas", "water")


class ConfigError(Exception):
    """A configuration the hub cannot apply; it keeps the one it has."""


class Config:
    def __init__(self, etag=None, hb=60, rd=300, sensors=()):
        self.etag = etag
        self.hb = hb
        self.rd = rd
        self.sensors = list(sensors)

    def where(self, key):
        """The sensors read through `key` ("pin", "i2c" or "ble")."""
        return [s for s in self.sensors if key in s]


def _check_sensor(s):
    if not isinstance(s, dict):
        raise ConfigError("a sensor is a map")
    ident = s.get("id")
    if not isinstance(ident, str) or not ident or "/" in ident or ":" in ident:
        raise ConfigError("sensor id must be text without / or :")
    if s.get("kind") not in KINDS:
        raise ConfigError("sensor " + ident + ": unknown kind")
    if s.get("room") is not None and s.get("room") not in ROOMS:
        raise ConfigError("sensor " + ident + ": unknown room")
    wheres = [k for k in ("pin", "i2c", "ble") if k in s]
    if len(wheres) != 1:
        raise ConfigError("sensor " + ident + ": give exactly one of pin, i2c, ble")
    if "pin" in s:
        if not isinstance(s["pin"], int) or s.get("active", 1) not in (0, 1):
            raise ConfigError("sensor " + ident + ": bad pin or active level")
    elif "i2c" in s:
        if not isinstance(s["i2c"], int) or not 0 < s["i2c"] < 128:
            raise ConfigError("sensor " + ident + ": bad I2C address")
    else:
        mac = s["ble"]
        key = s.get("key")
        if not isinstance(mac, bytes) or len(mac) != 6:
            raise ConfigError("sensor " + ident + ": BLE MAC must be 6 bytes")
        if key is not None and (not isinstance(key, bytes) or len(key) != 16):
            raise ConfigError("sensor " + ident + ": BLE key must be 16 bytes")


def from_map(m):
    """A Config from a decoded configuration map; ConfigError if it does not make sense."""
    if not isinstance(m, dict):
        raise ConfigError("configuration is not a map")
    etag = m.get("v")
    hb = m.get("hb", 60)
    rd = m.get("rd", 300)
    sensors = m.get("s", [])
    if not isinstance(etag, bytes) or not 0 < len(etag) <= 8:
        raise ConfigError("configuration version must be 1-8 bytes")
    for v in (hb, rd):
        if not isinstance(v, int) or not 1 <= v <= 86400:
            raise ConfigError("intervals are whole seconds, 1 to 86400")
    if not isinstance(sensors, list):
        raise ConfigError("sensors must be a list")
    seen = []
    for s in sensors:
        _check_sensor(s)
        name = s["id"] + "/" + s["kind"]
        if name in seen:
            raise ConfigError("sensor " + name + " appears twice")
        seen.append(name)
    return Config(etag, hb, rd, sensors)


def parse(payload):
    try:
        m = cbor.loads(payload)
    except CBORError:
        raise ConfigError("configuration is not CBOR") from None
    return from_map(m)


def save(payload, path=PATH):
    """Persist a `c` body that parse() accepted."""
    import os

    with open(path + ".tmp", "wb") as f:
        f.write(payload)
    try:
        os.rename(path + ".tmp", path)
    except OSError:  # FAT cannot rename over a file; LittleFS replaces it atomically
        os.remove(path)
        os.rename(path + ".tmp", path)


def load(path=PATH):
    """The configuration on flash, or the defaults when there is none (or it is bad)."""
    try:
        with open(path, "rb") as f:
            return parse(f.read())
    except (OSError, ConfigError):
        return Config()
