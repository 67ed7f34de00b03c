# SenML (RFC 8428) in its CBOR representation (§6, content-format 112): what the hub's
# readings and events travel as.
#
# Records on the Python side are dicts keyed by the JSON labels ("n", "v", "t", ...);
# on the wire they are CBOR maps with the integer labels of RFC 8428 Table 6. Fields
# are tested with `is not None` / `in`, never truthiness: a value of 0, false or a
# time of 0 is a reading like any other.

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity

from protocol import cbor
from protocol.errors import CBORError, SenMLError

# RFC 8428 Table 6: CBOR labels.
BVER = const(-1)
BN = const(-2)
BT = const(-3)
BU = const(-4)
BV = const(-5)
BS = const(-6)
N = const(0)
U = const(1)
V = const(2)
VS = const(3)
VB = const(4)
S = const(5)
T = const(6)
UT = const(7)
VD = const(8)

VERSION = const(10)  # the SenML version this module understands (RFC 8428 §4.4)
# Times below 2**28 are relative to "now" (RFC 8428 §4.5.3).
RELATIVE_TIME_LIMIT = const(0x10000000)

# JSON label of each CBOR label: tuples, not dicts (a hub keeps them on its heap).
_FIELDS = ("n", "u", "v", "vs", "vb", "s", "t", "ut", "vd")  # N (0) to VD (8)
_BASE_FIELDS = ("bver", "bn", "bt", "bu", "bv", "bs")  # BVER (-1) to BS (-6)
_TEXT = ("n", "u", "vs", "bn", "bu")
_VALUES = ("v", "vs", "vb", "vd")

# Portineria naming: base name urn:dev:hub:<hub-id>: and record names <sensor-id>/<kind>.
NAME_PREFIX = "urn:dev:hub:"

# Every kind of reading a hub sends: kind -> (value field, unit or None). Units are
# from the RFC 8428 §12.1 registry. Booleans are true for the alarming or "active"
# state: motion seen, door/window open, bed/chair occupied, button pressed, alarm on.
KINDS = {
    "motion": ("vb", None),
    "door": ("vb", None),
    "window": ("vb", None),
    "bed": ("vb", None),
    "chair": ("vb", None),
    "panic": ("vb", None),
    "fall": ("vb", None),
    "smoke": ("vb", None),
    "gas": ("vb", None),
    "water": ("vb", None),
    "mains": ("vb", None),  # true while the hub runs on mains power
    "button": ("vs", None),  # BTHome button event: "press", "double_press", "long_press"
    "temperature": ("v", "Cel"),
    "humidity": ("v", "%RH"),
    "illuminance": ("v", "lx"),
    "battery": ("v", "%EL"),
    "rssi": ("v", "dBW"),  # radio signal: dBm - 30
}


def reading(sensor_id, kind, value, t=None):
    """One record for a sensor reading, named `<sensor_id>/<kind>` with the kind's unit."""
    _check_id(sensor_id)
    spec = KINDS.get(kind)
    if spec is None:
        raise SenMLError("unknown sensor kind " + repr(kind))
    field, unit = spec
    _check_type(field, value)
    rec = {"n": sensor_id + "/" + kind, field: value}
    if unit is not None:
        rec["u"] = unit
    if t is not None:
        rec["t"] = t
    return rec


def base_name(hub_id):
    """The base name for everything hub `hub_id` reports."""
    _check_id(hub_id)
    return NAME_PREFIX + hub_id + ":"


def split_name(name):
    """A resolved name in Portineria form -> (hub_id, sensor_id, kind); SenMLError if not."""
    if not isinstance(name, str) or not name.startswith(NAME_PREFIX):
        raise SenMLError("not a Portineria name: " + repr(name))
    parts = name[len(NAME_PREFIX) :].split(":")
    tail = parts[-1].split("/")
    if len(parts) != 2 or len(tail) != 2:
        raise SenMLError("not a Portineria name: " + repr(name))
    for part in (parts[0], tail[0], tail[1]):
        _check_id(part)
    return parts[0], tail[0], tail[1]


def pack(records, bn=None, bt=None, bu=None):
    """Build a pack (a list of CBOR-ready maps) from records whose names and times are
    relative to bn and bt; the base fields go into the first record. Validates the
    result as a receiver would."""
    out = []
    for rec in records:
        if not isinstance(rec, dict):
            raise SenMLError("a record is a dict")
        m = {}
        for name, value in rec.items():
            if name not in _FIELDS:
                raise SenMLError("unknown record field " + repr(name))
            if value is not None:
                _check_type(name, value)
                m[_FIELDS.index(name)] = value
        out.append(m)
    if out:
        for name, label, value in (("bn", BN, bn), ("bt", BT, bt), ("bu", BU, bu)):
            if value is not None:
                _check_type(name, value)
                out[0][label] = value
    resolve(out)
    return out


