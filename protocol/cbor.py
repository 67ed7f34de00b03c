# CBOR (RFC 8949) for the hub and the fleet: a small, strict encoder and decoder.
#
# Decoding is bounded: every length is checked against the bytes that remain before
# anything is allocated, nesting is capped at MAX_DEPTH, and anything malformed raises
# CBORError and nothing else. Indefinite-length items are accepted on decode (they
# are well-formed CBOR and bounded by the input like any other item) but never
# produced. Non-shortest heads are accepted, as RFC 8949 §5.1 asks of generic decoders.
# Encoding is deterministic (RFC 8949 §4.2.1): shortest heads and floats, definite
# lengths, map keys sorted by their encoded bytes.

import math
import struct

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


from protocol.errors import CBORError

# Most arrays, maps and tags that may enclose one another, on decode and on encode.
MAX_DEPTH = const(16)

_MAX_UINT = const(0xFFFFFFFFFFFFFFFF)
_BREAK = const(0xFF)
_HALF_MIN_NORMAL = 6.103515625e-05  # 2**-14
_HALF_MAX = 65504.0
_INF = float("inf")
_NAN = float("nan")


class Tag:
    """A tagged data item (major type 6): tag number and enclosed value."""

    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Tag) and self.tag == other.tag and self.value == other.value

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.tag, self.value))

    def __repr__(self):
        return f"Tag({self.tag}, {self.value!r})"