def encode(records, bn=None, bt=None, bu=None):
    """pack() and CBOR-encode: the payload for content-format 112."""
    return cbor.dumps(pack(records, bn, bt, bu))


def decode(data, now=None):
    """Decode and resolve a SenML-CBOR payload; raises SenMLError (also for bad CBOR)."""
    try:
        obj = cbor.loads(data)
    except CBORError as e:
        raise SenMLError("not CBOR: " + str(e)) from None
    return resolve(obj, now)


def resolve(pk, now=None):
    """Resolve a decoded pack into full records (RFC 8428 §4.6): each has "n" (bn + n)
    and "t" (bt + t, plus `now` when that is relative and `now` is given), "u" if any
    unit applies, its value field ("v" with bv added, "vs", "vb" or "vd") and/or "s"
    (with bs added), and "ut" if present. Unknown fields are dropped."""
    if not isinstance(pk, list):
        raise SenMLError("a pack is an array")
    bn, bt, bu, bv, bs, ver = "", 0, None, 0, 0, None
    out = []
    for rec in pk:
        f = _fields(rec)
        if "bver" in f:
            if f["bver"] > VERSION or (ver is not None and f["bver"] != ver):
                raise SenMLError("unsupported or inconsistent SenML version")
            ver = f["bver"]
        # A base field applies to its own record and those after it (§4.1).
        bn = f.get("bn", bn)
        bt = f.get("bt", bt)
        bu = f.get("bu", bu)
        bv = f.get("bv", bv)
        bs = f.get("bs", bs)
        r = {"n": bn + f.get("n", "")}
        _check_name(r["n"])
        t = bt + f.get("t", 0)
        r["t"] = now + t if now is not None and t < RELATIVE_TIME_LIMIT else t
        u = f.get("u", bu)
        if u is not None:
            r["u"] = u
        values = 0
        for name in _VALUES:
            if name in f:
                values += 1
                r[name] = f[name]
        if values > 1 or (values == 0 and "s" not in f):
            raise SenMLError("a record needs exactly one value, or a sum")
        if "v" in f:
            r["v"] = bv + f["v"]
        if "s" in f:
            r["s"] = bs + f["s"]
        if "ut" in f:
            if f["ut"] < 0:
                raise SenMLError("negative update time")
            r["ut"] = f["ut"]
        out.append(r)
    return out


def _fields(rec):
    # CBOR map with integer labels -> dict keyed by JSON label, types checked.
    if not isinstance(rec, dict):
        raise SenMLError("a record is a map")
    f = {}
    for k, value in rec.items():
        name = _name(k)
        if name is None:
            # Labels ending in "_" must be understood (RFC 8428 §4.4); others are ignored.
            if isinstance(k, str) and k.endswith("_"):
                raise SenMLError("must-understand field " + repr(k))
            continue
        _check_type(name, value)
        f[name] = value
    return f


def _name(label):
    # The JSON label for a CBOR one, or None for anything else (True is no label).
    if not isinstance(label, int) or isinstance(label, bool):
        return None
    if 0 <= label < len(_FIELDS):
        return _FIELDS[label]
    if 0 < -label <= len(_BASE_FIELDS):
        return _BASE_FIELDS[-label - 1]
    return None


def _check_type(name, value):
    if name in _TEXT:
        ok = isinstance(value, str)
    elif name == "vb":
        ok = value is True or value is False
    elif name == "vd":
        ok = isinstance(value, bytes)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        ok = False
    elif name == "bver":
        ok = isinstance(value, int) and value > 0
    else:
        ok = value - value == 0  # finite: NaN and infinities are not measurements
    if not ok:
        raise SenMLError("bad " + name + ": " + repr(value))


# Written out, not concatenated at import: a literal stays in a hub's flash.
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:./_"
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._"


def _check_chars(s, allowed, what):
    # RFC 8428 §4.5.1 names: [A-Za-z0-9][-:./_A-Za-z0-9]*; ids drop ":" and "/".
    if not isinstance(s, str) or not s or s[0] not in _ALNUM:
        raise SenMLError("bad " + what + " " + repr(s))
    for c in s:
        if c not in allowed:
            raise SenMLError("bad " + what + " " + repr(s))


def _check_name(name):
    _check_chars(name, _NAME_CHARS, "name")


def _check_id(ident):
    # Hub and sensor ids, and kinds: name segments without the separators.
    _check_chars(ident, _ID_CHARS, "id")