class Simple:
    """A simple value other than false/true/null (RFC 8949 §3.3), e.g. undefined."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Simple) and self.value == other.value

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.value) ^ 0x5EED

    def __repr__(self):
        return f"Simple({self.value})"


UNDEFINED = Simple(23)


# ---- encoding ----------------------------------------------------------------------


def dumps(obj):
    """Encode obj as CBOR; raises CBORError for values CBOR (or this module) cannot hold."""
    # One growing buffer rather than a list of small parts: on a hub every part is
    # garbage the collector must later find.
    out = bytearray()
    _encode(obj, out, 0)
    return bytes(out)


def _head(major, n, out):
    mt = major << 5
    if n < 24:
        out.append(mt | n)
    elif n < 0x100:
        out.append(mt | 24)
        out.append(n)
    elif n < 0x10000:
        out.extend(struct.pack(">BH", mt | 25, n))
    elif n < 0x100000000:
        out.extend(struct.pack(">BI", mt | 26, n))
    elif n <= _MAX_UINT:
        out.extend(struct.pack(">BQ", mt | 27, n))
    else:
        raise CBORError(f"integer too large for CBOR: {n}")


def _encode(obj, out, depth):
    # `is` first: bool is a subclass of int, and True must not become 1.
    if obj is None:
        out.append(0xF6)
    elif obj is True:
        out.append(0xF5)
    elif obj is False:
        out.append(0xF4)
    elif isinstance(obj, int):
        if obj >= 0:
            _head(0, obj, out)
        else:
            _head(1, -1 - obj, out)
    elif isinstance(obj, float):
        out.extend(_float(obj))
    elif isinstance(obj, str):
        try:
            b = obj.encode("utf-8")
        except UnicodeError:
            raise CBORError("text is not encodable as UTF-8") from None
        _head(3, len(b), out)
        out.extend(b)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        _head(2, len(obj), out)
        out.extend(obj)
    elif isinstance(obj, (list, tuple, dict, Tag)):
        if depth >= MAX_DEPTH:
            raise CBORError("nesting too deep")
        depth += 1
        if isinstance(obj, dict):
            # Keys sorted by their encoding (RFC 8949 §4.2.1): the same map gives the
            # same bytes on every platform, whatever order the dict iterates in.
            _head(5, len(obj), out)
            items = []
            for k, v in obj.items():
                kb = bytearray()
                _encode(k, kb, depth)
                items.append((bytes(kb), v))
            items.sort(key=_first)
            for kb, v in items:
                out.extend(kb)
                _encode(v, out, depth)
        elif isinstance(obj, Tag):
            if not isinstance(obj.tag, int) or obj.tag < 0:
                raise CBORError("bad tag number")
            _head(6, obj.tag, out)
            _encode(obj.value, out, depth)
        else:
            _head(4, len(obj), out)
            for v in obj:
                _encode(v, out, depth)
    elif isinstance(obj, Simple):
        n = obj.value
        if n == 23 or (isinstance(n, int) and 0 <= n < 20):
            out.append(0xE0 | n)
        elif isinstance(n, int) and 32 <= n < 256:
            out.append(0xF8)
            out.append(n)
        else:
            raise CBORError("bad simple value")
    else:
        raise CBORError(f"cannot encode {type(obj).__name__}")


def _first(pair):
    return pair[0]


def _float(x):
    # Shortest of half/single/double that gives back exactly x (RFC 8949 §4.2.2).
    h = _to_half(x)
    if h is not None:
        return struct.pack(">BH", 0xF9, h)
    # MicroPython packs out-of-range values as inf where CPython raises.
    try:
        s = struct.pack(">f", x)
    except OverflowError:
        s = None
    if s is not None and struct.unpack(">f", s)[0] == x:
        return b"\xfa" + s
    return b"\xfb" + struct.pack(">d", x)


def _to_half(x):
    # By hand: struct's "e" format is not in every MicroPython build.
    if x != x:
        return 0x7E00  # every NaN as the canonical quiet NaN (RFC 8949 §4.2.2)
    sign = 0x8000 if x < 0 or (x == 0 and math.copysign(1.0, x) < 0) else 0
    a = abs(x)
    if a == 0:
        return sign
    if a == _INF:
        return sign | 0x7C00
    if a < _HALF_MIN_NORMAL:
        m = a * 16777216.0  # subnormal: a = m * 2**-24
        return sign | int(m) if m == int(m) else None
    if a > _HALF_MAX:
        return None
    f, e = math.frexp(a)  # a = f * 2**e, 0.5 <= f < 1
    m = f * 2048.0 - 1024.0  # 10 fraction bits after the implicit 1
    if m != int(m):
        return None
    return sign | (e + 14) << 10 | int(m)


def _from_half(h):
    e = (h >> 10) & 0x1F
    m = h & 0x3FF
    if e == 0:
        v = math.ldexp(m, -24)
    elif e == 31:
        v = _INF if m == 0 else _NAN
    else:
        v = math.ldexp(m + 1024, e - 25)
    return -v if h & 0x8000 else v


# ---- decoding ----------------------------------------------------------------------


def loads(data):
    """Decode exactly one CBOR item; trailing bytes are an error."""
    data = _as_bytes(data)
    obj, pos = _decode(data, 0, 0)
    if pos != len(data):
        raise CBORError(f"{len(data) - pos} trailing bytes")
    return obj


def decode_prefix(data, pos=0):
    """Decode one item starting at pos (CBOR sequences, RFC 8742): (obj, next_pos)."""
    data = _as_bytes(data)
    if not isinstance(pos, int) or pos < 0:
        raise CBORError("bad position")
    return _decode(data, pos, 0)


def _as_bytes(data):
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise CBORError("CBOR input must be bytes")


def _arg(data, pos, ai):
    # Argument of a head whose additional information is 24..27; returns (arg, pos).
    n = 1 << (ai - 24)
    end = pos + n
    if end > len(data):
        raise CBORError("truncated")
    return int.from_bytes(data[pos:end], "big"), end


def _decode(data, pos, depth):
    if pos >= len(data):
        raise CBORError("truncated")
    ib = data[pos]
    pos += 1
    major = ib >> 5
    ai = ib & 0x1F
    if ai < 24:
        arg = ai
    elif ai < 28:
        arg, pos = _arg(data, pos, ai)
    elif ai == 31 and 2 <= major <= 5:
        return _indefinite(data, pos, major, depth)
    else:
        raise CBORError(f"reserved or misplaced additional information {ai}")

    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major <= 3:
        return _string(data, pos, major, arg)
    if major == 7:
        return _simple(data, pos, ai, arg)
    if depth >= MAX_DEPTH:
        raise CBORError("nesting too deep")
    depth += 1
    if major == 4:
        # Every item takes at least one byte: a larger count cannot be honest.
        if arg > len(data) - pos:
            raise CBORError("array longer than input")
        out = []
        for _ in range(arg):
            v, pos = _decode(data, pos, depth)
            out.append(v)
        return out, pos
    if major == 5:
        if arg > (len(data) - pos) // 2:
            raise CBORError("map longer than input")
        out = {}
        for _ in range(arg):
            pos = _pair(data, pos, depth, out)
        return out, pos
    v, pos = _decode(data, pos, depth)
    return Tag(arg, v), pos


def _string(data, pos, major, n):
    end = pos + n
    if end > len(data):
        raise CBORError("string longer than input")
    b = data[pos:end]
    return (_text(b) if major == 3 else b), end


def _simple(data, pos, ai, arg):
    if ai == 25:
        return _from_half(arg), pos
    if ai == 26:
        return struct.unpack(">f", data[pos - 4 : pos])[0], pos
    if ai == 27:
        return struct.unpack(">d", data[pos - 8 : pos])[0], pos
    if ai == 24 and arg < 32:
        raise CBORError(f"simple value {arg} in two-byte form")
    if arg == 20:
        return False, pos
    if arg == 21:
        return True, pos
    if arg == 22:
        return None, pos
    return Simple(arg), pos


def _pair(data, pos, depth, out):
    k, pos = _decode(data, pos, depth)
    v, pos = _decode(data, pos, depth)
    # MicroPython answers `[1] in {}` with False, so ask for the hash explicitly.
    try:
        hash(k)
    except TypeError:
        raise CBORError("unhashable map key") from None
    if k in out:
        raise CBORError(f"duplicate map key {k!r}")
    out[k] = v
    return pos


def _at_break(data, pos):
    if pos >= len(data):
        raise CBORError("truncated")
    return data[pos] == _BREAK


def _indefinite(data, pos, major, depth):
    if major <= 3:
        # Chunks must be definite strings of the same major type (RFC 8949 §3.2.3).
        parts = []
        while not _at_break(data, pos):
            ib = data[pos]
            if ib >> 5 != major or ib & 0x1F > 27:
                raise CBORError("bad chunk in indefinite-length string")
            n = ib & 0x1F
            pos += 1
            if n >= 24:
                n, pos = _arg(data, pos, n)
            chunk, pos = _string(data, pos, major, n)
            parts.append(chunk)
        return ("" if major == 3 else b"").join(parts), pos + 1
    if depth >= MAX_DEPTH:
        raise CBORError("nesting too deep")
    depth += 1
    if major == 4:
        out = []
        while not _at_break(data, pos):
            v, pos = _decode(data, pos, depth)
            out.append(v)
        return out, pos + 1
    out = {}
    while not _at_break(data, pos):
        pos = _pair(data, pos, depth, out)
    return out, pos + 1


def _text(b):
    try:
        s = b.decode("utf-8")
    except UnicodeError:
        raise CBORError("invalid UTF-8") from None
    if _LAX_UTF8 and len(s) != len(b):
        _check_utf8(b)
    return s


def _check_utf8(b):
    # Strict UTF-8 (RFC 3629): no overlong forms, surrogates or code points past
    # U+10FFFF. Only needed where the platform decoder lets those through.
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c < 0x80:
            i += 1
            continue
        lo, hi = 0x80, 0xBF
        if 0xC2 <= c <= 0xDF:
            k = 1
        elif 0xE0 <= c <= 0xEF:
            k = 2
            if c == 0xE0:
                lo = 0xA0
            elif c == 0xED:
                hi = 0x9F
        elif 0xF0 <= c <= 0xF4:
            k = 3
            if c == 0xF0:
                lo = 0x90
            elif c == 0xF4:
                hi = 0x8F
        else:
            raise CBORError("invalid UTF-8")
        if i + k >= n or not lo <= b[i + 1] <= hi:
            raise CBORError("invalid UTF-8")
        for j in range(i + 2, i + k + 1):
            if not 0x80 <= b[j] <= 0xBF:
                raise CBORError("invalid UTF-8")
        i += k + 1


def _lax_utf8():
    try:
        b"\xed\xa0\x80".decode("utf-8")  # a lone surrogate
    except UnicodeError:
        return False
    return True


# MicroPython's decoder accepts surrogates and overlong forms; CPython's does not.
_LAX_UTF8 = _lax_utf8()
